"""Wrong-but-plausible answers to the exercises of Parts 0–5: each check must give them 0 points.

One file per part (``part0.py`` for ``chapters/00_foundations/exercises.ipynb``, ... ``part5.py``) defines
``MUTANTS``, a list of :class:`Mutant`. A mutant is the *whole source* a student might put in one solution
cell (the ``def`` line included, no solution markers needed). ``tests/test_exercise_mutants.py`` runs the
part's source notebook once in one kernel and, at each check cell, runs every mutant of that exercise in
place of the solution cell, re-runs the cells between the solution and the check, and grades the check
with nbgrader's own rule (``nbgrader.utils.determine_grade``): every mutant must score 0 and the correct
solution full points. A slow test grades the same mutants through a real ``nbgrader autograde``.

Not to be confused with ``tests/mutations/`` (bugs planted in the package ``src/genmodels``).

To add a mutant when a student finds a wrong answer that passes: append a ``Mutant`` to the part's list,
run ``pytest tests/test_exercise_mutants.py -k partN``, watch it fail, then tighten the check cell.
"""
from __future__ import annotations

import dataclasses
import importlib

PARTS = {  # mutant file -> chapter folder
    "part0": "00_foundations",
    "part1": "01_vae_gan",
    "part2": "02_sliced_autoencoders",
    "part3": "03_generative_convnet",
    "part4": "04_lowlight_enhancement",
    "part5": "05_nonnegative_decomposition",
    "part6": "06_diffusion",
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    exercise: str          # the exercise label, e.g. "ae-ex-code-gaussian"
    name: str              # short name, unique within the exercise, e.g. "biased-covariance"
    source: str            # the whole replacement source of the solution cell
    why: str               # the mistake it stands for
    cell: str | None = None  # grade_id of the solution cell it replaces (default: "<exercise>-solution")

    @property
    def grade_id(self) -> str:
        return self.cell or f"{self.exercise}-solution"


def replaced(source: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new``; ``old`` must occur (so a mutant cannot silently equal the solution)."""
    if old not in source:
        raise ValueError(f"mutant edit: {old!r} is not in the source")
    return source.replace(old, new)


def mutants(part: str) -> list[Mutant]:
    """The mutants of one part (``"part0"`` ... ``"part5"``)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {sorted(PARTS)}")
    return list(importlib.import_module(f"{__name__}.{part}").MUTANTS)
