"""Execute a book's notebooks in parallel into the jupyter-cache that its build then reads (book/build.sh).

Jupyter Book executes notebooks one after another; on 2 cores that leaves one idle for the whole build.
This script runs them ``--jobs`` at a time, each in its own folder as the build would (nbclient, the
book's cell timeout, errors not allowed; see :func:`_polled` for one nbclient hang it avoids), stores every notebook that ran without error in a fresh
jupyter-cache at ``--cache``, and writes ``--config``: the book's ``_config.yml`` with
``execute_notebooks: cache`` and that cache. ``jupyter-book build --config`` then takes the stored outputs
(glue, figures, widgets) and executes only what is missing, so a notebook that failed here fails in the
build, with its traceback, exactly as before. The cache is emptied first: every build re-executes every
notebook, as ``execute_notebooks: force`` did (a change in ``src/`` is never served stale).

Order: notebooks of one chapter folder run in table-of-contents order (a chapter reuses the models its
earlier pages trained, through ``gm.runtime.cache_dir()``). A notebook that reuses models of other folders
says so in its metadata, ``"genmodels": {"after": ["chapters/01_vae_gan", ...]}`` (paths from the book's root),
and waits for the earlier notebooks of those folders too (Part 6's yardstick loads Parts 1 and 2's models).

Threads: each notebook gets its share of the cores (``OMP_NUM_THREADS`` = cores // jobs, unless it is set
already); two notebooks that each use every core run several times slower than with one thread each.

Usage: python tools/execute_book.py BOOK --cache DIR --config FILE [--jobs N]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import copy
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import yaml


def toc_notebooks(book: Path) -> list[Path]:
    """The .ipynb files of ``book/_toc.yml`` in reading order (pages that are not notebooks are skipped)."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: dict) -> None:
        for key in ("root", "file"):
            if key in node:
                files.append(node[key])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                walk(child)

    walk(toc)
    return [book / f"{f}.ipynb" for f in files if (book / f"{f}.ipynb").is_file()]


def prerequisites(notebooks: list[Path], book: Path) -> dict[Path, set[Path]]:
    """What each notebook waits for: the earlier notebooks of its folder and of the folders its metadata's
    ``genmodels.after`` lists (a folder that is no chapter folder of the book is an error)."""
    folders = {nb.parent for nb in notebooks}
    before: dict[Path, set[Path]] = {}
    for i, nb in enumerate(notebooks):
        after = nbformat.read(nb, as_version=4).metadata.get("genmodels", {}).get("after", [])
        wanted = {nb.parent} | {(book / folder).resolve() for folder in after}
        unknown = sorted(str(f) for f in wanted - folders)
        if unknown:
            raise ValueError(f"{nb}: genmodels.after names {unknown}, which hold no notebook of the book")
        before[nb] = {p for p in notebooks[:i] if p.parent in wanted}
    return before


def share_cores(jobs: int) -> None:
    """Give each of ``jobs`` notebooks its share of this machine's cores (kernels inherit the variables)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(max(1, cores // jobs)))


def _polled(get_msg, every: float = 1.0):
    """``get_msg`` of a kernel client's shell channel, waiting in slices of ``every`` seconds up to its timeout.

    nbclient mirrors ipywidgets' Output widgets by sending comm messages on the shell channel while it waits
    for the cell's reply on that channel; now and then the reply's wake-up is lost and one long wait would last
    until the cell timeout with the kernel idle (jupyter/nbclient#312; it hung the smoke book on Part 2 ch.03
    once). A fresh poll every second sees a reply that is already there. The mirroring itself stays: the pages
    show what each explorer drew.
    """
    from queue import Empty

    async def get(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = every if deadline is None else max(0.0, min(every, deadline - time.monotonic()))
            try:
                return await get_msg(timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get


def _execute(path: str, timeout: int) -> tuple[str, str | None, float, str | None]:
    """Run one notebook in its folder; (path, executed notebook as JSON or None, seconds, error or None)."""
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            kc.shell_channel.get_msg = _polled(kc.shell_channel.get_msg)
            return kc

    nb = nbformat.read(path, as_version=4)
    own = nb.metadata.get("execution", {})  # a notebook's own execution settings win, as in the build
    # record_timing off: timings in the cells' metadata would change the hash the build looks the notebook up by
    client = Client(nb, timeout=own.get("timeout", timeout), allow_errors=own.get("allow_errors", False),
                    record_timing=False,  # the kernel: the notebook's kernelspec, nbclient's default
                    resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as err:  # a cell that raised (CellExecutionError), a cell timeout, a dead kernel
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))   # no terminal colours
        last = text.strip().splitlines()
        return path, None, time.perf_counter() - start, last[-1] if last else type(err).__name__
    return path, nbformat.writes(nb), time.perf_counter() - start, None


def cached_config(book: Path, config: dict, cache: Path, out: Path) -> None:
    """Write the book's ``config`` with ``execute_notebooks: cache`` reading ``cache``, to a file ``out`` elsewhere."""
    config = copy.deepcopy(config)
    execute = config.setdefault("execute", {})
    execute["execute_notebooks"] = "cache"
    execute["cache"] = str(cache.resolve())
    # Jupyter Book puts local extensions on sys.path relative to the config file: keep them the book's
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((book / path).resolve())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True, help="where to write the config that reads the cache")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    book = args.book.resolve()
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    timeout = int(config.get("execute", {}).get("timeout", 30))
    shutil.rmtree(args.cache, ignore_errors=True)
    cache = get_cache(str(args.cache))
    cached_config(book, config, args.cache, args.config)

    share_cores(args.jobs)
    notebooks = toc_notebooks(book)
    waits = prerequisites(notebooks, book)
    pending, running, finished = list(notebooks), {}, set()
    failed: list[str] = []
    start = time.perf_counter()
    print(f"execute_book: {len(notebooks)} notebooks, {args.jobs} at a time, "
          f"{os.environ['OMP_NUM_THREADS']} thread(s) each", flush=True)
    with cf.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        while pending or running:
            for nb in [p for p in pending if waits[p] <= finished][: args.jobs - len(running)]:
                pending.remove(nb)
                running[pool.submit(_execute, str(nb), timeout)] = nb
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                nb = running.pop(future)
                finished.add(nb)
                path, text, seconds, error = future.result()
                name = nb.relative_to(book).as_posix()
                if error is None:
                    cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(text, as_version=4), path,
                                                              data={"execution_seconds": seconds}),
                                                check_validity=False, overwrite=True)
                    print(f"execute_book: {name} ran in {seconds:.1f} s", flush=True)
                else:
                    failed.append(name)
                    print(f"execute_book: {name} FAILED after {seconds:.1f} s ({error}); the build runs it "
                          "again and shows the traceback", flush=True)
    print(f"execute_book: {len(notebooks) - len(failed)} of {len(notebooks)} notebooks in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
