"""scikit-learn scorers for denoising pipelines, built with :func:`sklearn.metrics.make_scorer`.

Signal scorers (higher is better) compare each prediction with its clean reference ``y``:
``si_sdr_scorer`` (dB), ``pesq_scorer`` (MOS), ``stoi_scorer``.

ASR scorers (lower is better, so scikit-learn reports them negated) run a speech recogniser
on each prediction and compare its text with a reference transcript: ``wer_scorer``,
``mer_scorer``, ``wil_scorer``. The reference transcripts come through scikit-learn's
metadata routing::

    import sklearn
    sklearn.set_config(enable_metadata_routing=True)
    wer = wer_scorer.set_score_request(transcripts=True)
    GridSearchCV(pipe, grid, scoring={"wer": wer, "si_sdr": si_sdr_scorer},
                 refit="si_sdr").fit(noisy, clean, transcripts=texts)

**When no transcripts are routed**, an ASR scorer transcribes the clean reference ``y`` with
the same recogniser and uses that text as the reference: it then measures how far
enhancement moves the recogniser from what it hears on clean speech, not from the truth.

Transcripts are cached by audio content (:class:`skdenoise.asr.CachedTranscriber`), so WER,
MER and WIL in one ``scoring`` dict decode each prediction once. ``make_asr_scorer(metric,
WhisperTranscriber())`` scores with Whisper instead of PocketSphinx.

Reference-free scorers (higher is better) ignore ``y`` and judge the predictions alone with
DNSMOS (:func:`skdenoise.metrics.dnsmos`, at 16 kHz): ``dnsmos_scorer`` (OVRL), or
``make_dnsmos_scorer("sig" | "bak" | "p808")``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import make_scorer

from . import metrics
from .asr import CachedTranscriber, as_transcriber
from .audio import load_at_rates

logger = logging.getLogger(__name__)

__all__ = [
    "asr_score",
    "dnsmos_score",
    "dnsmos_scorer",
    "make_asr_scorer",
    "make_dnsmos_scorer",
    "make_signal_scorer",
    "mer_scorer",
    "one_standard_error_refit",
    "pesq_scorer",
    "safe_probability",
    "si_sdr_scorer",
    "signal_score",
    "stoi_scorer",
    "wer_scorer",
    "wil_scorer",
]

ASR_METRICS = metrics.metric_names("words")
SIGNAL_METRICS = ("si_sdr", "pesq", "stoi")  # the signal metrics of metrics.METRICS


def _rates(y_pred, sample_rate: int | None) -> list[int]:
    """Each prediction's rate: carried by a :class:`~skdenoise.batch.WaveformList`, else
    ``sample_rate``; a plain list without a rate is an error, not a guess."""
    rates = getattr(y_pred, "rates", None)
    if rates is not None and all(rates):
        return [int(r) for r in rates]
    if sample_rate is None:
        raise ValueError(
            "the predictions carry no sample rate (a plain list of arrays): give the "
            "scorer's sample_rate=, or score a denoising pipeline's predict output."
        )
    return [int(sample_rate)] * len(y_pred)


def _references(y_true, rates: list[int]) -> list[np.ndarray]:
    """The clean references, each at its prediction's rate (bare arrays are at it)."""
    return load_at_rates(y_true, rates)


def signal_score(
    y_true, y_pred, *, metric: str = "si_sdr", sample_rate: int | None = None
) -> float:
    """Mean of a signal metric over recordings (the score function of the signal scorers).

    Parameters
    ----------
    y_true : sequence of path or ndarray
        Clean references, loaded at the predictions' rate.
    y_pred : sequence of ndarray
        Predictions (a :class:`~skdenoise.batch.WaveformList` carries its rate).
    metric : {"si_sdr", "pesq", "stoi"}
    sample_rate : int, optional
        Rate of ``y_pred`` when it does not carry one (else that is an error).

    Returns
    -------
    float
        Mean over the pairs the metric can score; pairs it cannot (e.g. a silent
        reference) are skipped with a logged warning; NaN if none can be scored.

    Examples
    --------
    >>> from skdenoise.scoring import signal_score
    >>> from skdenoise.synthetic import syllables
    >>> x = syllables()
    >>> round(signal_score([x], [x / 2], metric="si_sdr", sample_rate=8000), 1) > 50
    True
    """
    if metric not in SIGNAL_METRICS:
        raise ValueError(f"metric must be one of {SIGNAL_METRICS}, got {metric!r}.")
    rates = _rates(y_pred, sample_rate)
    references = _references(y_true, rates)
    values = []
    for i, (ref, est, rate) in enumerate(zip(references, y_pred, rates)):
        try:
            values.append(metrics.METRICS[metric](ref, est, rate))
        except ValueError as exc:
            logger.warning("%s: recording %d skipped: %s", metric, i, exc)
    return float(np.mean(values)) if values else float("nan")


def asr_score(
    y_true,
    y_pred,
    *,
    metric: str = "wer",
    transcriber=None,
    transcripts: Sequence[str] | None = None,
    sample_rate: int | None = None,
) -> float:
    """Corpus-level WER, MER or WIL of a recogniser on the predictions.

    Parameters
    ----------
    y_true : sequence of path or ndarray
        Clean references; transcribed to serve as reference texts when ``transcripts`` is
        None.
    y_pred : sequence of ndarray
        Predictions.
    metric : {"wer", "mer", "wil", "sub", "del", "ins"}
    transcriber : Transcriber or callable, optional
        ``transcribe(waveform, sample_rate) -> str``, or a function with that signature.
        Default: PocketSphinx (cached).
    transcripts : sequence of str, optional
        Reference texts aligned with ``y_pred`` (routed metadata).
    sample_rate : int, optional
        Rate of ``y_pred`` when it does not carry one.

    Returns
    -------
    float
        Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.scoring import asr_score
    >>> hears_yes = lambda waveform, sample_rate: "yes"
    >>> asr_score(None, [np.zeros(8000, "float32")], transcriber=hears_yes,
    ...           transcripts=["yes no"], sample_rate=8000)
    0.5
    """
    if metric not in ASR_METRICS:
        raise ValueError(f"metric must be one of {ASR_METRICS}, got {metric!r}.")
    transcriber = _default_transcriber() if transcriber is None else as_transcriber(transcriber)
    rates = _rates(y_pred, sample_rate)
    hypotheses = [transcriber.transcribe(np.asarray(p), r) for p, r in zip(y_pred, rates)]
    if transcripts is None:
        references = [
            transcriber.transcribe(ref, r) for ref, r in zip(_references(y_true, rates), rates)
        ]
    else:
        references = [str(t) for t in transcripts]
        if len(references) != len(hypotheses):
            raise ValueError(
                f"{len(hypotheses)} predictions but {len(references)} transcripts: route the "
                "transcripts aligned with X (GridSearchCV splits them with X)."
            )
    return metrics.text_measures(references, hypotheses)[metric]


#: One cache per transcriber object, so that every scorer built on the same recogniser
#: shares its transcripts: ``id -> (transcriber, cache)`` (the transcriber is kept alive so
#: that its id is not reused).
_CACHES: dict[int, tuple[object, CachedTranscriber]] = {}


def cached_transcriber(transcriber=None) -> CachedTranscriber:
    """The shared content cache of ``transcriber`` (``None``: default PocketSphinx)."""
    if isinstance(transcriber, CachedTranscriber):
        return transcriber
    key = id(transcriber)
    if key not in _CACHES:
        _CACHES[key] = (transcriber, CachedTranscriber(as_transcriber(transcriber)))
    return _CACHES[key][1]


def _default_transcriber() -> CachedTranscriber:
    return cached_transcriber(None)


def make_asr_scorer(metric: str = "wer", transcriber=None, *, sample_rate: int | None = None):
    """Build an ASR scorer (lower is better) with any recogniser.

    Parameters
    ----------
    metric : {"wer", "mer", "wil", "sub", "del", "ins"}
    transcriber : Transcriber or callable, optional
        ``transcribe(waveform, sample_rate) -> str`` or a callable with that signature;
        default PocketSphinx. It is wrapped in a content cache shared by every scorer built
        on the same transcriber object.
    sample_rate : int, optional
        Rate of predictions that do not carry one.

    Returns
    -------
    scorer
        Call ``.set_score_request(transcripts=True)`` under metadata routing to receive the
        reference transcripts; without them it transcribes the clean ``y``.

    Examples
    --------
    >>> import sklearn
    >>> from skdenoise.scoring import make_asr_scorer
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     wer = make_asr_scorer("wer").set_score_request(transcripts=True)
    >>> # GridSearchCV(pipe, grid, scoring=wer).fit(noisy, clean, transcripts=texts)
    """
    if metric not in ASR_METRICS:
        raise ValueError(f"metric must be one of {ASR_METRICS}, got {metric!r}.")
    cached = cached_transcriber(transcriber)
    return make_scorer(
        asr_score,
        greater_is_better=False,
        metric=metric,
        transcriber=cached,
        sample_rate=sample_rate,
    )


def make_signal_scorer(metric: str = "si_sdr", *, sample_rate: int | None = None):
    """Build a signal scorer (higher is better): ``"si_sdr"``, ``"pesq"`` or ``"stoi"``.

    Parameters
    ----------
    metric : {"si_sdr", "pesq", "stoi"}
        The metric.
    sample_rate : int, optional
        Rate of predictions that do not carry one.

    Returns
    -------
    sklearn scorer
        ``scorer(estimator, X, y)``, higher is better.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from skdenoise.scoring import make_signal_scorer
    >>> stoi_scorer = make_signal_scorer("stoi")
    >>> # cross_val_score(pipe, noisy, clean, scoring=stoi_scorer)
    """
    if metric not in SIGNAL_METRICS:
        raise ValueError(f"metric must be one of {SIGNAL_METRICS}, got {metric!r}.")
    return make_scorer(signal_score, metric=metric, sample_rate=sample_rate)


def dnsmos_score(
    y_true, y_pred, *, part: str = "ovrl", sample_rate: int | None = None, hop_s: float = 1.0
) -> float:
    """Mean DNSMOS of the predictions (``y_true`` is ignored: no reference is needed).

    Parameters
    ----------
    y_true : ignored
    y_pred : sequence of ndarray
        Predictions (a :class:`~skdenoise.batch.WaveformList` carries its rate).
    part : {"ovrl", "sig", "bak", "p808"}
    sample_rate : int, optional
        Rate of ``y_pred`` when it does not carry one.
    hop_s : float
        Seconds between DNSMOS windows.

    Returns
    -------
    float
        Mean MOS over the recordings DNSMOS can score; NaN if none.

    Examples
    --------
    >>> from skdenoise.scoring import dnsmos_score
    >>> from skdenoise.synthetic import syllables
    >>> 1.0 < dnsmos_score(None, [syllables()], sample_rate=8000) < 5.0
    True
    """
    if part not in metrics.DNSMOS_PARTS:
        raise ValueError(f"part must be one of {metrics.DNSMOS_PARTS}, got {part!r}.")
    values = []
    for i, (est, rate) in enumerate(zip(y_pred, _rates(y_pred, sample_rate))):
        try:
            values.append(metrics.dnsmos(np.asarray(est), rate, hop_s=hop_s)[part])
        except ValueError as exc:
            logger.warning("dnsmos: recording %d skipped: %s", i, exc)
    return float(np.mean(values)) if values else float("nan")


def make_dnsmos_scorer(part: str = "ovrl", *, sample_rate: int | None = None, hop_s: float = 1.0):
    """Build a reference-free DNSMOS scorer (higher is better) for one part of its output.

    Parameters
    ----------
    part : {"ovrl", "sig", "bak", "p808"}
        Which DNSMOS output.
    sample_rate : int, optional
        Rate of predictions that do not carry one.
    hop_s : float
        Seconds between DNSMOS windows.

    Returns
    -------
    sklearn scorer
        ``scorer(estimator, X, y)``, higher is better.

    Examples
    --------
    >>> from skdenoise.scoring import make_dnsmos_scorer
    >>> bak = make_dnsmos_scorer("bak")
    >>> # GridSearchCV(pipe, grid, scoring={"bak": bak}); no clean reference is read
    """
    if part not in metrics.DNSMOS_PARTS:
        raise ValueError(f"part must be one of {metrics.DNSMOS_PARTS}, got {part!r}.")
    return make_scorer(dnsmos_score, part=part, sample_rate=sample_rate, hop_s=hop_s)


si_sdr_scorer = make_signal_scorer("si_sdr")
dnsmos_scorer = make_dnsmos_scorer("ovrl")
pesq_scorer = make_signal_scorer("pesq")
stoi_scorer = make_signal_scorer("stoi")
wer_scorer = make_asr_scorer("wer")
mer_scorer = make_asr_scorer("mer")
wil_scorer = make_asr_scorer("wil")


def one_standard_error_refit(
    n_splits: int, *, error: str = "wer", prefer: str = "si_sdr", allow=None
):
    """A ``GridSearchCV`` ``refit`` callable for the one-standard-error rule.

    Word error rates measured on a few hundred words are noisy: among the candidates whose
    cross-validated ``error`` (a negated score, as scikit-learn stores errors) is within
    one standard error of the lowest, it picks the one with the best mean ``prefer`` score
    (e.g. the most noise removed).

    Parameters
    ----------
    n_splits : int
        The number of CV folds (the standard error is the folds' standard deviation over
        its square root).
    error, prefer : str
        Names of the two scorers in the search's ``scoring`` dict.
    allow : callable, optional
        ``allow(params) -> bool``: only the candidates it allows compete (e.g. those that
        keep a recogniser's WER at or below the input's at every SNR); at least one must be.

    Returns
    -------
    callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.scoring import one_standard_error_refit
    >>> refit = one_standard_error_refit(3)
    >>> results = {"mean_test_wer": np.array([-0.30, -0.31, -0.40]),
    ...            "std_test_wer": np.array([0.03, 0.03, 0.03]),
    ...            "mean_test_si_sdr": np.array([5.0, 9.0, 12.0])}
    >>> refit(results)  # the second is within one standard error of the best WER
    1
    >>> results["params"] = [{"dry": 0.4}, {"dry": 0.2}, {"dry": 0.0}]
    >>> one_standard_error_refit(3, allow=lambda p: p["dry"] != 0.2)(results)
    0
    """

    def refit(cv_results: dict) -> int:
        err = -np.asarray(cv_results[f"mean_test_{error}"], dtype=float)
        se = np.asarray(cv_results[f"std_test_{error}"]) / np.sqrt(n_splits)
        if allow is not None:
            allowed = np.array([bool(allow(p)) for p in cv_results["params"]])
            if not allowed.any():
                raise ValueError("one_standard_error_refit: allow() allows no candidate.")
            err = np.where(allowed, err, np.inf)
        best = int(np.argmin(err))
        close = np.flatnonzero(err <= err[best] + se[best])
        return int(close[np.argmax(np.asarray(cv_results[f"mean_test_{prefer}"])[close])])

    return refit


def safe_probability(
    errors: np.ndarray,
    input_errors: np.ndarray,
    groups: Sequence,
    *,
    sample_size: int = 40,
    n_resamples: int = 2000,
    random_state: int | None = 0,
) -> float:
    """How likely a setting keeps WER at or below the input's in every group of a new set.

    A paired bootstrap: in each of ``n_resamples`` draws, ``sample_size`` sentences are
    drawn with replacement from every group (e.g. every input SNR), and the draw passes if,
    in every group, the setting's errors summed over the drawn sentences are at most the
    unprocessed input's over the same sentences (the same references, so the same words:
    its corpus WER is at or below the input's). It estimates the chance that the setting
    meets "at or below the input at every SNR" on a dev set with ``sample_size`` sentences
    per SNR, which a single point estimate on a few hundred sentences does not: a setting
    whose WER is slightly below the input's on the selection set fails about half the time
    on a fresh set of the same size.

    A recogniser's transcript of a noisy sentence can itself change with an inaudible
    change of the audio (a dither, another processor). Given several decodes of each
    sentence (one row each, e.g. the audio as it is and with dithers), every drawn
    sentence also draws one of its decodes, so the chance includes that variability too.
    The draw is paired: decode ``k`` of the setting against decode ``k`` of the input
    (decoded the same way, e.g. the same dither), as on a dev set decoded on one machine,
    where a sentence the setting hands over unchanged has the input's transcript.

    Parameters
    ----------
    errors : array-like of int, shape (n_sentences,) or (n_decodes, n_sentences)
        Word errors of each sentence after the setting
        (:func:`skdenoise.metrics.word_errors`), one row per decode.
    input_errors : array-like of int, shape (n_sentences,) or (n_decodes, n_sentences)
        The same on the unprocessed input, decode ``k`` made as the setting's decode ``k``.
        Either side may have a single decode, which then stands against every decode of
        the other.
    groups : sequence, length n_sentences
        Each sentence's group (its input SNR).
    sample_size : int, default=40
        Sentences per group in each draw: the size of the set the target is checked on.
    n_resamples : int, default=2000
    random_state : int or None, default=0

    Returns
    -------
    float
        The fraction of draws that pass in every group, in [0, 1]; 1 when the setting's
        errors equal the input's on every sentence (and decode). With one decode each the
        draws, and so the result, are those of the one-row form.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.scoring import safe_probability
    >>> noisy = np.array([3, 2, 4, 1])
    >>> safe_probability(noisy, noisy, [0, 0, 5, 5])
    1.0
    >>> safe_probability(noisy + 1, noisy, [0, 0, 5, 5])
    0.0
    >>> decodes = np.stack([noisy, noisy + 1])  # the second decode is one error worse
    >>> 0.0 < safe_probability(decodes, noisy, [0, 0, 5, 5], sample_size=2) < 1.0
    True
    >>> safe_probability(decodes, decodes, [0, 0, 5, 5])  # paired: the input always passes
    1.0
    """
    errors = np.atleast_2d(np.asarray(errors, dtype=np.int64))
    input_errors = np.atleast_2d(np.asarray(input_errors, dtype=np.int64))
    groups = np.asarray(groups)
    if (
        errors.ndim != 2
        or input_errors.ndim != 2
        or groups.ndim != 1
        or errors.shape[1] != groups.size
        or input_errors.shape[1] != groups.size
    ):
        raise ValueError(
            "errors and input_errors must be (n_decodes, n_sentences) or (n_sentences,), "
            f"and groups 1-D of n_sentences, got {errors.shape}, {input_errors.shape} and "
            f"{groups.shape}."
        )
    if 1 < errors.shape[0] != input_errors.shape[0] > 1:
        raise ValueError(
            f"{errors.shape[0]} decodes of the setting against {input_errors.shape[0]} of the "
            "input: give both the same number, or one side a single decode."
        )
    if groups.size == 0:
        raise ValueError("no sentences to resample.")
    if sample_size < 1 or n_resamples < 1:
        raise ValueError("sample_size and n_resamples must be at least 1.")
    rng = np.random.default_rng(random_state)

    n_decodes = max(errors.shape[0], input_errors.shape[0])
    passed = np.ones(n_resamples, dtype=bool)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        draws = members[rng.integers(0, members.size, size=(n_resamples, sample_size))]
        # With one decode, draw nothing: the random stream stays the one-row form's.
        k = 0 if n_decodes == 1 else rng.integers(0, n_decodes, size=draws.shape)
        ours = errors[np.minimum(k, errors.shape[0] - 1), draws]
        theirs = input_errors[np.minimum(k, input_errors.shape[0] - 1), draws]
        passed &= (ours - theirs).sum(axis=1) <= 0
    return float(passed.mean())
