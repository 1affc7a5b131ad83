"""Scorers: metadata routing of transcripts, caching, and the signal scorers."""

import threading

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold

from skdenoise import make_denoising_pipeline
from skdenoise.scoring import (
    asr_score,
    make_asr_scorer,
    make_signal_scorer,
    si_sdr_scorer,
    signal_score,
    wer_scorer,
)
from tests.conftest import noisy_pairs


class RecordingTranscriber:
    """Test stub: hears one word naming the recording length (n9000), records every call."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def transcribe(self, waveform, sample_rate):
        with self.lock:
            self.calls.append(len(waveform))
        return f"n{len(waveform)}"


LENGTHS = (9000, 9100, 9200, 9300, 9400, 9500)


def test_each_fold_scores_against_its_own_routed_transcripts(tiny_params):
    noisy, clean = noisy_pairs(seed=0, lengths=LENGTHS)
    # Routed transcripts name each recording's length, which the stub also "hears": a fold
    # given another fold's transcripts (or misaligned ones) would not score 0.
    transcripts = [f"n{n}" for n in LENGTHS]
    stub = RecordingTranscriber()
    with sklearn.config_context(enable_metadata_routing=True):
        wer = make_asr_scorer("wer", stub).set_score_request(transcripts=True)
        mer = make_asr_scorer("mer", stub).set_score_request(transcripts=True)
        search = GridSearchCV(
            make_denoising_pipeline(**{**tiny_params, "unet__epochs": 1}),
            {"rebuild__dry": [0.0, 0.5]},
            scoring={"wer": wer, "mer": mer, "si_sdr": si_sdr_scorer},
            refit="si_sdr",
            cv=KFold(3),
        )
        search.fit(noisy, clean, transcripts=transcripts)
    for key in ("wer", "mer"):
        for split in range(3):
            np.testing.assert_array_equal(search.cv_results_[f"split{split}_test_{key}"], 0.0)
    assert np.isfinite(search.cv_results_["mean_test_si_sdr"]).all()
    assert search.best_params_["rebuild__dry"] in (0.0, 0.5)
    # Two candidates x 3 folds x 2 test recordings, each decoded once although two ASR
    # scorers read it (the cache), and no clean reference decoded (transcripts came routed).
    assert sorted(stub.calls) == sorted(list(LENGTHS) * 2)


def test_misaligned_transcripts_are_caught_by_the_score():
    stub = RecordingTranscriber()
    predictions = [np.zeros(n, np.float32) for n in (100, 200)]
    kw = {"transcriber": stub, "sample_rate": 8000}
    assert asr_score(None, predictions, transcripts=["n100", "n200"], **kw) == 0.0
    assert asr_score(None, predictions, transcripts=["n200", "n100"], **kw) == 1.0
    with pytest.raises(ValueError, match="2 predictions but 1 transcripts"):
        asr_score(None, predictions, transcripts=["n100"], **kw)
    with pytest.raises(ValueError, match="carry no sample rate"):  # no rate: not a guess
        asr_score(None, predictions, transcripts=["n100", "n200"], transcriber=stub)


def test_without_transcripts_the_clean_reference_is_transcribed(fitted_tiny):
    stub = RecordingTranscriber()
    noisy, clean = noisy_pairs(seed=1, lengths=(9000, 12000))
    scorer = make_asr_scorer("wer", stub)
    # No routing: the scorer decodes predictions *and* the clean references.
    assert scorer(fitted_tiny, noisy, clean) == 0.0
    assert sorted(stub.calls) == [9000, 9000, 12000, 12000]


def test_callable_transcriber_and_unknown_metric():
    scorer = make_asr_scorer("wil", lambda wave, rate: "same words")
    assert scorer._kwargs["metric"] == "wil"
    with pytest.raises(ValueError, match="metric must be one of"):
        make_asr_scorer("cer")


def test_error_type_scores_count_insertions_apart():
    hears_extra = lambda wave, rate: "yes no maybe"  # noqa: E731
    x = [np.zeros(8000, "float32")]
    kwargs = dict(transcriber=hears_extra, transcripts=["yes no"], sample_rate=8000)
    assert asr_score(None, x, metric="ins", **kwargs) == 0.5
    assert asr_score(None, x, metric="del", **kwargs) == 0.0
    assert asr_score(None, x, metric="wer", **kwargs) == 0.5


def test_lower_is_better_for_asr_scorers():
    assert wer_scorer._sign == -1
    assert si_sdr_scorer._sign == 1


def test_signal_scorers_prefer_the_clean_signal(fitted_tiny):
    from tests.conftest import syllables

    clean = [syllables(rate=8000), syllables("ta ko mi", rate=8000)]
    noisy = [
        c + 0.2 * np.random.default_rng(0).standard_normal(len(c)).astype("float32") for c in clean
    ]
    for metric in ("si_sdr", "pesq", "stoi"):
        ideal = signal_score(clean, clean, metric=metric, sample_rate=8000)
        assert ideal > signal_score(clean, noisy, metric=metric, sample_rate=8000)
        value = make_signal_scorer(metric)(fitted_tiny, noisy, clean)
        assert np.isfinite(value)


def test_signal_score_loads_paths_at_the_prediction_rate(tmp_path):
    from skdenoise import write_wav
    from skdenoise.batch import WaveformList

    x = np.random.default_rng(0).standard_normal(16000).astype("float32") * 0.1
    path = write_wav(tmp_path / "clean16k.wav", x, 16000, subtype="FLOAT")
    from skdenoise.audio import resample

    prediction = WaveformList([resample(x, 16000, 8000)], sample_rate=8000)
    assert signal_score([path], prediction, metric="si_sdr") > 40


def test_one_standard_error_refit_keeps_to_the_allowed_candidates():
    """The rule picks among allowed candidates only, and says so when none is allowed."""
    from skdenoise.scoring import one_standard_error_refit

    results = {
        "params": [{"dry": 1.0}, {"dry": 0.4}, {"dry": 0.0}],
        "mean_test_wer": np.array([-0.50, -0.30, -0.29]),
        "std_test_wer": np.array([0.03, 0.03, 0.03]),
        "mean_test_si_sdr": np.array([4.0, 7.0, 9.0]),
    }
    assert one_standard_error_refit(3)(results) == 2  # within 1 SE of the best, more SI-SDR
    safe = {1.0, 0.4}
    assert one_standard_error_refit(3, allow=lambda p: p["dry"] in safe)(results) == 1
    only_input = one_standard_error_refit(3, allow=lambda p: p["dry"] == 1.0)
    assert only_input(results) == 0
    with pytest.raises(ValueError, match="allows no candidate"):
        one_standard_error_refit(3, allow=lambda p: False)(results)


def test_word_errors_add_up_to_the_corpus_wer_of_any_subset():
    from skdenoise.metrics import wer, word_errors

    refs = ["the cat sat on the mat", "a dog", "turn left at 21st street", "hello there"]
    hyps = ["the cat sat on mat", "a big brown dog", "turn left at twenty first street", ""]
    errors, words = word_errors(refs, hyps)
    assert words.tolist() == [6, 2, 6, 2]
    assert errors.tolist() == [1, 2, 0, 2]
    for subset in ([0, 1], [1, 2, 3], [0, 1, 2, 3], [3, 3, 0]):  # repeats, as a bootstrap draws
        expected = wer([refs[i] for i in subset], [hyps[i] for i in subset])
        assert errors[subset].sum() / words[subset].sum() == pytest.approx(expected)
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_errors(refs[:2], hyps[:1])


def test_safe_probability_is_the_chance_of_passing_in_every_group():
    from skdenoise.scoring import safe_probability

    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 8, 300)
    snrs = np.repeat([-5, 0, 5], 100)
    assert safe_probability(noisy, noisy, snrs) == 1.0  # the input itself always passes
    assert safe_probability(noisy - 1, noisy, snrs) == 1.0  # one error fewer everywhere
    # Better at two SNRs but one more error on every sentence at the third: never passes.
    worse_at_5 = noisy - 1 + 2 * (snrs == 5)
    assert safe_probability(worse_at_5, noisy, snrs) == 0.0
    # A coin flip per sentence around the input's errors: passes a group about half the
    # time (ties pass), so all three together about an eighth of the time.
    flip = noisy + rng.choice([-1, 1], 300)
    p = safe_probability(flip, noisy, snrs, sample_size=40, n_resamples=4000)
    assert 0.03 < p < 0.35
    # More sentences per draw shrink a small real gain's chance of failing by luck.
    gain = noisy + rng.choice([-1, 0, 1], 300, p=[0.4, 0.3, 0.3])
    small = safe_probability(gain, noisy, snrs, sample_size=10)
    large = safe_probability(gain, noisy, snrs, sample_size=200)
    assert small < large
    assert safe_probability(flip, noisy, snrs, random_state=3) == safe_probability(
        flip, noisy, snrs, random_state=3
    )
    with pytest.raises(ValueError, match="groups 1-D of n_sentences"):
        safe_probability(noisy, noisy, snrs[:10])


def test_safe_probability_over_several_decodes():
    from skdenoise.scoring import safe_probability

    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 8, 300)
    snrs = np.repeat([-5, 0, 5], 100)
    flip = noisy + rng.choice([-1, 1], 300)
    # One decode as a one-row table: the very same draws as the one-row form, and those the
    # same as before several decodes were possible (values of the earlier code, bd78183), so
    # earlier sittings' chances reproduce.
    assert safe_probability(flip[None], noisy[None], snrs) == safe_probability(flip, noisy, snrs)
    assert safe_probability(flip, noisy, snrs, sample_size=27) == 0.1165
    assert safe_probability(flip, noisy, snrs, sample_size=40, random_state=7) == 0.1635
    # A second decode one error worse on every sentence at 5 dB: a drawn sentence takes it
    # about half the time, so a draw of 40 passes only if none does (2 ** -40).
    worse = np.stack([noisy, noisy + (snrs == 5)])
    assert safe_probability(worse, noisy, snrs) == 0.0
    # The same decode on the input's side only makes the input worse: always passes.
    assert safe_probability(noisy, worse, snrs) == 1.0
    # Paired decodes: the input against itself always passes, however its decodes differ.
    assert safe_probability(worse, worse, snrs) == 1.0
    # ... and decode k is compared with decode k: one error fewer in each always passes,
    # though the setting's decode 1 has more errors than the input's decode 0.
    spread = np.stack([noisy, noisy + 3])
    assert safe_probability(spread - 1, spread, snrs) == 1.0
    # Each setting decode one error better or worse than the input, whole decodes: half
    # the drawn sentences take the worse one, a coin flip per sentence, like `flip`.
    coin = np.stack([noisy - 1, noisy + 1])
    p = safe_probability(coin, noisy, snrs, sample_size=40, n_resamples=4000)
    assert 0.03 < p < 0.35
    # Identical decodes change nothing but which random numbers are drawn.
    twice = safe_probability(np.stack([flip, flip]), noisy, snrs, n_resamples=4000)
    once = safe_probability(flip, noisy, snrs, n_resamples=4000)
    assert abs(twice - once) < 0.05
    with pytest.raises(ValueError, match="n_decodes, n_sentences"):
        safe_probability(np.zeros((2, 299), int), noisy, snrs)
    with pytest.raises(ValueError, match="2 decodes of the setting against 3 of the input"):
        safe_probability(worse, np.stack([noisy] * 3), snrs)
