"""Tests of genmodels.nmf: multiplicative NMF against scikit-learn, the NAE updates against autograd."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import NMF

import genmodels as gm
from genmodels import nmf


def problem(K=40, N=60, R=5, seed=0, dtype=torch.float64):
    """A nonnegative V that is close to rank R, plus a random nonnegative initialisation."""
    g = torch.Generator().manual_seed(seed)
    V = torch.rand(K, R, generator=g, dtype=torch.float64) @ torch.rand(R, N, generator=g, dtype=torch.float64)
    V = V + 0.05 * torch.rand(K, N, generator=g, dtype=torch.float64)
    W0, H0 = nmf.random_init(V, R, seed=seed + 1)
    return V.to(dtype), W0.to(dtype), H0.to(dtype)


def test_nmf_matches_scikit_learn_from_same_init():
    V, W0, H0 = problem()
    W, H, errors, seconds = nmf.nmf(V, n_iter=300, W=W0, H=H0, error="frobenius")
    ours = float(((V - W @ H) ** 2).sum())
    # scikit-learn updates W before H, we update H before W: on Vᵀ = Hᵀ Wᵀ the orders coincide
    sk = NMF(n_components=5, init="custom", solver="mu", beta_loss="frobenius", max_iter=300, tol=0.0)
    Ht_sk = sk.fit_transform(V.numpy().T.copy(), W=H0.numpy().T.copy(), H=W0.numpy().T.copy())
    np.testing.assert_allclose(H.numpy(), Ht_sk.T, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(W.numpy(), sk.components_.T, rtol=1e-6, atol=1e-10)
    # in its own order on V it reaches the same error within 1% once both have converged
    W3, H3, _, _ = nmf.nmf(V, n_iter=3000, W=W0, H=H0, error=None)
    sk = NMF(n_components=5, init="custom", solver="mu", beta_loss="frobenius", max_iter=3000, tol=0.0)
    W_sk = sk.fit_transform(V.numpy(), W=W0.numpy().copy(), H=H0.numpy().copy())
    theirs = float(((V.numpy() - W_sk @ sk.components_) ** 2).sum())
    assert abs(float(((V - W3 @ H3) ** 2).sum()) - theirs) <= 0.01 * theirs
    assert errors.shape == (301,) and seconds.shape == (301,) and np.all(np.diff(seconds) >= 0)
    assert errors[-1] == pytest.approx(ours, rel=1e-9)


def test_one_nmf_iteration_equals_the_formula_in_numpy():
    V, W0, H0 = problem(seed=3)
    W, H, _, _ = nmf.nmf(V, n_iter=1, W=W0, H=H0, eps=1e-12)
    v, w, h = V.numpy(), W0.numpy(), H0.numpy()
    h = h * (w.T @ v) / (w.T @ w @ h + 1e-12)
    w = w * (v @ h.T) / (w @ h @ h.T + 1e-12)
    np.testing.assert_allclose(H.numpy(), h, rtol=1e-12)
    np.testing.assert_allclose(W.numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_frobenius_error_never_increases(dtype):
    V, W0, H0 = problem(K=30, N=50, R=6, seed=1, dtype=dtype)
    W, H, errors, _ = nmf.nmf(V, n_iter=200, W=W0, H=H0, error="frobenius")
    assert W.dtype == H.dtype == dtype
    slack = 1e-10 if dtype == torch.float64 else 1e-4
    assert np.all(np.diff(errors) <= slack * errors[:-1]), np.diff(errors).max()
    assert errors[-1] < 0.5 * errors[0]


def test_zeros_of_the_constraints_stay_zero():
    V, W0, H0 = problem(seed=2)
    g = torch.Generator().manual_seed(0)
    W_C = (torch.rand(W0.shape, generator=g) < 0.5).double()
    H_C = (torch.rand(H0.shape, generator=g) < 0.5).double()
    W, H, _, _ = nmf.nmf(V, n_iter=100, W=W0 * W_C, H=H0 * H_C)
    assert torch.all(W[W_C == 0] == 0) and torch.all(H[H_C == 0] == 0)
    assert torch.all(W[W_C == 1] > 0) and torch.all(H[H_C == 1] > 0)


def test_bad_inputs_raise_clear_errors():
    V, W0, H0 = problem()
    with pytest.raises(ValueError, match="nonnegative"):
        nmf.nmf(V - 0.5, R=3, n_iter=1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        nmf.nmf(V.masked_fill(V > 0.9, float("nan")), R=3, n_iter=1)
    with pytest.raises(ValueError, match=r"expected shape \(40, 5\)"):
        nmf.nmf(V, n_iter=1, W=W0[:-1], H=H0)
    with pytest.raises(ValueError, match="2 dimensions"):
        nmf.nmf(V[0], R=3)
    with pytest.raises(ValueError, match="error must be"):
        nmf.nmf(V, R=3, error="kl")
    with pytest.raises(ValueError, match="give the rank"):
        nmf.nmf(V)


def test_error_and_normalisation_against_numpy():
    V, W0, H0 = problem(seed=4)
    V_hat = W0 @ H0
    expected = np.abs(V.numpy() - V_hat.numpy()).sum(axis=0).mean()
    assert nmf.columnwise_l1_error(V, V_hat) == pytest.approx(expected, rel=1e-12)
    W_C = W0.clone()
    W_C[:, 2] = 0
    W, H = nmf.normalize_columns(W_C, H0)
    torch.testing.assert_close(W @ H, W_C @ H0)
    torch.testing.assert_close(W.sum(0), torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0], dtype=W.dtype))


def test_constraints_from_score_mark_harmonics_and_note_spans():
    notes = torch.tensor([[0.0, 1.0, 69.0], [0.5, 2.0, 57.0], [1.5, 2.0, 69.0]], dtype=torch.float64)
    n_frames = 60
    W_C, H_C, pitches = nmf.constraints_from_score(notes, n_frames, onset_tol=0.1, offset_tol=0.2)
    assert pitches.tolist() == [57, 69]
    assert W_C.shape == (1025, 2) and H_C.shape == (2, n_frames)
    freqs = gm.data.piano.bin_frequencies()
    for r, f0 in enumerate([220.0, 440.0]):
        for h in (1, 2, 5):
            assert W_C[int(torch.argmin((freqs - h * f0).abs())), r] == 1
        assert W_C[int(torch.argmin((freqs - 1.5 * f0).abs())), r] == 0  # between harmonics
    t = gm.data.piano.frame_times(n_frames)
    a4 = ((t >= -0.1) & (t <= 1.2)) | ((t >= 1.4) & (t <= 2.2))
    a3 = (t >= 0.4) & (t <= 2.2)
    assert torch.equal(H_C[1].bool(), a4) and torch.equal(H_C[0].bool(), a3)
    with pytest.raises(ValueError, match="not among the given pitches"):
        nmf.constraints_from_score(notes, n_frames, pitches=torch.tensor([69]))


def nae_problem(seed=0):
    V, _, _ = problem(K=30, N=40, R=4, seed=seed)
    g = torch.Generator().manual_seed(seed + 10)
    W_C = (torch.rand(30, 4, generator=g) < 0.6).double()
    H_C = (torch.rand(4, 40, generator=g) < 0.7).double()
    W_E, W_D = nmf.nae_init(V, W_C, H_C, seed=seed)
    return V, W_E, W_D, W_C, H_C


def gradient_parts(V, W_E, W_D, H_C):
    """Autograd's gradients of ||W_D H'||² (the positive part) and of 2⟨V, W_D H'⟩ (the negative part)."""
    W_E = W_E.clone().requires_grad_(True)
    W_D = W_D.clone().requires_grad_(True)

    def grad(loss_of_V_hat):
        V_hat = W_D @ (torch.relu(W_E @ V) * H_C)
        return torch.autograd.grad(loss_of_V_hat(V_hat), (W_E, W_D))

    positive = grad(lambda V_hat: (V_hat**2).sum())
    negative = grad(lambda V_hat: 2 * (V * V_hat).sum())
    full = grad(lambda V_hat: ((V - V_hat) ** 2).sum())
    return positive, negative, full


def test_multiplicative_nae_update_is_ratio_of_autograd_gradient_parts():
    V, W_E, W_D, W_C, H_C = nae_problem()
    (pos_E, _), (neg_E, _), (full_E, full_D) = gradient_parts(V, W_E, W_D, H_C)
    torch.testing.assert_close(pos_E - neg_E, full_E)
    assert (pos_E >= 0).all() and (neg_E >= 0).all()
    W_E1, W_D1, _, _ = nmf.nae_multiplicative(V, W_E, W_D, H_C, n_iter=1, eps=0.0)
    torch.testing.assert_close(W_E1, W_E * neg_E / pos_E)
    # the decoder is updated with the new encoder's activations
    (_, pos_D), (_, neg_D), (_, full_D1) = gradient_parts(V, W_E1, W_D, H_C)
    torch.testing.assert_close(pos_D - neg_D, full_D1)
    torch.testing.assert_close(W_D1, W_D * neg_D / pos_D)


def test_multiplicative_nae_decreases_error_and_keeps_zeros():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=1)
    W_E1, W_D1, errors, _ = nmf.nae_multiplicative(V, W_E, W_D, H_C, n_iter=100, error="frobenius")
    assert errors[-1] < 0.5 * errors[0]
    assert torch.all(W_D1[W_C == 0] == 0) and (W_E1 >= 0).all()
    with pytest.raises(ValueError, match="nonnegative"):
        nmf.nae_multiplicative(V, -W_E, W_D, H_C, n_iter=1)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_projected_nae_training_through_fit(optimizer):
    V, W_E, W_D, W_C, H_C = nae_problem(seed=2)
    lr = {"sgd": 0.5, "adam": 1e-2, "rmsprop": 1e-2}[optimizer]
    model, history = nmf.train_nae(V.float(), W_E.float(), W_D.float(), W_C.float(), H_C.float(),
                                   optimizer, n_iter=150, lr=lr, device="cpu")
    errors = history["l1_error"]
    assert errors.shape == (150,) and history["loss"].shape == (150,)
    assert errors[-1] < 0.75 * errors[0] and history["loss"][-1] < 0.6 * history["loss"][0]
    W_D1 = model.W_D.detach()
    assert (W_D1 >= 0).all() and torch.all(W_D1[W_C.float() == 0] == 0)
    expected = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[optimizer]
    assert isinstance(model.configure_optimizers()["opt"], expected)
    # the model's reconstruction equals the matrix formula
    V_hat = model.W_D.detach() @ nmf.nae_activations(model.W_E.detach(), V.float(), H_C.float())
    torch.testing.assert_close(model(V.float().T, H_C.float().T).detach(), V_hat.T)


def test_nae_config_rejects_unknown_optimizer_and_fills_paper_rates():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        nmf.NAEConfig(K=3, R=2, optimizer="adagrad")
    assert nmf.NAEConfig(K=3, R=2, optimizer="sgd").lr == 0.1
    with pytest.raises(ValueError, match="W_E: expected shape"):
        nmf.NAE(nmf.NAEConfig(K=3, R=2), torch.rand(3, 2), torch.rand(3, 2), torch.ones(3, 2))


def test_separation_masks_sum_to_one():
    V, W0, H0 = problem(seed=5)
    masks = [nmf.separation_mask(W0, H0, [r]) for r in range(5)]
    torch.testing.assert_close(sum(masks), torch.ones_like(V), rtol=1e-6, atol=1e-6)
