"""Augmentations of the training stream: shapes, the channel's response, SNR, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import harmonic
from scipy.signal import sosfreqz

from skdenoise.augment import (
    Augmentation,
    ChannelParams,
    apply_channel,
    apply_room,
    clip,
    compand,
    draw_channel,
    room_impulse_response,
    telephone_sos,
)
from skdenoise.datasets import MixtureStream, measure_snr, write_manifest

RATE = 8000


def _response_db(params: ChannelParams, freqs, rate: int = RATE) -> np.ndarray:
    """Measured response: a long white noise through the channel, by FFT ratio per bin."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2**17)
    y = apply_channel(x, rate, params)
    spectrum_x = np.abs(np.fft.rfft(x)) ** 2
    spectrum_y = np.abs(np.fft.rfft(y.astype(np.float64))) ** 2
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    out = []
    for f in freqs:
        near = np.abs(bins - f) < 15  # average over +-15 Hz
        out.append(10 * np.log10(spectrum_y[near].sum() / spectrum_x[near].sum()))
    return np.asarray(out)


@pytest.mark.parametrize("seed", range(6))
def test_telephone_channel_meets_the_mask(seed):
    """Random edges: within 3 dB of flat in band, >= 20 dB down at 100 Hz and 3.8 kHz."""
    rng = np.random.default_rng(seed)
    params = draw_channel(rng, tilt_db=(0, 0), eq_db=(0, 0))
    assert 250 <= params.low_hz <= 400 and 3100 <= params.high_hz <= 3400
    in_band = np.linspace(params.low_hz + 50, params.high_hz - 50, 12)
    response = _response_db(params, [*in_band, 100.0, 3800.0])
    assert np.all(np.abs(response[:-2]) <= 3.0), response
    assert response[-2] <= -20.0 and response[-1] <= -20.0, response[-2:]
    # The designed filter agrees with the measurement.
    _, h = sosfreqz(telephone_sos(RATE, params.low_hz, params.high_hz), [100, 3800], fs=RATE)
    assert np.all(20 * np.log10(np.abs(h)) <= -20)


def test_tilt_and_eq_shape_the_band():
    flat = ChannelParams(300, 3400)
    tilted = ChannelParams(300, 3400, tilt_db=6.0)
    low, high = _response_db(tilted, [400, 3200]) - _response_db(flat, [400, 3200])
    assert high - low == pytest.approx(6.0 * np.log2(3200 / 400) / np.log2(3400 / 300), abs=0.7)
    bump = _response_db(ChannelParams(300, 3400, eq_hz=1000, eq_db=4.0), [1000])[0]
    assert bump == pytest.approx(4.0, abs=0.6)


def test_band_edges_are_checked():
    with pytest.raises(ValueError, match="Nyquist"):
        telephone_sos(8000, 300, 4200)


def test_each_augmentation_keeps_shape_and_length():
    rng = np.random.default_rng(1)
    x = harmonic(12345, rng)
    rir, info = room_impulse_response(RATE, np.random.default_rng(2))
    assert rir[0] == pytest.approx(1.0) and 0.15 <= info["rt60_s"] <= 0.6
    for y in (
        apply_channel(x, RATE, draw_channel(rng)),
        apply_room(x, rir),
        compand(x, "mu"),
        compand(x, "a"),
        clip(x, 0.5),
    ):
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()


def test_room_response_is_reproducible_from_the_generator():
    a, _ = room_impulse_response(RATE, np.random.default_rng(7))
    b, _ = room_impulse_response(RATE, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("law", ["mu", "a"])
def test_companding_is_an_8_bit_codec(law):
    x = np.linspace(-0.9, 0.9, 4001).astype(np.float32)
    y = compand(x, law)
    assert len(np.unique(y)) <= 256  # at most 2**8 output levels
    # Quantisation error relative to the level stays small (log companding).
    loud = np.abs(x) > 0.05
    assert np.max(np.abs(y[loud] - x[loud]) / np.abs(x[loud])) < 0.07
    with pytest.raises(ValueError, match="law"):
        compand(x, "x")


def test_clip_limits_the_peak():
    x = np.sin(np.linspace(0, 20, 1000)).astype(np.float32)
    assert np.max(np.abs(clip(x, 0.6))) == pytest.approx(0.6 * np.max(np.abs(x)))
    with pytest.raises(ValueError, match="fraction"):
        clip(x, 0)


def test_probabilities_are_checked():
    with pytest.raises(ValueError, match="room_p"):
        Augmentation(room_p=1.5)


def _sources(tmp_path):
    """Speech of four speakers and noise of three categories, as small FLAC files."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    speech, noise = [], []
    for i in range(8):
        path = tmp_path / f"s{i}.flac"
        sf.write(path, harmonic(RATE * 2 + 500 * i, rng), RATE)
        speech.append({"path": str(path), "speaker": f"spk{i % 4}", "duration_s": ""})
    for i, category in enumerate(("hum", "hiss", "clatter")):
        path = tmp_path / f"n{i}.flac"
        t = np.arange(RATE * 3) / RATE
        signal = 0.1 * np.sin(2 * np.pi * (100 + 200 * i) * t) + 0.05 * rng.standard_normal(len(t))
        sf.write(path, signal.astype(np.float32), RATE)
        noise.append({"path": str(path), "category": category, "duration_s": ""})
    return speech, noise


def test_snr_after_augmentation_is_the_requested_one(tmp_path):
    """Rooms, channels, summed noises and babble: the mixture keeps its SNR within 0.3 dB
    (codec and clipping, which touch only the input, are off here)."""
    speech, noise = _sources(tmp_path)
    augmentation = Augmentation(
        channel_p=0.5, room_p=0.5, codec_p=0.0, clip_p=0.0, extra_noise_p=0.5, babble_p=0.3
    )
    stream = MixtureStream(
        speech=speech, noise=noise, snr_range=(-5, 20), augmentation=augmentation
    )
    count = 0
    for noisy, clean, snr, row in stream.mixtures(0):
        assert row in speech
        assert noisy.shape == clean.shape
        measured = measure_snr(clean, noisy - clean, RATE)
        assert measured == pytest.approx(snr, abs=0.3)
        count += 1
    assert count == len(speech)


def test_augmented_stream_is_reproducible_and_changes_per_epoch(tmp_path):
    speech, noise = _sources(tmp_path)
    stream = MixtureStream(speech=speech, noise=noise, augmentation=Augmentation(), random_state=3)
    first = [n for n, *_ in stream.mixtures(1)]
    again = [n for n, *_ in stream.mixtures(1)]
    other = [n for n, *_ in stream.mixtures(2)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(first, other))


def test_channel_reaches_the_clean_target(tmp_path):
    """With the channel always on, the target has no energy left below 100 Hz."""
    speech, noise = _sources(tmp_path)
    always = Augmentation(
        channel_p=1.0, room_p=0.0, codec_p=0.0, clip_p=0.0, extra_noise_p=0.0, babble_p=0.0
    )
    stream = MixtureStream(speech=speech, noise=noise, augmentation=always)
    for _, clean, *_ in stream.mixtures(0):
        spectrum = np.abs(np.fft.rfft(clean.astype(np.float64))) ** 2
        freqs = np.fft.rfftfreq(len(clean), 1 / RATE)
        low = spectrum[freqs < 100].sum() / spectrum.sum()
        assert low < 1e-3


def test_tiny_training_run_with_augmentation(tmp_path):
    """`skdenoise train --augment` trains, and its report records the augmentation."""
    import json

    from skdenoise.cli import main

    speech, noise = _sources(tmp_path)
    write_manifest(speech, tmp_path / "speech.tsv", ["path", "speaker", "duration_s"])
    write_manifest(noise, tmp_path / "noise.tsv", ["path", "category", "duration_s"])
    out = tmp_path / "model.npz"
    code = main(
        [
            "train",
            "--speech",
            str(tmp_path / "speech.tsv"),
            "--noise",
            str(tmp_path / "noise.tsv"),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--filters",
            "4",
            "--depth",
            "2",
            "--batch-size",
            "4",
            "--segment-seconds",
            "2",
            "--augment",
            "--room-p",
            "1",
        ]
    )
    assert code == 0 and out.exists()
    report = json.loads((tmp_path / "model.json").read_text())
    assert report["mixing"]["augmentation"]["room_p"] == 1.0
    assert report["mixing"]["augmentation"]["channel_p"] == Augmentation().channel_p
