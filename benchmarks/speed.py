"""Speed benchmark: seconds of audio denoised per second of wall time, and peak memory.

    python benchmarks/speed.py --input-dir runs/devset1/noisy      # any folder of audio

1. Model only: frames per second of the U-Net, for the shipped model run by LiteRT and by
   TensorFlow, and for the reference architecture (random weights, TensorFlow), at the
   engine's batch size.
2. ``skdenoise denoise`` on the folder, files read and written (I/O included): the same
   ``Denoiser.denoise_files`` the command runs, timed in this process after the model is
   loaded (its load and compilation are reported apart, as a one-off), for each backend;
   and the whole command in a fresh process, start-up included: with LiteRT and an empty
   cache (the one-time conversion included), with LiteRT and the cache filled (every later
   run), with TensorFlow, and on ``--copies`` copies of the folder.
3. Each peer on the same files, read and written the same way.
4. Peak resident memory of ``skdenoise denoise`` on a one-hour 8 kHz file (built by tiling
   the folder's files), in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import soundfile as sf

from skdenoise.datasets import list_audio


def audio_seconds(files) -> float:
    return sum(sf.info(f).duration for f in files)


BACKENDS = ("litert", "tensorflow")


def model_only(pipe, label: str, seconds: float = 10.0) -> str:
    from skdenoise.engine import BATCH_FRAMES

    unet = pipe.named_steps["unet"]
    shape = unet.settings_.frame_shape
    frames = np.random.default_rng(0).normal(-40, 20, (BATCH_FRAMES, *shape)).astype("float32")
    unet.denoise_frames(frames)  # compile
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        unet.denoise_frames(frames)
        n += len(frames)
    rate = n / (time.perf_counter() - start)
    audio = unet.settings_.frame_length / unet.settings_.sample_rate
    n_params = sum(w.size for w in unet._network_weights())
    return f"| {label} | {n_params:,} | {rate:.0f} | {rate * audio:.0f}x |"


def reference_pipeline():
    """The 1.94 M-parameter reference U-Net with random weights (speed only)."""
    from skdenoise import make_denoising_pipeline
    from skdenoise.model import build_unet
    from skdenoise.spectral import SpectralSettings

    pipe = make_denoising_pipeline()
    unet = pipe.named_steps["unet"]
    unet.settings_ = SpectralSettings()
    unet.architecture_ = unet._architecture(unet.settings_)
    unet.model_ = build_unet(**unet.architecture_, seed=0)
    unet.input_mean_, unet.input_scale_, unet.target_scale_ = -40.0, 20.0, 10.0
    return pipe


def time_files(enhance_files, files, out_dir: Path) -> float:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    start = time.perf_counter()
    enhance_files(files, out_dir)
    return time.perf_counter() - start


def peer_files(peer):
    from skdenoise import read_audio, write_wav

    def run(files, out_dir):
        for f in files:
            x, rate = read_audio(f)
            write_wav(out_dir / Path(f).name, peer.enhance_one(x), rate)

    return run


def whole_command(
    input_dir: Path, out_dir: Path, model: str | None, backend: str = "auto"
) -> float:
    """Wall time of ``skdenoise denoise --input-dir`` in a fresh process (start-up included);
    it inherits the benchmark's compiled-model cache (``SKDENOISE_CACHE_DIR``)."""
    exe = shutil.which("skdenoise") or "skdenoise"
    cmd = [exe, "denoise", "--input-dir", str(input_dir), "--output-dir", str(out_dir)]
    cmd += ["--overwrite", "--no-progress", "--engine", backend]
    cmd += ["--model", model] if model else []
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def one_hour_file(files, path: Path, rate: int = 8000) -> None:
    from skdenoise import read_audio

    target = 3600 * rate
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        written = 0
        while written < target:
            for f in files:
                x, _ = read_audio(f, sample_rate=rate)
                x = x[: target - written]
                out.write(x)
                written += len(x)
                if written >= target:
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dir", type=Path, default=Path("runs/devset1/noisy"))
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("--peers", nargs="*", default=["noisereduce", "rnnoise", "deepfilternet3"])
    parser.add_argument(
        "--peer-files",
        type=int,
        default=60,
        help="files given to each peer (the slow ones take long)",
    )
    parser.add_argument("--skip-hour", action="store_true")
    parser.add_argument(
        "--copies",
        type=int,
        default=4,
        help="also time the whole command on this many copies of the folder (start-up "
        "spread over more audio); 1: skip",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/speed"))
    args = parser.parse_args()

    from machine import describe as describe_machine
    from peers import load_peers

    from skdenoise.pipeline import load_model, load_pretrained
    from skdenoise.streaming import Denoiser

    files = list_audio(args.input_dir)
    seconds = audio_seconds(files)
    args.out.mkdir(parents=True, exist_ok=True)
    # The benchmark's own compiled-model cache: empty at first, so the first command pays
    # the one-time conversion, as on a user's first run; every later run finds it filled.
    cache = tempfile.TemporaryDirectory()
    os.environ["SKDENOISE_CACHE_DIR"] = cache.name
    label = f"`{args.model}`" if args.model else "skdenoise default (shipped)"

    # Whole command first, in fresh processes, before this process loads anything.
    folder = []
    for what, backend in (
        ("LiteRT, empty cache (one-time conversion included)", "litert"),
        ("LiteRT, cache filled (every later run)", "litert"),
        ("TensorFlow", "tensorflow"),
    ):
        wall = whole_command(args.input_dir, args.out / "cli", args.model, backend)
        folder.append(
            f"| `skdenoise denoise --input-dir`, whole command, {what} | "
            f"{len(files)} | {seconds:.0f} | {wall:.1f} | {seconds / wall:.0f}x |"
        )
        print(folder[-1], flush=True)
    if args.copies > 1:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "in"
            for k in range(args.copies):
                for f in files:
                    dst = big / f"copy{k}" / f.relative_to(args.input_dir)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(f, dst)
            wall = whole_command(big, Path(tmp) / "out", args.model)
        n_big, s_big = args.copies * len(files), args.copies * seconds
        folder.append(
            f"| the same (auto: LiteRT, cache filled), on {args.copies} copies of the folder "
            f"| {n_big} | {s_big:.0f} | {wall:.1f} | {s_big / wall:.0f}x |"
        )

    model_lines, denoisers = [], {}
    for backend in BACKENDS:  # LiteRT first: its load must not find TensorFlow imported
        start = time.perf_counter()
        pipe = load_model(args.model) if args.model else load_pretrained()
        pipe.set_params(unet__backend=backend)
        denoiser = Denoiser(pipe)
        denoiser.engine.denoise_frames(np.zeros((1, *denoiser.settings.frame_shape), np.float32))
        took = time.perf_counter() - start
        denoisers[backend] = denoiser
        rate = int(pipe.named_steps["load"].sample_rate)
        model_lines.append(model_only(pipe, f"{label}, {rate} Hz, {backend}"))
        folder.append(
            f"| (one-off in this process: model load and first call, {backend}) | | | "
            f"{took:.1f} | |"
        )
    model_lines.append(
        model_only(
            reference_pipeline(), "reference U-Net (depth 5, 16 filters), 8000 Hz, tensorflow"
        )
    )
    for backend, denoiser in denoisers.items():
        wall = time_files(
            lambda fs, out, d=denoiser: d.denoise_files([(f, out / f.name) for f in fs]),
            files,
            args.out / f"skdenoise-{backend}",
        )
        folder.append(
            f"| skdenoise (`Denoiser.denoise_files`, model loaded), {backend} | {len(files)} "
            f"| {seconds:.0f} | {wall:.1f} | {seconds / wall:.0f}x |"
        )
    lines = [
        "## Speed",
        "",
        f"- files: `{args.input_dir}` ({len(files)} files, {seconds / 60:.1f} min of audio)",
        f"- command: `python {shlex.join(sys.argv)}`",
        f"- machine: {describe_machine()}",
        "",
        "### Model only (batches of 64 frames of 8064 samples: 1.008 s at 8 kHz, 0.504 s "
        "at 16 kHz)",
        "",
        "| model | parameters | frames/s | x real time |",
        "|---|---|---|---|",
        *model_lines,
        "",
        "### Denoising a folder, files read and written",
        "",
        "| system | files | audio (s) | wall (s) | x real time |",
        "|---|---|---|---|---|",
        *folder,
    ]
    print("\n".join(lines), flush=True)
    subset = files[: args.peer_files]
    sub_seconds = audio_seconds(subset)
    for name, peer in load_peers(args.peers).items():
        w = time_files(peer_files(peer), subset, args.out / name)
        lines.append(
            f"| {name} | {len(subset)} | {sub_seconds:.0f} | {w:.1f} | {sub_seconds / w:.1f}x |"
        )
        print(lines[-1], flush=True)

    if not args.skip_hour:
        lines += [
            "",
            "### One-hour 8 kHz file (3600 s, 16-bit WAV), whole command in a fresh process",
            "",
            "| backend | wall (s) | x real time | peak RSS |",
            "|---|---|---|---|",
        ]
        with tempfile.TemporaryDirectory() as tmp:
            hour = Path(tmp) / "hour.wav"
            one_hour_file(files, hour)
            # The command in a fresh interpreter that reports its own peak RSS (kB): VmHWM
            # belongs to the process's own address space. ru_maxrss would not do: Linux keeps
            # it across exec, so it reports this (much larger) benchmark process's size.
            probe = (
                "import sys; from skdenoise.cli import main; code = main(sys.argv[1:]); "
                "print('MAXRSS', next(line.split()[1] for line in open('/proc/self/status') "
                "if line.startswith('VmHWM'))); sys.exit(code)"
            )
            for backend in BACKENDS:
                cmd = [sys.executable, "-c", probe, "denoise", str(hour)]
                cmd += ["-o", str(Path(tmp) / "hour_out.wav"), "--overwrite", "--no-progress"]
                cmd += ["--engine", backend] + (["--model", args.model] if args.model else [])
                start = time.perf_counter()
                done = subprocess.run(cmd, check=True, capture_output=True, text=True)
                took = time.perf_counter() - start
                peak = int(done.stdout.split("MAXRSS")[-1].split()[0])
                lines.append(
                    f"| {backend} | {took:.1f} | {3600 / took:.0f}x | {peak / 1024:.0f} MB |"
                )
                print(lines[-1], flush=True)
    cache.cleanup()
    text = "\n".join(lines)
    (args.out / "speed.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
