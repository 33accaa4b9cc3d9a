"""Execute every chapter notebook at the ``full`` budget with a step cap, on the CPU: ``make full-dry-run``.

    python tools/full_dry_run.py [--max-steps 2] [--device cpu] [notebook ...]

Full data sizes, full image sizes, full model sizes, ``GENMODELS_MAX_STEPS`` steps per loop: it proves the
full path (shapes, memory, data, devices) without a GPU. Prints each notebook's wall time and the total, and
exits 1 naming the notebooks that failed, with the peak memory of each notebook's kernel (sampled every 0.2 s,
so that a kernel killed for memory is seen as such). Trained weights go to a fresh temporary cache unless
``GENMODELS_CACHE`` is set.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def notebooks(paths: list[str]) -> list[Path]:
    """The given notebooks, or every notebook under chapters/ (sorted)."""
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def name(path: Path) -> str:
    """The notebook's path relative to the repository (as given when it lies elsewhere)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def client(nb, path: Path, timeout: int):
    """An ``nbclient.NotebookClient`` for ``nb`` run in ``path``'s folder that does not mirror ipywidgets' Output widgets.

    nbclient mimics a front end's Output widget by sending comm messages on the shell channel while it awaits the
    cell's reply on that channel; under load the reply's wake-up can be lost and the run waits for the cell timeout
    with the kernel idle (jupyter/nbclient#312, open). Seen here on 01_vae_gan/03 (the interpolation widgets) and
    04_lowlight/03 (the attention explorer). A dry run needs no widget output, so widget comms are left unanswered.
    """
    from nbclient import NotebookClient

    nbc = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    nbc.comm_open_handlers["jupyter.widget"] = lambda msg: None
    return nbc


class PeakMemory:
    """The largest resident memory (bytes) of this process's descendants (the kernel), sampled in a thread.

    ``with PeakMemory() as peak: ...`` then ``peak.bytes``. The runner's own memory is not counted.
    """

    def __init__(self, every: float = 0.2):
        self.every, self.bytes, self._stop = every, 0, threading.Event()

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self.every):
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:  # it ended between the listing and the reading
                    pass
            self.bytes = max(self.bytes, total)

    def __enter__(self) -> "PeakMemory":
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def execute(path: Path, timeout: int) -> None:
    """Run one notebook in its own kernel, in its folder; raise on the first failing cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client(nb, path, timeout).execute()


def dead_kernel(err: BaseException) -> bool:
    """Whether ``err`` is, or was raised while handling, nbclient's ``DeadKernelError``.

    When the kernel dies (for instance killed for memory), nbclient's cleanup can raise a bare ``AssertionError``
    (``assert self.km is not None``) over it; the dead kernel is then only in the exception's context.
    """
    from nbclient.exceptions import DeadKernelError

    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, DeadKernelError):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def _why(err: Exception) -> str:
    """One line: the failing cell's exception name and message (nbclient keeps them apart)."""
    ename, evalue = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    arrows = [m.group(1) for m in re.finditer(r"^\s*-+>\s*\d*\s*(.*)$", plain, re.M)]
    where = f" at {arrows[0].strip()[:120]!r}" if arrows else ""  # the failing line of the cell
    source = plain.split("------------------")
    if len(source) > 1:  # the cell's source, as nbclient quotes it: its first line locates the cell
        where += f" (cell starting {source[1].strip().splitlines()[0][:60]!r})"
    frames = re.findall(r"^\s*(File \S+:\d+, in \w+|Cell In\[\d+\], line \d+)", plain, re.M)
    if frames:  # the innermost frame: where an assert inside the package fired
        where += f" [innermost: {frames[-1]}]"
    elif not hasattr(err, "ename") and err.__traceback__ is not None:  # raised here, by nbclient, not in a cell
        last = traceback.extract_tb(err.__traceback__)[-1]
        where += f" [raised in the client at {last.filename}:{last.lineno}, in {last.name}: {last.line!r}]"
    return re.sub(r"\x1b\[[0-9;]*m", "", f"{ename}: {evalue}".strip().replace("\n", " "))[:400] + where


def standin_celeba(root: Path, n: int) -> Path:
    """``root/celeba/img_align_celeba``: ``n`` smooth random 178×218 JPEGs, the size of aligned CelebA images.

    CelebA cannot ship with the course; the full budget of 01_vae_gan/03 reads it from ``GENMODELS_DATA``.
    The stand-in proves that path (loading, resizing, full model sizes) with fewer images than the 60,000
    the chapter uses; it says nothing about faces.
    """
    import numpy as np
    import torch
    from PIL import Image

    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for i in range(n):
        low = torch.rand(1, 3, 7, 6, generator=g)
        img = torch.nn.functional.interpolate(low, size=(218, 178), mode="bilinear", align_corners=False)[0]
        Image.fromarray((255 * img.permute(1, 2, 0)).to(torch.uint8).numpy()).save(folder / f"{i:06d}.jpg")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: every one under chapters/)")
    parser.add_argument("--max-steps", type=int, default=2)
    parser.add_argument("--budget", default="full")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (a guard against hangs)")
    parser.add_argument("--celeba-standin", type=int, default=2500,
                        help="stand-in CelebA images when GENMODELS_DATA is unset (0: none)")
    args = parser.parse_args(argv)
    os.environ.update(GENMODELS_BUDGET=args.budget, GENMODELS_MAX_STEPS=str(args.max_steps),
                      GENMODELS_DEVICE=args.device, GENMODELS_PROGRESS="text")
    made = []  # temporary folders this run creates, removed at its end
    if "GENMODELS_CACHE" not in os.environ:
        made.append(tempfile.mkdtemp(prefix="genmodels-dry-run-"))
        os.environ["GENMODELS_CACHE"] = made[-1]
    if "GENMODELS_DATA" not in os.environ and args.celeba_standin:
        made.append(tempfile.mkdtemp(prefix="genmodels-dry-run-data-"))
        root = standin_celeba(Path(made[-1]), args.celeba_standin)
        os.environ["GENMODELS_DATA"] = str(root)
        print(f"GENMODELS_DATA={root}: a stand-in CelebA of {args.celeba_standin} random 178×218 JPEGs (not faces)")
    src = str(ROOT / "src")
    os.environ["PYTHONPATH"] = src + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    failed, total = [], 0.0
    print(f"budget={args.budget} max_steps={args.max_steps} device={args.device} cache={os.environ['GENMODELS_CACHE']}")
    for path in notebooks(args.notebooks):
        t0 = time.perf_counter()
        with PeakMemory() as peak:
            try:
                execute(path, args.timeout)
                status = "ok"
            except Exception as err:  # report every notebook, then fail
                failed.append(name(path))
                died = (f"the kernel died (DeadKernelError), at {peak.bytes / 2**30:.1f} GiB resident: "
                        "killed for memory, or crashed; " if dead_kernel(err) else "")
                status = f"FAILED: {died}{_why(err)}"
        wall = time.perf_counter() - t0
        total += wall
        print(f"{wall:7.1f} s  {peak.bytes / 2**30:5.1f} GiB  {name(path)}  {status}", flush=True)
    print(f"{total:7.1f} s  total, {len(failed)} failed")
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)
    if failed:
        print("failed: " + ", ".join(map(str, failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
