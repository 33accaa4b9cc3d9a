"""What a run of :func:`genmodels.train.fit` records: the :class:`History` and its block read-back.

Per-step values stay on the device and are copied to the host (and checked finite) in blocks of
:data:`READBACK` steps and at each epoch's end, never one sync per step, which would stall a GPU.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import Tensor, nn

READBACK = 50
"""Per-step values are copied to the host (and checked finite) every this many steps and at each epoch's end."""


class NonFiniteLossError(FloatingPointError):
    """A recorded training quantity became NaN or infinite.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """


class NonFiniteValuesError(NonFiniteLossError, ValueError):
    """A tensor or array given to the package holds NaN or inf. Every validator raises it (data, metrics,
    schedules, ebm, nmf, piano), so a non-finite value is always a :class:`NonFiniteLossError` (and a
    ``ValueError``, as before).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """


@dataclasses.dataclass
class History:
    """What a run recorded: per-step values and one record per epoch.

    ``history["loss"]`` is the per-step array of ``loss``; ``history.epoch("val_loss")`` the per-epoch
    array of an epoch-level entry (epoch means of step values are stored as ``"mean_<key>"``).
    ``max_steps`` is the step cap the run was cut to (``GENMODELS_MAX_STEPS``), or ``None`` for a whole run.

    ``history[key]`` has shape (steps,) and ``history.epoch(key)`` (epochs,), or (epochs, …) for tensor
    entries.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    steps: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    epochs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    checkpoint: str | None = None
    trained_now: bool = False  # False when everything came from a cached checkpoint
    max_steps: int | None = None

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.steps:
            raise KeyError(f"no per-step entry {key!r}; recorded: {sorted(self.steps)}")
        return np.asarray(self.steps[key])

    def epoch(self, key: str) -> np.ndarray:
        values = [e[key] for e in self.epochs if key in e]
        if not values:
            known = sorted({k for e in self.epochs for k in e})
            raise KeyError(f"no per-epoch entry {key!r}; recorded: {known}")
        return np.asarray(values) if not isinstance(values[0], Tensor) else torch.stack(values)

    @property
    def seconds(self) -> float:
        """Total training wall time over all epochs, resumed ones included."""
        return float(sum(e.get("seconds", 0.0) for e in self.epochs))


class Recorder:
    """Per-step values kept on the device and copied to the host in blocks (one sync per block).

    Each step's values are scalar tensors (one element) or numbers.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    def __init__(self, history: History, model: nn.Module, path: Path | None):
        self.history, self.model, self.path = history, model, path
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.last: dict[str, float] = {}

    def add(self, where: str, out: Mapping[str, Any]) -> None:
        step = {}
        for key, value in out.items():
            if isinstance(value, Tensor):
                if value.numel() != 1:
                    raise ValueError(f"{type(self.model).__name__}.training_step must return scalar tensors; "
                                     f"{key!r} has shape {tuple(value.shape)}")
                value = value.detach().reshape(()).clone()  # a buffer the model updates in place stays as it was
            step[key] = value
        self.pending.append((where, step))

    def flush(self) -> dict[str, float]:
        """Copy the pending values to the host, check them finite, append them; return their sums."""
        tensors = [v for _, s in self.pending for v in s.values() if isinstance(v, Tensor)]
        by_device: dict[torch.device, list[Tensor]] = {}
        for v in tensors:
            by_device.setdefault(v.device, []).append(v)
        host: dict[int, float] = {}
        for dev, vs in by_device.items():
            acc = torch.float32 if dev.type == "mps" else torch.float64
            for v, x in zip(vs, torch.stack([v.to(acc) for v in vs]).cpu().tolist()):
                host[id(v)] = x
        sums: dict[str, float] = {}
        for where, step in self.pending:
            for key, value in step.items():
                v = host[id(value)] if isinstance(value, Tensor) else float(value)
                if not math.isfinite(v):
                    saved = f"; the last checkpoint is {self.path}" if self.path and self.path.exists() else ""
                    raise NonFiniteLossError(
                        f"{type(self.model).__name__}: {key} = {v} at {where}. Expected a finite value: "
                        f"lower the learning rate or check the data's range{saved}.")
                self.history.steps.setdefault(key, []).append(v)
                sums[key] = sums.get(key, 0.0) + v
                self.last[key] = v
        self.pending = []
        return sums
