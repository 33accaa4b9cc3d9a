"""What every loader shares: the :class:`Images` container, the errors, and checks on folders.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor


from ..runtime import DataFolderError  # noqa: F401  (defined there: runtime.data_dir raises it too)
from ..history import NonFiniteLossError, NonFiniteValuesError  # noqa: F401  (re-exported as gm.data's)


class OfflineError(ConnectionError):
    """A download could not reach the network; the message names the offline default.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """


@dataclasses.dataclass
class Images:
    """Images ``x`` (N, C, H, W) float32 in [0, 1], optional int64 labels ``y`` (N,), and their source.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    x: Tensor
    y: Tensor | None
    source: str

    def __post_init__(self) -> None:
        check_images(self.x, "Images.x")
        if self.y is not None and (self.y.dtype != torch.int64 or self.y.shape != (self.x.shape[0],)):
            raise ValueError(f"labels must be int64 of shape ({self.x.shape[0]},); got {self.y.dtype} {tuple(self.y.shape)}")

    def __len__(self) -> int:
        return self.x.shape[0]

    def __iter__(self) -> Iterator[Tensor | None]:  # x, y = gm.data.mnist("train")
        yield self.x
        yield self.y

    def __repr__(self) -> str:
        n, c, h, w = self.x.shape
        return f"Images({n} × {c}×{h}×{w}, labels={'yes' if self.y is not None else 'no'}, source={self.source!r})"


def check_images(x: Tensor, what: str = "images") -> Tensor:
    """Raise unless ``x`` is a float (N, C, H, W) tensor with values in [0, 1]; return it.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{what}: expected a float tensor of shape (N, C, H, W); got {shape}")
    lo, hi = float(x.detach().min()), float(x.detach().max())
    if lo != lo or hi != hi:  # NaN: min and max propagate it, and it compares false with either bound
        raise NonFiniteValuesError(f"{what}: expected values in [0, 1]; got NaN (a non-finite input or model output)")
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{what}: expected values in [0, 1]; got range [{lo:.3g}, {hi:.3g}]")
    return x


def require_folder(path: Path, layout: str, pattern: str = "*") -> list[Path]:
    """The files matching ``pattern`` under ``path``; a clear :class:`DataFolderError` if none.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise DataFolderError(f"data folder {path} does not exist; expected {layout}")
    files = sorted(p for p in path.rglob(pattern) if p.is_file())
    if not files:
        raise DataFolderError(f"data folder {path} has no files matching {pattern!r}; expected {layout}")
    return files


@contextmanager
def network_timeout(seconds: float = 5.0, offline_default: str = "") -> Iterator[None]:
    """Make sockets opened inside the block give up after ``seconds``; turn failures into :class:`OfflineError`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    except (OSError, RuntimeError) as err:
        if isinstance(err, DataFolderError):
            raise
        raise OfflineError(f"download failed ({err}); without network use {offline_default}") from err
    finally:
        socket.setdefaulttimeout(old)


def stratified_split(labels: Tensor, test_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Index tensors (train, test) that keep each class's share, each in a seeded random order.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    g = torch.Generator().manual_seed(seed)
    train, test = [], []
    for c in labels.unique():
        idx = (labels == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = round(len(idx) * test_fraction)
        test.append(idx[:k])
        train.append(idx[k:])
    train_idx, test_idx = torch.cat(train), torch.cat(test)
    return train_idx[torch.randperm(len(train_idx), generator=g)], test_idx[torch.randperm(len(test_idx), generator=g)]


def save_atomic(obj: object, path: Path) -> None:
    """``torch.save(obj, path)`` through a per-process temporary file and ``os.replace``: a parallel reader
    (pytest-xdist, two notebooks) never sees half a file. Creates the parent folder.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _resample(x: Tensor, h: int, w: int) -> Tensor:
    """The package's one image resize: (N, C, H, W) in [0, 1] → (N, C, h, w), bilinear with antialiasing, clamped
    back into [0, 1] against the filter's overshoot (at most ~1e-6 on these images)."""
    if x.shape[-2:] == (h, w):
        return x
    return F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def centre_crop(x: Tensor, height: int, width: int | None = None) -> Tensor:
    """(..., H, W) → (..., height, width), the central window (width defaults to height); a view, not a copy.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    width = height if width is None else width
    h, w = x.shape[-2:]
    if not (0 < height <= h and 0 < width <= w):
        raise ValueError(f"cannot crop a {height}x{width} window from an image of {h}x{w}: resize it first")
    top, left = (h - height) // 2, (w - width) // 2
    return x[..., top:top + height, left:left + width]


def resize_square(x: Tensor, size: int) -> Tensor:
    """(N, C, H, W) in [0, 1] → (N, C, size, size): the central square crop, resized (:func:`_resample`).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    side = min(x.shape[-2:])
    return _resample(centre_crop(x, side), size, size)


def resize_short_side(x: Tensor, short_side: int) -> Tensor:
    """(C, H, W) or (N, C, H, W) in [0, 1], resized (:func:`_resample`) so that min(H, W) = ``short_side``,
    the aspect ratio kept to the nearest pixel.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    h, w = x.shape[-2:]
    s = short_side / min(h, w)
    batch = x if x.ndim == 4 else x[None]
    out = _resample(batch, round(h * s), round(w * s))
    return out if x.ndim == 4 else out[0]
