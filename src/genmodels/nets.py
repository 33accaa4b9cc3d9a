"""Shared building blocks: an MLP and convolutional encoders/decoders for 28×28 and 64×64 images.

Shapes are written (N, C, H, W). Method modules build their models from these pieces.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU, out_activation: nn.Module | None = None) -> nn.Sequential:
    """Linear layers ``sizes[0] → sizes[1] → ... → sizes[-1]`` with ``activation`` between them.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least input and output sizes; got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


def _check_input(x: Tensor, channels: int, size: int, who: str) -> None:
    if x.ndim != 4 or x.shape[1:] != (channels, size, size):
        raise ValueError(f"{who}: expected input of shape (N, {channels}, {size}, {size}); got {tuple(x.shape)}")


class ConvEncoder(nn.Module):
    """Image (N, C, S, S) → vector (N, out_dim), for S = 28 or 64.

    28: two stride-2 convs (28 → 14 → 7); 64: four (64 → 32 → 16 → 8 → 4). Width doubles each level.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    def __init__(self, out_dim: int, channels: int = 1, size: int = 28, width: int = 32, norm: bool = False):
        super().__init__()
        if size not in (28, 64):
            raise ValueError(f"ConvEncoder supports image sizes 28 and 64; got {size}")
        self.channels, self.size = channels, size
        levels = 2 if size == 28 else 4
        layers: list[nn.Module] = []
        c_in, c_out = channels, width
        for _ in range(levels):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)]
            if norm and c_in != channels:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2) if norm else nn.ReLU())
            c_in, c_out = c_out, c_out * 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        side = 7 if size == 28 else 4
        self.head = nn.Linear(c_in * side * side, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.channels, self.size, type(self).__name__)
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """Vector (N, in_dim) → image logits (N, C, S, S), for S = 28 or 64; the mirror of :class:`ConvEncoder`.

    Upsampling is a transposed convolution (kernel 4, stride 2); ``out_activation`` (e.g. ``nn.Sigmoid()``)
    maps logits to pixel values when wanted.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    def __init__(self, in_dim: int, channels: int = 1, size: int = 28, width: int = 32,
                 norm: bool = False, out_activation: nn.Module | None = None):
        super().__init__()
        if size not in (28, 64):
            raise ValueError(f"ConvDecoder supports image sizes 28 and 64; got {size}")
        levels = 2 if size == 28 else 4
        self.side = 7 if size == 28 else 4
        self.top = width * 2 ** (levels - 1)
        self.head = nn.Linear(in_dim, self.top * self.side * self.side)
        layers: list[nn.Module] = [nn.BatchNorm2d(self.top) if norm else nn.Identity(), nn.ReLU()]
        c_in = self.top
        for level in range(levels):
            last = level == levels - 1
            c_out = channels if last else c_in // 2
            layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
            if not last:
                if norm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.ReLU())
            c_in = c_out
        if out_activation is not None:
            layers.append(out_activation)
        self.body = nn.Sequential(*layers)
        self.in_dim = in_dim

    def forward(self, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.in_dim:
            raise ValueError(f"{type(self).__name__}: expected latents of shape (N, {self.in_dim}); got {tuple(z.shape)}")
        return self.body(self.head(z).view(-1, self.top, self.side, self.side))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- Part 4 (low-light enhancement): a U-Net with an upsample+conv decoder, and a PatchGAN discriminator.
# Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb


def _conv_block(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    """Two 3×3 convolutions, each followed by LeakyReLU(0.2) and (optionally) batch normalisation."""
    layers: list[nn.Module] = []
    for a, b in ((c_in, c_out), (c_out, c_out)):
        layers += [nn.Conv2d(a, b, 3, padding=1), nn.LeakyReLU(0.2)]
        if norm:
            layers.append(nn.BatchNorm2d(b))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Image (N, C_in, H, W) → map (N, C_out, H, W) through ``depth`` down- and up-sampling levels.

    Encoder level k: conv block of width ``width·2^k``, then 2×2 max pooling; decoder: upsampling
    (``upsample="bilinear"`` or ``"nearest"``: resize then 3×3 conv; ``"transpose"``: a 2×2 transposed
    conv, kept to show checkerboard artefacts), concatenation with the skip, conv block.
    H and W must be multiples of ``2**depth``.

    ``gate`` (N, 1, H, W), optional: a spatial map resized (area averaging) to every level and multiplied
    into that level's encoder features, the bottleneck and the decoder features (attention-guided U-Net).
    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 16, depth: int = 3,
                 norm: bool = True, upsample: str = "bilinear"):
        super().__init__()
        if upsample not in ("bilinear", "nearest", "transpose"):
            raise ValueError(f"upsample must be 'bilinear', 'nearest' or 'transpose'; got {upsample!r}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1; got {depth}")
        self.in_channels, self.depth, self.upsample = in_channels, depth, upsample
        widths = [width * 2**k for k in range(depth + 1)]
        self.down = nn.ModuleList()
        c = in_channels
        for w in widths[:-1]:
            self.down.append(_conv_block(c, w, norm))
            c = w
        self.bottom = _conv_block(widths[-2], widths[-1], norm)
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for k in reversed(range(depth)):
            c_low, c_skip = widths[k + 1], widths[k]
            if upsample == "transpose":
                self.up.append(nn.ConvTranspose2d(c_low, c_skip, 2, stride=2))
            else:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode=upsample), nn.Conv2d(c_low, c_skip, 3, padding=1)))
            self.merge.append(_conv_block(2 * c_skip, c_skip, norm))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def check(self, x: Tensor) -> None:
        """Raise a clear error unless ``x`` is (N, C_in, H, W) with H, W multiples of 2**depth."""
        m = 2**self.depth
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet: expected input of shape (N, {self.in_channels}, H, W); got {tuple(x.shape)}")
        if x.shape[2] % m or x.shape[3] % m:
            raise ValueError(f"UNet of depth {self.depth}: H and W must be multiples of {m}; got {tuple(x.shape[2:])}")

    def forward(self, x: Tensor, gate: Tensor | None = None) -> Tensor:
        self.check(x)
        if gate is not None and (gate.ndim != 4 or gate.shape[1] != 1 or gate.shape[2:] != x.shape[2:]
                                 or gate.shape[0] != x.shape[0]):
            raise ValueError(f"UNet: gate must have shape {(x.shape[0], 1, *x.shape[2:])}; got {tuple(gate.shape)}")

        def gated(h: Tensor) -> Tensor:
            if gate is None:
                return h
            return h * nn.functional.adaptive_avg_pool2d(gate, h.shape[2:])

        skips = []
        h = x
        for block in self.down:
            h = gated(block(h))
            skips.append(h)
            h = nn.functional.max_pool2d(h, 2)
        h = gated(self.bottom(h))
        for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
            h = gated(merge(torch.cat([up(h), skip], dim=1)))
        return self.head(h)


class PatchDiscriminator(nn.Module):
    """PatchGAN: image (N, C, H, W) → score map (N, 1, H/2^L, W/2^L), one raw score per overlapping patch.

    ``layers`` stride-2 4×4 convolutions (width doubling, LeakyReLU 0.2) and a final 3×3 conv to one
    channel; no sigmoid, so the scores suit the least-squares GAN loss. H and W must be multiples of 2^L.
    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """

    def __init__(self, in_channels: int = 3, width: int = 32, layers: int = 3, norm: bool = False):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be at least 1; got {layers}")
        self.in_channels, self.layers = in_channels, layers
        body: list[nn.Module] = []
        c = in_channels
        for k in range(layers):
            w = width * 2**k
            body.append(nn.Conv2d(c, w, 4, stride=2, padding=1))
            if norm and k > 0:
                body.append(nn.InstanceNorm2d(w, affine=True))
            body.append(nn.LeakyReLU(0.2))
            c = w
        body.append(nn.Conv2d(c, 1, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x: Tensor) -> Tensor:
        m = 2**self.layers
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % m or x.shape[3] % m:
            raise ValueError(f"PatchDiscriminator: expected (N, {self.in_channels}, H, W) with H, W multiples of {m}; "
                             f"got {tuple(x.shape)}")
        return self.body(x)
