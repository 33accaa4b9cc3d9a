"""Where and how big: the budget, the device, seeding and the cache folders.

Every notebook and every script of the course asks this module three questions:
how much compute to spend (:func:`budget`), where to put tensors (:func:`device`) and
where to keep data and trained weights (:func:`data_dir`, :func:`cache_dir`).

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

import contextlib
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

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
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

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    missing = [b for b in BUDGETS if b not in sizes]
    if missing:
        raise ValueError(f"sizes must give every budget {BUDGETS}; missing {missing}")
    return sizes[budget()]


def device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU. ``GENMODELS_DEVICE`` overrides.

    Raises ``ValueError`` for a ``GENMODELS_DEVICE`` that is not a device name or names one torch cannot see.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    forced = os.environ.get("GENMODELS_DEVICE", "").strip()
    if forced:
        try:
            dev = torch.device(forced)
        except RuntimeError:
            raise ValueError(f"GENMODELS_DEVICE={forced!r} is not a device; expected cpu, cuda, cuda:N or mps") from None
        mps = getattr(torch.backends, "mps", None)
        if (dev.type == "cuda" and not torch.cuda.is_available()) or (
                dev.type == "mps" and not (mps is not None and mps.is_available())):
            raise ValueError(f"GENMODELS_DEVICE={forced!r} but torch sees no {dev.type} device here; "
                             "unset it or use cpu")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU ``torch.Generator`` seeded with ``n``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    return torch.Generator().manual_seed(n)


def max_steps() -> int | None:
    """The step cap ``GENMODELS_MAX_STEPS`` (a positive integer), or ``None`` when unset.

    Every training loop (:func:`genmodels.train.fit`) and every sampler or iterative solver of the package
    stops after this many steps per call, in any budget; otherwise only :func:`sweep` changes. ``make full-dry-run``
    sets it to 2 with ``GENMODELS_BUDGET=full`` to prove the full-size path on a CPU.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    raw = os.environ.get("GENMODELS_MAX_STEPS", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"GENMODELS_MAX_STEPS={raw!r} is not a step cap; expected a positive integer or unset")
    return value


def capped(steps: int) -> int:
    """``steps``, or the step cap :func:`max_steps` when that is smaller: the length of a loop outside ``fit``.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    cap = max_steps()
    return steps if cap is None else min(steps, cap)


def sweep(lengths: list[int]) -> list[int]:
    """The loop lengths of a sweep (sampler steps to compare), less those that the step cap makes repeats.

    Under ``GENMODELS_MAX_STEPS=N`` every length from N up runs the same N-step loop, so running each would repeat
    one computation; only the first of them is kept (``[2, 5, 10, 50, 200]`` under a cap of 2 is ``[2]``). Without
    a cap the list comes back unchanged.

    Notebook: chapters/06_diffusion/03_flow_matching.ipynb
    """
    first = {}  # capped length -> the first requested length that runs it
    for n in lengths:
        first.setdefault(capped(n), n)
    return list(first.values())


@contextlib.contextmanager
def uncapped():
    """Lift the step cap :func:`max_steps` inside the block (``with gm.runtime.uncapped(): ...``), restore it after.

    For the few *reference* computations of a check (a sampler run long enough to converge on a 2-D toy) whose
    answer must be right even under ``GENMODELS_MAX_STEPS``; never for training. Outside the block nothing changes.
    Notebook: chapters/03_generative_convnet/exercises.ipynb
    """
    saved = os.environ.pop("GENMODELS_MAX_STEPS", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["GENMODELS_MAX_STEPS"] = saved


def trained() -> bool:
    """True when the run trains for real: a ``default`` or ``full`` budget and no step cap.

    Outcomes that only hold after real training (a loss below a threshold, one model beating another)
    are checked with :func:`claim`, which asserts exactly when this is true.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return budget() != "smoke" and max_steps() is None


def claim(condition: bool, statement: str) -> bool:
    """Assert an outcome the text states, e.g. ``claim(fd_vae < fd_gan, "the VAE's samples are closer")``.

    In a real run (:func:`trained`) a false ``condition`` raises ``AssertionError`` with ``statement``, so
    a run that contradicts the prose fails the build. In the ``smoke`` budget or under a step cap the
    outcome is not expected to hold: the check prints what it skipped instead, and never raises.
    Returns ``bool(condition)``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    ok = bool(condition)
    if trained():
        assert ok, f"the text states: {statement!r}, but this run contradicts it"
    elif not ok:
        why = f"GENMODELS_MAX_STEPS={max_steps()}" if max_steps() is not None else f"the {budget()} budget"
        print(f"[claim not checked under {why}] {statement}")
    return ok


PROGRESS_MODES = ("", "auto", "text", "off")
"""``GENMODELS_PROGRESS``: unset or ``auto`` (widgets in Jupyter, text elsewhere), ``text`` (plain text, for the
book build's logs), ``off``."""


def progress_bar(total: int, desc: str):
    """A tqdm progress bar of ``total`` steps as ``GENMODELS_PROGRESS`` asks, or ``None`` when it says ``off``.

    ``text`` uses ``tqdm.std`` (plain text lines, no widget), which is what a book build should print.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    mode = os.environ.get("GENMODELS_PROGRESS", "").strip().lower()
    if mode not in PROGRESS_MODES:
        raise ValueError(f"GENMODELS_PROGRESS={mode!r} is not a progress mode; expected auto, text, off or unset")
    if mode == "off":
        return None
    if mode == "text":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, leave=True)


def _draw_device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device:
    if generator is not None:
        return generator.device
    return torch.device(device) if device is not None else torch.device("cpu")


def randn(*shape: int, generator: torch.Generator | None = None, device: torch.device | str | None = None,
          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal noise of ``shape`` on ``device``, drawn where ``generator`` lives and then moved.

    The package's one way to draw noise: a CPU generator works with CUDA or MPS tensors, and the same
    seed gives the same numbers whatever ``device`` is.

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    x = torch.randn(*shape, generator=generator, device=_draw_device(generator, device), dtype=dtype)
    return x if device is None else x.to(device)


def rand(*shape: int, generator: torch.Generator | None = None, device: torch.device | str | None = None,
         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uniform noise on [0, 1) of ``shape``, drawn like :func:`randn`.

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    x = torch.rand(*shape, generator=generator, device=_draw_device(generator, device), dtype=dtype)
    return x if device is None else x.to(device)


def randint(low: int, high: int, shape: tuple[int, ...], generator: torch.Generator | None = None,
            device: torch.device | str | None = None) -> torch.Tensor:
    """Integers in [low, high) of ``shape``, drawn like :func:`randn`.

    Notebook: chapters/06_diffusion/exercises.ipynb
    """
    x = torch.randint(low, high, shape, generator=generator, device=_draw_device(generator, device))
    return x if device is None else x.to(device)


def randperm(n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """A random permutation of ``range(n)``, drawn like :func:`randn`.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    x = torch.randperm(n, generator=generator, device=_draw_device(generator, device))
    return x if device is None else x.to(device)


class DataFolderError(FileNotFoundError):
    """A data folder the reader pointed to is missing, empty or laid out differently than expected.

    Notebook: chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb
    """


def _folder(env: str, default: Path) -> Path:
    path = Path(os.environ.get(env, default)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Trained weights and other derived files: ``GENMODELS_CACHE`` or ``~/.cache/genmodels``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    return _folder("GENMODELS_CACHE", Path.home() / ".cache" / "genmodels")


def data_dir() -> Path:
    """Full data sets the reader provides or downloads: ``GENMODELS_DATA`` or ``~/genmodels-data``.

    Never created here: a loader looks for its own subfolder inside it (``MNIST/raw``, ``celeba`` ...)
    and falls back to the embedded data only when that subfolder is absent. A ``GENMODELS_DATA`` that
    names no existing folder (a typo) raises :class:`DataFolderError` instead of being ignored.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    raw = os.environ.get("GENMODELS_DATA", "").strip()
    if not raw:
        return Path.home() / "genmodels-data"
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise DataFolderError(f"GENMODELS_DATA={raw!r} is not a folder; create it (with the data sets inside, "
                              "see book/how-to-run.md) or unset GENMODELS_DATA to use the embedded data")
    return path


def summary() -> dict[str, str]:
    """One line each about the running set-up, for notebooks' first cells and ``genmodels info``.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
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
        "data": _data_summary(),
    }


def _data_summary() -> str:
    try:
        path = data_dir()
    except DataFolderError as err:
        return f"ERROR: {err}"
    return str(path) if path.is_dir() else f"{path} (absent: the embedded data sets are used)"
