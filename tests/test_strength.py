"""The prediction-time ``strength``: a factor on the network's attenuation in dB."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import soundfile as sf
from conftest import evaluate_folders, noisy_pairs, syllables, written_without
from sklearn.base import clone

from skdenoise import load_model, save_model
from skdenoise.cli import main
from skdenoise.fitting import checkpoint_params
from skdenoise.model import apply_noise_estimate
from skdenoise.pipeline import model_presets
from skdenoise.recipe import check_strength


@pytest.fixture
def model_path(fitted_tiny, tmp_path):
    return save_model(fitted_tiny, tmp_path / "m.npz")


def test_strength_scales_the_attenuation_within_the_bound():
    noisy = np.array([0.0, -10.0, -20.0, 5.0], np.float32)
    noise = np.array([4.0, 10.0, 15.0, 0.0], np.float32)
    out = apply_noise_estimate(noisy, noise, max_attenuation_db=20.0, strength=1.5)
    # 6, 15, 22.5 -> 20 (the bound), 0 dB removed
    np.testing.assert_allclose(out, [-6.0, -25.0, -40.0, 5.0])
    # as a gain mask: g -> g ** strength
    gain = 10 ** (-noise[:3] / 20)
    np.testing.assert_allclose(10 ** ((out[:2] - noisy[:2]) / 20), gain[:2] ** 1.5, rtol=1e-5)
    same = apply_noise_estimate(noisy, noise, max_attenuation_db=20.0)
    np.testing.assert_array_equal(
        apply_noise_estimate(noisy, noise, max_attenuation_db=20.0, strength=1.0), same
    )
    # 0 removes nothing
    np.testing.assert_array_equal(
        apply_noise_estimate(noisy, noise, max_attenuation_db=20.0, strength=0.0), noisy
    )


def test_denoise_frames_applies_the_strength(model_path):
    pipe = load_model(model_path).set_params(unet__backend="tensorflow")
    unet = pipe.named_steps["unet"]
    rng = np.random.default_rng(0)
    frames = rng.uniform(-60, 0, (2, *unet.settings_.frame_shape)).astype(np.float32)
    removed_1 = frames - unet.denoise_frames(frames)
    unet.set_params(strength=2.0)
    removed_2 = frames - unet.denoise_frames(frames)
    bound = unet.max_attenuation_db
    assert removed_1.max() > 0.5  # the test means something: the network attenuates
    np.testing.assert_allclose(removed_2, np.minimum(2 * removed_1, bound), atol=1e-3)


def test_predict_removes_more_with_a_higher_strength(model_path):
    noisy, _ = noisy_pairs(seed=5, lengths=(16000,))
    pipe = load_model(model_path).set_params(unet__backend="tensorflow")
    soft = pipe.set_params(unet__strength=0.5).predict(noisy, sample_rate=8000)[0]
    plain = pipe.set_params(unet__strength=1.0).predict(noisy, sample_rate=8000)[0]
    strong = pipe.set_params(unet__strength=2.0).predict(noisy, sample_rate=8000)[0]
    energy = [float(np.sum(x**2)) for x in (noisy[0], soft, plain, strong)]
    assert energy[0] > energy[1] > energy[2] > energy[3]


def test_strength_is_checked_and_a_plain_parameter(fitted_tiny, model_path):
    assert check_strength("1.5") == 1.5
    for bad in (-0.1, 4.5, "loud", None, float("nan")):
        with pytest.raises(ValueError, match="strength must be a number within"):
            check_strength(bad)
    pipe = load_model(model_path)
    pipe.set_params(unet__strength=9.0)
    with pytest.raises(ValueError, match="strength"):
        pipe.predict(noisy_pairs(lengths=(9000,))[0], sample_rate=8000)
    unet = clone(fitted_tiny.named_steps["unet"]).set_params(strength=1.7)
    assert clone(unet).strength == 1.7
    assert pickle.loads(pickle.dumps(unet)).strength == 1.7
    # prediction only: a checkpoint made at another strength can be resumed
    params = fitted_tiny.named_steps["unet"].get_params()
    assert checkpoint_params(params) == checkpoint_params({**params, "strength": 3.0})


def test_strength_travels_in_the_model_file_and_presets(fitted_tiny, tmp_path):
    pipe = load_model(save_model(fitted_tiny, tmp_path / "a.npz"))
    assert pipe.named_steps["unet"].strength == 1.0
    pipe.set_params(unet__strength=1.5)
    path = save_model(
        pipe,
        tmp_path / "b.npz",
        presets={"asr": {"rebuild__dry": 0.2, "unet__strength": 1.0}},
    )
    assert load_model(path).named_steps["unet"].strength == 1.5
    assert load_model(path, preset="asr").named_steps["unet"].strength == 1.0
    assert model_presets(path)["asr"]["unet__strength"] == 1.0
    # a file written before the parameter existed loads at 1
    old = written_without(path, "unet", "strength", tmp_path / "old.npz")
    assert load_model(old).named_steps["unet"].strength == 1.0


def test_the_command_line_overrides_the_strength(fitted_tiny, tmp_path, capsys):
    pipe = load_model(save_model(fitted_tiny, tmp_path / "a.npz"))
    path = save_model(pipe.set_params(unet__strength=2.0), tmp_path / "s2.npz")
    sf.write(tmp_path / "in.wav", syllables(rate=8000), 8000)
    base = ["denoise", str(tmp_path / "in.wav"), "--no-progress"]
    assert main([*base, "--model", str(path), "-o", str(tmp_path / "stored.wav")]) == 0
    assert (
        main(
            [
                *base,
                "--model",
                str(tmp_path / "a.npz"),
                "--strength",
                "2",
                "-o",
                str(tmp_path / "given.wav"),
            ]
        )
        == 0
    )
    assert main([*base, "--model", str(tmp_path / "a.npz"), "-o", str(tmp_path / "one.wav")]) == 0
    stored, _ = sf.read(tmp_path / "stored.wav")
    given, _ = sf.read(tmp_path / "given.wav")
    one, _ = sf.read(tmp_path / "one.wav")
    np.testing.assert_allclose(stored, given, atol=1e-6)
    assert np.sum(stored**2) < np.sum(one**2)
    capsys.readouterr()
    code = main([*base, "--model", str(path), "--strength", "7", "-o", str(tmp_path / "x.wav")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and not (tmp_path / "x.wav").exists()
    assert "strength" in err and len(err.splitlines()) == 1


def test_export_records_the_strength(fitted_tiny, tmp_path):
    pipe = load_model(save_model(fitted_tiny, tmp_path / "a.npz"))
    path = save_model(pipe.set_params(unet__strength=1.25), tmp_path / "s.npz")
    assert main(["export", str(path), "-o", str(tmp_path / "net.tflite")]) == 0
    info = json.loads((tmp_path / "net.tflite.json").read_text())
    assert info["strength"] == 1.25
    assert any("strength" in step for step in info["steps"])


def test_evaluate_takes_the_strength(fitted_tiny, tmp_path, capsys):
    path = str(save_model(fitted_tiny, tmp_path / "a.npz"))
    evaluate, per_file = evaluate_folders(tmp_path, path)

    def si_sdr(out):
        return [float(row["si_sdr_output"]) for row in per_file(out)]

    assert evaluate("one") == 0 and evaluate("two", "--strength", "2") == 0
    assert si_sdr("one") != si_sdr("two")
    capsys.readouterr()
    assert evaluate("bad", "--strength", "-1") != 0
    err = capsys.readouterr().err.strip()
    assert "strength" in err and len(err.splitlines()) == 1
