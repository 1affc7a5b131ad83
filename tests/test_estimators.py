"""scikit-learn behaviour of every estimator and of the pipeline."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skdenoise import (
    LogSpectrogram,
    PhaseKeeper,
    UNetNoiseRegressor,
    WaveformLoader,
    WaveformRebuilder,
    make_denoising_pipeline,
)
from skdenoise.batch import WaveformList
from tests.conftest import noisy_pairs, written_without

ESTIMATORS = [
    WaveformLoader(array_rate=8000),
    PhaseKeeper(),
    LogSpectrogram(),
    UNetNoiseRegressor(),
    WaveformRebuilder(),
]
CHECKS = [
    check_no_attributes_set_in_init,
    check_get_params_invariance,
    check_set_params,
    check_parameters_default_constructible,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def test_pipeline_steps_and_clone():
    pipe = make_denoising_pipeline(load__array_rate=8000, unet__filters=8, rebuild__dry=0.2)
    assert [name for name, _ in pipe.steps] == ["load", "phase", "spec", "unet", "rebuild"]
    cloned = clone(pipe)
    assert cloned.get_params()["unet__filters"] == 8
    assert cloned.get_params()["rebuild__dry"] == 0.2
    assert cloned.named_steps["unet"] is not pipe.named_steps["unet"]


def test_tiny_unet_learns_to_lower_mse():
    # A real learning test with a fixed seed: the trained pipeline beats the noisy input.
    noisy, clean = noisy_pairs(seed=0)
    pipe = make_denoising_pipeline(
        load__array_rate=8000,
        unet__filters=4,
        unet__depth=2,
        unet__epochs=10,
        unet__batch_size=4,
        unet__learning_rate=1e-2,
        unet__max_attenuation_db=20.0,
        unet__validation_fraction=0.0,
        unet__early_stopping=False,
        unet__random_state=0,
    )
    pipe.fit(noisy, clean)
    enhanced = pipe.predict(noisy, sample_rate=8000)
    mse_noisy = np.mean([np.mean((n - c) ** 2) for n, c in zip(noisy, clean)])
    mse_enhanced = np.mean([np.mean((e - c) ** 2) for e, c in zip(enhanced, clean)])
    assert mse_enhanced < 0.9 * mse_noisy
    history = pipe.named_steps["unet"].history_["loss"]
    assert history[-1] < history[0]


def test_predict_returns_float32_arrays_of_input_lengths(fitted_tiny):
    noisy, _ = noisy_pairs(seed=5, lengths=(100, 8063, 8064, 8065, 30_000))
    out = fitted_tiny.predict(noisy, sample_rate=8000)
    assert isinstance(out, WaveformList) and isinstance(out, list)
    assert out.sample_rate == 8000
    assert [o.shape for o in out] == [(len(n),) for n in noisy]
    assert all(o.dtype == np.float32 for o in out)
    assert all(np.isfinite(o).all() for o in out)


def test_paths_and_arrays_are_the_same_input(tmp_path, tiny_params):
    from skdenoise import write_wav

    noisy, clean = noisy_pairs(seed=4, lengths=(9000, 11000, 10000))
    noisy_paths, clean_paths = [], []
    for i, (n, c) in enumerate(zip(noisy, clean)):
        noisy_paths.append(write_wav(tmp_path / f"n{i}.wav", n, 8000, subtype="FLOAT"))
        clean_paths.append(str(write_wav(tmp_path / f"c{i}.wav", c, 8000, subtype="FLOAT")))
    # Paths (PathLike and str) and arrays load to the same batch, targets included...
    from_paths = WaveformLoader(array_rate=8000).fit_transform(noisy_paths, clean_paths)
    from_arrays = WaveformLoader(array_rate=8000).fit_transform(noisy, clean)
    for a, b in zip(
        from_paths.waveforms + from_paths.targets, from_arrays.waveforms + from_arrays.targets
    ):
        np.testing.assert_array_equal(a, b)
    # ...a pipeline fits from paths, and predicts the same from paths as from arrays.
    pipe = make_denoising_pipeline(**tiny_params).fit(noisy_paths, clean_paths)
    for x, y in zip(
        pipe.predict(noisy_paths, sample_rate=8000), pipe.predict(noisy, sample_rate=8000)
    ):
        np.testing.assert_array_equal(x, y)


def test_pickle_round_trip_gives_identical_predictions(fitted_tiny):
    noisy, _ = noisy_pairs(seed=6, lengths=(9000, 20000))
    before = fitted_tiny.predict(noisy, sample_rate=8000)
    restored = pickle.loads(pickle.dumps(fitted_tiny))
    after = restored.predict(noisy, sample_rate=8000)
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    assert restored.named_steps["unet"].history_ == fitted_tiny.named_steps["unet"].history_


def test_save_and_load_model_file(fitted_tiny, tmp_path):
    from skdenoise import load_model, save_model

    noisy, _ = noisy_pairs(seed=7, lengths=(9000,))
    path = save_model(fitted_tiny, tmp_path / "model")
    assert path.suffix == ".npz"
    loaded = load_model(path)
    same_backend = load_model(path).set_params(unet__backend="tensorflow")
    expected = fitted_tiny.predict(noisy, sample_rate=8000)[0]
    np.testing.assert_array_equal(
        expected, same_backend.predict(noisy, sample_rate=8000)[0]
    )  # file is exact
    np.testing.assert_allclose(
        expected, loaded.predict(noisy, sample_rate=8000)[0], atol=1e-5
    )  # LiteRT
    assert loaded.get_params()["unet__filters"] == 4
    half = load_model(save_model(fitted_tiny, tmp_path / "half.npz", dtype="float16"))
    np.testing.assert_allclose(
        half.predict(noisy, sample_rate=8000)[0],
        loaded.predict(noisy, sample_rate=8000)[0],
        atol=1e-2,
    )


def test_predict_is_reentrant_across_threads(fitted_tiny):
    from concurrent.futures import ThreadPoolExecutor

    noisy, _ = noisy_pairs(seed=8, lengths=(9000, 17000, 12000, 8000))
    expected = [fitted_tiny.predict([n], sample_rate=8000)[0] for n in noisy]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda n: fitted_tiny.predict([n], sample_rate=8000)[0], noisy * 2))
    for e, g in zip(expected * 2, got):
        np.testing.assert_allclose(e, g, atol=1e-6)


def test_grid_search_in_two_worker_processes(tiny_params):
    noisy, clean = noisy_pairs(seed=1, lengths=(9000, 10000, 11000, 12000))
    params = {**tiny_params, "unet__epochs": 1}
    search = GridSearchCV(
        make_denoising_pipeline(**params),
        {"unet__filters": [4, 8], "rebuild__dry": [0.0, 0.3]},
        cv=2,
        n_jobs=2,
    )
    search.fit(noisy, clean)
    assert set(search.best_params_) == {"unet__filters", "rebuild__dry"}
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()
    # The default score is SI-SDR in dB against the clean reference.
    assert search.score(noisy, clean) == pytest.approx(search.best_estimator_.score(noisy, clean))


def test_same_seed_same_model(tiny_params):
    # TensorFlow's CPU kernels are not bit-deterministic, so weights agree closely, not
    # exactly; different seeds give clearly different initial weights.
    noisy, clean = noisy_pairs(seed=2, lengths=(9000, 10000))
    a = make_denoising_pipeline(**tiny_params).fit(noisy, clean)
    b = make_denoising_pipeline(**tiny_params).fit(noisy, clean)
    c = make_denoising_pipeline(**{**tiny_params, "unet__random_state": 1}).fit(noisy, clean)
    wa, wb, wc = (p.named_steps["unet"].model_.get_weights()[0] for p in (a, b, c))
    np.testing.assert_allclose(wa, wb, atol=1e-3)
    assert np.abs(wa - wc).max() > 1e-2


def test_xla_and_plain_graphs_agree(fitted_tiny, monkeypatch):
    # The suite runs with SKDENOISE_NO_JIT=1 for speed; this checks the XLA path users get.
    noisy, _ = noisy_pairs(seed=11, lengths=(9000, 20000))
    plain = fitted_tiny.predict(noisy, sample_rate=8000)
    monkeypatch.delenv("SKDENOISE_NO_JIT", raising=False)
    jitted = pickle.loads(pickle.dumps(fitted_tiny))  # a fresh, not yet compiled graph
    for a, b in zip(plain, jitted.predict(noisy, sample_rate=8000)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    noisy_fit, clean_fit = noisy_pairs(seed=12, lengths=(9000, 10000))
    make_denoising_pipeline(
        load__array_rate=8000,
        unet__filters=4,
        unet__depth=2,
        unet__epochs=1,
        unet__validation_fraction=0.0,
    ).fit(noisy_fit, clean_fit)  # XLA-compiled training runs


def test_magnitude_loss_values():
    from skdenoise.model import MAGNITUDE_EXPONENT, magnitude_loss

    loss = magnitude_loss(10.0)
    y_true = np.stack([np.full((1, 2, 2), -10.0), np.full((1, 2, 2), -20.0)], -1)
    exact = np.full((1, 2, 2, 1), 1.0, np.float32)  # 10 dB of noise removed: the clean dB
    assert float(np.asarray(loss(y_true.astype(np.float32), exact))[0]) < 1e-10
    k = MAGNITUDE_EXPONENT * np.log(10) / 20
    nothing = np.zeros((1, 2, 2, 1), np.float32)
    expected = (np.exp(-10 * k) - np.exp(-20 * k)) ** 2
    np.testing.assert_allclose(
        np.asarray(loss(y_true.astype(np.float32), nothing)), [expected], rtol=1e-5
    )


def test_over_suppression_weight_charges_speech_removed_more():
    """The asymmetric loss: an estimate d below the clean speech costs w times what the
    same d above it costs (below 1: noise left costs more); w = 1 is the symmetric loss,
    unchanged."""
    from skdenoise.model import magnitude_loss

    # noisy -10 dB, clean -20 dB; outputs of 0.5 and 1.5 (x 10 dB) leave the estimate
    # 5 dB above and 5 dB below the clean speech
    y_true = np.stack([np.full((1, 2, 2), -10.0), np.full((1, 2, 2), -20.0)], -1)
    y_true = y_true.astype(np.float32)
    left = np.full((1, 2, 2, 1), 0.5, np.float32)  # 5 dB removed: noise left
    removed = np.full((1, 2, 2, 1), 1.5, np.float32)  # 15 dB removed: speech removed
    k = 0.6 * np.log(10) / 20
    clean = np.exp(-20 * k)
    above = (np.exp(-15 * k) - clean) ** 2
    below = (np.exp(-25 * k) - clean) ** 2
    symmetric = magnitude_loss(10.0, exponent=0.6)
    asymmetric = magnitude_loss(10.0, exponent=0.6, over_suppression_weight=4.0)
    reverse = magnitude_loss(10.0, exponent=0.6, over_suppression_weight=0.25)
    for loss, weight in ((symmetric, 1.0), (asymmetric, 4.0), (reverse, 0.25)):
        np.testing.assert_allclose(np.asarray(loss(y_true, left)), [above], rtol=1e-5)
        np.testing.assert_allclose(np.asarray(loss(y_true, removed)), [weight * below], rtol=1e-5)


def test_gain_mask_parameterisation_learns_and_stays_bounded():
    noisy, clean = noisy_pairs(seed=0)
    pipe = make_denoising_pipeline(
        load__array_rate=8000,
        unet__filters=4,
        unet__depth=2,
        unet__epochs=10,
        unet__batch_size=4,
        unet__learning_rate=1e-2,
        unet__max_attenuation_db=20.0,
        unet__output_activation="sigmoid",
        unet__validation_fraction=0.0,
        unet__early_stopping=False,
        unet__random_state=0,
    ).fit(noisy, clean)
    unet = pipe.named_steps["unet"]
    assert unet.target_scale_ == 20.0
    batch = pipe[:3].transform(noisy[:2])
    frames = np.concatenate(batch.frames)
    removed = frames - unet.denoise_frames(frames)
    assert removed.min() >= -1e-4 and removed.max() <= 20.0 + 1e-4  # attenuates, bounded
    enhanced = pipe.predict(noisy, sample_rate=8000)
    mse = [np.mean((e - c) ** 2) / np.mean((n - c) ** 2) for e, c, n in zip(enhanced, clean, noisy)]
    assert np.mean(mse) < 0.9
    with pytest.raises(ValueError, match="max_attenuation_db"):
        make_denoising_pipeline(load__array_rate=8000, unet__output_activation="sigmoid").fit(
            noisy[:1], clean[:1]
        )


def test_magnitude_loss_trains_in_the_pipeline(monkeypatch):
    import skdenoise.fitting as regressor_module

    exponents, weights = [], []
    real = regressor_module.magnitude_loss

    def spy(*args, **kwargs):
        exponents.append(kwargs.get("exponent"))
        weights.append(kwargs.get("over_suppression_weight"))
        return real(*args, **kwargs)

    monkeypatch.setattr(regressor_module, "magnitude_loss", spy)
    noisy, clean = noisy_pairs(seed=0, lengths=(9000, 12000, 10000))
    pipe = make_denoising_pipeline(
        load__array_rate=8000,
        unet__magnitude_exponent=0.7,
        unet__over_suppression_weight=3.0,
        unet__filters=4,
        unet__depth=2,
        unet__epochs=2,
        unet__batch_size=4,
        unet__max_attenuation_db=30.0,
        unet__output_activation="sigmoid",
        unet__loss="magnitude",
        unet__validation_fraction=0.0,
        unet__random_state=0,
    ).fit(noisy, clean)
    history = pipe.named_steps["unet"].history_["loss"]
    assert len(history) == 2 and all(np.isfinite(history))
    assert exponents == [0.7] and weights == [3.0]
    assert pipe.predict(noisy[:1], sample_rate=8000)[0].shape == (9000,)


def test_learning_rate_halves_after_epochs_without_improvement(tiny_params):
    """The rate recorded per epoch follows the rule: halve after every
    ``lr_reduce_patience`` epochs without a new best (training loss here)."""
    from skdenoise import make_denoising_pipeline

    noisy, clean = noisy_pairs(seed=5, lengths=(9000, 12000))
    params = {
        **tiny_params,
        "unet__epochs": 8,
        "unet__learning_rate": 0.5,  # too large: the loss stalls and the rate must drop
        "unet__early_stopping": False,
        "unet__lr_reduce_patience": 1,
    }
    pipe = make_denoising_pipeline(**params).fit(noisy, clean)
    history = pipe.named_steps["unet"].history_
    expected, rate, best = [], 0.5, np.inf
    for loss in history["loss"]:
        if loss < best:
            best = loss
        else:
            rate = max(rate / 2, 1e-5)
        expected.append(rate)
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-6)
    assert min(expected) < 0.5  # the stalled run did trigger a reduction


def test_snr_bypass_passes_clean_input_and_denoises_noisy_input(fitted_tiny):
    from skdenoise.spectral import estimated_snr_db

    (x,), _ = noisy_pairs(seed=21, lengths=(16000,))
    plain = fitted_tiny.predict([x], sample_rate=8000)[0]
    snr = estimated_snr_db(plain, x)
    pipe = pickle.loads(pickle.dumps(fitted_tiny))  # a fitted copy to set parameters on
    outputs = {}
    for bypass in (snr - 1.0, snr + 2.5, snr + 10.0, None):
        pipe.set_params(rebuild__bypass_snr_db=bypass)
        outputs[bypass] = pipe.predict([x], sample_rate=8000)[0]
    np.testing.assert_allclose(outputs[snr - 1.0], x, atol=1e-6)  # judged clean: untouched
    np.testing.assert_allclose(outputs[snr + 2.5], 0.5 * (x + plain), atol=1e-5)  # halfway
    np.testing.assert_array_equal(outputs[snr + 10.0], plain)  # judged noisy: denoised
    np.testing.assert_array_equal(outputs[None], plain)
    assert np.max(np.abs(plain - x)) > 1e-2  # the denoiser does change this input


def test_bypass_ramp_width_is_a_parameter_of_the_rebuild_step(fitted_tiny):
    from sklearn.base import clone

    from skdenoise.spectral import estimated_snr_db

    (x,), _ = noisy_pairs(seed=21, lengths=(16000,))
    plain = fitted_tiny.predict([x], sample_rate=8000)[0]
    snr = estimated_snr_db(plain, x)
    pipe = pickle.loads(pickle.dumps(fitted_tiny))
    assert pipe.named_steps["rebuild"].bypass_ramp_db == 5.0  # the old fixed fade
    assert clone(pipe.named_steps["rebuild"].set_params(bypass_ramp_db=2.0)).bypass_ramp_db == 2
    # 1 dB above the estimate: halfway up a 2 dB ramp, fully processed with a hard switch
    pipe.set_params(rebuild__bypass_snr_db=snr + 1.0, rebuild__bypass_ramp_db=2.0)
    np.testing.assert_allclose(pipe.predict([x], sample_rate=8000)[0], 0.5 * (x + plain), atol=1e-5)
    pipe.set_params(rebuild__bypass_ramp_db=0.0)
    np.testing.assert_array_equal(pipe.predict([x], sample_rate=8000)[0], plain)
    pipe.set_params(rebuild__bypass_snr_db=snr - 0.01)  # at or above the threshold: the input
    np.testing.assert_array_equal(pipe.predict([x], sample_rate=8000)[0], x.astype(np.float32))
    pipe.set_params(rebuild__bypass_ramp_db=-1.0)
    with pytest.raises(ValueError, match="bypass_ramp_db"):
        pipe.predict([x], sample_rate=8000)


def test_low_snr_bypass_hands_over_what_it_judges_too_noisy(fitted_tiny):
    from sklearn.base import clone

    from skdenoise.spectral import estimated_snr_db

    (x,), _ = noisy_pairs(seed=21, lengths=(16000,))
    plain = fitted_tiny.predict([x], sample_rate=8000)[0]
    snr = estimated_snr_db(plain, x)
    pipe = pickle.loads(pickle.dumps(fitted_tiny))
    assert pipe.named_steps["rebuild"].bypass_low_snr_db is None  # off by default
    assert clone(pipe.named_steps["rebuild"].set_params(bypass_low_snr_db=1.5)).bypass_low_snr_db
    pipe.set_params(rebuild__bypass_low_snr_db=snr + 0.01)  # judged below it: the input
    np.testing.assert_array_equal(pipe.predict([x], sample_rate=8000)[0], x.astype(np.float32))
    pipe.set_params(rebuild__bypass_low_snr_db=snr - 0.01)  # at or above it: processed
    np.testing.assert_array_equal(pipe.predict([x], sample_rate=8000)[0], plain)
    pipe.set_params(rebuild__dry=0.5)  # and the dry mix still applies there
    np.testing.assert_allclose(pipe.predict([x], sample_rate=8000)[0], 0.5 * (x + plain), atol=1e-5)
    assert np.max(np.abs(plain - x)) > 1e-2  # the denoiser does change this input


def test_model_file_keeps_the_low_snr_bypass_and_a_preset_may_set_it(fitted_tiny, tmp_path):
    from skdenoise import load_model, save_model

    pipe = pickle.loads(pickle.dumps(fitted_tiny)).set_params(rebuild__bypass_low_snr_db=-1.5)
    path = save_model(
        pipe, tmp_path / "m.npz", presets={"asr": {"rebuild__bypass_low_snr_db": 2.5}}
    )
    assert load_model(path).named_steps["rebuild"].bypass_low_snr_db == -1.5
    assert load_model(path, preset="asr").named_steps["rebuild"].bypass_low_snr_db == 2.5
    # a file written before the parameter existed loads with it off
    old = written_without(path, "rebuild", "bypass_low_snr_db", tmp_path / "old.npz")
    assert load_model(old).named_steps["rebuild"].bypass_low_snr_db is None


def test_model_file_keeps_the_snr_bypass(fitted_tiny, tmp_path):
    from skdenoise import load_model, save_model

    pipe = pickle.loads(pickle.dumps(fitted_tiny)).set_params(rebuild__bypass_snr_db=12.5)
    loaded = load_model(save_model(pipe, tmp_path / "m.npz"))
    assert loaded.named_steps["rebuild"].bypass_snr_db == 12.5


def test_warm_start_begins_from_the_given_model(fitted_tiny, tiny_params, tmp_path):
    from skdenoise import save_model

    source = save_model(fitted_tiny, tmp_path / "start.npz")
    start = fitted_tiny.named_steps["unet"]
    noisy, clean = noisy_pairs(seed=30, lengths=(9000, 11000))
    pipe = make_denoising_pipeline(**tiny_params).set_params(
        unet__init_model=str(source), unet__epochs=1, unet__learning_rate=1e-12
    )
    pipe.fit(noisy, clean)
    warm = pipe.named_steps["unet"]
    for a, b in zip(warm.model_.get_weights(), start.model_.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)  # a learning rate of 1e-12 moves nothing
    assert (warm.input_mean_, warm.input_scale_, warm.target_scale_) == (
        start.input_mean_,
        start.input_scale_,
        start.target_scale_,
    )
    cold = make_denoising_pipeline(**tiny_params).set_params(
        unet__epochs=1, unet__learning_rate=1e-12
    )
    cold.fit(noisy, clean)
    differ = [
        np.max(np.abs(a - b))
        for a, b in zip(cold.named_steps["unet"].model_.get_weights(), start.model_.get_weights())
    ]
    assert max(differ) > 1e-2  # without it, the network starts elsewhere


def test_warm_start_takes_another_frame_size(fitted_tiny, tiny_params, tmp_path):
    # A 16 kHz network with twice the STFT (256 bins as wide as the 8 kHz one's 128) starts
    # from the 8 kHz weights: no weight's shape depends on the frame's size.
    from skdenoise import save_model

    source = save_model(fitted_tiny, tmp_path / "start.npz")
    noisy, clean = noisy_pairs(seed=32, lengths=(18000, 22000))
    pipe = make_denoising_pipeline(**tiny_params).set_params(
        load__array_rate=16000,
        spec__n_fft=510,
        spec__hop_length=126,
        spec__frame_length=16128,
        unet__init_model=str(source),
        unet__epochs=1,
        unet__learning_rate=1e-12,
    )
    pipe.fit(noisy, clean)
    warm = pipe.named_steps["unet"]
    assert warm.architecture_["n_freq"] == 256
    assert fitted_tiny.named_steps["unet"].architecture_["n_freq"] == 128
    for a, b in zip(
        warm.model_.get_weights(), fitted_tiny.named_steps["unet"].model_.get_weights()
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)
    out = pipe.predict(noisy, sample_rate=16000)
    assert [len(y) for y in out] == [len(x) for x in noisy]


def test_warm_start_refuses_another_architecture(fitted_tiny, tiny_params, tmp_path):
    from skdenoise import save_model

    source = save_model(fitted_tiny, tmp_path / "start.npz")
    pipe = make_denoising_pipeline(**tiny_params).set_params(
        unet__init_model=str(source), unet__filters=6
    )
    noisy, clean = noisy_pairs(seed=31, lengths=(9000, 11000))
    with pytest.raises(ValueError, match=r"start\.npz: cannot start from this model.*filters"):
        pipe.fit(noisy, clean)


def _waveform_loss_frame(seed: int):
    """One 1.008 s mixture at 8 kHz as the waveform losses see it: the STFT settings, the
    noisy samples (a one-item list), the noisy and clean log-magnitudes, the noisy phase, and
    the 4-channel target that training builds (``Scales.training_pair``)."""
    from skdenoise.model import Scales
    from skdenoise.spectral import SpectralSettings, analyse, phase_frames

    settings = SpectralSettings(sample_rate=8000)
    noisy, clean = noisy_pairs(seed=seed, lengths=(8064,))
    noisy_db, phase = analyse(noisy[0], settings)
    clean_db, _ = analyse(clean[0], settings)
    _, y_true = Scales(0.0, 1.0, 1.0).training_pair(
        noisy_db, clean_db, phase_frames(phase, settings), loss="si_sdr", max_attenuation_db=None
    )
    return settings, noisy, noisy_db, clean_db, phase, y_true


def test_waveform_si_sdr_loss_rebuilds_the_signal_and_trains(tiny_params):
    """The loss's inverse STFT is the package's: the clean magnitude scores a high SI-SDR;
    and a pipeline trains with it, in memory and from a stream."""
    import tensorflow as tf

    from skdenoise.model import si_sdr_loss

    settings, noisy, noisy_db, clean_db, phase, y_true = _waveform_loss_frame(seed=7)
    loss = si_sdr_loss(10.0, n_fft=settings.n_fft, hop_length=settings.hop_length)
    exact = (noisy_db - clean_db)[..., None] / 10.0  # the noise that leaves the clean magnitude
    nothing = np.zeros_like(exact)
    perfect = float(loss(tf.constant(y_true), tf.constant(exact))[0])
    as_is = float(loss(tf.constant(y_true), tf.constant(nothing))[0])
    assert perfect < as_is - 5.0  # removing the noise's magnitude gains SI-SDR
    # Its waveforms are the package's synthesis (up to the frame's edges, which TensorFlow's
    # uncentred inverse STFT windows differently): the input's SI-SDR, as skdenoise scores it.
    from skdenoise.metrics import si_sdr
    from skdenoise.spectral import synthesise

    n = len(noisy[0])
    expected = si_sdr(
        synthesise(clean_db, phase, settings, n), synthesise(noisy_db, phase, settings, n)
    )
    assert -as_is == pytest.approx(expected, abs=0.3)

    params = {**tiny_params, "unet__loss": "si_sdr", "unet__epochs": 2}
    pipe = make_denoising_pipeline(**params).fit(*noisy_pairs(seed=8, lengths=(9000, 12000)))
    history = pipe.named_steps["unet"].history_["loss"]
    assert np.isfinite(history).all() and history[-1] < history[0]
    assert pipe.predict([noisy[0]])[0].shape == noisy[0].shape


def test_combined_loss_is_magnitude_plus_weighted_waveform_loss(tiny_params):
    """The network compiled for "magnitude+si_sdr" scores a target with the magnitude loss
    plus WAVEFORM_WEIGHT times the negative SI-SDR, per example; a pipeline trains with it."""
    import tensorflow as tf

    from skdenoise.fitting import FitSettings, _compiled_network
    from skdenoise.model import WAVEFORM_WEIGHT, Scales, magnitude_loss, si_sdr_loss
    from skdenoise.recipe import RECIPE, architecture

    settings, _, noisy_db, _, _, y_true = _waveform_loss_frame(seed=9)
    y_pred = np.random.default_rng(0).uniform(0.0, 1.0, (*noisy_db.shape, 1)).astype("float32")
    scales = Scales(-30.0, 20.0, 40.0)
    fit = FitSettings(loss="magnitude+si_sdr", magnitude_exponent=0.6, max_attenuation_db=40.0)
    arch = architecture(noisy_db.shape[1:], {**RECIPE, "filters": 4, "depth": 2})
    model = _compiled_network(arch, fit, scales, 0, None, settings)
    got = np.asarray(model.loss(tf.constant(y_true), tf.constant(y_pred)))
    magnitude = magnitude_loss(40.0, exponent=0.6, max_attenuation_db=40.0)
    waveform = si_sdr_loss(
        40.0, n_fft=settings.n_fft, hop_length=settings.hop_length, max_attenuation_db=40.0
    )
    parts = [np.asarray(f(tf.constant(y_true), tf.constant(y_pred))) for f in (magnitude, waveform)]
    np.testing.assert_allclose(got, parts[0] + WAVEFORM_WEIGHT * parts[1], rtol=1e-5)
    assert parts[0].min() > 0 and np.abs(parts[1]).min() > 0  # both terms count

    params = {**tiny_params, "unet__loss": "magnitude+si_sdr", "unet__epochs": 2}
    pipe = make_denoising_pipeline(**params).fit(*noisy_pairs(seed=8, lengths=(9000, 12000)))
    history = pipe.named_steps["unet"].history_["loss"]
    assert np.isfinite(history).all() and history[-1] < history[0]
