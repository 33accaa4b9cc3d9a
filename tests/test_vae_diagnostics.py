"""Posterior-collapse diagnostics and gradient estimators of gm.vae, against independent references
(torch.distributions, NumPy, Gauss-Hermite quadrature). Notebook: chapters/01_vae_gan/01_vae.ipynb"""
import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

import genmodels as gm


def test_kl_per_dimension_matches_torch_distributions_and_sums_to_gaussian_kl():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0))
    per_dim = gm.vae.kl_per_dimension(mu, logvar)
    assert per_dim.shape == (7, 5)
    torch.testing.assert_close(per_dim, ref)
    torch.testing.assert_close(gm.vae.gaussian_kl(mu, logvar), ref.sum(1))


def test_active_units_is_the_variance_of_the_means_over_the_data():
    g = torch.Generator().manual_seed(1)
    scale = torch.tensor([2.0, 0.5, 0.05, 0.0])         # the last two dimensions are (nearly) constant
    mu = 3.0 + torch.randn(500, 4, generator=g) * scale  # an offset: activity ignores the mean itself
    activity, n_active = gm.vae.active_units(mu, threshold=0.01)
    np.testing.assert_allclose(activity.numpy(), np.var(mu.numpy(), axis=0, ddof=1), rtol=1e-5)
    assert n_active == 2
    with pytest.raises(ValueError, match="N ≥ 2"):
        gm.vae.active_units(mu[:1])


def _gauss_hermite_moment(h, mu, sigma, n=80):
    # E h(mu + sigma * eps), eps ~ N(0, 1), by probabilists' Gauss-Hermite quadrature
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return float((w * h(mu + sigma * x, x)).sum() / np.sqrt(2 * np.pi))


def test_gradient_estimates_are_unbiased_with_the_quadrature_variances():
    mu0, sigma = 0.7, 1.3
    n_rep = 200_000                                   # independent rows; n = 2 samples each
    mu = torch.full((n_rep, 1), mu0, dtype=torch.float64)
    logvar = torch.full_like(mu, 2 * np.log(sigma))
    f = lambda z: z[..., 0] ** 2 + 5.0                # ∇_μ E f = 2 μ; the offset only hurts the plain score
    out = gm.vae.gradient_estimates(f, mu, logvar, 2, generator=torch.Generator().manual_seed(2))
    truth = 2 * mu0
    # second moments of each single-sample estimator by quadrature, from the formulas, not the code
    m2 = {"pathwise": _gauss_hermite_moment(lambda z, e: (2 * z) ** 2, mu0, sigma),
          "score": _gauss_hermite_moment(lambda z, e: ((z**2 + 5.0) * e / sigma) ** 2, mu0, sigma)}
    for name in ("pathwise", "score"):
        est = out[name][0, :, 0].numpy()
        var = m2[name] - truth**2
        assert abs(est.mean() - truth) < 4 * np.sqrt(var / n_rep), name
        np.testing.assert_allclose(est.var(), var, rtol=0.05, err_msg=name)
    base = out["score_baseline"][0, :, 0].numpy()
    assert abs(base.mean() - truth) < 4 * base.std() / np.sqrt(n_rep)   # the leave-one-out baseline keeps it unbiased
    assert base.var() < out["score"][0, :, 0].numpy().var()             # and removes the offset's variance


def test_gradient_estimates_pathwise_equals_autograd_and_checks_shapes():
    g = torch.Generator().manual_seed(3)
    mu, logvar = torch.randn(3, 2, generator=g), torch.randn(3, 2, generator=g)
    out = gm.vae.gradient_estimates(lambda z: torch.sin(z).sum(-1), mu, logvar, 4, generator=torch.Generator().manual_seed(4))
    z = gm.vae.reparameterize(mu, logvar, 4, torch.Generator().manual_seed(4))
    torch.testing.assert_close(out["pathwise"], torch.cos(z))
    torch.testing.assert_close(out["score"], torch.sin(z).sum(-1, keepdim=True) * (z - mu) / logvar.exp())
    with pytest.raises(ValueError, match="one value per sample"):
        gm.vae.gradient_estimates(lambda z: z, mu, logvar, 4)
    with pytest.raises(ValueError, match="at least 2"):
        gm.vae.gradient_estimates(lambda z: z.sum(-1), mu, logvar, 1)


def test_gaussian_decoder_loss_is_squared_error_plus_beta_kl_with_beta_two_sigma_squared():
    # eq. (vae-beta-sigma): 2σ²·(−ELBO) = ‖x − m(z)‖² + 2σ²·KL + 2σ² D log(σ√(2π)), on the same draw of z
    sigma = 0.3
    torch.manual_seed(0)
    model = gm.vae.VAE(gm.vae.VAEConfig(latent_dim=4, width=8, likelihood="gaussian", sigma=sigma))
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    out = model.loss(x, torch.Generator().manual_seed(2))
    mu, logvar = model.encode(x)
    z = gm.vae.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(2))
    sq = ((x - torch.sigmoid(model.decoder(z))) ** 2).flatten(1).sum(1).mean()     # by hand, not via the module
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)).mean()
    const = 784 * np.log(sigma * np.sqrt(2 * np.pi))
    torch.testing.assert_close(2 * sigma**2 * out["loss"], sq + 2 * sigma**2 * kl + 2 * sigma**2 * const,
                               rtol=1e-5, atol=1e-4)
