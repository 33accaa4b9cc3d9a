"""Tests of gm.vae: the closed-form KL against Monte Carlo and torch.distributions, the likelihoods
against torch.distributions, the IWAE bound's ordering, and a short training run."""
import math

import pytest
import torch

import genmodels as gm
from genmodels.vae import VAE, VAEConfig


def test_gaussian_kl_matches_monte_carlo_and_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g) * 0.5
    kl = gm.vae.gaussian_kl(mu, logvar)
    assert kl.shape == (3,)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(0.0, 1.0)
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)
    z = gm.vae.reparameterize(mu, logvar, k=200_000, generator=g)              # (k, 3, 4)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(kl, mc, atol=0.05), (kl, mc)
    assert float(gm.vae.gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max()) == 0.0


def test_reparameterize_has_the_right_moments():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(4.0)]])
    z = gm.vae.reparameterize(mu, logvar, k=100_000, generator=torch.Generator().manual_seed(1))[:, 0]
    assert torch.allclose(z.mean(0), mu[0], atol=0.03) and torch.allclose(z.std(0), torch.tensor([1.0, 2.0]), atol=0.03)


def test_log_likelihoods_match_torch_distributions():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 1, 5, 5, generator=g)
    x = (torch.rand(2, 1, 5, 5, generator=g) > 0.5).float()
    ref = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum((1, 2, 3))
    assert torch.allclose(gm.vae.bernoulli_log_likelihood(logits, x), ref, atol=1e-5)
    mean = torch.rand(2, 1, 5, 5, generator=g)
    xg = torch.rand(2, 1, 5, 5, generator=g)
    ref = torch.distributions.Normal(mean, 0.3).log_prob(xg).sum((1, 2, 3))
    assert torch.allclose(gm.vae.gaussian_log_likelihood(mean, xg, 0.3), ref, atol=1e-4)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="mu and logvar"):
        gm.vae.gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="same shape"):
        gm.vae.bernoulli_log_likelihood(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        VAE().encode(torch.full((2, 1, 28, 28), 2.0))
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson")


@pytest.fixture(scope="module")
def digits():
    return gm.data.mnist("train").x[:512]


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(digits):
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=4, width=8)).eval()
    x = digits[:64]
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbo = torch.stack([model.elbo_terms(x)["elbo"] for _ in range(20)]).mean(0)  # E_q[log w], per image
    b1, b10, b100 = (gm.vae.iwae_bound(model, x, k, generator=g).mean() for k in (1, 10, 100))
    assert abs(float(b1 - elbo.mean())) < 0.05 * float(elbo.abs().mean())  # k = 1 is the ELBO
    assert float(elbo.mean()) < float(b10) < float(b100)


def test_iwae_is_exact_when_the_weights_are_constant():
    # decoder output independent of z and q = prior: every weight equals p(x), so the bound is log p(x) for any k
    model = VAE(VAEConfig(latent_dim=2, width=4)).eval()
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    x = (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    exact = torch.full((3,), 28 * 28 * math.log(0.5))  # logits 0 → each pixel has probability 1/2
    assert torch.allclose(gm.vae.iwae_bound(model, x, 7), exact, atol=1e-3)


def test_training_lowers_the_negative_elbo(digits):
    model = VAE(VAEConfig(latent_dim=8, width=8, lr=3e-3))
    before = gm.train.evaluate(model, digits)["nelbo"]
    h = gm.train.fit(model, digits, epochs=3, batch_size=128, seed=0, progress=False)
    after = gm.train.evaluate(model, digits)["nelbo"]
    assert set(h.steps) >= {"loss", "rec", "kl"}
    assert after < 0.8 * before, (before, after)
    assert model.sample(5).shape == (5, 1, 28, 28) and model.reconstruct(digits[:3]).shape == (3, 1, 28, 28)
