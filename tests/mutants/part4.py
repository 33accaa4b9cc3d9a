"""Wrong answers to chapters/04_lowlight_enhancement/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_CURVE = '''def le_curve(v, a, n):
    """Iterated curve."""
    for _ in range(n):
        v = v + a * v * (1 - v)
    return v


'''
_BRIGHTEN = '''def brighten(x, a, n):
    """Brighten."""
    return L.on_value(x, lambda v: le_curve(v, a, n))
'''
_CYC = 'def cycle_loss(G, F, x, y):\n    """Cycle loss."""\n'
_LOSS = '''def lsgan_d_loss_discrete(d, p_real, p_fake):
    """LSGAN D loss."""
    return 0.5 * (p_real * (d - 1) ** 2).sum() + 0.5 * (p_fake * d**2).sum()


'''
_FIT = '''def fit_discriminator(p_real, p_fake, steps):
    """Minimise by SGD."""
    d = torch.zeros_like(p_real, requires_grad=True)
    opt = torch.optim.SGD([d], lr=1.0)
    for _ in range(steps):
        opt.zero_grad()
        lsgan_d_loss_discrete(d, p_real, p_fake).backward()
        opt.step()
    return d.detach()
'''

MUTANTS = [
    # lowlight-ex-curve
    Mutant("lowlight-ex-curve", "mean-based-gain",
           _CURVE + '''def brighten(x, a, n):
    """Brighten by the curve of the channel mean."""
    m = x.mean(1, keepdim=True).clamp(min=1e-6)
    return x * le_curve(m, a, n) / m
''',
           "the review's example: a gain from the channel mean, whose output leaves [0, 1]"),
    Mutant("lowlight-ex-curve", "per-channel",
           _CURVE + '''def brighten(x, a, n):
    """Brighten every channel."""
    return le_curve(x, a, n)
''',
           "the curve applied to R, G, B separately: the hue changes"),
    Mutant("lowlight-ex-curve", "wrong-sign",
           '''def le_curve(v, a, n):
    """Iterated curve."""
    for _ in range(n):
        v = v + a * v * (1 + v)
    return v


''' + _BRIGHTEN,
           "v (1 + v) instead of v (1 - v): 1 is no longer fixed"),
    Mutant("lowlight-ex-curve", "clipped-linear-gain",
           '''def le_curve(v, a, n):
    """Iterated gain, clipped."""
    for _ in range(n):
        v = (v + a * v).clamp(0, 1)
    return v


''' + _BRIGHTEN,
           "a linear gain silently clipped to [0, 1] instead of the quadratic curve"),
    Mutant("lowlight-ex-curve", "off-by-one",
           '''def le_curve(v, a, n):
    """Iterated curve."""
    for _ in range(n - 1):
        v = v + a * v * (1 - v)
    return v


''' + _BRIGHTEN,
           "n - 1 iterations"),
    Mutant("lowlight-ex-curve", "luma-gain",
           _CURVE + '''def brighten(x, a, n):
    """Brighten by the curve of the luma."""
    lum = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1).clamp(min=1e-6)
    return x * le_curve(lum, a, n) / lum
''',
           "a gain from the luma instead of the value channel: channels above the luma exceed 1"),
    # lowlight-ex-cycle
    Mutant("lowlight-ex-cycle", "sum-not-mean",
           _CYC + "    return (F(G(x)) - x).abs().sum() + (G(F(y)) - y).abs().sum()\n",
           "sum of absolute differences instead of the mean"),
    Mutant("lowlight-ex-cycle", "squared",
           _CYC + "    return (F(G(x)) - x).pow(2).mean() + (G(F(y)) - y).pow(2).mean()\n",
           "an L2 instead of an L1 cycle loss"),
    Mutant("lowlight-ex-cycle", "one-round-trip",
           _CYC + "    return (F(G(x)) - x).abs().mean()\n",
           "the y -> x -> y round trip forgotten"),
    Mutant("lowlight-ex-cycle", "round-trips-swapped",
           _CYC + "    return (G(F(x)) - x).abs().mean() + (F(G(y)) - y).abs().mean()\n",
           "each domain sent through the wrong generator first"),
    Mutant("lowlight-ex-cycle", "averaged-terms",
           _CYC + "    return 0.5 * ((F(G(x)) - x).abs().mean() + (G(F(y)) - y).abs().mean())\n",
           "the two terms averaged instead of summed"),
    # lowlight-ex-lsgan
    Mutant("lowlight-ex-lsgan", "paper-typo-loss",
           '''def lsgan_d_loss_discrete(d, p_real, p_fake):
    """The paper's typo."""
    return 0.5 * (p_fake * d**2).sum() + 0.5 * (p_real * (1 - d**2)).sum()


''' + _FIT,
           "the review's example: the printed typo 1/2 sum p_f d^2 + 1/2 sum p_r (1 - d^2)"),
    Mutant("lowlight-ex-lsgan", "no-half",
           '''def lsgan_d_loss_discrete(d, p_real, p_fake):
    """No halves."""
    return (p_real * (d - 1) ** 2).sum() + (p_fake * d**2).sum()


''' + _FIT,
           "the factors 1/2 dropped (the minimiser is the same, the loss is not)"),
    Mutant("lowlight-ex-lsgan", "closed-form",
           _LOSS + '''def fit_discriminator(p_real, p_fake, steps):
    """The known answer."""
    return p_real / (p_real + p_fake)
''',
           "the closed-form optimum returned instead of running SGD, which the statement asks for"),
    Mutant("lowlight-ex-lsgan", "no-zero-grad",
           _LOSS + _FIT.replace("        opt.zero_grad()\n", ""),
           "optimizer.zero_grad() forgotten: gradients accumulate"),
    Mutant("lowlight-ex-lsgan", "adam",
           _LOSS + _FIT.replace("torch.optim.SGD([d], lr=1.0)", "torch.optim.Adam([d], lr=0.01)"),
           "Adam instead of SGD(lr=1.0)"),
    Mutant("lowlight-ex-lsgan", "labels-swapped",
           '''def lsgan_d_loss_discrete(d, p_real, p_fake):
    """Real and fake swapped."""
    return 0.5 * (p_fake * (d - 1) ** 2).sum() + 0.5 * (p_real * d**2).sum()


''' + _FIT,
           "real coded 0 and fake 1"),
]
