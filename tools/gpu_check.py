"""Every notebook at ``full`` sizes on a GPU, with a step cap, timed: ``make gpu-check``.

    python tools/gpu_check.py [--max-steps 50] [--device cuda] [--deadline 480] [--out _build/gpu-check]
    GPU_CHECK_DEVICE=cpu python tools/gpu_check.py --max-steps 1 chapters/01_vae_gan/01_vae.ipynb   # on a CPU

Each notebook runs in its own kernel with ``GENMODELS_BUDGET=full GENMODELS_MAX_STEPS=<cap>`` and a fresh cache,
with ``gm.train.fit`` wrapped to time every call. One table goes to ``<out>/gpu_check.md`` and ``.json``: per
notebook the training steps run, steps/s (of the step loops, callbacks and validation left out), the wall time, the peak memory (GPU: ``max_memory_allocated``; CPU:
the kernel's peak resident set) and the full-budget training time those steps/s imply (every ``fit`` call's
epochs × batches at the measured rate). Notebooks named with ``--uncapped`` run without the cap, and their
headline line (a regular expression of :data:`HEADLINES`) is copied into the table. Once ``--deadline`` seconds
have passed the remaining notebooks are listed as not run, so the script fits a short GPU slot.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_dry_run import ROOT, _why, client, name, notebooks  # noqa: E402

HEADLINES = {
    "chapters/01_vae_gan/01_vae.ipynb": r"negative ELBO\s+[-\d.]+",
    "chapters/00_foundations/01_autoencoders.ipynb": r"test reconstruction loss: [-\d.]+ nats per image",
}
"""The line a chapter's full run is judged by, for the chapters whose full run fits a short GPU slot."""

COLUMNS = ("notebook", "steps", "steps/s", "wall s", "peak memory MiB", "implied full training s", "headline")

_SETUP = '''
import json as _gc_json, math as _gc_math, resource as _gc_res, time as _gc_time
import torch as _gc_torch
import genmodels as _gc_gm
_gc_calls, _gc_fit = [], _gc_gm.train.fit
def _gc_sync():
    if _gc_torch.cuda.is_available():
        _gc_torch.cuda.synchronize()
def _gc_timed_fit(model, data, **kw):
    _gc_sync(); t0 = _gc_time.perf_counter()
    history = _gc_fit(model, data, **kw)
    _gc_sync()
    n = (data if isinstance(data, _gc_torch.Tensor) else data[0]).shape[0]
    first = next(iter(history.steps.values()), [])
    _gc_calls.append({"seconds": _gc_time.perf_counter() - t0, "steps": len(first) if history.trained_now else 0,
                      "train_seconds": history.seconds,
                      "full_steps": kw["epochs"] * _gc_math.ceil(n / kw.get("batch_size", 128))})
    return history
_gc_gm.train.fit = _gc_timed_fit
if _gc_torch.cuda.is_available():
    _gc_torch.cuda.reset_peak_memory_stats()
'''

_REPORT = '''
_gc_peak = (_gc_torch.cuda.max_memory_allocated() if _gc_torch.cuda.is_available()
            else _gc_res.getrusage(_gc_res.RUSAGE_SELF).ru_maxrss * 1024)
print("GPU-CHECK " + _gc_json.dumps({"calls": _gc_calls, "peak_bytes": _gc_peak}))
'''


def run_one(path: Path, timeout: int) -> tuple[dict, str]:
    """Execute one notebook with the timing cells around it; return its report and all its printed text."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells = [nbformat.v4.new_code_cell(_SETUP), *nb.cells, nbformat.v4.new_code_cell(_REPORT)]
    client(nb, path, timeout).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                     if o.get("output_type") == "stream")
    line = next(ln for ln in reversed(text.splitlines()) if ln.startswith("GPU-CHECK "))
    return json.loads(line[len("GPU-CHECK "):]), text


def row(name: str, report: dict, wall: float, text: str) -> dict:
    """One table row from a notebook's report (steps/s over its fit calls that trained)."""
    calls = [c for c in report["calls"] if c["steps"]]
    steps = sum(c["steps"] for c in calls)
    seconds = sum(c.get("train_seconds", c["seconds"]) for c in calls)  # the step loops, without callbacks
    rate = steps / seconds if seconds else None
    implied = sum(c["full_steps"] for c in report["calls"]) / rate if rate else None
    pattern = HEADLINES.get(name)
    found = re.findall(pattern, text) if pattern else []
    return {"notebook": name, "steps": steps, "steps/s": round(rate, 2) if rate else None, "wall s": round(wall, 1),
            "peak memory MiB": round(report["peak_bytes"] / 2**20), "implied full training s":
            round(implied) if implied else None, "headline": found[-1] if found else ""}


def markdown(rows: list[dict], header: str) -> str:
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: every one under chapters/)")
    parser.add_argument("--max-steps", type=int, default=50, help="step cap per loop (GENMODELS_MAX_STEPS)")
    parser.add_argument("--device", default=os.environ.get("GPU_CHECK_DEVICE", "cuda"))
    parser.add_argument("--deadline", type=float, default=480, help="seconds after which no new notebook starts")
    parser.add_argument("--uncapped", nargs="*", default=[], help="notebooks to run without the cap (headline)")
    parser.add_argument("--out", default=str(ROOT / "_build" / "gpu-check"))
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: no CUDA device here; run it on a GPU machine, or set GPU_CHECK_DEVICE=cpu to test the script",
              file=sys.stderr)
        return 2
    where = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"CPU ({os.cpu_count()} cores)"
    os.environ.update(GENMODELS_BUDGET="full", GENMODELS_DEVICE=args.device, GENMODELS_PROGRESS="off")
    os.environ["PYTHONPATH"] = str(ROOT / "src") + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    uncapped = {str(Path(p).resolve()) for p in args.uncapped}
    rows, start = [], time.perf_counter()
    for path in notebooks(args.notebooks):
        nb_name = name(path)
        if time.perf_counter() - start > args.deadline:
            rows.append({"notebook": nb_name, "headline": "not run: past the deadline"})
            continue
        os.environ["GENMODELS_CACHE"] = tempfile.mkdtemp(prefix="genmodels-gpu-check-")
        if str(path) in uncapped:
            os.environ.pop("GENMODELS_MAX_STEPS", None)
        else:
            os.environ["GENMODELS_MAX_STEPS"] = str(args.max_steps)
        t0 = time.perf_counter()
        try:
            report, text = run_one(path, args.timeout)
            rows.append(row(nb_name, report, time.perf_counter() - t0, text))
        except Exception as err:  # keep going: the table says which notebook failed and why
            rows.append({"notebook": nb_name, "wall s": round(time.perf_counter() - t0, 1), "headline": f"FAILED: {_why(err)}"})
        shutil.rmtree(os.environ["GENMODELS_CACHE"], ignore_errors=True)
        print(json.dumps(rows[-1]), flush=True)
    total = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = (f"GPU check on {where}: budget full, step cap {args.max_steps} "
              f"(uncapped: {', '.join(args.uncapped) or 'none'}), total {total:.0f} s")
    (out / "gpu_check.md").write_text(markdown(rows, header))
    (out / "gpu_check.json").write_text(json.dumps({"device": where, "max_steps": args.max_steps,
                                                    "total_seconds": round(total, 1), "rows": rows}, indent=1))
    print(f"{header}\nwrote {out / 'gpu_check.md'} and {out / 'gpu_check.json'}")
    return 1 if any(str(r.get("headline", "")).startswith("FAILED") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
