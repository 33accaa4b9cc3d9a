"""Nonnegative matrix factorization of spectrograms, plain and score-informed (Part 5).

Notation of Part 5: a magnitude spectrogram V (K, N) ≥ 0 with K frequency bins and N frames is
approximated by W H with templates W (K, R) ≥ 0 and activations H (R, N) ≥ 0, one template per pitch.
The nonnegative autoencoders of chapter 3, which compute H with an encoder, are in :mod:`genmodels.nae`.

* :func:`nmf`: Lee–Seung multiplicative updates for the Euclidean loss (chapter 1).
* :func:`constraints_from_score`: the binary template and activation constraints W^C, H^C (chapter 2).
* :func:`separation_mask`: the soft mask that separates one voice (chapter 2).
* :func:`columnwise_l1_error`, :func:`normalize_columns`: the paper's error and ℓ¹ normalisation (chapter 4).

All functions are torch, run on any device and keep the dtype (float32 or float64) of V.

Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from . import runtime
from .data.piano import HOP, N_FFT, SR, bin_frequencies, check_notes, frame_times, midi_to_hz


class Factorization(NamedTuple):
    """Result of :func:`nmf` or :func:`genmodels.nae.nae_multiplicative`.

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
