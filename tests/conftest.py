"""Shared fixtures: small synthetic audio made here, never read from ../shared/data."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# XLA compilation costs seconds per new tiny model and pays off only for real training; the
# XLA path has its own test (test_estimators.py::test_xla_and_plain_graphs_agree).
os.environ.setdefault("SKDENOISE_NO_JIT", "1")

import numpy as np
import pytest
from scipy.signal import lfilter

RATE = 8000
_VOWELS = {
    "a": (730, 1090, 2440),
    "i": (270, 2290, 3010),
    "u": (300, 870, 2240),
    "e": (530, 1840, 2480),
    "o": (570, 840, 2410),
}


def harmonic(n_samples: int, rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    """A speech-like signal: a few harmonics of a random pitch, switched on and off."""
    t = np.arange(n_samples) / rate
    f0 = rng.uniform(120, 250)
    signal = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 6))
    envelope = 0.1 + 0.9 * (np.sin(2 * np.pi * rng.uniform(1, 3) * t) > 0)
    return (0.1 * signal * envelope).astype(np.float32)


def _formants(x: np.ndarray, freqs, rate: int) -> np.ndarray:
    for f, bandwidth in zip(freqs, (80, 100, 120)):
        r = np.exp(-np.pi * bandwidth / rate)
        theta = 2 * np.pi * f / rate
        x = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x)
    return x


def syllables(text: str = "ba di gu ke po", rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Formant-synthesised syllables (a noise burst, then a voiced vowel): speech-like
    enough for PocketSphinx to hear words and for PESQ to find an utterance."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(0.2 * rate))]
    for syllable in text.split():
        consonant, vowel = syllable[0], syllable[1]
        burst = rng.standard_normal(int(0.03 * rate)) * 0.3
        burst = _formants(
            burst, (2500, 3500, 3900) if consonant in "kgt" else (800, 1500, 2500), rate
        )
        n = int(0.22 * rate)
        t = np.arange(n) / rate
        phase = np.cumsum((140 - 30 * t / 0.22) / rate)
        pulses = np.zeros(n)
        pulses[np.flatnonzero(np.diff(np.floor(phase)) > 0)] = 1
        voiced = _formants(pulses, _VOWELS[vowel], rate) * np.hanning(n)
        parts += [burst, 0.5 * voiced / np.abs(voiced).max(), np.zeros(int(0.08 * rate))]
    parts.append(np.zeros(int(0.2 * rate)))
    x = np.concatenate(parts)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def written_without(path, step: str, param: str, out):
    """A copy of model file ``path`` at ``out`` without ``step``'s parameter ``param``: a
    file written before that parameter existed. Returns ``out``."""
    from skdenoise.modelfile import read_model_meta, read_model_weights, write_model_file

    meta = read_model_meta(path)
    del meta["params"][step][param]
    return write_model_file(out, meta, read_model_weights(path, meta))


def evaluate_folders(tmp_path, model_path: str):
    """Two noisy/clean pairs written to ``tmp_path``'s ``noisy`` and ``clean`` folders, and
    ``evaluate(out, *extra)`` running ``skdenoise evaluate`` on them with ``model_path``
    (no ASR; returns the exit code) and ``per_file(out)`` reading its ``per_file.csv`` rows."""
    import csv

    import soundfile as sf

    from skdenoise.cli import main

    noisy, clean = noisy_pairs(seed=4, lengths=(9000, 10000))
    for folder, waves in (("noisy", noisy), ("clean", clean)):
        (tmp_path / folder).mkdir()
        for i, x in enumerate(waves):
            sf.write(tmp_path / folder / f"{i}.wav", x, RATE, subtype="FLOAT")

    def evaluate(out, *extra):
        args = ["evaluate", "--noisy-dir", str(tmp_path / "noisy"), "--clean-dir"]
        args += [str(tmp_path / "clean"), "--model", model_path, *extra, "--no-asr"]
        return main([*args, "--out", str(tmp_path / out), "--no-progress"])

    def per_file(out):
        with open(tmp_path / out / "per_file.csv") as f:
            return list(csv.DictReader(f))

    return evaluate, per_file


def noisy_pairs(
    seed: int = 0,
    lengths=(20000, 16000, 9000, 30000, 12000, 25000, 18000, 22000),
    noise: float = 0.05,
):
    """Aligned (noisy, clean) lists of harmonic signals in white noise."""
    rng = np.random.default_rng(seed)
    clean = [harmonic(n, rng) for n in lengths]
    noisy = [c + noise * rng.standard_normal(len(c)).astype(np.float32) for c in clean]
    return noisy, clean


@pytest.fixture
def pairs():
    return noisy_pairs()


@pytest.fixture(scope="session", autouse=True)
def _compiled_model_cache(tmp_path_factory):
    """Compiled (LiteRT) networks go to a folder of this session, not the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SKDENOISE_CACHE_DIR", str(tmp_path_factory.mktemp("compiled-cache")))
        yield


@pytest.fixture(scope="session")
def tiny_params():
    """Parameters of a tiny, fast U-Net for tests (bare arrays given to it are at 8 kHz)."""
    return {
        "load__array_rate": 8000,
        "unet__filters": 4,
        "unet__depth": 2,
        "unet__epochs": 2,
        "unet__batch_size": 4,
        "unet__learning_rate": 1e-2,
        "unet__max_attenuation_db": 20.0,
        "unet__validation_fraction": 0.0,
        "unet__random_state": 0,
    }


@pytest.fixture(scope="session")
def fitted_tiny(tiny_params):
    """A tiny pipeline fitted once per session (read-only for tests)."""
    from skdenoise import make_denoising_pipeline

    noisy, clean = noisy_pairs(seed=3, lengths=(12000, 9000, 15000))
    return make_denoising_pipeline(**tiny_params).fit(noisy, clean)
