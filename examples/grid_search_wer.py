"""Choose the dry mix of the shipped model by GridSearchCV on WER, with routed transcripts.

    python examples/grid_search_wer.py --data ../shared/data

A little of the unprocessed input (``rebuild__dry``) often helps a speech recogniser more
than full suppression. This example picks it the scikit-learn way, on a *training* split
(speakers and noise files of the shipped model's training side, never the dev set):

- the U-Net is wrapped in ``sklearn.frozen.FrozenEstimator``, so the search only varies
  the rebuild step and never retrains the network;
- reference transcripts reach the WER scorer through metadata routing;
- SI-SDR is recorded beside WER, and the refit criterion is WER.
"""

import argparse
import sys
from pathlib import Path

import sklearn
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold

from skdenoise import load_pretrained
from skdenoise.datasets import make_noisy_speech
from skdenoise.scoring import si_sdr_scorer, wer_scorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def training_mixtures(data: Path, n: int, seed: int = 0):
    """Transcribed mixtures from the training side of the project's split (FSDD digits
    of the four training speakers) and training noise files, at 0-15 dB."""
    from make_splits import make_splits

    splits = make_splits(data, Path("runs/splits"))
    speech = [r for r in splits["train_speech"] if r["transcript"]]
    mixtures = make_noisy_speech(
        speech,
        splits["train_noise"],
        [0, 5, 10, 15],
        n_mixtures=n,
        random_state=seed,
        min_seconds=1.0,
    )
    return mixtures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=120, help="mixtures to search on")
    args = parser.parse_args()

    sklearn.set_config(enable_metadata_routing=True)
    mixtures = training_mixtures(args.data, args.n)
    speakers = [row["speaker"] for row in mixtures.manifest]

    pipe = load_pretrained()
    pipe.set_params(unet=FrozenEstimator(pipe.named_steps["unet"]))  # no retraining
    search = GridSearchCV(
        pipe,
        {"rebuild__dry": [0.0, 0.1, 0.2, 0.3, 0.5]},
        scoring={"wer": wer_scorer.set_score_request(transcripts=True), "si_sdr": si_sdr_scorer},
        refit="wer",
        cv=GroupKFold(n_splits=3),  # folds never share a speaker
    )
    search.fit(mixtures.noisy, mixtures.clean, transcripts=mixtures.transcripts, groups=speakers)
    print(f"{'dry':>5} {'WER':>8} {'SI-SDR (dB)':>12}")
    results = search.cv_results_
    for dry, wer, sdr in zip(
        results["param_rebuild__dry"], results["mean_test_wer"], results["mean_test_si_sdr"]
    ):
        print(f"{dry:5.2f} {-100 * wer:7.1f}% {sdr:12.2f}")
    print(f"best: {search.best_params_} (WER {-100 * search.best_score_:.1f}%)")


if __name__ == "__main__":
    main()
