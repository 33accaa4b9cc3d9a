"""Tests of genmodels.data.piano: scores, the harmonic synthesiser, spectrograms and the recording loader."""
import numpy as np
import pytest
import torch
from scipy.io import wavfile

import genmodels as gm
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
    with pytest.raises(ValueError, match="unknown piece"):
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
    # a NaN time compares false with every bound: it must be refused as non-finite, by the package's one type
    with pytest.raises(gm.data.NonFiniteValuesError, match="NaN"):
        piano.check_notes(torch.tensor([[float("nan"), 0.5, 60.0]]))
    with pytest.raises(gm.data.NonFiniteValuesError, match="NaN"):
        piano.check_audio(torch.tensor([0.0, float("nan")]))
    from genmodels.data._audio import to_mono_float
    with pytest.raises(gm.data.NonFiniteValuesError, match="NaN"):
        to_mono_float(np.array([0.0, np.inf]), 22050, 22050, "a.wav")
    with pytest.raises(ValueError, match="empty"):
        to_mono_float(np.zeros(0), 22050, 22050, "a.wav")


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
    torch.testing.assert_close(back[:, :2], notes[:, :2], atol=1e-6, rtol=0)  # music21 writes, we read: exact


def test_fluidsynth_path_is_optional_and_says_what_is_missing():
    if piano.fluidsynth_available():
        audio = piano.render_fluidsynth(torch.tensor([[0.0, 0.5, 60.0]], dtype=torch.float64))
        assert audio.ndim == 1 and audio.abs().max() > 0
    else:
        with pytest.raises(FileNotFoundError, match="apt-get install fluidsynth"):
            piano.render_fluidsynth(torch.tensor([[0.0, 0.5, 60.0]], dtype=torch.float64))
    assert "piano" in piano.sources()


# ----------------------------------------------------------------------------------------------
# Performance MIDI, written byte by byte here (an encoder independent of the reader under test)


def varlen(n):
    out = [n & 0x7F]
    while n > 127:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def track(events, running_status=False):
    """events: (absolute tick, bytes of the message); returns an MTrk chunk."""
    body, last, previous = b"", 0, None
    for tick, message in sorted(events, key=lambda e: e[0]):
        if running_status and message[0] == previous and message[0] < 0xF0:
            data = message[1:]
        else:
            data, previous = message, message[0]
        body += varlen(tick - last) + data
        last = tick
    body += varlen(0) + bytes([0xFF, 0x2F, 0x00])
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def smf(tracks, division=480, fmt=1):
    return b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") + len(tracks).to_bytes(2, "big") \
        + division.to_bytes(2, "big") + b"".join(tracks)


def tempo(tick, us):
    return tick, bytes([0xFF, 0x51, 0x03]) + us.to_bytes(3, "big")


def on(tick, pitch, velocity=64, ch=0):
    return tick, bytes([0x90 | ch, pitch, velocity])


def off(tick, pitch, ch=0, zero_velocity=False):
    return tick, bytes([0x90 | ch, pitch, 0]) if zero_velocity else bytes([0x80 | ch, pitch, 64])


def pedal(tick, down, ch=0):
    return tick, bytes([0xB0 | ch, 64, 64 if down else 63])  # the threshold values: 64 is down, 63 up


def test_read_midi_uses_the_tempo_map_exactly(tmp_path):
    # 480 ticks per quarter; 120 bpm (0.5 s per quarter) until tick 960, then 240 bpm
    conductor = track([tempo(0, 500_000), tempo(960, 250_000)])
    notes = track([on(100, 60), off(1200, 60), on(37, 72), off(500, 72, zero_velocity=True)], running_status=True)
    path = tmp_path / "tempo.mid"
    path.write_bytes(smf([conductor, notes]))
    got = piano.read_midi(path)
    seconds = lambda t: t * 0.5 / 480 if t <= 960 else 1.0 + (t - 960) * 0.25 / 480  # noqa: E731
    expected = torch.tensor([[seconds(37), seconds(500), 72], [seconds(100), seconds(1200), 60]], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)  # 37 ticks = 38.5 ms: no grid snapping
    assert got[0, 0] == pytest.approx(37 / 960, abs=1e-12)


def test_read_midi_holds_notes_through_the_sustain_pedal(tmp_path):
    q = 480  # one quarter = 0.5 s at the default 120 bpm (no tempo event)
    events = [on(0, 60), pedal(q, True), off(int(1.2 * q), 60),   # released at 0.6 s under the pedal
              on(2 * q, 60), off(int(2.4 * q), 60),                # re-struck at 1.0 s, released at 1.2 s
              on(0, 48), off(q // 2, 48),                          # released at 0.25 s before the pedal
              pedal(3 * q, False),                                 # pedal up at 1.5 s
              on(4 * q, 67, ch=1), pedal(4 * q, True, ch=0), off(5 * q, 67, ch=1)]  # pedal of another channel
    path = tmp_path / "pedal.mid"
    path.write_bytes(smf([track(events)], fmt=0))
    held = piano.read_midi(path)
    expected = torch.tensor([[0.0, 0.25, 48], [0.0, 1.0, 60], [1.0, 1.5, 60], [2.0, 2.5, 67]], dtype=torch.float64)
    torch.testing.assert_close(held, expected, rtol=0, atol=1e-12)
    dry = piano.read_midi(path, sustain=False)
    expected = torch.tensor([[0.0, 0.25, 48], [0.0, 0.6, 60], [1.0, 1.2, 60], [2.0, 2.5, 67]], dtype=torch.float64)
    torch.testing.assert_close(dry, expected, rtol=0, atol=1e-12)


def test_read_midi_agrees_with_music21_on_unpedalled_notes(tmp_path):
    from music21 import converter

    events = [tempo(0, 612_345)] + [e for k, p in enumerate((60, 64, 67, 71)) for e in
                                    (on(17 + 233 * k, p), off(17 + 233 * k + 101 + 13 * k, p))]
    path = tmp_path / "irregular.mid"
    path.write_bytes(smf([track(events)], fmt=0))
    ours = piano.read_midi(path)
    score = converter.parse(str(path), quantizePost=False)
    theirs = sorted((e["offsetSeconds"], e["offsetSeconds"] + e["durationSeconds"], e["element"].pitch.midi)
                    for e in score.flatten().secondsMap if hasattr(e["element"], "pitch"))
    # music21 rounds the tempo to a bpm value: agreement to 0.1 ms, far below a quantisation grid (~60 ms)
    torch.testing.assert_close(ours, torch.tensor(theirs, dtype=torch.float64), rtol=0, atol=1e-4)


def test_read_midi_refuses_a_file_that_is_not_midi(tmp_path):
    path = tmp_path / "score.mid"
    path.write_bytes(b"RIFF....")
    with pytest.raises(ValueError, match="not a Standard MIDI File"):
        piano.read_midi(path)


def test_load_recording_reads_performance_midi_in_smd_layout(tmp_path):
    (tmp_path / "wav_22050_mono").mkdir()
    (tmp_path / "midi").mkdir()
    t = np.arange(2 * 22_050) / 22_050
    left, right = 0.6 * np.sin(2 * np.pi * 262 * t), 0.2 * np.sin(2 * np.pi * 262 * t)
    wavfile.write(tmp_path / "wav_22050_mono" / "Op28.wav", 22_050,
                  (np.stack([left, right], axis=1) * 32767).astype(np.int16))
    (tmp_path / "midi" / "Op28.mid").write_bytes(smf([track([on(0, 60), pedal(240, True), off(480, 60),
                                                              pedal(1440, False)])], fmt=0))
    (tmp_path / "wav_22050_mono" / "Unscored.wav").write_bytes((tmp_path / "wav_22050_mono" / "Op28.wav").read_bytes())
    assert piano.recordings(tmp_path) == ["Op28"]
    piece = piano.load_recording(tmp_path, "Op28", seconds=1.0)
    assert piece.audio.shape == (piano.SR,)
    assert piece.audio.abs().max() == pytest.approx(0.4, abs=0.005)  # the mean of the two channels
    torch.testing.assert_close(piece.notes, torch.tensor([[0.0, 1.0, 60.0]], dtype=torch.float64))  # cut at 1 s
    assert "sustain pedal" in piece.source
    full = piano.load_piece("Op28", folder=tmp_path)
    torch.testing.assert_close(full.notes, torch.tensor([[0.0, 1.5, 60.0]], dtype=torch.float64))
    assert piano.load_piece("mozart_k545_1", seconds=1.0).source.startswith("music21 corpus")
    with pytest.raises(DataFolderError, match=r"found no score .* named 'Unscored'"):
        piano.load_recording(tmp_path, "Unscored")


def test_excerpt_cuts_offsets_and_drops_late_notes():
    notes = torch.tensor([[0.0, 1.0, 60.0], [0.5, 3.0, 62.0], [2.5, 3.0, 64.0]], dtype=torch.float64)
    torch.testing.assert_close(piano.excerpt(notes, 2.0), torch.tensor([[0.0, 1.0, 60.0], [0.5, 2.0, 62.0]],
                                                                         dtype=torch.float64))
    assert piano.excerpt(notes, None) is notes
    with pytest.raises(ValueError, match="positive"):
        piano.excerpt(notes, 0.0)


def test_frame_times_and_bin_frequencies_by_hand():
    assert piano.frame_times(3).tolist() == [0.0, 1024 / 22050, 2048 / 22050]
    f = piano.bin_frequencies()
    assert f.shape == (1025,) and f[1] == pytest.approx(22050 / 2048) and f[-1] == pytest.approx(11025.0)
