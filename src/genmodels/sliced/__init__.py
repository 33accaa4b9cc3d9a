"""Sliced generative autoencoders: five one-dimensional distances to N(0, 1) and the autoencoder that uses them.

A sample z (n, D) of latent codes is compared with the prior N(0, I) through k random unit directions
v_1..v_k: the projections y = V z^T have shape (k, n), a one-dimensional distance d_S is computed for
every row at once (shape (k,)), and the normality index is their mean,

    d(z) = (1/k) sum_j d_S(v_j^T z, N(0, 1)).

The 1-D distances (each takes ``y`` of shape (k, n) and returns shape (k,)):

* :func:`sw_1d`   squared 2-Wasserstein distance between two samples (SWAE, needs a prior sample);
* :func:`scfw_1d` squared 2-Wasserstein distance to N(0, 1) in closed form (SCFWAE);
* :func:`cw_1d`   squared L2 distance of the Gaussian-smoothed densities, Silverman's γ (SCWAE);
  :func:`cw_closed_form` its average over every direction in closed form (CWAE), with :func:`kummer_phi`;
* :func:`cvm_1d`  Cramér–von Mises ω², the W2² of the PIT sample Φ(y) to U(0, 1) (SCvMAE);
* :func:`ks_1d`   the classical two-sided Kolmogorov–Smirnov statistic D_n (SKSAE); the paper's formula, which
  looks only at the top of each jump of the empirical CDF, is :func:`ks_1d_jump_tops`.

The sliced index is a *lower* bound of the D-dimensional squared distance (SW₂² ≤ W₂²/D for SWAE/SCFWAE), so it
is a surrogate of the penalty of the Wasserstein-autoencoder bound, not a term of it.

The package mirrors the chapters: :mod:`.distances` holds the five distances, :func:`random_directions` and
:func:`normality_index`; :mod:`.autoencoder` holds :class:`SlicedConfig` and :class:`SlicedAutoencoder`, which
trains with the log cost  RecError + log(λ · d(z))  (or  RecError + λ · d(z)); the log cost is the linear one with the adaptive weight 1/d, blind to the scale of d but not to the scale of RecError
(``SlicedConfig.rec_reduction`` sums or averages the squared errors over pixels).

Notebooks: chapters/02_sliced_autoencoders/01_wasserstein_autoencoders.ipynb (the idea),
02_five_distances.ipynb (the derivations), 03_training_on_mnist.ipynb (the experiments).
"""
from __future__ import annotations

from .autoencoder import REC_REDUCTIONS, SlicedAutoencoder, SlicedConfig
from .distances import (METHODS, cvm_1d, cw_1d, cw_closed_form, expected_at_prior, ks_1d, ks_1d_jump_tops,
                        kummer_phi, normality_index, quantile_cell_integrals, random_directions, scfw_1d,
                        silverman_gamma, sw_1d)

__all__ = [
    "METHODS", "REC_REDUCTIONS", "SlicedAutoencoder", "SlicedConfig", "cvm_1d", "cw_1d", "cw_closed_form",
    "expected_at_prior", "ks_1d", "ks_1d_jump_tops", "kummer_phi", "normality_index", "quantile_cell_integrals", "random_directions", "scfw_1d",
    "silverman_gamma", "sw_1d",
]
