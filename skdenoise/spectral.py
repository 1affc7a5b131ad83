"""Spectral transforms: the one STFT code path of the package (functional core).

A recording of ``n_samples`` samples has one centred STFT of ``n_columns`` columns
(:meth:`SpectralSettings.n_columns`; 8064 samples give exactly 128). Its log-magnitude (dB)
is cut into *frames* of ``frame_length // hop_length`` columns (128 x 128 with the
defaults), the unit the U-Net works on. Frames start
every ``frame_hop`` samples; the last frame is aligned to the end of the recording (it
overlaps its neighbour rather than being padded or dropped), and a recording shorter than
one frame is padded by mirroring its own columns, so that the network never sees artificial
silence. Overlapping frames are blended back with a smooth weight.

All functions take a :class:`SpectralSettings`, which the ``LogSpectrogram`` transformer
builds from its parameters: it is the single source of truth for every STFT here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .audio import fit_length, read_span

__all__ = [
    "ChunkPlan",
    "SpectralSettings",
    "analyse",
    "analyse_chunk",
    "db_to_magnitude",
    "estimated_snr_db",
    "istft",
    "join_frames",
    "log_magnitude_frames",
    "magnitude_to_db",
    "phase_frames",
    "plan_chunks",
    "split_frames",
    "stft",
    "synthesise",
    "synthesise_chunk",
]


@dataclass(frozen=True)
class SpectralSettings:
    """Everything that defines the spectral representation.

    Parameters
    ----------
    sample_rate : int
        Rate of the waveforms, in Hz.
    frame_length : int
        Length of one network frame in samples; a multiple of ``hop_length``.
    n_fft : int
        FFT size in samples; ``n_fft // 2 + 1`` frequency bins.
    hop_length : int
        STFT hop in samples.
    frame_hop : int, optional
        Distance between frame starts in samples (a multiple of ``hop_length``);
        ``None`` means ``frame_length`` (no overlap).
    floor_db : float
        Magnitudes are floored at this level in dB before the log (and frames padded with it).

    Examples
    --------
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=16000)
    >>> settings.frame_shape, settings.frame_length / settings.sample_rate
    ((128, 128), 0.504)
    """

    sample_rate: int = 8000
    frame_length: int = 8064
    n_fft: int = 255
    hop_length: int = 63
    frame_hop: int | None = None
    floor_db: float = -100.0

    def __post_init__(self) -> None:
        for field in ("sample_rate", "frame_length", "n_fft", "hop_length"):
            value = getattr(self, field)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{field} must be a positive integer, got {value!r}.")
        if self.hop_length > self.n_fft:
            raise ValueError(
                f"hop_length={self.hop_length} is larger than n_fft={self.n_fft}: the STFT "
                "would skip samples and could not be inverted."
            )
        if self.frame_length % self.hop_length:
            raise ValueError(
                f"frame_length={self.frame_length} must be a multiple of "
                f"hop_length={self.hop_length} so that frames hold whole STFT columns "
                f"(e.g. {self.hop_length * max(1, round(self.frame_length / self.hop_length))})."
            )
        hop = self.frame_length if self.frame_hop is None else self.frame_hop
        if hop <= 0 or hop % self.hop_length or hop > self.frame_length:
            raise ValueError(
                f"frame_hop={self.frame_hop} must be a positive multiple of hop_length="
                f"{self.hop_length}, at most frame_length={self.frame_length}."
            )
        if not np.isfinite(self.floor_db):
            raise ValueError(f"floor_db must be finite, got {self.floor_db!r}.")

    @classmethod
    def of_step(cls, sample_rate: int, params: dict) -> SpectralSettings:
        """The settings that the ``spec`` step's parameters (those of
        :class:`skdenoise.LogSpectrogram`, by name) define at ``sample_rate`` Hz.

        Examples
        --------
        >>> from skdenoise.spectral import SpectralSettings
        >>> SpectralSettings.of_step(16000, {"floor_db": -80}).floor_db
        -80.0
        """
        params = dict(params)
        if params.get("floor_db") is not None:
            params["floor_db"] = float(params["floor_db"])
        return cls(sample_rate=int(sample_rate), **params)

    @property
    def n_freq(self) -> int:
        """Frequency bins per column: ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def frame_columns(self) -> int:
        """STFT columns per frame: ``frame_length // hop_length``."""
        return self.frame_length // self.hop_length

    @property
    def frame_hop_columns(self) -> int:
        """Columns between frame starts."""
        hop = self.frame_length if self.frame_hop is None else self.frame_hop
        return hop // self.hop_length

    @property
    def frame_shape(self) -> tuple[int, int]:
        """Shape of one frame: ``(n_freq, frame_columns)``."""
        return (self.n_freq, self.frame_columns)

    def n_columns(self, n_samples: int) -> int:
        """Columns of the centred STFT of ``n_samples`` samples (as librosa computes it).

        The signal is padded by ``n_fft // 2`` on both sides, so with an odd ``n_fft`` a
        ``frame_length`` of samples gives exactly ``frame_columns`` columns.
        """
        padded = n_samples + 2 * (self.n_fft // 2)
        return 1 + max(0, padded - self.n_fft) // self.hop_length

    def n_frames(self, n_columns: int) -> int:
        """Frames needed to cover ``n_columns`` columns (at least one)."""
        extra = max(0, n_columns - self.frame_columns)
        return 1 + -(-extra // self.frame_hop_columns)


#: Frames per block in :func:`stft` (bounds the temporaries of long recordings).
STFT_BLOCK = 4096


def stft(waveform: np.ndarray, settings: SpectralSettings, *, center: bool = True) -> np.ndarray:
    """STFT with a periodic Hann window, centred by default.

    The same transform as ``librosa.stft(n_fft=..., hop_length=..., window="hann",
    center=..., pad_mode="constant")`` (to float rounding), computed with NumPy alone so that
    denoising does not pay for importing librosa.

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
    settings : SpectralSettings
    center : bool
        Pad ``n_fft // 2`` zeros on both sides so that column ``c`` is centred on sample
        ``c * hop_length`` (the package's convention). ``False`` is for a slice of a longer
        recording that already holds that context (streaming).

    Returns
    -------
    ndarray of shape (n_freq, n_columns), complex64
        Column-major (the transpose of a C-ordered array): each column's bins are adjacent.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import stft
    >>> stft(x, settings).shape  # 128 bins, one column every 63 samples
    (128, 318)
    """
    n_fft, hop = settings.n_fft, settings.hop_length
    x = np.asarray(waveform, dtype=np.float32)
    if center:
        x = np.pad(x, (n_fft // 2, n_fft // 2))
    if len(x) < n_fft:
        raise ValueError(f"{len(x)} samples are fewer than one STFT window ({n_fft}).")
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    window = hann_window(n_fft)
    # Columns are computed, and stored, one after the other: the result is the transpose of
    # a (n_columns, n_freq) array, so that no copy transposes it. (NumPy's float64 FFT of
    # these sizes is faster than its float32 one.)
    columns = np.empty((len(frames), n_fft // 2 + 1), dtype=np.complex64)
    for start in range(0, len(frames), STFT_BLOCK):
        block = frames[start : start + STFT_BLOCK]
        columns[start : start + len(block)] = np.fft.rfft(block * window, axis=1)
    return columns.T


@functools.lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    """The periodic Hann window of ``n_fft`` samples (float64, read-only, cached), as
    ``scipy.signal.get_window("hann", n_fft)`` and librosa use it."""
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    window.flags.writeable = False
    return window


@functools.lru_cache(maxsize=8)
def _window32(n_fft: int) -> np.ndarray:
    """:func:`hann_window` in float32 (read-only, cached)."""
    window = hann_window(n_fft).astype(np.float32)
    window.flags.writeable = False
    return window


@functools.lru_cache(maxsize=8)
def _window_power_sums(n_fft: int, hop: int) -> np.ndarray:
    """Cumulative sums over the ``hop``-sample slices of the squared window, shape
    ``(ceil(n_fft / hop) + 1, hop)``, float64: row ``k`` sums the first ``k`` slices (the
    window zero-padded to a whole number of slices). Read-only, cached."""
    n_slices = -(-n_fft // hop)
    power = np.zeros(n_slices * hop)
    power[:n_fft] = hann_window(n_fft) ** 2
    sums = np.zeros((n_slices + 1, hop))
    np.cumsum(power.reshape(n_slices, hop), axis=0, out=sums[1:])
    sums.flags.writeable = False
    return sums


def _window_norm(n_fft: int, hop: int, n_frames: int) -> np.ndarray:
    """The squared window overlap-added over ``n_frames`` frames, as ``(n_frames + n_slices
    - 1, hop)`` rows of ``hop`` samples (float32), from :func:`_window_power_sums` without
    adding the frames one by one: row ``r`` holds slices ``max(0, r - n_frames + 1)`` to
    ``min(n_slices - 1, r)`` of the window."""
    sums = _window_power_sums(n_fft, hop)
    n_slices = len(sums) - 1
    rows = np.arange(n_frames + n_slices - 1)
    upper = np.minimum(rows + 1, n_slices)
    lower = np.clip(rows - n_frames + 1, 0, n_slices)
    return (sums[upper] - sums[lower]).astype(np.float32)


def istft(
    spec: np.ndarray, settings: SpectralSettings, length: int | None, *, center: bool = True
) -> np.ndarray:
    """Inverse of :func:`stft` (overlap-add with window-power normalisation).

    The same as ``librosa.istft(..., window="hann")`` (to float rounding), with NumPy alone.

    Parameters
    ----------
    spec : ndarray of shape (n_freq, n_columns), complex
    settings : SpectralSettings
    length : int or None
        Number of samples of the result (the original length); ``None`` keeps what the
        columns give.
    center : bool
        As in :func:`stft`. With ``False``, sample ``j`` of the result lies ``n_fft // 2``
        samples before the centre of the first column, plus ``j``.

    Returns
    -------
    ndarray of shape (length,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import istft, stft
    >>> y = istft(stft(x, settings), settings, len(x))
    >>> bool(np.allclose(x, y, atol=1e-5))
    True
    """
    n_fft, hop = settings.n_fft, settings.hop_length
    n_frames = spec.shape[1]
    n_slices = -(-n_fft // hop)
    # Each column's windowed waveform, zero-padded to n_slices slices of hop samples; the
    # overlap-add then sums slice j of every frame into rows j to j + n_frames - 1 of
    # hop-sample rows (no copies of the frames).
    frames = np.zeros((n_frames, n_slices * hop), dtype=np.float32)
    frames[:, :n_fft] = np.fft.irfft(np.asarray(spec, dtype=np.complex64).T, n=n_fft, axis=1)
    frames[:, :n_fft] *= _window32(n_fft)
    slices = frames.reshape(n_frames, n_slices, hop)
    rows = np.zeros((n_frames + n_slices - 1, hop), dtype=np.float32)
    for j in range(n_slices):
        rows[j : j + n_frames] += slices[:, j]
    norm = _window_norm(n_fft, hop, n_frames)
    np.divide(rows, norm, out=rows, where=norm > np.finfo(np.float32).tiny)
    y = rows.reshape(-1)[: n_fft + hop * (n_frames - 1)]
    start = n_fft // 2 if center else 0
    if length is None:
        return y[start : len(y) - start]
    return fit_length(y[start:], length)


def magnitude_to_db(magnitude: np.ndarray, settings: SpectralSettings) -> np.ndarray:
    """``20 log10(magnitude)``, floored at ``settings.floor_db``. Absolute, no reference.

    Parameters
    ----------
    magnitude : ndarray
        Magnitudes (linear).
    settings : SpectralSettings
        Gives the floor (``floor_db``).

    Returns
    -------
    ndarray, same shape, float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings, magnitude_to_db
    >>> magnitude_to_db(np.array([1.0, 0.0]), SpectralSettings()).tolist()
    [0.0, -100.0]
    """
    amin = 10.0 ** (settings.floor_db / 20.0)
    return (20.0 * np.log10(np.maximum(magnitude, amin))).astype(np.float32)


def db_to_magnitude(db: np.ndarray) -> np.ndarray:
    """Inverse of :func:`magnitude_to_db` (above the floor).

    Parameters
    ----------
    db : ndarray
        Levels in dB.

    Returns
    -------
    ndarray, same shape

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import db_to_magnitude
    >>> db_to_magnitude(np.array([0.0, -20.0])).astype(float).round(6).tolist()
    [1.0, 0.1]
    """
    return np.power(10.0, np.asarray(db, dtype=np.float32) / 20.0, dtype=np.float32)


def frame_starts(n_columns: int, settings: SpectralSettings) -> np.ndarray:
    """First column of every frame covering ``n_columns`` columns.

    Frames start every ``frame_hop_columns``; the last one ends at the last column (or, for
    a recording shorter than one frame, the only one starts at 0).
    """
    starts = np.arange(settings.n_frames(n_columns)) * settings.frame_hop_columns
    starts[-1] = max(0, n_columns - settings.frame_columns)
    return starts


def split_frames(spec_db: np.ndarray, settings: SpectralSettings) -> np.ndarray:
    """Cut a log-magnitude spectrogram into frames of ``frame_columns`` columns.

    A spectrogram narrower than one frame is padded by mirroring its columns.

    Parameters
    ----------
    spec_db : ndarray of shape (n_freq, n_columns)
    settings : SpectralSettings

    Returns
    -------
    ndarray of shape (n_frames, n_freq, frame_columns), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import magnitude_to_db, split_frames, stft
    >>> split_frames(magnitude_to_db(np.abs(stft(x, settings)), settings), settings).shape
    (3, 128, 128)
    """
    return _cut_frames(np.asarray(spec_db, dtype=np.float32), settings)


def _cut_frames(columns: np.ndarray, settings: SpectralSettings) -> np.ndarray:
    """Frames of ``frame_columns`` columns at :func:`frame_starts`, a recording shorter than
    one frame padded by mirroring its columns (any dtype: log-magnitudes or phasors)."""
    n_columns = columns.shape[1]
    width = settings.frame_columns
    if n_columns < width:
        mode = "symmetric" if n_columns > 1 else "edge"
        columns = np.pad(columns, ((0, 0), (0, width - n_columns)), mode=mode)
    return np.stack([columns[:, s : s + width] for s in frame_starts(n_columns, settings)])


def phase_frames(phase: np.ndarray, settings: SpectralSettings) -> np.ndarray:
    """Cut a recording's phase into the frames of :func:`split_frames` (same columns, the
    same mirroring for a recording shorter than one frame).

    Parameters
    ----------
    phase : ndarray of shape (n_freq, n_columns), complex64
        Unit phasors (from :func:`analyse`).
    settings : SpectralSettings

    Returns
    -------
    ndarray of shape (n_frames, n_freq, frame_columns), complex64

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings, analyse, phase_frames
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> frames, phase = analyse(x, settings)
    >>> phase_frames(phase, settings).shape == frames.shape
    True
    """
    return _cut_frames(np.asarray(phase, dtype=np.complex64), settings)


def frame_weight(settings: SpectralSettings) -> np.ndarray:
    """Blending weight over the columns of one frame, shape (frame_columns,).

    A raised-sine taper over the ``frame_length - frame_hop`` columns that overlap a
    neighbour (with no overlap, a short taper that only matters for the last frame, which
    always overlaps); it never reaches zero, so every column keeps a positive total weight.
    """
    width = settings.frame_columns
    overlap = width - settings.frame_hop_columns
    if overlap == 0:
        overlap = max(1, width // 8)
    weight = np.ones(width, dtype=np.float32)
    if overlap > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap) ** 2
        weight[:overlap] = ramp
        weight[-overlap:] = np.minimum(weight[-overlap:], ramp[::-1])
    return weight


def join_frames(frames: np.ndarray, settings: SpectralSettings, n_columns: int) -> np.ndarray:
    """Inverse of :func:`split_frames`: blend frames back into ``n_columns`` columns.

    Parameters
    ----------
    frames : ndarray of shape (n_frames, n_freq, frame_columns)
    settings : SpectralSettings
    n_columns : int
        Columns of the original spectrogram.

    Returns
    -------
    ndarray of shape (n_freq, n_columns), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import join_frames, magnitude_to_db, split_frames, stft
    >>> spec_db = magnitude_to_db(np.abs(stft(x, settings)), settings)
    >>> back = join_frames(split_frames(spec_db, settings), settings, spec_db.shape[1])
    >>> bool(np.allclose(back, spec_db, atol=1e-4))
    True
    """
    n_frames = frames.shape[0]
    starts = frame_starts(n_columns, settings)
    if len(starts) != n_frames:
        raise ValueError(f"{n_frames} frames given, but {n_columns} columns need {len(starts)}.")
    if n_frames == 1:
        return np.array(frames[0][:, :n_columns], dtype=np.float32)
    return blend_frames(frames, starts, settings, 0, n_columns)


def blend_frames(
    frames: np.ndarray,
    starts: np.ndarray,
    settings: SpectralSettings,
    first_column: int,
    n_columns: int,
) -> np.ndarray:
    """Weighted blend of frames over the columns ``[first_column, first_column + n_columns)``.

    ``frames[i]`` covers columns ``[starts[i], starts[i] + frame_columns)``; every column of
    the range must be covered, and *all* frames covering a column must be given for the
    result to equal that of :func:`join_frames` on the whole recording.

    Returns
    -------
    ndarray of shape (n_freq, n_columns), float32
    """
    width = settings.frame_columns
    weight = frame_weight(settings)
    stop = first_column + n_columns
    acc = np.zeros((frames.shape[1], n_columns), dtype=np.float32)
    norm = np.zeros(n_columns, dtype=np.float32)
    for frame, start in zip(frames, starts):
        lo, hi = max(int(start), first_column), min(int(start) + width, stop)
        if lo >= hi:
            continue
        cols = slice(lo - first_column, hi - first_column)
        acc[:, cols] += frame[:, lo - start : hi - start] * weight[lo - start : hi - start]
        norm[cols] += weight[lo - start : hi - start]
    if not norm.all():
        raise ValueError("some columns are covered by no frame.")
    acc /= norm
    return acc


@dataclass(frozen=True)
class ChunkPlan:
    """Where one chunk's output comes from (all indices global, in samples or columns).

    Output samples ``[a, b)`` need the blended columns ``[ca, cb)``, which need the frames
    ``frame_starts`` (first column of each), which need the STFT columns ``[c_lo, c_hi)``,
    computed (uncentred) from samples ``[s_lo, s_hi)`` (zero outside the recording: the
    centred STFT's padding). A recording of at most one frame is one chunk whose single
    frame is padded by mirroring its columns (:func:`split_frames`).

    Attributes
    ----------
    a, b : int
        Output samples of the chunk.
    ca, cb : int
        Blended columns they need.
    frame_starts : ndarray of int
        First column of each frame the chunk needs.
    c_lo, c_hi : int
        STFT columns those frames need.
    s_lo, s_hi : int
        Samples those columns need (may reach outside the recording).

    Examples
    --------
    >>> from skdenoise.spectral import SpectralSettings, plan_chunks
    >>> (plan,) = plan_chunks(8064, SpectralSettings(sample_rate=8000))
    >>> plan.a, plan.b, plan.cb, plan.s_lo
    (0, 8064, 128, -127)
    """

    a: int
    b: int
    ca: int
    cb: int
    frame_starts: np.ndarray
    c_lo: int
    c_hi: int
    s_lo: int
    s_hi: int


def plan_chunks(
    n_samples: int, settings: SpectralSettings, chunk_samples: int | None = None
) -> list[ChunkPlan]:
    """Split a recording of ``n_samples`` into chunks whose outputs, put end to end, are
    the whole recording's output (no seams): the one plan of the inference engine.

    Parameters
    ----------
    n_samples : int
        Length of the recording.
    settings : SpectralSettings
    chunk_samples : int, optional
        Output samples per chunk (at least one frame); ``None``: one chunk, the whole
        recording.

    Returns
    -------
    list of ChunkPlan
        At least one.

    Examples
    --------
    >>> from skdenoise.spectral import SpectralSettings, plan_chunks
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> [(p.a, p.b) for p in plan_chunks(40000, settings, 16000)]
    [(0, 16000), (16000, 32000), (32000, 40000)]
    >>> len(plan_chunks(40000, settings))
    1
    """
    n_columns = settings.n_columns(n_samples)
    width = settings.frame_columns
    hop, n_fft = settings.hop_length, settings.n_fft
    pad = n_fft // 2
    starts = frame_starts(n_columns, settings)
    if n_columns <= width or chunk_samples is None:
        return [
            ChunkPlan(
                a=0,
                b=n_samples,
                ca=0,
                cb=n_columns,
                frame_starts=starts,
                c_lo=0,
                c_hi=n_columns,
                s_lo=-pad,
                s_hi=(n_columns - 1) * hop - pad + n_fft,
            )
        ]
    chunk = max(int(chunk_samples), settings.frame_length)
    plans = []
    for a in range(0, n_samples, chunk):
        b = min(n_samples, a + chunk)
        # Columns whose window [c*hop - pad, c*hop - pad + n_fft) meets [a, b), plus one.
        ca = max(0, (a + pad - n_fft) // hop)
        cb = min(n_columns, -(-(b + pad) // hop) + 1)
        index = np.flatnonzero((starts < cb) & (starts + width > ca))
        c_lo = int(starts[index].min())
        c_hi = int(starts[index].max()) + width
        plans.append(
            ChunkPlan(
                a=a,
                b=b,
                ca=int(ca),
                cb=int(cb),
                frame_starts=starts[index],
                c_lo=c_lo,
                c_hi=c_hi,
                s_lo=c_lo * hop - pad,
                s_hi=(c_hi - 1) * hop - pad + n_fft,
            )
        )
    return plans


def analyse_chunk(
    samples: np.ndarray, plan: ChunkPlan, settings: SpectralSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy log-magnitude frames and phase of a chunk, from its samples ``[s_lo, s_hi)``.

    Parameters
    ----------
    samples : ndarray of shape (plan.s_hi - plan.s_lo,)
        Zero outside the recording.
    plan : ChunkPlan
    settings : SpectralSettings

    Returns
    -------
    frames : ndarray of shape (n_frames, n_freq, frame_columns), float32, dB
    phase : ndarray of shape (n_freq, c_hi - c_lo), complex64
        The phase as unit phasors ``spec / |spec|`` (1 where ``spec`` is 0): the package's
        one phase representation.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import read_span
    >>> from skdenoise.spectral import SpectralSettings, analyse_chunk, plan_chunks
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 40000).astype("float32")
    >>> plan = plan_chunks(len(x), settings, 16000)[1]
    >>> frames, phase = analyse_chunk(read_span(x, plan.s_lo, plan.s_hi), plan, settings)
    >>> frames.shape[1:], phase.shape[1] == plan.c_hi - plan.c_lo
    ((128, 128), True)
    """
    spec = stft(samples, settings, center=False)
    magnitude = np.abs(spec)
    db = magnitude_to_db(magnitude, settings)
    width = settings.frame_columns
    if db.shape[1] <= width:
        frames = split_frames(db, settings)
    else:
        frames = np.stack([db[:, s - plan.c_lo : s - plan.c_lo + width] for s in plan.frame_starts])
    return frames, _phasors(spec, magnitude)


def _phasors(spec: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """``spec / magnitude`` as complex64 unit phasors, 1 where the magnitude is 0 (a real
    reciprocal times the complex values: cheaper than a complex division). Magnitudes below
    float32's smallest normal number, whose reciprocal would overflow, are divided in
    double precision instead."""
    inverse = np.zeros_like(magnitude, dtype=np.float32)
    tiny = magnitude < np.finfo(np.float32).tiny
    np.divide(1.0, magnitude, out=inverse, where=~tiny)
    phasors = np.multiply(spec, inverse, dtype=np.complex64)
    if tiny.any():
        small = spec[tiny].astype(np.complex128)
        modulus = np.abs(small)
        phasors[tiny] = np.where(modulus > 0, small / np.where(modulus > 0, modulus, 1.0), 1.0)
    return phasors


def synthesise_chunk(
    frames_db: np.ndarray, phase: np.ndarray, plan: ChunkPlan, settings: SpectralSettings
) -> np.ndarray:
    """The chunk's output samples ``[a, b)`` from its (denoised) frames and kept phase.

    Parameters
    ----------
    frames_db : ndarray of shape (n_frames, n_freq, frame_columns)
        The chunk's frames (all those of ``plan.frame_starts``), dB.
    phase : ndarray of shape (n_freq, c_hi - c_lo), complex64
        Unit phasors from :func:`analyse_chunk`.
    plan : ChunkPlan
    settings : SpectralSettings

    Returns
    -------
    ndarray of shape (plan.b - plan.a,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import read_span
    >>> from skdenoise.spectral import (SpectralSettings, analyse_chunk, plan_chunks,
    ...                                 synthesise_chunk)
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 40000).astype("float32")
    >>> parts = []
    >>> for plan in plan_chunks(len(x), settings, 16000):  # unchanged frames give x back
    ...     frames, phase = analyse_chunk(read_span(x, plan.s_lo, plan.s_hi), plan, settings)
    ...     parts.append(synthesise_chunk(frames, phase, plan, settings))
    >>> bool(np.allclose(np.concatenate(parts), x, atol=1e-4))
    True
    """
    n_cols = plan.cb - plan.ca
    db = blend_frames(frames_db, plan.frame_starts, settings, plan.ca, n_cols)
    # Multiplied column by column, the layout of analyse_chunk's phase (and of istft's FFT).
    magnitude = np.ascontiguousarray(db_to_magnitude(db).T)
    spec = (magnitude * phase[:, plan.ca - plan.c_lo : plan.cb - plan.c_lo].T).T
    wave = istft(spec, settings, None, center=False)
    # Sample j of ``wave`` is global sample ca * hop - pad + j; zero-padded at the very end
    # of the recording, past the last window.
    origin = plan.ca * settings.hop_length - settings.n_fft // 2
    return fit_length(wave[plan.a - origin :], plan.b - plan.a)


def analyse(
    waveform: np.ndarray, settings: SpectralSettings, *, keep_phase: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """One STFT giving both the log-magnitude frames and the phase: the one-chunk case of
    :func:`analyse_chunk`.

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
    settings : SpectralSettings
    keep_phase : bool
        Return the phase as well (needed to rebuild a waveform).

    Returns
    -------
    frames : ndarray of shape (n_frames, n_freq, frame_columns), float32, dB
    phase : ndarray of shape (n_freq, n_columns), complex64 unit phasors, or None

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import analyse
    >>> frames, phase = analyse(x, settings)
    >>> frames.shape, phase.shape, phase.dtype.name
    ((3, 128, 128), (128, 318), 'complex64')
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    (plan,) = plan_chunks(len(waveform), settings)
    frames, phase = analyse_chunk(read_span(waveform, plan.s_lo, plan.s_hi), plan, settings)
    return frames, phase if keep_phase else None


def log_magnitude_frames(waveform: np.ndarray, settings: SpectralSettings) -> np.ndarray:
    """Log-magnitude frames of a waveform, shape (n_frames, n_freq, frame_columns).

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
        At ``settings.sample_rate``.
    settings : SpectralSettings
        The spectral settings.

    Returns
    -------
    ndarray of shape (n_frames, n_freq, frame_columns), float32
        Log-magnitude in dB.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import log_magnitude_frames
    >>> log_magnitude_frames(x, settings).shape
    (3, 128, 128)
    """
    return analyse(waveform, settings, keep_phase=False)[0]


def synthesise(
    frames_db: np.ndarray,
    phase: np.ndarray,
    settings: SpectralSettings,
    length: int,
) -> np.ndarray:
    """Rebuild a waveform from log-magnitude frames and a kept phase: the one-chunk case of
    :func:`synthesise_chunk`.

    Parameters
    ----------
    frames_db : ndarray of shape (n_frames, n_freq, frame_columns)
        Log-magnitude in dB (e.g. the denoised estimate).
    phase : ndarray of shape (n_freq, n_columns), complex64
        Unit phasors, from :func:`analyse` of the *input* (noisy) waveform.
    settings : SpectralSettings
    length : int
        Samples of the result: the input's exact length.

    Returns
    -------
    ndarray of shape (length,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import SpectralSettings
    >>> settings = SpectralSettings(sample_rate=8000)
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> from skdenoise.spectral import analyse, synthesise
    >>> frames, phase = analyse(x, settings)
    >>> y = synthesise(frames, phase, settings, len(x))
    >>> y.shape, bool(np.allclose(x, y, atol=1e-4))
    ((20000,), True)
    """
    (plan,) = plan_chunks(int(length), settings)
    if len(plan.frame_starts) != len(frames_db):
        raise ValueError(
            f"{len(frames_db)} frames given, but {length} samples need {len(plan.frame_starts)}."
        )
    return synthesise_chunk(frames_db, phase, plan, settings)


#: Default width (dB) of the ramp below ``bypass_snr_db`` over which the input is faded in.
BYPASS_RAMP_DB = 5.0


def estimated_snr_db(enhanced: np.ndarray, dry_input: np.ndarray) -> float:
    """The input's SNR in dB as the denoiser sees it: output energy over removed energy.

    ``10 log10(sum(enhanced**2) / sum((dry_input - enhanced)**2))``, a blind estimate (no
    clean reference). It runs a few dB below the true SNR, because what the denoiser removes
    includes some speech. A silent input gives 0 dB.

    Parameters
    ----------
    enhanced, dry_input : ndarray of shape (n_samples,)
        The denoiser's output and its input, aligned.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import estimated_snr_db
    >>> x = np.ones(100)
    >>> round(estimated_snr_db(0.9 * x, x), 1)  # removed 0.1: 0.81 / 0.01 in energy
    19.1
    """
    enhanced = np.asarray(enhanced, dtype=np.float64)
    removed = np.asarray(dry_input, dtype=np.float64) - enhanced
    tiny = 1e-20
    return float(
        10.0 * np.log10((np.dot(enhanced, enhanced) + tiny) / (np.dot(removed, removed) + tiny))
    )


def bypass_dry(
    snr_db: float,
    dry: float,
    bypass_snr_db: float | None,
    ramp_db: float = BYPASS_RAMP_DB,
    low_snr_db: float | None = None,
) -> float:
    """Dry mix after the SNR bypass: ``dry`` below ``bypass_snr_db - ramp_db``, the
    unprocessed input (1) at or above ``bypass_snr_db``, linear in between (a ``ramp_db`` of
    0 is a hard switch at ``bypass_snr_db``); and the input (1) below ``low_snr_db``, a hard
    switch (``None``: no low bypass).

    Examples
    --------
    >>> from skdenoise.spectral import bypass_dry
    >>> [round(bypass_dry(snr, 0.2, 10.0, 5.0, low_snr_db=0.0), 3) for snr in (-3, 2, 7.5, 12)]
    [1.0, 0.2, 0.6, 1.0]
    """
    if low_snr_db is not None and snr_db < low_snr_db:
        return 1.0
    if bypass_snr_db is None:
        return float(dry)
    if snr_db >= bypass_snr_db:
        return 1.0
    if ramp_db <= 0.0:
        return float(dry)
    share = np.clip((snr_db - (bypass_snr_db - ramp_db)) / ramp_db, 0.0, 1.0)
    return float(dry + (1.0 - dry) * share)


def mix_output(
    enhanced: np.ndarray,
    dry_input: np.ndarray,
    dry: float,
    bypass_snr_db: float | None = None,
    ramp_db: float = BYPASS_RAMP_DB,
    low_snr_db: float | None = None,
) -> np.ndarray:
    """The denoiser's final output: :func:`mix_dry`, with the dry mix raised towards the
    unprocessed input when the input's :func:`estimated_snr_db` comes within ``ramp_db`` of
    ``bypass_snr_db`` (:func:`bypass_dry`); at or above it, or below ``low_snr_db``, the
    output is the input itself.

    Speech recognisers trained on clean speech often do worse on enhanced speech than on a
    mildly noisy input; the bypass leaves such inputs (nearly) untouched and denoises the
    noisy ones. In very noisy input a recogniser may also hear words in what the denoiser
    leaves where on the input it hears nothing; the low bypass hands such inputs over.
    ``None`` turns either off.
    """
    return mix_dry(
        enhanced,
        dry_input,
        output_dry(enhanced, dry_input, dry, bypass_snr_db, ramp_db, low_snr_db),
    )


def output_dry(
    enhanced: np.ndarray,
    dry_input: np.ndarray,
    dry: float,
    bypass_snr_db: float | None = None,
    ramp_db: float = BYPASS_RAMP_DB,
    low_snr_db: float | None = None,
) -> float:
    """The dry mix that :func:`mix_output` applies: ``dry``, raised by the SNR bypasses
    (:func:`bypass_dry` of :func:`estimated_snr_db`) when ``bypass_snr_db`` or
    ``low_snr_db`` is set."""
    if bypass_snr_db is None and low_snr_db is None:
        return float(dry)
    return bypass_dry(
        estimated_snr_db(enhanced, dry_input), dry, bypass_snr_db, ramp_db, low_snr_db
    )


#: Seconds over which the dry mix moves from one chunk's value to the next's, when the SNR
#: bypass judges two chunks of a recording differently.
BYPASS_CROSSFADE_S = 0.05


def crossfade_dry(
    out: np.ndarray,
    enhanced: np.ndarray,
    dry_input: np.ndarray,
    previous: float,
    dry: float,
    n_crossfade: int,
) -> np.ndarray:
    """``out`` (a chunk mixed at ``dry``) with its first ``n_crossfade`` samples remixed so that
    the dry mix moves linearly from the previous chunk's ``previous`` to ``dry``.

    Without it, a chunk handed over whole after a denoised one (or the reverse) would step
    by the removed noise at the boundary: a click.

    Parameters
    ----------
    out, enhanced, dry_input : ndarray of shape (n_samples,)
        The chunk's output, its denoised signal and its input, aligned.
    previous, dry : float
        The dry mix of the chunk before and of this one, in [0, 1].
    n_crossfade : int
        Samples of the fade (at most the chunk's).

    Returns
    -------
    ndarray of shape (n_samples,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.spectral import crossfade_dry, mix_dry
    >>> x, y = np.ones(6, "float32"), np.zeros(6, "float32")
    >>> [round(float(v), 2) for v in crossfade_dry(mix_dry(y, x, 0.0), y, x, 1.0, 0.0, 4)]
    [0.8, 0.6, 0.4, 0.2, 0.0, 0.0]
    """
    k = min(int(n_crossfade), len(out))
    if k <= 0 or previous == dry:
        return out
    w = previous + (dry - previous) * np.arange(1, k + 1) / (k + 1)
    out = np.array(out, dtype=np.float32)
    out[:k] = (1.0 - w) * enhanced[:k] + w * dry_input[:k]
    return out


def _as_number(value) -> float:
    """``float(value)``, or NaN where it is not a number (so the check fails with the
    caller's own message)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def check_bypass_snr_db(value, name: str = "bypass_snr_db") -> float | None:
    """``None`` or a finite number of dB, else a ValueError naming ``name``."""
    if value is None:
        return None
    number = _as_number(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be None or a finite number of dB, got {value!r}.")
    return number


def check_bypass_ramp_db(value) -> float:
    """A finite, non-negative number of dB, else a ValueError."""
    number = _as_number(value)
    if not (np.isfinite(number) and number >= 0.0):
        raise ValueError(f"bypass_ramp_db must be a number of dB >= 0, got {value!r}.")
    return number


def mix_dry(enhanced: np.ndarray, dry_input: np.ndarray, dry: float) -> np.ndarray:
    """``(1 - dry) * enhanced + dry * dry_input``: 0 is fully enhanced, 1 is the input."""
    if not 0.0 <= dry <= 1.0:
        raise ValueError(f"dry must be within [0, 1], got {dry!r}.")
    if dry == 0.0:
        return enhanced.astype(np.float32, copy=False)
    return ((1.0 - dry) * enhanced + dry * dry_input).astype(np.float32)
