"""Quality metrics: plain functions, arrays (or texts) in, float out.

Signal metrics compare an estimate with its clean reference:

============  ==========================  ================  ===============
function      what                        unit / range      better
============  ==========================  ================  ===============
``si_sdr``    scale-invariant SDR         dB, unbounded     higher
``pesq``      ITU-T P.862 (P.862.2 wb)    MOS-LQO, 1.0-4.6  higher
``stoi``      short-time intelligibility  0-1               higher
============  ==========================  ================  ===============

Text metrics compare a recogniser's hypothesis with a reference transcript (jiwer), on
texts normalised the same way on both sides (:func:`normalize_text`):

=======  ===========================  ==================  ======
``wer``  word error rate              >= 0 (may be > 1)   lower
``mer``  match error rate             0-1                 lower
``wil``  word information lost        0-1                 lower
=======  ===========================  ==================  ======

Reference-free metrics need no clean signal (DNSMOS, Microsoft's deep noise suppression
MOS predictor, through the ``speechmos`` wheel's ONNX models):

==========  ==================================  ===========  ======
``dnsmos``  P.835 SIG, BAK, OVRL and P.808 MOS  MOS, 1-5     higher
==========  ==================================  ===========  ======

An estimate longer or shorter than its reference is trimmed to (or zero-padded to) the
reference's length.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .audio import fit_length

__all__ = [
    "DNSMOS_PARTS",
    "METRICS",
    "Metric",
    "dnsmos",
    "mer",
    "metric_names",
    "normalize_text",
    "number_words",
    "pesq",
    "si_sdr",
    "stoi",
    "text_measures",
    "wer",
    "wil",
    "word_errors",
]

#: Rates in Hz that PESQ supports.
PESQ_RATES = (8000, 16000)


def _pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference.ndim != 1 or estimate.ndim != 1:
        raise ValueError(
            f"reference and estimate must be 1-D waveforms, got shapes {reference.shape} "
            f"and {estimate.shape}."
        )
    if reference.size == 0:
        raise ValueError("the reference is empty (0 samples).")
    if not (np.isfinite(reference).all() and np.isfinite(estimate).all()):
        raise ValueError("reference or estimate holds NaN or infinite samples.")
    if not np.any(reference):
        raise ValueError(
            "the reference is silent (all zeros): the metric is undefined against silence."
        )
    return reference, fit_length(estimate, reference.size)


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio (Le Roux et al., 2019), in dB.

    Both signals are made zero-mean; the reference is scaled to best fit the estimate, and
    the ratio of its energy to that of the residual is returned.

    Parameters
    ----------
    reference : ndarray of shape (n_samples,)
        Clean signal; must not be silent.
    estimate : ndarray of shape (n_samples_est,)
        Trimmed or zero-padded to ``n_samples``.

    Returns
    -------
    float
        dB, within [-300, 300]: a perfect (or rescaled) estimate scores 300 dB.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.metrics import si_sdr
    >>> rng = np.random.default_rng(0)
    >>> s = rng.standard_normal(8000)
    >>> round(si_sdr(s, 0.5 * s)) > 100
    True
    """
    reference, estimate = _pair(reference, estimate)
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    energy = float(np.dot(reference, reference))
    if energy == 0.0:
        raise ValueError("the reference is constant: SI-SDR is undefined.")
    alpha = float(np.dot(estimate, reference)) / energy
    target = alpha * reference
    residual = estimate - target
    # Capped at +-300 dB: the residual's energy is floored at 1e-30 of the target's, so a
    # perfect (or rescaled) estimate scores 300 dB, and a silent estimate scores -300 dB.
    target_energy = float(np.dot(target, target))
    residual_energy = float(np.dot(residual, residual))
    if target_energy == 0.0:
        return -300.0
    value = 10.0 * np.log10(target_energy / max(residual_energy, 1e-30 * target_energy))
    return float(np.clip(value, -300.0, 300.0))


def pesq(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    *,
    mode: str | None = None,
) -> float:
    """Perceptual evaluation of speech quality (ITU-T P.862), MOS-LQO.

    Parameters
    ----------
    reference, estimate : ndarray of shape (n_samples,)
    sample_rate : {8000, 16000}
        Rate of both signals in Hz.
    mode : {"nb", "wb"}, optional
        Narrowband (P.862.1) or wideband (P.862.2). Default: ``"nb"`` at 8 kHz, ``"wb"`` at
        16 kHz.

    Returns
    -------
    float
        About 1.0 (bad) to 4.5 (nb) / 4.64 (wb).

    Raises
    ------
    ValueError
        Unsupported rate or mode, silent reference, or no speech found by PESQ.

    Examples
    --------
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.metrics import pesq
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 10.0, rng=0)
    >>> 1.0 < pesq(clean, noisy, 8000) < pesq(clean, clean, 8000)
    True
    """
    from pesq import NoUtterancesError, PesqError
    from pesq import pesq as _pesq

    if sample_rate not in PESQ_RATES:
        raise ValueError(
            f"PESQ needs 8000 or 16000 Hz audio, got {sample_rate} Hz: resample first "
            "(skdenoise.audio.resample)."
        )
    mode = mode or ("nb" if sample_rate == 8000 else "wb")
    if mode not in ("nb", "wb"):
        raise ValueError(f"mode must be 'nb' or 'wb', got {mode!r}.")
    if mode == "wb" and sample_rate != 16000:
        raise ValueError("wideband PESQ needs 16000 Hz audio.")
    reference, estimate = _pair(reference, estimate)
    try:
        return float(_pesq(sample_rate, reference, estimate, mode))
    except (NoUtterancesError, PesqError) as exc:
        raise ValueError(f"PESQ could not score this pair: {exc}") from exc


def stoi(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    *,
    extended: bool = False,
) -> float:
    """Short-time objective intelligibility (Taal et al., 2011), via ``pystoi``.

    Parameters
    ----------
    reference, estimate : ndarray of shape (n_samples,)
    sample_rate : int
        Rate of both signals in Hz (resampled internally to 10 kHz).
    extended : bool
        Extended STOI (Jensen & Taal, 2016).

    Returns
    -------
    float
        Within 0-1 for STOI (ESTOI may go slightly below 0).

    Examples
    --------
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.metrics import stoi
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 0.0, rng=0)
    >>> stoi(clean, noisy, 8000) < stoi(clean, clean, 8000)
    True
    """
    from pystoi import stoi as _stoi

    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}.")
    reference, estimate = _pair(reference, estimate)
    min_samples = int(0.4 * sample_rate)
    if reference.size < min_samples:
        raise ValueError(
            f"STOI needs at least 0.4 s of audio ({min_samples} samples at {sample_rate} Hz), "
            f"got {reference.size}."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(reference, estimate, sample_rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        # pystoi would return 1e-5 here, a number that looks like a (terrible) score.
        raise ValueError(
            "STOI needs at least 30 active-speech frames (about 0.4 s of speech after "
            "silences are removed); this reference has fewer."
        )
    return value


# ----------------------------------------------------------------------------- text metrics

_CONTRACTIONS = {
    r"\bwon't\b": "will not",
    r"\bcan't\b": "can not",
    r"\bshan't\b": "shall not",
    r"\blet's\b": "let us",
    r"\bain't\b": "is not",
    r"n't\b": " not",
    r"'re\b": " are",
    r"'m\b": " am",
    r"'ll\b": " will",
    r"'ve\b": " have",
    r"'d\b": " would",
    r"\bit's\b": "it is",
    r"\bthat's\b": "that is",
    r"\bwhat's\b": "what is",
    r"\bthere's\b": "there is",
    r"\bhe's\b": "he is",
    r"\bshe's\b": "she is",
}


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> str:
    """Spell a non-negative integer below 10**12 in English words ("twenty one").

    Parameters
    ----------
    n : int
        The number.

    Returns
    -------
    str

    Examples
    --------
    >>> from skdenoise.metrics import number_words
    >>> number_words(1999)
    'one thousand nine hundred ninety nine'
    """
    if n < 0 or n >= 10**12:
        raise ValueError(f"number_words spells 0 to 10**12 - 1, got {n}.")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return _ONES[n // 100] + " hundred" + rest
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = "" if n % size == 0 else " " + number_words(n % size)
            return number_words(n // size) + " " + name + rest
    raise AssertionError("unreachable")


def _spell_number(match: re.Match) -> str:
    digits, suffix = match.group(1).replace(",", ""), match.group(2)
    if "." in digits:
        whole, frac = digits.split(".", 1)
        return f" {number_words(int(whole))} point {' '.join(_ONES[int(d)] for d in frac)} "
    words = number_words(int(digits))
    if suffix:  # 1st, 2nd, 21st, 4th -> ordinal of the last word
        *head, last = words.split()
        if last in _ORDINAL:
            last = _ORDINAL[last]
        elif last.endswith("y"):
            last = last[:-1] + "ieth"
        else:
            last += "th"
        words = " ".join([*head, last])
    return f" {words} "


def normalize_text(text: str) -> str:
    """Normalise a transcript for scoring; both recognisers' output and the references go
    through it, so that WER counts words, not spelling conventions.

    Lowercase; typographic apostrophes made plain; contractions expanded ("don't" ->
    "do not"); numbers written in digits spelled out as words the way references write them
    ("21" -> "twenty one", "3.5" -> "three point five", "2nd" -> "second", "10%" -> "ten
    percent"; Whisper writes digits, PocketSphinx and the corpora's references write words);
    punctuation removed (a hyphen becomes a space); whitespace collapsed.

    Parameters
    ----------
    text : str
        A transcript.

    Returns
    -------
    str

    Examples
    --------
    >>> from skdenoise.metrics import normalize_text
    >>> normalize_text("  Don't STOP -- it's   well-known!")
    'do not stop it is well known'
    >>> normalize_text("Call 911 at 10%, 2nd floor.")
    'call nine hundred eleven at ten percent second floor'
    """
    if not isinstance(text, str):
        raise TypeError(f"a transcript must be a str, got {type(text).__name__}.")
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, repl in _CONTRACTIONS.items():
        text = re.sub(pattern, repl, text)
    text = text.replace("%", " percent")
    text = re.sub(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th)?\b", _spell_number, text)
    text = re.sub(r"[-_/]", " ", text)
    text = re.sub(r"[^\w\s]", "", text)
    return " ".join(text.split())


def _texts(value: str | Sequence[str], what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    values = list(value)
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{what} must be a str or a sequence of str.")
    return values


def text_measures(
    reference: str | Sequence[str], hypothesis: str | Sequence[str]
) -> dict[str, float]:
    """WER, MER and WIL of ``hypothesis`` against ``reference``, after normalisation, and
    WER split by error type.

    Lists are scored as one corpus (errors summed over all sentences, as jiwer does).
    Sentences whose normalised reference is empty are dropped; if every reference is empty,
    the error is 0 when every hypothesis is empty too, else 1 (all of it insertions).

    ``sub``, ``del`` and ``ins`` are the substitutions, deletions and insertions per
    reference word; they sum to ``wer``. They say *how* a recogniser errs: a denoiser can
    trade deletions (the recogniser gives up on noisy speech) for substitutions and
    insertions (it confidently hears words in processed audio) at an unchanged or worse WER.

    Parameters
    ----------
    reference, hypothesis : str or sequence of str
        Reference and recognised text (lists are scored as one corpus).

    Returns
    -------
    dict
        ``{"wer": ..., "mer": ..., "wil": ..., "sub": ..., "del": ..., "ins": ...}``.

    Examples
    --------
    >>> from skdenoise.metrics import text_measures
    >>> text_measures("Turn left at 21st street", "turn left at twenty first street")["wer"]
    0.0
    >>> m = text_measures("the cat sat", "a cat sat down")
    >>> [round(m[k], 3) for k in ("wer", "sub", "del", "ins")]
    [0.667, 0.333, 0.0, 0.333]
    """
    import jiwer

    refs = _texts(reference, "reference")
    hyps = _texts(hypothesis, "hypothesis")
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses.")
    if not refs:
        raise ValueError("no transcripts to score.")
    pairs = [(normalize_text(r), normalize_text(h)) for r, h in zip(refs, hyps)]
    kept = [(r, h) for r, h in pairs if r]
    if not kept:
        value = 0.0 if all(not h for _, h in pairs) else 1.0
        return {"wer": value, "mer": value, "wil": value, "sub": 0.0, "del": 0.0, "ins": value}
    # jiwer rejects an empty hypothesis string; an empty hypothesis means all deletions.
    words = jiwer.process_words([r for r, _ in kept], [h or "" for _, h in kept])
    n_words = words.hits + words.substitutions + words.deletions
    return {
        "wer": float(words.wer),
        "mer": float(words.mer),
        "wil": float(words.wil),
        "sub": words.substitutions / n_words,
        "del": words.deletions / n_words,
        "ins": words.insertions / n_words,
    }


def word_errors(
    reference: Sequence[str], hypothesis: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's word errors and reference words, after normalisation.

    The corpus WER of any subset of sentences is ``errors[i].sum() / words[i].sum()``, the
    same figure :func:`wer` gives for that subset; so resampling sentences (a bootstrap)
    needs no second alignment.

    Parameters
    ----------
    reference, hypothesis : sequence of str, length n_sentences
        Aligned reference and recognised texts.

    Returns
    -------
    errors : ndarray of int, shape (n_sentences,)
        Substitutions + deletions + insertions of each sentence.
    words : ndarray of int, shape (n_sentences,)
        Words in each normalised reference. A sentence whose reference is empty counts
        0 errors and 0 words: :func:`wer` drops it too.

    Examples
    --------
    >>> from skdenoise.metrics import word_errors
    >>> errors, words = word_errors(["the cat sat", "a dog"], ["the cat", "a big dog"])
    >>> errors.tolist(), words.tolist()
    ([1, 1], [3, 2])
    """
    import jiwer

    refs = _texts(reference, "reference")
    hyps = _texts(hypothesis, "hypothesis")
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses.")
    errors = np.zeros(len(refs), dtype=np.int64)
    words = np.zeros(len(refs), dtype=np.int64)
    for i, (r, h) in enumerate(zip(refs, hyps)):
        r, h = normalize_text(r), normalize_text(h)
        words[i] = len(r.split())
        if not r:
            continue
        out = jiwer.process_words(r, h)
        errors[i] = out.substitutions + out.deletions + out.insertions
    return errors, words


def wer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words.

    Parameters
    ----------
    reference, hypothesis : str or sequence of str
        One sentence each, or aligned lists scored as one corpus.

    Returns
    -------
    float
        0 is perfect; can exceed 1 when the hypothesis inserts many words.

    Examples
    --------
    >>> from skdenoise.metrics import wer
    >>> wer("the cat sat", "The cat sat!")
    0.0
    >>> round(wer("the cat sat", "the cat"), 3)
    0.333
    """
    return text_measures(reference, hypothesis)["wer"]


def mer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Match error rate: errors / (hits + errors), within [0, 1]. Lower is better.

    Parameters
    ----------
    reference, hypothesis : str or sequence of str
        Reference and recognised text (lists are scored as one corpus).

    Returns
    -------
    float

    Examples
    --------
    >>> from skdenoise.metrics import mer
    >>> mer("the cat sat", "the cat sat down")
    0.25
    """
    return text_measures(reference, hypothesis)["mer"]


def wil(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Word information lost, within [0, 1]. Lower is better.

    Parameters
    ----------
    reference, hypothesis : str or sequence of str
        Reference and recognised text (lists are scored as one corpus).

    Returns
    -------
    float

    Examples
    --------
    >>> from skdenoise.metrics import wil
    >>> wil("the cat sat", "the cat sat")
    0.0
    """
    return text_measures(reference, hypothesis)["wil"]


# ----------------------------------------------------------------------------- reference-free

#: What :func:`dnsmos` returns: P.835 signal, background and overall quality, and P.808.
DNSMOS_PARTS = ("ovrl", "sig", "bak", "p808")
#: Rate DNSMOS's models run at, in Hz.
DNSMOS_RATE = 16000
#: Length of the windows DNSMOS's models score, in seconds.
DNSMOS_WINDOW_S = 9.01
_DNSMOS: dict[int, object] = {}


def _dnsmos_model():
    """One DNSMOS model pair per process, built from the ``speechmos`` wheel's ONNX files,
    with one thread per session (joblib workers then do not oversubscribe the cores)."""
    import os
    import threading

    key = threading.get_ident()
    if key not in _DNSMOS:
        try:
            import onnxruntime as ort
            from speechmos import dnsmos as _dnsmos_module
        except ImportError as exc:
            raise ImportError(
                f"DNSMOS needs the speechmos wheel, onnxruntime and requests ({exc}): they are "
                "skdenoise's dependencies; reinstall it (pip install skdenoise)."
            ) from exc
        folder = os.path.join(os.path.dirname(_dnsmos_module.__file__), "dnsmos_models")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model = _dnsmos_module.DNSMOS.__new__(_dnsmos_module.DNSMOS)
        model.primary_model_path = os.path.join(folder, "sig_bak_ovr.onnx")
        model.onnx_sess = ort.InferenceSession(model.primary_model_path, options)
        model.p808_onnx_sess = ort.InferenceSession(os.path.join(folder, "model_v8.onnx"), options)
        _DNSMOS[key] = model
    return _DNSMOS[key]


def dnsmos(waveform: np.ndarray, sample_rate: int, *, hop_s: float = 1.0) -> dict[str, float]:
    """DNSMOS P.835 (SIG, BAK, OVRL) and P.808 MOS of a recording, with no reference.

    The models (Microsoft's DNS Challenge, MIT licence, shipped in the ``speechmos`` wheel)
    run at 16 kHz: other rates are resampled (soxr) first, so a narrowband recording is
    judged as the wideband listener of the models' training would hear it, with nothing
    above 4 kHz. Recordings shorter than 9.01 s are looped to that length, as ``speechmos``
    does. The models score 9.01 s windows ``hop_s`` apart (1 s, as ``speechmos`` does, by
    default) and the scores are averaged. A larger hop is several times faster (9.01 s:
    about seven times on short recordings) but is not the reference computation: on noisy
    recordings its scores can differ from speechmos's by a few tenths, so compare only
    scores made with the same hop.

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
        Float samples (clipped to [-1, 1]).
    sample_rate : int
        Hz.
    hop_s : float
        Seconds between the scored windows (positive).

    Returns
    -------
    dict
        ``{"ovrl", "sig", "bak", "p808"}``, each a MOS in about 1-5; higher is better.

    Raises
    ------
    ValueError
        An empty, silent or non-finite recording.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.metrics import dnsmos
    >>> t = np.arange(16000) / 16000
    >>> scores = dnsmos(0.1 * np.sin(2 * np.pi * 220 * t), 16000)
    >>> sorted(scores)
    ['bak', 'ovrl', 'p808', 'sig']
    """
    from .audio import resample

    x = np.asarray(waveform, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"DNSMOS needs a non-empty 1-D waveform, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("the recording holds NaN or infinite samples.")
    if not np.any(x):
        raise ValueError("the recording is silent (all zeros): DNSMOS is undefined.")
    if not hop_s > 0:
        raise ValueError(f"hop_s must be a positive number of seconds, got {hop_s!r}.")
    if sample_rate != DNSMOS_RATE:
        x = resample(x, sample_rate, DNSMOS_RATE)
    x = np.clip(x, -1.0, 1.0)
    model = _dnsmos_model()
    window = int(DNSMOS_WINDOW_S * DNSMOS_RATE)
    while len(x) < window:
        x = np.concatenate([x, x])
    # As speechmos: windows start every hop_s seconds while a whole window fits.
    hop = max(1, int(hop_s * DNSMOS_RATE))
    starts = list(range(0, len(x) - window + 1, hop))
    scores = []
    for start in starts:
        segment = x[start : start + window]
        mel = model.audio_melspec(audio=segment[:-160]).astype(np.float32)[np.newaxis]
        p808 = model.p808_onnx_sess.run(None, {"input_1": mel})[0][0][0]
        raw = model.onnx_sess.run(None, {"input_1": segment[np.newaxis]})[0][0]
        sig, bak, ovrl = model.get_polyfit_val(*raw, False)
        scores.append((ovrl, sig, bak, p808))
    mean = np.mean(np.asarray(scores, dtype=np.float64), axis=0)
    return dict(zip(("ovrl", "sig", "bak", "p808"), (float(v) for v in mean)))


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Metric:
    """One metric as scorers, evaluation and tables know it.

    Parameters
    ----------
    name : str
        Key (``"pesq"``, ``"dnsmos_ovrl"``, ``"wer"``...), as in result columns.
    label : str
        Name in tables and plots.
    higher_is_better : bool
        Direction.
    kind : {"signal", "reference_free", "words"}
        Needs a clean reference; needs none; compares transcripts.

    Examples
    --------
    >>> from skdenoise.metrics import METRICS
    >>> METRICS["si_sdr"].label, METRICS["wer"].higher_is_better
    ('SI-SDR (dB)', False)
    """

    name: str
    label: str
    higher_is_better: bool
    kind: str

    def __call__(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
        """Score ``estimate`` against ``reference`` (signal metrics only).

        Parameters
        ----------
        reference, estimate : ndarray of shape (n_samples,)
            Clean reference and estimate, at ``sample_rate``.
        sample_rate : int
            Hz.

        Returns
        -------
        float
        """
        if self.kind != "signal":
            raise ValueError(f"{self.name} is not a signal metric.")
        if self.name == "si_sdr":
            return si_sdr(reference, estimate)
        return {"pesq": pesq, "stoi": stoi}[self.name](reference, estimate, sample_rate)


#: Every metric, by name: the one table that scorers, evaluation, reports and plots read.
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("pesq", "PESQ", True, "signal"),
        Metric("stoi", "STOI", True, "signal"),
        Metric("si_sdr", "SI-SDR (dB)", True, "signal"),
        Metric("dnsmos_ovrl", "DNSMOS OVRL", True, "reference_free"),
        Metric("dnsmos_sig", "DNSMOS SIG", True, "reference_free"),
        Metric("dnsmos_bak", "DNSMOS BAK", True, "reference_free"),
        Metric("dnsmos_p808", "DNSMOS P.808", True, "reference_free"),
        Metric("wer", "WER", False, "words"),
        Metric("mer", "MER", False, "words"),
        Metric("wil", "WIL", False, "words"),
        Metric("sub", "substitutions", False, "words"),
        Metric("del", "deletions", False, "words"),
        Metric("ins", "insertions", False, "words"),
    )
}


def metric_names(kind: str) -> tuple[str, ...]:
    """Names of the metrics of one kind, in table order.

    Parameters
    ----------
    kind : {"signal", "reference_free", "words"}
        The kind.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> from skdenoise.metrics import metric_names
    >>> metric_names("signal")
    ('pesq', 'stoi', 'si_sdr')
    """
    return tuple(name for name, m in METRICS.items() if m.kind == kind)
