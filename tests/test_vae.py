"""Tests of gm.vae: the closed-form KL against Monte Carlo and torch.distributions, the likelihoods
against torch.distributions, the IWAE bound against a per-sample loop, every config field, and a short run."""
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
    torch.manual_seed(0)  # the initial weights: 3 epochs lowered the bound by 12.5% only with torch 2.2's draws
    model = VAE(VAEConfig(latent_dim=8, width=8, lr=3e-3))
    before = gm.train.evaluate(model, digits)["nelbo"]
    h = gm.train.fit(model, digits, epochs=6, batch_size=128, seed=0, progress=False)
    after = gm.train.evaluate(model, digits)["nelbo"]
    assert set(h.steps) >= {"loss", "rec", "kl"}
    assert after < 0.8 * before, (before, after)
    assert model.sample(5).shape == (5, 1, 28, 28) and model.reconstruct(digits[:3]).shape == (3, 1, 28, 28)
    assert torch.allclose(model.reconstruct(digits[:3]), model.decode(model.encode(digits[:3])[0]))


# ---------------------------------------------------------------- values pinned against independent computations
def _informative_vae(seed=0, **kw):
    """A small VAE whose encoder is pushed far from the prior (KL ≈ 8 nats per image), so q(z|x) matters."""
    torch.manual_seed(seed)
    model = VAE(VAEConfig(latent_dim=3, width=4, **kw)).eval()
    head = model.encoder.head
    with torch.no_grad():
        head.weight.mul_(40.0)                       # mu and logvar depend strongly on x
        head.bias[:3] = torch.tensor([2.0, -1.5, 1.0])
        head.bias[3:] = torch.tensor([-3.0, -2.0, -2.5])   # sigma well below 1
    return model


def _iwae_per_sample_loop(model, x, k, seed):
    """log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x), one image and one z at a time, with torch.distributions."""
    eps = torch.randn(k, x.shape[0], model.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    out = []
    for n in range(x.shape[0]):
        mu, logvar = model.encode(x[n:n + 1])
        q = torch.distributions.Normal(mu[0], (0.5 * logvar[0]).exp())
        p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
        log_w = []
        for i in range(k):
            z = mu[0] + (0.5 * logvar[0]).exp() * eps[i, n]
            logits = model.decode_logits(z[None])[0]
            log_px = torch.distributions.Bernoulli(logits=logits).log_prob(x[n]).sum()
            log_w.append(log_px + p.log_prob(z).sum() - q.log_prob(z).sum())
        out.append(torch.logsumexp(torch.stack(log_w), 0) - math.log(k))
    return torch.stack(out)


def test_iwae_bound_equals_a_per_sample_loop_on_an_informative_encoder(digits):
    model = _informative_vae()
    x = gm.vae.binarize(digits[:6])
    with torch.no_grad():
        mu, logvar = model.encode(x)
        assert gm.vae.gaussian_kl(mu, logvar).mean() > 5           # q is far from the prior (KL ≈ 8 nats)
        for k in (1, 5):
            ours = gm.vae.iwae_bound(model, x, k, chunk=7, generator=torch.Generator().manual_seed(3))
            ref = _iwae_per_sample_loop(model, x, k, seed=3)
            assert torch.allclose(ours, ref, rtol=1e-4, atol=1e-3), (k, ours, ref)


def test_log_normal_matches_torch_distributions():
    g = torch.Generator().manual_seed(4)
    z, mu, logvar = torch.randn(5, 7, 3, generator=g), torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g)
    ref = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    assert torch.allclose(gm.vae.log_normal(z, mu, logvar), ref, atol=1e-5)
    assert torch.allclose(gm.vae.log_normal(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1), atol=1e-5)


def test_reparameterize_uses_the_generator_and_runtime_draws():
    mu, logvar = torch.tensor([[1.0, -1.0]]), torch.tensor([[0.0, math.log(9.0)]])
    z = gm.vae.reparameterize(mu, logvar, k=4, generator=torch.Generator().manual_seed(7))
    eps = torch.randn(4, 1, 2, generator=torch.Generator().manual_seed(7))
    assert torch.allclose(z, mu + torch.tensor([1.0, 3.0]) * eps)


def test_beta_weights_the_kl_term_and_nelbo_ignores_it(digits):
    x = gm.vae.binarize(digits[:8])
    losses = {}
    for beta in (1.0, 4.0):
        model = _informative_vae(beta=beta)
        losses[beta] = model.loss(x, generator=torch.Generator().manual_seed(0))
        val = model.validation_step(x)
        assert torch.allclose(val["nelbo"], val["rec"] + val["kl"])
    one, four = losses[1.0], losses[4.0]
    assert torch.allclose(one["rec"], four["rec"]) and torch.allclose(one["kl"], four["kl"])
    assert torch.allclose(four["loss"], four["rec"] + 4.0 * four["kl"])
    assert torch.allclose(four["loss"] - one["loss"], 3.0 * one["kl"])


def test_decode_gives_images_and_decode_logits_the_raw_output():
    model = _informative_vae()
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1)) * 3
    with torch.no_grad():
        logits = model.decode_logits(z)
        assert torch.equal(model.decode(z), torch.sigmoid(logits)) and torch.equal(model.mean(z), torch.sigmoid(logits))
        assert not torch.allclose(logits, torch.sigmoid(logits), atol=1e-2)   # so the sigmoid matters
        x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(2))
        gauss = _informative_vae(likelihood="gaussian", sigma=0.3)
        ref = torch.distributions.Normal(torch.sigmoid(logits), 0.3).log_prob(x).sum((1, 2, 3))
        assert torch.allclose(gauss.log_likelihood(logits, x), ref, rtol=1e-5)


def test_sampling_is_reproducible_by_generator_and_binary_draws_have_the_mean(digits):
    model = _informative_vae()
    a = model.sample(4, generator=torch.Generator().manual_seed(0))
    b = model.sample(4, generator=torch.Generator().manual_seed(0))
    c = model.sample(4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a, model.decode(z))
    draws = model.sample_pixels(4000, generator=torch.Generator().manual_seed(5))
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    means = model.sample(4000, generator=torch.Generator().manual_seed(6))
    assert abs(float(draws.mean() - means.mean())) < 0.01


def test_no_hidden_side_effects(digits):
    assert VAE().config is not VAE().config
    model = _informative_vae()
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model.validation_step(gm.vae.binarize(digits[:4]))
    assert torch.equal(torch.rand(3), expected), "validation_step must not draw from the global RNG"
    with pytest.raises(ValueError, match="sigma"):
        VAEConfig(sigma=0.0)


def test_binarize_is_strictly_above_the_threshold():
    x = torch.tensor([0.0, 0.3, 0.5, 0.5001, 1.0]).view(1, 1, 1, 5)
    assert gm.vae.binarize(x).flatten().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert gm.vae.binarize(x, threshold=0.3).flatten().tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
