"""Quality benchmark: skdenoise against the noisy input and the peers.

    python benchmarks/quality.py --manifest runs/realistic/devset/8k/manifest.csv \
        --extra-model runs/R1/model.npz --out runs/quality-realistic-8k
    python benchmarks/quality.py --data ../shared/data     # the older in-domain dev set

Every system is scored by the code of ``skdenoise evaluate``, on the same files, at the
manifest's rate (8 kHz: narrowband PESQ; 16 kHz: wideband): PESQ, STOI, SI-SDR and DNSMOS
OVRL (reference-free, at 16 kHz) on every mixture; WER, MER, WIL and WER split into
substitutions, deletions and insertions per reference word, of two recognisers --
Whisper tiny.en (``skdenoise[whisper]``, greedy with the loop guard, int8) and PocketSphinx
-- on the mixtures with a reference transcript (``--asr transcribed``, the default), or on
all of them against each recogniser's transcript of the clean reference (``--asr all``).

Systems: the shipped model (or ``--model``), any ``--extra-model``, and the peers of
``peers.py`` (noisereduce, RNNoise, DeepFilterNet 3, GTCRN, log-MMSE; the ``bench`` extra).
Each system's enhanced audio is computed once and shared by both recognisers. Each system's
summary is kept in ``OUT/summaries/`` with the settings that made it; ``--reuse`` takes a
system's summary from there instead of scoring it again when the manifest, the settings
and (for skdenoise) the model file's content, dry mix and bypass are the same.

Prints (and writes to ``OUT/quality.md``) a table averaged over all SNRs and one per metric
by SNR, every cell "output (change from the input)", with the inputs that made them; with
``--by-noise wer ins ...``, also one per named metric by the manifest's noise kind (a
summary reused from before the kinds were kept shows "-" there: score it again).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from skdenoise.asr import CachedTranscriber, PocketSphinxTranscriber, WhisperTranscriber
from skdenoise.evaluation import LABELS, WORDS, evaluate, read_pairs, summarize

RECOGNISER_LABEL = {"whisper": "Whisper tiny.en", "pocketsphinx": "PocketSphinx"}
SIGNAL_METRICS = ("pesq", "stoi", "si_sdr", "dnsmos_ovrl")
#: Without DNSMOS.
REFERENCE_METRICS = ("pesq", "stoi", "si_sdr")
#: DNSMOS's parts beside OVRL, with ``--dnsmos-parts``: the speech and the background.
DNSMOS_PARTS = ("dnsmos_sig", "dnsmos_bak")


def build_devset(data: Path, folder: Path) -> Path:
    """The older in-domain dev set (cached in ``folder``); returns its manifest."""
    from make_splits import make_splits

    from skdenoise.datasets import make_noisy_speech

    manifest = folder / "devset" / "manifest.csv"
    if manifest.exists():
        return manifest
    splits = make_splits(data, folder / "splits")
    make_noisy_speech(
        splits["dev_speech"],
        splits["dev_noise"],
        [0, 5, 10, 15],
        random_state=0,
        out_dir=folder / "devset",
        min_seconds=1.0,
        progress=True,
    )
    return manifest


class Memo:
    """Enhance each distinct recording once (keyed by its samples), for several passes."""

    def __init__(self, enhance):
        self.enhance = enhance
        self.outputs: dict[str, np.ndarray] = {}

    def __call__(self, waveforms):
        keys = [CachedTranscriber.key(w, 0) for w in waveforms]
        todo = [i for i, k in enumerate(keys) if k not in self.outputs]
        if todo:
            for i, out in zip(todo, self.enhance([waveforms[i] for i in todo])):
                self.outputs[keys[i]] = out
        return [self.outputs[k] for k in keys]


def metric_names(recognisers: list[str], dnsmos: bool = True, parts: bool = False) -> list[str]:
    names = list(SIGNAL_METRICS if dnsmos else REFERENCE_METRICS)
    if dnsmos and parts:
        names += list(DNSMOS_PARTS)
    for rec in recognisers:
        names += [f"{m}@{rec}" for m in WORDS]
    return names


def label(metric: str) -> str:
    if "@" in metric:
        base, rec = metric.split("@")
        return f"{LABELS[base]} ({RECOGNISER_LABEL[rec]})"
    return LABELS[metric]


def _cell(value, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    base = metric.split("@")[0]
    if base in WORDS:
        return f"{100 * value:.1f}%"
    return f"{value:.2f}" if base == "si_sdr" else f"{value:.3f}"


def _change(output, inp, metric: str) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (output, inp)):
        return ""
    delta = output - inp
    base = metric.split("@")[0]
    if base in WORDS:
        return f" ({100 * delta:+.1f})"
    return f" ({delta:+.2f})" if base == "si_sdr" else f" ({delta:+.3f})"


def merge(per_recogniser: dict[str, dict]) -> dict:
    """One summary per group, word metrics keyed ``wer@whisper_output`` etc."""
    first = next(iter(per_recogniser.values()))
    merged = {
        "overall": {},
        "by_snr": {k: {} for k in first["by_snr"]},
        "by_noise": {k: {} for k in first.get("by_noise", {})},
    }
    for rec, summary in per_recogniser.items():
        groups = [("overall", summary["overall"], merged["overall"])]
        groups += [(k, v, merged["by_snr"][k]) for k, v in summary["by_snr"].items()]
        groups += [(k, v, merged["by_noise"][k]) for k, v in summary.get("by_noise", {}).items()]
        for _, source, target in groups:
            for key, value in source.items():
                base = key.rsplit("_", 1)[0]
                if base in WORDS:
                    target[f"{base}@{rec}_{key.rsplit('_', 1)[1]}"] = value
                elif key == "files_asr":
                    target[f"files_asr@{rec}"] = value
                else:
                    target.setdefault(key, value)
    return merged


def _by_group(
    summaries: dict[str, dict], m: str, group: str, keys: list, columns: list[str], heading: str
) -> list:
    """One metric's table across the groups ``keys`` of ``summaries[...][group]``, headed
    ``columns``."""
    first = next(iter(summaries.values()))

    def row(name: str, s: dict, system: str) -> str:
        cells = []
        for k in keys:
            g = s.get(group, {}).get(k, {})
            out, inp = g.get(f"{m}_{system}"), g.get(f"{m}_input")
            cells.append(_cell(out, m) + (_change(out, inp, m) if system == "output" else ""))
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = [
        "",
        f"### {label(m)} {heading}",
        "",
        "| system | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(keys),
        row("noisy input", first, "input"),
    ]
    if m.split("@")[0] in WORDS:
        lines.append(row("clean speech (ASR ceiling)", first, "clean"))
    lines += [row(name, s, "output") for name, s in summaries.items()]
    return lines


def tables(summaries: dict[str, dict], metrics: list[str], by_noise: list[str] = ()) -> str:
    """Markdown: overall table and one per metric by SNR, cells 'output (change)'; and one
    by noise kind for each metric in ``by_noise``."""
    first = next(iter(summaries.values()))
    lines = [
        "### Averaged over all SNRs",
        "",
        "| system | " + " | ".join(label(m) for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    o = first["overall"]
    lines.append(
        "| noisy input | " + " | ".join(_cell(o.get(f"{m}_input"), m) for m in metrics) + " |"
    )
    lines.append(
        "| clean speech (ASR ceiling) | "
        + " | ".join(
            _cell(o.get(f"{m}_clean"), m) if m.split("@")[0] in WORDS else "" for m in metrics
        )
        + " |"
    )
    for name, s in summaries.items():
        o = s["overall"]
        cells = [
            _cell(o.get(f"{m}_output"), m) + _change(o.get(f"{m}_output"), o.get(f"{m}_input"), m)
            for m in metrics
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    snrs = list(first["by_snr"])
    for m in metrics:
        columns = [f"{k:g} dB" for k in snrs]
        lines += _by_group(summaries, m, "by_snr", snrs, columns, "by input SNR")
    kinds = sorted(first.get("by_noise", {}))
    for m in [m for m in metrics if m.split("@")[0] in by_noise] if kinds else []:
        lines += _by_group(summaries, m, "by_noise", kinds, kinds, "by noise kind")
    return "\n".join(lines)


def _settings_key(manifest: Path, args, name: str, model: str = "", decoders=()) -> str:
    record = {
        "manifest": str(manifest.resolve()),
        "manifest_bytes": hashlib.blake2b(manifest.read_bytes()).hexdigest(),
        "system": name,
        "asr": args.asr,
        "recognisers": args.recognisers,
        "decoders": list(decoders),  # each recogniser's settings (Whisper's loop guard)
        "dnsmos_hop": None if args.no_dnsmos else args.dnsmos_hop,
    }
    if model:  # a skdenoise model: its file's content, dry mix and bypass
        record["model"] = model
    text = json.dumps(record, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--manifest", type=Path, help="an existing dev-set manifest")
    parser.add_argument(
        "--model", help="model file, PATH[#PRESET][=LABEL] (default: the shipped model)"
    )
    parser.add_argument("--dry", type=float, default=None, help="dry mix override")
    parser.add_argument("--bypass-snr", type=float, default=None, help="SNR bypass override (dB)")
    parser.add_argument(
        "--bypass-ramp", type=float, default=None, help="SNR bypass fade width override (dB)"
    )
    parser.add_argument(
        "--extra-model",
        action="append",
        default=[],
        metavar="PATH[#PRESET][=LABEL]",
        help="another model file to score beside the first (named LABEL or by its file "
        "name; at another rate its input and output are resampled), with one of its presets "
        "after '#'; 'pretrained-8k' is the shipped 8 kHz model",
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        default=["noisereduce", "rnnoise", "deepfilternet3", "gtcrn", "logmmse"],
    )
    parser.add_argument(
        "--recognisers",
        nargs="*",
        choices=("whisper", "pocketsphinx"),
        default=["whisper", "pocketsphinx"],
    )
    parser.add_argument("--asr", choices=("transcribed", "all", "none"), default="transcribed")
    parser.add_argument(
        "--dnsmos-hop",
        type=float,
        default=9.01,
        help="seconds between DNSMOS windows (speechmos: 1; default 9.01, about seven times "
        "faster on short files; the same for every system)",
    )
    parser.add_argument(
        "--by-noise",
        nargs="*",
        default=[],
        metavar="METRIC",
        help="metrics to break down by noise kind too (e.g. wer ins pesq; word metrics for "
        "every recogniser)",
    )
    parser.add_argument("--no-skdenoise", action="store_true", help="score the peers only")
    parser.add_argument("--no-dnsmos", action="store_true", help="leave DNSMOS out")
    parser.add_argument(
        "--dnsmos-parts",
        action="store_true",
        help="also DNSMOS SIG (the speech) and BAK (the background), of which OVRL is made",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse peers' saved summaries")
    parser.add_argument("--out", type=Path, default=Path("runs/quality"))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the metrics")
    args = parser.parse_args()
    known = {*SIGNAL_METRICS, *DNSMOS_PARTS, *WORDS}
    unknown = [m for m in args.by_noise if m not in known]
    if unknown:
        parser.error(f"--by-noise: unknown metric {unknown[0]!r}; choose from {sorted(known)}")

    from machine import describe as describe_machine
    from peers import PEERS, load_peers

    from skdenoise.audio import audio_info
    from skdenoise.pipeline import load_model, load_pretrained, pretrained_path

    if args.manifest is not None and not args.manifest.exists():
        parser.error(f"--manifest {args.manifest}: no such file")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summaries").mkdir(exist_ok=True)
    manifest = args.manifest or build_devset(args.data, args.out)
    items = read_pairs(manifest)
    rate = int(audio_info(items[0]["noisy"]).samplerate)
    asr = {"transcribed": "transcribed", "all": True, "none": False}[args.asr]
    recognisers = args.recognisers if asr else []
    transcribers = {
        "whisper": lambda: WhisperTranscriber(),
        "pocketsphinx": lambda: PocketSphinxTranscriber(),
    }
    # Shared by all systems and kept on disk: clean and noisy audio are decoded once.
    cached = {
        rec: CachedTranscriber(transcribers[rec](), path=args.out / f"transcripts-{rec}.jsonl")
        for rec in recognisers
    }
    decoders = [repr(cached[rec].transcriber) for rec in recognisers]  # in each reuse key

    systems: dict = {}
    notes = []
    if not args.no_skdenoise:
        models = [
            tuple(e.split("=", 1)) if "=" in e else (e, None)
            for e in [args.model or "shipped", *args.extra_model]
        ]
        for path, name in models:
            path, _, preset = path.partition("#")
            preset = preset or None
            if path == "shipped":
                pipe = load_pretrained(rate if rate in (8000, 16000) else 8000, preset=preset)
                label_ = name or "skdenoise (shipped)"
            elif path == "pretrained-8k":
                pipe = load_model(pretrained_path(8000), preset=preset)
                label_ = name or "skdenoise (shipped 8 kHz model)"
            else:
                pipe = load_model(path, preset=preset)
                label_ = name or f"skdenoise {Path(path).stem}" + (
                    f" --preset {preset}" if preset else ""
                )
            if args.dry is not None:
                pipe.set_params(rebuild__dry=args.dry)
            if args.bypass_snr is not None:
                pipe.set_params(rebuild__bypass_snr_db=args.bypass_snr)
            if args.bypass_ramp is not None:
                pipe.set_params(rebuild__bypass_ramp_db=args.bypass_ramp)
            model_rate = int(pipe.named_steps["load"].sample_rate)
            if model_rate != rate:
                label_ += f" (at {model_rate} Hz)"
            rebuild, unet = pipe.named_steps["rebuild"], pipe.named_steps["unet"]
            notes.append(
                f"`{label_}`: `{path}`, dry mix {rebuild.dry:g}, SNR bypass "
                f"{rebuild.bypass_snr_db}"
                + (
                    ""
                    if rebuild.bypass_snr_db is None
                    else f" (ramp {rebuild.bypass_ramp_db:g} dB)"
                )
                + (
                    ""
                    if rebuild.bypass_low_snr_db is None
                    else f", low SNR bypass {rebuild.bypass_low_snr_db:g} dB"
                )
                + f", strength {unet.strength:g}"
                + ("" if unet.expansion == 0 else f", expansion {unet.expansion:g}")
            )
            # Reusable only for the same weights, dry mix, bypasses, strength and expansion.
            # The ramp joins the key only with a bypass and off its old fixed 5 dB, the low
            # bypass and the expansion only when set, so that the summaries saved before
            # they were parameters still match.
            settings = (rebuild.dry, rebuild.bypass_snr_db, unet.strength)
            if rebuild.bypass_snr_db is not None and rebuild.bypass_ramp_db != 5.0:
                settings += (rebuild.bypass_ramp_db,)
            if rebuild.bypass_low_snr_db is not None:
                settings += (("low", rebuild.bypass_low_snr_db),)
            if unet.expansion != 0:
                settings += (("expansion", unet.expansion),)
            digest = hashlib.blake2b(repr(settings).encode())
            for w in unet._fitted_state()[1]:
                digest.update(np.ascontiguousarray(w, np.float32).tobytes())
            fingerprint = digest.hexdigest()
            systems[label_] = (
                functools.partial(pipe.predict, sample_rate=rate),
                fingerprint,
            )
    wanted = [p for p in args.peers if p in PEERS]
    for name, peer in load_peers(wanted, rate).items():
        systems[name] = (peer, "")

    summaries: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    for name, (enhance, fingerprint) in systems.items():
        key = _settings_key(manifest, args, name, fingerprint, decoders)
        saved = args.out / "summaries" / f"{name.replace(' ', '_').replace('/', '_')}.json"
        if args.reuse and saved.exists():
            record = json.loads(saved.read_text())
            if record.get("key") == key:
                summaries[name], seconds[name] = record["summary"], record["seconds"]
                print(f"{name}: reused {saved}")
                continue
        start = time.time()
        memo = Memo(enhance)
        per_recogniser = {}
        passes = recognisers or [None]
        for k, rec in enumerate(passes):
            result = evaluate(
                items,
                memo,
                sample_rate=rate,
                transcriber=cached.get(rec),
                asr=asr if rec else False,
                jobs=args.jobs,
                dnsmos=k == 0 and not args.no_dnsmos,
                dnsmos_hop_s=args.dnsmos_hop,
                dnsmos_cache=args.out / "dnsmos.jsonl",
                signal=k == 0,
                progress=True,
            )
            summary = summarize(result)
            per_recogniser[rec or "none"] = summary
        summary = merge(per_recogniser)
        # JSON keys are strings: keep SNRs as floats for sorting after a reload.
        summary = json.loads(json.dumps(summary, default=float))
        seconds[name] = time.time() - start
        summaries[name] = summary
        with open(saved, "w") as fh:
            json.dump({"key": key, "summary": summary, "seconds": seconds[name]}, fh)
        print(f"{name}: {seconds[name]:.0f} s")

    for s in summaries.values():
        s["by_snr"] = {float(k): v for k, v in s["by_snr"].items()}
    first = next(iter(summaries.values()))
    n_asr = {rec: first["overall"].get(f"files_asr@{rec}", 0) for rec in recognisers}
    minutes = sum(float(i.get("duration_s") or 0) for i in items) / 60 or float("nan")
    scope = (
        "with a reference transcript"
        if asr == "transcribed"
        else "against its own transcript of the clean file where there is none"
    )
    asr_notes = [f"{RECOGNISER_LABEL[r]} on {n_asr[r]} mixtures {scope}" for r in recognisers]
    header = [
        f"## Quality on `{manifest}`",
        "",
        f"- data: {len(items)} mixtures, SNRs "
        f"{', '.join(f'{s:g}' for s in first['by_snr'])} dB; scored at {rate} Hz (PESQ "
        f"{'narrowband' if rate == 8000 else 'wideband'})"
        + ("" if args.no_dnsmos else f"; DNSMOS at 16 kHz, windows {args.dnsmos_hop:g} s apart")
        + (f" ({minutes:.1f} min)" if not math.isnan(minutes) else ""),
        "- recognisers: " + ("; ".join(asr_notes) or "none"),
        *[f"- {n}" for n in notes],
        f"- command: `python {shlex.join(sys.argv)}`",
        f"- machine: {describe_machine()}",
        "- wall time per system (enhancement and scoring): "
        + ", ".join(f"{n} {s:.0f} s" for n, s in seconds.items()),
        "- every cell: output (change from the noisy input of the same files; WER/MER/WIL "
        "in percentage points); means of PESQ/STOI/SI-SDR/DNSMOS are paired per file, word "
        "rates are corpus-level",
        "",
    ]
    names = metric_names(recognisers, not args.no_dnsmos, args.dnsmos_parts)
    text = "\n".join(header) + "\n" + tables(summaries, names, args.by_noise)
    (args.out / "quality.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
