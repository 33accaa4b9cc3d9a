"""Tests of the generative ConvNet's sampler step and learning step (gm.ebm): values by hand, chains that
persist, a replay buffer that restarts the fraction it should, and every config field doing what it says."""
import copy

import pytest
import torch

import genmodels as gm
from genmodels import ebm


def tiny(init="persistent", **kw):
    cfg = dict(channels=1, size=8, layers=((4, 3, 1), (4, 3, 2)), n_chains=3, n_steps=2, step_size=0.5)
    cfg.update(kw)
    return ebm.GenerativeConvNet(ebm.ConvNetConfig(init=init, **cfg))


def observed(n=2, size=8, seed=0):
    return 30 * torch.randn(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def sgd(model, lr=1e-3):
    return {"opt": torch.optim.SGD(model.parameters(), lr=lr)}


# ------------------------------------------------------------------------------------------- the sampler

@pytest.mark.parametrize("sigma,eps", [(1.0, 0.3), (0.5, 0.2)])
def test_one_langevin_step_equals_the_hand_computation(sigma, eps):
    g = torch.Generator().manual_seed(3)
    proto = ebm.Prototype(torch.randn(5, 8, generator=g), torch.randn(5, generator=g))
    x = 2 * torch.randn(16, 8, generator=g)
    z = torch.randn(16, 8, generator=torch.Generator().manual_seed(9))
    on = ((x @ proto.weight.T + proto.bias) > 0).float()
    by_hand = x + eps**2 / 2 * (on @ proto.weight.detach() - x / sigma**2) + eps * z
    ours = ebm.langevin(proto, x, 1, eps, sigma, generator=torch.Generator().manual_seed(9))
    assert torch.allclose(ours, by_hand, atol=1e-5)
    torch.manual_seed(9)  # without a generator the noise comes from torch's global generator (the exercise relies on it)
    assert torch.allclose(ebm.langevin(proto, x, 1, eps, sigma), by_hand, atol=1e-5)


def test_langevin_steps_pass_through_the_step_cap(monkeypatch):
    x = torch.ones(3, 2)
    zero = lambda i: torch.zeros(i.shape[0])  # noqa: E731
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "2")
    capped = ebm.langevin(zero, x, 50, 0.5, noise=False)
    assert torch.allclose(capped, x * (1 - 0.5**2 / 2) ** 2)


def test_step_factors_at_eps_equal_sigma_and_the_stationary_variance():
    f = ebm.step_factors(1.0, 1.0)
    assert (f.contraction, f.towards_mean, f.forgetting_steps) == (0.5, 0.5, 2.0)
    assert abs(f.variance_factor - 4 / 3) < 1e-12
    sigma, eps = 2.0, 1.4
    f = ebm.step_factors(eps, sigma)
    x = ebm.langevin(lambda i: torch.zeros(i.shape[0]), torch.zeros(40000, 2), 60, eps, sigma,
                     generator=torch.Generator().manual_seed(0))
    assert abs(float(x.var(0).mean()) / (sigma**2 * f.variance_factor) - 1) < 0.03
    with pytest.raises(ValueError, match="below 2σ"):
        ebm.step_factors(2.0, 1.0)
    with pytest.raises(ValueError, match="below 2σ"):
        ebm.ConvNetConfig(step_size=2.5, sigma=1.0)


def test_pattern_agreement_by_hand():
    proto = ebm.Prototype(torch.eye(3), torch.zeros(3))
    a = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])
    b = torch.tensor([[2.0, 1.0, 3.0], [-1.0, 1.0, 1.0]])
    units, whole = ebm.pattern_agreement(proto, a, b)
    assert torch.allclose(units, torch.tensor([1.0, 1 / 3])) and torch.equal(whole, torch.tensor([1.0, 0.0]))


# ---------------------------------------------------------------------------------------- the learning step

def test_persistent_chains_continue_where_the_last_iteration_ended():
    torch.manual_seed(0)
    model, data = tiny("persistent"), observed()
    opts = model.configure_optimizers()
    opts = opts if isinstance(opts, dict) else {"opt": opts}
    model.training_step(data, opts)
    after_first = model.chains.clone()
    assert torch.count_nonzero(after_first) > 0
    before_second = copy.deepcopy(model)
    state = torch.random.get_rng_state()
    model.training_step(data, opts)
    torch.random.set_rng_state(state)
    cfg = model.config
    expected = ebm.langevin(before_second, after_first, cfg.n_steps, cfg.step_size, cfg.sigma)
    assert torch.allclose(model.chains, expected, atol=1e-5)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_noise_chains_restart_from_the_reference_every_iteration(sigma):
    model = tiny("noise", n_steps=0, sigma=sigma, step_size=0.5)
    model.chains.fill_(1e3)
    torch.manual_seed(5)
    model.training_step(observed(), sgd(model))
    torch.manual_seed(5)
    assert torch.allclose(model.chains, sigma * torch.randn(3, 1, 8, 8))


def test_replay_buffer_restarts_the_stated_fraction_and_writes_back():
    n, restart = 4000, 0.25
    model = tiny("buffer", n_chains=n, buffer_size=n, restart=restart, n_steps=1, step_size=0.01)
    rows_value = 10.0 * torch.arange(1, n + 1).float()
    model.replay.copy_(rows_value.view(-1, 1, 1, 1).expand_as(model.replay))
    torch.manual_seed(1)
    model.training_step(observed(), sgd(model))
    syn = model.chains
    fresh = syn.flatten(1).std(1) > 0.5                       # draws from q (σ = 1), not a constant row
    frac = float(fresh.float().mean())
    assert abs(frac - restart) < 4 * (restart * (1 - restart) / n) ** 0.5
    rows = (syn[~fresh].flatten(1).mean(1) / 10).round().long() - 1   # which row each kept chain came from
    assert torch.allclose(syn[~fresh].flatten(1).mean(1), rows_value[rows], rtol=1e-4, atol=0.05)
    # every synthesis went back to its row; a row drawn twice holds one of its syntheses (maybe a restarted one)
    noisy = model.replay.flatten(1).std(1) > 0.5
    for j, r in zip(torch.nonzero(~fresh).flatten()[:300].tolist(), rows[:300].tolist()):
        same_row = syn[~fresh][rows == r]
        assert bool(noisy[r]) or any(torch.allclose(model.replay[r], c, rtol=1e-4, atol=1e-5) for c in same_row)
    assert int(noisy.sum()) <= int(fresh.sum()) and float(noisy.float().mean()) > 0.5 * restart
    assert float(torch.cdist(model.replay[noisy].flatten(1), syn[fresh].flatten(1)).min(1).values.max()) < 0.05


def test_learning_step_is_ascent_on_the_gap_plus_the_energy_regulariser():
    for lam in (0.0, 1e-3):
        torch.manual_seed(2)
        model, data = tiny("noise", regulariser=lam), observed()
        start = copy.deepcopy(model)
        torch.manual_seed(2)
        out = model.training_step(data, sgd(model, lr=1e-4))
        syn = model.chains
        f_obs, f_syn = start(data), start(syn)
        loss = -(f_obs.mean() - f_syn.mean()) + lam * (f_obs.pow(2).mean() + f_syn.pow(2).mean())
        grads = torch.autograd.grad(loss, list(start.parameters()))
        for p_new, p_old, g in zip(model.parameters(), start.parameters(), grads):
            assert torch.allclose(p_new, p_old - 1e-4 * g, atol=1e-6)
        assert torch.allclose(out["gap"], f_obs.mean() - f_syn.mean(), rtol=1e-5)
        assert ("regulariser" in out) == (lam > 0)


def test_contrastive_divergence_step_records_reconstruction_before_the_update_and_pattern_kept():
    model, data = tiny("data", n_steps=0, n_chains=2, sigma=0.7), observed()
    x = data.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).sum(), x)                  # B = ∂f/∂I on each image's piece
    rec = (data - 0.7**2 * grad).pow(2).flatten(1).sum(1).mean()
    out = model.training_step(data, sgd(model, lr=1e-2))
    assert torch.allclose(out["reconstruction"], rec)
    assert float(out["units_kept"]) == 1.0 and float(out["pattern_kept"]) == 1.0   # zero steps keep everything
    model = tiny("data", n_steps=1, step_size=1.9, n_chains=2)
    out = model.training_step(data, sgd(model))
    assert float(out["units_kept"]) < 1.0


# ------------------------------------------------------------------------------------------- config fields

def test_config_fields_change_what_they_should():
    assert ebm.GenerativeConvNet().config is not ebm.GenerativeConvNet().config
    assert ebm.ConvNetConfig().layers is not None
    m = tiny(n_chains=5, sigma=0.8, step_size=0.3, n_steps=4)
    assert m.chains.shape == (5, 1, 8, 8) and "replay" not in m.state_dict()
    x = observed(3)
    state = torch.random.get_rng_state()
    ours = m.sample_from(x)
    torch.random.set_rng_state(state)
    assert torch.allclose(ours, ebm.langevin(m, x, 4, 0.3, 0.8), atol=1e-5)
    # sample(n): chains from the reference q = N(0, σ²·1), drawn first from the generator, then sample_from
    drawn = m.sample(3, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    start = 0.8 * torch.randn(3, 1, 8, 8, generator=g)
    torch.testing.assert_close(drawn, m.sample_from(start, generator=g))
    assert not torch.equal(drawn, m.sample(3, generator=torch.Generator().manual_seed(2)))
    b = tiny("buffer", buffer_size=7)
    assert b.replay.shape == (7, 1, 8, 8) and "replay" in b.state_dict()
    lin = tiny(top="linear")
    assert lin.head is not None and lin.head.in_features == 4 * 4 * 4
    assert [c.out_channels for c in tiny(layers=((3, 3, 1), (5, 3, 1))).convs] == [3, 5]
    for lr in (1e-3, 1e-2):   # Adam's first step moves every weight by about lr
        torch.manual_seed(0)
        m = tiny("noise", lr=lr)
        w0 = m.convs[0].weight.detach().clone()
        opts = m.configure_optimizers()
        m.training_step(observed(), opts if isinstance(opts, dict) else {"opt": opts})
        step = (m.convs[0].weight - w0).abs()
        assert torch.allclose(step.max(), torch.tensor(lr), rtol=0.05)
    with pytest.raises(ValueError, match="init must be one of"):
        ebm.ConvNetConfig(init="warm")
    with pytest.raises(ValueError, match="restart"):
        ebm.ConvNetConfig(restart=1.5)
    with pytest.raises(ValueError, match="regulariser"):
        ebm.ConvNetConfig(regulariser=-1.0)
    with pytest.raises(ValueError, match="buffer_size"):
        ebm.ConvNetConfig(init="buffer", n_chains=8, buffer_size=4)


def test_fit_persists_chains_and_checkpoints_carry_them(tmp_path):
    torch.manual_seed(7)
    I, _ = ebm.center(gm.data.textures.texture("gravel", 12).x)
    model = ebm.GenerativeConvNet(ebm.ConvNetConfig(channels=1, size=12, layers=((6, 3, 1), (8, 3, 2)), n_chains=3,
                                                    n_steps=2, init="buffer", buffer_size=6))
    assert torch.count_nonzero(model.chains) == 0 and torch.count_nonzero(model.replay) == 0
    h = gm.train.fit(model, I, epochs=3, batch_size=1, checkpoint=tmp_path / "ebm.pt", progress=False)
    assert len(h["gap"]) == 3 and torch.count_nonzero(model.replay) > 0
    again = ebm.GenerativeConvNet(copy.deepcopy(model.config))
    gm.train.load(again, tmp_path / "ebm.pt")
    assert torch.equal(again.chains, model.chains) and torch.equal(again.replay, model.replay)
