"""The classroom kit: every ``chapters/*/exercises.ipynb`` as an nbgrader assignment.

    python -m genmodels assignments release [--out DIR] [--parts P ...]
    python -m genmodels assignments grade SUBMISSIONS [--course DIR] [--budget smoke] [--csv FILE]

``release`` lays out an nbgrader course folder (``nbgrader_config.py``, ``source/<part>/exercises.ipynb``
and the small files beside it) and runs nbgrader's own ``generate_assignment`` for each part, so
``release/<part>/exercises.ipynb`` is the student version: solutions replaced by stubs that raise
``NotImplementedError``, outputs cleared, checks locked.

``grade`` takes submissions laid out as ``SUBMISSIONS/<student>/<part>/exercises.ipynb``, runs nbgrader's
``autograde`` on each in the chosen budget (``GENMODELS_BUDGET`` reaches the kernels nbgrader starts),
prints points per student per exercise and writes them as CSV. A submission that is not a notebook, has
cells deleted or raises is scored and the table says why; grading goes on with the others.

The convention every exercises notebook follows (checked by :func:`convention_problems`, used by the
tests and by ``release``) is in CONTRIBUTING.md, "Exercises".

Book page: book/for-instructors.md
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import nbformat

NOTEBOOK = "exercises.ipynb"
COURSE_ID = "genmodels"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BUDGETS = ("smoke", "default", "full")
CELL_TIMEOUT = {"smoke": 300, "default": 1800, "full": 7200}  # seconds one cell may run when grading
MIN_EXERCISES = 3
SMALL_FILE = 1_000_000  # bytes: files beside a notebook up to this size travel with the assignment
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "_build"}

CONFIG_TEMPLATE = '''\
# nbgrader configuration of the genmodels course, written by `python -m genmodels assignments`.
# Works with nbgrader's own commands too, run from this folder:
#   nbgrader generate_assignment <part> --force     (source/ -> release/)
#   nbgrader autograde <part> --force               (submitted/ -> autograded/, scores in gradebook.db)
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "{course_id}"

# Grading runs each notebook end to end; the budget sets the sizes inside the notebooks (smoke: tiny
# subsets, a few seconds of training). Export GENMODELS_BUDGET before grading to change it.
os.environ.setdefault("GENMODELS_BUDGET", "smoke")
c.Execute.timeout = {timeouts}[os.environ["GENMODELS_BUDGET"]]  # seconds per cell

# A check cell a student deleted is put back from the source and run, so deleting a check gains nothing.
c.OverwriteCells.add_missing_cells = True
'''


class ConventionError(ValueError):
    """An exercises notebook does not follow the convention of CONTRIBUTING.md ("Exercises")."""


# --------------------------------------------------------------------------------------------------
# Reading an exercises notebook


@dataclasses.dataclass
class Exercise:
    """One exercise: its ``{exercise}`` label and the nbgrader cells that follow the statement."""

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
    """The MyST directives opened in ``markdown``: ``(name, argument, options)`` in order."""
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
    """The exercises of a notebook in order; every nbgrader cell belongs to the last statement before it."""
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
    """Everything in ``nb`` that breaks the exercises convention (CONTRIBUTING.md); empty when it follows it."""
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
    """Read a notebook with nbformat; a missing file or invalid JSON raises ``ValueError`` naming the path."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        raise
    except Exception as err:  # JSON errors, schema errors: the message says what is wrong
        raise ValueError(f"{path} is not a valid notebook: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from err
    return nb


# --------------------------------------------------------------------------------------------------
# Finding the parts and laying out a course


def chapters_dir() -> Path:
    """The ``chapters/`` folder of this checkout (or of the working directory)."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "chapters").is_dir():
            return root / "chapters"
    raise FileNotFoundError("no chapters/ folder next to the package or in the working directory; "
                            "run from the root of the course repository or pass --chapters")


def parts(chapters: str | Path | None = None, only: Sequence[str] | None = None) -> dict[str, Path]:
    """Part name (its chapter folder, e.g. ``00_foundations``) → its ``exercises.ipynb``, sorted."""
    chapters = Path(chapters) if chapters is not None else chapters_dir()
    found = {p.parent.name: p for p in sorted(chapters.glob(f"*/{NOTEBOOK}"))}
    if not found:
        raise FileNotFoundError(f"no {chapters}/*/{NOTEBOOK}: no part has exercises yet")
    if only:
        unknown = [p for p in only if p not in found]
        if unknown:
            raise ValueError(f"unknown part(s) {unknown}; parts with exercises: {sorted(found)}")
        found = {p: found[p] for p in only}
    return found


def _small_files(folder: Path) -> Iterator[Path]:
    """Files beside a part's notebooks that an assignment may need (not notebooks, caches or big files)."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path.suffix == ".ipynb" or any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts):
            continue
        if path.stat().st_size <= SMALL_FILE:
            yield path


def layout_course(course: str | Path, part_notebooks: Mapping[str, Path]) -> Path:
    """Write ``nbgrader_config.py`` and ``source/<part>/`` for each part into ``course``; return it."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    timeouts = json.dumps(CELL_TIMEOUT)
    (course / "nbgrader_config.py").write_text(CONFIG_TEMPLATE.format(course_id=COURSE_ID, timeouts=timeouts))
    for part, notebook in part_notebooks.items():
        problems = convention_problems(read_notebook(notebook))
        if problems:
            raise ConventionError(f"{notebook} does not follow the exercises convention:\n  " + "\n  ".join(problems))
        source = course / "source" / part
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        shutil.copy2(notebook, source / NOTEBOOK)
        for extra in _small_files(notebook.parent):
            target = source / extra.relative_to(notebook.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(extra, target)
    return course


# --------------------------------------------------------------------------------------------------
# Running nbgrader in this process


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(converter_cls, course: Path, **ids: str) -> tuple[bool, str]:
    """Run one nbgrader converter on ``course`` (config from its nbgrader_config.py); (success, log)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader runs `alembic` when it creates a gradebook: the environment's scripts must be on PATH,
    # also when this Python was started as .venv/bin/python without activating the venv.
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + path
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    coursedir = CourseDirectory(config=config, **ids)
    app = converter_cls(coursedir=coursedir, config=config)
    app.force = True
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    handler.setLevel(logging.INFO)
    logger = app.log
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # nbgrader's chatter goes to the captured log, not the terminal
    try:
        with warnings.catch_warnings():  # nbgrader's own SQLAlchemy and nbformat deprecation chatter
            warnings.simplefilter("ignore")
            app.start()
        ok = True
    except Exception as err:  # nbgrader raises after logging what went wrong
        buffer.write(f"[ERROR] {type(err).__name__}: {err}\n")
        ok = False
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    return ok, buffer.getvalue()


def generate(course: str | Path, part: str) -> Path:
    """nbgrader ``generate_assignment`` for one part of ``course``; return the released notebook."""
    from nbgrader.converters import GenerateAssignment

    course = Path(course)
    ok, log = _run(GenerateAssignment, course, assignment_id=part)
    released = course / "release" / part / NOTEBOOK
    if not ok or not released.exists():
        raise RuntimeError(f"nbgrader generate_assignment failed for {part}:\n{log}")
    text = released.read_text()
    if BEGIN in text or END in text:
        raise RuntimeError(f"{released} still contains solution markers")
    if any(_has_outputs(c) for c in read_notebook(released).cells):
        raise RuntimeError(f"{released} still has outputs")
    return released


def release(out: str | Path, only: Sequence[str] | None = None, chapters: str | Path | None = None) -> dict[str, Path]:
    """Lay out the course in ``out`` and generate every part's student version; part → released notebook."""
    found = parts(chapters, only)
    course = layout_course(out, found)
    return {part: generate(course, part) for part in found}


# --------------------------------------------------------------------------------------------------
# Grading


@dataclasses.dataclass
class Result:
    """One student's grade for one part: per exercise (score or None while awaiting a teacher, max)."""

    student: str
    part: str
    scores: dict[str, tuple[float | None, float]] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    errors: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (cell, exception name) in order
    graded: bool = False  # False when the submission could not be run at all
    seconds: float = 0.0  # wall time nbgrader took on it (executing the notebook)

    @property
    def total(self) -> float:
        return float(sum(s for s, _ in self.scores.values() if s is not None))

    @property
    def max_points(self) -> float:
        return float(sum(m for _, m in self.scores.values()))


def _grade_cells(nb) -> set[str]:
    return {_nbgrader(c)["grade_id"] for c in nb.cells if _kind(c) in ("check", "written") and _nbgrader(c).get("grade_id")}


def _solution_cells(nb) -> set[str]:
    return {_nbgrader(c)["grade_id"] for c in nb.cells if _kind(c) == "solution" and _nbgrader(c).get("grade_id")}


def _errors(nb) -> list[tuple[str, str]]:
    """(cell name, exception name) of every cell whose output is an error, in notebook order."""
    out = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                out.append((_nbgrader(cell).get("grade_id", f"cell {index}"), output.get("ename", "error")))
    return out


def _last_error(log: str) -> str:
    lines = [line[len("[ERROR] "):] for line in log.splitlines() if line.startswith("[ERROR] ")]
    meaningful = [line for line in lines if not line.startswith(("There was an error processing", "Please see"))]
    return (meaningful or lines or ["no log"])[-1][:200]


def _scores(course: Path, part: str, student: str, exercises_: list[Exercise]) -> dict[str, tuple[float | None, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        submission = gb.find_submission_notebook(Path(NOTEBOOK).stem, part, student)
        grades = {g.name: g for g in submission.grades}
        out = {}
        for ex in exercises_:
            awaiting = any(grades[g].auto_score is None and grades[g].manual_score is None for g in ex.points)
            out[ex.label] = (None if awaiting else float(sum(grades[g].score for g in ex.points)), ex.max_points)
        return out


def grade(submissions: str | Path, course: str | Path | None = None, budget: str = "smoke",
          chapters: str | Path | None = None) -> list[Result]:
    """Autograde ``submissions/<student>/<part>/exercises.ipynb`` in ``course``; one Result per submission.

    ``course`` defaults to ``courses/genmodels``; a part without ``source/<part>`` there is laid out from
    the chapters first (as ``release`` does). Kernels run with ``GENMODELS_BUDGET=budget``.
    """
    from nbgrader.converters import Autograde

    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}; got {budget!r}")
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}; expected <student>/<part>/{NOTEBOOK} inside it")
    course = Path(course) if course is not None else Path("courses") / COURSE_ID
    students = sorted(s for s in submissions.iterdir() if s.is_dir())
    found = sorted((s.name, p.name, p / NOTEBOOK) for s in students for p in s.iterdir() if p.is_dir())
    strays = [s.name for s in students if not any(p.is_dir() for p in s.iterdir())]
    if not found:
        raise FileNotFoundError(f"nothing to grade in {submissions}; expected <student>/<part>/{NOTEBOOK}")
    available = parts(chapters)
    wanted = sorted({part for _, part, _ in found if part in available})
    missing_source = {p: available[p] for p in wanted if not (course / "source" / p / NOTEBOOK).exists()}
    if missing_source or not (course / "nbgrader_config.py").exists():
        layout_course(course, missing_source)
    sources = {}
    for part in wanted:
        generate(course, part)  # (re)records the source's cells and checksums in the gradebook
        sources[part] = read_notebook(course / "source" / part / NOTEBOOK)

    results = [Result(name, "?", notes=[f"not graded: expected {name}/<part>/{NOTEBOOK}"]) for name in strays]
    with _environment(GENMODELS_BUDGET=budget):
        for student, part, path in found:
            result = Result(student, part)
            results.append(result)
            if part not in sources:
                result.notes.append(f"unknown assignment {part!r}; parts: {sorted(available)}")
                continue
            exs = exercises(sources[part])
            result.scores = {ex.label: (0.0, ex.max_points) for ex in exs}
            target = course / "submitted" / student / part
            if target.exists():  # an earlier hand-in of this student is replaced, also by an unreadable one
                shutil.rmtree(target)
            try:
                nb = read_notebook(path)
            except (FileNotFoundError, ValueError) as err:
                result.notes.append(f"not graded: {err}" if not isinstance(err, FileNotFoundError) else f"not graded: no {path}")
                continue
            missing_checks = sorted(_grade_cells(sources[part]) - _grade_cells(nb))
            missing_answers = sorted(_solution_cells(sources[part]) - _solution_cells(nb))
            if missing_checks:
                result.notes.append(f"deleted graded cells restored and run: {', '.join(missing_checks)}")
            if missing_answers:
                result.notes.append(f"deleted answer cells: {', '.join(missing_answers)}")
            target.mkdir(parents=True)
            shutil.copy2(path, target / NOTEBOOK)
            start = time.perf_counter()
            ok, log = _run(Autograde, course, assignment_id=part, student_id=student)
            result.seconds = time.perf_counter() - start
            graded_nb = course / "autograded" / student / part / NOTEBOOK
            if not ok or not graded_nb.exists():
                result.notes.append(f"not graded: nbgrader failed: {_last_error(log)}")
                continue
            result.graded = True
            result.scores = _scores(course, part, student, exs)
            result.errors = _errors(read_notebook(graded_nb))
            if result.errors:
                shown = ", ".join(f"{cell} {name}" for cell, name in result.errors[:3])
                more = f" (+{len(result.errors) - 3} more)" if len(result.errors) > 3 else ""
                result.notes.append(f"errors: {shown}{more}")
            if any(s is None for s, _ in result.scores.values()):
                result.notes.append("written answers await the teacher")
    return results


def _fmt(x: float) -> str:
    return f"{x:g}"


def table(results: Sequence[Result]) -> str:
    """Points per student per exercise, one block per part ("?" = a written answer awaiting the teacher)."""
    blocks = []
    for part in sorted({r.part for r in results}):
        rows = [r for r in results if r.part == part]
        labels = list(next((r.scores for r in rows if r.scores), {}))
        header = ["student", *labels, "total", "seconds", "notes"]
        body = []
        for r in rows:
            cells = [f"{'?' if s is None else _fmt(s)}/{_fmt(m)}" for s, m in (r.scores.get(l, (0.0, 0.0)) for l in labels)]
            body.append([r.student, *cells, f"{_fmt(r.total)}/{_fmt(r.max_points)}",
                         f"{r.seconds:.0f}", "; ".join(r.notes)])
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header) - 1)]
        lines = [f"== {part} =="]
        for row in [header, *body]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


CSV_FIELDS = ("student", "part", "exercise", "points", "max_points", "status", "seconds", "notes")


def write_csv(results: Sequence[Result], path: str | Path) -> Path:
    """One row per student, part and exercise, then a ``TOTAL`` row; ``points`` is empty while awaiting a teacher."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for r in results:
            notes, seconds = "; ".join(r.notes), f"{r.seconds:.1f}"
            for label, (score, max_points) in r.scores.items():
                status = "not graded" if not r.graded else ("awaiting teacher" if score is None else "graded")
                writer.writerow({"student": r.student, "part": r.part, "exercise": label,
                                 "points": "" if score is None else _fmt(score), "max_points": _fmt(max_points),
                                 "status": status, "seconds": seconds, "notes": notes})
            writer.writerow({"student": r.student, "part": r.part, "exercise": "TOTAL", "points": _fmt(r.total),
                             "max_points": _fmt(r.max_points), "status": "graded" if r.graded else "not graded",
                             "seconds": seconds, "notes": notes})
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m genmodels assignments release|grade ...``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m genmodels assignments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", default=None, help="the book's chapters/ folder (default: this checkout's)")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="lay out the nbgrader course and generate the student versions")
    rel.add_argument("--out", default=f"courses/{COURSE_ID}", help="course folder (default: courses/genmodels)")
    rel.add_argument("--parts", nargs="+", default=None, help="chapter folders to release (default: all)")
    gr = sub.add_parser("grade", help="autograde SUBMISSIONS/<student>/<part>/exercises.ipynb")
    gr.add_argument("submissions")
    gr.add_argument("--course", default=f"courses/{COURSE_ID}", help="course folder (default: courses/genmodels)")
    gr.add_argument("--budget", choices=BUDGETS, default="smoke", help="budget the notebooks run in (default: smoke)")
    gr.add_argument("--csv", default=None, help="where to write the table (default: SUBMISSIONS/grades.csv)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "release":
            released = release(args.out, args.parts, args.chapters)
            for part, path in released.items():
                exs = exercises(read_notebook(Path(args.out) / "source" / part / NOTEBOOK))
                listing = ", ".join(f"{ex.label} ({_fmt(ex.max_points)}{' written' if ex.written else ''})" for ex in exs)
                print(f"{part}: {path}  [{listing}]")
            return 0
        results = grade(args.submissions, args.course, args.budget, args.chapters)
        print(table(results))
        out = write_csv(results, args.csv or Path(args.submissions) / "grades.csv")
        print(f"\nwritten: {out}")
        return 0
    except ModuleNotFoundError as err:
        if err.name != "nbgrader":
            raise
        print("assignments: nbgrader is not installed; pip install 'nbgrader==0.9.6' (or the package's [test] extra)",
              file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"assignments {args.command}: {err}", file=sys.stderr)
        return 2
