"""What identifies a training run, and its checkpoint files: cache keys, fingerprints, atomic writes.

:func:`genmodels.train.fit` caches a run under :func:`cache_key`, a hash of the model's class and config, the
fit settings (batch size, seed, :func:`data_fingerprint` of the data, :func:`callback_key` of each callback,
precision, step cap) and the budget. Each checkpoint also stores :func:`code_fingerprint`, the hash of the
source files that define the model, so weights written by other code are never reused silently.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import sys
import types
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import Tensor, nn

from . import runtime

CHECKPOINT_FORMAT = 2


class CheckpointMismatchError(ValueError):
    """A checkpoint was written for another model class, config, training setting or version of the code.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """




def config_dict(model: nn.Module) -> dict[str, Any]:
    """The model's ``config`` dataclass as a JSON-ready dict (``{}`` when it has none); ``TypeError`` for a
    config that is not a dataclass.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    config = getattr(model, "config", None)
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        return json.loads(json.dumps(dataclasses.asdict(config), default=str))
    raise TypeError(f"{type(model).__name__}.config must be a dataclass, got {type(config).__name__}")


def data_fingerprint(t: Tensor, samples: int = 4096) -> str:
    """A cheap content fingerprint of a tensor: dtype, shape, a strided sample of values and two full sums.

    Changing the values (targets ``3x`` → ``-5x``, another subset, a preprocessing step) changes it, at the
    cost of one pass over the data; e.g. ``"float32[256,3]#1a2b3c4d5e6f"``.

    ``t``: any shape, dtype and device.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    flat = t.detach().reshape(-1)
    acc = torch.float32 if flat.device.type == "mps" else torch.float64
    picks = flat[torch.arange(0, flat.numel(), max(1, flat.numel() // samples), device=flat.device)[:samples]]
    norm = torch.linalg.vector_norm(flat, dtype=acc) if flat.is_floating_point() else flat.sum(dtype=acc)
    sums = torch.stack([flat.sum(dtype=acc), norm])
    blob = picks.to(acc).cpu().numpy().tobytes() + sums.cpu().numpy().tobytes()
    dtype = str(t.dtype).removeprefix("torch.")
    return f"{dtype}[{','.join(map(str, t.shape))}]#{hashlib.sha1(blob).hexdigest()[:12]}"


def _code_digest(code: types.CodeType) -> str:
    parts = [code.co_code.hex(), repr(code.co_names)]
    parts += [_code_digest(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:8]


def callback_key(callback: Callable[..., Any]) -> str:
    """What a callback contributes to the cache key: its ``cache_key`` attribute, or its name and code.

    ``every(4, snapshot)`` gives ``"every(4, <snapshot's key>)"``; a function gives
    ``"module.qualname#<hash of its bytecode>"``, so a changed lambda body is another run.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    own = getattr(callback, "cache_key", None)
    if own is not None:
        return str(own)
    fn = callback.func if isinstance(callback, functools.partial) else callback
    code = getattr(fn, "__code__", None)
    digest = f"#{_code_digest(code)}" if code is not None else ""
    name = getattr(fn, "__qualname__", type(fn).__qualname__)
    return f"{getattr(fn, '__module__', '?')}.{name}{digest}"


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def _module_digest(module_name: str, classes: list[type]) -> str:
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if path and os.path.exists(path):
        return _file_digest(path, os.stat(path).st_mtime_ns)
    sources = []  # a class defined in a notebook: hash what inspect can still find of it
    for cls in classes:
        try:
            sources.append(inspect.getsource(cls))
        except (OSError, TypeError):
            sources.append(cls.__qualname__)
    return hashlib.sha1("\n".join(sources).encode()).hexdigest()


def code_fingerprint(model: nn.Module) -> str:
    """A hash of the source files that define ``model``: every module holding a class of it or of its parts.

    torch and this training loop are left out; e.g. a VAE's fingerprint covers ``vae.py`` and ``nets.py``.
    A checkpoint stores it, and a cached run whose fingerprint differs is retrained (an explicit checkpoint
    or :func:`load` refuses it), so an edit to ``forward`` never silently reuses old weights.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    by_module: dict[str, list[type]] = {}
    for part in model.modules():
        for cls in type(part).__mro__:
            if cls.__module__.split(".")[0] in ("torch", "builtins") or cls.__module__ == "genmodels.train":
                continue
            by_module.setdefault(cls.__module__, [])
            if cls not in by_module[cls.__module__]:
                by_module[cls.__module__].append(cls)
    blob = "\n".join(f"{m}:{_module_digest(m, c)}" for m, c in sorted(by_module.items()))
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def describe(model: nn.Module, settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a checkpoint must match: the model's module and class name, its :func:`config_dict` and the
    fit ``settings``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return {
        "model": f"{type(model).__module__}.{type(model).__qualname__}",
        "config": config_dict(model),
        "fit": dict(settings),
    }


def mismatch(saved: Mapping[str, Any], wanted: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every entry where two :func:`describe` dicts differ, one line each (``key: checkpoint has ..., this
    run has ...``; nested keys joined with dots after ``prefix``).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    diffs = []
    for key in sorted(set(saved) | set(wanted)):
        a, b = saved.get(key, "<absent>"), wanted.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs += mismatch(a, b, f"{prefix}{key}.")
        elif a != b:
            diffs.append(f"{prefix}{key}: checkpoint has {a!r}, this run has {b!r}")
    return diffs


def cache_key(name: str, model: nn.Module, settings: Mapping[str, Any]) -> str:
    """The file stem under which :func:`fit` caches a run: ``name`` plus a hash of everything that matters.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    blob = json.dumps({"name": name, **describe(model, settings), "budget": runtime.budget()}, sort_keys=True)
    return f"{name}-{runtime.budget()}-{hashlib.sha1(blob.encode()).hexdigest()[:12]}"


def save(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically: into a temporary file of this process, then renamed over it.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # per process: parallel runs never share it
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a half-written checkpoint


def read(path: Path) -> dict[str, Any]:
    """The payload of the checkpoint at ``path``, loaded on the CPU; :class:`CheckpointMismatchError` when the
    file is unreadable or not of :data:`CHECKPOINT_FORMAT`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)  # callbacks may record NumPy values
    except Exception as err:  # a truncated or foreign file
        raise CheckpointMismatchError(f"{path} is not a readable genmodels checkpoint ({err})") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatchError(f"{path} is not a genmodels checkpoint (format {CHECKPOINT_FORMAT}); "
                                      "delete it or pass retrain=True to train again")
    return payload


def check_same(path: Path, saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """Raise :class:`CheckpointMismatchError` listing every :func:`mismatch` unless ``saved`` and ``wanted``
    agree.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    diffs = mismatch(saved, wanted)
    if diffs:
        raise CheckpointMismatchError(
            f"checkpoint {path} was written for another run:\n  " + "\n  ".join(diffs)
            + "\nDelete it, pass another path, or build the model with the checkpoint's config."
        )


def code_message(path: Path, model: nn.Module, saved: str) -> str:
    """The message for a checkpoint at ``path`` written by other code: its stored fingerprint ``saved``
    and this code's :func:`code_fingerprint` of ``model``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return (f"checkpoint {path} was written by another version of the code of {type(model).__qualname__} "
            f"(code fingerprint {saved}, this code {code_fingerprint(model)})")
