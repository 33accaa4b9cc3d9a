"""Print a pip constraints file that pins every dependency of pyproject.toml at its lower bound.

`make test-oldest` installs the package with it into .venv-oldest and runs the unit tests and the smoke
notebooks there, proving that the lower bounds pyproject.toml states are real.
Usage: python tools/lowest_constraints.py [extra ...] > constraints-lowest.txt
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def lowest(requirement: str) -> str | None:
    """``"torch>=2.2"`` → ``"torch==2.2"``; None for a requirement without a lower bound."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    name, spec = match.group(1), match.group(3)
    bound = re.search(r">=\s*([0-9][^,;\s]*)", spec)
    return f"{name}=={bound.group(1)}" if bound else None


def main(extras: list[str]) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    for req in reqs:
        pin = lowest(req)
        if pin:
            print(pin)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
