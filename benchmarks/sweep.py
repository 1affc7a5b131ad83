"""A sweep of the U-Net family at an equal training budget, judged on training-side
selection sets (never on the dev set that is reported).

    python benchmarks/sweep.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --out runs/sweep --fraction 0.5 --cores 1

Every configuration trains for one epoch of ``skdenoise train --augment`` on the same
speech subset (``--fraction`` of the training manifest, drawn with a fixed seed) with the
same noises (the selection sets' speakers and noise files left out), pinned to
``--cores`` cores (``taskset``), so they compete for the same compute. Warm-started rows
start from ``--init`` (the shipped model: same architecture); from-scratch rows show
what the capacity change buys at that budget, not at convergence.
Each model is then scored on the two selection sets of ``weight_average.py`` (realistic and
in-domain, made from the training run's *validation* speakers and noise files) and timed
model-only (frames of 1.008 s per second, one thread and all cores). The table it prints
records its inputs. Training runs that already wrote their model are reused (``--reuse``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

#: Warm-started rows: the shipped model's fine-tuning learning rate.
WARM = ["--init", "{init}", "--learning-rate", "2.5e-4"]
#: From-scratch rows: the recipe's learning rate and the shipped model's loss.
SCRATCH = ["--learning-rate", "1e-3", "--loss", "magnitude", "--magnitude-exponent", "0.6"]
#: The shipped architecture, trained from scratch.
SHIPPED_SCRATCH = ["--filters", "16", "--depth", "4", "--patch-size", "2", *SCRATCH]

#: name -> (``skdenoise train`` options, description). Common options are added in main().
CONFIGS: dict[str, tuple[list[str], str]] = {
    "shipped+1": (
        [*WARM, "--loss", "magnitude", "--magnitude-exponent", "0.6"],
        "shipped model, one more epoch (magnitude loss, exponent 0.6: its recipe)",
    ),
    "shipped+1 exp1.0": (
        [*WARM, "--loss", "magnitude", "--magnitude-exponent", "1.0"],
        "shipped model, one more epoch, linear magnitudes (closest to SI-SDR)",
    ),
    "shipped+1 si_sdr": (
        [*WARM, "--loss", "si_sdr"],
        "shipped model, one more epoch, negative SI-SDR through the inverse STFT (waveform)",
    ),
    "shipped+1 huber": (
        [*WARM, "--loss", "huber"],
        "shipped model, one more epoch, Huber loss on the noise log-magnitude",
    ),
    "f16 d4 p2": (
        SHIPPED_SCRATCH,
        "from scratch: the shipped architecture",
    ),
    "f24 d4 p2": (
        ["--filters", "24", "--depth", "4", "--patch-size", "2", *SCRATCH],
        "from scratch: 1.5x the filters",
    ),
    "f16 d5 p2": (
        ["--filters", "16", "--depth", "5", "--patch-size", "2", *SCRATCH],
        "from scratch: one level deeper",
    ),
    "f16 d4 p2 frame 0.5 s": (
        ["--frame-length", "4032", *SHIPPED_SCRATCH],
        "from scratch: the shipped architecture on half-length frames (64 columns, 0.504 s)",
    ),
    "f16 d4 p2 frame 2 s": (
        ["--frame-length", "16128", *SHIPPED_SCRATCH],
        "from scratch: the shipped architecture on double-length frames (256 columns, 2.016 s)",
    ),
}

COMMON = [
    "--epochs", "1", "--segment-seconds", "4",
    "--output-activation", "sigmoid", "--augment", "--seed", "0",
]  # fmt: skip


def subset(manifest: str, fraction: float, out: Path, held_out: set, seed: int = 0) -> Path:
    """Write a fixed random ``fraction`` of a manifest's rows (header kept) to ``out``,
    leaving out the rows whose resolved path is in ``held_out`` (the selection sets')."""
    with open(manifest, newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        rows, fields = list(reader), reader.fieldnames
    keep = np.random.default_rng(seed).random(len(rows)) < fraction
    base = Path(manifest).resolve().parent
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, delimiter="\t")
        writer.writeheader()
        for row, k in zip(rows, keep):
            path = Path(row["path"])
            row["path"] = str(path if path.is_absolute() else (base / path).resolve())
            if k and row["path"] not in held_out:
                writer.writerow(row)
    return out


def model_speed(path: Path, threads: int | None) -> float:
    """Model-only frames per second of the network in ``path`` (fresh process)."""
    code = (
        "import sys, time, numpy as np\n"
        "from skdenoise.pipeline import load_model\n"
        "unet = load_model(sys.argv[1]).named_steps['unet']\n"
        "frames = np.random.default_rng(0).normal(-40, 20, (64, *unet.settings_.frame_shape))"
        ".astype('float32')\n"
        "unet.denoise_frames(frames)\n"
        "n, t = 0, time.perf_counter()\n"
        "while time.perf_counter() - t < 8:\n"
        "    unet.denoise_frames(frames); n += 64\n"
        "print(n / (time.perf_counter() - t))\n"
    )
    env = dict(os.environ)
    if threads:
        env["SKDENOISE_THREADS"] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"timing {path} failed: {out.stderr.strip().splitlines()[-1]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--init", default="pretrained", help="model the warm-started rows start from"
    )
    parser.add_argument("--fraction", type=float, default=0.5, help="share of the speech files")
    parser.add_argument("--cores", type=int, default=1, help="cores each training run may use")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--n", type=int, default=100, help="mixtures per selection set")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    from weight_average import score, selection_sets

    from skdenoise.pipeline import load_model
    from skdenoise.training import validation_sources

    args.out.mkdir(parents=True, exist_ok=True)
    # The selection sets' speakers and noise files (the full manifests' validation side)
    # never reach the sweep's training runs.
    val_speech, val_noise = validation_sources(args.speech, args.noise, random_state=0)
    held = {str(Path(r["path"]).resolve()) for r in [*val_speech, *val_noise]}
    speech = subset(args.speech, args.fraction, args.out / "speech.tsv", held)
    noise = subset(args.noise, 1.0, args.out / "noise.tsv", held)
    cpus = ",".join(str(i) for i in range(os.cpu_count() - args.cores, os.cpu_count()))
    runs = {}
    for name in args.configs:
        options, _ = CONFIGS[name]
        folder = args.out / name.replace(" ", "_").replace("+", "p")
        folder.mkdir(exist_ok=True)
        model = folder / "model.npz"
        if not (args.reuse and model.exists()):
            cmd = ["taskset", "-c", cpus, sys.executable, "-m", "skdenoise", "train",
                   "--speech", str(speech), "--noise", str(noise), "--out", str(model),
                   *[o.format(init=args.init) for o in COMMON + options]]  # fmt: skip
            started = time.time()
            with open(folder / "train.log", "w") as log:
                subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
            (folder / "wall.json").write_text(json.dumps({"wall_s": time.time() - started}))
        report = json.loads((folder / "model.json").read_text())
        runs[name] = (model, report, json.loads((folder / "wall.json").read_text())["wall_s"])

    sets = selection_sets([args.speech], [args.noise], 8000, args.n, seed=11)
    inputs = {k: score(None, pairs, 8000) for k, pairs in sets.items()}

    def mean(values, k, metric):
        ok = ~np.isnan(values[metric]) & ~np.isnan(inputs[k][metric])
        return float(np.mean(values[metric][ok] - inputs[k][metric][ok]))

    print(
        f"sweep: one epoch each of {speech} ({args.fraction:g} of {args.speech}), noise "
        f"{noise}, {args.cores} core(s) per run; selection sets "
        + ", ".join(f"{k} {len(v)} mixtures" for k, v in sets.items())
        + "; cells are changes from the input"
    )
    print(
        "| configuration | parameters | frames/epoch | train (s) | val loss | realistic PESQ "
        "| STOI | SI-SDR (dB) | in-domain PESQ | STOI | SI-SDR (dB) | frames/s 1 thread "
        "| frames/s all cores | x real time all cores (model only) |"
    )
    print("|---" * 14 + "|")
    init = (
        files("skdenoise.pretrained") / "skdenoise-8k.npz"
        if args.init == "pretrained"
        else args.init
    )
    rows = {"start (--init, as is)": (Path(str(init)), None, None), **runs}
    for name, (model, report, wall) in rows.items():
        pipe = load_model(model)
        scores = {k: score(pipe, pairs, 8000) for k, pairs in sets.items()}
        if report is None:
            n_params = sum(w.size for w in pipe.named_steps["unet"]._network_weights())
            cells = [name, f"{n_params:,}", "", "", ""]
        else:
            cells = [name, f"{report['parameters']:,}", str(report["frames_per_epoch"]),
                     f"{wall:.0f}", f"{report['best_val_loss']:.4f}"]  # fmt: skip
        for k in sets:
            cells += [f"{mean(scores[k], k, 'pesq'):+.3f}", f"{mean(scores[k], k, 'stoi'):+.3f}"]
            cells += [f"{mean(scores[k], k, 'si_sdr'):+.2f}"]
        seconds = pipe.named_steps["spec"].frame_length / 8000
        everything = model_speed(model, None)
        cells += [f"{model_speed(model, 1):.0f}", f"{everything:.0f}"]
        cells += [f"{everything * seconds:.0f}x"]
        print("| " + " | ".join(cells) + " |", flush=True)
    print("configurations: " + "; ".join(f"{n}: {CONFIGS[n][1]}" for n in runs))


if __name__ == "__main__":
    main()
