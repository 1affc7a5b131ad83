"""The network runner: LiteRT or TensorFlow behind one call that takes any number of frames.

A :class:`NetworkRunner` runs the U-Net (built from an architecture and weights) on scaled
frames. The compiled graph has a fixed batch (:data:`INFERENCE_BATCH` frames for TensorFlow,
:data:`LITERT_BATCH` for LiteRT, whose single-threaded interpreters, one per core, run the
batches of a call side by side), so it is traced once; the runner cuts any number of frames
into such batches and pads the last one itself. ``backend="auto"`` runs LiteRT where it is
installed and the model was loaded from a file (TensorFlow is then never imported),
TensorFlow otherwise; a LiteRT failure under ``"auto"`` falls back to TensorFlow with a
warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["BACKENDS", "INFERENCE_BATCH", "LITERT_BATCH", "LITERT_WORKERS", "NetworkRunner"]

#: Frames per network call: calls are padded to this size, so that the compiled graph is
#: traced once whatever the number of frames. The inference engine gathers frames in whole
#: multiples of it.
INFERENCE_BATCH = 32
#: Frames per call of the LiteRT graph: XNNPACK runs a frame faster in small batches (whose
#: activations stay in the processor's caches) than in batches of 32, and the last call of a
#: run pads to 2 frames instead of 32. A divisor of :data:`INFERENCE_BATCH`.
LITERT_BATCH = 2
#: Most LiteRT interpreters side by side (one per core up to this; about 16 MB each).
LITERT_WORKERS = 8
#: Names of the inference engines.
BACKENDS = ("auto", "tensorflow", "litert")


def jit_available() -> bool:
    """XLA compilation of the training and inference graphs, unless ``SKDENOISE_NO_JIT`` is
    set in the environment (a way out on platforms where XLA misbehaves)."""
    return not os.environ.get("SKDENOISE_NO_JIT")


class NetworkRunner:
    """The network as a function of any number of scaled frames.

    Parameters
    ----------
    architecture : dict
        Keyword arguments of :func:`skdenoise.model.build_unet`.
    weights : sequence of ndarray
        The network's weights.
    backend : {"auto", "tensorflow", "litert"}
        The engine; see the module's description.
    prefer_litert : bool
        Under ``"auto"``, whether LiteRT is wanted (a model loaded from a file).
    build_model : callable, optional
        Returns the Keras model (built from ``architecture`` and ``weights`` when not given);
        called only when TensorFlow runs, or to convert the network for LiteRT.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.runner import NetworkRunner
    >>> unet = load_pretrained().named_steps["unet"]
    >>> runner = NetworkRunner(unet.architecture_, unet._network_weights())
    >>> runner(np.zeros((5, 128, 128, 1), "float32")).shape  # 5 frames, padded inside
    (5, 128, 128, 1)
    """

    def __init__(
        self,
        architecture: dict,
        weights: Sequence[np.ndarray],
        *,
        backend: str = "auto",
        prefer_litert: bool = True,
        build_model: Callable[[], object] | None = None,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
        self.architecture = dict(architecture)
        self.weights = list(weights)
        self.backend = backend
        self.shape = (INFERENCE_BATCH, architecture["n_freq"], architecture["n_columns"], 1)
        self.prefer_litert = bool(prefer_litert)
        self._build_model = build_model
        self.fn = self._compile(prefer_litert)

    def __getstate__(self) -> dict:
        """Architecture, weights and backend: the network is compiled again where the copy
        is unpickled (a joblib worker). A runner given its own ``build_model`` does not
        pickle."""
        if self._build_model is not None:
            raise TypeError("a NetworkRunner with its own build_model cannot be pickled.")
        state = self.__dict__.copy()
        state["fn"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.fn = self._compile(self.prefer_litert)

    def _model(self):
        if self._build_model is not None:
            return self._build_model()
        from .model import build_unet

        model = build_unet(**self.architecture)
        model.set_weights(self.weights)
        return model

    def _compile(self, prefer_litert: bool):
        from .compiled import _default_threads, compiled_runner, litert_available

        if self.backend == "litert" and not litert_available():
            raise ImportError(
                "backend='litert' needs the LiteRT interpreter: pip install ai-edge-litert."
            )
        if self.backend == "litert" or (
            self.backend == "auto" and prefer_litert and litert_available()
        ):
            try:
                shape = (LITERT_BATCH, *self.shape[1:])
                # One single-threaded interpreter per core (up to LITERT_WORKERS, the
                # cores shared among them beyond), each running its own batches.
                runner = compiled_runner(
                    self.architecture,
                    self.weights,
                    shape,
                    self._model,
                    workers=min(_default_threads(), LITERT_WORKERS),
                )
                self.shape = shape
                return runner
            except Exception as exc:
                if self.backend == "litert":
                    raise
                logger.warning("LiteRT unusable (%s); running the network with TensorFlow", exc)
        import tensorflow as tf

        self.shape = (INFERENCE_BATCH, *self.shape[1:])
        model = self._model()
        return tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(self.shape, tf.float32)],
            jit_compile=jit_available(),
            reduce_retracing=True,
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run the network on scaled frames.

        Parameters
        ----------
        x : ndarray of shape (n, n_freq, n_columns, 1), float32
            Any number of frames, scaled as the network was trained.

        Returns
        -------
        ndarray of shape (n, n_freq, n_columns, 1), float32
            The network's raw output.
        """
        x = np.asarray(x, dtype=np.float32)
        size = self.shape[0]
        batches = []
        for start in range(0, len(x), size):
            batch = x[start : start + size]
            if len(batch) < size:
                pad = np.zeros((size - len(batch), *batch.shape[1:]), np.float32)
                batch = np.concatenate([batch, pad])
            batches.append(batch)
        if hasattr(self.fn, "map"):  # LiteRT: the batches side by side
            outputs = self.fn.map(batches)
        else:
            outputs = [self.fn(batch) for batch in batches]
        out = np.empty((len(x), *self.shape[1:]), dtype=np.float32)
        for start, result in zip(range(0, len(x), size), outputs):
            out[start : start + size] = np.asarray(result)[: len(x) - start]
        return out
