"""Whisper's encoder as a differentiable training loss (functional core).

The recogniser that judges the package (:class:`skdenoise.asr.WhisperTranscriber`, Whisper
tiny.en through CTranslate2) cannot be trained through. This module rebuilds its front end
(the log-mel spectrogram) and its encoder in TensorFlow, with the very weights it decodes
with (read from the CTranslate2 ``model.bin``; nothing is downloaded), so that a training
loss can compare what the recogniser's encoder makes of the denoised speech with what it
makes of the clean speech (:func:`whisper_feature_loss`; ``skdenoise train
--recogniser-weight``): a "perceptual" term whose perception is the recogniser's.

At 8 kHz the log-mel is computed from the 8 kHz waveform with half Whisper's window and hop
(25 ms and 10 ms, as at 16 kHz) and the 16 kHz filter bank's lower half: the spectrum of a
band-limited upsampling to 16 kHz, without an upsampler in the graph.

TensorFlow is imported only when a loss or an encoder is built.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

__all__ = [
    "WHISPER_RATE",
    "encode",
    "log_mel",
    "mel_filters",
    "read_ctranslate2_variables",
    "whisper_encoder_weights",
    "whisper_feature_loss",
]

#: Whisper's sample rate (Hz), window (samples at that rate) and hop.
WHISPER_RATE = 16000
_N_FFT, _HOP, _N_MELS = 400, 160, 80
#: CTranslate2's data types, in the order of its ``DataType`` enum (its ids in the file).
_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_LAYER_NORM_EPS = 1e-5


def read_ctranslate2_variables(path, prefix: str = "") -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 ``model.bin`` whose names start with ``prefix``.

    Parameters
    ----------
    path : str or Path
        The ``model.bin`` file (format version 6, as CTranslate2 4 writes it).
    prefix : str
        Keep only these variables (``"encoder/"``: Whisper's encoder).

    Returns
    -------
    dict of str to ndarray
        Float variables as float32 (float16 and bfloat16 widened), integers as stored.

    Raises
    ------
    ValueError
        Naming the file, when it is not a CTranslate2 model file this reader understands.

    Examples
    --------
    >>> from skdenoise.whisper_features import read_ctranslate2_variables
    >>> weights = read_ctranslate2_variables(model_bin, prefix="encoder/")  # doctest: +SKIP
    >>> weights["encoder/conv1/weight"].shape  # doctest: +SKIP
    (384, 80, 3)
    """
    path = Path(path)
    data = path.read_bytes()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal pos
        n = take("H")
        value = data[pos : pos + n - 1].decode("utf-8")
        pos += n
        return value

    try:
        version = take("I")
        if version not in (5, 6):
            raise ValueError(f"format version {version} (5 or 6 expected)")
        text()  # the spec's name
        take("I")  # its revision
        out: dict[str, np.ndarray] = {}
        for _ in range(take("I")):
            name = text()
            shape = [take("I") for _ in range(take("B"))]
            type_id = take("B")
            n_bytes = take("I")
            if type_id >= len(_CT2_DTYPES):
                raise ValueError(f"variable {name!r} has unknown type id {type_id}")
            start, pos = pos, pos + n_bytes
            if not name.startswith(prefix):
                continue  # skipped without copying (the decoder is most of the file)
            raw = data[start:pos]
            dtype = _CT2_DTYPES[type_id]
            if dtype == "bfloat16":  # the upper half of a float32
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                array = bits.view(np.float32)
            else:
                array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            array = array.reshape(shape)
            out[name] = array.astype(np.float32) if array.dtype.kind == "f" else array.copy()
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable CTranslate2 model file ({exc}).") from exc
    return out


def whisper_encoder_weights(model: str | Path | None = None) -> dict[str, np.ndarray]:
    """Whisper's encoder weights, from a CTranslate2 model folder.

    Parameters
    ----------
    model : str or Path, optional
        Folder holding ``model.bin``; by default the tiny.en weights that
        :class:`skdenoise.asr.WhisperTranscriber` decodes with (the ``whisper`` extra).

    Returns
    -------
    dict of str to ndarray
        The ``encoder/...`` variables, float32.

    Examples
    --------
    >>> from skdenoise.whisper_features import whisper_encoder_weights
    >>> int(whisper_encoder_weights()["encoder/num_heads"])  # doctest: +SKIP
    6
    """
    from .asr import _bundled_whisper

    folder = Path(model) if model is not None else _bundled_whisper()
    weights = read_ctranslate2_variables(folder / "model.bin", prefix="encoder/")
    if "encoder/conv1/weight" not in weights:
        raise ValueError(f"{folder / 'model.bin'}: no Whisper encoder in this model file.")
    return weights


def mel_filters(sample_rate: int) -> np.ndarray:
    """Whisper's 80 mel filters over the STFT bins of :func:`log_mel` at ``sample_rate``.

    Whisper's filter bank (Slaney-style, as its feature extractor builds it) over the
    201 bins of its 400-sample window at 16 kHz; at a lower rate, the bins of the window of
    the same duration, which are the 16 kHz bins below that rate's Nyquist frequency.

    Parameters
    ----------
    sample_rate : int
        8000 or 16000 (any rate up to 16 kHz with whole-sample framing).

    Returns
    -------
    ndarray, shape (n_fft // 2 + 1, 80), float32

    Examples
    --------
    >>> from skdenoise.whisper_features import mel_filters
    >>> mel_filters(16000).shape, mel_filters(8000).shape
    ((201, 80), (101, 80))
    """
    n_fft, _ = _frame(sample_rate)
    freqs = np.fft.rfftfreq(_N_FFT, 1.0 / WHISPER_RATE)
    # Slaney's mel scale: linear below 1 kHz, logarithmic above.
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, log_step = min_log_hz / f_sp, np.log(6.4) / 27.0
    mels = np.linspace(0.0, 45.245640471924965, _N_MELS + 2)
    edges = f_sp * mels
    high = mels >= min_log_mel
    edges[high] = min_log_hz * np.exp(log_step * (mels[high] - min_log_mel))
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / np.diff(edges)[:-1, None]
    upper = ramps[2:] / np.diff(edges)[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights[:, : n_fft // 2 + 1].T.astype(np.float32)


def _frame(sample_rate: int) -> tuple[int, int]:
    """Window and hop (samples) of Whisper's 25 ms / 10 ms framing at ``sample_rate``."""
    rate = int(sample_rate)
    if rate > WHISPER_RATE or (_N_FFT * rate) % WHISPER_RATE or (_HOP * rate) % WHISPER_RATE:
        raise ValueError(
            f"Whisper's features need a sample rate of at most {WHISPER_RATE} Hz that "
            f"divides its 25 ms window and 10 ms hop into whole samples, got {sample_rate!r}."
        )
    return _N_FFT * rate // WHISPER_RATE, _HOP * rate // WHISPER_RATE


def log_mel(waveform, sample_rate: int):
    """Whisper's log-mel spectrogram, differentiable (TensorFlow).

    As Whisper's feature extractor: a hop of zeros appended, the signal reflected by half a
    window at each end, a periodic Hann window, power spectrum, 80 mel bands, ``log10``
    floored 8 below each example's maximum, then ``(x + 4) / 4``. Below 16 kHz the power is
    scaled by ``(16000 / sample_rate) ** 2``, which is what the shorter window loses
    against the 16 kHz one on the same band-limited sound.

    Parameters
    ----------
    waveform : tf.Tensor, shape (batch, n_samples), float32
        Audio at ``sample_rate``, full scale 1.
    sample_rate : int
        8000 or 16000 (any rate up to 16 kHz with whole-sample framing).

    Returns
    -------
    tf.Tensor, shape (batch, n_samples // hop + 1, 80)
        Frames every 10 ms.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.whisper_features import log_mel
    >>> tuple(log_mel(np.zeros((1, 8000), np.float32) + 0.1, 8000).shape)
    (1, 101, 80)
    """
    import tensorflow as tf

    n_fft, hop = _frame(sample_rate)
    x = tf.pad(waveform, [[0, 0], [0, hop]])
    x = tf.pad(x, [[0, 0], [n_fft // 2, n_fft // 2]], mode="REFLECT")
    spec = tf.signal.stft(
        x,
        frame_length=n_fft,
        frame_step=hop,
        fft_length=n_fft,
        window_fn=lambda n, dtype: tf.signal.hann_window(n, periodic=True, dtype=dtype),
    )
    power = tf.square(tf.abs(spec))[:, :-1] * float((WHISPER_RATE / sample_rate) ** 2)
    mel = tf.matmul(power, tf.constant(mel_filters(sample_rate)))
    log = tf.math.log(tf.maximum(mel, 1e-10)) / float(np.log(10.0))
    log = tf.maximum(log, tf.reduce_max(log, axis=[1, 2], keepdims=True) - 8.0)
    return (log + 4.0) / 4.0


def encode(mel, weights: dict[str, np.ndarray]):
    """Whisper's encoder (TensorFlow): log-mel frames to its output states.

    Two GELU convolutions (the second halves the frame rate), the sinusoidal position
    encodings, pre-norm transformer layers, a final layer norm; the layer count, width and
    heads are read from ``weights``.

    Parameters
    ----------
    mel : tf.Tensor, shape (batch, n_frames, 80)
        :func:`log_mel`'s output; at most 3000 frames (30 s).
    weights : dict
        :func:`whisper_encoder_weights`.

    Returns
    -------
    tf.Tensor, shape (batch, ceil(n_frames / 2), width)

    Examples
    --------
    >>> from skdenoise.whisper_features import encode, log_mel, whisper_encoder_weights
    >>> states = encode(log_mel(waveform, 8000), whisper_encoder_weights())  # doctest: +SKIP
    >>> tuple(states.shape)  # one second at 8 kHz  # doctest: +SKIP
    (1, 51, 384)
    """
    import tensorflow as tf

    n_heads = int(weights["encoder/num_heads"])
    n_layers = len({k.split("/")[1] for k in weights if re.match(r"encoder/layer_\d+/", k)})

    def const(name):
        return tf.constant(weights[name])

    def layer_norm(x, name):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        x = (x - mean) * tf.math.rsqrt(var + _LAYER_NORM_EPS)
        return x * const(name + "/gamma") + const(name + "/beta")

    def linear(x, name):
        return tf.matmul(x, const(name + "/weight"), transpose_b=True) + const(name + "/bias")

    def conv(x, name, stride):
        kernel = tf.constant(np.transpose(weights[name + "/weight"], (2, 1, 0)))
        x = tf.pad(x, [[0, 0], [1, 1], [0, 0]])  # PyTorch's padding=1 on both sides
        return tf.nn.conv1d(x, kernel, stride, "VALID") + const(name + "/bias")

    def gelu(x):
        return tf.nn.gelu(x, approximate=False)

    x = gelu(conv(mel, "encoder/conv1", 1))
    x = gelu(conv(x, "encoder/conv2", 2))
    width = x.shape[-1]
    head = width // n_heads
    x = x + const("encoder/position_encodings/encodings")[None, : tf.shape(x)[1]]

    def heads(t):
        t = tf.reshape(t, [tf.shape(t)[0], tf.shape(t)[1], n_heads, head])
        return tf.transpose(t, [0, 2, 1, 3])

    for i in range(n_layers):
        name = f"encoder/layer_{i}"
        q, k, v = tf.split(
            linear(
                layer_norm(x, name + "/self_attention/layer_norm"),
                name + "/self_attention/linear_0",
            ),
            3,
            axis=-1,
        )
        scores = tf.matmul(heads(q), heads(k), transpose_b=True) / float(np.sqrt(head))
        mixed = tf.transpose(tf.matmul(tf.nn.softmax(scores, axis=-1), heads(v)), [0, 2, 1, 3])
        mixed = tf.reshape(mixed, [tf.shape(x)[0], tf.shape(x)[1], width])
        x = x + linear(mixed, name + "/self_attention/linear_1")
        hidden = gelu(linear(layer_norm(x, name + "/ffn/layer_norm"), name + "/ffn/linear_0"))
        x = x + linear(hidden, name + "/ffn/linear_1")
    return layer_norm(x, "encoder/layer_norm")


def whisper_feature_loss(waveforms, *, sample_rate: int, weights: dict[str, np.ndarray]):
    """Keras loss term: how far Whisper's encoder moves between the clean and the denoised
    speech.

    The mean squared difference of :func:`encode`'s output states for the estimate and the
    clean reference, both rebuilt as waveforms by ``waveforms`` (the estimate with
    gradients, the reference without), over states and width, per example.

    Parameters
    ----------
    waveforms : callable
        ``waveforms(y_true, y_pred) -> (estimate, reference)``, each ``(batch, n_samples)``
        float32 (:func:`skdenoise.model.rebuilt_waveforms`).
    sample_rate : int
        Of those waveforms.
    weights : dict
        :func:`whisper_encoder_weights`.

    Returns
    -------
    callable
        ``loss(y_true, y_pred) -> (batch,)``.

    Examples
    --------
    >>> from skdenoise.model import rebuilt_waveforms
    >>> from skdenoise.whisper_features import whisper_encoder_weights, whisper_feature_loss
    >>> waveforms = rebuilt_waveforms(40.0, n_fft=255, hop_length=63)
    >>> loss = whisper_feature_loss(waveforms, sample_rate=8000,
    ...                             weights=whisper_encoder_weights())  # doctest: +SKIP
    """
    import tensorflow as tf

    _frame(sample_rate)  # a rate Whisper's framing cannot take fails here, not in training

    def features(waveform):
        return encode(log_mel(waveform, sample_rate), weights)

    def loss(y_true, y_pred):
        estimate, reference = waveforms(y_true, y_pred)
        target = tf.stop_gradient(features(reference))
        return tf.reduce_mean(tf.square(features(estimate) - target), axis=[1, 2])

    loss.__name__ = "whisper_feature_loss"
    return loss
