"""Tests of gm.gan: the losses against direct formulas in probabilities, and their gradients; the training
step's values against hand computations on fixed logits; WGAN-GP's penalty and the 2-D toy."""
import math

import pytest
import torch

import genmodels as gm


def _logits(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=g) * 3, torch.randn(n, 1, generator=g) * 3


def test_minimax_d_loss_is_binary_cross_entropy_in_probabilities():
    real, fake = _logits()
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake[:, 0])
    direct = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert torch.allclose(gm.gan.minimax_d_loss(real, fake), direct, atol=1e-5)


def test_generator_losses_match_their_formulas():
    _, fake = _logits(seed=1)
    d_fake = torch.sigmoid(fake[:, 0])
    assert torch.allclose(gm.gan.saturating_g_loss(fake), torch.log(1 - d_fake).mean(), atol=1e-5)
    assert torch.allclose(gm.gan.nonsaturating_g_loss(fake), -torch.log(d_fake).mean(), atol=1e-5)


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    # D confidently rejects the fakes: logit -8, D(G(z)) ≈ 3e-4
    logit = torch.full((10,), -8.0, requires_grad=True)
    (g_sat,) = torch.autograd.grad(gm.gan.saturating_g_loss(logit), logit)
    (g_ns,) = torch.autograd.grad(gm.gan.nonsaturating_g_loss(logit), logit)
    # per-sample gradients: -sigma(l)/N and -(1 - sigma(l))/N
    assert torch.allclose(g_sat, -torch.sigmoid(logit.detach()) / 10)
    assert g_sat.abs().max() < 1e-4 and g_ns.abs().min() > 0.09


def test_losses_are_stable_for_extreme_logits():
    big = torch.tensor([80.0, -80.0])
    for value in (gm.gan.minimax_d_loss(big, big), gm.gan.saturating_g_loss(big), gm.gan.nonsaturating_g_loss(big)):
        assert math.isfinite(float(value))


def test_lsgan_losses_are_the_least_squares_form():
    real, fake = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([[0.0], [0.3], [-1.0]])
    expected_d = 0.5 * ((0 + 0.25 + 1) / 3) + 0.5 * ((0 + 0.09 + 1) / 3)
    assert gm.gan.lsgan_d_loss(real, fake).item() == pytest.approx(expected_d)
    assert gm.gan.lsgan_g_loss(fake).item() == pytest.approx(0.5 * ((1 + 0.49 + 4) / 3))
    # optimum of each player: D outputs 1 on real and 0 on fake; G makes D output 1
    assert gm.gan.lsgan_d_loss(torch.ones(4), torch.zeros(4)).item() == 0.0
    assert gm.gan.lsgan_g_loss(torch.ones(4)).item() == 0.0


@pytest.mark.parametrize("bad", [torch.zeros(4, 2), torch.zeros(0), torch.tensor([0.0, float("nan")])])
def test_losses_reject_bad_input(bad):
    with pytest.raises(ValueError, match="d_fake"):
        gm.gan.nonsaturating_g_loss(bad)


def test_optimal_discriminator_is_the_density_ratio():
    """Minimising minimax_d_loss over D recovers D*(x) = p_data / (p_data + p_g) (1-D Gaussians, eq. gan-dstar).

    The log-density ratio of two Gaussians is quadratic in x, so a quadratic logit can represent D* exactly.
    """
    g = torch.Generator().manual_seed(0)
    p_data, p_g = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.0, 1.5)
    x_real = torch.randn(100_000, generator=g)
    x_fake = 1.0 + 1.5 * torch.randn(100_000, generator=g)
    w = torch.zeros(3, requires_grad=True)
    logit = lambda x: w[0] + w[1] * x + w[2] * x**2
    opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = gm.gan.minimax_d_loss(logit(x_real), logit(x_fake))
        loss.backward()
        return loss

    opt.step(closure)
    grid = torch.linspace(-3, 4, 50)
    d_star = p_data.log_prob(grid).exp() / (p_data.log_prob(grid).exp() + p_g.log_prob(grid).exp())
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(logit(grid)), d_star, atol=0.02)
        # at D*, the value V = -loss equals -log 4 + 2 JSD(p_data, p_g) >= -log 4 (JSD by quadrature)
        xs = torch.linspace(-12, 14, 200_001, dtype=torch.float64)
        p, q = p_data.log_prob(xs).exp(), p_g.log_prob(xs).exp()
        m = (p + q) / 2
        jsd = 0.5 * torch.trapezoid(p * (p / m).log(), xs) + 0.5 * torch.trapezoid(q * (q / m).log(), xs)
        value = -gm.gan.minimax_d_loss(logit(x_real), logit(x_fake))
        assert float(value) == pytest.approx(-math.log(4) + 2 * float(jsd), abs=0.01)


def _tiny_gan(**kw):
    torch.manual_seed(0)
    return gm.gan.GAN(gm.gan.GANConfig(latent_dim=4, width=8, **kw))


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(module, before):
    return any(not torch.equal(p, q) for p, q in zip(module.parameters(), before))


def test_each_network_is_updated_only_by_its_own_optimizer():
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model = _tiny_gan()
    opts = model.configure_optimizers()
    assert {id(p) for p in opts["g"].param_groups[0]["params"]} == {id(p) for p in model.generator.parameters()}
    assert {id(p) for p in opts["d"].param_groups[0]["params"]} == {id(p) for p in model.discriminator.parameters()}
    for frozen, lr in (("generator", {"lr_g": 0.0}), ("discriminator", {"lr_d": 0.0})):
        model = _tiny_gan(**lr)
        g0, d0 = _snapshot(model.generator), _snapshot(model.discriminator)
        out = model.training_step(x, model.configure_optimizers())
        assert set(out) == {"loss_d", "loss_g", "d_real", "d_fake"}
        assert _changed(model.generator, g0) == (frozen != "generator")
        assert _changed(model.discriminator, d0) == (frozen != "discriminator")


def test_gan_trains_through_fit_and_samples_images():
    x = gm.data.mnist("train").x[:256]
    model = _tiny_gan()
    h = gm.train.fit(model, x, epochs=2, batch_size=64, progress=False)
    assert len(h["loss_d"]) == 8 and all(0 < v < 1 for v in h["d_real"])
    s = model.sample(6)
    assert s.shape == (6, 1, 28, 28) and 0 <= s.min() and s.max() <= 1
    with pytest.raises(ValueError, match="g_loss"):
        gm.gan.GANConfig(g_loss="wasserstein")


# ---------------------------------------------------------------- the training step on fixed, hand-computable logits
class _MeanLogit(torch.nn.Module):
    """D(x) = sigmoid(a · mean(x) + b): logits we can compute by hand."""

    def __init__(self, a=4.0, b=-1.0):
        super().__init__()
        self.a, self.b = torch.nn.Parameter(torch.tensor(a)), torch.nn.Parameter(torch.tensor(b))

    def forward(self, x):
        return (self.a * x.mean((1, 2, 3)) + self.b)[:, None]


class _ConstantImages(torch.nn.Module):
    """G(z) = sigmoid(p) for every z: fakes we know in advance."""

    def __init__(self, value=-1.0):
        super().__init__()
        self.p = torch.nn.Parameter(torch.full((1, 1, 28, 28), value))

    def forward(self, z):
        return torch.sigmoid(self.p).expand(z.shape[0], 1, 28, 28)


def _stub_gan(**kw):
    model = _tiny_gan(**kw)
    model.discriminator, model.generator = _MeanLogit(), _ConstantImages()
    return model


@pytest.mark.parametrize("g_loss", ["nonsaturating", "saturating"])
def test_training_step_losses_equal_hand_computed_values(g_loss):
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model = _stub_gan(g_loss=g_loss, lr_d=0.0, lr_g=0.0)            # nothing moves: the values stay checkable
    out = model.training_step(x, model.configure_optimizers())
    l_real = 4.0 * x.mean((1, 2, 3)) - 1.0
    l_fake = torch.full((8,), 4.0 * torch.sigmoid(torch.tensor(-1.0)).item() - 1.0)
    loss_d = -(torch.log(torch.sigmoid(l_real)).mean() + torch.log(1 - torch.sigmoid(l_fake)).mean())
    loss_g = -torch.log(torch.sigmoid(l_fake)).mean() if g_loss == "nonsaturating" else torch.log(1 - torch.sigmoid(l_fake)).mean()
    assert out["loss_d"].item() == pytest.approx(loss_d.item(), abs=1e-5)
    assert out["loss_g"].item() == pytest.approx(loss_g.item(), abs=1e-5)
    assert out["d_real"].item() == pytest.approx(torch.sigmoid(l_real).mean().item(), abs=1e-6)
    assert out["d_fake"].item() == pytest.approx(torch.sigmoid(l_fake).mean().item(), abs=1e-6)


def test_discriminator_step_lowers_its_cross_entropy():
    x = 0.6 + 0.4 * torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))   # brighter than the fakes
    model = _stub_gan(lr_g=0.0, lr_d=0.05)
    fake = model.generator(torch.zeros(8, 4))

    def state():
        with torch.no_grad():
            real_logit, fake_logit = model.discriminator(x), model.discriminator(fake)
            return gm.gan.minimax_d_loss(real_logit, fake_logit).item(), (real_logit.mean() - fake_logit.mean()).item()

    (loss0, gap0) = state()
    model.training_step(x, model.configure_optimizers())
    (loss1, gap1) = state()
    assert gap0 > 0 and gap1 > 0 and loss1 < loss0    # D's cross-entropy (real = 1, fake = 0) falls


def test_generator_step_follows_its_loss_gradient():
    # saturating and non-saturating losses push D(G(z)) up; their first Adam step has the same sign, but
    # only the chosen loss's value is recorded, and one step of plain SGD-sized Adam moves p by lr.
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    for g_loss in ("nonsaturating", "saturating"):
        model = _stub_gan(g_loss=g_loss, lr_d=0.0, lr_g=0.1)
        p0 = model.generator.p.detach().clone()
        model.training_step(x, model.configure_optimizers())
        assert torch.allclose(model.generator.p.detach() - p0, torch.full_like(p0, 0.1), atol=1e-4)   # a > 0: brighter fakes fool D


def test_sample_uses_eval_mode_and_leaves_batch_norm_statistics_alone():
    model = _tiny_gan().train()
    stats = [b.clone() for b in model.generator.buffers()]
    s = model.sample(16, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(stats, model.generator.buffers()))
    assert model.generator.training, "sample() must restore the previous mode"
    assert torch.equal(s, model.sample(16, generator=torch.Generator().manual_seed(0)))
    z = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(s, model.decode(z)) and torch.equal(s, model.sample_from(z))


def test_non_finite_scores_raise_the_training_error_type():
    with pytest.raises(gm.train.NonFiniteLossError, match="NaN"):
        gm.gan.minimax_d_loss(torch.tensor([0.0, float("nan")]), torch.zeros(2))
    assert gm.gan.GAN().config is not gm.gan.GAN().config
    assert gm.gan.ToyGAN().config is not gm.gan.ToyGAN().config


def test_validation_step_leaves_the_global_rng_alone():
    model = _tiny_gan()
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model.validation_step(torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------- WGAN-GP and the ring of Gaussians
def test_wasserstein_losses_by_hand():
    f_real, f_fake = torch.tensor([1.0, 3.0]), torch.tensor([[0.5], [-1.5]])
    assert gm.gan.wgan_critic_loss(f_real, f_fake).item() == pytest.approx(-0.5 - 2.0)
    assert gm.gan.wgan_g_loss(f_fake).item() == pytest.approx(0.5)


def test_gradient_penalty_of_a_linear_and_a_quadratic_critic():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g) + 3
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 4.0]]))              # ‖∇f‖ = 5 everywhere: penalty (5 − 1)² = 16
    assert gm.gan.gradient_penalty(linear, real, fake).item() == pytest.approx(16.0, rel=1e-6)

    class Quadratic(torch.nn.Module):                                 # f(x) = ½‖x‖²: ∇f(x̂) = x̂
        def forward(self, x):
            return 0.5 * x.pow(2).sum(1, keepdim=True)

    eps = torch.rand(64, 1, generator=torch.Generator().manual_seed(1))
    x_hat = eps * real + (1 - eps) * fake
    expected = (x_hat.norm(dim=1) - 1).pow(2).mean()
    ours = gm.gan.gradient_penalty(Quadratic(), real, fake, generator=torch.Generator().manual_seed(1))
    assert ours.item() == pytest.approx(expected.item(), rel=1e-5)
    w = torch.nn.Linear(2, 1)
    (gw,) = torch.autograd.grad(gm.gan.gradient_penalty(w, real, fake), w.weight)
    assert gw.abs().sum() > 0                                          # differentiable in the critic's weights
    with pytest.raises(ValueError, match="same shape"):
        gm.gan.gradient_penalty(linear, real, fake[:3])


def test_ring_and_mode_coverage():
    c = gm.gan.ring_centres(8, 2.0)
    assert torch.allclose(c.norm(dim=1), torch.full((8,), 2.0)) and torch.allclose(c[2], torch.tensor([0.0, 2.0]), atol=1e-6)
    x = gm.gan.ring_of_gaussians(8000, std=0.05, generator=torch.Generator().manual_seed(0))
    full = gm.gan.mode_coverage(x, c, 0.05)
    # in 2-D, P(‖ε‖ < 3σ) = 1 − exp(−9/2) = 0.98889 (a Rayleigh radius)
    assert full["covered"] == 8 and full["quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.004)
    near = torch.cdist(x, c).argmin(1)
    assert float(x.sub(c[near]).std()) == pytest.approx(0.05, rel=0.05)
    half = gm.gan.mode_coverage(x[near < 3], c, 0.05)                  # only modes 0, 1, 2
    assert half["covered"] == 3 and half["counts"][3:].sum() == 0
    assert gm.gan.mode_coverage(x + 1.0, c, 0.05)["quality"] < 0.05


@pytest.mark.parametrize("loss", ["standard", "wgan-gp"])
def test_toy_gan_trains_through_fit_with_its_loss(loss):
    x = gm.gan.ring_of_gaussians(640, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = gm.gan.ToyGAN(gm.gan.ToyGANConfig(loss=loss, width=16, n_critic=5 if loss == "wgan-gp" else 1))
    d0 = [p.detach().clone() for p in model.discriminator.parameters()]
    h = gm.train.fit(model, x, epochs=1, batch_size=320, progress=False)
    assert len(h["loss_d"]) == 2
    assert (set(h.steps) == {"loss_d", "loss_g", "gp", "w_estimate"}) == (loss == "wgan-gp")
    assert any(not torch.equal(p, q) for p, q in zip(model.discriminator.parameters(), d0))
    assert model.sample(5).shape == (5, 2)
    with pytest.raises(ValueError, match="loss must be one of"):
        gm.gan.ToyGANConfig(loss="hinge")


def test_critic_is_updated_n_critic_times_per_step():
    x = gm.gan.ring_of_gaussians(300, generator=torch.Generator().manual_seed(0))
    model = gm.gan.ToyGAN(gm.gan.ToyGANConfig(loss="wgan-gp", width=8, n_critic=3))
    opts = model.configure_optimizers()
    model.training_step(x, opts)
    steps = {k: max(int(s["step"]) for s in o.state.values()) for k, o in opts.items()}
    assert steps == {"d": 3, "g": 1}
