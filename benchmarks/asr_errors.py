"""How Whisper's errors change when a setting processes the audio, on the training side.

Two diagnostics for the ``asr`` presets, never on a dev set:

1. From a search saved by ``asr_preset.py --save``: WER split into substitutions, deletions
   and insertions per reference word, by input SNR, for the unprocessed input and one
   setting; and WER by sentence length (at most ``--short`` reference words, or more)::

       python benchmarks/asr_errors.py saved --search runs/B/search-8k.json \
           --dry 0.2 --bypass 7.5 --ramp 1

2. ``novel``: the same selection mixtures (``asr_preset.py``'s, same seed) with their noise
   made unlike any the network trained on, each noise resampled by a random factor in
   0.55-0.8 or 1.25-1.8 (every frequency moves; level set back to the mixture's SNR), and
   Whisper's errors on the input and on the model's output (``--dry``, no bypass) at the
   SNRs named (default -5 and 0 dB), beside the same mixtures with their own noise::

       python benchmarks/asr_errors.py novel --speech runs/realistic/train_speech_8k.tsv \
           --noise runs/realistic/train_noise_8k.tsv \
           --model skdenoise/pretrained/skdenoise-8k.npz --dry 0.2

   It asks whether unfamiliar noise alone makes the processed audio cost the recogniser
   more than the input at low SNR, as the realistic dev set (held-out noise kinds) showed.

3. ``kinds``: the selection mixtures whose noise is of a kind an older model never trained
   on (validation noise files outside ``--outside``, of categories no file under it has),
   Whisper's errors on the input and on each ``--model LABEL=PATH`` (``--dry``, no bypass)::

       python benchmarks/asr_errors.py kinds --speech runs/realistic/train_speech_8k.tsv \
           --noise runs/realistic/train_noise_8k.tsv --outside ../shared/data \
           --model "version 1=runs/B/v1_8k.npz" \
           --model "version 4=skdenoise/pretrained/skdenoise-8k.npz"

   Version 1 trained on ``../shared/data`` alone, so those kinds are new to it and not to
   version 4: if the recogniser loses on version 1's output and not on version 4's, the
   training side can show the dev set's low-SNR losses, with a model kept away from the
   kinds it is tested on.

Prints markdown tables with the command that made them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np


def pairs() -> defaultdict:
    """Sentences grouped by table cell: ``cell key -> (references, hypotheses)``."""
    return defaultdict(lambda: ([], []))


def add(groups: defaultdict, key, reference: str, hypothesis: str) -> None:
    groups[key][0].append(reference)
    groups[key][1].append(hypothesis)


def cell(group: tuple[list, list] | None) -> str:
    """'WER (S / D / I)' of one group of sentences, in percent of reference words
    (:func:`skdenoise.metrics.text_measures`)."""
    from skdenoise.metrics import text_measures

    if not group or not group[0]:
        return "-"
    m = text_measures(*group)
    return (
        f"{100 * m['wer']:.1f} ({100 * m['sub']:.1f} / {100 * m['del']:.1f} / {100 * m['ins']:.1f})"
    )


def table(groups: defaultdict, rows: list[str], columns: list, header: str) -> str:
    lines = [
        f"| {header} | " + " | ".join(f"{c:g} dB" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for r in rows:
        lines.append(f"| {r} | " + " | ".join(cell(groups.get((c, r))) for c in columns) + " |")
    return "\n".join(lines)


def saved(args) -> None:
    from skdenoise.metrics import normalize_text

    record = json.loads(Path(args.search).read_text())
    match = [
        s
        for s in record["settings"]
        if s["dry"] == args.dry
        and s["bypass"] == args.bypass
        and s["strength"] == args.strength
        and (args.bypass is None or s["ramp"] == args.ramp)
    ]
    if not match:
        raise SystemExit(f"{args.search}: no setting dry {args.dry}, bypass {args.bypass}")
    name = f"dry {args.dry:g}, bypass {args.bypass}, ramp {args.ramp:g}, strength {args.strength:g}"
    acc = pairs()
    for text, snr, hyp_in, hyp_out in zip(
        record["texts"], record["snrs"], record["input"], match[0]["hypotheses"]
    ):
        short = len(normalize_text(text).split()) <= args.short
        for system, hyp in (("input", hyp_in), (name, hyp_out)):
            add(acc, (snr, system), text, hyp)
            add(acc, (snr, f"{system}, {'short' if short else 'long'}"), text, hyp)
    snrs = sorted({float(s) for s in record["snrs"]})
    n = {s: sum(1 for x in record["snrs"] if x == s) for s in snrs}
    print(
        f"`{args.search}`: {len(record['texts'])} selection mixtures ({record['model']}), "
        f"per SNR " + ", ".join(f"{n[s]} at {s:g} dB" for s in snrs)
    )
    print(
        "each cell: WER (substitutions / deletions / insertions), % of reference words; "
        f"short: at most {args.short} reference words"
    )
    print()
    rows = ["input", name]
    rows += [f"{r}, {length}" for length in ("short", "long") for r in ("input", name)]
    print(table(acc, rows, snrs, "system"))


def novel(args) -> None:
    import asr_preset
    import soxr

    from skdenoise.asr import CachedTranscriber, WhisperTranscriber
    from skdenoise.mixing import mix_at_snr
    from skdenoise.pipeline import load_model

    started = time.time()
    model = load_model(args.model)
    rate = int(model.named_steps["load"].sample_rate)
    model.set_params(rebuild__dry=args.dry, rebuild__bypass_snr_db=None)
    noisy, clean, texts, _, snrs = asr_preset.selection_set(
        args.speech, args.noise, rate=rate, n=None, seed=args.seed
    )
    whisper = CachedTranscriber(WhisperTranscriber())
    rng = np.random.default_rng(args.seed)
    acc = pairs()
    for x, y, text, snr in zip(noisy, clean, texts, snrs):
        if snr not in args.snrs:
            continue
        noise = x - y
        factor = rng.uniform(0.55, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.8)
        moved = soxr.resample(np.tile(noise, 3), rate, rate * factor)
        moved = np.resize(moved, len(noise))
        # the mixtures' own recipe: SNR on the active speech level, peak at most 0.99 (the
        # noise has the speech's length, so its offset is 0 whatever the generator)
        other = mix_at_snr(y, moved, snr, rng=0, sample_rate=rate, allow_negative_snr=True).noisy
        for kind, mixture in (("own noise", x), ("novel noise", other)):
            output = model.predict([mixture], sample_rate=rate)[0]
            for system, audio in (("input", mixture), (f"output (dry {args.dry:g})", output)):
                hyp = whisper.transcribe(np.asarray(audio, np.float32), rate)
                add(acc, (snr, f"{kind}: {system}"), text, hyp)
    print(f"`python benchmarks/asr_errors.py {shlex.join(sys.argv[1:])}`")
    print(
        f"model {args.model} at {rate} Hz, selection seed {args.seed}; "
        f"{time.time() - started:.0f} s"
    )
    print("each cell: WER (substitutions / deletions / insertions), % of reference words")
    print()
    rows = [
        f"{k}: {s}"
        for k in ("own noise", "novel noise")
        for s in ("input", f"output (dry {args.dry:g})")
    ]
    print(table(acc, rows, sorted(args.snrs), "mixtures"))


def kinds(args) -> None:
    import asr_preset

    from skdenoise.asr import CachedTranscriber, WhisperTranscriber
    from skdenoise.pipeline import load_model

    started = time.time()
    outside = str(Path(args.outside).resolve())

    def under(row: dict) -> bool:
        return str(Path(row["path"]).resolve()).startswith(outside + "/")

    def keep(rows: list[dict]) -> list[dict]:
        from skdenoise.datasets import load_manifest

        seen = {r["category"] for r in load_manifest(args.noise) if under(r)}
        return [r for r in rows if not under(r) and r["category"] not in seen]

    models = {}
    for spec in args.model:
        label, _, path = spec.partition("=")
        models[label] = load_model(path).set_params(
            rebuild__dry=args.dry, rebuild__bypass_snr_db=None
        )
    rate = int(next(iter(models.values())).named_steps["load"].sample_rate)
    noisy, _, texts, _, snrs = asr_preset.selection_set(
        args.speech, args.noise, rate=rate, n=None, seed=args.seed, keep_noise=keep
    )
    whisper = CachedTranscriber(WhisperTranscriber())
    acc = pairs()
    used = 0
    for x, text, snr in zip(noisy, texts, snrs):
        if snr not in args.snrs:
            continue
        used += 1
        add(acc, (snr, "input"), text, whisper.transcribe(x, rate))
        for label, model in models.items():
            y = np.asarray(model.predict([x], sample_rate=rate)[0], np.float32)
            add(acc, (snr, label), text, whisper.transcribe(y, rate))
    print(f"`python benchmarks/asr_errors.py {shlex.join(sys.argv[1:])}`")
    print(
        f"{used} selection mixtures (seed {args.seed}) with noise of kinds that no file under "
        f"{args.outside} has, at {rate} Hz, dry {args.dry:g}, no bypass; "
        f"{time.time() - started:.0f} s"
    )
    print("each cell: WER (substitutions / deletions / insertions), % of reference words")
    print()
    print(table(acc, ["input", *models], sorted(args.snrs), "system"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("saved", help="from a search saved by asr_preset.py --save")
    one.add_argument("--search", required=True)
    one.add_argument("--dry", type=float, required=True)
    one.add_argument("--bypass", type=float, default=None)
    one.add_argument("--ramp", type=float, default=5.0)
    one.add_argument("--strength", type=float, default=1.0)
    one.add_argument("--short", type=int, default=7, help="most words of a short sentence")
    two = sub.add_parser("novel", help="the selection mixtures with unfamiliar noise")
    two.add_argument("--speech", required=True)
    two.add_argument("--noise", required=True)
    two.add_argument("--model", required=True)
    two.add_argument("--dry", type=float, default=0.0)
    two.add_argument("--snrs", type=float, nargs="+", default=[-5.0, 0.0])
    two.add_argument("--seed", type=int, default=7, help="asr_preset.py's --seed")
    three = sub.add_parser("kinds", help="noise of kinds an older model never heard")
    three.add_argument("--speech", required=True)
    three.add_argument("--noise", required=True)
    three.add_argument("--outside", required=True, help="the older model's data folder")
    three.add_argument("--model", action="append", required=True, metavar="LABEL=PATH")
    three.add_argument("--dry", type=float, default=0.0)
    three.add_argument("--snrs", type=float, nargs="+", default=[-5.0, 0.0, 5.0])
    three.add_argument("--seed", type=int, default=7, help="asr_preset.py's --seed")
    args = parser.parse_args()
    {"saved": saved, "novel": novel, "kinds": kinds}[args.mode](args)


if __name__ == "__main__":
    main()
