"""Mutations of src/genmodels/runtime.py; tests/test_runtime.py must kill each."""
from tests.mutations import Mutation

F = "src/genmodels/runtime.py"
T = ("tests/test_runtime.py",)

MUTATIONS = [
    Mutation(F, "    np.random.seed(n)\n", "", "M14: NumPy not seeded", T),
    Mutation(F, "    return steps if cap is None else min(steps, cap)", "    return steps if cap is None else max(steps, cap)",
             "capped() lengthens short loops to the cap", T),
    Mutation(F, "    return budget() != \"smoke\" and max_steps() is None", "    return budget() != \"smoke\"",
             "claims asserted under a step cap, where training did not happen", T),
    Mutation(F, "    if value < 1:", "    if value < 0:", "GENMODELS_MAX_STEPS=0 accepted as a cap of zero steps", T),
    Mutation(F, "    if trained():\n        assert ok", "    if not trained():\n        assert ok",
             "claim asserts in the smoke budget and never in a real run", T),
    Mutation(F, "    if generator is not None:\n        return generator.device", "    if False:\n        return generator.device",
             "noise drawn on the target device, not where the generator lives (CUDA + CPU generator fails)", T),
    Mutation(F, "    x = torch.randperm(n, generator=generator, device=_draw_device(generator, device))\n    return x if device is None else x.to(device)",
             "    x = torch.randperm(n, generator=generator, device=_draw_device(generator, device))\n    return x",
             "randperm left on the generator's device", T),
    Mutation(F, "    value = os.environ.get(\"GENMODELS_BUDGET\", \"default\").strip().lower()",
             "    value = os.environ.get(\"GENMODELS_BUDGET\", \"smoke\").strip().lower()",
             "unset budget means smoke, not default", T),
    Mutation(F, "            raise ValueError(f\"GENMODELS_DEVICE={forced!r} is not a device; expected cpu, cuda, cuda:N or mps\") from None",
             "            return torch.device(\"cpu\")", "a misspelt GENMODELS_DEVICE silently runs on the CPU", T),
]
