"""The model file: one ``.npz`` archive with the parameters and fitted scalars as JSON
(``meta``) and the network weights as arrays (``w0``, ``w1``, ...); never pickled data.

This module reads and writes the format, resolves a file's presets, and knows where the
shipped models are; :func:`skdenoise.save_model` and :func:`skdenoise.load_model` turn a
pipeline into one and back, :func:`skdenoise.inference.model_engine` runs one without a
pipeline. It sits below the estimators and imports neither scikit-learn nor TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .audio import PathLike, atomic_path

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "PRESET_PARAMS",
    "check_presets",
    "model_params",
    "pretrained_path",
    "pretrained_rate_for",
    "read_model_meta",
    "read_model_weights",
    "shipped_rates",
    "write_model_file",
]

#: The ``format`` field of every model file's metadata.
MODEL_FORMAT = "skdenoise-model"
#: The newest format version this skdenoise reads and the one it writes.
MODEL_FORMAT_VERSION = 1

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
#: Shipped model file for each sample rate.
PRETRAINED_FILES = {8000: "skdenoise-8k.npz", 16000: "skdenoise-16k.npz"}

#: Parameters a preset may set (prediction-time settings: they change no weight).
PRESET_PARAMS = (
    "rebuild__dry",
    "rebuild__bypass_snr_db",
    "rebuild__bypass_ramp_db",
    "rebuild__bypass_low_snr_db",
    "unet__strength",
    "unet__expansion",
)


def write_model_file(path: PathLike, meta: dict, weights: list[np.ndarray]) -> Path:
    """Write a model file atomically (compressed ``.npz``).

    Parameters
    ----------
    path : str or PathLike
        Destination (written whole or not at all).
    meta : dict
        JSON-able metadata; ``n_weights`` is set here.
    weights : list of ndarray
        The network's weights, in the order of ``keras.Model.get_weights``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skdenoise.modelfile import MODEL_FORMAT, read_model_weights, write_model_file
    >>> path = write_model_file(tempfile.mkdtemp() + "/m.npz",
    ...                         {"format": MODEL_FORMAT}, [np.ones(3, "float32")])
    >>> read_model_weights(path, {"n_weights": 1})[0].tolist()
    [1.0, 1.0, 1.0]
    """
    path = Path(path)
    meta = {**meta, "n_weights": len(weights)}
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
    return path


def read_model_meta(path: PathLike) -> dict:
    """The JSON metadata of a model file (parameters, fitted scalars, history).

    Parameters
    ----------
    path : str or PathLike
        A model file.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``params`` (per pipeline step), ``fitted``,
        ``presets``, ``n_weights``.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, or one that is not a model file (or of a newer format), named.

    Examples
    --------
    >>> from skdenoise.modelfile import read_model_meta
    >>> from skdenoise.pipeline import pretrained_path
    >>> read_model_meta(pretrained_path())["format"]
    'skdenoise-model'
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file.")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        # numpy's own message would suggest allow_pickle, unsafe for a file of unknown
        # origin: a model file never holds pickled data, so say what it is not instead.
        raise ValueError(
            f"{path}: not a skdenoise model file (expected the .npz archive that skdenoise "
            "train or save_model writes; this file is damaged or of another kind)."
        ) from exc
    if meta.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a skdenoise model file.")
    if meta.get("format_version", 0) > MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path}: model format {meta['format_version']} is newer than this skdenoise "
            "understands; upgrade skdenoise."
        )
    return meta


def read_model_weights(path: PathLike, meta: dict) -> list[np.ndarray]:
    """The network weights of a model file (float32), given its :func:`read_model_meta`.

    Parameters
    ----------
    path : str or PathLike
        A model file.
    meta : dict
        Its metadata (only ``n_weights`` is read).

    Returns
    -------
    list of ndarray, float32

    Examples
    --------
    >>> from skdenoise.modelfile import read_model_meta, read_model_weights
    >>> from skdenoise.pipeline import pretrained_path
    >>> path = pretrained_path()
    >>> len(read_model_weights(path, read_model_meta(path))) > 0
    True
    """
    with np.load(path, allow_pickle=False) as data:
        return [data[f"w{i}"].astype(np.float32) for i in range(meta["n_weights"])]


def check_presets(presets: dict | None) -> dict:
    """Presets to store in a model file, checked.

    Parameters
    ----------
    presets : dict or None
        Name -> ``{"step__param": value}``.

    Returns
    -------
    dict
        A copy (``{}`` for ``None``).

    Raises
    ------
    ValueError
        A preset sets a parameter that is not in :data:`PRESET_PARAMS` (named).

    Examples
    --------
    >>> from skdenoise.modelfile import check_presets
    >>> check_presets({"asr": {"rebuild__dry": 0.2}})
    {'asr': {'rebuild__dry': 0.2}}
    >>> check_presets({"big": {"unet__filters": 64}})
    Traceback (most recent call last):
    ...
    ValueError: preset 'big' sets ['unet__filters']; a preset may set only (...).
    """
    presets = dict(presets or {})
    for name, values in presets.items():
        unknown = set(values) - set(PRESET_PARAMS)
        if unknown:
            raise ValueError(
                f"preset {name!r} sets {sorted(unknown)}; a preset may set only {PRESET_PARAMS}."
            )
    return presets


def model_params(meta: dict, *, preset: str | None = None, path: PathLike = "") -> dict:
    """Each pipeline step's saved parameters, with a stored preset applied.

    Parameters
    ----------
    meta : dict
        A model file's :func:`read_model_meta`.
    preset : str, optional
        The name of a preset stored in it.
    path : str or PathLike
        The file, to name in errors.

    Returns
    -------
    dict
        Step name -> {parameter: value}.

    Raises
    ------
    ValueError
        No such preset in the file (its presets named).

    Examples
    --------
    >>> from skdenoise.modelfile import model_params, pretrained_path, read_model_meta
    >>> meta = read_model_meta(pretrained_path(8000))
    >>> low = "bypass_low_snr_db"
    >>> model_params(meta)["rebuild"][low], model_params(meta, preset="asr")["rebuild"][low]
    (None, 5.5)
    """
    params = {step: dict(values) for step, values in meta["params"].items()}
    if preset is not None:
        presets = meta.get("presets") or {}
        if preset not in presets:
            raise ValueError(
                f"{path}: no preset {preset!r} in this model file (it has "
                f"{sorted(presets) or 'none'})."
            )
        for key, value in check_presets({preset: presets[preset]})[preset].items():
            step, name = key.split("__", 1)
            params.setdefault(step, {})[name] = value
    return params


def shipped_rates() -> list[int]:
    """Rates of the pretrained models shipped in this installation.

    Returns
    -------
    list of int
        Hz, ascending.

    Examples
    --------
    >>> from skdenoise.modelfile import shipped_rates
    >>> 8000 in shipped_rates()
    True
    """
    return sorted(r for r, f in PRETRAINED_FILES.items() if (PRETRAINED_DIR / f).exists())


def pretrained_rate_for(sample_rate: int) -> int:
    """The shipped model's rate to use for audio at ``sample_rate`` Hz: the highest shipped
    rate not above it (the lowest shipped one for audio below every rate), so that no
    model is given audio upsampled past what it holds.

    Parameters
    ----------
    sample_rate : int
        The audio's rate, Hz.

    Returns
    -------
    int
        A shipped model's rate, Hz.

    Raises
    ------
    FileNotFoundError
        No model is shipped.

    Examples
    --------
    >>> from skdenoise.modelfile import pretrained_rate_for
    >>> pretrained_rate_for(44100), pretrained_rate_for(11025), pretrained_rate_for(4000)
    (16000, 8000, 8000)
    """
    rates = shipped_rates()
    if not rates:
        raise FileNotFoundError(f"no pretrained model is shipped in {PRETRAINED_DIR}.")
    fitting = [r for r in rates if r <= sample_rate]
    return fitting[-1] if fitting else rates[0]


def pretrained_path(sample_rate: int = 8000) -> Path:
    """Path of the shipped model file for ``sample_rate`` Hz.

    Parameters
    ----------
    sample_rate : int, default=8000
        One of the keys of :data:`PRETRAINED_FILES`, Hz.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError, FileNotFoundError
        No model is made for that rate, or it is not shipped in this installation.

    Examples
    --------
    >>> from skdenoise.modelfile import pretrained_path
    >>> pretrained_path(16000).name
    'skdenoise-16k.npz'
    """
    if sample_rate not in PRETRAINED_FILES:
        raise ValueError(
            f"no pretrained model for {sample_rate} Hz; available: {sorted(PRETRAINED_FILES)}."
        )
    path = PRETRAINED_DIR / PRETRAINED_FILES[sample_rate]
    if not path.exists():
        raise FileNotFoundError(
            f"the pretrained {sample_rate} Hz model is not shipped in this installation "
            f"({path}); shipped rates: {shipped_rates() or 'none'}."
        )
    return path
