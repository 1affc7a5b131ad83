"""Start-up benchmark: the whole ``skdenoise denoise`` command, one checkout against another.

    python benchmarks/startup.py --input-dir runs/realistic/devset/8k/noisy \\
        --checkout new=. --checkout old=/tmp/skdenoise-old --repeats 5

Each checkout's command runs in a fresh process (``PYTHONPATH`` puts the checkout first),
on one short file (start-up is nearly all of its wall time) and on the folder, the runs of
the checkouts interleaved so that a busy moment of the machine falls on both. The
compiled-model cache is filled first for each checkout and shared (its key is the network's
weights and batch shape), so every timed run is a later run, as a user's are. Prints the
median and the spread of the wall times, the folder's speed in x real time, and the heavy
modules each checkout's command imports.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import soundfile as sf

HEAVY = ("sklearn", "scipy", "tensorflow", "keras", "joblib")

_PROBE = """
import sys
from skdenoise.cli import main
code = main(sys.argv[1:])
import skdenoise
print("FROM", skdenoise.__file__)
print("IMPORTED", *[m for m in {heavy!r} if m in sys.modules])
sys.exit(code)
"""


def command(checkout: Path, args: list[str]) -> tuple[list[str], dict]:
    """The ``skdenoise`` command of a checkout, and its environment (run it from a folder
    without a ``skdenoise`` package: ``python -m`` and ``-c`` put the working folder first
    on the path)."""
    env = dict(os.environ, PYTHONPATH=str(checkout.resolve()))
    return [sys.executable, "-m", "skdenoise", *args], env


def timed(checkout: Path, args: list[str], cwd: Path) -> float:
    cmd, env = command(checkout, args)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def imported(checkout: Path, args: list[str], cwd: Path) -> str:
    """The heavy modules the command imports (run once, untimed), and where it was
    imported from."""
    _, env = command(checkout, args)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines = done.stdout.splitlines()
    source = next(x for x in lines if x.startswith("FROM")).split(maxsplit=1)[1]
    line = next(x for x in lines if x.startswith("IMPORTED"))
    return f"{', '.join(line.split()[1:]) or 'none of them'} (skdenoise from `{source}`)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument(
        "--checkout",
        action="append",
        required=True,
        help="NAME=PATH of a skdenoise checkout (repeat; the first is the reference)",
    )
    parser.add_argument("--model", help="model file (default: the shipped one for each file)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from machine import describe as describe_machine

    from skdenoise.datasets import list_audio

    checkouts = {}
    for item in args.checkout:
        name, _, path = item.partition("=")
        checkouts[name] = Path(path)
    files = list_audio(args.input_dir)
    seconds = sum(sf.info(f).duration for f in files)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["SKDENOISE_CACHE_DIR"] = str(tmp / "cache")
        short = tmp / "short.wav"
        x, rate = sf.read(files[0], dtype="float32")
        sf.write(short, x[:rate], rate)  # one second
        model = ["--model", str(Path(args.model).resolve())] if args.model else []
        jobs = {
            "one 1-s file": ["denoise", str(short), "-o", str(tmp / "short-out.wav")],
            f"folder ({len(files)} files, {seconds / 60:.1f} min)": [
                "denoise",
                "--input-dir",
                str(args.input_dir.resolve()),
                "--output-dir",
                str(tmp / "out"),
            ],
        }
        jobs = {k: [*v, *model, "--overwrite", "--no-progress"] for k, v in jobs.items()}
        # Fill the compiled-model cache for every checkout: their graphs may differ (a
        # different batch is a different entry).
        for path in checkouts.values():
            timed(path, jobs[next(iter(jobs))], tmp)
        walls: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeats):
            for job, job_args in jobs.items():
                for name, path in checkouts.items():
                    walls.setdefault((job, name), []).append(timed(path, job_args, tmp))
        heavy = {
            name: imported(path, jobs[next(iter(jobs))], tmp) for name, path in checkouts.items()
        }

    lines = [
        "## Start-up of `skdenoise denoise`",
        "",
        f"- files: `{args.input_dir}` ({len(files)} files, {seconds / 60:.1f} min of audio)",
        f"- command: `python {shlex.join(sys.argv)}`",
        f"- machine: {describe_machine()}",
        f"- {args.repeats} runs of each, interleaved; compiled-model cache filled",
        "",
        "| job | checkout | median wall (s) | min-max (s) | x real time (median) |",
        "|---|---|---|---|---|",
    ]
    for (job, name), w in walls.items():
        audio = 1.0 if job.startswith("one") else seconds
        lines.append(
            f"| {job} | {name} | {statistics.median(w):.2f} | {min(w):.2f}-{max(w):.2f} | "
            f"{audio / statistics.median(w):.0f}x |"
        )
    lines += ["", "| checkout | heavy modules imported by the command |", "|---|---|"]
    lines += [f"| {name} | {modules} |" for name, modules in heavy.items()]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
