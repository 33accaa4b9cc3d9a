"""A small class graded through the documented commands, as a teacher would (issue 22).

Six students hand in Part 0 (the perfect one's code also writes a warning; a blank, a wrong, a crashing
one whose kernel is killed, a looping one, a broken file). The teacher's nbgrader_config.py (course id,
exchange root, timeout) is written first; the part goes through nbgrader's own exchange in a temporary
folder (release_assignment -> fetch_assignment -> submit -> collect), then the kit grades the course's
``submitted/`` folder with ``--timeout`` and ``--jobs 2``, then one student alone with ``--student``, then
a plain folder of notebooks with ``--part``. Every score, every reason, the config and every student file
(byte for byte) are checked.

Module: src/genmodels/assignments/; book page: book/for-instructors.md
"""
from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from genmodels import assignments as asg

PART = "00_foundations"
TIMEOUT = 60  # s per cell: the looping student is cut after this; Part 0's training cell needs a few seconds
# on an idle 2-core machine, but many more when the machine is shared
TEACHER = ('c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "dgm-test"\n'
           'c.Exchange.root = r"{exchange}"\nc.Execute.timeout = 300\n# the teacher\'s own note\n')
FULL = {"ae-ex-bernoulli": 2.0, "ae-ex-gaussian": 2.0, "ae-ex-knn": 3.0, "ae-ex-code-gaussian": 2.0, "ae-ex-linear": 2.0}
WRITTEN = "ae-ex-not-generative"
WARNING = "a warning from the student's own code"


def _nbgrader(*args: str, cwd: Path) -> str:
    """Run one nbgrader command (as a teacher or a student would type it); its output, or fail with it."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _solved(released, source):
    """The released notebook with every code answer copied from the book, the written answer in own words."""
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = _cell(source, meta["grade_id"]).source
        elif meta.get("solution"):
            cell.source = "The codes of training images fill only thin clusters; the VAE adds a KL term to a prior."
    return nb


def _class(released, source) -> dict[str, object]:
    """The six submissions: student -> notebook (or the bytes of a broken file)."""
    perfect = _solved(released, source)
    _cell(perfect, "ae-ex-bernoulli-solution").source += (
        f"\n\n_mine = bernoulli_nll\n\ndef bernoulli_nll(logits, x):\n    import warnings\n"
        f"    warnings.warn({WARNING!r})\n    return _mine(logits, x)")
    wrong = _solved(released, source)
    _cell(wrong, "ae-ex-gaussian-solution").source = (  # forgets the normaliser
        "def gaussian_nll(x_hat, x, sigma):\n    return (x - x_hat).pow(2).flatten(1).sum(1) / (2 * sigma**2)")
    crashing = _solved(released, source)
    _cell(crashing, "ae-ex-bernoulli-solution").source = "import os\nos.kill(os.getpid(), 9)  # what an out-of-memory kill does"
    looping = _solved(released, source)
    _cell(looping, "ae-ex-gaussian-solution").source = "while True:  # until converged\n    pass"
    return {"perfect": perfect, "blank": released, "wrong": wrong, "crashing": crashing, "looping": looping,
            "broken": b'{"cells": [{"cell_type": "markdown", "source": "truncated'}


def _write(folder: Path, name: str, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        (folder / name).write_bytes(nb)
    else:
        nbformat.write(nb, folder / name)


def _grade(*args: str) -> tuple[int, str, float]:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = asg.main(["grade", *args])
    return status, out.getvalue(), time.perf_counter() - start


def _sheet(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def _details(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(f)}


def _check_scores(sheet, details, students) -> None:
    """Every score and every reason of the class, against what each student did."""
    expected = {s: dict(FULL) for s in students}
    expected.get("blank", {}).update({k: 0.0 for k in FULL})
    expected.get("broken", {}).update({k: 0.0 for k in FULL})
    for student in ("wrong", "looping"):
        expected.get(student, {})["ae-ex-gaussian"] = 0.0
    expected.get("crashing", {})["ae-ex-bernoulli"] = 0.0
    for student in students:
        row = sheet[student]
        for label, points in expected[student].items():
            assert float(row[label]) == points, f"{student} {label}: {row[label]}, expected {points} ({row['notes']})"
        written = "0" if student in ("blank", "broken") else asg.PENDING
        assert row[WRITTEN] == written, f"{student}: written answer {row[WRITTEN]}"
        assert row["total"] == (asg.PENDING if written == asg.PENDING else "0")
        assert float(row["autograded"]) == sum(expected[student].values())

    def why(student, label):
        return details[(student, label)]["reason"]

    reasons = {("perfect", "ae-ex-bernoulli"): f"wrote to stderr, not counted: UserWarning: {WARNING}",
               ("blank", "ae-ex-bernoulli"): "not attempted (the stub raises NotImplementedError)",
               ("blank", WRITTEN): "answer left blank",
               ("wrong", "ae-ex-gaussian"): "AssertionError: wrong value for sigma=0.1 (in ae-ex-gaussian-check)",
               ("crashing", "ae-ex-bernoulli"): "kernel died",
               ("looping", "ae-ex-gaussian"): f"timed out after {TIMEOUT} s (in ae-ex-gaussian-solution)",
               ("broken", "ae-ex-bernoulli"): "not graded: ",
               ("perfect", WRITTEN): "awaiting the teacher"}
    for (student, label), text in reasons.items():
        if student in students:
            assert text in why(student, label), f"{student} {label}: reason {why(student, label)!r}, expected {text!r}"
    for student in students:
        for label in FULL:
            if float(sheet[student][label]) == FULL[label] and (student, label) not in reasons:
                assert why(student, label) == "", f"{student} {label} has full marks but the reason {why(student, label)!r}"
    if "crashing" in students:
        assert "kernel died in 1 cell(s)" in sheet["crashing"]["notes"]
    if "broken" in students:
        assert sheet["broken"]["status"] == "not graded" and "not a valid notebook" in sheet["broken"]["notes"]
    if "perfect" in students:  # the copied answers are flagged; the wrapped one is the student's own text
        assert sheet["perfect"]["same_as_book"] == f"{PART}: ae-ex-gaussian, ae-ex-knn, ae-ex-code-gaussian, ae-ex-linear"
        assert sheet["blank"]["same_as_book"] == ""


@pytest.mark.slow
def test_a_class_through_the_hub_exchange_keeps_every_file_and_explains_every_score(tmp_path):
    course, exchange, homes = tmp_path / "course", tmp_path / "exchange", tmp_path / "home"
    course.mkdir()
    exchange.mkdir()
    teacher = TEACHER.format(exchange=exchange)
    (course / "nbgrader_config.py").write_text(teacher, encoding="utf-8")

    # the teacher releases with the kit, then to the exchange with nbgrader's own command
    start = time.perf_counter()
    assert asg.main(["release", "--out", str(course), "--parts", PART]) == 0
    release_seconds = time.perf_counter() - start
    config = asg.load_config(course)
    assert (config.CourseDirectory.course_id, config.Exchange.root, config.Execute.timeout) == \
        ("dgm-test", str(exchange), 300), "release changed the teacher's settings"
    assert (course / "nbgrader_config.py").read_text(encoding="utf-8").startswith(teacher)
    _nbgrader("release_assignment", PART, cwd=course)

    # each student fetches, works and submits (nbgrader's student commands, a home folder each)
    source = asg.read_notebook(course / "source" / PART / asg.NOTEBOOK)
    student_flags = [f"--Exchange.root={exchange}", f"--Exchange.cache={tmp_path / 'cache'}", "--course=dgm-test"]
    fetched = None
    for student, nb in _class(asg.read_notebook(course / "release" / PART / asg.NOTEBOOK), source).items():
        home = homes / student
        home.mkdir(parents=True)
        _nbgrader("fetch_assignment", PART, *student_flags, cwd=home)
        fetched = fetched or asg.read_notebook(home / PART / asg.NOTEBOOK)
        _write(home / PART, asg.NOTEBOOK, nb)
        _nbgrader("submit", PART, f"--student={student}", *student_flags, cwd=home)
    released = asg.read_notebook(course / "release" / PART / asg.NOTEBOOK)
    assert [c.source for c in fetched.cells] == [c.source for c in released.cells], "fetch gave another notebook"
    _nbgrader("collect", PART, cwd=course)
    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted(_class(fetched, source))
    before = _tree(submitted)

    # the kit grades what collect put in submitted/ (the documented command), two at a time
    sheet_path = tmp_path / "grades.csv"
    status, out, seconds = _grade(str(submitted), "--course", str(course), "--timeout", str(TIMEOUT),
                                  "--jobs", "2", "--csv", str(sheet_path))
    print(f"\nrelease {release_seconds:.1f} s; grading 6 students with --jobs 2: {seconds:.1f} s\n{out}")
    assert status == 0
    assert _tree(submitted) == before, "grading changed, moved or deleted a student's file"
    students = ["perfect", "blank", "wrong", "crashing", "looping", "broken"]
    _check_scores(_sheet(sheet_path), _details(tmp_path / "grades-details.csv"), students)
    header = next(line for line in out.splitlines() if line.startswith("student "))
    looping = next(line for line in out.splitlines() if line.startswith("looping "))
    assert float(looping.split()[header.split().index("seconds")]) < 4 * TIMEOUT, f"the loop held grading up: {looping}"
    config = asg.load_config(course)
    assert (config.CourseDirectory.course_id, config.Exchange.root, config.Execute.timeout) == \
        ("dgm-test", str(exchange), 300), "grade changed the teacher's settings"
    assert (course / "nbgrader_config.py").read_text(encoding="utf-8").startswith(teacher)

    # a late correction: one student re-graded alone, the others' grades untouched
    again = tmp_path / "again.csv"
    status, out, seconds = _grade(str(submitted), "--course", str(course), "--student", "wrong", "--csv", str(again))
    print(f"re-grading one student: {seconds:.1f} s")
    assert status == 0 and list(_sheet(again)) == ["wrong"]
    _check_scores(_sheet(again), _details(tmp_path / "again-details.csv"), ["wrong"])
    assert _tree(submitted) == before


@pytest.mark.slow
def test_a_plain_folder_of_notebooks_is_graded_and_left_as_it_was(tmp_path):
    course, flat = tmp_path / "course", tmp_path / "downloads"
    asg.release(course, [PART])
    released = asg.read_notebook(course / "release" / PART / asg.NOTEBOOK)
    source = asg.read_notebook(course / "source" / PART / asg.NOTEBOOK)
    students = ["perfect", "broken", "blank"]
    for student, nb in _class(released, source).items():
        if student in students:
            _write(flat, f"{student}.ipynb", nb)
    before = _tree(flat)
    status, out, seconds = _grade(str(flat), "--part", PART, "--course", str(course), "--jobs", "2",
                                  "--csv", str(tmp_path / "g.csv"))
    print(f"\nplain folder, {len(students)} notebooks: {seconds:.1f} s\n{out}")
    assert status == 0 and _tree(flat) == before
    assert sorted(_sheet(tmp_path / "g.csv")) == sorted(students)
    _check_scores(_sheet(tmp_path / "g.csv"), _details(tmp_path / "g-details.csv"), students)


def test_released_statements_read_as_text_in_plain_jupyterlab(tmp_path):
    """JupyterLab without jupyterlab-myst renders markdown as CommonMark, $...$ kept apart for MathJax."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    render = MarkdownIt("commonmark").use(dollarmath_plugin).render
    released = asg.release(tmp_path / "course")
    for part, path in released.items():
        nb = asg.read_notebook(path)
        statements = 0
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            html = render(cell.source)
            for raw in ("```{", ":::{", "language-{", ":label:", ":class:", "{doc}`", "{eq}`", "{cite}`"):
                assert raw not in html, f"{part}: raw MyST {raw!r} in the student's statement:\n{cell.source[:300]}"
            statements += html.count("<strong>Exercise ")
        source = asg.read_notebook(tmp_path / "course" / "source" / part / asg.NOTEBOOK)
        assert statements == len(asg.exercises(source)), f"{part}: {statements} exercise titles rendered"


def _documented(command: str) -> list[str]:
    """The arguments of the `nbgrader <command>` line of book/for-instructors.md, continuation lines joined."""
    import shlex

    page = (Path(__file__).resolve().parents[1] / "book" / "for-instructors.md").read_text(encoding="utf-8")
    text = page.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.strip().startswith(f"nbgrader {command} "))
    return shlex.split(line.split("#")[0])[2:]


@pytest.mark.slow
def test_an_lms_archive_goes_through_zip_collect_grade_and_feedback(tmp_path):
    """The page's Moodle pattern sorts an LMS zip into submitted/<id>/; the kit grades it; feedback is written."""
    import zipfile

    course = tmp_path / "course"
    asg.release(course, [PART])
    released = asg.read_notebook(course / "release" / PART / asg.NOTEBOOK)
    submissions = _class(released, asg.read_notebook(course / "source" / PART / asg.NOTEBOOK))
    archive = course / "downloaded" / PART / "archive"
    archive.mkdir(parents=True)
    ids = {"1001": "perfect", "1002": "wrong"}
    with zipfile.ZipFile(archive / "moodle-download.zip", "w") as z:  # Moodle's names: <full name>_<id>_assignsubmission_file_<file>
        for sid, who in ids.items():
            z.writestr(f"Student {who.title()}_{sid}_assignsubmission_file_exercises.ipynb",
                       nbformat.writes(submissions[who]))
    args = _documented("zip_collect")
    assert args[0] == PART and "--force" in args
    _nbgrader("zip_collect", *args, cwd=course)
    submitted = course / "submitted"
    assert sorted(str(p.relative_to(submitted)) for p in submitted.rglob("*.ipynb")) == \
        [f"{sid}/{PART}/{asg.NOTEBOOK}" for sid in ids]
    before = _tree(submitted)
    status, out, _ = _grade(str(submitted), "--course", str(course), "--jobs", "2", "--timeout", str(TIMEOUT),
                            "--csv", str(tmp_path / "g.csv"))
    assert status == 0 and _tree(submitted) == before
    sheet = _sheet(tmp_path / "g.csv")
    assert sorted(sheet) == sorted(ids), "the student ids of the CSV are the LMS ids"
    assert float(sheet["1001"]["ae-ex-gaussian"]) == FULL["ae-ex-gaussian"]
    assert float(sheet["1002"]["ae-ex-gaussian"]) == 0.0

    _nbgrader("generate_feedback", PART, cwd=course)  # the page's command: one HTML report per student
    for sid in ids:
        html = (course / "feedback" / sid / PART / "exercises.html").read_text(encoding="utf-8")
        assert ("wrong value for sigma=0.1" in html) == (sid == "1002"), f"{sid}: the check's message in its feedback"

    # the page: nbgrader's own autograde works in the folder too (without the kit's reasons)
    line = next(line for line in (Path(__file__).resolve().parents[1] / "book" / "for-instructors.md")
                .read_text(encoding="utf-8").splitlines() if "nbgrader autograde" in line)
    assert f"GENMODELS_BUDGET=smoke nbgrader autograde {PART} --force" in line
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", PART, "--force"], cwd=course,
                          capture_output=True, text=True, env={**os.environ, "GENMODELS_BUDGET": "smoke"})
    assert done.returncode == 0, done.stderr[-2000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {(sid, label): gb.find_grade(f"{label}-check", "exercises", PART, sid).score
                  for sid in ids for label in ("ae-ex-bernoulli", "ae-ex-gaussian")}
    # the wrong answer scores 0 either way; the perfect student's warning costs its points in plain nbgrader
    # (anything on stderr is a failure there), which is what the page says the kit changes
    assert scores == {("1001", "ae-ex-bernoulli"): 0.0, ("1001", "ae-ex-gaussian"): FULL["ae-ex-gaussian"],
                      ("1002", "ae-ex-bernoulli"): FULL["ae-ex-bernoulli"], ("1002", "ae-ex-gaussian"): 0.0}, scores
    assert float(sheet["1001"]["ae-ex-bernoulli"]) == FULL["ae-ex-bernoulli"]


def test_the_documented_release_command_lays_out_a_course(tmp_path):
    """`python -m genmodels assignments release --out <course> --parts <part>`, as the page types it."""
    page = (Path(__file__).resolve().parents[1] / "book" / "for-instructors.md").read_text(encoding="utf-8")
    assert f"python -m genmodels assignments release --out courses/genmodels --parts {PART}" in page
    done = subprocess.run([sys.executable, "-m", "genmodels", "assignments", "release", "--out",
                           str(tmp_path / "course"), "--parts", PART], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    for label in FULL:
        assert label in done.stdout, f"release did not list {label}:\n{done.stdout}"
    for folder in ("source", "release"):
        assert (tmp_path / "course" / folder / PART / asg.NOTEBOOK).is_file()
    assert (tmp_path / "course" / "nbgrader_config.py").is_file() and (tmp_path / "course" / "gradebook.db").is_file()
