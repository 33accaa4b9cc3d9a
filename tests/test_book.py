"""The book's structure: _toc.yml and chapters/ agree, notebooks are clean, config has what CI relies on."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOC = (ROOT / "_toc.yml").read_text()
LISTED = re.findall(r"file:\s*([\w./-]+)", TOC)
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _exists(entry: str) -> bool:
    return any((ROOT / f"{entry}{ext}").exists() for ext in (".ipynb", ".md"))


def test_every_toc_entry_exists():
    missing = [e for e in LISTED if not _exists(e)]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    listed = set(LISTED)
    orphans = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if str(p.relative_to(ROOT).with_suffix("")) not in listed]
    assert not orphans, f"notebooks missing from _toc.yml: {orphans}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_clean(nb):
    d = json.loads(nb.read_text())
    assert d["metadata"]["kernelspec"]["name"] == "python3"
    stored = [i for i, c in enumerate(d["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not stored, f"{nb.name}: cells {stored} have stored outputs; commit notebooks without outputs"
    code = "\n".join("".join(c["source"]) for c in d["cells"] if c["cell_type"] == "code")
    assert "sys.path" not in code, "notebooks import the installed package, never via sys.path"
    assert "import genmodels" in code


def test_equation_and_proof_labels_are_unique_book_wide():
    seen: dict[str, str] = {}
    dupes = []
    for nb in NOTEBOOKS:
        text = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
        labels = re.findall(r"\$\$\s*\(([\w:-]+)\)", text) + re.findall(r"^:label:\s*(\S+)", text, re.M)
        for label in labels:
            if label in seen:
                dupes.append(f"{label} in {nb.name} and {seen[label]}")
            seen[label] = nb.name
    assert not dupes, dupes


def test_config_executes_and_fails_on_errors():
    config = (ROOT / "_config.yml").read_text()
    assert "execute_notebooks: force" in config
    assert "nb_execution_raise_on_error: true" in config
    for ext in ("sphinx_proof", "sphinx_exercise", "sphinx-mathjax-offline"):
        assert ext in config


def test_display_math_starts_a_block():
    # MyST reads `$$` right after a line of text as inline math: the equation's label is then lost and every
    # {eq} reference to it breaks the -W build. A display block must follow a blank line (or start the cell).
    bad = []
    for nb in NOTEBOOKS:
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] != "markdown":
                continue
            lines, inside = "".join(c["source"]).split("\n"), False
            for i, line in enumerate(lines):
                if not line.strip().startswith("$$") or line.strip().count("$$") == 2:
                    continue
                if not inside and i > 0 and lines[i - 1].strip():
                    bad.append(f"{nb.name}: {line.strip()[:40]!r} after {lines[i - 1].strip()[:40]!r}")
                inside = not inside
    assert not bad, "display math must follow a blank line:\n" + "\n".join(bad[:20])
