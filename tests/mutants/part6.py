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

_EPS_HEAD = ('def eps_objective(eps_fn, x0, schedule, generator=None):\n    """Simplified DDPM loss."""\n'
             '    t = gm.runtime.randint(0, schedule.T, (x0.shape[0],), generator=generator, device=x0.device)\n'
             '    eps = gm.runtime.randn(*x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)\n'
             '    ab = schedule.alpha_bars.to(device=x0.device, dtype=x0.dtype)[t].reshape(-1, *([1] * (x0.ndim - 1)))\n')
_EPS_BODY = '    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps\n    return (eps_fn(xt, t) - eps).pow(2).mean()\n'
_FIT = '''

class ScratchDenoiser(dm.Denoiser):
    """Denoiser trained with eps_objective."""
    def loss(self, batch):
        return {"loss": eps_objective(self.field, batch, self.schedule)}


def train_denoiser(x, epochs):
    """Train ScratchDenoiser(TOY_CONFIG) on x."""
    model = ScratchDenoiser(TOY_CONFIG)
    gm.train.fit(model, x, epochs=epochs, batch_size=512, device="cpu")
    return model
'''


def _eps(old: str, new: str, fit: str = _FIT) -> str:
    src = _EPS_HEAD + _EPS_BODY + fit
    assert old in src, old
    return src.replace(old, new)


MUTANTS += [
    # diff-ex-eps-train
    Mutant("diff-ex-eps-train", "no-sqrt", _eps("ab.sqrt() * x0 + (1 - ab).sqrt() * eps", "ab * x0 + (1 - ab) * eps"),
           "ᾱ_t and 1 − ᾱ_t where their square roots belong"),
    Mutant("diff-ex-eps-train", "alpha-not-bar",
           _eps("schedule.alpha_bars.to(", "schedule.alphas.to("),
           "α_t (one step's) instead of ᾱ_t (the product up to t)"),
    Mutant("diff-ex-eps-train", "x0-target", _eps("(eps_fn(xt, t) - eps)", "(eps_fn(xt, t) - x0)"),
           "the network regressed onto x_0 instead of the noise"),
    Mutant("diff-ex-eps-train", "steps-from-one", _eps("randint(0, schedule.T,", "randint(1, schedule.T,"),
           "t drawn from 1..T−1: the chapter's 1-based t shifted by one, the least noisy step never trained"),
    Mutant("diff-ex-eps-train", "one-step-per-batch",
           _eps("randint(0, schedule.T, (x0.shape[0],), generator=generator, device=x0.device)",
                "randint(0, schedule.T, (1,), generator=generator, device=x0.device).expand(x0.shape[0])"),
           "one t for the whole batch instead of one per row"),
    Mutant("diff-ex-eps-train", "sum-over-dims", _eps(".pow(2).mean()", ".pow(2).flatten(1).sum(1).mean()"),
           "the squared norm summed over dimensions: D times the loss the statement asks for"),
    Mutant("diff-ex-eps-train", "global-rng",
           _eps("gm.runtime.randn(*x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)",
                "torch.randn_like(x0)"),
           "the noise from torch's global generator: the generator argument ignored"),
    Mutant("diff-ex-eps-train", "float-steps", _eps("eps_fn(xt, t)", "eps_fn(xt, t / schedule.T)"),
           "the steps passed as fractions t/T (the field already scales them)"),
    Mutant("diff-ex-eps-train", "prediction-detached", _eps("eps_fn(xt, t) - eps", "eps_fn(xt, t).detach() - eps"),
           "the prediction detached: no gradient reaches the network"),
    Mutant("diff-ex-eps-train", "library-loss",
           'def eps_objective(eps_fn, x0, schedule, generator=None):\n    """The package\'s loss."""\n'
           "    return dm.eps_loss(eps_fn, x0, schedule, generator)\n" + _FIT,
           "gm.diffusion.eps_loss, which the statement rules out"),
    Mutant("diff-ex-eps-train", "library-model",
           _eps("model = ScratchDenoiser(TOY_CONFIG)", "model = dm.Denoiser(TOY_CONFIG)"),
           "the package's Denoiser trained: its own loss, never the student's"),
    Mutant("diff-ex-eps-train", "two-epochs", _eps("epochs=epochs,", "epochs=2,"),
           "a hard-coded couple of epochs"),
]
