"""LiteRT inference: same output as TensorFlow, a disk cache, and no TensorFlow at start-up."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from conftest import noisy_pairs

from skdenoise import load_model, save_model
from skdenoise.compiled import LiteRTRunner, cache_dir, litert_available

pytestmark = pytest.mark.skipif(
    not litert_available(), reason="ai-edge-litert has no wheel for this platform"
)


@pytest.fixture
def model_file(fitted_tiny, tmp_path):
    path = tmp_path / "tiny.npz"
    save_model(fitted_tiny, path)
    return path


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SKDENOISE_CACHE_DIR", str(folder))
    return folder / "compiled"


def _cached(folder):
    return sorted(folder.glob("*.tflite")) if folder.is_dir() else []


def test_backends_agree_and_auto_runs_a_loaded_model_with_litert(model_file, own_cache):
    noisy, _ = noisy_pairs(seed=21, lengths=(20_000, 7000))
    lite = load_model(model_file)
    tf = load_model(model_file).set_params(unet__backend="tensorflow")
    assert lite.named_steps["unet"].model_.count_params() > 0  # building it changes nothing
    out_lite, out_tf = lite.predict(noisy, sample_rate=8000), tf.predict(noisy, sample_rate=8000)
    assert isinstance(lite.named_steps["unet"]._runner().fn, LiteRTRunner)
    assert not isinstance(tf.named_steps["unet"]._runner().fn, LiteRTRunner)
    for a, b in zip(out_lite, out_tf):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(_cached(own_cache)) == 1
    # A fitted model in memory keeps TensorFlow: it is loaded already, and a grid search
    # must not fill the cache with one file per fit.
    assert not isinstance(tf.named_steps["unet"]._runner().fn, LiteRTRunner)


def test_a_fitted_model_in_memory_runs_with_tensorflow(fitted_tiny, own_cache):
    fitted_tiny.predict(noisy_pairs(seed=22, lengths=(9000,))[0], sample_rate=8000)
    assert not isinstance(fitted_tiny.named_steps["unet"]._runner().fn, LiteRTRunner)
    assert _cached(own_cache) == []


def test_the_cache_is_used_and_a_damaged_entry_is_rebuilt(
    model_file, own_cache, monkeypatch, caplog
):
    noisy, _ = noisy_pairs(seed=23, lengths=(15_000,))
    first = load_model(model_file).predict(noisy, sample_rate=8000)[0]
    (entry,) = _cached(own_cache)

    import skdenoise.compiled as compiled

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted although the cache holds the network")

    with monkeypatch.context() as m:
        m.setattr(compiled, "convert", no_conversion)
        np.testing.assert_array_equal(
            load_model(model_file).predict(noisy, sample_rate=8000)[0], first
        )

    entry.write_bytes(entry.read_bytes()[:1000])  # truncated, as by a full disk
    with caplog.at_level(logging.WARNING, logger="skdenoise.compiled"):
        again = load_model(model_file).predict(noisy, sample_rate=8000)[0]
    assert "unusable" in caplog.text and str(entry) in caplog.text
    np.testing.assert_array_equal(again, first)
    assert entry.stat().st_size > 1000  # rewritten whole


def test_different_weights_get_different_entries(model_file, own_cache, tmp_path):
    pipe = load_model(model_file)
    unet = pipe.named_steps["unet"]
    weights = unet._network_weights()
    unet._restore_fitted(unet._fitted_state()[0], [w * 1.01 for w in weights])
    noisy, _ = noisy_pairs(seed=24, lengths=(9000,))
    changed = pipe.predict(noisy, sample_rate=8000)[0]
    base = load_model(model_file).predict(noisy, sample_rate=8000)[0]
    assert len(_cached(own_cache)) == 2
    assert not np.allclose(changed, base)


def test_an_unwritable_cache_costs_only_speed(model_file, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SKDENOISE_CACHE_DIR", str(blocker))  # compiled/ cannot be made in it
    noisy, _ = noisy_pairs(seed=25, lengths=(9000,))
    with caplog.at_level(logging.WARNING, logger="skdenoise.compiled"):
        out = load_model(model_file).predict(noisy, sample_rate=8000)[0]
    assert "could not cache" in caplog.text
    np.testing.assert_allclose(
        out,
        load_model(model_file)
        .set_params(unet__backend="tensorflow")
        .predict(noisy, sample_rate=8000)[0],
        atol=1e-5,
    )


def test_backend_errors_are_clear(model_file, monkeypatch):
    pipe = load_model(model_file).set_params(unet__backend="onnx")
    noisy, _ = noisy_pairs(seed=26, lengths=(9000,))
    with pytest.raises(ValueError, match="backend must be one of"):
        pipe.predict(noisy, sample_rate=8000)

    import skdenoise.compiled as compiled

    monkeypatch.setattr(compiled, "litert_available", lambda: False)
    with pytest.raises(ImportError, match="pip install ai-edge-litert"):
        load_model(model_file).set_params(unet__backend="litert").predict(noisy, sample_rate=8000)
    # auto falls back to TensorFlow where LiteRT is not installed
    out = load_model(model_file).predict(noisy, sample_rate=8000)[0]
    assert np.isfinite(out).all()


def test_a_pickled_loaded_model_still_predicts(model_file):
    pipe = load_model(model_file)
    noisy, _ = noisy_pairs(seed=27, lengths=(9000,))
    before = pipe.predict(noisy, sample_rate=8000)[0]
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict(noisy, sample_rate=8000)[0], before)


def test_denoising_a_file_with_a_cached_model_never_imports_tensorflow(model_file, tmp_path):
    import soundfile as sf

    src = tmp_path / "in.wav"
    sf.write(src, noisy_pairs(seed=28, lengths=(16_000,))[0][0], 8000)
    load_model(model_file).predict(
        noisy_pairs(seed=29, lengths=(8000,))[0], sample_rate=8000
    )  # fills the cache
    assert _cached(cache_dir())
    script = (
        "import sys\n"
        "from skdenoise.cli import main\n"
        f"code = main(['denoise', {str(src)!r}, '-o', {str(tmp_path / 'out.wav')!r}, "
        f"'--model', {str(model_file)!r}, '--no-progress'])\n"
        "assert code == 0, code\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
        "assert 'keras' not in sys.modules, 'Keras was imported'\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy()
    )
    assert run.returncode == 0, run.stderr
    assert "XNNPACK" not in run.stderr  # LiteRT's start-up line is kept off the terminal
    out, rate = sf.read(tmp_path / "out.wav")
    assert rate == 8000 and len(out) == 16_000


def test_interpreters_side_by_side_give_each_batch_its_own_output(model_file, own_cache):
    from concurrent.futures import ThreadPoolExecutor

    from skdenoise.runner import LITERT_BATCH, NetworkRunner

    unet = load_model(model_file).named_steps["unet"]
    runner = NetworkRunner(unet.architecture_, unet._network_weights(), backend="litert")
    assert runner.shape[0] == LITERT_BATCH
    content = next(iter(own_cache.glob("*.tflite"))).read_bytes()
    shape = runner.shape
    one = LiteRTRunner(content, shape, num_threads=1)
    many = LiteRTRunner(content, shape, num_threads=3, workers=3)
    assert (one.workers, many.workers) == (1, 3)
    assert LiteRTRunner(content, shape, num_threads=2, workers=5).workers == 2  # <= threads
    rng = np.random.default_rng(0)
    batches = [rng.normal(0, 1, shape).astype(np.float32) for _ in range(7)]
    expected = [one(b) for b in batches]
    assert not np.allclose(expected[0], expected[1])  # different inputs, different outputs
    for got, want in zip(many.map(batches), expected):  # in order
        np.testing.assert_array_equal(got, want)
    with ThreadPoolExecutor(4) as pool:  # calls from several threads at once
        for got, want in zip(pool.map(many, batches), expected):
            np.testing.assert_array_equal(got, want)
    # Through the runner: any number of frames, padded to whole batches inside.
    frames = np.concatenate(batches)[:5]
    np.testing.assert_allclose(runner(frames), np.concatenate(expected)[:5], atol=1e-6)
