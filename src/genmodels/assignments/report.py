"""What the grading says: one :class:`Result` per student and part, the reasons, the table and the CSVs.

Every exercise gets a score *and* a reason when it is not full marks: the first line of the failed
assertion (or the assert line itself when it has no message), the exception, "timed out after N s",
"kernel died", "not attempted", "awaiting the teacher". ``write_csv`` writes what an LMS imports: one row
per student, one column per exercise and the total, written answers ``pending``; ``write_details``
writes one row per student and exercise with the reason.

Book page: book/for-instructors.md
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import tokenize
from pathlib import Path
from typing import Sequence

from .convention import BEGIN, Exercise, _nbgrader

PENDING = "pending"
STDERR_MARK = "[written to stderr; not counted as a failure]\n"
KERNEL_DIED = "KernelDied"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclasses.dataclass
class Result:
    """One student's grade for one part: per exercise (score or None while awaiting a teacher, max).

    Notebook: chapters/00_foundations/exercises.ipynb
    """

    student: str
    part: str
    scores: dict[str, tuple[float | None, float]] = dataclasses.field(default_factory=dict)
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)  # exercise -> why it is not full marks
    notes: list[str] = dataclasses.field(default_factory=list)
    errors: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (cell, exception name) in order
    same_as_book: list[str] = dataclasses.field(default_factory=list)  # exercises answered with the book's text
    graded: bool = False  # False when the submission could not be run at all
    seconds: float = 0.0  # wall time nbgrader took on it (executing the notebook)

    @property
    def total(self) -> float:
        return float(sum(s for s, _ in self.scores.values() if s is not None))

    @property
    def max_points(self) -> float:
        return float(sum(m for _, m in self.scores.values()))

    @property
    def pending(self) -> bool:
        return any(s is None for s, _ in self.scores.values())

    @property
    def status(self) -> str:
        return "not graded" if not self.graded else (PENDING if self.pending else "complete")


# --------------------------------------------------------------------------------------------------
# Reading a graded notebook


def errors(nb) -> list[tuple[str, str]]:
    """(cell name, exception name) of every cell whose output is an error, in notebook order.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    out = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                out.append((_nbgrader(cell).get("grade_id", f"cell {index}"), output.get("ename", "error")))
    return out


def _failed_line(traceback: list[str]) -> str:
    """The source line an exception was raised at (IPython marks it with ``---->``), without ANSI codes."""
    marked = [line for tb in traceback for line in _ANSI.sub("", tb).splitlines() if line.lstrip().startswith("---->")]
    return re.sub(r"^\s*---->\s*\d*\s*", "", marked[-1]).strip() if marked else ""


def describe_error(output, timeout: float | None) -> str:
    """One line saying why a cell failed, from its error output.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    name, value = output.get("ename", "error"), _ANSI.sub("", str(output.get("evalue", ""))).strip()
    first = value.splitlines()[0][:200] if value else ""
    if name in ("CellTimeoutError", "KeyboardInterrupt"):
        return f"timed out after {timeout:g} s" if timeout else "timed out"
    if name == KERNEL_DIED:
        return "kernel died (killed, for example for running out of memory)"
    if name == "NotImplementedError":
        return "not attempted (the stub raises NotImplementedError)"
    if not first:
        line = _failed_line(output.get("traceback", []))
        return f"{name} at `{line[:160]}`" if line else name
    return f"{name}: {first}"


def reasons(graded_nb, exercises: Sequence[Exercise], scores: dict[str, tuple[float | None, float]],
            timeout: float | None) -> tuple[dict[str, str], list[str]]:
    """Per exercise why it lost points (or waits), and notes about cells outside the exercises.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    first_error: dict[str, str] = {}
    stderr: dict[str, str] = {}
    timed_out: set[str] = set()
    for index, cell in enumerate(graded_nb.cells):
        grade_id = _nbgrader(cell).get("grade_id", f"cell {index}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                if output.get("ename") in ("CellTimeoutError", "KeyboardInterrupt"):
                    if grade_id in timed_out:
                        continue
                    timed_out.add(grade_id)
                first_error.setdefault(grade_id, describe_error(output, timeout))
            if output.get("output_type") == "stream" and str(output.get("text", "")).startswith(STDERR_MARK):
                text = output["text"][len(STDERR_MARK):].strip()
                named = re.findall(r"\b(\w+(?:Warning|Error): .*)", text)  # "file:3: UserWarning: msg" -> the msg
                stderr.setdefault(grade_id, (named[-1] if named else (text.splitlines() or [""])[-1])[:160])
    why: dict[str, str] = {}
    cells_of = {}
    for ex in exercises:
        cells = [*ex.solution_ids, *ex.points]
        cells_of.update({c: ex.label for c in cells})
        score, max_points = scores.get(ex.label, (0.0, ex.max_points))
        failing = [f"{first_error[c]} (in {c})" for c in cells if c in first_error]
        warned = [f"wrote to stderr, not counted: {stderr[c]} (in {c})" for c in cells if c in stderr]
        if score is None:
            text = "awaiting the teacher"
        elif score >= max_points:
            text = ""
        elif failing:
            text = failing[0]
        elif ex.written:
            text = "answer left blank"
        else:
            text = "partial credit from the check's last value" if score > 0 else "no points (the check raised nothing)"
        why[ex.label] = "; ".join(x for x in (text, *warned) if x)
    outside = [f"{cell}: {first_error[cell]}" for cell in first_error if cell not in cells_of]
    notes = [f"error outside the exercises in {outside[0]}"] if outside else []
    return why, notes


# --------------------------------------------------------------------------------------------------
# Copies of the book's solutions


def normalised(source: str, markdown: bool = False) -> str:
    """``source`` without comments and whitespace (code) or without whitespace (markdown), to compare answers.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    if markdown:
        return re.sub(r"\s+", "", source)
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        kept = [t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                                           tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
        return " ".join(kept)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"\s+", "", re.sub(r"#[^\n]*", "", source))


def same_as_book(submission, source, exercises: Sequence[Exercise]) -> list[str]:
    """The exercises whose every answer cell equals the book's solution, up to whitespace and comments.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    def by_id(nb):
        return {_nbgrader(c).get("grade_id"): c for c in nb.cells if _nbgrader(c).get("grade_id")}

    theirs, book = by_id(submission), by_id(source)
    copied = []
    for ex in exercises:
        cells = [c for c in ex.solution_ids if c in book]
        if cells and all(c in theirs and normalised(theirs[c].source, book[c].cell_type == "markdown")
                         == normalised(book[c].source, book[c].cell_type == "markdown") for c in cells):
            copied.append(ex.label)
    if any(BEGIN in c.source for c in submission.cells) and not copied:
        copied.append("solution markers")
    return copied


# --------------------------------------------------------------------------------------------------
# Table and CSV


def _fmt(x: float) -> str:
    return f"{x:g}"


def _order(results: Sequence[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (r.part, r.student.casefold(), r.student))


def table(results: Sequence[Result]) -> str:
    """Points per student per exercise, one block per part ("?" = awaiting the teacher), then the reasons.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    blocks = []
    for part in sorted({r.part for r in results}):
        rows = [r for r in _order(results) if r.part == part]
        labels = list(next((r.scores for r in rows if r.scores), {}))
        header = ["student", *labels, "total", "seconds", "same as book", "notes"]
        body = []
        for r in rows:
            cells = [f"{'?' if s is None else _fmt(s)}/{_fmt(m)}" for s, m in (r.scores.get(l, (0.0, 0.0)) for l in labels)]
            body.append([r.student, *cells, f"{_fmt(r.total)}/{_fmt(r.max_points)}{'+?' if r.pending else ''}",
                         f"{r.seconds:.0f}", ", ".join(r.same_as_book) or "-", "; ".join(r.notes)])
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header) - 1)]
        lines = [f"== {part} =="]
        for row in [header, *body]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1])
        why = [f"  {r.student}  {label} {_fmt(r.scores[label][0] or 0) if r.scores[label][0] is not None else '?'}"
               f"/{_fmt(r.scores[label][1])}: {text}" for r in rows for label, text in r.reasons.items() if text]
        if why:
            lines += ["", "why:", *why]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _labels(results: Sequence[Result]) -> list[tuple[str, str]]:
    """(part, exercise) of every graded part, in part order then notebook order."""
    seen: dict[str, list[str]] = {}
    for r in results:
        if r.scores and r.part not in seen:
            seen[r.part] = list(r.scores)
    return [(part, label) for part in sorted(seen) for label in seen[part]]


def write_csv(results: Sequence[Result], path: str | Path) -> Path:
    """The LMS grade sheet: one row per student; a column per exercise, ``total``, ``status`` and flags.

    A written answer not graded yet is ``pending``, and so is ``total`` while any is; ``autograded`` is the
    sum of the points known so far.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = _labels(results)
    by_student: dict[str, list[Result]] = {}
    for r in _order(results):
        by_student.setdefault(r.student, []).append(r)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *(label for _, label in columns), "total", "autograded", "max_points",
                         "status", "same_as_book", "notes"])
        for student in sorted(by_student, key=lambda s: (s.casefold(), s)):
            rs = by_student[student]
            scores = {(r.part, label): s for r in rs for label, s in r.scores.items()}
            cells = []
            for key in columns:
                score = scores.get(key, (0.0, 0.0))[0] if key in scores else ""
                cells.append(PENDING if score is None else (_fmt(score) if score != "" else ""))
            pending = any(r.pending for r in rs)
            total = sum(r.total for r in rs)
            status = "not graded" if not all(r.graded for r in rs) else (PENDING if pending else "complete")
            writer.writerow([student, *cells, PENDING if pending else _fmt(total), _fmt(total),
                             _fmt(sum(r.max_points for r in rs)), status,
                             "; ".join(f"{r.part}: {', '.join(r.same_as_book)}" for r in rs if r.same_as_book),
                             "; ".join(n for r in rs for n in r.notes)])
    return path


DETAIL_FIELDS = ("student", "part", "exercise", "points", "max_points", "status", "reason", "seconds")


def write_details(results: Sequence[Result], path: str | Path) -> Path:
    """One row per student, part and exercise with the reason; ``points`` is ``pending`` while awaiting a teacher.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=DETAIL_FIELDS)
        writer.writeheader()
        for r in _order(results):
            for label, (score, max_points) in r.scores.items():
                writer.writerow({"student": r.student, "part": r.part, "exercise": label,
                                 "points": PENDING if score is None else _fmt(score), "max_points": _fmt(max_points),
                                 "status": r.status if r.graded else "not graded",
                                 "reason": r.reasons.get(label, "") or ("; ".join(r.notes) if not r.graded else ""),
                                 "seconds": f"{r.seconds:.1f}"})
            if not r.scores:
                writer.writerow({"student": r.student, "part": r.part, "exercise": "", "points": "0",
                                 "max_points": "0", "status": "not graded", "reason": "; ".join(r.notes),
                                 "seconds": f"{r.seconds:.1f}"})
    return path
