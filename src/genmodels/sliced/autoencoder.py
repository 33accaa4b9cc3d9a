"""The sliced generative autoencoder: RecError plus a sliced normality penalty on the codes.

Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
"""
from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from .. import nets, runtime, train
from ..data.base import check_images
from .distances import METHODS, normality_index


REC_REDUCTIONS = ("sum", "mean")
"""How RecError reduces the squared pixel errors of an image: summed (the paper's Table 1) or averaged."""


@dataclasses.dataclass
class SlicedConfig:
    """Hyper-parameters of :class:`SlicedAutoencoder`; checked when built.

    The defaults follow the paper's MNIST setting where it gives one (a 20-D latent, MLPs); the paper gives no
    layer widths, so ``hidden`` and the sigmoid output are this book's choice. ``arch="conv"`` builds the
    CIFAR-10/CelebA-style model from ``gm.nets.ConvEncoder``/``ConvDecoder`` (square 28×28 or 64×64 images,
    ``width`` channels in the first layer). ``method=None`` trains a plain autoencoder. ``rec_reduction``:
    one of :data:`REC_REDUCTIONS`; ``"mean"`` divides RecError by C·H·W, which under the log cost acts like a
    weight C·H·W on log d.

    Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
    """

    method: str | None = "scfwae"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    arch: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    width: int = 32
    latent_dim: int = 20
    n_projections: int = 100
    log_cost: bool = True
    lam: float = 1.0
    lr: float = 1e-3
    rec_reduction: str = "sum"

    def __post_init__(self):
        if self.method is not None and self.method not in METHODS:
            raise ValueError(f"SlicedConfig.method must be one of {METHODS} or None; got {self.method!r}")
        if self.arch not in ("mlp", "conv"):
            raise ValueError(f"SlicedConfig.arch must be 'mlp' or 'conv'; got {self.arch!r}")
        if self.rec_reduction not in REC_REDUCTIONS:
            raise ValueError(f"SlicedConfig.rec_reduction must be one of {REC_REDUCTIONS}; got {self.rec_reduction!r}")
        if not self.lam > 0:
            raise ValueError(f"SlicedConfig.lam must be positive; got {self.lam}")
        if self.latent_dim < 1 or self.n_projections < 1:
            raise ValueError(f"SlicedConfig: latent_dim and n_projections must be ≥ 1; got {self.latent_dim}, "
                             f"{self.n_projections}")
        self.image_shape, self.hidden = tuple(self.image_shape), tuple(self.hidden)
        c, h, w = self.image_shape
        if self.arch == "conv" and (h != w or h not in (28, 64)):
            raise ValueError(f"SlicedConfig: arch='conv' needs square 28×28 or 64×64 images; got image_shape {self.image_shape}")


class SlicedAutoencoder(train.Model):
    r"""Autoencoder for images (N, C, H, W) in [0, 1] with a sliced normality penalty on the codes.

    cost = RecError + log(λ · d(z))  with ``log_cost=True`` (λ only adds the constant log λ; the gradient of the
    penalty is ∇d / d, the linear cost with the adaptive weight 1/d), or cost = RecError + λ · d(z) otherwise;
    RecError = batch mean of ‖x − D(E(x))‖² summed over pixels (``rec_reduction="sum"``) or averaged.
    ``method=None`` trains a plain autoencoder (RecError only), the paper's AE baseline.

    Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
    """

    def __init__(self, config: SlicedConfig | None = None):
        super().__init__()
        config = config or SlicedConfig()
        self.config = config
        self.image_shape = config.image_shape
        c, h, w = self.image_shape
        if config.arch == "mlp":
            sizes = [c * h * w, *config.hidden, config.latent_dim]
            self.encoder = nets.mlp(sizes)
            self.decoder = nets.mlp(sizes[::-1], out_activation=nn.Sigmoid())
        else:
            self.encoder = nets.ConvEncoder(config.latent_dim, c, h, config.width)
            self.decoder = nets.ConvDecoder(config.latent_dim, c, h, config.width, out_activation=nn.Sigmoid())

    def encode(self, x: Tensor) -> Tensor:
        """Images x (N, C, H, W) in [0, 1] → codes z (N, latent_dim).

        Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
        """
        if not isinstance(x, Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"SlicedAutoencoder: expected images of shape (N, {', '.join(map(str, self.image_shape))}); "
                             f"got {shape}")
        check_images(x, "SlicedAutoencoder.encode")
        return self.encoder(x.flatten(1) if self.config.arch == "mlp" else x)

    def decode(self, z: Tensor) -> Tensor:
        """Codes z (N, latent_dim), on any device → images (N, C, H, W) in [0, 1] on the model's device.

        Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
        """
        if not isinstance(z, Tensor) or z.ndim != 2 or z.shape[1] != self.config.latent_dim:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"SlicedAutoencoder: expected codes of shape (N, {self.config.latent_dim}); got {shape}")
        return self.decoder(z.to(next(self.parameters()).device)).view(-1, *self.image_shape)

    def forward(self, x: Tensor) -> Tensor:
        """Reconstructions D(E(x)) (N, C, H, W) of images x (N, C, H, W) in [0, 1]."""
        return self.decode(self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n images (n, C, H, W) decoded from prior draws z ~ N(0, I) (from ``generator``), in eval mode.

        Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
        """
        was_training = self.training
        self.eval()
        try:
            z = runtime.randn(n, self.config.latent_dim, generator=generator, device=next(self.parameters()).device)
            return self.decode(z)
        finally:
            self.train(was_training)

    def rec_error(self, x: Tensor, x_hat: Tensor) -> Tensor:
        """(N,) squared errors of reconstructions x_hat of x (both (N, C, H, W)), summed or averaged over pixels."""
        per_pixel = ((x_hat - x) ** 2).flatten(1)
        return per_pixel.sum(1) if self.config.rec_reduction == "sum" else per_pixel.mean(1)

    def loss(self, batch: Tensor | tuple[Tensor, ...]) -> dict[str, Tensor]:
        """Scalars of eq. (sliced-mnist-cost) on a batch of images (N, C, H, W): loss, rec (RecError), index (d).

        Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
        """
        x = train.first(batch)
        z = self.encode(x)
        rec = self.rec_error(x, self.decode(z)).mean()
        c = self.config
        if c.method is None:
            return {"loss": rec, "rec": rec}
        d = normality_index(z, c.method, c.n_projections)
        penalty = torch.log(c.lam * d) if c.log_cost else c.lam * d
        return {"loss": rec + penalty, "rec": rec, "index": d}
