"""The classroom kit: every ``chapters/*/exercises.ipynb`` as an nbgrader assignment.

    python -m genmodels assignments release [--out DIR] [--parts P ...] [--force]
    python -m genmodels assignments grade SUBMISSIONS [--course DIR] [--budget smoke] [--timeout S]
                                          [--jobs N] [--student S ...] [--part P] [--csv FILE]

Modules: :mod:`.convention` (reading an exercises notebook, the convention of CONTRIBUTING.md),
:mod:`.statements` (MyST statements as plain Markdown for Jupyter), :mod:`.course` (the teacher's
nbgrader course folder and ``release``), :mod:`.grading` (``grade``: submissions are only read),
:mod:`.report` (scores, reasons, the table and the CSVs), :mod:`.cli` (``main``).

Book page: book/for-instructors.md
"""
from __future__ import annotations

from .cli import main
from .convention import (BEGIN, END, MIN_EXERCISES, NOTEBOOK, ConventionError, Exercise, cells_by_id,
                         convention_problems, directives, exercises, read_notebook)
from .course import (BUDGETS, CELL_TIMEOUT, COURSE_ID, chapters_dir, course_id, ensure_config, generate,
                     layout_course, load_config, parts, release)
from .grading import WORKSPACE, default_jobs, find_submissions, grade
from .report import PENDING, Result, errors, normalised, same_as_book, table, write_csv, write_details
from .statements import plain_markdown, plain_notebook

__all__ = [
    "BEGIN", "END", "MIN_EXERCISES", "NOTEBOOK", "ConventionError", "Exercise", "cells_by_id", "convention_problems",
    "directives", "exercises", "read_notebook", "BUDGETS", "CELL_TIMEOUT", "COURSE_ID", "chapters_dir", "course_id",
    "ensure_config", "generate", "layout_course", "load_config", "parts", "release", "WORKSPACE", "default_jobs",
    "find_submissions", "grade", "PENDING", "Result", "errors", "normalised", "same_as_book", "table", "write_csv",
    "write_details", "plain_markdown", "plain_notebook", "main",
]
