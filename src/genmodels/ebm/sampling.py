"""Langevin dynamics for densities p(I) ∝ exp(f(I)) N(I; 0, σ²·1), and what the step size does to it.

Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch
from torch import Tensor

from .. import runtime
from ..data.base import NonFiniteValuesError

ScoreFn = Callable[[Tensor], Tensor]


def check_finite(x: Tensor, what: str) -> None:
    """Raise ``TypeError`` unless ``x`` is a float tensor, :class:`NonFiniteValuesError` if it holds NaN or inf.

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{what}: expected a float tensor; got {type(x).__name__ if not isinstance(x, Tensor) else x.dtype}")
    if not torch.isfinite(x).all():
        raise NonFiniteValuesError(f"{what}: expected finite values; got NaN or inf")


def check_step(step_size: float, sigma: float) -> None:
    """Raise ``ValueError`` unless 0 < ε < 2σ (at ε ≥ 2σ the chain of the reference alone diverges).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma (the reference standard deviation) must be positive and finite; got {sigma!r}")
    if not (step_size > 0 and math.isfinite(step_size)):
        raise ValueError(f"step_size ε must be positive and finite; got {step_size!r}")
    if step_size >= 2 * sigma:
        raise ValueError(f"step_size ε = {step_size!r} must be below 2σ = {2 * sigma!r}: the contraction "
                         f"a = 1 − ε²/(2σ²) reaches −1 there and the chain diverges; use a smaller step")


class StepFactors(NamedTuple):
    """What ε does to the reference part of the chain I ← a·I + ε²/2·B + εZ (see :func:`step_factors`).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """

    contraction: float      # a = 1 − ε²/(2σ²): the weight left on the current image
    towards_mean: float     # 1 − a = ε²/(2σ²): the fraction of the way to σ²B covered by one noise-free step
    variance_factor: float  # stationary variance / σ² = 1 / (1 − ε²/(4σ²)) for f ≡ 0
    forgetting_steps: float  # 1 / (1 − a) = 2σ²/ε²: steps until the start is forgotten (a^τ ≈ e^{−τ(1−a)})


def step_factors(step_size: float, sigma: float = 1.0) -> StepFactors:
    """The contraction, pull towards σ²B, variance inflation and forgetting time of Langevin step ε.

    Derived in the notebook for the reference alone (f ≡ 0), where the chain is I ← a·I + εZ.

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    check_step(step_size, sigma)
    pull = step_size**2 / (2 * sigma**2)
    return StepFactors(1 - pull, pull, 1 / (1 - step_size**2 / (4 * sigma**2)), 1 / pull)


def langevin(score_fn: ScoreFn, x: Tensor, n_steps: int, step_size: float, sigma: float = 1.0,
             noise: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Run ``n_steps`` of Langevin dynamics for p(I) ∝ exp(f(I)) N(I; 0, σ²·1) from ``x``; return the last state.

    Each step is Eq. (ebm-langevin) with ε = ``step_size``:

        I ← I + ε²/2 · (∂f/∂I − I/σ²) + ε·Z,   Z ~ N(0, 1).

    score_fn: maps images (N, ...) to f per image, shape (N,). Parameters of ``score_fn`` get no gradient.
    x: starting states (N, ...), one chain per row; all chains move together (no loop over chains).
    noise: ``False`` drops ε·Z, leaving gradient ascent on log p (the attractor dynamics of Prop. 2).
    generator: where Z is drawn (``gm.runtime.randn``; ``None``: torch's global generator of x's device).
    The number of steps passes through ``gm.runtime.capped``. Returns (N, ...), detached.

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    if n_steps < 0 or int(n_steps) != n_steps:
        raise ValueError(f"n_steps must be a non-negative integer; got {n_steps!r}")
    check_step(step_size, sigma)
    check_finite(x, "langevin: starting states x")
    eps = float(step_size)
    with torch.enable_grad():
        x = x.detach().clone()
        for _ in range(runtime.capped(int(n_steps))):
            x.requires_grad_(True)
            f = score_fn(x)
            if f.shape != (x.shape[0],):
                raise ValueError(f"score_fn must return one value per chain, shape ({x.shape[0]},); got {tuple(f.shape)}")
            if f.requires_grad:
                (grad,) = torch.autograd.grad(f.sum(), x, allow_unused=True)
            else:  # a score that does not depend on I (f ≡ const): no tilt
                grad = None
            grad = torch.zeros_like(x) if grad is None else grad
            with torch.no_grad():
                x = x + 0.5 * eps**2 * (grad - x / sigma**2)
                if noise:
                    x = x + eps * runtime.randn(*x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x.detach()


def log_density(score_fn: ScoreFn, x: Tensor, sigma: float = 1.0) -> Tensor:
    """Unnormalised log p(I) = f(I) − ‖I‖²/(2σ²) per image, shape (N,) (log Z(w) left out); x: (N, ...).

    Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
    """
    return score_fn(x) - x.flatten(1).pow(2).sum(1) / (2 * sigma**2)
