"""Choose the dry mix of the shipped model by GridSearchCV on WER, with routed transcripts.

    python examples/grid_search_wer.py --data ../shared/data

A little of the unprocessed input (``rebuild__dry``) often helps a speech recogniser more
than full suppression. This example picks it the scikit-learn way, on a *training* split
(speakers and noise files of the shipped model's training side, never the dev set):

- the U-Net is wrapped in ``sklearn.frozen.FrozenEstimator``, so the search only varies
  the rebuild step and never retrains the network;
- reference transcripts reach the WER scorer through metadata routing;
- SI-SDR is recorded beside WER. WER on a few hundred words is a noisy estimate, so the
  refit rule is the one-standard-error rule of model selection: among the dry mixes whose
  cross-validated WER is within one standard error of the lowest, take the one with the
  best SI-SDR (the most noise removed). ``dry=1.0`` is the unprocessed input, as a baseline.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
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


N_SPLITS = 3


def within_one_se_best_si_sdr(cv_results: dict) -> int:
    """Refit rule: the best SI-SDR among the settings whose WER is within one standard
    error (across folds) of the lowest WER. Scores are negated WER (higher is better)."""
    wer = -np.asarray(cv_results["mean_test_wer"])
    se = np.asarray(cv_results["std_test_wer"]) / np.sqrt(N_SPLITS)
    best = int(np.argmin(wer))
    close = np.flatnonzero(wer <= wer[best] + se[best])
    return int(close[np.argmax(np.asarray(cv_results["mean_test_si_sdr"])[close])])


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
        {"rebuild__dry": [0.0, 0.1, 0.2, 0.3, 0.5, 1.0]},
        scoring={"wer": wer_scorer.set_score_request(transcripts=True), "si_sdr": si_sdr_scorer},
        refit=within_one_se_best_si_sdr,
        cv=GroupKFold(n_splits=N_SPLITS),  # folds never share a speaker
    )
    search.fit(mixtures.noisy, mixtures.clean, transcripts=mixtures.transcripts, groups=speakers)
    results = search.cv_results_
    print(f"{len(mixtures.noisy)} mixtures, {N_SPLITS} folds by speaker")
    print(f"{'dry':>5} {'WER':>8} {'+/- 1 SE':>9} {'SI-SDR (dB)':>12}")
    for dry, wer, std, sdr in zip(
        results["param_rebuild__dry"],
        results["mean_test_wer"],
        results["std_test_wer"],
        results["mean_test_si_sdr"],
    ):
        note = "  (unprocessed input)" if dry == 1.0 else ""
        se = 100 * std / np.sqrt(N_SPLITS)
        print(f"{dry:5.2f} {-100 * wer:7.1f}% {se:8.1f}% {sdr:12.2f}{note}")
    print(f"chosen: {search.best_params_}")


if __name__ == "__main__":
    main()
