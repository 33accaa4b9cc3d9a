"""Tests of latent diffusion (gm.diffusion.latent) and the memorisation distance (gm.metrics.nearest_distance)
against independent references: NumPy's moments, a closed-form Gaussian pushforward, scikit-learn's neighbours."""
import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors
from torch import nn

from genmodels import diffusion as dm
from genmodels import metrics


def gaussian_codes(n=20000, seed=0):
    g = torch.Generator().manual_seed(seed)
    mean, std = torch.tensor([3.0, -1.0]), torch.tensor([0.5, 2.0])
    return mean + std * torch.randn(n, 2, generator=g, dtype=torch.float64), mean, std


def test_code_scale_matches_numpy_moments_and_inverts():
    z, _, _ = gaussian_codes(500)
    scale = dm.CodeScale.of(z)
    np.testing.assert_allclose(scale.mean.numpy(), z.numpy().mean(0), rtol=1e-12)
    np.testing.assert_allclose(scale.std.numpy(), z.numpy().std(0, ddof=1), rtol=1e-12)
    u = scale.standardise(z)
    np.testing.assert_allclose(u.numpy().mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(u.numpy().std(0, ddof=1), 1.0, rtol=1e-12)
    torch.testing.assert_close(scale.unstandardise(u), z)


def test_code_scale_refuses_bad_codes():
    with pytest.raises(ValueError, match="constant"):
        dm.CodeScale.of(torch.stack([torch.randn(10), torch.ones(10)], 1))
    with pytest.raises(ValueError, match="shape"):
        dm.CodeScale.of(torch.randn(10, 2, 2))
    with pytest.raises(ValueError, match="at least 2"):
        dm.CodeScale.of(torch.randn(1, 3))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        dm.CodeScale.of(torch.randn(10, 2)).standardise(torch.randn(4, 3))


class ExactStandardField(nn.Module):
    """The marginal flow-matching field for N(0, I) noise to N(0, I) data on the straight path:
    Cov(x_1 − x_0, x_t) = (2t − 1) I and Var(x_t) = ((1 − t)² + t²) I, so E[x_1 − x_0 | x_t] = (2t − 1)/((1 − t)² + t²) x_t."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))      # Denoiser.sample reads its device from a parameter

    def forward(self, x, c, y=None):
        t = c[:, None]
        return (2 * t - 1) / ((1 - t) ** 2 + t**2) * x


def test_latent_sample_pushes_the_exact_field_through_scale_and_decoder_to_the_closed_form():
    z, mean, std = gaussian_codes()
    scale = dm.CodeScale.of(z)
    model = dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=16))
    model.net = ExactStandardField()                     # what a perfectly trained denoiser on scale.standardise(z) is
    A, b = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], dtype=torch.float64), torch.tensor([0.5, 1.0, -2.0],
                                                                                                       dtype=torch.float64)
    decode = lambda codes: codes.double() @ A.T + b  # noqa: E731  a linear "decoder" (3-D outputs)
    n = 40000
    torch.manual_seed(1)
    x = dm.latent_sample(model, scale, decode, n, "heun", 40, generator=torch.Generator().manual_seed(2))
    assert x.shape == (n, 3)
    # closed form: z ~ N(m, diag s²) ⇒ A z + b ~ N(A m + b, A diag(s²) Aᵀ)
    want_mean = (A @ mean.double() + b).numpy()
    want_cov = (A @ torch.diag(std.double() ** 2) @ A.T).numpy()
    got = x.double().numpy()
    se = np.sqrt(np.diag(want_cov) / n)
    np.testing.assert_allclose(got.mean(0), want_mean, atol=5 * se.max() + 1e-3)
    np.testing.assert_allclose(np.cov(got, rowvar=False), want_cov, rtol=0.05, atol=0.05)


def test_latent_sample_refuses_a_denoiser_of_another_size():
    scale = dm.CodeScale.of(torch.randn(50, 4))
    model = dm.Denoiser(dm.DenoiserConfig(shape=(3,), objective="flow", width=16))
    with pytest.raises(ValueError, match="4 dimensions"):
        dm.latent_sample(model, scale, lambda c: c, 5, steps=2)


def test_nearest_distance_matches_scikit_learn():
    g = torch.Generator().manual_seed(0)
    ref = torch.rand(300, 1, 6, 6, generator=g)
    x = torch.cat([torch.rand(70, 1, 6, 6, generator=g), ref[:5] + 0.01])   # five near-copies
    got = metrics.nearest_distance(x, ref, batch_size=32)
    want, _ = NearestNeighbors(n_neighbors=1).fit(ref.flatten(1).numpy()).kneighbors(x.flatten(1).numpy())
    np.testing.assert_allclose(got.numpy(), want[:, 0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got[-5:].numpy(), 0.01 * 6, rtol=1e-4)  # ‖0.01·1‖ over 36 pixels = 0.06


def test_nearest_distance_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        metrics.nearest_distance(torch.rand(3, 1, 4, 4), torch.rand(5, 1, 5, 5))
    with pytest.raises(ValueError, match="float tensor"):
        metrics.nearest_distance(torch.ones(3, 4, dtype=torch.long), torch.rand(5, 4))
