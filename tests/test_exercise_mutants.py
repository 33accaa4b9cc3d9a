"""Every automatic check of the exercises of Parts 0–5 rejects wrong-but-plausible answers (issue 21).

The mutants live in ``tests/mutants/part<N>.py``: for each autograded code exercise, at least three wrong
answers a student might write (a wrong normalisation, a sign, a missing term, the wrong axis, a constant
copied from the solution's printed output, a forbidden shortcut, a silent clip).

Two ways of grading, which must agree:

* fast (every test run): the part's source notebook runs once in one kernel; at each check cell every
  mutant of that exercise replaces the solution cell, the cells from the solution to the check are run
  again, and the check is scored with nbgrader's own rule (``nbgrader.utils.determine_grade``: an error
  or anything on stderr is 0 points). After the exercise's last mutant the correct solution is run
  again and must score full points.
  Before each mutant (and before the restored solution) the kernel's state is put back as it was just
  before the solution cell first ran: every global deep-copied at that moment, and the random states of
  Python, NumPy and torch. So a mutant that modifies its inputs in place, or draws more random numbers,
  cannot change what later mutants and exercises see (as in a real autograde, one notebook per student).
* real (``slow``): a temporary nbgrader course with the part as its assignment; ``generate_assignment``,
  then every mutant as a student's submission (student ``m<k>`` carries the k-th mutant of every
  exercise, the other exercises solved correctly) and the source as student ``correct``; one
  ``nbgrader autograde``; the scores are read from ``gradebook.db``.

Nothing here uses ``genmodels.assignments``: nbgrader is driven directly.
Book page: book/for-instructors-checks.md.
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.mutants import PARTS, Mutant, mutants  # noqa: E402

MIN_MUTANTS = 3
# parts whose mutant file exists (issue 21 is done part by part; a part without a file is not yet covered)
COVERED = sorted(p for p in PARTS if (ROOT / "tests" / "mutants" / f"{p}.py").exists())
CELL_TIMEOUT = 120  # seconds; a mutant that hangs is interrupted and scores 0


def notebook_path(part: str) -> Path:
    return ROOT / "chapters" / PARTS[part] / "exercises.ipynb"


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def code_checks(nb) -> dict[str, int]:
    """Exercise label -> index of its autograded code check cell."""
    out = {}
    for i, cell in enumerate(nb.cells):
        m = _nbg(cell)
        if cell.cell_type == "code" and m.get("grade") and not m.get("solution"):
            out[m["grade_id"].removesuffix("-check")] = i
    return out


def solution_cells(nb) -> dict[str, int]:
    """grade_id -> index of every code solution cell."""
    return {_nbg(c)["grade_id"]: i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and _nbg(c).get("solution")}


def counts() -> dict[str, dict[str, int]]:
    """Per part: autograded code exercises and mutants (what book/for-instructors-checks.md reports)."""
    out = {}
    for part in COVERED:
        nb = nbformat.read(notebook_path(part), as_version=4)
        out[part] = {"exercises": len(code_checks(nb)), "mutants": len(mutants(part))}
    return out


# --------------------------------------------------------------------------------------------------
# Static: the mutant files match the notebooks


@pytest.mark.parametrize("part", COVERED)
def test_every_code_exercise_has_enough_mutants(part):
    nb = nbformat.read(notebook_path(part), as_version=4)
    checks, solutions = code_checks(nb), solution_cells(nb)
    found: dict[str, list[Mutant]] = {}
    for m in mutants(part):
        assert m.exercise in checks, f"{part}: mutant {m.name!r} names no autograded exercise {m.exercise!r}"
        assert m.grade_id in solutions, f"{part}: mutant {m.name!r} replaces no solution cell {m.grade_id!r}"
        assert solutions[m.grade_id] < checks[m.exercise], f"{part}: {m.grade_id} comes after its check"
        assert "### BEGIN SOLUTION" not in m.source, f"{part}: mutant {m.name!r}: give the plain source"
        found.setdefault(m.exercise, []).append(m)
    for label in checks:
        names = [m.name for m in found.get(label, [])]
        assert len(names) >= MIN_MUTANTS, f"{part}: {label} has {len(names)} mutants, needs {MIN_MUTANTS}"
        assert len(set(names)) == len(names), f"{part}: {label} has duplicate mutant names {names}"


# --------------------------------------------------------------------------------------------------
# Fast: one kernel per part


def _fresh(cell, source: str | None = None):
    cell = copy.deepcopy(cell)
    if source is not None:
        cell.source = source
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _score(check_cell) -> float:
    from nbgrader.utils import determine_grade

    score, _ = determine_grade(check_cell)
    return float(score)


def _why_failed(cell) -> str:
    for out in cell.outputs:
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"[:200]
        if out.output_type == "stream" and out.name == "stderr":
            return "stderr: " + out.text[:200]
    return "ok"


# Run in the kernel: save / put back the state before a solution cell (globals deep-copied with one memo,
# so objects shared between globals stay shared; modules and objects that cannot be copied are kept as
# they are; names defined later are removed on restore).
SNAPSHOT_CODE = """
def _gm_mutants_setup():
    import copy, random, sys, types
    saved = {}

    def rng_state():
        state = {"random": random.getstate()}
        if "numpy" in sys.modules:
            state["numpy"] = sys.modules["numpy"].random.get_state()
        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            state["torch"] = torch.random.get_rng_state()
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def set_rng_state(state):
        random.setstate(state["random"])
        if "numpy" in state:
            sys.modules["numpy"].random.set_state(state["numpy"])
        if "torch" in state:
            sys.modules["torch"].random.set_rng_state(state["torch"])
        if "cuda" in state:
            sys.modules["torch"].cuda.set_rng_state_all(state["cuda"])

    def copy_globals(source):
        memo, out = {}, {}
        for name, value in source.items():
            if isinstance(value, types.ModuleType):
                out[name] = value
                continue
            try:
                out[name] = copy.deepcopy(value, memo)
            except Exception:  # a kernel handle, a lock, ...: shared, not copied
                out[name] = value
        return out

    def user_names(g):
        return {k: v for k, v in g.items() if not k.startswith("_") and k not in ("In", "Out", "get_ipython", "exit", "quit")}

    def snapshot(key):
        saved[key] = (copy_globals(user_names(globals())), rng_state())

    def restore(key):
        values, state = saved[key]
        g = globals()
        for name in set(user_names(g)) - set(values):
            del g[name]
        g.update(copy_globals(values))  # a fresh copy: the snapshot serves the next mutant too
        set_rng_state(state)

    return snapshot, restore


_gm_mutants_snapshot, _gm_mutants_restore = _gm_mutants_setup()
del _gm_mutants_setup
"""


def _in_kernel(client, code: str, index: int) -> None:
    """Run harness code (not a notebook cell) in the kernel; it must not fail."""
    import nbformat.v4

    cell = nbformat.v4.new_code_cell(code)
    client.execute_cell(cell, index, store_history=False)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"the harness's own code failed in the kernel: {errors[0].ename}: {errors[0].evalue}"


def grade_in_one_kernel(part: str) -> dict[str, dict]:
    """Run the part's notebook once, grading every mutant at its check; label -> scores and reasons."""
    from nbclient import NotebookClient

    path = notebook_path(part)
    nb = nbformat.read(path, as_version=4)
    checks, solutions = code_checks(nb), solution_cells(nb)
    by_check: dict[int, list[str]] = {}
    for label, idx in checks.items():
        by_check.setdefault(idx, []).append(label)
    todo = mutants(part)
    pristine = copy.deepcopy(nb.cells)  # nbclient writes each executed cell back into nb.cells[index]
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent)}})
    starts = {solutions[m.grade_id] for m in todo}
    results: dict[str, dict] = {}
    with client.setup_kernel():
        _in_kernel(client, SNAPSHOT_CODE, 0)
        for i in range(len(pristine)):
            if i in starts:
                _in_kernel(client, f"_gm_mutants_snapshot({i})", i)
            cell = _fresh(pristine[i])
            client.execute_cell(cell, i)
            if i not in by_check and any(o.output_type == "error" for o in cell.get("outputs", [])):  # a setup cell failed: every later check will too
                SETUP_ERRORS.setdefault(part, []).append(f"cell {i}: {_why_failed(cell)}")
            for label in by_check.get(i, []):
                points = float(_nbg(pristine[i])["points"])
                entry = {"points": points, "correct": _score(cell), "correct_why": _why_failed(cell),
                         "mutants": {}, "why": {}}
                ms = [m for m in todo if m.exercise == label]
                for m in ms:  # each mutant starts from the state saved before its solution cell
                    start = solutions[m.grade_id]
                    _in_kernel(client, f"_gm_mutants_restore({start})", start)
                    for j in range(start, i):
                        client.execute_cell(_fresh(pristine[j], m.source if j == start else None), j)
                    graded = _fresh(pristine[i])
                    client.execute_cell(graded, i)
                    entry["mutants"][m.name] = _score(graded)
                    entry["why"][m.name] = _why_failed(graded)
                if ms:  # then the notebook's own cells once, from the earliest replaced one: the solution
                    start = min(solutions[m.grade_id] for m in ms)  # must pass again after its mutants ran
                    _in_kernel(client, f"_gm_mutants_restore({start})", start)
                    for j in range(start, i + 1):
                        restored = _fresh(pristine[j])
                        client.execute_cell(restored, j)
                    entry["restored"] = [(_score(restored), _why_failed(restored))]
                results[label] = entry
    return results


_RESULTS: dict[str, dict] = {}
SETUP_ERRORS: dict[str, list[str]] = {}  # part -> errors of cells that are not checks (e.g. a training cell)


def results_of(part: str) -> dict[str, dict]:
    if part not in _RESULTS:
        _RESULTS[part] = grade_in_one_kernel(part)
    return _RESULTS[part]


@pytest.mark.parametrize("part", COVERED)
def test_checks_reject_every_mutant_and_accept_the_solution(part):
    results = results_of(part)
    nb = nbformat.read(notebook_path(part), as_version=4)
    assert set(results) == set(code_checks(nb)), "some check cells were never reached"
    problems = [f"setup {e}" for e in SETUP_ERRORS.get(part, [])]
    for label, r in results.items():
        if r["correct"] != r["points"]:
            problems.append(f"{label}: the solution scores {r['correct']}/{r['points']} ({r['correct_why']})")
        for name, score in r["mutants"].items():
            if score != 0:
                problems.append(f"{label}: mutant {name!r} scores {score}/{r['points']} (the check accepts it)")
        for score, why in r.get("restored", []):
            if score != r["points"]:
                problems.append(f"{label}: the solution no longer passes after a mutant ran ({why})")
    assert not problems, f"{part}:\n  " + "\n  ".join(problems)


def test_the_harness_puts_the_state_back_before_each_mutant(tmp_path, monkeypatch):
    """A toy part: a mutant that appends to its input in place, and one that draws an extra random number,
    must not change what the next mutant sees; a correct answer given as a "mutant" still passes, and the
    solution passes again after the mutants."""
    import nbformat.v4 as v4

    def nbg(grade_id, **kw):
        return {"nbgrader": {"grade_id": grade_id, "locked": False, "schema_version": 3, **kw}}

    solution = "def total(xs):\n    return sum(xs)"
    cells = [
        v4.new_code_cell("import random\nrandom.seed(0)\ndata = [1, 2, 3]"),
        v4.new_code_cell(solution, metadata=nbg("toy-solution", solution=True, grade=False)),
        v4.new_code_cell("first = random.random()"),
        v4.new_code_cell("assert total(data) == 6, data\nrandom.seed(0)\nassert first == random.random()",
                         metadata=nbg("toy-check", solution=False, grade=True, points=2)),
    ]
    path = tmp_path / "exercises.ipynb"
    nbformat.write(v4.new_notebook(cells=cells), path)
    toy = [Mutant("toy", "appends", "def total(xs):\n    xs.append(10)\n    return sum(xs)", "in place"),
           Mutant("toy", "draws", "import random\nrandom.random()\n" + solution, "an extra draw"),
           Mutant("toy", "right", solution, "not wrong: must pass if the state was put back")]
    monkeypatch.setattr(sys.modules[__name__], "notebook_path", lambda part: path)
    monkeypatch.setattr(sys.modules[__name__], "mutants", lambda part: toy)
    r = grade_in_one_kernel("toy")["toy"]
    assert r["correct"] == 2.0 and r["restored"] == [(2.0, "ok")], r
    assert r["mutants"] == {"appends": 0.0, "draws": 0.0, "right": 2.0}, r["why"]


# --------------------------------------------------------------------------------------------------
# The counts on the instructors' page are these counts


def test_instructors_page_reports_these_counts():
    """The summary table of book/for-instructors-checks.md: | `partN` ... | exercises | mutants | ... for every covered part."""
    text = (ROOT / "book" / "for-instructors-checks.md").read_text()
    rows = dict(re.findall(r"^\|\s*`?(part\d)`?[^|]*\|\s*(\d+\s*\|\s*\d+)\s*\|", text, flags=re.M))
    for part, c in counts().items():
        assert part in rows, f"book/for-instructors-checks.md has no table row for {part}"
        ex, mu = (int(v) for v in rows[part].split("|"))
        assert (ex, mu) == (c["exercises"], c["mutants"]), \
            f"{part}: the page says {ex} exercises / {mu} mutants, the files have {c['exercises']} / {c['mutants']}"


# --------------------------------------------------------------------------------------------------
# Real: one nbgrader autograde per part, all mutants as students


CONFIG = """c = get_config()
c.CourseDirectory.course_id = "exercise-mutants"
c.CourseDirectory.root = {root!r}
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.timeout = {timeout}
"""


def _nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def students_of(part: str) -> dict[str, dict[str, Mutant]]:
    """Student -> {exercise: mutant}: student m<k> carries the k-th mutant of every exercise that has one."""
    by_ex: dict[str, list[Mutant]] = {}
    for m in mutants(part):
        by_ex.setdefault(m.exercise, []).append(m)
    most = max(len(v) for v in by_ex.values())
    return {"correct": {}, **{f"m{k}": {ex: ms[k] for ex, ms in by_ex.items() if k < len(ms)} for k in range(most)}}


@pytest.mark.slow
@pytest.mark.autograde
@pytest.mark.parametrize("part", COVERED)
def test_real_autograde_agrees(part, tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    assignment = PARTS[part]
    (course / "source" / assignment).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course), timeout=CELL_TIMEOUT))
    source_nb = nbformat.read(notebook_path(part), as_version=4)
    nbformat.write(source_nb, course / "source" / assignment / "exercises.ipynb")
    _nbgrader(course, "generate_assignment", assignment)
    solutions, checks = solution_cells(source_nb), code_checks(source_nb)
    students = students_of(part)
    for student, chosen in students.items():
        nb = copy.deepcopy(source_nb)
        for m in chosen.values():
            nb.cells[solutions[m.grade_id]].source = m.source
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "exercises.ipynb")
    _nbgrader(course, "autograde", assignment)
    fast = results_of(part)
    problems = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "exercise-mutants") as gb:
        for student, chosen in students.items():
            grades = {g.name: g for g in gb.find_submission_notebook("exercises", assignment, student).grades}
            for label in checks:
                got = grades[f"{label}-check"].score
                mutant = chosen.get(label)
                expected = fast[label]["mutants"][mutant.name] if mutant else fast[label]["correct"]
                if got != expected:
                    what = f"mutant {mutant.name!r}" if mutant else "the solution"
                    problems.append(f"{student}/{label} ({what}): autograde {got}, one-kernel grading {expected}")
                if mutant is None and got != fast[label]["points"]:
                    problems.append(f"{student}/{label}: the solution scores {got}/{fast[label]['points']}")
                if mutant is not None and got != 0:
                    problems.append(f"{student}/{label}: mutant {mutant.name!r} scores {got}")
    assert not problems, f"{part}:\n  " + "\n  ".join(problems)


if __name__ == "__main__":  # python tests/test_exercise_mutants.py [part ...]: the table of every mutant
    os.environ.setdefault("GENMODELS_BUDGET", "smoke")  # what pytest's conftest.py sets
    for _part in sys.argv[1:] or COVERED:
        for _label, _r in results_of(_part).items():
            for _e in SETUP_ERRORS.get(_part, []):
                print(f"{_part} setup {_e}")
            print(f"{_part} {_label}: solution {_r['correct']}/{_r['points']}  {_r['correct_why']}")
            for _name, _score_ in _r["mutants"].items():
                print(f"    {_name:28s} {_score_}/{_r['points']}  {_r['why'][_name]}")
