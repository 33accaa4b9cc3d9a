"""Tests of genmodels.nmf: multiplicative NMF against scikit-learn, the NAE updates against autograd."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import NMF

import genmodels as gm
from genmodels import nae, nmf


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
    W_E, W_D = nae.nae_init(V, W_C, H_C, seed=seed)
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
    W_E1, W_D1, _, _ = nae.nae_multiplicative(V, W_E, W_D, H_C, n_iter=1, eps=0.0)
    torch.testing.assert_close(W_E1, W_E * neg_E / pos_E)
    # the decoder is updated with the new encoder's activations
    (_, pos_D), (_, neg_D), (_, full_D1) = gradient_parts(V, W_E1, W_D, H_C)
    torch.testing.assert_close(pos_D - neg_D, full_D1)
    torch.testing.assert_close(W_D1, W_D * neg_D / pos_D)


def test_multiplicative_nae_decreases_error_and_keeps_zeros():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=1)
    W_E1, W_D1, errors, _ = nae.nae_multiplicative(V, W_E, W_D, H_C, n_iter=100, error="frobenius")
    assert errors[-1] < 0.5 * errors[0]
    assert torch.all(W_D1[W_C == 0] == 0) and (W_E1 >= 0).all()
    with pytest.raises(ValueError, match="nonnegative"):
        nae.nae_multiplicative(V, -W_E, W_D, H_C, n_iter=1)



def test_multiplicative_nae_is_scale_free_and_sgd_is_not():
    """Chapter 3: "additive methods depend on the scale of the data, multiplicative ones do not". With V → cV
    and the same start, the multiplicative NAE takes exactly the same weights (ε = 0) and its error scales by c;
    SGD at one learning rate takes other weights."""
    V, W_E, W_D, W_C, H_C = nae_problem(seed=4)
    c = 1000.0
    a = nae.nae_multiplicative(V, W_E.clone(), W_D.clone(), H_C, n_iter=20, eps=0.0)
    b = nae.nae_multiplicative(c * V, W_E.clone(), W_D.clone(), H_C, n_iter=20, eps=0.0)
    torch.testing.assert_close(b.first, a.first, rtol=1e-9, atol=0)  # the encoder W_E
    torch.testing.assert_close(b.second, a.second, rtol=1e-9, atol=0)  # the decoder W_D
    np.testing.assert_allclose(b.errors, c * a.errors, rtol=1e-9)
    assert not torch.equal(a.first, W_E)  # the weights did move
    sgd = [nae.train_nae(s * V.float(), W_E.float(), W_D.float(), W_C.float(), H_C.float(), "sgd", n_iter=5,
                         lr=2e-4, device="cpu", progress=False)[0].W_D.detach() for s in (1.0, 2.0)]
    assert float((sgd[1] - sgd[0]).norm() / sgd[0].norm()) > 0.01

@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_projected_nae_training_through_fit(optimizer):
    V, W_E, W_D, W_C, H_C = nae_problem(seed=2)
    lr = {"sgd": 2e-4, "adam": 1e-2, "rmsprop": 1e-2}[optimizer]  # φ is a sum: SGD needs a small step
    model, history = nae.train_nae(V.float(), W_E.float(), W_D.float(), W_C.float(), H_C.float(),
                                   optimizer, n_iter=150, lr=lr, device="cpu")
    errors = history["l1_error"]
    assert errors.shape == (150,) and history["loss"].shape == (150,)
    assert errors[-1] < 0.75 * errors[0] and history["loss"][-1] < 0.6 * history["loss"][0]
    W_D1 = model.W_D.detach()
    assert (W_D1 >= 0).all() and torch.all(W_D1[W_C.float() == 0] == 0)
    expected = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[optimizer]
    assert isinstance(model.configure_optimizers()["opt"], expected)
    # the model's reconstruction equals the matrix formula
    V_hat = model.W_D.detach() @ nae.nae_activations(model.W_E.detach(), V.float(), H_C.float())
    torch.testing.assert_close(model(V.float().T, H_C.float().T).detach(), V_hat.T)


def numpy_gradients(V, W_E, W_D, H_C):
    """Eq. (nmf-nae-grad) in NumPy: the gradients of φ = ||V − W_D H'||²_F, written from the formula."""
    v, e, d, c = (x.numpy() for x in (V, W_E, W_D, H_C))
    A = e @ v
    D = c * (A > 0)
    H = np.maximum(A, 0) * c
    g_D = 2 * (d @ H @ H.T - v @ H.T)
    g_E = 2 * (((d.T @ d @ H) * D) @ v.T - ((d.T @ v) * D) @ v.T)
    return g_E, g_D, float(((v - d @ H) ** 2).sum())


def signed_start(seed=3):
    V, W_E, W_D, W_C, H_C = nae_problem(seed=seed)
    g = torch.Generator().manual_seed(seed + 100)  # not nae_init's stream, which drew W_E itself
    W_E = W_E - 1.5 * W_E.mean() * torch.rand(W_E.shape, generator=g, dtype=W_E.dtype)  # some entries < 0
    return V, W_E, W_D, W_C, H_C


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_nae_sgd_step_is_the_projected_gradient_step_of_the_papers_loss(reduction):
    V, W_E, W_D, W_C, H_C = signed_start()
    assert (W_E < 0).any()
    lr = 1e-3
    model = nae.NAE(nae.NAEConfig(30, 4, "sgd", lr, reduction=reduction), W_E, W_D, W_C)
    g_E, g_D, phi = numpy_gradients(V, W_E, W_D, H_C)
    out = model.training_step((V.T, H_C.T), model.configure_optimizers())
    scale = 1.0 if reduction == "sum" else 1.0 / V.numel()  # the mean divides φ and its gradient by N·K
    assert float(out["loss"]) == pytest.approx(phi * scale, rel=1e-12)
    np.testing.assert_allclose(model.W_E.detach().numpy(), W_E.numpy() - lr * scale * g_E, rtol=1e-10, atol=1e-14)
    projected = np.maximum(W_D.numpy() - lr * scale * g_D, 0) * W_C.numpy()  # Eq. (nmf-nae-proj)
    np.testing.assert_allclose(model.W_D.detach().numpy(), projected, rtol=1e-10, atol=1e-14)
    l1 = np.abs(V.numpy() - W_D.numpy() @ (np.maximum(W_E.numpy() @ V.numpy(), 0) * H_C.numpy())).sum(0).mean()
    assert float(out["l1_error"]) == pytest.approx(l1, rel=1e-12)


def test_nonnegative_encoder_is_projected_after_each_step():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=4)
    lr = 0.05  # large enough that the unprojected step makes entries of W_E negative
    g_E, _, _ = numpy_gradients(V, W_E, W_D, H_C)
    step = W_E.numpy() - lr * g_E
    assert (step < 0).any()
    for encoder, expected in [("nonnegative", np.maximum(step, 0)), ("signed", step)]:
        model = nae.NAE(nae.NAEConfig(30, 4, "sgd", lr, encoder=encoder), W_E, W_D, W_C)
        model.training_step((V.T, H_C.T), model.configure_optimizers())
        np.testing.assert_allclose(model.W_E.detach().numpy(), expected, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="nonnegative encoder"):
        nae.NAE(nae.NAEConfig(30, 4, encoder="nonnegative"), -W_E, W_D, W_C)


def test_fit_refuses_nae_data_that_is_not_nonnegative_columns():
    from genmodels.data.base import NonFiniteValuesError

    V, W_E, W_D, W_C, H_C = nae_problem(seed=4)
    model = nae.NAE(nae.NAEConfig(30, 4, "sgd", 1e-3), W_E, W_D, W_C)
    signed = V.clone()
    signed[0, 0] = -0.5
    with pytest.raises(ValueError, match=r"nonnegative entries; the smallest is -0.5"):
        gm.train.fit(model, (signed.T, H_C.T), epochs=1, batch_size=V.shape[1], progress=False)
    broken = V.clone()
    broken[1, 1] = float("inf")
    with pytest.raises(NonFiniteValuesError):
        gm.train.fit(model, (broken.T, H_C.T), epochs=1, batch_size=V.shape[1], progress=False)
    with pytest.raises(ValueError, match=r"expected width 30"):     # 20 of the 30 frequency bins
        gm.train.fit(model, (V.T[:, :20], H_C.T), epochs=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match=r"expected the tuple"):
        gm.train.fit(model, V.T, epochs=1, batch_size=4, progress=False)


def test_rmsprop_and_adam_steps_use_the_papers_hyper_parameters():
    V, W_E, W_D, W_C, H_C = signed_start(seed=5)
    g_E, _, _ = numpy_gradients(V, W_E, W_D, H_C)
    lr = 1e-3
    # RMSprop, ρ = 0.9, ε = 1e-7, from s = 0: θ ← θ − γ g / (sqrt((1 − ρ) g²) + ε)
    model = nae.NAE(nae.NAEConfig(30, 4, "rmsprop", lr), W_E, W_D, W_C)
    model.training_step((V.T, H_C.T), model.configure_optimizers())
    expected = W_E.numpy() - lr * g_E / (np.sqrt(0.1 * g_E**2) + 1e-7)
    np.testing.assert_allclose(model.W_E.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
    # Adam's first step, bias-corrected: θ ← θ − γ g / (|g| + ε)
    model = nae.NAE(nae.NAEConfig(30, 4, "adam", lr), W_E, W_D, W_C)
    model.training_step((V.T, H_C.T), model.configure_optimizers())
    expected = W_E.numpy() - lr * g_E / (np.abs(g_E) + 1e-7)
    np.testing.assert_allclose(model.W_E.detach().numpy(), expected, rtol=1e-9, atol=1e-12)


def test_nae_config_rejects_bad_fields_and_fills_paper_rates():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        nae.NAEConfig(K=3, R=2, optimizer="adagrad")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nae.NAEConfig(K=3, R=2, reduction="max")
    with pytest.raises(ValueError, match="encoder must be one of"):
        nae.NAEConfig(K=3, R=2, encoder="positive")
    with pytest.raises(ValueError, match="lr must be positive"):
        nae.NAEConfig(K=3, R=2, lr=0.0)
    assert nae.NAEConfig(K=3, R=2, optimizer="sgd").lr == 0.1
    assert nae.NAEConfig(K=3, R=2).reduction == "sum" and nae.NAEConfig(K=3, R=2).encoder == "signed"
    with pytest.raises(ValueError, match="W_E: expected shape"):
        nae.NAE(nae.NAEConfig(K=3, R=2), torch.rand(3, 2), torch.rand(3, 2), torch.ones(3, 2))
    V, W_E, W_D, W_C, H_C = nae_problem()
    model, _ = nae.train_nae(V, W_E, W_D, W_C, H_C, "sgd", n_iter=1, lr=1e-4, reduction="mean",
                             encoder="nonnegative", device="cpu", progress=False)
    assert (model.config.reduction, model.config.encoder, model.config.lr) == ("mean", "nonnegative", 1e-4)
    other, _ = nae.train_nae(V, W_E, W_D, W_C, H_C, "sgd", n_iter=1, device="cpu", progress=False)
    assert other.config is not model.config and other.config.lr == 0.1


def lee_seung_operator(V, W_D, H_C):
    """The matrix L with vec(W_D (H^C ⊙ (W_E V))) = L vec(W_E), built entry by entry (row-major vec)."""
    K, N = V.shape
    R = W_D.shape[1]
    # L[(k, n), (r, j)] = W_D[k, r] H^C[r, n] V[j, n]
    return np.einsum("kr,rn,jn->knrj", W_D.numpy(), H_C.numpy(), V.numpy()).reshape(K * N, R * K)


def test_multiplicative_encoder_step_is_lee_seung_nnls_on_a_nonnegative_operator():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=6)
    L = lee_seung_operator(V, W_D, H_C)
    assert (L >= 0).all()
    v, x = V.numpy().reshape(-1), W_E.numpy().reshape(-1)
    np.testing.assert_allclose(L @ x, (W_D @ nae.nae_activations(W_E, V, H_C)).numpy().reshape(-1), rtol=1e-12)
    x_new = x * (L.T @ v) / (L.T @ L @ x)
    W_E1, _, _, _ = nae.nae_multiplicative(V, W_E, W_D, H_C, n_iter=1, eps=0.0, error=None)
    np.testing.assert_allclose(W_E1.numpy().reshape(-1), x_new, rtol=1e-10)
    assert np.sum((v - L @ x_new) ** 2) <= np.sum((v - L @ x) ** 2)


def test_multiplicative_nae_loss_never_increases():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=7)
    _, _, errors, _ = nae.nae_multiplicative(V, W_E, W_D, H_C, n_iter=200, error="frobenius")
    assert np.all(np.diff(errors) <= 1e-10 * errors[:-1]), np.diff(errors).max()


def test_nae_init_scales_the_encoder_to_the_least_squares_loudness():
    V, W_E, W_D, W_C, H_C = nae_problem(seed=8)
    assert (W_E >= 0).all()
    torch.testing.assert_close(W_D.sum(0), torch.ones(4, dtype=W_D.dtype))  # ℓ¹-normalised templates
    torch.testing.assert_close(W_D > 0, W_C > 0)
    V_hat = W_D @ nae.nae_activations(W_E, V, H_C)
    # c minimises ||V − c V̂||²: the residual is orthogonal to V̂, so no other scale fits better
    assert float(((V - V_hat) * V_hat).sum()) == pytest.approx(0.0, abs=1e-10 * float((V * V).sum()))


def test_random_init_matches_the_mean_of_V_and_keeps_device_and_dtype():
    V, _, _ = problem(K=200, N=300, R=10, dtype=torch.float32)
    W, H = nmf.random_init(V, 10, seed=3)
    assert W.dtype == H.dtype == torch.float32 and (W > 0).all() and (H > 0).all()
    assert float((W @ H).mean()) == pytest.approx(float(V.mean()), rel=0.05)


def test_step_cap_reaches_the_multiplicative_loops(monkeypatch):
    V, W_E, W_D, W_C, H_C = nae_problem(seed=9)
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "3")
    assert nmf.nmf(V, R=4, n_iter=50).errors.shape == (4,)
    assert nae.nae_multiplicative(V, W_E, W_D, H_C, n_iter=50).errors.shape == (4,)
    _, history = nae.train_nae(V, W_E, W_D, W_C, H_C, "rmsprop", n_iter=50, device="cpu", progress=False)
    assert history["l1_error"].shape == (3,)


def test_constraints_equal_a_loop_over_bins_harmonics_and_frames():
    notes = torch.tensor([[0.0, 0.4, 40.0], [0.3, 0.9, 76.0], [1.0, 1.2, 40.0]], dtype=torch.float64)
    n_fft, sr, hop, n_frames = 512, 8000, 128, 90
    kw = dict(sr=sr, n_fft=n_fft, hop=hop, n_harmonics=5, width_semitones=0.7, min_bins=1.5,
              onset_tol=0.05, offset_tol=0.15)
    W_C, H_C, pitches = nmf.constraints_from_score(notes, n_frames, **kw)
    W_ref = np.zeros((n_fft // 2 + 1, 2))
    for r, p in enumerate([40, 76]):
        f0 = 440 * 2 ** ((p - 69) / 12)
        for m in range(1, 6):
            half = max(m * f0 * (2 ** (0.7 / 12) - 1), 1.5 * sr / n_fft)
            for k in range(n_fft // 2 + 1):
                if abs(k * sr / n_fft - m * f0) <= half:
                    W_ref[k, r] = 1
    H_ref = np.zeros((2, n_frames))
    for onset, offset, p in notes.tolist():
        for n in range(n_frames):
            if onset - 0.05 <= n * hop / sr <= offset + 0.15:
                H_ref[[40, 76].index(int(p)), n] = 1
    np.testing.assert_array_equal(W_C.numpy(), W_ref)
    np.testing.assert_array_equal(H_C.numpy(), H_ref)
    assert pitches.tolist() == [40, 76]
    assert 0 < W_ref[:, 0].sum() < W_ref[:, 1].sum()  # the bands widen with the pitch (and the floor is hit)


def test_each_separation_mask_is_its_share_of_the_model():
    V, W0, H0 = problem(seed=5)
    w, h = W0.numpy(), H0.numpy()
    for rows in ([1], [0, 3]):
        expected = (w[:, rows] @ h[rows]) / (w @ h)
        np.testing.assert_allclose(nmf.separation_mask(W0, H0, rows, eps=0.0).numpy(), expected, rtol=1e-12)


def test_separation_masks_sum_to_one():
    V, W0, H0 = problem(seed=5)
    masks = [nmf.separation_mask(W0, H0, [r]) for r in range(5)]
    torch.testing.assert_close(sum(masks), torch.ones_like(V), rtol=1e-6, atol=1e-6)
