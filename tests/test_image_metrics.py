"""PSNR, SSIM and NIQE (genmodels.metrics) against scikit-image, scipy and scikit-video's reference value."""
import numpy as np
import pytest
import scipy.stats
import skimage.metrics
import torch
import torch.nn.functional as F

import genmodels as gm


def _pair(seed=0, shape=(3, 3, 40, 48)):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g)
    y = (x + 0.1 * torch.randn(shape, generator=g)).clamp(0, 1)
    return x, y


def test_psnr_matches_scikit_image():
    x, y = _pair()
    ours = gm.metrics.psnr(y, x)
    ref = [skimage.metrics.peak_signal_noise_ratio(a.numpy(), b.numpy(), data_range=1.0) for a, b in zip(x, y)]
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5)


def test_ssim_matches_scikit_image_gaussian_window():
    x, y = _pair(1)
    ours = gm.metrics.ssim(y, x)
    ref = [skimage.metrics.structural_similarity(a.numpy().astype(np.float64), b.numpy().astype(np.float64),
                                                 data_range=1.0, channel_axis=0, gaussian_weights=True,
                                                 sigma=1.5, use_sample_covariance=False) for a, b in zip(y, x)]
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert torch.allclose(gm.metrics.ssim(x, x), torch.ones(3))


def test_metrics_refuse_bad_inputs():
    x, y = _pair()
    with pytest.raises(ValueError, match="same shape"):
        gm.metrics.psnr(x, y[:2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gm.metrics.ssim(x * 2, y)
    with pytest.raises(ValueError, match="at least 11"):
        gm.metrics.ssim(x[..., :8, :8], y[..., :8, :8])
    with pytest.raises(ValueError, match="larger than 192"):
        gm.metrics.niqe(x)


def test_aggd_fit_recovers_a_generalised_gaussian():
    rng = np.random.default_rng(0)
    for beta in (0.8, 2.0):
        v = scipy.stats.gennorm.rvs(beta, scale=0.7, size=(2, 200_000), random_state=rng)
        alpha, mean, bl, br = gm.metrics.aggd_fit(v)
        np.testing.assert_allclose(alpha, beta, rtol=0.03)
        np.testing.assert_allclose(bl, 0.7, rtol=0.03)
        np.testing.assert_allclose(br, 0.7, rtol=0.03)
        np.testing.assert_allclose(mean, 0.0, atol=0.02)


def _astronaut():
    return gm.data.lowlight.photo("astronaut")[None]


def test_niqe_matches_scikit_video_reference_value():
    # scikit-video 1.1.11's skvideo.measure.niqe on the same luminance (BT.601, ×255) of skimage's astronaut
    # gave 8.8175 (run once with its NumPy-2 incompatibilities shimmed; it cannot be imported here).
    assert gm.metrics.niqe(_astronaut()).item() == pytest.approx(8.8175, abs=0.02)


def test_niqe_penalises_noise_blur_and_darkness():
    x = _astronaut()
    g = torch.Generator().manual_seed(0)
    noisy = (x + 0.08 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    blurred = F.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
    scores = gm.metrics.niqe(torch.cat([x, noisy, blurred]))
    assert scores[0] < scores[1] and scores[0] < scores[2]


def test_luma_is_the_bt601_weighting_and_keeps_dtype():
    x = torch.rand(2, 3, 5, 7, dtype=torch.float64)
    ref = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    got = gm.metrics.luma(x)
    assert got.shape == (2, 1, 5, 7) and got.dtype == torch.float64
    assert torch.allclose(got[:, 0], ref)
    assert gm.lowlight.gray(x.float()).dtype == torch.float32
    with pytest.raises(ValueError, match="RGB"):
        gm.metrics.luma(x[:, :2])


def test_psnr_ssim_niqe_return_on_the_inputs_dtype():
    x, y = _pair()
    for dtype in (torch.float32, torch.float64):
        assert gm.metrics.psnr(x.to(dtype), y.to(dtype)).dtype == dtype
        assert gm.metrics.ssim(x.to(dtype), y.to(dtype)).dtype == dtype
    a = _astronaut()[..., :200, :200]
    s64, s32 = gm.metrics.niqe(a.double()), gm.metrics.niqe(a)
    assert s64.dtype == torch.float64 and s32.dtype == torch.float32
    assert s64.item() == pytest.approx(s32.item(), rel=1e-4)


def test_psnr_is_ten_log10_of_one_over_mse_by_hand():
    x = torch.zeros(1, 1, 4, 4)
    y = torch.full((1, 1, 4, 4), 0.1)
    assert gm.metrics.psnr(x, y).item() == pytest.approx(20.0, abs=1e-5)     # MSE 0.01 -> 20 dB
