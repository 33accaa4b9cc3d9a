"""Part 4, gm.data.lowlight: the camera model, the unpaired training sets and the held-out test pairs."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import genmodels as gm
from genmodels.data import DataFolderError

L = gm.lowlight
D = gm.data.lowlight




def test_darken_is_poisson_photon_counting():
    x = torch.full((4, 3, 64, 64), 0.5)
    light = torch.full((4, 1, 64, 64), 0.1)
    peak = 400.0
    y = D.darken(x, light, peak=peak, read_noise=0.0, generator=torch.Generator().manual_seed(0))
    counts = y.double().pow(2.2) * peak                       # back to photo-electrons
    lam = peak * 0.5**2.2 * 0.1
    assert torch.allclose(counts, counts.round(), atol=1e-3)  # whole electrons
    assert counts.mean().item() == pytest.approx(lam, rel=0.02)
    assert counts.var().item() == pytest.approx(lam, rel=0.05)  # Poisson: variance = mean


def test_darken_keeps_chromaticity_and_takes_one_full_well_per_image():
    # noise-free and unsaturated, the camera model only scales: every pixel keeps its chromaticity
    x = torch.rand(2, 3, 16, 16) * 0.9 + 0.05
    light = torch.rand(2, 1, 16, 16) * 0.2 + 0.01
    y = D.darken(x, light, peak=1e12, read_noise=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(L.chromaticity(y, eps=0), L.chromaticity(x, eps=0), atol=1e-4)
    assert (y < x).all()
    # per-image full wells: the low one is visibly noisier
    flat = torch.full((2, 3, 32, 32), 0.5)
    y = D.darken(flat, torch.full((2, 1, 32, 32), 0.1), peak=torch.tensor([100.0, 1e6]), read_noise=0.0,
                 generator=torch.Generator().manual_seed(0))
    assert y[0].std() > 10 * y[1].std()


def test_shuffle_channels_permutes_each_image():
    x = torch.rand(64, 3, 4, 4)
    y = D.shuffle_channels(x, torch.Generator().manual_seed(0))
    assert torch.equal(y.sort(1).values, x.sort(1).values)           # the same three values at every pixel
    same = [bool((y[i] == x[i]).all()) for i in range(64)]
    assert 0 < sum(same) < 64                                        # some, not all, kept their order
    for i in range(64):                                              # one order per image, not per pixel
        order = [int((y[i, c] == x[i]).all((1, 2)).nonzero()[0]) for c in range(3)]
        assert sorted(order) == [0, 1, 2]


def test_darken_refuses_bad_light():
    with pytest.raises(ValueError, match="light must have shape"):
        D.darken(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8))


def test_illumination_kinds():
    n, h, w = 3, 32, 48
    g = torch.Generator().manual_seed(0)
    sky = D.illumination("sky", n, h, w, 0.1)
    assert sky.shape == (n, 1, h, w) and sky[:, :, 0].mean() < sky[:, :, -1].mean() / 3
    lamp = D.illumination("lamp", n, h, w, 0.1, generator=g)
    assert lamp.max() > 1.0 and lamp.min() >= 0.1 - 1e-6
    with pytest.raises(ValueError, match="illumination kind"):
        D.illumination("moon", n, h, w)


def test_unpaired_sets_shapes_and_darkness():
    low, normal = D.unpaired(24, size=32, short_side=128, seed=0)
    assert low.x.shape == normal.x.shape == (24, 3, 32, 32)
    assert low.x.mean() < 0.6 * normal.x.mean()
    assert "darkened" in low.source


def test_test_pairs_have_ground_truth():
    pairs = D.test_pairs(64, photos=("rocket",), conditions=("lamp", "dim"))
    assert pairs.low.shape == pairs.normal.shape == (2, 3, 64, 64)
    assert pairs.names == ["rocket (lamp)", "rocket (dim)"]
    with pytest.raises(ValueError, match="multiple of 8"):
        D.test_pairs(60)


def test_folder_loader(tmp_path):
    with pytest.raises(DataFolderError, match="does not exist"):
        D.load_folder(tmp_path / "missing")
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainB").mkdir()
    (tmp_path / "trainA" / "notes.txt").write_text("no images here")
    with pytest.raises(DataFolderError, match="no image files"):
        D.load_folder(tmp_path / "trainA")
    rng = np.random.default_rng(0)
    for folder, scale in (("trainA", 40), ("trainB", 255)):
        for i in range(2):
            Image.fromarray((rng.random((48, 64, 3)) * scale).astype(np.uint8)).save(tmp_path / folder / f"{i}.png")
    low, normal = D.unpaired(6, size=32, short_side=48, folder=tmp_path)
    assert low.x.shape == (6, 3, 32, 32) and str(tmp_path) in low.source
    assert low.x.mean() < normal.x.mean()


def test_real_folder_keeps_its_colours_and_is_read_one_image_at_a_time(tmp_path, monkeypatch):
    for folder, colour in (("trainA", (60, 20, 10)), ("trainB", (200, 90, 40))):   # red-dominant photographs
        (tmp_path / folder).mkdir()
        for i in range(3):
            Image.fromarray(np.full((40, 56, 3), colour, np.uint8)).save(tmp_path / folder / f"{i}.png")
    reads = []
    read_image = D.read_image
    monkeypatch.setattr(D, "read_image", lambda f: reads.append(f) or read_image(f))
    monkeypatch.setattr(D, "load_folder", lambda *a, **k: pytest.fail("the folder was loaded whole"))
    low, normal = D.unpaired(40, size=32, short_side=40, folder=tmp_path)
    assert len(reads) == len(set(reads)) == 6                      # every file read once, one at a time
    for x in (low.x, normal.x):                                    # not shuffled: red stays the largest channel
        assert (x[:, 0] > x[:, 1]).all() and (x[:, 1] > x[:, 2]).all()
    assert "shuffled" not in low.source and "shuffled" not in normal.source
    shuffled, _ = D.unpaired(40, size=32, short_side=40, folder=tmp_path, shuffle=True)
    assert "shuffled" in shuffled.source and not (shuffled.x[:, 0] > shuffled.x[:, 1]).all()



# ---------------------------------------------------------------- unpaired means disjoint, test pairs centred


def _half_patches(short_side: int, size: int) -> dict[bytes, set[tuple[str, int]]]:
    """Every size×size patch of every half of every training photograph, written out with NumPy slices:
    patch bytes → the (photograph, half) it occurs in. Halves: the photograph cut in the middle of its long side."""
    where: dict[bytes, set[tuple[str, int]]] = {}
    for name in D.TRAIN_PHOTOS:
        p = D.photo(name, short_side).numpy()
        long_axis = 2 if p.shape[2] >= p.shape[1] else 1
        cut = math.ceil(p.shape[long_axis] / 2)
        halves = (p[:, :, :cut], p[:, :, cut:]) if long_axis == 2 else (p[:, :cut], p[:, cut:])
        for k, half in enumerate(halves):
            _, h, w = half.shape
            for i in range(h - size + 1):
                for j in range(w - size + 1):
                    where.setdefault(np.ascontiguousarray(half[:, i:i + size, j:j + size]).tobytes(), set()).add((name, k))
    return where


def _sources(crops: torch.Tensor, where) -> list[set[tuple[str, int]]]:
    """For each crop (n, 3, s, s): the halves it (or its mirror image) was cut from."""
    found = []
    for c in crops.numpy():
        found.append(where.get(np.ascontiguousarray(c).tobytes(), set())
                     | where.get(np.ascontiguousarray(c[:, :, ::-1]).tobytes(), set()))
    return found


def test_unpaired_domains_come_from_disjoint_halves(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path))                # no real data folder: the shipped photographs
    monkeypatch.setattr(D, "low_light", lambda x, generator: x)        # undarkened, so low crops can be located too
    size, short_side = 12, 40
    low, normal = D.unpaired(60, size=size, short_side=short_side, seed=3, shuffle=False)
    where = _half_patches(short_side, size)
    low_src, normal_src = _sources(low.x, where), _sources(normal.x, where)
    assert all(low_src) and all(normal_src), "every crop is a patch of one half of a training photograph"
    low_halves = set().union(*low_src)
    normal_halves = set().union(*normal_src)
    assert not low_halves & normal_halves, f"halves in both domains: {sorted(low_halves & normal_halves)}"
    assert len(low_halves) == len(normal_halves) == len(D.TRAIN_PHOTOS)  # one half of every photograph each


def test_test_pairs_are_centre_crops_of_the_held_out_photographs():
    size = 64
    pairs = D.test_pairs(size, photos=("rocket", "china"), conditions=("dim",))
    for k, name in enumerate(("rocket", "china")):
        p = D.photo(name, short_side=size).numpy()
        h, w = p.shape[1:]
        top, left = (h - size) // 2, (w - size) // 2
        assert (top, left) != (0, 0)                                  # landscape photographs: the centre is not the corner
        np.testing.assert_array_equal(pairs.normal[k].numpy(), p[:, top:top + size, left:left + size])
    assert not set(("rocket", "china")) & set(D.TRAIN_PHOTOS)


def test_darken_keeps_the_inputs_dtype():
    x = torch.full((2, 3, 8, 8), 0.5, dtype=torch.float64)
    y = D.darken(x, torch.full((2, 1, 8, 8), 0.1, dtype=torch.float64), generator=torch.Generator().manual_seed(0))
    assert y.dtype == torch.float64 and y.device == x.device
    y32 = D.darken(x.float(), torch.full((2, 1, 8, 8), 0.1), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(y, y32.double(), rtol=1e-6, atol=1e-6)  # the same draws whatever the dtype


def test_shuffle_channels_draws_its_orders_on_the_images_device(monkeypatch):
    """The channel orders are drawn through gm.runtime (on the generator's device, then moved), so a CPU generator
    works with images on CUDA; "meta" stands in for a device whose tensors a CPU index cannot gather from."""
    seen, gather = [], torch.gather
    monkeypatch.setattr(torch, "gather", lambda x, dim, index: seen.append(index.device) or gather(x, dim, index))
    x = torch.rand(6, 3, 4, 4)
    y = D.shuffle_channels(x.to("meta"), torch.Generator().manual_seed(0))
    assert y.device.type == "meta" and y.shape == x.shape and seen == [torch.device("meta")]
    perms = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
    order = perms[torch.randint(6, (6,), generator=torch.Generator().manual_seed(0))]   # a plain CPU draw, same seed
    expected = torch.stack([x[i, order[i]] for i in range(6)])
    assert torch.equal(D.shuffle_channels(x, torch.Generator().manual_seed(0)), expected)


# ---------------------------------------------------------------- the reader's real folders: LOL pairs, NIQE of a folder


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_lol_pairs_match_by_name_and_refuse_a_broken_layout(tmp_path):
    rng = np.random.default_rng(0)
    high = {n: (rng.random((40, 56, 3)) * 255).astype(np.uint8) for n in ("2", "10", "7")}
    for n, a in high.items():
        _write(tmp_path / "eval15" / "high" / f"{n}.png", a)
        _write(tmp_path / "eval15" / "low" / f"{n}.png", a // 8)            # the same scene, darker
    pairs = gm.data.lol.pairs("test", root=tmp_path)
    assert pairs.names == ["10", "2", "7"] and pairs.low.shape == pairs.normal.shape == (3, 3, 40, 56)
    for i, n in enumerate(pairs.names):                                       # each low image with its own high one
        np.testing.assert_array_equal((pairs.normal[i].permute(1, 2, 0).numpy() * 255).round(), high[n])
        np.testing.assert_array_equal((pairs.low[i].permute(1, 2, 0).numpy() * 255).round(), high[n] // 8)
    square = gm.data.lol.pairs("test", root=tmp_path, size=32)
    assert square.low.shape == (3, 3, 32, 32) and "eval15" in square.source
    resized = gm.data.base.resize_short_side(pairs.normal, 32)                # 40×56 → 32×45: the central columns 6..37
    assert resized.shape[-2:] == (32, 45)
    torch.testing.assert_close(square.normal, resized[..., 6:38], rtol=0, atol=1e-6)
    # PSNR of the pairs against themselves is infinite-free and the darker inputs score lower than the normal ones
    assert float(gm.metrics.psnr(pairs.low, pairs.normal).mean()) < 20
    with pytest.raises(ValueError, match="unknown LOL split 'val'"):
        gm.data.lol.pairs("val", root=tmp_path)
    with pytest.raises(ValueError, match="multiple of 8"):
        gm.data.lol.pairs("test", root=tmp_path, size=30)
    with pytest.raises(DataFolderError, match="our485.*does not exist.*LOL's layout"):
        gm.data.lol.pairs("train", root=tmp_path)
    (tmp_path / "eval15" / "high" / "7.png").unlink()
    with pytest.raises(DataFolderError, match=r"only in low/: \['7'\]"):
        gm.data.lol.pairs("test", root=tmp_path)
    assert "not present" in gm.data.lol.sources()["lol"]                    # the tests never see a reader's data


def test_score_folder_gives_each_methods_mean_niqe_over_images_of_different_sizes(tmp_path):
    rng = np.random.default_rng(1)
    for i, shape in enumerate(((200, 240, 3), (224, 200, 3))):
        _write(tmp_path / "LIME" / f"{i}.png", (rng.random(shape) * 60).astype(np.uint8))
    methods = {"input": lambda x: x, "gamma": lambda x: L.gamma_correction(x, 2.2)}
    table = L.score_folder(tmp_path / "LIME", methods)
    images = [x for _, x in D.iter_folder(tmp_path / "LIME")]
    for name, f in methods.items():
        ref = np.mean([float(gm.metrics.niqe(f(x[None]))[0]) for x in images])
        assert table[name]["NIQE"] == pytest.approx(ref, rel=1e-6) and table[name]["images"] == 2
    assert "NIQE" in L.format_table(table)
    with pytest.raises(DataFolderError, match="does not exist"):
        L.score_folder(tmp_path / "NPE", methods)


def test_photo_resizes_its_short_side_with_the_packages_one_resize():
    full = D.photo("rocket")                                    # 427 × 640
    small = D.photo("rocket", short_side=100)
    assert full.shape == (3, 427, 640) and small.shape == (3, 100, 150)
    torch.testing.assert_close(small, gm.data.base.resize_short_side(full, 100))


def test_noisier_sensor_is_outside_the_training_ranges_and_noisier():
    lo_well, _ = D.FULL_WELL
    assert D.NOISIER_SENSOR["full_well"] < lo_well and D.NOISIER_SENSOR["read_noise"] > 0.006
    usual = D.test_pairs(64, photos=("rocket",), conditions=("dim",))
    noisy = D.test_pairs(64, photos=("rocket",), conditions=("dim",), **D.NOISIER_SENSOR)
    assert torch.equal(usual.normal, noisy.normal) and "read noise 0.012" in noisy.source
    clean = D.darken(usual.normal, torch.full((1, 1, 64, 64), D.CONDITIONS["dim"][1]), peak=1e9, read_noise=0.0)
    well = D.test_pairs(64, photos=("rocket",), conditions=("dim",), full_well=D.NOISIER_SENSOR["full_well"])
    read = D.test_pairs(64, photos=("rocket",), conditions=("dim",), read_noise=D.NOISIER_SENSOR["read_noise"])
    err = {k: (p.low - clean).pow(2).mean().item() for k, p in
           {"usual": usual, "well": well, "read": read, "both": noisy}.items()}
    # the same light; fewer electrons, more read noise, or both, each add noise
    assert err["well"] > 1.15 * err["usual"] and err["read"] > 2 * err["usual"]   # measured 1.29x and 3.1x
    assert err["both"] > max(err["well"], err["read"])
