"""Nonnegative autoencoders (NAE) for spectrograms, Part 5 chapter 3.

Notation of Part 5: V (K, N) ≥ 0, an encoder W_E (R, K) computes H = ReLU(W_E V), the score masks it,
H' = H^C ⊙ H (structured dropout), and the decoder W_D (K, R) ≥ 0 reconstructs V̂ = W_D H'.

* :func:`nae_init`: the shared initialisation (W_D = W^C with ℓ¹-normalised columns, W_E scaled to V's loudness).
* :func:`nae_multiplicative`: the multiplicative NAE updates.
* :class:`NAE`: the same model trained by projected SGD, Adam or RMSprop through ``gm.train.fit``,
  with the paper's loss φ = ||V − V̂||²_F and a signed or a nonnegative encoder; :func:`train_nae` builds and trains it.

NMF itself, the score constraints and the errors are in :mod:`genmodels.nmf`.

Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import Tensor, nn

from . import runtime, train
from .nmf import Factorization, _eps, _recorder, _same_shape, check_nonnegative


def nae_activations(W_E: Tensor, V: Tensor, H_C: Tensor | None = None) -> Tensor:
    """H' = ReLU(W_E V) ⊙ H^C (R, N) from the encoder W_E (R, K), V (K, N) and H^C (R, N) or None.

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """
    H = torch.relu(W_E @ V)
    return H if H_C is None else H * H_C


def nae_init(V: Tensor, W_C: Tensor, H_C: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The initialisation every NAE variant shares (chapter 3): W_D = W^C with ℓ¹-normalised columns,
    W_E uniform random ≥ 0.

    Normalised templates put W_D's entries and W_E's on comparable scales, which the additive optimizers'
    fixed step sizes need. W_E is then scaled by the least-squares factor c = ⟨V, W_D H'⟩ / ||W_D H'||²_F
    so that the first reconstruction has the right loudness.
    Returns (W_E (R, K), W_D (K, R)) in V's dtype and device.

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """
    check_nonnegative(V, "V (K, N)")
    K, N = V.shape
    R = W_C.shape[1]
    W_D = _same_shape(W_C, (K, R), "W_C (K, R)", V)
    W_D = W_D / W_D.sum(0).clamp_min(1.0)
    H_C = _same_shape(H_C, (R, N), "H_C (R, N)", V)
    g = torch.Generator().manual_seed(seed)
    W_E = runtime.rand(R, K, generator=g, dtype=torch.float64).to(V.device, V.dtype)
    V_hat = W_D @ nae_activations(W_E, V, H_C)
    c = float((V * V_hat).sum() / (V_hat * V_hat).sum().clamp_min(torch.finfo(V.dtype).tiny))
    return W_E * c, W_D


def nae_multiplicative(V: Tensor, W_E: Tensor, W_D: Tensor, H_C: Tensor, n_iter: int = 100,
                       eps: float | None = None, error: str | None = "l1") -> Factorization:
    """Multiplicative NAE updates (chapter 3, Eq. nmf-nae-mu), for W_E (R, K) ≥ 0, W_D (K, R) ≥ 0.

    One iteration updates the encoder, then the decoder with the new H' = ReLU(W_E V) ⊙ H^C:
    W_E ← W_E ⊙ [((W_DᵀV) ⊙ H^C) Vᵀ] ⊘ [((W_DᵀW_D H') ⊙ H^C) Vᵀ + ε],
    W_D ← W_D ⊙ (V H'ᵀ) ⊘ (W_D H' H'ᵀ + ε).
    Each factor is the negative part of the gradient of ||V − W_D H'||²_F divided by its positive part;
    with ε = 0 neither step increases that loss (the encoder step is Lee–Seung's NNLS update, chapter 3).
    V (K, N), H^C (R, N); runs ``runtime.capped(n_iter)`` iterations.
    Returns ``Factorization(W_E, W_D, errors, seconds)``.

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """
    check_nonnegative(V, "V (K, N)")
    K, N = V.shape
    R = W_D.shape[1]
    W_E = _same_shape(W_E, (R, K), "W_E (R, K)", V)
    W_D = _same_shape(W_D, (K, R), "W_D (K, R)", V)
    H_C = _same_shape(H_C, (R, N), "H_C (R, N)", V)
    e = _eps(V, eps)
    record, errors, seconds = _recorder(error, V.device)
    H = nae_activations(W_E, V, H_C)
    record(V, lambda: W_D @ H)
    for _ in range(runtime.capped(n_iter)):
        numerator = ((W_D.T @ V) * H_C) @ V.T
        denominator = (((W_D.T @ W_D) @ H) * H_C) @ V.T + e
        W_E *= numerator / denominator
        H = nae_activations(W_E, V, H_C)
        W_D *= (V @ H.T) / (W_D @ (H @ H.T) + e)
        record(V, lambda: W_D @ H)
    return Factorization(W_E, W_D, np.asarray(errors), np.asarray(seconds))


OPTIMIZERS = ("sgd", "adam", "rmsprop")
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3, "rmsprop": 1e-3}
REDUCTIONS = ("sum", "mean")
ENCODERS = ("signed", "nonnegative")


@dataclasses.dataclass
class NAEConfig:
    """Hyper-parameters of :class:`NAE`. ``lr=None`` takes the paper's choice (:data:`DEFAULT_LR`).

    reduction: ``"sum"``, the paper's loss φ = ||V − V̂||²_F, or ``"mean"``, φ/(N·K) (divides every gradient,
        hence SGD's step, by N·K; Adam and RMSprop are nearly invariant to it).
    encoder: ``"signed"`` (the paper's: W_E unconstrained, the ReLU makes the code nonnegative) or
        ``"nonnegative"`` (W_E projected onto W_E ≥ 0 after each step: the model class of the multiplicative NAE).
    Adam and RMSprop use the defaults their authors recommend (and TensorFlow uses): Adam β = (0.9, 0.999),
    RMSprop ρ = 0.9, both ε = 1e-7.

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """

    K: int
    R: int
    optimizer: str = "rmsprop"
    lr: float | None = None
    reduction: str = "sum"
    encoder: str = "signed"

    def __post_init__(self) -> None:
        for field, value, choices in (("optimizer", self.optimizer, OPTIMIZERS),
                                      ("reduction", self.reduction, REDUCTIONS),
                                      ("encoder", self.encoder, ENCODERS)):
            if value not in choices:
                raise ValueError(f"{field} must be one of {choices}; got {value!r}")
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        if not self.lr > 0:
            raise ValueError(f"lr must be positive; got {self.lr}")


class NAE(train.Model):
    """Nonnegative autoencoder V̂ = W_D (ReLU(W_E V) ⊙ H^C) trained by projected additive updates.

    W_E (R, K), W_D (K, R) ≥ 0 and the template constraint W_C (K, R) are copied. Data for
    ``gm.train.fit``: the tuple (Vᵀ (N, K), H^Cᵀ (N, R)), one column of V per example; with ``batch_size=N``
    one step is one full iteration. The loss is ``config.reduction`` of the squared residual; after each
    optimizer step W_D is projected, W_D ← max(W_D, 0) ⊙ W^C (Eq. nmf-nae-proj), and with
    ``config.encoder == "nonnegative"`` also W_E ← max(W_E, 0).

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """

    def __init__(self, config: NAEConfig, W_E: Tensor, W_D: Tensor, W_C: Tensor):
        super().__init__()
        self.config = config
        K, R = config.K, config.R
        for x, shape, what in ((W_E, (R, K), "W_E"), (W_D, (K, R), "W_D"), (W_C, (K, R), "W_C")):
            if tuple(x.shape) != shape:
                raise ValueError(f"{what}: expected shape {shape}; got {tuple(x.shape)}")
        if config.encoder == "nonnegative":
            check_nonnegative(W_E.detach(), "W_E (R, K) of a nonnegative encoder")
        self.W_E = nn.Parameter(W_E.detach().clone())
        self.W_D = nn.Parameter(check_nonnegative(W_D.detach(), "W_D (K, R)").clone())
        self.register_buffer("W_C", check_nonnegative(W_C.detach(), "W_C (K, R)").to(W_D.dtype).clone())

    def check_data(self, data: tuple[Tensor, Tensor]) -> None:
        """Refuse data that is not (Vᵀ (N, K), H^Cᵀ (N, R)), both finite and nonnegative (called once by ``fit``)."""
        if isinstance(data, Tensor) or len(data) != 2:
            raise ValueError("NAE data: expected the tuple (Vᵀ (N, K), H^Cᵀ (N, R)); got "
                             f"{'one tensor' if isinstance(data, Tensor) else f'{len(data)} tensors'}")
        (V_cols, H_C_cols), c = data, self.config
        for x, width, what in ((V_cols, c.K, "Vᵀ (N, K), one spectrogram column per row"),
                               (H_C_cols, c.R, "H^Cᵀ (N, R), the template constraint's activations")):
            if x.shape[1:] != (width,):
                raise ValueError(f"NAE data {what}: expected width {width}; got shape {tuple(x.shape)}")
            check_nonnegative(x, f"NAE data {what}")

    def forward(self, V_cols: Tensor, H_C_cols: Tensor) -> Tensor:
        """V̂ᵀ (B, K) from columns Vᵀ (B, K) and H^Cᵀ (B, R)."""
        return self.activations(V_cols, H_C_cols) @ self.W_D.T

    def activations(self, V_cols: Tensor, H_C_cols: Tensor) -> Tensor:
        """H'ᵀ = (ReLU(W_E V) ⊙ H^C)ᵀ, shape (B, R)."""
        return torch.relu(V_cols @ self.W_E.T) * H_C_cols

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimizer over (W_E, W_D): SGD, Adam or RMSprop as ``config.optimizer`` says."""
        c, params = self.config, self.parameters()
        if c.optimizer == "sgd":
            return {"opt": torch.optim.SGD(params, lr=c.lr)}
        if c.optimizer == "adam":
            return {"opt": torch.optim.Adam(params, lr=c.lr, betas=(0.9, 0.999), eps=1e-7)}
        return {"opt": torch.optim.RMSprop(params, lr=c.lr, alpha=0.9, eps=1e-7)}

    def loss(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        """``loss``: φ (sum) or φ/(B·K) (mean) on the batch; ``l1_error``: mean ℓ¹ norm of the residual columns."""
        V_cols, H_C_cols = batch
        residual = self(V_cols, H_C_cols) - V_cols
        squared = residual**2
        phi = squared.sum() if self.config.reduction == "sum" else squared.mean()
        return {"loss": phi, "l1_error": residual.abs().sum(1).mean().detach()}

    def training_step(self, batch, optimizers) -> dict[str, Tensor]:
        """One projected step; records the loss and columnwise ℓ¹ error of the parameters before it."""
        out = super().training_step(batch, optimizers)
        with torch.no_grad():
            self.W_D.clamp_(min=0).mul_(self.W_C)
            if self.config.encoder == "nonnegative":
                self.W_E.clamp_(min=0)
        return {k: v.detach() for k, v in out.items()}


def train_nae(V: Tensor, W_E: Tensor, W_D: Tensor, W_C: Tensor, H_C: Tensor, optimizer: str, n_iter: int,
              lr: float | None = None, device: torch.device | str | None = None,
              progress: bool | None = None, reduction: str = "sum", encoder: str = "signed") -> tuple[NAE, train.History]:
    """Build an :class:`NAE` and train it full-batch for ``n_iter`` iterations with ``gm.train.fit``.

    V (K, N), W_E (R, K), W_D (K, R), W_C (K, R), H_C (R, N); ``optimizer``, ``lr``, ``reduction`` and
    ``encoder`` as in :class:`NAEConfig`; ``progress`` as in ``fit`` (which applies ``GENMODELS_MAX_STEPS``).
    Returns the model and its history (``history["l1_error"]``: error before each iteration).

    Notebook: chapters/05_nonnegative_decomposition/03_nonnegative_autoencoders.ipynb
    """
    check_nonnegative(V, "V (K, N)")
    K, N = V.shape
    config = NAEConfig(K, W_D.shape[1], optimizer, lr, reduction=reduction, encoder=encoder)
    model = NAE(config, W_E, W_D, W_C)
    history = train.fit(model, (V.T.contiguous(), H_C.T.contiguous().to(V.dtype)), epochs=n_iter,
                        batch_size=N, device=device, progress=progress)
    return model, history
