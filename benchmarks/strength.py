"""Choose a model's prediction-time ``strength`` on training-side selection sets, never on
a dev set that is reported.

    python benchmarks/strength.py --model skdenoise/pretrained/skdenoise-16k.npz \
        --speech runs/realistic/train_speech_16k.tsv --noise runs/realistic/train_noise_16k.tsv \
        --sample-rate 16000 --out runs/S16/strength.npz

``strength`` multiplies the network's attenuation in dB before it is applied (a gain mask
``g`` becomes ``g ** strength``; :class:`skdenoise.UNetNoiseRegressor`). Above 1 it removes
more of what the network judged to be noise. It changes no weight, so it can be chosen after
training, like the dry mix of the ``asr`` preset.

The selection sets are those of ``weight_average.py`` (the fine-tuning run's validation
speakers and noise files; same seed): *realistic* (training augmentation, -5 to 15 dB) and
*in-domain* (the shared corpora's validation speakers, plain mixtures, 0 to 15 dB).

Rule (fixed before any result): a strength is allowed if, against strength 1 on the same
mixtures, its realistic PESQ is at most ``--max-pesq-loss`` (0.01) lower, its realistic
STOI at most ``--max-stoi-loss`` (0.005) lower and its in-domain PESQ at most
``--max-in-domain-loss`` (0.05) lower. Among the allowed, the one with the highest realistic
DNSMOS OVRL (windows 9.01 s apart, as ``quality.py``) is chosen if it is at least
``--min-dnsmos-gain`` (0.02) above strength 1's; otherwise 1 stays. Prints the tables (overall
and per SNR) and writes the model with the chosen strength, and with its presets, each set to
strength 1 unless it already names one (they were chosen at strength 1), to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from weight_average import paired_mean, score_outputs, selection_sets


def choose(table: dict, args) -> float:
    """The rule of the module docstring; ``table[strength][set][metric]`` are means."""
    one = table[1.0]
    allowed = [
        s
        for s, t in table.items()
        if t["realistic"]["pesq"] >= one["realistic"]["pesq"] - args.max_pesq_loss
        and t["realistic"]["stoi"] >= one["realistic"]["stoi"] - args.max_stoi_loss
        and t["in-domain"]["pesq"] >= one["in-domain"]["pesq"] - args.max_in_domain_loss
    ]
    best = max(allowed, key=lambda s: table[s]["realistic"]["dnsmos_ovrl"])
    gain = table[best]["realistic"]["dnsmos_ovrl"] - one["realistic"]["dnsmos_ovrl"]
    return best if gain >= args.min_dnsmos_gain else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0, 1.1, 1.25, 1.5, 2.0])
    parser.add_argument("--n", type=int, default=150, help="mixtures per selection set")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-pesq-loss", type=float, default=0.01)
    parser.add_argument("--max-stoi-loss", type=float, default=0.005)
    parser.add_argument("--max-in-domain-loss", type=float, default=0.05)
    parser.add_argument("--min-dnsmos-gain", type=float, default=0.02)
    parser.add_argument("--sample-rate", type=int, default=8000, help="rate of the sets (Hz)")
    parser.add_argument("--out", help="write the model with the chosen strength here")
    parser.add_argument("--save", help="write the table (JSON) here")
    args = parser.parse_args()
    if 1.0 not in args.strengths:
        parser.error("--strengths must include 1 (the reference of the rule)")

    from skdenoise.modelfile import read_model_meta, read_model_weights
    from skdenoise.pipeline import load_model, save_model

    started = time.time()
    rate = args.sample_rate
    triples = selection_sets(args.speech, args.noise, rate, args.n, args.seed, with_snr=True)
    sets = {name: [(x, c) for x, c, _ in t] for name, t in triples.items()}
    snrs = {name: np.asarray([snr for _, _, snr in t]) for name, t in triples.items()}
    inputs = {
        name: score_outputs([x for x, _ in pairs], pairs, rate, dnsmos=name == "realistic")
        for name, pairs in sets.items()
    }
    pipe = load_model(args.model)
    per_file = {}
    for s in args.strengths:
        pipe.set_params(unet__strength=s)
        per_file[s] = {
            name: score_outputs(
                pipe.predict([x for x, _ in pairs], sample_rate=rate),
                pairs,
                rate,
                dnsmos=name == "realistic",
            )
            for name, pairs in sets.items()
        }
    table = {
        s: {name: {m: paired_mean(v[m], inputs[name][m]) for m in v} for name, v in scores.items()}
        for s, scores in per_file.items()
    }
    inp = {name: {m: paired_mean(v[m], v[m]) for m in v} for name, v in inputs.items()}

    print(
        f"model {args.model}; selection sets from its fine-tune's validation side at {rate} Hz: "
        + ", ".join(f"{k} {len(v)} mixtures" for k, v in sets.items())
    )
    print(
        "| strength | realistic PESQ | STOI | SI-SDR (dB) | DNSMOS OVRL | "
        "in-domain PESQ | STOI | SI-SDR (dB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, t in [("input", inp)] + [(f"{s:g}", table[s]) for s in args.strengths]:
        r, d = t["realistic"], t["in-domain"]
        print(
            f"| {label} | {r['pesq']:.3f} | {r['stoi']:.3f} | {r['si_sdr']:.2f} | "
            f"{r['dnsmos_ovrl']:.3f} | {d['pesq']:.3f} | {d['stoi']:.3f} | {d['si_sdr']:.2f} |"
        )
    groups = sorted(set(snrs["realistic"]))
    for metric in ("pesq", "dnsmos_ovrl"):
        print(f"\nrealistic {metric} by SNR")
        print("| strength | " + " | ".join(f"{g:g} dB" for g in groups) + " |")
        print("|---|" + "---|" * len(groups))
        rows = [("input", inputs["realistic"][metric])]
        rows += [(f"{s:g}", per_file[s]["realistic"][metric]) for s in args.strengths]
        for label, values in rows:
            cells = [
                f"{paired_mean(values, inputs['realistic'][metric], snrs['realistic'] == g):.3f}"
                for g in groups
            ]
            print(f"| {label} | " + " | ".join(cells) + " |")

    chosen = choose(table, args)
    print(f"\nchosen strength {chosen:g} ({time.time() - started:.0f} s)")
    if args.save:
        Path(args.save).write_text(
            json.dumps(
                {"input": inp, "table": {f"{s:g}": t for s, t in table.items()}, "chosen": chosen},
                indent=2,
            )
            + "\n"
        )
    if args.out:
        meta = read_model_meta(args.model)
        dtype = str(read_model_weights(args.model, meta)[0].dtype)
        presets = {
            name: {"unet__strength": 1.0, **values}
            for name, values in (meta.get("presets") or {}).items()
        }
        pipe.set_params(unet__strength=chosen)
        save_model(pipe, args.out, dtype=dtype, presets=presets)
        print(f"wrote {args.out} (strength {chosen:g}; presets {presets})")


if __name__ == "__main__":
    main()
