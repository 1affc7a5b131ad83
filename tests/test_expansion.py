"""The prediction-time ``expansion``: more attenuation where the network already attenuates
past the knee, none where it left the bins nearly whole."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import soundfile as sf
from conftest import noisy_pairs, syllables, written_without
from sklearn.base import clone

from skdenoise import load_model, save_model
from skdenoise.cli import main
from skdenoise.model import EXPANSION_KNEE_DB, apply_noise_estimate
from skdenoise.pipeline import model_presets
from skdenoise.recipe import check_expansion


@pytest.fixture
def model_path(fitted_tiny, tmp_path):
    return save_model(fitted_tiny, tmp_path / "m.npz")


def test_expansion_acts_above_the_knee_only_and_within_the_bound():
    assert EXPANSION_KNEE_DB == 10.0
    noisy = np.zeros(5, np.float32)
    noise = np.array([0.0, 6.0, 10.0, 16.0, 30.0], np.float32)
    out = apply_noise_estimate(noisy, noise, max_attenuation_db=40.0, expansion=0.5)
    # below and at the knee: as estimated; above: 16 + 0.5 * 6, 30 + 0.5 * 20 = 40 (bound)
    np.testing.assert_allclose(out, [0.0, -6.0, -10.0, -19.0, -40.0])
    np.testing.assert_array_equal(
        apply_noise_estimate(noisy, noise, max_attenuation_db=40.0, expansion=0.0),
        apply_noise_estimate(noisy, noise, max_attenuation_db=40.0),
    )
    # after the strength: 1.5 * 8 = 12 dB, 2 dB past the knee, 1 * 2 more
    out = apply_noise_estimate(noisy[:1], np.array([8.0]), strength=1.5, expansion=1.0)
    np.testing.assert_allclose(out, [-14.0])


def test_denoise_frames_applies_the_expansion(model_path):
    pipe = load_model(model_path).set_params(unet__backend="tensorflow")
    unet = pipe.named_steps["unet"]
    rng = np.random.default_rng(0)
    frames = rng.uniform(-60, 0, (2, *unet.settings_.frame_shape)).astype(np.float32)
    removed = frames - unet.denoise_frames(frames)
    unet.set_params(expansion=1.0)
    expanded = frames - unet.denoise_frames(frames)
    past = removed > EXPANSION_KNEE_DB
    bound = unet.max_attenuation_db or np.inf
    expected = np.minimum(removed + np.maximum(removed - EXPANSION_KNEE_DB, 0), bound)
    np.testing.assert_allclose(expanded, expected, atol=1e-3)
    assert past.mean() > 0.01  # the test means something: some bins are past the knee
    assert expanded[past].mean() > removed[past].mean()
    np.testing.assert_allclose(expanded[~past], removed[~past], atol=1e-3)


def test_expansion_is_checked_and_a_plain_parameter(fitted_tiny, model_path):
    assert check_expansion("0.5") == 0.5
    for bad in (-0.1, 4.5, "more", None, float("nan")):
        with pytest.raises(ValueError, match="expansion must be a number within"):
            check_expansion(bad)
    pipe = load_model(model_path).set_params(unet__expansion=9.0)
    with pytest.raises(ValueError, match="expansion"):
        pipe.predict(noisy_pairs(lengths=(9000,))[0], sample_rate=8000)
    unet = clone(fitted_tiny.named_steps["unet"]).set_params(expansion=0.7)
    assert clone(unet).expansion == 0.7
    assert pickle.loads(pickle.dumps(unet)).expansion == 0.7


def test_expansion_travels_in_the_model_file_presets_and_export(fitted_tiny, tmp_path):
    pipe = load_model(save_model(fitted_tiny, tmp_path / "a.npz"))
    assert pipe.named_steps["unet"].expansion == 0.0
    path = save_model(
        pipe.set_params(unet__expansion=0.5),
        tmp_path / "b.npz",
        presets={"asr": {"rebuild__dry": 0.2, "unet__expansion": 0.0}},
    )
    assert load_model(path).named_steps["unet"].expansion == 0.5
    assert load_model(path, preset="asr").named_steps["unet"].expansion == 0.0
    assert model_presets(path)["asr"]["unet__expansion"] == 0.0
    # a file written before the parameter existed loads at 0
    old = written_without(path, "unet", "expansion", tmp_path / "old.npz")
    assert load_model(old).named_steps["unet"].expansion == 0.0
    assert main(["export", str(path), "-o", str(tmp_path / "net.tflite")]) == 0
    info = json.loads((tmp_path / "net.tflite.json").read_text())
    assert info["expansion"] == 0.5 and info["expansion_knee_db"] == EXPANSION_KNEE_DB
    assert any("expansion" in step for step in info["steps"])


def test_the_command_line_overrides_the_expansion(fitted_tiny, tmp_path, capsys):
    pipe = load_model(save_model(fitted_tiny, tmp_path / "a.npz"))
    stored_path = save_model(pipe.set_params(unet__expansion=2.0), tmp_path / "e2.npz")
    sf.write(tmp_path / "in.wav", syllables(rate=8000), 8000)
    base = ["denoise", str(tmp_path / "in.wav"), "--no-progress"]
    a = str(tmp_path / "a.npz")
    assert main([*base, "--model", str(stored_path), "-o", str(tmp_path / "stored.wav")]) == 0
    assert main([*base, "--model", a, "--expansion", "2", "-o", str(tmp_path / "given.wav")]) == 0
    stored, _ = sf.read(tmp_path / "stored.wav")
    given, _ = sf.read(tmp_path / "given.wav")
    np.testing.assert_allclose(stored, given, atol=1e-6)
    capsys.readouterr()
    bad = ["--model", a, "--expansion", "-1", "-o", str(tmp_path / "x.wav")]
    code = main([*base, *bad])
    err = capsys.readouterr().err.strip()
    assert code != 0 and not (tmp_path / "x.wav").exists()
    assert "expansion" in err and len(err.splitlines()) == 1
