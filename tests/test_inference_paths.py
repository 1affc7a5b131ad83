"""`skdenoise denoise`, `pipe.predict`, `denoise_file` and `evaluate` give the same samples
for the same file and settings (the two engines are one path for recordings up to
``chunk_seconds``; longer ones are chunked by `denoise`, with the same result to float
rounding)."""

import numpy as np
import soundfile as sf

from skdenoise import read_audio, save_model
from skdenoise.cli import main
from skdenoise.evaluation import evaluate
from skdenoise.metrics import si_sdr
from skdenoise.streaming import Denoiser, denoise_file
from tests.conftest import RATE, harmonic


def test_cli_predict_denoise_file_and_evaluate_agree(tmp_path, fitted_tiny):
    rng = np.random.default_rng(4)
    clean = harmonic(3 * RATE + 123, rng)
    noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32)
    src = tmp_path / "noisy.wav"
    sf.write(src, noisy, RATE, subtype="FLOAT")  # float in, float out: no quantisation
    model = str(save_model(fitted_tiny, tmp_path / "tiny.npz"))

    assert main(["denoise", str(src), "-o", str(tmp_path / "cli.wav"), "--model", model,
                 "--no-progress"]) == 0  # fmt: skip
    from_cli, rate = read_audio(tmp_path / "cli.wav")
    from skdenoise import load_model

    pipe = load_model(model)
    from_predict = pipe.predict([str(src)], sample_rate=8000)[0]
    from_file = read_audio(denoise_file(pipe, src, tmp_path / "file.wav"))[0]
    chunked = Denoiser(pipe, chunk_seconds=1.0).denoise_array(noisy)

    assert rate == RATE and len(from_cli) == len(noisy)
    np.testing.assert_allclose(from_cli, from_predict, atol=1e-5)
    np.testing.assert_allclose(from_file, from_predict, atol=1e-5)
    np.testing.assert_allclose(chunked, from_predict, atol=1e-5)

    item = {"name": "x", "noisy": str(src), "clean": clean, "transcript": "",
            "snr_db": 10.0, "noise_type": "white"}  # fmt: skip
    row = evaluate([item], pipe, sample_rate=RATE, asr=False).rows[0]
    # evaluate scores what the command line writes
    assert np.isclose(row["si_sdr_output"], si_sdr(clean, from_cli), atol=1e-3)
