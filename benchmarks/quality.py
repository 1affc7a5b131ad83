"""Quality benchmark: skdenoise against the noisy input and the peers, on the dev set.

    python benchmarks/quality.py --data ../shared/data            # builds the dev set
    python benchmarks/quality.py --manifest runs/devset1/manifest.csv --model my.npz

The dev set (unless ``--manifest`` is given) is built from ``--data`` exactly as
``benchmarks/make_splits.py`` and ``skdenoise mix`` do: speakers and noise files that the
shipped model never saw in training, mixed at 0, 5, 10 and 15 dB (88 mixtures each), short
utterances placed in 1 s of noise. Every system is scored by the same code as ``skdenoise
evaluate``: PESQ (narrowband), STOI and SI-SDR on every mixture; WER, MER and WIL of
PocketSphinx on the mixtures with a reference transcript (AN4 and FSDD).

Prints (and writes to ``--out``/quality.md) one table averaged over all SNRs and one per
metric by SNR, with the inputs that made them.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from skdenoise.asr import CachedTranscriber, PocketSphinxTranscriber
from skdenoise.evaluation import LABELS, WORDS, evaluate, read_pairs, summarize

METRICS = ("pesq", "stoi", "si_sdr", "wer", "mer", "wil")


def build_devset(data: Path, folder: Path) -> Path:
    """The project's dev set (cached in ``folder``); returns its manifest."""
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


def _cell(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return (
        f"{100 * value:.1f}%"
        if metric in WORDS
        else f"{value:.2f}"
        if metric == "si_sdr"
        else f"{value:.3f}"
    )


def tables(summaries: dict[str, dict], noisy: dict) -> str:
    """Markdown: overall table (with improvement over the input) and per-SNR tables."""
    lines = [
        "### Averaged over all SNRs",
        "",
        "| system | " + " | ".join(LABELS[m] for m in METRICS) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    rows = {"noisy input": {m: noisy["overall"][f"{m}_input"] for m in METRICS}}
    rows["clean speech (ASR ceiling)"] = {
        m: noisy["overall"].get(f"{m}_clean", math.nan) if m in WORDS else math.nan for m in METRICS
    }
    for name, s in summaries.items():
        rows[name] = {m: s["overall"][f"{m}_output"] for m in METRICS}
    for name, values in rows.items():
        cells = []
        for m in METRICS:
            cell = _cell(values[m], m)
            if name in summaries and not math.isnan(values[m]):
                # Against this system's own input mean: the same files (paired means).
                delta = values[m] - summaries[name]["overall"][f"{m}_input"]
                cell += f" ({100 * delta:+.1f})" if m in WORDS else f" ({delta:+.2f})"
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    snrs = list(noisy["by_snr"])
    for m in METRICS:
        lines += [
            "",
            f"### {LABELS[m]} by input SNR",
            "",
            "| system | " + " | ".join(f"{s:g} dB" for s in snrs) + " |",
            "|---|" + "---|" * len(snrs),
        ]
        lines.append(
            "| noisy input | "
            + " | ".join(_cell(noisy["by_snr"][s][f"{m}_input"], m) for s in snrs)
            + " |"
        )
        if m in WORDS:
            lines.append(
                "| clean speech (ASR ceiling) | "
                + " | ".join(_cell(noisy["by_snr"][s][f"{m}_clean"], m) for s in snrs)
                + " |"
            )
        for name, s in summaries.items():
            lines.append(
                f"| {name} | "
                + " | ".join(_cell(s["by_snr"][k][f"{m}_output"], m) for k in snrs)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--manifest", type=Path, help="an existing dev-set manifest")
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("--dry", type=float, default=None, help="dry mix override")
    parser.add_argument("--bypass-snr", type=float, default=None, help="SNR bypass override (dB)")
    parser.add_argument(
        "--extra-model",
        action="append",
        default=[],
        metavar="PATH",
        help="another model file to score beside the first (named by its file name; at "
        "another rate its input and output are resampled); 'pretrained-8k' is the shipped "
        "8 kHz model",
    )
    parser.add_argument("--peers", nargs="*", default=["noisereduce", "rnnoise", "deepfilternet3"])
    parser.add_argument("--asr", choices=("transcribed", "all", "none"), default="transcribed")
    parser.add_argument("--out", type=Path, default=Path("runs/quality"))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the metrics")
    parser.add_argument(
        "--transcript-cache",
        type=Path,
        default=None,
        help="transcripts kept between runs (default: OUT/transcripts.jsonl)",
    )
    args = parser.parse_args()

    from machine import describe as describe_machine
    from peers import load_peers

    from skdenoise.evaluation import enhance_at_rate
    from skdenoise.pipeline import load_model, load_pretrained, pretrained_path

    args.out.mkdir(parents=True, exist_ok=True)
    manifest = args.manifest or build_devset(args.data, args.out)
    items = read_pairs(manifest)
    pipe = load_model(args.model) if args.model else load_pretrained()
    if args.dry is not None:
        pipe.set_params(rebuild__dry=args.dry)
    if args.bypass_snr is not None:
        pipe.set_params(rebuild__bypass_snr_db=args.bypass_snr)
    rate = int(pipe.named_steps["load"].sample_rate)
    asr = {"transcribed": "transcribed", "all": True, "none": False}[args.asr]
    # Shared by all systems, and kept on disk: the clean and noisy audio are decoded once.
    transcriber = CachedTranscriber(
        PocketSphinxTranscriber(), path=args.transcript_cache or args.out / "transcripts.jsonl"
    )
    systems = {"skdenoise": pipe.predict}
    for path in args.extra_model:
        path = pretrained_path(8000) if path == "pretrained-8k" else Path(path)
        extra = load_model(path)
        extra_rate = int(extra.named_steps["load"].sample_rate)
        label = f"skdenoise {path.stem}" + (f" (at {extra_rate} Hz)" if extra_rate != rate else "")
        systems[label] = enhance_at_rate(extra.predict, extra_rate, rate)
    systems.update(load_peers(args.peers, rate))
    summaries, seconds = {}, {}
    noisy_summary = None
    for name, enhance in systems.items():
        start = time.time()
        result = evaluate(
            items,
            enhance,
            sample_rate=rate,
            transcriber=transcriber,
            asr=asr,
            jobs=args.jobs,
            progress=True,
        )
        seconds[name] = time.time() - start
        summaries[name] = summarize(result)
        noisy_summary = noisy_summary or summaries[name]
        print(f"{name}: {seconds[name]:.0f} s")
    n_asr = noisy_summary["overall"].get("files_asr", 0)
    minutes = sum(r["duration_s"] for r in result.rows) / 60
    header = [
        "## Quality on the dev set",
        "",
        f"- data: `{manifest}` ({len(items)} mixtures, {minutes:.1f} min, SNRs "
        f"{', '.join(f'{s:g}' for s in noisy_summary['by_snr'])} dB); WER/MER/WIL on the "
        f"{n_asr} mixtures with a reference transcript, PocketSphinx (bundled en-us model)",
        f"- skdenoise model: `{args.model or 'shipped default'}`, dry mix "
        f"{pipe.named_steps['rebuild'].dry:g}, SNR bypass "
        f"{pipe.named_steps['rebuild'].bypass_snr_db}; scoring at {rate} Hz (PESQ "
        f"{'narrowband' if rate == 8000 else 'wideband'})",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- machine: {describe_machine()}",
        f"- PESQ scored on {noisy_summary['overall']['pesq_files']} mixtures and STOI on "
        f"{noisy_summary['overall']['stoi_files']} (STOI needs 0.4 s of active speech; "
        "many FSDD digits are shorter); means are paired, over the files scored for both "
        "input and output",
        "- (in parentheses: change from the noisy input; WER/MER/WIL in percentage points)",
        "",
    ]
    text = "\n".join(header) + tables(summaries, noisy_summary)
    (args.out / "quality.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
