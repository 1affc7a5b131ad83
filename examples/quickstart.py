"""
Denoise a recording and look at it
==================================

The shipped model denoises a recording exactly as ``skdenoise denoise noisy.wav -o
enhanced.wav`` does: the shipped model whose rate suits the file (the 16 kHz one for files
at 16 kHz or more, else the 8 kHz one), output at the input's rate and length.

Without arguments the example makes its own noisy recording (synthetic syllables in hum
and hiss at 5 dB), so it runs anywhere; give it your own file to denoise that instead::

    python examples/quickstart.py                  # synthetic example
    python examples/quickstart.py noisy.wav        # your recording
    python examples/quickstart.py --out results/   # where files go (default quickstart/)

It prints SI-SDR, PESQ and STOI before and after (when there is a clean reference) and
draws the spectrograms of the noisy input, of what the model removed (its noise
estimate, noisy minus enhanced) and of the enhanced output.
"""

# %%
# Options (a missing file is a one-line error)
# --------------------------------------------
import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skdenoise import load_pretrained, read_audio, write_wav
from skdenoise.datasets import mix_at_snr
from skdenoise.metrics import pesq, si_sdr, stoi
from skdenoise.pipeline import pretrained_rate_for
from skdenoise.plotting import plot_spectrograms
from skdenoise.streaming import denoise_file
from skdenoise.synthetic import noise, syllables

parser = argparse.ArgumentParser(description="Denoise a recording with the shipped model.")
parser.add_argument("file", nargs="?", type=Path, help="recording to denoise (default: synthetic)")
parser.add_argument("--out", type=Path, default=Path("quickstart"), help="output folder")
parser.add_argument("--figure", type=Path, help="also write the spectrogram figure here (PNG)")
args, _ = parser.parse_known_args()
if args.file is not None and not args.file.is_file():
    raise SystemExit(f"quickstart.py: {args.file}: no such file")
args.out.mkdir(parents=True, exist_ok=True)

# %%
# A noisy recording
# -----------------
# Synthetic syllables in hum and hiss at 5 dB SNR (measured on the active speech), written
# as 8 kHz WAV files; or your file.
if args.file is None:
    rate = 8000
    speech = syllables("ba di gu ke po ta ko mi do re mi fa so", rate)
    background = noise("hum", 3.0, rate, seed=1) + noise("hiss", 3.0, rate, seed=2)
    noisy, clean, _ = mix_at_snr(speech, background, 5.0, rng=2)
    noisy_path = write_wav(args.out / "noisy.wav", noisy, rate)
    clean_path = write_wav(args.out / "clean.wav", clean, rate)
else:
    noisy_path, clean_path = args.file, None

# %%
# Denoise it as ``skdenoise denoise`` does
# ----------------------------------------
# The model is the shipped one for the file's rate; the output keeps the input's rate and
# length, and is written atomically (an existing file is replaced only with
# ``overwrite=True``).
import soundfile as sf  # noqa: E402

file_rate = sf.info(noisy_path).samplerate
pipe = load_pretrained(pretrained_rate_for(file_rate))
enhanced_path = args.out / f"{Path(noisy_path).stem}_enhanced.wav"
denoise_file(pipe, noisy_path, enhanced_path, overwrite=True)
print(f"model for {file_rate} Hz audio: the shipped {pretrained_rate_for(file_rate)} Hz one")
print(f"wrote {enhanced_path}")

# %%
# Scores before and after
# -----------------------
noisy, _ = read_audio(noisy_path, sample_rate=file_rate)
enhanced, _ = read_audio(enhanced_path, sample_rate=file_rate)
if clean_path is not None:
    clean, _ = read_audio(clean_path, sample_rate=file_rate)
    print(f"{'':10}{'SI-SDR (dB)':>12}{'PESQ':>8}{'STOI':>8}")
    for name, x in (("noisy", noisy), ("enhanced", enhanced)):
        print(
            f"{name:10}{si_sdr(clean, x):12.2f}{pesq(clean, x, file_rate):8.2f}"
            f"{stoi(clean, x, file_rate):8.3f}"
        )

# %%
# Spectrograms: the input, what the model removed, the output
# -----------------------------------------------------------
# With the dry mix at 0 and no SNR bypass (the shipped defaults), noisy minus enhanced is
# the model's estimate of the noise.
panels = {"noisy": noisy, "removed (noise estimate)": noisy - enhanced, "enhanced": enhanced}
if clean_path is not None:
    panels["clean"] = clean
fig = plot_spectrograms(panels, file_rate)
fig.savefig(args.out / "spectrograms.png", dpi=100, bbox_inches="tight")
if args.figure is not None:
    # The README's figure: the three panels, small, in a 64-colour palette.
    from PIL import Image

    small = plot_spectrograms({k: panels[k] for k in list(panels)[:3]}, file_rate)
    small.savefig(args.figure, dpi=55, bbox_inches="tight")
    Image.open(args.figure).convert("RGB").quantize(64).save(args.figure, optimize=True)
    plt.close(small)
print(f"wrote {args.out / 'spectrograms.png'}")
print(f"energy removed: {10 * np.log10(np.sum(noisy**2) / np.sum(enhanced**2)):.1f} dB")
plt.show()
