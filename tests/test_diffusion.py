"""Tests of gm.diffusion against independent references: step-by-step chains, Bayes on a grid, closed forms."""
import math

import numpy as np
import pytest
import torch

import genmodels as gm
from genmodels import diffusion as dm

D64 = torch.float64


def gaussian_eps_oracle(schedule, mu, s):
    """E[ε | x_t] for 1-D data N(μ, s²): ε is jointly Gaussian with x_t = √ᾱ x_0 + √(1−ᾱ) ε."""
    ab = schedule.alpha_bars

    def fn(x, t):
        a = ab[t].to(x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
        return (1 - a).sqrt() * (x - a.sqrt() * mu) / (a * s**2 + 1 - a)
    return fn


# ------------------------------------------------------------------------------------------- forward process

def test_marginal_matches_the_chain_simulated_step_by_step():
    torch.manual_seed(0)
    sched = dm.linear_schedule(60, beta_end=0.1)
    n = 40000
    x0 = torch.where(torch.rand(n, 1, dtype=D64) < 0.3, -1.5, 2.0).to(D64)  # non-Gaussian data
    x = x0.clone()
    for t in range(sched.T):
        beta = float(sched.betas[t])
        x = math.sqrt(1 - beta) * x + math.sqrt(beta) * torch.randn_like(x)
        if t in (0, 9, 30, 59):
            tt = torch.full((n,), t)
            mean = dm.q_sample(x0, tt, torch.zeros_like(x0), sched)      # √ᾱ x_0
            sd = dm.q_sample(torch.zeros_like(x0), tt, torch.ones_like(x0), sched)  # √(1 − ᾱ)
            resid = x - mean
            assert abs(float(resid.mean())) < 5 * float(sd[0]) / math.sqrt(n)
            assert abs(float(resid.var()) / float(sd[0]) ** 2 - 1) < 5 * math.sqrt(2 / n)
            assert abs(float(x.mean()) - float(mean.mean())) < 0.03


def test_alpha_bars_are_products_and_cosine_schedule_matches_its_formula():
    sched = dm.linear_schedule(10, 0.01, 0.2)
    prod, expected = 1.0, []
    for b in np.linspace(0.01, 0.2, 10):
        prod *= 1 - b
        expected.append(prod)
    assert np.allclose(sched.alpha_bars.numpy(), expected)
    cos = dm.cosine_schedule(100)
    f = lambda t: math.cos((t / 100 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    for t in (0, 10, 50, 90):
        assert math.isclose(float(cos.alpha_bars[t]), f(t + 1) / f(0), rel_tol=1e-6)


@pytest.mark.parametrize("t", [1, 5, 19])
def test_posterior_matches_bayes_on_a_grid(t):
    sched = dm.linear_schedule(20, 0.02, 0.3)
    x0, xt = 0.7, -0.4
    ab = sched.alpha_bars.numpy()
    beta = float(sched.betas[t])
    grid = np.linspace(-8, 8, 200001)
    log_q = (-(xt - math.sqrt(1 - beta) * grid) ** 2 / (2 * beta)
             - (grid - math.sqrt(ab[t - 1]) * x0) ** 2 / (2 * (1 - ab[t - 1])))
    w = np.exp(log_q - log_q.max())
    w /= w.sum()
    mean_ref = float((w * grid).sum())
    var_ref = float((w * (grid - mean_ref) ** 2).sum())
    mean, var = dm.posterior(torch.tensor([[x0]], dtype=D64), torch.tensor([[xt]], dtype=D64), torch.tensor([t]), sched)
    assert math.isclose(float(mean), mean_ref, abs_tol=1e-6)
    assert math.isclose(float(var), var_ref, rel_tol=1e-4)


def test_posterior_at_the_first_step_is_the_data():
    sched = dm.linear_schedule(5)
    x0 = torch.randn(3, 2)
    mean, var = dm.posterior(x0, torch.randn(3, 2), torch.zeros(3, dtype=torch.long), sched)
    assert torch.allclose(mean, x0, atol=1e-6) and float(var.abs().max()) < 1e-12


def test_predict_x0_inverts_q_sample_and_eps_to_score_is_the_gaussian_score():
    sched = dm.linear_schedule(30, beta_end=0.2)
    x0, eps, t = torch.randn(5, 3, dtype=D64), torch.randn(5, 3, dtype=D64), torch.tensor([0, 3, 10, 20, 29])
    xt = dm.q_sample(x0, t, eps, sched)
    assert torch.allclose(dm.predict_x0(xt, t, eps, sched), x0)
    # score of q(x_t | x_0) = N(√ᾱ x_0, (1 − ᾱ) I) at x_t, by autograd of its log density
    ab = sched.alpha_bars[t][:, None]
    x = xt.clone().requires_grad_(True)
    logq = (-(x - ab.sqrt() * x0) ** 2 / (2 * (1 - ab))).sum()
    (score,) = torch.autograd.grad(logq, x)
    assert torch.allclose(dm.eps_to_score(eps, t, sched), score)


def test_forward_process_rejects_bad_input():
    sched = dm.linear_schedule(10)
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        dm.q_sample(x, torch.tensor([0, 1, 2, 10]), x, sched)
    with pytest.raises(TypeError, match="integer"):
        dm.q_sample(x, torch.zeros(4), x, sched)
    with pytest.raises(ValueError, match="shape"):
        dm.q_sample(x, torch.zeros(4, dtype=torch.long), torch.zeros(4, 3), sched)
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        dm.q_sample(x, torch.zeros(3, dtype=torch.long), x, sched)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        dm.Schedule(torch.tensor([0.1, 1.0]))
    with pytest.raises(gm.train.NonFiniteLossError, match="finite"):  # the package's one non-finite type
        dm.q_sample(torch.full((4, 2), float("nan")), torch.zeros(4, dtype=torch.long), x, sched)


# ----------------------------------------------------------------------------------------------------- losses

def linear_score(a, b):
    return lambda x, *_: a * x + b


@pytest.mark.parametrize("a,b", [(0.0, 0.0), (-1.0, 0.5), (-3.0, 2.0)])
def test_dsm_equals_explicit_score_matching_on_the_noisy_gaussian_plus_a_constant(a, b):
    mu, s, sigma, n = 1.0, 0.5, 0.8, 400000
    g = torch.Generator().manual_seed(1)
    x = mu + s * torch.randn(n, 1, generator=g, dtype=D64)
    v = s**2 + sigma**2                              # p_σ = N(μ, v), score −(x − μ)/v
    c, d = a + 1 / v, b - mu / v                     # s_θ − ∇log p_σ = c x + d
    esm = 0.5 * (c**2 * (v + mu**2) + 2 * c * d * mu + d**2)
    const = 0.5 * (1 / sigma**2 - 1 / v)
    dsm = float(dm.dsm_loss(linear_score(a, b), x, sigma, generator=torch.Generator().manual_seed(2), weighted=False))
    assert math.isclose(dsm, esm + const, rel_tol=0.01, abs_tol=0.01)
    weighted = float(dm.dsm_loss(linear_score(a, b), x, sigma, generator=torch.Generator().manual_seed(2)))
    assert math.isclose(weighted, sigma**2 * dsm, rel_tol=1e-9)


def test_dsm_uses_one_level_per_row():
    mu, s, n = 0.0, 1.0, 200000
    x = mu + s * torch.randn(n, 1, generator=torch.Generator().manual_seed(3), dtype=D64)
    sig = torch.where(torch.arange(n) % 2 == 0, 0.5, 2.0).to(D64)
    a = -0.3
    expected = 0.0
    for sigma in (0.5, 2.0):
        v = s**2 + sigma**2
        c = a + 1 / v
        expected += 0.5 * (0.5 * c**2 * v + 0.5 * (1 / sigma**2 - 1 / v))
    got = float(dm.dsm_loss(linear_score(a, 0.0), x, sig, generator=torch.Generator().manual_seed(4), weighted=False))
    assert math.isclose(got, expected, rel_tol=0.02)


@pytest.mark.parametrize("a,b", [(-1.0, 0.0), (-2.0, 1.0)])
def test_hyvarinen_objective_is_explicit_score_matching_minus_a_constant(a, b):
    mu, s, n = torch.tensor([1.0, -1.0], dtype=D64), torch.tensor([0.5, 2.0], dtype=D64), 200000
    x = mu + s * torch.randn(n, 2, generator=torch.Generator().manual_seed(5), dtype=D64)
    score = lambda z: a * z + b * z.flip(1) ** 2  # noqa: E731  (a non-linear field with a non-diagonal Jacobian)
    true = -(x - mu) / s**2
    esm = 0.5 * float((score(x) - true).pow(2).sum(1).mean())
    const = 0.5 * float(true.pow(2).sum(1).mean())
    assert math.isclose(float(dm.score_matching_loss(score, x)), esm - const, rel_tol=0.01)


def test_eps_loss_of_the_exact_denoiser_is_the_average_posterior_variance():
    mu, s = 0.5, 0.7
    sched = dm.linear_schedule(50, beta_end=0.2)
    x0 = mu + s * torch.randn(300000, 1, generator=torch.Generator().manual_seed(6), dtype=D64)
    ab = sched.alpha_bars
    expected = float((1 - (1 - ab) / (ab * s**2 + 1 - ab)).mean())  # Var(ε | x_t), averaged over uniform t
    got = float(dm.eps_loss(gaussian_eps_oracle(sched, mu, s), x0, sched, generator=torch.Generator().manual_seed(7)))
    assert math.isclose(got, expected, rel_tol=0.02)


def gaussian_flow_oracle(mu, s):
    """E[x_1 − x_0 | x_t] on the straight path from N(0, 1) to N(μ, s²) (jointly Gaussian)."""
    def fn(x, t):
        tb = t.reshape(-1, *([1] * (x.ndim - 1)))
        var = (1 - tb) ** 2 + tb**2 * s**2
        return mu + (tb * s**2 - (1 - tb)) / var * (x - tb * mu)
    return fn


def test_flow_matching_loss_of_the_marginal_field_is_its_conditional_variance():
    mu, s = 2.0, 0.5
    x1 = mu + s * torch.randn(300000, 1, generator=torch.Generator().manual_seed(8), dtype=D64)
    t = np.linspace(0, 1, 100001)
    var = (1 - t) ** 2 + t**2 * s**2
    expected = float(np.trapezoid(s**2 + 1 - (t * s**2 - (1 - t)) ** 2 / var, t))
    got = float(dm.flow_matching_loss(gaussian_flow_oracle(mu, s), x1, generator=torch.Generator().manual_seed(9)))
    assert math.isclose(got, expected, rel_tol=0.02)


# --------------------------------------------------------------------------------------------------- samplers

def test_euler_and_heun_on_a_linear_field_match_their_hand_written_recursions_and_the_exponential():
    A = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=D64)
    field = lambda x, t: x @ A.T  # noqa: E731
    eye = torch.eye(2, dtype=D64)
    n = 50
    h = 1 / n
    euler = dm.ode_sample(field, eye, n)          # rows are the images of e_1, e_2: the flow map transposed
    heun = dm.ode_sample(field, eye, n, method="heun")
    assert torch.allclose(euler.T, torch.linalg.matrix_power(eye + h * A, n))
    assert torch.allclose(heun.T, torch.linalg.matrix_power(eye + h * A + h**2 / 2 * A @ A, n))
    expm = torch.linalg.matrix_exp(A)
    assert (heun.T - expm).abs().max() < 1e-4 < (euler.T - expm).abs().max()
    # pushforward of N(0, I): covariance e^A e^{A^T}
    z = torch.randn(100000, 2, generator=torch.Generator().manual_seed(10), dtype=D64)
    out = dm.ode_sample(field, z, 100, method="heun")
    assert torch.allclose(torch.cov(out.T), expm @ expm.T, atol=0.02)


def test_ode_samplers_pass_the_time():
    field = lambda x, t: t[:, None] * x  # noqa: E731  (x(1) = e^{1/2} x(0))
    x = torch.ones(3, 1, dtype=D64)
    n, h = 10, 0.1
    euler_ref = math.prod(1 + h * (k * h) for k in range(n))
    heun_ref = math.prod(1 + h / 2 * (k * h + (k + 1) * h * (1 + h * k * h)) for k in range(n))
    assert torch.allclose(dm.ode_sample(field, x, n), torch.full_like(x, euler_ref))
    assert torch.allclose(dm.ode_sample(field, x, n, method="heun"), torch.full_like(x, heun_ref))


def test_the_marginal_flow_field_carries_noise_to_the_data():
    mu, s = 2.0, 0.5
    z = torch.randn(50000, 1, generator=torch.Generator().manual_seed(11), dtype=D64)
    out = dm.ode_sample(gaussian_flow_oracle(mu, s), z, 200, method="heun")
    assert torch.allclose(out, mu + s * z, atol=1e-3)   # the straight-path flow is the affine map here


def ddpm_moments(sched, mu, s, variance):
    """Mean and variance of ancestral sampling with the exact denoiser, by the posterior-mean form μ̃(x̂_0, x_t)."""
    ab, ab_prev, betas = sched.alpha_bars.tolist(), sched.alpha_bars_prev.tolist(), sched.betas.tolist()
    m, v = 0.0, 1.0
    for t in range(sched.T - 1, -1, -1):
        k = math.sqrt(1 - ab[t]) / (ab[t] * s**2 + 1 - ab[t])          # ε̂ = k (x − √ᾱ μ)
        # x̂_0 = (x − √(1−ᾱ) ε̂)/√ᾱ = p x + q
        p = (1 - math.sqrt(1 - ab[t]) * k) / math.sqrt(ab[t])
        q = math.sqrt(1 - ab[t]) * k * math.sqrt(ab[t]) * mu / math.sqrt(ab[t])
        c0 = math.sqrt(ab_prev[t]) * betas[t] / (1 - ab[t])
        ct = math.sqrt(1 - betas[t]) * (1 - ab_prev[t]) / (1 - ab[t])
        m, v = (c0 * p + ct) * m + c0 * q, (c0 * p + ct) ** 2 * v
        if t > 0:
            v += betas[t] if variance == "beta" else (1 - ab_prev[t]) / (1 - ab[t]) * betas[t]
    return m, v


@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_ancestral_sampling_with_the_exact_denoiser_matches_the_moment_recursion(variance):
    mu, s, n = 1.0, 0.3, 100000
    sched = dm.linear_schedule(100, beta_end=0.2)
    z = torch.randn(n, 1, generator=torch.Generator().manual_seed(12), dtype=D64)
    out = dm.ddpm_sample(gaussian_eps_oracle(sched, mu, s), z, sched, generator=torch.Generator().manual_seed(13),
                         variance=variance)
    m, v = ddpm_moments(sched, mu, s, variance)
    assert abs(float(out.mean()) - m) < 5 * math.sqrt(v / n)
    assert abs(float(out.var()) / v - 1) < 5 * math.sqrt(2 / n)
    assert abs(m - mu) < 0.01 and abs(math.sqrt(v) - s) < 0.05


def test_ddim_with_every_step_follows_the_probability_flow_and_eta_one_is_ancestral():
    mu, s = 1.0, 0.3
    sched = dm.linear_schedule(400, beta_end=0.05)
    oracle = gaussian_eps_oracle(sched, mu, s)
    z = torch.randn(1000, 1, generator=torch.Generator().manual_seed(14), dtype=D64)
    abT = float(sched.alpha_bars[-1])
    xi = (z - math.sqrt(abT) * mu) / math.sqrt(abT * s**2 + 1 - abT)   # the standardised state the flow keeps
    err = {n: float((dm.ddim_sample(oracle, z, sched, n) - (mu + s * xi)).abs().max()) for n in (10, 100, sched.T)}
    assert err[sched.T] < 0.02 and err[sched.T] < err[100] / 2 < err[10] / 4   # first order in 1/steps
    a = dm.ddim_sample(oracle, z, sched, sched.T, eta=1.0, generator=torch.Generator().manual_seed(15))
    b = dm.ddpm_sample(oracle, z, sched, generator=torch.Generator().manual_seed(15), variance="posterior")
    assert torch.allclose(a, b)


def test_ancestral_sampling_adds_no_noise_at_the_last_step():
    x = torch.randn(4, 2, dtype=D64)
    out = dm.ddpm_sample(lambda z, t: torch.zeros_like(z), x, dm.linear_schedule(1, 0.5, 0.5))
    assert torch.allclose(out, x / math.sqrt(0.5))


def test_ddim_times_span_the_chain():
    assert dm.ddim_times(10, 10) == list(range(9, -1, -1))
    times = dm.ddim_times(1000, 4)
    assert times[0] == 999 and times[-1] == 0 and len(times) == 4
    with pytest.raises(ValueError, match="n_steps"):
        dm.ddim_times(10, 11)


def test_annealed_langevin_step_and_stationary_law():
    mu, s = 1.0, 0.5
    score = lambda x, sig: -(x - mu) / (s**2 + sig[:, None] ** 2)  # noqa: E731  (score of N(μ, s² + σ²))
    x = torch.zeros(4, 1, dtype=D64)
    sigmas, eps = [2.0, 0.5], 0.01
    two = dm.annealed_langevin(score, x, sigmas, 1, eps, generator=torch.Generator().manual_seed(16))
    g = torch.Generator().manual_seed(16)
    for sigma in sigmas:                                  # α_i = ε σ_i² / σ_L²
        alpha = eps * sigma**2 / sigmas[-1] ** 2
        z = torch.randn(4, 1, generator=g, dtype=D64)
        x = x + alpha / 2 * score(x, torch.full((4,), sigma, dtype=D64)) + math.sqrt(alpha) * z
    assert torch.allclose(two, x)
    many = dm.annealed_langevin(score, torch.zeros(20000, 1, dtype=D64), dm.geometric_sigmas(3.0, 0.05, 5), 200,
                                2e-3, generator=torch.Generator().manual_seed(17))
    assert abs(float(many.mean()) - mu) < 0.03
    assert abs(float(many.var()) - (s**2 + 0.05**2)) < 0.03


def test_annealed_langevin_final_denoise_is_tweedie():
    score = lambda x, sig: -x / (1 + sig[:, None] ** 2)  # noqa: E731
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(18))
    y = dm.annealed_langevin(score, x, [0.3], 1, 1e-12, generator=torch.Generator().manual_seed(19), final_denoise=True)
    z = dm.annealed_langevin(score, x, [0.3], 1, 1e-12, generator=torch.Generator().manual_seed(19))
    assert torch.allclose(y, z - 0.09 * z / 1.09, atol=1e-6)


def test_samplers_are_vectorised_over_the_batch():
    sched = dm.linear_schedule(20, beta_end=0.3)
    oracle = gaussian_eps_oracle(sched, 0.5, 0.4)
    z = torch.randn(6, 1, dtype=D64)
    batch = dm.ddim_sample(oracle, z, sched, 7)
    rows = torch.cat([dm.ddim_sample(oracle, z[i : i + 1], sched, 7) for i in range(6)])
    assert torch.allclose(batch, rows)
    calls = []
    dm.ode_sample(lambda x, t: calls.append(x.shape[0]) or -x, torch.zeros(6, 2), 5, method="heun")
    assert calls == [6] * 10


def test_samplers_honour_the_step_cap(monkeypatch):
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "3")
    calls = []
    field = lambda x, t: calls.append(1) or torch.zeros_like(x)  # noqa: E731
    x = torch.zeros(2, 1)
    sched = dm.linear_schedule(50)
    dm.ode_sample(field, x, 10)
    dm.ddpm_sample(field, x, sched)
    dm.ddim_sample(field, x, sched, 20)
    dm.annealed_langevin(field, x, [1.0, 0.5], 10, 0.1)
    assert len(calls) == 12


def test_samplers_and_losses_reject_bad_input():
    sched = dm.linear_schedule(10)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="shape"):
        dm.ode_sample(lambda z, t: z[:, :1], x, 2)
    with pytest.raises(ValueError, match="method"):
        dm.ode_sample(lambda z, t: z, x, 2, method="rk4")
    with pytest.raises(ValueError, match="positive"):
        dm.annealed_langevin(lambda z, s: z, x, [1.0, -1.0], 2, 0.1)
    with pytest.raises(ValueError, match="eta"):
        dm.ddim_sample(lambda z, t: z, x, sched, 5, eta=-1)
    with pytest.raises(ValueError, match="sigma"):
        dm.dsm_loss(lambda z, s: z, x, torch.ones(2))
    with pytest.raises(ValueError, match="shape"):
        dm.flow_matching_loss(lambda z, t: z, x, x0=torch.zeros(3, 3))
    with pytest.raises(TypeError, match="float"):
        dm.ddpm_sample(lambda z, t: z, torch.zeros(3, 2, dtype=torch.long), sched)


# ------------------------------------------------------------------------------------------------------ model

def test_denoiser_guidance_combines_the_conditional_and_unconditional_fields():
    torch.manual_seed(0)
    m = dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=16, n_classes=3))
    x, t, y = torch.randn(4, 2), torch.rand(4), torch.tensor([0, 1, 2, 0])
    null = torch.full_like(y, 3)
    w = 2.5
    expected = (1 + w) * m.field(x, t, y) - w * m.field(x, t, null)
    assert torch.allclose(m.guided(y, w)(x, t), expected, atol=1e-6)
    with pytest.raises(ValueError, match="labels"):
        m.field(x, t)
    with pytest.raises(ValueError, match="\\(x, y\\)"):
        m.loss(x)


def test_denoiser_shapes_and_errors():
    m = dm.Denoiser(dm.DenoiserConfig(T=20, width=8))
    assert m.loss(torch.randn(3, 1, 28, 28))["loss"].ndim == 0
    assert m.sample(2, "ddim", steps=4).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="28"):
        m.loss(torch.randn(3, 1, 14, 14))
    with pytest.raises(ValueError, match="ddpm"):
        m.sample(2, "euler")
    with pytest.raises(ValueError, match="objective"):
        dm.Denoiser(dm.DenoiserConfig(objective="score"))


@pytest.mark.slow
def test_fit_trains_a_flow_model_onto_a_shifted_gaussian():
    import genmodels as gm

    torch.manual_seed(0)
    data = torch.randn(2048, 2) * 0.3 + torch.tensor([2.0, -1.0])
    m = dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=64, lr=3e-3))
    gm.train.fit(m, data, epochs=15, batch_size=256, progress=False, device="cpu")
    out = m.sample(2000, "heun", 20, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out.mean(0), torch.tensor([2.0, -1.0]), atol=0.1)
    assert torch.allclose(out.std(0), torch.tensor([0.3, 0.3]), atol=0.1)


class _ExactGaussianScore(torch.nn.Module):
    """The network output of the exact noisy score of N(0, s²·I): s_θ = net/σ = −x/(s² + σ²), so net = −xσ/(s² + σ²)."""

    def __init__(self, s: float):
        super().__init__()
        self.s2 = s * s

    def forward(self, x, c, y=None):
        sigma = c.exp()[:, None]
        return -x * sigma / (self.s2 + sigma**2)


def test_noise_conditional_score_samples_from_the_widest_level_with_its_generator():
    m = dm.NoiseConditionalScore(dm.ScoreConfig(dim=2, sigma_max=3.0, sigma_min=0.05, levels=10))
    m.net = _ExactGaussianScore(0.5)                         # a perfectly trained model of N(0, 0.25·I)
    a = m.sample(3000, n_steps_each=30, step_lr=2e-3, generator=torch.Generator().manual_seed(0))
    b = m.sample(3000, n_steps_each=30, step_lr=2e-3, generator=torch.Generator().manual_seed(0))
    assert a.shape == (3000, 2) and torch.equal(a, b)         # the generator alone decides the draws
    # the chains start from N(0, σ_max²·I) drawn first from the generator, then run sample_from with it. With one
    # step per level: the exact score contracts chains that share their noise, so after many steps the start is lost
    short = m.sample(3000, n_steps_each=1, step_lr=2e-3, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    start = 3.0 * torch.randn(3000, 2, generator=g)
    torch.testing.assert_close(short, m.sample_from(start, 1, 2e-3, generator=g))
    # annealed Langevin with the exact score ends near the data's spread 0.5 (s.e. of a std over 6000 values ≈ 0.005)
    assert abs(a.std().item() - 0.5) < 0.03, a.std().item()
