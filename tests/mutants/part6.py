"""Wrong answers to chapters/06_diffusion/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_DSM = 'def dsm(score_fn, x, sigma, z):\n    """Weighted DSM loss."""\n    s = sigma.reshape(-1, *([1] * (x.ndim - 1)))\n'
_POST = ('def posterior_mean(x0, xt, t, schedule):\n    """Posterior mean."""\n'
         '    ab = schedule.alpha_bars\n    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])\n    beta = schedule.betas\n'
         '    shape = (-1, *([1] * (x0.ndim - 1)))\n')
_DDIM = 'def ddim_step(xt, eps, ab_t, ab_s):\n    """DDIM step."""\n'

MUTANTS = [
    # diff-ex-dsm
    Mutant("diff-ex-dsm", "target-sign", _DSM + "    out = score_fn(x + s * z, sigma)\n"
           "    return 0.5 * (s * out - z).pow(2).flatten(1).sum(1).mean()\n",
           "regression onto +z/σ: the score points away from the data"),
    Mutant("diff-ex-dsm", "unweighted", _DSM + "    out = score_fn(x + s * z, sigma)\n"
           "    return 0.5 * (out + z / s).pow(2).flatten(1).sum(1).mean()\n",
           "λ(σ) = 1 instead of σ²"),
    Mutant("diff-ex-dsm", "mean-over-dims", _DSM + "    out = score_fn(x + s * z, sigma)\n"
           "    return 0.5 * (s * out + z).pow(2).mean()\n",
           "mean over dimensions instead of the sum"),
    Mutant("diff-ex-dsm", "clean-input", _DSM + "    out = score_fn(x, sigma)\n"
           "    return 0.5 * (s * out + z).pow(2).flatten(1).sum(1).mean()\n",
           "the score evaluated at the clean data"),
    Mutant("diff-ex-dsm", "library-call",
           'def dsm(score_fn, x, sigma, z):\n    """Weighted DSM loss."""\n'
           "    return gm.diffusion.dsm_loss(score_fn, x, sigma)\n",
           "the package's loss instead of the formula (and with fresh noise)"),
    # diff-ex-posterior
    Mutant("diff-ex-posterior", "alpha-bar-t", _POST +
           "    c0 = (ab.sqrt() * beta / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    ct = ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    return c0 * x0 + ct * xt\n",
           "√ᾱ_t instead of √ᾱ_{t−1} on x_0"),
    Mutant("diff-ex-posterior", "no-sqrt-alpha", _POST +
           "    c0 = (ab_prev.sqrt() * beta / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    ct = ((1 - beta) * (1 - ab_prev) / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    return c0 * x0 + ct * xt\n",
           "α_t instead of √α_t on x_t"),
    Mutant("diff-ex-posterior", "swapped", _POST +
           "    c0 = (ab_prev.sqrt() * beta / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    ct = ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    return ct * x0 + c0 * xt\n",
           "the two coefficients swapped"),
    Mutant("diff-ex-posterior", "wrong-shift", _POST.replace("ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])",
                                                             "ab_prev = torch.cat([ab[1:], ab.new_ones(1)])") +
           "    c0 = (ab_prev.sqrt() * beta / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    ct = ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab))[t].reshape(shape).to(x0.dtype)\n"
           "    return c0 * x0 + ct * xt\n",
           "ᾱ_{t+1} instead of ᾱ_{t−1}"),
    # diff-ex-ddim
    Mutant("diff-ex-ddim", "no-sqrt", _DDIM + "    x0 = (xt - (1 - ab_t) * eps) / ab_t\n"
           "    return ab_s * x0 + (1 - ab_s) * eps\n",
           "ᾱ where √ᾱ belongs"),
    Mutant("diff-ex-ddim", "x0-only", _DDIM + "    x0 = (xt - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)\n"
           "    return math.sqrt(ab_s) * x0\n",
           "the noise direction dropped from the jump"),
    Mutant("diff-ex-ddim", "levels-swapped", _DDIM + "    x0 = (xt - math.sqrt(1 - ab_s) * eps) / math.sqrt(ab_s)\n"
           "    return math.sqrt(ab_t) * x0 + math.sqrt(1 - ab_t) * eps\n",
           "the two levels swapped"),
    Mutant("diff-ex-ddim", "fresh-noise", _DDIM + "    x0 = (xt - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)\n"
           "    return math.sqrt(ab_s) * x0 + math.sqrt(1 - ab_s) * torch.randn_like(eps)\n",
           "fresh noise instead of the predicted one (an ancestral step without the right variance)"),
]
