"""Wrong answers to chapters/00_foundations/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_BCE = 'def bernoulli_nll(logits, x):\n    """Per-image Bernoulli NLL."""\n'
_GAUSS = 'def gaussian_nll(x_hat, x, sigma):\n    """Per-image Gaussian NLL."""\n'
_KNN = 'def nearest_neighbour_accuracy(z_train, y_train, z_test, y_test):\n    """1-NN accuracy."""\n'
_FIT = 'def fit_code_gaussian(z):\n    """Mean and covariance."""\n'
_LIN = '''def train_linear_autoencoder(x, d, steps, lr, generator):
    """Linear autoencoder."""
    mu = x.mean(dim=0)
    centred = x - mu
    A = (0.1 * torch.randn(x.shape[1], d, generator=generator)).requires_grad_(True)
    B = (0.1 * torch.randn(d, x.shape[1], generator=generator)).requires_grad_(True)
    optimizer = torch.optim.Adam([A, B], lr=lr)
'''

MUTANTS = [
    # ae-ex-bernoulli
    Mutant("ae-ex-bernoulli", "literal-formula",
           _BCE + "    p = torch.sigmoid(logits)\n"
           "    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)\n",
           "the printed formula computed literally: log(0) at large logits"),
    Mutant("ae-ex-bernoulli", "clipped-logits",
           _BCE + "    p = torch.sigmoid(logits.clamp(-15, 15))\n"
           "    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)\n",
           "overflow avoided by silently clipping the logits"),
    Mutant("ae-ex-bernoulli", "labels-swapped",
           _BCE + "    return (torch.nn.functional.softplus(logits) - (1 - x) * logits).flatten(1).sum(1)\n",
           "x and 1 - x swapped in the simplification"),
    Mutant("ae-ex-bernoulli", "mean-over-pixels",
           _BCE + "    return (torch.nn.functional.softplus(logits) - x * logits).flatten(1).mean(1)\n",
           "mean instead of sum over the D pixels"),
    Mutant("ae-ex-bernoulli", "library-shortcut",
           _BCE + "    return torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction='none')"
           ".flatten(1).sum(1)\n",
           "the library's cross-entropy instead of the softplus form the exercise asks for"),
    Mutant("ae-ex-bernoulli", "batch-sum",
           _BCE + "    return (torch.nn.functional.softplus(logits) - x * logits).sum()\n",
           "summed over the whole batch: one number instead of one per image"),
    # ae-ex-gaussian
    Mutant("ae-ex-gaussian", "no-half",
           _GAUSS + "    D = x[0].numel()\n"
           "    return (x - x_hat).pow(2).flatten(1).sum(1) / sigma**2 + 0.5 * D * math.log(2 * math.pi * sigma**2)\n",
           "the 1/2 of the quadratic term dropped"),
    Mutant("ae-ex-gaussian", "log-sigma-not-squared",
           _GAUSS + "    D = x[0].numel()\n"
           "    return (x - x_hat).pow(2).flatten(1).sum(1) / (2 * sigma**2) + 0.5 * D * math.log(2 * math.pi * sigma)\n",
           "log(2 pi sigma) instead of log(2 pi sigma^2)"),
    Mutant("ae-ex-gaussian", "batch-numel",
           _GAUSS + "    D = x.numel()\n"
           "    return (x - x_hat).pow(2).flatten(1).sum(1) / (2 * sigma**2) + 0.5 * D * math.log(2 * math.pi * sigma**2)\n",
           "D counted over the whole batch instead of one image"),
    Mutant("ae-ex-gaussian", "constant-dropped",
           _GAUSS + "    return (x - x_hat).pow(2).flatten(1).sum(1) / (2 * sigma**2)\n",
           "the normalising constant left out (it is not constant in sigma)"),
    Mutant("ae-ex-gaussian", "distributions-shortcut",
           _GAUSS + "    return -torch.distributions.Normal(x_hat, sigma).log_prob(x).flatten(1).sum(1)\n",
           "torch.distributions instead of the formula, which the statement rules out"),
    Mutant("ae-ex-gaussian", "hard-coded-values",
           _GAUSS + "    return torch.tensor([789.0399, 774.9645, 759.7922, 758.0658, 834.6486])\n",
           "values copied from the check instead of computed"),
    # ae-ex-knn
    Mutant("ae-ex-knn", "matrix-product-distances",
           _KNN + "    nearest = torch.cdist(z_test, z_train).argmin(dim=1)\n"
           "    return (y_train[nearest] == y_test).float().mean().item()\n",
           "torch.cdist's default matrix-product path, which the warning is about"),
    Mutant("ae-ex-knn", "farthest",
           _KNN + "    nearest = torch.cdist(z_test, z_train, compute_mode='donot_use_mm_for_euclid_dist').argmax(dim=1)\n"
           "    return (y_train[nearest] == y_test).float().mean().item()\n",
           "argmax: the farthest training code"),
    Mutant("ae-ex-knn", "sklearn-shortcut",
           _KNN + "    from sklearn.neighbors import KNeighborsClassifier\n"
           "    knn = KNeighborsClassifier(n_neighbors=1).fit(z_train.numpy(), y_train.numpy())\n"
           "    return float(knn.score(z_test.numpy(), y_test.numpy()))\n",
           "scikit-learn instead of torch.cdist, which the statement asks for"),
    Mutant("ae-ex-knn", "hard-coded-accuracy",
           _KNN + "    return 0.45\n",
           "an accuracy copied from a printed output"),
    Mutant("ae-ex-knn", "tensor-not-float",
           _KNN + "    nearest = torch.cdist(z_test, z_train, compute_mode='donot_use_mm_for_euclid_dist').argmin(dim=1)\n"
           "    return (y_train[nearest] == y_test).float().mean()\n",
           "returns a tensor, not a Python float"),
    # ae-ex-code-gaussian
    Mutant("ae-ex-code-gaussian", "biased-covariance",
           _FIT + "    mu = z.mean(dim=0)\n    centred = z - mu\n    return mu, centred.T @ centred / z.shape[0]\n",
           "1/N instead of 1/(N-1) (the review's example)"),
    Mutant("ae-ex-code-gaussian", "torch-cov-correction-0",
           _FIT + "    return z.mean(dim=0), torch.cov(z.T, correction=0)\n",
           "torch.cov with correction=0: the biased covariance again"),
    Mutant("ae-ex-code-gaussian", "not-centred",
           _FIT + "    return z.mean(dim=0), z.T @ z / (z.shape[0] - 1)\n",
           "the second moment instead of the covariance (mean not subtracted)"),
    Mutant("ae-ex-code-gaussian", "wrong-axis",
           _FIT + "    return z.mean(dim=0), torch.cov(z)\n",
           "torch.cov on the rows: an N x N matrix"),
    # ae-ex-linear
    Mutant("ae-ex-linear", "not-centred",
           _LIN.replace("centred = x - mu", "centred = x") + "    for _ in range(gm.runtime.capped(steps)):\n"
           "        optimizer.zero_grad()\n        (centred - centred @ A @ B).pow(2).sum(1).mean().backward()\n"
           "        optimizer.step()\n    return A.detach(), B.detach(), torch.zeros_like(mu)\n",
           "the mean is not removed: one direction is spent on the mean"),
    Mutant("ae-ex-linear", "no-zero-grad",
           _LIN + "    for _ in range(gm.runtime.capped(steps)):\n"
           "        (centred - centred @ A @ B).pow(2).sum(1).mean().backward()\n"
           "        optimizer.step()\n    return A.detach(), B.detach(), mu\n",
           "optimizer.zero_grad() forgotten: gradients accumulate"),
    Mutant("ae-ex-linear", "encoder-detached",
           _LIN + "    for _ in range(gm.runtime.capped(steps)):\n"
           "        optimizer.zero_grad()\n        (centred - centred @ A.detach() @ B).pow(2).sum(1).mean().backward()\n"
           "        optimizer.step()\n    return A.detach(), B.detach(), mu\n",
           "the encoder detached: only the decoder learns"),
    Mutant("ae-ex-linear", "steps-ignored",
           _LIN + "    for _ in range(20):\n"
           "        optimizer.zero_grad()\n        (centred - centred @ A @ B).pow(2).sum(1).mean().backward()\n"
           "        optimizer.step()\n    return A.detach(), B.detach(), mu\n",
           "a hard-coded number of steps: not trained to the end"),
    Mutant("ae-ex-linear", "svd-shortcut",
           '''def train_linear_autoencoder(x, d, steps, lr, generator):
    """Linear autoencoder by PCA."""
    mu = x.mean(dim=0)
    _, _, Vh = torch.linalg.svd(x - mu, full_matrices=False)
    return Vh[:d].T.contiguous(), Vh[:d].contiguous(), mu
''',
           "PCA by SVD instead of training, which the statement rules out"),
]
