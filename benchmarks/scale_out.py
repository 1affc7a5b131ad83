"""Wall time of the same work on a Dask LocalCluster of 1 and of 2 (or more) workers.

Two jobs:

* a ``GridSearchCV`` over a small denoising pipeline (synthetic speech-like audio, an SI-SDR
  scorer), under ``joblib.parallel_config(backend="dask")``;
* ``skdenoise denoise --backend dask`` on a folder (``--folder``, or synthetic files made
  here), with the shipped model.

Each worker has one engine thread (``SKDENOISE_THREADS=1``). Prints a table with the inputs.

Usage::

    python benchmarks/scale_out.py --workers 1 2 [--folder DIR] [--out runs/scale-out]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _synthetic(n: int, seconds: float, rate: int, seed: int = 0):
    sys.path.insert(0, str(ROOT))
    from tests.conftest import harmonic

    rng = np.random.default_rng(seed)
    clean = [harmonic(int(seconds * rate), rng, rate) for _ in range(n)]
    noisy = [c + 0.05 * rng.standard_normal(len(c)).astype(np.float32) for c in clean]
    return noisy, clean


def time_search(workers: int, args) -> float:
    import joblib
    from sklearn.model_selection import GridSearchCV, KFold

    from skdenoise import make_denoising_pipeline
    from skdenoise.parallel import dask_client
    from skdenoise.scoring import si_sdr_scorer

    noisy, clean = _synthetic(args.recordings, args.seconds, 8000)
    search = GridSearchCV(
        make_denoising_pipeline(
            load__array_rate=8000,
            unet__filters=8,
            unet__depth=3,
            unet__epochs=args.epochs,
            unet__batch_size=8,
            unet__max_attenuation_db=30.0,
            unet__validation_fraction=0.0,
            unet__random_state=0,
        ),
        {"unet__learning_rate": [1e-3, 3e-3], "rebuild__dry": [0.0, 0.3]},
        scoring=si_sdr_scorer,
        cv=KFold(3),
        refit=False,
        n_jobs=-1,
    )
    with dask_client(n_workers=workers):
        with joblib.parallel_config(backend="dask"):
            start = time.perf_counter()
            search.fit(noisy, clean)
            return time.perf_counter() - start


def time_denoise(workers: int, folder: Path, out: Path) -> float:
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        sys.executable, "-m", "skdenoise", "denoise", "--input-dir", str(folder),
        "--output-dir", str(out), "--backend", "dask", "--jobs", str(workers), "--no-progress",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--folder", help="folder to denoise (default: synthetic files)")
    parser.add_argument("--files", type=int, default=40, help="synthetic files (default 40)")
    parser.add_argument("--recordings", type=int, default=24, help="recordings in the search")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per recording")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit in the search")
    parser.add_argument("--out", default=None, help="folder for the outputs (default: temp)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="scale-out-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.folder:
        folder = Path(args.folder)
        if not folder.is_dir():
            sys.exit(f"scale_out.py: {folder}: no such folder.")
    else:
        import soundfile as sf

        folder = work / "input"
        folder.mkdir(exist_ok=True)
        noisy, _ = _synthetic(args.files, 30.0, 8000, seed=1)
        for i, x in enumerate(noisy):
            sf.write(folder / f"f{i:03d}.wav", x, 8000, subtype="PCM_16")
    import soundfile as sf

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    audio_s = sum(sf.info(p).duration for p in files)
    rows = []
    for workers in args.workers:
        search_s = time_search(workers, args)
        denoise_s = time_denoise(workers, folder, work / f"out-{workers}")
        rows.append((workers, search_s, denoise_s, audio_s / denoise_s))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(
        f"search: GridSearchCV, 4 candidates x 3 folds, {args.recordings} recordings of "
        f"{args.seconds:g} s, U-Net 8 filters depth 3, {args.epochs} epochs per fit"
    )
    print(f"denoise: {len(files)} files, {audio_s:.0f} s of audio ({folder}), shipped model")
    print()
    print("| Dask workers | search wall time (s) | denoise wall time (s) | denoise x real time |")
    print("|---|---|---|---|")
    for workers, search_s, denoise_s, speed in rows:
        print(f"| {workers} | {search_s:.1f} | {denoise_s:.1f} | {speed:.0f}x |")


if __name__ == "__main__":
    main()
