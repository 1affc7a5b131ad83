"""Write the project's train/dev source manifests from the shared corpora.

    python benchmarks/make_splits.py --data ../shared/data --out runs/splits

Dev speech (never trained on): every AN4 speaker, FSDD speakers ``theo`` and ``yweweler``
(100 utterances each, seeded), and the 10 LibriSpeech test-other speakers. Train speech:
LibriSpeech train-clean-100, librosa's LibriSpeech clips, test-clean 1089, and the other four
FSDD speakers. Noise: rows whose licence is NON-COMMERCIAL or not stated are dropped; in each
category with at least two files, 20% of the files (seeded, at least one) go to dev, the
rest to train. No speaker and no noise file is on both sides.

Writes ``train_speech.tsv``, ``dev_speech.tsv``, ``train_noise.tsv``, ``dev_noise.tsv``
(paths relative to the output folder) and prints their sizes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from skdenoise.datasets import load_manifest, train_dev_split, write_manifest
from skdenoise.training import DEFAULT_EXCLUDED_LICENSES

FSDD_DEV_SPEAKERS = ("theo", "yweweler")
FSDD_DEV_PER_SPEAKER = 100
COLUMNS = ("path", "speaker", "category", "duration_s", "transcript", "license", "corpus")


def _rows(data: Path, corpus: str, rate: str) -> list[dict]:
    rows = load_manifest(
        data / corpus / f"manifest_{rate}.tsv", exclude_licenses=DEFAULT_EXCLUDED_LICENSES
    )
    for row in rows:
        row["corpus"] = corpus
    return rows


def _relative(rows: list[dict], out: Path) -> list[dict]:
    return [{**r, "path": os.path.relpath(r["path"], out.resolve())} for r in rows]


def make_splits(data: Path, out: Path, *, rate: str = "8k", seed: int = 0) -> dict:
    """Build the four manifests; returns ``{name: rows}``."""
    libri = _rows(data, "speech/librispeech_subsets", rate)
    fsdd = _rows(data, "speech/fsdd", rate) if rate == "8k" else []
    an4 = _rows(data, "speech/an4_subset", rate)
    noise = _rows(data, "noise", rate)

    test_other = [r for r in libri if "/test-other/" in r["path"]]
    libri_train = [r for r in libri if "/test-other/" not in r["path"]]
    rng = np.random.default_rng(seed)
    fsdd_dev, fsdd_train = [], []
    for speaker in sorted({r["speaker"] for r in fsdd}):
        mine = [r for r in fsdd if r["speaker"] == speaker]
        if speaker in FSDD_DEV_SPEAKERS:
            pick = rng.choice(len(mine), size=min(FSDD_DEV_PER_SPEAKER, len(mine)), replace=False)
            fsdd_dev.extend(mine[i] for i in sorted(pick))
        else:
            fsdd_train.extend(mine)
    noise_train, noise_dev = train_dev_split(
        noise, by=("path",), stratify="category", dev_fraction=0.2, random_state=seed
    )
    splits = {
        "train_speech": libri_train + fsdd_train,
        "dev_speech": an4 + fsdd_dev + test_other,
        "train_noise": noise_train,
        "dev_noise": noise_dev,
    }
    train_speakers = {r["speaker"] for r in splits["train_speech"]}
    dev_speakers = {r["speaker"] for r in splits["dev_speech"]}
    assert not train_speakers & dev_speakers, train_speakers & dev_speakers
    assert not {r["path"] for r in noise_train} & {r["path"] for r in noise_dev}
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        write_manifest(_relative(rows, out), out / f"{name}.tsv", COLUMNS)
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("runs/splits"))
    parser.add_argument("--rate", choices=("8k", "16k"), default="8k")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    splits = make_splits(args.data, args.out, rate=args.rate, seed=args.seed)
    print(f"{'manifest':<14} {'files':>6} {'minutes':>8} {'speakers/categories':>20}")
    for name, rows in splits.items():
        minutes = sum(float(r["duration_s"]) for r in rows) / 60
        groups = len({r["speaker"] if "speech" in name else r["category"] for r in rows})
        print(f"{name:<14} {len(rows):>6} {minutes:>8.1f} {groups:>20}")


if __name__ == "__main__":
    main()
