"""Data sets of the course. Each loader returns real data offline and says which source it used.

Loaders live in one submodule per family (``gm.data.digits``, ``gm.data.faces`` ...), imported on first
use. Every submodule defines ``sources() -> dict[str, str]``: for each data set it offers, the source a
call would use right now (shown by ``python -m genmodels info``).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .base import DataFolderError, Images, NonFiniteValuesError, OfflineError


def __getattr__(name: str) -> Any:
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"genmodels.data has no data set module {name!r}; see {families()}") from None
        raise
    globals()[name] = module
    return module


def families() -> list[str]:
    """The names of the data submodules (``digits``, ``faces`` ...).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base" and not m.name.startswith("_"))


def sources() -> dict[str, str]:
    """Every data set of the course and the source it would be read from now.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    out: dict[str, str] = {}
    for family in families():
        out.update(getattr(__getattr__(family), "sources")())
    return out


def mnist(split: str = "train", **kwargs: Any) -> Images:
    """MNIST digits; see :func:`genmodels.data.digits.load`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return __getattr__("digits").load(split, **kwargs)


__all__ = ["DataFolderError", "Images", "NonFiniteValuesError", "OfflineError", "families", "mnist", "sources"]
