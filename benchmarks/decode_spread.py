"""How far Whisper's transcripts, and the chance of passing every SNR built on them, move
when the audio moves by an amount no one can hear.

    python benchmarks/decode_spread.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --model skdenoise/pretrained/skdenoise-8k.npz \
        --preset asr --max-words 7 --draws 2 --jobs 2

The same training-side selection mixtures as ``asr_preset.py`` (same seed and
``--max-words``) are decoded by the Whisper recogniser of the yardsticks (tiny.en, int8,
greedy, loop guard): the unprocessed input and the model's output (with ``--preset``), once
as they are and ``--draws`` times more after adding white noise at ``--dither-db`` dB
below full scale (-90 by default, under the 16-bit quantisation step), each draw its own.
For every decode it prints the WER at each input SNR and, for the model, the chance of
passing every SNR against the input decoded the same way (``safe_probability``, 27
sentences per SNR), so the spread shows how much of a difference between two settings,
two models or two machines the decoder alone can make. Nothing is chosen from it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--model", required=True, help="model file (.npz)")
    parser.add_argument("--preset", default=None, help="a preset stored in the model file")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter to set after the preset, e.g. rebuild__dry=0.2 (repeatable)",
    )
    parser.add_argument("--max-words", type=int, default=None)
    parser.add_argument("--draws", type=int, default=2, help="dithered decodes of each")
    parser.add_argument("--dither-db", type=float, default=-90.0)
    parser.add_argument("--dev-size", type=int, default=27)
    parser.add_argument("--seed", type=int, default=7, help="of the selection mixtures")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()

    from asr_preset import DITHER_SEED, selection_set, shorter, transcribe_dithered, wer_by_snr
    from joblib import Parallel, delayed
    from machine import describe as describe_machine
    from preset_gain import parse_setting

    from skdenoise.metrics import word_errors
    from skdenoise.pipeline import load_model
    from skdenoise.scoring import safe_probability

    started = time.time()
    pipe = load_model(args.model, preset=args.preset)
    for item in args.param:
        pipe.set_params(**parse_setting(item))
    rate = int(pipe.named_steps["load"].sample_rate)
    mixtures = selection_set(args.speech, args.noise, rate=rate, n=None, seed=args.seed)
    noisy, _, texts, _, snrs = shorter(mixtures, mixtures[2], args.max_words)
    outputs = pipe.predict(noisy, sample_rate=rate)
    draws = [None] + [DITHER_SEED + k for k in range(args.draws)]
    sources = {"input": noisy, "model": outputs}
    decoded = Parallel(n_jobs=args.jobs)(
        delayed(transcribe_dithered)(audio, rate, None, tuple(draws), args.dither_db)
        for audio in sources.values()
    )
    hyps = {
        (name, seed): h
        for name, several in zip(sources, decoded)
        for seed, h in zip(draws, several)
    }

    snr_values = sorted(set(snrs))
    print(f"machine: {describe_machine()}")
    print(
        f"{len(noisy)} selection mixtures (at most {args.max_words} reference words), model "
        f"{args.model}, preset {args.preset}, set {args.param}; "
        f"dither {args.dither_db:g} dBFS, white"
    )
    head = " | ".join(f"{s:g} dB" for s in snr_values)
    chance_head = f"chance of passing every SNR ({args.dev_size} per SNR)"
    print(f"| decode | audio | {head} | WER | {chance_head} |")
    print("|---|---|" + "---|" * len(snr_values) + "---|---|")
    for seed in draws:
        label = "as is" if seed is None else f"dither seed {seed}"
        errors = {}
        for name in ("input", "model"):
            errors[name], words = word_errors(texts, hyps[(name, seed)])
            by_snr = wer_by_snr(errors[name], words, snrs)
            cells = " | ".join(f"{100 * by_snr[s]:.1f}%" for s in snr_values)
            chance = ""
            if name == "model":
                p = safe_probability(
                    errors["model"], errors["input"], snrs, sample_size=args.dev_size
                )
                chance = f"{100 * p:.1f}%"
            total = 100 * errors[name].sum() / words.sum()
            print(f"| {label} | {name} | {cells} | {total:.1f}% | {chance} |")
    changed = {
        name: [
            sum(a != b for a, b in zip(hyps[(name, None)], hyps[(name, seed)]))
            for seed in draws[1:]
        ]
        for name in ("input", "model")
    }
    print(
        "transcripts that differ from the undithered decode: "
        + "; ".join(f"{name} {v} of {len(noisy)}" for name, v in changed.items())
        + f" ({time.time() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
