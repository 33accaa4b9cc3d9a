"""The forward (noising) process: the schedule β_t, ᾱ_t = ∏_{s≤t}(1 − β_s), q(x_t | x_0) and q(x_{t−1} | x_t, x_0).

Time steps are 0-based indices t = 0, …, T−1 into the schedule (the papers' t = 1, …, T shifted by one):
x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, and ᾱ_{−1} = 1 (x_{−1} is the data x_0 itself).

Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from ..history import NonFiniteValuesError


def check_float(x: Tensor, what: str) -> None:
    """Raise ``TypeError`` unless ``x`` is a float tensor, :class:`NonFiniteValuesError` if it holds NaN or inf.

    ``x``: any shape.

    Notebooks: chapters/06_diffusion/01_score_matching.ipynb, 02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{what}: expected a float tensor; got {got}")
    if not torch.isfinite(x).all():
        raise NonFiniteValuesError(f"{what}: expected finite values; got NaN or inf")


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A variance schedule β_0, …, β_{T−1} in (0, 1) and what follows from it; all tensors have shape (T,).

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """

    betas: Tensor

    def __post_init__(self) -> None:
        b = self.betas
        if not isinstance(b, Tensor) or b.ndim != 1 or b.numel() < 1:
            raise ValueError(f"betas must be a 1-D tensor of length T ≥ 1; got {getattr(b, 'shape', type(b))}")
        check_float(b, "Schedule.betas")
        if not ((b > 0) & (b < 1)).all():
            raise ValueError(f"every β_t must lie in (0, 1); got min {float(b.min())}, max {float(b.max())}")
        object.__setattr__(self, "betas", b.to(torch.float64))

    @property
    def T(self) -> int:
        return self.betas.numel()

    @property
    def alphas(self) -> Tensor:
        """α_t = 1 − β_t."""
        return 1 - self.betas

    @property
    def alpha_bars(self) -> Tensor:
        """ᾱ_t = ∏_{s≤t} α_s: the signal kept in x_t (Eq. diff-marginal)."""
        return torch.cumprod(self.alphas, 0)

    @property
    def alpha_bars_prev(self) -> Tensor:
        """ᾱ_{t−1}, with ᾱ_{−1} = 1."""
        ab = self.alpha_bars
        return torch.cat([ab.new_ones(1), ab[:-1]])

    def to(self, device: torch.device | str) -> "Schedule":
        return Schedule(self.betas.to(device))

    def gather(self, values: Tensor, t: Tensor, like: Tensor) -> Tensor:
        """``values[t]`` as ``like``'s dtype and device, shaped (N, 1, …, 1) to broadcast over ``like`` (N, …)."""
        check_times(t, self.T, like)
        out = values.to(like.device)[t.to(like.device)].to(like.dtype)
        return out.reshape(-1, *([1] * (like.ndim - 1)))


def check_times(t: Tensor, T: int, x: Tensor) -> None:
    """Raise unless ``t`` is an integer tensor (N,) of steps in [0, T) for a batch ``x`` (N, …).

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    if not isinstance(t, Tensor) or t.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"time steps t must be an integer tensor of shape (N,); got {getattr(t, 'dtype', type(t))}")
    if t.shape != (x.shape[0],):
        raise ValueError(f"time steps t must have shape ({x.shape[0]},), one per row of x; got {tuple(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= T):
        raise ValueError(f"time steps must lie in [0, {T}) (0-based indices into the schedule); "
                         f"got min {int(t.min())}, max {int(t.max())}")


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """β_t rising linearly from ``beta_start`` to ``beta_end`` over T steps (Ho et al. 2020's choice at T = 1000).

    For a shorter chain pass e.g. ``beta_end=0.02 * 1000 / T`` to keep ᾱ_{T−1} near zero.
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    if T < 1 or int(T) != T:
        raise ValueError(f"T must be a positive integer; got {T!r}")
    return Schedule(torch.linspace(beta_start, beta_end, int(T), dtype=torch.float64))


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """ᾱ_t ∝ cos²(((t+1)/T + s)/(1 + s)·π/2) (Nichol & Dhariwal 2021); β_t capped at ``max_beta``.

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    if T < 1 or int(T) != T:
        raise ValueError(f"T must be a positive integer; got {T!r}")
    steps = torch.arange(int(T) + 1, dtype=torch.float64)
    f = torch.cos((steps / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    return Schedule((1 - ab[1:] / ab[:-1]).clamp(1e-8, max_beta))


def _check_pair(x0: Tensor, other: Tensor, what: str) -> None:
    check_float(x0, "x0")
    check_float(other, what)
    if other.shape != x0.shape:
        raise ValueError(f"{what} must have x0's shape {tuple(x0.shape)}; got {tuple(other.shape)}")


def q_sample(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, one step t per row: a draw from q(x_t | x_0) (Eq. diff-marginal).

    x0, eps: (N, …); t: integer (N,) in [0, T). Returns (N, …).
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    _check_pair(x0, eps, "eps")
    ab = schedule.gather(schedule.alpha_bars, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def posterior(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """Mean (N, …) and variance (N, 1, …, 1) of q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) (Prop. diff-prop-posterior).

    μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) · x_t,  β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) · β_t.
    At t = 0 the "previous" state is x_0 itself: mean x_0, variance 0.
    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    _check_pair(x0, xt, "xt")
    ab, ab_prev, beta = schedule.alpha_bars, schedule.alpha_bars_prev, schedule.betas  # float64, (T,)
    c0 = schedule.gather(ab_prev.sqrt() * beta / (1 - ab), t, x0)
    ct = schedule.gather((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab), t, x0)
    mean = c0 * x0 + ct * xt
    var = schedule.gather((1 - ab_prev) / (1 - ab) * beta, t, x0)
    return mean, var


def predict_x0(xt: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t: the clean image an ε-prediction implies (Tweedie, Eq. diff-tweedie).

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    _check_pair(xt, eps, "eps")
    ab = schedule.gather(schedule.alpha_bars, t, xt)
    return (xt - (1 - ab).sqrt() * eps) / ab.sqrt()


def eps_to_score(eps: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """∇ log q_t(x_t) ≈ −ε̂/√(1 − ᾱ_t): an ε-prediction read as a score (Prop. diff-prop-eps-dsm).

    Notebook: chapters/06_diffusion/02_denoising_diffusion.ipynb
    """
    check_float(eps, "eps")
    return -eps / schedule.gather(1 - schedule.alpha_bars, t, eps).sqrt()
