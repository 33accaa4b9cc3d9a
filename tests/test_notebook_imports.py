"""Every notebook runs with the base install (what the Colab/Binder install cell brings): its imports are the
standard library, genmodels, or a distribution that pyproject.toml's ``dependencies`` names, never an extra."""
import ast
import importlib.metadata as md
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

from genmodels import notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").rglob("*.ipynb"))


def _base_distributions() -> set[str]:
    """The base dependencies and everything they require, transitively (names normalised)."""
    norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # noqa: E731
    todo = [re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0] for d in
            tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    seen: set[str] = set()
    while todo:
        name = norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [re.split(r"[<>=!~ \[;(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    return seen


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("%", "!")))  # IPython magics are not Python
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_notebooks_import_only_the_base_dependencies():
    base = _base_distributions()
    providers = md.packages_distributions()
    problems = []
    for path in NOTEBOOKS:
        for module in sorted(_imported_modules(path)):
            if module in sys.stdlib_module_names or module == "genmodels":
                continue
            dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [module])}
            if not dists & base:
                problems.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(dists))}), "
                                "which the base install does not bring")
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_extra(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "from myst_nb import glue\nimport torch\n%matplotlib inline"}]}
    (tmp_path / "x.ipynb").write_text(json.dumps(nb))
    assert _imported_modules(tmp_path / "x.ipynb") == {"myst_nb", "torch"}
    assert "myst-nb" not in _base_distributions() and "torch" in _base_distributions()


def test_glue_without_myst_nb_shows_only_what_the_book_shows(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now raises ImportError
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda value: shown.append(value))
    notebook.glue("hidden", 1.5, display=False)
    notebook.glue("shown", 2.5)
    assert shown == [2.5]


def test_glue_with_myst_nb_stores_the_value(monkeypatch):
    pytest.importorskip("myst_nb")
    calls = []
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display=True: calls.append((name, value, display)))
    notebook.glue("x", 3.0, display=False)
    assert calls == [("x", 3.0, False)]
