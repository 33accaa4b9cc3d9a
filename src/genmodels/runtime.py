"""Where and how big: the budget, the device, seeding and the cache folders.

Every notebook and every script of the course asks this module three questions:
how much compute to spend (:func:`budget`), where to put tensors (:func:`device`) and
where to keep data and trained weights (:func:`data_dir`, :func:`cache_dir`).

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Mapping, TypeVar

import numpy as np
import torch

BUDGETS = ("smoke", "default", "full")
"""The three budgets: ``smoke`` for tests, ``default`` for the published book, ``full`` for a GPU."""

T = TypeVar("T")


def budget() -> str:
    """The compute budget named by ``GENMODELS_BUDGET`` (``default`` when unset).

    Raises ``ValueError`` naming the allowed values for anything else.
    """
    value = os.environ.get("GENMODELS_BUDGET", "default").strip().lower()
    if value not in BUDGETS:
        raise ValueError(
            f"GENMODELS_BUDGET={value!r} is not a budget; expected one of {', '.join(BUDGETS)}"
        )
    return value


def by_budget(sizes: Mapping[str, T]) -> T:
    """Pick the entry of ``sizes`` for the current budget, e.g. ``by_budget({"smoke": 1, ...})``.

    Every budget must be present, so a notebook cannot silently miss one.
    """
    missing = [b for b in BUDGETS if b not in sizes]
    if missing:
        raise KeyError(f"sizes must give every budget {BUDGETS}; missing {missing}")
    return sizes[budget()]


def device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU. ``GENMODELS_DEVICE`` overrides."""
    forced = os.environ.get("GENMODELS_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU ``torch.Generator`` seeded with ``n``."""
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    return torch.Generator().manual_seed(n)


def _folder(env: str, default: Path) -> Path:
    path = Path(os.environ.get(env, default)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Trained weights and other derived files: ``GENMODELS_CACHE`` or ``~/.cache/genmodels``."""
    return _folder("GENMODELS_CACHE", Path.home() / ".cache" / "genmodels")


def data_dir() -> Path:
    """Full data sets the reader provides or downloads: ``GENMODELS_DATA`` or ``~/genmodels-data``."""
    return _folder("GENMODELS_DATA", Path.home() / "genmodels-data")


def summary() -> dict[str, str]:
    """One line each about the running set-up, for notebooks' first cells and ``genmodels info``."""
    from . import __version__

    dev = device()
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type
    return {
        "genmodels": __version__,
        "torch": torch.__version__,
        "budget": budget(),
        "device": name,
        "threads": str(torch.get_num_threads()),
        "cache": str(cache_dir()),
        "data": str(data_dir()),
    }
