"""No silent change of results: the shipped 8 kHz model, on a fixed synthetic recording,
gives the stored samples (to 1e-6) through `pipe.predict` and through the chunked engine of
`skdenoise denoise`. The reference (97 samples spread over the output and its energy, not
audio) was taken before the inference code was reorganised; if the shipped model itself is
replaced, regenerate it with `python -m tests.test_reference_output "note"` (from the
repository root), and say so in the commit."""

import json
from pathlib import Path

import numpy as np
import pytest

from skdenoise import load_pretrained
from skdenoise.datasets import mix_at_snr
from skdenoise.streaming import Denoiser
from skdenoise.synthetic import noise, syllables

REFERENCE_FILE = Path(__file__).parent / "data" / "reference_8k.json"
REFERENCE = json.loads(REFERENCE_FILE.read_text())


def _input() -> np.ndarray:
    speech = syllables("ba di gu ke po ta ko mi do re", 8000, seed=3)
    background = noise("hum", 5.0, 8000, seed=4) + noise("hiss", 5.0, 8000, seed=5)
    noisy, _, _ = mix_at_snr(speech, background, 5.0, rng=6)
    return noisy


@pytest.mark.parametrize("path", ["predict", "denoise (chunked)"])
def test_shipped_model_gives_the_stored_samples(path):
    noisy = _input()
    assert len(noisy) == REFERENCE["n_samples"]
    if path == "predict":
        out = load_pretrained(8000).predict([noisy], sample_rate=8000)[0]
    else:
        out = Denoiser(load_pretrained(8000), chunk_seconds=1.5).denoise_array(noisy)
    assert len(out) == len(noisy)
    np.testing.assert_allclose(out[REFERENCE["indices"]], REFERENCE["values"], atol=1e-6)
    energy = float(np.sum(out.astype(np.float64) ** 2))
    assert energy == pytest.approx(REFERENCE["energy"], rel=1e-5)


def regenerate(note: str) -> None:
    """Store the shipped model's output on ``_input()``: 97 evenly spread samples and the
    energy. Only when the shipped model itself changes."""
    noisy = _input()
    out = load_pretrained(8000).predict([noisy], sample_rate=8000)[0]
    indices = np.linspace(0, len(noisy) - 1, 97).astype(int)
    record = {
        "note": note,
        "n_samples": len(noisy),
        "indices": indices.tolist(),
        "values": out[indices].astype(float).tolist(),
        "energy": float(np.sum(out.astype(np.float64) ** 2)),
    }
    REFERENCE_FILE.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    regenerate(sys.argv[1])
