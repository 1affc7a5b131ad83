"""Choose the dry mix and SNR bypass of the shipped model by GridSearchCV on WER.

    python examples/grid_search_wer.py --data ../shared/data --jobs 2

A little of the unprocessed input (``rebuild__dry``) often helps a speech recogniser more
than full suppression, and a recording that is already fairly clean is often recognised
better unprocessed: ``rebuild__bypass_snr_db`` passes a recording through when the model's
own estimate of its SNR reaches that many dB (fading the input in over the 5 dB below).
This example picks both the scikit-learn way, on a *training* split (speakers and noise
files of the shipped model's training side, never the dev set):

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
from skdenoise.scoring import one_standard_error_refit, si_sdr_scorer, wer_scorer

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=120, help="mixtures to search on")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args()

    sklearn.set_config(enable_metadata_routing=True)
    mixtures = training_mixtures(args.data, args.n)
    speakers = [row["speaker"] for row in mixtures.manifest]

    pipe = load_pretrained()
    pipe.set_params(unet=FrozenEstimator(pipe.named_steps["unet"]))  # no retraining
    search = GridSearchCV(
        pipe,
        [
            {"rebuild__dry": [0.0, 0.2, 1.0]},
            {"rebuild__dry": [0.0], "rebuild__bypass_snr_db": [0.0, 5.0, 10.0, 15.0]},
        ],
        scoring={"wer": wer_scorer.set_score_request(transcripts=True), "si_sdr": si_sdr_scorer},
        refit=one_standard_error_refit(N_SPLITS),
        cv=GroupKFold(n_splits=N_SPLITS),  # folds never share a speaker
        n_jobs=args.jobs,
    )
    search.fit(mixtures.noisy, mixtures.clean, transcripts=mixtures.transcripts, groups=speakers)
    results = search.cv_results_
    print(f"{len(mixtures.noisy)} mixtures, {N_SPLITS} folds by speaker")
    print(f"{'dry':>5} {'bypass':>8} {'WER':>8} {'+/- 1 SE':>9} {'SI-SDR (dB)':>12}")
    for params, wer, std, sdr in zip(
        results["params"],
        results["mean_test_wer"],
        results["std_test_wer"],
        results["mean_test_si_sdr"],
    ):
        dry = params["rebuild__dry"]
        bypass = params.get("rebuild__bypass_snr_db")
        bypass = "off" if bypass is None else f"{bypass:g} dB"
        note = "  (unprocessed input)" if dry == 1.0 else ""
        se = 100 * std / np.sqrt(N_SPLITS)
        print(f"{dry:5.2f} {bypass:>8} {-100 * wer:7.1f}% {se:8.1f}% {sdr:12.2f}{note}")
    print(f"chosen: {search.best_params_}")


if __name__ == "__main__":
    main()
