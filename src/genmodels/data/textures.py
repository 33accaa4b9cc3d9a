"""Texture images and aligned object images for the generative ConvNet chapters.

Offline, everything comes from images that ship inside the scikit-image wheel (``skimage.data``):

* textures: ``brick``, ``grass``, ``gravel`` (grey, 512×512), and two colour ones, ``cells`` (the
  ``immunohistochemistry`` stained tissue) and ``stars`` (the ``hubble_deep_field``);
* aligned objects: ``faces``, the 100 face crops (25×25, grey) of ``skimage.data.lfw_subset``.

A reader who has the paper's own training images (224×224 photographs) puts them in a folder and passes
``root=``: :func:`texture` then reads the one file whose name (without suffix) is ``name`` (the paper learns
one model per texture), :func:`objects` every image file there. Non-square images are cropped to their
central square before resizing, so a texture is never stretched.

Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..metrics_image import luma
from .base import DataFolderError, Images, require_folder, resize_square

# name → (skimage.data function, colour?, side of the square crop taken from its top-left corner)
TEXTURES = {
    "brick": ("brick", False, 256),
    "grass": ("grass", False, 256),
    "gravel": ("gravel", False, 256),
    "cells": ("immunohistochemistry", True, 256),
    "stars": ("hubble_deep_field", True, 320),
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def sources() -> dict[str, str]:
    """Data set → the source a call would use now (the embedded scikit-image images).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    out = {f"texture:{name}": f"embedded: skimage.data.{fn}() (scikit-image wheel)" for name, (fn, _, _) in TEXTURES.items()}
    out["objects:faces"] = "embedded: skimage.data.lfw_subset() faces (scikit-image wheel)"
    return out


def _to_tensor(array: np.ndarray, channels: int) -> torch.Tensor:
    """uint8/float/bool (H, W) or (H, W, 3|4) → float (1, channels, H, W) in [0, 1]."""
    a = np.asarray(array)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    else:
        a = a.astype(np.float32)
    if a.ndim == 3:
        a = a[..., :3]
    t = torch.from_numpy(np.ascontiguousarray(a))
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
    if channels == 1 and t.shape[0] == 3:
        t = luma(t[None])[0]
    elif channels == 3 and t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    return t.unsqueeze(0).clamp(0, 1)  # clamp only undoes float round-off of the conversions above


def _image_files(root: Path, what: str) -> list[Path]:
    layout = f"a folder of {what} image files ({', '.join(IMAGE_SUFFIXES)})"
    files = [p for p in require_folder(root, layout) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DataFolderError(f"data folder {root} has no image files; expected {layout}")
    return sorted(files)


def _read(files: list[Path], size: int, channels: int) -> torch.Tensor:
    from skimage import io

    return torch.cat([resize_square(_to_tensor(io.imread(p), channels), size) for p in files])


def texture(name: str = "brick", size: int = 64, root: str | Path | None = None, channels: int | None = None) -> Images:
    """One texture image, shape (1, C, size, size) in [0, 1].

    name: one of :data:`TEXTURES` (``brick``, ``grass``, ``gravel``: C = 1; ``cells``, ``stars``: C = 3), or
        with ``root`` the name of one of the reader's files without its suffix (``"bark"`` for bark.jpg).
    root: a folder of the reader's own texture images; the file named ``name`` is read, cropped to its
        central square and resized to size×size (``channels`` defaults to 3).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels; got {size}")
    if root is not None:
        root = Path(root).expanduser()
        files = _image_files(root, "texture")
        chosen = [p for p in files if p.stem == name]
        if not chosen:
            raise DataFolderError(f"no texture named {name!r} in {root}; expected one of {[p.stem for p in files]} "
                                  f"(pass name=<file name without suffix>)")
        return Images(_read(chosen[:1], size, channels or 3), None,
                      f"{chosen[0].name} from {root}, central square resized to {size}×{size}")
    if name not in TEXTURES:
        raise ValueError(f"unknown texture {name!r}; expected one of {sorted(TEXTURES)}")
    import skimage.data

    fn, colour, crop = TEXTURES[name]
    x = _to_tensor(getattr(skimage.data, fn)()[:crop, :crop], channels or (3 if colour else 1))
    return Images(resize_square(x, size), None, f"skimage.data.{fn}(), top-left {crop}×{crop} crop resized to {size}×{size}")


def objects(n: int = 10, size: int = 32, root: str | Path | None = None) -> Images:
    """``n`` aligned object images (n, 1, size, size) in [0, 1]: the first ``n`` faces of ``lfw_subset``.

    root: a folder of the reader's own aligned object images (all read, grey, central square resized;
        ``n`` ignored).

    Notebook: chapters/03_generative_convnet/04_contrastive_divergence.ipynb
    """
    if root is not None:
        root = Path(root).expanduser()
        files = _image_files(root, "aligned object")
        return Images(_read(files, size, 1), None, f"{len(files)} image(s) from {root}, central squares resized to {size}×{size}")
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]  # the first 100 of the 200 crops are faces, the rest are not
    if not 1 <= n <= len(faces):
        raise ValueError(f"n must be between 1 and {len(faces)}; got {n}")
    x = torch.from_numpy(faces[:n].astype(np.float32)).unsqueeze(1)
    return Images(resize_square(x, size), None, f"skimage.data.lfw_subset(), first {n} faces resized to {size}×{size}")
