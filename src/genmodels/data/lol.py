"""LOL (Wei et al. 2018): paired low-light and normal-light photographs, read from the reader's folder.

The data set cannot ship with the course and nothing is downloaded. Put it under ``GENMODELS_DATA/LOL`` (or
pass ``root=``) in its published layout::

    LOL/our485/low/*.png   LOL/our485/high/*.png    485 training pairs ("train")
    LOL/eval15/low/*.png   LOL/eval15/high/*.png    15 test pairs ("test")

A pair is a low file and a high file of the same name. :func:`pairs` returns them as the same
:class:`~genmodels.data.lowlight.TestPairs` that the shipped, synthetically darkened test set uses, so every
score of Part 4 (PSNR, SSIM, NIQE) runs on real captures unchanged.

Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
"""
from __future__ import annotations

from pathlib import Path

import torch

from .. import runtime
from .base import DataFolderError, centre_crop, resize_short_side
from .lowlight import IMAGE_SUFFIXES, TestPairs, read_image

SPLITS = {"train": "our485", "test": "eval15"}
"""The two splits of LOL and their folder names."""

LAYOUT = "LOL's layout: <root>/our485/{low,high}/ and <root>/eval15/{low,high}/, a low and a high image per name"


def default_root() -> Path:
    """Where :func:`pairs` looks by default: ``GENMODELS_DATA/LOL``.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    return runtime.data_dir() / "LOL"


def _images(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataFolderError(f"data folder {folder} does not exist; expected {LAYOUT}")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    if not files:
        raise DataFolderError(f"data folder {folder} has no image files ({', '.join(IMAGE_SUFFIXES)}); expected {LAYOUT}")
    return files


def pairs(split: str = "test", root: str | Path | None = None, size: int | None = None) -> TestPairs:
    """The low/high pairs of one LOL split as :class:`~genmodels.data.lowlight.TestPairs` (N, 3, H, W) in [0, 1].

    ``size``: resize each image so its short side is ``size`` and keep the central size×size square (a multiple
    of 8, as the enhancer's U-Net needs); ``None`` keeps the images as they are, which must then share one size
    (LOL's are all 400×600). Raises :class:`~genmodels.data.base.DataFolderError` for a missing folder or
    unmatched names, ``ValueError`` for an unknown split, a bad size or a low/high size mismatch.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    if split not in SPLITS:
        raise ValueError(f"unknown LOL split {split!r}; expected one of {', '.join(SPLITS)}")
    if size is not None and (size < 8 or size % 8):
        raise ValueError(f"size must be a positive multiple of 8; got {size}")
    folder = Path(root).expanduser() if root is not None else default_root()
    low, high = _images(folder / SPLITS[split] / "low"), _images(folder / SPLITS[split] / "high")
    if set(low) != set(high):
        only_low, only_high = sorted(set(low) - set(high)), sorted(set(high) - set(low))
        raise DataFolderError(f"{folder / SPLITS[split]}: low and high images must pair up by name; only in low/: "
                              f"{only_low[:5]}, only in high/: {only_high[:5]}")
    names = sorted(low)
    xs, ys = [], []
    for name in names:
        x, y = read_image(low[name]), read_image(high[name])
        if x.shape != y.shape:
            raise ValueError(f"LOL pair {name!r}: low is {tuple(x.shape)} but high is {tuple(y.shape)}")
        if size is not None:
            x, y = (centre_crop(resize_short_side(t, size), size) for t in (x, y))
        xs.append(x)
        ys.append(y)
    shapes = sorted({tuple(x.shape) for x in xs})
    if len(shapes) > 1:
        raise ValueError(f"LOL images of several sizes {shapes[:3]}: pass size= to crop them to one square")
    return TestPairs(torch.stack(xs), torch.stack(ys), names, f"LOL {SPLITS[split]} ({folder})")


def sources() -> dict[str, str]:
    """Where LOL would come from now: the reader's folder, or nowhere (it is never downloaded).

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    root = default_root()
    present = all((root / s / k).is_dir() for s in SPLITS.values() for k in ("low", "high"))
    return {"lol": f"folder {root}" if present else f"not present (optional: put LOL under {root}, {LAYOUT})"}
