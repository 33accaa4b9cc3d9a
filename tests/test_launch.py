"""The launch buttons' path: a notebook opened where genmodels is not installed installs it from its first cell."""
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402


def test_every_notebook_starts_with_the_install_cell():
    assert install_cell.main(["--check"]) == 0


def test_install_cell_names_the_repository_of_the_config_once():
    source = install_cell.cell_source()
    assert install_cell.repository_url() in source
    for path in install_cell.notebooks():
        text = path.read_text()
        assert text.count("git+https://") == 1, f"{path}: the repository URL must appear only in the install cell"


def test_install_cell_is_a_no_op_where_the_package_is_installed():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    result = shell.run_cell(install_cell.cell_source())
    assert result.success and "_spec" not in shell.user_ns  # the branch that installs never ran


@pytest.mark.slow
def test_install_cell_installs_the_package_in_a_fresh_environment(tmp_path):
    """A venv that sees PyTorch and the rest (a .pth onto this venv's site-packages, as Colab has them) but not
    genmodels: the cell installs the checkout (GENMODELS_PIP_SPEC), then the notebook's imports work."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "colab-like.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["GENMODELS_PIP_SPEC"] = str(ROOT)
    env["PIP_NO_DEPS"] = "1"  # the dependencies are visible through the .pth; resolving them again only costs time
    before = subprocess.run([str(python), "-c", "import genmodels"], capture_output=True, text=True, env=env)
    assert before.returncode != 0 and "No module named 'genmodels'" in before.stderr
    script = install_cell.cell_source() + "\nimport genmodels as gm\nprint('imported', gm.__file__, gm.runtime.budget())"
    (tmp_path / "cell.ipy").write_text(script)
    done = subprocess.run([str(python), "-m", "IPython", "--no-banner", "--quick", str(tmp_path / "cell.ipy")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"imported {purelib}" in done.stdout  # the fresh venv's own copy, not this checkout's src/
