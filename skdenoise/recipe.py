"""The training defaults, in one place: the reference method and the training recipe.

:data:`REFERENCE` is the seed method (5 levels, 16 filters, Huber loss on the noise
log-magnitude, no bound): the defaults of :class:`skdenoise.UNetNoiseRegressor`, so that an
estimator built with no arguments is the reference. :data:`RECIPE` is what
:func:`skdenoise.training.train_model` and ``skdenoise train`` use when not told otherwise:
the reference with the changes measured to pay off (a shallower network on 2x2 patches,
a 40 dB bound, longer training with learning-rate halving) plus the data settings of
on-the-fly mixing. Both are read, never copied: the estimator's signature, the training
function's and the command line's defaults come from here (a test checks it).

Examples
--------
>>> from skdenoise.recipe import RECIPE, REFERENCE
>>> REFERENCE["depth"], RECIPE["depth"]
(5, 4)
>>> sorted(k for k in RECIPE if RECIPE[k] != REFERENCE.get(k, RECIPE[k]))
['depth', 'epochs', 'lr_reduce_patience', 'max_attenuation_db', 'patch_size', 'patience']
"""

from __future__ import annotations

import numpy as np

from .model import MAGNITUDE_EXPONENT, WAVEFORM_LOSSES
from .spectral import BYPASS_RAMP_DB, SpectralSettings

__all__ = [
    "LOSSES",
    "PREDICTION",
    "RECIPE",
    "REFERENCE",
    "architecture",
    "check_expansion",
    "check_params",
    "check_strength",
]

#: The training losses.
LOSSES = ("huber", "mse", "mae", "magnitude", "si_sdr", "magnitude+si_sdr")

#: Network and fitting defaults of the reference method (``UNetNoiseRegressor()``).
REFERENCE: dict = {
    "filters": 16,
    "depth": 5,
    "dropout": 0.5,
    "kernel_size": 3,
    "patch_size": 1,
    "loss": "huber",
    "magnitude_exponent": MAGNITUDE_EXPONENT,
    "over_suppression_weight": 1.0,
    "recogniser_weight": 0.0,
    "learning_rate": 1e-3,
    "epochs": 10,
    "batch_size": 16,
    "validation_fraction": 0.1,
    "patience": 5,
    "lr_reduce_patience": None,
    "max_attenuation_db": None,
    "output_activation": None,
}

#: Defaults of ``train_model`` and ``skdenoise train``: the reference, changed where
#: measurements said so, and the mixing settings of the training stream.
RECIPE: dict = {
    **REFERENCE,
    "depth": 4,
    "patch_size": 2,
    "epochs": 100,
    "patience": 10,
    "lr_reduce_patience": 4,
    "max_attenuation_db": 40.0,
    # on-the-fly mixing
    "sample_rate": 8000,
    "snr_range": (-5.0, 20.0),
    "gain_db_range": (-15.0, 5.0),
    "segment_seconds": 6.0,
    # the STFT (Hann window of n_fft samples, hop_length apart) and the network frame, as
    # SpectralSettings defines them: 128 STFT columns of hop 63 (1.008 s at 8 kHz)
    "n_fft": SpectralSettings.n_fft,
    "hop_length": SpectralSettings.hop_length,
    "frame_length": SpectralSettings.frame_length,
    # the saved pipeline's rebuild step and the seed
    "dry": 0.0,
    "random_state": 0,
}

#: Prediction-time parameters of a saved pipeline's steps, with their defaults: what a
#: model file saved before a parameter existed gets, whether it is loaded as a pipeline
#: (:func:`skdenoise.load_model`) or straight into an engine
#: (:func:`skdenoise.inference.model_engine`). The estimators' signatures read these.
PREDICTION: dict = {
    "unet": {
        "backend": "auto",
        "strength": 1.0,
        "expansion": 0.0,
        "max_attenuation_db": REFERENCE["max_attenuation_db"],
    },
    "rebuild": {
        "dry": 0.0,
        "bypass_snr_db": None,
        "bypass_ramp_db": BYPASS_RAMP_DB,
        "bypass_low_snr_db": None,
    },
}


def check_strength(value) -> float:
    """The prediction-time ``strength`` as a float, or a ValueError naming it.

    Parameters
    ----------
    value : float or str
        A factor on the network's attenuation in dB, within [0, 4].

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Not a number, or outside [0, 4].

    Examples
    --------
    >>> from skdenoise.recipe import check_strength
    >>> check_strength(1.5)
    1.5
    >>> check_strength(-1)
    Traceback (most recent call last):
    ...
    ValueError: strength must be a number within [0, 4], got -1.
    """
    return _check_factor("strength", value)


def _check_factor(name: str, value) -> float:
    """``value`` as a float within [0, 4], or a ValueError naming ``name``: the check of
    the prediction-time factors (``strength``, ``expansion``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0.0 <= number <= 4.0:
        raise ValueError(f"{name} must be a number within [0, 4], got {value!r}.")
    return number


def check_expansion(value) -> float:
    """The prediction-time ``expansion`` as a float, or a ValueError naming it.

    Parameters
    ----------
    value : float or str
        Extra attenuation per dB above the knee, within [0, 4].

    Returns
    -------
    float

    Examples
    --------
    >>> from skdenoise.recipe import check_expansion
    >>> check_expansion("0.5")
    0.5
    >>> check_expansion(5)
    Traceback (most recent call last):
    ...
    ValueError: expansion must be a number within [0, 4], got 5.
    """
    return _check_factor("expansion", value)


def check_params(p: dict) -> None:
    """Check the network and training parameters (``UNetNoiseRegressor.get_params()``).

    Parameters
    ----------
    p : dict
        Parameter name -> value.

    Raises
    ------
    ValueError
        The first parameter out of its range, by name.

    Examples
    --------
    >>> from skdenoise.recipe import REFERENCE, check_params
    >>> params = {**REFERENCE, "distribute": None, "precision": "float32"}
    >>> check_params(params)
    >>> check_params({**params, "loss": "l3"})
    Traceback (most recent call last):
    ...
    ValueError: loss must be one of ('huber', ..., 'magnitude+si_sdr'), got 'l3'.
    """
    check_strength(p.get("strength", 1.0))
    if p["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {p['loss']!r}.")
    if not 0.0 < p["magnitude_exponent"] <= 2.0:
        raise ValueError(
            f"magnitude_exponent must be within (0, 2], got {p['magnitude_exponent']!r}."
        )
    if not 0.1 <= p["over_suppression_weight"] <= 100.0:
        raise ValueError(
            "over_suppression_weight must be within [0.1, 100], got "
            f"{p['over_suppression_weight']!r}."
        )
    recogniser = p.get("recogniser_weight", 0.0)
    if not 0.0 <= recogniser <= 1000.0:
        raise ValueError(f"recogniser_weight must be within [0, 1000], got {recogniser!r}.")
    if recogniser and p["loss"] not in WAVEFORM_LOSSES:
        raise ValueError(
            f"recogniser_weight needs a waveform loss ({', '.join(WAVEFORM_LOSSES)}), "
            f"got loss={p['loss']!r}."
        )
    if not p["learning_rate"] > 0:
        raise ValueError(f"learning_rate must be > 0, got {p['learning_rate']!r}.")
    for name, optional in (
        ("epochs", False),
        ("batch_size", False),
        ("patience", False),
        ("lr_reduce_patience", True),
    ):
        value = p.get(name)
        if optional and value is None:
            continue
        if not isinstance(value, (int, np.integer)) or value < 1:
            allowed = "None or an integer >= 1" if optional else "an integer >= 1"
            raise ValueError(f"{name} must be {allowed}, got {value!r}.")
    if not 0.0 <= p["validation_fraction"] < 1.0:
        raise ValueError(
            f"validation_fraction must be within [0, 1), got {p['validation_fraction']!r}."
        )
    if p["max_attenuation_db"] is not None and not p["max_attenuation_db"] > 0:
        raise ValueError(
            f"max_attenuation_db must be > 0 or None, got {p['max_attenuation_db']!r}."
        )
    if p["output_activation"] not in (None, "tanh", "linear", "sigmoid"):
        raise ValueError(
            f"output_activation must be None, 'tanh' or 'sigmoid', got {p['output_activation']!r}."
        )
    if p["distribute"] not in (None, "mirrored"):
        raise ValueError(f"distribute must be None or 'mirrored', got {p['distribute']!r}.")
    if p["precision"] not in ("float32", "mixed_float16"):
        raise ValueError(f"precision must be 'float32' or 'mixed_float16', got {p['precision']!r}.")
    if p["output_activation"] == "sigmoid" and p["max_attenuation_db"] is None:
        raise ValueError(
            "output_activation='sigmoid' maps the output to (0, max_attenuation_db): "
            "give max_attenuation_db (e.g. 40)."
        )


def architecture(frame_shape: tuple[int, int], p: dict) -> dict:
    """The network's arguments (:func:`skdenoise.model.build_unet`) for frames of
    ``frame_shape`` and the estimator's parameters ``p``.

    Parameters
    ----------
    frame_shape : (int, int)
        Frequency bins and columns of a frame.
    p : dict
        ``UNetNoiseRegressor.get_params()``.

    Returns
    -------
    dict

    Examples
    --------
    >>> from skdenoise.recipe import RECIPE, architecture
    >>> architecture((128, 128), RECIPE)["patch_size"]
    2
    """
    return {
        "n_freq": int(frame_shape[0]),
        "n_columns": int(frame_shape[1]),
        "filters": int(p["filters"]),
        "depth": int(p["depth"]),
        "dropout": float(p["dropout"]),
        "kernel_size": int(p["kernel_size"]),
        "patch_size": int(p["patch_size"]),
        "output_activation": None
        if p["output_activation"] in (None, "linear")
        else p["output_activation"],
    }
