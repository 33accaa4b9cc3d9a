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
