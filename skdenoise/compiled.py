"""Compiled inference: a fitted U-Net run by LiteRT (TensorFlow Lite) instead of TensorFlow.

Importing TensorFlow and compiling the network's graph costs several seconds at every start
of a command, more than denoising a few minutes of audio takes. LiteRT (``ai-edge-litert``)
runs the same network with its XNNPACK CPU kernels after a fraction of a second of start-up.
Its flatbuffer is derived from the model's weights with TensorFlow once, then cached on disk
under a key made from the weights, the architecture and the batch shape, so later runs of
the same model never import TensorFlow. The model file (``.npz``) stays the one source of
the weights; a cached flatbuffer is only ever a function of it.

The cache lives in ``$SKDENOISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/skdenoise``, else
``~/.cache/skdenoise``. A cache that cannot be written or read costs only speed: the
flatbuffer is then rebuilt in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import queue
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .audio import atomic_path
from .model import EXPANSION_KNEE_DB
from .recipe import check_expansion, check_strength

logger = logging.getLogger(__name__)

__all__ = [
    "LiteRTRunner",
    "cache_dir",
    "compiled_runner",
    "export_tflite",
    "litert_available",
    "model_key",
]

#: Environment variable naming the cache folder.
CACHE_ENV = "SKDENOISE_CACHE_DIR"

#: Version of the conversion; part of the cache key, so a change here never reuses an old file.
CONVERSION_VERSION = 1


def litert_available() -> bool:
    """Whether the LiteRT interpreter (``ai-edge-litert``) is installed.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skdenoise.compiled import litert_available
    >>> isinstance(litert_available(), bool)
    True
    """
    return importlib.util.find_spec("ai_edge_litert") is not None


def cache_dir() -> Path:
    """Folder of the compiled flatbuffers (not created here).

    Returns
    -------
    pathlib.Path
        ``$SKDENOISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/skdenoise``, else
        ``~/.cache/skdenoise``.

    Examples
    --------
    >>> from skdenoise.compiled import cache_dir
    >>> cache_dir().name != ""
    True
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "compiled"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "skdenoise" / "compiled"


def model_key(architecture: dict, weights: Sequence[np.ndarray], input_shape: tuple) -> str:
    """Hex digest identifying a network: architecture, input shape and every weight's bytes.

    Parameters
    ----------
    architecture : dict
        Keyword arguments of :func:`skdenoise.model.build_unet`.
    weights : sequence of ndarray
        The network's weights.
    input_shape : tuple of int
        Shape of the compiled input.

    Returns
    -------
    str
        A hexadecimal digest, the cache file's name.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.compiled import model_key
    >>> key = model_key({"depth": 2}, [np.zeros(3)], (1, 128, 128, 1))
    >>> len(key) > 16
    True
    """
    digest = hashlib.sha256()
    header = {
        "conversion": CONVERSION_VERSION,
        "architecture": architecture,
        "input_shape": [int(n) for n in input_shape],
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for w in weights:
        w = np.ascontiguousarray(w, dtype=np.float32)
        digest.update(str(w.shape).encode())
        digest.update(w.tobytes())
    return digest.hexdigest()[:32]


def convert(model, input_shape: tuple) -> bytes:
    """The LiteRT flatbuffer of a Keras model in inference mode (imports TensorFlow).

    Parameters
    ----------
    model : keras.Model
    input_shape : tuple of int
        Fixed input shape, batch first, e.g. ``(32, 128, 128, 1)``.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    fn = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec(tuple(input_shape), tf.float32)],
    )
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen], model).convert()


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to the null device: LiteRT's C++ code prints an INFO line
    when it creates its CPU delegate, and no environment variable turns it off."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _default_threads() -> int:
    """``SKDENOISE_THREADS`` if set (see :mod:`skdenoise.parallel`), else the usable cores."""
    from .parallel import thread_limit

    limit = thread_limit()
    if limit is not None:
        return limit
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LiteRTRunner:
    """LiteRT interpreters for one fixed input shape: one batch per call, or many at once.

    Parameters
    ----------
    content : bytes
        The flatbuffer (from :func:`convert`).
    input_shape : tuple of int
        The shape every batch has; checked against the flatbuffer's input.
    num_threads : int, optional
        CPU threads in all; default: the cores this process may use.
    workers : int
        Interpreters, each with ``num_threads // workers`` threads (at least one), that run
        the batches of :meth:`map` side by side. Independent single-threaded interpreters
        keep every core busy even when other threads of the process (reading, the STFT)
        take some of them, where one interpreter's threads wait for each other at every
        layer. A call takes whichever interpreter is free, so calls from several threads are
        safe.

    Examples
    --------
    >>> from skdenoise.compiled import litert_available
    >>> from skdenoise import load_pretrained
    >>> unet = load_pretrained().named_steps["unet"]
    >>> out = unet.denoise_frames(__import__("numpy").zeros((1, 128, 128), "float32"))
    >>> out.shape  # on LiteRT when it is installed: a LiteRTRunner runs the network
    (1, 128, 128)
    """

    def __init__(
        self,
        content: bytes,
        input_shape: tuple,
        num_threads: int | None = None,
        workers: int = 1,
    ):
        from ai_edge_litert.interpreter import Interpreter

        threads = int(num_threads or _default_threads())
        self.workers = max(1, min(int(workers), threads))
        self._content = content  # the interpreters read it in place
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self.workers):
            with _stderr_silenced():
                interpreter = Interpreter(
                    model_content=content, num_threads=max(1, threads // self.workers)
                )
                interpreter.allocate_tensors()
            self._free.put(interpreter)
        self._input = interpreter.get_input_details()[0]
        self._output = interpreter.get_output_details()[0]
        if tuple(self._input["shape"]) != tuple(input_shape):
            raise ValueError(
                f"compiled network takes inputs of shape {tuple(self._input['shape'])}, "
                f"not {tuple(input_shape)}."
            )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Network output for a batch shaped like ``input_shape`` (float32)."""
        interpreter = self._free.get()
        try:
            interpreter.set_tensor(self._input["index"], np.asarray(x, np.float32))
            interpreter.invoke()
            return interpreter.get_tensor(self._output["index"]).copy()
        finally:
            self._free.put(interpreter)

    def map(self, batches: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Network outputs of many batches, in order, run on all the interpreters at once.

        Parameters
        ----------
        batches : sequence of ndarray
            Each shaped like ``input_shape``.

        Returns
        -------
        list of ndarray
        """
        if self.workers == 1 or len(batches) < 2:
            return [self(batch) for batch in batches]
        # The interpreters release the GIL while they run.
        with ThreadPoolExecutor(min(self.workers, len(batches)), "skdenoise-litert") as pool:
            return list(pool.map(self, batches))


def compiled_runner(
    architecture: dict,
    weights: Sequence[np.ndarray],
    input_shape: tuple,
    build_model: Callable[[], object],
    workers: int = 1,
) -> LiteRTRunner:
    """A :class:`LiteRTRunner` of a network, from the cache or converted (and cached) now.

    Parameters
    ----------
    architecture : dict
        Keyword arguments of :func:`skdenoise.model.build_unet`.
    weights : sequence of ndarray
        The network's weights.
    input_shape : tuple of int
        Fixed input shape, batch first.
    build_model : callable
        Returns the Keras model; called (and TensorFlow imported) only on a cache miss.
    workers : int
        Interpreters side by side (see :class:`LiteRTRunner`).

    Returns
    -------
    LiteRTRunner

    Examples
    --------
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.compiled import compiled_runner, litert_available
    >>> from skdenoise.model import build_unet
    >>> unet = load_pretrained().named_steps["unet"]
    >>> arch, weights = unet.architecture_, unet._network_weights()
    >>> runner = compiled_runner(arch, weights, (16, 128, 128, 1),
    ...                          lambda: build_unet(**arch))  # doctest: +SKIP
    """
    key = model_key(architecture, weights, input_shape)
    path = cache_dir() / f"unet-{key}.tflite"
    if path.is_file():
        try:
            return LiteRTRunner(path.read_bytes(), input_shape, workers=workers)
        except (OSError, ValueError, RuntimeError) as exc:
            logger.warning("compiled model %s is unusable (%s); converting it again", path, exc)
    logger.info("compiling the network for LiteRT (once per model; cached in %s)", path.parent)
    content = convert(build_model(), input_shape)
    runner = LiteRTRunner(content, input_shape, workers=workers)
    try:
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(content)
    except OSError as exc:
        logger.warning("could not cache the compiled model in %s: %s", path.parent, exc)
    return runner


def export_tflite(pipe, path, *, batch: int = 1) -> tuple[Path, Path]:
    """Write a fitted pipeline's network as a LiteRT (TensorFlow Lite) flatbuffer, with a JSON
    file beside it that says how to feed it and read it, for use outside Python.

    The network maps a batch of scaled noisy log-magnitude frames to a scaled noise
    estimate; the JSON (``PATH.json``) records the spectral settings, the scales and the
    steps around it:

    1. STFT of the waveform at ``sample_rate`` (``n_fft``, ``hop_length``, Hann window,
       centred), magnitude in dB: ``20 log10(|X|)`` floored at ``floor_db``, cut into frames
       of ``frame_columns`` columns (:func:`skdenoise.spectral.log_magnitude_frames`);
    2. input tensor ``[batch, n_freq, frame_columns, 1]`` float32:
       ``(frames_db - input_mean) / input_scale``;
    3. output tensor, same shape: ``a = output * target_scale * strength`` (the
       model's prediction-time ``strength``, 1 unless it sets one), then
       ``noise_db = a + expansion * max(a - expansion_knee_db, 0)`` (0 unless it sets an
       ``expansion``), clipped to ``[0, max_attenuation_db]`` when that is set;
    4. ``clean_db = max(frames_db - noise_db, floor_db)``; rebuild with the noisy phase and
       an inverse STFT with overlap-add (:func:`skdenoise.spectral.synthesise`).

    Parameters
    ----------
    pipe : Pipeline
        A fitted denoising pipeline (e.g. :func:`skdenoise.load_model`).
    path : str or PathLike
        The ``.tflite`` file to write (atomically); the JSON goes to ``path + ".json"``.
    batch : int
        The fixed batch size of the input tensor.

    Returns
    -------
    (Path, Path)
        The flatbuffer and the JSON.

    Examples
    --------
    >>> import tempfile
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.compiled import export_tflite
    >>> path = tempfile.mkdtemp() + "/unet.tflite"
    >>> model, sidecar = export_tflite(load_pretrained(), path)  # doctest: +SKIP
    >>> sidecar.suffix  # doctest: +SKIP
    '.json'
    """
    regressor = pipe.named_steps["unet"]
    regressor._check_fitted()
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch!r}.")
    settings = regressor.settings_
    shape = (int(batch), *tuple(settings.frame_shape), 1)
    content = convert(regressor.model_, shape)
    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    description = {
        "format": "skdenoise LiteRT export",
        "input": {"name": "scaled noisy log-magnitude frames", "shape": list(shape)},
        "output": {"name": "scaled noise log-magnitude", "shape": list(shape)},
        "spectral": {
            "sample_rate": settings.sample_rate,
            "n_fft": settings.n_fft,
            "hop_length": settings.hop_length,
            "frame_length": settings.frame_length,
            "frame_columns": int(settings.frame_shape[1]),
            "n_freq": int(settings.frame_shape[0]),
            "window": "hann",
            "center": True,
            "floor_db": settings.floor_db,
        },
        "input_mean": float(regressor.input_mean_),
        "input_scale": float(regressor.input_scale_),
        "target_scale": float(regressor.target_scale_),
        "max_attenuation_db": regressor.max_attenuation_db,
        "strength": check_strength(regressor.strength),
        "expansion": check_expansion(regressor.expansion),
        "expansion_knee_db": EXPANSION_KNEE_DB,
        "steps": [
            "frames_db = 20*log10(|STFT|) floored at floor_db, in frames of frame_columns",
            "input = (frames_db - input_mean) / input_scale",
            "a = output * target_scale * strength",
            "noise_db = clip(a + expansion * max(a - expansion_knee_db, 0), 0, max_attenuation_db)",
            "clean_db = max(frames_db - noise_db, floor_db)",
            "waveform = inverse STFT of 10**(clean_db/20) with the noisy phase, overlap-add",
        ],
    }
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(content)
    with atomic_path(sidecar) as tmp:
        Path(tmp).write_text(json.dumps(description, indent=2) + "\n")
    return path, sidecar
