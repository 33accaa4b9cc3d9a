"""Mutations of src/genmodels/train.py (the training loop); tests/test_train.py must kill each."""
from tests.mutations import Mutation

F = "src/genmodels/train.py"
H = "src/genmodels/history.py"
T = ("tests/test_train.py",)

MUTATIONS = [
    Mutation(F, "        m = first(batch).shape[0]", "        m = batch_size",
             "M10: evaluate weights every batch as full, an unweighted mean of batch means", T),
    Mutation(F, "    cap = runtime.max_steps()", "    cap = None", "GENMODELS_MAX_STEPS ignored by fit", T),
    Mutation(F, "        settings[\"max_steps\"] = runtime.max_steps()", "        pass",
             "a capped run cached under the key of the whole run", T),
    Mutation(F, "if len(recorder.pending) >= READBACK or last:", "if last:",
             "values read back only at the end of an epoch (blocks ignored)", T),
    Mutation(F, "if len(recorder.pending) >= READBACK or last:", "if len(recorder.pending) > READBACK or last:",
             "off-by-one block size", T),
    Mutation(H, "value = value.detach().reshape(()).clone()", "value = value.detach().reshape(())",
             "a value the model updates in place is recorded after later steps changed it", T),
    Mutation(F, "(getattr(callback, \"every_inner\", callback) if capped else callback)", "callback",
             "under the cap, every(n, cb) callbacks never run, so the notebook's keys are missing", T),
    Mutation(F, "s / n_steps for k, s in sums.items()", "s / steps_per_epoch for k, s in sums.items()",
             "epoch mean divided by the full epoch's step count after a capped (partial) epoch", T),
    Mutation(F, "        torch.random.default_generator.manual_seed(seed)", "        pass",
             "the model's own draws (dropout) depend on what the caller drew before fit", T),
    Mutation(F, "    with torch.random.fork_rng(devices=cuda):", "    with contextlib.nullcontext():",
             "fit leaves the caller's global RNG reseeded", T),
    Mutation(H, "                if not math.isfinite(v):", "                if math.isnan(v):",
             "infinite losses pass the finiteness check", T),
    Mutation(F, "runtime.randperm(n, generator=generator, device=dev)", "runtime.randperm(n, device=dev)",
             "batches ignore the shuffle generator (runs not reproducible, resume not exact)", T),
    Mutation(F, "        if payload[\"code\"] != code_fingerprint(model):", "        if False:",
             "the stored code fingerprint is never compared: stale weights reused", T),
    Mutation(F, "    if check_code and payload[\"code\"] != code_fingerprint(model):", "    if False:",
             "load() accepts weights written by other code", T),
    Mutation(F, "                    \"epoch\": epochs if capped else epoch + 1,", "                    \"epoch\": epoch + 1,",
             "a capped checkpoint resumes and trains more on the next call", T),
    Mutation(F, "            step, done, n_steps = step + 1, done + 1, n_steps + 1",
             "            step, done, n_steps = step + 1, done + 1, n_steps",
             "epoch means divide by a step count that never grows", T),
    Mutation(F, "            model.check_data(checked)", "            pass",
             "fit never asks the model to check its data", T),
]
