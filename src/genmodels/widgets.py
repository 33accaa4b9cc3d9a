"""Interactive explorers (ipywidgets) used by several chapters.

Each explorer first displays a *static companion*, a figure of what its sliders span (small multiples over
the sliders' range), then returns the widget. In JupyterLab, Colab or Binder the widget is live; in the
built book, where no kernel answers a slider, the static companion is what the reader studies.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

from typing import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from torch import Tensor

Decoder = Callable[[Tensor], Tensor]  # (N, D) codes → (N, C, H, W) images in [0, 1]


def _render(out: W.Output, fig) -> None:
    with out:
        out.clear_output(wait=True)
        display(fig)


def _show(img: Tensor, ax) -> None:
    img = img.detach().cpu()
    ax.clear()
    ax.imshow(img.permute(1, 2, 0).squeeze().cpu().numpy(), cmap="gray" if img.shape[0] == 1 else None,
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()


def latent_sweep(decode: Decoder, z0: Tensor, n: int, limit: float, columns: int = 7):
    """Static companion of :func:`latent_explorer`: row i decodes ``z0`` with coordinate i swept over
    ``columns`` values in [−limit, limit] (the range of slider i). Returns the figure.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    values = torch.linspace(-limit, limit, columns)
    z = z0.repeat(n * columns, 1)
    rows = torch.arange(n).repeat_interleave(columns)
    z[torch.arange(n * columns), rows] = values.repeat(n)
    with torch.no_grad():
        images = decode(z).detach().cpu()
    fig, axes = plt.subplots(n, columns, figsize=(1.1 * columns, 1.1 * n + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        _show(images[k], ax)
        if k < columns:
            ax.set_title(f"{float(values[k]) + 0.0:+.1f}", fontsize=8)
    for i in range(n):
        axes[i, 0].text(-0.15, 0.5, f"z{i + 1}", transform=axes[i, 0].transAxes, ha="right", va="center", fontsize=9)
    fig.suptitle("each row moves one slider over its range, the others stay at the start", fontsize=9)
    plt.close(fig)
    return fig


def latent_explorer(decode: Decoder, dim: int, limit: float = 3.0, start: Tensor | None = None,
                    n_sliders: int | None = None) -> W.Widget:
    """Sliders for the first ``n_sliders`` latent coordinates (others fixed at ``start``) → the decoded image.

    Displays :func:`latent_sweep` first, the static companion of the sliders.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    z0 = torch.zeros(dim) if start is None else start.detach().cpu().flatten().clone()
    if z0.numel() != dim:
        raise ValueError(f"start must have {dim} entries; got {z0.numel()}")
    n = min(dim, n_sliders or 6)
    display(latent_sweep(decode, z0, n, limit))
    sliders = [W.FloatSlider(value=float(z0[i]), min=-limit, max=limit, step=0.05, description=f"z{i + 1}",
                             continuous_update=True) for i in range(n)]
    out = W.Output()
    fig, ax = plt.subplots(figsize=(2.6, 2.6))
    plt.close(fig)

    def update(_=None) -> None:
        z = z0.clone()
        for i, s in enumerate(sliders):
            z[i] = s.value
        with torch.no_grad():
            img = decode(z[None])[0]
        _show(img, ax)
        _render(out, fig)

    for s in sliders:
        s.observe(update, names="value")
    update()
    return W.HBox([W.VBox(sliders), out])


def interpolation(decode: Decoder, z0: Tensor, z1: Tensor, steps: int = 8) -> W.Widget:
    """A slider t ∈ [0, 1] decoding (1 − t) z0 + t z1, beside the strip of ``steps`` evenly spaced decodings.

    Displays the strip alone first: the static companion of the slider.
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    z0, z1 = z0.detach().cpu().flatten(), z1.detach().cpu().flatten()
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape; got {tuple(z0.shape)} and {tuple(z1.shape)}")
    t = torch.linspace(0, 1, steps)[:, None]
    with torch.no_grad():
        strip = decode((1 - t) * z0 + t * z1).detach().cpu()
    companion, cells = plt.subplots(1, steps, figsize=(1.2 * steps, 1.5), squeeze=False)
    for ax, img, ti in zip(cells[0], strip, t[:, 0]):
        _show(img, ax)
        ax.set_title(f"t = {float(ti):.2f}", fontsize=8)
    plt.close(companion)
    display(companion)
    slider = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="t")
    out = W.Output()
    fig, axes = plt.subplots(1, steps + 1, figsize=(1.2 * (steps + 1), 1.5))
    for ax, img in zip(axes[1:], strip):
        _show(img, ax)
    plt.close(fig)

    def update(_=None) -> None:
        with torch.no_grad():
            img = decode(((1 - slider.value) * z0 + slider.value * z1)[None])[0]
        _show(img, axes[0])
        axes[0].set_title(f"t = {slider.value:.2f}", fontsize=8)
        _render(out, fig)

    slider.observe(update, names="value")
    update()
    return W.VBox([slider, out])
