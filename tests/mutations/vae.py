"""Mutations of src/genmodels/vae.py; tests/test_vae.py must kill each (see tests/mutations/__init__.py)."""
from tests.mutations import Mutation

F = "src/genmodels/vae.py"
T = ("tests/test_vae.py",)

MUTATIONS = [
    # the code audit's, section 1a
    Mutation(F, "logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)", "logvar.exp() + math.log(2 * math.pi)).sum(-1)",
             "M2: log_normal drops the log-determinant term of q(z|x)", T),
    Mutation(F, "    log_q = log_normal(z, mu, logvar)  ", "    log_q = log_normal(z)  ",
             "M2b: IWAE evaluates log q(z|x) under the prior", T),
    Mutation(F, "for i in range(0, len(flat), chunk)]).view(k, -1)", "for i in range(0, len(flat), chunk)]).view(-1, k).T",
             "M19: (k, N) read as (N, k): importance samples mixed across images", T),
    Mutation(F, '"loss": rec + self.config.beta * kl,', '"loss": rec + kl,', "M11: beta ignored by the loss", T),
    Mutation(F, "        return torch.sigmoid(self.decode_logits(z))\n", "        return self.decode_logits(z)\n",
             "M17: decode/mean return logits, not images", T),
    Mutation(F, "return self.decode(runtime.randn(n, self.config.latent_dim, generator=generator, device=dev))",
             "return self.decode(runtime.randn(n, self.config.latent_dim, device=dev))",
             "M18: sample ignores its generator", T),
    # ours
    Mutation(F, "return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)\n",
             "return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 + logvar)\n", "KL with the wrong sign of log σ²", T),
    Mutation(F, "    activity = mu.var(0)\n", "    activity = mu.pow(2).mean(0)\n",
             "active units from the second moment instead of the variance over the data", T + ("tests/test_vae_diagnostics.py",)),
    Mutation(F, "    baseline = (values.sum(0, keepdim=True) - values) / (n - 1)\n",
             "    baseline = values.mean(0, keepdim=True)\n",
             "the score baseline includes the sample's own value (biased)", ("tests/test_vae_diagnostics.py",)),
    Mutation(F, "return mu + (0.5 * logvar).exp() * eps", "return mu + logvar.exp() * eps",
             "reparameterisation scales by the variance, not the standard deviation", T),
    Mutation(F, "    return torch.logsumexp(log_w, 0) - math.log(k)", "    return torch.logsumexp(log_w, 0)",
             "IWAE without the −log k", T),
    Mutation(F, "return gaussian_log_likelihood(torch.sigmoid(out), x, self.config.sigma)",
             "return gaussian_log_likelihood(out, x, self.config.sigma)",
             "Gaussian likelihood on the raw decoder output instead of its sigmoid", T),
    Mutation(F, 'out["nelbo"] = out["rec"] + out["kl"]', 'out["nelbo"] = out["loss"]',
             "nelbo weighted by β (not the ELBO when β ≠ 1)", T),
    Mutation(F, "        check_images(x, f\"{type(self).__name__}.encode\")\n", "",
             "encode accepts pixels outside [0, 1]", T),
    Mutation(F, "        return self.mean(mu)\n", "        return self.mean(mu + 1.0)\n",
             "reconstruct decodes a shifted code", T),
    Mutation(F, "    return (x > threshold).float()", "    return (x >= threshold).float()",
             "binarize counts the threshold itself as ink", T),
]
