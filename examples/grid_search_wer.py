"""
Choose the dry mix and SNR bypass on WER with GridSearchCV
==========================================================

A speech recogniser is often better served by a little of the unprocessed input
(``rebuild__dry``) than by full suppression, and a recording that is already fairly clean is
often recognised better unprocessed: ``rebuild__bypass_snr_db`` passes a recording through
when the model's own estimate of its SNR reaches that many dB. This example picks both the
scikit-learn way:

- the shipped U-Net is wrapped in ``sklearn.frozen.FrozenEstimator``, so the search only
  varies the rebuild step and never retrains the network;
- the reference transcripts reach the WER scorer through metadata routing
  (``set_score_request(transcripts=True)``), fold by fold;
- SI-SDR is recorded beside WER, and the refit rule is the one-standard-error rule: among
  the settings whose cross-validated WER is within one standard error of the lowest, the
  one with the best SI-SDR. ``dry=1.0`` (the unprocessed input) is the baseline.

By default it runs anywhere: synthetic syllables in synthetic noises, transcribed by
PocketSphinx, whose transcript of each *clean* recording is the reference (so WER measures
how far denoising moves the recogniser from what it hears in clean audio). Give it a
manifest of your own transcribed recordings to search on real speech (a CSV or TSV with
``noisy_path``, ``clean_path`` and ``transcript``; see :func:`skdenoise.evaluation.read_pairs`)::

    python examples/grid_search_wer.py
    python examples/grid_search_wer.py --manifest train_side.csv --recogniser whisper --jobs 2

Choose on a training-side split, never on the set you report.
"""

# %%
# Options and data
# ----------------
import argparse
from pathlib import Path

import numpy as np
import sklearn
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, KFold

from skdenoise import load_pretrained
from skdenoise.asr import make_transcriber
from skdenoise.audio import to_waveform
from skdenoise.datasets import mix_at_snr
from skdenoise.evaluation import read_pairs
from skdenoise.scoring import make_asr_scorer, one_standard_error_refit, si_sdr_scorer
from skdenoise.synthetic import NOISE_KINDS, noise, syllables

parser = argparse.ArgumentParser(description="Grid-search the dry mix and SNR bypass on WER.")
parser.add_argument("--manifest", type=Path, help="transcribed pairs (default: synthetic)")
parser.add_argument("--recogniser", choices=("pocketsphinx", "whisper"), default="pocketsphinx")
parser.add_argument("--n", type=int, default=12, help="synthetic recordings (default 12)")
parser.add_argument("--jobs", type=int, default=1, help="worker processes")
args, _ = parser.parse_known_args()
if args.manifest is not None and not args.manifest.is_file():
    raise SystemExit(f"grid_search_wer.py: {args.manifest}: no such file")

RATE = 8000
transcriber = make_transcriber(args.recogniser)
if args.manifest is None:
    rng = np.random.default_rng(0)
    words = ["ba", "di", "gu", "ke", "po", "ta", "mi", "do", "re", "so"]
    noisy, clean = [], []
    for i in range(args.n):
        text = " ".join(rng.choice(words, size=6))
        speech = syllables(text, RATE, seed=i, pitch=rng.uniform(110, 200))
        background = noise(NOISE_KINDS[i % 4], len(speech) / RATE + 1, RATE, seed=i)
        x, y, _ = mix_at_snr(speech, background, float(rng.choice([0, 5, 10, 15])), rng=i)
        noisy.append(x)
        clean.append(y)
    transcripts = [transcriber.transcribe(c, RATE) for c in clean]
else:
    items = read_pairs(args.manifest)
    noisy = [to_waveform(i["noisy"], sample_rate=RATE, name=i["name"]) for i in items]
    clean = [to_waveform(i["clean"], sample_rate=RATE, name=i["name"]) for i in items]
    transcripts = [i["transcript"] for i in items]
print(f"{len(noisy)} recordings; reference transcripts like {transcripts[0]!r}")

# %%
# The search
# ----------
sklearn.set_config(enable_metadata_routing=True)
pipe = load_pretrained().set_params(load__array_rate=RATE)  # the arrays below are at 8 kHz
pipe.set_params(unet=FrozenEstimator(pipe.named_steps["unet"]))  # never retrained
wer = make_asr_scorer("wer", transcriber).set_score_request(transcripts=True)
N_SPLITS = 3
search = GridSearchCV(
    pipe,
    [
        {"rebuild__dry": [0.0, 0.2, 0.4, 1.0]},
        {"rebuild__dry": [0.0], "rebuild__bypass_snr_db": [5.0, 10.0]},
    ],
    scoring={"wer": wer, "si_sdr": si_sdr_scorer},
    refit=one_standard_error_refit(N_SPLITS),
    cv=KFold(N_SPLITS, shuffle=True, random_state=0),
    n_jobs=args.jobs,
)
search.fit(noisy, clean, transcripts=transcripts)

# %%
# ``cv_results_`` as a table
# --------------------------
# The WER scorer is negated (scikit-learn maximises scores); it is shown here as a rate.
results = search.cv_results_
print(f"{'dry':>5} {'bypass':>8} {'WER':>8} {'+/- 1 SE':>9} {'SI-SDR (dB)':>12}")
for params, score, std, sdr in zip(
    results["params"],
    results["mean_test_wer"],
    results["std_test_wer"],
    results["mean_test_si_sdr"],
):
    bypass = params.get("rebuild__bypass_snr_db")
    bypass = "off" if bypass is None else f"{bypass:g} dB"
    note = "  (unprocessed input)" if params["rebuild__dry"] == 1.0 else ""
    se = 100 * std / np.sqrt(N_SPLITS)
    print(
        f"{params['rebuild__dry']:5.2f} {bypass:>8} {-100 * score:7.1f}% {se:8.1f}% "
        f"{sdr:12.2f}{note}"
    )
print(f"chosen: {search.best_params_}")
sklearn.set_config(enable_metadata_routing=False)
