"""Latent diffusion (Rombach et al. 2022): a diffusion model on a trained autoencoder's codes, decoded afterwards.

The autoencoder stays frozen; the codes z (N, D) are standardised per dimension, u = (z − m)/s, so the
diffusion's N(0, I) end point has the codes' scale (:class:`CodeScale`); a vector :class:`~.model.Denoiser`
(shape (D,), a :class:`~.model.TimeMLP`) is trained on u with ``gm.train.fit``; :func:`latent_sample` draws u,
maps it back to z and decodes. Each sample costs the sampler's evaluations of the small MLP plus one decoder pass.

Notebook: chapters/06_diffusion/04_experiments.ipynb
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch
from torch import Tensor

from .model import Denoiser
from .schedule import check_float


def _check_codes(z: Tensor, what: str, dim: int | None = None) -> None:
    check_float(z, what)
    if z.ndim != 2 or (dim is not None and z.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, D)"
        raise ValueError(f"{what} must be codes of shape {want}; got {tuple(z.shape)}")


@dataclasses.dataclass(frozen=True)
class CodeScale:
    """The per-dimension standardisation u = (z − mean)/std of codes z (N, D) and its inverse; mean, std: (D,).

    Notebook: chapters/06_diffusion/04_experiments.ipynb
    """

    mean: Tensor
    std: Tensor

    @classmethod
    def of(cls, z: Tensor) -> "CodeScale":
        """The sample mean and (unbiased) standard deviation of each dimension of z (N, D), N ≥ 2."""
        _check_codes(z, "CodeScale.of: z")
        if z.shape[0] < 2:
            raise ValueError(f"CodeScale.of needs at least 2 codes to estimate a spread; got {z.shape[0]}")
        z = z.detach()
        std = z.std(0)
        if not (std > 0).all():
            dead = torch.nonzero(std <= 0).flatten().tolist()
            raise ValueError(f"code dimensions {dead} are constant over the data: standardising them would divide "
                             "by zero; drop them from z first")
        return cls(z.mean(0), std)

    @property
    def dim(self) -> int:
        return self.mean.numel()

    def standardise(self, z: Tensor) -> Tensor:
        """u = (z − mean)/std for codes z (N, D). (Not ``encode``: in this package ``encode`` takes images.)"""
        _check_codes(z, "CodeScale.standardise: z", self.dim)
        return (z - self.mean.to(z)) / self.std.to(z)

    def unstandardise(self, u: Tensor) -> Tensor:
        """z = mean + std · u for standardised codes u (N, D). (Not ``decode``: ``decode`` returns images.)"""
        _check_codes(u, "CodeScale.unstandardise: u", self.dim)
        return self.mean.to(u) + self.std.to(u) * u


@torch.no_grad()
def latent_sample(model: Denoiser, scale: CodeScale, decode: Callable[[Tensor], Tensor], n: int,
                  method: str | None = None, steps: int | None = None,
                  generator: torch.Generator | None = None) -> Tensor:
    """n decoded samples: u ~ ``model.sample`` (n, D), z = ``scale.unstandardise(u)``, then ``decode(z)`` (n, …).

    ``model`` is a vector :class:`Denoiser` trained on ``scale.standardise(codes)``; method and steps go to its
    :meth:`~.model.Denoiser.sample`; ``decode`` is the frozen autoencoder's decoder (e.g. ``vae.decode``).
    Notebook: chapters/06_diffusion/04_experiments.ipynb
    """
    if tuple(model.config.shape) != (scale.dim,):
        raise ValueError(f"the denoiser draws vectors of shape {tuple(model.config.shape)} but the code scale has "
                         f"{scale.dim} dimensions: train the denoiser on scale.standardise(codes)")
    u = model.sample(n, method, steps, generator=generator)
    return decode(scale.unstandardise(u))
