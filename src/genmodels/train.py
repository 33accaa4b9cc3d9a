"""The one training loop of the book: :func:`fit`.

Every model in the course, GANs and energy-based models included, is trained by :func:`fit`.
The loop knows nothing about the method: a model is a :class:`Model` that supplies

* ``config``: a dataclass of hyper-parameters (stored in every checkpoint, printed by notebooks);
* ``configure_optimizers()``: a dict of named optimizers (one for most models, two for a GAN);
* ``training_step(batch, optimizers)``: one update, returning a dict of scalar tensors to record.

The default ``training_step`` minimises ``self.loss(batch)["loss"]`` with the single optimizer, so a
plain model only writes ``loss``. The loop moves the data to the device once, batches by indexing a
random permutation (no per-sample Python work), records a :class:`History` (per-step values are read
back to the host in blocks of :data:`READBACK` steps, never one sync per step), calls callbacks at the end
of each epoch, checkpoints every epoch (model, optimizers, RNG states, step, config, package version, code
fingerprint), resumes from a checkpoint, and stops with :class:`NonFiniteLossError` on a NaN or infinite
value. The caller's global RNG is left as it was: training draws from its own seeded state.

``fit(..., name="vae-mnist")`` caches: the checkpoint lives in ``cache_dir()/checkpoints`` under a key
of (name, model class, config, fit settings, callbacks, data content, budget, step cap), so re-running a
notebook loads trained weights instead of training again, and a checkpoint written by other code for the
model (see :func:`code_fingerprint`) is retrained, not reused.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

from . import runtime
from .history import READBACK, History, NonFiniteLossError, NonFiniteValuesError, Recorder  # noqa: F401
from .checkpoint import (CHECKPOINT_FORMAT, CheckpointMismatchError, cache_key, callback_key, check_same,  # noqa: F401
                         code_fingerprint, code_message, config_dict, data_fingerprint, describe, read, save)

Batch = Tensor | tuple[Tensor, ...]
Callback = Callable[["Model", int], Mapping[str, Any] | None]

PRECISIONS = ("fp32", "bf16")


class Model(nn.Module):
    """Base class of every trainable model in the book.

    Subclasses set ``self.config`` (a dataclass; the default optimizer reads its ``lr``) and implement
    ``loss(batch)`` returning a dict with a scalar ``"loss"`` (other entries are recorded too), or override
    ``training_step`` and ``configure_optimizers`` for anything more elaborate.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """

    config: Any

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam optimizer over all parameters with ``config.lr``."""
        return {"opt": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def check_data(self, data: Batch) -> None:
        """Raise ``ValueError`` (or a subclass) unless ``data`` is what this model trains on; ``fit`` calls it
        once on the training and validation data before any step, so checks cost no per-step host sync.
        The default accepts anything: models that check each batch themselves (``encode``) need nothing here."""

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        """A dict of scalar tensors with at least ``"loss"``, for one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement loss(batch) or training_step")

    def training_step(self, batch: Batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, Tensor]:
        """One update: minimise ``loss(batch)["loss"]`` with the single optimizer; return what to record."""
        (opt,) = optimizers.values()
        out = self.loss(batch)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        """Scalar tensors to average over the validation data (by default the loss)."""
        return self.loss(batch)


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


def first(batch: Batch) -> Tensor:
    """The first tensor of a batch (the inputs ``x`` of ``(x, y)``), or the batch itself when it is one tensor.

    batch: a tensor (N, …) or a tuple of tensors sharing N; returns a tensor (N, …).

    Notebook: chapters/06_diffusion/01_score_matching.ipynb
    """
    return batch if isinstance(batch, Tensor) else batch[0]


def batches(data: Batch, batch_size: int, generator: torch.Generator | None = None) -> Iterable[Batch]:
    """Mini-batches of ``data`` (already on its device) by indexing a random permutation.

    With ``generator=None`` the order is sequential (for evaluation). The permutation is drawn where the
    generator lives and moved to the data's device, so a CPU generator serves CUDA data.

    ``data``: a tensor (N, …) or a tuple of tensors sharing N; each batch has the same structure, with
    B ≤ ``batch_size`` rows (B, …).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    single = isinstance(data, Tensor)
    tensors = _as_batch_tuple(data)
    n, dev = tensors[0].shape[0], tensors[0].device
    order = torch.arange(n, device=dev) if generator is None else runtime.randperm(n, generator=generator, device=dev)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield _pack(tuple(t[idx] for t in tensors), single)


def load(model: nn.Module, path: str | Path, check_code: bool = True) -> History:
    """Load weights saved by :func:`fit` into ``model``; refuse a checkpoint of another class, config or code.

    ``check_code=False`` loads weights written by another version of the model's code anyway.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = read(path)
    saved = payload["describe"]
    wanted = {"model": describe(model, {})["model"], "config": config_dict(model)}
    check_same(path, {"model": saved["model"], "config": saved["config"]}, wanted)
    if check_code and payload["code"] != code_fingerprint(model):
        raise CheckpointMismatchError(code_message(path, model, payload["code"])
                                      + "; pass check_code=False to load it anyway")
    model.load_state_dict(payload["state"])
    return History(**payload["history"], checkpoint=str(path))


# ----------------------------------------------------------------------------------------------------------
# The loop


@contextlib.contextmanager
def _own_rng(dev: torch.device):
    """Run the block on the global RNG of the CPU (and of ``dev``), then give the caller back its states."""
    cuda = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        yield


def _rng_state(dev: torch.device) -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None}


def _seed_rng(dev: torch.device, seed: int, saved: Mapping[str, Any] | None) -> None:
    """Seed the global RNG the model's own draws (dropout ...) use, or restore a checkpoint's state."""
    if saved:
        torch.set_rng_state(saved["torch"])
    else:
        torch.random.default_generator.manual_seed(seed)
    if dev.type == "cuda":
        with torch.cuda.device(dev):
            if saved and saved.get("cuda") is not None:
                torch.cuda.set_rng_state(saved["cuda"])
            else:
                torch.cuda.manual_seed(seed)


def _prepare(data: Batch | None, dev: torch.device) -> Batch | None:
    if data is None:
        return None
    return _pack(tuple(t.to(dev) for t in _as_batch_tuple(data)), isinstance(data, Tensor))


def _settings(train_data: Batch, val_data: Batch | None, batch_size: int, seed: int,
              callbacks: Sequence[Callback], precision: str) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "batch_size": batch_size,
        "seed": seed,
        "data": [data_fingerprint(t) for t in _as_batch_tuple(train_data)],
        "val_data": [data_fingerprint(t) for t in _as_batch_tuple(val_data)] if val_data is not None else None,
        "callbacks": [callback_key(cb) for cb in callbacks],
        "precision": precision,
    }
    if runtime.max_steps() is not None:  # a capped run is another run: never taken for the whole one
        settings["max_steps"] = runtime.max_steps()
    return settings


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
    precision: str = "fp32",
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
    progress: a tqdm progress bar; by default on, except in the smoke budget (``GENMODELS_PROGRESS=text``
        makes it plain text, as in the book build; see :func:`genmodels.runtime.progress_bar`).
    precision: ``"fp32"``, or ``"bf16"`` to run ``training_step`` under bfloat16 autocast (for GPUs).

    Under ``GENMODELS_MAX_STEPS=N`` the call stops after N steps; its last epoch then runs every callback
    (``every`` ones included) so what a notebook reads afterwards exists, and the run is cached apart.
    The caller's global torch RNG state is restored on return.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive; got epochs={epochs}, batch_size={batch_size}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not known; expected one of {', '.join(PRECISIONS)}")
    if name is not None and checkpoint is not None:
        raise ValueError("give either name= (cached run) or checkpoint= (explicit path), not both")
    dev = torch.device(device) if device is not None else runtime.device()
    train_data, val_data = _prepare(data, dev), _prepare(val_data, dev)
    for checked in (train_data, val_data):
        if checked is not None:
            model.check_data(checked)
    model.to(dev)
    settings = _settings(train_data, val_data, batch_size, seed, callbacks, precision)
    if name is not None:
        checkpoint = runtime.cache_dir() / "checkpoints" / f"{cache_key(name, model, {**settings, 'epochs': epochs})}.pt"
    path = Path(checkpoint) if checkpoint is not None else None
    wanted = describe(model, settings)
    payload = read(path) if path is not None and path.exists() and not retrain else None
    if payload is not None:
        check_same(path, payload["describe"], wanted)
        if payload["code"] != code_fingerprint(model):  # other code wrote it: retrain a cached run, refuse a path
            if name is None:
                raise CheckpointMismatchError(code_message(path, model, payload["code"])
                                              + "; pass retrain=True to train again")
            print(f"{code_message(path, model, payload['code'])}: retraining", file=sys.stderr)
            payload = None
    benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = benchmark or dev.type == "cuda"
    try:
        with _own_rng(dev):
            return _run(model, train_data, val_data, epochs, batch_size, callbacks, seed, path, payload, dev,
                        progress, precision, wanted)
    finally:
        torch.backends.cudnn.benchmark = benchmark


def _run(model, train_data, val_data, epochs, batch_size, callbacks, seed, path, payload, dev, progress,
         precision, wanted) -> History:
    optimizers = model.configure_optimizers()
    shuffle = torch.Generator().manual_seed(seed)
    history = History(checkpoint=str(path) if path else None, max_steps=runtime.max_steps())
    start_epoch, step, rng = 0, 0, None
    if payload is not None:
        model.load_state_dict(payload["state"])
        for key, opt in optimizers.items():
            opt.load_state_dict(payload["optimizers"][key])
        history = History(**payload["history"], checkpoint=str(path))
        start_epoch, step, rng = payload["epoch"], payload["step"], payload["rng"]
        shuffle.set_state(rng["shuffle"])
        if start_epoch >= epochs:
            model.eval()
            return history
    _seed_rng(dev, seed, rng)

    steps_per_epoch = math.ceil(_as_batch_tuple(train_data)[0].shape[0] / batch_size)
    cap = runtime.max_steps()
    total = (epochs - start_epoch) * steps_per_epoch
    bar = None
    if (runtime.budget() != "smoke") if progress is None else progress:
        bar = runtime.progress_bar(total if cap is None else min(total, cap), type(model).__name__)
    recorder = Recorder(history, model, path)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    history.trained_now = True
    done = 0  # steps in this call, for the cap
    grad_mode = torch.is_grad_enabled()
    torch.set_grad_enabled(True)  # training needs gradients even when fit is called under torch.no_grad()
    try:
        for epoch in range(start_epoch, epochs):
            model.train()
            t0 = time.perf_counter()
            sums: dict[str, float] = {}
            n_steps = 0
            for i, batch in enumerate(batches(train_data, batch_size, shuffle)):
                with autocast:
                    out = model.training_step(batch, optimizers)
                recorder.add(f"epoch {epoch + 1}, step {step + 1} (batch {i + 1} of {steps_per_epoch})", out)
                step, done, n_steps = step + 1, done + 1, n_steps + 1
                last = i + 1 == steps_per_epoch or done == cap
                if len(recorder.pending) >= READBACK or last:
                    for k, s in recorder.flush().items():
                        sums[k] = sums.get(k, 0.0) + s
                    if bar is not None:
                        bar.set_postfix({k: f"{v:.4g}" for k, v in list(recorder.last.items())[:3]})
                if bar is not None:
                    bar.update(1)
                if done == cap:
                    break
            capped = done == cap
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            entry: dict[str, Any] = {"epoch": epoch + 1, "step": step, "seconds": time.perf_counter() - t0}
            entry.update({f"mean_{k}": s / n_steps for k, s in sums.items()})
            model.eval()
            if val_data is not None:
                entry.update({f"val_{k}": v for k, v in evaluate(model, val_data, batch_size).items()})
            for callback in callbacks:
                with torch.no_grad():  # under the cap, the last epoch runs every callback
                    extra = (getattr(callback, "every_inner", callback) if capped else callback)(model, epoch + 1)
                if extra:
                    entry.update(extra)
            history.epochs.append(entry)
            if path is not None:
                save(path, {
                    "format": CHECKPOINT_FORMAT,
                    "genmodels": _version(),
                    "code": code_fingerprint(model),
                    "describe": wanted,
                    "state": model.state_dict(),
                    "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "epoch": epochs if capped else epoch + 1,  # a capped run is complete as it stands
                    "step": step,
                    "history": {"steps": history.steps, "epochs": history.epochs, "max_steps": history.max_steps},
                    "rng": {"shuffle": shuffle.get_state(), **_rng_state(dev)},
                })
            if capped:
                break
    finally:
        torch.set_grad_enabled(grad_mode)
        if bar is not None:
            bar.close()
    model.eval()
    return history


@torch.no_grad()
def evaluate(model: Model, data: Batch, batch_size: int = 512) -> dict[str, float]:
    """Example-weighted mean of ``model.validation_step`` over ``data`` in order (eval mode).

    The sums stay on the device; one copy to the host at the end.

    ``data``: a tensor (N, …) or a tuple of tensors sharing N, as for :func:`fit`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    was_training = model.training
    model.eval()
    totals: dict[str, Tensor | float] = {}
    count = 0
    for batch in batches(data, batch_size):
        m = first(batch).shape[0]
        for key, value in model.validation_step(batch).items():
            v = value.detach().to(torch.float32 if value.device.type == "mps" else torch.float64) \
                if isinstance(value, Tensor) else float(value)
            totals[key] = totals.get(key, 0.0) + v * m
        count += m
    model.train(was_training)
    return {k: float(v) / count for k, v in totals.items()}


@torch.no_grad()
def apply_batched(fn: Callable[[Tensor], Tensor], x: Tensor, device: torch.device, batch_size: int = 1000) -> Tensor:
    """``fn`` over ``x`` in batches moved to ``device``; results concatenated on the CPU (for data larger than a batch).

    x (N, …) → (N, …′), where ``fn`` maps a batch (B, …) to (B, …′).

    Notebooks: chapters/06_diffusion/03_flow_matching.ipynb, 04_experiments.ipynb
    """
    return torch.cat([fn(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])


def every(n: int, callback: Callback) -> Callback:
    """Run ``callback`` only on epochs that are multiples of ``n`` (and never on others).

    Under a step cap the last epoch :func:`fit` runs calls ``callback`` whatever its number.

    Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
    """
    if n < 1:
        raise ValueError(f"every(n, ...) needs a positive n; got {n}")

    def wrapped(model: Model, epoch: int):
        return callback(model, epoch) if epoch % n == 0 else None

    wrapped.every_inner = callback  # type: ignore[attr-defined]
    wrapped.cache_key = f"every({n}, {callback_key(callback)})"  # type: ignore[attr-defined]
    return wrapped


def _version() -> str:
    from . import __version__

    return __version__
