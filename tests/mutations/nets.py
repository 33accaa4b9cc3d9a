"""Mutations of the shared parts of src/genmodels/nets.py (the U-Net gate's are with the low-light ones)."""
from tests.mutations import Mutation

F = "src/genmodels/nets.py"
T = ("tests/test_nets.py", "tests/test_autoencoder.py")

MUTATIONS = [
    Mutation(F, "        if i < len(sizes) - 2:\n            layers.append(activation())",
             "        layers.append(activation())", "MLP with an activation after its last linear layer", T),
    Mutation(F, "    return sum(p.numel() for p in module.parameters() if p.requires_grad)",
             "    return sum(p.numel() for p in module.parameters())", "count_parameters counts frozen parameters", T),
    Mutation(F, "        if out_activation is not None:\n            layers.append(out_activation)\n        self.body",
             "        self.body", "ConvDecoder drops its out_activation (logits where pixels are expected)", T),
]
