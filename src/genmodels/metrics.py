"""Metrics shared by several parts of the book.

* :func:`frechet_distance` between two feature clouds (the "F" of FID), and a small MNIST classifier
  whose penultimate layer gives a feature space that exists offline (:func:`classifier_frechet`),
  since Inception weights cannot be downloaded everywhere.

* :func:`bootstrap_interval`: a percentile bootstrap interval of any statistic of an evaluation set (Part 2).
* :func:`paired_difference`: the mean score difference of two methods on the same test images (and training
  seeds), with a bootstrap interval; an ordering is stated only when the interval excludes 0 (Part 4).
* :func:`nearest_distance`: each sample's distance to its nearest training image (Part 6's memorisation check).
* :func:`mardia`: Mardia's skewness and kurtosis of latent codes against N(0, I) (Part 2).
* :func:`psnr`, :func:`ssim`, :func:`niqe`: full-reference and no-reference image quality (Part 4), and
  :func:`hog_features`, :func:`hog_frechet`: a hand-made feature space for faces (Part 1); these live in
  :mod:`genmodels.metrics_image` and are re-exported here.

Notebooks: chapters/00_foundations/01_autoencoders.ipynb (Fréchet), chapters/02_sliced_autoencoders/
03_training_on_mnist.ipynb (Mardia), chapters/04_lowlight_enhancement/04_experiments.ipynb (image quality),
chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb (HOG).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from . import nets, runtime, train
from .history import NonFiniteValuesError


def _as_2d_float64(a: Tensor | np.ndarray, what: str) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, Tensor) else np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{what}: expected features of shape (N, D); got {a.shape}")
    if not np.isfinite(a).all():
        raise NonFiniteValuesError(f"{what}: features contain NaN or infinite values")
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
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
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
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
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
    """Hyper-parameters of :class:`MNISTClassifier`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

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

    def check_data(self, data: tuple[Tensor, Tensor]) -> None:
        """Training data (digits x (N, 1, 28, 28) in [0, 1], integer labels y (N,) in 0..9); once per ``fit``."""
        from .data.base import check_images

        if isinstance(data, Tensor) or len(data) != 2:
            raise ValueError("MNISTClassifier trains on (digits, labels)")
        x, y = data
        check_images(x, "MNISTClassifier: digits")
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"MNISTClassifier: expected digits (N, 1, 28, 28); got {tuple(x.shape)}")
        if y.is_floating_point() or y.ndim != 1 or int(y.min()) < 0 or int(y.max()) > 9:
            raise ValueError(f"MNISTClassifier: expected integer labels (N,) in 0..9; got {y.dtype} {tuple(y.shape)}")

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
    """Classifier features (N, 64) of images x (N, 1, 28, 28) in [0, 1].

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
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
    """A Fréchet distance² ``value`` on the full sets and a bootstrap percentile interval [low, high].

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

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


def bootstrap_interval(statistic: Callable[[Tensor], float], n: int, n_boot: int = 1000, level: float = 0.95,
                       generator: torch.Generator | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(idx)`` over ``n_boot`` resamples ``idx`` (n,) of range(n).

    ``statistic`` maps row indices (n,) (drawn with replacement) to a number, e.g. the mean test RecError of
    those images; the interval covers the evaluation set's sampling noise, not the training run's.

    Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
    """
    if n < 2 or n_boot < 2 or not 0 < level < 1:
        raise ValueError(f"bootstrap_interval: need n ≥ 2, n_boot ≥ 2 and 0 < level < 1; got {n}, {n_boot}, {level}")
    values = np.array([float(statistic(idx)) for idx in runtime.randint(0, n, (n_boot, n), generator=generator)])
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """Mean score difference ``value`` of method a minus method b, its bootstrap interval [low, high], and the
    number of test images and of seeds per method it came from.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """

    value: float
    low: float
    high: float
    images: int
    seeds: tuple[int, int]

    @property
    def separates(self) -> bool:
        """True when the interval excludes 0: the sign of the difference is supported by the data."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.value:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def paired_difference(a: Tensor | np.ndarray, b: Tensor | np.ndarray, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> PairedDifference:
    """Mean of a − b over test images, with a percentile bootstrap interval that resamples images and seeds.

    a, b: scores of two methods on the same N test images, (N,) for one training run or (S, N) for S training
    seeds (S may differ between a and b). Each of ``n_boot`` replicates draws N image indices with replacement,
    shared by a and b (the pairing: an image that is hard for both cancels), and for each method its own S seeds
    with replacement; the replicate's value is the mean of a's drawn scores minus the mean of b's. With one seed
    the interval covers the test images' sampling noise only, not the training run's luck.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    a2, b2 = (np.atleast_2d(np.asarray(t.detach().cpu() if isinstance(t, Tensor) else t, dtype=np.float64))
              for t in (a, b))
    if a2.ndim != 2 or b2.ndim != 2 or a2.shape[1] != b2.shape[1]:
        raise ValueError(f"paired_difference: a and b must be (N,) or (seeds, N) scores of the same N test images; "
                         f"got {np.shape(a)} and {np.shape(b)}")
    if a2.shape[1] < 2 or n_boot < 2 or not 0 < level < 1:
        raise ValueError(f"paired_difference: need N ≥ 2 images, n_boot ≥ 2 and 0 < level < 1; "
                         f"got N={a2.shape[1]}, n_boot={n_boot}, level={level}")
    if not (np.isfinite(a2).all() and np.isfinite(b2).all()):
        raise NonFiniteValuesError("paired_difference: the scores hold NaN or inf; score every image first")
    rng = np.random.default_rng(seed)
    n = a2.shape[1]
    images = rng.integers(0, n, (n_boot, n))

    def replicate_means(x: np.ndarray) -> np.ndarray:   # (n_boot,): seeds drawn per replicate, images shared
        seeds = rng.integers(0, len(x), (n_boot, len(x)))
        per_seed = x[seeds[:, :, None], images[:, None, :]]        # (n_boot, S, N)
        return per_seed.mean((1, 2))

    values = replicate_means(a2) - replicate_means(b2)
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return PairedDifference(float(a2.mean() - b2.mean()), float(low), float(high), n, (len(a2), len(b2)))


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


# ---------------------------------------------------------------- Part 6: memorisation check
def nearest_distance(x: Tensor, reference: Tensor, batch_size: int = 512) -> Tensor:
    """Euclidean distance (N,) from each of x (N, …) to its nearest neighbour in ``reference`` (M, …), flattened.

    The memorisation check of Part 6: a generated digit much nearer to a training digit than held-out
    digits are is a likely copy. Computed in float64 in blocks of ``batch_size`` rows of x.
    Notebook: chapters/06_diffusion/04_experiments.ipynb
    """
    for t, what in ((x, "x"), (reference, "reference")):
        if not isinstance(t, Tensor) or not t.is_floating_point() or t.ndim < 2 or len(t) == 0:
            raise ValueError(f"nearest_distance: {what} must be a non-empty float tensor (N, …); "
                             f"got {tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
    if x.shape[1:] != reference.shape[1:]:
        raise ValueError(f"nearest_distance: x's items {tuple(x.shape[1:])} and the reference's "
                         f"{tuple(reference.shape[1:])} must have the same shape")
    ref = reference.detach().flatten(1).to(torch.float64)
    ref_sq = (ref * ref).sum(1)
    out = []
    for i in range(0, len(x), batch_size):
        a = x[i:i + batch_size].detach().flatten(1).to(device=ref.device, dtype=torch.float64)
        d2 = (a * a).sum(1, keepdim=True) - 2 * a @ ref.T + ref_sq[None]   # ‖a − r‖² for every pair
        out.append(d2.min(1).values.clamp_min(0).sqrt())
    return torch.cat(out).cpu()


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


# Image metrics (PSNR, SSIM, NIQE, HOG) live in metrics_image.py; gm.metrics.X keeps working for each.
from .metrics_image import (  # noqa: E402,F401
    LUMA, aggd_fit, hog_features, hog_frechet, luma, niqe, niqe_model, psnr, ssim,
)
