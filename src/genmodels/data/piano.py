"""Piano audio with a known score, for the nonnegative decompositions of Part 5.

Three ways to get a :class:`Piece` (audio + the notes that were played):

* :func:`load` renders a real score from the ``music21`` corpus (Chopin, Mozart, Joplin, Clara
  Schumann) to audio. By default with :func:`synthesize`, a small harmonic piano model written for this
  book, so that the audio, the score and hence the true note activity agree exactly; with
  ``renderer="fluidsynth"`` through Debian's ``fluidsynth`` and a General MIDI soundfont when both are
  installed (optional, never required).
* :func:`load_recording` reads a reader's own recording plus its score (a MIDI file or a CSV of note
  events), e.g. the Saarland Music Data (SMD) used in the paper. Performance MIDI is read exactly
  (:func:`read_midi`: no quantisation) and notes are held through the sustain pedal (CC 64).
* :func:`load_piece` is the chapters' switch: a corpus piece, or a recording when given a folder.

The audio helpers :func:`stft`, :func:`istft` and :func:`spectrogram` (defined in ``_audio.py``, and
imported here so that ``gm.data.piano.stft`` is where a chapter finds them) use the paper's settings:
22,050 Hz, Hann window of 2,048 samples, hop 1,024.

Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
"""
from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .. import runtime
from ._audio import (HOP, N_FFT, SR, bin_frequencies, check_audio, frame_times, istft, midi_to_hz,  # noqa: F401
                     spectrogram, stft, to_mono_float)  # the public ones re-exported: gm.data.piano.stft ...
from ._midi import read_midi
from .base import DataFolderError, NonFiniteValuesError, require_folder

PIECES = {
    "chopin_mazurka_op6no2": "chopin/mazurka06-2.krn",
    "mozart_k545_1": "mozart/k545/movement1_exposition.mxl",
    "joplin_maple_leaf_rag": "joplin/maple_leaf_rag.mxl",
    "clara_schumann_op1no1": "schumann_clara/polonaise_op1n1.mxl",
    "clara_schumann_op1no2": "schumann_clara/polonaise_op1n2.mxl",
    "clara_schumann_op1no3": "schumann_clara/polonaise_op1n3.mxl",
    "clara_schumann_op1no4": "schumann_clara/polonaise_op1n4.mxl",
}
"""Piano scores that ship with ``music21``: short name → corpus path."""

RECORDING_LAYOUT = (
    "a folder holding <name>.wav (any rate, mono or stereo) and its score as <name>.mid/.midi or "
    "<name>.csv (rows: onset seconds, offset seconds, MIDI pitch; a header line is allowed), "
    "in the folder itself or in subfolders such as SMD's wav_44100_stereo/ and midi/ or csv/"
)
SOUNDFONTS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)


@dataclasses.dataclass
class Piece:
    """A piano piece: mono ``audio`` (T,) float32 in [-1, 1] at ``sr`` Hz and its ``notes``.

    notes: (M, 3) float64 tensor of (onset seconds, offset seconds, MIDI pitch), sorted by onset.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """

    name: str
    audio: Tensor
    sr: int
    notes: Tensor
    source: str

    def __post_init__(self) -> None:
        check_audio(self.audio, f"Piece {self.name!r} audio")
        check_notes(self.notes, f"Piece {self.name!r} notes")

    @property
    def seconds(self) -> float:
        return self.audio.shape[0] / self.sr

    def __repr__(self) -> str:
        return (f"Piece({self.name!r}, {self.seconds:.1f} s at {self.sr} Hz, {len(self.notes)} notes, "
                f"pitches {int(self.notes[:, 2].min())}–{int(self.notes[:, 2].max())}, source={self.source!r})")


def check_notes(notes: Tensor, what: str = "notes") -> Tensor:
    """Raise unless ``notes`` is (M, 3) of (onset s, offset s, MIDI pitch 0..127) with offset > onset ≥ 0.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if not isinstance(notes, Tensor) or notes.ndim != 2 or notes.shape[1] != 3 or notes.shape[0] == 0:
        shape = tuple(notes.shape) if isinstance(notes, Tensor) else type(notes).__name__
        raise ValueError(f"{what}: expected a non-empty (M, 3) tensor of (onset s, offset s, MIDI pitch); got {shape}")
    on, off, p = notes.T
    if not torch.isfinite(notes).all():
        raise NonFiniteValuesError(f"{what}: expected finite onsets, offsets and pitches; got NaN or inf")
    if (on < 0).any() or (off <= on).any():
        raise ValueError(f"{what}: expected times with 0 <= onset < offset")
    if (p < 0).any() or (p > 127).any() or (p != p.round()).any():
        raise ValueError(f"{what}: expected integer MIDI pitches in 0..127")
    return notes


# ----------------------------------------------------------------------------------------------
# Scores from the music21 corpus


def score_notes(name: str) -> Tensor:
    """The notes (M, 3) of corpus piece ``name`` (a key of :data:`PIECES`), timed by its tempo marks.

    Tied notes are merged, grace notes (no duration) dropped. Parsed once and cached.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if name not in PIECES:
        raise ValueError(f"unknown piece {name!r}; the corpus pieces are {sorted(PIECES)}")
    cached = runtime.cache_dir() / "embedded" / f"piano-{name}.npy"
    if cached.exists():
        return torch.from_numpy(np.load(cached))
    from music21 import corpus

    score = corpus.parse(PIECES[name]).stripTies()
    rows = []
    for event in score.flatten().secondsMap:
        element, onset, duration = event["element"], event["offsetSeconds"], event["durationSeconds"]
        if duration <= 0 or not hasattr(element, "pitches"):  # grace notes, rests, other objects
            continue
        for pitch in element.pitches:
            rows.append((onset, onset + duration, pitch.midi))
    notes = np.array(sorted(rows), dtype=np.float64)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.npy")
    np.save(partial, notes)
    os.replace(partial, cached)  # atomic: a parallel reader never sees half a file
    return torch.from_numpy(notes)


def excerpt(notes: Tensor, seconds: float | None) -> Tensor:
    """The notes (M', 3) of ``notes`` (M, 3) starting before ``seconds`` (all when None), offsets cut at ``seconds``.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if seconds is None:
        return notes
    if seconds <= 0:
        raise ValueError(f"seconds must be positive; got {seconds}")
    kept = notes[notes[:, 0] < seconds].clone()
    kept[:, 1] = kept[:, 1].clamp(max=seconds)
    return kept[kept[:, 1] > kept[:, 0]]


# ----------------------------------------------------------------------------------------------
# A harmonic piano model


@dataclasses.dataclass(frozen=True)
class PianoModel:
    """Parameters of :func:`synthesize` (all documented in chapter 1 of Part 5).

    A note of pitch p and fundamental f0 sounds partials k = 1..n_partials below ``max_hz`` at
    f_k = k f0 sqrt(1 + B k²) (string stiffness makes them slightly sharp) with amplitudes
    a_k = k^(-rolloff); each partial decays exponentially with time constant
    tau_k = decay(p) / (1 + 0.4 (k - 1)), where decay(p) halves every two octaves above middle C; a 4 ms
    attack ramp starts the note, and after the key is released the damper ends it with time constant
    ``release``.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """

    n_partials: int = 16
    inharmonicity: float = 2e-4
    rolloff: float = 1.1
    decay_c4: float = 1.2
    release: float = 0.08
    attack: float = 0.004
    max_hz: float = 9_000.0


def synthesize(notes: Tensor, sr: int = SR, model: PianoModel = PianoModel(), seed: int = 0) -> Tensor:
    """Render ``notes`` (M, 3) to mono audio (T,) float32 with peak 0.9 using :class:`PianoModel`.

    Like a sampled piano, each pitch is rendered once as a sustained tone long enough for its longest
    note (partials × samples, vectorised); a note is a prefix of that tone times the damper's release
    envelope, with a loudness that varies by ±3 dB from note to note (seeded by ``seed``, as are the
    partials' random phases).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    check_notes(notes)
    rng = np.random.default_rng(seed)
    m = model
    tail = 6.0 * m.release
    total = int(np.ceil((float(notes[:, 1].max()) + tail) * sr)) + 1
    audio = np.zeros(total, dtype=np.float64)
    k = np.arange(1, m.n_partials + 1, dtype=np.float64)[:, None]  # (P, 1)
    table = notes.detach().cpu().numpy()
    gains = 10 ** (rng.uniform(-3, 3, size=len(table)) / 20)
    for pitch in np.unique(table[:, 2]):
        mine = np.flatnonzero(table[:, 2] == pitch)
        f0 = float(midi_to_hz(pitch))
        fk = k * f0 * np.sqrt(1.0 + m.inharmonicity * k**2)  # (P, 1)
        keep = fk[:, 0] < min(m.max_hz, 0.45 * sr)
        fk, kk = fk[keep], k[keep]
        longest = float((table[mine, 1] - table[mine, 0]).max())
        t = np.arange(int(np.ceil((longest + tail) * sr))) / sr  # (L,)
        tau = m.decay_c4 * 2.0 ** (-(pitch - 60) / 24.0) / (1.0 + 0.4 * (kk - 1))  # (P, 1)
        phase = rng.uniform(0, 2 * np.pi, size=fk.shape)
        tone = (kk ** (-m.rolloff) * np.exp(-t / tau) * np.sin(2 * np.pi * fk * t + phase)).sum(0)
        tone *= np.minimum(t / m.attack, 1.0)  # (L,) the sustained tone of this pitch
        for i in mine:
            onset, offset = table[i, :2]
            length = min(int(np.ceil((offset - onset + tail) * sr)), len(tone))
            start = int(round(onset * sr))
            damper = np.exp(-np.maximum(t[:length] - (offset - onset), 0.0) / m.release)
            seg = gains[i] * tone[:length] * damper
            audio[start : start + length] += seg[: total - start]
    audio *= 0.9 / np.abs(audio).max()
    return torch.from_numpy(audio.astype(np.float32))


def _find_soundfont(soundfont: str | Path | None) -> Path | None:
    if soundfont is not None:
        return Path(soundfont) if Path(soundfont).is_file() else None
    return next((Path(p) for p in SOUNDFONTS if Path(p).is_file()), None)


def fluidsynth_available(soundfont: str | Path | None = None) -> bool:
    """True when the ``fluidsynth`` program and a soundfont are installed.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return shutil.which("fluidsynth") is not None and _find_soundfont(soundfont) is not None


def render_fluidsynth(notes: Tensor, sr: int = SR, soundfont: str | Path | None = None) -> Tensor:
    """Render ``notes`` with a sampled piano: Debian's ``fluidsynth`` and a General MIDI soundfont.

    Install with ``apt-get install fluidsynth timgm6mb-soundfont``. Raises ``FileNotFoundError`` naming
    what is missing; the book never needs this path.
    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    check_notes(notes)
    font = _find_soundfont(soundfont)
    if shutil.which("fluidsynth") is None or font is None:
        raise FileNotFoundError(
            "renderer='fluidsynth' needs the fluidsynth program and a soundfont "
            f"(looked for {soundfont or ', '.join(SOUNDFONTS)}); install them with "
            "`apt-get install fluidsynth timgm6mb-soundfont` or use renderer='synth'"
        )
    from scipy.io import wavfile

    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "score.mid", Path(tmp) / "score.wav"
        write_midi(notes, mid)
        subprocess.run(["fluidsynth", "-ni", "-g", "1.0", "-r", str(sr), "-F", str(wav), str(font), str(mid)],
                       check=True, capture_output=True, timeout=600)
        rate, data = wavfile.read(wav)
    return to_mono_float(data, rate, sr, str(wav))


def write_midi(notes: Tensor, path: str | Path, bpm: float = 120.0) -> Path:
    """Write ``notes`` (M, 3) to a standard MIDI file at ``bpm`` (times in seconds are kept).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    from music21 import meter, note, stream, tempo

    part = stream.Part()
    part.insert(0, tempo.MetronomeMark(number=bpm))
    part.insert(0, meter.TimeSignature("4/4"))
    quarters = bpm / 60.0
    for onset, offset, pitch in notes.tolist():
        n = note.Note(int(pitch))
        n.duration.quarterLength = (offset - onset) * quarters
        part.insert(onset * quarters, n)
    path = Path(path)
    part.write("midi", fp=str(path))
    return path


# ----------------------------------------------------------------------------------------------
# Loaders


def sources() -> dict[str, str]:
    """Data set → the source a call would read it from now (for ``genmodels info``).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    renderer = "fluidsynth (optional)" if fluidsynth_available() else "the book's harmonic piano synthesiser"
    return {"piano": f"embedded: {len(PIECES)} music21 corpus scores rendered with {renderer}; "
                     f"your recordings via load_recording(folder)"}


def load(name: str, seconds: float | None = None, renderer: str = "synth", sr: int = SR, seed: int = 0) -> Piece:
    """Corpus piece ``name`` (a key of :data:`PIECES`), its first ``seconds`` (all when None), as audio.

    renderer: ``"synth"`` (:func:`synthesize`, always available), ``"fluidsynth"``
        (:func:`render_fluidsynth`, needs Debian packages) or ``"auto"`` (fluidsynth if installed).

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    if renderer not in ("synth", "fluidsynth", "auto"):
        raise ValueError(f"renderer must be 'synth', 'fluidsynth' or 'auto'; got {renderer!r}")
    notes = excerpt(score_notes(name), seconds)
    use_fluid = renderer == "fluidsynth" or (renderer == "auto" and fluidsynth_available())
    audio = render_fluidsynth(notes, sr) if use_fluid else synthesize(notes, sr, seed=seed)
    if seconds is not None:
        audio = audio[: int(round(seconds * sr))]
    how = "fluidsynth" if use_fluid else "harmonic synthesiser"
    return Piece(name, audio, sr, notes, f"music21 corpus {PIECES[name]} rendered by the {how}")


def read_score(path: str | Path, sustain: bool = True) -> Tensor:
    """Notes (M, 3) from a MIDI file (:func:`read_midi`) or a CSV of (onset s, offset s, MIDI pitch) rows.

    Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = []
        with open(path, newline="") as f:
            for i, row in enumerate(csv.reader(f)):
                values = [v.strip() for v in row if v.strip()]
                if not values:
                    continue
                try:
                    rows.append([float(v) for v in values[:3]])
                except ValueError:
                    if i == 0:
                        continue  # a header line
                    raise ValueError(f"{path}:{i + 1}: expected numbers (onset s, offset s, MIDI pitch); got {row}")
        if not rows or any(len(r) < 3 for r in rows):
            raise ValueError(f"{path}: expected rows of (onset s, offset s, MIDI pitch)")
        notes = torch.tensor(rows, dtype=torch.float64)[:, :3]
        notes = notes[torch.argsort(notes[:, 0], stable=True)]
    else:
        notes = read_midi(path, sustain=sustain)
    return check_notes(notes, f"score {path}")


def _recording_files(folder: str | Path) -> tuple[dict[str, Path], dict[str, Path]]:
    files = require_folder(Path(folder), RECORDING_LAYOUT)
    wavs = {f.stem: f for f in sorted(files) if f.suffix.lower() == ".wav"}
    scores = {f.stem: f for f in sorted(files) if f.suffix.lower() in (".mid", ".midi", ".csv")}
    return wavs, scores


def recordings(folder: str | Path) -> list[str]:
    """The names under ``folder`` (see :data:`RECORDING_LAYOUT`) that have both a .wav file and a score.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    wavs, scores = _recording_files(folder)
    return sorted(set(wavs) & set(scores))


def load_recording(folder: str | Path, name: str, seconds: float | None = None, sr: int = SR,
                   sustain: bool = True) -> Piece:
    """A reader's recording ``name`` from ``folder`` (see :data:`RECORDING_LAYOUT`), resampled to ``sr``.

    The score's notes come from :func:`read_score` (MIDI read exactly, held through the pedal when
    ``sustain``); the first ``seconds`` of audio and notes (all when None).

    Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
    """
    from scipy.io import wavfile

    wavs, scores = _recording_files(folder)
    if name not in wavs or name not in scores:
        missing = ".wav file" if name not in wavs else "score (.mid/.midi/.csv)"
        raise DataFolderError(f"found no {missing} named {name!r} under {folder}; recordings there: "
                              f"{sorted(wavs)}; expected {RECORDING_LAYOUT}")
    rate, data = wavfile.read(wavs[name])
    audio = to_mono_float(data, rate, sr, str(wavs[name]))
    notes = excerpt(read_score(scores[name], sustain=sustain), seconds)
    if seconds is not None:
        audio = audio[: int(round(seconds * sr))]
    pedal = ", notes held through the sustain pedal" if sustain and scores[name].suffix.lower() != ".csv" else ""
    return Piece(name, audio, sr, notes, f"recording {wavs[name]} with score {scores[name]}{pedal}")


def load_piece(name: str, seconds: float | None = None, folder: str | Path | None = None) -> Piece:
    """The chapters' switch: corpus piece ``name`` (:func:`load`) when ``folder`` is None, otherwise the
    reader's recording ``name`` from ``folder`` (:func:`load_recording`), first ``seconds`` in both cases.

    Notebook: chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf.ipynb
    """
    return load(name, seconds=seconds) if folder is None else load_recording(folder, name, seconds=seconds)
