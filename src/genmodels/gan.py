r"""Generative adversarial networks: the losses of the GAN game and a DCGAN-style model.

Losses take the discriminator's *logits* (pre-sigmoid scores, shape (N,) or (N, 1)) so that
:math:`\log D = \log\sigma(\ell)` is computed stably with ``softplus``:
:math:`\log\sigma(\ell) = -\operatorname{softplus}(-\ell)` and
:math:`\log(1-\sigma(\ell)) = -\operatorname{softplus}(\ell)`.

* :func:`minimax_d_loss` — the discriminator's side of the minimax game, eq. (gan-value):
  :math:`-\mathbb{E}\log D(x) - \mathbb{E}\log(1 - D(G(z)))`.
* :func:`saturating_g_loss` — the generator's side of the same game, :math:`\mathbb{E}\log(1 - D(G(z)))`
  (to be minimised; its gradient vanishes when D confidently rejects the fakes).
* :func:`nonsaturating_g_loss` — the heuristic used in practice, :math:`-\mathbb{E}\log D(G(z))`.
* :func:`lsgan_d_loss`, :func:`lsgan_g_loss` — least-squares GAN with targets 1 (real) and 0 (fake),
  on raw discriminator outputs (no sigmoid).

Notebook: chapters/01_vae_gan/02_gan.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _scores(t: Tensor, what: str) -> Tensor:
    """Flatten discriminator outputs (N,) or (N, 1) to (N,); refuse anything else or non-finite values."""
    if not isinstance(t, Tensor) or not t.is_floating_point():
        raise TypeError(f"{what}: expected a float tensor of discriminator outputs, got {type(t).__name__}")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] == 0:
        raise ValueError(f"{what}: expected shape (N,) or (N, 1) with N ≥ 1; got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{what}: discriminator outputs contain NaN or infinite values")
    return t


def minimax_d_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""Discriminator loss :math:`-\mathbb{E}_x\log D(x) - \mathbb{E}_z\log(1 - D(G(z)))` (a scalar).

    This is the binary cross-entropy with label 1 for real and 0 for fake samples; minimising it is
    maximising the GAN value function V(D, G). Inputs are logits, shape (N,) or (N, 1).
    """
    real = _scores(d_real_logits, "d_real_logits")
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def saturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Generator loss of the original minimax game, :math:`\mathbb{E}_z\log(1 - D(G(z)))` (to minimise).

    Its gradient w.r.t. the logit is :math:`-\sigma(\ell)`, which vanishes when D rejects the fakes
    (:math:`\sigma(\ell)\to 0`): the reason it "saturates" early in training.
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(d_fake_logits: Tensor) -> Tensor:
    r"""Non-saturating generator loss :math:`-\mathbb{E}_z\log D(G(z))` (a scalar).

    Same fixed point as the minimax game, but its gradient w.r.t. the logit is :math:`-(1-\sigma(\ell))`,
    which is largest exactly when D rejects the fakes.
    """
    fake = _scores(d_fake_logits, "d_fake_logits")
    return F.softplus(-fake).mean()


def lsgan_d_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    r"""Least-squares discriminator loss :math:`\tfrac12\mathbb{E}(D(x)-1)^2 + \tfrac12\mathbb{E}D(G(z))^2`.

    ``d_real``, ``d_fake``: raw discriminator outputs (no sigmoid), shape (N,) or (N, 1).
    """
    real = _scores(d_real, "d_real")
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def lsgan_g_loss(d_fake: Tensor) -> Tensor:
    r"""Least-squares generator loss :math:`\tfrac12\mathbb{E}(D(G(z))-1)^2` on raw outputs (N,) or (N, 1)."""
    fake = _scores(d_fake, "d_fake")
    return 0.5 * (fake - 1).pow(2).mean()
