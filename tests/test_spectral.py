"""Round trips through the one STFT code path."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from skdenoise import LogSpectrogram, PhaseKeeper, WaveformLoader, WaveformRebuilder
from skdenoise.spectral import (
    SpectralSettings,
    frame_starts,
    join_frames,
    split_frames,
)

LENGTHS = [100, 8063, 8064, 8065, 30_000]


def identity_pipeline(**spec_params):
    # No model between spec and rebuild: the identity.
    return Pipeline(
        [
            ("load", WaveformLoader(array_rate=8000)),
            ("phase", PhaseKeeper()),
            ("spec", LogSpectrogram(**spec_params)),
            ("rebuild", WaveformRebuilder()),
        ]
    )


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("frame_hop", [None, 4032])
def test_identity_round_trip(n, frame_hop):
    rng = np.random.default_rng(n)
    x = (0.3 * rng.standard_normal(n)).astype(np.float32)
    (out,) = identity_pipeline(frame_hop=frame_hop).fit([x]).predict([x])
    assert out.shape == (n,)
    assert out.dtype == np.float32
    assert np.max(np.abs(out - x)) < 1e-4


@pytest.mark.parametrize("n", LENGTHS)
def test_frames_are_128_by_128_and_cover_everything(n):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    spec = LogSpectrogram().transform(
        PhaseKeeper().transform(WaveformLoader(array_rate=8000).transform([x]))
    )
    frames = spec.frames[0]
    assert frames.shape[1:] == (128, 128)
    n_columns = SpectralSettings().n_columns(n)
    assert spec.phases[0].shape == (128, n_columns)  # what librosa really computed
    assert frames.shape[0] == max(1, -(-n_columns // 128))


@pytest.mark.filterwarnings("ignore:n_fft=255 is too large")
def test_default_frame_is_exactly_one_stft_frame():
    import librosa

    settings = SpectralSettings()
    assert settings.frame_shape == (128, 128)
    for n in (100, 8063, 8064, 8065, 30_000):
        actual = librosa.stft(np.zeros(n), n_fft=255, hop_length=63, center=True).shape[1]
        assert settings.n_columns(n) == actual
    assert settings.n_columns(8064) == 128


@pytest.mark.parametrize("frame_hop", [None, 2016, 4032, 8064])
@pytest.mark.parametrize("n_columns", [1, 5, 127, 128, 129, 300, 513])
def test_split_join_is_exact(frame_hop, n_columns):
    settings = SpectralSettings(frame_hop=frame_hop)
    spec = np.random.default_rng(n_columns).normal(size=(128, n_columns)).astype(np.float32)
    frames = split_frames(spec, settings)
    assert frames.shape[1:] == (128, 128)
    np.testing.assert_allclose(join_frames(frames, settings, n_columns), spec, atol=1e-5)


def test_last_frame_is_aligned_to_the_end_not_padded():
    settings = SpectralSettings()
    starts = frame_starts(300, settings)
    assert list(starts) == [0, 128, 172]
    spec = np.arange(300, dtype=np.float32)[None, :].repeat(128, axis=0)
    frames = split_frames(spec, settings)
    assert frames[-1][0, -1] == 299  # real columns, no floor padding


def test_short_recording_is_padded_by_mirroring():
    settings = SpectralSettings()
    spec = np.linspace(-50, 0, 10, dtype=np.float32)[None, :].repeat(128, axis=0)
    frames = split_frames(spec, settings)
    assert frames.shape == (1, 128, 128)
    assert frames.min() >= -50  # no artificial floor
    np.testing.assert_array_equal(frames[0][:, :10], spec)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_length": 8000},  # not a multiple of the hop
        {"hop_length": 300},  # larger than n_fft
        {"frame_hop": 100},
        {"frame_hop": 16128},
        {"n_fft": 0},
    ],
)
def test_bad_settings_are_rejected_with_a_reason(kwargs):
    with pytest.raises(ValueError, match=r"must|larger"):
        LogSpectrogram(**kwargs).fit([np.ones(10)])


def test_dry_mix_one_returns_the_input():
    x = np.random.default_rng(1).standard_normal(9000).astype(np.float32)
    pipe = identity_pipeline().set_params(rebuild__dry=1.0)
    np.testing.assert_array_equal(pipe.fit([x]).predict([x])[0], x)


def test_inverse_transform_needs_the_phase():
    spec = LogSpectrogram().transform(WaveformLoader(array_rate=8000).transform([np.ones(9000)]))
    with pytest.raises(ValueError, match=r"PhaseKeeper"):
        LogSpectrogram().inverse_transform(spec)


def test_inverse_transform_round_trip():
    x = np.random.default_rng(2).standard_normal(12345).astype(np.float32)
    batch = PhaseKeeper().transform(WaveformLoader(array_rate=8000).transform([x]))
    spec = LogSpectrogram()
    back = spec.inverse_transform(spec.transform(batch))
    assert np.max(np.abs(back.waveforms[0] - x)) < 1e-4


def test_estimated_snr_is_output_energy_over_removed_energy():
    from skdenoise.spectral import estimated_snr_db

    rng = np.random.default_rng(3)
    speech = rng.standard_normal(8000)
    noise = rng.standard_normal(8000)
    noise *= 0.1 * np.linalg.norm(speech) / np.linalg.norm(noise)  # 20 dB below the speech
    assert estimated_snr_db(speech, speech + noise) == pytest.approx(20.0, abs=1e-6)
    assert estimated_snr_db(np.zeros(100), np.zeros(100)) == 0.0


@pytest.mark.parametrize(
    ("snr", "dry", "expected"),
    [(-30.0, 0.0, 0.0), (4.9, 0.2, 0.2), (7.5, 0.0, 0.5), (7.5, 0.2, 0.6), (10.0, 0.0, 1.0)],
)
def test_bypass_fades_the_input_in_over_five_db(snr, dry, expected):
    from skdenoise.spectral import bypass_dry

    assert bypass_dry(snr, dry, 10.0) == pytest.approx(expected)
    assert bypass_dry(snr, dry, None) == dry


@pytest.mark.parametrize(
    ("snr", "ramp", "expected"),
    [
        (8.9, 1.0, 0.2),  # below the ramp: the dry mix
        (9.5, 1.0, 0.6),  # halfway up a 1 dB ramp
        (10.0, 1.0, 1.0),  # at the threshold: the input
        (9.999, 0.0, 0.2),  # a hard switch: the dry mix up to the threshold
        (10.0, 0.0, 1.0),  # and the input from it on
        (30.0, 0.0, 1.0),
    ],
)
def test_bypass_ramp_sets_the_width_of_the_fade(snr, ramp, expected):
    from skdenoise.spectral import bypass_dry

    assert bypass_dry(snr, 0.2, 10.0, ramp) == pytest.approx(expected)
    assert bypass_dry(snr, 0.2, None, ramp) == 0.2


@pytest.mark.parametrize(
    ("snr", "high", "expected"),
    [
        (-5.0, None, 1.0),  # below the low bypass: the input
        (1.999, None, 1.0),
        (2.0, None, 0.2),  # at it: processed, the dry mix
        (6.0, None, 0.2),
        (-5.0, 10.0, 1.0),  # with the high bypass too: the input below 2 dB
        (8.0, 10.0, 0.2),  # below the high bypass's 1 dB ramp: the dry mix
        (9.5, 10.0, 0.6),  # halfway up the ramp
        (12.0, 10.0, 1.0),  # above it: the input
    ],
)
def test_low_bypass_hands_very_noisy_input_over_with_a_hard_switch(snr, high, expected):
    from skdenoise.spectral import bypass_dry

    assert bypass_dry(snr, 0.2, high, 1.0, low_snr_db=2.0) == pytest.approx(expected)
    assert bypass_dry(snr, 0.2, None, 1.0, low_snr_db=None) == 0.2


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "wide", None])
def test_bypass_ramp_must_be_a_finite_non_negative_number(bad):
    from skdenoise.spectral import check_bypass_ramp_db

    with pytest.raises(ValueError, match="bypass_ramp_db must be a number of dB >= 0"):
        check_bypass_ramp_db(bad)
    assert check_bypass_ramp_db(0) == 0.0


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("bypass_snr_db", "loud"),
        ("bypass_snr_db", float("nan")),
        ("bypass_snr_db", float("inf")),
        ("bypass_low_snr_db", "noisy"),
        ("bypass_low_snr_db", float("nan")),
        ("bypass_low_snr_db", float("-inf")),
    ],
)
def test_bad_bypass_is_rejected_with_a_reason(name, bad):
    x = np.ones(9000, np.float32)
    pipe = identity_pipeline().set_params(**{f"rebuild__{name}": bad})
    with pytest.raises(ValueError, match=rf"^{name} must be None or a finite number"):
        pipe.fit([x]).predict([x])


@pytest.mark.parametrize("n", [1, 254, 255, 8064, 30_001])
@pytest.mark.parametrize("n_fft, hop", [(255, 63), (510, 126), (256, 64)])
def test_stft_and_istft_agree_with_librosa(n, n_fft, hop):
    import warnings

    import librosa

    from skdenoise.spectral import istft, stft

    settings = SpectralSettings(n_fft=n_fft, hop_length=hop, frame_length=128 * hop)
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    kw = {"n_fft": n_fft, "hop_length": hop, "window": "hann"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns that n_fft exceeds a tiny input
        ref = librosa.stft(x, center=True, pad_mode="constant", **kw)
    spec = stft(x, settings)
    np.testing.assert_allclose(spec, ref, atol=1e-5)
    np.testing.assert_allclose(
        istft(spec, settings, n), librosa.istft(ref, center=True, length=n, **kw), atol=1e-5
    )
    np.testing.assert_allclose(
        istft(spec, settings, None), librosa.istft(ref, center=True, **kw), atol=1e-5
    )
    # Any spectrum, not only an STFT's (the window-power normalisation at both ends), in
    # either memory layout.
    rng = np.random.default_rng(n + 1)
    other = (rng.standard_normal(ref.shape) + 1j * rng.standard_normal(ref.shape)).astype(
        np.complex64
    )
    expected = librosa.istft(other, center=True, length=n, **kw)
    np.testing.assert_allclose(istft(other, settings, n), expected, atol=1e-5)
    np.testing.assert_allclose(istft(np.asfortranarray(other), settings, n), expected, atol=1e-5)
    if n >= n_fft:
        ref = librosa.stft(x, center=False, **kw)
        np.testing.assert_allclose(stft(x, settings, center=False), ref, atol=1e-5)
        np.testing.assert_allclose(
            istft(ref, settings, None, center=False),
            librosa.istft(ref, center=False, **kw),
            atol=1e-5,
        )


def test_resample_agrees_with_librosa():
    import librosa

    from skdenoise.audio import resample

    x = np.random.default_rng(0).standard_normal((2, 44_101)).astype(np.float32)
    for a, b in ((44_100, 8000), (8000, 16_000), (16_000, 8000)):
        ref = librosa.resample(x, orig_sr=a, target_sr=b, res_type="soxr_hq")
        np.testing.assert_allclose(resample(x, a, b), ref, atol=1e-6)


def test_phase_is_one_where_the_spectrum_is_zero():
    from skdenoise.spectral import analyse, stft

    settings = SpectralSettings(sample_rate=8000)
    x = np.zeros(9000, np.float32)
    x[4000:5000] = np.random.default_rng(0).standard_normal(1000)
    _, phase = analyse(x, settings)
    silent = phase == 1.0
    assert silent[:, 0].all() and silent[:, -1].all()  # windows that hold only zeros
    np.testing.assert_allclose(np.abs(phase), 1.0, rtol=1e-6)
    spec = stft(x, settings)
    moving = np.abs(spec) > 1e-3
    np.testing.assert_allclose(phase[moving], spec[moving] / np.abs(spec[moving]), rtol=1e-5)


def test_phase_of_a_signal_far_below_float32_normal_range_is_finite():
    from skdenoise.spectral import analyse

    settings = SpectralSettings(sample_rate=8000)
    x = np.random.default_rng(1).choice([-1e-41, 1e-41], 9000).astype(np.float32)  # subnormal
    _, phase = analyse(x, settings)
    assert np.isfinite(phase).all()
    np.testing.assert_allclose(np.abs(phase), 1.0, rtol=1e-5)
