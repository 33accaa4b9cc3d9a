"""Where readers run the book: version ranges, the pinned constraints, Binder's CPU-only image."""
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_dependencies_are_ranges_not_pins():
    reqs = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    pinned = [r for r in reqs if "==" in r]
    assert not pinned, f"exact pins force reinstalls over a reader's PyTorch: {pinned}"
    torch = next(r for r in PROJECT["dependencies"] if _name(r) == "torch")
    assert ">=" in torch and "<" not in torch


def test_constraints_pin_every_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    reqs = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    missing = [_name(r) for r in reqs if _name(r) not in pins]
    assert not missing, f"constraints.txt does not pin {missing}: regenerate it with pip freeze --exclude-editable"


def test_binder_installs_a_cpu_torch_and_the_package():
    reqs = (ROOT / "binder" / "requirements.txt").read_text()
    assert "whl/cpu" in reqs and re.search(r"^torch>=", reqs, re.M)
    post = (ROOT / "binder" / "postBuild").read_text()
    assert 'pip install' in post and '-e ".[lab]"' in post


def test_lab_extra_brings_jupyterlab():
    assert {"jupyterlab", "jupyterlab-myst"} <= {_name(r) for r in PROJECT["optional-dependencies"]["lab"]}


def test_jupyterlab_loads_the_myst_and_nbgrader_extensions():
    """The [lab] install renders MyST and offers nbgrader's Formgrader: JupyterLab accepts both extensions.

    JupyterLab marks an extension built against other versions of its shared packages with an X and does not
    load it (jupyterlab-myst 2.7 under JupyterLab 4.6); `pip check` passes all the same.
    """
    import subprocess
    import sys

    pytest.importorskip("jupyterlab")
    done = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert "is not compatible" not in listing, listing
    for extension in ("jupyterlab-myst", "@jupyter/nbgrader"):
        line = next((line for line in listing.splitlines() if line.strip().startswith(extension + " ")), None)
        assert line is not None and "enabled" in line and " OK" in line, \
            f"{extension} is not an enabled, compatible JupyterLab extension:\n{listing}"
