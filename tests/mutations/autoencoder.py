"""Mutations of src/genmodels/autoencoder.py; tests/test_autoencoder.py must kill each."""
from tests.mutations import Mutation

F = "src/genmodels/autoencoder.py"
T = ("tests/test_autoencoder.py",)

MUTATIONS = [
    Mutation(F, 'F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)',
             'F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(1)',
             "M16: per-pixel mean instead of per-image nats", T),
    Mutation(F, "return 0.5 * (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)",
             "return (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)", "Gaussian loss without its ½", T),
    Mutation(F, "rec = reconstruction_loss(self.decode_logits(self.encode(x)), x, self.config.likelihood).mean()",
             "rec = reconstruction_loss(self.decode_logits(self.encode(x)), x).mean()", "likelihood config ignored", T),
    Mutation(F, "        return torch.sigmoid(self.decode_logits(z))\n", "        return self.decode_logits(z)\n",
             "decode returns logits, not images", T),
    Mutation(F, '        return self.encoder(check_images(x, "Autoencoder.encode"))', "        return self.encoder(x)",
             "encode accepts pixels outside [0, 1]", T),
]
