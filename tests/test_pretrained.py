"""The shipped model: loads offline, is small, and denoises."""

import socket

import numpy as np
import pytest

from skdenoise import load_pretrained
from skdenoise.metrics import si_sdr
from skdenoise.pipeline import PRETRAINED_DIR, pretrained_path, read_model_meta, shipped_rates
from tests.conftest import syllables


@pytest.mark.parametrize("rate", sorted({8000, *shipped_rates()}))
def test_shipped_models_are_small_and_documented(rate):
    path = pretrained_path(rate)
    assert path.stat().st_size <= 8 * 1024 * 1024
    assert (PRETRAINED_DIR / "MODEL_CARD.md").exists()
    meta = read_model_meta(path)
    assert meta["params"]["load"]["sample_rate"] == rate
    assert meta["params"]["unet"].get("init_model") is None  # no path of the training machine


@pytest.mark.parametrize("rate", sorted({8000, *shipped_rates()}))
def test_loads_offline_and_improves_si_sdr(monkeypatch, rate):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pipe = load_pretrained(rate)
    rng = np.random.default_rng(0)
    clean = syllables("ba di gu ke po ta ko mi do re", rate=rate)
    noise = rng.standard_normal(len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (5 / 10))  # 5 dB
    noisy = clean + noise
    (enhanced,) = pipe.predict([noisy], sample_rate=rate)
    assert enhanced.shape == noisy.shape
    assert si_sdr(clean, enhanced) > si_sdr(clean, noisy) + 3.0
