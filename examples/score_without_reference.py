"""
Score your own recordings without a clean reference (DNSMOS)
============================================================

Real recordings rarely come with the clean speech they should have been. DNSMOS (Microsoft's
DNS Challenge models, P.835 and P.808) predicts what listeners would rate a recording, from
the recording alone: SIG (the speech), BAK (the background; higher is quieter) and OVRL
(overall), on a 1-5 scale. :func:`skdenoise.metrics.dnsmos` runs it (at 16 kHz; other rates
are resampled), and :func:`skdenoise.evaluation.evaluate` scores input and output with it
when a pair has no clean file, as ``skdenoise evaluate --noisy-dir DIR`` does.

By default the example makes a few noisy recordings of its own; point it at a folder of
yours::

    python examples/score_without_reference.py
    python examples/score_without_reference.py --noisy-dir my_calls/

DNSMOS was trained on wideband speech and rates telephone-band audio low whatever its
noise; compare input with output, not with numbers from elsewhere.
"""

# %%
# Recordings without a clean reference
# ------------------------------------
import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skdenoise import load_pretrained, write_wav
from skdenoise.datasets import mix_at_snr
from skdenoise.evaluation import evaluate, read_pairs
from skdenoise.synthetic import NOISE_KINDS, noise, syllables

parser = argparse.ArgumentParser(description="DNSMOS of recordings before and after denoising.")
parser.add_argument("--noisy-dir", type=Path, help="folder of recordings (default: synthetic)")
args, _ = parser.parse_known_args()
if args.noisy_dir is not None and not args.noisy_dir.is_dir():
    raise SystemExit(f"score_without_reference.py: {args.noisy_dir}: no such folder")

if args.noisy_dir is None:
    folder = Path(tempfile.mkdtemp(prefix="dnsmos-")) / "noisy"
    rng = np.random.default_rng(0)
    words = ["ba", "di", "gu", "ke", "po", "ta", "mi", "do", "re", "so"]
    for i, kind in enumerate(NOISE_KINDS * 2):
        speech = syllables(" ".join(rng.choice(words, 8)), 16000, seed=i)
        background = noise(kind, len(speech) / 16000 + 1, 16000, seed=i)
        noisy, _, _ = mix_at_snr(speech, background, float(rng.uniform(0, 10)), rng=i)
        write_wav(folder / f"{kind}_{i}.wav", noisy, 16000)
else:
    folder = args.noisy_dir
items = read_pairs(noisy_dir=folder)  # no clean_dir: reference-free items
print(f"{len(items)} recordings in {folder}")

# %%
# Denoise and score input and output
# ----------------------------------
# The recordings are at 16 kHz: the shipped model for that rate runs on them (the 8 kHz one
# on the resampled audio if no 16 kHz model is shipped), and DNSMOS scores both at 16 kHz.
from skdenoise.pipeline import pretrained_rate_for  # noqa: E402

pipe = load_pretrained(pretrained_rate_for(16000))
result = evaluate(
    items,
    pipe,
    sample_rate=16000,
    asr=False,
    dnsmos=True,
)
parts = ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl")
print(f"{'recording':24}" + "".join(f"{p[7:].upper() + ' in/out':>16}" for p in parts))
for row in result.rows:
    cells = "".join(f"{row[f'{p}_input']:8.2f}{row[f'{p}_output']:8.2f}" for p in parts)
    print(f"{row['name']:24}{cells}")

# %%
# Means, input against output
# ---------------------------
means_in = [np.nanmean([r[f"{p}_input"] for r in result.rows]) for p in parts]
means_out = [np.nanmean([r[f"{p}_output"] for r in result.rows]) for p in parts]
fig, ax = plt.subplots(figsize=(5.5, 3.5))
x = np.arange(len(parts))
ax.bar(x - 0.2, means_in, 0.4, label="noisy input")
ax.bar(x + 0.2, means_out, 0.4, label="skdenoise")
ax.set_xticks(x, [p[7:].upper() for p in parts])
ax.set_ylim(1, 5)
ax.set_ylabel("DNSMOS (1-5, higher is better)")
ax.set_title(f"DNSMOS of {len(result.rows)} recordings, no reference")
ax.legend()
plt.show()
