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

_DCE_CURVES = '''def apply_curves(v, maps):
    """Zero-DCE curves."""
    for k in range(maps.shape[1]):
        a = maps[:, k : k + 1]
        v = v + a * v * (1 - v)
    return v


'''
_DCE_EXP = '''def exposure_loss(v, level, patch):
    """Exposure term."""
    return (torch.nn.functional.avg_pool2d(v, patch) - level).pow(2).mean()


'''
_DCE_TV = '''def smoothness_loss(maps):
    """Smoothness term."""
    return (maps[..., :, 1:] - maps[..., :, :-1]).pow(2).mean() + (maps[..., 1:, :] - maps[..., :-1, :]).pow(2).mean()


'''
_DCE_FIT = '''def fit_curves(x, level, steps, lr):
    """Fit the maps."""
    theta = torch.zeros(x.shape[0], 8, *x.shape[2:], dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for _ in range(gm.runtime.capped(steps)):
        optimizer.zero_grad()
        maps = torch.tanh(theta)
        y = L.on_value(x, lambda v: apply_curves(v, maps))
        (exposure_loss(y.amax(1, keepdim=True), level, 8) + smoothness_loss(maps)).backward()
        optimizer.step()
    maps = torch.tanh(theta).detach()
    return L.on_value(x, lambda v: apply_curves(v, maps)), maps
'''
_DCE = _DCE_CURVES + _DCE_EXP + _DCE_TV + _DCE_FIT


def _dce(old: str, new: str) -> str:
    assert _DCE.count(old) == 1, old
    return _DCE.replace(old, new)


MUTANTS += [
    # lowlight-ex-zerodce
    Mutant("lowlight-ex-zerodce", "curve-sign", _dce("v = v + a * v * (1 - v)", "v = v + a * v * (1 + v)"),
           "v (1 + v) instead of v (1 - v): 1 is no longer fixed"),
    Mutant("lowlight-ex-zerodce", "first-map-only", _dce("a = maps[:, k : k + 1]", "a = maps[:, :1]"),
           "the first map applied n times: one curve, as in exercise 1"),
    Mutant("lowlight-ex-zerodce", "maps-reversed", _dce("a = maps[:, k : k + 1]", "a = maps[:, maps.shape[1] - 1 - k :][:, :1]"),
           "the maps applied last to first"),
    Mutant("lowlight-ex-zerodce", "wrong-axis", _dce("for k in range(maps.shape[1]):\n        a = maps[:, k : k + 1]",
                                                     "for k in range(maps.shape[0]):\n        a = maps[k : k + 1, :1]"),
           "the loop over the images instead of over the maps"),
    Mutant("lowlight-ex-zerodce", "global-exposure",
           _dce("(torch.nn.functional.avg_pool2d(v, patch) - level).pow(2).mean()", "(v.mean() - level).pow(2)"),
           "the mean of the whole image pulled to the level, not each patch"),
    Mutant("lowlight-ex-zerodce", "patch-ignored",
           _dce("avg_pool2d(v, patch)", "avg_pool2d(v, 4)"),
           "a hard-coded patch size"),
    Mutant("lowlight-ex-zerodce", "overlapping-patches",
           _dce("avg_pool2d(v, patch)", "avg_pool2d(v, patch, stride=1)"),
           "sliding patches instead of non-overlapping ones"),
    Mutant("lowlight-ex-zerodce", "absolute-exposure",
           _dce("(torch.nn.functional.avg_pool2d(v, patch) - level).pow(2).mean()",
                "(torch.nn.functional.avg_pool2d(v, patch) - level).abs().mean()"),
           "an absolute instead of a squared deviation"),
    Mutant("lowlight-ex-zerodce", "total-variation-l1",
           _dce(".pow(2).mean() + (maps[..., 1:, :] - maps[..., :-1, :]).pow(2).mean()",
                ".abs().mean() + (maps[..., 1:, :] - maps[..., :-1, :]).abs().mean()"),
           "absolute differences (TV) instead of squared ones"),
    Mutant("lowlight-ex-zerodce", "one-direction",
           _dce(" + (maps[..., 1:, :] - maps[..., :-1, :]).pow(2).mean()", ""),
           "only horizontal neighbours compared"),
    Mutant("lowlight-ex-zerodce", "pooled-directions",
           _dce("return (maps[..., :, 1:] - maps[..., :, :-1]).pow(2).mean() + (maps[..., 1:, :] - maps[..., :-1, :]).pow(2).mean()",
                "return torch.cat([(maps[..., :, 1:] - maps[..., :, :-1]).flatten(), "
                "(maps[..., 1:, :] - maps[..., :-1, :]).flatten()]).pow(2).mean()"),
           "one mean over all pairs of both directions: half the sum the statement asks for"),
    Mutant("lowlight-ex-zerodce", "no-smoothness",
           _dce("(exposure_loss(y.amax(1, keepdim=True), level, 8) + smoothness_loss(maps)).backward()",
                "exposure_loss(y.amax(1, keepdim=True), level, 8).backward()"),
           "the smoothness term left out of the objective: the maps follow every patch"),
    Mutant("lowlight-ex-zerodce", "per-channel-clipped",
           _dce("y = L.on_value(x, lambda v: apply_curves(v, maps))", "y = apply_curves(x, maps).clamp(0, 1)")
           .replace("return L.on_value(x, lambda v: apply_curves(v, maps)), maps", "return apply_curves(x, maps).clamp(0, 1), maps"),
           "the curves applied to R, G, B separately, and silently clipped: the hue changes"),
    Mutant("lowlight-ex-zerodce", "rgb-mean-exposure",
           _dce("exposure_loss(y.amax(1, keepdim=True), level, 8)", "exposure_loss(y.mean(1, keepdim=True), level, 8)"),
           "Zero-DCE's RGB mean in place of the value channel the statement asks for"),
    Mutant("lowlight-ex-zerodce", "level-hard-coded", _dce("keepdim=True), level, 8)", "keepdim=True), 0.6, 8)"),
           "a level hard-coded (0.6, the level of the known cases of (b)): the level argument ignored"),
    Mutant("lowlight-ex-zerodce", "steps-ignored", _dce("range(gm.runtime.capped(steps))", "range(20)"),
           "a hard-coded handful of steps"),
    Mutant("lowlight-ex-zerodce", "input-exposure",
           _dce("exposure_loss(y.amax(1, keepdim=True), level, 8)", "exposure_loss(x.amax(1, keepdim=True), level, 8)"),
           "the exposure of the input measured instead of the output's: nothing pulls the output"),
]
