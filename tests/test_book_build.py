"""Each budget builds its own book (book/build.sh), in either order, and every page says which budget built it."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_pages  # noqa: E402

CONFIG = """title: tiny
only_build_toc_files: true
exclude_patterns: ["_build", "_ext"]
execute:
  execute_notebooks: force
sphinx:
  local_extensions:
    budget_stamp: _ext
    offline_widgets: _ext
  extra_extensions:
    - sphinx-mathjax-offline
repository:
  url: https://github.com/genmodels-book/genmodels
  path_to_book: tiny
  branch: main
launch_buttons:
  binderhub_url: https://mybinder.org
  colab_url: https://colab.research.google.com
"""
TOC = "format: jb-book\nroot: intro\nchapters:\n  - file: nb\n"


def _tiny_book(folder: Path) -> Path:
    folder.mkdir()
    (folder / "_config.yml").write_text(CONFIG)
    (folder / "_toc.yml").write_text(TOC)
    (folder / "intro.md").write_text("# Tiny\n\nBuilt at the {{ budget }} budget.\n")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "import genmodels as gm, torch\nprint('executed at', gm.runtime.budget())\n"
                      "print('threads', torch.get_num_threads())"}
    widget = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "import ipywidgets as W\nW.IntSlider(value=7, description='seven')"}
    math = {"cell_type": "markdown", "metadata": {}, "source": "Inline $a^2 + b^2 = c^2$, and\n\n$$\\int_0^1 x\\,dx$$"}
    figure = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"}
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Notebook"}, cell, math, figure, widget], "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4,
        "nbformat_minor": 5}
    (folder / "nb.ipynb").write_text(json.dumps(nb))
    shutil.copytree(ROOT / "book" / "_ext", folder / "_ext")
    return folder


def _run_build(budget: str, book: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, BIN=str(Path(sys.executable).parent))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "JOBS"):  # as a reader's shell has them (conftest sets 1)
        env.pop(name, None)
    return subprocess.run(["bash", str(ROOT / "book" / "build.sh"), budget, str(book)], env=env,
                          capture_output=True, text=True, timeout=600)


def _build(budget: str, book: Path) -> str:
    done = _run_build(budget, book)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_smoke_then_default_builds_each_budgets_own_pages(tmp_path):
    book = _tiny_book(tmp_path / "book")
    log = _build("smoke", book)
    # executed once, by tools/execute_book.py; the build takes its outputs from the cache
    assert "execute_book: nb.ipynb ran in" in log and "Using cached notebook" in log and "Executing notebook" not in log
    _build("default", book)  # the order that served the smoke pages as the published book before
    smoke = (book / "_build" / "smoke" / "_build" / "html")
    default = (book / "_build" / "html")
    for html, budget, other in ((smoke, "smoke", "default"), (default, "default", "smoke")):
        page = (html / "nb.html").read_text()
        assert f"executed at {budget}" in page and f"executed at {other}" not in page
        assert f"threads {max(1, len(os.sched_getaffinity(0)) // 2)}" in page  # its share of the cores (JOBS=2)
        assert f"at the <b>{budget}</b> budget" in page  # the footer
        assert f"Built at the {budget} budget" in (html / "intro.html").read_text()
    page = (default / "nb.html").read_text()
    assert "application/vnd.jupyter.widget-view+json" in page
    if not (default / "_static" / "html-manager" / "embed-amd.js").is_file():  # npm could fetch it (CI can)
        pytest.skip("no npm here: the widget JavaScript comes from CDNs (checked only where npm works)")
    assert "_static/html-manager/embed-amd.js" in page and "cdnjs.cloudflare.com" not in page
    if shutil.which("chromium") is None:
        pytest.skip("no chromium here (.ci/run installs it): the pages were not opened in a browser")
    assert check_pages.main([str(default), "nb", "intro"]) == 0  # math, figure, widget and launch links, offline
    broken = tmp_path / "broken"  # the same page as a reader sees it when the local files are not served
    shutil.copytree(default, broken)
    for folder in ("_static/mathjax", "_static/html-manager", "_images"):
        shutil.rmtree(broken / folder)
    nb_page = broken / "nb.html"
    nb_page.write_text(nb_page.read_text().replace("/tiny/nb.ipynb", "/tiny/other.ipynb"))
    problems = "\n".join(check_pages.check(broken, nb_page, check_pages.chromium()))
    for expected in ("is missing", "MathJax rendered 0", "raw \\(", "0 rendered (empty widget areas)",
                     "does not point at nb.ipynb"):
        assert expected in problems, problems


def test_build_script_refuses_an_unknown_budget(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "book" / "build.sh"), "huge", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "unknown budget 'huge'" in done.stderr


def test_a_notebook_that_fails_fails_the_build_with_its_traceback(tmp_path):
    book = _tiny_book(tmp_path / "book")
    nb = json.loads((book / "nb.ipynb").read_text())
    nb["cells"][1]["source"] = "raise RuntimeError('a deliberate failure')"
    (book / "nb.ipynb").write_text(json.dumps(nb))
    done = _run_build("smoke", book)
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode != 0
    assert "execute_book: nb.ipynb FAILED" in log and "RuntimeError: a deliberate failure" in log


def test_execute_book_keeps_each_chapter_in_order_and_waits_for_the_folders_a_notebook_reuses(tmp_path):
    import execute_book

    notebooks = execute_book.toc_notebooks(ROOT)
    assert notebooks[0].name == "01_autoencoders.ipynb" and len(notebooks) >= 30
    waits = execute_book.prerequisites(notebooks, ROOT)
    yardstick = ROOT / "chapters" / "06_diffusion" / "04_experiments.ipynb"
    reused = {ROOT / "chapters" / "01_vae_gan", ROOT / "chapters" / "02_sliced_autoencoders", yardstick.parent}
    for i, nb in enumerate(notebooks):
        folders = reused if nb == yardstick else {nb.parent}
        assert waits[nb] == {p for p in notebooks[:i] if p.parent in folders}, nb
    # Part 5's experiments reuse only Part 5's models: they do not wait for Part 4
    part5 = ROOT / "chapters" / "05_nonnegative_decomposition" / "04_experiments.ipynb"
    assert not any("04_lowlight" in str(p) for p in waits[part5])
    # a folder that is not in the book is refused, with its name
    bad = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook(metadata={"genmodels": {"after": ["chapters/99_missing"]}})
    nbformat.write(nb, bad)
    with pytest.raises(ValueError, match="99_missing"):
        execute_book.prerequisites([bad], ROOT)
