"""The model file: one ``.npz`` archive with the parameters and fitted scalars as JSON
(``meta``) and the network weights as arrays (``w0``, ``w1``, ...); never pickled data.

This module only reads and writes the format; :func:`skdenoise.save_model` and
:func:`skdenoise.load_model` turn a pipeline into one and back. It sits below the
estimators so that both the pipeline and the regressor (whose ``init_model`` reads a model
file's weights) can use it without importing each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .audio import PathLike, atomic_path

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "read_model_meta",
    "read_model_weights",
    "write_model_file",
]

#: The ``format`` field of every model file's metadata.
MODEL_FORMAT = "skdenoise-model"
#: The newest format version this skdenoise reads and the one it writes.
MODEL_FORMAT_VERSION = 1


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
