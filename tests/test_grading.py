"""Fast tests of the classroom kit's grading pieces that need no kernel (issue 22).

The teacher's nbgrader_config.py survives, statements read as plain Markdown, finding submissions never
changes a file, copies of the book are flagged, the LMS sheet marks written answers pending.

Module: src/genmodels/assignments/; book page: book/for-instructors.md
"""
from __future__ import annotations

import csv
import hashlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from genmodels import assignments as asg

TEACHER = ('c = get_config()\nc.CourseDirectory.course_id = "dgm2026"\n'
           'c.Exchange.root = "/srv/nbgrader/exchange"\nc.Execute.timeout = 45\n# teacher note\n')


def test_a_teachers_config_is_kept_and_only_missing_settings_are_added(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(TEACHER)
    added = asg.ensure_config(tmp_path)
    text = (tmp_path / "nbgrader_config.py").read_text()
    assert text.startswith(TEACHER), "the teacher's lines must stay first and unchanged"
    assert "c.OverwriteCells.add_missing_cells = True" in "\n".join(added)
    assert not any("course_id" in line or "Execute.timeout" in line for line in added), added
    config = asg.load_config(tmp_path)
    assert config.CourseDirectory.course_id == "dgm2026" and config.Execute.timeout == 45
    assert config.Exchange.root == "/srv/nbgrader/exchange" and config.OverwriteCells.add_missing_cells is True
    assert asg.course_id(tmp_path) == "dgm2026"
    assert asg.ensure_config(tmp_path) == [] and (tmp_path / "nbgrader_config.py").read_text() == text


def test_a_new_config_sets_the_kit_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_BUDGET", "default")
    asg.ensure_config(tmp_path)
    config = asg.load_config(tmp_path)
    assert config.CourseDirectory.course_id == asg.COURSE_ID
    assert config.Execute.timeout == asg.CELL_TIMEOUT["default"]


def test_statements_become_plain_markdown():
    source = ("Intro {doc}`the VAE chapter <01_vae>` and {doc}`02_gan`, see {eq}`vae-elbo` {cite}`kingma2014`.\n\n"
              "````{exercise} A title\n:label: x-ex-1\n\nWrite $f(x)$.\n```python\nf(1)\n```\n````\n")
    plain = asg.plain_markdown(source)
    assert "the VAE chapter" in plain and "02_gan" in plain and "(vae-elbo)" in plain and "[kingma2014]" in plain
    assert "**Exercise A title** (x-ex-1)" in plain and "Write $f(x)$." in plain
    assert "```python\nf(1)\n```" in plain, "an ordinary code block stays"
    assert "{" not in plain.replace("```python", ""), plain
    with pytest.raises(ValueError, match="unclosed"):
        asg.plain_markdown("```{exercise} T\nbody\n")


def test_plain_statements_render_in_jupyter_as_text_not_code():
    from nbconvert.filters.markdown import markdown2html

    html = markdown2html(asg.plain_markdown("```{exercise} Stable BCE\n:label: ae-ex-b\nWrite $x$.\n```"))
    assert "<strong>Exercise Stable BCE</strong>" in html and "language-{exercise}" not in html and "<pre>" not in html


def _tree(folder):
    return {p.relative_to(folder): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_finding_submissions_reads_every_layout_and_changes_no_file(tmp_path):
    subs = tmp_path / "submitted"
    for folder, name in (("ada/00_x", asg.NOTEBOOK), ("gus/00_x", "exercises (1).ipynb"), ("two/00_x", "a.ipynb"),
                         ("two/00_x", "b.ipynb")):
        (subs / folder).mkdir(parents=True, exist_ok=True)
        (subs / folder / name).write_text("{}")
    (subs / "ada" / "00_x" / "timestamp.txt").write_text("2026-12-01 10:00:00")
    (subs / "lee").mkdir()
    before = _tree(subs)
    found, strays = asg.find_submissions(subs)
    got = {(s, p): (path.name if path else None, note) for s, p, path, note in found}
    assert got[("ada", "00_x")] == (asg.NOTEBOOK, "")
    assert got[("gus", "00_x")][0] == "exercises (1).ipynb" and "expected" in got[("gus", "00_x")][1]
    assert got[("two", "00_x")][0] is None and "a.ipynb" in got[("two", "00_x")][1]
    assert strays == ["lee"]
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "zoe.ipynb").write_text("{}")
    assert [(s, p) for s, p, _, _ in asg.find_submissions(flat, part="00_x")[0]] == [("zoe", "00_x")]
    assert _tree(subs) == before


def test_grade_refuses_the_kits_own_workspace(tmp_path):
    (tmp_path / "c" / asg.WORKSPACE).mkdir(parents=True)
    with pytest.raises(ValueError, match="workspace"):
        asg.grade(tmp_path / "c" / asg.WORKSPACE, tmp_path / "c")


def test_copies_of_the_book_are_flagged_up_to_comments_and_whitespace():
    def nb(answer):
        cell = new_code_cell(answer)
        cell.metadata["nbgrader"] = {"grade_id": "t-sol", "solution": True, "grade": False, "locked": False}
        return new_notebook(cells=[cell])

    book = nb("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    ex = [asg.Exercise(label="t-ex", title="T", solution_ids=["t-sol"], points={"t-check": 1})]
    assert asg.same_as_book(nb("def f(x):\n    return 2*x   # mine"), book, ex) == ["t-ex"]
    assert asg.same_as_book(nb("def f(x):\n    return x + x"), book, ex) == []
    assert asg.normalised("a = 1  # c\n\nb=2") == asg.normalised("a=1\nb = 2")


def test_lms_sheet_has_one_row_per_student_and_marks_pending(tmp_path):
    results = [asg.Result("ada", "00_x", scores={"e1": (2.0, 2.0), "w": (None, 1.0)}, graded=True),
               asg.Result("bob", "00_x", scores={"e1": (0.0, 2.0), "w": (0.0, 1.0)}, graded=True,
                          reasons={"e1": "AssertionError: wrong sign"})]
    sheet = asg.write_csv(results, tmp_path / "g.csv")
    rows = {r["student"]: r for r in csv.DictReader(sheet.open(encoding="utf-8"))}
    assert (rows["ada"]["e1"], rows["ada"]["w"], rows["ada"]["total"], rows["ada"]["autograded"]) == ("2", "pending",
                                                                                                   "pending", "2")
    assert (rows["bob"]["total"], rows["bob"]["status"]) == ("0", "complete")
    details = list(csv.DictReader(asg.write_details(results, tmp_path / "d.csv").open(encoding="utf-8")))
    assert {"student": "bob", "exercise": "e1", "reason": "AssertionError: wrong sign"}.items() <= details[2].items()


def test_describe_error_gives_the_reason():
    from genmodels.assignments.report import describe_error

    assert describe_error({"ename": "AssertionError", "evalue": "got 3\nmore"}, 60) == "AssertionError: got 3"
    assert describe_error({"ename": "AssertionError", "evalue": "",
                           "traceback": ["\x1b[0;32m----> 3\x1b[0m assert x == 2"]}, 60) == "AssertionError at `assert x == 2`"
    assert describe_error({"ename": "CellTimeoutError", "evalue": ""}, 12) == "timed out after 12 s"
    assert describe_error({"ename": "NotImplementedError", "evalue": ""}, 12).startswith("not attempted")


def test_a_notebook_nbgrader_gave_up_on_gets_the_cause_not_see_the_traceback():
    from genmodels.assignments.grading import _last_error

    log = ("[ERROR] Timeout waiting for execute reply (20s).\n[ERROR] Traceback (most recent call last):\n"
           "nbclient.exceptions.CellTimeoutError: A cell timed out\n[ERROR] NbGraderException: Please see the the "
           "above traceback for details\n")
    assert "ran past the 20 s timeout" in _last_error(log, 20, 12) and "cell 12" in _last_error(log, 20, 12)
    log = "[ERROR] Traceback\nsqlite3.OperationalError: database is locked\n[ERROR] NbGraderException: Please see the x\n"
    assert _last_error(log).startswith("sqlite3.OperationalError: database is locked")


def test_a_star_in_an_exercise_title_stays_a_star_in_plain_jupyterlab():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    plain = asg.plain_markdown("```{exercise} D* for two densities, $p_g^*$ and x_1\n:label: gan-ex-d\nText.\n```")
    html = MarkdownIt("commonmark").use(dollarmath_plugin).render(plain)
    assert "<strong>Exercise D* for two densities, " in html and "x_1</strong>" in html, html
    assert "p_g^*" in html and "<em>" not in html, html


def test_a_warning_in_a_check_cell_is_named_and_costs_nothing():
    from nbformat.v4 import new_output

    from genmodels.assignments.report import STDERR_MARK, reasons

    check = new_code_cell("check()")
    check.metadata["nbgrader"] = {"grade_id": "t-check", "grade": True, "points": 2}
    check.outputs = [new_output("stream", name="stdout", text=STDERR_MARK + "/tmp/ipykernel_1/2.py:3: UserWarning: "
                                "float64 input\n  warnings.warn('float64 input')\n")]
    ex = [asg.Exercise(label="t-ex", title="T", solution_ids=[], points={"t-check": 2.0})]
    why, notes = reasons(new_notebook(cells=[check]), ex, {"t-ex": (2.0, 2.0)}, 60)
    assert why == {"t-ex": "wrote to stderr, not counted: UserWarning: float64 input (in t-check)"} and notes == []
