"""Part 4, gm.lowlight.EnhancerGAN: eq. (lowlight-output) and the training step's losses by hand, the ablation
settings, ``enhance`` against NumPy padding, and ``train_enhancer``'s seeding."""
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import genmodels as gm

L = gm.lowlight
D = gm.data.lowlight


def _gan(attention="full", **config):
    cfg = L.EnhancerConfig(attention=attention, width=4, depth=3, d_width=8, lr=1e-3, **config)
    return L.EnhancerGAN(cfg, phi=L.OrientedEnergy())


def _images(n=2, size=32, seed=0, scale=0.5):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * scale + 0.02


def _block_mean(t, k):
    """k×k block means of (N, C, H, W), by reshaping."""
    n, c, h, w = t.shape
    return t.reshape(n, c, h // k, k, w // k, k).mean((3, 5))


def test_output_is_eq_lowlight_output_written_out():
    torch.manual_seed(0)
    model = _gan(rho=0.2)
    x = _images()
    with torch.no_grad():
        y, parts = model(x), model.maps(x)
        xa = L.attention_map(x, L.OrientedEnergy()(x), model.config.gamma)   # x_a from its own (tested) formula
        t = model.G(torch.cat([x, xa], 1), gate=xa)                            # the generator's raw 5 channels
        c = model.config
        a = F.interpolate(c.a_min + (1 - c.a_min) * torch.sigmoid(_block_mean(t[:, :1], c.smooth)), size=(32, 32),
                          mode="bilinear", align_corners=False)
        v = x.amax(1, keepdim=True)
        z = x * (v + xa * a * (1 - v)) / v                                      # V → V + x_a a (1 − V), hue kept
        w = torch.sigmoid(t[:, 4:5])
        zt = (1 - w) * z + w * L.tent_mean(z)
        r = 0.2 * torch.tanh(t[:, 1:4])
        want = zt + xa * torch.where(r > 0, r * (1 - zt), r * zt)              # r⁺(1 − z̃) − r⁻ z̃
    assert torch.allclose(y, want, atol=1e-5)
    for key, ref in {"x_a": xa, "a": a, "w": w, "r": r}.items():
        assert torch.allclose(parts[key], ref, atol=1e-6), key
    with torch.no_grad():
        model.G.head.bias[0] = -30.0   # a saturated brightening channel sits exactly on the floor a_min
        assert torch.allclose(model.maps(x)["a"], torch.full_like(a, c.a_min), atol=1e-6)


def test_ablation_settings_use_the_stated_attention_map():
    x = _images(seed=1)
    feats = L.OrientedEnergy()(x)
    for mode, f, use_gray in (("full", feats, True), ("no_feature", None, True), ("no_gray", feats, False)):
        assert torch.allclose(_gan(mode).attention(x), L.attention_map(x, f, 4.0, use_gray=use_gray)), mode
    assert torch.equal(_gan("none").attention(x), torch.ones(2, 1, 32, 32))
    plain = _gan("none", rho=0.0, denoise=False)    # no attention, no blend, no residual: V' = V + a (1 − V)
    a = plain.maps(x)["a"]
    v = x.amax(1, keepdim=True)
    assert torch.allclose(plain(x), x * (v + a * (1 - v)) / v, atol=1e-6)


def test_output_stays_in_range_and_keeps_chromaticity():
    model = _gan()
    for p in model.G.parameters():  # extreme weights: the bounded residual must still stay in [0, 1]
        torch.nn.init.normal_(p, std=5.0)
    x = torch.rand(2, 3, 32, 32)
    y = model(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    plain = _gan(rho=0.0, denoise=False)           # a pure brightening: same chromaticity, raised by ≥ x_a a_min (1 − V)
    z = plain(x)
    v, v_out, xa = x.amax(1, keepdim=True), z.amax(1, keepdim=True), plain.attention(x)
    assert (v_out >= v + xa * plain.config.a_min * (1 - v) - 1e-6).all()
    bright = x.amax(1) > 0.05
    assert torch.allclose(L.chromaticity(z, 0).permute(0, 2, 3, 1)[bright], L.chromaticity(x, 0).permute(0, 2, 3, 1)[bright],
                          atol=1e-5)
    assert _gan().maps(x)["w"].mean() > 0.7  # a fresh generator starts from the smoothed image (BLEND_START_LOGIT)
    parts = model.maps(x)
    assert set(parts) == {"x_a", "a", "w", "r"}
    assert parts["r"].abs().max() <= model.config.rho


def _losses_by_hand(model, x, y):
    """Every recorded term of one training step, from the networks' outputs and the (separately tested) loss terms."""
    c = model.config
    with torch.no_grad():
        fake = model(x)
        xa = model.attention(x)
        t = model.G(torch.cat([x, xa], 1), gate=xa)
        d_real = [model.D[0](y), model.D[1](_block_mean(y, 2))]
        d_fake = [model.D[0](fake), model.D[1](_block_mean(fake, 2))]
        loss_d = sum(0.5 * (r - 1).pow(2).mean() + 0.5 * f.pow(2).mean() for r, f in zip(d_real, d_fake))
        g_adv = sum(0.5 * (f - 1).pow(2).mean() for f in d_fake)
        per = L.perceptual_loss(model.phi, x, fake)
        col = L.colour_loss(x, fake)
        light = L.brightness_loss(fake, y, c.smooth)
        loss_g = g_adv + c.alpha * per + c.beta * col + c.eta * light + c.tau * t.pow(2).mean()
    return {"loss_d": loss_d, "g_adv": g_adv, "perceptual": per, "colour": col, "brightness": light, "loss_g": loss_g}


def test_training_step_records_the_objective_and_each_player_descends_its_own_loss():
    torch.manual_seed(0)
    model = _gan(alpha=0.7, beta=1.3, eta=0.4, tau=0.05)
    x, y = _images(4, seed=2, scale=0.2), _images(4, seed=3, scale=0.9)
    want = _losses_by_hand(model, x, y)
    frozen = {"d": torch.optim.SGD(model.D.parameters(), lr=0.0), "g": torch.optim.SGD(model.G.parameters(), lr=0.0)}
    got = model.training_step((x, y), frozen)
    assert set(got) == set(want)
    for key in want:
        assert got[key].item() == pytest.approx(want[key].item(), rel=1e-5, abs=1e-7), key
    # a small step of D alone lowers L_D on the batch; a small step of G alone lowers G's objective
    model.training_step((x, y), {"d": torch.optim.SGD(model.D.parameters(), lr=1e-3),
                                 "g": torch.optim.SGD(model.G.parameters(), lr=0.0)})
    after_d = _losses_by_hand(model, x, y)
    assert after_d["loss_d"] < want["loss_d"]
    model.training_step((x, y), {"d": torch.optim.SGD(model.D.parameters(), lr=0.0),
                                 "g": torch.optim.SGD(model.G.parameters(), lr=1e-3)})
    after_g = _losses_by_hand(model, x, y)
    assert after_g["loss_g"] < after_d["loss_g"]


def test_enhance_pads_right_and_bottom_by_reflection_then_crops():
    torch.manual_seed(0)
    model = _gan(rho=0.2)
    x = _images(2, seed=4)[:, :, :30, :29]
    got = model.enhance(x)
    m = math.lcm(2**model.config.depth, model.config.smooth)
    ph, pw = (-30) % m, (-29) % m
    padded = torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect"))
    with torch.no_grad():
        want = model(padded)[:, :, :30, :29]
    assert got.shape == x.shape
    assert torch.allclose(got, want, atol=1e-6)
    assert model.training                                            # the mode is restored
    square = _images(1, seed=5)
    assert torch.allclose(model.enhance(square), model(square), atol=1e-6)
    assert model.enhance(x.double()).dtype == torch.float64       # the input's dtype back


def test_config_is_copied_and_phi_is_checked():
    cfg = L.EnhancerConfig(width=4, d_width=8)
    a, b = L.EnhancerGAN(cfg, phi=L.OrientedEnergy()), L.EnhancerGAN(phi=L.OrientedEnergy())
    assert cfg.phi is None and a.config.phi == b.config.phi == "OrientedEnergy"   # the caller's config unchanged
    assert a.config is not cfg and b.config is not L.EnhancerGAN(phi=L.OrientedEnergy()).config
    with pytest.raises(ValueError, match="config.phi is 'VGG-16'"):
        L.EnhancerGAN(L.EnhancerConfig(width=4, d_width=8, phi="VGG-16"), phi=L.OrientedEnergy())
    with pytest.raises(ValueError, match="attention must be one of"):
        _gan("half")
    with pytest.raises(ValueError, match="floor of the brightening map"):
        L.EnhancerGAN(L.EnhancerConfig(a_min=1.0), phi=L.OrientedEnergy())


SIZES = {"crops": 16, "size": 32, "epochs": 1, "batch_size": 16, "width": 4, "d_width": 8, "lr": 1e-3}


def test_train_enhancer_is_reproducible_and_leaves_the_callers_rng_alone(tmp_path, monkeypatch):
    states = []
    for k in range(2):
        monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / f"cache{k}"))  # no cache hit: both runs train
        torch.manual_seed(100 + k)                                         # a caller's different RNG state
        expected = torch.rand(3, generator=torch.Generator().manual_seed(0).set_state(torch.get_rng_state()))
        model, history = L.train_enhancer("full", SIZES, phi=L.OrientedEnergy())
        assert history.trained_now
        assert torch.equal(torch.rand(3), expected)                       # the global RNG is where the caller left it
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


def test_train_enhancer_renders_its_training_crops_once_per_sizes(tmp_path, monkeypatch):
    from genmodels.lowlight import model as M

    calls = []
    unpaired = D.unpaired
    monkeypatch.setattr(D, "unpaired", lambda *a, **k: calls.append((a, k)) or unpaired(*a, **k))
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    monkeypatch.setattr(M, "_TRAINING_DATA", {})
    sizes = {**SIZES, "epochs": 1}
    for mode in ("none", "full"):  # two models on one set of crops: rendered once
        L.train_enhancer(mode, sizes, phi=L.OrientedEnergy())
    assert calls == [((16,), {"size": 32, "seed": 0})]
    low, normal = M.training_data(16, 32)
    ref_low, ref_normal = unpaired(16, size=32, seed=0)
    assert torch.equal(low.x, ref_low.x) and torch.equal(normal.x, ref_normal.x)
    M.training_data(8, 32)  # other sizes: rendered anew, and only one set is kept
    assert len(calls) == 2 and list(M._TRAINING_DATA) == [(8, 32, str(gm.runtime.data_dir()))]


def test_train_enhancer_seeds_are_separate_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    sizes = {**SIZES, "epochs": 1}
    (m0, h0), (m1, h1) = (L.train_enhancer("none", sizes, phi=L.OrientedEnergy(), seed=s) for s in (0, 1))
    assert not torch.equal(m0.G.head.weight, m1.G.head.weight)   # initial weights differ, so the trained ones do
    assert not np.array_equal(h0["loss_d"], h1["loss_d"])
    again, h_again = L.train_enhancer("none", sizes, phi=L.OrientedEnergy(), seed=1)
    assert not h_again.trained_now and torch.equal(again.G.head.weight, m1.G.head.weight)  # seed 1 has its own cache


def test_train_enhancer_seed_sets_the_initial_weights_and_the_batch_order(monkeypatch):
    from genmodels.lowlight import model as M

    seen = []
    monkeypatch.setattr(gm.train, "fit", lambda model, data, **k: seen.append((model, k["seed"])) or None)
    for s in (0, 1):
        L.train_enhancer("none", SIZES, phi=L.OrientedEnergy(), seed=s)
    assert [k for _, k in seen] == [0, 1]
    cfg = seen[1][0].config
    torch.manual_seed(1)
    ref = M.EnhancerGAN(dataclasses.replace(cfg, phi=None), phi=L.OrientedEnergy())
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), seen[1][0].state_dict().values()))
    assert not torch.equal(seen[0][0].G.head.weight, seen[1][0].G.head.weight)
