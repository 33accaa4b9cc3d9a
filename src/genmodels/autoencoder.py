"""The deterministic autoencoder of the first chapter: x → z = e(x) → x̂ = d(z).

Trained by minimising the reconstruction loss (binary cross-entropy of Bernoulli pixels, or squared error
of Gaussian pixels; both derived in the notebook). It compresses well but gives no way to *sample*, which
is what the VAE chapter adds.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from . import nets, train
from .data.base import check_images


@dataclasses.dataclass
class AutoencoderConfig:
    """Hyper-parameters of :class:`Autoencoder` (stored in every checkpoint).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    latent_dim: int = 2
    width: int = 32          # channels of the first conv layer (doubles each level)
    channels: int = 1
    size: int = 28
    likelihood: str = "bernoulli"  # "bernoulli" → binary cross-entropy, "gaussian" → squared error
    lr: float = 2e-3

    def __post_init__(self) -> None:
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian'; got {self.likelihood!r}")


def reconstruction_loss(logits: Tensor, x: Tensor, likelihood: str = "bernoulli") -> Tensor:
    """Per-image negative log-likelihood −log p(x | x̂) up to a constant, summed over pixels: shape (N,).

    logits, x: (N, C, H, W) of the same shape. bernoulli: Σ BCE(σ(logits), x) in nats, eq. (ae-bce-logits);
    gaussian (unit variance): ½ Σ (σ(logits) − x)², eq. (ae-gauss-nll) without its constant.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if logits.shape != x.shape:
        raise ValueError(f"logits and x must have the same shape; got {tuple(logits.shape)} and {tuple(x.shape)}")
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    if likelihood == "gaussian":
        return 0.5 * (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)
    raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian'; got {likelihood!r}")


class Autoencoder(train.Model):
    """Conv encoder e: (N, C, S, S) → (N, latent_dim); conv decoder d: (N, latent_dim) → logits (N, C, S, S).

    ``decode`` gives images σ(d(z)); ``decode_logits`` the logits d(z). ``loss`` is the batch mean of
    :func:`reconstruction_loss` under ``config.likelihood``.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    def __init__(self, config: AutoencoderConfig | None = None):
        super().__init__()
        config = self.config = config or AutoencoderConfig()
        self.encoder = nets.ConvEncoder(config.latent_dim, config.channels, config.size, config.width)
        self.decoder = nets.ConvDecoder(config.latent_dim, config.channels, config.size, config.width)

    def encode(self, x: Tensor) -> Tensor:
        """Latent codes z = e(x) of images x (N, C, S, S) in [0, 1]; shape (N, latent_dim)."""
        return self.encoder(check_images(x, "Autoencoder.encode"))

    def decode_logits(self, z: Tensor) -> Tensor:
        """Logits d(z) (N, C, S, S) on the model's device for codes z (N, latent_dim) on any device."""
        return self.decoder(z.to(next(self.parameters()).device))

    def decode(self, z: Tensor) -> Tensor:
        """Images x̂ = σ(d(z)) in [0, 1], shape (N, C, S, S), for codes z (N, latent_dim) on any device."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: Tensor) -> Tensor:
        """Reconstructions σ(d(e(x))) (N, C, S, S) of images x (N, C, S, S) in [0, 1]."""
        return self.decode(self.encode(x))

    def loss(self, batch: Tensor | tuple[Tensor, ...]) -> dict[str, Tensor]:
        """``loss``: the batch mean of the per-image reconstruction loss (nats for bernoulli), eq. (ae-risk)."""
        x = train.first(batch)
        rec = reconstruction_loss(self.decode_logits(self.encode(x)), x, self.config.likelihood).mean()
        return {"loss": rec}

    def encode_all(self, x: Tensor, batch_size: int = 1000) -> Tensor:
        """Codes (N, latent_dim) of many images x (N, C, S, S), batched, returned on the CPU."""
        return train.apply_batched(self.encode, x, next(self.parameters()).device, batch_size)
