r"""The generator's loss terms of eq. (lowlight-objective) besides the adversarial one, and what they measure.

:func:`perceptual_loss` (the paper's self-feature-preserving term, φ of the input against φ of the output),
our :func:`colour_loss` (chromaticity of block means) and :func:`brightness_loss` (W₂ of block brightness);
:func:`colour_error` is the evaluation's colour score, :func:`tent_mean` the local mean the generator blends toward.

Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .. import sliced
from .classic import _check_rgb, gray


def _same_shape(a: Tensor, b: Tensor, who: str, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{who}: {names} must have the same shape; got {tuple(a.shape)}, {tuple(b.shape)}")


def perceptual_loss(phi: nn.Module, x: Tensor, y: Tensor, normalize: bool = True) -> Tensor:
    r"""Eq. (lowlight-perceptual): :math:`\frac1{K}\sum_k (\tilde\phi_k(x)-\tilde\phi_k(y))^2`, a scalar.

    x, y: (N, 3, H, W), the input and the enhanced image; the mean runs over the K elements of the feature maps
    φ(x), φ(y) (N, C, h, w). With ``normalize`` each channel of each image is first standardised (instance
    normalisation, biased variance, ε = 1e-5), which makes the loss blind to a change of overall brightness.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    _same_shape(x, y, "perceptual_loss", "x and y")
    fx, fy = phi(x), phi(y)
    if normalize:
        fx, fy = F.instance_norm(fx, eps=1e-5), F.instance_norm(fy, eps=1e-5)
    return (fx - fy).pow(2).mean()


def chromaticity(x: Tensor, eps: float = 1e-3) -> Tensor:
    r"""Chromaticity :math:`x_c / (\sum_{c'} x_{c'} + \epsilon)` (N, 3, H, W) of RGB images x (N, 3, H, W).

    ``eps`` keeps black pixels finite.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    return x / (x.sum(1, keepdim=True) + eps)


def colour_error(y: Tensor, truth: Tensor, floor: float = 0.15) -> float:
    """Mean L1 distance between the chromaticities of y and truth (N, 3, H, W), a float; 0 is right.

    The mean runs over the pixels whose channel sum exceeds ``floor`` in both images (nearly black pixels have
    no reliable colour).

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    _same_shape(y, truth, "colour_error", "y and truth")
    ok = (y.sum(1) > floor) & (truth.sum(1) > floor)
    return (chromaticity(y, 0.0) - chromaticity(truth, 0.0)).abs().sum(1)[ok].mean().item()


def colour_loss(x: Tensor, y: Tensor, block: int = 4) -> Tensor:
    r"""The colour-consistency term of eq. (lowlight-objective), a scalar, for x, y (N, 3, H, W).

    :math:`\frac1{|B|}\sum_{b}\|\kappa(\bar y_b)-\kappa(\bar x_b)\|_1`: the L1 distance between the chromaticities
    κ of the block means (``block``×``block`` average pooling) of the input x and the output y. Under achromatic
    illumination the camera model keeps every pixel's chromaticity (chapter 02), so the enhanced image should
    have the input's; block means average away the chroma noise of dark pixels.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    _same_shape(x, y, "colour_loss", "x and y")
    _check_rgb(x, "colour_loss")
    px, py = F.avg_pool2d(x, block), F.avg_pool2d(y, block)
    return (chromaticity(py) - chromaticity(px)).abs().sum(1).mean()


def brightness_loss(y_hat: Tensor, y: Tensor, block: int = 8) -> Tensor:
    r"""The brightness-matching term of eq. (lowlight-objective), a scalar, for y_hat, y (N, 3, H, W).

    :math:`W_2` between the empirical distributions of the mean gray levels of the ``block``×``block`` blocks
    of the two batches. In one dimension :math:`W_2^2` is the mean squared difference of the sorted samples
    (:func:`genmodels.sliced.sw_1d`); it is at least the squared difference of the means (chapter 02).

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    _same_shape(y_hat, y, "brightness_loss", "y_hat and y")
    u, v = (F.avg_pool2d(gray(t), block).reshape(1, -1) for t in (y_hat, y))
    return sliced.sw_1d(u, v)[0].add(1e-12).sqrt()


def tent_mean(z: Tensor) -> Tensor:
    r"""Local mean (N, C, H, W) of images z (N, C, H, W) under the separable 9×9 tent kernel (eq. (lowlight-tent)).

    Two passes of a 5×5 box filter (near the border each box averages only the pixels inside the image). Per
    axis the weights are (1, 2, 3, 4, 5, 4, 3, 2, 1)/25, so independent noise of standard deviation s comes out
    with s·85/625 ≈ s/7.35.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    def box(t: Tensor) -> Tensor:
        return F.avg_pool2d(t, 5, 1, 2, count_include_pad=False)

    return box(box(z))
