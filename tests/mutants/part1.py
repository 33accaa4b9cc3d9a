"""Wrong answers to chapters/01_vae_gan/exercises.ipynb (see tests/mutants/__init__.py)."""
from tests.mutants import Mutant

_BETA = 'def beta_vae_loss(model, x, beta):\n    """beta-VAE loss."""\n    mu, logvar = model.encode(x)\n'
_BETA_OK = _BETA + "    z = gm.vae.reparameterize(mu, logvar)\n"
_LME = 'def log_mean_exp(log_w):\n    """log-mean-exp over axis 0."""\n'
_GRADS = '''def logit_gradients(logits):
    """Gradients w.r.t. the logits."""
    l = logits.detach().clone().requires_grad_(True)
    (g_sat,) = torch.autograd.grad(gm.gan.saturating_g_loss(l), l)
    (g_ns,) = torch.autograd.grad(gm.gan.nonsaturating_g_loss(l), l)
    return g_sat, g_ns
'''
_RATIO = '''

def gradient_ratio(d):
    """Ratio of the gradients."""
    g_sat, g_ns = logit_gradients(torch.logit(d))
    return g_ns.abs() / g_sat.abs()
'''
_DSTAR = '''def optimal_discriminator(x, p_data, p_g):
    """D*."""
    return torch.sigmoid(p_data.log_prob(x) - p_g.log_prob(x))
'''
_GAME = '''

def game_value(p_data, p_g, n, seed=0):
    """Monte Carlo V(D*, G)."""
    torch.manual_seed(seed)
    x_real, x_fake = p_data.sample((n,)), p_g.sample((n,))
    logit = lambda x: p_data.log_prob(x) - p_g.log_prob(x)
    return -float(gm.gan.minimax_d_loss(logit(x_real), logit(x_fake)))
'''
_ELBO_HEAD = '''def mc_elbo(x, mu, logvar, decoder, generator):
    """One-sample ELBO estimate."""
    eps = gm.runtime.randn(*mu.shape, generator=generator, dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps
    logits = decoder(z)
    log_px = (x * logits - torch.nn.functional.softplus(logits)).sum(1)
'''
_ELBO = _ELBO_HEAD + '''    log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
    log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(1)
    return log_px + log_pz - log_qz
'''
_TRAIN = '''

def train_tiny_vae(x, steps, lr, generator):
    """Train the tiny VAE."""
    encoder, decoder = make_tiny_vae(x.shape[1])
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    for _ in range(gm.runtime.capped(steps)):
        optimizer.zero_grad()
        mu, logvar = encoder(x).chunk(2, dim=1)
        (-mc_elbo(x, mu, logvar, decoder, generator).mean()).backward()
        optimizer.step()
    return encoder, decoder
'''


def _elbo(body: str) -> str:
    return _ELBO_HEAD + body + _TRAIN


def _train(old: str, new: str) -> str:
    assert old in _TRAIN, old
    return _ELBO + _TRAIN.replace(old, new)


MUTANTS = [
    # vae-ex-beta
    Mutant("vae-ex-beta", "beta-on-distortion",
           _BETA_OK + "    distortion = -model.log_likelihood(model.decode_logits(z), x).mean()\n"
           "    rate = gm.vae.gaussian_kl(mu, logvar).mean()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': beta * distortion + rate}\n",
           "beta weights the distortion instead of the rate (the same at beta = 1)"),
    Mutant("vae-ex-beta", "rate-times-beta",
           _BETA_OK + "    distortion = -model.log_likelihood(model.decode_logits(z), x).mean()\n"
           "    rate = beta * gm.vae.gaussian_kl(mu, logvar).mean()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': distortion + rate}\n",
           "the reported rate already multiplied by beta"),
    Mutant("vae-ex-beta", "decode-images",
           _BETA_OK + "    distortion = -model.log_likelihood(model.decode(z), x).mean()\n"
           "    rate = gm.vae.gaussian_kl(mu, logvar).mean()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': distortion + beta * rate}\n",
           "model.decode (images in [0, 1]) passed where logits are expected"),
    Mutant("vae-ex-beta", "no-sampling",
           _BETA + "    distortion = -model.log_likelihood(model.decode_logits(mu), x).mean()\n"
           "    rate = gm.vae.gaussian_kl(mu, logvar).mean()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': distortion + beta * rate}\n",
           "the code mean decoded instead of a reparameterised sample"),
    Mutant("vae-ex-beta", "rate-summed",
           _BETA_OK + "    distortion = -model.log_likelihood(model.decode_logits(z), x).mean()\n"
           "    rate = gm.vae.gaussian_kl(mu, logvar).sum()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': distortion + beta * rate}\n",
           "the rate summed over the batch, the distortion averaged"),
    Mutant("vae-ex-beta", "rate-sign",
           _BETA_OK + "    distortion = -model.log_likelihood(model.decode_logits(z), x).mean()\n"
           "    rate = gm.vae.gaussian_kl(mu, logvar).mean()\n"
           "    return {'rate': rate, 'distortion': distortion, 'loss': distortion - beta * rate}\n",
           "the KL term subtracted (the ELBO's sign mixed with the loss's)"),
    # vae-ex-logmeanexp
    Mutant("vae-ex-logmeanexp", "logsumexp-shortcut",
           _LME + "    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])\n",
           "torch.logsumexp, which the statement rules out (the review's example)"),
    Mutant("vae-ex-logmeanexp", "literal",
           _LME + "    return log_w.exp().mean(0).log()\n",
           "the formula computed literally: exp(-1000) underflows to 0"),
    Mutant("vae-ex-logmeanexp", "literal-float64",
           _LME + "    return log_w.double().exp().mean(0).log().to(log_w.dtype)\n",
           "more precision instead of the trick: exp(-1000) underflows in float64 too"),
    Mutant("vae-ex-logmeanexp", "nan-at-zero-weights",
           _LME + "    m = log_w.max(0).values\n    return m + (log_w - m).exp().mean(0).log()\n",
           "the old solution: an all -inf column gives -inf - (-inf) = nan"),
    Mutant("vae-ex-logmeanexp", "sum-not-mean",
           _LME + "    m = log_w.max(0).values\n    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))\n"
           "    return m + (log_w - m).exp().sum(0).log()\n",
           "log-sum-exp: the 1/k of the mean forgotten"),
    Mutant("vae-ex-logmeanexp", "min-not-max",
           _LME + "    m = log_w.min(0).values\n    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))\n"
           "    return m + (log_w - m).exp().mean(0).log()\n",
           "the smallest weight factored out: overflows when the weights spread"),
    Mutant("vae-ex-logmeanexp", "wrong-axis",
           _LME + "    m = log_w.max(1, keepdim=True).values\n"
           "    return (m + (log_w - m).exp().mean(1, keepdim=True).log()).squeeze(1)\n",
           "the mean over the images instead of over the k weights"),
    Mutant("vae-ex-logmeanexp", "max-not-added-back",
           _LME + "    m = log_w.max(0).values\n    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))\n"
           "    return (log_w - m).exp().mean(0).log()\n",
           "the factored-out maximum never added back"),
    # gan-ex-saturating
    Mutant("gan-ex-saturating", "hard-coded-999",
           _GRADS + "\n\nratio = 999.0\n\n\ndef gradient_ratio(d):\n    \"\"\"Copied from the printed output.\"\"\"\n"
           "    return torch.full_like(d, 999.0)\n",
           "the ratio 999 copied from the printed output (the review's example)"),
    Mutant("gan-ex-saturating", "formula-shortcut",
           _GRADS + "\n\ndef gradient_ratio(d):\n    \"\"\"From eq. gan-grads, not from the gradients.\"\"\"\n"
           "    return (1 - d) / d\n",
           "the ratio from the known formula instead of the gradients the exercise computes"),
    Mutant("gan-ex-saturating", "inverse-ratio",
           _GRADS + _RATIO.replace("g_ns.abs() / g_sat.abs()", "g_sat.abs() / g_ns.abs()"),
           "saturating over non-saturating"),
    Mutant("gan-ex-saturating", "swapped-gradients",
           _GRADS.replace("return g_sat, g_ns", "return g_ns, g_sat") + _RATIO,
           "the two gradients returned in the wrong order"),
    Mutant("gan-ex-saturating", "gradient-of-the-negated-loss",
           _GRADS.replace("return g_sat, g_ns", "return -g_sat, -g_ns") + _RATIO,
           "gradients of the value to maximise instead of the loss: the sign"),
    Mutant("gan-ex-saturating", "gradient-wrt-probability",
           '''def logit_gradients(logits):
    """Gradients w.r.t. D = sigmoid(logits) instead of the logits."""
    p = torch.sigmoid(logits).detach().requires_grad_(True)
    (g_sat,) = torch.autograd.grad(gm.gan.saturating_g_loss(torch.logit(p)), p)
    (g_ns,) = torch.autograd.grad(gm.gan.nonsaturating_g_loss(torch.logit(p)), p)
    return g_sat, g_ns
''' + _RATIO,
           "differentiated with respect to D(G(z)) instead of the logit"),
    Mutant("gan-ex-saturating", "no-batch-mean",
           '''def logit_gradients(logits):
    """Per-sample gradients written by hand, without the 1/N of the batch mean."""
    d = torch.sigmoid(logits)
    return -d, -(1 - d)
''' + _RATIO,
           "the formula of eq. gan-grads without the 1/N of the batch mean"),
    # gan-ex-dstar
    Mutant("gan-ex-dstar", "swapped-densities",
           _DSTAR.replace("p_data.log_prob(x) - p_g.log_prob(x)", "p_g.log_prob(x) - p_data.log_prob(x)") + _GAME,
           "log p_g - log p_data: D* of the fakes"),
    Mutant("gan-ex-dstar", "density-ratio-underflow",
           '''def optimal_discriminator(x, p_data, p_g):
    """D* from the densities themselves."""
    a, b = p_data.log_prob(x).exp(), p_g.log_prob(x).exp()
    return a / (a + b)
''' + _GAME,
           "p/(p + q) from the densities: 0/0 where both underflow"),
    Mutant("gan-ex-dstar", "quadrature-value",
           _DSTAR + '''

def game_value(p_data, p_g, n, seed=0):
    """2 JSD - log 4 by quadrature (the review's example), not Monte Carlo."""
    xs = torch.linspace(-12, 14, 100_001, dtype=torch.float64)
    pp, qq = p_data.log_prob(xs).double().exp(), p_g.log_prob(xs).double().exp()
    m = (pp + qq) / 2
    jsd = 0.5 * torch.trapezoid(pp * (pp / m).log(), xs) + 0.5 * torch.trapezoid(qq * (qq / m).log(), xs)
    return -math.log(4) + 2 * float(jsd)
''',
           "the JSD by quadrature instead of the Monte Carlo estimate with minimax_d_loss"),
    Mutant("gan-ex-dstar", "loss-not-value",
           _DSTAR + _GAME.replace("return -float(", "return float("),
           "the discriminator's loss returned instead of the value V = -loss"),
    Mutant("gan-ex-dstar", "fakes-from-p-data",
           _DSTAR + _GAME.replace("p_g.sample((n,))", "p_data.sample((n,))"),
           "both samples drawn from p_data"),
    Mutant("gan-ex-dstar", "hard-coded-value",
           _DSTAR + _GAME.replace("    return -float(gm.gan.minimax_d_loss(logit(x_real), logit(x_fake)))\n",
                                  "    v = -float(gm.gan.minimax_d_loss(logit(x_real), logit(x_fake)))\n"
                                  "    return -math.log(4) if v < -1.38 else -0.7126\n"),
           "the answer copied from a printed value once the Monte Carlo estimate looked close"),
    # vae-ex-mc-elbo
    Mutant("vae-ex-mc-elbo", "logvar-as-log-std",
           _ELBO.replace("(0.5 * logvar).exp()", "logvar.exp()").replace("eps.pow(2) + logvar", "eps.pow(2) + 2 * logvar")
           + _TRAIN,
           "logvar read as log sigma: the estimate of another ELBO"),
    Mutant("vae-ex-mc-elbo", "closed-form-kl",
           _elbo("    return log_px - 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)\n"),
           "the closed-form KL, which the statement rules out"),
    Mutant("vae-ex-mc-elbo", "prior-missing",
           _elbo("    log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(1)\n    return log_px - log_qz\n"),
           "log p(z) forgotten"),
    Mutant("vae-ex-mc-elbo", "entropy-sign",
           _elbo("    log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)\n"
                 "    log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(1)\n"
                 "    return log_px + log_pz + log_qz\n"),
           "+ log q instead of - log q"),
    Mutant("vae-ex-mc-elbo", "no-noise",
           '''def mc_elbo(x, mu, logvar, decoder, generator):
    """z = mu: no sample."""
    z = mu
    logits = decoder(z)
    log_px = (x * logits - torch.nn.functional.softplus(logits)).sum(1)
    log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
    log_qz = -0.5 * (logvar + math.log(2 * math.pi)).sum(1)
    return log_px + log_pz - log_qz
''' + _TRAIN,
           "the code mean instead of a draw: no longer an estimate of the ELBO"),
    Mutant("vae-ex-mc-elbo", "global-rng",
           _ELBO.replace("gm.runtime.randn(*mu.shape, generator=generator, dtype=mu.dtype)", "torch.randn_like(mu)")
           + _TRAIN,
           "noise from torch's global generator: the generator argument ignored"),
    Mutant("vae-ex-mc-elbo", "batch-mean",
           _ELBO.replace("return log_px + log_pz - log_qz", "return (log_px + log_pz - log_qz).mean()") + _TRAIN,
           "one number for the batch instead of one per image"),
    Mutant("vae-ex-mc-elbo", "minimises-the-elbo",
           _train("(-mc_elbo(x, mu, logvar, decoder, generator).mean()).backward()",
                  "mc_elbo(x, mu, logvar, decoder, generator).mean().backward()"),
           "the ELBO minimised: the sign of the training loss"),
    Mutant("vae-ex-mc-elbo", "steps-ignored",
           _train("range(gm.runtime.capped(steps))", "range(20)"),
           "a hard-coded handful of steps"),
    Mutant("vae-ex-mc-elbo", "decoder-only",
           _train("[*encoder.parameters(), *decoder.parameters()]", "decoder.parameters()"),
           "only the decoder trained: the encoder stays random"),
]
