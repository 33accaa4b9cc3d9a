"""Samplers: annealed Langevin, ancestral DDPM, DDIM and Euler/Heun for an ODE, each moving the whole batch at once.

Every loop's length passes through ``gm.runtime.capped`` (``GENMODELS_MAX_STEPS``), noise is drawn with
``gm.runtime.randn``, and the networks are called once (Euler, DDPM, DDIM) or twice (Heun) per step for the
whole batch. Samplers run under ``torch.no_grad`` and return detached tensors of the starting shape.

Notebooks: chapters/06_diffusion/01_score_matching.ipynb (annealed Langevin),
02_denoising_diffusion.ipynb (ancestral, DDIM), 03_flow_matching.ipynb (Euler, Heun).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor

from .. import runtime
from .schedule import Schedule, check_float

Field = Callable[[Tensor, Tensor], Tensor]


def _call(fn: Field, x: Tensor, level: Tensor, who: str) -> Tensor:
    out = fn(x, level)
    if not isinstance(out, Tensor) or out.shape != x.shape:
        raise ValueError(f"{who} must return the state's shape {tuple(x.shape)}; got {tuple(getattr(out, 'shape', ()))}")
    return out


def _noise(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return runtime.randn(*x.shape, generator=generator, device=x.device, dtype=x.dtype)


def geometric_sigmas(sigma_max: float, sigma_min: float, n: int) -> Tensor:
    """n noise levels from ``sigma_max`` down to ``sigma_min`` in a geometric ladder (Song & Ermon 2019), shape (n,).

    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """
    if not (sigma_max > sigma_min > 0) or n < 1:
        raise ValueError(f"need sigma_max > sigma_min > 0 and n ≥ 1; got {sigma_max!r}, {sigma_min!r}, {n!r}")
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), int(n), dtype=torch.float64)


@torch.no_grad()
def annealed_langevin(score_fn: Field, x: Tensor, sigmas: Sequence[float] | Tensor, n_steps_each: int,
                      step_lr: float, generator: torch.Generator | None = None, final_denoise: bool = False) -> Tensor:
    """Song & Ermon's Algorithm 1: at each level σ_i (largest first) run Langevin with step α_i = ε σ_i²/σ_L².

    Each step is Part 3's Langevin step I ← I + ε²/2 · ∇log p + εZ with ε² = α_i and ∇log p ≈ s_θ(x, σ_i):

        x ← x + α_i/2 · s_θ(x, σ_i) + √α_i · z.

    score_fn(x (N, …), σ (N,)) → (N, …); x: starting states (N, …); step_lr: ε, the step at the smallest level.
    final_denoise: end with Tweedie's x + σ_L² s_θ(x, σ_L) (Eq. diff-tweedie). The total number of steps
    L · n_steps_each is cut to ``gm.runtime.capped``. Returns (N, …).
    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """
    check_float(x, "annealed_langevin: starting states x")
    sig = torch.as_tensor(sigmas, dtype=torch.float64).flatten()
    if sig.numel() < 1 or not (sig > 0).all():
        raise ValueError(f"sigmas must be a non-empty sequence of positive levels; got {sig.tolist()}")
    if n_steps_each < 1 or not (step_lr > 0):
        raise ValueError(f"need n_steps_each ≥ 1 and step_lr > 0; got {n_steps_each!r}, {step_lr!r}")
    total = runtime.capped(sig.numel() * int(n_steps_each))
    x = x.detach().clone()
    last = float(sig[-1])
    for k in range(total):
        s_i = float(sig[k // int(n_steps_each)])
        alpha = step_lr * s_i**2 / last**2
        level = x.new_full((x.shape[0],), s_i)
        x = x + 0.5 * alpha * _call(score_fn, x, level, "score_fn") + math.sqrt(alpha) * _noise(x, generator)
    if final_denoise:
        x = x + last**2 * _call(score_fn, x, x.new_full((x.shape[0],), last), "score_fn")
    return x


def _times(x: Tensor, t: int) -> Tensor:
    return torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)


@torch.no_grad()
def ddpm_sample(eps_fn: Field, x: Tensor, schedule: Schedule, generator: torch.Generator | None = None,
                variance: str = "beta") -> Tensor:
    """Ancestral sampling (Ho et al. 2020, Alg. 2) from x_{T−1} = ``x`` (N, …), usually N(0, I) noise, down to x_0.

    x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t))/√α_t + σ_t z, z = 0 at the last step; σ_t² = β_t
    (``variance="beta"``) or the posterior's β̃_t (``"posterior"``). eps_fn(x (N, …), t (N,) long) → (N, …).
    The T steps are cut to ``gm.runtime.capped``. Returns (N, …).
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    check_float(x, "ddpm_sample: starting noise x")
    if variance not in ("beta", "posterior"):
        raise ValueError(f"variance must be 'beta' or 'posterior'; got {variance!r}")
    betas, ab = schedule.betas.tolist(), schedule.alpha_bars.tolist()
    ab_prev = schedule.alpha_bars_prev.tolist()
    x = x.detach().clone()
    for t in list(range(schedule.T - 1, -1, -1))[: runtime.capped(schedule.T)]:
        eps = _call(eps_fn, x, _times(x, t), "eps_fn")
        x = (x - betas[t] / math.sqrt(1 - ab[t]) * eps) / math.sqrt(1 - betas[t])
        if t > 0:
            var = betas[t] if variance == "beta" else (1 - ab_prev[t]) / (1 - ab[t]) * betas[t]
            x = x + math.sqrt(var) * _noise(x, generator)
    return x


def ddim_times(T: int, n_steps: int) -> list[int]:
    """``n_steps`` time indices from T−1 down to 0, evenly spaced (DDIM's sub-sequence τ), as a list.

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    if not 1 <= n_steps <= T:
        raise ValueError(f"n_steps must lie in [1, T={T}]; got {n_steps!r}")
    return sorted({round(v) for v in torch.linspace(T - 1, 0, int(n_steps)).tolist()}, reverse=True)


@torch.no_grad()
def ddim_sample(eps_fn: Field, x: Tensor, schedule: Schedule, n_steps: int, eta: float = 0.0,
                generator: torch.Generator | None = None) -> Tensor:
    """DDIM (Song, Meng & Ermon 2021) on ``n_steps`` of the T steps, from x_{T−1} = ``x`` (N, …) down to x_0.

    With x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t and s the next time of the sub-sequence (ᾱ_s = 1 after the last),

        x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z,   σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s).

    η = 0 is deterministic; η = 1 with every step is the ancestral sampler with posterior variance.
    The loop is cut to ``gm.runtime.capped``. Returns (N, …).
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    check_float(x, "ddim_sample: starting noise x")
    if eta < 0:
        raise ValueError(f"eta must be non-negative; got {eta!r}")
    ab = schedule.alpha_bars.tolist()
    times = ddim_times(schedule.T, n_steps)
    x = x.detach().clone()
    for i, t in enumerate(times[: runtime.capped(len(times))]):
        a_t = ab[t]
        a_s = ab[times[i + 1]] if i + 1 < len(times) else 1.0
        eps = _call(eps_fn, x, _times(x, t), "eps_fn")
        x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        sigma = eta * math.sqrt((1 - a_s) / (1 - a_t) * (1 - a_t / a_s))
        x = math.sqrt(a_s) * x0 + math.sqrt(max(1 - a_s - sigma**2, 0.0)) * eps
        if sigma > 0:
            x = x + sigma * _noise(x, generator)
    return x


@torch.no_grad()
def ode_sample(v_fn: Field, x: Tensor, n_steps: int, method: str = "euler", t0: float = 0.0,
               t1: float = 1.0) -> Tensor:
    """Integrate dx/dt = v(x, t) from t0 to t1 in ``n_steps`` equal steps (Euler or Heun), for the whole batch.

    v_fn(x (N, …), t (N,) float) → (N, …). Euler: one evaluation per step, error O(1/n); Heun (the
    trapezoidal predictor–corrector): two, error O(1/n²). The loop is cut to ``gm.runtime.capped``.
    Notebook: chapters/06_diffusion/03_flow_matching.ipynb
    """
    check_float(x, "ode_sample: starting states x")
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun'; got {method!r}")
    if n_steps < 1 or int(n_steps) != n_steps:
        raise ValueError(f"n_steps must be a positive integer; got {n_steps!r}")
    h = (t1 - t0) / n_steps
    x = x.detach().clone()
    for k in range(runtime.capped(int(n_steps))):
        t = x.new_full((x.shape[0],), t0 + k * h)
        d = _call(v_fn, x, t, "v_fn")
        if method == "heun":
            d2 = _call(v_fn, x + h * d, t + h, "v_fn")
            d = 0.5 * (d + d2)
        x = x + h * d
    return x


def evaluations(method: str, n_steps: int) -> int:
    """Network evaluations per sample of :func:`ode_sample` (``euler``/``heun``) or ``ddpm``/``ddim``/``langevin``.

    Notebooks: chapters/06_diffusion/03_flow_matching.ipynb, 04_experiments.ipynb
    """
    return 2 * n_steps if method == "heun" else n_steps
