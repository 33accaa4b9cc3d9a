"""genmodels: the models, losses, metrics, data and training loop of the course.

``import genmodels as gm`` is cheap; each submodule (``gm.vae``, ``gm.data`` ...) is imported the
first time it is used, so a chapter pays only for what it touches.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "runtime", "data", "nets", "train", "history", "checkpoint", "metrics", "metrics_image", "plot", "widgets",
    "cli", "notebook", "assignments", "autoencoder", "vae", "gan", "sliced", "ebm", "lowlight", "nmf", "nae", "recipes",
    "diffusion",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'genmodels' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
