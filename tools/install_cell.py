"""The first code cell of every notebook: install the course's package when it is missing.

In Colab, on Binder without the package, or for a downloaded notebook, ``import genmodels`` would fail; the
cell installs the package from the repository named in ``_config.yml`` (the one place that names it). Where
the package is installed (locally, in the tests, in the book build) the cell does nothing. The environment
variable ``GENMODELS_PIP_SPEC`` overrides what pip installs (tests/test_launch.py points it at the checkout).

``python tools/install_cell.py`` puts the cell first in every notebook under chapters/ (or updates it);
``--check`` only reports notebooks whose first code cell differs, with exit status 1.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# Colab, Binder or a downloaded notebook: install the course's package if it is missing."


def repository_url() -> str:
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M)
    if not match:
        raise SystemExit("_config.yml has no repository: url: entry")
    return match.group(1)


def cell_source() -> str:
    return (f"{MARKER}\n"
            "import importlib.util\n"
            "import os\n\n"
            'if importlib.util.find_spec("genmodels") is None:\n'
            f'    _spec = os.environ.get("GENMODELS_PIP_SPEC", "git+{repository_url()}")\n'
            '    %pip install --quiet "{_spec}"\n'
            "    importlib.invalidate_caches()")


def cell() -> dict:
    return {"cell_type": "code", "execution_count": None, "id": "install-genmodels",
            "metadata": {"tags": ["remove-cell"]}, "outputs": [], "source": cell_source().splitlines(keepends=True)}


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def apply(path: Path) -> bool:
    """Put the install cell first in ``path`` (replacing an older one); True if the file changed."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if not "".join(c["source"]).startswith(MARKER)]
    position = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    cells.insert(position, cell())
    if cells == nb["cells"]:
        return False
    nb["cells"] = cells
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = [p for p in notebooks() if "".join((first_code_cell(json.loads(p.read_text())) or {}).get("source", ""))
                 != cell_source()]
        for p in stale:
            print(f"{p.relative_to(ROOT)}: first code cell is not the install cell (run python tools/install_cell.py)")
        return 1 if stale else 0
    for p in notebooks():
        if apply(p):
            print(f"updated {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
