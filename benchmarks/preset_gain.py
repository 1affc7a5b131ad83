"""What a preset or a prediction setting leaves of the default's PESQ and STOI gain.

    python benchmarks/preset_gain.py --speech runs/realistic/train_speech_8k.tsv \\
        --noise runs/realistic/train_noise_8k.tsv --model skdenoise/pretrained/skdenoise-8k.npz \\
        --preset asr \\
        --setting rebuild__dry=0.2,rebuild__bypass_snr_db=7.5,rebuild__bypass_low_snr_db=4.5

On the realistic selection mixtures of ``weight_average.py`` (the fine-tune's validation
side, through the telephone channel and rooms, -5 to 15 dB; ``--n`` of them from
``--seed``, never a dev set), prints PESQ and STOI over all mixtures and at each input SNR
for the unprocessed input, the model file's default, each ``--preset`` stored in it and each
``--setting`` (comma-separated ``NAME=VALUE`` pipeline parameters set on the default;
``none`` for None). An ``asr`` preset must keep a gain in both; this shows how much.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np


def parse_setting(text: str) -> dict:
    """``"a=0.2,b=none"`` -> ``{"a": 0.2, "b": None}``."""
    params = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"expected NAME=VALUE[,NAME=VALUE...], got {text!r}")
        params[name.strip()] = None if value.strip().lower() == "none" else float(value)
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--model", required=True, help="model file (.npz)")
    parser.add_argument("--preset", action="append", default=[], help="a stored preset")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        type=parse_setting,
        help="NAME=VALUE[,NAME=VALUE...] set on the default (repeatable)",
    )
    parser.add_argument("--n", type=int, default=150, help="selection mixtures")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from machine import describe as describe_machine
    from weight_average import paired_mean, score_outputs, selection_sets

    from skdenoise.pipeline import load_model

    started = time.time()
    pipe = load_model(args.model)
    rate = int(pipe.named_steps["load"].sample_rate)
    triples = selection_sets(args.speech, args.noise, rate, args.n, args.seed, with_snr=True)[
        "realistic"
    ]
    pairs = [(x, y) for x, y, _ in triples]
    snrs = np.array([s for _, _, s in triples])
    noisy = [x for x, _ in pairs]
    groups = sorted(set(snrs.tolist()))
    inputs = score_outputs(noisy, pairs, rate)

    rows = [("input", None, {}), ("default", None, {})]
    rows += [(f"preset `{p}`", p, {}) for p in args.preset]
    rows += [(", ".join(f"{k}={v}" for k, v in s.items()), None, s) for s in args.setting]

    def cells(scores: dict) -> str:
        out = []
        for metric, digits in (("pesq", 3), ("stoi", 4)):
            every = paired_mean(scores[metric], inputs[metric])
            each = [paired_mean(scores[metric], inputs[metric], snrs == g) for g in groups]
            out += [f"{every:.{digits}f}", " / ".join(f"{v:.3f}" for v in each)]
        return " | ".join(out)

    snr_text = " / ".join(f"{g:g}" for g in groups)
    print(f"machine: {describe_machine()}")
    print(
        f"{len(pairs)} realistic selection mixtures (seed {args.seed}; "
        + ", ".join(f"{int((snrs == g).sum())} at {g:g} dB" for g in groups)
        + f"), {rate} Hz, model {args.model}"
    )
    print(f"| setting | PESQ | PESQ {snr_text} dB | STOI | STOI {snr_text} dB |")
    print("|---|---|---|---|---|")
    for label, preset, params in rows:
        if label == "input":
            scores = inputs
        else:
            # the default is the model already loaded; the others start from a fresh copy
            model = pipe if label == "default" else load_model(args.model, preset=preset)
            model.set_params(**params)
            scores = score_outputs(model.predict(noisy, sample_rate=rate), pairs, rate)
        print(f"| {label} | {cells(scores)} |", flush=True)
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
