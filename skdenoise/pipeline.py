"""The denoising pipeline, its model files and the shipped pretrained model.

A model file (``.npz``) holds every step's parameters as JSON and the network's weights as
arrays: no pickle, so it loads across scikit-learn and Keras versions and cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from .audio import PathLike, fit_length, load_at_rates, load_recordings, resample
from .batch import WaveformList, is_frame_source
from .engine import BATCH_FRAMES, CHUNK_SECONDS, ChunkEngine
from .modelfile import (  # noqa: F401 (PRETRAINED_*, PRESET_PARAMS, shipped_rates: re-exported)
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    PRESET_PARAMS,
    PRETRAINED_DIR,
    PRETRAINED_FILES,
    check_presets,
    model_params,
    pretrained_path,
    pretrained_rate_for,
    read_model_meta,
    read_model_weights,
    shipped_rates,
    write_model_file,
)
from .regressor import UNetNoiseRegressor
from .runner import INFERENCE_BATCH
from .transformers import (
    LogSpectrogram,
    PhaseKeeper,
    WaveformLoader,
    WaveformRebuilder,
    warn_silent,
)

__all__ = [
    "DenoisingPipeline",
    "engine_for",
    "load_model",
    "load_pretrained",
    "make_denoising_pipeline",
    "save_model",
]

STEP_NAMES = ("load", "phase", "spec", "unet", "rebuild")


def engine_for(
    pipe,
    *,
    dry: float | None = None,
    bypass_snr_db: float | None = None,
    bypass_ramp_db: float | None = None,
    bypass_low_snr_db: float | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    batch_frames: int = BATCH_FRAMES,
) -> ChunkEngine:
    """The inference engine of a fitted denoising pipeline (its network, spectral settings,
    dry mix and SNR bypass, unless given): what ``predict`` and ``skdenoise denoise`` run.

    Parameters
    ----------
    pipe : Pipeline
        Fitted, with the steps of :func:`make_denoising_pipeline`.
    dry, bypass_snr_db, bypass_ramp_db, bypass_low_snr_db : float, optional
        Override the ``rebuild`` step's.
    chunk_seconds : float
        Output seconds per chunk.
    batch_frames : int
        Frames gathered before each network call.

    Returns
    -------
    ChunkEngine

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.pipeline import engine_for
    >>> engine_for(load_pretrained()).denoise([np.zeros(9000, "float32")])[0].shape
    (9000,)
    """
    steps = pipe.named_steps
    steps["unet"]._check_fitted()
    rebuild = steps["rebuild"]
    return ChunkEngine(
        steps["unet"].denoise_frames,
        steps["spec"].settings(int(steps["load"].sample_rate)),
        dry=rebuild.dry if dry is None else dry,
        bypass_snr_db=rebuild.bypass_snr_db if bypass_snr_db is None else bypass_snr_db,
        bypass_ramp_db=rebuild.bypass_ramp_db if bypass_ramp_db is None else bypass_ramp_db,
        bypass_low_snr_db=(
            rebuild.bypass_low_snr_db if bypass_low_snr_db is None else bypass_low_snr_db
        ),
        chunk_seconds=chunk_seconds,
        batch_frames=batch_frames,
        model_batch=INFERENCE_BATCH,
    )


def _with_rate(recordings, sample_rate: int | None):
    """Bare arrays of ``recordings`` as ``(array, sample_rate)`` pairs (paths and pairs
    unchanged); ``None`` leaves them as they are."""
    if recordings is None or sample_rate is None:
        return recordings
    return [(r, int(sample_rate)) if isinstance(r, np.ndarray) else r for r in recordings]


class DenoisingPipeline(Pipeline):
    """The denoising pipeline: a scikit-learn ``Pipeline`` of the steps ``load -> phase ->
    spec -> unet -> rebuild`` whose ``predict`` and ``score`` run the chunked inference
    engine (:class:`skdenoise.engine.ChunkEngine`), the same as ``skdenoise denoise``.

    Every recording carries its rate: a file its own, an ``(array, rate)`` pair its
    ``rate``, and bare arrays the ``sample_rate=`` argument of ``fit``, ``predict`` and
    ``score`` (else the ``load__array_rate`` parameter; else they are an error). Audio at
    another rate than the model's is resampled in, and the output comes back at the
    input's rate and length.

    Build it with :func:`make_denoising_pipeline`, :func:`load_model` or
    :func:`load_pretrained`; it clones, pickles and runs in joblib workers as any
    ``Pipeline``.

    Parameters
    ----------
    steps : list of (str, estimator)
        As ``sklearn.pipeline.Pipeline``'s; the named steps above.
    memory, verbose, transform_input
        As ``sklearn.pipeline.Pipeline``'s.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> pipe = load_pretrained()
    >>> x16 = np.random.default_rng(0).normal(0, 0.1, 16000)
    >>> out = pipe.predict([x16], sample_rate=16000)  # resampled in and back out
    >>> out[0].shape, out.sample_rate
    ((16000,), 16000)
    """

    def fit(self, X, y=None, *, sample_rate: int | None = None, **params):
        """Fit on noisy recordings ``X`` and their clean references ``y``.

        Parameters
        ----------
        X, y : sequence of path, ndarray or (ndarray, int), or a frame source (``X``)
            Aligned noisy and clean recordings.
        sample_rate : int, optional
            Rate of the bare arrays in ``X`` and ``y``, in Hz.
        **params
            Fit parameters of the steps (``step__param``).

        Returns
        -------
        self
        """
        if is_frame_source(X):
            return self._fit_stream(X, y)
        return super().fit(_with_rate(X, sample_rate), _with_rate(y, sample_rate), **params)

    def _fit_stream(self, source, y) -> DenoisingPipeline:
        """The one entry of a frame source (a streamed training set that loads its own
        files): the regressor fits on it with the ``spec`` step's settings; the other steps
        hold no state."""
        if y is not None:
            raise ValueError("a frame source carries its own clean targets: pass y=None.")
        steps = self.named_steps
        for name in ("load", "phase", "spec", "rebuild"):
            steps[name]._check_params()
        if source.sample_rate != steps["load"].sample_rate:
            raise ValueError(
                f"the frame source is at {source.sample_rate} Hz but load__sample_rate is "
                f"{steps['load'].sample_rate} Hz."
            )
        steps["unet"].fit(source.with_settings(steps["spec"].settings(source.sample_rate)))
        return self

    def _array_rate(self, sample_rate: int | None) -> int | None:
        """The rate of bare arrays: the argument, else ``load__array_rate``."""
        return sample_rate if sample_rate is not None else self.named_steps["load"].array_rate

    def predict(
        self, X, *, sample_rate: int | None = None, chunk_seconds: float = CHUNK_SECONDS
    ) -> WaveformList:
        """Denoise recordings with the chunked engine.

        Parameters
        ----------
        X : sequence of path, ndarray or (ndarray, int)
            One entry per recording.
        sample_rate : int, optional
            Rate of the bare arrays in ``X``, in Hz (default: ``load__array_rate``).
        chunk_seconds : float
            Output seconds per chunk; the SNR bypass, if set, is decided per chunk.

        Returns
        -------
        WaveformList
            One float32 waveform per recording, at its input's rate and of its input's
            length; ``sample_rate`` is their rate when they share one (else ``None``),
            ``rates`` each one's.
        """
        steps = self.named_steps
        steps["load"]._check_params()
        engine = engine_for(self, chunk_seconds=chunk_seconds)  # checks dry and bypass
        model_rate = int(steps["load"].sample_rate)
        waves, rates, names = load_recordings(
            X, array_rate=self._array_rate(sample_rate), allow_silent=True
        )
        warn_silent(names, waves)
        inputs = [
            w if r == model_rate else resample(w, r, model_rate) for w, r in zip(waves, rates)
        ]
        outputs = engine.denoise(inputs)
        outputs = [
            y if r == model_rate else fit_length(resample(y, model_rate, r), len(w))
            for y, w, r in zip(outputs, waves, rates)
        ]
        return WaveformList(
            outputs, sample_rate=rates[0] if len(set(rates)) == 1 else None, rates=rates
        )

    def score(self, X, y, *, sample_rate: int | None = None) -> float:
        """Mean SI-SDR (dB) of the denoised ``X`` against the clean references ``y``, each
        compared at its input's rate.

        Parameters
        ----------
        X, y : sequence of path, ndarray or (ndarray, int)
            Aligned noisy and clean recordings.
        sample_rate : int, optional
            Rate of the bare arrays in ``X`` and ``y``, in Hz.

        Returns
        -------
        float
            Higher is better.
        """
        from .metrics import METRICS

        predictions = self.predict(X, sample_rate=sample_rate)
        references = load_at_rates(
            y, predictions.rates, array_rate=self._array_rate(sample_rate), allow_silent=False
        )
        si_sdr = METRICS["si_sdr"]
        values = [
            si_sdr(r, p, rate) for r, p, rate in zip(references, predictions, predictions.rates)
        ]
        return float(np.mean(values))


def make_denoising_pipeline(**params) -> DenoisingPipeline:
    """Build the denoising pipeline ``load -> phase -> spec -> unet -> rebuild``.

    Parameters
    ----------
    **params
        Step parameters in scikit-learn's ``step__param`` form, e.g.
        ``unet__filters=8, rebuild__dry=0.2, load__sample_rate=16000``.

    Returns
    -------
    DenoisingPipeline
        ``fit(noisy, clean, sample_rate=...)`` takes aligned sequences of paths, arrays or
        ``(array, rate)`` pairs; ``predict(noisy, sample_rate=...)`` returns a list of 1-D
        float32 arrays at the inputs' rates and lengths; ``score(noisy, clean)`` is the
        mean SI-SDR in dB. The model runs at ``load__sample_rate`` Hz.

    Examples
    --------
    >>> from skdenoise import make_denoising_pipeline
    >>> pipe = make_denoising_pipeline(unet__filters=8, rebuild__dry=0.1)
    >>> [name for name, _ in pipe.steps]
    ['load', 'phase', 'spec', 'unet', 'rebuild']
    """
    pipe = DenoisingPipeline(
        [
            ("load", WaveformLoader()),
            ("phase", PhaseKeeper()),
            ("spec", LogSpectrogram()),
            ("unet", UNetNoiseRegressor()),
            ("rebuild", WaveformRebuilder()),
        ]
    )
    if params:
        pipe.set_params(**params)
    return pipe


def _check_pipeline(pipe) -> None:
    if not isinstance(pipe, Pipeline) or tuple(pipe.named_steps) != STEP_NAMES:
        raise TypeError(
            "save_model takes a pipeline made by make_denoising_pipeline() (steps "
            f"{STEP_NAMES}), got {type(pipe).__name__}."
        )


def _json_params(estimator) -> dict:
    params = estimator.get_params(deep=False)
    for key, value in params.items():
        if isinstance(value, np.generic):
            params[key] = value.item()
        elif not isinstance(value, (int, float, str, bool, type(None))):
            raise TypeError(
                f"{type(estimator).__name__}.{key}={value!r} cannot be saved in a model file; "
                "use an int seed for random_state."
            )
    return params


def save_model(
    pipe: Pipeline, path: PathLike, *, dtype: str = "float32", presets: dict | None = None
) -> Path:
    """Save a fitted denoising pipeline to a ``.npz`` model file (atomically).

    Parameters
    ----------
    pipe : Pipeline
        A fitted pipeline from :func:`make_denoising_pipeline`.
    path : str or PathLike
        Destination; ``.npz`` is appended if missing.
    dtype : {"float32", "float16"}
        Storage type of the weights (``float16`` halves the file; weights are converted
        back to float32 on loading).
    presets : dict, optional
        Named settings stored with the model, e.g. ``{"asr": {"rebuild__dry": 0.2,
        "rebuild__bypass_snr_db": 10.0}}``, applied by ``load_model(path, preset="asr")``
        and ``skdenoise denoise --preset asr`` (only :data:`PRESET_PARAMS`).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.pipeline import load_model, save_model
    >>> path = save_model(load_pretrained(), tempfile.mkdtemp() + "/copy", dtype="float16")
    >>> path.name, type(load_model(path)).__name__
    ('copy.npz', 'DenoisingPipeline')
    """
    from . import __version__

    _check_pipeline(pipe)
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}.")
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    regressor: UNetNoiseRegressor = pipe.named_steps["unet"]
    fitted, weights = regressor._fitted_state()
    params = {name: _json_params(step) for name, step in pipe.steps}
    params["unet"]["checkpoint_path"] = None
    params["unet"]["init_model"] = None  # a path on the training machine
    params["load"].pop("array_rate", None)  # about the user's data, not the model
    presets = check_presets(presets)
    meta = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skdenoise_version": __version__,
        "presets": presets,
        "params": params,
        "fitted": fitted,
        "n_weights": len(weights),
    }
    return write_model_file(path, meta, [w.astype(dtype) for w in weights])


def model_presets(path: PathLike) -> dict:
    """The presets stored in a model file (name -> parameters); ``{}`` if none."""
    return dict(read_model_meta(path).get("presets") or {})


def load_model(path: PathLike, *, preset: str | None = None) -> Pipeline:
    """Load a pipeline saved by :func:`save_model`.

    Parameters
    ----------
    path : str or PathLike
    preset : str, optional
        Apply this preset stored in the model file (e.g. ``"asr"``: the dry mix and SNR
        bypass chosen for speech recognisers).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted, ready to ``predict``.

    Examples
    --------
    >>> from skdenoise.pipeline import load_model, pretrained_path
    >>> pipe = load_model(pretrained_path(8000), preset="asr")
    >>> pipe.named_steps["rebuild"].bypass_low_snr_db
    5.5
    """
    path = Path(path)
    meta = read_model_meta(path)
    pipe = make_denoising_pipeline()
    for name, params in model_params(meta, preset=preset, path=path).items():
        pipe.named_steps[name].set_params(**params)
    pipe.named_steps["unet"]._restore_fitted(meta["fitted"], read_model_weights(path, meta))
    return pipe


def load_pretrained(sample_rate: int = 8000, *, preset: str | None = None) -> Pipeline:
    """The shipped default model, a fitted denoising pipeline (loads offline).

    Parameters
    ----------
    sample_rate : int, default=8000
        Rate of the model in Hz. Inputs at other rates are resampled to it by the pipeline.
    preset : str, optional
        A preset stored with the model, e.g. ``"asr"`` (see the model card).

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> pipe = load_pretrained()
    >>> out = pipe.predict([np.random.default_rng(0).normal(0, 0.1, 8000)], sample_rate=8000)
    >>> out[0].shape
    (8000,)
    """
    return load_model(pretrained_path(sample_rate), preset=preset)
