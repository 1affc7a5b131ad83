"""Choose a model's prediction-time ``strength`` (and ``expansion``) on training-side
selection sets, never on a dev set that is reported.

    python benchmarks/strength.py --model skdenoise/pretrained/skdenoise-16k.npz \
        --speech runs/realistic/train_speech_16k.tsv --noise runs/realistic/train_noise_16k.tsv \
        --sample-rate 16000 --out runs/S16/strength.npz

``strength`` multiplies the network's attenuation in dB before it is applied (a gain mask
``g`` becomes ``g ** strength``; :class:`skdenoise.UNetNoiseRegressor`). Above 1 it removes
more of what the network judged to be noise. ``expansion`` (``--expansions``) adds
attenuation only where the network's is past 10 dB: more is removed where it judged the bins
mostly noise, and the speech it left nearly whole is not touched. Neither changes a weight,
so both can be chosen after training, like the dry mix of the ``asr`` preset. Every strength
is tried with every expansion.

The selection sets are those of ``weight_average.py`` (the fine-tuning run's validation
speakers and noise files; same seed): *realistic* (training augmentation, -5 to 15 dB) and
*in-domain* (the shared corpora's validation speakers, plain mixtures, 0 to 15 dB).

Rule (fixed before any result): a setting is allowed if, against the reference (strength
``--reference``, 1 unless given, without expansion) on the same mixtures, its realistic PESQ
is at most ``--max-pesq-loss`` (0.01) lower, its realistic STOI at most ``--max-stoi-loss``
(0.005) lower and its in-domain PESQ at most ``--max-in-domain-loss`` (0.05) lower. Among
the allowed, the one with the highest realistic DNSMOS OVRL (windows 9.01 s apart, as
``quality.py``) is chosen if it is at least ``--min-dnsmos-gain`` (0.02) above the
reference's; otherwise the reference stays. Prints the tables (overall and per SNR) and
writes the model with the chosen setting, and with its presets, each set to strength 1 and
no expansion unless it already names them (they were chosen so), to ``--out``.

``--peer NAME`` (``peers.py`` names, repeatable) scores peers on the realistic set too and
prints them beside the strengths (overall and per SNR), to compare with the issue's
per-SNR targets on the training side; they take no part in the rule above.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from peers import load_peers
from weight_average import paired_mean, score_outputs, selection_sets


def choose(table: dict, args) -> tuple[float, float]:
    """The rule of the module docstring; ``table[(strength, expansion)][set][metric]`` are
    means."""
    reference = (args.reference, 0.0)
    one = table[reference]
    allowed = [
        s
        for s, t in table.items()
        if t["realistic"]["pesq"] >= one["realistic"]["pesq"] - args.max_pesq_loss
        and t["realistic"]["stoi"] >= one["realistic"]["stoi"] - args.max_stoi_loss
        and t["in-domain"]["pesq"] >= one["in-domain"]["pesq"] - args.max_in_domain_loss
    ]
    best = max(allowed, key=lambda s: table[s]["realistic"]["dnsmos_ovrl"])
    gain = table[best]["realistic"]["dnsmos_ovrl"] - one["realistic"]["dnsmos_ovrl"]
    return best if gain >= args.min_dnsmos_gain else reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0, 1.1, 1.25, 1.5, 2.0])
    parser.add_argument("--expansions", type=float, nargs="+", default=[0.0])
    parser.add_argument(
        "--reference", type=float, default=1.0, help="the strength the rule compares with"
    )
    parser.add_argument("--n", type=int, default=150, help="mixtures per selection set")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--held-out-from",
        nargs=2,
        metavar=("SPEECH", "NOISE"),
        help="draw the realistic set only from speakers and noises held out of these "
        "manifests' validation split too (weight_average.held_out_of_both)",
    )
    parser.add_argument("--max-pesq-loss", type=float, default=0.01)
    parser.add_argument("--max-stoi-loss", type=float, default=0.005)
    parser.add_argument("--max-in-domain-loss", type=float, default=0.05)
    parser.add_argument("--min-dnsmos-gain", type=float, default=0.02)
    parser.add_argument("--sample-rate", type=int, default=8000, help="rate of the sets (Hz)")
    parser.add_argument("--out", help="write the model with the chosen strength here")
    parser.add_argument("--save", help="write the table (JSON) here")
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        help="peers.py name to score on the realistic set beside the strengths (repeatable)",
    )
    args = parser.parse_args()
    if args.reference not in args.strengths or 0.0 not in args.expansions:
        parser.error("--strengths must include --reference and --expansions 0 (the rule's)")

    from skdenoise.modelfile import read_model_meta, read_model_weights
    from skdenoise.pipeline import load_model, save_model

    started = time.time()
    rate = args.sample_rate
    triples = selection_sets(
        args.speech,
        args.noise,
        rate,
        args.n,
        args.seed,
        with_snr=True,
        held_out_from=args.held_out_from,
    )
    sets = {name: [(x, c) for x, c, _ in t] for name, t in triples.items()}
    snrs = {name: np.asarray([snr for _, _, snr in t]) for name, t in triples.items()}
    inputs = {
        name: score_outputs([x for x, _ in pairs], pairs, rate, dnsmos=name == "realistic")
        for name, pairs in sets.items()
    }
    pipe = load_model(args.model)
    per_file = {}
    settings = [(s, e) for s in args.strengths for e in args.expansions]
    for s, e in settings:
        pipe.set_params(unet__strength=s, unet__expansion=e)
        per_file[(s, e)] = {
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
    realistic = sets["realistic"]
    peer_scores = {
        label: score_outputs(peer([x for x, _ in realistic]), realistic, rate, dnsmos=True)
        for label, peer in load_peers(args.peer, rate).items()
    }
    inp = {name: {m: paired_mean(v[m], v[m]) for m in v} for name, v in inputs.items()}

    print(
        f"model {args.model}; selection sets from its fine-tune's validation side at {rate} Hz: "
        + ", ".join(f"{k} {len(v)} mixtures" for k, v in sets.items())
    )
    print(
        "| strength / expansion | realistic PESQ | STOI | SI-SDR (dB) | DNSMOS OVRL | "
        "in-domain PESQ | STOI | SI-SDR (dB) |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def name(setting: tuple[float, float]) -> str:
        return f"{setting[0]:g} / {setting[1]:g}"

    for label, t in [("input", inp)] + [(name(k), table[k]) for k in settings]:
        r, d = t["realistic"], t["in-domain"]
        print(
            f"| {label} | {r['pesq']:.3f} | {r['stoi']:.3f} | {r['si_sdr']:.2f} | "
            f"{r['dnsmos_ovrl']:.3f} | {d['pesq']:.3f} | {d['stoi']:.3f} | {d['si_sdr']:.2f} |"
        )
    for label, v in peer_scores.items():
        r = {m: paired_mean(v[m], inputs["realistic"][m]) for m in v}
        print(
            f"| {label} (peer) | {r['pesq']:.3f} | {r['stoi']:.3f} | {r['si_sdr']:.2f} | "
            f"{r['dnsmos_ovrl']:.3f} | | | |"
        )
    groups = sorted(set(snrs["realistic"]))
    for metric in ("pesq", "dnsmos_ovrl"):
        print(f"\nrealistic {metric} by SNR")
        print("| strength / expansion | " + " | ".join(f"{g:g} dB" for g in groups) + " |")
        print("|---|" + "---|" * len(groups))
        rows = [("input", inputs["realistic"][metric])]
        rows += [(name(k), per_file[k]["realistic"][metric]) for k in settings]
        rows += [(f"{label} (peer)", v[metric]) for label, v in peer_scores.items()]
        for label, values in rows:
            cells = [
                f"{paired_mean(values, inputs['realistic'][metric], snrs['realistic'] == g):.3f}"
                for g in groups
            ]
            print(f"| {label} | " + " | ".join(cells) + " |")

    chosen = choose(table, args)
    print(f"\nchosen strength / expansion {name(chosen)} ({time.time() - started:.0f} s)")
    if args.save:
        Path(args.save).write_text(
            json.dumps(
                {
                    "input": inp,
                    "table": {name(k): t for k, t in table.items()},
                    "chosen": list(chosen),
                },
                indent=2,
            )
            + "\n"
        )
    if args.out:
        meta = read_model_meta(args.model)
        dtype = str(read_model_weights(args.model, meta)[0].dtype)
        presets = {
            preset: {"unet__strength": 1.0, "unet__expansion": 0.0, **values}
            for preset, values in (meta.get("presets") or {}).items()
        }
        pipe.set_params(unet__strength=chosen[0], unet__expansion=chosen[1])
        save_model(pipe, args.out, dtype=dtype, presets=presets)
        print(f"wrote {args.out} (strength / expansion {name(chosen)}; presets {presets})")


if __name__ == "__main__":
    main()
