"""Small typed containers passed between pipeline steps.

A transformer never changes the number or order of recordings: each container holds one
entry per recording, in the input's order, plus the settings that made them. The clean
target travels inside the container at fit time (``targets``), so that it goes through the
same loading and STFT code as the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .spectral import SpectralSettings

__all__ = [
    "SpectrogramBatch",
    "WaveformBatch",
    "WaveformList",
    "is_frame_source",
]


def is_frame_source(X) -> bool:
    """Whether ``X`` streams frame pairs (a :class:`skdenoise.datasets.FrameSource`).

    Parameters
    ----------
    X : object
        What a ``fit`` was given.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skdenoise.batch import is_frame_source
    >>> from skdenoise.datasets import MixtureStream
    >>> is_frame_source(MixtureStream()), is_frame_source([1, 2])
    (True, False)
    """
    return hasattr(X, "frame_pairs") and hasattr(X, "split") and hasattr(X, "with_settings")


class WaveformList(list):
    """A list of 1-D float32 waveforms that also knows their rates (Hz).

    It is what :meth:`skdenoise.DenoisingPipeline.predict` returns; it behaves as a plain
    ``list``.

    Parameters
    ----------
    waveforms : iterable of ndarray of shape (n_samples,)
        The recordings.
    sample_rate : int, optional
        Their rate in Hz, when they share one.
    rates : sequence of int, optional
        Each one's rate (default: ``sample_rate`` for all).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.batch import WaveformList
    >>> out = WaveformList([np.zeros(3)], sample_rate=8000)
    >>> len(out), out.sample_rate
    (1, 8000)
    """

    def __init__(self, waveforms=(), sample_rate: int | None = None, rates=None):
        super().__init__(waveforms)
        self.sample_rate = sample_rate
        self.rates = [sample_rate] * len(self) if rates is None else [int(r) for r in rates]

    def __reduce__(self):
        return (type(self), (list(self), self.sample_rate, self.rates))


@dataclass(frozen=True, eq=False)
class WaveformBatch:
    """Mono float32 waveforms at one rate, one per recording.

    Attributes
    ----------
    waveforms : tuple of ndarray of shape (n_samples,)
    sample_rate : int
        Hz.
    names : tuple of str
        Path or ``"X[i]"`` of each recording, for messages.
    targets : tuple of ndarray, optional
        Clean references aligned with ``waveforms`` (fit time only).
    keep_phase : bool
        Set by ``PhaseKeeper``: the spectral step keeps the phase of its STFT.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import WaveformLoader
    >>> batch = WaveformLoader().transform([(np.zeros(8000, "float32"), 8000)])
    >>> type(batch).__name__, batch.sample_rate
    ('WaveformBatch', 8000)
    """

    waveforms: tuple[np.ndarray, ...]
    sample_rate: int
    names: tuple[str, ...]
    targets: tuple[np.ndarray, ...] | None = None
    keep_phase: bool = False

    def __len__(self) -> int:
        return len(self.waveforms)

    def replace(self, **changes) -> WaveformBatch:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class SpectrogramBatch:
    """Log-magnitude frames of each recording, with what is needed to go back.

    Attributes
    ----------
    frames : tuple of ndarray of shape (n_frames, n_freq, frame_columns)
        Log-magnitude in dB; ``n_frames`` varies per recording.
    settings : SpectralSettings
        The settings that made ``frames``.
    waveforms : tuple of ndarray of shape (n_samples,)
        The input waveforms (exact lengths; the dry part of a dry/wet mix).
    names : tuple of str
    phases : tuple of ndarray of shape (n_freq, n_columns), optional
        Phase of the input's STFT as unit phasors, complex64 (kept when ``PhaseKeeper`` ran).
    target_frames : tuple of ndarray, optional
        Log-magnitude frames of the clean targets (fit time only).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import LogSpectrogram
    >>> from skdenoise.batch import WaveformBatch
    >>> waves = WaveformBatch((np.zeros(9000, "float32"),), 8000, ("x",))
    >>> batch = LogSpectrogram().transform(waves)
    >>> type(batch).__name__, batch.frames[0].shape
    ('SpectrogramBatch', (2, 128, 128))
    """

    frames: tuple[np.ndarray, ...]
    settings: SpectralSettings
    waveforms: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    phases: tuple[np.ndarray, ...] | None = None
    target_frames: tuple[np.ndarray, ...] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def sample_rate(self) -> int:
        """Rate of the waveforms in Hz."""
        return self.settings.sample_rate

    @property
    def lengths(self) -> tuple[int, ...]:
        """Samples of each input recording."""
        return tuple(len(w) for w in self.waveforms)

    def replace(self, **changes) -> SpectrogramBatch:
        """A copy with some fields changed."""
        return replace(self, **changes)
