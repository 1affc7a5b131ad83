"""Degradations that make mixtures look like real recordings: telephone channel, room,
codec companding, clipping. Arrays in, arrays out; every random choice comes from the
``numpy.random.Generator`` passed in, so a stream or a dev set is reproduced from its seed
(and a resumed training run draws exactly what an uninterrupted one would).

The training stream (:class:`skdenoise.datasets.MixtureStream`) and the realistic dev set
(``benchmarks/make_realistic_devset.py``) use the same functions, so "telephone channel"
means one thing everywhere.

What is by hand and why
-----------------------
- Room impulse responses come from ``pyroomacoustics`` (image-source shoebox rooms, about
  2 ms per response at 8 kHz).
- The telephone channel is written here with ``scipy.signal``: a 4th-order elliptic
  band-pass (0.5 dB ripple, 45 dB stop band) meets the telephone mask (at least 20 dB down
  at 100 Hz and 3.8 kHz at 8 kHz), which the Butterworth roll-offs of ``audiomentations``'
  band-pass (12-24 dB/octave) cannot; the tilt and the EQ bump are one zero-phase gain
  curve applied by FFT.
- mu-law / A-law companding and clipping are a few lines of numpy. ``audiomentations``
  draws its parameters from Python's global ``random`` module, so its transforms could not
  be reproduced from the stream's seed nor resumed from a checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "Augmentation",
    "ChannelParams",
    "apply_channel",
    "apply_room",
    "clip",
    "compand",
    "draw_channel",
    "room_impulse_response",
    "telephone_sos",
]


@dataclass(frozen=True)
class ChannelParams:
    """One telephone channel: band edges (Hz), a spectral tilt and one EQ bump.

    Attributes
    ----------
    low_hz, high_hz : float
        Pass-band edges of the elliptic band-pass.
    tilt_db : float
        Gain at ``high_hz`` relative to ``low_hz``, linear in log-frequency (dB).
    eq_hz, eq_db : float
        Centre (Hz) and gain (dB) of a one-octave-wide bump; ``eq_db=0`` for none.

    Examples
    --------
    >>> from skdenoise.augment import ChannelParams
    >>> ChannelParams(low_hz=300.0, high_hz=3400.0, tilt_db=-3.0).tilt_db
    -3.0
    """

    low_hz: float = 300.0
    high_hz: float = 3400.0
    tilt_db: float = 0.0
    eq_hz: float = 1000.0
    eq_db: float = 0.0

    def as_dict(self) -> dict:
        """The parameters as a plain dict (for manifests)."""
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


def telephone_sos(
    sample_rate: int, low_hz: float = 300.0, high_hz: float = 3400.0, *, order: int = 4
) -> np.ndarray:
    """Second-order sections of the elliptic telephone band-pass.

    Parameters
    ----------
    sample_rate : int
        Hz; ``high_hz`` must be below its Nyquist frequency.
    low_hz, high_hz : float
        Pass-band edges in Hz (0.5 dB ripple inside, 45 dB stop band outside).
    order : int
        Order of the prototype (the band-pass has twice as many poles).

    Returns
    -------
    ndarray of shape (n_sections, 6)

    Examples
    --------
    >>> from skdenoise.augment import telephone_sos
    >>> telephone_sos(8000).shape
    (4, 6)
    """
    from scipy.signal import ellip

    if not 0 < low_hz < high_hz < sample_rate / 2:
        raise ValueError(
            f"band edges must satisfy 0 < low ({low_hz:g}) < high ({high_hz:g}) < "
            f"Nyquist ({sample_rate / 2:g} Hz)."
        )
    return ellip(
        order, 0.5, 45.0, [low_hz, high_hz], btype="bandpass", output="sos", fs=sample_rate
    )


def _eq_curve(n_fft: int, sample_rate: int, params: ChannelParams) -> np.ndarray:
    """Zero-phase gain (linear) of the tilt and the EQ bump at the rfft bins."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    octaves = np.log2(np.maximum(freqs, 1.0) / params.low_hz)
    span = math.log2(params.high_hz / params.low_hz)
    tilt = params.tilt_db * np.clip(octaves / span, 0.0, 1.0)
    bump = params.eq_db * np.exp(-0.5 * (np.log2(np.maximum(freqs, 1.0) / params.eq_hz) / 0.5) ** 2)
    return 10.0 ** ((tilt + bump) / 20.0)


def apply_channel(x: np.ndarray, sample_rate: int, params: ChannelParams) -> np.ndarray:
    """Pass ``x`` through a telephone channel (band-pass, then tilt and EQ).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
    sample_rate : int
        Hz.
    params : ChannelParams

    Returns
    -------
    ndarray of shape (n_samples,), float32
        Same length; the band-pass is causal (its group delay is part of the channel).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import ChannelParams, apply_channel
    >>> x = np.random.default_rng(0).standard_normal(8000).astype("float32")
    >>> apply_channel(x, 8000, ChannelParams()).shape
    (8000,)
    """
    from scipy.signal import sosfilt

    x = np.asarray(x, dtype=np.float64)
    y = sosfilt(telephone_sos(sample_rate, params.low_hz, params.high_hz), x)
    if params.tilt_db or params.eq_db:
        n = len(y)
        n_fft = 1 << max(1, (2 * n - 1).bit_length())
        spectrum = np.fft.rfft(y, n_fft) * _eq_curve(n_fft, sample_rate, params)
        y = np.fft.irfft(spectrum, n_fft)[:n]
    return y.astype(np.float32)


def draw_channel(
    rng: np.random.Generator,
    *,
    low_hz: tuple[float, float] = (250.0, 400.0),
    high_hz: tuple[float, float] = (3100.0, 3400.0),
    tilt_db: tuple[float, float] = (-6.0, 6.0),
    eq_db: tuple[float, float] = (-4.0, 4.0),
) -> ChannelParams:
    """A random telephone channel (uniform draws within the given ranges).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    low_hz, high_hz : (float, float)
        Ranges of the lower and upper pass-band edges (Hz).
    tilt_db, eq_db : (float, float)
        Ranges of the tilt and of the EQ bump's gain (dB).

    Returns
    -------
    ChannelParams

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import draw_channel
    >>> channel = draw_channel(np.random.default_rng(0))
    >>> 250 <= channel.low_hz <= 400 and 3100 <= channel.high_hz <= 3400
    True
    """
    low = float(rng.uniform(*low_hz))
    high = float(rng.uniform(*high_hz))
    return ChannelParams(
        low_hz=low,
        high_hz=high,
        tilt_db=float(rng.uniform(*tilt_db)),
        eq_hz=float(np.exp(rng.uniform(np.log(low * 2), np.log(high / 1.5)))),
        eq_db=float(rng.uniform(*eq_db)),
    )


def room_impulse_response(
    sample_rate: int,
    rng: np.random.Generator,
    *,
    rt60_s: tuple[float, float] = (0.15, 0.6),
    max_order: int = 12,
) -> tuple[np.ndarray, dict]:
    """A synthetic room impulse response (pyroomacoustics shoebox, image sources).

    Room size, reverberation time and the talker's and microphone's positions are drawn
    from ``rng``. The response is scaled so that its direct path has unit gain and starts
    at sample 0 (the reverberant speech stays aligned with the dry speech).

    Parameters
    ----------
    sample_rate : int
        Hz.
    rng : numpy.random.Generator
        Source of the draws.
    rt60_s : (float, float)
        Range of the reverberation time (s).
    max_order : int
        Reflection order of the image-source model.

    Returns
    -------
    rir : ndarray of shape (n_taps,), float32
    info : dict
        ``rt60_s`` and the room's ``dims_m``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import room_impulse_response
    >>> rir, info = room_impulse_response(8000, np.random.default_rng(0))
    >>> float(rir[0]), sorted(info)
    (1.0, ['dims_m', 'rt60_s'])
    """
    import pyroomacoustics as pra

    dims = rng.uniform([3.0, 3.0, 2.4], [9.0, 7.0, 3.5])
    rt60 = float(rng.uniform(*rt60_s))
    absorption, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(
        dims,
        fs=sample_rate,
        materials=pra.Material(absorption),
        max_order=int(min(order, max_order)),
    )
    room.add_source(rng.uniform([0.5] * 3, dims - 0.5))
    room.add_microphone(rng.uniform([0.5] * 3, dims - 0.5))
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    start = int(np.argmax(np.abs(rir)))
    rir = rir[start:] / rir[start]
    return rir.astype(np.float32), {"rt60_s": round(rt60, 3), "dims_m": np.round(dims, 2).tolist()}


def apply_room(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve ``x`` with ``rir``, keeping ``x``'s length (the tail past the end is cut).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Dry signal.
    rir : ndarray of shape (n_taps,)
        Room impulse response (:func:`room_impulse_response`).

    Returns
    -------
    ndarray of shape (n_samples,), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import apply_room, room_impulse_response
    >>> rir, info = room_impulse_response(8000, np.random.default_rng(0))
    >>> apply_room(np.ones(4000, "float32"), rir).shape
    (4000,)
    """
    from scipy.signal import fftconvolve

    y = fftconvolve(np.asarray(x, np.float64), np.asarray(rir, np.float64))[: len(x)]
    return y.astype(np.float32)


def compand(x: np.ndarray, law: str = "mu", *, bits: int = 8) -> np.ndarray:
    """Round trip through a G.711-style companding codec (mu-law or A-law, ``bits`` bits).

    Parameters
    ----------
    x : ndarray
        Samples in [-1, 1] (clipped first).
    law : {"mu", "a"}
    bits : int
        Code word size (8 for G.711).

    Returns
    -------
    ndarray, float32
        The decoded signal: ``x`` plus the codec's level-dependent quantisation noise.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import compand
    >>> x = np.linspace(-0.5, 0.5, 5)
    >>> bool(np.max(np.abs(compand(x) - x)) < 0.02)
    True
    """
    x = np.clip(np.asarray(x, np.float64), -1.0, 1.0)
    levels = 2 ** (bits - 1) - 1
    if law == "mu":
        mu = 255.0
        y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
        y = np.round(y * levels) / levels
        out = np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu
    elif law == "a":
        a = 87.6
        ax = np.abs(x)
        small = ax < 1.0 / a
        y = np.where(small, a * ax, 1.0 + np.log(np.maximum(a * ax, 1e-12))) / (1.0 + np.log(a))
        y = np.round(y * levels) / levels
        big = y * (1.0 + np.log(a))
        out = np.sign(x) * np.where(big < 1.0, big / a, np.exp(big - 1.0) / a)
    else:
        raise ValueError(f"law must be 'mu' or 'a', got {law!r}.")
    return out.astype(np.float32)


def clip(x: np.ndarray, fraction: float) -> np.ndarray:
    """Hard-clip ``x`` at ``fraction`` of its peak (``fraction`` in (0, 1]).

    Parameters
    ----------
    x : ndarray
        Samples.
    fraction : float
        Clipping level as a fraction of the peak, in (0, 1].

    Returns
    -------
    ndarray, float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.augment import clip
    >>> clip(np.array([-1.0, 0.2, 1.0]), 0.5).tolist()
    [-0.5, 0.20000000298023224, 0.5]
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the clipping fraction must be in (0, 1], got {fraction!r}.")
    x = np.asarray(x, np.float32)
    level = fraction * float(np.max(np.abs(x), initial=0.0))
    return np.clip(x, -level, level) if level > 0 else x.copy()


@dataclass(frozen=True)
class Augmentation:
    """Probabilities and ranges of the training stream's degradations.

    Each degradation is applied to a mixture with its probability; the speech and its
    clean target share the room and the channel (the model removes noise, not the
    channel), the noise shares the channel; codec and clipping touch only the noisy input.

    Parameters
    ----------
    channel_p : float
        Probability of a telephone channel (:func:`draw_channel`).
    channel_low_hz, channel_high_hz, channel_tilt_db, channel_eq_db : (float, float)
        Ranges of its band edges (Hz), tilt and EQ bump (dB).
    room_p : float
        Probability of a synthetic room (:func:`room_impulse_response`).
    rt60_s : (float, float)
        Range of the room's reverberation time in seconds.
    codec_p : float
        Probability of a mu-law or A-law round trip (:func:`compand`), either law equally.
    clip_p : float
        Probability of light clipping.
    clip_fraction : (float, float)
        Clipping level as a fraction of the peak.
    extra_noise_p : float
        Probability of summing a second noise (another category) with the first.
    extra_noise_db : (float, float)
        Level of the second noise relative to the first, in dB.
    babble_p : float
        Probability that the noise is babble summed from other training speakers.
    babble_talkers : (int, int)
        Inclusive range of the number of babble talkers.

    Examples
    --------
    >>> from skdenoise.augment import Augmentation
    >>> from skdenoise.datasets import MixtureStream
    >>> telephone_only = Augmentation(channel_p=1.0, room_p=0.0, codec_p=0.0, clip_p=0.0,
    ...                               extra_noise_p=0.0, babble_p=0.0)
    >>> stream = MixtureStream(augmentation=telephone_only)  # give it speech and noise rows
    >>> stream.augmentation.channel_p
    1.0
    """

    channel_p: float = 0.5
    channel_low_hz: tuple[float, float] = (250.0, 400.0)
    channel_high_hz: tuple[float, float] = (3100.0, 3400.0)
    channel_tilt_db: tuple[float, float] = (-6.0, 6.0)
    channel_eq_db: tuple[float, float] = (-4.0, 4.0)
    room_p: float = 0.25
    rt60_s: tuple[float, float] = (0.15, 0.6)
    codec_p: float = 0.2
    clip_p: float = 0.1
    clip_fraction: tuple[float, float] = (0.5, 0.9)
    extra_noise_p: float = 0.3
    extra_noise_db: tuple[float, float] = (-10.0, 0.0)
    babble_p: float = 0.15
    babble_talkers: tuple[int, int] = (4, 7)

    def __post_init__(self):
        for name in ("channel_p", "room_p", "codec_p", "clip_p", "extra_noise_p", "babble_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}.")
        low, high = self.babble_talkers
        if not 1 <= low <= high:
            raise ValueError(f"babble_talkers must be 1 <= low <= high, got {self.babble_talkers}.")

    @classmethod
    def none(cls) -> Augmentation:
        """No degradation at all (the stream's behaviour before augmentation)."""
        return cls(
            channel_p=0.0, room_p=0.0, codec_p=0.0, clip_p=0.0, extra_noise_p=0.0, babble_p=0.0
        )

    def as_dict(self) -> dict:
        """Parameters as a plain dict (for reports and checkpoints)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    # -- the steps, each drawing from the mixture's own generator ------------------------

    def speech_path(
        self, speech: np.ndarray, sample_rate: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, ChannelParams | None]:
        """Room (with its probability), and the channel to use for speech and noise.

        Returns the (possibly reverberant) speech and the channel, or None; the caller
        applies the channel to the speech and the noise alike with :func:`apply_channel`.
        """
        if rng.random() < self.room_p:
            rir, _ = room_impulse_response(sample_rate, rng, rt60_s=self.rt60_s)
            speech = apply_room(speech, rir)
        channel = None
        if rng.random() < self.channel_p:
            high = (
                min(self.channel_high_hz[0], 0.45 * sample_rate),
                min(self.channel_high_hz[1], 0.45 * sample_rate),
            )
            channel = draw_channel(
                rng,
                low_hz=self.channel_low_hz,
                high_hz=high,
                tilt_db=self.channel_tilt_db,
                eq_db=self.channel_eq_db,
            )
        return speech, channel

    def input_path(self, noisy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Clipping, then codec (each with its probability), on the noisy input only."""
        if rng.random() < self.clip_p:
            noisy = clip(noisy, float(rng.uniform(*self.clip_fraction)))
        if rng.random() < self.codec_p:
            noisy = compand(noisy, "mu" if rng.random() < 0.5 else "a")
        return noisy
