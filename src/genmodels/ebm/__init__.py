"""Energy-based models: the generative ConvNet of Xie, Lu, Zhu and Wu (2016).

The model tilts a Gaussian white-noise reference q(I) = N(0, σ²·1) by a ConvNet score f(I; w):

    p(I; w) = exp(f(I; w)) q(I) / Z(w).

With ReLU units f is piecewise linear, f(I) = α_{w,δ} + ⟨I, B_{w,δ}⟩ on the piece of image space where the
binary activation pattern δ(I; w) is constant, so p is piecewise Gaussian with means σ²·B_{w,δ}
(Theorem ebm-thm-piecewise). The package mirrors the chapters:

* :mod:`.sampling`: :func:`langevin`, the sampler (ebm-langevin) batched over chains, :func:`step_factors`
  (what the step ε does to it) and :func:`log_density`;
* :mod:`.prototype`: :class:`Prototype`, the one-layer model f(I) = Σ_k h(⟨I, w_k⟩ + b_k), and
  :func:`grid_2d` / :func:`plot_prototype_2d`, exact answers and pictures for two-pixel toys;
* :mod:`.convnet`: :class:`GenerativeConvNet`, the multi-layer score, its top-down
  :meth:`~GenerativeConvNet.basis` B_{w,δ(I)} (ebm-deconv) and the learning step of Algorithm 1 that
  ``gm.train.fit`` runs, with persistent chains, contrastive divergence, short-run chains from noise or a
  replay buffer; :func:`center` / :func:`to_pixels` between pixels and the model's mean-subtracted images;
* :mod:`.cd`: :func:`cd_and_reconstruction_gradients`, the two sides of Proposition ebm-prop-cd, and
  :func:`pattern_agreement`.

Shapes: images I are (N, C, H, W) for the ConvNet and (N, D) for the prototype model.

Notebooks: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb (the model, its gradient),
02_hidden_autoencoder.ipynb (piecewise Gaussian, basis), 03_langevin_textures.ipynb (Langevin, Algorithm 1),
04_contrastive_divergence.ipynb (contrastive divergence, Proposition ebm-prop-cd).
"""
from __future__ import annotations

from .cd import cd_and_reconstruction_gradients, cosine, flat_grad, pattern_agreement
from .convnet import INITS, ConvNetConfig, GenerativeConvNet, center, to_pixels
from .prototype import Prototype, grid_2d, plot_prototype_2d
from .sampling import StepFactors, langevin, log_density, step_factors

__all__ = [
    "INITS", "ConvNetConfig", "GenerativeConvNet", "Prototype", "StepFactors", "cd_and_reconstruction_gradients",
    "center", "cosine", "flat_grad", "grid_2d", "langevin", "log_density", "pattern_agreement",
    "plot_prototype_2d", "step_factors", "to_pixels",
]
