"""The nbgrader course folder: finding the parts, the teacher's config, release, running nbgrader.

``release`` lays out ``source/<part>/`` from ``chapters/<part>/`` and runs nbgrader's own
``generate_assignment``; the student version's statements are then rewritten in plain Markdown
(:mod:`.statements`) so that they read well in plain JupyterLab. ``nbgrader_config.py`` belongs to the
teacher: the kit writes it only when it is missing and otherwise appends only the settings it needs
that are not set yet (:func:`ensure_config`).

Book page: book/for-instructors.md
"""
from __future__ import annotations

import contextlib
import filecmp
import io
import logging
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import nbformat

from .convention import BEGIN, END, NOTEBOOK, ConventionError, _has_outputs, convention_problems, read_notebook
from .statements import plain_notebook

COURSE_ID = "genmodels"
BUDGETS = ("smoke", "default", "full")
# seconds one cell may run when grading: a smoke cell needs a few seconds, so a loop is cut after a minute
CELL_TIMEOUT = {"smoke": 60, "default": 600, "full": 3600}
SMALL_FILE = 1_000_000  # bytes: files beside a notebook up to this size travel with the assignment
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "_build"}

CONFIG_HEADER = '''\
# nbgrader configuration of the genmodels course, written by `python -m genmodels assignments`.
# It is yours: the kit never rewrites it, and only appends (below a marked line) a setting it needs
# that you have not set. nbgrader's own commands work from this folder:
#   nbgrader generate_assignment <part> --force     (source/ -> release/)
#   nbgrader autograde <part> --force               (submitted/ -> autograded/, scores in gradebook.db)
'''
ADDED_MARK = "# --- added by `python -m genmodels assignments`: settings the kit needs that were not set above ---"
_NEEDED = {  # (section, key) -> the lines that set it
    ("CourseDirectory", "course_id"): [f'c.CourseDirectory.course_id = "{COURSE_ID}"'],
    ("OverwriteCells", "add_missing_cells"): [
        "# A check cell a student deleted is put back from the source and run: deleting a check gains nothing.",
        "c.OverwriteCells.add_missing_cells = True"],
    ("Execute", "timeout"): [
        "# Seconds one cell may run when grading, per budget (python -m genmodels assignments grade --timeout N",
        "# overrides it for one run).",
        f'c.Execute.timeout = {CELL_TIMEOUT}[os.environ.get("GENMODELS_BUDGET", "smoke")]'],
}
_BUDGET_LINES = [
    "# The budget sets the sizes inside the notebooks (smoke: tiny subsets, a few seconds of training).",
    "# Export GENMODELS_BUDGET before grading to change it; one thread per kernel unless you export more.",
    "import os",
    'os.environ.setdefault("GENMODELS_BUDGET", "smoke")',
    'os.environ.setdefault("OMP_NUM_THREADS", "1")',
]


# --------------------------------------------------------------------------------------------------
# Finding the parts


def chapters_dir() -> Path:
    """The ``chapters/`` folder of the working directory, else of the checkout the package comes from.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / "chapters").is_dir():
            return root / "chapters"
    raise FileNotFoundError("no chapters/ folder in the working directory or next to the package; "
                            "run from the root of the course repository or pass --chapters")


def parts(chapters: str | Path | None = None, only: Sequence[str] | None = None) -> dict[str, Path]:
    """Part name (its chapter folder, e.g. ``00_foundations``) → its ``exercises.ipynb``, sorted.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
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


# --------------------------------------------------------------------------------------------------
# The teacher's nbgrader_config.py


def load_config(course: str | Path):
    """The traitlets config that ``course/nbgrader_config.py`` sets (as nbgrader would read it).

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def ensure_config(course: str | Path) -> list[str]:
    """Write ``nbgrader_config.py`` if missing, else append only the settings the kit needs; the lines added.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    path = Path(course) / "nbgrader_config.py"
    if not path.exists():
        lines = _BUDGET_LINES + ["", "c = get_config()  # noqa: F821 (nbgrader provides it)"]
        for needed in _NEEDED.values():
            lines += needed
        path.write_text(CONFIG_HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        return lines
    text = path.read_text(encoding="utf-8")
    config = load_config(course)
    added = [] if "GENMODELS_BUDGET" in text else list(_BUDGET_LINES)
    for (section, key), lines in _NEEDED.items():
        if key not in config.get(section, {}):
            added += lines
    if not added:
        return []
    if "import os" not in added and any("os." in line for line in added):
        added.insert(0, "import os")
    block = ["", ADDED_MARK, "c = get_config()  # noqa: F821 (the same object as above)", *added]
    with path.open("a", encoding="utf-8") as f:
        f.write(("" if text.endswith("\n") else "\n") + "\n".join(block) + "\n")
    return added


def course_id(course: str | Path) -> str:
    """The course id the teacher's config sets (nbgrader's gradebook is keyed by it).

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    return str(load_config(course).get("CourseDirectory", {}).get("course_id", COURSE_ID))


# --------------------------------------------------------------------------------------------------
# Laying out a course and releasing


def layout_course(course: str | Path, part_notebooks: Mapping[str, Path], force: bool = False) -> Path:
    """Ensure ``nbgrader_config.py`` and copy ``source/<part>/`` for each part into ``course``; return it.

    A part already released from a different version of its notebook is refused unless ``force``: the
    students hold the old version, and its checks would change under them.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    ensure_config(course)
    for part, notebook in part_notebooks.items():
        problems = convention_problems(read_notebook(notebook))
        if problems:
            raise ConventionError(f"{notebook} does not follow the exercises convention:\n  " + "\n  ".join(problems))
        source = course / "source" / part
        old = source / NOTEBOOK
        if old.exists() and (course / "release" / part).exists() and not force \
                and not filecmp.cmp(old, notebook, shallow=False):
            raise ValueError(f"{part} was released from another version of {notebook}: the students hold that one. "
                             f"Pass --force to replace {old} (and the checks it grades with), or keep it")
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        shutil.copy2(notebook, source / NOTEBOOK)
        for extra in _small_files(notebook.parent):
            target = source / extra.relative_to(notebook.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(extra, target)
    return course


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables (those the kernels nbgrader starts inherit) for the block.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
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


def run_nbgrader(converter_cls, course: Path, overrides: Mapping[str, object] | None = None,
                 **ids: str) -> tuple[bool, str]:
    """Run one nbgrader converter on ``course`` with its config plus ``overrides`` ("Section.key"); (ok, log).

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    from nbgrader.coursedir import CourseDirectory

    # nbgrader runs `alembic` when it creates a gradebook: the environment's scripts must be on PATH,
    # also when this Python was started as .venv/bin/python without activating the venv.
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + path
    config = load_config(course)
    config.CourseDirectory.root = str(course)
    for name, value in (overrides or {}).items():
        section, key = name.split(".")
        config[section][key] = value
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
    """nbgrader ``generate_assignment`` for one part, statements in plain Markdown; the released notebook.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    from nbgrader.converters import GenerateAssignment

    course = Path(course)
    ok, log = run_nbgrader(GenerateAssignment, course, assignment_id=part)
    released = course / "release" / part / NOTEBOOK
    if not ok or not released.exists():
        raise RuntimeError(f"nbgrader generate_assignment failed for {part}:\n{log}")
    nb = read_notebook(released)
    if plain_notebook(nb):
        nbformat.write(nb, released)
    text = released.read_text(encoding="utf-8")
    if BEGIN in text or END in text:
        raise RuntimeError(f"{released} still contains solution markers")
    if any(_has_outputs(c) for c in nb.cells):
        raise RuntimeError(f"{released} still has outputs")
    return released


def release(out: str | Path, only: Sequence[str] | None = None, chapters: str | Path | None = None,
            force: bool = False) -> dict[str, Path]:
    """Lay out the course in ``out`` and generate every part's student version; part → released notebook.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    found = parts(chapters, only)
    course = layout_course(out, found, force=force)
    return {part: generate(course, part) for part in found}
