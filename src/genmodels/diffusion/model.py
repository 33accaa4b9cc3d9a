"""Time-conditioned networks and the trainable :class:`Denoiser` (ε-prediction or flow matching) that ``fit`` trains.

A network maps (x (N, …), c (N,) float, y (N,) long or None) to (N, …), where c is the conditioning
scalar (t/T for ε-prediction, t ∈ [0, 1] for flow matching, log σ for a score model) and y a class label
(index ``n_classes`` = "no label", for classifier-free guidance).

Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from .. import runtime
from ..train import Model, first
from . import losses, samplers
from .schedule import Schedule, check_float, linear_schedule


def time_features(c: Tensor, dim: int) -> Tensor:
    """Sinusoidal features of a scalar per row: c (N,) → (N, dim), frequencies 1 … 1000 on a log scale.

    Notebooks: chapters/06_diffusion/01_score_matching.ipynb, 02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
    """
    half = dim // 2
    freqs = torch.exp(torch.linspace(0, math.log(1000.0), half, device=c.device, dtype=c.dtype))
    angles = c[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], 1)


class _Conditioning(nn.Module):
    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        self.dim = dim
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(n_classes + 1, dim) if n_classes else None

    def forward(self, c: Tensor, y: Tensor | None) -> Tensor:
        h = self.time(time_features(c, self.dim))
        if self.label is not None:
            if y is None:
                raise ValueError("this network is class-conditional: pass labels y (N,) (n_classes for 'no label')")
            h = h + self.label(y)
        return h


class TimeMLP(nn.Module):
    """Vectors (N, D) and a scalar c (N,) → (N, D): an MLP whose hidden layers add an embedding of c (and y).

    Notebooks: chapters/06_diffusion/01_score_matching.ipynb, 03_flow_matching.ipynb, 04_experiments.ipynb
    """

    def __init__(self, dim: int, hidden: int = 128, layers: int = 3, n_classes: int = 0):
        super().__init__()
        self.dim = dim
        self.cond = _Conditioning(hidden, n_classes)
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, dim)

    def forward(self, x: Tensor, c: Tensor, y: Tensor | None = None) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"TimeMLP: expected input (N, {self.dim}); got {tuple(x.shape)}")
        e = self.cond(c, y)
        h = nn.functional.silu(self.inp(x) + e)
        for block in self.blocks:
            h = nn.functional.silu(block(h) + e)
        return self.out(h)


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb: int):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm1, self.norm2 = nn.GroupNorm(8, c_out), nn.GroupNorm(8, c_out)
        self.emb = nn.Linear(emb, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        h = nn.functional.silu(self.norm1(self.conv1(x))) + self.emb(e)[:, :, None, None]
        return self.skip(x) + nn.functional.silu(self.norm2(self.conv2(h)))


class TimeUNet(nn.Module):
    """Images (N, C, 28, 28) and c (N,) → (N, C, 28, 28): a two-level U-Net (28 → 14 → 7) with time embeddings.

    Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
    """

    def __init__(self, channels: int = 1, width: int = 32, n_classes: int = 0):
        super().__init__()
        if width % 8:
            raise ValueError(f"width must be a multiple of 8 (group norm with 8 groups); got {width}")
        self.channels, emb, w = channels, 4 * width, width
        self.cond = _Conditioning(emb, n_classes)
        self.inp = nn.Conv2d(channels, w, 3, padding=1)
        self.down1, self.down2 = _Block(w, w, emb), _Block(w, 2 * w, emb)
        self.mid = _Block(2 * w, 2 * w, emb)
        self.up2, self.up1 = _Block(4 * w, w, emb), _Block(2 * w, w, emb)
        self.out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x: Tensor, c: Tensor, y: Tensor | None = None) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != (self.channels, 28, 28):
            raise ValueError(f"TimeUNet: expected input (N, {self.channels}, 28, 28); got {tuple(x.shape)}")
        e = self.cond(c, y)
        h1 = self.down1(self.inp(x), e)                                    # (N, w, 28, 28)
        h2 = self.down2(nn.functional.avg_pool2d(h1, 2), e)                # (N, 2w, 14, 14)
        m = self.mid(nn.functional.avg_pool2d(h2, 2), e)                   # (N, 2w, 7, 7)
        u2 = self.up2(torch.cat([nn.functional.interpolate(m, scale_factor=2), h2], 1), e)   # (N, w, 14, 14)
        u1 = self.up1(torch.cat([nn.functional.interpolate(u2, scale_factor=2), h1], 1), e)  # (N, w, 28, 28)
        return self.out(u1)


@dataclasses.dataclass
class DenoiserConfig:
    """Hyper-parameters of :class:`Denoiser`. ``shape``: one example's shape, (D,) for vectors or (C, 28, 28).

    Notebooks: chapters/06_diffusion/03_flow_matching.ipynb, 04_experiments.ipynb
    """

    shape: tuple[int, ...] = (1, 28, 28)
    objective: str = "eps"       # "eps" (DDPM's ε-prediction) or "flow" (conditional flow matching)
    T: int = 1000                # diffusion steps (ε-prediction only)
    beta_end: float = 0.02       # last β of the linear schedule
    width: int = 32              # U-Net width, or the MLP's hidden size
    n_classes: int = 0           # > 0: class-conditional, with labels dropped at rate p_uncond (for guidance)
    p_uncond: float = 0.1
    lr: float = 2e-3


class Denoiser(Model):
    """A time-conditioned network trained by ``fit`` with the ε-prediction or the flow-matching loss.

    Batches are x (N, *shape) or (x, y) for a class-conditional model. :meth:`sample` draws with the
    sampler of the objective and, for a conditional model, classifier-free guidance of weight w:
    f̃ = (1 + w) f(x, c, y) − w f(x, c, ∅) (Eq. diff-cfg).
    Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
    """

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        if config.objective not in ("eps", "flow"):
            raise ValueError(f"objective must be 'eps' or 'flow'; got {config.objective!r}")
        self.config = config
        shape = tuple(config.shape)
        self.net = (TimeMLP(shape[0], config.width, n_classes=config.n_classes) if len(shape) == 1
                    else TimeUNet(shape[0], config.width, n_classes=config.n_classes))
        self.schedule: Schedule = linear_schedule(config.T, beta_end=config.beta_end)

    def field(self, x: Tensor, level: Tensor, y: Tensor | None = None) -> Tensor:
        """ε_θ(x, t) for integer steps t (N,) or v_θ(x, t) for t ∈ [0, 1] (N,), shape of x."""
        c = level.to(x.dtype) / self.config.T if self.config.objective == "eps" else level.to(x.dtype)
        return self.net(x, c, y)

    def _split(self, batch) -> tuple[Tensor, Tensor | None]:
        x = first(batch)
        if self.config.n_classes == 0:
            return x, None
        if isinstance(batch, Tensor) or len(batch) < 2:
            raise ValueError("a class-conditional Denoiser needs batches (x, y)")
        y = batch[1].long()
        drop = runtime.rand(y.shape[0], device=y.device) < self.config.p_uncond
        return x, torch.where(drop, torch.full_like(y, self.config.n_classes), y)

    def check_data(self, data) -> None:
        """Training data x (N, *shape), float and finite (any range: pixels are usually mapped to [−1, 1]), with
        integer labels y (N,) in 0..n_classes−1 for a class-conditional model; checked once per ``fit``."""
        x = first(data)
        check_float(x, "Denoiser: training data")
        if x.shape[1:] != tuple(self.config.shape):
            raise ValueError(f"Denoiser: expected examples of shape {tuple(self.config.shape)}; got {tuple(x.shape[1:])}")
        if self.config.n_classes:
            if isinstance(data, Tensor) or len(data) < 2:
                raise ValueError("a class-conditional Denoiser needs batches (x, y)")
            y = data[1]
            if y.is_floating_point() or int(y.min()) < 0 or int(y.max()) >= self.config.n_classes:
                raise ValueError(f"Denoiser: expected integer labels in 0..{self.config.n_classes - 1}; got "
                                 f"{y.dtype} in [{y.min().item()}, {y.max().item()}]")

    def loss(self, batch) -> dict[str, Tensor]:
        x, y = self._split(batch)
        if x.shape[1:] != tuple(self.config.shape):
            raise ValueError(f"Denoiser: expected examples of shape {tuple(self.config.shape)}; got {tuple(x.shape[1:])}")
        fn = lambda z, lv: self.field(z, lv, y)  # noqa: E731
        if self.config.objective == "eps":
            return {"loss": losses.eps_loss(fn, x, self.schedule)}
        return {"loss": losses.flow_matching_loss(fn, x)}

    def guided(self, y: Tensor | None, w: float):
        """The field with labels y and guidance weight w, as f(x, level) for the samplers."""
        if y is None or w == 0:
            return lambda x, lv: self.field(x, lv, y)
        null = torch.full_like(y, self.config.n_classes)

        def fn(x: Tensor, lv: Tensor) -> Tensor:
            out = self.field(torch.cat([x, x]), torch.cat([lv, lv]), torch.cat([y, null]))
            cond, uncond = out.chunk(2)
            return (1 + w) * cond - w * uncond
        return fn

    @torch.no_grad()
    def sample(self, n: int, method: str | None = None, steps: int | None = None, y: Tensor | None = None,
               w: float = 0.0, generator: torch.Generator | None = None, eta: float = 0.0) -> Tensor:
        """n samples (n, *shape) on the model's device. method: ``ddpm``/``ddim`` (ε) or ``euler``/``heun`` (flow)."""
        dev = next(self.parameters()).device
        if self.config.n_classes and y is None:
            y = torch.full((n,), self.config.n_classes, dtype=torch.long)
        y = y.to(dev) if y is not None else None
        x = runtime.randn(n, *self.config.shape, generator=generator, device=dev)
        fn = self.guided(y, w)
        was = self.training
        self.eval()
        try:
            if self.config.objective == "eps":
                method = method or "ddpm"
                sched = self.schedule
                if method == "ddpm":
                    return samplers.ddpm_sample(fn, x, sched, generator=generator)
                if method == "ddim":
                    return samplers.ddim_sample(fn, x, sched, steps or 50, eta=eta, generator=generator)
                raise ValueError(f"an ε-prediction model samples with 'ddpm' or 'ddim'; got {method!r}")
            method = method or "euler"
            if method not in ("euler", "heun"):
                raise ValueError(f"a flow-matching model samples with 'euler' or 'heun'; got {method!r}")
            return samplers.ode_sample(fn, x, steps or 50, method=method)
        finally:
            self.train(was)


@dataclasses.dataclass
class ScoreConfig:
    """Hyper-parameters of :class:`NoiseConditionalScore`: vectors of ``dim``, a geometric ladder of ``levels``.

    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """

    dim: int = 2
    sigma_max: float = 3.0
    sigma_min: float = 0.05
    levels: int = 10
    width: int = 128
    lr: float = 2e-3


class NoiseConditionalScore(Model):
    """s_θ(x, σ) for vectors (N, D), trained by DSM at a level drawn per row from the ladder (Song & Ermon 2019).

    The network sees c = log σ and outputs (N, D); its output is divided by σ, so the network itself
    predicts −z and every level is on one scale (the weighted loss with λ(σ) = σ²).
    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """

    def __init__(self, config: ScoreConfig):
        super().__init__()
        self.config = config
        self.net = TimeMLP(config.dim, config.width)
        self.register_buffer("sigmas", samplers.geometric_sigmas(config.sigma_max, config.sigma_min,
                                                                 config.levels).float())

    def score(self, x: Tensor, sigma: Tensor) -> Tensor:
        """s_θ(x, σ): x (N, D), σ (N,) → (N, D)."""
        return self.net(x, sigma.log()) / sigma[:, None]

    def check_data(self, data) -> None:
        """Training vectors x (N, dim), float and finite; checked once per ``fit``."""
        x = first(data)
        check_float(x, "NoiseConditionalScore: training data")
        if x.ndim != 2 or x.shape[1] != self.config.dim:
            raise ValueError(f"NoiseConditionalScore: expected vectors (N, {self.config.dim}); got {tuple(x.shape)}")

    def loss(self, batch) -> dict[str, Tensor]:
        x = first(batch)
        idx = runtime.randint(0, self.config.levels, (x.shape[0],), device=x.device)
        return {"loss": losses.dsm_loss(self.score, x, self.sigmas[idx])}

    @torch.no_grad()
    def sample_from(self, x: Tensor, n_steps_each: int = 100, step_lr: float = 1e-4,
                    generator: torch.Generator | None = None) -> Tensor:
        """Annealed Langevin from ``x`` (N, D) down the ladder, ending with Tweedie's denoising step."""
        return samplers.annealed_langevin(self.score, x, self.sigmas, n_steps_each, step_lr, generator=generator,
                                          final_denoise=True)

    @torch.no_grad()
    def sample(self, n: int, n_steps_each: int = 100, step_lr: float = 1e-4,
               generator: torch.Generator | None = None) -> Tensor:
        """n vectors (n, D): :meth:`sample_from` chains started from N(0, σ_max²·I), the widest level's
        noise, drawn with ``generator`` on the model's device."""
        dev = self.sigmas.device
        x = self.sigmas[0] * runtime.randn(n, self.config.dim, generator=generator, device=dev)
        return self.sample_from(x, n_steps_each, step_lr, generator=generator)
