"""``python -m genmodels assignments release|grade ...``: the command line of the classroom kit.

Book page: book/for-instructors.md
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .convention import NOTEBOOK, exercises, read_notebook
from .course import BUDGETS, CELL_TIMEOUT, COURSE_ID, chapters_dir, release
from .grading import default_jobs, grade
from .report import _fmt, table, write_csv, write_details

DESCRIPTION = f"""\
The classroom kit: every chapters/*/exercises.ipynb as an nbgrader assignment.

  release   lay out the nbgrader course folder (nbgrader_config.py is yours: only missing settings are
            added) and generate each part's student version
  grade     autograde SUBMISSIONS/<student>/<part>/{NOTEBOOK} (for example the course's own submitted/
            folder after nbgrader collect or zip_collect) or, with --part, a folder of <student>.ipynb;
            the submissions are only read, never moved or changed
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m genmodels assignments", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", default=None,
                        help="the book's chapters/ folder (default: ./chapters, else the package's checkout)")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="lay out the nbgrader course and generate the student versions")
    rel.add_argument("--out", default=f"courses/{COURSE_ID}", help="course folder (default: courses/genmodels)")
    rel.add_argument("--parts", nargs="+", default=None, help="chapter folders to release (default: all)")
    rel.add_argument("--force", action="store_true",
                     help="replace a part already released from another version of its notebook")
    gr = sub.add_parser("grade", help="autograde SUBMISSIONS/<student>/<part>/exercises.ipynb")
    gr.add_argument("submissions")
    gr.add_argument("--course", default=f"courses/{COURSE_ID}", help="course folder (default: courses/genmodels)")
    gr.add_argument("--budget", choices=BUDGETS, default="smoke", help="budget the notebooks run in (default: smoke)")
    gr.add_argument("--timeout", type=float, default=None,
                    help=f"seconds one cell may run (default: the config's Execute.timeout; the kit writes {CELL_TIMEOUT})")
    gr.add_argument("--jobs", type=int, default=default_jobs(),
                    help=f"submissions graded at once (default: half the cores, here {default_jobs()})")
    gr.add_argument("--student", nargs="+", default=None, help="grade only these students (for example a late one)")
    gr.add_argument("--part", default=None, help="SUBMISSIONS holds <student>.ipynb files of this part")
    gr.add_argument("--csv", default=None, help="the LMS grade sheet (default: SUBMISSIONS/../grades.csv)")
    gr.add_argument("--details", default=None, help="one row per exercise with the reason (default: next to --csv)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m genmodels assignments release|grade ...``; returns the exit status.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "release":
            released = release(args.out, args.parts, args.chapters, force=args.force)
            print(f"chapters: {Path(args.chapters) if args.chapters else chapters_dir()}")
            for part, path in released.items():
                exs = exercises(read_notebook(Path(args.out) / "source" / part / NOTEBOOK))
                listing = ", ".join(f"{ex.label} ({_fmt(ex.max_points)}{' written' if ex.written else ''})" for ex in exs)
                print(f"{part}: {path}  [{listing}]")
            return 0
        results = grade(args.submissions, args.course, args.budget, args.chapters, part=args.part,
                        students=args.student, timeout=args.timeout, jobs=args.jobs)
        print(table(results))
        sheet = Path(args.csv) if args.csv else Path(args.submissions).resolve().parent / "grades.csv"
        details = Path(args.details) if args.details else sheet.with_name(sheet.stem + "-details.csv")
        print(f"\nwritten: {write_csv(results, sheet)} (one row per student) and {write_details(results, details)}")
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
