"""Every model refuses bad training data before its first step (``Model.check_data``, called once by ``fit``),
with the package's exception types: ``ValueError`` for a wrong shape or range, ``NonFiniteValuesError`` (a
``NonFiniteLossError``) for NaN or inf. The weights are untouched by a refused run."""
import pytest
import torch

import genmodels as gm
from genmodels import diffusion as dm
from genmodels import lowlight as L


def _refused(model, data, error, match, **kw):
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        gm.train.fit(model, data, epochs=1, batch_size=8, device="cpu", progress=False, **kw)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "a refused run changed the weights"


def _rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_gan_refuses_validation_images_outside_the_unit_range():
    model = gm.gan.GAN(gm.gan.GANConfig(latent_dim=4, width=8))
    x = _rand(8, 1, 28, 28)
    with pytest.raises(ValueError, match=r"validation_step: expected values in \[0, 1\]"):
        model.validation_step(255 * x)


def test_toy_gan_refuses_non_finite_points_and_wrong_shapes():
    x = torch.randn(16, 2)
    x[3, 1] = float("nan")
    _refused(gm.gan.ToyGAN(gm.gan.ToyGANConfig(width=8)), x, gm.train.NonFiniteLossError, "NaN or inf")
    _refused(gm.gan.ToyGAN(gm.gan.ToyGANConfig(width=8)), torch.randn(16, 3), ValueError, r"\(N, 2\)")


def test_mnist_classifier_refuses_unscaled_digits_and_bad_labels():
    x, y = _rand(16, 1, 28, 28), torch.arange(16) % 10
    _refused(gm.metrics.MNISTClassifier(), (255 * x, y), ValueError, r"digits: expected values in \[0, 1\]")
    _refused(gm.metrics.MNISTClassifier(), (x, y + 1), ValueError, "labels")          # a label 10
    _refused(gm.metrics.MNISTClassifier(), (x, y.float()), ValueError, "integer labels")


def test_denoiser_refuses_non_finite_data_wrong_shapes_and_bad_labels():
    x = torch.randn(16, 2)
    x[0, 0] = float("inf")
    _refused(dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=8)), x,
             gm.train.NonFiniteLossError, "finite")
    _refused(dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=8)), torch.randn(16, 3),
             ValueError, r"shape \(2,\)")
    cond = dm.Denoiser(dm.DenoiserConfig(shape=(2,), objective="flow", width=8, n_classes=3))
    _refused(cond, (torch.randn(16, 2), torch.full((16,), 3)), ValueError, r"labels in 0\.\.2")
    _refused(cond, torch.randn(16, 2), ValueError, r"needs batches \(x, y\)")


def test_noise_conditional_score_refuses_non_finite_vectors():
    x = torch.randn(16, 2)
    x[5] = float("nan")
    _refused(dm.NoiseConditionalScore(dm.ScoreConfig(width=8)), x, gm.train.NonFiniteLossError, "finite")
    _refused(dm.NoiseConditionalScore(dm.ScoreConfig(width=8)), torch.randn(16, 3), ValueError, r"\(N, 2\)")


def test_enhancer_gan_refuses_a_normal_light_domain_outside_the_unit_range():
    cfg = L.EnhancerConfig(width=4, depth=3, d_width=8)
    x, y = _rand(8, 3, 32, 32), _rand(8, 3, 32, 32, seed=1)
    _refused(L.EnhancerGAN(cfg, phi=L.OrientedEnergy()), (x, 255 * y), ValueError,
             r"y \(normal-light\): expected values in \[0, 1\]")
    _refused(L.EnhancerGAN(cfg, phi=L.OrientedEnergy()), (x, y[:, :1]), ValueError, "RGB")
