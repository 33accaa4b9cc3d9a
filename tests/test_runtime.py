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
    with pytest.raises(KeyError, match="full"):
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
