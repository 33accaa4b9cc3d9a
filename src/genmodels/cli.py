"""``python -m genmodels ...``: the course outside a notebook.

    python -m genmodels info                          version, device, budget, every data set's source
    python -m genmodels train vae --budget full       a chapter's model (recipes: see genmodels.recipes)
    python -m genmodels assignments release|grade     the exercises as nbgrader assignments

A bad argument or environment variable (GENMODELS_BUDGET, GENMODELS_DEVICE, GENMODELS_MAX_STEPS,
GENMODELS_DATA) prints one line ``error: ...`` and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import recipes, runtime

METHODS = tuple(recipes.RECIPES)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ``error: ...`` (status 2), not the usage text and a message."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message} (see python -m genmodels --help)\n")


def _info() -> int:
    from . import data

    for key, value in runtime.summary().items():
        print(f"{key:>10}: {value}")
    print("data sets:")
    for name, source in data.sources().items():
        print(f"  {name:>12}: {source}")
    return 0


def _check_environment() -> None:
    """Read every setting once, so a typo fails here in one line, not deep inside a training run."""
    runtime.budget()
    runtime.device()
    runtime.max_steps()
    runtime.data_dir()
    mode = os.environ.get("GENMODELS_PROGRESS", "").strip().lower()
    if mode not in runtime.PROGRESS_MODES:
        raise ValueError(f"GENMODELS_PROGRESS={mode!r} is not a progress mode; expected one of "
                         f"{', '.join(m for m in runtime.PROGRESS_MODES if m)} or unset")


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m genmodels`` on ``argv`` (default ``sys.argv[1:]``); return the exit status (2 for a bad
    argument or environment variable).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["assignments"]:  # its own argument parser lives with its code
        from . import assignments

        return assignments.main(argv[1:])
    parser = _Parser(prog="python -m genmodels", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("info", help="version, device, budget and data sources")
    tr = sub.add_parser("train", help="train a chapter's main model at a budget (cached like the notebooks)")
    tr.add_argument("method", choices=METHODS)
    tr.add_argument("--budget", choices=runtime.BUDGETS, default=None, help="overrides GENMODELS_BUDGET for this run")
    sub.add_parser("assignments", help="release or grade the exercises as nbgrader assignments")
    args = parser.parse_args(argv)
    if getattr(args, "budget", None):
        os.environ["GENMODELS_BUDGET"] = args.budget
    try:
        _check_environment()
    except (ValueError, runtime.DataFolderError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "info":
        return _info()
    print(f"training {args.method} at the {runtime.budget()} budget on {runtime.device()}", file=sys.stderr)
    print(json.dumps(recipes.train(args.method), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
