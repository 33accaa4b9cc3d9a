import pytest
import torch

import genmodels as gm


def test_budget_default_and_values(monkeypatch):
    monkeypatch.delenv("GENMODELS_BUDGET", raising=False)
    assert gm.runtime.budget() == "default"
    for b in ("smoke", "default", "full", " FULL "):
        monkeypatch.setenv("GENMODELS_BUDGET", b)
        assert gm.runtime.budget() == b.strip().lower()


def test_budget_rejects_unknown_and_names_allowed(monkeypatch):
    monkeypatch.setenv("GENMODELS_BUDGET", "huge")
    with pytest.raises(ValueError, match="smoke, default, full"):
        gm.runtime.budget()


def test_by_budget_picks_and_requires_all(monkeypatch):
    monkeypatch.setenv("GENMODELS_BUDGET", "smoke")
    assert gm.runtime.by_budget({"smoke": 1, "default": 2, "full": 3}) == 1
    with pytest.raises(ValueError, match="full"):
        gm.runtime.by_budget({"smoke": 1, "default": 2})


def test_seed_makes_torch_repeatable():
    gm.runtime.seed(3)
    a = torch.randn(5)
    gm.runtime.seed(3)
    assert torch.equal(a, torch.randn(5))


def test_device_override_and_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("GENMODELS_DEVICE", "cpu")
    assert gm.runtime.device() == torch.device("cpu")
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path / "d"))
    assert gm.runtime.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    (tmp_path / "d").mkdir()  # the data folder is the reader's: named, never created (see test_data.py)
    assert gm.runtime.data_dir() == tmp_path / "d"


def test_seed_seeds_python_numpy_and_torch():
    import random

    import numpy as np

    gm.runtime.seed(4)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    gm.runtime.seed(4)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    assert torch.equal(gm.runtime.seed(4).initial_seed() * torch.ones(1), 4 * torch.ones(1))


def test_bad_device_names_are_one_clear_error(monkeypatch):
    monkeypatch.setenv("GENMODELS_DEVICE", "gpu")
    with pytest.raises(ValueError, match="GENMODELS_DEVICE='gpu' is not a device; expected cpu, cuda"):
        gm.runtime.device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("GENMODELS_DEVICE", "cuda")
        with pytest.raises(ValueError, match="sees no cuda device"):
            gm.runtime.device()


def test_max_steps_and_capped(monkeypatch):
    monkeypatch.delenv("GENMODELS_MAX_STEPS", raising=False)
    assert gm.runtime.max_steps() is None and gm.runtime.capped(500) == 500
    monkeypatch.setenv("GENMODELS_MAX_STEPS", " 3 ")
    assert gm.runtime.max_steps() == 3 and gm.runtime.capped(500) == 3 and gm.runtime.capped(2) == 2
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("GENMODELS_MAX_STEPS", bad)
        with pytest.raises(ValueError, match=f"GENMODELS_MAX_STEPS={bad!r} is not a step cap"):
            gm.runtime.max_steps()


@pytest.mark.parametrize("budget, cap, trained", [("smoke", None, False), ("default", None, True),
                                                  ("full", None, True), ("default", "2", False), ("full", "2", False)])
def test_trained_and_claim(monkeypatch, capsys, budget, cap, trained):
    monkeypatch.setenv("GENMODELS_BUDGET", budget)
    if cap is None:
        monkeypatch.delenv("GENMODELS_MAX_STEPS", raising=False)
    else:
        monkeypatch.setenv("GENMODELS_MAX_STEPS", cap)
    assert gm.runtime.trained() is trained
    assert gm.runtime.claim(True, "holds") is True and capsys.readouterr().out == ""
    if trained:
        with pytest.raises(AssertionError, match="the text states: 'the VAE wins'"):
            gm.runtime.claim(False, "the VAE wins")
    else:
        assert gm.runtime.claim(False, "the VAE wins") is False
        why = f"GENMODELS_MAX_STEPS={cap}" if cap else "the smoke budget"
        assert capsys.readouterr().out == f"[claim not checked under {why}] the VAE wins\n"


DRAWS = {
    "randn": lambda g, d: gm.runtime.randn(5, 3, generator=g, device=d),
    "rand": lambda g, d: gm.runtime.rand(5, 3, generator=g, device=d),
    "randint": lambda g, d: gm.runtime.randint(0, 100, (5, 3), generator=g, device=d),
    "randperm": lambda g, d: gm.runtime.randperm(20, generator=g, device=d),
}


@pytest.mark.parametrize("kind", DRAWS)
def test_same_seed_same_draws_whatever_the_device(kind):
    draw = DRAWS[kind]
    reference = draw(torch.Generator().manual_seed(5), None)
    targets = ["cpu", torch.device("cpu")] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in targets:
        got = draw(torch.Generator().manual_seed(5), dev)
        assert got.device.type == torch.device(dev).type and torch.equal(got.cpu(), reference)
    g, after = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    meta = draw(g, "meta")  # a device the CPU generator cannot draw on: drawn on the CPU, then moved
    draw(after, None)
    assert meta.device.type == "meta" and meta.shape == reference.shape
    assert torch.equal(g.get_state(), after.get_state())
    assert draw(None, "cpu").shape == reference.shape  # no generator: the global RNG, on the device asked


def test_progress_text_mode_prints_plain_lines_not_widgets(monkeypatch, capsys):
    import tqdm.std

    monkeypatch.setenv("GENMODELS_PROGRESS", "text")
    bar = gm.runtime.progress_bar(3, "demo")
    assert type(bar) is tqdm.std.tqdm  # the plain-text class itself, not the notebook widget subclass
    bar.update(3)
    bar.close()
    err = capsys.readouterr().err
    assert "demo: 100%" in err and "3/3" in err
    monkeypatch.setenv("GENMODELS_PROGRESS", "off")
    assert gm.runtime.progress_bar(3, "demo") is None
    monkeypatch.setenv("GENMODELS_PROGRESS", "widgets")
    with pytest.raises(ValueError, match="GENMODELS_PROGRESS='widgets' is not a progress mode"):
        gm.runtime.progress_bar(3, "demo")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_draws_keep_their_dtype_and_seed_on_every_device(dtype):
    targets = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    first = gm.runtime.randn(4, generator=torch.Generator().manual_seed(9), dtype=dtype)
    for dev in targets:
        x = gm.runtime.randn(4, generator=torch.Generator().manual_seed(9), device=dev, dtype=dtype)
        u = gm.runtime.rand(4, generator=torch.Generator().manual_seed(9), device=dev, dtype=dtype)
        assert x.dtype == dtype and u.dtype == dtype and torch.equal(x.cpu(), first)
        assert torch.equal(u.cpu(), torch.rand(4, generator=torch.Generator().manual_seed(9), dtype=dtype))


def test_sweep_drops_the_lengths_that_the_cap_makes_repeats(monkeypatch):
    monkeypatch.delenv("GENMODELS_MAX_STEPS", raising=False)
    assert gm.runtime.sweep([2, 5, 10, 50, 200]) == [2, 5, 10, 50, 200]
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "2")
    assert gm.runtime.sweep([2, 5, 10, 50, 200]) == [2]
    assert gm.runtime.sweep([1, 5, 10]) == [1, 5]  # 1 step stays its own run; 5 and 10 both run 2
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "10")
    assert gm.runtime.sweep([50, 2, 5, 10, 200]) == [50, 2, 5]  # order kept, the first of the repeats kept


def test_uncapped_lifts_the_step_cap_inside_the_block_only(monkeypatch):
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "2")
    assert gm.runtime.capped(400) == 2
    with gm.runtime.uncapped():
        assert gm.runtime.max_steps() is None and gm.runtime.capped(400) == 400
    assert gm.runtime.capped(400) == 2
    try:
        with gm.runtime.uncapped():
            raise KeyError("inside")
    except KeyError:
        pass
    assert gm.runtime.max_steps() == 2, "an exception inside the block must not lose the cap"
    monkeypatch.delenv("GENMODELS_MAX_STEPS")
    with gm.runtime.uncapped():
        pass
    assert gm.runtime.max_steps() is None


def test_glue_stores_numpy_and_torch_scalars_as_plain_numbers(monkeypatch):
    import sys
    import types

    import numpy as np

    got = {}
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: got.__setitem__(name, value)
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    gm.notebook.glue("a", np.float64(23.7), display=False)     # its repr 'np.float64(23.7)' broke {glue:text}`a:.1f`
    gm.notebook.glue("b", torch.tensor(3.0), display=False)
    gm.notebook.glue("c", "text", display=False)
    assert got == {"a": 23.7, "b": 3.0, "c": "text"} and type(got["a"]) is float and type(got["b"]) is float
