"""skdenoise: scikit-learn compatible speech enhancement.

A U-Net on log-magnitude spectrograms predicts the noise, which is subtracted; the waveform
is rebuilt with the noisy phase. Quality is measured with PESQ, STOI, SI-SDR and the word,
match and information error rates of an offline speech recogniser.

>>> from skdenoise import make_denoising_pipeline, load_pretrained  # doctest: +SKIP
>>> pipe = make_denoising_pipeline().fit(noisy, clean, sample_rate=8000)  # doctest: +SKIP
>>> enhanced = load_pretrained().predict(["noisy.wav"])  # doctest: +SKIP

TensorFlow is imported only when a model is built or run. Its C++ info and warning lines are
hidden unless ``TF_CPP_MIN_LOG_LEVEL`` is set before importing skdenoise.
"""

from __future__ import annotations

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

_EXPORTS = {
    "AudioError": "audio",
    "write_wav": "audio",
    "read_audio": "audio",
    "WaveformBatch": "batch",
    "SpectrogramBatch": "batch",
    "WaveformList": "batch",
    "SpectralSettings": "spectral",
    "WaveformLoader": "transformers",
    "PhaseKeeper": "transformers",
    "LogSpectrogram": "transformers",
    "WaveformRebuilder": "transformers",
    "UNetNoiseRegressor": "regressor",
    "build_unet": "model",
    "DenoisingPipeline": "pipeline",
    "make_denoising_pipeline": "pipeline",
    "save_model": "pipeline",
    "load_model": "pipeline",
    "load_pretrained": "pipeline",
    "denoise_file": "streaming",
    "PocketSphinxTranscriber": "asr",
    "WhisperTranscriber": "asr",
    "Augmentation": "augment",
    "dnsmos_scorer": "scoring",
    "make_dnsmos_scorer": "scoring",
    "wer_scorer": "scoring",
    "mer_scorer": "scoring",
    "wil_scorer": "scoring",
    "si_sdr_scorer": "scoring",
    "pesq_scorer": "scoring",
    "stoi_scorer": "scoring",
    "make_asr_scorer": "scoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'skdenoise' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
