"""The generative ConvNet: a ReLU ConvNet score, its top-down basis B_{w,δ}, and the learning step of Algorithm 1.

Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .. import runtime, train
from ..data.base import check_images
from .cd import pattern_agreement
from .sampling import check_finite, check_step, langevin

INITS = ("persistent", "data", "noise", "buffer")


def center(x: Tensor, scale: float = 255.0) -> tuple[Tensor, Tensor]:
    """Images x (N, C, H, W) in [0, 1] → (I, mean): I = scale·(x − mean) with the per-channel mean pixel (C,).

    As in the paper's experiments, the model lives on intensities in [0, 255] (``scale=255``) with the mean
    subtracted, so that the reference σ = 1 is small next to the images' contrast.

    Notebook: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb
    """
    check_images(x, "center: images")
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale!r}")
    mean = x.mean(dim=(0, 2, 3))
    return scale * (x - mean.view(1, -1, 1, 1)), mean


def to_pixels(images: Tensor, mean: Tensor, scale: float = 255.0) -> tuple[Tensor, float]:
    """Model images I (N, C, H, W) → pixels x = I/scale + mean in [0, 1] for display, and the fraction clipped.

    Samples of the model can leave [0, 1]; they are clipped here, only for display, and the returned
    fraction says how many pixels were. Returns pixels (N, C, H, W) and a float in [0, 1].

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    check_finite(images, "to_pixels: images")
    if images.ndim != 4 or mean.shape != (images.shape[1],):
        raise ValueError(f"to_pixels: expected images (N, C, H, W) and mean (C,); got {tuple(images.shape)}, {tuple(mean.shape)}")
    x = images / scale + mean.to(images.device).view(1, -1, 1, 1)
    outside = float(((x < 0) | (x > 1)).float().mean())
    return x.clamp(0, 1), outside


@dataclasses.dataclass
class ConvNetConfig:
    """Hyper-parameters of a generative ConvNet and of its learning (Algorithm 1).

    layers: (filters, kernel, stride) per convolutional layer, bottom to top; padding is kernel // 2.
    top: ``"sum"`` → f = Σ_{k,x} of the top layer's ReLU responses (Eq. ebm-conv-score, textures);
        ``"linear"`` → one fully connected filter over the whole top layer (aligned object patterns).
    init: where the synthesis chains of each learning iteration start:

        * ``"persistent"``: the chains kept from the last iteration (Algorithm 1);
        * ``"data"``: the observed images (contrastive divergence);
        * ``"noise"``: fresh draws σZ from the reference q (short-run chains);
        * ``"buffer"``: ``n_chains`` images drawn with replacement from a replay buffer of ``buffer_size``
          past syntheses, each replaced with probability ``restart`` by a fresh draw from q; the syntheses
          go back into the buffer where they came from (the replay buffer of Du & Mordatch, 2019).
    regulariser: weight λ of the energy regulariser λ·(mean f(I_obs)² + mean f(I_syn)²) added to the loss.
    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """

    channels: int = 3
    size: int = 64
    layers: tuple[tuple[int, int, int], ...] = ((24, 5, 2), (32, 3, 2), (32, 3, 1))
    top: str = "sum"
    sigma: float = 1.0          # reference standard deviation σ of q(I)
    step_size: float = 1.0      # Langevin ε (in the model's units; ε = σ by default)
    n_steps: int = 10           # Langevin steps L per learning iteration
    n_chains: int = 16          # synthesised images M̃ per iteration
    init: str = "persistent"
    lr: float = 1e-3            # Adam step on the parameters (the paper's η uses plain gradient ascent)
    buffer_size: int = 128      # replay buffer length (init="buffer" only)
    restart: float = 0.05       # probability that a chain drawn from the buffer restarts from q
    regulariser: float = 0.0    # λ of the energy regulariser

    def __post_init__(self) -> None:
        self.layers = tuple(tuple(int(v) for v in layer) for layer in self.layers)
        if self.top not in ("sum", "linear"):
            raise ValueError(f"top must be 'sum' or 'linear'; got {self.top!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {self.init!r}")
        if not self.layers or any(len(layer) != 3 or min(layer) < 1 or layer[1] % 2 == 0 for layer in self.layers):
            raise ValueError(f"layers must be (filters, odd kernel, stride) triples of positive integers; got {self.layers}")
        if self.n_steps < 0 or self.n_chains < 1:
            raise ValueError(f"n_steps must be ≥ 0 and n_chains ≥ 1; got {self.n_steps} and {self.n_chains}")
        check_step(self.step_size, self.sigma)
        if not 0.0 <= self.restart <= 1.0:
            raise ValueError(f"restart is a probability in [0, 1]; got {self.restart!r}")
        if not self.regulariser >= 0:
            raise ValueError(f"regulariser must be ≥ 0; got {self.regulariser!r}")
        if self.init == "buffer" and self.buffer_size < self.n_chains:
            raise ValueError(f"buffer_size ({self.buffer_size}) must be at least n_chains ({self.n_chains})")


class GenerativeConvNet(train.Model):
    """The generative ConvNet p(I; w) ∝ exp(f(I; w)) N(I; 0, σ²·1) with a ReLU ConvNet score f.

    Images I are mean-subtracted (see :func:`center`), shape (N, channels, size, size).
    Buffers (part of the state dict, so checkpoints carry them), both starting at 0 as in Algorithm 1:
    ``chains`` (n_chains, channels, size, size) holds the last synthesised images (the persistent chains
    when ``init="persistent"``; untouched when ``init="data"``), and ``replay`` (buffer_size, channels, size,
    size) the replay buffer, registered only when ``init="buffer"``.

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """

    def __init__(self, config: ConvNetConfig | None = None):
        super().__init__()
        config = config or ConvNetConfig()
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
        shape = (config.channels, config.size, config.size)
        self.register_buffer("chains", torch.zeros(config.n_chains, *shape))
        if config.init == "buffer":
            self.register_buffer("replay", torch.zeros(config.buffer_size, *shape))

    def _check(self, x: Tensor) -> None:
        cfg = self.config
        if x.ndim != 4 or tuple(x.shape[1:]) != (cfg.channels, cfg.size, cfg.size) or not x.is_floating_point():
            raise ValueError(f"{type(self).__name__}: expected float images (N, {cfg.channels}, {cfg.size}, {cfg.size}) "
                             f"in the model's units (see center); got {x.dtype} of shape {tuple(x.shape)}")

    def check_data(self, data) -> None:
        """The observed images, once per ``fit``: shape and dtype as :meth:`forward` needs, and finite.

        No range is checked: the model's density lives on all of R^D (its units are those of :func:`center`,
        which checks the pixels it is given).
        """
        observed = train.first(data)
        self._check(observed)
        check_finite(observed, f"{type(self).__name__}: observed images")

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
        """The score f(I; w) per image, shape (N,), for images x (N, C, H, W)."""
        top, _ = self._bottom_up(x)
        if self.head is not None:
            return self.head(top.flatten(1)).squeeze(1)
        return top.flatten(1).sum(1)

    def pattern(self, x: Tensor) -> list[Tensor]:
        """The binary activation pattern δ(I; w): one bool tensor (N, N_l, H_l, W_l) per layer (Definition ebm-def-prototype, one pattern per layer)."""
        with torch.no_grad():
            return self._bottom_up(x)[1]

    @torch.no_grad()
    def basis(self, x: Tensor) -> Tensor:
        """B_{w,δ(I)} by the top-down deconvolution (ebm-deconv), shape (N, C, H, W).

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

    def sample_from(self, x: Tensor, n_steps: int | None = None, noise: bool = True,
                    generator: torch.Generator | None = None) -> Tensor:
        """Langevin chains from ``x`` (N, C, H, W) under this model's σ and ε; returns (N, C, H, W), detached.

        ``n_steps`` defaults to the config's L (and passes through ``gm.runtime.capped``); the result is in
        the model's units (:func:`to_pixels` turns it into pixels).
        """
        cfg = self.config
        self._check(x)
        return langevin(self, x, cfg.n_steps if n_steps is None else n_steps, cfg.step_size, cfg.sigma, noise,
                        generator=generator)

    def sample(self, n: int, n_steps: int | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n images (n, C, H, W) in the model's units: :meth:`sample_from` chains started from the reference
        q = N(0, σ²·1), drawn with ``generator``, on the model's device."""
        return self.sample_from(self.reference_draws(n, generator), n_steps, generator=generator)

    def reference_draws(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws σZ from the reference q = N(0, σ²·1), shape (n, C, H, W), on the model's device."""
        cfg = self.config
        return cfg.sigma * runtime.randn(n, cfg.channels, cfg.size, cfg.size, generator=generator,
                                         device=self.chains.device)

    def _start(self, observed: Tensor) -> tuple[Tensor, Tensor | None]:
        """Where this iteration's chains start (see ``ConvNetConfig.init``), and the buffer rows they came from."""
        cfg = self.config
        if cfg.init == "persistent":
            return self.chains, None
        if cfg.init == "data":
            return observed, None
        if cfg.init == "noise":
            return self.reference_draws(cfg.n_chains), None
        rows = runtime.randint(0, cfg.buffer_size, (cfg.n_chains,), device=self.replay.device)
        restart = runtime.rand(cfg.n_chains, device=self.replay.device) < cfg.restart
        start = torch.where(restart.view(-1, 1, 1, 1), self.reference_draws(cfg.n_chains), self.replay[rows])
        return start, rows

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """One learning iteration of Algorithm 1: L Langevin steps, then w ← w + η(H_obs − H_syn) (here by Adam).

        batch: observed images (N, C, H, W) (or a tuple whose first entry they are). The ascent direction
        H_obs − H_syn = ∂/∂w [mean f(I_obs) − mean f(I_syn)] (Eq. ebm-ml-gradient) is the gradient of
        ``gap``; the optimiser minimises −gap + λ·(mean f(I_obs)² + mean f(I_syn)²). Records the scalars
        f_obs, f_syn, gap (and ``regulariser`` when λ > 0); with ``init="data"`` also, before the update, the
        reconstruction error ‖I − σ²B‖² per image and how much of the pattern the Langevin step kept
        (``units_kept``: fraction of units; ``pattern_kept``: fraction of images with the whole pattern).
        """
        cfg = self.config
        observed = train.first(batch)
        self._check(observed)            # finiteness is checked once per fit (check_data), not at every step
        start, rows = self._start(observed)
        synthesized = self.sample_from(start)
        out: dict[str, Tensor] = {}
        if cfg.init == "data":
            with torch.no_grad():
                out["reconstruction"] = (observed - self.reconstruct(observed)).pow(2).flatten(1).sum(1).mean()
            units, whole = pattern_agreement(self, synthesized, observed)
            out["units_kept"], out["pattern_kept"] = units.mean(), whole.mean()
        else:
            self.chains.copy_(synthesized)
            if rows is not None:
                self.replay[rows] = synthesized
        (opt,) = optimizers.values()
        f_obs_each, f_syn_each = self(observed), self(synthesized)
        f_obs, f_syn = f_obs_each.mean(), f_syn_each.mean()
        gap = f_obs - f_syn
        loss = -gap
        if cfg.regulariser > 0:
            reg = f_obs_each.pow(2).mean() + f_syn_each.pow(2).mean()
            loss = loss + cfg.regulariser * reg
            out["regulariser"] = reg.detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        out.update({"f_obs": f_obs.detach(), "f_syn": f_syn.detach(), "gap": gap.detach()})
        return out

    @torch.no_grad()
    def validation_step(self, batch) -> dict[str, Tensor]:
        """Mean score f and reconstruction error ‖I − σ²B‖² per image of held-out images (N, C, H, W)."""
        observed = train.first(batch)
        err = (observed - self.reconstruct(observed)).pow(2).flatten(1).sum(1).mean()
        return {"f": self(observed).mean(), "reconstruction": err}


