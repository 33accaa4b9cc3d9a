"""Wrong answers to chapters/03_generative_convnet/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_STEP = 'def langevin_step(I, B, sigma, eps, Z):\n    """One Langevin step."""\n'
_MODES = '''def count_modes(model, sigma):
    """Number of local modes."""
    K = model.weight.shape[0]
    deltas = torch.tensor(list(itertools.product([0.0, 1.0], repeat=K)))
'''
_MALA = '''def mala_step(log_p, x, eps):
    """One MALA step."""
    def value_and_grad(z):
        z = z.detach().requires_grad_(True)
        lp = log_p(z)
        (g,) = torch.autograd.grad(lp.sum(), z)
        return lp.detach(), g

    lp_x, g_x = value_and_grad(x)
    y = x + 0.5 * eps**2 * g_x + eps * torch.randn_like(x)
    lp_y, g_y = value_and_grad(y)
'''
_ACCEPT = '''    accepted = torch.rand_like(lp_x).log() < log_ratio
    return torch.where(accepted[:, None], y, x).detach(), accepted
'''
_Q_YX = "    log_q_y_given_x = -(y - x - 0.5 * eps**2 * g_x).pow(2).sum(1) / (2 * eps**2)\n"
_Q_XY = "    log_q_x_given_y = -(x - y - 0.5 * eps**2 * g_y).pow(2).sum(1) / (2 * eps**2)\n"
_RATIO = "    log_ratio = lp_y + log_q_x_given_y - lp_x - log_q_y_given_x\n"

MUTANTS = [
    # ebm-ex-step
    Mutant("ebm-ex-step", "drift-sign",
           _STEP + "    return I + eps**2 / (2 * sigma**2) * (I - sigma**2 * B) + eps * Z\n",
           "the drift added instead of subtracted: the step climbs away from the reconstruction"),
    Mutant("ebm-ex-step", "sigma-dropped",
           _STEP + "    return I - eps**2 / 2 * (I - sigma**2 * B) + eps * Z\n",
           "the 1/sigma^2 in front of the drift dropped (right only for sigma = 1)"),
    Mutant("ebm-ex-step", "basis-unscaled",
           _STEP + "    return I - eps**2 / (2 * sigma**2) * (I - B) + eps * Z\n",
           "the reconstruction B instead of sigma^2 B (right only for sigma = 1)"),
    Mutant("ebm-ex-step", "noise-eps-squared",
           _STEP + "    return I - eps**2 / (2 * sigma**2) * (I - sigma**2 * B) + eps**2 * Z\n",
           "noise scaled by eps^2 (the time step) instead of eps"),
    Mutant("ebm-ex-step", "no-half",
           _STEP + "    return I - eps**2 / sigma**2 * (I - sigma**2 * B) + eps * Z\n",
           "the 1/2 of the drift dropped"),
    # ebm-ex-modes
    Mutant("ebm-ex-modes", "pattern-geq",
           _MODES + "    with torch.no_grad():\n        means = sigma**2 * deltas @ model.weight\n"
           "        inside = (model.pattern(means) >= deltas).all(1)\n    return int(inside.sum())\n",
           "only checks that the active units stay on (the review's example): extra units may switch on"),
    Mutant("ebm-ex-modes", "pattern-leq",
           _MODES + "    with torch.no_grad():\n        means = sigma**2 * deltas @ model.weight\n"
           "        inside = (model.pattern(means) <= deltas).all(1)\n    return int(inside.sum())\n",
           "only checks that no inactive unit switches on"),
    Mutant("ebm-ex-modes", "sigma-not-squared",
           _MODES + "    with torch.no_grad():\n        means = sigma * deltas @ model.weight\n"
           "        inside = (model.pattern(means) == deltas).all(1)\n    return int(inside.sum())\n",
           "the piece mean sigma * delta @ W instead of sigma^2 * delta @ W"),
    Mutant("ebm-ex-modes", "sigma-ignored",
           _MODES + "    with torch.no_grad():\n        means = deltas @ model.weight\n"
           "        inside = (model.pattern(means) == deltas).all(1)\n    return int(inside.sum())\n",
           "the reference sigma left out of the mean"),
    Mutant("ebm-ex-modes", "any-not-all",
           _MODES + "    with torch.no_grad():\n        means = sigma**2 * deltas @ model.weight\n"
           "        inside = (model.pattern(means) == deltas).any(1)\n    return int(inside.sum())\n",
           "one matching unit taken for a matching pattern"),
    Mutant("ebm-ex-modes", "tensor-count",
           _MODES + "    with torch.no_grad():\n        means = sigma**2 * deltas @ model.weight\n"
           "        inside = (model.pattern(means) == deltas).all(1)\n    return inside.sum()\n",
           "returns a tensor, not a Python int"),
    # ebm-ex-mala (the review's five wrong answers, plus accepting everything)
    Mutant("ebm-ex-mala", "no-proposal-correction",
           _MALA + "    log_ratio = lp_y - lp_x\n" + _ACCEPT,
           "the Metropolis ratio without the proposal densities"),
    Mutant("ebm-ex-mala", "reverse-drift-sign",
           _MALA + _Q_YX + "    log_q_x_given_y = -(x - y + 0.5 * eps**2 * g_y).pow(2).sum(1) / (2 * eps**2)\n"
           + _RATIO + _ACCEPT,
           "wrong sign of the drift in the reverse proposal"),
    Mutant("ebm-ex-mala", "forward-gradient-twice",
           _MALA + _Q_YX + "    log_q_x_given_y = -(x - y - 0.5 * eps**2 * g_x).pow(2).sum(1) / (2 * eps**2)\n"
           + _RATIO + _ACCEPT,
           "the gradient at x used in both proposal densities"),
    Mutant("ebm-ex-mala", "inverted-ratio",
           _MALA + _Q_YX + _Q_XY + "    log_ratio = lp_x + log_q_y_given_x - lp_y - log_q_x_given_y\n" + _ACCEPT,
           "the acceptance ratio upside down"),
    Mutant("ebm-ex-mala", "eps-squared-variance",
           _MALA + "    log_q_y_given_x = -(y - x - 0.5 * eps**2 * g_x).pow(2).sum(1) / eps**2\n"
           "    log_q_x_given_y = -(x - y - 0.5 * eps**2 * g_y).pow(2).sum(1) / eps**2\n" + _RATIO + _ACCEPT,
           "eps^2 instead of 2 eps^2 in the proposal density"),
    Mutant("ebm-ex-mala", "accept-all",
           _MALA + "    return y.detach(), torch.ones(x.shape[0], dtype=torch.bool)\n",
           "every proposal accepted: plain Langevin"),
]
