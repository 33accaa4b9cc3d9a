"""Interactive explorers (ipywidgets) used by several chapters.

Each returns a widget; in a static page (the built book) the widget's initial state is what shows.

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
    ax.imshow(img.permute(1, 2, 0).squeeze().numpy(), cmap="gray" if img.shape[0] == 1 else None,
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()


def latent_explorer(decode: Decoder, dim: int, limit: float = 3.0, start: Tensor | None = None,
                    n_sliders: int | None = None) -> W.Widget:
    """Sliders for the first ``n_sliders`` latent coordinates (others fixed at ``start``) → the decoded image."""
    z0 = torch.zeros(dim) if start is None else start.detach().cpu().flatten().clone()
    if z0.numel() != dim:
        raise ValueError(f"start must have {dim} entries; got {z0.numel()}")
    n = min(dim, n_sliders or 6)
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
    """A slider t ∈ [0, 1] decoding (1 − t) z0 + t z1, above the strip of ``steps`` evenly spaced decodings."""
    z0, z1 = z0.detach().cpu().flatten(), z1.detach().cpu().flatten()
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape; got {tuple(z0.shape)} and {tuple(z1.shape)}")
    t = torch.linspace(0, 1, steps)[:, None]
    with torch.no_grad():
        strip = decode((1 - t) * z0 + t * z1)
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
