"""The one-layer prototype model and exact answers for two-pixel toys (numerical integration, pictures).

Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .sampling import ScoreFn, check_finite


class Prototype(nn.Module):
    """f(I) = Σ_k h(⟨I, w_k⟩ + b_k) with ReLU h, for images flattened to vectors I (N, D).

    weight: (K, D), the filters w_k (and the basis functions of the Gaussian pieces' means); bias: (K,).
    The parameters keep the dtype of ``weight`` (float32 or float64); inputs are cast to it. Like every
    ``nn.Module`` it computes on its parameters' device (move it with ``.to``): an input on another device is
    refused with a message, not copied behind the caller's back at every call.

    Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
    """

    def __init__(self, weight: Tensor, bias: Tensor):
        super().__init__()
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(f"expected weight (K, D) and bias (K,); got {tuple(weight.shape)} and {tuple(bias.shape)}")
        check_finite(weight, "Prototype: weight")
        check_finite(bias, "Prototype: bias")
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone().to(weight.dtype))

    def _check(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.weight.shape[1]:
            raise ValueError(f"Prototype: expected images as vectors (N, {self.weight.shape[1]}); got {tuple(x.shape)}")
        if x.device != self.weight.device:
            raise ValueError(f"Prototype: the images are on {x.device} but the filters on {self.weight.device}; "
                             f"move one of them (e.g. prototype.to(x.device))")
        return x.to(self.weight.dtype)

    def responses(self, x: Tensor) -> Tensor:
        """Filter responses r_k = ⟨I, w_k⟩ + b_k, shape (N, K), for images x (N, D)."""
        return self._check(x) @ self.weight.T + self.bias

    def forward(self, x: Tensor) -> Tensor:
        """The score f(I), shape (N,), for images x (N, D)."""
        return F.relu(self.responses(x)).sum(1)

    def pattern(self, x: Tensor) -> Tensor:
        """Binary activation pattern δ_k(I) = 1(⟨I, w_k⟩ + b_k > 0), shape (N, K), float.

        A point on a hyperplane (r_k = 0) gets δ_k = 0: it lies on the boundary of the pieces, not inside one.
        """
        return (self.responses(x) > 0).to(self.weight.dtype)

    def basis(self, x: Tensor) -> Tensor:
        """B_{w,δ(I)} = Σ_k δ_k(I) w_k, shape (N, D): the top-down reconstruction of I from its pattern."""
        return self.pattern(x) @ self.weight

    def alpha(self, x: Tensor) -> Tensor:
        """α_{w,δ(I)} = Σ_k δ_k(I) b_k, shape (N,), so that f(I) = α + ⟨I, B⟩ on I's piece."""
        return self.pattern(x) @ self.bias


def grid_2d(score_fn: ScoreFn, sigma: float = 1.0, lim: float = 4.0, n: int = 401) -> dict[str, Tensor]:
    """p(I) ∝ exp(f(I)) N(I; 0, σ²·1) for I ∈ R² on an n×n grid over [−lim, lim]², normalised numerically.

    Returns ``points`` (n², 2), ``density`` (n², the normalised p at each point), ``log_z`` (log Z(w) as a
    Riemann sum over the grid; ``lim`` must cover the mass), ``cell`` (the area of one grid cell),
    ``mean`` (2,) and ``cov`` (2, 2), all float64 except ``n``.

    Notebook: chapters/03_generative_convnet/01_from_classifier_to_generator.ipynb
    """
    if n < 3 or not lim > 0:
        raise ValueError(f"grid_2d needs n ≥ 3 points per axis and lim > 0; got n={n!r}, lim={lim!r}")
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    points = torch.stack([gx.flatten(), gy.flatten()], 1)
    cell = float(axis[1] - axis[0]) ** 2
    with torch.no_grad():
        log_q = -points.pow(2).sum(1) / (2 * sigma**2) - math.log(2 * math.pi * sigma**2)
        log_unnorm = score_fn(points.float()).double() + log_q
    log_z = torch.logsumexp(log_unnorm, 0) + math.log(cell)
    density = torch.exp(log_unnorm - log_z)
    weights = density * cell
    mean = weights @ points
    centred = points - mean
    cov = (centred * weights[:, None]).T @ centred
    return {"points": points, "density": density, "log_z": log_z, "cell": torch.tensor(cell, dtype=torch.float64),
            "mean": mean, "cov": cov, "n": torch.tensor(n)}


def plot_prototype_2d(model: Prototype, sigma: float = 1.0, lim: float = 4.0, n: int = 301, ax=None,
                      title: str | None = None):
    """The prototype model on R²: log-density, the K lines ⟨I, w_k⟩ + b_k = 0, and every piece's mean σ²B_δ.

    model: a :class:`Prototype` with filters (K, 2). A mean drawn as a filled star lies inside its own piece
    (a local mode, Proposition 2); a hollow circle lies outside it. Returns the figure.

    Notebook: chapters/03_generative_convnet/02_hidden_autoencoder.ipynb
    """
    import matplotlib.pyplot as plt

    if model.weight.shape[1] != 2:
        raise ValueError(f"plot_prototype_2d needs filters in R² (K, 2); got {tuple(model.weight.shape)}")
    fig, ax = (plt.subplots(figsize=(5.6, 4.8)) if ax is None else (ax.figure, ax))
    g = grid_2d(model, sigma, lim, n)
    img = ax.imshow(g["density"].view(n, n).log().cpu().numpy(), extent=(-lim, lim, -lim, lim), origin="lower",
                    cmap="viridis", vmin=float(g["density"].log().max()) - 12)
    fig.colorbar(img, ax=ax, label="log p(I)")
    t = torch.linspace(-lim, lim, 2)
    w, b = model.weight.detach().float(), model.bias.detach().float()
    for k in range(w.shape[0]):
        if abs(float(w[k, 1])) > abs(float(w[k, 0])):
            ax.plot(t, -(b[k] + w[k, 0] * t) / w[k, 1], "w-", lw=1)
        else:
            ax.plot(-(b[k] + w[k, 1] * t) / w[k, 0], t, "w-", lw=1)
    with torch.no_grad():
        patterns = torch.unique(model.pattern(g["points"].float()), dim=0).float()
        for delta in patterns:
            mean = sigma**2 * delta @ w
            inside = torch.equal(model.pattern(mean[None])[0].float(), delta) and bool(model.responses(mean[None]).abs().min() > 0)
            ax.plot(float(mean[0]), float(mean[1]), "*" if inside else "o", ms=13 if inside else 8,
                    mfc="orange" if inside else "none", mec="orange" if inside else "white")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$I_1$", ylabel="$I_2$",
           title=title or "log-density, hyperplanes and piece means")
    return fig
