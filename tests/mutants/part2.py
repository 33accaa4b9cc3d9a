"""Wrong answers to chapters/02_sliced_autoencoders/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_AD = '''def ad_1d(y):
    """Anderson-Darling statistic of each row."""
    n = y.shape[1]
    y_sorted, _ = torch.sort(y, dim=-1)
    i = torch.arange(1, n + 1, dtype=y.dtype, device=y.device)
    log_cdf = torch.special.log_ndtr(y_sorted)
    log_sf_reversed = torch.special.log_ndtr(-y_sorted).flip(-1)
    return -n - ((2 * i - 1) * (log_cdf + log_sf_reversed)).sum(-1) / n
'''
_STD = '''def index_std(z, method, k, repeats, generator):
    """Spread of the sliced index."""
    values = torch.stack([sliced.normality_index(z, method, n_projections=k, generator=generator)
                          for _ in range(repeats)])
    return values.std().item()
'''
_PRIOR = '''def uniform_prior_index(z, k, generator):
    """SWAE index to a uniform prior."""
    prior = (torch.rand(z.shape, generator=generator, dtype=z.dtype) * 2 - 1) * math.sqrt(3)
    return sliced.normality_index(z, "swae", n_projections=k, prior_sample=prior, generator=generator)
'''
_SW = '''def sliced_w2(x, y, k, generator):
    """Sliced W2²."""
    v = gm.runtime.randn(k, x.shape[1], generator=generator, dtype=x.dtype)
    v = v / v.norm(dim=1, keepdim=True)
    px, _ = (x @ v.T).sort(dim=0)
    py, _ = (y @ v.T).sort(dim=0)
    return (px - py).pow(2).mean()
'''
_TRAIN = '''

def train_sampler(target, steps, lr, generator):
    """Train the sampler."""
    sampler = make_sampler()
    optimizer = torch.optim.Adam(sampler.parameters(), lr=lr)
    for _ in range(gm.runtime.capped(steps)):
        optimizer.zero_grad()
        noise = gm.runtime.randn(256, 2, generator=generator)
        sliced_w2(sampler(noise), target(256, generator), 32, generator).backward()
        optimizer.step()
    return sampler
'''


def _r(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def _sw(name: str, why: str, *edits: tuple[str, str]) -> Mutant:
    """A wrong sliced_w2 (the edits applied to the solution's), with the solution's train_sampler."""
    source = _SW
    for old, new in edits:
        source = _r(source, old, new)
    return Mutant("sliced-ex-sw-train", name, source + _TRAIN, why)


MUTANTS = [
    # sliced-ex-ad
    Mutant("sliced-ex-ad", "not-reversed",
           _r(_AD, "torch.special.log_ndtr(-y_sorted).flip(-1)", "torch.special.log_ndtr(-y_sorted)"),
           "log(1 - Phi(y_(i))) instead of log(1 - Phi(y_(n+1-i))): the flip forgotten"),
    Mutant("sliced-ex-ad", "log-of-cdf",
           _r(_r(_AD, "torch.special.log_ndtr(y_sorted)", "torch.log(torch.special.ndtr(y_sorted))"),
              "torch.special.log_ndtr(-y_sorted).flip(-1)", "torch.log(1 - torch.special.ndtr(y_sorted)).flip(-1)"),
           "log(Phi) and log(1 - Phi) computed literally: -inf far in the tails"),
    Mutant("sliced-ex-ad", "unsorted",
           _r(_AD, "y_sorted, _ = torch.sort(y, dim=-1)", "y_sorted = y"),
           "the order statistics replaced by the samples in their given order"),
    Mutant("sliced-ex-ad", "two-i-plus-one",
           _r(_AD, "(2 * i - 1)", "(2 * i + 1)"),
           "(2i + 1) instead of (2i - 1): an off-by-one in the weights"),
    Mutant("sliced-ex-ad", "divided-by-n-squared",
           _r(_AD, ".sum(-1) / n", ".sum(-1) / n**2"),
           "the sum divided by n^2 instead of n"),
    Mutant("sliced-ex-ad", "plus-n",
           _r(_AD, "return -n - (", "return n - ("),
           "+n instead of -n"),
    Mutant("sliced-ex-ad", "sorted-wrong-axis",
           _r(_AD, "torch.sort(y, dim=-1)", "torch.sort(y, dim=0)"),
           "sorted across rows instead of within each row"),
    # sliced-ex-projections
    Mutant("sliced-ex-projections", "standard-error",
           _r(_STD, "return values.std().item()", "return values.std().item() / math.sqrt(repeats)"),
           "the standard error of the mean instead of the standard deviation (the review's example)"),
    Mutant("sliced-ex-projections", "mean-absolute-deviation",
           _r(_STD, "return values.std().item()", "return (values - values.mean()).abs().mean().item()"),
           "the mean absolute deviation (the review's second example)"),
    Mutant("sliced-ex-projections", "variance",
           _r(_STD, "return values.std().item()", "return values.var().item()"),
           "the variance instead of its square root"),
    Mutant("sliced-ex-projections", "default-projections",
           _r(_STD, "sliced.normality_index(z, method, n_projections=k, generator=generator)",
              "sliced.normality_index(z, method, generator=generator)"),
           "k not passed: every call uses the default 100 directions"),
    Mutant("sliced-ex-projections", "same-directions",
           _r(_STD, "generator=generator)", "generator=torch.Generator().manual_seed(0))"),
           "a fresh generator with the same seed on every call: the same directions, spread 0"),
    Mutant("sliced-ex-projections", "range",
           _r(_STD, "return values.std().item()", "return (values.max() - values.min()).item()"),
           "the range of the values instead of their standard deviation"),
    # sliced-ex-prior
    Mutant("sliced-ex-prior", "global-rng",
           _r(_PRIOR, "torch.rand(z.shape, generator=generator, dtype=z.dtype)", "torch.rand(z.shape, dtype=z.dtype)"),
           "the prior drawn with torch's global generator, ignoring `generator` (the review's example)"),
    Mutant("sliced-ex-prior", "directions-global-rng",
           _r(_PRIOR, "prior_sample=prior, generator=generator)", "prior_sample=prior)"),
           "the generator not passed on: the directions come from the global generator"),
    Mutant("sliced-ex-prior", "unit-interval-scale",
           _r(_PRIOR, "* 2 - 1) * math.sqrt(3)", "* 2 - 1)"),
           "uniform on [-1, 1]^D: variance 1/3, not 1"),
    Mutant("sliced-ex-prior", "gaussian-prior",
           _r(_PRIOR, "(torch.rand(z.shape, generator=generator, dtype=z.dtype) * 2 - 1) * math.sqrt(3)",
              "torch.randn(z.shape, generator=generator, dtype=z.dtype)"),
           "a Gaussian prior sample: the index to N(0, I), not to the uniform prior"),
    Mutant("sliced-ex-prior", "half-width",
           _r(_PRIOR, "* math.sqrt(3)", "* math.sqrt(3) / 2"),
           "half the width of the cube"),
    # sliced-ex-sw-train: the distance wrong (the training is the solution's)
    _sw("unnormalised-directions", "standard normal directions not normalised: a factor D too large on average",
        ("    v = v / v.norm(dim=1, keepdim=True)\n", "")),
    _sw("unsorted", "projections compared in sample order, not sorted: not a transport cost",
        ("px, _ = (x @ v.T).sort(dim=0)", "px = x @ v.T"), ("py, _ = (y @ v.T).sort(dim=0)", "py = y @ v.T")),
    _sw("one-side-sorted", "only x's projections sorted", ("py, _ = (y @ v.T).sort(dim=0)", "py = y @ v.T")),
    _sw("not-squared", "the mean of W2 over directions instead of W2²",
        ("return (px - py).pow(2).mean()", "return (px - py).pow(2).mean(0).sqrt().mean()")),
    _sw("summed-over-points", "summed over the n points instead of averaged",
        ("return (px - py).pow(2).mean()", "return (px - py).pow(2).sum(0).mean()")),
    _sw("sorted-wrong-axis", "sorted across directions instead of across samples",
        ("(x @ v.T).sort(dim=0)", "(x @ v.T).sort(dim=1)"), ("(y @ v.T).sort(dim=0)", "(y @ v.T).sort(dim=1)")),
    _sw("global-rng", "directions from torch's global generator: the generator argument ignored",
        ("gm.runtime.randn(k, x.shape[1], generator=generator, dtype=x.dtype)", "torch.randn(k, x.shape[1], dtype=x.dtype)")),
    # sliced-ex-sw-train: the training wrong
    Mutant("sliced-ex-sw-train", "maximises",
           _SW + _r(_TRAIN, "sliced_w2(sampler(noise), target(256, generator), 32, generator).backward()",
                    "(-sliced_w2(sampler(noise), target(256, generator), 32, generator)).backward()"),
           "the distance maximised: the sign of the loss"),
    Mutant("sliced-ex-sw-train", "steps-ignored",
           _SW + _r(_TRAIN, "range(gm.runtime.capped(steps))", "range(20)"),
           "a hard-coded handful of steps"),
    Mutant("sliced-ex-sw-train", "matches-the-noise",
           _SW + _r(_TRAIN, "target(256, generator)", "gm.runtime.randn(256, 2, generator=generator)"),
           "trained against fresh noise instead of the target samples"),
]
