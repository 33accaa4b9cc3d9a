"""Wrong answers to chapters/03_generative_convnet/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant, replaced

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

# ebm-ex-learn: the solution cell holds both functions; each mutant changes one line of it
_CHAINS = '''def langevin_chains(model, x, n_steps, eps, sigma, generator):
    """Langevin chains."""
    for _ in range(gm.runtime.capped(n_steps)):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(x).sum(), x)
        with torch.no_grad():
            x = x + 0.5 * eps**2 * (grad - x / sigma**2) + eps * gm.runtime.randn(*x.shape, generator=generator)
    return x.detach()
'''
_LEARN = '''

def learn_prototype(data, model, n_iter, lr, n_chains, n_steps, eps, sigma, generator):
    """Maximum-likelihood learning with persistent chains."""
    chains = sigma * gm.runtime.randn(n_chains, data.shape[1], generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(gm.runtime.capped(n_iter)):
        chains = langevin_chains(model, chains, n_steps, eps, sigma, generator)
        optimizer.zero_grad()
        (model(chains).mean() - model(data).mean()).backward()
        optimizer.step()
    return chains
'''


def _chains(old: str, new: str) -> str:
    return replaced(_CHAINS, old, new) + _LEARN


def _learn(old: str, new: str) -> str:
    return _CHAINS + replaced(_LEARN, old, new)


MUTANTS += [
    Mutant("ebm-ex-learn", "drift-sign", _chains("x + 0.5 * eps**2 * (grad", "x - 0.5 * eps**2 * (grad"),
           "the drift subtracted: the chains run away from the modes"),
    Mutant("ebm-ex-learn", "reference-forgotten", _chains("(grad - x / sigma**2)", "grad"),
           "the pull -I/sigma^2 of the reference q left out: the ReLU score alone is not normalisable"),
    Mutant("ebm-ex-learn", "sigma-not-squared", _chains("x / sigma**2", "x / sigma"),
           "the reference's pull -I/sigma instead of -I/sigma^2 (right only for sigma = 1)"),
    Mutant("ebm-ex-learn", "noise-eps-squared", _chains("+ eps * gm.runtime", "+ eps**2 * gm.runtime"),
           "noise scaled by eps^2 instead of eps: the chains shrink onto the modes"),
    Mutant("ebm-ex-learn", "global-rng",
           _chains("gm.runtime.randn(*x.shape, generator=generator)", "torch.randn_like(x)"),
           "noise from torch's global generator: the generator argument ignored"),
    Mutant("ebm-ex-learn", "package-sampler",
           '''def langevin_chains(model, x, n_steps, eps, sigma, generator):
    """The package's sampler, which the statement rules out."""
    return gm.ebm.langevin(model, x, n_steps, eps, sigma=sigma, generator=generator)
''' + _LEARN,
           "gm.ebm.langevin instead of the student's own steps"),
    Mutant("ebm-ex-learn", "gradient-sign",
           _learn("(model(chains).mean() - model(data).mean())", "(model(data).mean() - model(chains).mean())"),
           "the likelihood minimised: the score raised on the chains and lowered on the data"),
    Mutant("ebm-ex-learn", "no-negative-phase", _learn("(model(chains).mean() - model(data).mean())", "(-model(data).mean())"),
           "the chains' term forgotten: the score only grows on the data, Z(w) ignored"),
    Mutant("ebm-ex-learn", "chains-from-noise",
           _learn("        chains = langevin_chains(model, chains,",
                  "        chains = sigma * gm.runtime.randn(n_chains, data.shape[1], generator=generator)\n"
                  "        chains = langevin_chains(model, chains,"),
           "fresh chains from the reference every iteration, not persistent ones"),
    Mutant("ebm-ex-learn", "chains-from-data",
           _learn("chains = langevin_chains(model, chains,", "chains = langevin_chains(model, data[:n_chains],"),
           "chains restarted at the data every iteration (contrastive divergence), not persistent ones"),
    Mutant("ebm-ex-learn", "iterations-ignored", _learn("range(gm.runtime.capped(n_iter))", "range(20)"),
           "a hard-coded handful of iterations"),
    Mutant("ebm-ex-learn", "lr-ignored", _learn("lr=lr", "lr=0.01"),
           "a hard-coded learning rate instead of lr"),
]
