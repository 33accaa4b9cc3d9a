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
* :func:`wgan_critic_loss`, :func:`wgan_g_loss`, :func:`gradient_penalty` — the Wasserstein GAN with
  gradient penalty, eq. (gan-wgan-gp), derived from Kantorovich–Rubinstein duality.
* :class:`ToyGAN` — MLP generator and discriminator/critic for points in the plane, trained either with
  the standard (non-saturating) loss or with WGAN-GP; :func:`ring_of_gaussians` and :func:`mode_coverage`
  are its data and its measure of dropped modes.

Notebook: chapters/01_vae_gan/02_gan.ipynb
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import nets, runtime, train
from .data.base import check_images


class NonFiniteScoresError(train.NonFiniteLossError, ValueError):
    """Discriminator outputs became NaN or infinite (a :class:`~genmodels.train.NonFiniteLossError`).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """


def _scores(t: Tensor, what: str) -> Tensor:
    """Flatten discriminator outputs (N,) or (N, 1) to (N,); refuse anything else or non-finite values."""
    if not isinstance(t, Tensor) or not t.is_floating_point():
        raise TypeError(f"{what}: expected a float tensor of discriminator outputs, got {type(t).__name__}")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] == 0:
        raise ValueError(f"{what}: expected shape (N,) or (N, 1) with N ≥ 1; got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise NonFiniteScoresError(f"{what}: discriminator outputs contain NaN or infinite values; expected finite "
                                   f"scores: lower the learning rates or check the data's range")
    return t


def minimax_d_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""Discriminator loss :math:`-\mathbb{E}_x\log D(x) - \mathbb{E}_z\log(1 - D(G(z)))` (a scalar).

    This is the binary cross-entropy with label 1 for real and 0 for fake samples; minimising it is
    maximising the GAN value function V(D, G). Inputs are logits, shape (N,) or (N, 1).
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    real = _scores(d_real_logits, "d_real_logits")
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def saturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Generator loss of the original minimax game, :math:`\mathbb{E}_z\log(1 - D(G(z)))` (to minimise).

    Its gradient w.r.t. the logit is :math:`-\sigma(\ell)`, which vanishes when D rejects the fakes
    (:math:`\sigma(\ell)\to 0`): the reason it "saturates" early in training.
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Non-saturating generator loss :math:`-\mathbb{E}_z\log D(G(z))` (a scalar).

    Same fixed point as the minimax game, but its gradient w.r.t. the logit is :math:`-(1-\sigma(\ell))`,
    which is largest exactly when D rejects the fakes.
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-fake).mean()


def lsgan_d_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    r"""Least-squares discriminator loss :math:`\tfrac12\mathbb{E}(D(x)-1)^2 + \tfrac12\mathbb{E}D(G(z))^2`.

    ``d_real``, ``d_fake``: raw discriminator outputs (no sigmoid), shape (N,) or (N, 1).
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    real = _scores(d_real, "d_real")
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def lsgan_g_loss(d_fake: Tensor) -> Tensor:
    r"""Least-squares generator loss :math:`\tfrac12\mathbb{E}(D(G(z))-1)^2` on raw outputs (N,) or (N, 1).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (fake - 1).pow(2).mean()


G_LOSSES = {"nonsaturating": nonsaturating_g_loss, "saturating": saturating_g_loss}


@dataclasses.dataclass
class GANConfig:
    """Hyper-parameters of :class:`GAN` (stored in every checkpoint).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """

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

    def __init__(self, config: GANConfig | None = None):
        super().__init__()
        c = self.config = config or GANConfig()
        self.generator = nets.ConvDecoder(c.latent_dim, c.channels, c.size, c.width, norm=True,
                                          out_activation=nn.Sigmoid())
        self.discriminator = nets.ConvEncoder(1, c.channels, c.size, c.width, norm=True)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {"g": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, 0.999)),
                "d": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, 0.999))}

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z ~ N(0, I), shape (n, d), on the model's device (drawn where ``generator`` lives, then moved)."""
        dev = next(self.parameters()).device
        return runtime.randn(n, self.config.latent_dim, generator=generator, device=dev)

    def forward(self, z: Tensor) -> Tensor:
        """G(z): latents (N, d) → images (N, C, S, S) in [0, 1]."""
        return self.generator(z)

    def training_step(self, batch: Tensor | tuple[Tensor, ...], optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """One D step on x (N, C, S, S) and fresh fakes, then one G step through the updated D.

        Returns the scalars ``loss_d`` (eq. gan-value, negated), ``loss_g`` (``config.g_loss``), and the
        batch means ``d_real`` = D(x), ``d_fake`` = D(G(z)) measured before D's update.
        """
        x = train.first(batch)
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
    def sample_from(self, z: Tensor) -> Tensor:
        """Images G(z) (N, C, S, S) in [0, 1] for latents z (N, d) on any device. Runs the generator in eval
        mode (batch-norm running statistics, which it does not update) and restores the previous mode."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(z.to(next(self.parameters()).device))
        finally:
            self.generator.train(was_training)

    def decode(self, z: Tensor) -> Tensor:
        """The same as :meth:`sample_from`: latents (N, d) → images (N, C, S, S) in [0, 1]."""
        return self.sample_from(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n images G(z), z ~ N(0, I): (n, C, S, S) in [0, 1], by :meth:`sample_from` (eval mode)."""
        return self.sample_from(self.noise(n, generator))

    @torch.no_grad()
    def validation_step(self, batch: Tensor | tuple[Tensor, ...]) -> dict[str, Tensor]:
        """``loss_d``, ``d_real``, ``d_fake`` on x (N, C, S, S) and fakes from a local generator (seed 0)."""
        x = train.first(batch)
        check_images(x, f"{type(self).__name__}.validation_step")
        d_real = self.discriminator(x)
        d_fake = self.discriminator(self.generator(self.noise(x.shape[0], torch.Generator().manual_seed(0))))
        return {"loss_d": minimax_d_loss(d_real, d_fake), "d_real": torch.sigmoid(d_real).mean(),
                "d_fake": torch.sigmoid(d_fake).mean()}


MNIST_CONFIG = GANConfig(latent_dim=32, width=32)
"""The GAN of chapters/01_vae_gan/02_gan.ipynb, reused by the faces chapter's comparison."""


def _grid_every(epochs: int, z_fixed: Tensor) -> train.Callback:
    def grid(model: GAN, epoch: int) -> dict[str, Tensor]:
        return {"grid": model.sample_from(z_fixed).cpu()}

    return train.every(max(1, epochs // 5), grid)


def fit_mnist(epochs: int, n_train: int | None = None, config: GANConfig | None = None, seed: int = 0,
              name: str = "gan-mnist") -> tuple[GAN, train.History]:
    """Train (or load from the cache) the chapter's MNIST GAN on grey-level ``mnist("train")[:n_train]``,
    batch 64. ``seed`` sets the initial weights and the batch order (the caller's global RNG is left as it
    was). Every ``max(1, epochs // 5)`` epochs the history records ``grid``: G at 16 fixed noise vectors
    (seed 0), (16, C, S, S), so every caller of the same run finds the same entries in the cache.
    Returns (model in eval mode, history).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    from .data import mnist

    config = config or dataclasses.replace(MNIST_CONFIG)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GAN(config)
    z_fixed = runtime.randn(16, config.latent_dim, generator=torch.Generator().manual_seed(0))
    history = train.fit(model, mnist("train").x[:n_train], epochs=epochs, batch_size=64, seed=seed,
                        callbacks=[_grid_every(epochs, z_fixed)], name=name)
    return model, history



# ---------------------------------------------------------------- Wasserstein GAN with gradient penalty
def wgan_critic_loss(f_real: Tensor, f_fake: Tensor) -> Tensor:
    r"""Critic loss :math:`\mathbb E f(G(z)) - \mathbb E f(x)` (a scalar) on raw critic outputs (N,) or (N, 1).

    Its negative is the critic's estimate of :math:`W_1(p_\text{data}, p_g)` in eq. (gan-kr) when f is
    1-Lipschitz. Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    return _scores(f_fake, "f_fake").mean() - _scores(f_real, "f_real").mean()


def wgan_g_loss(f_fake: Tensor) -> Tensor:
    r"""Generator loss :math:`-\mathbb E f(G(z))` on raw critic outputs (N,) or (N, 1).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    return -_scores(f_fake, "f_fake").mean()


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""Gradient penalty :math:`\mathbb E_{\hat x}(\lVert\nabla f(\hat x)\rVert_2 - 1)^2` of eq. (gan-wgan-gp), a scalar.

    :math:`\hat x = \epsilon x + (1-\epsilon)\tilde x` with one :math:`\epsilon\sim U[0, 1]` per pair of
    ``real`` x and ``fake`` x̃ (both (N, ...), same shape). Differentiable in the critic's parameters.
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps = runtime.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


# ---------------------------------------------------------------- a 2-D toy: the ring of 8 Gaussians
def ring_centres(modes: int = 8, radius: float = 2.0) -> Tensor:
    """The ``modes`` centres (modes, 2) evenly spaced on a circle of ``radius``.

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    angle = 2 * torch.pi * torch.arange(modes) / modes
    return radius * torch.stack([angle.cos(), angle.sin()], 1)


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None) -> Tensor:
    """n points (n, 2) from the equal mixture of N(c, std² I) over the :func:`ring_centres`.

    Synthetic on purpose: the chapter needs to know the modes to count which ones a GAN drops.
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    which = runtime.randint(0, modes, (n,), generator=generator)
    return ring_centres(modes, radius)[which] + std * runtime.randn(n, 2, generator=generator)


def mode_coverage(x: Tensor, centres: Tensor, std: float, min_share: float = 0.25) -> dict[str, Tensor | float | int]:
    """Which modes the points x (n, 2) cover: ``counts`` (modes,) of points within 3·std of each centre,
    ``covered`` = modes holding at least ``min_share`` of their fair share n/modes, and ``quality`` =
    the fraction of points within 3·std of some centre.
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    if x.ndim != 2 or x.shape[1] != centres.shape[1]:
        raise ValueError(f"expected points (n, {centres.shape[1]}); got {tuple(x.shape)}")
    dist = torch.cdist(x.float().cpu(), centres.float())
    near = dist.min(1)
    counts = torch.bincount(near.indices[near.values < 3 * std], minlength=len(centres))
    return {"counts": counts, "covered": int((counts >= min_share * len(x) / len(centres)).sum()),
            "quality": float((near.values < 3 * std).float().mean())}


TOY_LOSSES = ("standard", "wgan-gp")


@dataclasses.dataclass
class ToyGANConfig:
    """Hyper-parameters of :class:`ToyGAN` (stored in every checkpoint).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """

    loss: str = "standard"   # "standard": eq. (gan-value) with the non-saturating G loss; "wgan-gp": eq. (gan-wgan-gp)
    latent_dim: int = 2
    width: int = 128          # hidden units of both MLPs (three hidden layers each)
    n_critic: int = 1         # D/critic updates per G update; each uses its own slice of the batch
    gp_weight: float = 10.0   # λ of the gradient penalty (wgan-gp only)
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)

    def __post_init__(self) -> None:
        if self.loss not in TOY_LOSSES:
            raise ValueError(f"loss must be one of {TOY_LOSSES}; got {self.loss!r}")
        if self.n_critic < 1 or self.gp_weight < 0:
            raise ValueError(f"n_critic must be ≥ 1 and gp_weight ≥ 0; got {self.n_critic}, {self.gp_weight}")


class ToyGAN(train.Model):
    """MLP generator z (N, latent_dim) → points (N, 2) and discriminator/critic points → scores (N, 1).

    ``training_step`` splits the batch into ``n_critic`` slices, updates D (or the critic) once per slice
    on fresh fakes, then G once. Records ``loss_d``, ``loss_g`` and, for WGAN-GP, ``gp`` and
    ``w_estimate`` = E f(x) − E f(G(z)) (the critic's estimate of W₁ on the last slice).
    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """

    def __init__(self, config: ToyGANConfig | None = None):
        super().__init__()
        c = self.config = config or ToyGANConfig()
        self.generator = nets.mlp([c.latent_dim, c.width, c.width, c.width, 2])
        self.discriminator = nets.mlp([2, c.width, c.width, c.width, 1])

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {"g": torch.optim.Adam(self.generator.parameters(), lr=c.lr, betas=tuple(c.betas)),
                "d": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr, betas=tuple(c.betas))}

    def check_data(self, data: Tensor | tuple[Tensor, ...]) -> None:
        """Training points x (N, 2), finite (points have no range); checked once per ``fit``."""
        x = train.first(data)
        if x.ndim != 2 or x.shape[1] != 2 or not x.is_floating_point():
            raise ValueError(f"ToyGAN: expected float points of shape (N, 2); got {x.dtype} {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise train.NonFiniteValuesError("ToyGAN: the training points contain NaN or inf")

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n points G(z), z ~ N(0, I): (n, 2), on the model's device, without gradients."""
        dev = next(self.parameters()).device
        with torch.no_grad():
            return self.generator(runtime.randn(n, self.config.latent_dim, generator=generator, device=dev))

    def _d_loss(self, x: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        f_real, f_fake = self.discriminator(x), self.discriminator(fake)
        if self.config.loss == "standard":
            return minimax_d_loss(f_real, f_fake), {}
        gp = gradient_penalty(self.discriminator, x, fake)
        w = -wgan_critic_loss(f_real, f_fake)
        return -w + self.config.gp_weight * gp, {"gp": gp.detach(), "w_estimate": w.detach()}

    def training_step(self, batch: Tensor | tuple[Tensor, ...], optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """``n_critic`` D/critic updates on slices of the batch x (N, 2), then one G update."""
        x = train.first(batch)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"ToyGAN.training_step: expected points of shape (N, 2); got {tuple(x.shape)}")
        extra: dict[str, Tensor] = {}
        for part in x.chunk(self.config.n_critic):
            fake = self.generator(runtime.randn(len(part), self.config.latent_dim, device=x.device)).detach()
            loss_d, extra = self._d_loss(part, fake)
            optimizers["d"].zero_grad(set_to_none=True)
            loss_d.backward()
            optimizers["d"].step()
        f_fake = self.discriminator(self.generator(runtime.randn(len(part), self.config.latent_dim, device=x.device)))
        loss_g = nonsaturating_g_loss(f_fake) if self.config.loss == "standard" else wgan_g_loss(f_fake)
        optimizers["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        optimizers["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), **extra}
