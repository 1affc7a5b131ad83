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


@pytest.mark.parametrize("rate", sorted({8000, *shipped_rates()}))
def test_stored_presets_apply_and_hand_over_what_they_bypass(rate):
    from skdenoise.spectral import estimated_snr_db

    presets = read_model_meta(pretrained_path(rate))["presets"]
    assert "asr" in presets  # the model card and the guide document one for every rate
    rng = np.random.default_rng(1)
    clean = syllables("ba di gu ke po ta ko mi do re", rate=rate)
    noise = rng.standard_normal(len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2))  # 0 dB
    inputs = [clean + noise * 10 ** (-snr / 20) for snr in (-10.0, 40.0)]
    for name, preset in presets.items():
        pipe = load_pretrained(rate, preset=name)
        params = pipe.get_params()
        assert all(params[key] == value for key, value in preset.items()), name
        low = preset.get("rebuild__bypass_low_snr_db")
        high = preset.get("rebuild__bypass_snr_db")
        # The bypasses judge the preset's own network output (a preset may set the
        # strength), before any dry mix: the same pipeline with both bypasses and the dry
        # mix off.
        off = {"rebuild__bypass_snr_db": None, "rebuild__bypass_low_snr_db": None}
        plain_pipe = load_pretrained(rate, preset=name).set_params(**off, rebuild__dry=0.0)
        plain_outputs = plain_pipe.predict(inputs, sample_rate=rate)
        handed_over = 0
        outputs = pipe.predict(inputs, sample_rate=rate)
        for x, plain, out in zip(inputs, plain_outputs, outputs):
            snr = estimated_snr_db(plain, x)
            if (low is not None and snr < low) or (high is not None and snr >= high):
                np.testing.assert_array_equal(out, x.astype(np.float32))
                handed_over += 1
        assert handed_over == (low is not None) + (high is not None), name
