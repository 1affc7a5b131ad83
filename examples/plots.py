"""Plots: metric-by-SNR curves and spectrograms of the shipped model on held-out data.

    python examples/plots.py --data ../shared/data

Mixes 80 held-out utterances (the dev speakers and noise files of the project's split) at
0, 5, 10 and 15 dB, denoises them with the shipped model, and writes to ``plots/``:
``{pesq,stoi,si_sdr}_by_snr.png`` (noisy input against enhanced output, as ``skdenoise
evaluate`` draws them) and ``spectrograms.png`` for the first 0 dB mixture.
"""

import argparse
import sys
from pathlib import Path

from skdenoise import load_pretrained
from skdenoise.datasets import make_noisy_speech
from skdenoise.evaluation import evaluate, format_summary, plot_summary, summarize
from skdenoise.plotting import plot_spectrograms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--out", type=Path, default=Path("plots"))
    args = parser.parse_args()

    from make_splits import make_splits

    splits = make_splits(args.data, Path("runs/splits"))
    mixtures = make_noisy_speech(
        splits["dev_speech"],
        splits["dev_noise"],
        [0, 5, 10, 15],
        n_mixtures=args.n,
        random_state=1,
        min_seconds=1.0,
    )
    items = [
        {
            "name": f"{i}",
            "noisy": (n, 8000),
            "clean": (c, 8000),
            "transcript": "",
            "snr_db": float(row["snr_db"]),
            "noise_type": row["noise_category"],
        }
        for i, (n, c, row) in enumerate(zip(mixtures.noisy, mixtures.clean, mixtures.manifest))
    ]
    pipe = load_pretrained()
    result = evaluate(items, pipe.predict, asr=False, progress=True)
    summary = summarize(result)
    args.out.mkdir(exist_ok=True)
    for path in plot_summary(summary, args.out, output_name="skdenoise"):
        print(f"wrote {path}")
    print(format_summary(summary, output_name="skdenoise").split("### By noise")[0])

    first = next(i for i, row in enumerate(mixtures.manifest) if row["snr_db"] == "0")
    enhanced = pipe.predict([mixtures.noisy[first]])[0]
    plot_spectrograms(
        {
            "noisy (0 dB)": mixtures.noisy[first],
            "enhanced": enhanced,
            "clean": mixtures.clean[first],
        },
        8000,
        path=args.out / "spectrograms.png",
    )
    print(f"wrote {args.out / 'spectrograms.png'}")


if __name__ == "__main__":
    main()
