"""genmodels.metrics.mardia against its O(n²) Gram-matrix definition and the standard normal's values."""
import numpy as np
import pytest
import torch

from genmodels import metrics


def test_skewness_equals_the_papers_double_sum_and_kurtosis_its_mean():
    rng = np.random.default_rng(0)
    z = rng.standard_gamma(2.0, size=(300, 4)) - 1.0  # skewed, heavy-ish tails
    gram = z @ z.T
    b1_ref = (gram**3).sum() / len(z) ** 2  # (1/n²) Σ_jk (z_j^T z_k)³, straight from the definition
    b2_ref = np.mean([float(row @ row) ** 2 for row in z])
    b1, b2 = metrics.mardia(z)
    assert b1 == pytest.approx(b1_ref, rel=1e-10)
    assert b2 == pytest.approx(b2_ref, rel=1e-12)
    assert metrics.mardia(torch.from_numpy(z), normalized=True)[1] == pytest.approx(b2_ref - 4 * 6, rel=1e-12)


@pytest.mark.parametrize("dim", [2, 20])
def test_standard_normal_sample_is_near_zero_skewness_and_kurtosis_d_d_plus_2(dim):
    n = 20000
    z = np.random.default_rng(dim).standard_normal((n, dim))
    b1, b2 = metrics.mardia(z)
    expected_b1 = dim * (dim + 2) * (dim + 4) / n  # E[b1] of a finite N(0, I) sample (the j = k terms)
    assert abs(b1 - expected_b1) < 0.5 * expected_b1 + 0.05
    # sd of b2 is sqrt(8 D (D+2)(D+4)(D+3)... / n); 4 % of D(D+2) is far outside sampling noise at n = 20000
    assert b2 == pytest.approx(dim * (dim + 2), rel=0.04)
    assert abs(metrics.mardia(z, normalized=True)[1]) < 0.04 * dim * (dim + 2)


def test_departures_from_n0i_are_detected():
    z = np.random.default_rng(1).standard_normal((5000, 5))
    b1, b2 = metrics.mardia(z)
    assert metrics.mardia(z + 0.5)[0] > 10 * b1  # a shifted mean is skewness against N(0, I)
    assert metrics.mardia(z * 1.3, normalized=True)[1] > 0.5 * 35  # wider: kurtosis 1.3⁴ · 35 − 35
    assert metrics.mardia(z * 0.7, normalized=True)[1] < -0.5 * 35


def test_bad_input():
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        metrics.mardia(np.zeros(10))
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.mardia(np.array([[0.0, np.inf], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.mardia(np.zeros((1, 3)))


def test_standardized_statistics_are_mardias_affine_invariant_ones():
    rng = np.random.default_rng(2)
    z = rng.standard_gamma(3.0, size=(400, 3))
    centred = z - z.mean(0)
    s_inv = np.linalg.inv(centred.T @ centred / len(z))  # the biased sample covariance, as in Mardia (1970)
    gram = centred @ s_inv @ centred.T
    b1, b2 = metrics.mardia(z, standardized=True)
    assert b1 == pytest.approx((gram**3).sum() / len(z) ** 2, rel=1e-10)
    assert b2 == pytest.approx(np.mean(np.diag(gram) ** 2), rel=1e-10)
    a = np.array([[2.0, 0.3, 0.0], [0.0, 0.5, -1.0], [0.1, 0.0, 3.0]])
    moved = metrics.mardia(z @ a.T + 7.0, standardized=True)  # affine invariance
    assert moved == pytest.approx((b1, b2), rel=1e-8)
    # N(0, 0.9 I): Gaussian tails, but the unstandardised kurtosis reads the scale as "lighter tails"
    g = np.sqrt(0.9) * rng.standard_normal((20000, 4))
    assert metrics.mardia(g, normalized=True)[1] < -3.0  # 0.81·24 − 24 ≈ −4.6
    assert abs(metrics.mardia(g, normalized=True, standardized=True)[1]) < 0.6
    with pytest.raises(ValueError, match="more samples than dimensions"):
        metrics.mardia(np.zeros((3, 3)), standardized=True)
