"""Metrics shared by several parts of the book.

* :func:`frechet_distance` between two feature clouds (the "F" of FID), and a small MNIST classifier
  whose penultimate layer gives a feature space that exists offline (:func:`classifier_frechet`),
  since Inception weights cannot be downloaded everywhere.

Parts add their metrics at the end of this file (Mardia's tests, PSNR/SSIM/NIQE ...).

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
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


def gaussian_frechet(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""Fréchet (2-Wasserstein) distance² between N(mu1, cov1) and N(mu2, cov2):

    :math:`\|\mu_1-\mu_2\|^2 + \operatorname{tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big)`.
    ``sqrtm`` may return tiny imaginary parts from round-off; they are dropped (large ones raise).
    """
    covmean = scipy.linalg.sqrtm(cov1 @ cov2)
    if not np.isfinite(covmean).all():  # singular product: regularise as is customary
        offset = np.eye(cov1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    if np.iscomplexobj(covmean):
        imag = np.abs(covmean.imag).max()
        if imag > 1e-3 * max(1.0, np.abs(covmean.real).max()):
            raise ValueError(f"sqrtm of the covariance product has a large imaginary part ({imag:.3g})")
        covmean = covmean.real
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))
    return max(value, 0.0) if value > -1e-8 * (1 + abs(value)) else value


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
    width: int = 32
    features: int = 64
    lr: float = 2e-3


class MNISTClassifier(train.Model):
    """A small conv net for 28×28 digits; ``features(x)`` (N, 64) is the space Fréchet distances use."""

    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = config
        self.body = nn.Sequential(nets.ConvEncoder(config.features, 1, 28, config.width), nn.ReLU())
        self.head = nn.Linear(config.features, 10)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def loss(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch
        logits = self(x)
        return {"loss": nn.functional.cross_entropy(logits, y),
                "accuracy": (logits.argmax(1) == y).float().mean()}


_CLASSIFIER: MNISTClassifier | None = None


def mnist_classifier(epochs: int | None = None) -> MNISTClassifier:
    """The feature network for MNIST metrics: trained once on the training split, then cached on disk.

    Its test accuracy is stored as ``clf.test_accuracy``.
    """
    global _CLASSIFIER
    if _CLASSIFIER is None:
        epochs = epochs or runtime.by_budget({"smoke": 2, "default": 8, "full": 10})
        train_set, test_set = _digits("train"), _digits("test")
        runtime.seed(0)
        clf = MNISTClassifier()
        train.fit(clf, (train_set.x, train_set.y), epochs=epochs, batch_size=128, name="mnist-classifier")
        clf.test_accuracy = train.evaluate(clf, (test_set.x.to(runtime.device()), test_set.y.to(runtime.device())))["accuracy"]
        _CLASSIFIER = clf.eval()
    return _CLASSIFIER


def _digits(split: str):
    from .data import mnist

    return mnist(split)


@torch.no_grad()
def mnist_features(x: Tensor, batch_size: int = 1000) -> Tensor:
    """Classifier features (N, 64) of images x (N, 1, 28, 28) in [0, 1]."""
    from .data.base import check_images

    check_images(x, "mnist_features")
    if x.shape[1:] != (1, 28, 28):
        raise ValueError(f"mnist_features: expected (N, 1, 28, 28) digits; got {tuple(x.shape)}")
    clf = mnist_classifier()
    dev = next(clf.parameters()).device
    return torch.cat([clf.features(x[i : i + batch_size].to(dev)).cpu() for i in range(0, len(x), batch_size)])


def classifier_frechet(x: Tensor, y: Tensor) -> float:
    """Fréchet distance between two sets of digit images in the MNIST classifier's feature space."""
    return frechet_distance(mnist_features(x), mnist_features(y))
