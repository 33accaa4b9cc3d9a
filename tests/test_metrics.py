import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch

import genmodels as gm


def _closed_form_w2(mu1, s1, mu2, s2):
    """W2² between Gaussians via the symmetric form tr(S1 + S2 − 2 (S2^½ S1 S2^½)^½), computed independently."""
    r = scipy.linalg.sqrtm(s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(r @ s1 @ r)).real)


def test_gaussian_frechet_matches_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T + 0.1 * np.eye(4), b @ b.T + 0.1 * np.eye(4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    assert gm.metrics.gaussian_frechet(mu1, s1, mu2, s2) == pytest.approx(_closed_form_w2(mu1, s1, mu2, s2), rel=1e-8)
    # diagonal case by hand: Σ (m1−m2)² + Σ (σ1 − σ2)²
    d1, d2 = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    expected = 1.0 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert gm.metrics.gaussian_frechet(np.zeros(2), np.diag(d1), np.array([1.0, 0.0]), np.diag(d2)) == pytest.approx(expected)


def test_frechet_distance_of_samples_approaches_the_gaussian_value():
    rng = np.random.default_rng(1)
    n = 200_000
    a = rng.normal(size=(n, 2)) * [1.0, 2.0]
    b = rng.normal(size=(n, 2)) * [3.0, 1.0] + [1.0, 0.0]
    assert gm.metrics.frechet_distance(a, b) == pytest.approx(6.0, rel=0.02)
    assert gm.metrics.frechet_distance(a[:1000], a[1000:2000]) < 0.05
    assert isinstance(gm.metrics.frechet_distance(torch.randn(50, 8), torch.randn(40, 8)), float)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="at least 2 samples"):
        gm.metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="dimensions differ"):
        gm.metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        gm.metrics.frechet_distance(np.zeros(5), np.zeros((5, 4)))
    with pytest.raises(gm.train.NonFiniteLossError, match="NaN"):  # the package's one non-finite type
        gm.metrics.frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_classifier_frechet_separates_digits_from_noise():
    clf = gm.metrics.mnist_classifier()
    assert clf.test_accuracy > 0.7  # smoke budget: 2 epochs on 4,000 digits
    test, train = gm.data.mnist("test").x, gm.data.mnist("train").x[:1000]
    real = gm.metrics.classifier_frechet(test, train)
    noise = gm.metrics.classifier_frechet(test, torch.rand(1000, 1, 28, 28))
    assert real < 0.05 * noise
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        gm.metrics.mnist_features(torch.rand(4, 3, 28, 28))


def test_frechet_distance_is_real_for_rank_deficient_covariances():
    # 10 samples in 64 dimensions: singular covariances, where sqrtm(cov1 @ cov2) turns complex
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(10, 64)), rng.normal(size=(10, 64))
    value = gm.metrics.frechet_distance(a, b)
    assert isinstance(value, float) and np.isfinite(value) and value > 0
    scale = 2 * np.trace(np.cov(a, rowvar=False))  # round-off is relative to the traces that cancel
    assert abs(gm.metrics.frechet_distance(a, a)) < 1e-7 * scale


def test_frechet_interval_brackets_the_spread_of_fresh_sample_sets():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) * 1.3 + 0.2
    out = gm.metrics.frechet_interval(a, b, n_boot=300, seed=1)
    assert out.value == pytest.approx(gm.metrics.frechet_distance(a, b))
    assert out.low < out.value < out.high
    # the batched replicates equal frechet_distance on the same resampled rows
    idx_rng = np.random.default_rng(1)
    ia, ib = idx_rng.integers(0, 400, (300, 400)), idx_rng.integers(0, 400, (300, 400))
    loop = np.array([gm.metrics.frechet_distance(a[i], b[j]) for i, j in zip(ia[:5], ib[:5])])
    assert np.allclose(gm.metrics._frechet_batched(a[ia[:5]], b[ib[:5]]), loop, rtol=1e-9)
    # the interval is about as wide as the spread over genuinely new sample sets of the same size
    fresh = [gm.metrics.frechet_distance(rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) * 1.3 + 0.2) for _ in range(300)]
    width_fresh = np.subtract(*np.quantile(fresh, [0.975, 0.025]))
    assert 0.5 < (out.high - out.low) / width_fresh < 2.0
    far = gm.metrics.frechet_interval(a, b + 3, n_boot=100)
    assert far.separates_from(out) and out.separates_from(far) and not out.separates_from(out)
    with pytest.raises(ValueError, match="n_boot"):
        gm.metrics.frechet_interval(a, b, n_boot=1)


def test_mnist_classifier_honours_epochs():
    default = gm.metrics.mnist_classifier()
    assert gm.metrics.mnist_classifier() is default
    one = gm.metrics.mnist_classifier(epochs=1)
    assert one is not default and one.epochs == 1 and default.epochs == 2      # smoke budget default
    assert any(not torch.equal(p, q) for p, q in zip(one.parameters(), default.parameters()))
    with pytest.raises(ValueError, match="epochs"):
        gm.metrics.mnist_classifier(epochs=0)


def test_bootstrap_interval_matches_scipys_percentile_bootstrap():
    x = torch.randn(400, generator=torch.Generator().manual_seed(24), dtype=torch.float64)
    ours = gm.metrics.bootstrap_interval(lambda idx: x[idx].mean(), 400, n_boot=4000,
                                         generator=torch.Generator().manual_seed(25))
    ref = scipy.stats.bootstrap((x.numpy(),), np.mean, n_resamples=4000, method="percentile",
                                random_state=np.random.default_rng(26)).confidence_interval
    width = ref.high - ref.low
    # within 0.04 of the width (ours is 0.013 off; a 90 % interval in its place would be 0.084 off)
    assert abs(ours[0] - ref.low) < 0.04 * width and abs(ours[1] - ref.high) < 0.04 * width
    assert width == pytest.approx(2 * 1.96 * float(x.std()) / 20, rel=0.1)  # ≈ ±1.96 s/√n
    with pytest.raises(ValueError, match="0 < level < 1"):
        gm.metrics.bootstrap_interval(lambda idx: 0.0, 10, level=1.5)


# ---------------------------------------------------------------- paired bootstrap (Part 4's orderings)
def test_paired_difference_matches_scipy_paired_percentile_bootstrap():
    from scipy import stats

    rng = np.random.default_rng(3)
    hard = rng.normal(0, 2, 40)                         # per-image difficulty, shared by both methods
    a, b = hard + 0.6 + rng.normal(0, 0.5, 40), hard + rng.normal(0, 0.5, 40)
    ours = gm.metrics.paired_difference(a, b, n_boot=20000, seed=1)
    ref = stats.bootstrap((a, b), lambda x, y, axis: (x - y).mean(axis), paired=True, vectorized=True,
                          method="percentile", n_resamples=20000, random_state=2).confidence_interval
    width = ref.high - ref.low
    assert ours.value == pytest.approx((a - b).mean())
    assert abs(ours.low - ref.low) < 0.05 * width and abs(ours.high - ref.high) < 0.05 * width
    # pairing matters: unpaired, the shared difficulty (sd 2) would make the interval about 4x wider
    assert width < 0.5 and ours.separates and ours.images == 40 and ours.seeds == (1, 1)


def test_paired_difference_resamples_training_seeds():
    base = np.linspace(0, 1, 12)
    a = base + np.array([[-10.0], [0.0], [10.0]])       # three seeds: the mean is base, the luck is ±10
    d = gm.metrics.paired_difference(a, base, n_boot=4000)
    assert d.value == pytest.approx(0.0, abs=1e-12) and d.seeds == (3, 1)
    assert d.high - d.low > 5 and not d.separates   # averaging the seeds first would give a zero-width interval
    one = gm.metrics.paired_difference(base + 1, base)
    assert one.low == pytest.approx(1) and one.high == pytest.approx(1) and one.separates
    assert gm.metrics.paired_difference(base, base + 1).separates   # an interval below zero separates too


def test_paired_difference_refuses_bad_scores():
    with pytest.raises(ValueError, match="same N test images"):
        gm.metrics.paired_difference(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="N ≥ 2"):
        gm.metrics.paired_difference(np.zeros(1), np.zeros(1))
    with pytest.raises(gm.history.NonFiniteValuesError, match="NaN"):
        gm.metrics.paired_difference(np.array([0.0, np.nan]), np.zeros(2))
