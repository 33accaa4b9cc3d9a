r"""Unpaired low-light enhancement with a feature-guided attention GAN (Guo et al. 2021), and the classics.

* Classic baselines on the value channel V = max(R, G, B): :func:`gamma_correction`, :func:`equalize_hist`,
  :func:`clahe` (scikit-image's), :func:`lime` (an illumination-map method), all through :func:`on_value`.
  Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
* The feature network φ: :func:`feature_extractor` gives ImageNet VGG-16 up to relu5_1 (the first conv after
  the fourth pooling) when its weights are on disk, otherwise :class:`OrientedEnergy`, a fixed bank of Gabor
  filters with contrast normalisation (no training, no download). Its ``description`` says which.
* :func:`attention_map` — eq. (lowlight-attention): :math:`x_a = \sigma((1-x_{gray})\circ\mathcal U(\phi(x))^\gamma)`;
  :func:`perceptual_loss` — eq. (lowlight-perceptual).
  Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
* :class:`EnhancerGAN` — the U-Net generator with the attention map multiplied into every level and the
  output (a floored brightening curve, a learned blend toward the :func:`tent_mean`, and a bounded correction,
  eq. (lowlight-output)), two PatchGAN discriminators (full and half resolution), least-squares losses from
  :mod:`genmodels.gan`, and our colour-consistency (:func:`colour_loss`) and brightness-matching
  (:func:`brightness_loss`, a 1-D Wasserstein distance from :mod:`genmodels.sliced`) terms.
  Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import gan, nets, sliced, train
from .data.base import check_images

LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights of the gray map :math:`x_{gray}`."""


def _check_rgb(x: Tensor, who: str) -> None:
    check_images(x, who)
    if x.shape[1] != 3:
        raise ValueError(f"{who}: expected RGB images (N, 3, H, W); got {tuple(x.shape)}")


def gray(x: Tensor) -> Tensor:
    """Gray map (N, 1, H, W) of RGB images x (N, 3, H, W) in [0, 1] (BT.601 luma)."""
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


# --------------------------------------------------------------------------------------------------
# Classic enhancement
# --------------------------------------------------------------------------------------------------


def on_value(x: Tensor, f: Callable[[Tensor], Tensor], eps: float = 1e-4) -> Tensor:
    r"""Apply a brightness map f to the value channel :math:`V=\max_c x_c` and scale RGB by :math:`f(V)/V`.

    Hue and saturation are kept and no channel can pass 1, since every channel is at most V (the final
    ``clamp`` only removes float round-off). Black pixels (V ≈ 0) become gray f(0). x: (N, 3, H, W) in [0, 1].
    """
    _check_rgb(x, "on_value")
    v = x.amax(1, keepdim=True)
    fv = f(v)
    if fv.shape != v.shape or fv.min() < 0 or fv.max() > 1 + 1e-6:
        raise ValueError("on_value: f must map (N, 1, H, W) values in [0, 1] to the same shape in [0, 1]")
    return (x * (fv / v.clamp(min=eps))).clamp(max=1.0) * (v > eps) + fv * (v <= eps)


def gamma_correction(v: Tensor, gamma: float = 2.2) -> Tensor:
    """:math:`v^{1/\\gamma}` for values in [0, 1] (any shape); γ > 1 brightens the darks most."""
    if gamma <= 0:
        raise ValueError(f"gamma must be positive; got {gamma}")
    if v.min() < 0 or v.max() > 1:
        raise ValueError(f"gamma_correction: expected values in [0, 1]; got [{float(v.min()):.3g}, {float(v.max()):.3g}]")
    return v.pow(1.0 / gamma)


def equalize_hist(v: Tensor, nbins: int = 256) -> Tensor:
    r"""Histogram equalisation of each image's single channel v (N, 1, H, W), vectorised over the batch.

    The cumulative histogram :math:`c(b)` (``nbins`` bins between each image's min and max, normalised to
    c(last) = 1) is the new value, interpolated linearly between bin centres — the map that makes the
    output histogram as flat as the bins allow (scikit-image's ``equalize_hist``).
    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    if v.ndim != 4 or v.shape[1] != 1:
        raise ValueError(f"equalize_hist: expected (N, 1, H, W); got {tuple(v.shape)}")
    n = v.shape[0]
    flat = v.reshape(n, -1).double()
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    width = (hi - lo).clamp(min=1e-12) / nbins
    b = ((flat - lo) / width).floor().clamp(0, nbins - 1).long()
    hist = torch.zeros(n, nbins, dtype=torch.float64, device=v.device).scatter_add_(1, b, torch.ones_like(flat))
    cdf = hist.cumsum(1)
    cdf = cdf / cdf[:, -1:]
    pos = ((flat - lo) / width - 0.5).clamp(0, nbins - 1)  # position in units of bin centres
    i0 = pos.floor().long().clamp(max=nbins - 2)
    t = pos - i0
    out = torch.gather(cdf, 1, i0) * (1 - t) + torch.gather(cdf, 1, i0 + 1) * t
    return out.view_as(v).to(v.dtype)


def clahe(v: Tensor, clip_limit: float = 0.01, kernel_size: int | None = None) -> Tensor:
    """Contrast-limited adaptive histogram equalisation of v (N, 1, H, W): scikit-image's ``equalize_adapthist``."""
    from skimage.exposure import equalize_adapthist

    if v.ndim != 4 or v.shape[1] != 1:
        raise ValueError(f"clahe: expected (N, 1, H, W); got {tuple(v.shape)}")
    arr = v.detach().cpu().double().numpy()
    out = np.stack([equalize_adapthist(a[0], kernel_size=kernel_size, clip_limit=clip_limit)[None] for a in arr])
    return torch.from_numpy(out).to(v)


def lime_illumination(v: Tensor, alpha: float = 0.15, eps: float = 0.01, rtol: float = 1e-5) -> Tensor:
    r"""Refined illumination map T (N, 1, H, W) of initial estimates :math:`\hat T = v` (the value channel).

    Minimises :math:`\|T-\hat T\|^2 + \alpha\sum_{d\in\{h,v\}}\sum_u W_d(u)\,(\partial_d T(u))^2` with
    :math:`W_d = 1/(|\partial_d \hat T| + \epsilon)`: smooth where the estimate is flat, free to jump at
    strong edges (LIME's "strategy II" weights). The normal equations :math:`(I + \alpha D^\top W D)T = \hat T`
    of all N images form one block-diagonal sparse system, solved by conjugate gradients.
    """
    import scipy.sparse
    import scipy.sparse.linalg

    if v.ndim != 4 or v.shape[1] != 1:
        raise ValueError(f"lime_illumination: expected (N, 1, H, W); got {tuple(v.shape)}")
    n, _, h, w = v.shape
    t_hat = v.detach().cpu().double().numpy()[:, 0]                      # (N, H, W)
    idx = np.arange(n * h * w).reshape(n, h, w)
    pairs = [(idx[:, :, :-1], idx[:, :, 1:], np.diff(t_hat, axis=2)),  # horizontal neighbours
             (idx[:, :-1, :], idx[:, 1:, :], np.diff(t_hat, axis=1))]  # vertical neighbours
    a = np.concatenate([p[0].ravel() for p in pairs])
    b = np.concatenate([p[1].ravel() for p in pairs])
    wt = np.concatenate([alpha / (np.abs(p[2]).ravel() + eps) for p in pairs])
    size = n * h * w
    # graph Laplacian D^T W D: +w on both diagonal entries, -w off the diagonal
    lap = scipy.sparse.coo_matrix((np.concatenate([-wt, -wt, wt, wt]),
                                   (np.concatenate([a, b, a, b]), np.concatenate([b, a, a, b]))), shape=(size, size)).tocsr()
    system = scipy.sparse.identity(size, format="csr") + lap
    jacobi = scipy.sparse.diags(1.0 / system.diagonal())
    t, info = scipy.sparse.linalg.cg(system, t_hat.ravel(), x0=t_hat.ravel(), rtol=rtol, maxiter=2000, M=jacobi)
    if info != 0:
        raise RuntimeError(f"lime_illumination: conjugate gradients did not converge (info={info})")
    return torch.from_numpy(t.reshape(n, 1, h, w)).to(v)


def lime(x: Tensor, gamma: float = 0.8, alpha: float = 0.15, floor: float = 0.05) -> Tensor:
    r"""LIME-style enhancement: :math:`R = x / \max(T, \text{floor})^{\gamma}` with T from :func:`lime_illumination`.

    Retinex view x = R ∘ T: dividing by the (gamma-softened) illumination brightens dark regions and
    leaves lit ones nearly unchanged. x: (N, 3, H, W) in [0, 1]; the output is scaled back into [0, 1]
    per pixel by :func:`on_value`'s rule (V' = min(1, V / T^γ)).
    """
    _check_rgb(x, "lime")
    t = lime_illumination(x.amax(1, keepdim=True), alpha=alpha)
    t = t.clamp(min=floor).pow(gamma)
    return on_value(x, lambda v: (v / t).clamp(max=1.0))


# --------------------------------------------------------------------------------------------------
# The feature network φ
# --------------------------------------------------------------------------------------------------


class OrientedEnergy(nn.Module):
    r"""A fixed feature network: local contrast energy of Gabor filters, image (N, 3, H, W) → (N, 8, H/16, W/16).

    The gray map is halved (2×2 average), filtered by even/odd Gabor pairs at 2 wavelengths (4 and 8 px at
    half resolution) × 4 orientations; the energy :math:`\sqrt{e^2+o^2}` is averaged over 8×8 blocks and
    divided by the block's mean brightness + 0.02 (Weber contrast), so the map measures *structure* rather
    than brightness. Same stride (16) as VGG-16's relu5_1. Its weights are formulas, not learned.
    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """

    stride = 16

    def __init__(self, wavelengths: tuple[float, ...] = (4.0, 8.0), orientations: int = 4):
        super().__init__()
        banks = []
        self.radius = int(math.ceil(2.5 * 0.56 * max(wavelengths)))
        r = self.radius
        yy, xx = torch.meshgrid(torch.arange(-r, r + 1.0), torch.arange(-r, r + 1.0), indexing="ij")
        for lam in wavelengths:
            s = 0.56 * lam
            env = torch.exp(-(xx**2 + yy**2) / (2 * s**2))
            for k in range(orientations):
                th = math.pi * k / orientations
                u = xx * math.cos(th) + yy * math.sin(th)
                even = env * torch.cos(2 * math.pi * u / lam)
                even = even - env * (even.sum() / env.sum())  # zero mean: no response to flat brightness
                odd = env * torch.sin(2 * math.pi * u / lam)
                banks += [even / even.abs().sum(), odd / odd.abs().sum()]
        self.register_buffer("kernels", torch.stack(banks)[:, None])
        self.out_channels = len(banks) // 2
        self.description = (f"OrientedEnergy: fixed Gabor contrast-energy filters ({len(wavelengths)} scales × "
                            f"{orientations} orientations, stride 16); not learned")

    def forward(self, x: Tensor) -> Tensor:
        g = F.avg_pool2d(gray(x), 2)
        resp = F.conv2d(F.pad(g, (self.radius,) * 4, mode="reflect"), self.kernels)
        energy = (resp[:, 0::2] ** 2 + resp[:, 1::2] ** 2).sqrt()
        return F.avg_pool2d(energy, 8) / (F.avg_pool2d(g, 8) + 0.02)


VGG16_FILE = "vgg16-397923af.pth"
"""The file name of torchvision's ImageNet VGG-16 weights (``VGG16_Weights.IMAGENET1K_V1``)."""


class VGGFeatures(nn.Module):
    """VGG-16's convolutional layers up to relu5_1 (the first conv after the fourth pooling), frozen.

    Input (N, 3, H, W) in [0, 1] is normalised with the ImageNet mean/std; output (N, C5, H/16, W/16).
    """

    stride = 16

    def __init__(self, body: nn.Sequential, description: str):
        super().__init__()
        self.body = body
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.description = description
        self.out_channels = body[-2].out_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.body((x - self.mean) / self.std)


def vgg16_features(path: str | Path) -> VGGFeatures:
    """Build :class:`VGGFeatures` from a torchvision-style VGG-16 state dict file (keys ``features.<i>.*``).

    Only layers 0–25 (up to relu5_1) are used; the widths are read from the file, so a small VGG-shaped
    state dict works too. Raises ``FileNotFoundError`` / ``ValueError`` with what was expected.
    """
    from torchvision.models.vgg import make_layers

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no VGG-16 weights at {path}; expected torchvision's {VGG16_FILE}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24]  # the conv layers of VGG-16 up to conv5_1
    missing = [f"features.{i}.weight" for i in convs if f"features.{i}.weight" not in state]
    if missing:
        raise ValueError(f"{path} is not a VGG-16 state dict: missing {missing[:3]}{'...' if len(missing) > 3 else ''}")
    widths = [state[f"features.{i}.weight"].shape[0] for i in convs]
    cfg = widths[:2] + ["M"] + widths[2:4] + ["M"] + widths[4:7] + ["M"] + widths[7:10] + ["M"] + widths[10:]
    body = make_layers(cfg)  # torchvision's own VGG layer builder, so the indices match its state dicts
    sub = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) < 25}
    try:
        body.load_state_dict(sub)
    except RuntimeError as err:
        raise ValueError(f"{path}: VGG-16 weights do not fit the VGG-16 layout ({err})") from err
    body.requires_grad_(False)
    return VGGFeatures(body.eval(), f"VGG-16 relu5_1 with weights from {path}")


def feature_extractor(prefer: str = "auto", vgg_path: str | Path | None = None) -> nn.Module:
    """The feature network φ used by the attention map and the perceptual loss, frozen, in eval mode.

    prefer: ``"auto"`` (VGG-16 ImageNet weights if found on disk — ``vgg_path`` or torch's hub cache
    ``<torch.hub.get_dir()>/checkpoints/vgg16-397923af.pth`` — else :class:`OrientedEnergy`),
    ``"vgg16"`` (require the weights: clear error if absent), ``"oriented"`` (always the filter bank).
    The returned module's ``description`` names what was used. Nothing is downloaded here.
    """
    if prefer not in ("auto", "vgg16", "oriented"):
        raise ValueError(f"prefer must be 'auto', 'vgg16' or 'oriented'; got {prefer!r}")
    if prefer != "oriented":
        path = Path(vgg_path) if vgg_path is not None else Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE
        if path.is_file():
            return vgg16_features(path)
        if prefer == "vgg16":
            raise FileNotFoundError(
                f"VGG-16 ImageNet weights not found at {path}. With network: "
                "torchvision.models.vgg16(weights='IMAGENET1K_V1') downloads them there; or use prefer='oriented'.")
    return OrientedEnergy().requires_grad_(False).eval()


# --------------------------------------------------------------------------------------------------
# Attention and the perceptual loss
# --------------------------------------------------------------------------------------------------


def feature_saliency(features: Tensor, size: tuple[int, int]) -> Tensor:
    r""":math:`\mathcal U(\phi(x))` (N, 1, H, W): channel mean of φ, standardised per image, upsampled
    bilinearly to ``size`` and passed through a sigmoid (so it lies in (0, 1))."""
    if features.ndim != 4:
        raise ValueError(f"features must be (N, C, h, w); got {tuple(features.shape)}")
    f = features.mean(1, keepdim=True)
    mu = f.mean((2, 3), keepdim=True)
    sd = f.std((2, 3), keepdim=True) if f[0].numel() > 1 else torch.ones_like(mu)
    f = (f - mu) / (sd + 1e-6)
    return torch.sigmoid(F.interpolate(f, size=size, mode="bilinear", align_corners=False))


def attention_map(x: Tensor, features: Tensor | None, gamma: float = 4.0, use_gray: bool = True) -> Tensor:
    r"""Eq. (lowlight-attention): :math:`x_a = \sigma\big((1-x_{gray})\circ\mathcal U(\phi(x))^{\gamma}\big)`, (N, 1, H, W).

    x: (N, 3, H, W) in [0, 1]; features: φ(x) (N, C, h, w), or None to drop the feature term (ablation
    "no feature map": the factor becomes 1); ``use_gray=False`` drops the gray term (ablation "no gray
    map"). Values lie in [σ(0), σ(1)] = [0.5, 0.731]: largest where the image is dark *and* structured.
    """
    _check_rgb(x, "attention_map")
    if gamma < 1:
        raise ValueError(f"gamma must be ≥ 1 (the paper's range); got {gamma}")
    dark = 1 - gray(x) if use_gray else torch.ones_like(x[:, :1])
    info = feature_saliency(features, x.shape[2:]).pow(gamma) if features is not None else torch.ones_like(dark)
    return torch.sigmoid(dark * info)


def perceptual_loss(phi: nn.Module, x: Tensor, y: Tensor, normalize: bool = True) -> Tensor:
    r"""Eq. (lowlight-perceptual): :math:`\frac1{K}\sum_k (\tilde\phi_k(x)-\tilde\phi_k(y))^2` over the K
    elements of the feature maps; with ``normalize`` each channel of each image is first standardised
    (instance normalisation), which makes the loss blind to a change of overall brightness."""
    if x.shape != y.shape:
        raise ValueError(f"perceptual_loss: x and y must have the same shape; got {tuple(x.shape)}, {tuple(y.shape)}")
    fx, fy = phi(x), phi(y)
    if normalize:
        fx, fy = F.instance_norm(fx, eps=1e-5), F.instance_norm(fy, eps=1e-5)
    return (fx - fy).pow(2).mean()


def chromaticity(x: Tensor, eps: float = 1e-3) -> Tensor:
    r"""Chromaticity :math:`x_c / \sum_{c'} x_{c'}` (N, 3, H, W) of RGB images x; ``eps`` keeps black pixels finite."""
    return x / (x.sum(1, keepdim=True) + eps)


def colour_error(y: Tensor, truth: Tensor, floor: float = 0.15) -> float:
    """Mean L1 distance between the chromaticities of y and truth (N, 3, H, W), over the pixels whose channel sum
    exceeds ``floor`` in both images (nearly black pixels have no reliable colour). 0 is right."""
    if y.shape != truth.shape:
        raise ValueError(f"colour_error: y and truth must have the same shape; got {tuple(y.shape)}, {tuple(truth.shape)}")
    ok = (y.sum(1) > floor) & (truth.sum(1) > floor)
    return (chromaticity(y, 0.0) - chromaticity(truth, 0.0)).abs().sum(1)[ok].mean().item()


def colour_loss(x: Tensor, y: Tensor, block: int = 4) -> Tensor:
    r"""The colour-consistency term of eq. (lowlight-objective): :math:`\frac1{|B|}\sum_{b}\|\kappa(\bar y_b)-\kappa(\bar x_b)\|_1`, the L1 distance between
    the chromaticities κ of block means (``block``×``block`` average pooling) of the input x and the output y.

    Under achromatic illumination the camera model keeps every pixel's chromaticity (chapter 02), so the
    enhanced image should have the input's; block means average away the chroma noise of dark pixels.
    """
    if x.shape != y.shape:
        raise ValueError(f"colour_loss: x and y must have the same shape; got {tuple(x.shape)}, {tuple(y.shape)}")
    _check_rgb(x, "colour_loss")
    px, py = F.avg_pool2d(x, block), F.avg_pool2d(y, block)
    return (chromaticity(py) - chromaticity(px)).abs().sum(1).mean()


def brightness_loss(y_hat: Tensor, y: Tensor, block: int = 8) -> Tensor:
    r"""The brightness-matching term of eq. (lowlight-objective): :math:`W_2` between the empirical distributions
    of the mean gray levels of the ``block``×``block`` blocks of two equally shaped batches (N, 3, H, W).

    In one dimension :math:`W_2^2` is the mean squared difference of the sorted samples
    (:func:`genmodels.sliced.sw_1d`); it is at least the squared difference of the means (chapter 02).
    """
    if y_hat.shape != y.shape:
        raise ValueError(f"brightness_loss: y_hat and y must have the same shape; got {tuple(y_hat.shape)}, {tuple(y.shape)}")
    u, v = (F.avg_pool2d(gray(t), block).reshape(1, -1) for t in (y_hat, y))
    return sliced.sw_1d(u, v)[0].add(1e-12).sqrt()


def tent_mean(z: Tensor) -> Tensor:
    r"""Local mean of images z (N, C, H, W) under the separable 9×9 tent kernel: two passes of a 5×5 box filter
    (near the border each box averages only the pixels inside the image). Per axis the weights are
    (1, 2, 3, 4, 5, 4, 3, 2, 1)/25, so independent noise of standard deviation s comes out with s·85/625 ≈ s/7.35
    (eq. (lowlight-tent))."""
    def box(t: Tensor) -> Tensor:
        return F.avg_pool2d(t, 5, 1, 2, count_include_pad=False)

    return box(box(z))


# --------------------------------------------------------------------------------------------------
# The GAN
# --------------------------------------------------------------------------------------------------

ATTENTION_MODES = ("full", "no_feature", "no_gray", "none")


@dataclasses.dataclass
class EnhancerConfig:
    """Hyper-parameters of :class:`EnhancerGAN` (the paper: α = 1, γ = 4, lr = 1e-4, Adam)."""

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
    phi: str = "oriented"        # which φ: the description's first word (set by the constructor)


BLEND_START_LOGIT = 2.0
"""Initial bias of the blend channel t₅: training starts from w ≈ σ(2) ≈ 0.88, the smoothed image, and learns where
detail must come back (as an LSTM's forget gate starts open)."""


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
    """

    def __init__(self, config: EnhancerConfig = EnhancerConfig(), phi: nn.Module | None = None):
        super().__init__()
        if config.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}; got {config.attention!r}")
        if not 0 <= config.a_min < 1:
            raise ValueError(f"a_min, the floor of the brightening map, must lie in [0, 1); got {config.a_min}")
        phi = phi if phi is not None else feature_extractor()
        config = dataclasses.replace(config, phi=phi.description.split(":")[0].split(" ")[0])
        self.config = config
        self.__dict__["phi"] = phi  # not a submodule: frozen, not trained, not saved in checkpoints
        self.G = nets.UNet(4, 5, width=config.width, depth=config.depth, norm=config.batch_norm, upsample="bilinear")
        with torch.no_grad():
            self.G.head.bias[4] = BLEND_START_LOGIT
        self.D = nn.ModuleList([nets.PatchDiscriminator(3, config.d_width, 3) for _ in range(2)])

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {"g": torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=c.betas),
                "d": torch.optim.Adam(self.D.parameters(), lr=c.lr, betas=c.betas)}

    def attention(self, x: Tensor) -> Tensor:
        """x_a (N, 1, H, W) for this model's ablation setting (ones for ``attention="none"``)."""
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
        a_blocks = c.a_min + (1 - c.a_min) * torch.sigmoid(F.avg_pool2d(t[:, :1], c.smooth))
        a = F.interpolate(a_blocks, size=x.shape[2:], mode="bilinear", align_corners=False)
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
        """Patch scores of D₁ on y and of D₂ on y average-pooled by 2, each flattened to (N·patches,)."""
        return [self.D[0](y).flatten(), self.D[1](F.avg_pool2d(y, 2)).flatten()]

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        x, y = batch
        fake, t, _ = self._output(x)
        d_loss = sum(gan.lsgan_d_loss(r, f) for r, f in zip(self.discriminate(y), self.discriminate(fake.detach())))
        optimizers["d"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["d"].step()
        g_adv = sum(gan.lsgan_g_loss(f) for f in self.discriminate(fake))
        per = perceptual_loss(self.phi.to(x.device), x, fake)
        col = colour_loss(x, fake)
        light = brightness_loss(fake, y, self.config.smooth)
        g_loss = (g_adv + self.config.alpha * per + self.config.beta * col + self.config.eta * light
                  + self.config.tau * t.pow(2).mean())
        optimizers["g"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["g"].step()
        return {"d_loss": d_loss.detach(), "g_adv": g_adv.detach(), "perceptual": per.detach(), "colour": col.detach(), "brightness": light.detach(), "g_loss": g_loss.detach()}

    @torch.no_grad()
    def enhance(self, x: Tensor, batch_size: int = 8) -> Tensor:
        """Enhance images of any size (N, 3, H, W): reflect-pad to a multiple of 2^depth and ``smooth``, run in eval mode, crop."""
        _check_rgb(x, "enhance")
        was = self.training
        self.eval()
        m = math.lcm(2**self.config.depth, self.config.smooth)
        h, w = x.shape[2:]
        ph, pw = (-h) % m, (-w) % m

        def padded(xb: Tensor) -> Tensor:
            return self(F.pad(xb, (0, pw, 0, ph), mode="reflect") if ph or pw else xb)[:, :, :h, :w]

        out = train.apply_batched(padded, x, next(self.parameters()).device, batch_size)
        self.train(was)
        return out


def enhance_all(methods: Mapping[str, Callable[[Tensor], Tensor]], low: Tensor) -> dict[str, Tensor]:
    """Run every method (name → function on (N, 3, H, W) images) on ``low``; check each output's shape and range."""
    out = {}
    for name, f in methods.items():
        y = f(low)
        if y.shape != low.shape:
            raise ValueError(f"method {name!r} returned shape {tuple(y.shape)}; expected {tuple(low.shape)}")
        check_images(y, f"output of {name!r}")
        out[name] = y
    return out


def scores(results: Mapping[str, Tensor], reference: Tensor | None = None) -> dict[str, dict[str, float]]:
    """Mean NIQE (and PSNR, SSIM against ``reference`` when given) of each method's images: name → metric → value."""
    from . import metrics

    table = {}
    for name, y in results.items():
        row = {"NIQE": float(metrics.niqe(y).mean())}
        if reference is not None:
            row["PSNR"] = float(metrics.psnr(y, reference).mean())
            row["SSIM"] = float(metrics.ssim(y, reference).mean())
        table[name] = row
    return table


def format_table(table: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table of :func:`scores` (methods as rows, metrics as columns, arrows for better)."""
    cols = list(next(iter(table.values())))
    arrow = {"NIQE": "↓", "PSNR": "↑", "SSIM": "↑"}
    head = f"{'method':<22}" + "".join(f"{c + ' ' + arrow.get(c, ''):>10}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, row in table.items():
        lines.append(f"{name:<22}" + "".join(f"{row[c]:>10.3f}" for c in cols))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Sizes and training shared by the chapters (so 02, 03 and 04 train and cache the very same runs)
# --------------------------------------------------------------------------------------------------

TRAINING = {
    "smoke": {"crops": 64, "size": 48, "epochs": 1, "batch_size": 16, "width": 8, "d_width": 16, "lr": 5e-4,
              "test_photos": ("rocket",), "test_size": 384},
    "default": {"crops": 1536, "size": 48, "epochs": 10, "batch_size": 16, "width": 16, "d_width": 16, "lr": 5e-4,
                "test_photos": ("astronaut", "rocket", "china"), "test_size": 384},
    "full": {"crops": 16000, "size": 256, "epochs": 100, "batch_size": 16, "width": 32, "d_width": 64, "lr": 1e-4,
             "test_photos": ("astronaut", "rocket", "china"), "test_size": 384},
}
"""Per budget: unpaired crops per domain and their size, epochs, batch, U-Net and D widths, learning rate
(the paper's 1e-4 at full scale; 5e-4 for the short CPU runs), held-out test photographs and their side
(NIQE needs many 96-pixel blocks: 384 gives 16)."""


def train_enhancer(attention: str, sizes: Mapping, phi: nn.Module | None = None, **config) -> tuple[EnhancerGAN, train.History]:
    """Build an :class:`EnhancerGAN` with ``attention`` and train it by :func:`genmodels.train.fit` on the unpaired
    data of ``sizes`` (an entry of :data:`TRAINING`); cached under ``lowlight-<attention>``."""
    from .data import lowlight as data

    low, normal = data.unpaired(sizes["crops"], size=sizes["size"], seed=0)
    cfg = EnhancerConfig(attention=attention, width=sizes["width"], d_width=sizes["d_width"], lr=sizes["lr"], **config)
    torch.manual_seed(0)  # the initial weights, so that whichever chapter trains a run first gets the same one
    model = EnhancerGAN(cfg, phi=phi)
    history = train.fit(model, (low.x, normal.x), epochs=sizes["epochs"], batch_size=sizes["batch_size"], seed=0,
                        name=f"lowlight-{attention}")
    return model, history


def attention_explorer(x: Tensor, features: Tensor, gammas: tuple[float, float] = (1.0, 12.0)):
    """An ipywidgets slider over γ showing the image x (1, 3, H, W) and its attention map for that γ.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt

    out = W.Output()
    slider = W.FloatSlider(value=4.0, min=gammas[0], max=gammas[1], step=0.5, description="γ")

    def draw(change=None) -> None:
        xa = attention_map(x, features, slider.value)[0, 0]
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(1, 2, figsize=(8, 3.6))
            ax[0].imshow(x[0].permute(1, 2, 0).clamp(0, 1).numpy() ** (1 / 2.2))
            ax[0].set_title("input (display-brightened)")
            im = ax[1].imshow(xa.numpy(), cmap="magma", vmin=0.5, vmax=float(torch.sigmoid(torch.tensor(1.0))))
            ax[1].set_title(f"attention map $x_a$, γ = {slider.value:g}")
            for a in ax:
                a.axis("off")
            fig.colorbar(im, ax=ax[1], fraction=0.046)
            plt.show()

    slider.observe(draw, names="value")
    draw()
    return W.VBox([slider, out])
