r"""The classic enhancers of Part 4, all on the value channel V = max(R, G, B) through :func:`on_value`.

:func:`gamma_correction`, :func:`equalize_hist`, :func:`clahe` (scikit-image's) and :func:`lime` (an illumination
map, :func:`lime_illumination`). Every function returns on its input's device and in its dtype; ``clahe`` and
``lime_illumination`` compute on the CPU (scikit-image, SciPy) and move the result back.

Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..data.base import check_images
from ..metrics import luma as gray  # noqa: F401  (the package's one BT.601 gray map, re-exported as gm.lowlight.gray)


def _check_rgb(x: Tensor, who: str) -> None:
    """Raise a ``ValueError`` naming ``who`` unless x is a float (N, 3, H, W) tensor in [0, 1]."""
    check_images(x, who)
    if x.shape[1] != 3:
        raise ValueError(f"{who}: expected RGB images (N, 3, H, W); got {tuple(x.shape)}")


def _check_value_channel(v: Tensor, who: str) -> None:
    if v.ndim != 4 or v.shape[1] != 1:
        raise ValueError(f"{who}: expected (N, 1, H, W); got {tuple(v.shape)}")


def on_value(x: Tensor, f: Callable[[Tensor], Tensor], eps: float = 1e-4) -> Tensor:
    r"""Apply a brightness map f to the value channel :math:`V=\max_c x_c` and scale RGB by :math:`f(V)/V`.

    x: (N, 3, H, W) in [0, 1]; f maps (N, 1, H, W) values in [0, 1] into [0, 1]. Returns (N, 3, H, W).
    Hue and saturation are kept and no channel can pass 1, since every channel is at most V (the final
    ``clamp`` only removes float round-off). Black pixels (V ≤ eps) become gray f(V).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    _check_rgb(x, "on_value")
    v = x.amax(1, keepdim=True)
    fv = f(v)
    if fv.shape != v.shape or fv.min() < 0 or fv.max() > 1 + 1e-6:
        raise ValueError("on_value: f must map (N, 1, H, W) values in [0, 1] to the same shape in [0, 1]")
    return (x * (fv / v.clamp(min=eps))).clamp(max=1.0) * (v > eps) + fv * (v <= eps)


def gamma_correction(v: Tensor, gamma: float = 2.2) -> Tensor:
    r""":math:`v^{1/\gamma}` for values in [0, 1] (any shape, same shape out); γ > 1 brightens the darks most.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive; got {gamma}")
    if v.min() < 0 or v.max() > 1:
        raise ValueError(f"gamma_correction: expected values in [0, 1]; got [{float(v.min()):.3g}, {float(v.max()):.3g}]")
    return v.pow(1.0 / gamma)


def equalize_hist(v: Tensor, nbins: int = 256) -> Tensor:
    r"""Histogram equalisation of each image's single channel v (N, 1, H, W) → (N, 1, H, W), batched.

    The cumulative histogram :math:`c(b)` (``nbins`` bins between each image's min and max, normalised to
    c(last) = 1) is the new value, interpolated linearly between bin centres: the map that makes the
    output histogram as flat as the bins allow (scikit-image's ``equalize_hist``). Computed in float64.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    _check_value_channel(v, "equalize_hist")
    n = v.shape[0]
    flat = v.reshape(n, -1).double()
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    width = (hi - lo).clamp(min=1e-12) / nbins
    b = ((flat - lo) / width).floor().clamp(0, nbins - 1).long()
    hist = torch.zeros(n, nbins, dtype=torch.float64, device=v.device).scatter_add_(1, b, torch.ones_like(flat))
    cdf = hist.cumsum(1)
    cdf = cdf / cdf[:, -1:]
    pos = ((flat - lo) / width - 0.5).clamp(0, nbins - 1)  # position in units of bin centres
    i0 = pos.floor().long().clamp(max=nbins - 2)
    t = pos - i0
    out = torch.gather(cdf, 1, i0) * (1 - t) + torch.gather(cdf, 1, i0 + 1) * t
    return out.view_as(v).to(v.dtype)


def clahe(v: Tensor, clip_limit: float = 0.01, kernel_size: int | None = None) -> Tensor:
    """Contrast-limited adaptive histogram equalisation of v (N, 1, H, W) → (N, 1, H, W).

    scikit-image's ``equalize_adapthist`` image by image, on the CPU; the result comes back on v's device and dtype.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    from skimage.exposure import equalize_adapthist

    _check_value_channel(v, "clahe")
    arr = v.detach().cpu().double().numpy()
    out = np.stack([equalize_adapthist(a[0], kernel_size=kernel_size, clip_limit=clip_limit)[None] for a in arr])
    return torch.from_numpy(out).to(v)


def lime_illumination(v: Tensor, alpha: float = 0.15, eps: float = 0.01, rtol: float = 1e-5) -> Tensor:
    r"""Refined illumination map T (N, 1, H, W) of initial estimates :math:`\hat T = v` (N, 1, H, W), the value channel.

    Minimises :math:`\|T-\hat T\|^2 + \alpha\sum_{d\in\{h,v\}}\sum_u W_d(u)\,(\partial_d T(u))^2` with
    :math:`W_d = 1/(|\partial_d \hat T| + \epsilon)`: smooth where the estimate is flat, free to jump at
    strong edges. This is LIME's sped-up surrogate of its ℓ1 objective with its weights W = 1 (LIME's
    "strategy I"): the factor :math:`1/(|\partial_d \hat T|+\epsilon)` is the surrogate's own. The normal
    equations :math:`(I + \alpha D^\top W D)T = \hat T` of all N images form one block-diagonal sparse system,
    solved by conjugate gradients on the CPU; T comes back on v's device and dtype.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    import scipy.sparse
    import scipy.sparse.linalg

    _check_value_channel(v, "lime_illumination")
    n, _, h, w = v.shape
    t_hat = v.detach().cpu().double().numpy()[:, 0]                      # (N, H, W)
    idx = np.arange(n * h * w).reshape(n, h, w)
    pairs = [(idx[:, :, :-1], idx[:, :, 1:], np.diff(t_hat, axis=2)),  # horizontal neighbours
             (idx[:, :-1, :], idx[:, 1:, :], np.diff(t_hat, axis=1))]  # vertical neighbours
    a = np.concatenate([p[0].ravel() for p in pairs])
    b = np.concatenate([p[1].ravel() for p in pairs])
    wt = np.concatenate([alpha / (np.abs(p[2]).ravel() + eps) for p in pairs])
    size = n * h * w
    # graph Laplacian D^T W D: +w on both diagonal entries, -w off the diagonal
    lap = scipy.sparse.coo_matrix((np.concatenate([-wt, -wt, wt, wt]),
                                   (np.concatenate([a, b, a, b]), np.concatenate([b, a, a, b]))), shape=(size, size)).tocsr()
    system = scipy.sparse.identity(size, format="csr") + lap
    jacobi = scipy.sparse.diags(1.0 / system.diagonal())
    t, info = scipy.sparse.linalg.cg(system, t_hat.ravel(), x0=t_hat.ravel(), rtol=rtol, maxiter=2000, M=jacobi)
    if info != 0:
        raise RuntimeError(f"lime_illumination: conjugate gradients did not converge (info={info})")
    return torch.from_numpy(t.reshape(n, 1, h, w)).to(v)


def lime(x: Tensor, gamma: float = 0.8, alpha: float = 0.15, floor: float = 0.05) -> Tensor:
    r"""LIME-style enhancement of x (N, 3, H, W) in [0, 1] → (N, 3, H, W): :math:`R = x / \max(T, \text{floor})^{\gamma}`.

    T is :func:`lime_illumination` of the value channel. Retinex view x = R ∘ T: dividing by the (gamma-softened)
    illumination brightens dark regions and leaves lit ones nearly unchanged. The output is kept in [0, 1]
    per pixel by :func:`on_value`'s rule (V' = min(1, V / T^γ)).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    _check_rgb(x, "lime")
    t = lime_illumination(x.amax(1, keepdim=True), alpha=alpha)
    t = t.clamp(min=floor).pow(gamma)
    return on_value(x, lambda v: (v / t).clamp(max=1.0))
