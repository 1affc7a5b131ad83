"""Noisy-speech synthesis, manifests, leak-free splits and streaming."""

import gc
import os
import weakref

import numpy as np
import pytest
import soundfile as sf

from skdenoise import AudioError
from skdenoise.datasets import (
    ManifestStream,
    MixtureStream,
    load_manifest,
    make_noisy_speech,
    measure_snr,
    mix_at_snr,
    train_dev_split,
    write_manifest,
)
from skdenoise.spectral import SpectralSettings
from tests.conftest import harmonic

RATE = 8000


def speech(seconds=1.0, seed=0):
    return harmonic(int(seconds * RATE), np.random.default_rng(seed))


def noise(seconds=0.5, seed=1):
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE)).astype("float32")


@pytest.mark.parametrize("snr", [0, 5, 10, 15])
def test_mixture_sums_exactly_and_hits_the_snr(snr):
    noisy, clean, added = mix_at_snr(speech(), noise(), snr, rng=0)
    np.testing.assert_array_equal(noisy, clean + added)
    assert abs(measure_snr(clean, added, RATE) - snr) < 0.1
    assert np.abs(noisy).max() <= 1.0


def test_loud_inputs_are_scaled_together_and_reported():
    loud = 0.9 * speech() / np.abs(speech()).max()
    mixture = mix_at_snr(loud, noise(), 0, rng=0)
    assert mixture.scale < 1.0
    assert np.abs(mixture.noisy).max() <= 0.99 + 1e-6
    assert abs(measure_snr(mixture.clean, mixture.noise, RATE)) < 0.1  # SNR unchanged


def test_short_noise_is_looped_and_long_noise_cropped_at_a_random_offset():
    short = mix_at_snr(speech(2.0), noise(0.1), 5, rng=1)
    assert len(short.noise) == 2 * RATE
    offsets = {mix_at_snr(speech(0.5), noise(3.0), 5, rng=seed).noise_offset for seed in range(5)}
    assert len(offsets) > 1


@pytest.mark.parametrize("bad", [-5, float("nan"), float("inf"), "loud"])
def test_bad_snr_requests_are_refused(bad):
    with pytest.raises(ValueError, match=r"SNR"):
        mix_at_snr(speech(), noise(), bad, rng=0)


def test_negative_snr_on_request():
    _, clean, added = mix_at_snr(speech(), noise(), -5, rng=0, allow_negative_snr=True)
    assert abs(measure_snr(clean, added, RATE) + 5) < 0.1


def test_noise_shorter_than_10_ms_is_refused():
    with pytest.raises(AudioError, match=r"shorter than 10 ms"):
        mix_at_snr(speech(), noise(0.005), 5, rng=0)


def test_silent_stretches_of_noise_are_skipped_and_silence_everywhere_is_refused():
    from skdenoise.datasets import fit_noise_length, measure_snr

    clean = speech()
    mostly_silent = np.concatenate([np.zeros(4 * RATE, np.float32), 0.1 * noise(0.5)])
    first_draw_silent = 0
    for seed in range(10):
        segment, _ = fit_noise_length(mostly_silent, len(clean), np.random.default_rng(seed))
        first_draw_silent += not np.any(segment)
        mix = mix_at_snr(clean, mostly_silent, 5, rng=seed)
        assert np.any(mix.noise)
        assert measure_snr(mix.clean, mix.noise, RATE) == pytest.approx(5.0, abs=1e-3)
    assert first_draw_silent >= 3  # the redraw was needed, and it worked
    with pytest.raises(AudioError, match=r"silent \(all zeros\) at each of 20 random offsets"):
        mix_at_snr(clean, np.zeros(RATE, np.float32), 5, rng=0)


@pytest.fixture
def corpus(tmp_path):
    """Tiny speech (3 speakers) and noise (2 categories) folders."""
    for s, speaker in enumerate(("ann", "bob", "cid")):
        for k in range(3):
            path = tmp_path / "speech" / speaker / f"{speaker}{k}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, speech(0.6 + 0.2 * k, seed=10 * s + k), RATE, subtype="FLOAT")
    for category in ("fan", "rain"):
        for k in range(2):
            path = tmp_path / "noise" / category / f"{category}{k}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, 0.1 * noise(1.5, seed=k + 7 * len(category)), RATE)
    return tmp_path


def test_make_noisy_speech_is_reproducible_byte_for_byte(corpus, tmp_path):
    def build(folder, seed):
        return make_noisy_speech(
            corpus / "speech",
            corpus / "noise",
            [0, 5, 10, 15],
            n_mixtures=12,
            random_state=seed,
            out_dir=tmp_path / folder,
        )

    first, again, _ = build("a", 7), build("b", 7), build("c", 8)
    names = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(names) == 3 * 12 + 1
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "manifest.csv").read_bytes() != (
        tmp_path / "c" / "manifest.csv"
    ).read_bytes()
    assert [r["snr_db"] for r in first.manifest] == [r["snr_db"] for r in again.manifest]
    assert (
        sorted(float(r["snr_db"]) for r in first.manifest)
        == [0] * 3 + [5] * 3 + [10] * 3 + [15] * 3
    )
    assert first.noisy is None  # written, not kept
    rows = load_manifest(tmp_path / "a" / "manifest.csv")
    noisy, _ = sf.read(rows[0]["noisy_path"], dtype="float32")
    clean, _ = sf.read(rows[0]["clean_path"], dtype="float32")
    added, _ = sf.read(rows[0]["noise_path"], dtype="float32")
    np.testing.assert_array_equal(noisy, clean + added)  # float WAVs keep the exact sum
    assert {"speaker", "noise_category", "transcript", "noise_file"} <= set(rows[0])


def test_make_noisy_speech_returns_arrays_without_out_dir(corpus):
    result = make_noisy_speech(corpus / "speech", corpus / "noise", [5], random_state=0)
    assert len(result) == 9 and len(result.noisy) == 9
    for n, c, z in zip(result.noisy, result.clean, result.noise):
        np.testing.assert_array_equal(n, c + z)


def test_split_shares_no_speaker_and_no_noise_file(corpus):
    result = make_noisy_speech(
        corpus / "speech",
        corpus / "noise",
        [0, 5],
        n_mixtures=60,
        random_state=0,
        noise_balance="file",
    )
    train, dev = train_dev_split(
        result.manifest, by=("speaker", "noise_file"), dev_fraction=0.4, random_state=0
    )
    assert train and dev
    assert not {r["speaker"] for r in train} & {r["speaker"] for r in dev}
    assert not {r["noise_file"] for r in train} & {r["noise_file"] for r in dev}


def test_bad_inputs_name_the_file(corpus, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AudioError, match=r"empty: no audio files"):
        make_noisy_speech(empty, corpus / "noise", [5])
    (corpus / "speech" / "ann" / "broken.wav").write_text("not audio")
    with pytest.raises(AudioError, match=r"broken.wav"):
        make_noisy_speech(corpus / "speech", corpus / "noise", [5])
    tiny = tmp_path / "tiny" / "click.wav"
    tiny.parent.mkdir()
    sf.write(tiny, noise(0.004), RATE)
    with pytest.raises(AudioError, match=r"click.wav.*shorter than 10 ms"):
        make_noisy_speech([corpus / "speech" / "bob" / "bob0.wav"], tiny.parent, [5])
    with pytest.raises(ValueError, match=r"negative"):
        make_noisy_speech(corpus / "speech", corpus / "noise", [5, -3])


def test_corpus_manifest_paths_and_licence_filter(tmp_path):
    data = tmp_path / "data"
    audio = data / "speech" / "c1" / "8k" / "x.flac"
    audio.parent.mkdir(parents=True)
    sf.write(audio, speech(), RATE)
    manifest = data / "speech" / "c1" / "manifest_8k.tsv"
    rows = [
        {
            "path": "speech/c1/8k/x.flac",
            "speaker_or_category": "s1",
            "duration_s": "1.0",
            "transcript": "hello",
            "license": "CC-BY-4.0",
        },
        {
            "path": "speech/c1/8k/x.flac",
            "speaker_or_category": "s2",
            "duration_s": "1.0",
            "transcript": "",
            "license": "CC-BY-NC-3.0 NON-COMMERCIAL",
        },
    ]
    write_manifest(rows, manifest)
    everything = load_manifest(manifest)
    assert len(everything) == 2 and everything[0]["path"] == str(audio.resolve())
    assert everything[0]["speaker"] == "s1"
    kept = load_manifest(manifest, exclude_licenses=["non-commercial"])
    assert [r["speaker"] for r in kept] == ["s1"]


def test_stream_yields_frames_with_flat_memory_over_1000_files(tmp_path, monkeypatch):
    from skdenoise import audio

    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1000):
        sf.write(folder / f"{i:04d}.wav", 0.1 * rng.standard_normal(400), RATE)
    noise_dir = tmp_path / "noise"
    noise_dir.mkdir()
    sf.write(noise_dir / "hum.wav", 0.05 * rng.standard_normal(RATE), RATE)

    alive, peak = set(), [0]

    def tracked(fn):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            array = out[0] if isinstance(out, tuple) else out
            token = object()
            alive.add(id(token))
            weakref.finalize(array, alive.discard, id(token))
            peak[0] = max(peak[0], len(alive))
            return out

        return wrapper

    from skdenoise import mixing, streams

    # The stream reads segments itself and whole noise files through mixing's helpers.
    monkeypatch.setattr(streams, "read_segment", tracked(audio.read_segment))
    monkeypatch.setattr(streams, "read_audio", tracked(audio.read_audio))
    monkeypatch.setattr(mixing, "read_audio", tracked(audio.read_audio))
    fd_dir = "/proc/self/fd"
    open_before = len(os.listdir(fd_dir)) if os.path.isdir(fd_dir) else 0
    stream = MixtureStream.from_sources(
        folder, noise_dir, snrs=[5], min_seconds=0.2, segment_seconds=1.0
    ).with_settings(SpectralSettings())
    open_max, n_frames = 0, 0
    for noisy_db, clean_db in stream.frame_pairs(epoch=0):
        assert noisy_db.shape[1:] == (128, 128) and noisy_db.shape == clean_db.shape
        n_frames += len(noisy_db)
        if os.path.isdir(fd_dir):
            open_max = max(open_max, len(os.listdir(fd_dir)))
        gc.collect() if n_frames % 250 == 0 else None
    assert n_frames == 1000
    assert peak[0] <= 8  # a handful of arrays at a time, not one per file
    if open_before:
        assert open_max <= open_before + 3  # files are closed as we go


def test_pipeline_fits_on_a_stream_and_on_a_manifest(corpus, tmp_path, tiny_params):
    from skdenoise import make_denoising_pipeline

    stream = MixtureStream.from_sources(corpus / "speech", corpus / "noise", snrs=[0, 10])
    pipe = make_denoising_pipeline(**{**tiny_params, "unet__validation_fraction": 0.3})
    pipe.fit(stream)
    unet = pipe.named_steps["unet"]
    assert unet.n_train_frames_ > 0 and len(unet.history_["val_loss"]) == 2
    assert pipe.predict([speech()], sample_rate=8000)[0].shape == (RATE,)

    make_noisy_speech(
        corpus / "speech", corpus / "noise", [5], random_state=0, out_dir=tmp_path / "set"
    )
    manifest = ManifestStream.from_manifest(tmp_path / "set" / "manifest.csv")
    make_denoising_pipeline(**tiny_params).fit(manifest)


def test_validation_sources_are_what_a_training_run_validates_on(corpus, tiny_params, monkeypatch):
    from skdenoise import make_denoising_pipeline
    from skdenoise.training import validation_sources

    held_out = validation_sources(
        corpus / "speech", corpus / "noise", validation_fraction=0.34, random_state=5
    )
    splits = []
    real = MixtureStream.split

    def spy(self, fraction, random_state=None):
        splits.append(real(self, fraction, random_state=random_state))
        return splits[-1]

    monkeypatch.setattr(MixtureStream, "split", spy)
    stream = MixtureStream.from_sources(corpus / "speech", corpus / "noise", random_state=5)
    params = {**tiny_params, "unet__validation_fraction": 0.34, "unet__random_state": 5}
    make_denoising_pipeline(**params).fit(stream)
    ((train, val),) = splits
    assert (val.speech, val.noise) == held_out
    assert held_out[0] and not {r["speaker"] for r in held_out[0]} & {
        r["speaker"] for r in train.speech
    }


def test_short_utterances_are_placed_in_noise(corpus):
    result = make_noisy_speech(
        corpus / "speech", corpus / "noise", [5], random_state=0, min_seconds=1.5
    )
    assert all(len(c) >= 1.5 * RATE for c in result.clean)
    assert all(float(r["duration_s"]) >= 1.5 for r in result.manifest)
    for n, c, z in zip(result.noisy, result.clean, result.noise):
        np.testing.assert_array_equal(n, c + z)


def test_stream_validation_split_holds_out_speakers_and_noise_files(corpus):
    stream = MixtureStream.from_sources(corpus / "speech", corpus / "noise")
    train, val = stream.split(0.34, random_state=0)
    assert not {r["speaker"] for r in train.speech} & {r["speaker"] for r in val.speech}
    assert not {r["path"] for r in train.noise} & {r["path"] for r in val.noise}
    assert val.fixed and not train.fixed
    # One noise file per category: held out across files instead.
    single = MixtureStream.from_sources(
        corpus / "speech",
        [corpus / "noise" / "fan" / "fan0.flac", corpus / "noise" / "rain" / "rain0.flac"],
    )
    train, val = single.split(0.5, random_state=0)
    assert len(train.noise) == len(val.noise) == 1 and train.noise != val.noise


def test_a_stream_gives_the_waveform_loss_its_phase(corpus, tiny_params):
    from skdenoise import make_denoising_pipeline

    stream = MixtureStream.from_sources(corpus / "speech", corpus / "noise", snrs=[0, 10])
    settings = make_denoising_pipeline().named_steps["spec"].settings(RATE)
    noisy_db, clean_db, phase = next(stream.with_settings(settings).frame_pairs(0, phase=True))
    assert phase.shape == noisy_db.shape == clean_db.shape and phase.dtype == np.complex64
    np.testing.assert_allclose(np.abs(phase), 1.0, atol=1e-5)  # unit phasors
    params = {**tiny_params, "unet__loss": "si_sdr", "unet__validation_fraction": 0.3}
    unet = make_denoising_pipeline(**params).fit(stream).named_steps["unet"]
    assert np.isfinite(unet.history_["loss"]).all() and len(unet.history_["val_loss"]) == 2
