"""Audio comparison for the talk test: how well a received recording matches the file the mic played."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def read_wav(source: Path | bytes) -> tuple[NDArray[np.float64], int]:
    with wave.open(str(source) if isinstance(source, Path) else io.BytesIO(source)) as wav:
        assert wav.getsampwidth() == 2, "expected 16-bit PCM"
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
        if wav.getnchannels() > 1:
            samples = samples.reshape(-1, wav.getnchannels()).mean(axis=1)
    return samples, rate


def best_match(received: NDArray[np.float64], reference: NDArray[np.float64]) -> tuple[float, int]:
    """Peak normalised cross-correlation of ``received`` slid along ``reference`` (looped once), and where."""
    ref = np.concatenate([reference, reference])  # the fake microphone loops the file
    n = len(received)
    if n == 0 or n > len(ref):
        raise ValueError("received audio is empty or longer than the reference loop")
    probe = received - received.mean()
    size = 1 << int(np.ceil(np.log2(len(ref) + n)))
    corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(probe, size)), size)[: len(ref) - n + 1]
    # Energy of each window of the reference (mean removed), for normalisation.
    csum = np.concatenate([[0.0], np.cumsum(ref)])
    csum2 = np.concatenate([[0.0], np.cumsum(ref * ref)])
    win_sum = csum[n:] - csum[:-n]
    win_energy = csum2[n:] - csum2[:-n] - win_sum * win_sum / n
    denom = np.sqrt(np.maximum(win_energy, 1e-9) * float(np.dot(probe, probe)))
    ncc = corr / denom
    best = int(np.argmax(ncc))
    return float(ncc[best]), best
