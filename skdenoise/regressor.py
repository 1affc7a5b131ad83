"""``UNetNoiseRegressor``: a scikit-learn estimator around the Keras U-Net.

It learns the noise log-magnitude (``noisy dB - clean dB``) from all frames of all
recordings, in shuffled batches, and gives back each recording's denoised log-magnitude.
Inputs are standardised with a mean and scale learned over the training set (one global
affine map: absolute levels are kept, there is no per-frame normalisation).

Training data is either a :class:`~skdenoise.batch.SpectrogramBatch` holding the clean
targets (what a denoising pipeline passes), or a *frame source* that streams
``(noisy_db, clean_db)`` frame pairs without holding the data set in memory
(:mod:`skdenoise.datasets`).
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from .batch import SpectrogramBatch, is_frame_source
from .fitting import (
    FitSettings,
    checkpoint_params,
    split_recordings,
    stream_scales,
    train_network,
    training_targets,
    warm_start,
)
from .inference import FrameDenoiser
from .model import WAVEFORM_LOSSES, Scales, build_unet, check_architecture
from .recipe import (
    PREDICTION,
    REFERENCE,
    architecture,
    check_params,
)
from .runner import BACKENDS, NetworkRunner
from .spectral import SpectralSettings, phase_frames

logger = logging.getLogger(__name__)

__all__ = [
    "UNetNoiseRegressor",
]

#: Frames used to estimate the input and target scales of a streamed data set.
STREAM_SCALE_FRAMES = 512

_LOCK = threading.RLock()

#: Fitted scalars saved with a model (``_fitted_state``).
_FITTED_SCALARS = (
    "input_mean_",
    "input_scale_",
    "target_scale_",
    "n_epochs_",
    "best_epoch_",
    "n_train_frames_",
)


class UNetNoiseRegressor(TransformerMixin, BaseEstimator):
    """U-Net that predicts the noise log-spectrogram of noisy speech.

    Parameters
    ----------
    filters : int, default=16
        Filters of the first level, doubling per level.
    depth : int, default=5
        Levels of the U-Net (resolutions, bottom included).
    dropout : float, default=0.5
        Dropout rate at the bottom level.
    kernel_size : int, default=3
        Convolution kernel size.
    patch_size : {1, 2, 4}, default=1
        Space-to-depth folding before the first level (1: the reference; 2: about twice as
        fast on a CPU).
    loss : {"huber", "mse", "mae", "magnitude", "si_sdr", "magnitude+si_sdr"}, default="huber"
        ``"huber"``, ``"mse"``, ``"mae"``: on the scaled noise log-magnitude (the reference
        uses Huber). ``"magnitude"``: squared error between power-law compressed
        (``|X|**magnitude_exponent``) magnitudes of the estimate and of the clean speech,
        which weighs each time-frequency bin by its energy as PESQ and SI-SDR do.
        ``"si_sdr"``: negative SI-SDR of the waveforms rebuilt (inverse STFT, noisy phase)
        from the estimate and the clean magnitude, per frame
        (:func:`skdenoise.model.si_sdr_loss`). ``"magnitude+si_sdr"``: the two together, the
        waveform term weighted by :data:`skdenoise.model.WAVEFORM_WEIGHT` per dB (the shipped
        models' magnitude loss keeps the spectral fit, the waveform term pulls SI-SDR up).
    magnitude_exponent : float, default=0.3
        Compression of the ``"magnitude"`` loss, within (0, 2]: 1 compares linear
        magnitudes (the closest to SNR and SI-SDR, which count energy); smaller values give
        quiet bins more weight.
    over_suppression_weight : float, default=1.0
        Within [0.1, 100]: how many times more the ``"magnitude"`` loss (alone or in
        ``"magnitude+si_sdr"``) charges a bin whose estimate is below the clean speech
        (speech removed) than one above it (noise left); 1 is the symmetric loss. Above 1
        the model removes less speech with the noise, which a recogniser downstream prefers;
        below 1 it leaves less noise, which DNSMOS's background score prefers
        (:func:`skdenoise.model.magnitude_loss`).
    recogniser_weight : float, default=0.0
        Within [0, 1000], with a waveform loss: weight of a term that charges how far the
        encoder of Whisper tiny.en (the recogniser :class:`skdenoise.asr.WhisperTranscriber`
        decodes with, from the ``whisper`` extra) moves between the clean and the denoised
        speech, per state and unit (:func:`skdenoise.whisper_features.whisper_feature_loss`);
        0 leaves it out. Training only.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    epochs : int, default=10
        Maximum passes over the training frames.
    batch_size : int, default=16
        Frames per gradient step.
    validation_fraction : float, default=0.1
        Share of the *recordings* held out to monitor the loss (whole recordings, so that no
        recording has frames on both sides). Needs at least two recordings; 0 disables it.
    early_stopping : bool, default=True
        Stop when the monitored loss (validation if any, else training) has not improved for
        ``patience`` epochs, and keep the weights of the best epoch. Without it, training
        runs all ``epochs`` and keeps the last weights.
    patience : int, default=5
        Epochs without improvement before stopping.
    lr_reduce_patience : int, optional
        Halve the learning rate (down to 1e-5) after every ``lr_reduce_patience`` epochs
        without improvement of the monitored loss. ``None`` keeps it constant.
    max_attenuation_db : float, optional
        Bounded subtraction: the noise estimate is clipped to ``[0, max_attenuation_db]`` dB,
        in training targets and in predictions. ``None`` is the unbounded reference.
    output_activation : {None, "tanh", "sigmoid"}, default=None
        Activation of the last layer; ``None`` is linear (the noise dB, unbounded unless
        ``max_attenuation_db`` clips it). ``"sigmoid"`` is the gain-mask
        parameterisation: the attenuation is ``max_attenuation_db * sigmoid(output)``,
        bounded in training and prediction alike.
    checkpoint_path : str, optional
        File (``.npz``) written atomically after every epoch with the weights, the optimiser
        state and the history. If it exists when ``fit`` starts and was made with the same
        parameters, training resumes after its last epoch.
    init_model : str, optional
        Warm start: a model file (from :func:`skdenoise.save_model` or ``skdenoise train``;
        :func:`skdenoise.pipeline.pretrained_path` gives the shipped one) whose network
        weights and input/output scales start the training instead of random weights, e.g.
        to fine-tune the shipped model on your own data or at another sample rate. Its
        network must have the same architecture (filters, depth, kernel, patch size,
        output activation, bound, frame shape).
    backend : {"auto", "tensorflow", "litert"}, default="auto"
        What runs the network at prediction time. ``"tensorflow"``: a compiled TensorFlow
        graph. ``"litert"``: LiteRT (``ai-edge-litert``), which starts in a fraction of a
        second where TensorFlow takes seconds; the network is converted with TensorFlow
        once per model and cached on disk (:mod:`skdenoise.compiled`). ``"auto"``: LiteRT
        for a model loaded from a file (and its pickled copies), when LiteRT is installed;
        TensorFlow for a model trained in this process and its copies (TensorFlow is loaded
        already, and a grid search should not cache one network per fit). The two agree to
        about 1e-5 dB.
    strength : float, default=1.0
        Prediction only: the network's attenuation (dB) is multiplied by ``strength``
        before it is applied, within ``[0, max_attenuation_db]``. 1 is the model as
        trained; above 1 removes more (a gain mask ``g`` becomes ``g ** strength``), below 1
        less. Within ``[0, 4]``. Training ignores it; a model file stores it, so that a
        shipped model can carry the strength chosen for it.
    expansion : float, default=0.0
        Prediction only: attenuation past 10 dB (after ``strength``) grows by this factor,
        ``a + expansion * max(0, a - 10)`` dB, still within ``[0, max_attenuation_db]``: the
        bins the network judged mostly noise lose more, the speech it left nearly whole does
        not (:func:`skdenoise.model.apply_noise_estimate`). Within ``[0, 4]``; stored in a
        model file like ``strength``.
    distribute : {None, "mirrored"}, default=None
        ``"mirrored"`` trains under ``tf.distribute.MirroredStrategy`` over every visible
        GPU (one replica on the CPU where there is none). ``batch_size`` is then the
        *global* batch: each of N replicas gets ``batch_size / N`` frames per step, so
        scale it (and perhaps the learning rate) with the number of GPUs. Prediction is
        unaffected.
    precision : {"float32", "mixed_float16"}, default="float32"
        ``"mixed_float16"`` trains with float16 computations on float32 weights and a
        dynamically scaled loss (about twice as fast on GPUs with tensor cores; slower on a
        CPU). The fitted model is float32 either way, and its file is the same.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, dropout, the validation split and the shuffling.
    verbose : int, default=0
        0: silent; 1: a progress bar per epoch and a log line per epoch.

    Attributes
    ----------
    model_ : keras.Model
        The trained network. A model loaded from a file builds it (importing TensorFlow)
        on first access only.
    settings_ : SpectralSettings
        Spectral settings of the training frames; inputs at predict time must match.
    input_mean_, input_scale_ : float
        Affine map of the noisy dB to the network input, ``(db - mean) / scale``.
    target_scale_ : float
        Scale of the noise dB in the network output.
    history_ : dict of list of float
        Loss (and ``val_loss``) per epoch, and the ``learning_rate`` at each epoch's end.
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    n_train_frames_ : int
        Frames seen per training epoch.

    Examples
    --------
    >>> from skdenoise import UNetNoiseRegressor
    >>> UNetNoiseRegressor(filters=4, depth=2).get_params()["filters"]
    4
    """

    def __init__(
        self,
        filters: int = REFERENCE["filters"],
        depth: int = REFERENCE["depth"],
        dropout: float = REFERENCE["dropout"],
        kernel_size: int = REFERENCE["kernel_size"],
        patch_size: int = REFERENCE["patch_size"],
        loss: str = REFERENCE["loss"],
        magnitude_exponent: float = REFERENCE["magnitude_exponent"],
        over_suppression_weight: float = REFERENCE["over_suppression_weight"],
        recogniser_weight: float = REFERENCE["recogniser_weight"],
        learning_rate: float = REFERENCE["learning_rate"],
        epochs: int = REFERENCE["epochs"],
        batch_size: int = REFERENCE["batch_size"],
        validation_fraction: float = REFERENCE["validation_fraction"],
        early_stopping: bool = True,
        patience: int = REFERENCE["patience"],
        lr_reduce_patience: int | None = REFERENCE["lr_reduce_patience"],
        max_attenuation_db: float | None = REFERENCE["max_attenuation_db"],
        output_activation: str | None = REFERENCE["output_activation"],
        checkpoint_path: str | None = None,
        init_model: str | None = None,
        backend: str = PREDICTION["unet"]["backend"],
        strength: float = PREDICTION["unet"]["strength"],
        expansion: float = PREDICTION["unet"]["expansion"],
        distribute: str | None = None,
        precision: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.filters = filters
        self.depth = depth
        self.dropout = dropout
        self.kernel_size = kernel_size
        self.patch_size = patch_size
        self.loss = loss
        self.magnitude_exponent = magnitude_exponent
        self.over_suppression_weight = over_suppression_weight
        self.recogniser_weight = recogniser_weight
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.lr_reduce_patience = lr_reduce_patience
        self.max_attenuation_db = max_attenuation_db
        self.output_activation = output_activation
        self.checkpoint_path = checkpoint_path
        self.init_model = init_model
        self.backend = backend
        self.strength = strength
        self.expansion = expansion
        self.distribute = distribute
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters

    def _check_params(self) -> None:
        check_params(self.get_params())

    def _architecture(self, settings: SpectralSettings) -> dict:
        return architecture(settings.frame_shape, self.get_params())

    # ------------------------------------------------------------------ fitting

    def fit(self, X, y=None):
        """Train the U-Net.

        Parameters
        ----------
        X : SpectrogramBatch or frame source
            Noisy log-magnitude frames carrying their clean targets (``target_frames``), as
            a denoising pipeline passes them; or a frame source streaming pairs.
        y : ignored, or sequence of ndarray
            In a pipeline ``y`` (the clean audio) already travels inside ``X``. Standalone,
            ``y`` may give the clean log-magnitude frames, one array per recording shaped
            like ``X.frames[i]``.

        Returns
        -------
        self
        """
        self._check_params()
        rng = check_random_state(self.random_state)
        if is_frame_source(X):
            return self._fit_stream(X, rng)
        batch, targets = training_targets(X, y)
        settings = batch.settings
        arch = self._architecture(settings)
        check_architecture(**arch)
        train_idx, val_idx = split_recordings(len(batch), self.validation_fraction, rng)
        n_val = len(val_idx)

        phases = None
        if self.loss in WAVEFORM_LOSSES:  # the waveform losses rebuild with the noisy phase
            if batch.phases is None:
                raise ValueError(f"loss={self.loss!r} needs the phase: fit through the pipeline.")
            phases = [phase_frames(p, settings) for p in batch.phases]

        def stack(indices):
            noisy = np.concatenate([batch.frames[i] for i in indices])
            clean = np.concatenate([targets[i] for i in indices])
            if phases is None:
                return noisy, clean
            return noisy, clean, np.concatenate([phases[i] for i in indices])

        train = stack(train_idx)
        self.n_train_frames_ = len(train[0])
        scales = Scales.fit(*train[:2], **self._scale_params())
        self._train(arch, settings, scales, train, stack(val_idx) if n_val else None, rng)
        return self

    def _scale_params(self) -> dict:
        return {
            "output_activation": self.output_activation,
            "max_attenuation_db": self.max_attenuation_db,
        }

    def _fit_stream(self, source, rng):
        settings = getattr(source, "settings", None)
        if settings is None:
            raise ValueError(
                "the frame source has no spectral settings: pass it through a denoising "
                "pipeline (pipe.fit(source)) or give it settings=LogSpectrogram().settings(...)."
            )
        arch = self._architecture(settings)
        seed, train_src, val_src = self._split_stream(source, rng)
        scales = stream_scales(train_src, STREAM_SCALE_FRAMES, **self._scale_params())
        self.n_train_frames_ = int(train_src.n_frames_hint() or 0)
        self._train(arch, settings, scales, train_src, val_src, rng, seed=seed)
        return self

    def _split_stream(self, source, rng):
        """``(seed, train, validation)`` of a streamed fit: the seed of the split and of the
        training is the first draw of ``rng``; validation is ``None`` without a fraction."""
        seed = rng.randint(0, 2**31 - 1)
        if self.validation_fraction > 0:
            return (seed, *source.split(self.validation_fraction, random_state=seed))
        return seed, source, None

    def split_stream(self, source):
        """The ``(train, validation)`` frame sources that ``fit(source)`` would use.

        With an integer ``random_state`` this is the split a fit with these parameters
        makes (held-out speakers and noise files), e.g. to build a selection set from the
        validation side; validation is ``None`` when ``validation_fraction`` is 0.
        """
        return self._split_stream(source, check_random_state(self.random_state))[1:]

    def _train(self, arch, settings, scales, train, val, rng, seed: int | None = None) -> None:
        """Run :func:`skdenoise.fitting.train_network` and keep what it gives back."""
        if seed is None:
            seed = rng.randint(0, 2**31 - 1)
        self.settings_ = settings
        self.architecture_ = arch
        init_weights = None
        if self.init_model is not None:
            scales, init_weights = warm_start(self.init_model, arch, self.max_attenuation_db)
        params = self.get_params()
        result = train_network(
            arch,
            FitSettings.from_params(params),
            scales,
            train,
            val,
            seed,
            signature={"params": checkpoint_params(params), "settings": settings.__dict__},
            init_weights=init_weights,
            settings=settings,
        )
        s = result.scales
        self.input_mean_, self.input_scale_, self.target_scale_ = (
            s.input_mean,
            s.input_scale,
            s.target_scale,
        )
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.model_ = result.model

    # ------------------------------------------------------------------ inference

    @property
    def model_(self):
        """The trained Keras network, built from the stored weights on first access."""
        model = self.__dict__.get("_model")
        if model is not None:
            return model
        if "_weights" not in self.__dict__:
            raise AttributeError("'UNetNoiseRegressor' object has no attribute 'model_'")
        with _LOCK:
            if self.__dict__.get("_model") is None:
                model = build_unet(**self.architecture_)
                model.set_weights(self.__dict__["_weights"])
                self.__dict__["_model"] = model
        return self.__dict__["_model"]

    @model_.setter
    def model_(self, model) -> None:
        self.__dict__["_model"] = model
        for name in ("_weights", "_infer", "_restored"):
            self.__dict__.pop(name, None)

    def _network_weights(self) -> list[np.ndarray]:
        """The network's weights, without building the Keras model when it is not built."""
        weights = self.__dict__.get("_weights")
        if weights is not None:
            return weights
        return [np.asarray(w, dtype=np.float32) for w in self.model_.get_weights()]

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                "This UNetNoiseRegressor is not fitted yet: call fit(noisy, clean) on the "
                "pipeline first, or use skdenoise.load_pretrained() for the shipped model."
            )

    def __sklearn_is_fitted__(self) -> bool:
        return "_model" in self.__dict__ or "_weights" in self.__dict__

    def _runner(self) -> NetworkRunner:
        """The network's runner, built once per estimator and backend."""
        cached = self.__dict__.get("_infer")
        if cached is not None and cached[0] == self.backend:
            return cached[1]
        with _LOCK:
            cached = self.__dict__.get("_infer")
            if cached is None or cached[0] != self.backend:
                if self.backend not in BACKENDS:
                    raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}.")
                runner = NetworkRunner(
                    self.architecture_,
                    self._network_weights(),
                    backend=self.backend,
                    prefer_litert=bool(self.__dict__.get("_restored")),
                    build_model=lambda: self.model_,
                )
                cached = (self.backend, runner)
                self.__dict__["_infer"] = cached
        return cached[1]

    def denoise_frames(self, frames_db: np.ndarray) -> np.ndarray:
        """Denoised log-magnitude of a stack of frames (the functional entry point).

        Parameters
        ----------
        frames_db : ndarray of shape (n_frames, n_freq, frame_columns)
            Noisy log-magnitude in dB.

        Returns
        -------
        ndarray of the same shape, float32, dB
        """
        self._check_fitted()
        return FrameDenoiser(
            self._runner(),
            Scales(self.input_mean_, self.input_scale_, self.target_scale_),
            self.settings_,
            max_attenuation_db=self.max_attenuation_db,
            strength=self.strength,
            expansion=self.expansion,
        )(frames_db)

    def _check_batch(self, X) -> SpectrogramBatch:
        self._check_fitted()
        if not isinstance(X, SpectrogramBatch):
            raise TypeError(
                f"UNetNoiseRegressor expects a SpectrogramBatch, got {type(X).__name__}."
            )
        mine, theirs = self.settings_, X.settings
        if (mine.n_fft, mine.hop_length, mine.frame_length) != (
            theirs.n_fft,
            theirs.hop_length,
            theirs.frame_length,
        ) or mine.sample_rate != theirs.sample_rate:
            raise ValueError(
                f"the model was trained on {mine} but receives {theirs}: use the same "
                "sample_rate, n_fft, hop_length and frame_length."
            )
        return X

    def predict(self, X) -> list[np.ndarray]:
        """Denoised log-magnitude frames of each recording.

        All frames of all recordings are batched into large model calls.

        Parameters
        ----------
        X : SpectrogramBatch

        Returns
        -------
        list of ndarray of shape (n_frames_i, n_freq, frame_columns), dB
        """
        batch = self._check_batch(X)
        counts = [len(f) for f in batch.frames]
        denoised = self.denoise_frames(np.concatenate(batch.frames))
        return list(np.split(denoised, np.cumsum(counts)[:-1]))

    def transform(self, X) -> SpectrogramBatch:
        """The batch with its frames replaced by the denoised ones."""
        return X.replace(frames=tuple(self.predict(X)), target_frames=None)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform ``X``."""
        return self.fit(X, y).transform(X)

    # ------------------------------------------------------------------ persistence

    def _fitted_state(self) -> tuple[dict, list[np.ndarray]]:
        """JSON-able fitted attributes and the weight arrays."""
        self._check_fitted()
        meta = {name: getattr(self, name) for name in _FITTED_SCALARS}
        meta["architecture_"] = self.architecture_
        meta["settings_"] = self.settings_.__dict__.copy()
        meta["history_"] = {k: [float(v) for v in vs] for k, vs in self.history_.items()}
        return meta, self._network_weights()

    def _restore_fitted(self, meta: dict, weights: list[np.ndarray]) -> None:
        """Inverse of :meth:`_fitted_state`."""
        for name in _FITTED_SCALARS:
            setattr(self, name, meta[name])
        self.architecture_ = dict(meta["architecture_"])
        self.settings_ = SpectralSettings(**meta["settings_"])
        self.history_ = {k: list(v) for k, v in meta["history_"].items()}
        # The Keras model is built on first use (model_), so that loading a model and
        # running it with LiteRT never imports TensorFlow.
        self.__dict__.pop("_model", None)
        self.__dict__.pop("_infer", None)
        self.__dict__["_weights"] = [np.asarray(w, dtype=np.float32) for w in weights]
        self.__dict__["_restored"] = True  # "auto" runs a restored model with LiteRT

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in ("_infer", "_model", "_weights"):
            state.pop(name, None)
        if self.__sklearn_is_fitted__():
            state["_fitted_blob"] = self._fitted_state()
        return state

    def __setstate__(self, state):
        blob = state.pop("_fitted_blob", None)
        restored = state.pop("_restored", False)
        self.__dict__.update(state)
        if blob is not None:
            self._restore_fitted(*blob)
            # a copy runs on the backend of its original: the same numbers after pickling
            self.__dict__["_restored"] = restored
