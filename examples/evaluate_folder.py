"""
Evaluate a folder and plot every metric by SNR
==============================================

:func:`skdenoise.evaluation.evaluate` (``skdenoise evaluate`` on the command line) denoises
every noisy file of a set of pairs and scores input and output against the clean
reference: PESQ, STOI and SI-SDR, DNSMOS with ``dnsmos=True``, and the word, match and
information error rates of a speech recogniser. :func:`~skdenoise.evaluation.summarize`
groups the scores overall, by SNR and by noise type.

By default the example writes its own folder pair (synthetic syllables in four synthetic
noises at -5 to 15 dB); point it at your own folders of noisy and clean files with the
same names, or at a manifest::

    python examples/evaluate_folder.py
    python examples/evaluate_folder.py --noisy-dir noisy/ --clean-dir clean/
    python examples/evaluate_folder.py --manifest dev.csv --asr

Speech-recogniser rates need transcripts (a manifest column) or a recogniser's transcript
of the clean files; they are off by default here because PocketSphinx on synthetic
syllables says little.
"""

# %%
# A folder of noisy/clean pairs
# -----------------------------
import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skdenoise import load_pretrained, write_wav
from skdenoise.datasets import mix_at_snr
from skdenoise.evaluation import (
    evaluate,
    format_summary,
    read_pairs,
    summarize,
    summary_metrics,
)
from skdenoise.plotting import plot_metric_by_snr
from skdenoise.synthetic import NOISE_KINDS, noise, syllables

parser = argparse.ArgumentParser(description="Evaluate the shipped model on noisy/clean pairs.")
parser.add_argument("--noisy-dir", type=Path, help="folder of noisy files (default: synthetic)")
parser.add_argument("--clean-dir", type=Path, help="folder of clean files with the same names")
parser.add_argument("--manifest", type=Path, help="manifest of pairs instead of folders")
parser.add_argument("--asr", action="store_true", help="also WER/MER/WIL (PocketSphinx)")
args, _ = parser.parse_known_args()
for path in (args.noisy_dir, args.clean_dir):
    if path is not None and not path.is_dir():
        raise SystemExit(f"evaluate_folder.py: {path}: no such folder")
if args.manifest is not None and not args.manifest.is_file():
    raise SystemExit(f"evaluate_folder.py: {args.manifest}: no such file")

RATE = 8000
if args.manifest is not None:
    items = read_pairs(args.manifest)
elif args.noisy_dir is not None:
    items = read_pairs(noisy_dir=args.noisy_dir, clean_dir=args.clean_dir)
else:
    root = Path(tempfile.mkdtemp(prefix="evaluate-folder-"))
    rng = np.random.default_rng(0)
    words = ["ba", "di", "gu", "ke", "po", "ta", "mi", "do", "re", "so"]
    rows = ["noisy_path\tclean_path\tsnr_db\tnoise_category"]
    for i, snr in enumerate(np.repeat([-5, 0, 5, 10, 15], 8)):
        speech = syllables(
            " ".join(rng.choice(words, 6)), RATE, seed=i, pitch=rng.uniform(100, 220)
        )
        kind = NOISE_KINDS[i % len(NOISE_KINDS)]
        background = noise(kind, len(speech) / RATE + 1, RATE, seed=i)
        x, y, _ = mix_at_snr(speech, background, float(snr), rng=i, allow_negative_snr=True)
        noisy_path = write_wav(root / "noisy" / f"{i:02d}.wav", x, RATE)
        clean_path = write_wav(root / "clean" / f"{i:02d}.wav", y, RATE)
        rows.append(f"{noisy_path}\t{clean_path}\t{snr}\t{kind}")
    (root / "pairs.tsv").write_text("\n".join(rows) + "\n")
    items = read_pairs(root / "pairs.tsv")
print(f"{len(items)} pairs")

# %%
# Denoise and score
# -----------------
pipe = load_pretrained()
result = evaluate(items, pipe, sample_rate=RATE, asr=args.asr, dnsmos=True)
summary = summarize(result)
print(format_summary(summary, output_name="skdenoise").split("### By noise")[0])

# %%
# Every metric by input SNR
# -------------------------
by_snr = summary["by_snr"]
snrs = list(by_snr)
for metric in summary_metrics(summary):
    plot_metric_by_snr(
        snrs,
        {
            "noisy input": [by_snr[s][f"{metric}_input"] for s in snrs],
            "skdenoise": [by_snr[s][f"{metric}_output"] for s in snrs],
        },
        metric=metric,
    )
plt.show()
