"""How well does a blind SNR estimate sort mixtures by their true input SNR? (training side)

    python benchmarks/bypass_estimate.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --model skdenoise/pretrained/skdenoise-8k.npz

The SNR bypass of the ``asr`` presets (:func:`skdenoise.spectral.mix_output`) hands a
recording to the recogniser unprocessed when its estimated SNR is high. A bypass can only
be as sharp as that estimate: a 10 dB mixture estimated at 6 dB is processed, a 5 dB one
estimated at 9 dB is passed through. This script scores candidate estimates on the same
training-side mixtures that ``asr_preset.py`` searches on (validation speakers and noises
of the training run, -5 to 15 dB, through the training channel and rooms; never the dev
set), all from the model's output ``enhanced`` and its input ``noisy``:

- ``removed``: output energy over removed energy, :func:`skdenoise.spectral.
  estimated_snr_db` as shipped until December 2026. What the denoiser removes includes
  some speech, most of all at high SNR, where it is a large share of what is removed.
- ``pauses``: the denoiser as a voice activity detector. The noise power is the input's
  mean power over the 20 ms frames where the output is quietest (the lowest
  ``--quiet-share`` of them: speech absent, so the input there is noise); the speech power
  is the input's power less that noise. No removed speech is counted as noise.
- ``input floor``: the same without the model: the quietest frames of the input itself
  (minimum statistics, the classic blind estimate).

For each it prints the Spearman rank correlation with the true SNR over all mixtures and
each SNR group's median and spread (the 10th to 90th percentile). The mixtures are made
once (``--seed`` as in ``asr_preset.py``); the model runs at its file's default settings
(dry mix 0, no bypass).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from skdenoise.mixing import frame_power  # 20 ms frames, as the SNR's activity measure


def snr_from_quiet(noisy: np.ndarray, quiet_by: np.ndarray, rate: int, share: float) -> float:
    """SNR (dB) with the noise power taken from ``noisy`` in the frames where ``quiet_by``
    is quietest (the lowest ``share`` of them)."""
    p_in = frame_power(noisy, rate)
    order = np.argsort(frame_power(quiet_by, rate), kind="stable")
    quiet = order[: max(1, round(share * len(order)))]
    p_noise = float(p_in[quiet].mean())
    p_speech = max(float(p_in.mean()) - p_noise, 1e-20)
    return float(10.0 * np.log10(p_speech / max(p_noise, 1e-20)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet-share", type=float, default=0.2)
    args = parser.parse_args()

    from asr_preset import selection_set
    from scipy.stats import spearmanr

    from skdenoise.pipeline import load_model
    from skdenoise.spectral import estimated_snr_db

    started = time.time()
    pipe = load_model(args.model)
    rate = int(pipe.named_steps["load"].sample_rate)
    pipe.set_params(load__array_rate=rate, rebuild__dry=0.0, rebuild__bypass_snr_db=None)
    noisy, _, _, _, snrs = selection_set(
        args.speech, args.noise, rate=rate, n=args.n, seed=args.seed
    )
    enhanced = pipe.predict(noisy)
    estimates = {
        "removed": [estimated_snr_db(y, x) for y, x in zip(enhanced, noisy)],
        "pauses": [snr_from_quiet(x, y, rate, args.quiet_share) for y, x in zip(enhanced, noisy)],
        "input floor": [snr_from_quiet(x, x, rate, args.quiet_share) for x in noisy],
    }
    snrs = np.asarray(snrs)
    groups = np.unique(snrs)
    minutes = sum(len(x) for x in noisy) / rate / 60
    print(
        f"{len(noisy)} mixtures ({minutes:.1f} min), {rate} Hz, model {args.model}, quiet share "
        f"{args.quiet_share:g}; each cell: median (10th to 90th percentile) of the estimate, dB"
    )
    print("| estimate | Spearman | " + " | ".join(f"{g:g} dB" for g in groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    for name, values in estimates.items():
        values = np.asarray(values)
        rho = spearmanr(values, snrs).statistic
        cells = []
        for g in groups:
            lo, mid, hi = np.percentile(values[snrs == g], [10, 50, 90])
            cells.append(f"{mid:.1f} ({lo:.1f} to {hi:.1f})")
        print(f"| {name} | {rho:.3f} | " + " | ".join(cells) + " |")
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
