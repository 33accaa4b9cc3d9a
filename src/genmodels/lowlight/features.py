"""The feature network φ of Part 4: VGG-16 up to relu5_1 when its weights are on disk, else a fixed Gabor bank.

:func:`feature_extractor` chooses; :class:`OrientedEnergy` needs no training and no download; :class:`VGGFeatures`
wraps torchvision's layers (:func:`vgg16_features` reads a state dict). Both map (N, 3, H, W) images in [0, 1]
to (N, C, H/16, W/16) feature maps and say in ``description`` what they are.

Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .classic import gray


class OrientedEnergy(nn.Module):
    r"""A fixed feature network: local contrast energy of Gabor filters, image (N, 3, H, W) → (N, 8, H/16, W/16).

    The gray map is halved (2×2 average), filtered by even/odd Gabor pairs at 2 wavelengths (4 and 8 px at
    half resolution) × 4 orientations; the energy :math:`\sqrt{e^2+o^2}` is averaged over 8×8 blocks and
    divided by the block's mean brightness + 0.02 (Weber contrast), so the map measures *structure* rather
    than brightness. Same stride (16) as VGG-16's relu5_1. Its weights are formulas, not learned; it runs
    on the input's device and in its dtype.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """

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
        """Feature maps (N, 8, H/16, W/16) of images x (N, 3, H, W) in [0, 1]."""
        g = F.avg_pool2d(gray(x), 2)
        resp = F.conv2d(F.pad(g, (self.radius,) * 4, mode="reflect"), self.kernels.to(g))
        energy = (resp[:, 0::2] ** 2 + resp[:, 1::2] ** 2).sqrt()
        return F.avg_pool2d(energy, 8) / (F.avg_pool2d(g, 8) + 0.02)


VGG16_FILE = "vgg16-397923af.pth"
"""The file name of torchvision's ImageNet VGG-16 weights (``VGG16_Weights.IMAGENET1K_V1``)."""


class VGGFeatures(nn.Module):
    """VGG-16's convolutional layers up to relu5_1 (the first conv after the fourth pooling), frozen.

    Input (N, 3, H, W) in [0, 1] is normalised with the ImageNet mean/std; output (N, C5, H/16, W/16), computed in
    the weights' dtype and returned in the input's.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
    """

    def __init__(self, body: nn.Sequential, description: str):
        super().__init__()
        self.body = body
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.description = description
        self.out_channels = body[-2].out_channels

    def forward(self, x: Tensor) -> Tensor:
        """Feature maps (N, C5, H/16, W/16) of images x (N, 3, H, W) in [0, 1]."""
        return self.body((x.to(self.mean.dtype) - self.mean) / self.std).to(x.dtype)


def vgg16_features(path: str | Path) -> VGGFeatures:
    """Build :class:`VGGFeatures` from a torchvision-style VGG-16 state dict file (keys ``features.<i>.*``).

    Only layers 0–25 (up to relu5_1) are used; the widths are read from the file, so a small VGG-shaped
    state dict works too. Raises ``FileNotFoundError`` / ``ValueError`` with what was expected.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
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
    The returned module maps (N, 3, H, W) to (N, C, H/16, W/16); its ``description`` names what was used.
    Nothing is downloaded here.

    Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
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
