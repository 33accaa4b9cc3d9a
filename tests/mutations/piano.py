"""One-line mutations of the piano data code (data/piano.py, data/_audio.py, data/_midi.py) that tests/test_piano.py must kill."""
from tests.mutations import Mutation

P, M, T = "src/genmodels/data/piano.py", "src/genmodels/data/_midi.py", ("tests/test_piano.py",)
A = "src/genmodels/data/_audio.py"
MUTATIONS = [
    Mutation(M, "                if sustain and ch in pedal:", "                if False:",
             "sustain pedal ignored: pedalled notes end at key release", T),
    Mutation(M, "            if b >= 64:", "            if b > 64:", "pedal value 64 read as up", T),
    Mutation(M, '    tempi = [(t, a) for t, kind, _, a, _ in events if kind == 0xFF]', "    tempi = []",
             "tempo map ignored (always 120 bpm)", T),
    Mutation(M, "        if kind == 0x9 and b > 0:  # note on", "        if kind == 0x9:  # note on",
             "note-on with velocity 0 not read as a note-off", T),
    Mutation(M, "            for store in (sounding, held):\n                if (ch, a) in store:",
             "            for store in (sounding,):\n                if (ch, a) in store:",
             "a re-struck key does not end its pedal-held note", T),
    Mutation(P, "    kept[:, 1] = kept[:, 1].clamp(max=seconds)", "    pass", "excerpt offsets not cut", T),
    Mutation(A, "        data = data.mean(axis=1)", "        data = data[:, 0]", "stereo read as its left channel", T),
    Mutation(A, "    return torch.arange(n_frames, dtype=torch.float64) * hop / sr",
             "    return (torch.arange(n_frames, dtype=torch.float64) + 0.5) * hop / sr",
             "frame times at frame starts + half a hop, not centres", T),
    Mutation(P, "    if not torch.isfinite(notes).all():", "    if False:",
             "check_notes accepts NaN times (NaN compares false with every bound)", T),
    Mutation(A, "    if not np.isfinite(data).all():", "    if False:", "a wav file's inf samples are accepted", T),
]
