"""The training loop around Keras' ``fit``: data adapters, the device strategy, and the
monitor that keeps the history, stops early, halves the learning rate and writes and
resumes per-epoch checkpoints.

Used by :class:`skdenoise.regressor.UNetNoiseRegressor`; kept apart so that the estimator
holds its parameters, scaling and inference, and the loop's machinery lives here.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

logger = logging.getLogger("skdenoise.regressor")

__all__: list[str] = []

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


def _jit_available() -> bool:
    """XLA compilation of the training and inference graphs, unless ``SKDENOISE_NO_JIT`` is
    set in the environment (a way out on platforms where XLA misbehaves)."""
    return not os.environ.get("SKDENOISE_NO_JIT")


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
    def __init__(self, estimator, *, has_validation: bool):
        super().__init__()
        self.estimator = estimator
        self.key = "val_loss" if has_validation else "loss"
        self.history: dict[str, list[float]] = {}
        self.best = np.inf
        self.best_epoch = 0
        self.best_weights = None
        self.wait = 0
        self.stopped = False
        self.steps: int | None = None
        self.bar = None
        self.path = Path(estimator.checkpoint_path) if estimator.checkpoint_path else None
        self.seed: int | None = None
        self.epoch_data = None  # the training stream, restarted at every epoch

    # ---- checkpoints
    def _signature(self) -> dict:
        est = self.estimator
        params = est.get_params()
        volatile_params = (
            "epochs",
            "verbose",
            "checkpoint_path",
            "patience",
            "early_stopping",
            "lr_reduce_patience",
        )
        for volatile in volatile_params:
            params.pop(volatile)
        # Where the steps run does not change the checkpoint; float16 arithmetic does (and
        # its loss scale is in the optimiser state). Left out at their defaults, so that
        # checkpoints from before these parameters existed still match.
        params.pop("distribute", None)
        if params.get("precision") == "float32":
            params.pop("precision")
        params["random_state"] = repr(params["random_state"])
        return {
            "params": params,
            "settings": est.settings_.__dict__,
            "scales": [est.input_mean_, est.input_scale_, est.target_scale_],
        }

    def _meta(self) -> dict | None:
        if self.path is None or not self.path.exists():
            return None
        import json

        with np.load(self.path, allow_pickle=False) as data:
            return json.loads(str(data["meta"]))

    def restore_scales(self) -> None:
        """Take the input and output scales of the checkpoint, if there is one: a resumed
        run must see its data (and its loss) scaled as before."""
        meta = self._meta()
        if meta is not None:
            est = self.estimator
            est.input_mean_, est.input_scale_, est.target_scale_ = meta["signature"]["scales"]

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
        est = self.estimator
        self.stopped = bool(est.early_stopping and self.wait >= est.patience)
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
        if self.estimator.verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.steps,
                desc=f"epoch {epoch + 1}/{self.estimator.epochs}",
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
            every = self.estimator.lr_reduce_patience
            if every and self.wait % every == 0:
                self._halve_learning_rate(epoch + 1)
            if self.estimator.early_stopping and self.wait >= self.estimator.patience:
                self.stopped = True
                self.model.stop_training = True
        rate = float(np.asarray(self.model.optimizer.learning_rate))
        self.history.setdefault("learning_rate", []).append(rate)
        if self.estimator.verbose:
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
        """Keep the best weights and write the fitted attributes."""
        if self.best_weights is not None and self.estimator.early_stopping:
            model.set_weights(self.best_weights)
        est = self.estimator
        est.history_ = self.history
        est.n_epochs_ = len(self.history.get("loss", []))
        est.best_epoch_ = int(self.best_epoch)
