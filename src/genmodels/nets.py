"""Shared building blocks: an MLP and convolutional encoders/decoders for 28×28 and 64×64 images.

Shapes are written (N, C, H, W). Method modules build their models from these pieces.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU, out_activation: nn.Module | None = None) -> nn.Sequential:
    """Linear layers ``sizes[0] → sizes[1] → ... → sizes[-1]`` with ``activation`` between them."""
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
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
