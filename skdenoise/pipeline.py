"""The denoising pipeline, its model files and the shipped pretrained model.

A model file (``.npz``) holds every step's parameters as JSON and the network's weights as
arrays: no pickle, so it loads across scikit-learn and Keras versions and cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from .audio import PathLike
from .modelfile import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    read_model_meta,
    read_model_weights,
    write_model_file,
)
from .regressor import UNetNoiseRegressor
from .transformers import LogSpectrogram, PhaseKeeper, WaveformLoader, WaveformRebuilder

__all__ = ["load_model", "load_pretrained", "make_denoising_pipeline", "save_model"]

STEP_NAMES = ("load", "phase", "spec", "unet", "rebuild")
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
#: Shipped model file for each sample rate.
PRETRAINED_FILES = {8000: "skdenoise-8k.npz", 16000: "skdenoise-16k.npz"}


def make_denoising_pipeline(**params) -> Pipeline:
    """Build the denoising pipeline ``load -> phase -> spec -> unet -> rebuild``.

    Parameters
    ----------
    **params
        Step parameters in scikit-learn's ``step__param`` form, e.g.
        ``unet__filters=8, rebuild__dry=0.2, load__sample_rate=16000``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``fit(noisy, clean)`` takes aligned sequences of paths or 1-D arrays;
        ``predict(noisy)`` returns a list of 1-D float32 arrays of the inputs' lengths at
        ``load__sample_rate`` Hz; ``score(noisy, clean)`` is the mean SI-SDR in dB.

    Examples
    --------
    >>> from skdenoise import make_denoising_pipeline
    >>> pipe = make_denoising_pipeline(unet__filters=8, rebuild__dry=0.1)
    >>> [name for name, _ in pipe.steps]
    ['load', 'phase', 'spec', 'unet', 'rebuild']
    """
    pipe = Pipeline(
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


#: Parameters a preset may set (the rebuild step's: they change no weight).
PRESET_PARAMS = ("rebuild__dry", "rebuild__bypass_snr_db")


def _check_presets(presets: dict | None) -> dict:
    presets = dict(presets or {})
    for name, values in presets.items():
        unknown = set(values) - set(PRESET_PARAMS)
        if unknown:
            raise ValueError(
                f"preset {name!r} sets {sorted(unknown)}; a preset may set only {PRESET_PARAMS}."
            )
    return presets


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
    ('copy.npz', 'Pipeline')
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
    presets = _check_presets(presets)
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
    >>> pipe.named_steps["rebuild"].dry > 0
    True
    """
    path = Path(path)
    meta = read_model_meta(path)
    pipe = make_denoising_pipeline()
    for name, params in meta["params"].items():
        pipe.named_steps[name].set_params(**params)
    pipe.named_steps["unet"]._restore_fitted(meta["fitted"], read_model_weights(path, meta))
    if preset is not None:
        presets = meta.get("presets") or {}
        if preset not in presets:
            raise ValueError(
                f"{path}: no preset {preset!r} in this model file (it has "
                f"{sorted(presets) or 'none'})."
            )
        pipe.set_params(**presets[preset])
    return pipe


def shipped_rates() -> list[int]:
    """Rates (Hz) of the pretrained models shipped in this installation."""
    return sorted(r for r, f in PRETRAINED_FILES.items() if (PRETRAINED_DIR / f).exists())


def pretrained_rate_for(sample_rate: int) -> int:
    """The shipped model's rate to use for audio at ``sample_rate`` Hz: the highest shipped
    rate not above it (the lowest shipped one for audio below every rate), so that no
    model is given audio upsampled past what it holds."""
    rates = shipped_rates()
    if not rates:
        raise FileNotFoundError(f"no pretrained model is shipped in {PRETRAINED_DIR}.")
    fitting = [r for r in rates if r <= sample_rate]
    return fitting[-1] if fitting else rates[0]


def pretrained_path(sample_rate: int = 8000) -> Path:
    """Path of the shipped model file for ``sample_rate`` Hz."""
    if sample_rate not in PRETRAINED_FILES:
        raise ValueError(
            f"no pretrained model for {sample_rate} Hz; available: {sorted(PRETRAINED_FILES)}."
        )
    path = PRETRAINED_DIR / PRETRAINED_FILES[sample_rate]
    if not path.exists():
        shipped = sorted(r for r, f in PRETRAINED_FILES.items() if (PRETRAINED_DIR / f).exists())
        raise FileNotFoundError(
            f"the pretrained {sample_rate} Hz model is not shipped in this installation "
            f"({path}); shipped rates: {shipped or 'none'}."
        )
    return path


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
    >>> out = pipe.predict([np.random.default_rng(0).normal(0, 0.1, 8000)])
    >>> out[0].shape
    (8000,)
    """
    return load_model(pretrained_path(sample_rate), preset=preset)
