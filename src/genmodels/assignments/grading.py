"""Grading submissions with nbgrader without ever touching a student's file.

``grade`` reads the submissions (nbgrader's ``submitted/<student>/<part>/`` layout, the same layout in any
folder, or a plain folder of ``<student>.ipynb`` for one ``part``), copies each into the course's own
workspace ``grading/<student>/<part>/`` and runs nbgrader's ``autograde`` there (``autograded/`` and
``gradebook.db`` as usual). It never deletes, moves or rewrites a file in the submissions folder.

Per cell a timeout (``--timeout``, else the config's ``Execute.timeout``) cuts loops; a kernel that dies
is reported in the cell it died in and the notebook is graded again with that cell skipped; what a
student's code writes to stderr (a warning) is kept in the output but does not cost the points.
Several submissions are graded in parallel processes with ``jobs`` > 1.

Book page: book/for-instructors.md
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
import shutil
import time
from pathlib import Path
from typing import Sequence

from .convention import NOTEBOOK, Exercise, _kind, _nbgrader, cells_by_id, exercises, read_notebook
from .course import BUDGETS, environment, generate, layout_course, load_config, parts, run_nbgrader
from .report import KERNEL_DIED, STDERR_MARK, Result, errors, reasons, same_as_book

WORKSPACE = "grading"  # inside the course folder: the copies nbgrader grades (the kit's, never the students')
MAX_DEATHS = 3  # a notebook whose kernel dies more often than this is reported, not retried


def default_jobs() -> int:
    """Submissions graded at once: half the cores (each kernel runs one thread), at least one.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    return max(1, (os.cpu_count() or 2) // 2)


# --------------------------------------------------------------------------------------------------
# nbgrader preprocessors of the kit


def _preprocessors():
    from nbgrader.preprocessors import Execute, NbGraderPreprocessor

    class KitExecute(Execute):
        """nbgrader's Execute that remembers the running cell and skips the cells a dead kernel died in."""

        skip: dict[int, str] = {}
        running: int | None = None

        def preprocess_cell(self, cell, resources, index):
            if index in KitExecute.skip:
                from nbformat.v4 import new_output

                cell.outputs = [new_output("error", ename=KERNEL_DIED, evalue=KitExecute.skip[index], traceback=[])]
                return cell, resources
            KitExecute.running = index
            return super().preprocess_cell(cell, resources, index)

    class StderrNotCounted(NbGraderPreprocessor):
        """Turn what a cell wrote to stderr (warnings) into marked stdout, so nbgrader does not zero the cell."""

        def preprocess_cell(self, cell, resources, index):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"], output["text"] = "stdout", STDERR_MARK + output.get("text", "")
            return cell, resources

    return KitExecute, StderrNotCounted


def _overrides(course: Path, timeout: float | None) -> tuple[dict, float | None]:
    """Config the kit's autograde runs with (on top of the teacher's), and the per-cell timeout in force."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, SaveAutoGrades

    kit_execute, stderr = _preprocessors()
    chain = [kit_execute if p is Execute else p for p in Autograde.autograde_preprocessors.default()]
    chain.insert(chain.index(SaveAutoGrades), stderr)
    config = load_config(course)
    overrides = {"CourseDirectory.submitted_directory": WORKSPACE, "OverwriteCells.add_missing_cells": True,
                 "Autograde.autograde_preprocessors": chain}
    if "db_url" not in config.get("CourseDirectory", {}):  # parallel graders wait for sqlite's lock
        overrides["CourseDirectory.db_url"] = f"sqlite:///{(course / 'gradebook.db').resolve()}?timeout=120"
    if timeout is not None:
        overrides["Execute.timeout"] = int(timeout)
    in_force = timeout if timeout is not None else config.get("Execute", {}).get("timeout", 30)
    return overrides, in_force


# --------------------------------------------------------------------------------------------------
# Finding the submissions


def find_submissions(submissions: Path, part: str | None = None) -> tuple[list[tuple[str, str, Path | None, str]], list[str]]:
    """``(student, part, notebook or None, note)`` for every submission, and the folders that hold none.

    A part folder without ``exercises.ipynb`` but with exactly one other notebook (a renamed download) is
    graded from that notebook, with a note.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    found: list[tuple[str, str, Path | None, str]] = []
    strays: list[str] = []
    if part is not None:  # a plain folder of <student>.ipynb
        found += [(p.stem, part, p, "") for p in sorted(submissions.glob("*.ipynb"))]
    for student in sorted(s for s in submissions.iterdir() if s.is_dir() and s.name != WORKSPACE):
        folders = sorted(p for p in student.iterdir() if p.is_dir() and not p.name.startswith("."))
        if part is not None and not folders and (student / NOTEBOOK).exists():
            folders = [student]
        if not folders:
            strays.append(student.name)
        for folder in folders:
            name = part if folder == student else folder.name
            notebook = folder / NOTEBOOK
            if notebook.exists():
                found.append((student.name, name, notebook, ""))
                continue
            others = sorted(p for p in folder.glob("*.ipynb"))
            if len(others) == 1:
                found.append((student.name, name, others[0], f"graded {others[0].name!r} (expected {NOTEBOOK})"))
            else:
                listed = f"; found {[p.name for p in others]}: keep one and name it {NOTEBOOK}" if others else ""
                found.append((student.name, name, None, f"not graded: no {notebook}{listed}"))
    return found, strays


def _copy_into_workspace(course: Path, student: str, part: str, notebook: Path) -> Path:
    """Copy one submission (its notebook as exercises.ipynb, and the files beside it) into the workspace."""
    root = (course / WORKSPACE).resolve()
    target = (root / student / part).resolve()
    if root not in target.parents:
        raise ValueError(f"student or part name {student!r}/{part!r} leaves the workspace {root}")
    if target.exists():
        shutil.rmtree(target)  # the kit's own earlier copy, never a submission
    target.mkdir(parents=True)
    if notebook.parent.name == part and notebook.parent.parent.name == student:
        for extra in notebook.parent.iterdir():
            if extra.is_file() and extra.suffix != ".ipynb":
                shutil.copy2(extra, target / extra.name)  # timestamp.txt of nbgrader collect, data files
    shutil.copy2(notebook, target / NOTEBOOK)
    return target / NOTEBOOK


# --------------------------------------------------------------------------------------------------
# Grading one submission


def _scores(course: Path, part: str, student: str, exercises_: list[Exercise]) -> dict[str, tuple[float | None, float]]:
    from nbgrader.api import Gradebook

    from .course import course_id

    url = load_config(course).get("CourseDirectory", {}).get("db_url") or \
        f"sqlite:///{(course / 'gradebook.db').resolve()}?timeout=120"
    with Gradebook(url, course_id(course)) as gb:
        submission = gb.find_submission_notebook(Path(NOTEBOOK).stem, part, student)
        grades = {g.name: g for g in submission.grades}
        out = {}
        for ex in exercises_:
            awaiting = any(grades[g].auto_score is None and grades[g].manual_score is None for g in ex.points)
            out[ex.label] = (None if awaiting else float(sum(grades[g].score for g in ex.points)), ex.max_points)
        return out


def _last_error(log: str, timeout: float | None = None, cell: int | None = None) -> str:
    """Why nbgrader gave up on a notebook, from its captured log (not its "see the above traceback")."""
    where = f" in cell {cell}" if cell is not None else ""
    if "CellTimeoutError" in log:
        limit = f"the {timeout:g} s" if timeout else "the"
        return f"a cell{where} ran past {limit} timeout and did not stop when interrupted (raise --timeout?)"
    raised = [line for line in log.splitlines() if re.match(r"^[\w.]+(Error|Exception): ", line)
              and "Please see the" not in line]
    lines = [line[len("[ERROR] "):] for line in log.splitlines() if line.startswith("[ERROR] ")]
    meaningful = [line for line in lines if not line.startswith(("There was an error processing", "Please see"))
                  and "Please see the" not in line]
    return (raised or meaningful or lines or ["no log"])[-1][:200] + where


def _answered_in_new_cell(submission, known: set[str], written: dict[str, str]) -> set[str]:
    """Written exercises whose answer cell is followed by a new cell with text (typed below the answer cell)."""
    found, current = set(), None
    for cell in submission.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id:
            current = written.get(grade_id)
        elif current and cell.source.strip() and cell.source not in known:
            found.add(current)
        elif cell.source in known:
            current = None
    return found


def grade_one(course: Path, student: str, part: str, path: Path, source, released, timeout: float | None) -> Result:
    """Autograde one submission copied into the workspace; the Result with scores, reasons and notes.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    from nbgrader.converters import Autograde

    result = Result(student, part)
    exs = exercises(source)
    result.scores = {ex.label: (0.0, ex.max_points) for ex in exs}
    try:
        nb = read_notebook(path)
    except (FileNotFoundError, ValueError) as err:
        result.notes.append(f"not graded: {err}")
        return result
    checks, theirs = cells_by_id(source, ("check", "written")), cells_by_id(nb)
    missing = sorted(set(checks) - set(theirs))
    answers = sorted(set(cells_by_id(source, ("solution",))) - set(theirs))
    edited = sorted(g for g, c in checks.items() if _kind(c) == "check" and g in theirs and theirs[g].source != c.source)
    for text, ids in (("deleted graded cells restored and run", missing), ("deleted answer cells", answers),
                      ("edited check cells replaced by the original and run", edited)):
        if ids:
            result.notes.append(f"{text}: {', '.join(ids)}")
    result.same_as_book = same_as_book(nb, source, exs)
    _copy_into_workspace(course, student, part, path)
    overrides, in_force = _overrides(course, timeout)
    kit_execute = next(p for p in overrides["Autograde.autograde_preprocessors"] if p.__name__ == "KitExecute")
    kit_execute.skip = {}
    start = time.perf_counter()
    for _ in range(MAX_DEATHS + 1):
        kit_execute.running = None
        ok, log = run_nbgrader(Autograde, course, overrides, assignment_id=part, student_id=student)
        died = "DeadKernelError" in log or "Kernel died" in log
        if ok or not died or kit_execute.running is None or kit_execute.running in kit_execute.skip:
            break
        kit_execute.skip[kit_execute.running] = "the kernel died while running this cell"
    result.seconds = time.perf_counter() - start
    graded_nb = course / "autograded" / student / part / NOTEBOOK
    if not ok or not graded_nb.exists():
        log_file = course / WORKSPACE / student / part / "nbgrader.log"
        log_file.write_text(log, encoding="utf-8")
        reason = "kernel died" if died else _last_error(log, in_force, kit_execute.running)
        result.notes.append(f"not graded: nbgrader failed: {reason} (log: {log_file})")
        return result
    result.graded = True
    result.scores = _scores(course, part, student, exs)
    graded = read_notebook(graded_nb)
    result.errors = errors(graded)
    result.reasons, outside = reasons(graded, exs, result.scores, in_force)
    result.notes += outside
    written = {g: ex.label for ex in exs if ex.written for g in ex.points}
    known = {c.source for c in [*source.cells, *released.cells]}
    for label in sorted(_answered_in_new_cell(nb, known, written)):
        if result.scores[label][0] == 0:
            result.scores[label] = (None, result.scores[label][1])
            result.reasons[label] = "answer typed in a new cell below the answer cell: read it and grade it by hand"
    if kit_execute.skip:
        result.notes.append(f"kernel died in {len(kit_execute.skip)} cell(s); graded again without them")
    return result


def _grade_task(args) -> Result:
    """grade_one, where any failure of the kit itself becomes a note: one submission never stops the others."""
    try:
        return grade_one(*args)
    except Exception as err:  # noqa: BLE001 (reported in the table, the class goes on)
        _, student, part, *_ = args
        return Result(student, part, notes=[f"not graded: the kit failed: {type(err).__name__}: {err}"[:300]])


# --------------------------------------------------------------------------------------------------
# Grading a class


def grade(submissions: str | Path, course: str | Path | None = None, budget: str = "smoke",
          chapters: str | Path | None = None, *, part: str | None = None, students: Sequence[str] | None = None,
          timeout: float | None = None, jobs: int = 1) -> list[Result]:
    """Autograde every submission in ``submissions`` in ``course``; one Result per submission.

    ``course`` defaults to ``courses/genmodels``; a part without ``source/<part>`` there is laid out from
    the chapters first (as ``release`` does). Kernels run with ``GENMODELS_BUDGET=budget`` and, unless set,
    one thread. ``students`` grades only those; ``part`` reads a plain folder of ``<student>.ipynb``.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}; got {budget!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"--timeout is seconds per cell and must be positive; got {timeout!r}")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1; got {jobs}")
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}; expected <student>/<part>/{NOTEBOOK} inside it")
    course = Path(course) if course is not None else Path("courses") / "genmodels"
    workspace = (course / WORKSPACE).resolve()
    if submissions.resolve() == workspace or workspace in submissions.resolve().parents:
        raise ValueError(f"{submissions} is the kit's own workspace {workspace}; grade the students' folder instead")
    found, strays = find_submissions(submissions, part)
    if students:
        unknown = sorted(set(students) - {s for s, _, _, _ in found} - set(strays))
        if unknown:
            raise ValueError(f"no submission of {unknown} in {submissions}; students there: "
                             f"{sorted({s for s, _, _, _ in found})}")
        found, strays = [f for f in found if f[0] in students], [s for s in strays if s in students]
    if not found and not strays:
        raise FileNotFoundError(f"nothing to grade in {submissions}; expected <student>/<part>/{NOTEBOOK}")
    available = parts(chapters)
    wanted = sorted({p for _, p, _, _ in found if p in available})
    missing_source = {p: available[p] for p in wanted if not (course / "source" / p / NOTEBOOK).exists()}
    layout_course(course, missing_source)
    sources, released = {}, {}
    for p in wanted:
        released[p] = read_notebook(generate(course, p))  # (re)records the source's cells in the gradebook
        sources[p] = read_notebook(course / "source" / p / NOTEBOOK)

    results = [Result(name, "?", notes=[f"not graded: expected {name}/<part>/{NOTEBOOK}"]) for name in strays]
    tasks = []
    for student, p, path, note in found:
        if p not in sources:
            results.append(Result(student, p, notes=[f"unknown assignment {p!r}; parts: {sorted(available)}"]))
        elif path is None:
            exs = exercises(sources[p])
            results.append(Result(student, p, scores={ex.label: (0.0, ex.max_points) for ex in exs}, notes=[note]))
        else:
            tasks.append(((course, student, p, path, sources[p], released[p], timeout), note))
    threads = os.environ.get("OMP_NUM_THREADS", "1")
    with environment(GENMODELS_BUDGET=budget, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads):
        if jobs == 1 or len(tasks) < 2:
            graded = [_grade_task(args) for args, _ in tasks]
        else:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=context) as pool:
                graded = list(pool.map(_grade_task, [args for args, _ in tasks]))
    for result, (_, note) in zip(graded, tasks):
        if note:
            result.notes.insert(0, note)
        results.append(result)
    return results
