"""A Standard MIDI File reader for performance MIDI: exact times from the tempo map, the sustain pedal.

music21's MIDI import quantises onsets and durations to a beat grid and ignores controllers, which
suits scores but not recordings' MIDI (SMD's Disklavier files). :func:`read_midi` reads the bytes
itself (MIDI 1.0 file format: MThd/MTrk chunks, variable-length delta times, running status, meta
events) and is used by :func:`genmodels.data.piano.read_score`.

Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor


def _varlen(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[i]
        value, i = (value << 7) | (byte & 0x7F), i + 1
        if byte < 0x80:
            return value, i


def _track_events(data: bytes, where: str) -> list[tuple[int, int, int, int, int]]:
    """(tick, status high nibble or 0xFF for tempo, channel, data1, data2) of one MTrk chunk's body."""
    events, i, tick, status = [], 0, 0, 0
    while i < len(data):
        delta, i = _varlen(data, i)
        tick += delta
        if data[i] >= 0x80:
            status, i = data[i], i + 1
        elif status == 0 or status >= 0xF0:
            raise ValueError(f"{where}: running status without a preceding channel message at byte {i}")
        if status == 0xFF:  # meta event: type, length, data
            kind = data[i]
            length, i = _varlen(data, i + 1)
            if kind == 0x51 and length == 3:
                events.append((tick, 0xFF, 0, int.from_bytes(data[i : i + 3], "big"), 0))
            i += length
            status = 0
        elif status in (0xF0, 0xF7):  # system exclusive
            length, i = _varlen(data, i)
            i += length
            status = 0
        else:
            n = 1 if status >> 4 in (0xC, 0xD) else 2
            a, b = data[i], data[i + 1] if n == 2 else 0
            events.append((tick, status >> 4, status & 0x0F, a, b))
            i += n
    return events


def _seconds(ticks: np.ndarray, tempi: list[tuple[int, int]], division: int) -> np.ndarray:
    """Seconds of each tick under the tempo map ``tempi`` [(tick, µs per quarter)] (SMPTE division too)."""
    if division & 0x8000:
        fps = 256 - (division >> 8)
        return ticks / ((29.97 if fps == 29 else fps) * (division & 0xFF))
    tempi = sorted(dict([(0, 500_000)] + tempi).items())  # 120 bpm until the first tempo event
    at = np.array([t for t, _ in tempi], dtype=np.float64)
    us = np.array([u for _, u in tempi], dtype=np.float64)
    start = np.concatenate([[0.0], np.cumsum(np.diff(at) * us[:-1])]) / (1e6 * division)
    k = np.searchsorted(at, ticks, side="right") - 1
    return start[k] + (ticks - at[k]) * us[k] / (1e6 * division)


def read_midi(path: str | Path, sustain: bool = True) -> Tensor:
    """Notes (M, 3) of (onset s, offset s, MIDI pitch) from a Standard MIDI File, sorted by onset.

    Times come from the ticks and the file's tempo map exactly, with no quantisation (performance MIDI
    such as SMD's Disklavier files keeps its timing). A re-struck key ends the sounding note of that key.
    ``sustain``: a key released while its channel's sustain pedal (CC 64, value ≥ 64) is down sounds on
    until the pedal is released or the key is struck again. Zero-length notes are dropped.

    Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
    """
    data = Path(path).read_bytes()
    if data[:4] != b"MThd" or len(data) < 14:
        raise ValueError(f"{path}: not a Standard MIDI File (expected an 'MThd' header)")
    division = struct.unpack(">H", data[12:14])[0]
    events, pos = [], 8 + struct.unpack(">I", data[4:8])[0]
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if data[pos : pos + 4] == b"MTrk":  # other chunk types are skipped, as the standard asks
            events += _track_events(data[pos + 8 : pos + 8 + length], str(path))
        pos += 8 + length
    tempi = [(t, a) for t, kind, _, a, _ in events if kind == 0xFF]
    priority = {0x8: 0, 0xB: 1, 0x9: 2}  # in one tick: releases, then the pedal, then new notes
    events = sorted((e for e in events if e[1] in priority), key=lambda e: (e[0], priority[e[1]]))
    times = _seconds(np.array([e[0] for e in events], dtype=np.float64), tempi, division)
    notes, sounding, held, pedal = [], {}, {}, set()
    for t, (_, kind, ch, a, b) in zip(times.tolist(), events):
        if kind == 0x9 and b > 0:  # note on
            for store in (sounding, held):
                if (ch, a) in store:
                    notes.append((store.pop((ch, a)), t, a))
            sounding[(ch, a)] = t
        elif kind in (0x8, 0x9):  # note off (or note on with velocity 0)
            if (ch, a) in sounding:
                onset = sounding.pop((ch, a))
                if sustain and ch in pedal:
                    held[(ch, a)] = onset
                else:
                    notes.append((onset, t, a))
        elif a == 64:  # sustain pedal
            if b >= 64:
                pedal.add(ch)
            else:
                pedal.discard(ch)
                for key in [k for k in held if k[0] == ch]:
                    notes.append((held.pop(key), t, key[1]))
    end = float(times[-1]) if len(times) else 0.0
    notes += [(onset, end, key[1]) for store in (sounding, held) for key, onset in store.items()]
    table = torch.tensor([n for n in notes if n[1] > n[0]], dtype=torch.float64).reshape(-1, 3)
    return table[torch.argsort(table[:, 0], stable=True)]
