r"""The enhancer GAN of Part 4 (:class:`EnhancerGAN`), its configuration, and the runs the chapters share.

The generator is a :class:`~genmodels.nets.UNet` on [x, x_a] gated by the attention map x_a at every level;
its output goes through eq. (lowlight-output) (a floored brightening curve, a learned blend toward the
:func:`~genmodels.lowlight.losses.tent_mean`, a bounded correction). Two PatchGAN discriminators (full and half
resolution) and least-squares losses from :mod:`genmodels.gan`. :func:`train_enhancer` trains one attention
setting on the sizes of ``gm.recipes.SIZES["lowlight"]``, through ``gm.train.fit`` and its cache.

Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
"""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import gan, nets, train
from .attention import attention_map, upsample
from .classic import _check_rgb, on_value
from .features import feature_extractor
from .losses import brightness_loss, colour_loss, perceptual_loss, tent_mean

ATTENTION_MODES = ("full", "no_feature", "no_gray", "none")


@dataclasses.dataclass
class EnhancerConfig:
    """Hyper-parameters of :class:`EnhancerGAN` (the paper: α = 1, γ = 4, lr = 1e-4, Adam).

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """

    attention: str = "full"      # full | no_feature | no_gray | none (plain U-Net GAN)
    gamma: float = 4.0           # curvature of the feature term in eq. (lowlight-attention)
    alpha: float = 1.0           # weight of the perceptual loss in eq. (lowlight-objective)
    beta: float = 2.0            # weight of the colour-consistency loss (ours, not the paper's; chapter 02)
    width: int = 16              # U-Net width at full resolution
    depth: int = 3               # U-Net levels
    batch_norm: bool = False     # the paper's U-Net blocks have batch norm; off by default (see chapter 02)
    d_width: int = 32            # discriminator width
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    smooth: int = 8              # a is averaged over smooth×smooth blocks (light varies slowly); also the blocks of L_light
    a_min: float = 0.3           # floor of the brightening map: a ∈ (a_min, 1) (chapter 02: no region is left black)
    denoise: bool = True         # the learned blend toward the tent mean in eq. (lowlight-output)
    rho: float = 0.25            # bound of the residual correction in eq. (lowlight-output)
    tau: float = 1e-2            # weight of the penalty on G's raw outputs (keeps the sigmoids and tanh responsive)
    eta: float = 2.0             # weight of brightness matching: W2 of block brightness, ŷ against y (brightness_loss)
    phi: str | None = None       # which φ: the first word of its description; None = filled in by the constructor

    def __post_init__(self) -> None:
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}; got {self.attention!r}")
        if not 0 <= self.a_min < 1:
            raise ValueError(f"a_min, the floor of the brightening map, must lie in [0, 1); got {self.a_min}")


BLEND_START_LOGIT = 2.0
"""Initial bias of the blend channel t₅: training starts from w ≈ σ(2) ≈ 0.88, the smoothed image, and learns where
detail must come back (as an LSTM's forget gate starts open)."""


def _phi_name(phi: nn.Module) -> str:
    return phi.description.split(":")[0].split(" ")[0]


class EnhancerGAN(train.Model):
    r"""Generator ŷ = G(x) and discriminators D₁ (full resolution), D₂ (half resolution).

    G: a :class:`~genmodels.nets.UNet` on the concatenation [x, x_a] (N, 4, H, W) whose every level is
    multiplied by the resized attention map x_a. Its 5 output channels are a brightening map a ∈ (a_min, 1)
    (block-averaged, sigmoid), a correction r ∈ (−ρ, ρ)³ (tanh) and a blend weight w ∈ (0, 1) (sigmoid): the
    value channel is raised to V + x_a a (1 − V) with hue and saturation kept (:func:`on_value`), giving z;
    :math:`\tilde z = z + w\,(\bar z - z)` moves it toward its :func:`tent_mean` :math:`\bar z` (w = 0 when
    ``denoise`` is off); then :math:`\hat y = \tilde z + x_a\circ(r^+(1-\tilde z) - r^-\tilde z)`. ŷ stays in
    [0, 1] by construction.
    Training: one LSGAN step for both discriminators, then one for G on
    eq. (lowlight-objective), :math:`\sum_k \mathcal L_G(D_k) + \alpha\,\mathcal L_{per} + \beta\,\mathcal L_{col}
    + \eta\,\mathcal L_{light}`, plus τ times the mean square of G's raw outputs (which keeps sigmoid and tanh
    out of their flat tails).
    ``phi``: the frozen feature network (default :func:`feature_extractor`); ``config.phi``, when given, must name it.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """

    def __init__(self, config: EnhancerConfig | None = None, phi: nn.Module | None = None):
        super().__init__()
        config = EnhancerConfig() if config is None else config
        config.__post_init__()  # fields may have been changed after construction
        phi = phi if phi is not None else feature_extractor()
        if config.phi is not None and config.phi != _phi_name(phi):
            raise ValueError(f"config.phi is {config.phi!r} but the feature network is {_phi_name(phi)!r} "
                             f"({phi.description}); pass phi=None in the config or the matching network")
        self.config = dataclasses.replace(config, phi=_phi_name(phi))  # a copy: the caller's config is not changed
        self.__dict__["phi"] = phi  # not a submodule: frozen, not trained, not saved in checkpoints
        c = self.config
        self.G = nets.UNet(4, 5, width=c.width, depth=c.depth, norm=c.batch_norm, upsample="bilinear")
        with torch.no_grad():
            self.G.head.bias[4] = BLEND_START_LOGIT
        self.D = nn.ModuleList([nets.PatchDiscriminator(3, c.d_width, 3) for _ in range(2)])

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam for G (``"g"``) and for both discriminators (``"d"``), with ``config.lr`` and ``config.betas``."""
        c = self.config
        return {"g": torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=c.betas),
                "d": torch.optim.Adam(self.D.parameters(), lr=c.lr, betas=c.betas)}

    def attention(self, x: Tensor) -> Tensor:
        """x_a (N, 1, H, W) of images x (N, 3, H, W) for this model's ablation setting (ones for ``"none"``)."""
        mode = self.config.attention
        if mode == "none":
            return torch.ones_like(x[:, :1])
        feats = None if mode == "no_feature" else self._phi(x)
        return attention_map(x, feats, self.config.gamma, use_gray=mode != "no_gray")

    def _phi(self, x: Tensor) -> Tensor:
        phi = self.phi.to(x.device)
        with torch.no_grad():
            return phi(x)

    def forward(self, x: Tensor) -> Tensor:
        """Eq. (lowlight-output): enhanced images ŷ (N, 3, H, W) in [0, 1] of low-light x (N, 3, H, W) in [0, 1],
        H and W multiples of 2^depth and of ``smooth``."""
        return self._output(x)[0]

    @torch.no_grad()
    def maps(self, x: Tensor) -> dict[str, Tensor]:
        """The parts of eq. (lowlight-output) for images x (N, 3, H, W): ``x_a``, ``a``, ``w`` (N, 1, H, W) and ``r`` (N, 3, H, W)."""
        return self._output(x)[2]

    def _output(self, x: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """(ŷ, G's raw 5-channel output t before the sigmoids and tanh, the parts named in :meth:`maps`)."""
        _check_rgb(x, "EnhancerGAN")
        c = self.config
        xa = self.attention(x)
        t = self.G(torch.cat([x, xa], 1), gate=xa)
        a = upsample(c.a_min + (1 - c.a_min) * torch.sigmoid(F.avg_pool2d(t[:, :1], c.smooth)), x.shape[2:])
        z = on_value(x, lambda v: v + xa * a * (1 - v))   # brighten V toward 1, keeping every pixel's chromaticity
        if c.denoise:
            w = torch.sigmoid(t[:, 4:5])
            z = z + w * (tent_mean(z) - z)                 # a convex blend of z and a local mean of z: still in [0, 1]
        else:
            w = torch.zeros_like(a)
        r = c.rho * torch.tanh(t[:, 1:4])
        y_hat = z + xa * (r.clamp(min=0) * (1 - z) - (-r).clamp(min=0) * z)
        return y_hat, t, {"x_a": xa, "a": a, "w": w, "r": r}

    def discriminate(self, y: Tensor) -> list[Tensor]:
        """Patch scores of D₁ on y (N, 3, H, W) and of D₂ on y average-pooled by 2, each flattened to (N·patches,)."""
        return [self.D[0](y).flatten(), self.D[1](F.avg_pool2d(y, 2)).flatten()]

    def check_data(self, data) -> None:
        """Training data (x low, y normal): both RGB (N, 3, H, W) in [0, 1]; checked once per ``fit``."""
        if isinstance(data, Tensor) or len(data) != 2:
            raise ValueError("EnhancerGAN trains on pairs (x low-light, y normal-light) of unpaired RGB crops")
        _check_rgb(data[0], "EnhancerGAN: x (low-light)")
        _check_rgb(data[1], "EnhancerGAN: y (normal-light)")

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """One LSGAN step of both discriminators, then one of G, on a batch (x low, y normal) of (N, 3, H, W).

        Returns the scalars ``loss_d`` (summed over D₁, D₂), ``g_adv``, ``perceptual``, ``colour``, ``brightness``
        and ``loss_g`` (the weighted sum G minimised), all computed before the optimiser steps.
        """
        x, y = batch
        c = self.config
        fake, t, _ = self._output(x)
        loss_d = sum(gan.lsgan_d_loss(r, f) for r, f in zip(self.discriminate(y), self.discriminate(fake.detach())))
        optimizers["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        optimizers["d"].step()
        g_adv = sum(gan.lsgan_g_loss(f) for f in self.discriminate(fake))
        per = perceptual_loss(self.phi.to(x.device), x, fake)
        col = colour_loss(x, fake)
        light = brightness_loss(fake, y, c.smooth)
        loss_g = g_adv + c.alpha * per + c.beta * col + c.eta * light + c.tau * t.pow(2).mean()
        optimizers["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        optimizers["g"].step()
        return {"loss_d": loss_d.detach(), "g_adv": g_adv.detach(), "perceptual": per.detach(), "colour": col.detach(),
                "brightness": light.detach(), "loss_g": loss_g.detach()}

    @torch.no_grad()
    def enhance(self, x: Tensor, batch_size: int = 8) -> Tensor:
        """Enhanced images (N, 3, H, W) of x (N, 3, H, W) of any size, on x's device and in x's dtype.

        Each image is reflect-padded on the right and bottom to a multiple of 2^depth and ``smooth``, run in eval mode
        on the model's device, and cropped back to its top-left H × W (the original pixels).
        """
        _check_rgb(x, "enhance")
        was = self.training
        self.eval()
        m = math.lcm(2**self.config.depth, self.config.smooth)
        h, w = x.shape[2:]
        ph, pw = (-h) % m, (-w) % m

        def padded(xb: Tensor) -> Tensor:
            return self(F.pad(xb, (0, pw, 0, ph), mode="reflect") if ph or pw else xb)[:, :, :h, :w]

        param = next(self.parameters())
        try:
            out = train.apply_batched(padded, x.to(param.dtype), param.device, batch_size)
        finally:
            self.train(was)
        return out.to(device=x.device, dtype=x.dtype)


_TRAINING_DATA: dict = {}


def training_data(crops: int, size: int) -> tuple:
    """The unpaired training crops (low, normal) of :func:`train_enhancer`: ``gm.data.lowlight.unpaired(crops,
    size=size, seed=0)``, kept for the next call with the same sizes and data folder (one set at a time).

    Chapters 03 and 04 train or load up to four enhancers on the same crops; at the full budget (1,000 crops of
    256²) rendering them through the camera model takes minutes on a CPU. Callers must not modify the tensors.

    Returns two :class:`~genmodels.data.base.Images` whose ``x`` is (crops, 3, size, size) in [0, 1].

    Notebooks: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb, 03_attention.ipynb, 04_experiments.ipynb
    """
    from .. import runtime
    from ..data import lowlight as data

    key = (crops, size, str(runtime.data_dir()))
    if key not in _TRAINING_DATA:
        _TRAINING_DATA.clear()  # free the previous set before rendering the next
        _TRAINING_DATA[key] = data.unpaired(crops, size=size, seed=0)
    return _TRAINING_DATA[key]


def train_enhancer(attention: str, sizes: Mapping, phi: nn.Module | None = None, seed: int = 0,
                   **config) -> tuple[EnhancerGAN, train.History]:
    """An :class:`EnhancerGAN` with ``attention``, trained by :func:`genmodels.train.fit` on the unpaired data of
    ``sizes`` (an entry of ``gm.recipes.SIZES["lowlight"]``, which the chapters 02–04 share); cached under ``lowlight-<attention>``. Returns (model, history).

    ``seed`` fixes the initial weights (drawn under a forked RNG, so whichever chapter trains a run first gets the
    same one and the caller's global torch RNG is left as it was) and the batch order; each seed is its own run.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    low, normal = training_data(sizes["crops"], sizes["size"])
    cfg = EnhancerConfig(attention=attention, width=sizes["width"], d_width=sizes["d_width"], lr=sizes["lr"], **config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = EnhancerGAN(cfg, phi=phi)
    history = train.fit(model, (low.x, normal.x), epochs=sizes["epochs"], batch_size=sizes["batch_size"], seed=seed,
                        name=f"lowlight-{attention}")
    return model, history
