"""Mutations of the ``ebm`` package (the generative ConvNet) and its data module; see tests/mutations/__init__.py."""
from tests.mutations import Mutation

_S, _C, _P, _D = ("src/genmodels/ebm/sampling.py", "src/genmodels/ebm/convnet.py", "src/genmodels/ebm/prototype.py",
                  "src/genmodels/ebm/cd.py")
_T = ("tests/test_ebm.py", "tests/test_ebm_training.py")

MUTATIONS = [
    # the code audit's two (section 1a, M1b and M1)
    Mutation(file=_C, find='            return self.chains, None',
             replace='            return self.reference_draws(cfg.n_chains), None',
             why="persistent chains restart from noise every iteration (Algorithm 1 broken; audit M1b)", tests=_T),
    Mutation(file=_C, find="        loss = -gap\n", replace="        loss = gap\n",
             why="sign of the learning gradient: descends the observed-minus-synthesised gap (audit M1)", tests=_T),
    # the sampler
    Mutation(file=_S, find="x = x + 0.5 * eps**2 * (grad - x / sigma**2)", replace="x = x + eps**2 * (grad - x / sigma**2)",
             why="Langevin drift without the factor 1/2 (dt = ε² read as ε²/2)", tests=_T),
    Mutation(file=_S, find="(grad - x / sigma**2)", replace="(grad - x / sigma)",
             why="Langevin drift with σ instead of σ² in the reference term", tests=_T),
    Mutation(file=_S, find="x = x + eps * runtime.randn(", replace="x = x + eps**2 * runtime.randn(",
             why="Langevin noise scaled by ε² instead of ε", tests=_T),
    Mutation(file=_S, find="for _ in range(runtime.capped(int(n_steps))):", replace="for _ in range(int(n_steps)):",
             why="the sampler ignores the step cap GENMODELS_MAX_STEPS", tests=_T),
    Mutation(file=_S, find="1 / (1 - step_size**2 / (4 * sigma**2))", replace="1 / (1 - step_size**2 / (2 * sigma**2))",
             why="stationary variance factor with 2σ² instead of 4σ²", tests=_T),
    # the learning step's other inits and terms
    Mutation(file=_C, find="restart = runtime.rand(cfg.n_chains, device=self.replay.device) < cfg.restart",
             replace="restart = runtime.rand(cfg.n_chains, device=self.replay.device) > cfg.restart",
             why="the replay buffer restarts 1 − restart of the chains instead of restart", tests=_T),
    Mutation(file=_C, find="                self.replay[rows] = synthesized", replace="                self.replay[rows] = start",
             why="the replay buffer stores the starts, not the syntheses", tests=_T),
    Mutation(file=_C, find="            loss = loss + cfg.regulariser * reg", replace="            loss = loss",
             why="the energy regulariser is recorded but not added to the loss (config field ignored)", tests=_T),
    Mutation(file=_C, find="reg = f_obs_each.pow(2).mean() + f_syn_each.pow(2).mean()", replace="reg = f_syn_each.pow(2).mean()",
             why="the energy regulariser forgets the observed images' term", tests=_T),
    Mutation(file=_C, find="return cfg.sigma * runtime.randn(n, cfg.channels", replace="return runtime.randn(n, cfg.channels",
             why="reference draws ignore σ (short-run and restarted chains start from N(0, 1))", tests=_T),
    Mutation(file=_C, find="b = F.conv_transpose2d(b * delta, conv.weight", replace="b = F.conv_transpose2d(b, conv.weight",
             why="the top-down deconvolution forgets the activation masks δ", tests=_T),
    Mutation(file=_C, find="    mean = x.mean(dim=(0, 2, 3))", replace="    mean = x.mean(dim=(0, 1, 2, 3)).expand(x.shape[1])",
             why="center subtracts one grey mean instead of the per-channel mean", tests=_T),
    # prototype, grids, CD
    Mutation(file=_P, find="- math.log(2 * math.pi * sigma**2)", replace="- math.log(2 * math.pi * sigma)",
             why="the 2-D reference density's normaliser with σ instead of σ² (log Z off by log σ)", tests=_T),
    Mutation(file=_P, find="        return self.pattern(x) @ self.bias", replace="        return self.pattern(x).sum(1) * self.bias.mean()",
             why="α_{w,δ} from the mean bias instead of the active units' biases", tests=_T),
    Mutation(file=_D, find="rec = flat_grad(-0.5 * (observed - sigma**2 * b).pow(2).sum(), params)",
             replace="rec = flat_grad(-0.5 * (observed - b).pow(2).sum(), params)",
             why="reconstruction gradient with mean B instead of σ²B (wrong for σ ≠ 1)", tests=_T),
    Mutation(file=_C, find="                out[\"reconstruction\"] = (observed - self.reconstruct(observed))",
             replace="                out[\"reconstruction\"] = (observed - self.basis(observed))",
             why="the recorded reconstruction error uses B instead of σ²B", tests=_T),
    # data
    Mutation(file="src/genmodels/data/base.py", find="    side = min(x.shape[-2:])\n", replace="    side = max(x.shape[-2:])\n",
             why="non-square images are squeezed instead of cropped to their central square", tests=_T),
    Mutation(file=_C, find='        check_finite(observed, f"{type(self).__name__}: observed images")', replace="",
             why="NaN observed images reach the Langevin chains (fit checks nothing)", tests=_T),
    Mutation(file=_C, find=" or not x.is_floating_point():", replace=":",
             why="integer images accepted by the ConvNet", tests=_T),
    Mutation(file=_C, find="        return self.sample_from(self.reference_draws(n, generator), n_steps, generator=generator)",
             replace="        return self.sample_from(self.reference_draws(n), n_steps, generator=generator)",
             why="GenerativeConvNet.sample draws its starting states with the global RNG, not its generator", tests=_T),
    Mutation(file="src/genmodels/ebm/prototype.py", find="        if x.device != self.weight.device:", replace="        if False:",
             why="Prototype takes images on another device without a message", tests=_T),
]
