"""Contrastive divergence and the hidden auto-encoder: the two sides of Proposition 3, and pattern agreement.

Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .sampling import langevin


def flat_grad(scalar: Tensor, params: Sequence[Tensor], create_graph: bool = False) -> Tensor:
    """∂scalar/∂w for the listed parameters, concatenated into one vector of shape (Σ numel,) (zeros where unused).

    Notebook: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb
    """
    grads = torch.autograd.grad(scalar, list(params), create_graph=create_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for g, p in zip(grads, params)])


def _patterns(model: nn.Module, x: Tensor) -> list[Tensor]:
    out = model.pattern(x)
    return out if isinstance(out, list) else [out]


def pattern_agreement(model: nn.Module, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """How much of the activation pattern δ two batches of images share, image by image.

    a, b: images of the same shape (N, ...) for ``model`` (a :class:`GenerativeConvNet` or :class:`Prototype`).
    Returns ``(units, whole)``, both (N,): the fraction of all hidden units whose δ agrees between a[i] and
    b[i], and 1.0 where the whole pattern agrees (else 0.0).

    Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
    """
    if a.shape != b.shape:
        raise ValueError(f"pattern_agreement: expected two batches of the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")
    with torch.no_grad():
        same, total = 0, 0
        for pa, pb in zip(_patterns(model, a), _patterns(model, b)):
            eq = (pa == pb).flatten(1)
            same = same + eq.sum(1)
            total += eq.shape[1]
    units = same.double() / total
    return units.float(), (units == 1).float()


def cd_and_reconstruction_gradients(model: nn.Module, observed: Tensor, step_size: float, sigma: float = 1.0,
                                    n_noise: int = 1000, noise: bool = True) -> dict[str, Tensor]:
    """The two gradient vectors of Proposition 3 for one image, over the filter weights (biases left out).

    model: a :class:`GenerativeConvNet` or :class:`Prototype`; observed: one image, shape (1, ...).
    One Langevin step from I_obs (``n_noise`` draws in one batch, or with ``noise=False`` the expected state
    E[I_syn] = I_obs + ε²/2 (B − I_obs/σ²)) gives I_syn, and, each a vector (P,) over the P filter weights,

    * ``cd``: the mean over draws of ∂f(I_obs)/∂w − ∂f(I_syn)/∂w, the one-step CD gradient;
    * ``reconstruction``: −∂/∂w ‖I_obs − σ²B_{w,δ}‖²/2 with δ = δ(I_obs) held fixed;
    * ``unchanged`` (a scalar): the fraction of draws whose activation pattern equals that of I_obs.

    Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
    """
    if observed.ndim < 2 or observed.shape[0] != 1:
        raise ValueError(f"expected one image with a leading batch dimension of 1; got {tuple(observed.shape)}")
    params = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    if noise:
        synthesized = langevin(model, observed.expand(n_noise, *observed.shape[1:]), 1, step_size, sigma)
    else:
        synthesized = langevin(model, observed, 1, step_size, sigma, noise=False)
    _, kept = pattern_agreement(model, synthesized, observed.expand_as(synthesized))
    cd = flat_grad(model(observed).sum() - model(synthesized).mean(), params)
    # B_{w,δ} as a function of w with the pattern of I_obs fixed: autograd of f at I_obs, kept differentiable.
    x = observed.detach().clone().requires_grad_(True)
    (b,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    rec = flat_grad(-0.5 * (observed - sigma**2 * b).pow(2).sum(), params)
    return {"cd": cd, "reconstruction": rec, "unchanged": kept.mean()}


def cosine(a: Tensor, b: Tensor) -> float:
    """Cosine of the angle between two tensors of the same number of elements, read as flat vectors.

    Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
    """
    return float(F.cosine_similarity(a.flatten(), b.flatten(), dim=0))
