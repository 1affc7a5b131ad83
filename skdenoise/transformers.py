"""The pipeline's transformers: thin scikit-learn layers over :mod:`skdenoise.audio` and
:mod:`skdenoise.spectral`.

``load`` -> ``phase`` -> ``spec`` -> (``unet``) -> ``rebuild``. None of them changes the
number or order of recordings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import spectral
from .audio import AudioError, check_recordings, load_waveforms
from .batch import SpectrogramBatch, WaveformBatch, WaveformList
from .recipe import PREDICTION
from .spectral import SpectralSettings

logger = logging.getLogger(__name__)

__all__ = [
    "LogSpectrogram",
    "PhaseKeeper",
    "WaveformLoader",
    "WaveformRebuilder",
    "rebuild_waveforms",
    "warn_silent",
]


class _Stateless(TransformerMixin, BaseEstimator):
    """Base for transformers that learn nothing: ``fit`` only checks parameters."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def _check_params(self) -> None:  # overridden where there is something to check
        return None

    def fit(self, X, y=None):
        """Check the parameters; nothing is learned. Returns ``self``."""
        self._check_params()
        return self


def _expect(X, kind: type, step: str, before: str):
    if not isinstance(X, kind):
        raise TypeError(
            f"{step} expects a {kind.__name__} (the output of {before}), got "
            f"{type(X).__name__}. Use make_denoising_pipeline(), or put {before} before it."
        )
    return X


def warn_silent(names, waveforms) -> None:
    """One warning for the silent recordings of a batch (they come out silent).

    Parameters
    ----------
    names : sequence of str
        The recordings' names, for the message.
    waveforms : sequence of ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.transformers import warn_silent
    >>> warn_silent(["a.wav"], [np.ones(3)])  # nothing silent: no warning
    """
    silent = [name for name, w in zip(names, waveforms) if not np.any(w)]
    if silent:
        logger.warning(
            "%d silent recording(s) (every sample zero), e.g. %s: they come out silent.",
            len(silent),
            silent[0],
        )


class WaveformLoader(_Stateless):
    """Paths or arrays in; float32 mono waveforms at ``sample_rate`` out.

    Files at other rates are resampled (soxr), channels are averaged, and unusable input
    (missing file, not audio, empty, all zeros, NaN/inf, 3-D arrays) raises an error that
    names the recording.

    Parameters
    ----------
    sample_rate : int, default=8000
        Rate of the output waveforms in Hz (the model's rate).
    mono : bool, default=True
        Mix channels down to one (the only mode the denoiser supports).
    progress : bool, default=False
        Show a progress bar while loading files.
    array_rate : int, optional
        Rate in Hz of the bare arrays this step is given. ``None`` (the default): a bare
        array is an error, since its rate cannot be known; give ``(array, rate)`` pairs,
        or the pipeline's ``sample_rate=`` argument, or set this.

    Notes
    -----
    ``fit_transform(X, y)`` also loads the clean references ``y`` with the same code and
    carries them in the batch, so that the regressor receives them in the same spectral
    domain as ``X``. ``transform`` never sees ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import WaveformLoader
    >>> loader = WaveformLoader(sample_rate=8000)
    >>> [len(w) for w in loader.transform([(np.ones(100), 8000), (np.ones(200), 16000)]).waveforms]
    [100, 100]
    >>> len(loader.set_params(array_rate=16000).transform([np.ones(200)]).waveforms[0])
    100
    """

    def __init__(
        self,
        sample_rate: int = 8000,
        mono: bool = True,
        progress: bool = False,
        array_rate: int | None = None,
    ):
        self.sample_rate = sample_rate
        self.mono = mono
        self.progress = progress
        self.array_rate = array_rate

    def _check_params(self) -> None:
        if not isinstance(self.sample_rate, (int, np.integer)) or self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive integer, got {self.sample_rate!r}.")
        if not self.mono:
            raise ValueError("mono=False is not supported: the denoiser works on one channel.")
        if self.array_rate is not None and (
            not isinstance(self.array_rate, (int, np.integer)) or self.array_rate <= 0
        ):
            raise ValueError(
                f"array_rate must be None or a positive integer, got {self.array_rate!r}."
            )

    def _load(self, X, what: str, allow_silent: bool = False):
        return load_waveforms(
            X,
            sample_rate=self.sample_rate,
            what=what,
            allow_silent=allow_silent,
            progress=self.progress,
            array_rate=self.array_rate,
        )

    def transform(self, X) -> WaveformBatch:
        """Load recordings.

        Parameters
        ----------
        X : sequence of path, ndarray or (ndarray, int)
            One entry per recording.

        Returns
        -------
        WaveformBatch
        """
        if isinstance(X, WaveformBatch):
            return X
        self._check_params()
        # Silence in, silence out (as `skdenoise denoise` does with a silent file): one
        # silent recording must not abort a whole batch.
        waveforms, names = self._load(X, "X", allow_silent=True)
        warn_silent(names, waveforms)
        return WaveformBatch(tuple(waveforms), int(self.sample_rate), tuple(names))

    def fit_transform(self, X, y=None, **fit_params) -> WaveformBatch:
        """Load ``X`` and, when given, the aligned clean references ``y``.

        Raises
        ------
        ValueError
            ``len(X) != len(y)``, or a pair of recordings of different lengths.
        """
        self._check_params()
        batch = self.transform(X)
        for name, waveform in zip(batch.names, batch.waveforms):
            if not np.any(waveform):
                # Silence passes through predict; in training data it is a mistake.
                raise AudioError(
                    f"{name}: every sample is zero (silent recording); there is nothing "
                    "to learn from it. Drop it from the training data."
                )
        if y is None:
            return batch
        items = check_recordings(y, what="y")
        if len(items) != len(batch):
            raise ValueError(
                f"X has {len(batch)} recordings but y has {len(items)}: give one clean "
                "reference per noisy recording, in the same order."
            )
        targets, target_names = self._load(items, "y", allow_silent=True)
        for i, (noisy, clean) in enumerate(zip(batch.waveforms, targets)):
            if len(noisy) != len(clean):
                raise ValueError(
                    f"recording {i}: the noisy input {batch.names[i]} has {len(noisy)} samples "
                    f"but its clean reference {target_names[i]} has {len(clean)} at "
                    f"{self.sample_rate} Hz; pairs must be aligned sample for sample."
                )
        return batch.replace(targets=tuple(targets))


class PhaseKeeper(_Stateless):
    """Keep the phase of the input's STFT with the data, for the rebuild.

    The STFT is computed once, by the ``spec`` step with its settings: this step marks the
    batch so that the phase of that single STFT travels with the log-magnitude. The rebuild
    always uses this *noisy* phase, the only one a user has.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import WaveformLoader, PhaseKeeper, LogSpectrogram
    >>> batch = PhaseKeeper().transform(WaveformLoader(array_rate=8000).transform([np.ones(8064)]))
    >>> LogSpectrogram().transform(batch).phases[0].shape
    (128, 128)
    """

    def __init__(self):
        pass

    def transform(self, X) -> WaveformBatch:
        """Return the batch marked to keep its phase."""
        return _expect(X, WaveformBatch, "PhaseKeeper", "WaveformLoader").replace(keep_phase=True)


class LogSpectrogram(_Stateless):
    """Log-magnitude (dB) of each recording as a stack of frames, with its inverse.

    Its parameters are the single source of truth for every STFT of the pipeline: the
    clean targets, the phase and the rebuild all use the :class:`SpectralSettings` it makes.

    Parameters
    ----------
    frame_length : int, default=8064
        Samples per network frame (about 1 s at 8 kHz); a multiple of ``hop_length``.
    n_fft : int, default=255
        FFT size; ``n_fft // 2 + 1`` = 128 bins.
    hop_length : int, default=63
        STFT hop in samples; ``frame_length // hop_length`` = 128 columns per frame.
    frame_hop : int, optional
        Samples between frame starts; ``None`` = ``frame_length`` (no overlap). Overlapping
        frames are blended back with a smooth weight.
    floor_db : float, default=-100.0
        Magnitude floor in dB.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import WaveformLoader, LogSpectrogram
    >>> waves = WaveformLoader().transform([(np.ones(20000), 8000)])
    >>> spec = LogSpectrogram().transform(waves)
    >>> spec.frames[0].shape
    (3, 128, 128)
    """

    def __init__(
        self,
        frame_length: int = SpectralSettings.frame_length,
        n_fft: int = SpectralSettings.n_fft,
        hop_length: int = SpectralSettings.hop_length,
        frame_hop: int | None = SpectralSettings.frame_hop,
        floor_db: float = SpectralSettings.floor_db,
    ):
        self.frame_length = frame_length
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.frame_hop = frame_hop
        self.floor_db = floor_db

    def settings(self, sample_rate: int = 8000) -> SpectralSettings:
        """The :class:`SpectralSettings` these parameters define at ``sample_rate`` Hz."""
        return SpectralSettings.of_step(sample_rate, self.get_params())

    def _check_params(self) -> None:
        self.settings()

    def transform(self, X) -> SpectrogramBatch:
        """Log-magnitude frames (and phase, when kept) of each recording.

        Parameters
        ----------
        X : WaveformBatch

        Returns
        -------
        SpectrogramBatch
            ``frames[i]`` has shape (n_frames_i, n_freq, frame_columns).
        """
        batch = _expect(X, WaveformBatch, "LogSpectrogram", "WaveformLoader")
        settings = self.settings(batch.sample_rate)
        frames, phases = [], []
        for waveform in batch.waveforms:
            f, p = spectral.analyse(waveform, settings, keep_phase=batch.keep_phase)
            frames.append(f)
            phases.append(p)
        targets = None
        if batch.targets is not None:
            targets = tuple(spectral.log_magnitude_frames(t, settings) for t in batch.targets)
        return SpectrogramBatch(
            frames=tuple(frames),
            settings=settings,
            waveforms=batch.waveforms,
            names=batch.names,
            phases=tuple(phases) if batch.keep_phase else None,
            target_frames=targets,
        )

    def inverse_transform(self, X) -> WaveformBatch:
        """Waveforms back from log-magnitude frames and the kept phase.

        Parameters
        ----------
        X : SpectrogramBatch
            Must carry phases (run ``PhaseKeeper`` before this step).

        Returns
        -------
        WaveformBatch
            Each waveform has its input's exact length.
        """
        batch = _expect(X, SpectrogramBatch, "LogSpectrogram.inverse_transform", "LogSpectrogram")
        waveforms = tuple(rebuild_waveforms(batch))
        return WaveformBatch(waveforms, batch.sample_rate, batch.names)


def rebuild_waveforms(
    batch: SpectrogramBatch,
    dry: float = 0.0,
    bypass_snr_db: float | None = None,
    bypass_ramp_db: float = spectral.BYPASS_RAMP_DB,
    bypass_low_snr_db: float | None = None,
) -> list[np.ndarray]:
    """Log-magnitude frames + kept phase -> waveforms of the inputs' exact lengths.

    Parameters
    ----------
    batch : SpectrogramBatch
        With phases.
    dry : float
        Share of the input mixed into the output, in [0, 1].
    bypass_snr_db : float or None
        SNR bypass per recording (see :func:`skdenoise.spectral.mix_output`).
    bypass_ramp_db : float
        Width of the bypass's fade, dB.
    bypass_low_snr_db : float or None
        Low SNR bypass per recording (see :func:`skdenoise.spectral.mix_output`).

    Returns
    -------
    list of ndarray of shape (n_samples_i,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import LogSpectrogram, PhaseKeeper, WaveformLoader
    >>> from skdenoise.transformers import rebuild_waveforms
    >>> x = np.random.default_rng(0).normal(0, .1, 9000)
    >>> batch = WaveformLoader().transform([(x, 8000)])
    >>> spec = LogSpectrogram().transform(PhaseKeeper().transform(batch))
    >>> rebuild_waveforms(spec)[0].shape  # unchanged frames give the input back
    (9000,)
    """
    if batch.phases is None:
        raise ValueError(
            "no phase was kept with these spectrograms, so no waveform can be rebuilt: put "
            "PhaseKeeper() before LogSpectrogram() (make_denoising_pipeline() does)."
        )
    out = []
    for frames, phase, waveform in zip(batch.frames, batch.phases, batch.waveforms):
        enhanced = spectral.synthesise(frames, phase, batch.settings, len(waveform))
        out.append(
            spectral.mix_output(
                enhanced, waveform, dry, bypass_snr_db, bypass_ramp_db, bypass_low_snr_db
            )
        )
    return out


class WaveformRebuilder(_Stateless):
    """Final step: denoised log-magnitude + kept noisy phase back to waveforms.

    Every output has exactly its input's length (the last frame is padded, then trimmed).

    Parameters
    ----------
    dry : float, default=0.0
        Share of the unprocessed input mixed into the output: 0 is fully enhanced, 1 is the
        input. A little input often helps speech recognisers.
    bypass_snr_db : float or None, default=None
        SNR bypass for speech recognisers: a recording whose estimated SNR (the energy of
        the output over the energy removed, in dB) is at or above this value is passed
        through unprocessed; ``bypass_ramp_db`` below it the dry mix is ``dry``, linear in
        between. ``None``: off. See :func:`skdenoise.spectral.mix_output`.
    bypass_ramp_db : float, default=5.0
        Width (dB) of that fade; 0 is a hard switch. Unused without ``bypass_snr_db``.
    bypass_low_snr_db : float or None, default=None
        Low SNR bypass for speech recognisers: a recording whose estimated SNR is below this
        value is passed through unprocessed (a hard switch), for very noisy input where a
        recogniser hears words in what the denoiser leaves and nothing in the input.
        ``None``: off.

    Notes
    -----
    ``predict`` and ``transform`` are the same; ``score`` is the mean SI-SDR (dB) of the
    output against the clean references, the default score of a denoising pipeline.

    Examples
    --------
    >>> from skdenoise import load_pretrained
    >>> pipe = load_pretrained()
    >>> pipe.set_params(rebuild__dry=0.2, rebuild__bypass_snr_db=15.0).named_steps["rebuild"]
    WaveformRebuilder(bypass_snr_db=15.0, dry=0.2)
    """

    def __init__(
        self,
        dry: float = PREDICTION["rebuild"]["dry"],
        bypass_snr_db: float | None = PREDICTION["rebuild"]["bypass_snr_db"],
        bypass_ramp_db: float = PREDICTION["rebuild"]["bypass_ramp_db"],
        bypass_low_snr_db: float | None = PREDICTION["rebuild"]["bypass_low_snr_db"],
    ):
        self.dry = dry
        self.bypass_snr_db = bypass_snr_db
        self.bypass_ramp_db = bypass_ramp_db
        self.bypass_low_snr_db = bypass_low_snr_db

    def _check_params(self) -> None:
        if not 0.0 <= float(self.dry) <= 1.0:
            raise ValueError(f"dry must be within [0, 1], got {self.dry!r}.")
        spectral.check_bypass_snr_db(self.bypass_snr_db)
        spectral.check_bypass_ramp_db(self.bypass_ramp_db)
        spectral.check_bypass_snr_db(self.bypass_low_snr_db, "bypass_low_snr_db")

    def transform(self, X) -> WaveformList:
        """Rebuild the waveforms.

        Parameters
        ----------
        X : SpectrogramBatch

        Returns
        -------
        WaveformList
            A list of ndarray of shape (n_samples_i,), float32, with ``sample_rate``.
        """
        self._check_params()
        batch = _expect(X, SpectrogramBatch, "WaveformRebuilder", "LogSpectrogram")
        bypass = spectral.check_bypass_snr_db(self.bypass_snr_db)
        ramp = spectral.check_bypass_ramp_db(self.bypass_ramp_db)
        low = spectral.check_bypass_snr_db(self.bypass_low_snr_db, "bypass_low_snr_db")
        return WaveformList(
            rebuild_waveforms(batch, float(self.dry), bypass, ramp, low), batch.sample_rate
        )

    def predict(self, X) -> WaveformList:
        """Same as :meth:`transform`."""
        return self.transform(X)

    def score(self, X, y: Sequence) -> float:
        """Mean SI-SDR in dB of the rebuilt waveforms against the clean references ``y``.

        Parameters
        ----------
        X : SpectrogramBatch
        y : sequence of path or ndarray
            Clean references, loaded at the batch's rate.

        Returns
        -------
        float
            Higher is better.
        """
        from .metrics import METRICS

        predictions = self.transform(X)
        references, _ = load_waveforms(
            y, sample_rate=predictions.sample_rate, what="y", allow_silent=False
        )
        if len(references) != len(predictions):
            raise ValueError(
                f"{len(predictions)} predictions but {len(references)} references in y."
            )
        rate = predictions.sample_rate
        si_sdr = METRICS["si_sdr"]
        return float(np.mean([si_sdr(r, p, rate) for r, p in zip(references, predictions)]))
