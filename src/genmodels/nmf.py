"""Nonnegative decompositions of spectrograms: score-informed NMF and nonnegative autoencoders (NAE).

Notation of Part 5: a magnitude spectrogram V (K, N) ≥ 0 with K frequency bins and N frames is
approximated by W H with templates W (K, R) ≥ 0 and activations H (R, N) ≥ 0, one template per pitch.
An NAE computes the activations with an encoder, H = ReLU(W_E V), masks them with the score,
H' = H^C ⊙ H (structured dropout), and decodes V̂ = W_D H'.

* :func:`nmf`: Lee–Seung multiplicative updates for the Euclidean loss (chapter 1).
* :func:`constraints_from_score`: the binary template and activation constraints W^C, H^C (chapter 2).
* :func:`nae_multiplicative`: the multiplicative NAE updates (chapter 3).
* :class:`NAE`: the same model trained by projected SGD, Adam or RMSprop through ``gm.train.fit`` (chapter 3),
  with the paper's loss φ = ||V − V̂||²_F and a signed or a nonnegative encoder.
* :func:`columnwise_l1_error`, :func:`normalize_columns`: the paper's error and ℓ¹ normalisation (chapter 4).

All functions are torch, run on any device and keep the dtype (float32 or float64) of V.

Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
"""
from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from . import runtime, train
from .data.piano import HOP, N_FFT, SR, bin_frequencies, check_notes, frame_times, midi_to_hz


class Factorization(NamedTuple):
    """Result of :func:`nmf` or :func:`nae_multiplicative`.

    The first two are (W (K, R), H (R, N)) for NMF and (W_E (R, K), W_D (K, R)) for the NAE.
    errors: (n_iter + 1,) numpy array, the error before any update and after each iteration
        (empty when ``error=None``); seconds: wall time elapsed at each entry of ``errors``.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """

    first: Tensor
    second: Tensor
    errors: np.ndarray
    seconds: np.ndarray


def check_nonnegative(x: Tensor, what: str, ndim: int = 2) -> Tensor:
    """Raise a clear ``ValueError`` unless ``x`` is a finite, nonnegative float tensor with ``ndim`` dims.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if not isinstance(x, Tensor) or x.ndim != ndim or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{what}: expected a float tensor with {ndim} dimensions; got {shape}")
    if not torch.isfinite(x).all():
        from .data.base import NonFiniteValuesError

        raise NonFiniteValuesError(f"{what}: contains NaN or infinite values; expected finite nonnegative entries")
    low = float(x.min()) if x.numel() else 0.0
    if low < 0:
        raise ValueError(f"{what}: expected nonnegative entries; the smallest is {low:.3g}")
    return x


def columnwise_l1_error(V: Tensor, V_hat: Tensor) -> float:
    """The paper's error: (1/N) Σ_n ||v_n − v̂_n||₁, the mean ℓ¹ distance of the N columns (K, N).

    Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
    """
    if V.shape != V_hat.shape or V.ndim != 2:
        raise ValueError(f"V and V_hat must be matrices of one shape (K, N); "
                         f"got {tuple(V.shape)} and {tuple(V_hat.shape)}")
    return float((V - V_hat).abs().sum(0).mean())


def frobenius_error(V: Tensor, V_hat: Tensor) -> float:
    """||V − V̂||_F², the loss the multiplicative updates decrease (chapter 1, Eq. nmf-loss).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return float(((V - V_hat) ** 2).sum())


_ERRORS = {"l1": columnwise_l1_error, "frobenius": frobenius_error}


def _recorder(error: str | None, device: torch.device):
    if error is not None and error not in _ERRORS:
        raise ValueError(f"error must be one of {sorted(_ERRORS)} or None; got {error!r}")
    errors: list[float] = []
    seconds: list[float] = []
    start = time.perf_counter()

    def record(V: Tensor, V_hat_fn) -> None:
        if error is None:
            return
        errors.append(_ERRORS[error](V, V_hat_fn()))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - start)

    return record, errors, seconds


def _eps(V: Tensor, eps: float | None) -> float:
    return float(torch.finfo(V.dtype).eps) if eps is None else float(eps)


def _same_shape(x: Tensor, shape: tuple[int, ...], what: str, V: Tensor) -> Tensor:
    check_nonnegative(x, what)
    if tuple(x.shape) != shape:
        raise ValueError(f"{what}: expected shape {shape}; got {tuple(x.shape)}")
    return x.to(device=V.device, dtype=V.dtype).clone()


def random_init(V: Tensor, R: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Uniform random W (K, R), H (R, N) scaled so that W H has the mean of V (K, N), in V's dtype and device.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    K, N = V.shape
    g = torch.Generator().manual_seed(seed)
    scale = (float(V.mean()) / R) ** 0.5 * 2.0  # E[uniform(0, 2s)] = s and E[(WH)_kn] = R s²
    W = runtime.rand(K, R, generator=g, dtype=torch.float64) * scale
    H = runtime.rand(R, N, generator=g, dtype=torch.float64) * scale
    return W.to(V.device, V.dtype), H.to(V.device, V.dtype)


def nmf(V: Tensor, R: int | None = None, n_iter: int = 100, W: Tensor | None = None, H: Tensor | None = None,
        eps: float | None = None, error: str | None = "l1", seed: int = 0) -> Factorization:
    """Multiplicative NMF for the Euclidean loss: V (K, N) ≈ W (K, R) H (R, N).

    One iteration updates H, then W (chapter 1, Eq. nmf-mu):
    H ← H ⊙ (WᵀV) ⊘ (WᵀWH + ε),  W ← W ⊙ (VHᵀ) ⊘ (WHHᵀ + ε).
    W, H: initial factors (zeros stay zero: that is how the score constraints enter); missing ones are
        drawn by :func:`random_init` with rank R. eps: ε, machine epsilon of V's dtype by default.
    error: ``"l1"`` (columnwise ℓ¹), ``"frobenius"`` or None (record nothing, fastest).
    The loop runs ``runtime.capped(n_iter)`` iterations (``GENMODELS_MAX_STEPS`` caps it).
    Returns ``Factorization(W, H, errors, seconds)``.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    check_nonnegative(V, "V (K, N)")
    K, N = V.shape
    if R is None:
        if W is None and H is None:
            raise ValueError("give the rank R or initial factors W (K, R) and H (R, N)")
        R = W.shape[1] if W is not None else H.shape[0]
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0; got {n_iter}")
    W0, H0 = random_init(V, R, seed) if W is None or H is None else (None, None)
    W = _same_shape(W, (K, R), "W (K, R)", V) if W is not None else W0
    H = _same_shape(H, (R, N), "H (R, N)", V) if H is not None else H0
    e = _eps(V, eps)
    record, errors, seconds = _recorder(error, V.device)
    record(V, lambda: W @ H)
    for _ in range(runtime.capped(n_iter)):
        H *= (W.T @ V) / ((W.T @ W) @ H + e)
        W *= (V @ H.T) / (W @ (H @ H.T) + e)
        record(V, lambda: W @ H)
    return Factorization(W, H, np.asarray(errors), np.asarray(seconds))


def normalize_columns(W: Tensor, H: Tensor) -> tuple[Tensor, Tensor]:
    """ℓ¹-normalise the columns of W (K, R) and rescale the rows of H (R, N) so that W H is unchanged.

    Columns that are all zero are left as they are.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    norms = W.abs().sum(0)
    norms = torch.where(norms > 0, norms, torch.ones_like(norms))
    return W / norms, H * norms[:, None]


# ----------------------------------------------------------------------------------------------
# Score-informed constraints


def constraints_from_score(notes: Tensor, n_frames: int, sr: int = SR, n_fft: int = N_FFT, hop: int = HOP,
                           n_harmonics: int = 12, width_semitones: float = 0.5, min_bins: float = 2.0,
                           onset_tol: float = 0.1, offset_tol: float = 0.5,
                           pitches: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Binary template and activation constraints from a score (chapter 2).

    notes: (M, 3) of (onset s, offset s, MIDI pitch). The R template columns are the distinct pitches
    (or ``pitches``, sorted). W^C[k, r] = 1 when bin k lies within ``width_semitones`` (but at least
    ``min_bins`` bins) of a harmonic h·f0(p_r), h = 1..n_harmonics. H^C[r, n] = 1 when frame n's centre
    lies in [onset − onset_tol, offset + offset_tol] of a note of pitch p_r.
    Returns (W^C (K, R), H^C (R, N), pitches (R,)) as float64 / int64 tensors.

    Notebook: chapters/05_nonnegative_decomposition/02_score_informed.ipynb
    """
    check_notes(notes)
    if n_frames < 1 or n_harmonics < 1 or width_semitones <= 0 or onset_tol < 0 or offset_tol < 0:
        raise ValueError("n_frames and n_harmonics must be positive, width_semitones > 0, tolerances >= 0")
    if pitches is None:
        pitches = notes[:, 2].unique().long()
    pitches = torch.as_tensor(pitches).long().sort().values
    missing = set(notes[:, 2].long().tolist()) - set(pitches.tolist())
    if missing:
        raise ValueError(f"the score plays pitches {sorted(missing)} that are not among the given pitches")
    freqs = bin_frequencies(n_fft, sr)  # (K,)
    h = torch.arange(1, n_harmonics + 1, dtype=torch.float64)  # (Hm,)
    centres = midi_to_hz(pitches.double())[:, None] * h  # (R, Hm)
    half = torch.maximum(centres * (2 ** (width_semitones / 12) - 1), torch.tensor(min_bins * sr / n_fft))
    inside = (freqs[None, None, :] - centres[..., None]).abs() <= half[..., None]  # (R, Hm, K)
    W_C = inside.any(1).T.double()  # (K, R)
    t = frame_times(n_frames, sr, hop)  # (N,)
    row = torch.searchsorted(pitches, notes[:, 2].long())  # (M,)
    active = (t[None, :] >= notes[:, :1] - onset_tol) & (t[None, :] <= notes[:, 1:2] + offset_tol)  # (M, N)
    H_C = torch.zeros(len(pitches), n_frames, dtype=torch.float64)
    H_C.index_add_(0, row, active.double())
    return W_C, (H_C > 0).double(), pitches


def separation_mask(W: Tensor, H: Tensor, rows: Tensor | list[int], eps: float | None = None) -> Tensor:
    """Soft mask (K, N) in [0, 1]: the share of W H explained by the templates ``rows``.

    Multiply the complex STFT by it and invert to hear those notes alone.

    Notebook: chapters/05_nonnegative_decomposition/02_score_informed.ipynb
    """
    check_nonnegative(W, "W (K, R)")
    check_nonnegative(H, "H (R, N)")
    rows = torch.as_tensor(rows, dtype=torch.long, device=W.device)
    part = W[:, rows] @ H[rows]
    return part / (W @ H + _eps(W, eps))


# ----------------------------------------------------------------------------------------------
# Nonnegative autoencoders


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
