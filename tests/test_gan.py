"""Tests of gm.gan: the losses against direct formulas in probabilities, and their gradients."""
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
