"""Mutations of src/genmodels/sliced/ and of ``mardia`` in src/genmodels/metrics.py (issue 19)."""
from tests.mutations import Mutation

_S = "src/genmodels/sliced/distances.py"
_A = "src/genmodels/sliced/autoencoder.py"
_T = ("tests/test_sliced.py",)
_M = "src/genmodels/metrics.py"
_TM = ("tests/test_mardia.py",)
_TB = ("tests/test_metrics.py",)

MUTATIONS = [
    # the code audit's, section 1a
    Mutation(_S, "v = runtime.randn(k, dim,", "v = runtime.rand(k, dim,",
             "M4: directions drawn from the positive orthant, not uniformly on the sphere", _T),
    Mutation(_A, "else c.lam * d", "else d", "M9: λ ignored by the linear cost", _T),
    # ours
    Mutation(_S, "return torch.maximum(i / n - u, u - (i - 1) / n).amax(-1)", "return (i / n - u).abs().amax(-1)",
             "SKSAE back on the paper's jump-top formula instead of the two-sided D_n", _T),
    Mutation(_S, "u - (i - 1) / n", "u - i / n", "off-by-one rank below each jump of the empirical CDF", _T),
    Mutation(_S, "return (u * u).mean(-1) - (u * odd).sum(-1) / n**2 + 1.0 / 3.0",
             "return (u * u).mean(-1) + (u * odd).sum(-1) / n**2 + 1.0 / 3.0",
             "the paper's CvM sign slip copied", _T),
    Mutation(_S, "return phi_q[:-1] - phi_q[1:]", "return phi_q[1:] - phi_q[:-1]",
             "SCFW cell integrals with the wrong sign", _T),
    Mutation(_S, "c.unsqueeze(-1) - c.unsqueeze(-2), 2.0 * gamma,", "c.unsqueeze(-1) - c.unsqueeze(-2), gamma,",
             "CW pair term with the kernel variance γ instead of 2γ", _T),
    Mutation(_S, "return ((_sort_rows(y) - _sort_rows(z)) ** 2).mean(-1)", "return ((_sort_rows(y) - z) ** 2).mean(-1)",
             "SWAE: prior sample not sorted before matching", _T),
    Mutation(_S, "return (4.0 / (3.0 * n)) ** 0.4", "return (4.0 / (3.0 * n)) ** 0.2",
             "Silverman: bandwidth h used as the variance γ = h²", _T),
    Mutation(_S, "return v / v.norm(dim=1, keepdim=True)", "return v",
             "directions not normalised to unit length", _T),
    Mutation(_A, 'return per_pixel.sum(1) if self.config.rec_reduction == "sum" else per_pixel.mean(1)',
             "return per_pixel.sum(1)", "rec_reduction ignored", _T),
    Mutation(_A, "penalty = torch.log(c.lam * d) if c.log_cost else c.lam * d", "penalty = torch.log(c.lam * d)",
             "log_cost ignored", _T),
    Mutation(_A, "z = runtime.randn(n, self.config.latent_dim, generator=generator,",
             "z = runtime.randn(n, self.config.latent_dim, generator=None,",
             "sample ignores its generator", _T),
    Mutation(_A, '        check_images(x, "SlicedAutoencoder.encode")\n', "",
             "encode accepts pixels outside [0, 1]", _T),
    Mutation(_S, "        return 1.0 / (6.0 * n)\n", "        return 1.0 / (12.0 * n)\n",
             "CvM noise floor 1/(12n) (the statistic's constant) instead of 1/(6n)", _T),
    Mutation(_S, "    return pairs + prior - 2.0 * cross\n", "    return pairs + prior - cross\n",
             "CW cross term without its factor 2", _T),
    Mutation(_S, "    y = directions @ z.T  # (k, n)\n", "    y = directions.abs() @ z.T  # (k, n)\n",
             "projections on |v|: directions folded into the positive orthant", _T),
    Mutation(_M, "lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])",
             "lo, hi = np.quantile(values, [1 - level, level])", "bootstrap interval at the wrong quantiles", _TB),
    # mardia
    Mutation(_M, "    b2 = float(((x**2).sum(1) ** 2).mean())\n", "    b2 = float(((x**2).sum(1)).mean() ** 2)\n",
             "Mardia kurtosis: square of the mean instead of the mean of squares", _TM),
    Mutation(_M, "return b1, (b2 - d * (d + 2) if normalized else b2)", "return b1, (b2 - d * (d + 1) if normalized else b2)",
             "normalised kurtosis offset D(D+1) instead of D(D+2)", _TM),
    Mutation(_M, "        cov = x.T @ x / n\n", "        cov = x.T @ x / (n - 1)\n",
             "standardised Mardia with the unbiased covariance (Mardia uses the biased one)", _TM),
    Mutation(_M, "        x = x - x.mean(0)\n", "", "standardised Mardia without centring", _TM),
    Mutation("src/genmodels/sliced/distances.py", "    return (1.0 + 4.0 * s / (2.0 * dim - 3.0)).rsqrt()",
             "    return (1.0 + 2.0 * s / (2.0 * dim - 3.0)).rsqrt()", "Kummer approximation with 2s for 4s", _T),
    Mutation("src/genmodels/sliced/distances.py", "+ n * n / math.sqrt(1.0 + gamma)", "+ n * n / math.sqrt(1.0 + 2.0 * gamma)",
             "CWAE closed form: the prior's self-term smoothed twice", _T),
    Mutation("src/genmodels/sliced/distances.py", "b.square_().mul_(-0.5 / var).exp_()", "b.square_().mul_(-1.0 / var).exp_()",
             "cw_1d's no-gradient path with the kernel's variance halved", _T),
]
