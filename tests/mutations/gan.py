"""Mutations of src/genmodels/gan.py; tests/test_gan.py must kill each (see tests/mutations/__init__.py)."""
from tests.mutations import Mutation

F = "src/genmodels/gan.py"
T = ("tests/test_gan.py",)

MUTATIONS = [
    # the code audit's, section 1a
    Mutation(F, "        loss_d = minimax_d_loss(d_real, d_fake)\n", "        loss_d = minimax_d_loss(d_fake, d_real)\n",
             "M3: real and fake swapped in the discriminator loss", T),
    Mutation(F, "        loss_g = G_LOSSES[self.config.g_loss](self.discriminator(fake))",
             "        loss_g = nonsaturating_g_loss(self.discriminator(fake))", "M12: config.g_loss ignored", T),
    # ours
    Mutation(F, "    return F.softplus(-real).mean() + F.softplus(fake).mean()",
             "    return F.softplus(real).mean() + F.softplus(-fake).mean()", "minimax D loss with inverted labels", T),
    Mutation(F, "    return -F.softplus(fake).mean()", "    return F.softplus(fake).mean()",
             "saturating G loss with the wrong sign (G helps D)", T),
    Mutation(F, "    return F.softplus(-fake).mean()", "    return F.softplus(fake).mean()",
             "non-saturating G loss with the wrong sign", T),
    Mutation(F, "    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()",
             "    return 0.5 * (real - 1).pow(2).mean() + 0.5 * (fake + 1).pow(2).mean()",
             "LSGAN fake target −1 instead of 0", T),
    Mutation(F, "d_real, d_fake = self.discriminator(x), self.discriminator(fake.detach())",
             "d_real, d_fake = self.discriminator(x), self.discriminator(fake)",
             "fakes not detached in the D step: G gets D's gradient too", T),
    Mutation(F, "        self.generator.eval()\n", "", "sample in train mode: BatchNorm statistics updated", T),
    Mutation(F, "    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()", "    return (grad.flatten(1).norm(dim=1)).pow(2).mean()",
             "gradient penalty pushes ‖∇f‖ to 0 instead of 1", T),
    Mutation(F, "    return _scores(f_fake, \"f_fake\").mean() - _scores(f_real, \"f_real\").mean()",
             "    return _scores(f_real, \"f_real\").mean() - _scores(f_fake, \"f_fake\").mean()",
             "WGAN critic loss with the wrong sign", T),
    Mutation(F, "    return radius * torch.stack([angle.cos(), angle.sin()], 1)",
             "    return radius * torch.stack([angle.sin(), angle.cos()], 1)", "ring centres start at 90° (x, y swapped)", T),
    # input checks (tests/test_input_checks.py)
    Mutation(F, "        check_images(x, f\"{type(self).__name__}.validation_step\")\n", "",
             "GAN validation images not range-checked", ("tests/test_input_checks.py",)),
    Mutation(F, "        if not torch.isfinite(x).all():\n            raise train.NonFiniteValuesError(\"ToyGAN: the training points contain NaN or inf\")\n",
             "", "ToyGAN trains on NaN points (the NaN shows only after a step has changed the weights)", ("tests/test_input_checks.py",)),
]
