"""Shared fixtures: small synthetic audio made here, never read from ../shared/data."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

RATE = 8000


def harmonic(n_samples: int, rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    """A speech-like signal: a few harmonics of a random pitch, switched on and off."""
    t = np.arange(n_samples) / rate
    f0 = rng.uniform(120, 250)
    signal = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 6))
    envelope = 0.1 + 0.9 * (np.sin(2 * np.pi * rng.uniform(1, 3) * t) > 0)
    return (0.1 * signal * envelope).astype(np.float32)


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


@pytest.fixture(scope="session")
def tiny_params():
    """Parameters of a tiny, fast U-Net for tests."""
    return {
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
