"""The one inference path: noisy log-magnitude frames in, denoised frames out.

:class:`FrameDenoiser` is the network with its scales and prediction-time settings (the
attenuation bound, ``strength``, ``expansion``); every denoised frame comes from one:
:meth:`skdenoise.UNetNoiseRegressor.denoise_frames` calls one, and :func:`model_engine`
puts one straight from a model file into the :class:`~skdenoise.engine.ChunkEngine` that
chunks, mixes and rebuilds the waveforms.

:func:`model_engine` reads the model file itself, so that ``skdenoise denoise`` imports
neither scikit-learn nor (with LiteRT) TensorFlow; ``engine_for(load_model(path))`` builds
the same engine through the scikit-learn pipeline, and both give the same samples (a test
checks it).

Examples
--------
>>> import numpy as np
>>> from skdenoise.inference import model_engine
>>> from skdenoise.modelfile import pretrained_path
>>> engine = model_engine(pretrained_path(8000), preset="asr")
>>> engine.bypass_low_snr_db, engine.denoise([np.zeros(9000, "float32")])[0].shape
(5.5, (9000,))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .audio import PathLike
from .engine import BATCH_FRAMES, CHUNK_SECONDS, ChunkEngine
from .model import Scales, apply_noise_estimate
from .modelfile import model_params, read_model_meta, read_model_weights
from .recipe import PREDICTION, check_expansion, check_strength
from .runner import INFERENCE_BATCH, NetworkRunner
from .spectral import SpectralSettings

__all__ = ["FrameDenoiser", "model_engine"]

#: Frames per runner call of :class:`FrameDenoiser` (bounds its memory).
BLOCK_FRAMES = 1024


@dataclass(frozen=True)
class FrameDenoiser:
    """The network as a function of noisy log-magnitude frames.

    Parameters
    ----------
    runner : callable
        Scaled frames ``(n, n_freq, n_columns, 1)`` in, the network's raw output of the same
        shape out (a :class:`~skdenoise.runner.NetworkRunner`).
    scales : Scales
        The affine maps between log-magnitudes and the network.
    settings : SpectralSettings
        The spectral settings the network was trained with (its frame shape and floor).
    max_attenuation_db : float or None
        The bound on the attenuation, dB.
    strength, expansion : float
        Prediction-time scaling of the estimate (see
        :func:`skdenoise.model.apply_noise_estimate`).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.inference import FrameDenoiser
    >>> from skdenoise.model import Scales
    >>> from skdenoise.spectral import SpectralSettings
    >>> silent = FrameDenoiser(np.zeros_like, Scales(0.0, 1.0, 40.0), SpectralSettings(8000))
    >>> frames = np.full((2, 128, 128), -30.0, "float32")
    >>> bool(np.array_equal(silent(frames), frames))  # a network that removes nothing
    True
    """

    runner: Callable[[np.ndarray], np.ndarray]
    scales: Scales
    settings: SpectralSettings
    max_attenuation_db: float | None = None
    strength: float = 1.0
    expansion: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", check_strength(self.strength))
        object.__setattr__(self, "expansion", check_expansion(self.expansion))

    def __call__(self, frames_db: np.ndarray) -> np.ndarray:
        """Denoise a stack of frames.

        Parameters
        ----------
        frames_db : ndarray of shape (n_frames, n_freq, frame_columns)
            Noisy log-magnitude, dB.

        Returns
        -------
        ndarray of the same shape, float32, dB
        """
        frames_db = np.asarray(frames_db, dtype=np.float32)
        if frames_db.ndim != 3 or frames_db.shape[1:] != tuple(self.settings.frame_shape):
            raise ValueError(
                f"frames of shape {frames_db.shape[1:]} do not match the model's "
                f"{tuple(self.settings.frame_shape)}: use the spectral settings it was "
                "trained with."
            )
        out = np.empty_like(frames_db)
        for start in range(0, len(frames_db), BLOCK_FRAMES):
            block = frames_db[start : start + BLOCK_FRAMES]
            noise = self.runner(self.scales.network_input(block))[..., 0]
            out[start : start + len(block)] = apply_noise_estimate(
                block,
                noise * self.scales.target_scale,
                max_attenuation_db=self.max_attenuation_db,
                floor_db=self.settings.floor_db,
                strength=self.strength,
                expansion=self.expansion,
            )
        return out


def model_engine(
    path: PathLike,
    *,
    preset: str | None = None,
    backend: str | None = None,
    strength: float | None = None,
    expansion: float | None = None,
    dry: float | None = None,
    bypass_snr_db: float | None = None,
    bypass_ramp_db: float | None = None,
    bypass_low_snr_db: float | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    batch_frames: int = BATCH_FRAMES,
) -> ChunkEngine:
    """The inference engine of a model file, built without scikit-learn.

    Parameters
    ----------
    path : str or PathLike
        A model file (:func:`skdenoise.save_model`, ``skdenoise train``).
    preset : str, optional
        A preset stored in the file (e.g. ``"asr"``), applied first.
    backend : {"auto", "tensorflow", "litert"}, optional
        The network's engine; default: the file's (``"auto"``: LiteRT where installed).
    strength, expansion : float, optional
        Override the file's (and the preset's).
    dry, bypass_snr_db, bypass_ramp_db, bypass_low_snr_db : float, optional
        Override the file's rebuild settings (and the preset's).
    chunk_seconds : float
        Output seconds per chunk.
    batch_frames : int
        Frames gathered before each network call.

    Returns
    -------
    ChunkEngine
        Its ``denoise_frames`` is a :class:`FrameDenoiser`; it pickles (the network is
        compiled again where it is unpickled).

    Raises
    ------
    FileNotFoundError, ValueError
        A missing or unreadable model file, an unknown preset or a bad setting, named.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.inference import model_engine
    >>> from skdenoise.modelfile import pretrained_path
    >>> engine = model_engine(pretrained_path(16000), preset="asr", dry=0.5)
    >>> engine.dry, engine.bypass_low_snr_db, engine.denoise_frames.strength
    (0.5, 2.5, 1.0)
    """
    meta = read_model_meta(path)
    params = model_params(meta, preset=preset, path=path)

    def merged(step: str, **overrides) -> dict:
        given = {k: v for k, v in overrides.items() if v is not None}
        return {**PREDICTION[step], **params.get(step, {}), **given}

    unet = merged("unet", backend=backend, strength=strength, expansion=expansion)
    rebuild = merged(
        "rebuild",
        dry=dry,
        bypass_snr_db=bypass_snr_db,
        bypass_ramp_db=bypass_ramp_db,
        bypass_low_snr_db=bypass_low_snr_db,
    )
    # Every setting is checked before the network is compiled (which may convert it).
    strength = check_strength(unet["strength"])
    expansion = check_expansion(unet["expansion"])
    engine = ChunkEngine(
        None,
        SpectralSettings.of_step(params["load"]["sample_rate"], params["spec"]),
        dry=rebuild["dry"],
        bypass_snr_db=rebuild["bypass_snr_db"],
        bypass_ramp_db=rebuild["bypass_ramp_db"],
        bypass_low_snr_db=rebuild["bypass_low_snr_db"],
        chunk_seconds=chunk_seconds,
        batch_frames=batch_frames,
        model_batch=INFERENCE_BATCH,
    )
    fitted = meta["fitted"]
    scales = Scales(fitted["input_mean_"], fitted["input_scale_"], fitted["target_scale_"])
    settings = SpectralSettings(**fitted["settings_"])
    runner = NetworkRunner(
        fitted["architecture_"], read_model_weights(path, meta), backend=unet["backend"]
    )
    engine.denoise_frames = FrameDenoiser(
        runner,
        scales,
        settings,
        max_attenuation_db=unet["max_attenuation_db"],
        strength=strength,
        expansion=expansion,
    )
    return engine
