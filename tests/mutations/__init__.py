"""One-line mutations of ``src/genmodels``: realistic bugs that the unit tests must catch.

Each module of the package has a file here (``tests/mutations/vae.py`` for ``src/genmodels/vae.py``,
``tests/mutations/lowlight.py`` for the ``lowlight`` package ...) defining ``MUTATIONS``, a list of
:class:`Mutation`. ``make mutation`` applies each one alone to a temporary copy of ``src/``, runs the
named non-slow unit tests against the copy and reports it *killed* (a test failed) or *survived*.
``tests/test_mutations.py`` checks, in every test run, that each ``find`` still occurs exactly once in
its file, so a mutation cannot go stale silently when the code changes.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil


@dataclasses.dataclass(frozen=True)
class Mutation:
    file: str                 # path from the repository root, e.g. "src/genmodels/vae.py"
    find: str                 # exact text, occurring exactly once in the file
    replace: str              # the bug
    why: str                  # what a reader would call this bug, e.g. "IWAE drops log q(z|x)"
    tests: tuple[str, ...]    # test files (or node ids) that must catch it, e.g. ("tests/test_vae.py",)


def all_mutations() -> list[Mutation]:
    """Every mutation of every module file in this folder, in file order."""
    found: list[Mutation] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(module.MUTATIONS)
    return found
