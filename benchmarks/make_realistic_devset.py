"""Build the realistic dev set and the training manifests that keep away from it.

    python benchmarks/make_realistic_devset.py --data ../shared/data --extra ../corpus \
        --out runs/realistic

``--extra`` is the extra corpus built by ``../shared/data/extra/build_corpus.py`` (optional
but recommended: its speechocean762 test speakers give most of the dev sentences with
transcripts, and its noise most of the held-out kinds). See :mod:`skdenoise.devset` for what
makes the set unlike training. Writes:

- ``OUT/devset/8k`` and ``OUT/devset/16k``: ``noisy/``, ``clean/``, ``noise/``, ``manifest.csv``;
- ``OUT/train_speech_8k.tsv``, ``OUT/train_noise_8k.tsv`` (and ``_16k``): every licence-filtered
  row of shared + extra except the dev speakers, the held-out noise kinds, and the older
  in-domain dev set's speakers and noise files (``benchmarks/make_splits.py``), so that both
  dev sets stay fair tests of a model trained on them;
- ``OUT/dev_speech.tsv``, ``OUT/dev_noise.tsv``: the dev side.

Prints the sizes of each side.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from skdenoise.datasets import load_manifest, write_manifest
from skdenoise.devset import dev_speakers, make_realistic_devset, realistic_split
from skdenoise.training import DEFAULT_EXCLUDED_LICENSES

COLUMNS = ("path", "speaker", "category", "duration_s", "transcript", "license", "corpus")
SPEECH = {
    # corpus folder -> rates it has
    "speech/librispeech_subsets": ("8k", "16k"),
    "speech/fsdd": ("8k",),
    "speech/an4_subset": ("8k", "16k"),
    "speech/speechocean762": ("8k", "16k"),
    "speech/mini_librispeech": ("8k", "16k"),
    "speech/asterisk_allison": ("8k",),
}


def _rows(root: Path, corpus: str, rate: str) -> list[dict]:
    manifest = root / corpus / f"manifest_{rate}.tsv"
    if not manifest.exists():
        return []
    rows = load_manifest(manifest, exclude_licenses=DEFAULT_EXCLUDED_LICENSES)
    for row in rows:
        row["corpus"] = corpus
    return rows


def _sources(roots: list[Path], rate: str) -> tuple[list[dict], list[dict]]:
    speech, noise = [], []
    for root in roots:
        for corpus, rates in SPEECH.items():
            if rate in rates:
                speech += _rows(root, corpus, rate)
        noise += _rows(root, "noise", rate)
    return speech, noise


def _relative(rows: list[dict], out: Path) -> list[dict]:
    return [{**r, "path": os.path.relpath(r["path"], out.resolve())} for r in rows]


def _summary(name: str, rows: list[dict], key: str) -> str:
    minutes = sum(float(r.get("duration_s") or 0) for r in rows) / 60
    groups = len({r.get(key, "") for r in rows})
    return f"{name:<18} {len(rows):>6} {minutes:>9.1f} {groups:>10}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--extra", type=Path, default=None, help="the extra corpus folder")
    parser.add_argument("--out", type=Path, default=Path("runs/realistic"))
    parser.add_argument("--n-per-snr", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path, what in ((args.data, "--data"), (args.extra, "--extra")):
        if path is not None and not path.is_dir():
            parser.error(f"{what} {path}: no such folder")
    roots = [args.data] + ([args.extra] if args.extra else [])
    started = time.time()

    from make_splits import make_splits

    old = make_splits(args.data, args.out / "in_domain_splits")
    old_speakers = [r["speaker"] for r in old["dev_speech"]]
    old_noise = [r["path"] for r in old["dev_noise"]]

    speech16, _ = _sources(roots, "16k")
    held_out = dev_speakers(speech16, seed=args.seed)
    print(f"{'side':<18} {'files':>6} {'minutes':>9} {'groups':>10}")
    sides = {}
    for rate in ("8k", "16k"):
        speech, noise = _sources(roots, rate)
        sides[rate] = realistic_split(
            speech,
            noise,
            held_out_speakers=held_out,
            extra_dev_speakers=old_speakers,
            extra_dev_noise_paths=[n.replace("/8k/", f"/{rate}/") for n in old_noise],
        )
        for side in ("speech", "noise"):
            rows = sides[rate][f"train_{side}"]
            write_manifest(
                _relative(rows, args.out), args.out / f"train_{side}_{rate}.tsv", COLUMNS
            )
            key = "speaker" if side == "speech" else "category"
            print(_summary(f"train {side} {rate}", rows, key))
    for side in ("speech", "noise"):
        rows = sides["16k"][f"dev_{side}"]
        write_manifest(_relative(rows, args.out), args.out / f"dev_{side}.tsv", COLUMNS)
        print(_summary(f"dev {side} 16k", rows, "speaker" if side == "speech" else "category"))
    manifests = make_realistic_devset(
        sides["16k"]["dev_speech"],
        sides["16k"]["dev_noise"],
        args.out / "devset",
        n_per_snr=args.n_per_snr,
        seed=args.seed,
        progress=True,
    )
    for rate, path in manifests.items():
        print(f"wrote {path} ({rate} Hz)")
    print(f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
