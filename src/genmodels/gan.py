r"""Generative adversarial networks: the losses of the GAN game and a DCGAN-style model.

Losses take the discriminator's *logits* (pre-sigmoid scores, shape (N,) or (N, 1)) so that
:math:`\log D = \log\sigma(\ell)` is computed stably with ``softplus``:
:math:`\log\sigma(\ell) = -\operatorname{softplus}(-\ell)` and
:math:`\log(1-\sigma(\ell)) = -\operatorname{softplus}(\ell)`.

* :func:`minimax_d_loss` — the discriminator's side of the minimax game, eq. (gan-value):
  :math:`-\mathbb{E}\log D(x) - \mathbb{E}\log(1 - D(G(z)))`.
* :func:`saturating_g_loss` — the generator's side of the same game, :math:`\mathbb{E}\log(1 - D(G(z)))`
  (to be minimised; its gradient vanishes when D confidently rejects the fakes).
* :func:`nonsaturating_g_loss` — the heuristic used in practice, :math:`-\mathbb{E}\log D(G(z))`.
* :func:`lsgan_d_loss`, :func:`lsgan_g_loss` — least-squares GAN with targets 1 (real) and 0 (fake),
  on raw discriminator outputs (no sigmoid).
* :class:`GAN` — a DCGAN-style generator and discriminator built from ``gm.nets``, trained by
  ``gm.train.fit`` with two optimizers ``{"g", "d"}``: each step updates D once, then G once.

Notebook: chapters/01_vae_gan/02_gan.ipynb
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import nets, train
from .data.base import check_images


def _scores(t: Tensor, what: str) -> Tensor:
    """Flatten discriminator outputs (N,) or (N, 1) to (N,); refuse anything else or non-finite values."""
    if not isinstance(t, Tensor) or not t.is_floating_point():
        raise TypeError(f"{what}: expected a float tensor of discriminator outputs, got {type(t).__name__}")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] == 0:
        raise ValueError(f"{what}: expected shape (N,) or (N, 1) with N ≥ 1; got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{what}: discriminator outputs contain NaN or infinite values")
    return t


def minimax_d_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""Discriminator loss :math:`-\mathbb{E}_x\log D(x) - \mathbb{E}_z\log(1 - D(G(z)))` (a scalar).

    This is the binary cross-entropy with label 1 for real and 0 for fake samples; minimising it is
    maximising the GAN value function V(D, G). Inputs are logits, shape (N,) or (N, 1).
    """
    real = _scores(d_real_logits, "d_real_logits")
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def saturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Generator loss of the original minimax game, :math:`\mathbb{E}_z\log(1 - D(G(z)))` (to minimise).

    Its gradient w.r.t. the logit is :math:`-\sigma(\ell)`, which vanishes when D rejects the fakes
    (:math:`\sigma(\ell)\to 0`): the reason it "saturates" early in training.
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Non-saturating generator loss :math:`-\mathbb{E}_z\log D(G(z))` (a scalar).

    Same fixed point as the minimax game, but its gradient w.r.t. the logit is :math:`-(1-\sigma(\ell))`,
    which is largest exactly when D rejects the fakes.
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-fake).mean()


def lsgan_d_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    r"""Least-squares discriminator loss :math:`\tfrac12\mathbb{E}(D(x)-1)^2 + \tfrac12\mathbb{E}D(G(z))^2`.

    ``d_real``, ``d_fake``: raw discriminator outputs (no sigmoid), shape (N,) or (N, 1).
    """
    real = _scores(d_real, "d_real")
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def lsgan_g_loss(d_fake: Tensor) -> Tensor:
    r"""Least-squares generator loss :math:`\tfrac12\mathbb{E}(D(G(z))-1)^2` on raw outputs (N,) or (N, 1)."""
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (fake - 1).pow(2).mean()


G_LOSSES = {"nonsaturating": nonsaturating_g_loss, "saturating": saturating_g_loss}


@dataclasses.dataclass
class GANConfig:
    """Hyper-parameters of :class:`GAN` (stored in every checkpoint)."""

    latent_dim: int = 32
    channels: int = 1
    size: int = 28           # 28 or 64 (the sizes gm.nets supports)
    width: int = 32          # first-layer channels of D (and last hidden layer of G), doubled per level
    g_loss: str = "nonsaturating"   # or "saturating" (the minimax generator loss)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5       # Adam's first-moment decay, 0.5 as in DCGAN

    def __post_init__(self) -> None:
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {sorted(G_LOSSES)}; got {self.g_loss!r}")


class GAN(train.Model):
    """DCGAN-style GAN. ``generator``: z (N, d) → images (N, C, S, S) in [0, 1] (sigmoid output);
    ``discriminator``: images → logits (N, 1) (strided convs, batch norm, LeakyReLU).

    ``training_step`` records ``loss_d``, ``loss_g`` and the batch means ``d_real`` = D(x), ``d_fake`` = D(G(z))
    (probabilities, measured during the discriminator's update).
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """

    def __init__(self, config: GANConfig = GANConfig()):
        super().__init__()
        c = self.config = config
        self.generator = nets.ConvDecoder(c.latent_dim, c.channels, c.size, c.width, norm=True,
                                          out_activation=nn.Sigmoid())
        self.discriminator = nets.ConvEncoder(1, c.channels, c.size, c.width, norm=True)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {"g": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, 0.999)),
                "d": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, 0.999))}

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z ~ N(0, I), shape (n, d), on the model's device."""
        dev = next(self.parameters()).device
        return torch.randn(n, self.config.latent_dim, generator=generator).to(dev)

    def forward(self, z: Tensor) -> Tensor:
        """G(z): latents (N, d) → images (N, C, S, S) in [0, 1]."""
        return self.generator(z)

    def training_step(self, batch: Tensor | tuple[Tensor, ...], optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        x = batch if isinstance(batch, Tensor) else batch[0]
        check_images(x, f"{type(self).__name__}.training_step")
        n = x.shape[0]
        # discriminator: ascend V(D, G) = E log D(x) + E log(1 - D(G(z))), G fixed (fakes detached)
        fake = self.generator(self.noise(n))
        d_real, d_fake = self.discriminator(x), self.discriminator(fake.detach())
        loss_d = minimax_d_loss(d_real, d_fake)
        optimizers["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        optimizers["d"].step()
        # generator: descend its loss through the updated D; only G's optimizer steps
        loss_g = G_LOSSES[self.config.g_loss](self.discriminator(fake))
        optimizers["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        optimizers["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n images G(z), z ~ N(0, I): (n, C, S, S) in [0, 1] (eval mode: batch-norm running statistics)."""
        return self.generator(self.noise(n, generator))

    @torch.no_grad()
    def validation_step(self, batch: Tensor | tuple[Tensor, ...]) -> dict[str, Tensor]:
        x = batch if isinstance(batch, Tensor) else batch[0]
        d_real = self.discriminator(x)
        d_fake = self.discriminator(self.generator(self.noise(x.shape[0])))
        return {"loss_d": minimax_d_loss(d_real, d_fake), "d_real": torch.sigmoid(d_real).mean(),
                "d_fake": torch.sigmoid(d_fake).mean()}


MNIST_CONFIG = GANConfig(latent_dim=32, width=32)
"""The GAN of chapters/01_vae_gan/02_gan.ipynb, reused by the faces chapter's comparison."""


def fit_mnist(epochs: int, n_train: int | None = None, config: GANConfig = MNIST_CONFIG, callbacks=(),
              name: str = "gan-mnist") -> tuple[GAN, train.History]:
    """Train (or load from the cache) the chapter's MNIST GAN on grey-level ``mnist("train")[:n_train]``,
    batch 64, seed 0. Returns (model in eval mode, history).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    from .data import mnist

    model = GAN(config)
    history = train.fit(model, mnist("train").x[:n_train], epochs=epochs, batch_size=64, seed=0,
                        callbacks=callbacks, name=name)
    return model, history


def train_default() -> dict[str, float]:
    """``python -m genmodels train gan``: the chapter's MNIST GAN at the current budget (shares its cache)."""
    from . import metrics, runtime
    from .data import mnist

    epochs = runtime.by_budget({"smoke": 1, "default": 20, "full": 60})
    model, history = fit_mnist(epochs, runtime.by_budget({"smoke": 512, "default": None, "full": None}))
    real = mnist("test").x
    fake = model.sample(len(real), generator=torch.Generator().manual_seed(0)).cpu()
    return {"epochs": epochs, "train_seconds": round(history.seconds, 1),
            "last_d_real": round(history.epochs[-1]["mean_d_real"], 3),
            "last_d_fake": round(history.epochs[-1]["mean_d_fake"], 3),
            "classifier_frechet_to_test": round(metrics.classifier_frechet(fake, real), 2)}
