"""The mutation list stays runnable: every ``find`` occurs once, every test file exists (tools/mutation.py)."""
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.mutations import Mutation, all_mutations

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_runner", ROOT / "tools" / "mutation.py")
runner = sys.modules.setdefault("mutation_runner", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(runner)

MUTATIONS = all_mutations()


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{Path(m.file).stem}:{m.why[:40]}")
def test_each_mutation_applies_exactly_once_and_names_existing_tests(mutation):
    assert runner.problems(mutation) == []
    assert mutation.why.strip() and mutation.file.startswith("src/genmodels/")


def test_problems_are_reported():
    bad = Mutation("src/genmodels/train.py", "this text is not in the file", "x", "none", ("tests/nope.py",))
    found = runner.problems(bad)
    assert any("occurs 0 times" in p for p in found) and any("tests/nope.py does not exist" in p for p in found)


def test_the_subprocess_imports_the_mutated_copy(tmp_path):
    src = runner.copy_src(tmp_path)
    mutation = next(m for m in MUTATIONS if m.file == "src/genmodels/runtime.py")
    runner.apply(mutation, src)
    assert mutation.replace in (tmp_path / mutation.file).read_text()
    assert (ROOT / mutation.file).read_text().count(mutation.find) == 1  # the tree itself is untouched
    assert runner.imports_from(src) == str(src / "genmodels" / "__init__.py")
    with pytest.raises(ValueError, match="occurs 0 times"):
        runner.apply(mutation, src)  # already applied: its find is gone
