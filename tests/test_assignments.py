"""Every chapters/*/exercises.ipynb is a correct nbgrader assignment (issue 9).

For each part, in the smoke budget, through nbgrader itself in a temporary course folder: the source
notebook scores full points, the released version zero on every check, the release holds no solution
text, one solved exercise scores exactly its points, and malformed submissions are reported while the
others are graded. Static checks hold every notebook to the convention of CONTRIBUTING.md.

Module: src/genmodels/assignments/; book page: book/for-instructors.md
"""
from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from genmodels import assignments as asg

try:
    PARTS = sorted(asg.parts())
except FileNotFoundError:  # no part has exercises yet
    PARTS = []


def _source(part: str):
    return asg.read_notebook(asg.parts()[part])


# --------------------------------------------------------------------------------------------------
# Static checks: the convention, for every part


def _sum_text(values) -> str:
    return " + ".join(f"{v:g}" for v in values)


def test_the_instructors_page_lists_every_parts_exercises_and_points():
    """book/for-instructors.md's timing table: one row per part, its coded and written exercises as they are now."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "book" / "for-instructors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\* - \{doc\}`[^<]*</chapters/([^/]+)/exercises>`\n  - (.+)$", page, re.M))
    assert sorted(rows) == PARTS, f"the page's table has rows for {sorted(rows)}, the book has parts {PARTS}"
    for part in PARTS:
        found = asg.exercises(_source(part))
        coded = [sum(e.points.values()) for e in found if not e.written]
        written = [sum(e.points.values()) for e in found if e.written]
        text = f"{len(coded)} coded ({_sum_text(coded)})" + (f", {len(written)} written ({_sum_text(written)})" if written else "")
        assert rows[part] == text, f"{part}: the page says {rows[part]!r}, the notebook has {text!r}"


@pytest.mark.parametrize("part", PARTS)
def test_notebook_follows_the_convention(part):
    problems = asg.convention_problems(_source(part))
    assert not problems, f"chapters/{part}/exercises.ipynb:\n  " + "\n  ".join(problems)


def test_exercise_labels_and_grade_ids_are_unique_across_parts():
    seen: dict[str, str] = {}
    clashes = []
    for part in PARTS:
        nb = _source(part)
        names = [ex.label for ex in asg.exercises(nb)]
        names += [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
        for name in names:
            if name in seen and seen[name] != part:
                clashes.append(f"{name} ({seen[name]} and {part})")
            seen.setdefault(name, part)
    assert not clashes, f"labels must be unique book-wide: {clashes}"


# --------------------------------------------------------------------------------------------------
# The convention checker itself, on small hand-made notebooks


def _tiny(solution_meta=None, check_source='assert add(1, 2) == 3\nprint("t-ex-add: passed")', solution_source=None):
    nbg = {"schema_version": 3, "task": False}
    solution_meta = solution_meta or {"tags": ["hide-input"], "nbgrader": {**nbg, "solution": True, "grade": False,
                                                                            "locked": False, "grade_id": "t-ex-add-solution"}}
    cells = [new_code_cell("import math")]
    for i, label in enumerate(["t-ex-add", "t-ex-b", "t-ex-c"]):
        cells.append(new_markdown_cell(f"```{{exercise}} Task {i}\n:label: {label}\nDo it.\n```"))
        if i < 2:
            sol = new_code_cell(solution_source or "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION")
            sol.metadata.update(copy.deepcopy(solution_meta))
            sol.metadata["nbgrader"]["grade_id"] = f"{label}-solution"
            chk = new_code_cell(check_source.replace("t-ex-add", label))
            chk.metadata["nbgrader"] = {**nbg, "grade": True, "solution": False, "locked": True, "points": 1,
                                        "grade_id": f"{label}-check"}
            cells += [sol, chk]
        else:
            ans = new_markdown_cell(f"```{{solution}} {label}\n:class: dropdown\nBecause.\n```")
            ans.metadata["nbgrader"] = {**nbg, "solution": True, "grade": True, "locked": False, "points": 2,
                                        "grade_id": f"{label}-answer"}
            cells.append(ans)
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def test_convention_checker_accepts_a_correct_notebook_and_reads_its_exercises():
    nb = _tiny()
    assert asg.convention_problems(nb) == []
    found = asg.exercises(nb)
    assert [(ex.label, ex.max_points, ex.written) for ex in found] == [
        ("t-ex-add", 1.0, False), ("t-ex-b", 1.0, False), ("t-ex-c", 2.0, True)]
    assert found[0].solution_ids == ["t-ex-add-solution"] and found[2].solution_ids == ["t-ex-c-answer"]


@pytest.mark.parametrize("breakage, message", [
    ("no hide-input tag", "tagged 'hide-input'"),
    ("no END marker", "END"),
    ("check prints nothing", "passed"),
    ("check asserts nothing", "assert something"),
    ("check not locked", "'locked': False"),
    ("no points", "positive 'points'"),
    ("written answer not a dropdown", ":class: dropdown"),
    ("outputs committed", "outputs"),
    ("wrong kernel", "kernelspec"),
    ("metadata before any exercise", "no {exercise} block before it"),
])
def test_convention_checker_names_what_is_wrong(breakage, message):
    nb = _tiny()
    sol, chk, ans = nb.cells[2], nb.cells[3], nb.cells[-1]
    if breakage == "no hide-input tag":
        sol.metadata["tags"] = []
    elif breakage == "no END marker":
        sol.source = sol.source.replace(asg.END, "")
    elif breakage == "check prints nothing":
        chk.source = "assert add(1, 2) == 3"
    elif breakage == "check asserts nothing":
        chk.source = 'add(1, 2)\nprint("t-ex-add: passed")'
    elif breakage == "check not locked":
        chk.metadata["nbgrader"]["locked"] = False
    elif breakage == "no points":
        chk.metadata["nbgrader"]["points"] = 0
    elif breakage == "written answer not a dropdown":
        ans.source = ans.source.replace(":class: dropdown\n", "")
    elif breakage == "outputs committed":
        chk.outputs = [nbformat.v4.new_output("stream", name="stdout", text="t-ex-add: passed\n")]
    elif breakage == "wrong kernel":
        nb.metadata["kernelspec"]["name"] = "python3.11"
    elif breakage == "metadata before any exercise":
        nb.cells.insert(0, copy.deepcopy(chk))
    problems = asg.convention_problems(nb)
    assert any(message in p for p in problems), f"{breakage}: expected a problem mentioning {message!r}; got {problems}"


def test_directives_reads_label_and_options():
    found = asg.directives("Text\n\n````{exercise} A title\n:label: x-1\n:class: dropdown\nBody\n````\n:::{solution} x-1\n:::")
    assert found == [("exercise", "A title", {"label": "x-1", "class": "dropdown"}), ("solution", "x-1", {})]


# --------------------------------------------------------------------------------------------------
# Command-line errors (no nbgrader run needed)


def test_cli_reports_a_missing_submissions_folder(tmp_path, capsys):
    assert asg.main(["grade", str(tmp_path / "nowhere"), "--course", str(tmp_path / "course")]) == 2
    assert "no submissions folder" in capsys.readouterr().err


def test_cli_reports_an_unknown_part(tmp_path, capsys):
    chapters = tmp_path / "chapters"
    (chapters / "00_x").mkdir(parents=True)
    nbformat.write(_tiny(), chapters / "00_x" / asg.NOTEBOOK)
    assert asg.main(["--chapters", str(chapters), "release", "--out", str(tmp_path / "c"), "--parts", "09_nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown part" in err and "00_x" in err


def test_release_refuses_a_notebook_that_breaks_the_convention(tmp_path, capsys):
    chapters = tmp_path / "chapters"
    (chapters / "00_x").mkdir(parents=True)
    nb = _tiny()
    nb.cells[2].metadata["tags"] = []
    nbformat.write(nb, chapters / "00_x" / asg.NOTEBOOK)
    assert asg.main(["--chapters", str(chapters), "release", "--out", str(tmp_path / "c")]) == 2
    assert "hide-input" in capsys.readouterr().err
    assert not (tmp_path / "c" / "release").exists()


@pytest.mark.slow
def test_grade_runs_kernels_in_the_chosen_budget_and_reports_odd_folders(tmp_path):
    """A small hand-made part graded in the "full" budget: its check only passes if the kernel sees it."""
    chapters = tmp_path / "chapters"
    (chapters / "00_x").mkdir(parents=True)
    nb = _tiny(check_source='import os\nassert add(1, 2) == 3 and os.environ["GENMODELS_BUDGET"] == "full"\n'
                            'print("t-ex-add: passed")')
    nbformat.write(nb, chapters / "00_x" / asg.NOTEBOOK)
    subs = tmp_path / "subs"
    for folder in ("ada/00_x", "ada/99_unknown", "bob/00_x", "cy"):
        (subs / folder).mkdir(parents=True)
    nbformat.write(nb, subs / "ada" / "00_x" / asg.NOTEBOOK)
    results = {(r.student, r.part): r for r in asg.grade(subs, tmp_path / "course", "full", chapters)}
    ada = results[("ada", "00_x")]
    # both checks assert GENMODELS_BUDGET == "full" inside the kernel nbgrader started
    assert ada.graded and ada.scores["t-ex-add"] == ada.scores["t-ex-b"] == (1.0, 1.0), ada.notes
    assert ada.scores["t-ex-c"] == (None, 2.0)  # a written answer waits for the teacher
    assert "unknown assignment" in results[("ada", "99_unknown")].notes[0]
    assert not results[("bob", "00_x")].graded and "no " in results[("bob", "00_x")].notes[0]
    assert "expected cy/<part>/exercises.ipynb" in results[("cy", "?")].notes[0]
    assert os.environ["GENMODELS_BUDGET"] == "smoke"  # restored after grading (conftest.py sets smoke)


# --------------------------------------------------------------------------------------------------
# The whole cycle through nbgrader, per part: release, then grade one class in one call


def _split_at_markers(source: str) -> tuple[list[str], set[str]]:
    """Stripped lines between BEGIN/END SOLUTION markers, and the set of lines outside them."""
    inside, outside, solving = [], set(), False
    for line in (raw.strip() for raw in source.splitlines()):
        if line in (asg.BEGIN, asg.END):
            solving = line == asg.BEGIN
        elif solving:
            inside.append(line)
        else:
            outside.add(line)
    return inside, outside


def test_split_at_markers_keeps_lines_after_the_solution_outside():
    inside, outside = _split_at_markers(f"def f(x):\n    {asg.BEGIN}\n    y = 2 * x\n    {asg.END}\n    return y")
    assert inside == ["y = 2 * x"] and outside == {"def f(x):", "return y"}


def _one_solved(source, released, exercise: asg.Exercise):
    """The released notebook with ``exercise``'s answer cells copied back from the source."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") in exercise.solution_ids}
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def _write_class(subs, part, source, released, first_code, deleted):
    """Four submissions: the book's notebook, the release untouched, one exercise solved with its check
    deleted (nbgrader must put the check back and run it), and a file that is not JSON."""
    one_solved = _one_solved(source, released, first_code)
    one_solved.cells = [c for c in one_solved.cells if c.metadata.get("nbgrader", {}).get("grade_id") != deleted]
    submissions = {"source": source, "unsolved": released, "one-solved": one_solved, "not-json": None}
    for student, nb in submissions.items():
        folder = subs / student / part
        folder.mkdir(parents=True)
        if nb is None:
            (folder / asg.NOTEBOOK).write_text('{"cells": [ this is not JSON')
        else:
            nbformat.write(nb, folder / asg.NOTEBOOK)
    return list(submissions)


def _points(rows, student, exercise):
    row = rows[(student, exercise)]
    pending = row["points"] == asg.PENDING
    status = "awaiting teacher" if pending else ("not graded" if row["status"] == "not graded" else "graded")
    return status, (None if pending else float(row["points"])), float(row["max_points"])


def _released_holds_no_solution_text(released, source):
    text = nbformat.writes(released)
    assert asg.BEGIN not in text and asg.END not in text
    assert not any(c.get("outputs") or c.get("execution_count") for c in released.cells if c.cell_type == "code")
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id")}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        student_cell = by_id[meta["grade_id"]]
        if cell.cell_type == "code":
            inside, outside = _split_at_markers(cell.source)
            left = {line.strip() for line in student_cell.source.splitlines()}
            leaked = [line for line in inside if line and line not in outside and line in left]
            assert not leaked, f"{meta['grade_id']}: solution lines left in the release: {leaked}"
        else:
            body = [l for l in cell.source.splitlines() if len(l.strip()) > 20]
            assert not any(l in student_cell.source for l in body), f"{meta['grade_id']}: the written answer leaked"
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False, \
                f"check {meta['grade_id']} is not locked in the release"


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_the_nbgrader_cycle_of_each_part(part, tmp_path):
    """Release one part and grade four submissions of it in one ``grade`` command (two at a time).

    The book's notebook scores full points; the release scores zero on every check, runs up to its first
    exercise and holds no solution text; one solved exercise (its check deleted) scores exactly its
    points; a broken file is reported. One test per part, so that pytest-xdist spreads the parts.
    """
    course, subs = tmp_path / "course", tmp_path / "submissions"
    start = time.perf_counter()
    released_path = asg.release(course, [part])[part]
    release_seconds = time.perf_counter() - start
    source = asg.read_notebook(course / "source" / part / asg.NOTEBOOK)
    released = asg.read_notebook(released_path)
    _released_holds_no_solution_text(released, source)
    exs = asg.exercises(source)
    first_code = next(ex for ex in exs if not ex.written)
    deleted = next(iter(first_code.points))
    students = _write_class(subs, part, source, released, first_code, deleted)

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = asg.main(["grade", str(subs), "--course", str(course), "--budget", "smoke", "--jobs", "2",
                           "--csv", str(tmp_path / "grades.csv"), "--details", str(tmp_path / "details.csv")])
    grade_seconds = time.perf_counter() - start
    table = out.getvalue()
    print(f"\n{part}: release {release_seconds:.1f} s, grading {len(students)} submissions {grade_seconds:.1f} s\n{table}")
    with open(tmp_path / "details.csv", newline="", encoding="utf-8") as f:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}
    assert status == 0 and {s for s, _ in rows} == set(students) and all(s in table for s in students)

    for ex in exs:  # the solution scores full points; a written answer waits for the teacher, never zero
        status_, points, max_points = _points(rows, "source", ex.label)
        expected = ("awaiting teacher", None) if ex.written else ("graded", ex.max_points)
        assert (status_, points) == expected, \
            f"{ex.label}: the solution scores {points}/{max_points} ({rows[('source', ex.label)]['reason']})"
    for ex in exs:
        assert _points(rows, "unsolved", ex.label)[:2] == ("graded", 0.0), \
            f"{ex.label} gives points to an unsolved notebook"
    errors = asg.errors(asg.read_notebook(course / "autograded" / "unsolved" / part / asg.NOTEBOOK))
    assert errors and errors[0][0] in first_code.solution_ids + list(first_code.points) \
        and errors[0][1] == "NotImplementedError", \
        f"the student version fails before its first exercise {first_code.label}: first error {errors[:1]}"
    for ex in exs:  # its check was deleted: put back from the source and run
        expected = ex.max_points if ex is first_code else 0.0
        assert _points(rows, "one-solved", ex.label)[:2] == ("graded", expected), f"{ex.label}: expected {expected}"
    assert deleted in next(line for line in table.splitlines() if line.startswith("one-solved "))
    for ex in exs:
        row = rows[("not-json", ex.label)]
        assert row["status"] == "not graded" and float(row["points"]) == 0.0 and "not a valid notebook" in row["reason"]
