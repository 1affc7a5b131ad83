"""Bad input gets a clear error naming the input, never a crash deep in TensorFlow."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skdenoise import AudioError, make_denoising_pipeline, write_wav
from tests.conftest import noisy_pairs


def good(n=9000, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


@pytest.fixture
def pipe():
    # Transformers run before the model: errors must come from them, not from Keras.
    return make_denoising_pipeline(
        load__array_rate=8000, unet__filters=4, unet__depth=2, unet__epochs=1
    )


def test_missing_file(pipe, tmp_path):
    missing = tmp_path / "nope.wav"
    with pytest.raises(FileNotFoundError, match=r"nope.wav"):
        pipe.fit([missing], [good()])


def test_file_that_is_not_audio(pipe, tmp_path):
    bogus = tmp_path / "notes.wav"
    bogus.write_text("this is not audio")
    with pytest.raises(AudioError, match=r"notes.wav.*not a readable audio file"):
        pipe.fit([good(), bogus], [good(), good()])


def test_empty_recording_array(pipe):
    with pytest.raises(AudioError, match=r"X\[1\].*empty"):
        pipe.fit([good(), np.zeros(0, np.float32)], [good(), good()])


def test_empty_audio_file(pipe, tmp_path):
    import soundfile as sf

    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 8000)
    with pytest.raises(AudioError, match=r"empty.wav.*empty"):
        pipe.fit([path], [good()])


def test_all_zero_recording(pipe):
    with pytest.raises(AudioError, match=r"X\[0\].*zero"):
        pipe.fit([np.zeros(9000, np.float32)], [good()])


def test_all_zero_clean_target_is_allowed_for_training():
    # Noise-only training pairs (silent clean reference) are legitimate.
    from skdenoise import WaveformLoader

    batch = WaveformLoader(array_rate=8000).fit_transform([good()], [np.zeros(9000, np.float32)])
    assert not batch.targets[0].any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_samples(pipe, bad):
    x = good()
    x[123] = bad
    with pytest.raises(AudioError, match=r"X\[2\].*NaN or infinite.*sample 123"):
        pipe.fit([good(), good(), x], [good(), good(), good()])


def test_nan_in_clean_target_is_named(pipe):
    y = good()
    y[5] = np.nan
    with pytest.raises(AudioError, match=r"y\[0\].*NaN"):
        pipe.fit([good()], [y])


def test_recording_shorter_than_one_frame_still_works(tiny_params):
    noisy, clean = noisy_pairs(seed=0, lengths=(300, 9000, 4000))
    pipe = make_denoising_pipeline(**tiny_params).fit(noisy, clean)
    out = pipe.predict([noisy[0], good(1)], sample_rate=8000)
    assert [len(o) for o in out] == [300, 1]


def test_three_dimensional_recording(pipe):
    with pytest.raises(AudioError, match=r"X\[1\].*3-D"):
        pipe.fit([good(), np.zeros((2, 3, 100))], [good(), good()])


def test_three_dimensional_input_array(pipe):
    with pytest.raises(AudioError, match=r"X is a 3-D array"):
        pipe.fit(np.zeros((2, 3, 100)), [good(), good()])


def test_single_path_instead_of_list(pipe):
    with pytest.raises(TypeError, match=r"wrap it in a list"):
        pipe.fit("noisy.wav", ["clean.wav"])


def test_length_of_x_and_y_differ(pipe):
    with pytest.raises(ValueError, match=r"X has 2 recordings but y has 3"):
        pipe.fit([good(), good()], [good(), good(), good()])


def test_pair_of_different_lengths_is_named(pipe):
    with pytest.raises(ValueError, match=r"recording 1: the noisy input X\[1\] has 9000.*y\[1\]"):
        pipe.fit([good(), good()], [good(), good(8000)])


def test_predict_before_fit(pipe):
    with pytest.raises(NotFittedError, match=r"not fitted yet.*load_pretrained"):
        pipe.predict([good()], sample_rate=8000)


def test_unreadable_input_at_predict_time_is_named(fitted_tiny, tmp_path):
    bogus = tmp_path / "broken.flac"
    bogus.write_bytes(b"\x00" * 100)
    with pytest.raises(AudioError, match=r"broken.flac"):
        fitted_tiny.predict([good(), bogus], sample_rate=8000)


def test_too_many_channels_is_explained(pipe):
    with pytest.raises(AudioError, match=r"channels"):
        pipe.fit([np.ones((100, 200))], [good()])


def test_bad_hyperparameters_are_explained():
    noisy, clean = noisy_pairs(seed=0, lengths=(9000,))
    with pytest.raises(ValueError, match=r"loss must be one of"):
        make_denoising_pipeline(load__array_rate=8000, unet__loss="l3").fit(noisy, clean)
    with pytest.raises(ValueError, match=r"magnitude_exponent must be within \(0, 2\]"):
        make_denoising_pipeline(load__array_rate=8000, unet__magnitude_exponent=0.0).fit(
            noisy, clean
        )
    with pytest.raises(ValueError, match=r"over_suppression_weight must be within \[0.1, 100\]"):
        make_denoising_pipeline(load__array_rate=8000, unet__over_suppression_weight=0.05).fit(
            noisy, clean
        )
    with pytest.raises(ValueError, match=r"divisible"):
        make_denoising_pipeline(load__array_rate=8000, unet__depth=9).fit(noisy, clean)
    with pytest.raises(ValueError, match=r"dry must be within"):
        make_denoising_pipeline(load__array_rate=8000, rebuild__dry=1.5).fit(noisy, clean)


def test_write_wav_refuses_nan(tmp_path):
    with pytest.raises(AudioError, match=r"out.wav.*NaN"):
        write_wav(tmp_path / "out.wav", np.array([0.0, np.nan]), 8000)
