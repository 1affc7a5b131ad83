"""Metric functions: text metrics against jiwer, signal metrics on known cases."""

import jiwer
import numpy as np
import pytest

from skdenoise import metrics
from tests.conftest import syllables

PAIRS = [
    ("the cat sat on the mat", "the cat sat on the mat"),
    ("the cat sat on the mat", "the cat sat on a mat"),
    ("the cat sat on the mat", "cat sat on the the mat today"),
    ("one two three four", "won too three"),
    ("go", "no"),
]


@pytest.mark.parametrize("reference,hypothesis", PAIRS)
def test_text_metrics_equal_jiwer(reference, hypothesis):
    assert metrics.wer(reference, hypothesis) == pytest.approx(jiwer.wer(reference, hypothesis))
    assert metrics.mer(reference, hypothesis) == pytest.approx(jiwer.mer(reference, hypothesis))
    assert metrics.wil(reference, hypothesis) == pytest.approx(jiwer.wil(reference, hypothesis))


def test_corpus_level_text_metrics_equal_jiwer():
    refs, hyps = zip(*PAIRS)
    assert metrics.wer(list(refs), list(hyps)) == pytest.approx(jiwer.wer(list(refs), list(hyps)))


@pytest.mark.parametrize(
    "reference,hypothesis",
    [
        ("Hello, World!", "hello world"),
        ("I don't know", "i do not know"),
        ("It's   WELL-known.", "it is well known"),
        ("we're here; they'll come", "we are here they will come"),
        ("Don\u2019t stop", "do not stop"),
    ],
)
def test_normalisation_is_the_same_on_both_sides(reference, hypothesis):
    assert metrics.wer(reference, hypothesis) == 0.0
    assert metrics.mer(reference, hypothesis) == 0.0
    assert metrics.wil(reference, hypothesis) == 0.0


def test_empty_hypothesis_is_all_deletions():
    assert metrics.wer("one two", "") == 1.0
    assert metrics.wer(["one two", "three"], ["one two", ""]) == pytest.approx(1 / 3)
    assert metrics.text_measures("one two", "")["del"] == 1.0


def test_error_types_sum_to_wer_and_equal_jiwer_counts():
    refs, hyps = map(list, zip(*PAIRS))
    measures = metrics.text_measures(refs, hyps)
    counts = jiwer.process_words(refs, hyps)
    n_words = sum(len(r.split()) for r in refs)
    assert measures["sub"] == pytest.approx(counts.substitutions / n_words)
    assert measures["del"] == pytest.approx(counts.deletions / n_words)
    assert measures["ins"] == pytest.approx(counts.insertions / n_words)
    assert measures["sub"] + measures["del"] + measures["ins"] == pytest.approx(measures["wer"])
    # Each type on its own.
    assert metrics.text_measures("a b", "a b c")["ins"] == 0.5
    assert metrics.text_measures("a b", "a")["del"] == 0.5
    assert metrics.text_measures("a b", "a c")["sub"] == 0.5


def test_words_on_an_empty_reference_are_insertions():
    measures = metrics.text_measures("", "hello")
    assert (measures["wer"], measures["ins"], measures["sub"], measures["del"]) == (1, 1, 0, 0)
    assert metrics.text_measures("", "")["ins"] == 0.0


def test_si_sdr_known_cases():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(16000)
    assert metrics.si_sdr(s, s) > 100
    assert metrics.si_sdr(s, 0.3 * s) == pytest.approx(metrics.si_sdr(s, s))
    noise = rng.standard_normal(16000)
    noise *= np.sqrt(np.sum(s**2) / np.sum(noise**2) / 10.0)  # 10 dB
    assert metrics.si_sdr(s, s + noise) == pytest.approx(10.0, abs=0.5)


def test_si_sdr_trims_or_pads_to_the_reference():
    s = np.random.default_rng(1).standard_normal(1000)
    assert metrics.si_sdr(s, np.concatenate([s, np.ones(50)])) > 100
    assert np.isfinite(metrics.si_sdr(s, s[:900]))


def test_metrics_refuse_silent_references():
    for fn in (
        lambda r, e: metrics.si_sdr(r, e),
        lambda r, e: metrics.stoi(r, e, 8000),
        lambda r, e: metrics.pesq(r, e, 8000),
    ):
        with pytest.raises(ValueError, match="silent"):
            fn(np.zeros(8000), np.ones(8000))


def test_pesq_refuses_wrong_rates():
    x = syllables(rate=16000)
    with pytest.raises(ValueError, match="8000 or 16000"):
        metrics.pesq(x, x, 44100)
    with pytest.raises(ValueError, match="wideband"):
        metrics.pesq(x[::2], x[::2], 8000, mode="wb")


@pytest.mark.parametrize("rate", [8000, 16000])
def test_pesq_and_stoi_rank_clean_above_noisy(rate):
    clean = syllables(rate=rate)
    noisy = clean + 0.3 * np.random.default_rng(0).standard_normal(len(clean)).astype("float32")
    pesq_clean = metrics.pesq(clean, clean, rate)
    assert pesq_clean > 4.0
    assert metrics.pesq(clean, noisy, rate) < pesq_clean - 1.0
    assert metrics.stoi(clean, clean, rate) > 0.99
    assert metrics.stoi(clean, noisy, rate) < metrics.stoi(clean, clean, rate) - 0.1


def test_stoi_refuses_too_little_active_speech():
    # 1 s of audio but a 0.15 s burst of speech: pystoi alone would return 1e-5.
    x = np.zeros(8000, np.float32)
    x[3000:4200] = syllables("ba", rate=8000)[1600:2800]
    with pytest.raises(ValueError, match="active-speech"):
        metrics.stoi(x, x, 8000)


def test_evaluation_warns_once_per_metric_and_records_why(caplog):
    """Pairs a metric cannot score are NaN with the reason in the row, and the log gets one
    line per metric, not one per file."""
    import logging

    from skdenoise.evaluation import evaluate

    rate = 8000
    rng = np.random.default_rng(0)
    long_speech = syllables("ba di gu ke po ta ko mi", rate=rate)
    short = np.zeros(rate, np.float32)
    short[3000:3800] = 0.3 * np.sin(np.arange(800) * 0.3)  # 0.1 s: too little for STOI
    items = []
    for i, clean in enumerate([long_speech, short, short.copy()]):
        noisy = clean + 0.01 * rng.standard_normal(len(clean)).astype(np.float32)
        items.append(
            {
                "name": f"f{i}",
                "clean": clean,
                "noisy": noisy,
                "snr_db": 10.0,
                "noise_type": "white",
                "transcript": "",
            }
        )
    with caplog.at_level(logging.WARNING, logger="skdenoise.evaluation"):
        result = evaluate(items, None, sample_rate=rate, asr=False)
    rows = {r["name"]: r for r in result.rows}
    assert not np.isnan(rows["f0"]["stoi_input"]) and "not_scored" not in rows["f0"]
    for name in ("f1", "f2"):
        assert np.isnan(rows[name]["stoi_input"]) and np.isnan(rows[name]["stoi_output"])
        assert "stoi: STOI needs" in rows[name]["not_scored"]
    stoi_lines = [r for r in caplog.records if r.getMessage().startswith("stoi not scored")]
    assert len(stoi_lines) == 1 and "2 of 3 files" in stoi_lines[0].getMessage()


def test_summary_means_are_paired():
    """A file whose output a metric cannot score leaves both means, input and output."""
    from skdenoise.evaluation import Evaluation, summarize

    rows = [
        {
            "name": "a",
            "snr_db": 5.0,
            "noise_type": "x",
            "duration_s": 1.0,
            "pesq_input": 2.0,
            "pesq_output": 3.0,
            "stoi_input": 0.5,
            "stoi_output": 0.6,
            "si_sdr_input": 1.0,
            "si_sdr_output": 2.0,
        },
        {
            "name": "b",
            "snr_db": 5.0,
            "noise_type": "x",
            "duration_s": 1.0,
            "pesq_input": 1.0,
            "pesq_output": float("nan"),
            "stoi_input": 0.7,
            "stoi_output": 0.8,
            "si_sdr_input": 3.0,
            "si_sdr_output": 4.0,
        },
    ]
    overall = summarize(Evaluation(rows, 8000))["overall"]
    assert overall["pesq_input"] == 2.0 and overall["pesq_output"] == 3.0
    assert overall["pesq_files"] == 1 and overall["stoi_files"] == 2
    assert overall["stoi_input"] == pytest.approx(0.6)
