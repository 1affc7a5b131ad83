"""Audio I/O: the one place where recordings are read, checked, resampled and written.

Everything that turns a user's input (a path, an array, an ``(array, sample_rate)`` pair)
into a float32 mono waveform goes through :func:`to_waveform`, and everything the package
writes goes through :func:`write_wav`, which never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import stat
import tempfile
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

logger = logging.getLogger(__name__)

__all__ = [
    "DECODED",
    "ArrayReader",
    "AudioError",
    "DecodedCount",
    "FileReader",
    "StreamWriter",
    "atomic_path",
    "audio_info",
    "check_recordings",
    "commit_file",
    "fit_length",
    "load_at_rates",
    "load_recordings",
    "load_waveforms",
    "read_audio",
    "read_recording",
    "read_segment",
    "read_span",
    "resample",
    "resample_to_file",
    "to_waveform",
    "write_error",
    "write_wav",
]

PathLike = str | os.PathLike
#: One recording as a user may give it: a path, an array, or ``(array, sample_rate)``.
Recording = PathLike | np.ndarray | tuple

#: Largest number of channels accepted on the channel axis of a 2-D array.
MAX_CHANNELS = 64


class AudioError(ValueError):
    """A recording cannot be used. The message names the recording and the problem.

    Examples
    --------
    >>> from skdenoise.audio import AudioError, read_audio
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "notes.wav"
    >>> _ = bad.write_text("not audio")
    >>> try:
    ...     read_audio(bad)
    ... except AudioError as exc:
    ...     print(str(exc).split(":")[1].strip())
    not a readable audio file (Error opening ...
    """


def is_path(item: Any) -> bool:
    """Whether ``item`` is a path (``str`` or :class:`os.PathLike`)."""
    return isinstance(item, (str, os.PathLike))


def describe(item: Any, index: int | None = None, *, what: str = "recording") -> str:
    """Name a recording for messages: its path, or ``"<what> <index>"`` for an array."""
    if is_path(item):
        return str(item)
    if index is None:
        return what
    return f"{what} {index}"


def check_recordings(recordings: Any, *, what: str = "X") -> list:
    """Turn ``recordings`` into a list of single recordings, refusing ambiguous shapes.

    Parameters
    ----------
    recordings : sequence of recordings, or ndarray of shape (n_recordings, n_samples)
        A list or tuple of paths/arrays, or a 2-D array whose rows are mono recordings.
    what : str
        Name used in error messages (``"X"``, ``"y"``...).

    Returns
    -------
    list
        One entry per recording, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import check_recordings
    >>> len(check_recordings(np.zeros((3, 100))))
    3
    """
    if is_path(recordings):
        raise TypeError(
            f"{what} must be a sequence of recordings, got the single path {recordings!r}: "
            f"wrap it in a list, e.g. [{str(recordings)!r}]."
        )
    if isinstance(recordings, np.ndarray):
        if recordings.ndim == 1:
            if recordings.dtype == object:
                return list(recordings)
            raise AudioError(
                f"{what} is a single 1-D array: pass a list of recordings, e.g. [waveform]."
            )
        if recordings.ndim == 2:
            return list(recordings)
        raise AudioError(
            f"{what} is a {recordings.ndim}-D array: pass a list of 1-D (mono) or 2-D "
            "(multichannel) arrays, or a 2-D array of shape (n_recordings, n_samples)."
        )
    if isinstance(recordings, (bytes, bytearray)) or not isinstance(recordings, Iterable):
        raise TypeError(
            f"{what} must be a sequence of paths or arrays, got {type(recordings).__name__}."
        )
    items = list(recordings)
    if not items:
        raise AudioError(f"{what} is empty: give at least one recording.")
    return items


class DecodedCount:
    """How many decoded recordings (arrays from :func:`read_audio` and
    :func:`read_segment`) are alive in this process, and the most at once.

    Training streams decode recordings as they go and drop them; this counter proves it
    (a test asserts a bound on :attr:`peak` while streaming hundreds of files).

    Attributes
    ----------
    alive : int
        Decoded arrays not yet freed.
    peak : int
        The largest ``alive`` since the last :meth:`reset`.
    total : int
        Arrays decoded so far.

    Examples
    --------
    >>> from skdenoise.audio import DECODED
    >>> DECODED.reset() >= 0
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alive = 0
        self.peak = 0
        self.total = 0

    def _add(self) -> None:
        with self._lock:
            self.total += 1
            self.alive += 1
            self.peak = max(self.peak, self.alive)

    def _drop(self) -> None:
        with self._lock:
            self.alive -= 1

    def reset(self) -> int:
        """Start a new peak from the arrays alive now; returns that number."""
        with self._lock:
            self.peak = self.alive
            return self.alive


#: The process's :class:`DecodedCount`.
DECODED = DecodedCount()


def _decoded(array: np.ndarray) -> np.ndarray:
    """Count ``array`` among the decoded recordings until it is freed."""
    DECODED._add()
    weakref.finalize(array, DECODED._drop)
    return array


def read_audio(
    path: PathLike,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
) -> tuple[np.ndarray, int]:
    """Read an audio file as float32.

    Parameters
    ----------
    path : str or PathLike
        Any file that soundfile (libsndfile) reads: WAV, FLAC, OGG, MP3, AIFF...
    sample_rate : int, optional
        Resample to this rate in Hz. ``None`` keeps the file's rate.
    mono : bool
        Average the channels into one.

    Returns
    -------
    waveform : ndarray of shape (n_samples,) or (n_channels, n_samples)
        Samples in [-1, 1].
    sample_rate : int
        The rate of ``waveform`` in Hz.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    AudioError
        The file is not audio that soundfile can decode.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skdenoise.audio import read_audio, write_wav
    >>> path = write_wav(tempfile.mkdtemp() + "/a.wav", np.zeros(16000, "float32"), 16000)
    >>> waveform, rate = read_audio(path, sample_rate=8000)
    >>> waveform.shape, rate
    ((8000,), 8000)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file.")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file.")
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(
            f"{path}: not a readable audio file ({exc}). "
            "Give a WAV, FLAC, OGG or another format that libsndfile reads."
        ) from exc
    waveform = data.mean(axis=1) if mono else data.T
    if sample_rate is not None and rate != sample_rate:
        waveform = resample(waveform, rate, sample_rate)
        rate = sample_rate
    return _decoded(np.ascontiguousarray(waveform, dtype=np.float32)), int(rate)


def resample(waveform: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality).

    Parameters
    ----------
    waveform : ndarray of shape (..., n_samples)
    orig_rate, target_rate : int
        Rates in Hz.

    Returns
    -------
    ndarray of shape (..., ceil(n_samples * target_rate / orig_rate)), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import resample
    >>> resample(np.zeros(8000, "float32"), 8000, 16000).shape
    (16000,)
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if orig_rate == target_rate:
        return waveform
    import soxr

    # What librosa.resample(res_type="soxr_hq") computes, without importing librosa.
    out = np.apply_along_axis(
        soxr.resample, -1, waveform, in_rate=orig_rate, out_rate=target_rate, quality="soxr_hq"
    )
    n_out = int(np.ceil(waveform.shape[-1] * float(target_rate) / orig_rate))
    return np.asarray(fit_length(out, n_out), dtype=np.float32)


def fit_length(waveform: np.ndarray, n_samples: int) -> np.ndarray:
    """``waveform`` cut, or zero-padded at the end, to ``n_samples`` along its last axis.

    Parameters
    ----------
    waveform : ndarray of shape (..., n)
        Samples.
    n_samples : int
        Length wanted.

    Returns
    -------
    ndarray of shape (..., n_samples)

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import fit_length
    >>> fit_length(np.ones(3), 5).tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0]
    """
    missing = n_samples - waveform.shape[-1]
    if missing <= 0:
        return waveform[..., :n_samples]
    return np.pad(waveform, [(0, 0)] * (waveform.ndim - 1) + [(0, missing)])


def resample_stream(orig_rate: int, target_rate: int):
    """A streaming resampler with the same quality as :func:`resample`, for audio read and
    written block by block: ``stream.resample_chunk(block, last=...)`` on 1-D float32."""
    import soxr

    return soxr.ResampleStream(orig_rate, target_rate, 1, dtype="float32", quality="HQ")


def to_mono(waveform: np.ndarray, *, name: str = "recording") -> np.ndarray:
    """Mix a 1-D or 2-D array down to one channel.

    A 2-D array is multichannel; its shorter axis is taken as the channel axis, so both
    soundfile's ``(n_samples, n_channels)`` and librosa's ``(n_channels, n_samples)`` work.
    """
    waveform = np.asarray(waveform)
    if waveform.ndim == 1:
        return waveform
    if waveform.ndim == 2:
        channel_axis = 0 if waveform.shape[0] <= waveform.shape[1] else 1
        if waveform.shape[channel_axis] > MAX_CHANNELS:
            raise AudioError(
                f"{name}: a 2-D array of shape {waveform.shape} is read as multichannel audio, "
                f"but {waveform.shape[channel_axis]} channels is more than {MAX_CHANNELS}. "
                "Pass a list of 1-D arrays, one per recording."
            )
        return waveform.mean(axis=channel_axis)
    raise AudioError(
        f"{name}: a {waveform.ndim}-D array of shape {waveform.shape} is not a recording. "
        "Give a 1-D (mono) or 2-D (multichannel) array."
    )


def pcm_to_float(waveform: np.ndarray) -> np.ndarray:
    """Integer PCM to float in [-1, 1] as soundfile reads it; floats pass through.

    Signed integers are divided by ``2**(bits - 1)``; unsigned ones are offset binary (8-bit
    WAV's convention): ``2**(bits - 1)`` is subtracted first, so uint8 128 is silence.
    Booleans become 0.0 and 1.0.
    """
    waveform = np.asarray(waveform)
    kind = waveform.dtype.kind
    if kind == "i":
        return waveform.astype(np.float64) / float(2 ** (8 * waveform.dtype.itemsize - 1))
    if kind == "u":
        half = float(2 ** (8 * waveform.dtype.itemsize - 1))
        return (waveform.astype(np.float64) - half) / half
    if kind == "b":
        return waveform.astype(np.float64)
    return waveform


def check_waveform(
    waveform: np.ndarray,
    *,
    name: str = "recording",
    allow_silent: bool = False,
) -> np.ndarray:
    """Check that a mono waveform is usable and return it as contiguous float32.

    Raises
    ------
    AudioError
        Empty, non-numeric, NaN/inf samples, or (unless ``allow_silent``) all zeros.
    """
    if waveform.dtype.kind not in "fiub":
        raise AudioError(f"{name}: samples of dtype {waveform.dtype} are not numbers.")
    waveform = np.ascontiguousarray(pcm_to_float(waveform), dtype=np.float32)
    if waveform.size == 0:
        raise AudioError(f"{name}: the recording is empty (0 samples).")
    finite = np.isfinite(waveform)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise AudioError(
            f"{name}: {int((~finite).sum())} samples are NaN or infinite (first at sample "
            f"{first}). Clean or drop this recording."
        )
    if not allow_silent and not np.any(waveform):
        raise AudioError(
            f"{name}: every sample is zero (silent recording); there is nothing to denoise. "
            "Drop it from the input."
        )
    return waveform


#: ``array_rate`` default of :func:`to_waveform`: bare arrays are at the target rate.
AT_TARGET = "target"


def no_rate_error(name: str) -> AudioError:
    """The one-line error for an array given without its sample rate."""
    return AudioError(
        f"{name}: an array without its sample rate: give (array, sample_rate) pairs, or "
        "the rate with sample_rate= (predict, fit, score), or set load__array_rate on the "
        "pipeline."
    )


def read_recording(
    item: Recording,
    *,
    array_rate: int | None,
    name: str = "recording",
    allow_silent: bool = False,
) -> tuple[np.ndarray, int]:
    """One recording, as a user gives it, as a float32 mono waveform at its own rate.

    Parameters
    ----------
    item : path, ndarray or (ndarray, int)
        A file (its rate is the file's); an array with its rate; or a bare array, whose
        rate is ``array_rate``.
    array_rate : int or None
        Rate of a bare array in Hz; ``None``: a bare array is an error (its rate is not
        known, and guessing it gives silently wrong results).
    name : str
        How to name the recording in error messages.
    allow_silent : bool
        Accept a recording whose samples are all zero.

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float32
    sample_rate : int

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import read_recording
    >>> wave, rate = read_recording((np.ones(160) / 4, 16000), array_rate=None)
    >>> wave.shape, rate
    ((160,), 16000)
    >>> try:
    ...     read_recording(np.ones(160), array_rate=None, name="X[0]")
    ... except ValueError as exc:
    ...     print(str(exc)[:44])
    X[0]: an array without its sample rate: give
    """
    if is_path(item):
        waveform, rate = read_audio(item, mono=True)
        return check_waveform(waveform, name=str(item), allow_silent=allow_silent), int(rate)
    rate = array_rate
    if isinstance(item, tuple):
        if len(item) != 2 or not np.isscalar(item[1]):
            raise AudioError(f"{name}: a tuple must be (waveform, sample_rate).")
        item, rate = item
        rate = int(rate)
        if rate <= 0:
            raise AudioError(f"{name}: sample rate {rate} Hz is not positive.")
    elif rate is None:
        raise no_rate_error(name)
    try:
        array = np.asarray(item)
    except (TypeError, ValueError) as exc:
        raise AudioError(f"{name}: cannot be read as an array of samples ({exc}).") from exc
    if array.dtype == object:
        raise AudioError(f"{name}: is a {type(item).__name__}, not a path or an array of samples.")
    if array.dtype.kind not in "fiub":
        raise AudioError(f"{name}: samples of dtype {array.dtype} are not numbers.")
    # Integers are scaled before channels are mixed (a mean of int16 is no longer int16).
    mono = to_mono(pcm_to_float(array), name=name)
    return check_waveform(mono, name=name, allow_silent=allow_silent), int(rate)


def to_waveform(
    item: Recording,
    *,
    sample_rate: int,
    mono: bool = True,
    name: str = "recording",
    allow_silent: bool = False,
    array_rate: int | str | None = AT_TARGET,
) -> np.ndarray:
    """Turn one recording, as a user gives it, into a float32 mono waveform at
    ``sample_rate`` (:func:`read_recording`, then resampled).

    Parameters
    ----------
    item : path, ndarray or (ndarray, int)
        A file; a bare array (at ``array_rate``); or an array with its own rate in Hz.
    sample_rate : int
        Rate of the result, in Hz.
    mono : bool
        Mix channels down. Only ``True`` is supported by the denoiser.
    name : str
        How to name the recording in error messages.
    allow_silent : bool
        Accept a recording whose samples are all zero (clean targets may be silent).
    array_rate : int, None or "target"
        Rate of a bare array: ``"target"`` (the default, for callers that hold arrays at
        the rate they ask for) means ``sample_rate``; ``None`` makes a bare array an error.

    Returns
    -------
    ndarray of shape (n_samples,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import to_waveform
    >>> to_waveform((np.ones(16000, "float32") / 4, 16000), sample_rate=8000).shape
    (8000,)
    """
    if not mono:
        raise ValueError("only mono=True is supported: the denoiser works on one channel.")
    if is_path(item):
        waveform, _ = read_audio(item, sample_rate=sample_rate, mono=True)
        return check_waveform(waveform, name=str(item), allow_silent=allow_silent)
    waveform, rate = read_recording(
        item,
        array_rate=sample_rate if array_rate == AT_TARGET else array_rate,
        name=name,
        allow_silent=allow_silent,
    )
    if rate != sample_rate:
        waveform = resample(waveform, rate, sample_rate)
    return waveform


def load_waveforms(
    recordings: Sequence[Recording],
    *,
    sample_rate: int,
    what: str = "X",
    allow_silent: bool = False,
    progress: bool = False,
    array_rate: int | str | None = AT_TARGET,
) -> tuple[list[np.ndarray], list[str]]:
    """Load many recordings with :func:`to_waveform`.

    Parameters
    ----------
    recordings : sequence of path, ndarray or (ndarray, int)
        As :func:`to_waveform` takes them.
    sample_rate : int
        Rate of the results, in Hz.
    what : str
        Name used in error messages.
    allow_silent : bool
        Accept all-zero recordings.
    progress : bool
        Show a progress bar.
    array_rate : int, None or "target"
        Rate of bare arrays (see :func:`to_waveform`).

    Returns
    -------
    waveforms : list of ndarray of shape (n_samples,)
    names : list of str
        The path of each file, or ``"<what>[i]"`` for an array.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import load_waveforms
    >>> waves, names = load_waveforms([np.ones(4, "float32") / 2], sample_rate=8000)
    >>> names, waves[0].shape
    (['X[0]'], (4,))
    """
    items = check_recordings(recordings, what=what)
    waveforms, names = [], []
    iterator: Iterable = enumerate(items)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=len(items), desc=f"loading {what}", unit="file")
    for i, item in iterator:
        name = _item_name(item, i, what)
        waveforms.append(
            to_waveform(
                item,
                sample_rate=sample_rate,
                name=name,
                allow_silent=allow_silent,
                array_rate=array_rate,
            )
        )
        names.append(name)
    return waveforms, names


def _item_name(item: Any, index: int, what: str) -> str:
    """A recording in messages: its path, or ``"<what>[<index>]"`` for an array."""
    return str(item) if is_path(item) else f"{what}[{index}]"


def load_recordings(
    recordings: Sequence[Recording],
    *,
    array_rate: int | None,
    what: str = "X",
    allow_silent: bool = False,
) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Load many recordings each at its own rate, with :func:`read_recording`.

    Parameters
    ----------
    recordings : sequence of path, ndarray or (ndarray, int)
    array_rate : int or None
        Rate of bare arrays; ``None`` makes them an error.
    what : str
        Name used in error messages.
    allow_silent : bool
        Accept all-zero recordings.

    Returns
    -------
    waveforms : list of ndarray of shape (n_samples,)
    rates : list of int
    names : list of str
        The path of each file, or ``"<what>[i]"`` for an array.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import load_recordings
    >>> waves, rates, names = load_recordings([(np.ones(4) / 2, 16000)], array_rate=None)
    >>> rates, names
    ([16000], ['X[0]'])
    """
    waveforms, rates, names = [], [], []
    for i, item in enumerate(check_recordings(recordings, what=what)):
        name = _item_name(item, i, what)
        waveform, rate = read_recording(
            item, array_rate=array_rate, name=name, allow_silent=allow_silent
        )
        waveforms.append(waveform)
        rates.append(rate)
        names.append(name)
    return waveforms, rates, names


def load_at_rates(
    recordings: Sequence[Recording],
    rates: Sequence[int],
    *,
    array_rate: int | str | None = AT_TARGET,
    what: str = "y",
    allow_silent: bool = True,
) -> list[np.ndarray]:
    """Load references, each at its own rate (that of the prediction it goes with).

    Parameters
    ----------
    recordings : sequence of path, ndarray or (ndarray, int)
        One per rate.
    rates : sequence of int
        The rate of each result, in Hz.
    array_rate : int, None or "target"
        Rate of bare arrays (see :func:`to_waveform`; ``"target"``: each one's rate).
    what : str
        Name used in error messages.
    allow_silent : bool
        Accept all-zero recordings.

    Returns
    -------
    list of ndarray of shape (n_samples,), float32

    Raises
    ------
    ValueError
        Not one recording per rate.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import load_at_rates
    >>> [len(w) for w in load_at_rates([(np.ones(16000) / 2, 16000)], [8000])]
    [8000]
    """
    items = list(recordings)
    if len(items) != len(rates):
        raise ValueError(f"{len(rates)} predictions but {len(items)} references in {what}.")
    return [
        to_waveform(
            item,
            sample_rate=int(rate),
            name=_item_name(item, i, what),
            allow_silent=allow_silent,
            array_rate=array_rate,
        )
        for i, (item, rate) in enumerate(zip(items, rates))
    ]


def read_segment(
    path: PathLike,
    *,
    start: int,
    n_samples: int,
    sample_rate: int,
) -> np.ndarray:
    """Read ``n_samples`` mono samples at ``sample_rate`` Hz from ``start`` (at that rate).

    Only the needed part of the file is decoded, so memory does not depend on the file's
    length. Fewer samples come back if the file ends first.

    Parameters
    ----------
    path : str or PathLike
        An audio file.
    start : int
        First sample, counted at ``sample_rate``.
    n_samples : int
        Samples wanted, at ``sample_rate``.
    sample_rate : int
        Rate of the result in Hz (the file is resampled if it has another).

    Returns
    -------
    ndarray of shape (<= n_samples,), float32

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skdenoise.audio import read_segment, write_wav
    >>> path = write_wav(tempfile.mkdtemp() + "/a.wav", np.zeros(8000, "float32"), 8000)
    >>> read_segment(path, start=7000, n_samples=4000, sample_rate=8000).shape
    (1000,)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file.")
    try:
        with sf.SoundFile(path) as fh:
            rate = fh.samplerate
            ratio = rate / sample_rate
            first = int(np.floor(start * ratio))
            count = int(np.ceil(n_samples * ratio)) + (16 if rate != sample_rate else 0)
            fh.seek(min(first, fh.frames))
            data = fh.read(count, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc}).") from exc
    segment = data.mean(axis=1)
    if rate != sample_rate:
        segment = resample(segment, rate, sample_rate)
    return _decoded(np.array(segment[:n_samples], dtype=np.float32))


def audio_info(path: PathLike) -> sf._SoundFileInfo:
    """soundfile's header information, with the same errors as :func:`read_audio`.

    Parameters
    ----------
    path : str or PathLike
        An audio file.

    Returns
    -------
    soundfile._SoundFileInfo
        ``samplerate``, ``frames``, ``channels``, ``duration``, ``format``, ``subtype``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skdenoise.audio import audio_info, write_wav
    >>> path = write_wav(tempfile.mkdtemp() + "/a.wav", np.zeros(8000, "float32"), 8000)
    >>> audio_info(path).duration
    1.0
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file.")
    try:
        return sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc}).") from exc


#: libsndfile command that turns off the PEAK chunk (it holds a timestamp).
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def open_writer(
    path: PathLike,
    *,
    sample_rate: int,
    channels: int = 1,
    subtype: str | None = None,
    fmt: str | None = None,
) -> sf.SoundFile:
    """Open an audio file for writing, reproducibly.

    libsndfile adds to float WAV files a PEAK chunk holding the time of writing; it is
    turned off, so that the same samples always give the same bytes.

    Returns
    -------
    soundfile.SoundFile
        Open for writing; close it (or use it as a context manager).
    """
    fh = sf.SoundFile(
        path, "w", samplerate=int(sample_rate), channels=channels, subtype=subtype, format=fmt
    )
    try:
        sf._snd.sf_command(fh._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    except AttributeError:  # another soundfile build: the chunk stays, nothing breaks
        logger.debug("cannot turn off libsndfile's PEAK chunk")
    return fh


def _read_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()  # once, at import: reading it means setting it, not thread-safe


def _permissions_for(path: Path) -> int:
    """Mode of the existing ``path``, or the default mode of a new file under the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def commit_file(tmp: PathLike, path: PathLike, *, replace: bool) -> Path:
    """Move a finished temporary file ``tmp`` to ``path`` in one step.

    The file gets the permissions of the file it replaces, or those of a new file (``0o666``
    less the umask), never the private ``0o600`` of a temporary file. With ``replace`` an
    existing ``path`` is replaced atomically (``os.replace``). Without it the file is
    committed with a hard link, which fails if ``path`` exists, so a file written meanwhile
    by another process is never replaced; where hard links are not supported, ``path`` is
    first created exclusively (``O_EXCL``) and then replaced.

    Parameters
    ----------
    tmp : str or PathLike
        The finished temporary file (on the same file system as ``path``).
    path : str or PathLike
        Its final name.
    replace : bool
        Allow replacing an existing ``path``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError
        ``replace`` is false and ``path`` exists; ``tmp`` is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise.audio import commit_file
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".out.tmp").write_text("new")
    >>> commit_file(folder / ".out.tmp", folder / "out.txt", replace=False).read_text()
    'new'
    """
    tmp, path = Path(tmp), Path(path)
    try:
        os.chmod(tmp, _permissions_for(path))
        if replace:
            os.replace(tmp, path)
            return path
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links here (some network or FAT file systems)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.replace(tmp, path)
            return path
        os.unlink(tmp)
        return path
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: PathLike):
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file keeps the extension so that format detection works. On any error it
    is removed and ``path`` is left as it was. The result has the permissions of the file
    it replaces, or those of a newly created file (``0o666`` less the umask), not the
    private ``0o600`` of a temporary file.

    Parameters
    ----------
    path : str or PathLike
        The file to write.

    Returns
    -------
    contextmanager of pathlib.Path
        Yields the temporary path to write to.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise.audio import atomic_path
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _permissions_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_wav(
    path: PathLike,
    waveform: np.ndarray,
    sample_rate: int,
    *,
    subtype: str | None = None,
) -> Path:
    """Write audio atomically: to a temporary name in the same folder, then rename.

    A crash never leaves a half-written file, and an existing file is replaced in one step.
    The format follows the extension (``.wav``, ``.flac``, ``.ogg``...).

    Parameters
    ----------
    path : str or PathLike
        Destination. Its folder is created if needed.
    waveform : ndarray of shape (n_samples,) or (n_samples, n_channels)
        Samples in [-1, 1]; values beyond are clipped (with a logged warning) for integer
        formats.
    sample_rate : int
        Rate in Hz.
    subtype : str, optional
        soundfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``. Default: the format's default.

    Returns
    -------
    pathlib.Path
        The written path.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skdenoise import write_wav
    >>> out = write_wav(os.path.join(tempfile.mkdtemp(), "tone.wav"),
    ...                 0.1 * np.sin(np.arange(800) / 5), 8000)
    >>> out.name
    'tone.wav'
    """
    path = Path(path)
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim not in (1, 2):
        raise AudioError(f"{path}: cannot write a {waveform.ndim}-D array as audio.")
    if not np.isfinite(waveform).all():
        raise AudioError(f"{path}: refusing to write NaN or infinite samples.")
    if not path.suffix:
        raise AudioError(f"{path}: give the file an extension (.wav, .flac...) to pick a format.")
    fmt = path.suffix.lstrip(".").upper()
    if fmt not in sf.available_formats():
        raise AudioError(f"{path}: soundfile cannot write the format {fmt!r}.")
    if subtype is None:
        subtype = sf.default_subtype(fmt)
    if subtype and not subtype.startswith(("FLOAT", "DOUBLE")):
        peak = float(np.abs(waveform).max(initial=0.0))
        if peak > 1.0:
            logger.warning("%s: peak %.3f above full scale, clipped on writing.", path, peak)
            waveform = np.clip(waveform, -1.0, 1.0)
    with atomic_path(path) as tmp:
        with open_writer(
            tmp,
            sample_rate=sample_rate,
            channels=1 if waveform.ndim == 1 else waveform.shape[1],
            subtype=subtype,
            fmt=fmt,
        ) as fh:
            fh.write(waveform)
    return path


# ------------------------------------------------------ ranged reads and streamed writes

#: Samples per block when streaming a file through the resampler.
BLOCK = 1 << 16


def read_span(waveform: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of ``waveform``, zero outside it.

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
    start, stop : int
        May reach outside ``[0, n_samples)``.

    Returns
    -------
    ndarray of shape (stop - start,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import read_span
    >>> read_span(np.array([1.0, 2.0, 3.0]), -1, 2).tolist()
    [0.0, 1.0, 2.0]
    """
    out = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(waveform))
    if lo < hi:
        out[lo - start : hi - start] = waveform[lo:hi]
    return out


class ArrayReader:
    """Ranged reads of an in-memory waveform, zero outside it (``read(start, stop)``).

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import ArrayReader
    >>> ArrayReader(np.array([1.0, 2.0])).read(-1, 3).tolist()
    [0.0, 1.0, 2.0, 0.0]
    """

    def __init__(self, waveform: np.ndarray):
        self.waveform = np.asarray(waveform, dtype=np.float32)
        self.n = len(self.waveform)

    def read(self, start: int, stop: int) -> np.ndarray:
        return read_span(self.waveform, start, stop)

    def close(self) -> None:
        pass


class FileReader:
    """Ranged reads of a sound file mixed to mono, zero outside it; checks the samples.

    Parameters
    ----------
    path : PathLike
        The file (read at its own rate).
    name : str
        How to name it in error messages.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skdenoise.audio import FileReader, write_wav
    >>> path = write_wav(tempfile.mkdtemp() + "/a.wav", np.full(100, 0.5, "float32"), 8000)
    >>> reader = FileReader(path, "a.wav")
    >>> reader.read(98, 102).round(2).tolist(), reader.close()
    ([0.5, 0.5, 0.0, 0.0], None)
    """

    def __init__(self, path: Path, name: str):
        self.name = name
        self.fh = sf.SoundFile(path)
        self.n = self.fh.frames

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros(stop - start, dtype=np.float32)
        lo, hi = max(start, 0), min(stop, self.n)
        if lo < hi:
            self.fh.seek(lo)
            data = self.fh.read(hi - lo, dtype="float32", always_2d=True).mean(axis=1)
            if not np.isfinite(data).all():
                raise AudioError(f"{self.name}: NaN or infinite samples near sample {lo}.")
            out[lo - start : lo - start + len(data)] = data
        return out

    def close(self) -> None:
        self.fh.close()


def resample_to_file(src: Path, dst: Path, rate: int, name: str) -> None:
    """Mix ``src`` to mono and stream-resample it into a float WAV at ``rate``, in blocks
    (memory does not grow with the file).

    Parameters
    ----------
    src, dst : Path
        The input file and the WAV to write.
    rate : int
        Rate of ``dst`` in Hz.
    name : str
        How to name ``src`` in error messages.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> from skdenoise.audio import resample_to_file, write_wav
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> src = write_wav(root / "a.wav", np.zeros(16000, "float32"), 16000)
    >>> resample_to_file(src, root / "b.wav", 8000, "a.wav")
    >>> sf.info(root / "b.wav").frames
    8000
    """
    with sf.SoundFile(src) as fin:
        stream = resample_stream(fin.samplerate, rate)
        with open_writer(dst, sample_rate=rate, subtype="FLOAT", fmt="WAV") as fout:
            done = 0
            while True:
                block = fin.read(BLOCK, dtype="float32", always_2d=True).mean(axis=1)
                done += len(block)
                last = done >= fin.frames or len(block) == 0
                if not np.isfinite(block).all():
                    raise AudioError(f"{name}: NaN or infinite samples near sample {done}.")
                fout.write(stream.resample_chunk(np.ascontiguousarray(block), last=last))
                if last:
                    break


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a write failed for want of space (libsndfile reports only "System error")."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def write_error(exc: BaseException, destination: Path) -> OSError:
    """A one-line error for a failed write that names the output, and says so when the
    disk is full.

    Parameters
    ----------
    exc : BaseException
        What the write raised.
    destination : Path
        The output that was being written.

    Returns
    -------
    OSError

    Examples
    --------
    >>> from pathlib import Path
    >>> from skdenoise.audio import write_error
    >>> str(write_error(RuntimeError("bad format"), Path("/tmp/out.wav")))
    '/tmp/out.wav: cannot write the output (bad format).'
    """
    if _disk_full(exc, destination.parent):
        return OSError(
            errno.ENOSPC,
            f"{destination}: the disk is full (no space left on device); the output was not "
            "written. Free some space and run again (--skip-existing keeps the finished files).",
        )
    return OSError(f"{destination}: cannot write the output ({exc}).")


class StreamWriter:
    """Writes a recording in order into ``tmp``, resampling from ``model_rate`` to
    ``out_rate`` on the fly and stopping at ``n_out`` samples (the input's length).

    Parameters
    ----------
    tmp : Path
        The temporary file written (committed by the caller).
    model_rate, out_rate : int
        Rate of the samples given and of the file, in Hz.
    n_out : int
        Samples of the file (padded with zeros or cut to it at the end).
    fmt, subtype : str
        soundfile's format and subtype.
    destination : Path
        Named in error messages.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> from skdenoise.audio import StreamWriter
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> w = StreamWriter(root / "t.wav", 8000, 16000, 1000, "WAV", "PCM_16", root / "o.wav")
    >>> w.write(np.zeros(300, "float32"), last=False); w.write(np.zeros(200, "float32"), last=True)
    >>> w.close(); sf.info(root / "t.wav").frames
    1000
    """

    def __init__(
        self,
        tmp: Path,
        model_rate: int,
        out_rate: int,
        n_out: int,
        fmt: str,
        subtype: str,
        destination: Path,
    ):
        self.destination = destination
        try:
            self.fh = open_writer(tmp, sample_rate=out_rate, subtype=subtype, fmt=fmt)
        except (OSError, RuntimeError) as exc:
            raise write_error(exc, destination) from exc
        self.n_out = n_out
        self.written = 0
        self.stream = None
        if out_rate != model_rate:
            self.stream = resample_stream(model_rate, out_rate)
        self.clipped = 0.0

    def write(self, samples: np.ndarray, last: bool) -> None:
        if self.stream is not None:
            samples = self.stream.resample_chunk(np.ascontiguousarray(samples), last=last)
        samples = samples[: max(0, self.n_out - self.written)]
        if last and self.written + len(samples) < self.n_out:
            samples = np.pad(samples, (0, self.n_out - self.written - len(samples)))
        if not self.fh.subtype.startswith(("FLOAT", "DOUBLE")):
            self.clipped = max(self.clipped, float(np.abs(samples).max(initial=0.0)))
            samples = np.clip(samples, -1.0, 1.0)
        try:
            self.fh.write(samples)
        except (OSError, RuntimeError) as exc:
            raise write_error(exc, self.destination) from exc
        self.written += len(samples)

    def close(self) -> None:
        try:
            self.fh.close()
        except (OSError, RuntimeError) as exc:
            raise write_error(exc, self.destination) from exc
