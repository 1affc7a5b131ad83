"""Frame sources: training data streamed from speech and noise mixed on the fly
(:class:`MixtureStream`) or from pre-mixed pairs (:class:`ManifestStream`), without holding
the data set in memory; a denoising pipeline fits on them."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .audio import AudioError, PathLike, audio_info, read_audio, read_segment
from .augment import Augmentation
from .manifests import load_manifest, resolve_sources
from .mixing import (
    MIN_NOISE_SECONDS,
    _choose_noise,
    _load_noise,
    _pad_to,
    _snr_list,
    active_power,
    fit_noise_length,
    mix_at_snr,
)
from .spectral import SpectralSettings, analyse, log_magnitude_frames, phase_frames
from .splits import train_dev_split

logger = logging.getLogger("skdenoise.datasets")

__all__ = ["FrameSource", "ManifestStream", "MixtureStream"]

# ----------------------------------------------------------------------------- streaming


@dataclass(eq=False)
class FrameSource(ABC):
    """Base of the streamed training sets.

    A frame source yields, per recording, a pair of log-magnitude frame stacks
    ``(noisy_db, clean_db)``, each of shape (n_frames, n_freq, frame_columns), computed with
    :func:`skdenoise.spectral.log_magnitude_frames` and the pipeline's settings. It loads one
    recording at a time, so memory does not grow with the number of files.

    ``UNetNoiseRegressor.fit`` accepts a frame source; so does a denoising pipeline
    (``make_denoising_pipeline().fit(source)``), whose ``spec`` step gives it its settings.

    Parameters
    ----------
    sample_rate : int
        Rate of the audio it reads, in Hz.
    settings : SpectralSettings, optional
        Spectral settings of the frames (set by the pipeline's ``spec`` step when ``None``).
    random_state : int, optional
        Seed of its draws.

    Examples
    --------
    >>> from skdenoise.streams import FrameSource, MixtureStream
    >>> issubclass(MixtureStream, FrameSource)
    True
    """

    sample_rate: int = 8000
    settings: SpectralSettings | None = None
    random_state: int | None = 0

    def with_settings(self, settings: SpectralSettings) -> FrameSource:
        """A copy that computes frames with ``settings``."""
        if settings.sample_rate != self.sample_rate:
            raise ValueError(
                f"the frame source is at {self.sample_rate} Hz but the settings are at "
                f"{settings.sample_rate} Hz."
            )
        return replace(self, settings=settings)

    def _require_settings(self) -> SpectralSettings:
        if self.settings is None:
            raise ValueError(
                "this frame source has no spectral settings yet: fit it through a pipeline, "
                "or call .with_settings(LogSpectrogram().settings(sample_rate))."
            )
        return self.settings

    def _pair_frames(self, noisy: np.ndarray, clean: np.ndarray, phase: bool = False):
        settings = self._require_settings()
        if not phase:
            return log_magnitude_frames(noisy, settings), log_magnitude_frames(clean, settings)
        noisy_db, phasors = analyse(noisy, settings)
        return noisy_db, log_magnitude_frames(clean, settings), phase_frames(phasors, settings)

    @abstractmethod
    def frame_pairs(self, epoch: int = 0, phase: bool = False) -> Iterator[tuple]:
        """Yield ``(noisy_db, clean_db)`` frame stacks for one pass (epoch); with
        ``phase``, ``(noisy_db, clean_db, noisy_phase)`` (unit phasors per frame, for a
        waveform-domain loss)."""

    @abstractmethod
    def split(self, fraction: float, random_state: int | None = None):
        """Return ``(train, validation)`` sources sharing no speaker."""

    @abstractmethod
    def n_frames_hint(self) -> int:
        """Frames in one pass (for progress bars)."""


@dataclass(eq=False)
class MixtureStream(FrameSource):
    """Mix speech and noise on the fly, differently at every epoch.

    Each epoch visits every speech utterance once in a seeded order; each gets a random
    segment of at most ``segment_seconds``, a noise file (category-balanced), a noise
    offset, an SNR drawn uniformly from ``snr_range`` (or from ``snrs``) and a random gain.
    Only the needed part of each file is read.

    Parameters
    ----------
    speech, noise : list of dict
        Source rows (see :func:`resolve_sources`); build with :meth:`from_sources`.
    snrs : sequence of float, optional
        SNRs to draw from (dB). Ignored when ``snr_range`` is given.
    snr_range : (float, float), optional
        Draw SNRs uniformly within this range (dB).
    gain_db_range : (float, float)
        Random level change applied to each mixture (speech and noise together), in dB, so
        the model sees a range of absolute levels.
    segment_seconds : float
        Longest speech segment per utterance and epoch.
    min_seconds : float
        Shorter utterances are placed at a random position in this much silence (the noise
        then runs on alone), so short words still fill a frame.
    fixed : bool
        Draw the same mixtures at every epoch (used for validation).
    augmentation : skdenoise.augment.Augmentation, optional
        Degradations drawn per mixture (telephone channel, room, codec, clipping, summed
        noises, babble from other training speakers); None keeps plain additive mixing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise import make_denoising_pipeline
    >>> from skdenoise.datasets import MixtureStream
    >>> stream = MixtureStream.from_sources(root / "speech", root / "noise", snr_range=(0, 15))
    >>> noisy, clean, snr, row = next(stream.mixtures(epoch=0))
    >>> noisy.shape == clean.shape and 0 <= snr <= 15
    True
    >>> pipe = make_denoising_pipeline(unet__filters=4, unet__depth=2, unet__epochs=1,
    ...                                unet__validation_fraction=0.0)
    >>> pipe.fit(stream)  # doctest: +SKIP
    """

    speech: list = field(default_factory=list)
    noise: list = field(default_factory=list)
    snrs: Sequence[float] = (0, 5, 10, 15)
    snr_range: tuple[float, float] | None = None
    gain_db_range: tuple[float, float] = (0.0, 0.0)
    segment_seconds: float = 4.0
    min_seconds: float = 1.0
    fixed: bool = False
    augmentation: Augmentation | None = None

    @classmethod
    def from_sources(
        cls,
        speech,
        noise,
        *,
        sample_rate: int = 8000,
        exclude_licenses: Sequence[str] = (),
        **kwargs,
    ) -> MixtureStream:
        """Build from folders, manifests or lists of paths (as :func:`make_noisy_speech`)."""
        return cls(
            speech=resolve_sources(speech, what="speech", exclude_licenses=exclude_licenses),
            noise=resolve_sources(noise, what="noise", exclude_licenses=exclude_licenses),
            sample_rate=sample_rate,
            **kwargs,
        )

    def _duration(self, row: dict) -> float:
        if row.get("duration_s"):
            return float(row["duration_s"])
        return float(audio_info(row["path"]).duration)

    def n_frames_hint(self) -> int:
        """Frames per epoch (from the manifest durations or the file headers)."""
        settings = self._require_settings()
        total = 0
        for row in self.speech:
            seconds = min(max(self._duration(row), self.min_seconds), self.segment_seconds)
            total += settings.n_frames(settings.n_columns(int(seconds * self.sample_rate)))
        return total

    def split(self, fraction: float, random_state: int | None = None):
        """Split speech by speaker and noise by file into (train, validation) streams.

        Noise files are held out within each category when categories have several files,
        else across all files. With a single speaker (or a single noise file) both streams
        share it: the validation loss then also measures fitting, not only generalising.
        """

        def attempt(rows, **kwargs):
            for options in ({**kwargs}, {k: v for k, v in kwargs.items() if k != "stratify"}):
                try:
                    return train_dev_split(
                        rows, dev_fraction=fraction, random_state=random_state, **options
                    )
                except ValueError:
                    continue
            logger.info(
                "validation shares its %s with training (too few to hold out).", kwargs["by"][0]
            )
            return rows, rows

        speech_train, speech_val = attempt(self.speech, by=("speaker",))
        noise_train, noise_val = attempt(self.noise, by=("path",), stratify="category")
        return (
            replace(self, speech=speech_train, noise=noise_train),
            replace(self, speech=speech_val, noise=noise_val, fixed=True),
        )

    def _segment(self, row: dict, rng: np.random.Generator) -> np.ndarray:
        rate = self.sample_rate
        want = int(self.segment_seconds * rate)
        total = int(self._duration(row) * rate)
        start = int(rng.integers(0, total - want + 1)) if total > want else 0
        speech = read_segment(row["path"], start=start, n_samples=want, sample_rate=rate)
        return _pad_to(speech, int(self.min_seconds * rate), rng)

    def _noise_for(self, row: dict, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        rate = self.sample_rate
        total = int(self._duration(row) * rate)
        if total > n_samples:
            start = int(rng.integers(0, total - n_samples + 1))
            noise = read_segment(row["path"], start=start, n_samples=n_samples, sample_rate=rate)
            if len(noise) >= MIN_NOISE_SECONDS * rate and np.any(noise):
                return noise
        return _load_noise(row, rate)

    def _snr(self, rng: np.random.Generator) -> float:
        # A training stream's SNRs are an explicit choice: negative values are intended.
        if self.snr_range is not None:
            low, high = self.snr_range
            return float(rng.uniform(low, high))
        values = _snr_list(self.snrs, allow_negative=True)
        return values[int(rng.integers(len(values)))]

    def mixtures(self, epoch: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, float, dict]]:
        """Yield ``(noisy, clean, snr_db, speech_row)`` of one pass, one mixture at a time.

        Every draw (segment, noise, SNR, level, augmentation) comes from a generator seeded
        by ``(random_state, epoch, k)``, so a pass is reproduced exactly from the seed and
        the epoch, e.g. when training resumes. ``clean`` is the target: the speech through
        the same room and channel as in ``noisy``, at the same level; ``speech_row`` is the
        source row of the speech (its ``transcript``, ``speaker``...).
        """
        epoch = 0 if self.fixed else epoch
        seed = int(np.random.SeedSequence(self.random_state).generate_state(1)[0])
        order = np.random.default_rng([seed, epoch]).permutation(len(self.speech))
        for k, index in enumerate(order):
            rng = np.random.default_rng([seed, epoch, k])
            row = self.speech[index]
            try:
                speech = self._segment(row, rng)
                if not np.any(speech):
                    continue
                noise_row = _choose_noise(self.noise, rng, "category")
                noise = self._noise_for(noise_row, len(speech), rng)
                if self.augmentation is not None:
                    speech, noise = self._degrade(speech, noise, row, noise_row, rng)
                snr = self._snr(rng)
                mixture = mix_at_snr(
                    speech,
                    noise,
                    snr,
                    rng=rng,
                    sample_rate=self.sample_rate,
                    allow_negative_snr=True,
                )
            except (AudioError, OSError) as exc:
                logger.warning("skipping a mixture: %s", exc)
                continue
            low, high = self.gain_db_range
            gain = 10.0 ** (rng.uniform(low, high) / 20.0) if high > low else 1.0
            peak = float(np.max(np.abs(mixture.noisy)))
            gain = min(gain, 0.99 / peak) if peak > 0 else gain
            noisy, clean = mixture.noisy * gain, mixture.clean * gain
            if self.augmentation is not None:
                noisy = self.augmentation.input_path(noisy, rng)
            yield noisy, clean, snr, row

    def frame_pairs(self, epoch: int = 0, phase: bool = False) -> Iterator[tuple]:
        """Yield ``(noisy_db, clean_db)`` frame stacks (and the noisy phase, with
        ``phase``), one mixture at a time."""
        self._require_settings()
        for noisy, clean, _, _ in self.mixtures(epoch):
            yield self._pair_frames(noisy, clean, phase)

    def _babble(self, row: dict, n_samples: int, rng: np.random.Generator) -> np.ndarray | None:
        """Babble: segments of 4-7 other speakers' utterances, each at unit active power."""
        low, high = self.augmentation.babble_talkers
        talkers = int(rng.integers(low, high + 1))
        speaker = row.get("speaker", "")
        total = np.zeros(n_samples, np.float64)
        used = 0
        for _ in range(4 * talkers):
            other = self.speech[int(rng.integers(len(self.speech)))]
            if speaker and other.get("speaker", "") == speaker:
                continue
            seconds = self._duration(other)
            start = int(rng.integers(0, max(1, int(seconds * self.sample_rate) - n_samples)))
            voice = read_segment(
                other["path"], start=start, n_samples=n_samples, sample_rate=self.sample_rate
            )
            power = active_power(voice, self.sample_rate) if len(voice) else 0.0
            if power == 0.0:
                continue
            voice, _ = fit_noise_length(voice, n_samples, rng)
            total += voice / np.sqrt(power)
            used += 1
            if used == talkers:
                break
        return total.astype(np.float32) if used else None

    def _degrade(self, speech, noise, row, noise_row, rng):
        """Sources through the augmentation: babble or a second noise, room, channel."""
        from .augment import apply_channel

        augmentation, n = self.augmentation, len(speech)
        noise, _ = fit_noise_length(noise, n, rng)
        if rng.random() < augmentation.babble_p:
            babble = self._babble(row, n, rng)
            noise = noise if babble is None else babble
        elif rng.random() < augmentation.extra_noise_p and len(self.noise) > 1:
            category = noise_row.get("category", "")
            others = [r for r in self.noise if r.get("category", "") != category] or self.noise
            second_row = others[int(rng.integers(len(others)))]
            second, _ = fit_noise_length(self._noise_for(second_row, n, rng), n, rng)
            p1 = float(np.mean(noise.astype(np.float64) ** 2))
            p2 = float(np.mean(second.astype(np.float64) ** 2))
            if p1 > 0 and p2 > 0:
                level = 10.0 ** (rng.uniform(*augmentation.extra_noise_db) / 20.0)
                noise = (noise + second * np.sqrt(p1 / p2) * level).astype(np.float32)
        speech, channel = augmentation.speech_path(speech, self.sample_rate, rng)
        if channel is not None:
            speech = apply_channel(speech, self.sample_rate, channel)
            noise = apply_channel(noise, self.sample_rate, channel)
        return speech, noise


@dataclass(eq=False)
class ManifestStream(FrameSource):
    """Stream pre-mixed pairs listed in a mixture manifest, shuffled per epoch.

    Parameters
    ----------
    rows : list of dict
        Rows with ``noisy_path`` and ``clean_path`` (see :meth:`from_manifest`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import ManifestStream, make_noisy_speech
    >>> mixtures = make_noisy_speech(root / "speech", root / "noise", [5], out_dir=root / "mix")
    >>> stream = ManifestStream.from_manifest(root / "mix" / "manifest.csv")
    >>> len(stream.rows)
    1
    """

    rows: list = field(default_factory=list)
    fixed: bool = False

    @classmethod
    def from_manifest(cls, path: PathLike, *, sample_rate: int = 8000, **kwargs) -> ManifestStream:
        """Build from a manifest file with ``noisy_path`` and ``clean_path`` columns."""
        rows = load_manifest(path)
        if "noisy_path" not in rows[0] or "clean_path" not in rows[0]:
            raise ValueError(f"{path}: a mixture manifest needs noisy_path and clean_path.")
        return cls(rows=rows, sample_rate=sample_rate, **kwargs)

    def n_frames_hint(self) -> int:
        settings = self._require_settings()
        total = 0
        for row in self.rows:
            if row.get("duration_s"):
                n = int(float(row["duration_s"]) * self.sample_rate)
            else:
                n = int(audio_info(row["noisy_path"]).duration * self.sample_rate)
            total += settings.n_frames(settings.n_columns(n))
        return total

    def split(self, fraction: float, random_state: int | None = None):
        """Split by speaker when the manifest has several, else by row."""
        speakers = {r.get("speaker", "") for r in self.rows}
        if len(speakers) > 1:
            train, val = train_dev_split(
                self.rows, by=("speaker",), dev_fraction=fraction, random_state=random_state
            )
        else:
            order = np.random.default_rng(random_state).permutation(len(self.rows))
            k = max(1, round(fraction * len(self.rows)))
            val = [self.rows[i] for i in sorted(order[:k])]
            train = [self.rows[i] for i in sorted(order[k:])]
        return replace(self, rows=train), replace(self, rows=val, fixed=True)

    def frame_pairs(self, epoch: int = 0, phase: bool = False) -> Iterator[tuple]:
        """Yield ``(noisy_db, clean_db)`` frame stacks (and the noisy phase, with
        ``phase``), one file pair at a time."""
        self._require_settings()
        epoch = 0 if self.fixed else epoch
        order = np.random.default_rng([self.random_state or 0, epoch]).permutation(len(self.rows))
        for index in order:
            row = self.rows[index]
            noisy, _ = read_audio(row["noisy_path"], sample_rate=self.sample_rate)
            clean, _ = read_audio(row["clean_path"], sample_rate=self.sample_rate)
            if len(noisy) != len(clean):
                raise AudioError(
                    f"{row['noisy_path']}: {len(noisy)} samples but its clean reference "
                    f"{row['clean_path']} has {len(clean)}."
                )
            yield self._pair_frames(noisy, clean, phase)
