"""Audio helpers of Part 5: sample checks, MIDI pitch to frequency, WAV samples to mono float, the STFT.

The STFT uses the paper's settings: 22,050 Hz, a periodic Hann window of 2,048 samples, hop 1,024, frames
centred at n·hop samples. ``gm.data.piano`` imports everything public here.

Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .base import NonFiniteValuesError

SR = 22_050
N_FFT = 2_048
HOP = 1_024


def check_audio(audio: Tensor, what: str = "audio") -> Tensor:
    """Raise unless ``audio`` is a finite 1-D float tensor in [-1, 1]; return it.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if not isinstance(audio, Tensor) or audio.ndim != 1 or not audio.is_floating_point():
        shape = tuple(audio.shape) if isinstance(audio, Tensor) else type(audio).__name__
        raise ValueError(f"{what}: expected a 1-D float tensor (T,) of samples; got {shape}")
    if not torch.isfinite(audio).all():
        raise NonFiniteValuesError(f"{what}: contains NaN or infinite samples")
    peak = float(audio.abs().max()) if audio.numel() else 0.0
    if peak > 1.0:
        raise ValueError(f"{what}: expected samples in [-1, 1]; got peak {peak:.3g}")
    return audio


def midi_to_hz(pitch: Tensor | np.ndarray | float) -> Tensor | np.ndarray | float:
    """Equal temperament, A4 = MIDI 69 = 440 Hz.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def to_mono_float(data: np.ndarray, rate: int, sr: int, what: str) -> Tensor:
    """Samples as read from a WAV file (T,) or (T, channels), any integer or float type, to mono float32
    (T',) at ``sr`` Hz: channels averaged, resampled, rescaled (never clipped) when resampling overshoots.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    from scipy.signal import resample_poly

    if data.dtype.kind == "i":
        data = data / float(np.iinfo(data.dtype).max + 1)
    elif data.dtype.kind == "u":
        data = (data - 128.0) / 128.0
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if rate != sr:
        g = np.gcd(int(rate), int(sr))
        data = resample_poly(data, sr // g, rate // g)
    if data.size == 0:
        raise ValueError(f"{what}: the audio is empty")
    if not np.isfinite(data).all():
        raise NonFiniteValuesError(f"{what}: the audio contains NaN or infinite samples")
    peak = np.abs(data).max()
    if peak > 1.0:  # resampling can overshoot full scale slightly: rescale, never clip
        data = data / peak
    return torch.from_numpy(data.astype(np.float32))


def _window(n_fft: int, audio: Tensor) -> Tensor:
    return torch.hann_window(n_fft, periodic=True, dtype=audio.dtype, device=audio.device)


def stft(audio: Tensor, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """Complex STFT (K, N) with K = n_fft/2 + 1, Hann window, frames centred at n·hop samples.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    check_audio(audio)
    return torch.stft(audio, n_fft, hop, window=_window(n_fft, audio), center=True, return_complex=True)


def istft(X: Tensor, length: int, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """Audio (length,) from a complex STFT (K, N) made by :func:`stft` (overlap-add inverse).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    window = torch.hann_window(n_fft, periodic=True, dtype=X.real.dtype, device=X.device)
    return torch.istft(X, n_fft, hop, window=window, center=True, length=length)


def spectrogram(audio: Tensor, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """Magnitude spectrogram V = |STFT| (K, N), nonnegative, same dtype as ``audio``.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return stft(audio, n_fft, hop).abs()


def frame_times(n_frames: int, sr: int = SR, hop: int = HOP) -> Tensor:
    """Centre time in seconds of each STFT frame (N,).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return torch.arange(n_frames, dtype=torch.float64) * hop / sr


def bin_frequencies(n_fft: int = N_FFT, sr: int = SR) -> Tensor:
    """Frequency in Hz of each STFT bin (K,).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sr / n_fft
