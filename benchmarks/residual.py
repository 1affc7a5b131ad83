"""Where the noise a model leaves is: in the pauses, or under the speech.

    python benchmarks/residual.py --model skdenoise/pretrained/skdenoise-16k.npz \
        --speech runs/realistic/train_speech_16k.tsv --noise runs/realistic/train_noise_16k.tsv

On ``asr_preset.py``'s selection mixtures (the training run's validation side, never a dev
set), where the clean target ``s`` and the noise ``n = x - s`` are known. The model is a
mask on the noisy STFT, so its gain per bin is ``g = |Y| / |X|`` (at most 1) and the noise it
leaves is ``g N``, the speech it keeps ``g S``. Frames are *speech* where the clean target's
frame energy is within 30 dB of its loudest frame, *pause* otherwise. Prints, by input SNR:
the share of frames that are pauses, the noise removed in pauses and under speech (dB, over
all bins of those frames), the share of the noise left that lies in the pauses, and the
speech removed in speech frames (dB).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

SPEECH_WITHIN_DB = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--n", type=int, default=150, help="mixtures")
    parser.add_argument("--seed", type=int, default=7, help="asr_preset.py's --seed")
    args = parser.parse_args()

    import asr_preset

    from skdenoise.pipeline import load_model
    from skdenoise.spectral import stft

    pipe = load_model(args.model)
    rate = int(pipe.named_steps["load"].sample_rate)
    settings = pipe.named_steps["unet"].settings_  # the model's own STFT

    def spectrum(x: np.ndarray) -> np.ndarray:
        """Complex STFT, shape (n_columns, n_freq)."""
        return stft(x, settings).T

    noisy, clean, _, _, snrs = asr_preset.selection_set(
        args.speech, args.noise, rate=rate, n=args.n, seed=args.seed
    )
    totals: dict = defaultdict(lambda: np.zeros(6))
    frames: dict = defaultdict(lambda: np.zeros(2))  # pause frames, all frames
    for x, s, snr in zip(noisy, clean, snrs):
        y = pipe.predict([x], sample_rate=rate)[0]
        X, Y, S = spectrum(x), spectrum(y), spectrum(s)
        N = X - S
        gain = np.minimum(np.abs(Y) / np.maximum(np.abs(X), 1e-12), 1.0)
        frame = np.sum(np.abs(S) ** 2, axis=1)
        speech = frame > frame.max() * 10 ** (-SPEECH_WITHIN_DB / 10)
        n_in, n_out = np.abs(N) ** 2, np.abs(gain * N) ** 2
        s_in, s_out = np.abs(S) ** 2, np.abs(gain * S) ** 2
        for key in (snr, "all"):
            totals[key] += [
                n_in[~speech].sum(),
                n_out[~speech].sum(),
                n_in[speech].sum(),
                n_out[speech].sum(),
                s_in[speech].sum(),
                s_out[speech].sum(),
            ]
            frames[key] += [(~speech).sum(), speech.size]

    def db(a: float, b: float) -> str:
        return f"{10 * np.log10(a / b):.1f}" if a > 0 and b > 0 else "-"

    print(f"`python benchmarks/residual.py {shlex.join(sys.argv[1:])}`")
    print(f"{len(noisy)} selection mixtures at {rate} Hz, model {args.model}")
    print()
    print(
        "| input SNR | pause frames | noise removed in pauses (dB) | noise removed under speech "
        "(dB) | share of the noise left in pauses | speech removed (dB) |"
    )
    print("|---|---|---|---|---|---|")
    keys = [*sorted(k for k in totals if k != "all"), "all"]
    for k in keys:
        p_in, p_out, u_in, u_out, s_in, s_out = totals[k]
        pauses, n_frames = frames[k]
        label = "all" if k == "all" else f"{k:g} dB"
        print(
            f"| {label} | {pauses / n_frames:.0%} | {db(p_in, p_out)} | {db(u_in, u_out)} | "
            f"{p_out / (p_out + u_out):.0%} | {db(s_in, s_out)} |"
        )


if __name__ == "__main__":
    main()
