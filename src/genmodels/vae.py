r"""Variational autoencoders: the evidence lower bound, its closed-form KL term, the importance-weighted
bound, and a convolutional VAE.

Notation (chapters/01_vae_gan/01_vae.ipynb): data :math:`x` (N, C, H, W), latent :math:`z` (N, d),
prior :math:`p(z)=\mathcal N(0, I)`, encoder :math:`q_\phi(z\mid x)=\mathcal N(\mu, \operatorname{diag}\sigma^2)`
with ``logvar`` :math:`=\log\sigma^2`, decoder :math:`p_\theta(x\mid z)` (Bernoulli with logits, or
Gaussian with fixed standard deviation). All log densities are in nats and summed over pixels.

Notebook: chapters/01_vae_gan/01_vae.ipynb
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import nets, runtime, train
from .data.base import check_images

LIKELIHOODS = ("bernoulli", "gaussian")


def _check_moments(mu: Tensor, logvar: Tensor) -> None:
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must both have shape (N, d); got {tuple(mu.shape)} and {tuple(logvar.shape)}")


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""KL(N(mu, diag exp(logvar)) ‖ N(0, I)) per sample, eq. (vae-kl):
    :math:`\tfrac12\sum_j(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)`.

    mu, logvar: (N, d). Returns (N,).
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    return kl_per_dimension(mu, logvar).sum(1)


def kl_per_dimension(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""The terms of eq. (vae-kl) before the sum, :math:`\tfrac12(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)`.

    mu, logvar: (N, d). Returns (N, d); averaged over the data, a column near zero is a latent dimension
    whose posterior has collapsed onto the prior.
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    _check_moments(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def active_units(mu: Tensor, threshold: float = 0.01) -> tuple[Tensor, int]:
    r"""Burda et al.'s activity of each latent dimension, :math:`A_j = \operatorname{Var}_x\,\mathbb E_{q(z|x)}[z_j]`.

    mu: encoder means (N, d) over a data set, N ≥ 2. Returns (A (d,), the number of dimensions with
    :math:`A_j > ` ``threshold``). The variance is the unbiased one (divisor N − 1).
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    if mu.ndim != 2 or len(mu) < 2:
        raise ValueError(f"mu must be encoder means of shape (N, d) with N ≥ 2; got {tuple(mu.shape)}")
    activity = mu.var(0)
    return activity, int((activity > threshold).sum())


def gradient_estimates(f, mu: Tensor, logvar: Tensor, n: int,
                       generator: torch.Generator | None = None) -> dict[str, Tensor]:
    r"""n independent single-sample estimates of :math:`\nabla_\mu\,\mathbb E_{z\sim\mathcal N(\mu,\operatorname{diag}\sigma^2)}[f(z)]`.

    ``f`` maps z (n, N, d) to values (n, N) (one per row; no mixing across rows or samples); mu, logvar (N, d).
    Returns (n, N, d) tensors: ``pathwise`` :math:`\nabla_z f(\mu+\sigma\varepsilon)` (eq. vae-reparam),
    ``score`` :math:`f(z)\,(z-\mu)/\sigma^2` (REINFORCE), and ``score_baseline``, the same with the
    leave-one-out mean of the other n − 1 values of f subtracted (still unbiased; needs n ≥ 2).
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 (the baseline leaves one sample out); got {n}")
    mu, logvar = mu.detach(), logvar.detach()
    z = reparameterize(mu, logvar, n, generator).requires_grad_(True)          # (n, N, d)
    with torch.enable_grad():
        values = f(z)
        if values.shape != z.shape[:2]:
            raise ValueError(f"f must map z {tuple(z.shape)} to one value per sample {tuple(z.shape[:2])}; "
                             f"got {tuple(values.shape)}")
        (pathwise,) = torch.autograd.grad(values.sum(), z)
    z, values = z.detach(), values.detach()
    score_fn = (z - mu) / logvar.exp()                                        # ∇_μ log q(z)
    baseline = (values.sum(0, keepdim=True) - values) / (n - 1)
    return {"pathwise": pathwise, "score": values[..., None] * score_fn,
            "score_baseline": (values - baseline)[..., None] * score_fn}


def reparameterize(mu: Tensor, logvar: Tensor, k: int | None = None, generator: torch.Generator | None = None) -> Tensor:
    r""":math:`z = \mu + \sigma\odot\varepsilon`, :math:`\varepsilon\sim\mathcal N(0, I)`, eq. (vae-reparam).

    mu, logvar: (N, d). Returns (N, d), or (k, N, d) if ``k`` is given. The noise is drawn where
    ``generator`` lives (a CPU generator works with CUDA tensors) and moved to ``mu``'s device.
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    _check_moments(mu, logvar)
    shape = mu.shape if k is None else (k, *mu.shape)
    eps = runtime.randn(*shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    r""":math:`\log p(x\mid z)=\sum_i x_i\log\pi_i + (1-x_i)\log(1-\pi_i)`, :math:`\pi=\sigma(\text{logits})`.

    logits, x: (..., C, H, W) of the same shape. Returns the sum over the last three axes, shape (...).
    A normalised log-probability when x is binary; for grey levels it is the usual cross-entropy loss.
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    if logits.shape != x.shape:
        raise ValueError(f"logits and x must have the same shape; got {tuple(logits.shape)} and {tuple(x.shape)}")
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(-3).sum(-1)


def gaussian_log_likelihood(mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    r""":math:`\log\mathcal N(x; \text{mean}, \sigma^2 I)` summed over the last three axes (C, H, W); shape (...).

    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    if mean.shape != x.shape:
        raise ValueError(f"mean and x must have the same shape; got {tuple(mean.shape)} and {tuple(x.shape)}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive; got {sigma}")
    d = x.shape[-3:].numel()
    sq = (x - mean).pow(2).flatten(-3).sum(-1)
    return -0.5 * sq / sigma**2 - d * (math.log(sigma) + 0.5 * math.log(2 * math.pi))


def log_normal(z: Tensor, mu: Tensor | float = 0.0, logvar: Tensor | float = 0.0) -> Tensor:
    r"""Log density of :math:`\mathcal N(\mu, \operatorname{diag} e^{\text{logvar}})` at z (..., d), summed over
    the last axis: shape (...). ``mu`` and ``logvar`` broadcast against z (defaults: the prior N(0, I)).
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    logvar = torch.as_tensor(logvar, dtype=z.dtype, device=z.device)
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


@dataclasses.dataclass
class VAEConfig:
    """Hyper-parameters of :class:`VAE` (stored in every checkpoint).

    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """

    latent_dim: int = 16
    channels: int = 1
    size: int = 28          # 28 or 64 (the sizes gm.nets supports)
    width: int = 32         # channels of the first conv layer, doubled per level
    likelihood: str = "bernoulli"   # "gaussian": mean sigmoid(decoder output) in [0, 1], std ``sigma``
    sigma: float = 0.1      # decoder standard deviation when likelihood == "gaussian"
    beta: float = 1.0       # weight of the KL term in the training loss (1: the ELBO; see the exercises)
    lr: float = 1e-3

    def __post_init__(self) -> None:
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {self.likelihood!r}")
        if not self.sigma > 0 or not self.beta >= 0:
            raise ValueError(f"sigma must be positive and beta non-negative; got sigma={self.sigma}, beta={self.beta}")


class VAE(train.Model):
    """Convolutional VAE: ``ConvEncoder`` → (mu, logvar) ∈ (N, d)², ``ConvDecoder`` → logits (N, C, S, S).

    ``decode(z)`` gives images E[x | z] in [0, 1]; ``decode_logits(z)`` the decoder's raw output (Bernoulli
    logits, or the Gaussian mean before its sigmoid). ``loss(x)`` is the β-weighted negative ELBO per image
    (mean over the batch), with entries ``rec`` (mean :math:`-\\log p(x|z)`) and ``kl``; ``validation_step``
    adds ``nelbo`` (β = 1 whatever ``beta`` is), drawing its noise from a local generator.
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """

    def __init__(self, config: VAEConfig | None = None):
        super().__init__()
        c = self.config = config or VAEConfig()
        self.encoder = nets.ConvEncoder(2 * c.latent_dim, c.channels, c.size, c.width)
        self.decoder = nets.ConvDecoder(c.latent_dim, c.channels, c.size, c.width)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (N, C, S, S) in [0, 1] → mu, logvar, each (N, d)."""
        check_images(x, f"{type(self).__name__}.encode")
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: Tensor) -> Tensor:
        """Latents (N, d) on any device → the decoder's raw output (N, C, S, S) on the model's device:
        Bernoulli logits, or the Gaussian mean before its sigmoid. :meth:`log_likelihood` reads it."""
        return self.decoder(z.to(next(self.parameters()).device))

    def decode(self, z: Tensor) -> Tensor:
        """Images E[x | z] (N, C, S, S) in [0, 1] for latents z (N, d): the sigmoid of the decoder output
        (the Bernoulli probabilities, or the Gaussian mean, which the model keeps in [0, 1])."""
        return torch.sigmoid(self.decode_logits(z))

    def mean(self, z: Tensor) -> Tensor:
        """E[x | z], the same as :meth:`decode` (kept as the name the text uses)."""
        return self.decode(z)

    def log_likelihood(self, out: Tensor, x: Tensor) -> Tensor:
        """log p(x | z) per image from the raw decoder output ``out`` of :meth:`decode_logits` (..., C, S, S): (...)."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(out, x)
        return gaussian_log_likelihood(torch.sigmoid(out), x, self.config.sigma)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """One reparameterised pass on x (N, C, S, S): (raw decoder output (N, C, S, S), mu, logvar (N, d))."""
        mu, logvar = self.encode(x)
        return self.decode_logits(reparameterize(mu, logvar, generator=generator)), mu, logvar

    def elbo_terms(self, x: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Single-sample estimates per image (N,): ``rec`` = log p(x|z), ``kl``, ``elbo`` = rec − kl (eq. vae-elbo)."""
        out, mu, logvar = self(x, generator)
        rec = self.log_likelihood(out, x)
        kl = gaussian_kl(mu, logvar)
        return {"rec": rec, "kl": kl, "elbo": rec - kl}

    def loss(self, batch: Tensor | tuple[Tensor, ...], generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Batch means: ``loss`` = rec + β·kl (β = ``config.beta``), ``rec`` = −log p(x|z), ``kl`` (eq. vae-kl)."""
        x = train.first(batch)
        t = self.elbo_terms(x, generator)
        rec, kl = -t["rec"].mean(), t["kl"].mean()
        return {"loss": rec + self.config.beta * kl, "rec": rec, "kl": kl}

    @torch.no_grad()
    def validation_step(self, batch: Tensor | tuple[Tensor, ...]) -> dict[str, Tensor]:
        """``loss``, ``rec``, ``kl`` and ``nelbo`` = rec + kl, with noise from a local generator (seed 0):
        evaluating during ``fit`` leaves the global RNG, and so the training trajectory, untouched."""
        out = self.loss(batch, torch.Generator().manual_seed(0))
        out["nelbo"] = out["rec"] + out["kl"]
        return out

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n images E[x | z], z ~ p(z): (n, C, S, S) in [0, 1], on the model's device."""
        dev = next(self.parameters()).device
        return self.decode(runtime.randn(n, self.config.latent_dim, generator=generator, device=dev))

    @torch.no_grad()
    def sample_pixels(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws x ~ p_θ(x | z), z ~ p(z): binary images for the Bernoulli decoder (N, C, S, S); for the
        Gaussian decoder the raw draws mean + σε, which can leave [0, 1] (they are not clipped)."""
        mean = self.sample(n, generator)
        if self.config.likelihood == "bernoulli":
            return (runtime.rand(*mean.shape, generator=generator, device=mean.device) < mean).to(mean.dtype)
        return mean + self.config.sigma * runtime.randn(*mean.shape, generator=generator, device=mean.device)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """E[x | z = mu(x)]: the decoder's mean at the encoder's mean, (N, C, S, S)."""
        mu, _ = self.encode(x)
        return self.mean(mu)


@torch.no_grad()
def iwae_bound(model: VAE, x: Tensor, k: int, chunk: int = 4096, generator: torch.Generator | None = None) -> Tensor:
    r"""Importance-weighted bound per image, eq. (vae-iwae):
    :math:`\log\frac1k\sum_{i=1}^k \frac{p_\theta(x\mid z_i)\,p(z_i)}{q_\phi(z_i\mid x)}`, :math:`z_i\sim q_\phi(z\mid x)`.

    x: (N, C, S, S). Returns (N,) in nats. k = 1 is the single-sample ELBO; the bound rises towards
    :math:`\log p(x)` as k grows. Decodes in chunks of at most ``chunk`` images.
    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    if k < 1:
        raise ValueError(f"k must be a positive number of importance samples; got {k}")
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, k, generator)                     # (k, N, d)
    log_q = log_normal(z, mu, logvar)                                 # (k, N)
    log_prior = log_normal(z)                                         # (k, N)
    flat = z.reshape(-1, z.shape[-1])                                 # row r is image r mod N
    image = torch.arange(len(flat), device=x.device) % x.shape[0]     # never materialise k copies of x
    log_px = torch.cat([model.log_likelihood(model.decode_logits(flat[i:i + chunk]), x[image[i:i + chunk]])
                        for i in range(0, len(flat), chunk)]).view(k, -1)
    log_w = log_px + log_prior - log_q
    return torch.logsumexp(log_w, 0) - math.log(k)


def binarize(x: Tensor, threshold: float = 0.5) -> Tensor:
    """Static binarisation ``x > threshold`` as float (N, C, H, W): makes the Bernoulli likelihood a probability.

    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    check_images(x, "binarize")
    return (x > threshold).float()


MNIST_CONFIG = VAEConfig(latent_dim=16, width=32, lr=1e-3)
"""The VAE of chapters/01_vae_gan/01_vae.ipynb, reused by the later chapters of the part."""


def fit_mnist(epochs: int, n_train: int | None = None, config: VAEConfig | None = None,
              name: str = "vae-mnist", seed: int = 0, binarized: bool = True) -> tuple[VAE, train.History]:
    """Train (or load from the cache) the chapter's MNIST VAE: binarised ``mnist("train")[:n_train]``,
    batch 128, the binarised test split as ``val_data`` (``binarized=False``: the grey digits, with the
    Bernoulli cross-entropy as a loss, as the GAN sees them; give it its own ``name``); ``seed`` sets both the initial weights and the
    batch order (the caller's global RNG is left as it was). Returns (model in eval mode, history).

    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    from .data import mnist

    x_train, x_test = mnist("train").x[:n_train], mnist("test").x
    if binarized:
        x_train, x_test = binarize(x_train), binarize(x_test)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = VAE(config or dataclasses.replace(MNIST_CONFIG))
    history = train.fit(model, x_train, epochs=epochs, batch_size=128, val_data=x_test, seed=seed, name=name)
    return model, history
