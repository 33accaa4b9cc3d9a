"""Sliced distances of genmodels.sliced against independent references (POT, scipy, numerical integration)."""
import math

import numpy as np
import ot
import pytest
import scipy.integrate
import scipy.stats
import torch

import genmodels as gm
from genmodels import sliced
from genmodels.sliced import distances

F64 = torch.float64


def _sample(k, n, seed=0):
    return torch.randn(k, n, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_sw_1d_matches_pot_wasserstein_1d():
    y, z = _sample(7, 64, 1), _sample(7, 64, 2) * 1.3 + 0.2
    ours = sliced.sw_1d(y, z).numpy()
    # POT takes samples along the first axis: shape (n, k), returns W_2^2 per column.
    ref = ot.wasserstein_1d(y.T.numpy(), z.T.numpy(), p=2)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    shared = sliced.sw_1d(y, z[0])  # one prior sample for every row
    same_z = np.repeat(z[0].numpy()[:, None], y.shape[0], axis=1)
    np.testing.assert_allclose(shared.numpy(), ot.wasserstein_1d(y.T.numpy(), same_z, p=2), rtol=1e-10)


def test_scfw_1d_matches_numerical_integration_of_quantile_functions():
    y = _sample(3, 12, 3) * 0.8 + 0.3
    ours = sliced.scfw_1d(y).numpy()
    n = y.shape[1]
    for row, value in zip(y.sort(dim=1).values.numpy(), ours):
        # ∫_0^1 (F_n^{-1}(t) − Φ^{-1}(t))² dt, one step of the empirical quantile function at a time
        cells = [scipy.integrate.quad(lambda t, yi=yi: (yi - scipy.stats.norm.ppf(t)) ** 2, i / n, (i + 1) / n)[0]
                 for i, yi in enumerate(row)]
        assert value == pytest.approx(sum(cells), rel=1e-7)


def test_cw_1d_matches_numerical_integration_of_smoothed_densities():
    y = _sample(2, 9, 4) * 1.4 - 0.5
    gamma = 0.3
    ours = sliced.cw_1d(y, gamma).numpy()
    for row, value in zip(y.numpy(), ours):
        def sq_diff(x):
            f = scipy.stats.norm.pdf(x, loc=row, scale=math.sqrt(gamma)).mean()
            g = scipy.stats.norm.pdf(x, scale=math.sqrt(1 + gamma))
            return (f - g) ** 2
        ref = scipy.integrate.quad(sq_diff, -np.inf, np.inf, limit=200)[0]
        assert value == pytest.approx(ref, rel=1e-6)


def test_cw_1d_default_gamma_is_silverman():
    y = _sample(2, 50, 5)
    assert sliced.silverman_gamma(50) == pytest.approx((4 / 150) ** 0.4)
    torch.testing.assert_close(sliced.cw_1d(y), sliced.cw_1d(y, (4 / 150) ** 0.4))


def test_cvm_1d_times_n_is_scipys_cramer_von_mises_statistic():
    y = _sample(5, 40, 6) * 1.2 + 0.1
    ours = sliced.cvm_1d(y).numpy() * y.shape[1]
    ref = [scipy.stats.cramervonmises(row, "norm").statistic for row in y.numpy()]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_cvm_1d_is_w2_squared_of_the_probability_integral_transform_to_uniform():
    y = _sample(1, 8, 7)
    u = np.sort(scipy.stats.norm.cdf(y.numpy()[0]))
    n = len(u)
    ref = sum(scipy.integrate.quad(lambda t, ui=ui: (ui - t) ** 2, i / n, (i + 1) / n)[0] for i, ui in enumerate(u))
    assert float(sliced.cvm_1d(y)[0]) == pytest.approx(ref, rel=1e-10)


def test_ks_1d_is_scipys_two_sided_statistic_and_the_paper_formula_looks_at_jump_tops():
    y = _sample(6, 30, 8) + 0.2
    n = y.shape[1]
    classical = sliced.ks_1d(y).numpy()
    np.testing.assert_allclose(classical, [scipy.stats.kstest(row, "norm").statistic for row in y.numpy()], rtol=1e-12)
    paper = [max(abs((i + 1) / n - scipy.stats.norm.cdf(v)) for i, v in enumerate(sorted(row))) for row in y.numpy()]
    tops = sliced.ks_1d_jump_tops(y).numpy()
    np.testing.assert_allclose(tops, paper, rtol=1e-12)
    assert np.all(classical >= tops) and np.all(classical - tops <= 1 / n + 1e-15)
    # a sample whose largest gap sits *below* a jump: the paper's formula misses it by almost 1/n
    low = torch.tensor([[-3.0, -2.9, -2.8, 0.0, 3.0]], dtype=F64) + 2.5
    assert float(sliced.ks_1d(low)) == pytest.approx(scipy.stats.kstest(low[0].numpy(), "norm").statistic, rel=1e-12)
    assert float(sliced.ks_1d(low) - sliced.ks_1d_jump_tops(low)) > 0.1
    assert distances._ONE_D["sksae"] is sliced.ks_1d  # SKSAE trains on the classical statistic


def test_expected_values_at_the_prior_match_monte_carlo():
    n, reps = 50, 4000
    y = _sample(reps, n, 20)
    for method, f in [("scvmae", sliced.cvm_1d), ("scwae", sliced.cw_1d)]:
        values = f(y).numpy()
        se = values.std() / math.sqrt(reps)
        assert abs(values.mean() - sliced.expected_at_prior(method, n)) < 4 * se
    assert sliced.expected_at_prior("scvmae", 50) == pytest.approx(1 / 300)
    with pytest.raises(ValueError, match="'scvmae' and 'scwae' only"):
        sliced.expected_at_prior("sksae", 50)


def test_sliced_w2_is_below_w2_over_dimension_direction_by_direction():
    # SW₂² ≤ W₂²/D: for every direction v the projected optimal cost is at most the projected cost of the D-dim
    # optimal coupling, and an orthonormal frame averages ‖a − b‖² into ‖a − b‖²/D exactly.
    gen = torch.Generator().manual_seed(21)
    a = torch.randn(40, 3, generator=gen, dtype=F64)
    b = torch.randn(40, 3, generator=gen, dtype=F64) * torch.tensor([1.5, 0.5, 1.0], dtype=F64) + 0.3
    weights = np.full(40, 1 / 40)
    plan = ot.emd(weights, weights, ot.dist(a.numpy(), b.numpy()))
    match = torch.from_numpy(plan.argmax(1))
    w2 = float(((a - b[match]) ** 2).sum(1).mean())
    assert w2 == pytest.approx(ot.emd2(weights, weights, ot.dist(a.numpy(), b.numpy())), rel=1e-10)
    v = sliced.random_directions(500, 3, like=a, generator=gen)
    per_direction = sliced.sw_1d(v @ a.T, v @ b.T)
    coupled = ((v @ (a - b[match]).T) ** 2).mean(1)
    assert bool((per_direction <= coupled + 1e-12).all()) and float((per_direction < coupled - 1e-6).float().mean()) > 0.5
    frame = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=F64)).Q
    assert float(sliced.sw_1d(frame @ a.T, frame @ b.T).mean()) <= w2 / 3 + 1e-12
    assert float(((frame @ (a - b[match]).T) ** 2).mean(1).mean()) == pytest.approx(w2 / 3, rel=1e-12)


def test_random_directions_are_uniform_on_the_sphere():
    k, dim = 20000, 5
    v = sliced.random_directions(k, dim, like=torch.zeros(1, dtype=F64), generator=torch.Generator().manual_seed(22))
    assert v.shape == (k, dim) and v.dtype == F64
    torch.testing.assert_close(v.norm(dim=1), torch.ones(k, dtype=F64))
    assert float(v.mean(0).abs().max()) < 4 / math.sqrt(k)
    torch.testing.assert_close(v.T @ v / k, torch.eye(dim, dtype=F64) / dim, atol=0.01, rtol=0)
    again = sliced.random_directions(k, dim, like=torch.zeros(1, dtype=F64), generator=torch.Generator().manual_seed(22))
    torch.testing.assert_close(v, again)


@pytest.mark.parametrize("method", sliced.METHODS)
def test_index_near_zero_for_normal_samples_and_grows_under_shift_and_scale(method):
    z = torch.randn(1000, 5, generator=torch.Generator().manual_seed(9), dtype=F64)
    v = sliced.random_directions(8, 5, like=z, generator=torch.Generator().manual_seed(10))
    prior = torch.randn(1000, 5, generator=torch.Generator().manual_seed(11), dtype=F64) if method == "swae" else None

    def index(sample):
        return float(sliced.normality_index(sample, method, directions=v, prior_sample=prior))

    base = index(z)
    # sampling noise of the statistic for n = 1000 is a few times 1/n (about 1/sqrt(n) for KS)
    assert base < {"sksae": 0.04, "swae": 8e-3}.get(method, 4e-3)
    for moved in (z + 0.5, z * 1.5, z * 0.6):
        assert index(moved) > 3 * base
    assert index(z + 1.0) > index(z + 0.5)


def test_shapes_and_vectorisation_over_projections():
    y = _sample(11, 20, 12)
    for f in (sliced.scfw_1d, sliced.cw_1d, sliced.cvm_1d, sliced.ks_1d):
        out = f(y)
        assert out.shape == (11,)
        torch.testing.assert_close(out[3:4], f(y[3:4]))  # each row is computed independently


def test_normality_index_uses_the_given_directions():
    z = torch.randn(100, 4, generator=torch.Generator().manual_seed(13), dtype=F64)
    v = sliced.random_directions(6, 4, like=z, generator=torch.Generator().manual_seed(14))
    # W₂² of each projection to N(0, 1) by POT against a fine quantile grid of N(0, 1), averaged over the directions
    quantiles = scipy.stats.norm.ppf((np.arange(200000) + 0.5) / 200000)
    ref = np.mean([ot.wasserstein_1d(z.numpy() @ vj, quantiles, p=2) for vj in v.numpy()])
    assert float(sliced.normality_index(z, "scfwae", directions=v)) == pytest.approx(ref, rel=1e-3)
    prior = torch.randn(100, 4, generator=torch.Generator().manual_seed(15), dtype=F64)
    pot = ot.sliced_wasserstein_distance(z.numpy(), prior.numpy(), projections=v.T.numpy(), p=2) ** 2
    assert float(sliced.normality_index(z, "swae", directions=v, prior_sample=prior)) == pytest.approx(pot, rel=1e-10)
    ks = np.mean([scipy.stats.kstest(z.numpy() @ vj, "norm").statistic for vj in v.numpy()])
    assert float(sliced.normality_index(z, "sksae", directions=v)) == pytest.approx(ks, rel=1e-12)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"shape \(k, n\)"):
        sliced.scfw_1d(torch.randn(10))
    with pytest.raises(gm.train.NonFiniteLossError, match="NaN or infinite"):
        sliced.cvm_1d(torch.tensor([[0.0, float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="at least 2 points"):
        sliced.ks_1d(torch.zeros(3, 1))
    with pytest.raises(ValueError, match="method must be one of"):
        sliced.normality_index(torch.randn(10, 3), "mmd")
    with pytest.raises(ValueError, match="shape \\(n, D\\)"):
        sliced.normality_index(torch.randn(10), "scwae")
    with pytest.raises(ValueError, match="used by 'swae' only"):
        sliced.normality_index(torch.randn(10, 3), "scwae", prior_sample=torch.randn(10, 3))
    with pytest.raises(ValueError, match="gamma must be a positive"):
        sliced.cw_1d(torch.randn(2, 5), gamma=0.0)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\)"):
        sliced.SlicedAutoencoder().encode(torch.rand(2, 1, 27, 27))
    with pytest.raises(ValueError, match="28×28 or 64×64"):
        sliced.SlicedConfig(arch="conv", image_shape=(3, 32, 32))
    with pytest.raises(ValueError, match="'mlp' or 'conv'"):
        sliced.SlicedConfig(arch="resnet")
    with pytest.raises(ValueError, match="method must be one of"):
        sliced.SlicedConfig(method="wae")
    with pytest.raises(ValueError, match="rec_reduction must be one of"):
        sliced.SlicedConfig(rec_reduction="median")
    with pytest.raises(ValueError, match="lam must be positive"):
        sliced.SlicedConfig(lam=0.0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        sliced.SlicedAutoencoder().encode(torch.full((2, 1, 28, 28), 3.0))
    with pytest.raises(ValueError, match=r"codes of shape \(N, 20\)"):
        sliced.SlicedAutoencoder().decode(torch.zeros(2, 3))


def test_log_cost_gradient_does_not_depend_on_lambda():
    x = torch.rand(32, 1, 28, 28)
    grads = []
    for lam in (1.0, 1000.0):
        torch.manual_seed(0)
        model = sliced.SlicedAutoencoder(sliced.SlicedConfig(method="scwae", hidden=(32,), lam=lam))
        model.loss(x)["loss"].backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", sliced.METHODS)
def test_training_through_fit_lowers_the_loss(method):
    data = gm.data.mnist("train").x[:512]
    gm.runtime.seed(0)
    model = sliced.SlicedAutoencoder(sliced.SlicedConfig(method=method, hidden=(64,), n_projections=20, lr=3e-3))
    history = gm.train.fit(model, data, epochs=4, batch_size=128, device="cpu")
    rec = history["rec"]
    assert rec[-4:].mean() < 0.7 * rec[:4].mean()
    assert history["loss"][-4:].mean() < history["loss"][:4].mean()
    assert model.sample(5).shape == (5, 1, 28, 28)


def test_conv_architecture_for_colour_faces_and_the_plain_autoencoder_baseline():
    x = torch.rand(8, 3, 64, 64)
    model = sliced.SlicedAutoencoder(sliced.SlicedConfig(method="scwae", arch="conv", image_shape=(3, 64, 64), width=8))
    with torch.no_grad():
        x_hat = model(x)
    assert model.encode(x).shape == (8, 20) and x_hat.shape == x.shape
    assert float(x_hat.min()) >= 0 and float(x_hat.max()) <= 1
    out = model.loss(x)
    assert set(out) == {"loss", "rec", "index"} and torch.isclose(out["loss"], out["rec"] + torch.log(out["index"]))
    baseline = sliced.SlicedAutoencoder(sliced.SlicedConfig(method=None, hidden=(16,)))
    assert set(baseline.loss(torch.rand(4, 1, 28, 28))) == {"loss", "rec"}


def test_sorting_path_gives_the_same_values_and_gradients_as_torch_sort():
    y = torch.randn(7, 33, generator=torch.Generator().manual_seed(16), requires_grad=True)
    w = torch.arange(33.0)
    (distances._sort_rows(y) * w).sum().backward()
    ours = y.grad.clone()
    y.grad = None
    (torch.sort(y, dim=-1).values * w).sum().backward()
    torch.testing.assert_close(ours, y.grad)
    torch.testing.assert_close(distances._sort_rows(y.detach().half()), torch.sort(y.detach().half(), dim=-1).values)


def _fixed_batch(model_kwargs, seed=0):
    torch.manual_seed(seed)
    model = sliced.SlicedAutoencoder(sliced.SlicedConfig(hidden=(16,), **model_kwargs))
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(23))
    return model, x


@pytest.mark.parametrize("log_cost", [True, False])
def test_cost_is_rec_error_plus_the_penalty_with_its_weight(log_cost):
    for lam in (1.0, 10.0):
        model, x = _fixed_batch(dict(method="scfwae", log_cost=log_cost, lam=lam, n_projections=7))
        torch.manual_seed(1)
        out = model.loss(x)
        torch.manual_seed(1)  # the same 7 directions, drawn from the global generator like the loss does
        z = model.encode(x)
        d = sliced.normality_index(z, "scfwae", n_projections=7)
        rec = ((model(x) - x) ** 2).sum((1, 2, 3)).mean()  # per-image sum of squared errors, batch mean
        torch.testing.assert_close(out["index"], d)
        torch.testing.assert_close(out["rec"], rec)
        penalty = torch.log(lam * d) if log_cost else lam * d
        torch.testing.assert_close(out["loss"], rec + penalty)


def test_every_config_field_changes_what_it_should():
    model, x = _fixed_batch(dict(rec_reduction="mean"))
    with torch.no_grad():
        assert float(model.loss(x)["rec"]) == pytest.approx(float(((model(x) - x) ** 2).mean()), rel=1e-6)
    for method in sliced.METHODS:  # `method` picks the 1-D distance
        model, x = _fixed_batch(dict(method=method, n_projections=5))
        torch.manual_seed(2)
        index = model.loss(x)["index"]
        torch.manual_seed(2)
        v = sliced.random_directions(5, 20)
        prior = torch.randn(16, 20) if method == "swae" else None
        torch.testing.assert_close(index, sliced.normality_index(model.encode(x), method, directions=v, prior_sample=prior))
    wide = sliced.SlicedAutoencoder(sliced.SlicedConfig(hidden=(24, 12), latent_dim=3, lr=0.05))
    assert [m.out_features for m in wide.encoder.modules() if isinstance(m, torch.nn.Linear)] == [24, 12, 3]
    assert wide.encode(torch.rand(2, 1, 28, 28)).shape == (2, 3)
    (opt,) = wide.configure_optimizers().values()
    assert opt.param_groups[0]["lr"] == 0.05
    conv = sliced.SlicedAutoencoder(sliced.SlicedConfig(arch="conv", image_shape=(3, 28, 28), width=4))
    assert max(m.out_channels for m in conv.encoder.modules() if isinstance(m, torch.nn.Conv2d)) >= 4
    assert conv(torch.rand(2, 3, 28, 28)).shape == (2, 3, 28, 28)
    narrow = sliced.SlicedAutoencoder(sliced.SlicedConfig(arch="conv", image_shape=(3, 28, 28), width=8))
    assert gm.nets.count_parameters(narrow) > gm.nets.count_parameters(conv)


def test_default_configs_are_not_shared_and_sampling_is_reproducible():
    a, b = sliced.SlicedAutoencoder(), sliced.SlicedAutoencoder()
    assert a.config is not b.config
    a.config.lam = 5.0
    assert sliced.SlicedAutoencoder().config.lam == 1.0
    s1 = a.sample(4, generator=torch.Generator().manual_seed(3))
    s2 = a.sample(4, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(s1, s2)
    torch.testing.assert_close(s1, a.decode(torch.randn(4, 20, generator=torch.Generator().manual_seed(3))))
    assert a.training  # sample switches to eval mode and back


def test_quantile_cell_integrals_are_integrals_of_the_normal_quantile_function():
    n = 7
    ours = sliced.quantile_cell_integrals(n).numpy()
    ref = [scipy.integrate.quad(scipy.stats.norm.ppf, i / n, (i + 1) / n)[0] for i in range(n)]
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=1e-10)
    assert ours.sum() == pytest.approx(0.0, abs=1e-12)  # ∫_0^1 Φ^{-1} = E[Z] = 0


def test_kummer_phi_is_within_its_stated_error_of_scipys_hypergeometric_function():
    import scipy.special

    s = np.linspace(0.0, 300.0, 3001)
    for dim, bound in ((8, 0.031), (20, 0.011), (64, 0.0031)):
        exact = scipy.special.hyp1f1(0.5, dim / 2, -s)
        approx = sliced.kummer_phi(torch.from_numpy(s), dim).numpy()
        assert np.max(np.abs(approx - exact) / exact) < bound, dim
    with pytest.raises(ValueError, match="D ≥ 2"):
        sliced.kummer_phi(torch.zeros(3), 1)


def _cw_closed_form_exact(z: np.ndarray, gamma: float) -> float:
    """Tabor et al.'s closed form with the exact φ_D = 1F1(1/2; D/2; −s) of scipy (an independent implementation)."""
    import scipy.special

    n, dim = z.shape
    phi = lambda s: scipy.special.hyp1f1(0.5, dim / 2, -s)  # noqa: E731
    pair = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    total = (phi(pair / (4 * gamma)).sum() / math.sqrt(gamma) + n * n / math.sqrt(1 + gamma)
             - 2 * n / math.sqrt(gamma + 0.5) * phi((z**2).sum(1) / (2 + 4 * gamma)).sum())
    return total / (2 * n * n * math.sqrt(math.pi))


def test_cw_closed_form_is_the_sliced_cramer_wold_distance_averaged_over_every_direction():
    g = torch.Generator().manual_seed(0)
    n, dim, gamma = 60, 20, 0.3
    z = (0.7 * torch.randn(n, dim, generator=g, dtype=torch.float64) + 0.4)   # codes off the prior: a clear distance
    exact = _cw_closed_form_exact(z.numpy(), gamma)
    # Monte Carlo over 40,000 uniform directions of the 1-D distance (cw_1d, a separate code path)
    v = sliced.random_directions(40_000, dim, like=z, generator=g)
    values = sliced.cw_1d(v @ z.T, gamma)
    mc, se = values.mean().item(), values.std().item() / math.sqrt(len(values))
    assert abs(mc - exact) < 4 * se, (mc, exact, se)
    # the package's closed form carries only the approximation of φ_D (≤ 1.1% at D = 20); the three terms cancel
    # in part, so the distance's relative error is a few times that (3.6% here)
    ours = sliced.cw_closed_form(z, gamma).item()
    assert ours == pytest.approx(exact, rel=0.05) and ours != pytest.approx(exact, rel=1e-6)
    # at the prior the distance is smaller, and Silverman's γ is the default
    prior = torch.randn(n, dim, generator=g, dtype=torch.float64)
    assert sliced.cw_closed_form(prior, gamma) < 0.5 * ours      # 0.009 against 0.039 (n = 60: a sizeable floor)
    torch.testing.assert_close(sliced.cw_closed_form(z), sliced.cw_closed_form(z, sliced.silverman_gamma(n)))
    with pytest.raises(ValueError, match=r"\(n ≥ 2, D\)"):
        sliced.cw_closed_form(torch.randn(5))


def test_cw_1d_without_gradients_uses_one_buffer_and_gives_the_same_values(monkeypatch):
    y = _sample(7, 40, 5)
    monkeypatch.setitem(distances._CW_CHUNK, "cpu", 2 * 40 * 40)          # blocks of 2 rows: 4 blocks, one partial
    free = sliced.cw_1d(y, 0.3)
    tracked = sliced.cw_1d(y.clone().requires_grad_(), 0.3)               # the autograd path, a block list
    torch.testing.assert_close(free, tracked.detach(), rtol=1e-12, atol=0)
    tracked.sum().backward()                                              # and it still differentiates
    with torch.no_grad():
        torch.testing.assert_close(sliced.cw_1d(y.clone().requires_grad_(), 0.3), free, rtol=1e-12, atol=0)
