"""The one training loop of the book: :func:`fit`.

Every model in the course, GANs and energy-based models included, is trained by :func:`fit`.
The loop knows nothing about the method: a model is a :class:`Model` that supplies

* ``config``: a dataclass of hyper-parameters (stored in every checkpoint, printed by notebooks);
* ``configure_optimizers()``: a dict of named optimizers (one for most models, two for a GAN);
* ``training_step(batch, optimizers)``: one update, returning a dict of scalar tensors to record.

The default ``training_step`` minimises ``self.loss(batch)["loss"]`` with the single optimizer, so a
plain model only writes ``loss``. The loop moves the data to the device once, batches by indexing a
random permutation (no per-sample Python work), records a :class:`History`, calls callbacks at the end
of each epoch, checkpoints every epoch (model, optimizers, RNG states, step, config, package version),
resumes from a checkpoint, and stops with :class:`NonFiniteLossError` on a NaN or infinite loss.

``fit(..., name="vae-mnist")`` caches: the checkpoint lives in ``cache_dir()/checkpoints`` under a key
of (name, model class, config, fit settings, budget, data shapes), so re-running a notebook loads
trained weights instead of training again.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from . import runtime

Batch = Tensor | tuple[Tensor, ...]
Callback = Callable[["Model", int], Mapping[str, Any] | None]

CHECKPOINT_FORMAT = 1


class NonFiniteLossError(FloatingPointError):
    """A recorded training quantity became NaN or infinite."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was written for another model class, config or training setting."""


class Model(nn.Module):
    """Base class of every trainable model in the book.

    Subclasses set ``self.config`` (a dataclass with at least ``lr``) and implement ``loss(batch)``
    returning a dict with a scalar ``"loss"`` (other entries are recorded too), or override
    ``training_step`` and ``configure_optimizers`` for anything more elaborate.
    """

    config: Any

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        raise NotImplementedError(f"{type(self).__name__} must implement loss(batch) or training_step")

    def training_step(self, batch: Batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        (opt,) = optimizers.values()
        out = self.loss(batch)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        return self.loss(batch)


@dataclasses.dataclass
class History:
    """What a run recorded: per-step values and one record per epoch.

    ``history["loss"]`` is the per-step array of ``loss``; ``history.epoch("val_loss")`` the per-epoch
    array of an epoch-level entry (epoch means of step values are stored as ``"mean_<key>"``).
    """

    steps: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    epochs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    checkpoint: str | None = None
    trained_now: bool = False  # False when everything came from a cached checkpoint

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

    def last(self) -> dict[str, Any]:
        return self.epochs[-1] if self.epochs else {}


def _as_batch_tuple(data: Batch) -> tuple[Tensor, ...]:
    tensors = (data,) if isinstance(data, Tensor) else tuple(data)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("data must be a tensor or a tuple of tensors sharing their first dimension")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"data tensors must share their first dimension; got {[tuple(t.shape) for t in tensors]}")
    if n == 0:
        raise ValueError("data is empty: expected at least one example")
    return tensors


def _pack(tensors: tuple[Tensor, ...], single: bool) -> Batch:
    return tensors[0] if single else tensors


def batches(data: Batch, batch_size: int, generator: torch.Generator | None = None) -> Iterable[Batch]:
    """Mini-batches of ``data`` (already on its device) by indexing a random permutation.

    With ``generator=None`` the order is sequential (for evaluation).
    """
    single = isinstance(data, Tensor)
    tensors = _as_batch_tuple(data)
    n = tensors[0].shape[0]
    if generator is None:
        order = torch.arange(n, device=tensors[0].device)
    else:
        order = torch.randperm(n, generator=generator).to(tensors[0].device)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield _pack(tuple(t[idx] for t in tensors), single)


def _config_dict(model: nn.Module) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        return json.loads(json.dumps(dataclasses.asdict(config), default=str))
    raise TypeError(f"{type(model).__name__}.config must be a dataclass, got {type(config).__name__}")


def _describe(model: nn.Module, settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "model": f"{type(model).__module__}.{type(model).__qualname__}",
        "config": _config_dict(model),
        "fit": dict(settings),
    }


def _mismatch(saved: Mapping[str, Any], wanted: Mapping[str, Any], prefix: str = "") -> list[str]:
    diffs = []
    for key in sorted(set(saved) | set(wanted)):
        a, b = saved.get(key, "<absent>"), wanted.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs += _mismatch(a, b, f"{prefix}{key}.")
        elif a != b:
            diffs.append(f"{prefix}{key}: checkpoint has {a!r}, this run has {b!r}")
    return diffs


def cache_key(name: str, model: nn.Module, settings: Mapping[str, Any]) -> str:
    """The file stem under which :func:`fit` caches a run: ``name`` plus a hash of everything that matters."""
    blob = json.dumps({"name": name, **_describe(model, settings), "budget": runtime.budget()}, sort_keys=True)
    return f"{name}-{runtime.budget()}-{hashlib.sha1(blob.encode()).hexdigest()[:12]}"


def _save(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # per process: parallel runs never share it
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a half-written checkpoint


def _read(path: Path) -> dict[str, Any]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file
        raise CheckpointMismatchError(f"{path} is not a readable genmodels checkpoint ({err})") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatchError(f"{path} is not a genmodels checkpoint (format {CHECKPOINT_FORMAT})")
    return payload


def _check_same(path: Path, saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    diffs = _mismatch(saved, wanted)
    if diffs:
        raise CheckpointMismatchError(
            f"checkpoint {path} was written for another run:\n  " + "\n  ".join(diffs)
            + "\nDelete it, pass another path, or build the model with the checkpoint's config."
        )


def load(model: nn.Module, path: str | Path) -> History:
    """Load weights saved by :func:`fit` into ``model``; refuse a checkpoint of another class or config."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = _read(path)
    saved = payload["describe"]
    wanted = {"model": _describe(model, {})["model"], "config": _config_dict(model)}
    _check_same(path, {"model": saved["model"], "config": saved["config"]}, wanted)
    model.load_state_dict(payload["state"])
    return History(**payload["history"], checkpoint=str(path))


def fit(
    model: Model,
    data: Batch,
    *,
    epochs: int,
    batch_size: int = 128,
    val_data: Batch | None = None,
    callbacks: Sequence[Callback] = (),
    seed: int = 0,
    name: str | None = None,
    checkpoint: str | Path | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` on ``data`` for ``epochs`` epochs; return its :class:`History`.

    data: a tensor or tuple of tensors sharing the first dimension (N, ...). They are moved to the
        device once; each step gets a batch of the same structure.
    val_data: evaluated after each epoch with ``model.validation_step``; recorded as ``val_<key>``.
    callbacks: ``f(model, epoch) -> dict | None`` run after each epoch in eval mode; a returned dict is
        added to that epoch's record (use :func:`every` to run one less often).
    name: cache the run under ``cache_dir()/checkpoints`` (see :func:`cache_key`).
    checkpoint: an explicit checkpoint path instead (resumed if present; refused if from another run).
    retrain: ignore and overwrite an existing checkpoint.
    progress: a tqdm progress bar; by default on, except in the smoke budget.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive; got epochs={epochs}, batch_size={batch_size}")
    dev = torch.device(device) if device is not None else runtime.device()
    single = isinstance(data, Tensor)
    tensors = tuple(t.to(dev) for t in _as_batch_tuple(data))
    train_data = _pack(tensors, single)
    if val_data is not None:
        val_single = isinstance(val_data, Tensor)
        val_data = _pack(tuple(t.to(dev) for t in _as_batch_tuple(val_data)), val_single)
    model.to(dev)

    settings = {
        "batch_size": batch_size,
        "seed": seed,
        "data": [list(t.shape) for t in tensors],
    }
    if name is not None and checkpoint is not None:
        raise ValueError("give either name= (cached run) or checkpoint= (explicit path), not both")
    if name is not None:
        checkpoint = runtime.cache_dir() / "checkpoints" / f"{cache_key(name, model, {**settings, 'epochs': epochs})}.pt"
    path = Path(checkpoint) if checkpoint is not None else None
    wanted = _describe(model, settings)

    optimizers = model.configure_optimizers()
    shuffle = torch.Generator().manual_seed(seed)
    history = History(checkpoint=str(path) if path else None)
    start_epoch, step = 0, 0

    if path is not None and path.exists() and not retrain:
        payload = _read(path)
        _check_same(path, payload["describe"], wanted)
        model.load_state_dict(payload["state"])
        for key, opt in optimizers.items():
            opt.load_state_dict(payload["optimizers"][key])
        history = History(**payload["history"], checkpoint=str(path))
        start_epoch, step = payload["epoch"], payload["step"]
        shuffle.set_state(payload["rng"]["shuffle"])
        torch.set_rng_state(payload["rng"]["torch"])
        if dev.type == "cuda" and payload["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(payload["rng"]["cuda"], dev)
        if start_epoch >= epochs:
            model.eval()
            return history
    else:
        torch.manual_seed(seed)

    n = tensors[0].shape[0]
    steps_per_epoch = math.ceil(n / batch_size)
    show = runtime.budget() != "smoke" if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=(epochs - start_epoch) * steps_per_epoch, desc=type(model).__name__, leave=True)

    history.trained_now = True
    grad_mode = torch.is_grad_enabled()
    torch.set_grad_enabled(True)  # training needs gradients even when fit is called under torch.no_grad()
    try:
        for epoch in range(start_epoch, epochs):
            model.train()
            t0 = time.perf_counter()
            sums: dict[str, float] = {}
            for i, batch in enumerate(batches(train_data, batch_size, shuffle)):
                out = model.training_step(batch, optimizers)
                record = {}
                for key, value in out.items():
                    v = float(value.detach()) if isinstance(value, Tensor) else float(value)
                    if not math.isfinite(v):
                        where = f"epoch {epoch + 1}, step {step + 1} (batch {i + 1} of {steps_per_epoch})"
                        saved = f"; the last checkpoint is {path}" if path and path.exists() else ""
                        raise NonFiniteLossError(
                            f"{type(model).__name__}: {key} = {v} at {where}. Expected a finite value: "
                            f"lower the learning rate or check the data's range{saved}."
                        )
                    record[key] = v
                for key, v in record.items():
                    history.steps.setdefault(key, []).append(v)
                    sums[key] = sums.get(key, 0.0) + v
                step += 1
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 0 or i + 1 == steps_per_epoch:
                        bar.set_postfix({k: f"{v:.4g}" for k, v in list(record.items())[:3]})
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            entry: dict[str, Any] = {"epoch": epoch + 1, "step": step, "seconds": time.perf_counter() - t0}
            entry.update({f"mean_{k}": s / steps_per_epoch for k, s in sums.items()})
            model.eval()
            if val_data is not None:
                entry.update({f"val_{k}": v for k, v in evaluate(model, val_data, batch_size).items()})
            for callback in callbacks:
                with torch.no_grad():
                    extra = callback(model, epoch + 1)
                if extra:
                    entry.update(extra)
            history.epochs.append(entry)
            if path is not None:
                _save(path, {
                    "format": CHECKPOINT_FORMAT,
                    "genmodels": _version(),
                    "describe": wanted,
                    "state": model.state_dict(),
                    "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "epoch": epoch + 1,
                    "step": step,
                    "history": {"steps": history.steps, "epochs": history.epochs},
                    "rng": {
                        "shuffle": shuffle.get_state(),
                        "torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                    },
                })
    finally:
        torch.set_grad_enabled(grad_mode)
        if bar is not None:
            bar.close()
    model.eval()
    return history


@torch.no_grad()
def evaluate(model: Model, data: Batch, batch_size: int = 512) -> dict[str, float]:
    """Example-weighted mean of ``model.validation_step`` over ``data`` in order (eval mode)."""
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    count = 0
    for batch in batches(data, batch_size):
        m = (batch if isinstance(batch, Tensor) else batch[0]).shape[0]
        for key, value in model.validation_step(batch).items():
            totals[key] = totals.get(key, 0.0) + float(value) * m
        count += m
    model.train(was_training)
    return {k: v / count for k, v in totals.items()}


@torch.no_grad()
def apply_batched(fn: Callable[[Tensor], Tensor], x: Tensor, device: torch.device, batch_size: int = 1000) -> Tensor:
    """``fn`` over ``x`` in batches moved to ``device``; results concatenated on the CPU (for data larger than a batch)."""
    return torch.cat([fn(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])


def every(n: int, callback: Callback) -> Callback:
    """Run ``callback`` only on epochs that are multiples of ``n`` (and never on others)."""

    def wrapped(model: Model, epoch: int):
        return callback(model, epoch) if epoch % n == 0 else None

    return wrapped


def _version() -> str:
    from . import __version__

    return __version__
