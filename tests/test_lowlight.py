"""Part 4: data model, baselines, feature network, attention map, U-Net/PatchGAN shapes and the GAN."""
import numpy as np
import ot
import pytest
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg
import skimage.exposure
import torch
from PIL import Image

import genmodels as gm
from genmodels.data import DataFolderError

L = gm.lowlight
D = gm.data.lowlight


# ---------------------------------------------------------------- data


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


# ---------------------------------------------------------------- classic baselines


def test_equalize_hist_matches_scikit_image():
    g = torch.Generator().manual_seed(0)
    v = torch.rand(3, 1, 30, 40, generator=g) ** 3
    ours = L.equalize_hist(v)
    for a, b in zip(v, ours):
        np.testing.assert_allclose(b[0].numpy(), skimage.exposure.equalize_hist(a[0].numpy()), atol=1e-6)


def test_gamma_and_clahe_match_scikit_image():
    v = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(L.gamma_correction(v, 2.2).numpy(), skimage.exposure.adjust_gamma(v.numpy(), 1 / 2.2), rtol=1e-6)
    ref = skimage.exposure.equalize_adapthist(v[1, 0].double().numpy(), clip_limit=0.01)
    np.testing.assert_allclose(L.clahe(v)[1, 0].numpy(), ref, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.gamma_correction(v + 1)


def test_on_value_keeps_hue():
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 0.3 + 0.01
    y = L.on_value(x, lambda v: v.sqrt())
    ratio = y / x
    assert torch.allclose(ratio[:, 0], ratio[:, 1], rtol=1e-4) and torch.allclose(ratio[:, 0], ratio[:, 2], rtol=1e-4)
    assert torch.allclose(y.amax(1), x.amax(1).sqrt(), atol=1e-6)


def test_lime_illumination_solves_its_linear_system():
    v = torch.rand(2, 1, 12, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    alpha, eps = 0.15, 0.01
    t = L.lime_illumination(v, alpha=alpha, eps=eps, rtol=1e-10)
    # independent reference: assemble (I + α Dᵀ W D) with explicit difference operators and solve directly
    h, w = 12, 10
    for k in range(2):
        t_hat = v[k, 0].numpy()
        dx = scipy.sparse.kron(scipy.sparse.eye(h), scipy.sparse.diags([-1.0, 1.0], [0, 1], shape=(w - 1, w)))
        dy = scipy.sparse.kron(scipy.sparse.diags([-1.0, 1.0], [0, 1], shape=(h - 1, h)), scipy.sparse.eye(w))
        a = scipy.sparse.eye(h * w)
        for d in (dx, dy):
            wd = 1 / (np.abs(d @ t_hat.ravel()) + eps)
            a = a + alpha * d.T @ scipy.sparse.diags(wd) @ d
        ref = scipy.sparse.linalg.spsolve(a.tocsc(), t_hat.ravel()).reshape(h, w)
        np.testing.assert_allclose(t[k, 0].numpy(), ref, atol=1e-7)
    tv = lambda a: a.diff(dim=-1).abs().sum() + a.diff(dim=-2).abs().sum()  # noqa: E731
    assert tv(t) < tv(v)


def test_lime_brightens_dark_and_keeps_range():
    x = D.test_pairs(64, photos=("astronaut",), conditions=("dim",)).low
    y = L.lime(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert y.mean() > 1.5 * x.mean()


# ---------------------------------------------------------------- feature network φ


def _tiny_vgg_state(widths=(4, 6, 8, 8, 8)):
    from torchvision.models.vgg import make_layers

    w = widths
    cfg = [w[0], w[0], "M", w[1], w[1], "M", w[2], w[2], w[2], "M", w[3], w[3], w[3], "M", w[4], w[4], w[4], "M"]
    torch.manual_seed(0)
    body = make_layers(cfg)
    return body, {f"features.{k}": v for k, v in body.state_dict().items()}


def test_vgg_weight_loading_path(tmp_path):
    body, state = _tiny_vgg_state()
    state["classifier.0.weight"] = torch.zeros(2, 2)  # a full torchvision state dict also has the classifier
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(state, path)
    phi = L.feature_extractor("auto", vgg_path=path)
    assert isinstance(phi, L.VGGFeatures) and str(path) in phi.description
    x = torch.rand(2, 3, 64, 64)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    ref = body[:26]((x - mean) / std)  # torchvision's layers up to relu5_1
    assert phi(x).shape == (2, 8, 4, 4)
    assert torch.allclose(phi(x), ref, atol=1e-6)
    assert not any(p.requires_grad for p in phi.parameters())


def test_vgg_loading_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="VGG-16 ImageNet weights not found"):
        L.feature_extractor("vgg16", vgg_path=tmp_path / "absent.pth")
    torch.save({"features.0.weight": torch.zeros(4, 3, 3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a VGG-16 state dict"):
        L.vgg16_features(tmp_path / "bad.pth")
    phi = L.feature_extractor("auto", vgg_path=tmp_path / "absent.pth")
    assert isinstance(phi, L.OrientedEnergy) and "not learned" in phi.description


def test_oriented_energy_sees_structure_not_brightness():
    phi = L.OrientedEnergy()
    flat = torch.full((1, 3, 64, 64), 0.3)
    stripes = (0.3 + 0.2 * torch.sin(torch.arange(64.0) * 2 * np.pi / 8)).expand(1, 3, 64, 64).contiguous()
    f_flat, f_stripes = phi(flat), phi(stripes)
    assert f_flat.shape == (1, phi.out_channels, 4, 4)
    assert f_flat.abs().max() < 1e-5 and f_stripes.mean() > 0.05
    # Weber contrast: halving the light changes the response far less than the signal
    assert (phi(stripes * 0.5).mean() / f_stripes.mean()).item() > 0.8


# ---------------------------------------------------------------- attention and perceptual loss


def test_attention_map_formula_by_hand():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(4))
    feats = torch.rand(2, 5, 2, 2, generator=torch.Generator().manual_seed(5))
    gamma = 3.0
    xa = L.attention_map(x, feats, gamma)
    # by hand, with NumPy: gray map, channel mean, per-image standardisation, bilinear ×4, sigmoid, power
    xn, fn = x.double().numpy(), feats.double().numpy()
    g = 0.299 * xn[:, 0] + 0.587 * xn[:, 1] + 0.114 * xn[:, 2]
    f = fn.mean(1)
    f = (f - f.mean((1, 2), keepdims=True)) / (f.std((1, 2), ddof=1, keepdims=True) + 1e-6)
    up = torch.nn.functional.interpolate(torch.from_numpy(f)[:, None], size=(8, 8), mode="bilinear", align_corners=False)[:, 0].numpy()
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    expected = sig((1 - g) * sig(up) ** gamma)
    np.testing.assert_allclose(xa[:, 0].numpy(), expected, atol=1e-6)
    assert xa.min() >= 0.5 and xa.max() <= sig(1.0)


def test_attention_weights_dark_textured_regions_most():
    # four quadrants: dark/bright × textured/flat
    h = 64
    base = torch.zeros(1, 3, h, h)
    stripes = 0.5 + 0.5 * torch.sin(torch.arange(h / 2) * 2 * np.pi / 8)
    quad = {"dark_tex": (0, 0, 0.1, True), "dark_flat": (0, 1, 0.1, False),
            "bright_tex": (1, 0, 0.8, True), "bright_flat": (1, 1, 0.8, False)}
    for r, c, level, tex in quad.values():
        block = level * (0.6 + 0.4 * stripes.expand(32, 32)) if tex else torch.full((32, 32), level)
        base[0, :, r * 32:(r + 1) * 32, c * 32:(c + 1) * 32] = block
    xa = L.attention_map(base, L.OrientedEnergy()(base), gamma=4.0)[0, 0]
    mean = {k: xa[r * 32 + 8:(r + 1) * 32 - 8, c * 32 + 8:(c + 1) * 32 - 8].mean().item() for k, (r, c, _, _) in quad.items()}
    assert max(mean, key=mean.get) == "dark_tex"
    assert mean["dark_tex"] > mean["dark_flat"] and mean["dark_tex"] > mean["bright_tex"]
    ones = L.attention_map(base, None, use_gray=False)
    assert torch.allclose(ones, torch.sigmoid(torch.ones(1)).expand_as(ones))
    with pytest.raises(ValueError, match="gamma"):
        L.attention_map(base, None, gamma=0.5)


def test_perceptual_loss_ignores_brightness_when_normalised():
    phi = torch.nn.Conv2d(3, 4, 3, bias=False)
    x = torch.rand(2, 3, 16, 16)
    assert L.perceptual_loss(phi, x, x).item() == 0.0
    assert L.perceptual_loss(phi, x, 0.4 * x).item() < 1e-4
    assert L.perceptual_loss(phi, x, 0.4 * x, normalize=False).item() > 1e-2
    assert L.perceptual_loss(phi, x, torch.rand(2, 3, 16, 16)).item() > 0.1


# ---------------------------------------------------------------- networks and the GAN


# U-Net and PatchGAN: tests/test_unet.py


def test_lsgan_losses_at_constant_discriminators():
    one, zero = torch.ones(10), torch.zeros(10)
    assert gm.gan.lsgan_d_loss(one, zero).item() == 0.0   # perfect D
    assert gm.gan.lsgan_d_loss(zero, one).item() == 1.0   # fully wrong D
    assert gm.gan.lsgan_g_loss(one).item() == 0.0         # D fooled
    assert gm.gan.lsgan_g_loss(zero).item() == 0.5


def test_colour_loss_sees_casts_not_brightness():
    x = torch.rand(3, 3, 32, 32) * 0.3
    assert L.colour_loss(x, x).item() == 0.0
    assert L.colour_loss(x, 2.5 * x).item() < 2e-3                  # a gain: only the ε of the chromaticity
    warm = (x * torch.tensor([1.3, 1.0, 0.7]).view(1, 3, 1, 1)).clamp(max=1)
    # a global cast: per block, sum_c |κ_c(warm) − κ_c(x)|, computed here by hand in NumPy
    bx = x.reshape(3, 3, 8, 4, 8, 4).mean((3, 5)).numpy()
    bw = warm.reshape(3, 3, 8, 4, 8, 4).mean((3, 5)).numpy()
    want = np.abs(bw / (bw.sum(1, keepdims=True) + 1e-3) - bx / (bx.sum(1, keepdims=True) + 1e-3)).sum(1).mean()
    assert L.colour_loss(x, warm).item() == pytest.approx(want, rel=1e-5)
    assert want > 0.05
    with pytest.raises(ValueError, match="same shape"):
        L.colour_loss(x, x[:, :, :16])


def test_colour_error_against_a_loop_over_pixels():
    g = torch.Generator().manual_seed(3)
    truth, y = torch.rand(2, 3, 5, 5, generator=g), torch.rand(2, 3, 5, 5, generator=g)
    y[0, :, 0, 0] = 0.01                                              # nearly black: left out
    errors = [sum(abs(float(y[n, c, i, j] / y[n, :, i, j].sum() - truth[n, c, i, j] / truth[n, :, i, j].sum()))
                  for c in range(3))
              for n in range(2) for i in range(5) for j in range(5)
              if y[n, :, i, j].sum() > 0.15 and truth[n, :, i, j].sum() > 0.15]
    assert L.colour_error(y, truth) == pytest.approx(sum(errors) / len(errors), rel=1e-5)
    assert L.colour_error(truth, truth) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        L.colour_error(y, truth[:1])


def _gan(attention="full"):
    cfg = L.EnhancerConfig(attention=attention, width=4, depth=3, d_width=8, lr=1e-3)
    return L.EnhancerGAN(cfg, phi=L.OrientedEnergy())


def test_enhancer_output_stays_in_range_and_attention_modes():
    model = _gan()
    for p in model.G.parameters():  # extreme weights: the bounded residual must still stay in [0, 1]
        torch.nn.init.normal_(p, std=5.0)
    x = torch.rand(2, 3, 32, 32)
    y = model(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert torch.equal(_gan("none").attention(x), torch.ones(2, 1, 32, 32))
    # with the correction and the blend switched off, the output is a pure brightening: same chromaticity, and
    # the value channel is raised by at least x_a a_min (1 - V), the floor of the brightening map
    plain = _gan()
    plain.config.rho, plain.config.denoise = 0.0, False
    z = plain(x)
    v, v_out, xa = x.amax(1, keepdim=True), z.amax(1, keepdim=True), plain.attention(x)
    assert (v_out >= v + xa * plain.config.a_min * (1 - v) - 1e-6).all()
    assert (z >= x - 1e-6).all()
    bright = x.amax(1) > 0.05
    assert torch.allclose(L.chromaticity(z, 0).permute(0, 2, 3, 1)[bright], L.chromaticity(x, 0).permute(0, 2, 3, 1)[bright], atol=1e-5)
    assert _gan().maps(x)["w"].mean() > 0.7  # a fresh generator starts from the smoothed image (BLEND_START_LOGIT)
    parts = model.maps(x)
    assert set(parts) == {"x_a", "a", "w", "r"}
    assert parts["a"].min() >= model.config.a_min - 1e-6 and parts["a"].max() <= 1
    assert parts["w"].min() >= 0 and parts["w"].max() <= 1 and parts["r"].abs().max() <= model.config.rho
    assert model.config.phi == "OrientedEnergy"
    with pytest.raises(ValueError, match="attention must be one of"):
        _gan("half")
    with pytest.raises(ValueError, match="floor of the brightening map"):
        L.EnhancerGAN(L.EnhancerConfig(a_min=1.0), phi=L.OrientedEnergy())
    assert model.enhance(torch.rand(1, 3, 30, 37)).shape == (1, 3, 30, 37)


def test_tent_mean_is_the_9x9_tent_and_divides_noise_by_625_over_85():
    k1 = np.array([1, 2, 3, 4, 5, 4, 3, 2, 1]) / 25
    x = torch.rand(1, 1, 40, 40, dtype=torch.float64)
    ref = scipy.ndimage.convolve(x[0, 0].numpy(), np.outer(k1, k1), mode="constant")
    np.testing.assert_allclose(L.tent_mean(x)[0, 0, 4:-4, 4:-4].numpy(), ref[4:-4, 4:-4], rtol=1e-12)
    assert (k1**2).sum() == pytest.approx(85 / 625)
    noise = torch.randn(1, 3, 512, 512, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert L.tent_mean(noise)[..., 8:-8, 8:-8].std().item() == pytest.approx(85 / 625, rel=0.03)
    flat = torch.full((1, 3, 16, 16), 0.3)  # a local mean: constants stay, also at the border
    assert torch.allclose(L.tent_mean(flat), flat)


def test_brightness_loss_is_w2_of_block_brightness():
    g = torch.Generator().manual_seed(0)
    y_hat, y = torch.rand(3, 3, 32, 32, generator=g) * 0.5, torch.rand(3, 3, 32, 32, generator=g)
    u = torch.nn.functional.avg_pool2d(L.gray(y_hat), 8).flatten().double().numpy()
    v = torch.nn.functional.avg_pool2d(L.gray(y), 8).flatten().double().numpy()
    w2 = np.sqrt(ot.emd2(ot.unif(len(u)), ot.unif(len(v)), (u[:, None] - v[None, :]) ** 2))  # optimal transport, no sorting
    got = L.brightness_loss(y_hat, y, 8).item()
    assert got == pytest.approx(w2, rel=1e-5)
    assert got >= abs(u.mean() - v.mean()) - 1e-7   # the old mean-matching term is a lower bound
    assert L.brightness_loss(y, y).item() < 1e-5
    with pytest.raises(ValueError, match="same shape"):
        L.brightness_loss(y_hat, y[:1])


def test_train_enhancer_is_reproducible_whatever_ran_before(tmp_path, monkeypatch):
    sizes = {"crops": 16, "size": 32, "epochs": 1, "batch_size": 16, "width": 4, "d_width": 8, "lr": 1e-3}
    states = []
    for k in range(2):
        monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / f"cache{k}"))  # no cache hit: both runs train
        torch.manual_seed(100 + k)                                         # a caller's different RNG state
        model, history = L.train_enhancer("full", sizes, phi=L.OrientedEnergy())
        assert history.trained_now
        states.append(model.state_dict())
    assert all(torch.equal(states[0][key], states[1][key]) for key in states[0])


def test_enhancer_trains_through_fit():
    low, normal = D.unpaired(32, size=32, short_side=96, seed=1)
    model = _gan()
    history = gm.train.fit(model, (low.x, normal.x), epochs=6, batch_size=16, seed=0, progress=False)
    assert set(history.steps) == {"loss_d", "g_adv", "perceptual", "colour", "brightness", "loss_g"}
    d = history["loss_d"]
    assert np.isfinite(d).all() and len(d) == 12
    assert d[-4:].mean() < d[:2].mean()  # the discriminators learn to tell the brightness apart
