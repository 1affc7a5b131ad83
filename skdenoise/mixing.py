"""Mixing speech and noise at a chosen SNR: the arithmetic of noisy speech.

:func:`mix_at_snr` is the functional core of every data set here; :func:`active_power` and
:func:`measure_snr` define the SNR.

SNR definition
--------------
The SNR is measured on *active speech*: the clean signal is cut into 20 ms frames, frames
more than ``threshold_db`` (40 dB) below the loudest frame are ignored, and the speech power
is the mean power of the remaining frames. The noise power is that of the whole noise
segment added. ``snr_db = 10 log10(P_speech_active / P_noise)``. Because silences do not
count, a sentence with long pauses is not made to look cleaner than it sounds.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .audio import AudioError, read_audio

logger = logging.getLogger("skdenoise.datasets")

__all__ = [
    "Mixture",
    "active_power",
    "fit_noise_length",
    "frame_power",
    "measure_snr",
    "mix_at_snr",
]

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".opus"})
#: Shortest usable noise, in seconds.
MIN_NOISE_SECONDS = 0.010
#: A noise shorter than this (seconds) that has to be looped is warned about: repeating a
#: short sound turns it into a buzz at its repetition rate.
SHORT_LOOP_SECONDS = 0.5
#: Offsets tried before a noise recording is refused as silent where it is cut.
SILENT_SEGMENT_DRAWS = 20
#: Columns of the manifest written by :func:`make_noisy_speech`.
MANIFEST_COLUMNS = (
    "noisy_path",
    "clean_path",
    "noise_path",
    "snr_db",
    "noise_category",
    "speaker",
    "transcript",
    "clean_source",
    "noise_file",
    "noise_offset",
    "scale",
    "duration_s",
    "speech_license",
    "noise_license",
)


# ----------------------------------------------------------------------------- SNR and mixing


def frame_power(signal: np.ndarray, sample_rate: int, *, frame_s: float = 0.02) -> np.ndarray:
    """Mean power of each whole frame of a signal (a signal shorter than one frame is one).

    Parameters
    ----------
    signal : ndarray of shape (n_samples,)
    sample_rate : int
        Hz.
    frame_s : float
        Frame length in seconds.

    Returns
    -------
    ndarray of shape (n_frames,), float64

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.mixing import frame_power
    >>> frame_power(np.concatenate([np.zeros(160), 2 * np.ones(170)]), 8000)
    array([0., 4.])
    """
    x = np.asarray(signal, dtype=np.float64)
    n = max(1, round(frame_s * sample_rate))
    n_frames = max(1, len(x) // n)
    frames = x[: n_frames * n].reshape(n_frames, -1) if len(x) >= n else x[None, :]
    return np.mean(frames**2, axis=1)


def active_power(
    signal: np.ndarray, sample_rate: int, *, threshold_db: float = 40.0, frame_s: float = 0.02
) -> float:
    """Mean power of the active part of a signal (frames within ``threshold_db`` of the
    loudest 20 ms frame).

    Parameters
    ----------
    signal : ndarray of shape (n_samples,)
    sample_rate : int
        Hz.
    threshold_db : float
        Frames this far below the loudest one are silence.
    frame_s : float
        Frame length in seconds.

    Returns
    -------
    float
        Power (mean squared sample) of the active frames; 0.0 for a silent signal.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.datasets import active_power
    >>> x = np.concatenate([np.zeros(8000), np.ones(8000)])  # half silence
    >>> active_power(x, 8000)
    1.0
    """
    power = frame_power(signal, sample_rate, frame_s=frame_s)
    peak = power.max(initial=0.0)
    if peak == 0.0:
        return 0.0
    active = power >= peak * 10.0 ** (-threshold_db / 10.0)
    return float(power[active].mean())


def measure_snr(
    clean: np.ndarray, noise: np.ndarray, sample_rate: int, *, threshold_db: float = 40.0
) -> float:
    """SNR in dB of ``clean`` (active speech power) against ``noise`` (whole power).

    Parameters
    ----------
    clean : ndarray of shape (n_samples,)
        The speech.
    noise : ndarray of shape (n_samples,)
        The noise added to it.
    sample_rate : int
        Hz.
    threshold_db : float
        Activity threshold of :func:`active_power`.

    Returns
    -------
    float
        dB; ``inf`` for silent noise.

    Examples
    --------
    >>> from skdenoise.datasets import measure_snr, mix_at_snr
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, background = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> round(measure_snr(clean, background, 8000), 6)
    5.0
    """
    p_speech = active_power(clean, sample_rate, threshold_db=threshold_db)
    p_noise = float(np.mean(np.asarray(noise, dtype=np.float64) ** 2))
    if p_speech == 0.0:
        raise ValueError("the clean signal is silent: its SNR is undefined.")
    if p_noise == 0.0:
        return float("inf")
    return float(10.0 * np.log10(p_speech / p_noise))


@dataclass(frozen=True, eq=False)
class Mixture:
    """A noisy mixture and its parts, with ``noisy == clean + noise`` (float32).

    Unpacks as ``noisy, clean, noise = mix_at_snr(...)``.

    Attributes
    ----------
    noisy, clean, noise : ndarray of shape (n_samples,), float32
    snr_db : float
        The requested SNR (the measured one equals it, see the module's definition).
    noise_gain : float
        Factor applied to the noise segment to reach ``snr_db`` (before ``scale``).
    scale : float
        Factor applied to both speech and noise to keep the peak below full scale (1.0
        when no scaling was needed).
    noise_offset : int
        Sample of the noise file where the segment starts.

    Examples
    --------
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.synthetic import noise, syllables
    >>> mixture = mix_at_snr(syllables(), noise("hiss", 3.0), 10.0, rng=0)
    >>> noisy, clean, background = mixture
    >>> mixture.snr_db
    10.0
    """

    noisy: np.ndarray
    clean: np.ndarray
    noise: np.ndarray
    snr_db: float
    noise_gain: float
    scale: float
    noise_offset: int

    def __iter__(self):
        return iter((self.noisy, self.clean, self.noise))


def fit_noise_length(
    noise: np.ndarray, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Crop (at a random offset) or loop ``noise`` to exactly ``n_samples``.

    Parameters
    ----------
    noise : ndarray of shape (n,)
        A noise recording.
    n_samples : int
        Length wanted.
    rng : numpy.random.Generator
        Draws the offset.

    Returns
    -------
    segment : ndarray of shape (n_samples,)
    offset : int
        Where in ``noise`` the segment starts.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.mixing import fit_noise_length
    >>> segment, offset = fit_noise_length(np.arange(10.0), 4, np.random.default_rng(0))
    >>> segment.tolist() == list(np.arange(offset, offset + 4.0))
    True
    """
    noise = np.asarray(noise, dtype=np.float32)
    offset = int(rng.integers(0, len(noise)))
    if len(noise) >= n_samples:
        offset = int(rng.integers(0, len(noise) - n_samples + 1))
        return noise[offset : offset + n_samples].copy(), offset
    reps = -(-(offset + n_samples) // len(noise))
    return np.tile(noise, reps)[offset : offset + n_samples].copy(), offset


def _check_snr(snr_db, *, allow_negative: bool = False) -> float:
    try:
        value = float(snr_db)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"SNR must be a number of dB, got {snr_db!r}.") from exc
    if not np.isfinite(value):
        raise ValueError(f"SNR must be a finite number of dB, got {snr_db!r}.")
    if value < 0 and not allow_negative:
        raise ValueError(
            f"SNR {value:g} dB is negative (more noise than speech); if that is intended, "
            "pass allow_negative_snr=True (--allow-negative-snr on the command line)."
        )
    return value


def mix_at_snr(
    clean: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    *,
    rng: np.random.Generator | int | None = None,
    sample_rate: int = 8000,
    threshold_db: float = 40.0,
    peak: float = 0.99,
    allow_negative_snr: bool = False,
) -> Mixture:
    """Add noise to clean speech at an SNR measured on active speech.

    The noise is cropped at a random offset (or looped) to the speech's length, scaled to
    ``snr_db``, and added. If the mixture's peak would exceed ``peak``, speech and noise are
    scaled down together (the SNR is unchanged) and the factor is reported as ``scale``.

    Parameters
    ----------
    clean : ndarray of shape (n_samples,)
        Speech; must not be silent.
    noise : ndarray of shape (n_noise,)
        At least 10 ms of noise at the same rate; must not be silent.
    snr_db : float
        Target SNR in dB, finite; a negative SNR (more noise than speech) is refused unless
        ``allow_negative_snr``, so that a sign slip does not go unnoticed.
    rng : numpy Generator, int or None
        Source of the noise offset.
    sample_rate : int
        Rate of both signals in Hz (for the 20 ms activity frames and the 10 ms minimum).
    threshold_db : float
        Activity threshold below the loudest frame, in dB.
    peak : float
        Largest allowed absolute sample of the mixture.
    allow_negative_snr : bool
        Accept ``snr_db < 0``.

    Returns
    -------
    Mixture
        ``noisy == clean + noise`` exactly in float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.datasets import mix_at_snr, measure_snr
    >>> rng = np.random.default_rng(0)
    >>> speech = np.sin(np.arange(8000) / 5).astype("float32")
    >>> noisy, clean, noise = mix_at_snr(speech, rng.normal(size=4000), 5.0, rng=rng)
    >>> round(measure_snr(clean, noise, 8000), 3)
    5.0
    """
    snr = _check_snr(snr_db, allow_negative=allow_negative_snr)
    rng = np.random.default_rng(rng)
    clean = np.asarray(clean, dtype=np.float32)
    noise = np.asarray(noise, dtype=np.float32)
    if clean.ndim != 1 or noise.ndim != 1:
        raise AudioError("clean and noise must be 1-D (mono) waveforms.")
    if len(noise) < MIN_NOISE_SECONDS * sample_rate:
        raise AudioError(
            f"the noise has {len(noise)} samples, shorter than {MIN_NOISE_SECONDS * 1000:.0f} "
            f"ms at {sample_rate} Hz: give a longer noise recording."
        )
    p_speech = active_power(clean, sample_rate, threshold_db=threshold_db)
    if p_speech == 0.0:
        raise AudioError("the clean speech is silent (all zeros): it cannot set an SNR.")
    # A recording with silent stretches can give a silent segment: draw again (the first
    # draw is kept whenever it is usable, so mixtures made before stay the same).
    for _ in range(SILENT_SEGMENT_DRAWS):
        segment, offset = fit_noise_length(noise, len(clean), rng)
        p_noise = float(np.mean(segment.astype(np.float64) ** 2))
        if p_noise > 0.0:
            break
    else:
        raise AudioError(
            f"the noise is silent (all zeros) at each of {SILENT_SEGMENT_DRAWS} random "
            f"offsets for {len(clean)} samples of speech: it cannot be scaled; trim its "
            "silence or drop it."
        )
    gain = float(np.sqrt(p_speech / (p_noise * 10.0 ** (snr / 10.0))))
    noise_scaled = segment.astype(np.float64) * gain
    peak_now = float(np.max(np.abs(clean.astype(np.float64) + noise_scaled)))
    scale = min(1.0, peak / peak_now) if peak_now > 0 else 1.0
    clean_out = (clean.astype(np.float64) * scale).astype(np.float32)
    noise_out = (noise_scaled * scale).astype(np.float32)
    noisy = clean_out + noise_out
    return Mixture(noisy, clean_out, noise_out, snr, gain, scale, offset)


# ----------------------------------------------------------------------------- drawing sources


def _choose_noise(rows: list[dict], rng: np.random.Generator, balance: str) -> dict:
    if balance == "file":
        return rows[int(rng.integers(len(rows)))]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_category[row.get("category", "")].append(row)
    names = sorted(by_category)
    group = by_category[names[int(rng.integers(len(names)))]]
    return group[int(rng.integers(len(group)))]


def _load_noise(row: dict, sample_rate: int) -> np.ndarray:
    waveform, _ = read_audio(row["path"], sample_rate=sample_rate)
    if len(waveform) < MIN_NOISE_SECONDS * sample_rate:
        raise AudioError(
            f"{row['path']}: the noise is {len(waveform)} samples long, shorter than "
            f"{MIN_NOISE_SECONDS * 1000:.0f} ms at {sample_rate} Hz."
        )
    if not np.any(waveform):
        raise AudioError(f"{row['path']}: the noise is silent (all zeros).")
    return waveform


def _load_speech(row: dict, sample_rate: int) -> np.ndarray:
    waveform, _ = read_audio(row["path"], sample_rate=sample_rate)
    if waveform.size == 0 or not np.any(waveform):
        raise AudioError(f"{row['path']}: the speech recording is empty or silent.")
    return waveform


def _pad_to(speech: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``speech`` at a random position in ``n_samples`` of silence (unchanged if longer)."""
    if len(speech) >= n_samples:
        return speech
    padded = np.zeros(n_samples, dtype=np.float32)
    at = int(rng.integers(0, n_samples - len(speech) + 1))
    padded[at : at + len(speech)] = speech
    return padded


def _snr_list(snrs, allow_negative: bool = False) -> list[float]:
    values = [
        _check_snr(s, allow_negative=allow_negative)
        for s in np.atleast_1d(np.asarray(snrs, dtype=object))
    ]
    if not values:
        raise ValueError("give at least one SNR.")
    return values
