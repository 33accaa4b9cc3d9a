"""Tests of gm.ebm (the generative ConvNet) and gm.data.textures against independent references."""
import math

import numpy as np
import pytest
import torch

import genmodels as gm
from genmodels import ebm


def small_convnet(top="sum", channels=1, size=12, **kw):
    layers = ((6, 3, 1), (8, 3, 2)) if top == "sum" else ((6, 5, 2), (4, 3, 1))
    return ebm.GenerativeConvNet(ebm.ConvNetConfig(channels=channels, size=size, layers=layers, top=top, **kw))


# ----------------------------------------------------------------------------------------------------- Langevin

@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_langevin_without_tilt_samples_the_reference_gaussian(sigma):
    torch.manual_seed(0)
    n, steps, eps = 20000, 200, 0.4 * sigma
    x = ebm.langevin(lambda i: torch.zeros(i.shape[0]), torch.zeros(n, 2), steps, eps, sigma=sigma)
    # Exact variance of the discretised chain x ← a x + εZ, a = 1 − ε²/(2σ²), started at 0.
    a = 1 - eps**2 / (2 * sigma**2)
    var = eps**2 * (1 - a ** (2 * steps)) / (1 - a**2)
    assert abs(var / sigma**2 - 1) < 0.05  # the step is small enough to be close to N(0, σ²)
    se_mean, se_var = math.sqrt(var / n), var * math.sqrt(2 / n)
    assert x.mean(0).abs().max() < 5 * se_mean
    assert (x.var(0) - var).abs().max() < 5 * se_var


def test_langevin_with_linear_tilt_samples_the_shifted_gaussian():
    # f(I) = ⟨I, μ⟩/σ² tilts N(0, σ²) into N(μ, σ²).
    torch.manual_seed(1)
    sigma, mu = 0.5, torch.tensor([1.0, -2.0, 0.5])
    x = ebm.langevin(lambda i: i @ mu / sigma**2, torch.zeros(20000, 3), 300, 0.2 * sigma, sigma=sigma)
    assert torch.allclose(x.mean(0), mu, atol=0.03)
    assert torch.allclose(x.std(0), torch.full((3,), sigma), rtol=0.05)


def test_langevin_without_noise_is_gradient_ascent_on_log_density():
    torch.manual_seed(2)
    x0 = torch.randn(4, 3)
    x = ebm.langevin(lambda i: torch.zeros(i.shape[0]), x0, 1, 0.5, sigma=1.0, noise=False)
    assert torch.allclose(x, x0 * (1 - 0.5**2 / 2))


def test_langevin_rejects_bad_input():
    f = lambda i: torch.zeros(i.shape[0])  # noqa: E731
    with pytest.raises(ValueError, match="finite"):
        ebm.langevin(f, torch.tensor([[float("nan")]]), 1, 0.1)
    with pytest.raises(ValueError, match="step_size"):
        ebm.langevin(f, torch.zeros(2, 2), 1, 0.0)
    with pytest.raises(ValueError, match="sigma"):
        ebm.langevin(f, torch.zeros(2, 2), 1, 0.1, sigma=-1.0)
    with pytest.raises(ValueError, match="one value per chain"):
        ebm.langevin(lambda i: i.sum(), torch.zeros(2, 2), 1, 0.1)


# ------------------------------------------------------------------------------------------ Prototype model

def prototype(seed=0, d=5, k=4):
    g = torch.Generator().manual_seed(seed)
    return ebm.Prototype(torch.randn(k, d, generator=g), torch.randn(k, generator=g))


@pytest.mark.parametrize("sigma", [1.0, 0.7])
def test_prototype_density_is_gaussian_on_each_piece(sigma):
    # Theorem 1 (prototype case): on the piece of pattern δ, log p(I) = const − ‖I − σ²Σ_k δ_k w_k‖²/(2σ²).
    model = prototype()
    torch.manual_seed(3)
    x = 2 * torch.randn(4000, 5)
    with torch.no_grad():
        logp = ebm.log_density(model, x, sigma)
        delta = model.pattern(x)
    keys = [tuple(r) for r in delta.int().tolist()]
    checked = 0
    for key in set(keys):
        idx = torch.tensor([i for i, k in enumerate(keys) if k == key])
        if len(idx) < 2:
            continue
        mean = sigma**2 * torch.tensor(key, dtype=torch.float32) @ model.weight.detach()
        gauss = -(x[idx] - mean).pow(2).sum(1) / (2 * sigma**2)
        diff = (logp[idx] - logp[idx[0]]) - (gauss - gauss[0])
        assert diff.abs().max() < 1e-3
        checked += 1
    assert checked >= 4


def test_prototype_basis_and_alpha_make_f_linear_on_the_piece():
    model = prototype(1)
    x = torch.randn(50, 5).requires_grad_(True)
    f = model(x)
    (grad,) = torch.autograd.grad(f.sum(), x)
    with torch.no_grad():
        assert torch.allclose(model.basis(x), grad, atol=1e-6)
        # α by hand: the biases of the units that are on
        on = (x @ model.weight.T + model.bias) > 0
        assert torch.allclose(model.alpha(x), (on.float() * model.bias).sum(1), atol=1e-6)
        assert torch.allclose(model.alpha(x) + (x * model.basis(x)).sum(1), f, atol=1e-5)


def test_prototype_keeps_float64():
    model = ebm.Prototype(torch.randn(3, 2, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    x = torch.randn(4, 2, dtype=torch.float64)
    assert model(x).dtype == torch.float64 and model.basis(x).dtype == torch.float64


def test_prototype_refuses_images_on_another_device_with_a_message():
    model = ebm.Prototype(torch.randn(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match=r"images are on meta but the filters on cpu.*prototype.to"):
        model(torch.randn(4, 2, device="meta"))


@pytest.mark.parametrize("sigma", [1.0, 0.6])
def test_grid_log_z_matches_the_closed_form_of_a_linear_tilt(sigma):
    # f(I) = ⟨I, μ⟩/σ²: Z = E_q[exp f] = exp(‖μ‖²/(2σ²)) and p = N(μ, σ²·1).
    mu = torch.tensor([0.5, -0.3])
    g = ebm.grid_2d(lambda i: i @ mu / sigma**2, sigma, lim=8 * sigma, n=401)
    assert abs(float(g["log_z"]) - float(mu.pow(2).sum()) / (2 * sigma**2)) < 1e-4
    assert torch.allclose(g["mean"], mu.double(), atol=1e-4)
    assert torch.allclose(g["cov"], sigma**2 * torch.eye(2, dtype=torch.float64), atol=1e-4)
    assert abs(float(g["density"].sum() * g["cell"]) - 1) < 1e-9


# ------------------------------------------------------------------------------------- Generative ConvNet

@pytest.mark.parametrize("top", ["sum", "linear"])
def test_basis_equals_autograd_gradient_and_finite_differences(top):
    torch.manual_seed(4)
    model = small_convnet(top, channels=3)
    x = torch.randn(3, 3, 12, 12).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).sum(), x)
    b = model.basis(x.detach())
    assert b.shape == x.shape
    assert torch.allclose(b, grad, atol=1e-5)
    # Independent of autograd: f is linear along a tiny step that keeps the activation pattern.
    v, h = torch.randn_like(x), 1e-3
    with torch.no_grad():
        same = all(torch.equal(p, q) for p, q in zip(model.pattern(x + h * v), model.pattern(x)))
        assert same
        slope = (model(x + h * v) - model(x)) / h
        assert torch.allclose(slope, (v * b).flatten(1).sum(1), rtol=1e-2, atol=1e-3)
        # α independently of f − ⟨I, B⟩: the network run on the zero image with I's activation masks frozen
        masks, h = model.pattern(x), torch.zeros_like(x)
        for conv, mask in zip(model.convs, masks):
            h = conv(h) * mask
        alpha = model.head(h.flatten(1)).squeeze(1) if model.head is not None else h.flatten(1).sum(1)
        assert torch.allclose(model.alpha(x), alpha, atol=1e-4)


def test_attractor_dynamics_end_at_an_auto_encoding_mode():
    # Proposition 2 (prototype model): noise-free Langevin settles at local modes Î, and there the bottom-up
    # pattern δ(Î) decodes top-down back to Î = σ²Σ_k δ_k(Î) w_k, strictly inside its piece.
    model = prototype(3, d=6, k=5)
    start = 3 * torch.randn(16, 6, generator=torch.Generator().manual_seed(5))
    x = ebm.langevin(model, start, 400, 0.5, sigma=0.8, noise=False)
    with torch.no_grad():
        assert (0.8**2 * model.basis(x) - x).abs().max() < 1e-4
        assert (0.8**2 * model.basis(start) - start).abs().max() > 1.0
        assert model.responses(x).abs().min() > 1e-3


@pytest.mark.parametrize("sigma", [1.0, 0.7])
def test_expected_cd_gradient_is_the_reconstruction_gradient_times_the_constant(sigma):
    # Proposition 3 with a general σ: E[g_CD] = ε²/(2σ⁴) · (−∇ ½‖I − σ²B‖²) when the pattern is kept.
    torch.manual_seed(6)
    model, eps = small_convnet(channels=3), 0.01 * sigma
    r = ebm.cd_and_reconstruction_gradients(model, torch.randn(1, 3, 12, 12), eps, sigma, noise=False)
    assert float(r["unchanged"]) == 1.0
    assert ebm.cosine(r["cd"], r["reconstruction"]) > 0.9999
    ratio = float(r["cd"].norm() / r["reconstruction"].norm())
    assert abs(ratio / (eps**2 / (2 * sigma**4)) - 1) < 2e-3


def test_cd_gradient_matches_reconstruction_gradient_when_the_pattern_is_kept():
    torch.manual_seed(6)
    model = small_convnet(channels=3)
    r = ebm.cd_and_reconstruction_gradients(model, torch.randn(1, 3, 12, 12), 0.01, noise=False)
    assert float(r["unchanged"]) == 1.0
    assert ebm.cosine(r["cd"], r["reconstruction"]) > 0.999
    # Monte Carlo with noise: biases placed so that I_obs lies at distance 1 (10 noise standard deviations,
    # ε = 0.1) from every hyperplane, so every draw keeps its pattern.
    g = torch.Generator().manual_seed(0)
    w, x = torch.randn(6, 16, generator=g), torch.randn(1, 16, generator=g)
    side = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, 1.0])
    model = ebm.Prototype(w, -(x @ w.T).squeeze(0) + side * w.norm(dim=1))
    margins = model.responses(x).abs() / model.weight.norm(dim=1)
    assert torch.allclose(margins, torch.ones(6), atol=1e-4)
    r = ebm.cd_and_reconstruction_gradients(model, x, 0.1, n_noise=50000)
    assert float(r["unchanged"]) == 1.0
    assert ebm.cosine(r["cd"], r["reconstruction"]) > 0.99
    r = ebm.cd_and_reconstruction_gradients(model, x, 0.1, n_noise=10)
    assert ebm.cosine(r["cd"], r["reconstruction"]) < 0.99  # few draws: the noise has not averaged out


def test_training_step_updates_persistent_chains_and_checkpoints_carry_them(tmp_path):
    torch.manual_seed(7)
    image = gm.data.textures.texture("gravel", 12)
    I, mean = ebm.center(image.x)
    model = small_convnet(n_chains=3, n_steps=2)
    assert torch.count_nonzero(model.chains) == 0  # Algorithm 1 starts the chains at 0
    assert "chains" in model.state_dict()
    h = gm.train.fit(model, I, epochs=3, batch_size=1, checkpoint=tmp_path / "ebm.pt", progress=False)
    assert len(h["gap"]) == 3 and torch.count_nonzero(model.chains) > 0
    again = small_convnet(n_chains=3, n_steps=2)
    gm.train.load(again, tmp_path / "ebm.pt")
    assert torch.equal(again.chains, model.chains)


def test_contrastive_divergence_reduces_reconstruction_error():
    torch.manual_seed(8)
    I, _ = ebm.center(gm.data.textures.objects(6, 12).x)
    model = ebm.GenerativeConvNet(ebm.ConvNetConfig(channels=1, size=12, layers=((8, 3, 1), (8, 3, 1)), init="data",
                                                    n_steps=1, n_chains=6, step_size=0.3, lr=3e-3))
    h = gm.train.fit(model, I, epochs=60, batch_size=6, progress=False)
    rec = h["reconstruction"]
    assert rec[-5:].mean() < 0.5 * rec[:5].mean()


def test_convnet_rejects_bad_shapes_and_configs():
    model = small_convnet()
    with pytest.raises(ValueError, match=r"expected float images \(N, 1, 12, 12\)"):
        model(torch.zeros(2, 3, 12, 12))
    with pytest.raises(ValueError, match=r"expected float images .* got torch.uint8"):
        model(torch.zeros(2, 1, 12, 12, dtype=torch.uint8))


def test_fit_refuses_non_finite_observed_images_before_any_step(tmp_path):
    from genmodels.data.base import NonFiniteValuesError

    model = small_convnet()
    before = [p.detach().clone() for p in model.parameters()]
    bad = torch.zeros(4, 1, 12, 12)
    bad[1, 0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteValuesError, match="observed images"):
        gm.train.fit(model, bad, epochs=1, batch_size=2, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "a step ran before the check"
    with pytest.raises(ValueError, match="top"):
        ebm.ConvNetConfig(top="max")
    with pytest.raises(ValueError, match="init"):
        ebm.ConvNetConfig(init="warm")
    with pytest.raises(ValueError, match="odd kernel"):
        ebm.ConvNetConfig(layers=((4, 4, 1),))


def test_center_and_to_pixels_round_trip_and_report_clipping():
    x = 0.2 * torch.rand(2, 3, 8, 8) + torch.tensor([0.1, 0.5, 0.7]).view(1, 3, 1, 1)
    I, mean = ebm.center(x)
    assert torch.allclose(mean, x.mean(dim=(0, 2, 3)))
    assert torch.allclose(I, 255 * (x - x.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)), atol=1e-4)
    back, outside = ebm.to_pixels(I, mean)
    assert torch.allclose(back, x, atol=1e-6) and outside == 0.0
    _, outside = ebm.to_pixels(I * 3, mean)
    assert outside > 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ebm.center(x + 1)


# ------------------------------------------------------------------------------------------------- data

@pytest.mark.parametrize("name,channels", [("brick", 1), ("grass", 1), ("gravel", 1), ("cells", 3), ("stars", 3)])
def test_textures_load_offline(name, channels):
    t = gm.data.textures.texture(name, 32)
    assert t.x.shape == (1, channels, 32, 32)
    assert 0 <= float(t.x.min()) and float(t.x.max()) <= 1 and float(t.x.std()) > 0.02
    fn = gm.data.textures.TEXTURES[name][0]
    assert fn in gm.data.textures.sources()[f"texture:{name}"] and fn in t.source


def test_objects_are_distinct_faces():
    faces = gm.data.textures.objects(10, 32)
    assert faces.x.shape == (10, 1, 32, 32)
    assert float((faces.x[0] - faces.x[1]).abs().mean()) > 0.01


def test_texture_loaders_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="unknown texture"):
        gm.data.textures.texture("marble")
    with pytest.raises(gm.data.DataFolderError, match="does not exist"):
        gm.data.textures.texture(root=tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(gm.data.DataFolderError, match="no image files"):
        gm.data.textures.objects(root=tmp_path)


def test_texture_folder_reads_the_named_file_cropped_to_its_central_square(tmp_path):
    from skimage import io

    for i, (h, w) in enumerate([(40, 60), (30, 30)]):
        io.imsave(tmp_path / f"t{i}.png", (np.random.default_rng(i).random((h, w, 3)) * 255).astype(np.uint8))
    t = gm.data.textures.texture("t0", root=tmp_path, size=40)
    assert t.x.shape == (1, 3, 40, 40) and "t0.png" in t.source
    raw = torch.from_numpy(io.imread(tmp_path / "t0.png").astype(np.float32) / 255).permute(2, 0, 1)
    assert torch.allclose(t.x[0], raw[:, :, 10:50], atol=1e-5)  # the central 40×40 square, not a squeeze
    with pytest.raises(gm.data.DataFolderError, match=r"no texture named 'brick'.*t0"):
        gm.data.textures.texture("brick", root=tmp_path)
    faces = gm.data.textures.objects(root=tmp_path, size=16)
    assert faces.x.shape == (2, 1, 16, 16) and "2 image(s)" in faces.source
