"""``python -m genmodels ...``: the course outside a notebook.

    python -m genmodels info                       version, device, budget, every data set's source
    python -m genmodels train autoencoder --budget default
    python -m genmodels assignments release|grade  the exercises as nbgrader assignments
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

METHODS = ("autoencoder", "vae", "gan")  # the modules with a train_default() recipe


def _info() -> int:
    from . import data, runtime

    for key, value in runtime.summary().items():
        print(f"{key:>10}: {value}")
    print("data sets:")
    for name, source in data.sources().items():
        print(f"  {name:>12}: {source}")
    return 0


def _train(method: str) -> int:
    module = importlib.import_module(f"genmodels.{method}")
    recipe = getattr(module, "train_default", None)
    if recipe is None:
        print(f"genmodels.{method} has no command-line training recipe (train_default)", file=sys.stderr)
        return 2
    print(json.dumps(recipe(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["assignments"]:  # its own argument parser lives with its code
        from . import assignments

        return assignments.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m genmodels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, device, budget and data sources")
    tr = sub.add_parser("train", help="train a chapter's main model at a budget (cached like the notebooks)")
    tr.add_argument("method", choices=METHODS)
    tr.add_argument("--budget", choices=("smoke", "default", "full"), default=None,
                    help="overrides GENMODELS_BUDGET for this run")
    sub.add_parser("assignments", help="release or grade the exercises as nbgrader assignments")
    args = parser.parse_args(argv)
    if getattr(args, "budget", None):
        os.environ["GENMODELS_BUDGET"] = args.budget
    if args.command == "info":
        return _info()
    return _train(args.method)


if __name__ == "__main__":
    raise SystemExit(main())
