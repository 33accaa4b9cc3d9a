"""Wrong answers to chapters/05_nonnegative_decomposition/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant, replaced

_KL = '''def kl_nmf(V, W, H, n_iter):
    """KL NMF."""
    W, H = W.clone(), H.clone()
    ones = torch.ones_like(V)
    for _ in range(n_iter):
'''
_SP = 'def sparse_h_update(V, W, H, lam):\n    """Sparse H update."""\n'
_RK = 'def errors_by_rank(V, ranks, n_iter):\n    """Errors by rank."""\n'

MUTANTS = [
    # nmf-ex-kl
    Mutant("nmf-ex-kl", "w-with-old-h",
           _KL + "        H_new = H * (W.T @ (V / (W @ H))) / (W.T @ ones)\n"
           "        W = W * ((V / (W @ H)) @ H.T) / (ones @ H.T)\n        H = H_new\n    return W, H\n",
           "W updated with the old H (simultaneous updates), not the new one"),
    Mutant("nmf-ex-kl", "no-normaliser",
           _KL + "        H *= W.T @ (V / (W @ H))\n        W *= (V / (W @ H)) @ H.T\n    return W, H\n",
           "the positive part of the gradient (W^T 1, 1 H^T) left out of the step"),
    Mutant("nmf-ex-kl", "euclidean-updates",
           _KL + "        H *= (W.T @ V) / (W.T @ W @ H)\n        W *= (V @ H.T) / (W @ H @ H.T)\n    return W, H\n",
           "the chapter's Euclidean updates instead of the KL ones"),
    Mutant("nmf-ex-kl", "w-first",
           _KL + "        W *= ((V / (W @ H)) @ H.T) / (ones @ H.T)\n"
           "        H *= (W.T @ (V / (W @ H))) / (W.T @ ones)\n    return W, H\n",
           "W updated before H"),
    Mutant("nmf-ex-kl", "modifies-inputs",
           '''def kl_nmf(V, W, H, n_iter):
    """KL NMF in place."""
    ones = torch.ones_like(V)
    for _ in range(n_iter):
        H *= (W.T @ (V / (W @ H))) / (W.T @ ones)
        W *= ((V / (W @ H)) @ H.T) / (ones @ H.T)
    return W, H
''',
           "no copy: the caller's W and H are overwritten"),
    # nmf-ex-sparse
    Mutant("nmf-ex-sparse", "penalty-in-numerator",
           _SP + "    return (H * (W.T @ V - lam / 2) / (W.T @ W @ H)).clamp(min=0)\n",
           "the review's example: the penalty subtracted in the numerator and clipped, permanent zeros"),
    Mutant("nmf-ex-sparse", "lam-not-halved",
           _SP + "    return H * (W.T @ V) / (W.T @ W @ H + lam)\n",
           "lam instead of lam / 2 (the loss's factor 2 on the quadratic forgotten)"),
    Mutant("nmf-ex-sparse", "shrink-after",
           _SP + "    return (H * (W.T @ V) / (W.T @ W @ H) - lam / 2).clamp(min=0)\n",
           "an unpenalised update followed by a soft threshold, silently clipped"),
    Mutant("nmf-ex-sparse", "penalty-sign",
           _SP + "    return H * (W.T @ V + lam / 2) / (W.T @ W @ H)\n",
           "the penalty's gradient put in the negative part: activations grow"),
    Mutant("nmf-ex-sparse", "penalty-times-h",
           _SP + "    return H * (W.T @ V) / (W.T @ W @ H + lam / 2 * H)\n",
           "the penalty's gradient taken as lam H (an l2 penalty)"),
    # nmf-ex-rank
    Mutant("nmf-ex-rank", "first-error",
           _RK + "    return [float(gm.nmf.nmf(V, R=R, n_iter=n_iter, seed=0).errors[0]) for R in ranks]\n",
           "the error after the first iteration instead of the final one"),
    Mutant("nmf-ex-rank", "wrong-seed",
           _RK + "    return [float(gm.nmf.nmf(V, R=R, n_iter=n_iter, seed=1).errors[-1]) for R in ranks]\n",
           "another random start than the one asked for"),
    Mutant("nmf-ex-rank", "numpy-array",
           _RK + "    return np.array([gm.nmf.nmf(V, R=R, n_iter=n_iter, seed=0).errors[-1] for R in ranks])\n",
           "a numpy array instead of a list of floats"),
    Mutant("nmf-ex-rank", "fixed-iterations",
           _RK + "    return [float(gm.nmf.nmf(V, R=R, n_iter=100, seed=0).errors[-1]) for R in ranks]\n",
           "a hard-coded number of iterations instead of n_iter"),
]

# nmf-ex-separate: the solution cell holds both functions; each mutant changes one part of it
_NMF = '''def score_informed_nmf(V, W_C, H_C, n_iter, eps=1e-12):
    """Score-informed NMF."""
    W, H = W_C.clone(), H_C.clone()
    for _ in range(n_iter):
        H = H * (W.T @ V) / (W.T @ W @ H + eps)
        W = W * (V @ H.T) / (W @ H @ H.T + eps)
    return W, H
'''
_SEP = '''

def separate(V, W, H, rows, eps=1e-12):
    """One voice."""
    return V * (W[:, rows] @ H[rows]) / (W @ H + eps)
'''


def _nmf(old: str, new: str) -> str:
    return replaced(_NMF, old, new) + _SEP


def _sep(old: str, new: str) -> str:
    return _NMF + replaced(_SEP, old, new)


MUTANTS += [
    Mutant("nmf-ex-separate", "no-eps", _nmf("H + eps)", "H)").replace("H.T + eps)", "H.T)"),
           "no eps in the denominators: 0/0 in the rows the score leaves empty"),
    Mutant("nmf-ex-separate", "templates-fixed",
           _nmf("        W = W * (V @ H.T) / (W @ H @ H.T + eps)\n", ""),
           "only H updated: the binary templates W_C used as they are"),
    Mutant("nmf-ex-separate", "random-start",
           _nmf("W, H = W_C.clone(), H_C.clone()", "W, H = gm.nmf.random_init(V, W_C.shape[1], seed=0)"),
           "a random start instead of the score's: the templates are no longer tied to pitches"),
    Mutant("nmf-ex-separate", "additive-clipped",
           _nmf("        H = H * (W.T @ V) / (W.T @ W @ H + eps)\n        W = W * (V @ H.T) / (W @ H @ H.T + eps)\n",
                "        H = (H - 1e-3 * 2 * W.T @ (W @ H - V)).clamp(min=0)\n"
                "        W = (W - 1e-3 * 2 * (W @ H - V) @ H.T).clamp(min=0)\n"),
           "projected gradient descent, silently clipped at 0: the score's zeros do not stay zero"),
    Mutant("nmf-ex-separate", "iterations-ignored", _nmf("range(n_iter)", "range(5)"),
           "a hard-coded number of iterations"),
    Mutant("nmf-ex-separate", "package-nmf",
           '''def score_informed_nmf(V, W_C, H_C, n_iter, eps=1e-12):
    """The package's NMF, which the statement rules out."""
    f = gm.nmf.nmf(V, n_iter=n_iter, W=W_C.clone(), H=H_C.clone(), eps=eps, error=None)
    return f.first, f.second
''' + _SEP,
           "gm.nmf.nmf instead of the student's own updates"),
    Mutant("nmf-ex-separate", "no-mask", _sep("return V * (W[:, rows] @ H[rows]) / (W @ H + eps)", "return W[:, rows] @ H[rows]"),
           "the voice's part of the model W H instead of V times its share"),
    Mutant("nmf-ex-separate", "power-share",
           _sep("return V * (W[:, rows] @ H[rows]) / (W @ H + eps)",
                "return V * (W[:, rows] @ H[rows]).pow(2) / ((W @ H).pow(2) + eps)"),
           "the share of the squared model (a power mask): the two estimates no longer add up to V"),
    Mutant("nmf-ex-separate", "share-of-v",
           _sep("return V * (W[:, rows] @ H[rows]) / (W @ H + eps)", "return V * (W[:, rows] @ H[rows]) / (V + eps)"),
           "the voice's model divided by V instead of by W H"),
]
