"""Write the validation speakers and noise files of a ``skdenoise train`` run as manifests.

    python benchmarks/validation_split.py --speech runs/splits/train_speech.tsv \\
        --noise runs/splits/train_noise.tsv --out runs/valsplit
    skdenoise mix --speech runs/valsplit_speech.tsv --noise runs/valsplit_noise.tsv \\
        --snrs 0 5 10 15 --n-mixtures 240 --min-seconds 1 --seed 1 --out runs/valset

``skdenoise train`` holds out a share of the training speakers (and of the noise files of
each category) for its validation loss. This script reproduces that split, with the same
sources, licence filter (the default one), seed and fraction
(:func:`skdenoise.training.validation_sources`), so that two models can be compared on mixtures
of held-out training-side data (a *selection set*), never on the dev set.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from skdenoise.training import validation_sources

COLUMNS = ["path", "speaker", "category", "duration_s", "transcript", "license", "corpus"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, help="training speech (as given to train)")
    parser.add_argument("--noise", required=True, help="training noise (as given to train)")
    parser.add_argument("--seed", type=int, default=0, help="the train run's --seed")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=Path("runs/valsplit"), help="file prefix")
    args = parser.parse_args()
    speech, noise = validation_sources(
        args.speech,
        args.noise,
        validation_fraction=args.validation_fraction,
        random_state=args.seed,
    )
    for kind, rows in (("speech", speech), ("noise", noise)):
        path = Path(f"{args.out}_{kind}.tsv")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS, delimiter="\t", extrasaction="ignore")
            writer.writeheader()
            writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
        print(f"wrote {path}: {len(rows)} {kind} rows")


if __name__ == "__main__":
    main()
