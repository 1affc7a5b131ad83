"""One rule for rates: every recording carries its rate, a bare array without one is an
error, and the output comes back at the input's rate and length whichever way the model
is run."""

import numpy as np
import pytest
import soundfile as sf

from skdenoise import load_model, load_pretrained
from skdenoise.audio import AudioError
from skdenoise.cli import main
from skdenoise.streaming import denoise_file
from tests.conftest import harmonic, noisy_pairs


@pytest.fixture
def model_file(fitted_tiny, tmp_path):
    from skdenoise import save_model

    return str(save_model(fitted_tiny, tmp_path / "tiny.npz"))


def write(path, x, rate=8000, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, rate, **kwargs)
    return path


def test_a_bare_array_without_a_rate_is_an_error_naming_it(model_file):
    pipe = load_model(model_file)  # a model file does not say what rate your arrays are at
    x = noisy_pairs(seed=1, lengths=(9000,))[0][0]
    with pytest.raises(AudioError, match=r"X\[1\]: an array without its sample rate"):
        pipe.predict([(x, 8000), x])
    with pytest.raises(AudioError, match=r"X\[0\]: an array without its sample rate"):
        load_model(model_file).fit([x], [x])
    with pytest.raises(AudioError, match=r"y\[0\]: an array without its sample rate"):
        pipe.score([(x, 8000)], [x])
    # Given, three ways, the rate gives the same samples.
    a = pipe.predict([x], sample_rate=8000)[0]
    b = pipe.predict([(x, 8000)])[0]
    c = pipe.set_params(load__array_rate=8000).predict([x])[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_predict_returns_each_input_at_its_rate_and_length_like_denoise(model_file, tmp_path):
    rng = np.random.default_rng(4)
    x16 = harmonic(24001, rng, rate=16000) + 0.05 * rng.standard_normal(24001).astype("float32")
    x8 = noisy_pairs(seed=2, lengths=(9001,))[0][0]
    src = write(tmp_path / "in16.wav", x16, 16000, subtype="FLOAT")
    pipe = load_model(model_file)  # an 8 kHz model
    out = pipe.predict([src, (x8, 8000), (x16, 16000)])
    assert out.sample_rate is None and out.rates == [16000, 8000, 16000]
    assert [len(o) for o in out] == [len(x16), len(x8), len(x16)]
    np.testing.assert_array_equal(out[0], out[2])  # a file and its array: one path
    written = denoise_file(pipe, src, tmp_path / "out16.wav")
    from_file, rate = sf.read(written, dtype="float32")
    assert rate == 16000 and len(from_file) == len(x16)
    np.testing.assert_allclose(from_file, out[0], atol=1e-5)


def test_score_compares_each_output_at_its_inputs_rate(model_file):
    rng = np.random.default_rng(6)
    clean = harmonic(32000, rng, rate=16000)
    noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype("float32")
    pipe = load_model(model_file)
    score = pipe.score([noisy], [clean], sample_rate=16000)
    from skdenoise.metrics import si_sdr

    assert score == pytest.approx(si_sdr(clean, pipe.predict([noisy], sample_rate=16000)[0]))


def test_evaluate_scores_at_the_files_rate_with_the_model_for_it(tmp_path, capsys):
    rng = np.random.default_rng(7)
    for i in range(2):
        clean = harmonic(20000, rng, rate=16000)
        noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32)
        write(tmp_path / "noisy" / f"{i}.wav", noisy, 16000, subtype="FLOAT")
        write(tmp_path / "clean" / f"{i}.wav", clean, 16000, subtype="FLOAT")
    args = ["evaluate", "--noisy-dir", str(tmp_path / "noisy"), "--clean-dir"]
    args += [str(tmp_path / "clean"), "--out", str(tmp_path / "ev"), "--no-asr"]
    assert main([*args, "--no-progress"]) == 0
    summary = (tmp_path / "ev" / "summary.md").read_text()
    assert "model: shipped skdenoise-16k.npz (16000 Hz); scored at 16000 Hz" in summary
    # The same numbers as predict on the files, at their rate.
    pipe = load_pretrained(16000)
    import csv

    rows = list(csv.DictReader(open(tmp_path / "ev" / "per_file.csv")))
    out = pipe.predict([str(tmp_path / "noisy" / "0.wav")])[0]
    clean0, _ = sf.read(tmp_path / "clean" / "0.wav", dtype="float32")
    from skdenoise.metrics import si_sdr

    row = next(r for r in rows if r["name"].startswith("0"))
    assert float(row["si_sdr_output"]) == pytest.approx(si_sdr(clean0, out), abs=1e-3)
