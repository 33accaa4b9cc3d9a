"""Mutation check: does each realistic one-line bug in ``src/genmodels`` make a unit test fail?

    python tools/mutation.py [-j 2] [--only vae] [--no-baseline] [--list]

Each :class:`tests.mutations.Mutation` of ``tests.mutations.all_mutations()`` is applied *alone* to a fresh
copy of ``src/`` in a temporary folder. A subprocess with ``PYTHONPATH`` on the copy first checks that it
imports ``genmodels`` from the copy (never from the editable install), then runs the mutation's test files
with ``pytest -m "not slow" -x -q -p no:cacheprovider``. A failing test *kills* the mutation; passing tests
mean it *survived*. A mutation whose ``find`` does not occur exactly once is an *error* and is not run.
Before the mutations, each distinct set of test files is run once on the unmutated copy (the baseline): a
mutation whose tests already fail without it is reported as ``baseline fails``, not as killed.

Prints one line per mutation, then ``killed K/T`` and the survivors; exits 1 unless every mutation is killed.
Runs ``-j`` mutations in parallel (default 2, one torch thread each).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.mutations import Mutation, all_mutations  # noqa: E402

IMPORT_CHECK = "import genmodels, sys; sys.stdout.write(genmodels.__file__)"


@dataclasses.dataclass
class Outcome:
    mutation: Mutation | None
    status: str          # killed | survived | error | baseline fails | timeout
    seconds: float
    detail: str = ""


def problems(mutation: Mutation, root: Path = ROOT) -> list[str]:
    """What is wrong with a mutation before running it: its ``find`` not exactly once, missing test files."""
    found = []
    path = root / mutation.file
    if not path.is_file():
        return [f"{mutation.file} does not exist"]
    count = path.read_text().count(mutation.find)
    if count != 1:
        found.append(f"find occurs {count} times in {mutation.file} (expected exactly once): {mutation.find[:60]!r}")
    if mutation.find == mutation.replace:
        found.append("replace equals find: not a mutation")
    for test in mutation.tests:
        if not (root / test.split("::")[0]).is_file():
            found.append(f"test file {test.split('::')[0]} does not exist")
    if not mutation.tests:
        found.append("no tests listed")
    return found


def copy_src(dest: Path, root: Path = ROOT) -> Path:
    """A copy of ``root/src`` under ``dest`` (without caches); returns the copy's ``src`` folder."""
    target = dest / "src"
    shutil.copytree(root / "src", target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    return target


def apply(mutation: Mutation, src_copy: Path) -> None:
    """Write the mutation into the copy (``mutation.file`` is relative to the repository root)."""
    path = src_copy.parent / mutation.file
    text = path.read_text()
    if text.count(mutation.find) != 1:
        raise ValueError(f"find occurs {text.count(mutation.find)} times in {mutation.file}")
    path.write_text(text.replace(mutation.find, mutation.replace))


def environment(src_copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GENMODELS_TEST_CACHE", "GENMODELS_TEST_DATA", "GENMODELS_MAX_STEPS", "PYTEST_ADDOPTS")}
    env.update(PYTHONPATH=str(src_copy), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def imports_from(src_copy: Path) -> str:
    """The ``genmodels/__init__.py`` a subprocess with ``PYTHONPATH=src_copy`` imports."""
    done = subprocess.run([sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True,
                          env=environment(src_copy), cwd=ROOT, timeout=120)
    return done.stdout.strip()


def run_tests(mutation: Mutation | None, tests: tuple[str, ...], timeout: float) -> Outcome:
    """Apply ``mutation`` (None: the baseline) to a fresh copy and run ``tests`` against it."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="genmodels-mutation-") as tmp:
        src_copy = copy_src(Path(tmp))
        if mutation is not None:
            apply(mutation, src_copy)
        where = imports_from(src_copy)
        if not where.startswith(str(src_copy)):
            return Outcome(mutation, "error", time.perf_counter() - t0,
                           f"the subprocess imported genmodels from {where or '?'}, not from the copy {src_copy}")
        cmd = [sys.executable, "-m", "pytest", *tests, "-m", "not slow", "-x", "-q", "-p", "no:cacheprovider"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=environment(src_copy), cwd=ROOT,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return Outcome(mutation, "timeout", time.perf_counter() - t0, f"over {timeout:.0f} s")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else done.stderr.strip()[-200:]
    if done.returncode == 0:
        return Outcome(mutation, "survived", time.perf_counter() - t0, last)
    failed = next((line for line in lines if line.startswith(("FAILED", "ERROR"))), last)
    return Outcome(mutation, "killed", time.perf_counter() - t0, failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="run only mutations whose file contains this text")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    mutations = [m for m in all_mutations() if args.only in m.file]
    if args.list:
        for m in mutations:
            print(f"{m.file}: {m.why}")
        return 0
    outcomes: list[Outcome] = []
    runnable = []
    for m in mutations:
        found = problems(m)
        if found:
            outcomes.append(Outcome(m, "error", 0.0, "; ".join(found)))
        else:
            runnable.append(m)
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        broken: dict[tuple[str, ...], str] = {}
        if not args.no_baseline:
            sets = sorted({m.tests for m in runnable})
            for tests, base in zip(sets, pool.map(lambda t: run_tests(None, t, args.timeout), sets)):
                if base.status != "survived":  # the unmutated code must pass its own tests
                    broken[tests] = f"{base.status}: {base.detail}"
                    print(f"baseline fails  {' '.join(tests)}: {base.detail}", flush=True)
        todo = [m for m in runnable if m.tests not in broken]
        outcomes += [Outcome(m, "baseline fails", 0.0, broken[m.tests]) for m in runnable if m.tests in broken]
        futures = {pool.submit(run_tests, m, m.tests, args.timeout): m for m in todo}
        for future in concurrent.futures.as_completed(futures):
            out = future.result()
            outcomes.append(out)
            print(f"{out.status:<9} {out.seconds:6.1f} s  {out.mutation.file}: {out.mutation.why}", flush=True)
    killed = sum(o.status == "killed" for o in outcomes)
    print(f"\nkilled {killed}/{len(outcomes)} mutations in {time.perf_counter() - t0:.0f} s")
    for status in ("survived", "error", "baseline fails", "timeout"):
        rows = [o for o in outcomes if o.status == status]
        if rows:
            print(f"{status} ({len(rows)}):")
            for o in rows:
                print(f"  {o.mutation.file}: {o.mutation.why}  [{o.detail}]")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
