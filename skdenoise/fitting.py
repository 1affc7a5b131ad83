"""The training loop around Keras' ``fit``, with explicit inputs: :func:`train_network`
takes an architecture, the loop's settings (:class:`FitSettings`), the scales, the data
(in-memory frames or a frame source) and a seed, and returns the trained network and its
history (:class:`FitResult`). Here live the data adapters, the device strategy, the warm
start from a model file, and the monitor that keeps the history, stops early, halves the
learning rate and writes and resumes per-epoch checkpoints.

:class:`skdenoise.regressor.UNetNoiseRegressor` holds the parameters and turns them into
these inputs; nothing here reads or writes the estimator.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .batch import SpectrogramBatch
from .model import (
    WAVEFORM_LOSSES,
    WAVEFORM_WEIGHT,
    Scales,
    build_unet,
    magnitude_loss,
    rebuilt_waveforms,
    si_sdr_loss,
    weighted_sum,
)
from .runner import jit_available

logger = logging.getLogger("skdenoise.regressor")

__all__ = [
    "FitResult",
    "FitSettings",
    "checkpoint_params",
    "split_recordings",
    "stream_scales",
    "train_network",
    "training_targets",
    "warm_start",
]

#: Frames in the shuffle buffer of a streamed training set.
STREAM_SHUFFLE_FRAMES = 256


def _array_batches(x: np.ndarray, t: np.ndarray, batch_size: int, seed: int):
    """A ``keras.utils.PyDataset`` over in-memory arrays, reshuffled every epoch."""
    import keras

    class ArrayBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x))

        def __len__(self) -> int:
            return -(-len(x) // batch_size)

        def __getitem__(self, index: int):
            rows = np.sort(self.order[index * batch_size : (index + 1) * batch_size])
            return x[rows], t[rows]

        def on_epoch_end(self) -> None:
            self.order = self.rng.permutation(len(x))

    return ArrayBatches()


def _stream_batches(
    frames,
    steps: int,
    batch_size: int,
    seed: int,
    *,
    shuffle: bool,
    first_epoch: int = 0,
    restart: bool = False,
):
    """A ``keras.utils.PyDataset`` of ``steps`` batches per epoch pulled from a stream.

    ``frames(epoch)`` yields scaled (input, target) frames for one pass over the source.
    Each training epoch ``e`` starts afresh (:meth:`start_epoch`, called by the training
    monitor): pass ``e`` of the source, an empty shuffle buffer and a generator seeded by
    ``(seed, e)``, running on into pass ``e + 1`` if pass ``e`` is short. So an epoch's
    batches depend only on the seed and the epoch number, and a run resumed from a
    checkpoint sees exactly the batches of an uninterrupted one. With ``shuffle``, frames
    go through that seeded shuffle buffer. With ``restart``, every Keras epoch starts again
    at the beginning of pass 0 (a fixed validation set gives the same batches at every
    evaluation).

    Keras iterates a ``PyDataset`` to its end at every epoch, so no producer is left half
    way through a Python generator when training stops.
    """
    import keras

    class StreamBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.start_epoch(first_epoch)

        def start_epoch(self, epoch: int) -> None:
            self.rng = np.random.default_rng([seed, epoch])
            self.buffer: list = []
            self._start(epoch)

        def _start(self, epoch: int) -> None:
            self.epoch = epoch
            self.source = frames(epoch)
            self.empty_pass = True

        def _next_frame(self):
            while True:
                for pair in self.source:
                    self.empty_pass = False
                    return pair
                if self.empty_pass:
                    raise ValueError("the frame source yielded no frames.")
                self._start(self.epoch + 1)

        def _take(self):
            if not shuffle:
                return self._next_frame()
            while len(self.buffer) < STREAM_SHUFFLE_FRAMES:
                self.buffer.append(self._next_frame())
            index = int(self.rng.integers(len(self.buffer)))
            self.buffer[index], self.buffer[-1] = self.buffer[-1], self.buffer[index]
            return self.buffer.pop()

        @property
        def num_batches(self) -> int:
            return steps

        def __len__(self) -> int:
            return steps

        def __getitem__(self, index: int):
            if restart and index == 0:
                self._start(0)
            pairs = [self._take() for _ in range(batch_size)]
            return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    return StreamBatches()


def _strategy(distribute: str | None):
    """The ``tf.distribute`` strategy that ``distribute`` names (``None``: none)."""
    if distribute is None:
        return None
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    logger.info("training on %d replica(s)", strategy.num_replicas_in_sync)
    return strategy


_MIN_LEARNING_RATE = 1e-5


class _TrainingMonitor:
    """Progress bar, history, early stopping and per-epoch checkpoints, as a Keras callback.

    Built lazily as a subclass of ``keras.callbacks.Callback`` (Keras is imported on use).
    """

    def __new__(cls, *args, **kwargs):
        import keras

        monitor_cls = type("TrainingMonitor", (_MonitorMixin, keras.callbacks.Callback), {})
        return monitor_cls(*args, **kwargs)


class _MonitorMixin:
    def __init__(
        self, fit: FitSettings, base_signature: dict, scales: Scales, *, has_validation: bool
    ):
        super().__init__()
        self.fit = fit
        self.base_signature = base_signature
        self.scales = scales
        self.key = "val_loss" if has_validation else "loss"
        self.history: dict[str, list[float]] = {}
        self.best = np.inf
        self.best_epoch = 0
        self.best_weights = None
        self.wait = 0
        self.stopped = False
        self.steps: int | None = None
        self.bar = None
        self.path = Path(fit.checkpoint_path) if fit.checkpoint_path else None
        self.seed: int | None = None
        self.epoch_data = None  # the training stream, restarted at every epoch

    # ---- checkpoints
    def _signature(self) -> dict:
        s = self.scales
        return {**self.base_signature, "scales": [s.input_mean, s.input_scale, s.target_scale]}

    def _meta(self) -> dict | None:
        if self.path is None or not self.path.exists():
            return None
        import json

        with np.load(self.path, allow_pickle=False) as data:
            return json.loads(str(data["meta"]))

    def restore_scales(self) -> Scales:
        """The input and output scales of the checkpoint, if there is one (else those
        given): a resumed run must see its data (and its loss) scaled as before."""
        meta = self._meta()
        if meta is not None:
            self.scales = Scales(*meta["signature"]["scales"])
        return self.scales

    def resume(self, model) -> int:
        """Load the checkpoint if it matches; return the epoch to start from."""
        if self._meta() is None:
            return 0
        with np.load(self.path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            sig = self._signature()
            then, now = meta["signature"], sig
            differ = [
                f"{key} {then['params'].get(key)!r} (checkpoint) vs {now['params'].get(key)!r}"
                for key in sorted(set(then["params"]) | set(now["params"]))
                if then["params"].get(key) != now["params"].get(key)
            ] + [
                f"spectral {key} {then['settings'].get(key)!r} (checkpoint) vs "
                f"{now['settings'].get(key)!r}"
                for key in sorted(set(then["settings"]) | set(now["settings"]))
                if then["settings"].get(key) != now["settings"].get(key)
            ]
            if differ:
                raise ValueError(
                    f"{self.path}: cannot resume: this checkpoint was made with other settings: "
                    + "; ".join(differ)
                    + ". Resume with the first run's options, or start again with another "
                    "--out (checkpoint_path in the API) or after deleting the checkpoint."
                )
            n_w = meta["n_weights"]
            model.set_weights([data[f"w{i}"] for i in range(n_w)])
            model.optimizer.build(model.trainable_variables)
            opt_vars = [data[f"o{i}"] for i in range(meta["n_optimizer"])]
            for var, value in zip(model.optimizer.variables, opt_vars):
                var.assign(value)
            if meta["n_best"]:
                self.best_weights = [data[f"b{i}"] for i in range(meta["n_best"])]
        self.history = {k: list(v) for k, v in meta["history"].items()}
        self.best, self.best_epoch, self.wait = meta["best"], meta["best_epoch"], meta["wait"]
        # A resumed run may be given more patience (or more epochs) than the first one.
        self.stopped = bool(self.fit.early_stopping and self.wait >= self.fit.patience)
        epoch = int(meta["epoch"])
        logger.info("%s: resuming after epoch %d", self.path, epoch)
        return epoch

    def _save(self, epoch: int) -> None:
        from .audio import atomic_path

        model = self.model
        weights = model.get_weights()
        opt = [np.asarray(v) for v in model.optimizer.variables]
        best = self.best_weights or []
        meta = {
            "signature": self._signature(),
            "epoch": epoch,
            "history": self.history,
            "best": float(self.best),
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "n_weights": len(weights),
            "n_optimizer": len(opt),
            "n_best": len(best),
        }
        arrays = {f"w{i}": w for i, w in enumerate(weights)}
        arrays.update({f"o{i}": o for i, o in enumerate(opt)})
        arrays.update({f"b{i}": b for i, b in enumerate(best)})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)

    # ---- Keras hooks
    def on_epoch_begin(self, epoch, logs=None):
        # Every epoch from its own seed (dropout included, data too): resuming after epoch
        # e gives the run that never stopped. Dropout draws from each layer's
        # SeedGenerator, whose state advances with every call and is not among the saved
        # weights: it is set here from (seed, epoch).
        import keras

        if self.seed is not None:
            base = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0]) % 2**31
            keras.utils.set_random_seed(base)
            k = 0
            for layer in self.model._flatten_layers(include_self=False):
                generator = getattr(layer, "seed_generator", None)
                if generator is None:
                    continue
                state = keras.ops.convert_to_numpy(generator.state)
                generator.state.assign(np.array([base + k, 0], dtype=state.dtype))
                k += 1
        if self.epoch_data is not None:
            self.epoch_data.start_epoch(epoch)
        if self.fit.verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.steps,
                desc=f"epoch {epoch + 1}/{self.fit.epochs}",
                unit="batch",
                leave=False,
            )

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            if logs and "loss" in logs and batch % 10 == 0:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}")

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        logs = logs or {}
        for key, value in logs.items():
            if key in ("loss", "val_loss"):
                self.history.setdefault(key, []).append(float(value))
        current = float(logs.get(self.key, np.inf))
        if current < self.best:
            self.best, self.best_epoch, self.wait = current, epoch + 1, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            every = self.fit.lr_reduce_patience
            if every and self.wait % every == 0:
                self._halve_learning_rate(epoch + 1)
            if self.fit.early_stopping and self.wait >= self.fit.patience:
                self.stopped = True
                self.model.stop_training = True
        rate = float(np.asarray(self.model.optimizer.learning_rate))
        self.history.setdefault("learning_rate", []).append(rate)
        if self.fit.verbose:
            logger.info(
                "epoch %d: %s",
                epoch + 1,
                ", ".join(f"{k}={float(v):.4f}" for k, v in logs.items()),
            )
        if self.path is not None:
            self._save(epoch + 1)

    def _halve_learning_rate(self, epoch: int) -> None:
        optimizer = self.model.optimizer
        old = float(np.asarray(optimizer.learning_rate))
        new = max(old / 2.0, _MIN_LEARNING_RATE)
        if new < old:
            optimizer.learning_rate.assign(new)
            logger.info("epoch %d: learning rate %.2e -> %.2e", epoch, old, new)

    def finish(self, model) -> None:
        """Keep the best weights (with early stopping)."""
        if self.best_weights is not None and self.fit.early_stopping:
            model.set_weights(self.best_weights)


# ----------------------------------------------------------------------------- the data


def training_targets(X, y) -> tuple:
    """The clean targets of a fit on a :class:`~skdenoise.batch.SpectrogramBatch`: those it
    carries (a pipeline's fit), else ``y`` (clean frames shaped like ``X.frames``).

    Parameters
    ----------
    X : SpectrogramBatch
    y : SpectrogramBatch, sequence of ndarray, or None

    Returns
    -------
    X : SpectrogramBatch
    targets : tuple of ndarray of shape (n_frames_i, n_freq, frame_columns)

    Raises
    ------
    TypeError, ValueError
        ``X`` is not a batch, or there are no targets, or not one per recording.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import LogSpectrogram, WaveformLoader
    >>> from skdenoise.fitting import training_targets
    >>> batch = LogSpectrogram().transform(WaveformLoader().transform([(np.ones(9000), 8000)]))
    >>> len(training_targets(batch, [f - 3 for f in batch.frames])[1])
    1
    """
    if not isinstance(X, SpectrogramBatch):
        raise TypeError(
            f"UNetNoiseRegressor.fit expects a SpectrogramBatch (the output of "
            f"LogSpectrogram) or a frame source, got {type(X).__name__}. Use "
            "make_denoising_pipeline() to train from audio."
        )
    targets = X.target_frames
    if targets is None:
        if isinstance(y, SpectrogramBatch):
            targets = y.frames
        elif (
            y is not None
            and all(isinstance(t, np.ndarray) and t.shape == f.shape for t, f in zip(y, X.frames))
            and len(y) == len(X)
        ):
            targets = tuple(np.asarray(t, dtype=np.float32) for t in y)
        else:
            raise ValueError(
                "no clean targets: X carries no target_frames and y is not a list of "
                "clean log-magnitude frames shaped like X.frames. Fit the whole pipeline "
                "(make_denoising_pipeline().fit(noisy, clean)) so that y goes through the "
                "same STFT as X."
            )
    if len(targets) != len(X):
        raise ValueError(f"X has {len(X)} recordings but {len(targets)} targets.")
    return X, targets


def split_recordings(n: int, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation recordings: whole recordings are held out
    (none has frames on both sides); no validation with fewer than two.

    Parameters
    ----------
    n : int
        Recordings.
    fraction : float
        Share held out for validation.
    rng : numpy.random.RandomState

    Returns
    -------
    train, validation : ndarray of int, sorted

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.fitting import split_recordings
    >>> [len(i) for i in split_recordings(10, 0.2, np.random.RandomState(0))]
    [8, 2]
    """
    order = rng.permutation(n)
    n_val = min(round(fraction * n) if n >= 2 else 0, n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def stream_scales(source, n_frames: int, **scale_params) -> Scales:
    """:class:`~skdenoise.model.Scales` from the first ``n_frames`` frames of a frame source
    (a bounded sample: a streamed set is never held in memory).

    Parameters
    ----------
    source : frame source
    n_frames : int
        Frames to sample (at least).
    **scale_params
        ``output_activation`` and ``max_attenuation_db`` (:meth:`Scales.fit`).

    Returns
    -------
    Scales

    Examples
    --------
    >>> from skdenoise.fitting import stream_scales
    >>> # stream_scales(MixtureStream(...).with_settings(settings), 512,
    >>> #               output_activation="sigmoid", max_attenuation_db=40.0)
    """
    noisy_sample, clean_sample, n = [], [], 0
    for noisy, clean in source.frame_pairs(epoch=0):
        noisy_sample.append(noisy)
        clean_sample.append(clean)
        n += len(noisy)
        if n >= n_frames:
            break
    if not noisy_sample:
        raise ValueError("the frame source yielded no frames.")
    return Scales.fit(np.concatenate(noisy_sample), np.concatenate(clean_sample), **scale_params)


# ----------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class FitSettings:
    """The training loop's settings (the estimator's parameters of the same names; see
    :class:`skdenoise.UNetNoiseRegressor` for each).

    Parameters
    ----------
    loss, magnitude_exponent, over_suppression_weight, recogniser_weight
        The loss.
    learning_rate, epochs, batch_size, early_stopping, patience
        The optimiser's and the loop's settings.
    lr_reduce_patience, max_attenuation_db, output_activation, checkpoint_path
        Learning-rate halving, the bound, the output layer, the checkpoint file.
    distribute, precision, verbose
        Devices, arithmetic and progress output.

    Examples
    --------
    >>> from skdenoise import UNetNoiseRegressor
    >>> from skdenoise.fitting import FitSettings
    >>> FitSettings.from_params(UNetNoiseRegressor(epochs=3).get_params()).epochs
    3
    """

    loss: str = "huber"
    magnitude_exponent: float = 0.3
    over_suppression_weight: float = 1.0
    recogniser_weight: float = 0.0
    learning_rate: float = 1e-3
    epochs: int = 10
    batch_size: int = 16
    early_stopping: bool = True
    patience: int = 5
    lr_reduce_patience: int | None = None
    max_attenuation_db: float | None = None
    output_activation: str | None = None
    checkpoint_path: str | None = None
    distribute: str | None = None
    precision: str = "float32"
    verbose: int = 0

    @classmethod
    def from_params(cls, params: dict) -> FitSettings:
        """The settings among an estimator's ``get_params()``."""
        return cls(**{f.name: params[f.name] for f in fields(cls)})


@dataclass
class FitResult:
    """What :func:`train_network` gives back.

    Attributes
    ----------
    model : keras.Model
        The trained network (plain float32).
    scales : Scales
        The scales it was trained with.
    history : dict of list of float
        ``loss`` (and ``val_loss``) per epoch, and the ``learning_rate`` at each end.
    n_epochs, best_epoch : int
        Epochs run; the epoch (1-based) whose weights were kept.

    Examples
    --------
    >>> from skdenoise.fitting import FitResult
    >>> from skdenoise.model import Scales
    >>> FitResult(None, Scales(0.0, 1.0, 1.0), {"loss": [0.5]}, 1, 1).n_epochs
    1
    """

    model: object
    scales: Scales
    history: dict
    n_epochs: int
    best_epoch: int


#: Parameters that may change between a run and its resumption.
_VOLATILE = (
    "epochs",
    "verbose",
    "checkpoint_path",
    "patience",
    "early_stopping",
    "lr_reduce_patience",
    "strength",
)


def checkpoint_params(params: dict) -> dict:
    """The parameters a checkpoint must match to be resumed (from ``get_params()``).

    Where the steps run does not change the checkpoint; float16 arithmetic does (and its
    loss scale is in the optimiser state), and so does the recogniser term of the loss.
    These are left out at their defaults, so that checkpoints from before these
    parameters existed still match.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.

    Returns
    -------
    dict

    Examples
    --------
    >>> from skdenoise import UNetNoiseRegressor
    >>> from skdenoise.fitting import checkpoint_params
    >>> params = checkpoint_params(UNetNoiseRegressor(random_state=0).get_params())
    >>> "epochs" in params, params["random_state"]
    (False, '0')
    """
    params = {k: v for k, v in params.items() if k not in _VOLATILE}
    params.pop("distribute", None)
    if params.get("precision") == "float32":
        params.pop("precision")
    if not params.get("recogniser_weight", 0.0):
        params.pop("recogniser_weight", None)
    params["random_state"] = repr(params["random_state"])
    return params


def warm_start(
    path, architecture: dict, max_attenuation_db: float | None
) -> tuple[Scales, list[np.ndarray]]:
    """The scales and weights of a model file, to start a training from (same network).

    The network is fully convolutional, so its weights do not depend on the size of the
    frame it reads: a model may start from one with another number of frequency bins or
    columns (e.g. a 16 kHz network with ``n_fft=510``, 256 bins, from the 8 kHz one's 128,
    whose bins are as wide: 31 Hz).

    Parameters
    ----------
    path : str or PathLike
        A model file.
    architecture : dict
        The network to train (:func:`skdenoise.model.build_unet`'s arguments).
    max_attenuation_db : float or None
        Its bound.

    Returns
    -------
    scales : Scales
    weights : list of ndarray

    Raises
    ------
    ValueError
        The file's network differs from ``architecture`` (dropout and the frame's size
        aside) or its bound.

    Examples
    --------
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.fitting import warm_start
    >>> from skdenoise.pipeline import pretrained_path
    >>> unet = load_pretrained().named_steps["unet"]
    >>> scales, weights = warm_start(pretrained_path(8000), unet.architecture_, 40.0)
    >>> len(weights) == len(unet._network_weights())
    True
    """
    from .modelfile import read_model_meta, read_model_weights

    path = Path(path)
    meta = read_model_meta(path)
    fitted = meta["fitted"]
    # The weights must fit, and mean the same: dropout and the frame's size (which no
    # weight's shape depends on) may differ, the bound may not.
    free = ("dropout", "n_freq", "n_columns")
    theirs = {k: v for k, v in fitted["architecture_"].items() if k not in free}
    theirs["max_attenuation_db"] = meta["params"]["unet"].get("max_attenuation_db")
    mine = {k: v for k, v in json.loads(json.dumps(architecture)).items() if k not in free}
    mine["max_attenuation_db"] = max_attenuation_db
    if theirs != mine:
        diff = {k: (theirs.get(k), mine.get(k)) for k in mine if theirs.get(k) != mine.get(k)}
        raise ValueError(
            f"{path}: cannot start from this model: its network differs from the one to "
            f"train (theirs, this one): {diff}."
        )
    scales = Scales(fitted["input_mean_"], fitted["input_scale_"], fitted["target_scale_"])
    theirs_shape = (fitted["architecture_"].get("n_freq"), fitted["architecture_"].get("n_columns"))
    logger.info(
        "starting from the weights of %s (trained at %s Hz on frames of %s x %s)",
        path,
        fitted["settings_"]["sample_rate"],
        *theirs_shape,
    )
    return scales, read_model_weights(path, meta)


def _loss_bound(output_activation: str, max_attenuation_db: float | None) -> float | None:
    """The losses' bound on the noise estimate, dB: ``None`` where the sigmoid gain mask
    bounds it itself. Training and ``benchmarks/loss_terms.py`` both take it from here."""
    return None if output_activation == "sigmoid" else max_attenuation_db


def _waveform_rebuild(settings, bound: float | None) -> dict:
    """How the waveform terms rebuild the estimate and the clean speech: the keyword
    arguments of :func:`~skdenoise.model.rebuilt_waveforms` and
    :func:`~skdenoise.model.si_sdr_loss` (one set for all), from the spectral settings."""
    return {
        "n_fft": settings.n_fft,
        "hop_length": settings.hop_length,
        "max_attenuation_db": bound,
        "floor_db": settings.floor_db,
    }


def _compiled_network(
    arch: dict, fit: FitSettings, scales: Scales, seed: int, init_weights, settings
):
    """The network to train, compiled with its loss and optimiser."""
    import keras

    dtype = None if fit.precision == "float32" else fit.precision
    model = build_unet(**arch, seed=seed, dtype=dtype)
    if init_weights is not None:
        model.set_weights(init_weights)
    bound = _loss_bound(fit.output_activation, fit.max_attenuation_db)
    magnitude = magnitude_loss(
        scales.target_scale,
        exponent=float(fit.magnitude_exponent),
        max_attenuation_db=bound,
        over_suppression_weight=float(fit.over_suppression_weight),
    )
    if fit.loss == "magnitude":
        loss = magnitude
    elif fit.loss in WAVEFORM_LOSSES:  # only these need the STFT's settings
        rebuild = _waveform_rebuild(settings, bound)
        waveform = si_sdr_loss(scales.target_scale, **rebuild)
        if fit.loss == "si_sdr":
            terms = {waveform: 1.0}
        else:  # "magnitude+si_sdr"
            terms = {magnitude: 1.0, waveform: WAVEFORM_WEIGHT}
        if fit.recogniser_weight:
            from .whisper_features import whisper_encoder_weights, whisper_feature_loss

            recogniser = whisper_feature_loss(
                rebuilt_waveforms(scales.target_scale, **rebuild),
                sample_rate=settings.sample_rate,
                weights=whisper_encoder_weights(),
            )
            terms[recogniser] = float(fit.recogniser_weight)
        loss = weighted_sum(terms) if len(terms) > 1 else waveform
    else:
        loss = {
            "huber": keras.losses.Huber(delta=1.0),
            "mse": keras.losses.MeanSquaredError(),
            "mae": keras.losses.MeanAbsoluteError(),
        }[fit.loss]
    optimizer = keras.optimizers.Adam(learning_rate=float(fit.learning_rate))
    if dtype == "mixed_float16":
        # Float16 gradients underflow without a scaled loss. (Keras wraps the optimiser
        # itself only when the whole model's policy is mixed, not per layer as here.)
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    # Keras' "auto" leaves XLA off for this model; XLA trains it about twice as fast on a CPU.
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit_available())
    return model


def _keras_data(data, fit: FitSettings, scales: Scales, seed: int, *, train: bool, first_epoch=0):
    """Keras input for ``data``: in-memory ``(noisy_db, clean_db)`` frames, or a frame
    source streamed pass by pass. Returns ``(dataset, steps)``."""
    batch = int(fit.batch_size)

    phase = fit.loss in WAVEFORM_LOSSES

    def pair(noisy, clean, noisy_phase=None):
        return scales.training_pair(
            noisy, clean, noisy_phase, loss=fit.loss, max_attenuation_db=fit.max_attenuation_db
        )

    if isinstance(data, tuple):
        x, t = pair(*data)
        if not train:
            return (x, t), None
        # Shuffled here with a seeded generator: Keras would shuffle arrays with an
        # unseeded TensorFlow op.
        batches = _array_batches(x, t, batch, seed)
        return batches, len(batches)

    def frames(epoch):
        for item in data.frame_pairs(epoch=epoch, phase=phase):
            yield from zip(*pair(*item))

    if train:
        steps = max(1, -(-int(data.n_frames_hint() or 0) // batch))
        return _stream_batches(
            frames, steps, batch, seed, shuffle=True, first_epoch=first_epoch
        ), steps
    steps = max(1, int(data.n_frames_hint() or 0) // batch)
    return _stream_batches(frames, steps, batch, seed, shuffle=False, restart=True), steps


def train_network(
    arch: dict,
    fit: FitSettings,
    scales: Scales,
    train,
    val,
    seed: int,
    *,
    signature: dict,
    init_weights: list[np.ndarray] | None = None,
    settings=None,
) -> FitResult:
    """Train the U-Net: Keras' ``fit`` with the monitor, from a checkpoint if one matches.

    Parameters
    ----------
    arch : dict
        Keyword arguments of :func:`skdenoise.model.build_unet`.
    fit : FitSettings
    scales : Scales
        Of the training data (a checkpoint's, if one is resumed, take their place).
    train, val : tuple of ndarray, frame source, or None (``val``)
        ``(noisy_db, clean_db)`` frames of shape (n, n_freq, n_columns) (and the noisy
        phase's, complex, for the waveform losses), or a frame source
        (:mod:`skdenoise.streams`).
    seed : int
        Seeds the weights, dropout and every epoch's batches.
    signature : dict
        What a checkpoint must match besides the scales (:func:`checkpoint_params` and the
        spectral settings).
    init_weights : list of ndarray, optional
        Start from these weights (:func:`warm_start`).
    settings : SpectralSettings, optional
        Of the frames (needed by the waveform losses, ``"si_sdr"`` and ``"magnitude+si_sdr"``).

    Returns
    -------
    FitResult
        A plain float32 network for prediction, whatever the training precision or devices.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.fitting import FitSettings, train_network
    >>> from skdenoise.model import Scales
    >>> arch = dict(n_freq=16, n_columns=16, filters=2, depth=2, dropout=0.0,
    ...             kernel_size=3, patch_size=1, output_activation=None)
    >>> rng = np.random.default_rng(0)
    >>> noisy = rng.normal(-40, 10, (8, 16, 16)).astype("float32")
    >>> result = train_network(arch, FitSettings(epochs=1, batch_size=4), Scales(-40, 10, 5),
    ...                        (noisy, noisy - 3), None, seed=0, signature={})
    >>> result.n_epochs
    1
    """
    monitor = _TrainingMonitor(fit, signature, scales, has_validation=val is not None)
    monitor.seed = seed
    scales = monitor.restore_scales()  # before the loss and the data capture them
    strategy = _strategy(fit.distribute)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = _compiled_network(arch, fit, scales, seed, init_weights, settings)
        initial_epoch = monitor.resume(model)
    x, monitor.steps = _keras_data(train, fit, scales, seed, train=True, first_epoch=initial_epoch)
    if not isinstance(train, tuple):
        monitor.epoch_data = x
    kwargs: dict = {"x": x}
    if val is not None:
        kwargs["validation_data"], _ = _keras_data(val, fit, scales, seed, train=False)
        if isinstance(val, tuple):
            kwargs["validation_batch_size"] = int(fit.batch_size)
    if initial_epoch < int(fit.epochs) and not monitor.stopped:
        model.fit(
            **kwargs,
            shuffle=False,
            epochs=int(fit.epochs),
            initial_epoch=initial_epoch,
            callbacks=[monitor],
            verbose=0,
        )
    monitor.finish(model)
    if strategy is not None or fit.precision != "float32":
        # Prediction runs a plain float32 network, the same weights outside the strategy.
        weights = model.get_weights()
        model = build_unet(**arch)
        model.set_weights(weights)
    history = monitor.history
    return FitResult(model, scales, history, len(history.get("loss", [])), int(monitor.best_epoch))
