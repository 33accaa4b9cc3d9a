"""Face images: the 100 real LFW faces that ship with scikit-image offline, CelebA from a folder.

* :func:`lfw` — ``skimage.data.lfw_subset()`` holds 200 grey 25×25 crops: the first 100 are faces from
  Labeled Faces in the Wild, the last 100 background patches (:func:`lfw_nonfaces`). They are resized
  to ``size`` × ``size`` (28 by default, a size ``gm.nets`` supports) by bilinear interpolation.
* :func:`celeba` — the aligned CelebA images (``img_align_celeba/*.jpg``) from a folder the reader
  provides: centre-cropped to the face, resized to 64×64, RGB; decoded once and cached as a tensor.

Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from .. import runtime
from .base import DataFolderError, Images, require_folder, resize_square, save_atomic

LFW_SOURCE = "skimage.data.lfw_subset()"
CELEBA_LAYOUT = "the aligned CelebA images as <folder>/img_align_celeba/*.jpg (or *.jpg/*.png anywhere under <folder>)"
CELEBA_CROP = 140  # side of the centre square kept from the 178×218 aligned images: the face, little background


def _lfw_raw() -> np.ndarray:
    from skimage.data import lfw_subset

    images = np.asarray(lfw_subset(), dtype=np.float32)  # (200, 25, 25) in [0, 1]
    if images.shape != (200, 25, 25):
        raise ValueError(f"{LFW_SOURCE} changed: expected (200, 25, 25) images, got {images.shape}")
    return images


def _check_size(size: int) -> None:
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer ≥ 8 (pixels per side); got {size!r}")


def lfw(size: int = 28) -> Images:
    """The 100 LFW faces of scikit-image, (100, 1, size, size) float32 in [0, 1], no labels.

    Bilinear resizing from 25×25 may overshoot [0, 1] by round-off only; that is clamped.
    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    _check_size(size)
    x = torch.from_numpy(_lfw_raw()[:100]).unsqueeze(1)
    return Images(resize_square(x, size).contiguous(), None, f"{LFW_SOURCE}[:100]: 100 real LFW faces, 25×25 → {size}×{size}")


def lfw_nonfaces(size: int = 28) -> Images:
    """The 100 background crops of the same subset (not faces), as a reference for metrics.

    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    _check_size(size)
    x = torch.from_numpy(_lfw_raw()[100:]).unsqueeze(1)
    return Images(resize_square(x, size).contiguous(), None, f"{LFW_SOURCE}[100:]: 100 LFW background crops, 25×25 → {size}×{size}")


def _celeba_folder(root: str | Path | None) -> Path:
    return Path(root).expanduser() if root is not None else runtime.data_dir() / "celeba"


def _celeba_files(folder: Path) -> list[Path]:
    files = [p for p in require_folder(folder, CELEBA_LAYOUT) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if not files:
        raise DataFolderError(f"data folder {folder} has no .jpg or .png images; expected {CELEBA_LAYOUT}")
    return files


def celeba(root: str | Path | None = None, size: int = 64, limit: int | None = None, grey: bool = False) -> Images:
    """CelebA faces from ``root`` (default ``data_dir()/celeba``): (N, 3, size, size), or 1 channel if ``grey``.

    Each image is centre-cropped to a ``CELEBA_CROP`` square and resized; the first ``limit`` files in
    sorted order are used. The decoded tensor is cached under ``cache_dir()/faces``.
    Raises :class:`DataFolderError` if the folder is missing or has no images.
    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    _check_size(size)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of images or None; got {limit}")
    folder = _celeba_folder(root)
    files = _celeba_files(folder)[:limit]
    key = hashlib.sha1(f"{folder.resolve()}|{len(files)}|{files[-1].name}|{size}|{grey}|{CELEBA_CROP}".encode()).hexdigest()[:12]
    cached = runtime.cache_dir() / "faces" / f"celeba-{key}.pt"
    if cached.exists():
        x = torch.load(cached)
    else:
        from PIL import Image

        def read(path: Path) -> np.ndarray:
            with Image.open(path) as im:
                im = im.convert("L" if grey else "RGB")
                w, h = im.size
                s = min(CELEBA_CROP, w, h)
                left, top = (w - s) // 2, (h - s) // 2
                im = im.crop((left, top, left + s, top + s)).resize((size, size), Image.BILINEAR)
                return np.asarray(im, dtype=np.uint8)

        # decoding is per file by nature (PIL); the stack is converted to a tensor once
        arr = np.stack([read(p) for p in files])
        x = torch.from_numpy(arr).float().div_(255.0)
        x = x.unsqueeze(1) if grey else x.permute(0, 3, 1, 2)
        x = x.contiguous()
        save_atomic(x, cached)
    return Images(x, None, f"CelebA ({len(x):,} images) from {folder}, {CELEBA_CROP}² centre crop → {size}×{size}")


def load(source: str = "auto", size: int | None = None, **kwargs) -> Images:
    """Faces: ``"lfw"`` (offline, 28×28 by default), ``"celeba"`` (folder, 64×64 by default) or ``"auto"``
    (CelebA when a folder was given with ``root=`` or ``data_dir()/celeba`` exists, else LFW).

    A folder that was named or exists is read or refused with :class:`DataFolderError`, never swapped
    for the LFW faces: only when there is no CelebA folder at all does ``"auto"`` use LFW.
    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    if source not in ("auto", "lfw", "celeba"):
        raise ValueError(f"source must be 'auto', 'lfw' or 'celeba'; got {source!r}")
    if source == "auto":
        named = kwargs.get("root") is not None
        source = "celeba" if named or _celeba_folder(None).exists() else "lfw"
    if source == "lfw":
        return lfw(size or 28)
    return celeba(size=size or 64, **kwargs)


def sources() -> dict[str, str]:
    """Data set → the source a call would read it from now (for ``genmodels info``).

    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """
    try:
        folder = _celeba_folder(None)
        celeba_line = (f"folder {folder}: {len(_celeba_files(folder)):,} images" if folder.exists() else
                       f"absent (put {CELEBA_LAYOUT} under {folder})")
    except DataFolderError as err:
        celeba_line = f"ERROR: {err}"
    return {"lfw-faces": f"embedded: 100 real 25×25 LFW faces from {LFW_SOURCE}", "celeba": celeba_line}
