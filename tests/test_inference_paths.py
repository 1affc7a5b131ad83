"""`skdenoise denoise`, `pipe.predict`, `denoise_file` and `evaluate` give the same samples
for the same file and settings (the two engines are one path for recordings up to
``chunk_seconds``; longer ones are chunked by `denoise`, with the same result to float
rounding)."""

import numpy as np
import soundfile as sf

from skdenoise import read_audio, save_model
from skdenoise.cli import main
from skdenoise.evaluation import evaluate
from skdenoise.metrics import si_sdr
from skdenoise.streaming import Denoiser, denoise_file
from tests.conftest import RATE, harmonic


def test_cli_predict_denoise_file_and_evaluate_agree(tmp_path, fitted_tiny):
    rng = np.random.default_rng(4)
    clean = harmonic(3 * RATE + 123, rng)
    noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32)
    src = tmp_path / "noisy.wav"
    sf.write(src, noisy, RATE, subtype="FLOAT")  # float in, float out: no quantisation
    model = str(save_model(fitted_tiny, tmp_path / "tiny.npz"))

    assert main(["denoise", str(src), "-o", str(tmp_path / "cli.wav"), "--model", model,
                 "--no-progress"]) == 0  # fmt: skip
    from_cli, rate = read_audio(tmp_path / "cli.wav")
    from skdenoise import load_model

    pipe = load_model(model)
    from_predict = pipe.predict([str(src)], sample_rate=8000)[0]
    from_file = read_audio(denoise_file(pipe, src, tmp_path / "file.wav"))[0]
    chunked = Denoiser(pipe, chunk_seconds=1.0).denoise_array(noisy)

    assert rate == RATE and len(from_cli) == len(noisy)
    np.testing.assert_allclose(from_cli, from_predict, atol=1e-5)
    np.testing.assert_allclose(from_file, from_predict, atol=1e-5)
    np.testing.assert_allclose(chunked, from_predict, atol=1e-5)

    item = {"name": "x", "noisy": str(src), "clean": clean, "transcript": "",
            "snr_db": 10.0, "noise_type": "white"}  # fmt: skip
    row = evaluate([item], pipe, sample_rate=RATE, asr=False).rows[0]
    # evaluate scores what the command line writes
    assert np.isclose(row["si_sdr_output"], si_sdr(clean, from_cli), atol=1e-3)


# ---- the model file straight into an engine (what `skdenoise denoise` runs)


def _tiny_file(tmp_path, fitted_tiny, *, drop=()):
    """The tiny pipeline saved with a preset; ``drop``: step parameters to remove from the
    file, as in a file saved before they existed."""
    from skdenoise.modelfile import read_model_meta, read_model_weights, write_model_file

    presets = {"asr": {"rebuild__dry": 0.3, "rebuild__bypass_snr_db": 9.0, "unet__strength": 0.8}}
    path = save_model(fitted_tiny, tmp_path / "tiny.npz", presets=presets)
    if drop:
        meta = read_model_meta(path)
        weights = read_model_weights(path, meta)
        for key in drop:
            step, name = key.split("__")
            del meta["params"][step][name]
        path = write_model_file(tmp_path / "old.npz", meta, weights)
    return path


def test_model_file_engine_gives_the_pipelines_samples(tmp_path, fitted_tiny):
    from skdenoise import load_model
    from skdenoise.inference import FrameDenoiser, model_engine
    from skdenoise.pipeline import engine_for

    rng = np.random.default_rng(7)
    recordings = [
        (harmonic(n, rng) + 0.05 * rng.standard_normal(n)).astype(np.float32)
        for n in (900, 9000, 40000)
    ]
    old = _tiny_file(tmp_path, fitted_tiny, drop=("unet__expansion", "rebuild__bypass_low_snr_db"))
    path = _tiny_file(tmp_path, fitted_tiny)
    cases = [
        (path, None, {}),
        (path, "asr", {}),
        (path, "asr", {"strength": 1.4, "dry": 0.1, "bypass_low_snr_db": 3.0}),
        (path, None, {"expansion": 0.5, "bypass_ramp_db": 0.0}),
        (old, None, {}),
    ]
    for model, preset, overrides in cases:
        pipe = load_model(model, preset=preset)
        unet = {k: overrides[k] for k in ("strength", "expansion") if k in overrides}
        pipe.set_params(**{f"unet__{k}": v for k, v in unet.items()})
        rebuild = {k: v for k, v in overrides.items() if k not in unet}
        expected = engine_for(pipe, chunk_seconds=2.0, **rebuild).denoise(recordings)
        engine = model_engine(model, preset=preset, chunk_seconds=2.0, **overrides)
        assert isinstance(engine.denoise_frames, FrameDenoiser)
        got = engine.denoise(recordings)
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)
    # the preset is applied, and the file's settings reach the engine
    engine = model_engine(path, preset="asr")
    assert (engine.dry, engine.bypass_snr_db, engine.denoise_frames.strength) == (0.3, 9.0, 0.8)
    assert engine.denoise_frames.expansion == 0.0  # the default where the file lacks it
    assert model_engine(old).bypass_low_snr_db is None


def test_model_file_denoiser_pickles_and_runs_in_workers(tmp_path, fitted_tiny):
    import pickle

    rng = np.random.default_rng(8)
    path = _tiny_file(tmp_path, fitted_tiny)
    denoiser = Denoiser.from_model_file(path, preset="asr")
    x = (harmonic(20000, rng) + 0.05 * rng.standard_normal(20000)).astype(np.float32)
    copy = pickle.loads(pickle.dumps(denoiser))
    np.testing.assert_array_equal(copy.denoise_array(x), denoiser.denoise_array(x))
    sources = []
    for k in range(3):
        sources.append(tmp_path / f"in{k}.wav")
        sf.write(sources[-1], x[: 9000 + 3000 * k], RATE, subtype="FLOAT")
    pairs = [(s, tmp_path / f"out-{s.name}") for s in sources]
    results = denoiser.denoise_files(pairs, n_jobs=2)
    assert not [r.error for r in results if r.error]
    for src, dst in pairs:
        np.testing.assert_allclose(
            read_audio(dst)[0], denoiser.denoise_array(read_audio(src)[0]), atol=1e-6
        )


def test_model_file_engine_names_a_bad_preset_or_setting(tmp_path, fitted_tiny):
    import pytest

    from skdenoise.inference import model_engine

    path = _tiny_file(tmp_path, fitted_tiny)
    with pytest.raises(ValueError, match=r"tiny\.npz: no preset 'loud'.*\['asr'\]"):
        model_engine(path, preset="loud")
    with pytest.raises(ValueError, match="strength must be a number within"):
        model_engine(path, strength=9)
    with pytest.raises(ValueError, match="dry"):
        model_engine(path, dry=1.5)
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz: no such model file"):
        model_engine(tmp_path / "nothing.npz")


def test_denoise_command_imports_neither_scikit_learn_nor_tensorflow(tmp_path, fitted_tiny):
    """With LiteRT and its compiled network cached, `skdenoise denoise` starts without the
    two heavy imports (the pipeline's path imports scikit-learn)."""
    import os
    import subprocess
    import sys

    import pytest

    from skdenoise.compiled import litert_available
    from skdenoise.inference import model_engine

    if not litert_available():
        pytest.skip("ai-edge-litert has no wheel for this platform")
    path = _tiny_file(tmp_path, fitted_tiny)
    model_engine(path, backend="litert")  # fills the compiled-network cache (TensorFlow)
    src = tmp_path / "in.wav"
    sf.write(src, harmonic(12000, np.random.default_rng(9)), RATE)
    script = (
        "import sys\n"
        "from skdenoise.cli import main\n"
        f"code = main(['denoise', {str(src)!r}, '-o', {str(tmp_path / 'out.wav')!r}, "
        f"'--model', {str(path)!r}, '--engine', 'litert', '--no-progress'])\n"
        "print(code, 'sklearn' in sys.modules, 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stderr[-2000:]
    assert len(read_audio(tmp_path / "out.wav")[0]) == 12000
