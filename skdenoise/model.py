"""The U-Net and the numerical conventions of its input and output (functional core).

:func:`build_unet` is the package's one model builder. The network maps the scaled noisy
log-magnitude to the scaled *noise* log-magnitude, ``noisy dB - clean dB``; the denoised
log-magnitude is ``noisy dB - predicted noise dB`` (:func:`apply_noise_estimate`).

Keras (and TensorFlow) are imported only when a model is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXPANSION_KNEE_DB",
    "WAVEFORM_LOSSES",
    "WAVEFORM_WEIGHT",
    "Scales",
    "apply_noise_estimate",
    "build_unet",
    "check_architecture",
    "magnitude_loss",
    "noise_target",
    "rebuilt_waveforms",
    "si_sdr_loss",
    "weighted_sum",
]

#: Weight of the negative SI-SDR (per dB) in the combined loss ``"magnitude+si_sdr"``: the
#: two terms weigh alike at the shipped model (its magnitude loss is about 0.019; 12.4 dB of
#: SI-SDR per frame times 1.5e-3 is 0.019), so a relative change of either moves the sum alike.
WAVEFORM_WEIGHT = 1.5e-3
#: The losses that rebuild waveforms, so need the noisy phase of every frame.
WAVEFORM_LOSSES = ("si_sdr", "magnitude+si_sdr")
#: Power-law compression of the magnitude loss.
MAGNITUDE_EXPONENT = 0.3


def check_architecture(
    *,
    n_freq: int,
    n_columns: int,
    filters: int,
    depth: int,
    patch_size: int,
    dropout: float,
    **_: object,
) -> None:
    """Raise ``ValueError`` if these U-Net hyperparameters cannot build a network.

    Parameters
    ----------
    n_freq, n_columns : int
        Frame shape; both divisible by ``patch_size * 2 ** (depth - 1)``.
    filters, depth : int
        At least 1.
    patch_size : {1, 2, 4}
        Space-to-depth factor.
    dropout : float
        Within [0, 1).

    Examples
    --------
    >>> from skdenoise.model import check_architecture
    >>> check_architecture(n_freq=100, n_columns=128, filters=16, depth=5, patch_size=1,
    ...                    dropout=0.5)
    Traceback (most recent call last):
    ...
    ValueError: ...
    """
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}.")
    if not isinstance(filters, (int, np.integer)) or filters < 1:
        raise ValueError(f"filters must be an integer >= 1, got {filters!r}.")
    if patch_size not in (1, 2, 4):
        raise ValueError(f"patch_size must be 1, 2 or 4, got {patch_size!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be within [0, 1), got {dropout!r}.")
    step = patch_size * 2 ** (depth - 1)
    for name, size in (("n_freq", n_freq), ("n_columns", n_columns)):
        if size % step:
            raise ValueError(
                f"{name}={size} must be divisible by patch_size * 2**(depth - 1) = {step}: "
                f"lower depth (now {depth}) or choose n_fft/frame_length so that it divides."
            )


def build_unet(
    *,
    n_freq: int = 128,
    n_columns: int = 128,
    filters: int = 16,
    depth: int = 5,
    dropout: float = 0.5,
    kernel_size: int = 3,
    patch_size: int = 1,
    negative_slope: float = 0.2,
    output_activation: str | None = None,
    seed: int | None = None,
    dtype: str | None = None,
):
    """Build the U-Net (a Keras 3 functional model, not compiled).

    Reference architecture (``patch_size=1``, ``depth=5``, ``filters=16``): per level two
    ``kernel_size`` convolutions with LeakyReLU, filters doubling per level (16 ... 256);
    max-pooling down; up-sampling followed by a 2x2 convolution up; skip concatenations;
    dropout at the bottom; a 3x3 convolution to 2 channels and a 1x1 convolution to the
    output. 1,941,093 parameters.

    ``patch_size=2`` folds each 2x2 block of the input into 4 channels before the first
    level and unfolds the output the same way (space-to-depth): the same network then works
    at half the resolution, about twice as fast on a CPU.

    Parameters
    ----------
    n_freq, n_columns : int
        Input frame shape (frequency bins, STFT columns); both divisible by
        ``patch_size * 2 ** (depth - 1)``.
    filters : int
        Filters of the first level.
    depth : int
        Number of levels (resolutions), bottom included.
    dropout : float
        Dropout rate at the bottom level.
    kernel_size : int
        Size of the square convolution kernels.
    patch_size : {1, 2, 4}
        Space-to-depth factor; 1 is the reference.
    negative_slope : float
        Slope of the LeakyReLU for negative inputs.
    output_activation : str, optional
        Activation of the last layer (``None``: linear; ``"tanh"`` as in the seed code).
    seed : int, optional
        Seed of the weight initialisers and the dropout.
    dtype : str, optional
        Keras dtype policy of the layers (``"mixed_float16"``: float16 computations on
        float32 weights); the output layer always computes in float32, and the weights are
        the same whatever the policy. ``None``: Keras' global policy (float32).

    Returns
    -------
    keras.Model
        Input and output of shape (batch, n_freq, n_columns, 1).

    Examples
    --------
    >>> from skdenoise.model import build_unet
    >>> build_unet().count_params()
    1941093
    """
    check_architecture(
        n_freq=n_freq,
        n_columns=n_columns,
        filters=filters,
        depth=depth,
        patch_size=patch_size,
        dropout=dropout,
    )
    import keras
    from keras import layers

    seeds = iter(range(10_000)) if seed is None else iter(range(seed, seed + 10_000))

    def init():
        value = next(seeds)
        return keras.initializers.GlorotUniform(seed=None if seed is None else value)

    def conv(x, n, size, name):
        x = layers.Conv2D(
            n, size, padding="same", kernel_initializer=init(), name=name, dtype=dtype
        )(x)
        return layers.LeakyReLU(negative_slope=negative_slope, name=f"{name}_act", dtype=dtype)(x)

    inputs = keras.Input((n_freq, n_columns, 1), name="noisy_scaled")
    x = inputs
    p = patch_size
    if p > 1:
        x = layers.Reshape((n_freq // p, p, n_columns // p, p), name="patch_split", dtype=dtype)(x)
        x = layers.Permute((1, 3, 2, 4), name="patch_order", dtype=dtype)(x)
        x = layers.Reshape((n_freq // p, n_columns // p, p * p), name="patch_fold", dtype=dtype)(x)

    skips = []
    for level in range(depth):
        n = filters * 2**level
        x = conv(x, n, kernel_size, f"down{level}_a")
        x = conv(x, n, kernel_size, f"down{level}_b")
        if level == depth - 1:
            if dropout > 0:
                x = layers.Dropout(
                    dropout,
                    seed=None if seed is None else seed + 7919,
                    name="bottom_dropout",
                    dtype=dtype,
                )(x)
        else:
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"pool{level}", dtype=dtype)(x)
    for level in reversed(range(depth - 1)):
        n = filters * 2**level
        x = layers.UpSampling2D(2, name=f"upsample{level}", dtype=dtype)(x)
        x = conv(x, n, 2, f"up{level}_conv")
        x = layers.Concatenate(name=f"skip{level}", dtype=dtype)([skips[level], x])
        x = conv(x, n, kernel_size, f"up{level}_a")
        x = conv(x, n, kernel_size, f"up{level}_b")
    x = conv(x, 2 * p * p, 3, "head")
    # The output layer computes in float32 under any policy (a mixed-precision network's
    # last layer should, for a numerically stable loss).
    x = layers.Conv2D(
        p * p,
        1,
        activation=output_activation,
        kernel_initializer=init(),
        name="noise_scaled",
        dtype=None if dtype is None else "float32",
    )(x)
    if p > 1:
        x = layers.Reshape((n_freq // p, n_columns // p, p, p), name="patch_unfold")(x)
        x = layers.Permute((1, 3, 2, 4), name="patch_unorder")(x)
        x = layers.Reshape((n_freq, n_columns, 1), name="patch_join")(x)
    name = f"unet_d{depth}_f{filters}" + (f"_p{p}" if p > 1 else "")
    return keras.Model(inputs, x, name=name)


def noise_target(
    noisy_db: np.ndarray, clean_db: np.ndarray, *, max_attenuation_db: float | None = None
) -> np.ndarray:
    """The training target: noise log-magnitude, ``noisy dB - clean dB``.

    Parameters
    ----------
    noisy_db, clean_db : ndarray of the same shape
        Log-magnitudes in dB.
    max_attenuation_db : float, optional
        Bounded subtraction: clip the target to ``[0, max_attenuation_db]`` (the denoiser
        then only attenuates, by at most this much). ``None`` is the unbounded reference.

    Returns
    -------
    ndarray, float32, same shape

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.model import noise_target
    >>> noise_target(np.array([10.0, -5.0]), np.array([0.0, 0.0]), max_attenuation_db=40.0).tolist()
    [10.0, 0.0]
    """
    target = np.asarray(noisy_db, dtype=np.float32) - np.asarray(clean_db, dtype=np.float32)
    if max_attenuation_db is not None:
        target = np.clip(target, 0.0, float(max_attenuation_db))
    return target


#: Attenuation (dB) above which a prediction-time ``expansion`` adds more
#: (:func:`apply_noise_estimate`): about the network's median attenuation on noisy speech,
#: so that bins it judged mostly noise are expanded and speech is left alone.
EXPANSION_KNEE_DB = 10.0


def apply_noise_estimate(
    noisy_db: np.ndarray,
    noise_db: np.ndarray,
    *,
    max_attenuation_db: float | None = None,
    floor_db: float = -100.0,
    strength: float = 1.0,
    expansion: float = 0.0,
) -> np.ndarray:
    """Denoised log-magnitude: ``noisy dB - strength * noise dB``, floored at ``floor_db``.

    With ``expansion``, the attenuation ``a = strength * noise dB`` grows past
    :data:`EXPANSION_KNEE_DB` by that factor: ``a + expansion * max(0, a - knee)``. Bins the
    network already judged mostly noise lose more; bins it left nearly whole (the speech)
    are not touched. With ``max_attenuation_db``, the attenuation is then clipped to
    ``[0, max_attenuation_db]`` (bounded subtraction, as in :func:`noise_target`).

    Parameters
    ----------
    noisy_db, noise_db : ndarray of the same shape
        Noisy log-magnitude and the estimated noise, in dB.
    max_attenuation_db : float, optional
        Bound of the subtraction.
    floor_db : float
        Lowest output level in dB.
    strength : float
        Factor on the noise estimate (1: as estimated; a gain mask ``g`` becomes
        ``g ** strength``).
    expansion : float
        Extra attenuation per dB of attenuation above :data:`EXPANSION_KNEE_DB` (0: none).

    Returns
    -------
    ndarray, same shape, float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.model import apply_noise_estimate
    >>> apply_noise_estimate(np.array([0.0, 0.0]), np.array([10.0, 60.0]),
    ...                      max_attenuation_db=40.0).tolist()
    [-10.0, -40.0]
    >>> apply_noise_estimate(np.array([0.0, 0.0]), np.array([10.0, 30.0]),
    ...                      max_attenuation_db=40.0, strength=1.5).tolist()
    [-15.0, -40.0]
    >>> apply_noise_estimate(np.array([0.0, 0.0]), np.array([5.0, 20.0]),
    ...                      max_attenuation_db=40.0, expansion=1.0).tolist()
    [-5.0, -30.0]
    """
    noise_db = np.asarray(noise_db, dtype=np.float32)
    if strength != 1.0:
        noise_db = noise_db * np.float32(strength)
    if expansion:
        noise_db = noise_db + np.float32(expansion) * np.maximum(
            noise_db - np.float32(EXPANSION_KNEE_DB), 0.0
        )
    if max_attenuation_db is not None:
        noise_db = np.clip(noise_db, 0.0, float(max_attenuation_db))
    return np.maximum(np.asarray(noisy_db, dtype=np.float32) - noise_db, floor_db)


def magnitude_loss(
    target_scale: float,
    *,
    max_attenuation_db: float | None = None,
    exponent: float = MAGNITUDE_EXPONENT,
    over_suppression_weight: float = 1.0,
):
    """Keras loss between compressed magnitudes of the estimate and of the clean speech.

    ``y_true`` holds the noisy and clean log-magnitudes (dB) in its two channels; ``y_pred``
    is the network's output, the noise log-magnitude divided by ``target_scale``. The
    estimate is ``noisy dB - noise dB`` (clipped to ``[0, max_attenuation_db]`` when given),
    and the loss is the mean of ``(|estimate|**exponent - |clean|**exponent)**2``: bins
    count by their energy, so loud speech and loud noise matter most, as for PESQ and
    SI-SDR, while a log-domain loss weighs every bin alike.

    With ``over_suppression_weight`` other than 1 the loss is asymmetric: a bin whose
    estimate is *below* the clean speech (speech removed with the noise) costs that many
    times what the same error above it (noise left in) costs (below 1: noise left costs
    more). Speech recognisers are hurt more by
    speech removed than by noise left, so this trades residual noise for less distortion
    (the "asymmetric loss" of VoiceFilter-Lite, Wang et al., Interspeech 2020). The
    per-bin optimum moves from the conditional mean to the ``w / (1 + w)`` expectile.

    Parameters
    ----------
    target_scale : float
        The network's output times this is the noise estimate in dB.
    max_attenuation_db : float, optional
        Clip the noise estimate to ``[0, max_attenuation_db]`` dB.
    exponent : float
        Power-law compression of the magnitudes.
    over_suppression_weight : float
        Weight of the squared error in bins where the estimate is below the clean speech
        (1: the symmetric loss).

    Returns
    -------
    callable
        ``loss(y_true, y_pred)`` for ``model.compile``.

    Examples
    --------
    >>> from skdenoise.model import magnitude_loss
    >>> loss = magnitude_loss(40.0, exponent=0.6)
    >>> callable(loss)
    True
    """
    from keras import ops

    k = float(exponent * np.log(10.0) / 20.0)  # |X|**exponent = exp(k * dB)
    weight = float(over_suppression_weight)

    def loss(y_true, y_pred):
        noisy_db = y_true[..., 0:1]
        clean_db = y_true[..., 1:2]
        noise_db = y_pred * target_scale
        if max_attenuation_db is not None:
            noise_db = ops.clip(noise_db, 0.0, float(max_attenuation_db))
        error = ops.exp(k * (noisy_db - noise_db)) - ops.exp(k * clean_db)
        squared = ops.square(error)
        if weight != 1.0:
            squared = ops.where(error < 0, weight * squared, squared)
        return ops.mean(squared, axis=(1, 2, 3))

    loss.__name__ = "magnitude_loss"
    return loss


def rebuilt_waveforms(
    target_scale: float,
    *,
    n_fft: int,
    hop_length: int,
    max_attenuation_db: float | None = None,
    floor_db: float = -100.0,
):
    """The waveforms of the estimate and of the clean speech, rebuilt inside a loss.

    ``y_true`` holds, in four channels, the noisy and clean log-magnitudes (dB) and the
    cosine and sine of the noisy phase; ``y_pred`` is the network's output (the noise
    log-magnitude over ``target_scale``). The estimate (``noisy dB - noise dB``) and the
    clean magnitude are both given the noisy phase (the only phase the denoiser has, and
    the one it rebuilds with) and turned into waveforms by TensorFlow's inverse STFT with
    the package's window and hop. The waveform losses (:func:`si_sdr_loss`,
    :func:`skdenoise.whisper_features.whisper_feature_loss`) share it.

    Parameters
    ----------
    target_scale : float
        The network's output times this is the noise estimate in dB.
    n_fft, hop_length : int
        The STFT's (:class:`skdenoise.spectral.SpectralSettings`).
    max_attenuation_db : float, optional
        Clip the noise estimate to ``[0, max_attenuation_db]`` dB.
    floor_db : float
        Lowest output level in dB.

    Returns
    -------
    callable
        ``waveforms(y_true, y_pred) -> (estimate, reference)``, each a float32 tensor of
        shape ``(batch, n_samples)``.

    Examples
    --------
    >>> from skdenoise.model import rebuilt_waveforms
    >>> callable(rebuilt_waveforms(40.0, n_fft=255, hop_length=63))
    True
    """
    import tensorflow as tf

    k = float(np.log(10.0) / 20.0)  # |X| = exp(k * dB)

    def window(frame_length, dtype):
        return tf.signal.hann_window(frame_length, periodic=True, dtype=dtype)

    inverse_window = tf.signal.inverse_stft_window_fn(hop_length, forward_window_fn=window)

    def waveform(db, cos, sin):
        magnitude = tf.exp(k * db)
        spec = tf.complex(magnitude * cos, magnitude * sin)  # (batch, n_freq, columns)
        return tf.signal.inverse_stft(
            tf.transpose(spec, [0, 2, 1]),
            frame_length=n_fft,
            frame_step=hop_length,
            fft_length=n_fft,
            window_fn=inverse_window,
        )

    def waveforms(y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        noisy_db, clean_db = y_true[..., 0], y_true[..., 1]
        cos, sin = y_true[..., 2], y_true[..., 3]
        noise_db = tf.cast(y_pred[..., 0], tf.float32) * target_scale
        if max_attenuation_db is not None:
            noise_db = tf.clip_by_value(noise_db, 0.0, float(max_attenuation_db))
        estimate = waveform(tf.maximum(noisy_db - noise_db, floor_db), cos, sin)
        return estimate, waveform(clean_db, cos, sin)

    return waveforms


def si_sdr_loss(
    target_scale: float,
    *,
    n_fft: int,
    hop_length: int,
    max_attenuation_db: float | None = None,
    floor_db: float = -100.0,
):
    """Keras loss: negative SI-SDR (dB) of waveforms rebuilt through the inverse STFT.

    The estimate and the clean speech are rebuilt by :func:`rebuilt_waveforms` (same
    parameters) and compared by SI-SDR over each frame (1.008 s at 8 kHz). A waveform-domain
    loss: what SI-SDR scores is what it optimises.

    Parameters
    ----------
    target_scale : float
        The network's output times this is the noise estimate in dB.
    n_fft, hop_length : int
        The STFT's (:class:`skdenoise.spectral.SpectralSettings`).
    max_attenuation_db : float, optional
        Clip the noise estimate to ``[0, max_attenuation_db]`` dB.
    floor_db : float
        Lowest output level in dB.

    Returns
    -------
    callable
        ``loss(y_true, y_pred)`` for ``model.compile``.

    Examples
    --------
    >>> from skdenoise.model import si_sdr_loss
    >>> callable(si_sdr_loss(40.0, n_fft=255, hop_length=63))
    True
    """
    import tensorflow as tf

    eps = 1e-8
    waveforms = rebuilt_waveforms(
        target_scale,
        n_fft=n_fft,
        hop_length=hop_length,
        max_attenuation_db=max_attenuation_db,
        floor_db=floor_db,
    )

    def loss(y_true, y_pred):
        estimate, reference = waveforms(y_true, y_pred)
        alpha = tf.reduce_sum(estimate * reference, -1, keepdims=True) / (
            tf.reduce_sum(reference * reference, -1, keepdims=True) + eps
        )
        target = alpha * reference
        residual = estimate - target
        ratio = (tf.reduce_sum(target * target, -1) + eps) / (
            tf.reduce_sum(residual * residual, -1) + eps
        )
        return -10.0 * tf.math.log(ratio) / tf.math.log(10.0)

    loss.__name__ = "si_sdr_loss"
    return loss


def weighted_sum(terms: dict):
    """Keras loss: the weighted sum of per-example losses, ``{loss: weight}``.

    Each loss reads the channels of ``y_true`` it needs (:func:`magnitude_loss` the first two,
    :func:`si_sdr_loss` all four), so one target serves them all. The combined loss
    ``"magnitude+si_sdr"`` is ``weighted_sum({magnitude_loss(...): 1.0, si_sdr_loss(...):
    WAVEFORM_WEIGHT})``.

    Parameters
    ----------
    terms : dict
        Loss functions ``loss(y_true, y_pred) -> (batch,)`` and their weights.

    Returns
    -------
    callable

    Examples
    --------
    >>> from skdenoise.model import weighted_sum
    >>> double = weighted_sum({lambda t, p: t - p: 2.0})
    >>> double(3.0, 1.0)
    4.0
    """
    items = list(terms.items())

    def loss(y_true, y_pred):
        return sum(float(weight) * term(y_true, y_pred) for term, weight in items)

    loss.__name__ = "_".join(getattr(term, "__name__", "loss") for term, _ in items)
    return loss


@dataclass(frozen=True)
class Scales:
    """The affine maps between log-magnitudes and the network: its input is
    ``(noisy dB - input_mean) / input_scale``, its output times ``target_scale`` is the
    noise estimate in dB.

    Parameters
    ----------
    input_mean, input_scale : float
        Of the noisy log-magnitudes (dB).
    target_scale : float
        Of the noise estimate (dB).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.model import Scales
    >>> scales = Scales.fit(np.array([[-40.0, -20.0]]), np.array([[-50.0, -20.0]]),
    ...                     output_activation="sigmoid", max_attenuation_db=40.0)
    >>> scales
    Scales(input_mean=-30.0, input_scale=10.0, target_scale=40.0)
    >>> scales.network_input(np.array([[-30.0]])).ravel().tolist()
    [0.0]
    """

    input_mean: float
    input_scale: float
    target_scale: float

    @classmethod
    def fit(
        cls,
        noisy_db: np.ndarray,
        clean_db: np.ndarray,
        *,
        output_activation: str | None,
        max_attenuation_db: float | None,
    ) -> Scales:
        """Scales learned from training frames: the input's mean and standard deviation,
        and the noise target's (or, for the sigmoid gain mask, the bound)."""
        if output_activation == "sigmoid":
            # Gain-mask parameterisation: the output in (0, 1) spans the allowed attenuation.
            target_scale = float(max_attenuation_db)
        else:
            noise = noise_target(noisy_db, clean_db, max_attenuation_db=max_attenuation_db)
            target_scale = float(max(np.std(noise), 1e-3))
        return cls(float(np.mean(noisy_db)), float(max(np.std(noisy_db), 1e-3)), target_scale)

    def network_input(self, noisy_db: np.ndarray) -> np.ndarray:
        """Noisy dB ``(n, n_freq, n_columns)`` to the network's input ``(..., 1)``, float32."""
        scaled = (np.asarray(noisy_db) - self.input_mean) / self.input_scale
        return scaled[..., None].astype(np.float32)

    def training_pair(
        self,
        noisy_db: np.ndarray,
        clean_db: np.ndarray,
        phase: np.ndarray | None = None,
        *,
        loss: str,
        max_attenuation_db: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(input, target) arrays for Keras, of shape (n, n_freq, n_columns, channels).

        The target is the scaled noise log-magnitude for the noise losses; the noisy and
        clean log-magnitudes (dB, 2 channels) for the magnitude loss, which rebuilds the
        estimate inside the loss (:func:`magnitude_loss`); and those plus the cosine and
        sine of the noisy phase (4 channels) for the waveform losses (:func:`si_sdr_loss`).
        """
        x = self.network_input(noisy_db)
        if loss in WAVEFORM_LOSSES:
            if phase is None:
                raise ValueError(f"loss={loss!r} needs the noisy phase of every frame.")
            channels = [noisy_db, clean_db, np.real(phase), np.imag(phase)]
            return x, np.stack(channels, axis=-1).astype(np.float32)
        if loss == "magnitude":
            return x, np.stack([noisy_db, clean_db], axis=-1).astype(np.float32)
        noise = noise_target(noisy_db, clean_db, max_attenuation_db=max_attenuation_db)
        return x, (noise / self.target_scale)[..., None].astype(np.float32)
