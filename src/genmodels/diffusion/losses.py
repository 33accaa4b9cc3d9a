"""Training objectives: explicit (implicit-form) score matching, denoising score matching, ε-prediction, flow matching.

Every loss draws its noise through ``gm.runtime`` (device-safe with a CPU generator) and returns a scalar.
Shapes: data x (N, …); a score or ε network maps (x (N, …), level (N,)) to (N, …).

Notebooks: chapters/06_diffusion/01_score_matching.ipynb (score matching, DSM),
02_denoising_diffusion.ipynb (ε-prediction), 03_flow_matching.ipynb (flow matching).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import runtime
from .schedule import Schedule, check_float, q_sample

Field = Callable[[Tensor, Tensor], Tensor]


def _levels(value: float | Tensor, x: Tensor, what: str) -> Tensor:
    """A noise level per row of x, shape (N,), from a float or an (N,) tensor; must be positive."""
    v = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    v = v.expand(x.shape[0]) if v.ndim == 0 else v
    if v.shape != (x.shape[0],):
        raise ValueError(f"{what} must be a float or a tensor of shape ({x.shape[0]},); got {tuple(v.shape)}")
    if not (v > 0).all():
        raise ValueError(f"{what} must be positive; got min {float(v.min())}")
    return v


def _check_out(out: Tensor, x: Tensor, who: str) -> Tensor:
    if not isinstance(out, Tensor) or out.shape != x.shape:
        raise ValueError(f"{who} must return the input's shape {tuple(x.shape)}; got {tuple(getattr(out, 'shape', ()))}")
    return out


def _bcast(v: Tensor, x: Tensor) -> Tensor:
    return v.reshape(-1, *([1] * (x.ndim - 1)))


def score_matching_loss(score_fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Hyvärinen's objective J(θ) = E[tr ∇_x s_θ(x) + ½‖s_θ(x)‖²] on data x (N, D) (Thm. diff-thm-ism).

    The trace is exact (one backward pass per dimension), so this is for small D. It equals
    ½E‖s_θ − ∇log p‖² minus a constant that does not depend on θ.
    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """
    check_float(x, "x")
    if x.ndim != 2:
        raise ValueError(f"score_matching_loss expects flat data (N, D); got {tuple(x.shape)}")
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        s = _check_out(score_fn(x), x, "score_fn")
        trace = sum(torch.autograd.grad(s[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(x.shape[1]))
        return (trace + 0.5 * s.pow(2).sum(1)).mean()


def dsm_loss(score_fn: Field, x: Tensor, sigma: float | Tensor, generator: torch.Generator | None = None,
             weighted: bool = True) -> Tensor:
    """Denoising score matching (Vincent 2011): x̃ = x + σz, loss ½E[λ(σ)‖s_θ(x̃, σ) + z/σ‖²] (Thm. diff-thm-dsm).

    sigma: one level, or one per row (N,) for a ladder of levels (Song & Ermon 2019).
    weighted: λ(σ) = σ² (so every level contributes on the same scale); ``False``: λ = 1.
    score_fn(x̃ (N, …), σ (N,)) → (N, …). Returns the batch mean of the per-row sum over dimensions.
    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """
    check_float(x, "x")
    sig = _levels(sigma, x, "sigma")
    z = runtime.randn(*x.shape, generator=generator, device=x.device, dtype=x.dtype)
    s = _bcast(sig, x)
    x_noisy = x + s * z
    out = _check_out(score_fn(x_noisy, sig), x, "score_fn")
    if weighted:
        per_row = 0.5 * (s * out + z).pow(2).flatten(1).sum(1)
    else:
        per_row = 0.5 * (out + z / s).pow(2).flatten(1).sum(1)
    return per_row.mean()


def eps_loss(eps_fn: Field, x0: Tensor, schedule: Schedule, generator: torch.Generator | None = None) -> Tensor:
    """Ho et al.'s simplified loss E_{t,ε}‖ε − ε_θ(x_t, t)‖², t uniform on {0, …, T−1} (Eq. diff-simple).

    eps_fn(x_t (N, …), t (N,) integer) → (N, …). The squared error is averaged over dimensions and the batch.
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    check_float(x0, "x0")
    t = runtime.randint(0, schedule.T, (x0.shape[0],), generator=generator, device=x0.device)
    eps = runtime.randn(*x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    xt = q_sample(x0, t, eps, schedule)
    return (_check_out(eps_fn(xt, t), x0, "eps_fn") - eps).pow(2).mean()


def flow_matching_loss(v_fn: Field, x1: Tensor, generator: torch.Generator | None = None,
                       x0: Tensor | None = None) -> Tensor:
    """Conditional flow matching on the straight path x_t = (1 − t)x_0 + t x_1, target x_1 − x_0 (Eq. diff-cfm).

    x1: data (N, …); x0: noise of the same shape (drawn from N(0, I) when ``None``); t uniform on [0, 1].
    v_fn(x_t (N, …), t (N,) float) → (N, …). Squared error averaged over dimensions and batch.
    Notebook: chapters/06_diffusion/03_flow_matching.ipynb
    """
    check_float(x1, "x1")
    if x0 is None:
        x0 = runtime.randn(*x1.shape, generator=generator, device=x1.device, dtype=x1.dtype)
    elif x0.shape != x1.shape:
        raise ValueError(f"x0 must have x1's shape {tuple(x1.shape)}; got {tuple(x0.shape)}")
    t = runtime.rand(x1.shape[0], generator=generator, device=x1.device, dtype=x1.dtype)
    tb = _bcast(t, x1)
    xt = (1 - tb) * x0 + tb * x1
    return (_check_out(v_fn(xt, t), x1, "v_fn") - (x1 - x0)).pow(2).mean()
