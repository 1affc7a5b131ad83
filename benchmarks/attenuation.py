"""How much a model attenuates, bin by bin, on training-side selection mixtures.

    python benchmarks/attenuation.py --model skdenoise/pretrained/skdenoise-16k.npz \
        --speech runs/realistic/train_speech_16k.tsv --noise runs/realistic/train_noise_16k.tsv

The mixtures are ``asr_preset.py``'s selection set (the training run's validation speakers
and noise files, through the training augmentation; never a dev set), the first ``--n``.
For every time-frequency bin within 80 dB of the loudest, the attenuation the model applies
(dB, its ``strength`` and ``expansion`` included, before the ``max_attenuation_db`` bound):
percentiles, the share past 10 and 20 dB and the share at the bound. It says how much room a
prediction-time ``expansion`` has to remove more where the network judged the bins mostly
noise.
"""

from __future__ import annotations

import argparse
import copy
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--n", type=int, default=60, help="mixtures")
    parser.add_argument("--seed", type=int, default=7, help="asr_preset.py's --seed")
    args = parser.parse_args()

    import asr_preset

    from skdenoise.pipeline import load_model
    from skdenoise.spectral import log_magnitude_frames

    pipe = load_model(args.model)
    unet = pipe.named_steps["unet"]
    rate = int(pipe.named_steps["load"].sample_rate)
    bound = unet.max_attenuation_db
    # The attenuation before the bound: the same network and settings, without the bound.
    unbounded = copy.copy(unet).set_params(max_attenuation_db=None)
    noisy, *_ = asr_preset.selection_set(
        args.speech, args.noise, rate=rate, n=args.n, seed=args.seed
    )
    levels, attenuations = [], []
    for x in noisy:
        frames = log_magnitude_frames(x, unet.settings_)
        levels.append(frames.ravel())
        attenuations.append((frames - unbounded.denoise_frames(frames)).ravel())
    level, attenuation = np.concatenate(levels), np.concatenate(attenuations)
    a = attenuation[level > level.max() - 80.0]
    print(f"`python benchmarks/attenuation.py {shlex.join(sys.argv[1:])}`")
    print(
        f"{len(noisy)} selection mixtures at {rate} Hz, {a.size} bins; strength "
        f"{unet.strength:g}, expansion {unet.expansion:g}, bound {bound} dB"
    )
    print()
    print(
        "| median | 75th | 90th | 95th | 99th percentile | past 10 dB | past 20 dB | at the bound |"
    )
    print("|---|---|---|---|---|---|---|---|")
    p = np.percentile(a, [50, 75, 90, 95, 99])
    at_bound = float(np.mean(a >= bound)) if bound else 0.0
    print(
        "| "
        + " | ".join(f"{v:.1f} dB" for v in p)
        + f" | {np.mean(a > 10):.1%} | {np.mean(a > 20):.1%} | {at_bound:.1%} |"
    )


if __name__ == "__main__":
    main()
