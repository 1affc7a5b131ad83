"""Synthetic speech-like audio and noises, for examples and tests that need no data.

The speech is formant-synthesised syllables: a consonant burst, then a voiced vowel with a
falling pitch and its three formants. It is speech-like enough for PESQ to find an
utterance and for a speech recogniser to hear words in it, and it needs nothing but NumPy
and SciPy. It is no substitute for real recordings when judging a model.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

__all__ = ["NOISE_KINDS", "noise", "syllables"]

_VOWELS = {
    "a": (730, 1090, 2440),
    "i": (270, 2290, 3010),
    "u": (300, 870, 2240),
    "e": (530, 1840, 2480),
    "o": (570, 840, 2410),
}

#: The kinds of :func:`noise`.
NOISE_KINDS = ("hum", "hiss", "clatter", "babble")


def _resonate(x: np.ndarray, freqs, rate: int) -> np.ndarray:
    for f, bandwidth in zip(freqs, (80, 100, 120)):
        r = np.exp(-np.pi * bandwidth / rate)
        x = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r], x)
    return x


def syllables(
    text: str = "ba di gu ke po", sample_rate: int = 8000, *, seed: int = 0, pitch: float = 140.0
) -> np.ndarray:
    """Formant-synthesised syllables: a consonant burst, then a voiced vowel each.

    Parameters
    ----------
    text : str
        Space-separated consonant-vowel syllables; the vowel (second letter) is one of
        ``a e i o u``; ``k``, ``g`` and ``t`` make a high burst, other consonants a low one.
    sample_rate : int
        Hz.
    seed : int
        Seed of the bursts.
    pitch : float
        Starting pitch of the voice in Hz (it falls by 30 Hz over each vowel).

    Returns
    -------
    ndarray of shape (n_samples,), float32
        Peak 0.3, with 0.25 s of silence before and after; about 0.33 s per syllable.

    Examples
    --------
    >>> from skdenoise.synthetic import syllables
    >>> x = syllables("ba di gu", 8000)
    >>> x.dtype, round(float(abs(x).max()), 2)
    (dtype('float32'), 0.3)
    """
    rate = int(sample_rate)
    rng = np.random.default_rng(seed)
    parts = [np.zeros(rate // 4)]
    for syllable in text.split():
        if len(syllable) < 2 or syllable[1] not in _VOWELS:
            raise ValueError(f"{syllable!r}: a syllable is a consonant then one of a e i o u.")
        high = syllable[0] in "kgt"
        burst = _resonate(
            0.3 * rng.standard_normal(rate // 30),
            (2500, 3200, 3800) if high else (800, 1500, 2500),
            rate,
        )
        n = int(0.22 * rate)
        phase = np.cumsum((pitch - 30 * np.arange(n) / n) / rate)
        pulses = np.zeros(n)
        pulses[np.flatnonzero(np.diff(np.floor(phase)) > 0)] = 1
        vowel = _resonate(pulses, _VOWELS[syllable[1]], rate) * np.hanning(n)
        parts += [burst, 0.5 * vowel / np.abs(vowel).max(), np.zeros(rate // 12)]
    x = np.concatenate([*parts, np.zeros(rate // 4)])
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def noise(kind: str, seconds: float, sample_rate: int = 8000, *, seed: int = 0) -> np.ndarray:
    """A noise recording of one of :data:`NOISE_KINDS`.

    Parameters
    ----------
    kind : {"hum", "hiss", "clatter", "babble"}
        ``hum``: mains hum (100 Hz and harmonics) with a little hiss; ``hiss``: pink-ish
        broadband noise; ``clatter``: random clicks and knocks; ``babble``: five
        overlapping synthetic voices at other pitches.
    seconds : float
        Length.
    sample_rate : int
        Hz.
    seed : int
        Seed.

    Returns
    -------
    ndarray of shape (round(seconds * sample_rate),), float32
        RMS about 0.1.

    Examples
    --------
    >>> from skdenoise.synthetic import noise
    >>> noise("hum", 2.0, 8000).shape
    (16000,)
    """
    rate = int(sample_rate)
    n = round(seconds * rate)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    if kind == "hum":
        x = sum(np.sin(2 * np.pi * 100 * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3, 5))
        x = x + 0.2 * rng.standard_normal(n)
    elif kind == "hiss":
        x = lfilter([1.0], [1.0, -0.7], rng.standard_normal(n))
    elif kind == "clatter":
        x = 0.05 * rng.standard_normal(n)
        for start in rng.integers(0, max(1, n - rate // 20), size=max(1, int(6 * seconds))):
            length = rate // 20
            decay = np.exp(-np.arange(length) / (0.004 * rate))
            x[start : start + length] += rng.uniform(1, 4) * decay * rng.standard_normal(length)
    elif kind == "babble":
        x = np.zeros(n)
        words = ["ba", "di", "gu", "ke", "po", "ta", "mi", "do", "re", "so"]
        for voice in range(5):
            text = " ".join(rng.choice(words, size=max(1, int(3 * seconds))))
            v = syllables(text, rate, seed=seed + voice, pitch=rng.uniform(100, 260))
            v = np.roll(np.resize(v, n), int(rng.integers(0, n)))
            x += v
    else:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}.")
    x = np.asarray(x, dtype=np.float64)
    x *= 0.1 / max(float(np.sqrt(np.mean(x**2))), 1e-12)
    return x.astype(np.float32)
