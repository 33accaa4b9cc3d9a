r"""Unpaired low-light enhancement with a feature-guided attention GAN (Guo et al. 2021), and the classics.

The package mirrors the chapters; every name is importable as ``gm.lowlight.<name>``:

* :mod:`.classic`: baselines on the value channel V = max(R, G, B) through :func:`on_value`:
  :func:`gamma_correction`, :func:`equalize_hist`, :func:`clahe` (scikit-image's), :func:`lime` with its
  illumination map :func:`lime_illumination`; :func:`gray`, the BT.601 gray map (:func:`genmodels.metrics.luma`).
  Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
* :mod:`.features`: the feature network φ. :func:`feature_extractor` gives ImageNet VGG-16 up to relu5_1
  (:class:`VGGFeatures`) when its weights are on disk, otherwise :class:`OrientedEnergy`, a fixed bank of Gabor
  filters with contrast normalisation (no training, no download). Its ``description`` says which.
* :mod:`.attention`: :func:`attention_map`, eq. (lowlight-attention),
  :math:`x_a = \sigma((1-x_{gray})\circ\mathcal U(\phi(x))^\gamma)`, with :func:`feature_saliency`,
  :func:`upsample` and the slider :func:`attention_explorer`.
  Notebook: chapters/04_lowlight_enhancement/03_attention.ipynb
* :mod:`.losses`: :func:`perceptual_loss` (eq. (lowlight-perceptual)), our :func:`colour_loss` and
  :func:`brightness_loss` (a 1-D Wasserstein distance from :mod:`genmodels.sliced`), :func:`chromaticity`,
  :func:`colour_error`, :func:`tent_mean`.
* :mod:`.model`: :class:`EnhancerGAN`, the U-Net generator with the attention map multiplied into every level and
  the output (eq. (lowlight-output)), two PatchGAN discriminators and least-squares losses from
  :mod:`genmodels.gan`; :class:`EnhancerConfig` and :func:`train_enhancer` (its sizes: ``gm.recipes.SIZES["lowlight"]``).
  Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
* :mod:`.evaluate`: :func:`enhance_all`, :func:`scores`, :func:`score_folder`, :func:`format_table`.
* :mod:`.ablation`: the paper's model (:data:`PAPER_SETTINGS`) and the book's :data:`ADDITIONS` to it one at a time
  (:func:`ablation_settings`); :func:`dark_level`, an output's brightness where its input was darkest.
  Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb

Shapes: images are (N, 3, H, W) in [0, 1]; single-channel maps (N, 1, H, W). Every function returns on its
input's device and in its dtype (the models compute in their parameters' dtype).
"""
from __future__ import annotations

from .ablation import ADDITIONS, PAPER_SETTINGS, ablation_settings, dark_level
from .attention import attention_explorer, attention_map, feature_saliency, upsample
from .classic import clahe, equalize_hist, gamma_correction, gray, lime, lime_illumination, on_value
from .evaluate import enhance_all, format_table, score_folder, scores
from .features import VGG16_FILE, OrientedEnergy, VGGFeatures, feature_extractor, vgg16_features
from .losses import brightness_loss, chromaticity, colour_error, colour_loss, perceptual_loss, tent_mean
from .model import ATTENTION_MODES, BLEND_START_LOGIT, EnhancerConfig, EnhancerGAN, train_enhancer

__all__ = [
    "ADDITIONS", "ATTENTION_MODES", "BLEND_START_LOGIT", "EnhancerConfig", "EnhancerGAN", "OrientedEnergy",
    "PAPER_SETTINGS", "VGG16_FILE", "VGGFeatures", "ablation_settings", "attention_explorer", "attention_map",
    "brightness_loss", "chromaticity", "clahe", "colour_error", "colour_loss", "dark_level", "enhance_all",
    "equalize_hist", "feature_extractor", "feature_saliency",
    "format_table", "gamma_correction", "gray", "lime", "lime_illumination", "on_value", "perceptual_loss",
    "score_folder", "scores", "tent_mean", "train_enhancer", "upsample", "vgg16_features",
]
