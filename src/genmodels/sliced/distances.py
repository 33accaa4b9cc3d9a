"""The five one-dimensional distances to N(0, 1) and the sliced normality index built from them.

Each 1-D distance takes projected codes ``y`` of shape (k, n) and returns shape (k,); :func:`normality_index`
projects codes z (n, D) on k random unit directions and averages. The package docstring (:mod:`genmodels.sliced`)
lists them.

Notebooks: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb (the idea),
02_five_distances.ipynb (the derivations).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .. import runtime, train

METHODS = ("swae", "scfwae", "scwae", "scvmae", "sksae")
"""The five models of the part, named by their autoencoder."""

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _check_projected(y: Tensor, who: str) -> None:
    """Raise ValueError unless y is a float (k, n) tensor with n ≥ 2; NonFiniteLossError if it holds NaN/inf."""
    if not isinstance(y, Tensor) or y.ndim != 2 or not y.is_floating_point():
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"{who}: expected a float tensor y of shape (k, n) (k projected samples of size n); got {shape}")
    if y.shape[1] < 2:
        raise ValueError(f"{who}: each projected sample needs at least 2 points; got n = {y.shape[1]}")
    if not torch.isfinite(y).all():
        raise train.NonFiniteLossError(f"{who}: y contains NaN or infinite values (codes diverged? lower the "
                                       "learning rate)")


def _sort_rows(y: Tensor) -> Tensor:
    """Each row of y (k, n) sorted ascending, differentiable in y.

    On the CPU the order comes from NumPy's vectorised argsort and the values are gathered in torch (measured
    about 3× faster than ``torch.sort`` for k = 50–1000 rows of n = 256); elsewhere ``torch.sort``.
    """
    if y.device.type != "cpu" or y.dtype not in (torch.float32, torch.float64):
        return torch.sort(y, dim=-1).values
    order = torch.from_numpy(np.argsort(y.detach().numpy(), axis=-1))
    return torch.gather(y, -1, order)


def _normal_pdf(x: Tensor) -> Tensor:
    """φ(x), the N(0, 1) density, elementwise."""
    return torch.exp(-0.5 * x * x) / _SQRT_2PI


def _normal_cdf(x: Tensor) -> Tensor:
    """Φ(x), the N(0, 1) distribution function, elementwise."""
    return torch.special.ndtr(x)


def sw_1d(y: Tensor, z: Tensor) -> Tensor:
    r"""Squared 2-Wasserstein distance between the samples in the rows of ``y`` and ``z``.

    y, z: (k, n) (or z of shape (n,), shared by every row). Returns (k,):
    :math:`\frac1n\sum_i (y_{(i)} - z_{(i)})^2`, the sorted samples matched in order.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    _check_projected(y, "sw_1d")
    if z.ndim == 1:
        z = z.unsqueeze(0)
    _check_projected(z, "sw_1d (z)")
    if z.shape[1] != y.shape[1] or z.shape[0] not in (1, y.shape[0]):
        raise ValueError(f"sw_1d: z must have shape (k, n) or (n,) matching y {tuple(y.shape)}; got {tuple(z.shape)}")
    return ((_sort_rows(y) - _sort_rows(z)) ** 2).mean(-1)


def quantile_cell_integrals(n: int, like: Tensor | None = None) -> Tensor:
    r"""SCFWAE's weights, shape (n,), in ``like``'s dtype and device: the cell integrals (not means: a mean is n
    times larger) :math:`c_i=\int_{(i-1)/n}^{i/n}\Phi^{-1}(t)\,dt = \varphi(Q_{(i-1)/n}) - \varphi(Q_{i/n})`.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    like = torch.zeros((), dtype=torch.float64) if like is None else like
    t = torch.arange(n + 1, dtype=like.dtype, device=like.device) / n
    phi_q = _normal_pdf(torch.special.ndtri(t))  # φ(Q_0) = φ(-∞) = 0 and φ(Q_1) = 0
    return phi_q[:-1] - phi_q[1:]


def scfw_1d(y: Tensor) -> Tensor:
    r"""Squared 2-Wasserstein distance from each row of ``y`` (k, n) to N(0, 1), in closed form. Returns (k,).

    :math:`1 + \frac1n\sum_i y_{(i)}^2 - 2\sum_i y_{(i)}\big(\varphi(Q_{(i-1)/n}) - \varphi(Q_{i/n})\big)`.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    _check_projected(y, "scfw_1d")
    y_sorted = _sort_rows(y)
    c = quantile_cell_integrals(y.shape[1], y)
    return 1.0 + (y_sorted**2).mean(-1) - 2.0 * (y_sorted * c).sum(-1)


def silverman_gamma(n: int) -> float:
    """Silverman's rule of thumb for the variance γ of the smoothing kernel N(0, γ): (4 / (3n))^(2/5).

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    if n < 2:
        raise ValueError(f"silverman_gamma: need n ≥ 2; got {n}")
    return (4.0 / (3.0 * n)) ** 0.4


def _mean_gauss_at_zero(m: Tensor, var: float, dims: tuple[int, ...]) -> Tensor:
    """Mean over ``dims`` of the density of N(m, var) at 0 (var is a variance); the constant applied after the mean."""
    return torch.exp(m.square().mul(-0.5 / var)).mean(dims) / math.sqrt(2.0 * math.pi * var)


# Pairwise differences cw_1d holds at once: on a CPU a block that stays in cache (512 KiB in float32; larger
# blocks measured 4× slower), on a GPU a large one (fewer kernel launches).
_CW_CHUNK = {"cpu": 2**17, "other": 2**26}


def _pair_means_in_one_buffer(y: Tensor, rows: int, var: float) -> Tensor:
    """The pairwise term of :func:`cw_1d` without gradients, computed block by block in one reused buffer.

    A new (rows, n, n) block per step fragments glibc's heap: once its mmap threshold has risen past the block
    size, thousands of 8 MB blocks (n = 1,024) grew one evaluation of 4,000 rows to 21 GB and the kernel was
    killed (measured: 0.6 GB at 600 rows, 6 GB at 900). The same arithmetic in place needs one block."""
    k, n = y.shape
    buf = y.new_empty(min(rows, k), n, n)
    out = y.new_empty(k)
    for start in range(0, k, rows):
        c = y[start:start + rows]
        b = buf[:c.shape[0]]
        torch.sub(c.unsqueeze(-1), c.unsqueeze(-2), out=b)
        out[start:start + c.shape[0]] = b.square_().mul_(-0.5 / var).exp_().mean((-2, -1))
    return out / math.sqrt(2.0 * math.pi * var)


def cw_1d(y: Tensor, gamma: float | None = None) -> Tensor:
    r"""Squared Cramér–Wold distance: :math:`\|\frac1n\sum_i \mathcal N(y_i,\gamma) - \mathcal N(0, 1+\gamma)\|_2^2`.

    y: (k, n); gamma: the smoothing variance, Silverman's :func:`silverman_gamma` by default. Returns (k,).
    Time is O(k n²) (all pairwise differences of a row), memory bounded by blocks of rows.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    _check_projected(y, "cw_1d")
    n = y.shape[1]
    gamma = silverman_gamma(n) if gamma is None else float(gamma)
    if not gamma > 0:
        raise ValueError(f"cw_1d: gamma must be a positive variance; got {gamma}")
    block = _CW_CHUNK["cpu" if y.device.type == "cpu" else "other"]
    rows = max(1, block // (n * n))  # the (rows, n, n) block of pairwise differences
    if y.requires_grad and torch.is_grad_enabled():
        pairs = torch.cat([
            _mean_gauss_at_zero(c.unsqueeze(-1) - c.unsqueeze(-2), 2.0 * gamma, (-2, -1)) for c in y.split(rows)
        ])
    else:
        pairs = _pair_means_in_one_buffer(y, rows, 2.0 * gamma)
    cross = _mean_gauss_at_zero(y, 1.0 + 2.0 * gamma, (-1,))
    prior = 1.0 / math.sqrt(2.0 * math.pi * (2.0 + 2.0 * gamma))
    return pairs + prior - 2.0 * cross


def kummer_phi(s: Tensor, dim: int) -> Tensor:
    r"""Tabor et al.'s approximation :math:`(1 + 4s/(2D-3))^{-1/2}` of :math:`\varphi_D(s) = {}_1F_1(\tfrac12;
    \tfrac D2; -s) = \mathbb E\, e^{-s (v^\top u)^2}` (v uniform on the sphere, u a unit vector), for s ≥ 0.

    Within 1.1% of the exact function for D ≥ 20 and 3.1% for D ≥ 8; D ≥ 2. s: any shape; returns its shape.
    Notebook: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb
    """
    if dim < 2:
        raise ValueError(f"kummer_phi: the approximation needs D ≥ 2; got {dim}")
    return (1.0 + 4.0 * s / (2.0 * dim - 3.0)).rsqrt()


def cw_closed_form(z: Tensor, gamma: float | None = None) -> Tensor:
    r"""CWAE's squared Cramér–Wold distance of codes z (n, D) to N(0, I): :func:`cw_1d` averaged over *every*
    direction v on the sphere, in closed form (Tabor et al. 2018), a scalar tensor:

    .. math:: \frac{1}{2n^2\sqrt\pi}\Big[\tfrac{1}{\sqrt\gamma}\sum_{i,j}\varphi_D\big(\tfrac{\|z_i-z_j\|^2}{4\gamma}\big)
              + \tfrac{n^2}{\sqrt{1+\gamma}} - \tfrac{2n}{\sqrt{\gamma+1/2}}\sum_i
              \varphi_D\big(\tfrac{\|z_i\|^2}{2+4\gamma}\big)\Big],

    with :func:`kummer_phi` for φ_D and Silverman's γ for n by default. No directions are sampled; O(n² D) time.
    φ_D's ≈1% error (D ≥ 20) grows in the difference of the three terms: 3.6% on codes N(0.4, 0.49·I), D = 20
    (``tests/test_sliced.py`` checks it against the exact function and against an average over directions).
    Notebook: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb
    """
    if not isinstance(z, Tensor) or z.ndim != 2 or not z.is_floating_point() or z.shape[0] < 2:
        got = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"cw_closed_form: expected float codes of shape (n ≥ 2, D); got {got}")
    n, dim = z.shape
    gamma = silverman_gamma(n) if gamma is None else float(gamma)
    if not gamma > 0:
        raise ValueError(f"cw_closed_form: gamma must be a positive variance; got {gamma}")
    sq = z.square().sum(1)
    pair = (sq[:, None] + sq[None, :] - 2.0 * z @ z.T).clamp_min(0.0)   # ‖z_i − z_j‖², round-off below 0 removed
    total = (kummer_phi(pair / (4.0 * gamma), dim).sum() / math.sqrt(gamma) + n * n / math.sqrt(1.0 + gamma)
             - 2.0 * n / math.sqrt(gamma + 0.5) * kummer_phi(sq / (2.0 + 4.0 * gamma), dim).sum())
    return total / (2.0 * n * n * math.sqrt(math.pi))


def cvm_1d(y: Tensor) -> Tensor:
    r"""Cramér–von Mises ω² of each row of ``y`` (k, n) against N(0, 1). Returns (k,).

    With :math:`u_{(i)} = \Phi(y_{(i)})`: :math:`\omega^2 = \frac1n\sum_i u_{(i)}^2 - \frac1{n^2}\sum_i (2i-1)u_{(i)} + \frac13`,
    the squared 2-Wasserstein distance of the u's to U(0, 1). ``n * cvm_1d(y)`` is the test statistic
    :math:`T = \frac1{12n} + \sum_i (u_{(i)} - \frac{2i-1}{2n})^2` (``scipy.stats.cramervonmises``).

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    _check_projected(y, "cvm_1d")
    n = y.shape[1]
    u = _normal_cdf(_sort_rows(y))  # Φ is increasing: sorting y sorts u
    odd = torch.arange(1, 2 * n, 2, dtype=y.dtype, device=y.device)  # 2i - 1
    return (u * u).mean(-1) - (u * odd).sum(-1) / n**2 + 1.0 / 3.0


def _ks_ranks(y: Tensor, who: str) -> tuple[Tensor, Tensor]:
    """u = Φ(y) sorted along each row, and the ranks i = 1..n, for the two KS functions."""
    _check_projected(y, who)
    u = _normal_cdf(_sort_rows(y))  # Φ is increasing: sorting y sorts u
    return u, torch.arange(1, y.shape[1] + 1, dtype=y.dtype, device=y.device)


def ks_1d(y: Tensor) -> Tensor:
    r"""Classical two-sided Kolmogorov–Smirnov statistic of each row of ``y`` (k, n) against N(0, 1). Returns (k,).

    :math:`D_n=\sup_x|F_n(x) - \Phi(x)| = \max_i\max\big(i/n - \Phi(y_{(i)}),\ \Phi(y_{(i)}) - (i-1)/n\big)`
    (both sides of each jump of the empirical CDF), the statistic of ``scipy.stats.kstest(row, "norm")``.
    SKSAE's penalty.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    u, i = _ks_ranks(y, "ks_1d")
    n = y.shape[1]
    return torch.maximum(i / n - u, u - (i - 1) / n).amax(-1)


def ks_1d_jump_tops(y: Tensor) -> Tensor:
    r"""The paper's Kolmogorov–Smirnov formula :math:`\max_i |i/n - \Phi(y_{(i)})|` for each row of ``y`` (k, n).

    It compares Φ with the empirical CDF only at the *top* of each jump, so it can miss the gap below a jump:
    ``ks_1d_jump_tops(y) ≤ ks_1d(y) ≤ ks_1d_jump_tops(y) + 1/n``. Returns (k,).

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    u, i = _ks_ranks(y, "ks_1d_jump_tops")
    return (i / y.shape[1] - u).abs().amax(-1)


def expected_at_prior(method: str, n: int, gamma: float | None = None) -> float:
    r"""Exact mean of the 1-D distance over samples of size n drawn from N(0, 1) itself: the noise floor.

    ``"scvmae"``: :math:`E\,\omega^2 = 1/(6n)`; ``"scwae"``:
    :math:`E\,d_{CW}^2 = \frac1n\big(\mathcal N(0;0,2\gamma)-\mathcal N(0;0,2+2\gamma)\big)` (γ Silverman's by
    default), of order :math:`n^{-4/5}`. The other three have no such closed form (ValueError).

    Notebook: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb
    """
    if method == "scvmae":
        return 1.0 / (6.0 * n)
    if method == "scwae":
        gamma = silverman_gamma(n) if gamma is None else float(gamma)
        return (1.0 / math.sqrt(4.0 * math.pi * gamma) - 1.0 / math.sqrt(4.0 * math.pi * (1.0 + gamma))) / n
    raise ValueError(f"expected_at_prior: closed forms exist for 'scvmae' and 'scwae' only; got {method!r} "
                     "(measure the others on samples of N(0, 1))")


_ONE_D: dict[str, Callable[[Tensor], Tensor]] = {
    "scfwae": scfw_1d,
    "scwae": cw_1d,
    "scvmae": cvm_1d,
    "sksae": ks_1d,
}


def random_directions(k: int, dim: int, like: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """k directions drawn uniformly from the unit sphere in R^dim, shape (k, dim), on ``like``'s device and dtype.

    Normalised standard normal vectors (rotation invariant, hence uniform); drawn where ``generator`` lives.

    Notebook: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb
    """
    if k < 1 or dim < 1:
        raise ValueError(f"random_directions: need k ≥ 1 and dim ≥ 1; got k={k}, dim={dim}")
    dtype = like.dtype if like is not None else torch.get_default_dtype()
    v = runtime.randn(k, dim, generator=generator, device=like.device if like is not None else None, dtype=dtype)
    return v / v.norm(dim=1, keepdim=True)


def normality_index(
    z: Tensor,
    method: str,
    n_projections: int = 100,
    directions: Tensor | None = None,
    prior_sample: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Sliced distance :math:`\frac1k\sum_j d_S(v_j^T z, N(0,1))` of codes z (n, D) from N(0, I); a scalar.

    method: one of :data:`METHODS`. directions: fixed unit directions (k, D); otherwise ``n_projections``
    random ones (from ``generator`` or torch's global generator). prior_sample: for ``"swae"`` only, a
    sample (n, D) of the prior (by default a fresh N(0, I) sample), projected on the same directions.

    Notebook: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb
    """
    if method not in METHODS:
        raise ValueError(f"normality_index: method must be one of {METHODS}; got {method!r}")
    if not isinstance(z, Tensor) or z.ndim != 2 or not z.is_floating_point():
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"normality_index: expected codes z as a float tensor of shape (n, D); got {shape}")
    n, dim = z.shape
    if directions is None:
        directions = random_directions(n_projections, dim, like=z, generator=generator)
    elif directions.ndim != 2 or directions.shape[1] != dim:
        raise ValueError(f"normality_index: directions must have shape (k, {dim}); got {tuple(directions.shape)}")
    y = directions @ z.T  # (k, n)
    if method == "swae":
        if prior_sample is None:
            prior_sample = runtime.randn(n, dim, generator=generator, device=z.device, dtype=z.dtype)
        elif prior_sample.shape != z.shape:
            raise ValueError(f"normality_index: prior_sample must have the shape of z {tuple(z.shape)}; got {tuple(prior_sample.shape)}")
        return sw_1d(y, directions @ prior_sample.T).mean()
    if prior_sample is not None:
        raise ValueError(f"normality_index: prior_sample is used by 'swae' only; {method!r} compares with N(0, 1) in closed form")
    return _ONE_D[method](y).mean()
