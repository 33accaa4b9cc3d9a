"""Diffusion models: score matching, denoising diffusion (DDPM/DDIM) and flow matching.

The package mirrors the chapters of Part 6:

* :mod:`.schedule`: the forward process: :class:`Schedule` (β_t, ᾱ_t), :func:`linear_schedule`,
  :func:`cosine_schedule`, :func:`q_sample` (the closed-form marginal q(x_t | x_0)), :func:`posterior`
  (q(x_{t−1} | x_t, x_0)), :func:`predict_x0` and :func:`eps_to_score`;
* :mod:`.losses`: :func:`score_matching_loss` (Hyvärinen), :func:`dsm_loss` (Vincent; a ladder of levels as
  in Song & Ermon), :func:`eps_loss` (Ho et al.'s simplified loss) and :func:`flow_matching_loss`;
* :mod:`.samplers`: :func:`annealed_langevin`, :func:`ddpm_sample`, :func:`ddim_sample`, :func:`ode_sample`
  (Euler/Heun), all vectorised over the batch and capped by ``GENMODELS_MAX_STEPS``;
* :mod:`.model`: :class:`TimeMLP`, :class:`TimeUNet` and :class:`Denoiser`, the model ``gm.train.fit`` trains;
* :mod:`.latent`: latent diffusion (Rombach et al. 2022): :class:`CodeScale` standardises an autoencoder's codes,
  :func:`latent_sample` draws codes with a vector :class:`Denoiser` and decodes them.

Notebooks: chapters/06_diffusion/01_score_matching.ipynb, 02_denoising_diffusion.ipynb, 03_flow_matching.ipynb,
04_experiments.ipynb (latent diffusion)
"""
from __future__ import annotations

from .latent import CodeScale, latent_sample
from .losses import dsm_loss, eps_loss, flow_matching_loss, score_matching_loss
from .model import Denoiser, DenoiserConfig, NoiseConditionalScore, ScoreConfig, TimeMLP, TimeUNet, time_features
from .samplers import (annealed_langevin, ddim_sample, ddim_times, ddpm_sample, evaluations, geometric_sigmas,
                       ode_sample)
from .schedule import (Schedule, check_times, cosine_schedule, eps_to_score, linear_schedule, posterior, predict_x0,
                       q_sample)

__all__ = [
    "CodeScale", "Denoiser", "DenoiserConfig", "NoiseConditionalScore", "ScoreConfig", "Schedule", "TimeMLP", "TimeUNet", "annealed_langevin", "check_times",
    "cosine_schedule", "ddim_sample", "ddim_times", "ddpm_sample", "dsm_loss", "eps_loss", "eps_to_score",
    "evaluations", "flow_matching_loss", "geometric_sigmas", "latent_sample", "linear_schedule", "ode_sample", "posterior",
    "predict_x0", "q_sample", "score_matching_loss", "time_features",
]
