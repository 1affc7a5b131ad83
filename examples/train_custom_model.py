"""
Train a small model, save it and load it again
==============================================

A denoising pipeline is a scikit-learn ``Pipeline``: ``fit(noisy, clean)`` trains the
U-Net on pairs of recordings (any lengths), ``predict`` denoises, and
:func:`skdenoise.save_model` / :func:`skdenoise.load_model` keep it in one ``.npz`` file
(parameters as JSON, weights as arrays, no pickle).

By default the example trains a small U-Net for a few epochs on synthetic syllables in
synthetic noises, in about half a minute on two CPU cores; a model worth shipping trains
for hours on real speech (``skdenoise train``, see the user guide). Give it folders of
your own clean speech and noise to train on those instead::

    python examples/train_custom_model.py
    python examples/train_custom_model.py --speech DIR --noise DIR --epochs 20
"""

# %%
# Training pairs
# --------------
import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skdenoise import load_model, make_denoising_pipeline, save_model
from skdenoise.datasets import make_noisy_speech, mix_at_snr
from skdenoise.metrics import si_sdr
from skdenoise.plotting import plot_history
from skdenoise.synthetic import NOISE_KINDS, noise, syllables

parser = argparse.ArgumentParser(description="Train a small denoiser, save and reload it.")
parser.add_argument("--speech", type=Path, help="folder of clean speech (default: synthetic)")
parser.add_argument("--noise", type=Path, help="folder of noise (default: synthetic)")
parser.add_argument("--epochs", type=int, default=6, help="training epochs (default 6)")
parser.add_argument("--out", type=Path, help="model file to write (default: a temporary file)")
args, _ = parser.parse_known_args()
for folder in (args.speech, args.noise):
    if folder is not None and not folder.is_dir():
        raise SystemExit(f"train_custom_model.py: {folder}: no such folder")
if (args.speech is None) != (args.noise is None):
    raise SystemExit("train_custom_model.py: give both --speech and --noise, or neither")

RATE = 8000
rng = np.random.default_rng(0)
words = ["ba", "di", "gu", "ke", "po", "ta", "mi", "do", "re", "so", "fa", "ko"]


def synthetic_pairs(n: int, seed: int):
    """``n`` (noisy, clean) pairs: random syllables in a random noise at -5 to 15 dB."""
    rng = np.random.default_rng(seed)
    noisy, clean = [], []
    for i in range(n):
        text = " ".join(rng.choice(words, size=int(rng.integers(4, 10))))
        speech = syllables(text, RATE, seed=seed * 1000 + i, pitch=rng.uniform(100, 220))
        kind = NOISE_KINDS[i % len(NOISE_KINDS)]
        background = noise(kind, len(speech) / RATE + 1, RATE, seed=seed * 1000 + i)
        x, y, _ = mix_at_snr(
            speech, background, rng.uniform(-5, 15), rng=i, allow_negative_snr=True
        )
        noisy.append(x)
        clean.append(y)
    return noisy, clean


if args.speech is None:
    noisy, clean = synthetic_pairs(48, seed=1)
    noisy_test, clean_test = synthetic_pairs(12, seed=2)
else:
    mixtures = make_noisy_speech(args.speech, args.noise, [0, 5, 10, 15], n_mixtures=60)
    noisy, clean = list(mixtures.noisy[:48]), list(mixtures.clean[:48])
    noisy_test, clean_test = list(mixtures.noisy[48:]), list(mixtures.clean[48:])
print(f"{len(noisy)} training pairs, {sum(map(len, noisy)) / RATE:.0f} s; {len(noisy_test)} test")

# %%
# Train
# -----
# A small U-Net (8 filters, 3 levels) with the shipped model's loss and gain-mask
# output; 10 % of the recordings are held out to watch the validation loss, and the
# weights of the best epoch are kept.
pipe = make_denoising_pipeline(
    unet__filters=8,
    unet__depth=3,
    unet__epochs=args.epochs,
    unet__batch_size=8,
    unet__learning_rate=3e-3,
    unet__loss="magnitude",
    unet__output_activation="sigmoid",
    unet__max_attenuation_db=40.0,
    unet__random_state=0,
)
pipe.fit(noisy, clean, sample_rate=RATE)  # bare arrays: say their rate
unet = pipe.named_steps["unet"]
print(f"trained {unet.n_epochs_} epochs; best {unet.best_epoch_}")
plot_history(unet.history_, title="small U-Net on synthetic speech")

# %%
# Save, load, and check that nothing changed
# ------------------------------------------
path = args.out or Path(tempfile.mkdtemp()) / "small.npz"
save_model(pipe, path)
reloaded = load_model(path)
before = pipe.predict(noisy_test, sample_rate=RATE)
after = reloaded.predict(noisy_test, sample_rate=RATE)
difference = max(float(np.max(np.abs(a - b))) for a, b in zip(before, after))
print(
    f"saved to {path} ({path.stat().st_size / 1e3:.0f} kB); largest difference after "
    f"reloading: {difference:.1e}"
)

# %%
# Is it any good? SI-SDR on held-out pairs
# ----------------------------------------
gain = [si_sdr(c, y) - si_sdr(c, x) for c, x, y in zip(clean_test, noisy_test, after)]
print(
    f"SI-SDR gain on {len(gain)} held-out pairs: {np.mean(gain):+.2f} dB "
    f"(from {min(gain):+.1f} to {max(gain):+.1f})"
)
plt.show()
