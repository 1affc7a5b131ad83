"""Choose a model's ``asr`` preset (dry mix and SNR bypass) by GridSearchCV on Whisper WER.

    python benchmarks/asr_preset.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --model runs/R1/model.npz --write

The search runs on the *training side*, never on a dev set: the speakers and noise files
that the model's training run held out for validation (``skdenoise.training.
validation_sources`` with the same sources, licence filter, fraction and seed), with
transcribed sentences of 2-12 s mixed at -5 to 15 dB through the training augmentation's
telephone channel and rooms (so the choice is made on audio like the realistic dev set's,
but from other speakers and noises).

- The U-Net is wrapped in ``sklearn.frozen.FrozenEstimator``: the search only varies the
  rebuild step, never retrains.
- Reference transcripts reach the Whisper WER scorer through metadata routing; folds never
  share a speaker (``GroupKFold``).
- Refit rule: among the settings whose cross-validated WER is within one standard error of
  the lowest, the one with the best SI-SDR (the most noise removed). ``dry=1`` (the
  unprocessed input) is in the grid as the baseline.

``--write`` stores the choice in the model file as its ``asr`` preset
(``skdenoise denoise --preset asr``, ``load_model(path, preset="asr")``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

N_SPLITS = 3
GRID = [
    {"rebuild__dry": [1.0]},
    {"rebuild__dry": [0.0, 0.2, 0.4], "rebuild__bypass_snr_db": [None, 5.0, 10.0, 15.0]},
]


def selection_set(speech, noise, *, rate: int, n: int, seed: int):
    """``n`` transcribed mixtures from the training run's validation side."""
    from skdenoise.augment import Augmentation
    from skdenoise.datasets import MixtureStream
    from skdenoise.training import validation_sources

    val_speech, val_noise = validation_sources(speech, noise, random_state=0)
    usable = [
        r
        for r in val_speech
        if r.get("transcript") and 2.0 <= float(r.get("duration_s") or 0) <= 12.0
    ]
    if len(usable) < n:
        raise SystemExit(f"only {len(usable)} transcribed validation sentences; lower --n")
    augmentation = Augmentation(codec_p=0.0, clip_p=0.0, rt60_s=(0.2, 0.5))
    stream = MixtureStream(
        speech=usable,
        noise=val_noise,
        sample_rate=rate,
        snrs=(-5.0, 0.0, 5.0, 10.0, 15.0),
        segment_seconds=30.0,  # whole sentences: the transcript must match the audio
        min_seconds=0.0,
        augmentation=augmentation,
        random_state=seed,
        fixed=True,
    )
    noisy, clean, texts, speakers = [], [], [], []
    for x, y, _, row in stream.mixtures(0):
        noisy.append(x)
        clean.append(y)
        texts.append(row["transcript"])
        speakers.append(row["speaker"])
        if len(noisy) == n:
            break
    return noisy, clean, texts, speakers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--model", required=True, help="model file (.npz)")
    parser.add_argument("--n", type=int, default=120, help="mixtures to search on")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="store the preset in --model")
    args = parser.parse_args()

    import sklearn
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from skdenoise.asr import WhisperTranscriber
    from skdenoise.pipeline import load_model, model_presets, save_model
    from skdenoise.scoring import make_asr_scorer, one_standard_error_refit, si_sdr_scorer

    started = time.time()
    pipe = load_model(args.model)
    rate = int(pipe.named_steps["load"].sample_rate)
    noisy, clean, texts, speakers = selection_set(
        args.speech, args.noise, rate=rate, n=args.n, seed=args.seed
    )
    sklearn.set_config(enable_metadata_routing=True)
    searched = load_model(args.model)
    searched.set_params(unet=FrozenEstimator(searched.named_steps["unet"]), load__array_rate=rate)
    wer = make_asr_scorer("wer", WhisperTranscriber()).set_score_request(transcripts=True)
    search = GridSearchCV(
        searched,
        GRID,
        scoring={"wer": wer, "si_sdr": si_sdr_scorer},
        refit=one_standard_error_refit(N_SPLITS),
        cv=GroupKFold(n_splits=N_SPLITS),
        n_jobs=args.jobs,
    )
    search.fit(noisy, clean, transcripts=texts, groups=speakers)
    results = search.cv_results_
    minutes = sum(len(x) for x in noisy) / rate / 60
    print(
        f"{len(noisy)} mixtures ({minutes:.1f} min) from {len(set(speakers))} validation "
        f"speakers, {N_SPLITS} folds by speaker, Whisper tiny.en WER; model {args.model}"
    )
    print("| dry | bypass | WER (Whisper) | +/- 1 SE | SI-SDR (dB) |")
    print("|---|---|---|---|---|")
    for params, w, std, sdr in zip(
        results["params"],
        results["mean_test_wer"],
        results["std_test_wer"],
        results["mean_test_si_sdr"],
    ):
        bypass = params.get("rebuild__bypass_snr_db")
        bypass = "off" if bypass is None else f"{bypass:g} dB"
        note = " (unprocessed input)" if params["rebuild__dry"] == 1.0 else ""
        se = 100 * std / np.sqrt(N_SPLITS)
        print(
            f"| {params['rebuild__dry']:g}{note} | {bypass} | {-100 * w:.1f}% | {se:.1f} | "
            f"{sdr:.2f} |"
        )
    chosen = {"rebuild__dry": 0.0, "rebuild__bypass_snr_db": None, **search.best_params_}
    print(f"chosen: {chosen} ({time.time() - started:.0f} s)")
    if args.write:
        presets = {**model_presets(args.model), "asr": chosen}
        save_model(pipe, args.model, presets=presets)
        print(f"stored as the 'asr' preset of {args.model}")


if __name__ == "__main__":
    main()
