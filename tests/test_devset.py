"""The realistic dev set: held out from training, channel and SNR as stated."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import harmonic

from skdenoise.datasets import measure_snr
from skdenoise.devset import (
    HELD_OUT_NOISE,
    dev_speakers,
    make_realistic_devset,
    noise_kind,
    realistic_split,
)

NOISE_CATEGORIES = (
    "appliance_vacuum",  # held out
    "kitchen_dishes",  # held out
    "transport_inside_a_train",  # held out (train)
    "things_keyboard",  # held out (typing)
    "street",  # training
    "cafe",  # training
    "rain_light_rain",  # training: "rain" is not "train"
)


def _corpus(root):
    """A tiny corpus at 8 and 16 kHz laid out like ../shared/data and the extra corpus."""
    rng = np.random.default_rng(0)
    speech, noise = [], []
    layout = [
        ("speech/librispeech_subsets/{r}/test-other/{s}/{s}-{i}.flac", "lo{0}", 2),
        ("speech/librispeech_subsets/{r}/train-clean-100/{s}/{s}-{i}.flac", "lt{0}", 3),
        ("speech/speechocean762/{r}/test/{s}/{s}{i}.flac", "ot{0}", 6),
        ("speech/speechocean762/{r}/train/{s}/{s}{i}.flac", "or{0}", 3),
    ]
    for pattern, speaker_fmt, n_speakers in layout:
        for k in range(n_speakers):
            speaker = speaker_fmt.format(k)
            for i in range(3):
                clean16 = harmonic(16000 * 3, rng, rate=16000)
                for rate in (8000, 16000):
                    path = root / pattern.format(r=f"{rate // 1000}k", s=speaker, i=i)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(path, clean16[:: 16000 // rate], rate)
                speech.append(
                    {
                        "path": str(root / pattern.format(r="16k", s=speaker, i=i)),
                        "speaker": speaker,
                        "category": speaker,
                        "duration_s": "3.000",
                        "transcript": "a sentence" if "speechocean" in pattern else "",
                        "license": "CC-BY-4.0",
                    }
                )
    for category in NOISE_CATEGORIES:
        signal = (0.1 * rng.standard_normal(16000 * 5)).astype(np.float32)
        for rate in (8000, 16000):
            path = root / f"noise/{rate // 1000}k/{category}/{category}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, signal[:: 16000 // rate], rate)
        noise.append(
            {
                "path": str(root / f"noise/16k/{category}/{category}.flac"),
                "speaker": category,
                "category": category,
                "duration_s": "5.000",
                "license": "CC0",
            }
        )
    return speech, noise


def test_noise_kinds():
    assert noise_kind("appliance_vacuum") == "vacuum"
    assert noise_kind("transport_train") == "train"
    assert noise_kind("places_subway_station") == "train"
    assert noise_kind("rain_light_rain") is None
    assert noise_kind("street") is None
    assert set(HELD_OUT_NOISE) >= {"vacuum", "dishes", "train", "typing"}


def test_training_split_never_sees_the_dev_set(tmp_path):
    speech, noise = _corpus(tmp_path)
    held = dev_speakers(speech, n_speechocean=3)
    assert {"lo0", "lo1"} <= held  # every test-other speaker
    assert len({s for s in held if s.startswith("ot")}) == 3
    assert not {s for s in held if s.startswith(("lt", "or"))}
    sides = realistic_split(speech, noise, held_out_speakers=held, extra_dev_speakers=["lt0"])
    train_speakers = {r["speaker"] for r in sides["train_speech"]}
    dev_side_speakers = {r["speaker"] for r in sides["dev_speech"]}
    assert not train_speakers & held and "lt0" not in train_speakers
    assert dev_side_speakers == held
    train_categories = {r["category"] for r in sides["train_noise"]}
    assert train_categories == {"street", "cafe", "rain_light_rain"}
    assert all(noise_kind(c) is None for c in train_categories)
    assert {noise_kind(r["category"]) for r in sides["dev_noise"]} == {
        "vacuum",
        "dishes",
        "train",
        "typing",
    }
    # The dev set made from the dev side uses only dev speakers and held-out noise.
    manifests = make_realistic_devset(
        sides["dev_speech"], sides["dev_noise"], tmp_path / "dev", n_per_snr=2, rates=(8000,)
    )
    rows = list(csv.DictReader(open(manifests[8000])))
    assert {r["speaker"] for r in rows} <= held
    train_files = {Path(r["path"]).name for r in sides["train_noise"]}
    for row in rows:
        if row["noise_category"] == "babble":
            continue
        assert row["noise_category"] in HELD_OUT_NOISE
        assert row["noise_files"] not in train_files


def test_devset_rates_snr_channel_and_room(tmp_path):
    speech, noise = _corpus(tmp_path)
    held = dev_speakers(speech, n_speechocean=6)
    sides = realistic_split(speech, noise, held_out_speakers=held)
    snrs = (-5.0, 0.0, 5.0, 10.0, 15.0)
    manifests = make_realistic_devset(
        sides["dev_speech"], sides["dev_noise"], tmp_path / "dev", n_per_snr=4, snrs=snrs, seed=1
    )
    assert set(manifests) == {8000, 16000}
    per_rate = {}
    for rate, manifest in manifests.items():
        rows = list(csv.DictReader(open(manifest)))
        per_rate[rate] = rows
        assert len(rows) == 4 * len(snrs)
        folder = manifest.parent
        for row in rows:
            clean, r1 = sf.read(folder / row["clean_path"], dtype="float32")
            noise_part, r2 = sf.read(folder / row["noise_path"], dtype="float32")
            noisy, r3 = sf.read(folder / row["noisy_path"], dtype="float32")
            assert r1 == r2 == r3 == rate and len(clean) == len(noisy) == len(noise_part)
            assert np.max(np.abs(clean)) < 1.0 and np.max(np.abs(noise_part)) < 1.0
            # Written as 16-bit PCM: the SNR survives within 0.2 dB.
            assert measure_snr(clean, noise_part, rate) == pytest.approx(
                float(row["snr_db"]), abs=0.2
            )
            assert float(row["duration_s"]) >= 2.0
        kinds = {r["noise_category"] for r in rows}
        assert "babble" in kinds
        # A telephone channel on half, a room on a quarter.
        assert sum(bool(r["channel"]) for r in rows) == len(rows) // 2
        assert sum(bool(r["room"]) for r in rows) == len(rows) // 4
    # The same draws at both rates.
    for a, b in zip(per_rate[8000], per_rate[16000]):
        for key in ("clean_source", "noise_category", "snr_db", "channel", "speaker"):
            assert a[key] == b[key]


def test_devset_is_reproducible(tmp_path):
    speech, noise = _corpus(tmp_path)
    sides = realistic_split(speech, noise, held_out_speakers=dev_speakers(speech))
    kwargs = {"n_per_snr": 1, "rates": (8000,), "seed": 4}
    a = make_realistic_devset(sides["dev_speech"], sides["dev_noise"], tmp_path / "a", **kwargs)
    b = make_realistic_devset(sides["dev_speech"], sides["dev_noise"], tmp_path / "b", **kwargs)
    rows_a = list(csv.DictReader(open(a[8000])))
    rows_b = list(csv.DictReader(open(b[8000])))
    assert rows_a == rows_b
    x, _ = sf.read(a[8000].parent / rows_a[0]["noisy_path"])
    y, _ = sf.read(b[8000].parent / rows_b[0]["noisy_path"])
    np.testing.assert_array_equal(x, y)
