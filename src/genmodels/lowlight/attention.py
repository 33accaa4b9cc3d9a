r"""The attention map of Guo et al. (2021), eq. (lowlight-attention): dark *and* structured regions weigh most.

:math:`x_a = \sigma\big((1-x_{gray})\circ\mathcal U(\phi(x))^{\gamma}\big)` with :func:`feature_saliency`
:math:`\mathcal U(\phi(x))` and the gray map of :func:`genmodels.metrics.luma`; :func:`attention_explorer` is a
slider over γ. :func:`upsample` is the one resize of maps in this package (saliency, the brightening map).

Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .classic import _check_rgb, gray


def upsample(m: Tensor, size: tuple[int, int]) -> Tensor:
    """Maps m (N, C, h, w) resized bilinearly (``align_corners=False``) to (N, C, *size).

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    return F.interpolate(m, size=tuple(size), mode="bilinear", align_corners=False)


def feature_saliency(features: Tensor, size: tuple[int, int]) -> Tensor:
    r""":math:`\mathcal U(\phi(x))` (N, 1, H, W) of feature maps φ(x) (N, C, h, w), (H, W) = ``size``.

    The channel mean of φ, standardised per image (sample standard deviation), upsampled by :func:`upsample`
    and passed through a sigmoid, so it lies in (0, 1).

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    if features.ndim != 4:
        raise ValueError(f"features must be (N, C, h, w); got {tuple(features.shape)}")
    f = features.mean(1, keepdim=True)
    mu = f.mean((2, 3), keepdim=True)
    sd = f.std((2, 3), keepdim=True) if f[0].numel() > 1 else torch.ones_like(mu)
    f = (f - mu) / (sd + 1e-6)
    return torch.sigmoid(upsample(f, size))


def attention_map(x: Tensor, features: Tensor | None, gamma: float = 4.0, use_gray: bool = True) -> Tensor:
    r"""Eq. (lowlight-attention): :math:`x_a = \sigma\big((1-x_{gray})\circ\mathcal U(\phi(x))^{\gamma}\big)`, (N, 1, H, W).

    x: (N, 3, H, W) in [0, 1]; features: φ(x) (N, C, h, w), or None to drop the feature term (ablation
    "no feature map": the factor becomes 1); ``use_gray=False`` drops the gray term (ablation "no gray
    map"). Values lie in [σ(0), σ(1)] = [0.5, 0.731]: largest where the image is dark *and* structured.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    _check_rgb(x, "attention_map")
    if gamma < 1:
        raise ValueError(f"gamma must be ≥ 1 (the paper's range); got {gamma}")
    dark = 1 - gray(x) if use_gray else torch.ones_like(x[:, :1])
    info = feature_saliency(features, x.shape[2:]).pow(gamma) if features is not None else torch.ones_like(dark)
    return torch.sigmoid(dark * info)


def attention_explorer(x: Tensor, features: Tensor, gammas: tuple[float, float] = (1.0, 12.0)):
    """An ipywidgets slider over γ showing the image x (1, 3, H, W) and its attention map for that γ.

    features: φ(x) (1, C, h, w). First displays a static companion (the map at five γ spanning the slider's
    range, what the built book shows), then returns the widget (a ``VBox``); each redraw displays a closed figure.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    out = W.Output()
    slider = W.FloatSlider(value=4.0, min=gammas[0], max=gammas[1], step=0.5, description="γ")
    image = x[0].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy() ** (1 / 2.2)

    def draw(change=None) -> None:
        xa = attention_map(x, features, slider.value)[0, 0].detach().cpu()
        fig, ax = plt.subplots(1, 2, figsize=(8, 3.6))
        ax[0].imshow(image)
        ax[0].set_title("input (display-brightened)")
        im = ax[1].imshow(xa.numpy(), cmap="magma", vmin=0.5, vmax=float(torch.sigmoid(torch.tensor(1.0))))
        ax[1].set_title(f"attention map $x_a$, γ = {slider.value:g}")
        for a in ax:
            a.axis("off")
        fig.colorbar(im, ax=ax[1], fraction=0.046)
        plt.close(fig)
        with out:
            out.clear_output(wait=True)
            display(fig)

    sweep = torch.linspace(gammas[0], gammas[1], 5).tolist()
    fig, axes = plt.subplots(1, len(sweep), figsize=(3 * len(sweep), 3))
    for a, gamma in zip(axes, sweep):
        a.imshow(attention_map(x, features, gamma)[0, 0].detach().cpu().numpy(), cmap="magma", vmin=0.5,
                 vmax=float(torch.sigmoid(torch.tensor(1.0))))
        a.set_title(f"γ = {gamma:g}")
        a.axis("off")
    fig.suptitle("attention map $x_a$ over the slider's range")
    plt.close(fig)
    display(fig)
    slider.observe(draw, names="value")
    draw()
    return W.VBox([slider, out])
