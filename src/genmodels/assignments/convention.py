"""The exercises convention: reading an exercises notebook, and what breaks the convention.

The convention every ``chapters/*/exercises.ipynb`` follows is in CONTRIBUTING.md ("Exercises"):
a labelled ``{exercise}`` statement, the student's cell(s) with the answer between solution markers,
then a locked check cell (or one written-answer cell). :func:`convention_problems` lists what is wrong.

Book page: book/for-instructors.md
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat

NOTEBOOK = "exercises.ipynb"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MIN_EXERCISES = 3


class ConventionError(ValueError):
    """An exercises notebook does not follow the convention of CONTRIBUTING.md ("Exercises").

    Notebook: chapters/00_foundations/exercises.ipynb
    """


# --------------------------------------------------------------------------------------------------
# Reading an exercises notebook


@dataclasses.dataclass
class Exercise:
    """One exercise: its ``{exercise}`` label and the nbgrader cells that follow the statement.

    Notebook: chapters/00_foundations/exercises.ipynb
    """

    label: str
    title: str
    solution_ids: list[str] = dataclasses.field(default_factory=list)   # student cells (code or written)
    points: dict[str, float] = dataclasses.field(default_factory=dict)  # graded cell grade_id -> points
    written: bool = False

    @property
    def max_points(self) -> float:
        return float(sum(self.points.values()))


_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")


def directives(markdown: str) -> list[tuple[str, str, dict[str, str]]]:
    """The MyST directives opened in ``markdown``: ``(name, argument, options)`` in order.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    lines = markdown.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = _FENCE.match(line.strip())
        if not m:
            continue
        options: dict[str, str] = {}
        for option_line in lines[i + 1 :]:
            o = _OPTION.match(option_line.strip())
            if not o:
                break
            options[o["key"]] = o["value"]
        found.append((m["name"], m["arg"], options))
    return found


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _kind(cell) -> str | None:
    """``"solution"`` (student code), ``"check"``, ``"written"``, ``"readonly"``, ``"other"`` or None."""
    meta = _nbgrader(cell)
    if not meta:
        return None
    solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
    if cell.cell_type == "code" and solution and not grade:
        return "solution"
    if cell.cell_type == "code" and grade and not solution:
        return "check"
    if cell.cell_type == "markdown" and solution and grade:
        return "written"
    if meta.get("locked") and not solution and not grade and not meta.get("task"):
        return "readonly"
    return "other"


def exercises(nb) -> list[Exercise]:
    """The exercises of a notebook in order; every nbgrader cell belongs to the last statement before it.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    found: list[Exercise] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for name, arg, options in directives(cell.source):
                if name == "exercise":
                    found.append(Exercise(label=options.get("label", ""), title=arg))
        kind = _kind(cell)
        if kind in (None, "readonly"):
            continue
        grade_id = _nbgrader(cell).get("grade_id", f"cell {index}")
        if not found:
            raise ConventionError(f"cell {index} ({grade_id}) has nbgrader metadata but no {{exercise}} block before it")
        ex = found[-1]
        if kind in ("solution", "written"):
            ex.solution_ids.append(grade_id)
        if kind in ("check", "written"):
            ex.points[grade_id] = float(_nbgrader(cell).get("points", 0) or 0)
        ex.written = ex.written or kind == "written"
    return found


_EXPECTED = {
    "solution": {"solution": True, "grade": False, "locked": False, "schema_version": 3, "task": False},
    "check": {"solution": False, "grade": True, "locked": True, "schema_version": 3, "task": False},
    "written": {"solution": True, "grade": True, "locked": False, "schema_version": 3, "task": False},
}


def _marker_problems(source: str) -> str | None:
    lines = [line.strip() for line in source.splitlines()]
    begins = [i for i, s in enumerate(lines) if s == BEGIN]
    ends = [i for i, s in enumerate(lines) if s == END]
    if not begins or len(begins) != len(ends):
        return f"needs {BEGIN!r} ... {END!r} lines (found {len(begins)} BEGIN, {len(ends)} END)"
    for b, e in zip(begins, ends):
        if not b < e:
            return f"{BEGIN!r} must come before its {END!r}"
        if not any(s and not s.startswith("#") for s in lines[b + 1 : e]):
            return "the solution between the markers is empty"
    return None


def _has_outputs(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.get("outputs") or cell.get("execution_count"))


def _cell_problems(index: int, cell, kind: str, label: str) -> list[str]:
    """What is wrong with one student or check cell of exercise ``label``."""
    meta = _nbgrader(cell)
    where = f"cell {index} ({meta.get('grade_id', 'no grade_id')}, exercise {label!r})"
    problems = []
    if not meta.get("grade_id"):
        problems.append(f"{where}: nbgrader metadata needs a grade_id")
    wrong = {k: meta.get(k) for k, v in _EXPECTED[kind].items() if meta.get(k) != v}
    if wrong:
        problems.append(f"{where}: nbgrader metadata {wrong} should be {{{', '.join(f'{k}: {_EXPECTED[kind][k]}' for k in wrong)}}}")
    if kind in ("check", "written"):
        points = meta.get("points")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
            problems.append(f"{where}: a graded cell needs positive 'points'; got {points!r}")
    if kind == "solution":
        if "hide-input" not in cell.get("metadata", {}).get("tags", []):
            problems.append(f"{where}: a solution cell must be tagged 'hide-input'")
        marker = _marker_problems(cell.source)
        if marker:
            problems.append(f"{where}: {marker}")
    if kind == "check":
        if "assert" not in cell.source:
            problems.append(f"{where}: a check cell must assert something about the student's answer")
        if not re.search(r"print\(\s*f?[\"']" + re.escape(label) + r": passed[\"']\s*\)", cell.source):
            problems.append(f'{where}: a check cell must end by print("{label}: passed")')
        if BEGIN in cell.source:
            problems.append(f"{where}: a check cell must not contain solution markers")
    if kind == "written":
        answers = [(arg, opts) for name, arg, opts in directives(cell.source) if name == "solution"]
        if not any(arg == label and opts.get("class") == "dropdown" for arg, opts in answers):
            problems.append(f"{where}: a written answer is a ```{{solution}} {label}``` block with ':class: dropdown'")
    return problems


def convention_problems(nb) -> list[str]:
    """Everything in ``nb`` that breaks the exercises convention (CONTRIBUTING.md); empty when it follows it.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    problems: list[str] = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec must be 'python3'; got {kernel!r}")
    if any(_has_outputs(cell) for cell in nb.cells):
        problems.append("the notebook is committed with outputs; clear them")
    try:
        found = exercises(nb)
    except ConventionError as err:
        return problems + [str(err)]
    labels = [ex.label for ex in found]
    if len(found) < MIN_EXERCISES:
        problems.append(f"needs at least {MIN_EXERCISES} {{exercise}} blocks; found {len(found)}")
    if not any(ex.written for ex in found):
        problems.append("needs at least one written-answer exercise")
    if not any(not ex.written for ex in found):
        problems.append("needs at least one exercise with code and an automatic check")
    for ex in found:
        if not ex.label:
            problems.append(f"the {{exercise}} {ex.title!r} has no :label:")
        if not ex.points:
            problems.append(f"exercise {ex.label!r} has no graded cell (a check, or a written answer)")
        if not ex.solution_ids:
            problems.append(f"exercise {ex.label!r} has no cell for the student's answer")
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        problems.append(f"exercise labels used twice: {dupes}")
    grade_ids = [_nbgrader(c).get("grade_id") for c in nb.cells if _kind(c) not in (None,)]
    dupes = sorted({str(x) for x in grade_ids if grade_ids.count(x) > 1})
    if dupes:
        problems.append(f"grade_ids used twice: {dupes}")

    label = None
    seen_solution = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for name, _, options in directives(cell.source):
                if name == "exercise":
                    label, seen_solution = options.get("label", ""), False
        kind = _kind(cell)
        if kind == "other":
            problems.append(f"cell {index}: nbgrader metadata {_nbgrader(cell)} is none of the convention's cell kinds")
        if kind in _EXPECTED and label is not None:
            problems += _cell_problems(index, cell, kind, label)
        if kind == "solution":
            seen_solution = True
        if kind == "check" and not seen_solution:
            problems.append(f"cell {index}: the check of {label!r} comes before any solution cell of that exercise")
    return problems


def read_notebook(path: str | Path):
    """Read a notebook with nbformat; a missing file or invalid JSON raises ``ValueError`` naming the path.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        raise
    except Exception as err:  # JSON errors, schema errors: the message says what is wrong
        raise ValueError(f"{path} is not a valid notebook: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from err
    return nb


def cells_by_id(nb, kinds: tuple[str, ...] = ("solution", "check", "written")) -> dict[str, object]:
    """grade_id -> cell for the nbgrader cells of ``nb`` of the given kinds.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    return {_nbgrader(c)["grade_id"]: c for c in nb.cells if _kind(c) in kinds and _nbgrader(c).get("grade_id")}
