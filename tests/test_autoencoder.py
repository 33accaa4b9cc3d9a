"""Tests of gm.autoencoder: the reconstruction losses against explicit per-pixel formulas, the config fields,
decode/decode_logits, and the input checks."""
import pytest
import torch

import genmodels as gm
from genmodels.autoencoder import Autoencoder, AutoencoderConfig, reconstruction_loss


def _pair(seed=0, n=3):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, 1, 28, 28, generator=g, dtype=torch.float64), torch.rand(n, 1, 28, 28, generator=g, dtype=torch.float64)


def test_bernoulli_loss_is_the_per_image_sum_of_pixel_cross_entropies():
    logits, x = _pair()
    p = torch.sigmoid(logits)
    by_pixel = -(x * p.log() + (1 - x) * (1 - p).log())
    expected = torch.stack([by_pixel[i].sum() for i in range(len(x))])      # one image at a time
    assert torch.allclose(reconstruction_loss(logits, x, "bernoulli"), expected, rtol=1e-10)
    assert reconstruction_loss(logits, x).shape == (3,)


def test_gaussian_loss_is_half_the_squared_error_of_the_sigmoid_output():
    logits, x = _pair(1)
    expected = torch.stack([0.5 * ((torch.sigmoid(logits[i]) - x[i]) ** 2).sum() for i in range(len(x))])
    assert torch.allclose(reconstruction_loss(logits, x, "gaussian"), expected, rtol=1e-10)


def test_bad_inputs_raise_clear_errors():
    logits, x = _pair()
    with pytest.raises(ValueError, match="likelihood"):
        reconstruction_loss(logits, x, "poisson")
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_loss(logits[:, :, :27], x)
    with pytest.raises(ValueError, match="likelihood"):
        AutoencoderConfig(likelihood="laplace")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Autoencoder().encode(torch.full((2, 1, 28, 28), 3.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Autoencoder().loss(torch.full((2, 1, 28, 28), -0.5))


def test_decode_gives_images_and_loss_follows_the_config():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(latent_dim=3, width=4))
    z = 5 * torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model.decode_logits(z)
        assert torch.equal(model.decode(z), torch.sigmoid(logits))
        x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
        assert torch.equal(model(x), model.decode(model.encode(x)))
        for likelihood in ("bernoulli", "gaussian"):
            model.config = AutoencoderConfig(latent_dim=3, width=4, likelihood=likelihood)
            expected = reconstruction_loss(model.decode_logits(model.encode(x)), x, likelihood).mean()
            assert torch.allclose(model.loss(x)["loss"], expected)
    assert Autoencoder().config is not Autoencoder().config
    assert Autoencoder(AutoencoderConfig(latent_dim=5)).encode(torch.rand(2, 1, 28, 28)).shape == (2, 5)


def test_training_lowers_the_loss_and_encode_all_is_batched():
    x = gm.data.mnist("train").x[:256]
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(latent_dim=4, width=8, lr=3e-3))
    before = gm.train.evaluate(model, x)["loss"]
    gm.train.fit(model, x, epochs=2, batch_size=64, progress=False)
    assert gm.train.evaluate(model, x)["loss"] < 0.9 * before
    with torch.no_grad():
        assert torch.allclose(model.encode_all(x, batch_size=100), model.encode(x), atol=1e-5)
