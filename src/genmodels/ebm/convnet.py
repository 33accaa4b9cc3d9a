"""Energy-based models: the generative ConvNet of Xie, Lu, Zhu and Wu (2016).

The model tilts a Gaussian white-noise reference q(I) = N(0, σ²·1) by a ConvNet score f(I; w):

    p(I; w) = exp(f(I; w)) q(I) / Z(w).

With ReLU units f is piecewise linear, f(I) = α_{w,δ} + ⟨I, B_{w,δ}⟩ on the piece of image space where the
binary activation pattern δ(I; w) is constant, so p is piecewise Gaussian with means σ²·B_{w,δ}
(Theorem 1). This module holds

* :func:`langevin`: the sampler of Eq. (19), batched over chains;
* :class:`Prototype`: the one-layer model f(I) = Σ_k h(⟨I, w_k⟩ + b_k) of the prototype chapter;
* :class:`GenerativeConvNet`: the multi-layer score, its top-down :meth:`~GenerativeConvNet.basis`
  B_{w,δ(I)} (the deconvolution of Eq. 16) and the learning step of Algorithm 1 that ``gm.train.fit`` runs,
  with persistent chains, contrastive divergence (chains start at the data) or short-run chains from noise;
* :func:`center` / :func:`to_pixels`: between pixels in [0, 1] and the model's mean-subtracted images;
* :func:`cd_and_reconstruction_gradients`: the two sides of Proposition 3;
* :func:`grid_2d` / :func:`plot_prototype_2d`: exact answers and pictures for two-pixel toy models.

Shapes: images I are (N, C, H, W) for the ConvNet and (N, D) for the prototype model.

Notebooks: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb (the model, its gradient),
02_hidden_autoencoder.ipynb (piecewise Gaussian, basis), 03_langevin_textures.ipynb (Langevin, Algorithm 1),
04_contrastive_divergence.ipynb (contrastive divergence, Proposition 3).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from . import train
from .data.base import check_images

ScoreFn = Callable[[Tensor], Tensor]


def _check_finite(x: Tensor, what: str) -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{what}: expected a float tensor; got {type(x).__name__ if not isinstance(x, Tensor) else x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what}: expected finite values; got NaN or inf")


def langevin(score_fn: ScoreFn, x: Tensor, n_steps: int, step_size: float, sigma: float = 1.0,
             noise: bool = True) -> Tensor:
    """Run ``n_steps`` of Langevin dynamics for p(I) ∝ exp(f(I)) N(I; 0, σ²·1) from ``x``; return the last state.

    Each step is Eq. (19) with a general reference σ (ε = ``step_size``):

        I ← I + ε²/2 · (∂f/∂I − I/σ²) + ε·Z,   Z ~ N(0, 1).

    score_fn: maps images (N, ...) to f per image, shape (N,). Parameters of ``score_fn`` get no gradient.
    x: starting states (N, ...), one chain per row; all chains move together (no loop over chains).
    noise: ``False`` drops ε·Z, leaving gradient ascent on log p (the attractor dynamics of Prop. 2).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    if n_steps < 0 or int(n_steps) != n_steps:
        raise ValueError(f"n_steps must be a non-negative integer; got {n_steps!r}")
    if not (step_size > 0 and math.isfinite(step_size)):
        raise ValueError(f"step_size ε must be positive and finite; got {step_size!r}")
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma (the reference standard deviation) must be positive and finite; got {sigma!r}")
    _check_finite(x, "langevin: starting states x")
    eps = float(step_size)
    with torch.enable_grad():
        x = x.detach().clone()
        for _ in range(int(n_steps)):
            x.requires_grad_(True)
            f = score_fn(x)
            if f.shape != (x.shape[0],):
                raise ValueError(f"score_fn must return one value per chain, shape ({x.shape[0]},); got {tuple(f.shape)}")
            if f.requires_grad:
                (grad,) = torch.autograd.grad(f.sum(), x, allow_unused=True)
            else:  # a score that does not depend on I (f ≡ const): no tilt
                grad = None
            grad = torch.zeros_like(x) if grad is None else grad
            with torch.no_grad():
                x = x + 0.5 * eps**2 * (grad - x / sigma**2)
                if noise:
                    x = x + eps * torch.randn_like(x)
    return x.detach()


def log_density(score_fn: ScoreFn, x: Tensor, sigma: float = 1.0) -> Tensor:
    """Unnormalised log p(I) = f(I) − ‖I‖²/(2σ²) per image, shape (N,) (log Z(w) left out)."""
    return score_fn(x) - x.flatten(1).pow(2).sum(1) / (2 * sigma**2)


# ---------------------------------------------------------------------------------------------------------
# The prototype model (Definition 4)


class Prototype(nn.Module):
    """f(I) = Σ_k h(⟨I, w_k⟩ + b_k) with ReLU h, for images flattened to vectors I (N, D).

    weight: (K, D), the filters w_k (and the basis functions of the Gaussian pieces' means); bias: (K,).

    Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
    """

    def __init__(self, weight: Tensor, bias: Tensor):
        super().__init__()
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(f"expected weight (K, D) and bias (K,); got {tuple(weight.shape)} and {tuple(bias.shape)}")
        self.weight = nn.Parameter(weight.detach().clone().float())
        self.bias = nn.Parameter(bias.detach().clone().float())

    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.weight.shape[1]:
            raise ValueError(f"Prototype: expected images as vectors (N, {self.weight.shape[1]}); got {tuple(x.shape)}")

    def responses(self, x: Tensor) -> Tensor:
        """Filter responses r_k = ⟨I, w_k⟩ + b_k, shape (N, K)."""
        self._check(x)
        return x @ self.weight.T + self.bias

    def forward(self, x: Tensor) -> Tensor:
        """The score f(I), shape (N,)."""
        return F.relu(self.responses(x)).sum(1)

    def pattern(self, x: Tensor) -> Tensor:
        """Binary activation pattern δ_k(I) = 1(⟨I, w_k⟩ + b_k > 0), shape (N, K), float."""
        return (self.responses(x) > 0).float()

    def basis(self, x: Tensor) -> Tensor:
        """B_{w,δ(I)} = Σ_k δ_k(I) w_k, shape (N, D): the top-down reconstruction of I from its pattern."""
        return self.pattern(x) @ self.weight

    def alpha(self, x: Tensor) -> Tensor:
        """α_{w,δ(I)} = Σ_k δ_k(I) b_k, shape (N,), so that f(I) = α + ⟨I, B⟩ on I's piece."""
        return self.pattern(x) @ self.bias


# ---------------------------------------------------------------------------------------------------------
# The generative ConvNet


def center(x: Tensor, scale: float = 255.0) -> tuple[Tensor, Tensor]:
    """Images x (N, C, H, W) in [0, 1] → (I, mean): I = scale·(x − mean) with the per-channel mean pixel (C,).

    As in the paper's experiments, the model lives on intensities in [0, 255] (``scale=255``) with the mean
    subtracted, so that the reference σ = 1 is small next to the images' contrast.
    """
    check_images(x, "center: images")
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale!r}")
    mean = x.mean(dim=(0, 2, 3))
    return scale * (x - mean.view(1, -1, 1, 1)), mean


def to_pixels(images: Tensor, mean: Tensor, scale: float = 255.0) -> tuple[Tensor, float]:
    """Model images I (N, C, H, W) → pixels x = I/scale + mean in [0, 1] for display, and the fraction clipped.

    Samples of the model can leave [0, 1]; they are clipped here, only for display, and the returned
    fraction says how many pixels were.
    """
    _check_finite(images, "to_pixels: images")
    if images.ndim != 4 or mean.shape != (images.shape[1],):
        raise ValueError(f"to_pixels: expected images (N, C, H, W) and mean (C,); got {tuple(images.shape)}, {tuple(mean.shape)}")
    x = images / scale + mean.to(images.device).view(1, -1, 1, 1)
    outside = float(((x < 0) | (x > 1)).float().mean())
    return x.clamp(0, 1), outside


@dataclasses.dataclass
class ConvNetConfig:
    """Hyper-parameters of a generative ConvNet and of its learning (Algorithm 1).

    layers: (filters, kernel, stride) per convolutional layer, bottom to top; padding is kernel // 2.
    top: ``"sum"`` → f = Σ_{k,x} of the top layer's ReLU responses (Eq. 6, textures); ``"linear"`` → one
        fully connected filter over the whole top layer (aligned object patterns).
    init: where the synthesis chains of each learning iteration start: ``"persistent"`` (the chains kept from
        the last iteration, Algorithm 1), ``"data"`` (the observed images: contrastive divergence) or
        ``"noise"`` (fresh draws from q: short-run chains).
    """

    channels: int = 3
    size: int = 64
    layers: tuple[tuple[int, int, int], ...] = ((24, 5, 2), (32, 3, 2), (32, 3, 1))
    top: str = "sum"
    sigma: float = 1.0          # reference standard deviation σ of q(I)
    step_size: float = 1.0      # Langevin ε (σ units: ε = σ)
    n_steps: int = 10           # Langevin steps L per learning iteration
    n_chains: int = 16          # synthesised images M̃ (persistent chains)
    init: str = "persistent"
    lr: float = 1e-3            # Adam step on the parameters (the paper's η uses plain gradient ascent)

    def __post_init__(self) -> None:
        self.layers = tuple(tuple(int(v) for v in layer) for layer in self.layers)
        if self.top not in ("sum", "linear"):
            raise ValueError(f"top must be 'sum' or 'linear'; got {self.top!r}")
        if self.init not in ("persistent", "data", "noise"):
            raise ValueError(f"init must be 'persistent', 'data' or 'noise'; got {self.init!r}")
        if not self.layers or any(len(layer) != 3 or min(layer) < 1 or layer[1] % 2 == 0 for layer in self.layers):
            raise ValueError(f"layers must be (filters, odd kernel, stride) triples of positive integers; got {self.layers}")
        if self.sigma <= 0 or self.step_size <= 0 or self.n_steps < 0 or self.n_chains < 1:
            raise ValueError("sigma and step_size must be positive, n_steps ≥ 0 and n_chains ≥ 1")


class GenerativeConvNet(train.Model):
    """The generative ConvNet p(I; w) ∝ exp(f(I; w)) N(I; 0, σ²·1) with a ReLU ConvNet score f.

    Images I are mean-subtracted (see :func:`center`), shape (N, channels, size, size).
    The buffer ``chains`` (n_chains, channels, size, size) holds the persistent synthesis chains, starting at
    0 as in Algorithm 1; it is part of the state dict, so checkpoints carry it.

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """

    def __init__(self, config: ConvNetConfig = ConvNetConfig()):
        super().__init__()
        self.config = config
        c, s = config.channels, config.size
        self.convs = nn.ModuleList()
        self._sizes = [s]
        for filters, kernel, stride in config.layers:
            self.convs.append(nn.Conv2d(c, filters, kernel, stride=stride, padding=kernel // 2))
            s = (s + 2 * (kernel // 2) - kernel) // stride + 1
            if s < 1:
                raise ValueError(f"layers {config.layers} shrink a {config.size}×{config.size} image to nothing")
            self._sizes.append(s)
            c = filters
        self.head = nn.Linear(c * s * s, 1) if config.top == "linear" else None
        self.register_buffer("chains", torch.zeros(config.n_chains, config.channels, config.size, config.size))

    def _check(self, x: Tensor) -> None:
        cfg = self.config
        if x.ndim != 4 or tuple(x.shape[1:]) != (cfg.channels, cfg.size, cfg.size):
            raise ValueError(f"{type(self).__name__}: expected images (N, {cfg.channels}, {cfg.size}, {cfg.size}); "
                             f"got {tuple(x.shape)}")

    def _bottom_up(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Top-layer responses and the activation patterns δ^(l) of every layer (bottom to top)."""
        self._check(x)
        patterns = []
        for conv in self.convs:
            r = conv(x)
            patterns.append(r > 0)
            x = F.relu(r)
        return x, patterns

    def forward(self, x: Tensor) -> Tensor:
        """The score f(I; w) per image, shape (N,)."""
        top, _ = self._bottom_up(x)
        if self.head is not None:
            return self.head(top.flatten(1)).squeeze(1)
        return top.flatten(1).sum(1)

    def pattern(self, x: Tensor) -> list[Tensor]:
        """The binary activation pattern δ(I; w): one bool tensor (N, N_l, H_l, W_l) per layer (Eq. 13)."""
        with torch.no_grad():
            return self._bottom_up(x)[1]

    @torch.no_grad()
    def basis(self, x: Tensor) -> Tensor:
        """B_{w,δ(I)} by the top-down deconvolution of Eq. (16), shape (N, C, H, W).

        B^(L) is all ones (``top="sum"``) or the head's weights (``"linear"``); then layer by layer
        B^(l−1) = Σ_{k,x} B_k^(l)(x) δ_{k,x}^(l) w_{k,x}^(l), a transposed convolution with the same filters.
        On the piece of I, f(J) = α + ⟨J, B⟩, so B equals ∂f/∂I (the tests check it against autograd).
        """
        top, patterns = self._bottom_up(x)
        if self.head is not None:
            b = self.head.weight.view(1, *top.shape[1:]).expand_as(top)
        else:
            b = torch.ones_like(top)
        for l in range(len(self.convs) - 1, -1, -1):
            conv, delta = self.convs[l], patterns[l]
            size_below = self._sizes[l]
            k, stride, pad = conv.kernel_size[0], conv.stride[0], conv.padding[0]
            extra = size_below - ((delta.shape[-1] - 1) * stride - 2 * pad + k)
            b = F.conv_transpose2d(b * delta, conv.weight, stride=stride, padding=pad, output_padding=extra)
        return b

    def alpha(self, x: Tensor) -> Tensor:
        """α_{w,δ(I)} = f(I) − ⟨I, B_{w,δ(I)}⟩, shape (N,)."""
        with torch.no_grad():
            return self(x) - (x * self.basis(x)).flatten(1).sum(1)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The mean σ²·B_{w,δ(I)} of the Gaussian piece that holds I (the auto-encoding I → δ → σ²B), (N, C, H, W)."""
        return self.config.sigma**2 * self.basis(x)

    def sample(self, x: Tensor, n_steps: int | None = None, noise: bool = True) -> Tensor:
        """Langevin chains from ``x`` under this model's σ and ε (``n_steps`` defaults to the config's L)."""
        cfg = self.config
        self._check(x)
        return langevin(self, x, cfg.n_steps if n_steps is None else n_steps, cfg.step_size, cfg.sigma, noise)

    def _start(self, observed: Tensor) -> Tensor:
        cfg = self.config
        if cfg.init == "persistent":
            return self.chains
        if cfg.init == "data":
            return observed
        return cfg.sigma * torch.randn_like(self.chains)

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """One learning iteration of Algorithm 1: L Langevin steps, then w ← w + η(H_obs − H_syn) (here by Adam).

        The ascent direction H_obs − H_syn = ∂/∂w [mean f(I_obs) − mean f(I_syn)] (Eq. 21) is the gradient of
        ``gap``; the optimiser minimises −gap. Records f on the observed and synthesised images, and the gap.
        """
        observed = batch if isinstance(batch, Tensor) else batch[0]
        self._check(observed)
        synthesized = self.sample(self._start(observed))
        if self.config.init == "persistent":
            self.chains.copy_(synthesized)
        (opt,) = optimizers.values()
        f_obs, f_syn = self(observed).mean(), self(synthesized).mean()
        gap = f_obs - f_syn
        opt.zero_grad(set_to_none=True)
        (-gap).backward()
        opt.step()
        out = {"f_obs": f_obs.detach(), "f_syn": f_syn.detach(), "gap": gap.detach()}
        if self.config.init == "data":
            out["reconstruction"] = (observed - self.reconstruct(observed)).pow(2).flatten(1).sum(1).mean()
        return out

    @torch.no_grad()
    def validation_step(self, batch) -> dict[str, Tensor]:
        observed = batch if isinstance(batch, Tensor) else batch[0]
        err = (observed - self.reconstruct(observed)).pow(2).flatten(1).sum(1).mean()
        return {"f": self(observed).mean(), "reconstruction": err}


def flat_grad(scalar: Tensor, params: Sequence[Tensor], create_graph: bool = False) -> Tensor:
    """∂scalar/∂w for the listed parameters, concatenated into one vector (zeros where unused)."""
    grads = torch.autograd.grad(scalar, list(params), create_graph=create_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for g, p in zip(grads, params)])


def _patterns(model: nn.Module, x: Tensor) -> list[Tensor]:
    out = model.pattern(x)
    return out if isinstance(out, list) else [out]


def cd_and_reconstruction_gradients(model: nn.Module, observed: Tensor, step_size: float, sigma: float = 1.0,
                                    n_noise: int = 1000, noise: bool = True) -> dict[str, Tensor]:
    """The two gradient vectors of Proposition 3 for one image, over the filter weights (biases left out).

    model: a :class:`GenerativeConvNet` or :class:`Prototype`; observed: one image, shape (1, ...).
    One Langevin step from I_obs (``n_noise`` draws in one batch, or with ``noise=False`` the expected state
    E[I_syn] = I_obs + ε²/2 (B − I_obs/σ²)) gives I_syn, and

    * ``cd``: the mean over draws of ∂f(I_obs)/∂w − ∂f(I_syn)/∂w, the one-step CD gradient;
    * ``reconstruction``: −∂/∂w ‖I_obs − σ²B_{w,δ}‖²/2 with δ = δ(I_obs) held fixed;
    * ``unchanged``: the fraction of draws whose activation pattern equals that of I_obs.

    Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
    """
    if observed.ndim < 2 or observed.shape[0] != 1:
        raise ValueError(f"expected one image with a leading batch dimension of 1; got {tuple(observed.shape)}")
    params = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    if noise:
        synthesized = langevin(model, observed.expand(n_noise, *observed.shape[1:]), 1, step_size, sigma)
    else:
        synthesized = langevin(model, observed, 1, step_size, sigma, noise=False)
    kept = torch.ones(synthesized.shape[0], dtype=torch.bool, device=observed.device)
    for d_syn, d_obs in zip(_patterns(model, synthesized), _patterns(model, observed)):
        kept &= (d_syn == d_obs).flatten(1).all(1)
    cd = flat_grad(model(observed).sum() - model(synthesized).mean(), params)
    # B_{w,δ} as a function of w with the pattern of I_obs fixed: autograd of f at I_obs, kept differentiable.
    x = observed.detach().clone().requires_grad_(True)
    (b,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    rec = flat_grad(-0.5 * (observed - sigma**2 * b).pow(2).sum(), params)
    return {"cd": cd, "reconstruction": rec, "unchanged": kept.float().mean()}


def cosine(a: Tensor, b: Tensor) -> float:
    """Cosine of the angle between two vectors."""
    return float(F.cosine_similarity(a.flatten(), b.flatten(), dim=0))


# ---------------------------------------------------------------------------------------------------------
# Two-dimensional toys: exact answers by numerical integration, and the picture of the pieces


def grid_2d(score_fn: ScoreFn, sigma: float = 1.0, lim: float = 4.0, n: int = 401) -> dict[str, Tensor]:
    """p(I) ∝ exp(f(I)) N(I; 0, σ²·1) for I ∈ R² on an n×n grid over [−lim, lim]², normalised numerically.

    Returns ``points`` (n², 2), ``density`` (n², the normalised p at each point), ``log_z`` (log Z(w) as a
    Riemann sum over the grid; ``lim`` must cover the mass), ``mean`` (2,) and ``cov`` (2, 2).

    Notebook: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb
    """
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    points = torch.stack([gx.flatten(), gy.flatten()], 1)
    cell = float(axis[1] - axis[0]) ** 2
    with torch.no_grad():
        log_q = -points.pow(2).sum(1) / (2 * sigma**2) - math.log(2 * math.pi * sigma**2)
        log_unnorm = score_fn(points.float()).double() + log_q
    log_z = torch.logsumexp(log_unnorm, 0) + math.log(cell)
    density = torch.exp(log_unnorm - log_z)
    weights = density * cell
    mean = weights @ points
    centred = points - mean
    cov = (centred * weights[:, None]).T @ centred
    return {"points": points, "density": density, "log_z": log_z, "mean": mean, "cov": cov, "n": torch.tensor(n)}


def plot_prototype_2d(model: Prototype, sigma: float = 1.0, lim: float = 4.0, n: int = 301, ax=None,
                      title: str | None = None):
    """The prototype model on R²: log-density, the K lines ⟨I, w_k⟩ + b_k = 0, and every piece's mean σ²B_δ.

    A mean drawn as a filled star lies inside its own piece (a local mode, Proposition 2); a hollow circle
    lies outside it. Returns the figure.

    Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
    """
    import matplotlib.pyplot as plt

    if model.weight.shape[1] != 2:
        raise ValueError(f"plot_prototype_2d needs filters in R² (K, 2); got {tuple(model.weight.shape)}")
    fig, ax = (plt.subplots(figsize=(5.6, 4.8)) if ax is None else (ax.figure, ax))
    g = grid_2d(model, sigma, lim, n)
    img = ax.imshow(g["density"].view(n, n).log().numpy(), extent=(-lim, lim, -lim, lim), origin="lower",
                    cmap="viridis", vmin=float(g["density"].log().max()) - 12)
    fig.colorbar(img, ax=ax, label="log p(I)")
    t = torch.linspace(-lim, lim, 2)
    w, b = model.weight.detach(), model.bias.detach()
    for k in range(w.shape[0]):
        if abs(float(w[k, 1])) > abs(float(w[k, 0])):
            ax.plot(t, -(b[k] + w[k, 0] * t) / w[k, 1], "w-", lw=1)
        else:
            ax.plot(-(b[k] + w[k, 1] * t) / w[k, 0], t, "w-", lw=1)
    with torch.no_grad():
        patterns = torch.unique(model.pattern(g["points"].float()), dim=0)
        for delta in patterns:
            mean = sigma**2 * delta @ w
            inside = torch.equal(model.pattern(mean[None])[0], delta)
            ax.plot(float(mean[0]), float(mean[1]), "*" if inside else "o", ms=13 if inside else 8,
                    mfc="orange" if inside else "none", mec="orange" if inside else "white")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$I_1$", ylabel="$I_2$",
           title=title or "log-density, hyperplanes and piece means")
    return fig
