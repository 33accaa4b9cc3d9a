r"""The paper's enhancer and the book's four additions to it, one at a time (:func:`ablation_settings`), and
:func:`dark_level`, how bright an output is where its input was darkest.

The paper's model is :class:`~genmodels.lowlight.model.EnhancerGAN` with :data:`PAPER_SETTINGS`: a brightening
map free to reach 0, no blend toward the tent mean, no colour loss and no brightness matching. What it keeps
from the book is the form of eq. (lowlight-output) (a curve on the value channel plus a bounded correction), the
shuffled colour channels of the training data and the small penalty τ on G's raw outputs.

Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
"""
from __future__ import annotations

import dataclasses

import torch.nn.functional as F
from torch import Tensor

from .classic import _check_rgb, gray
from .model import EnhancerConfig

PAPER_SETTINGS = {"a_min": 0.0, "denoise": False, "eta": 0.0, "beta": 0.0}
"""The :class:`EnhancerConfig` fields that turn the book's enhancer into the paper's (chapter 02 says why each
addition exists)."""

ADDITIONS = {"floor": "a_min", "blend": "denoise", "brightness W2": "eta", "colour loss": "beta"}
"""The book's additions, by name, and the :class:`EnhancerConfig` field each sets to its default value."""


def ablation_settings() -> dict[str, dict]:
    """label → :class:`EnhancerConfig` overrides for the ablation of chapter 04: ``"paper"``
    (:data:`PAPER_SETTINGS`), ``"paper + <addition>"`` for each of :data:`ADDITIONS` alone (the field at the book's
    default), and ``"book (all four)"``, which overrides nothing: the book's model.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    book = {f.name: f.default for f in dataclasses.fields(EnhancerConfig)}
    rows = {"paper": dict(PAPER_SETTINGS)}
    for label, field in ADDITIONS.items():
        rows[f"paper + {label}"] = {**PAPER_SETTINGS, field: book[field]}
    rows["book (all four)"] = {}
    return rows


def dark_level(low: Tensor, images: Tensor, frac: float = 0.1, block: int = 8) -> Tensor:
    """Per image, the mean gray level of ``images`` (N, 3, H, W) over the ``frac`` darkest ``block``×``block``
    blocks of ``low`` (N, 3, H, W), ranked by ``low``'s block-mean gray: (N,). Applied to an output and to the
    ground truth, it says how far an enhancer lifts the regions that were darkest (the dark skies of chapter 04).

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    _check_rgb(low, "dark_level: low")
    _check_rgb(images, "dark_level: images")
    if images.shape != low.shape:
        raise ValueError(f"dark_level: images {tuple(images.shape)} must have the shape of low {tuple(low.shape)}")
    if not 0 < frac <= 1:
        raise ValueError(f"dark_level: frac is the share of blocks kept, in (0, 1]; got {frac}")
    if low.shape[2] < block or low.shape[3] < block:
        raise ValueError(f"dark_level: images of {tuple(low.shape[2:])} px hold no {block}×{block} block")
    ranked = F.avg_pool2d(gray(low), block).flatten(1)
    level = F.avg_pool2d(gray(images), block).flatten(1)
    k = max(1, round(frac * ranked.shape[1]))
    darkest = ranked.topk(k, dim=1, largest=False).indices
    return level.gather(1, darkest).mean(1)
