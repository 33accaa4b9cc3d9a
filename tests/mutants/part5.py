"""Wrong answers to chapters/05_nonnegative_decomposition/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

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
