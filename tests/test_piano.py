"""Tests of genmodels.data.piano: scores, the harmonic synthesiser, spectrograms and the recording loader."""
import numpy as np
import pytest
import torch
from scipy.io import wavfile

from genmodels.data import DataFolderError, piano


def test_synthesized_note_has_its_harmonics_where_expected():
    notes = torch.tensor([[0.1, 1.1, 69.0]], dtype=torch.float64)
    audio = piano.synthesize(notes)
    assert audio.dtype == torch.float32 and audio.abs().max() == pytest.approx(0.9, rel=1e-5)
    assert audio.shape[0] == int(np.ceil((1.1 + 6 * piano.PianoModel().release) * piano.SR)) + 1
    assert audio[: int(0.09 * piano.SR)].abs().max() == 0  # silence before the onset
    spectrum = np.abs(np.fft.rfft(audio[int(0.2 * piano.SR) : int(1.0 * piano.SR)].numpy()))
    freqs = np.fft.rfftfreq(int(0.8 * piano.SR), 1 / piano.SR)
    assert abs(freqs[spectrum.argmax()] - 440.0) < 3.0  # the fundamental is the loudest partial
    second = spectrum[(freqs > 860) & (freqs < 900)].max()
    between = spectrum[(freqs > 600) & (freqs < 700)].max()
    assert second > 100 * between  # energy at 2 f0, almost none between partials


def test_corpus_score_notes_are_sorted_piano_notes():
    notes = piano.score_notes("mozart_k545_1")
    assert notes.ndim == 2 and notes.shape[1] == 3 and len(notes) > 100
    assert torch.all(notes[1:, 0] >= notes[:-1, 0])
    assert notes[:, 2].min() >= 21 and notes[:, 2].max() <= 108
    assert torch.all(notes[:, 1] > notes[:, 0])
    with pytest.raises(KeyError, match="unknown piece"):
        piano.score_notes("beethoven_missing")


def test_load_excerpt_has_the_requested_length_and_notes():
    piece = piano.load("mozart_k545_1", seconds=3.0)
    assert piece.audio.shape == (3 * piano.SR,)
    assert piece.notes[:, 0].max() < 3.0 and piece.notes[:, 1].max() <= 3.0
    assert "music21" in piece.source
    with pytest.raises(ValueError, match="renderer must be"):
        piano.load("mozart_k545_1", seconds=1.0, renderer="midi")


def test_spectrogram_frame_equals_numpy_fft():
    g = torch.Generator().manual_seed(0)
    audio = torch.rand(10_000, generator=g, dtype=torch.float64) * 2 - 1
    V = piano.spectrogram(audio)
    assert V.shape == (1025, 10_000 // piano.HOP + 1)
    padded = np.pad(audio.numpy(), piano.N_FFT // 2, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(piano.N_FFT) / piano.N_FFT)
    n = 4
    frame = padded[n * piano.HOP : n * piano.HOP + piano.N_FFT] * window
    np.testing.assert_allclose(V[:, n].numpy(), np.abs(np.fft.rfft(frame)), rtol=1e-9, atol=1e-9)
    back = piano.istft(piano.stft(audio), length=audio.shape[0])
    torch.testing.assert_close(back, audio)


def test_bad_audio_and_notes_raise():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        piano.check_audio(torch.tensor([0.0, 1.5]))
    with pytest.raises(ValueError, match="1-D float"):
        piano.check_audio(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="onset < offset"):
        piano.check_notes(torch.tensor([[1.0, 0.5, 60.0]]))
    with pytest.raises(ValueError, match="MIDI pitches"):
        piano.check_notes(torch.tensor([[0.0, 0.5, 60.5]]))


def test_load_recording_reads_wav_and_csv_in_smd_layout(tmp_path):
    (tmp_path / "wav_44100_stereo").mkdir()
    (tmp_path / "csv").mkdir()
    t = np.arange(44_100) / 44_100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "wav_44100_stereo" / "Etude.wav", 44_100, np.stack([tone, tone], axis=1))
    (tmp_path / "csv" / "Etude.csv").write_text("onset,offset,pitch\n0.0,0.9,69\n0.5,1.0,64\n")
    piece = piano.load_recording(tmp_path, "Etude")
    assert piece.sr == piano.SR and piece.audio.shape == (piano.SR,)
    assert piece.audio.abs().max() == pytest.approx(0.5, abs=0.01)
    torch.testing.assert_close(piece.notes, torch.tensor([[0.0, 0.9, 69.0], [0.5, 1.0, 64.0]], dtype=torch.float64))
    with pytest.raises(DataFolderError, match=r"found no \.wav file named 'Prelude'"):
        piano.load_recording(tmp_path, "Prelude")
    with pytest.raises(DataFolderError, match="does not exist"):
        piano.load_recording(tmp_path / "missing", "Etude")


def test_midi_round_trip_keeps_notes(tmp_path):
    notes = torch.tensor([[0.0, 0.5, 60.0], [0.5, 1.0, 64.0], [0.5, 1.5, 67.0]], dtype=torch.float64)
    path = piano.write_midi(notes, tmp_path / "chord.mid")
    back = piano.read_score(path)
    assert back[:, 2].tolist() == [60.0, 64.0, 67.0]
    torch.testing.assert_close(back[:, :2], notes[:, :2], atol=0.02, rtol=0)


def test_fluidsynth_path_is_optional_and_says_what_is_missing():
    if piano.fluidsynth_available():
        audio = piano.render_fluidsynth(torch.tensor([[0.0, 0.5, 60.0]], dtype=torch.float64))
        assert audio.ndim == 1 and audio.abs().max() > 0
    else:
        with pytest.raises(FileNotFoundError, match="apt-get install fluidsynth"):
            piano.render_fluidsynth(torch.tensor([[0.0, 0.5, 60.0]], dtype=torch.float64))
    assert "piano" in piano.sources()
