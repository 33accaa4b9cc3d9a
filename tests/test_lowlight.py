"""Part 4, gm.lowlight: the classic baselines, the feature network φ, the attention map and the loss terms.

The data model is tested in tests/test_lowlight_data.py, the GAN in tests/test_lowlight_model.py, the U-Net and
PatchGAN in tests/test_unet.py."""
import numpy as np
import ot
import pytest
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg
import skimage.exposure
import torch

import genmodels as gm

L = gm.lowlight
D = gm.data.lowlight


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


def test_lime_divides_by_the_refined_illumination_of_the_value_channel():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(6), dtype=torch.float64) * 0.5 + 0.01
    v = x.amax(1, keepdim=True)
    t = L.lime_illumination(v, alpha=0.15).clamp(min=0.05) ** 0.8       # the (separately tested) refined map
    want = x * torch.clamp(v / t, max=1.0) / v                          # V' = min(1, V / T^γ), hue kept
    assert torch.allclose(L.lime(x, gamma=0.8, alpha=0.15, floor=0.05), want, atol=1e-12)


def test_on_value_sends_black_pixels_to_gray():
    x = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(7)) * 0.5 + 0.1
    x[0, :, 1, 2] = 0.0
    y = L.on_value(x, lambda v: 0.5 * v + 0.2)
    assert torch.allclose(y[0, :, 1, 2], torch.full((3,), 0.2))
    assert torch.allclose(y.amax(1), 0.5 * x.amax(1) + 0.2, atol=1e-6)


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


# ---------------------------------------------------------------- loss terms


def test_perceptual_loss_is_the_mean_squared_difference_of_instance_normalised_features():
    torch.manual_seed(0)
    phi = torch.nn.Conv2d(3, 4, 3, bias=False)
    g = torch.Generator().manual_seed(8)
    x, y = torch.rand(2, 3, 12, 12, generator=g), torch.rand(2, 3, 12, 12, generator=g)
    fx, fy = (phi(t).detach().double().numpy() for t in (x, y))

    def norm(f):  # per image and channel: subtract the mean, divide by sqrt(biased variance + 1e-5)
        return (f - f.mean((2, 3), keepdims=True)) / np.sqrt(f.var((2, 3), keepdims=True) + 1e-5)

    assert L.perceptual_loss(phi, x, y).item() == pytest.approx(((norm(fx) - norm(fy)) ** 2).mean(), rel=1e-5)
    assert L.perceptual_loss(phi, x, y, normalize=False).item() == pytest.approx(((fx - fy) ** 2).mean(), rel=1e-5)


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


# ---------------------------------------------------------------- dtype and device


def test_every_function_returns_in_the_inputs_dtype():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 0.6 + 0.02
    v = x.amax(1, keepdim=True)
    feats = L.OrientedEnergy()(x)
    outputs = {
        "on_value": L.on_value(x, lambda t: t.sqrt()), "gamma_correction": L.gamma_correction(v),
        "equalize_hist": L.equalize_hist(v), "clahe": L.clahe(v), "lime_illumination": L.lime_illumination(v),
        "lime": L.lime(x), "gray": L.gray(x), "OrientedEnergy": feats, "feature_saliency": L.feature_saliency(feats, (32, 32)),
        "attention_map": L.attention_map(x, feats), "chromaticity": L.chromaticity(x), "tent_mean": L.tent_mean(x),
        "colour_loss": L.colour_loss(x, x.flip(0)), "brightness_loss": L.brightness_loss(x, x.flip(0)),
        "perceptual_loss": L.perceptual_loss(L.OrientedEnergy(), x, x.flip(0)),
    }
    wrong = {k: y.dtype for k, y in outputs.items() if y.dtype != torch.float64 or y.device != x.device}
    assert not wrong


def test_numpy_is_used_only_where_a_cpu_library_computes():
    import ast
    import inspect

    allowed = {"clahe", "lime_illumination", "attention_explorer", "draw"}  # scikit-image, SciPy, matplotlib
    found = set()
    for module in (L.classic, L.features, L.attention, L.losses, L.model, L.evaluate):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.FunctionDef):
                calls = [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr == "numpy"]
                if calls:
                    found.add(node.name)
    assert found <= allowed, found - allowed


def test_attention_explorer_shows_its_slider_range_as_a_static_figure(monkeypatch):
    """The built book shows no live slider: the explorer first displays the map at five γ across its range."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    features = torch.rand(1, 4, 4, 4, generator=torch.Generator().manual_seed(1))
    widget = L.attention_explorer(x, features, gammas=(1.0, 9.0))
    static = shown[0]
    assert [a.get_title() for a in static.axes[:5]] == [f"γ = {g:g}" for g in (1.0, 3.0, 5.0, 7.0, 9.0)]
    first = static.axes[0].images[0].get_array()
    np.testing.assert_allclose(first, L.attention_map(x, features, 1.0)[0, 0].numpy(), rtol=1e-6)
    assert widget.children[0].min == 1.0 and widget.children[0].max == 9.0
