"""Figures used by several chapters. Each helper takes ``ax=None`` and returns the figure; none calls ``plt.show()``.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def image_grid(x: Tensor, nrow: int = 8, ax: Axes | None = None, title: str | None = None,
               padding: int = 2, figsize: tuple[float, float] | None = None) -> Figure:
    """Show images x (N, C, H, W) in [0, 1] as one grid (via ``torchvision.utils.make_grid``).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    from torchvision.utils import make_grid

    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"image_grid: expected (N, 1 or 3, H, W) images; got {tuple(x.shape)}")
    x = x.detach().float().cpu()
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"image_grid: expected values in [0, 1]; got range [{lo:.3g}, {hi:.3g}]")
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=1.0)
    rows = int(np.ceil(len(x) / nrow))
    fig, ax = _axes(ax, figsize or (min(1.1 * nrow, 12), min(1.1 * rows, 12) + (0.3 if title else 0)))
    ax.imshow(grid.permute(1, 2, 0).cpu().numpy().squeeze(), cmap="gray" if x.shape[1] == 1 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def _series(source, key: str) -> np.ndarray:
    if isinstance(source, Mapping):
        return np.asarray(source[key])
    try:
        return np.asarray(source[key])  # History: per-step
    except KeyError:
        return np.asarray(source.epoch(key))


def curves(source, keys: Sequence[str] | str, ax: Axes | None = None, smooth: int = 1, xlabel: str = "step",
           ylabel: str | None = None, title: str | None = None, logy: bool = False) -> Figure:
    """Plot one or more recorded series (a ``History`` or a dict of arrays) against their index.

    smooth: moving-average window, for noisy per-step losses.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    fig, ax = _axes(ax, (6, 3.5))
    for key in keys:
        y = _series(source, key).astype(float)
        if smooth > 1 and len(y) >= smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x = np.arange(len(y)) + smooth // 2
        else:
            x = np.arange(len(y))
        ax.plot(x, y, label=key, marker="." if len(y) <= 30 else None)  # short series stay visible
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or (keys[0] if len(keys) == 1 else "value"))
    if logy:
        ax.set_yscale("log")
    if len(keys) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def latent_scatter(z: Tensor | np.ndarray, labels: Tensor | np.ndarray | None = None, ax: Axes | None = None,
                   title: str | None = None, s: float = 6) -> Figure:
    """Scatter 2-D codes z (N, 2) coloured by integer labels (N,), with a colour bar of the classes.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    z = z.detach().cpu().numpy() if isinstance(z, Tensor) else np.asarray(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter: expected codes of shape (N, 2); got {z.shape}")
    fig, ax = _axes(ax, (5.5, 4.5))
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=s, alpha=0.7)
    else:
        labels = labels.cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
        classes = np.unique(labels)
        cmap = plt.get_cmap("tab10", len(classes))
        points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap=cmap, s=s, alpha=0.8,
                            vmin=classes.min() - 0.5, vmax=classes.max() + 0.5)
        fig.colorbar(points, ax=ax, ticks=classes, label="class")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return fig


def decoded_manifold(decode, lo: float = -3.0, hi: float = 3.0, n: int = 15, ax: Axes | None = None,
                     title: str | None = None) -> Figure:
    """Decode an n×n grid of 2-D codes spanning [lo, hi]² and show the images in place (rows: z₂ high→low).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    g = torch.linspace(lo, hi, n)
    z = torch.stack(torch.meshgrid(g.flip(0), g, indexing="ij"), -1).reshape(-1, 2)[:, [1, 0]]
    with torch.no_grad():
        x = decode(z)
    return image_grid(x, nrow=n, ax=ax, title=title, padding=0, figsize=(6, 6))


def matrix(M: Tensor | np.ndarray, ax: Axes | None = None, title: str | None = None, xlabel: str = "",
           ylabel: str = "", extent: Sequence[float] | None = None, log: bool = False, cmap: str = "gray_r",
           label: str = "", symmetric: bool = False) -> Figure:
    """Show a matrix M (rows, columns) with row 0 at the bottom (spectrogram convention) and a colour bar.

    extent: (x0, x1, y0, y1) in axis units (e.g. seconds and Hz); log: show log(1 + M) (compressed
    magnitudes); symmetric: a red–blue map centred at 0 for differences of two matrices.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    M = M.detach().cpu().numpy() if isinstance(M, Tensor) else np.asarray(M)
    if M.ndim != 2:
        raise ValueError(f"matrix: expected a 2-D array; got shape {M.shape}")
    fig, ax = _axes(ax, (7, 3.5))
    shown = np.log1p(M) if log else M
    kwargs = {"cmap": cmap}
    if symmetric:
        bound = float(np.abs(shown).max()) or 1.0
        kwargs = {"cmap": "RdBu_r", "vmin": -bound, "vmax": bound}
    image = ax.imshow(shown, origin="lower", aspect="auto", interpolation="nearest", extent=extent, **kwargs)
    fig.colorbar(image, ax=ax, label=("log(1 + value)" if log and not label else label), pad=0.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig
