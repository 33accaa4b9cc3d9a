"""Mutations of src/genmodels/checkpoint.py (cache keys, fingerprints); tests/test_train.py must kill each."""
from tests.mutations import Mutation

F = "src/genmodels/checkpoint.py"
T = ("tests/test_train.py",)

MUTATIONS = [
    Mutation(F, "    blob = picks.to(acc).cpu().numpy().tobytes() + sums.cpu().numpy().tobytes()",
             "    blob = picks.to(acc).cpu().numpy().tobytes()",
             "data fingerprint by the strided sample only: changes between sampled elements unseen", T),
    Mutation(F, "    return f\"{dtype}[{','.join(map(str, t.shape))}]#{hashlib.sha1(blob).hexdigest()[:12]}\"",
             "    return f\"[{','.join(map(str, t.shape))}]#{hashlib.sha1(blob).hexdigest()[:12]}\"",
             "dtype left out of the data fingerprint", T),
    Mutation(F, "    digest = f\"#{_code_digest(code)}\" if code is not None else \"\"", "    digest = \"\"",
             "callbacks identified by name only: a changed lambda body reuses the old run", T),
    Mutation(F, "    for part in model.modules():", "    for part in [model]:",
             "code fingerprint ignores the modules of the model's parts (nets.py)", T),
    Mutation(F, "    torch.save(payload, tmp)\n    os.replace(tmp, path)", "    torch.save(payload, path)",
             "non-atomic checkpoint write", T),
    Mutation(F, "    blob = json.dumps({\"name\": name, **describe(model, settings), \"budget\": runtime.budget()}, sort_keys=True)",
             "    blob = json.dumps({\"name\": name, **describe(model, {}), \"budget\": runtime.budget()}, sort_keys=True)",
             "cache key ignores the fit settings (data, callbacks, batch size ...)", T),
    Mutation(F, "        elif a != b:", "        elif a != b and prefix != \"fit.\":",
             "a checkpoint of other fit settings is resumed without complaint", T),
]
