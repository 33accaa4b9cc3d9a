"""Mutations of the ``diffusion`` package (score matching, DDPM/DDIM, flow matching); see tests/mutations/__init__.py."""
from tests.mutations import Mutation

_S, _L, _M = ("src/genmodels/diffusion/schedule.py", "src/genmodels/diffusion/losses.py",
              "src/genmodels/diffusion/samplers.py")
_O = "src/genmodels/diffusion/model.py"
_T = ("tests/test_diffusion.py",)

MUTATIONS = [
    # the forward process
    Mutation(file=_S, find="return torch.cumprod(self.alphas, 0)", replace="return torch.cumprod(self.betas, 0)",
             why="ᾱ_t as the product of the β's instead of the α's", tests=_T),
    Mutation(file=_S, find="return ab.sqrt() * x0 + (1 - ab).sqrt() * eps", replace="return ab * x0 + (1 - ab) * eps",
             why="q_sample without square roots: mean ᾱ x_0 and std 1 − ᾱ", tests=_T),
    Mutation(file=_S, find="return torch.cat([ab.new_ones(1), ab[:-1]])", replace="return torch.cat([ab[1:], ab.new_ones(1)])",
             why="ᾱ_{t−1} shifted the wrong way (ᾱ_{t+1})", tests=_T),
    Mutation(file=_S, find="    var = schedule.gather((1 - ab_prev) / (1 - ab) * beta, t, x0)",
             replace="    var = schedule.gather(beta, t, x0)",
             why="posterior variance β_t instead of β̃_t", tests=_T),
    Mutation(file=_S, find="c0 = schedule.gather(ab_prev.sqrt() * beta / (1 - ab), t, x0)",
             replace="c0 = schedule.gather(ab.sqrt() * beta / (1 - ab), t, x0)",
             why="posterior mean weights x_0 by √ᾱ_t instead of √ᾱ_{t−1}", tests=_T),
    Mutation(file=_S, find="if t.numel() and (int(t.min()) < 0 or int(t.max()) >= T):",
             replace="if t.numel() and (int(t.min()) < 0 or int(t.max()) > T):",
             why="t = T accepted (indexing past the schedule is silently wrapped)", tests=_T),
    # the losses
    Mutation(file=_L, find="per_row = 0.5 * (out + z / s).pow(2).flatten(1).sum(1)",
             replace="per_row = 0.5 * (out - z / s).pow(2).flatten(1).sum(1)",
             why="DSM target +z/σ instead of −z/σ (the score points away from the data)", tests=_T),
    Mutation(file=_L, find="per_row = 0.5 * (s * out + z).pow(2).flatten(1).sum(1)",
             replace="per_row = 0.5 * (out + z).pow(2).flatten(1).sum(1)",
             why="weighted DSM forgets to multiply the score by σ", tests=_T),
    Mutation(file=_L, find="    x_noisy = x + s * z", replace="    x_noisy = x + z",
             why="DSM perturbs the data with unit noise whatever σ", tests=_T),
    Mutation(file=_L, find="        return (trace + 0.5 * s.pow(2).sum(1)).mean()",
             replace="        return (trace + s.pow(2).sum(1)).mean()",
             why="Hyvärinen's objective without the ½ on ‖s‖²", tests=_T),
    Mutation(file=_L, find="t = runtime.randint(0, schedule.T, (x0.shape[0],)",
             replace="t = runtime.randint(0, schedule.T // 2, (x0.shape[0],)",
             why="ε-prediction trained on the first half of the chain only", tests=_T),
    Mutation(file=_L, find="return (_check_out(v_fn(xt, t), x1, \"v_fn\") - (x1 - x0)).pow(2).mean()",
             replace="return (_check_out(v_fn(xt, t), x1, \"v_fn\") - (x0 - x1)).pow(2).mean()",
             why="flow-matching target points from data to noise", tests=_T),
    # the samplers
    Mutation(file=_M, find="alpha = step_lr * s_i**2 / last**2", replace="alpha = step_lr * s_i / last",
             why="annealed Langevin step ∝ σ_i instead of σ_i²", tests=_T),
    Mutation(file=_M, find="x = x + 0.5 * alpha * _call(score_fn, x, level, \"score_fn\") + math.sqrt(alpha) * _noise(x, generator)",
             replace="x = x + 0.5 * alpha * _call(score_fn, x, level, \"score_fn\") + alpha * _noise(x, generator)",
             why="Langevin noise scaled by α instead of √α", tests=_T),
    Mutation(file=_M, find="x = (x - betas[t] / math.sqrt(1 - ab[t]) * eps) / math.sqrt(1 - betas[t])",
             replace="x = (x - betas[t] / (1 - ab[t]) * eps) / math.sqrt(1 - betas[t])",
             why="ancestral mean with β_t/(1 − ᾱ_t) instead of β_t/√(1 − ᾱ_t)", tests=_T),
    Mutation(file=_M, find="        if t > 0:\n            var =", replace="        if t >= 0:\n            var =",
             why="ancestral sampling adds noise at the last step too", tests=_T),
    Mutation(file=_M, find="a_s = ab[times[i + 1]] if i + 1 < len(times) else 1.0",
             replace="a_s = ab[times[i + 1]] if i + 1 < len(times) else ab[0]",
             why="DDIM's last step lands on x_0's noisy version instead of the data", tests=_T),
    Mutation(file=_M, find="d2 = _call(v_fn, x + h * d, t + h, \"v_fn\")", replace="d2 = _call(v_fn, x + h * d, t, \"v_fn\")",
             why="Heun's corrector evaluated at the old time", tests=_T),
    Mutation(file=_M, find="for k in range(runtime.capped(int(n_steps))):", replace="for k in range(int(n_steps)):",
             why="the ODE sampler ignores GENMODELS_MAX_STEPS", tests=_T),
    Mutation(file=_M, find="        t = x.new_full((x.shape[0],), t0 + k * h)", replace="        t = x.new_full((x.shape[0],), t0 + (k + 1) * h)",
             why="Euler evaluates the field at the end of the step", tests=_T),
    # guidance
    Mutation(file=_O, find="return (1 + w) * cond - w * uncond", replace="return w * cond + (1 - w) * uncond",
             why="classifier-free guidance with the weight's other convention mixed in", tests=_T),
    # latent diffusion
    Mutation(file="src/genmodels/diffusion/latent.py", find="return self.mean.to(u) + self.std.to(u) * u",
             replace="return self.std.to(u) * (u + self.mean.to(u))",
             why="the code scale's inverse shifts before it scales", tests=("tests/test_latent_diffusion.py",)),
    Mutation(file="src/genmodels/diffusion/latent.py", find="std = z.std(0)", replace="std = z.std()",
             why="one spread for all code dimensions instead of one per dimension", tests=("tests/test_latent_diffusion.py",)),
]
