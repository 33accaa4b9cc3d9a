"""One-line mutations of src/genmodels/nmf.py and nae.py that tests/test_nmf.py must kill."""
from tests.mutations import Mutation

F, A, T = "src/genmodels/nmf.py", "src/genmodels/nae.py", ("tests/test_nmf.py",)
MUTATIONS = [
    Mutation(F, "return float((V - V_hat).abs().sum(0).mean())", "return float((V - V_hat).abs().sum(1).mean())",
             "columnwise ℓ¹ error summed over the wrong axis", T),
    Mutation(F, "return W / norms, H * norms[:, None]", "return W / norms, H / norms[:, None]",
             "normalisation rescales H the wrong way (W H changes)", T),
    Mutation(A, "        W_E *= numerator / denominator\n        H = nae_activations(W_E, V, H_C)\n",
             "        W_E *= numerator / denominator\n", "decoder updated with the stale code H'", T),
    Mutation(A, "numerator = ((W_D.T @ V) * H_C) @ V.T", "numerator = (W_D.T @ V) @ V.T",
             "structured dropout H^C missing from the encoder numerator", T),
    Mutation(A, 'phi = squared.sum() if self.config.reduction == "sum" else squared.mean()', "phi = squared.mean()",
             "reduction ignored: the mean over N·K shrinks SGD's step (the first edition's bug)", T),
    Mutation(A, "self.W_D.clamp_(min=0).mul_(self.W_C)", "self.W_D.clamp_(min=0)",
             "projection forgets the harmonic constraint W^C", T),
    Mutation(A, "                self.W_E.clamp_(min=0)", "                pass",
             "nonnegative encoder never projected", T),
    Mutation(A, "alpha=0.9, eps=1e-7", "alpha=0.99, eps=1e-7", "RMSprop ρ left at torch's 0.99, not the paper's 0.9", T),
    Mutation(F, "centres * (2 ** (width_semitones / 12) - 1)", "centres * (2 ** width_semitones - 1)",
             "band width in octaves instead of semitones", T),
    Mutation(F, "(t[None, :] <= notes[:, 1:2] + offset_tol)", "(t[None, :] <= notes[:, 1:2])",
             "offset tolerance ignored", T),
    Mutation(A, "    return W_E * c, W_D", "    return W_E, W_D", "least-squares loudness factor of nae_init dropped", T),
    Mutation(F, "return part / (W @ H + _eps(W, eps))", "return part / ((W @ H).sum(0, keepdim=True) + _eps(W, eps))",
             "mask normalised by the column total instead of per bin", T),
    Mutation(F, "    for _ in range(runtime.capped(n_iter)):\n        H *=", "    for _ in range(n_iter):\n        H *=",
             "NMF loop ignores GENMODELS_MAX_STEPS", T),
    Mutation(F, "scale = (float(V.mean()) / R) ** 0.5 * 2.0", "scale = (float(V.mean()) / R) ** 0.5",
             "random start at a quarter of V's mean", T),
    Mutation(A, '            check_nonnegative(x, f"NAE data {what}")', "            pass",
             "NAE trains on negative or non-finite spectrogram columns without a word", T),
]
