"""Quickstart: denoise a recording with the shipped model.

    python examples/quickstart.py                    # makes its own noisy example
    python examples/quickstart.py noisy.wav          # or denoises yours

Without an argument it writes ``quickstart/noisy.wav`` (speech-like syllables in noise at
5 dB) and ``quickstart/clean.wav``; it then denoises the noisy file exactly as ``skdenoise
denoise noisy.wav -o enhanced.wav`` does, prints SI-SDR, PESQ and STOI before and after,
and draws the three spectrograms to ``quickstart/spectrograms.png``.
"""

import sys
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from skdenoise import load_pretrained, read_audio, write_wav
from skdenoise.datasets import mix_at_snr
from skdenoise.metrics import pesq, si_sdr, stoi
from skdenoise.plotting import plot_spectrograms
from skdenoise.streaming import denoise_file

RATE = 8000
OUT = Path("quickstart")


def syllables(text: str, rate: int = RATE) -> np.ndarray:
    """Formant-synthesised syllables: a consonant burst, then a voiced vowel."""
    formants = {
        "a": (730, 1090, 2440),
        "i": (270, 2290, 3010),
        "u": (300, 870, 2240),
        "e": (530, 1840, 2480),
        "o": (570, 840, 2410),
    }
    rng = np.random.default_rng(0)

    def resonate(x, freqs):
        for f, bw in zip(freqs, (80, 100, 120)):
            r = np.exp(-np.pi * bw / rate)
            x = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r], x)
        return x

    parts = [np.zeros(rate // 4)]
    for syllable in text.split():
        burst = resonate(0.3 * rng.standard_normal(rate // 30), (2500, 3200, 3800))
        n = int(0.22 * rate)
        phase = np.cumsum((140 - 30 * np.arange(n) / n) / rate)
        pulses = np.zeros(n)
        pulses[np.flatnonzero(np.diff(np.floor(phase)) > 0)] = 1
        vowel = resonate(pulses, formants[syllable[1]]) * np.hanning(n)
        parts += [burst, 0.5 * vowel / np.abs(vowel).max(), np.zeros(rate // 12)]
    x = np.concatenate([*parts, np.zeros(rate // 4)])
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def make_example() -> tuple[Path, Path]:
    clean = syllables("ba di gu ke po ta ko mi do re mi fa so")
    t = np.arange(3 * RATE) / RATE
    rng = np.random.default_rng(1)
    hum = 0.3 * np.sin(2 * np.pi * 100 * t) + rng.standard_normal(len(t))  # hum and hiss
    noisy, clean, _ = mix_at_snr(clean, hum.astype(np.float32), 5.0, rng=2)
    return write_wav(OUT / "noisy.wav", noisy, RATE), write_wav(OUT / "clean.wav", clean, RATE)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    if len(sys.argv) > 1:
        noisy_path, clean_path = Path(sys.argv[1]), None
    else:
        noisy_path, clean_path = make_example()
    pipe = load_pretrained()  # the shipped 8 kHz model, loaded offline
    enhanced_path = OUT / (noisy_path.stem + "_enhanced.wav")
    denoise_file(pipe, noisy_path, enhanced_path, overwrite=True)
    print(f"wrote {enhanced_path}")

    noisy, _ = read_audio(noisy_path, sample_rate=RATE)
    enhanced, _ = read_audio(enhanced_path, sample_rate=RATE)
    signals = {"noisy": noisy, "enhanced": enhanced}
    if clean_path is not None:
        clean, _ = read_audio(clean_path, sample_rate=RATE)
        signals["clean"] = clean
        print(f"{'':10}{'SI-SDR (dB)':>12}{'PESQ':>8}{'STOI':>8}")
        for name in ("noisy", "enhanced"):
            x = signals[name]
            print(
                f"{name:10}{si_sdr(clean, x):12.2f}{pesq(clean, x, RATE):8.2f}"
                f"{stoi(clean, x, RATE):8.3f}"
            )
    plot_spectrograms(signals, RATE, path=OUT / "spectrograms.png")
    print(f"wrote {OUT / 'spectrograms.png'}")


if __name__ == "__main__":
    main()
