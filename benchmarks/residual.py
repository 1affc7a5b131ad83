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

With ``--oracle-db K`` it also asks which of the two DNSMOS hears: the output's STFT splits
exactly into ``r S + r N`` with ``r = Y / X`` (complex, per bin), so the noise left can be
lowered by ``K`` dB in the pauses only, under the speech only, or both, with the speech it
keeps untouched, and each version is scored (DNSMOS OVRL/SIG/BAK, PESQ). These are oracles
(they use the clean target), a bound on what a better network could buy in each place, not
a method. ``--peer`` scores a peer on the same mixtures, with the noise it removes in the
pauses (its output there is all residual), for the size of the gap.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from peers import load_peers

SPEECH_WITHIN_DB = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--n", type=int, default=150, help="mixtures")
    parser.add_argument("--seed", type=int, default=7, help="asr_preset.py's --seed")
    parser.add_argument(
        "--oracle-db", type=float, default=None, help="score oracle versions K dB quieter"
    )
    parser.add_argument("--peer", action="append", default=[], help="peers.py name (repeatable)")
    args = parser.parse_args()

    import asr_preset

    from skdenoise.pipeline import load_model
    from skdenoise.spectral import istft, stft

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
    scores: dict = defaultdict(lambda: defaultdict(list))  # version -> metric -> values
    peers = load_peers(args.peer, rate) if args.peer else {}
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
        if args.oracle_db is not None:
            for version, out in oracle_versions(X, Y, S, speech, args.oracle_db).items():
                wave = istft(out.T, settings, len(x)) if version != "model output" else y
                score_into(scores[version], s, wave, rate, snr)
            pauses_in = n_in[~speech].sum()
            scores["model output"]["pause_in"].append(pauses_in)
            scores["model output"]["pause_out"].append(n_out[~speech].sum())
            for name, peer in peers.items():
                z = peer([x])[0]
                score_into(scores[name], s, z, rate, snr)
                scores[name]["pause_in"].append(pauses_in)
                scores[name]["pause_out"].append(np.sum(np.abs(spectrum(z)[~speech]) ** 2))

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
    if scores:
        print_oracles(scores, args.oracle_db, db)


def oracle_versions(
    X: np.ndarray, Y: np.ndarray, S: np.ndarray, speech: np.ndarray, k_db: float
) -> dict[str, np.ndarray]:
    """The output and its oracle versions, each a complex STFT (n_columns, n_freq).

    ``r = Y / X`` per bin (zero where ``X`` is), so ``Y = r S + r N`` exactly; a version
    multiplies the noise part ``r N`` by ``10 ** (-k_db / 20)`` in the pause frames
    (``~speech``), in the speech frames, or in both, and keeps the speech part ``r S``.
    """
    ratio = np.where(np.abs(X) > 1e-12, Y / np.where(np.abs(X) > 1e-12, X, 1), 0)
    kept, left = ratio * S, ratio * (X - S)
    quieter = 10 ** (-k_db / 20)
    pauses = np.where(~speech[:, None], quieter, 1.0)
    under = np.where(speech[:, None], quieter, 1.0)
    return {
        "model output": Y,
        "model, re-synthesised from r S + r N": kept + left,
        f"noise in pauses {k_db:g} dB lower (oracle)": kept + pauses * left,
        f"noise under speech {k_db:g} dB lower (oracle)": kept + under * left,
        f"both {k_db:g} dB lower (oracle)": kept + quieter * left,
    }


def score_into(table: dict, clean: np.ndarray, wave: np.ndarray, rate: int, snr: float) -> None:
    """Append DNSMOS OVRL/SIG/BAK and PESQ of ``wave`` (and its SNR) to ``table``'s lists."""
    from skdenoise.metrics import dnsmos, pesq

    mos = dnsmos(np.clip(wave, -1, 1), rate)
    for part in ("ovrl", "sig", "bak"):
        table[part].append(mos[part])
    table["pesq"].append(pesq(clean, wave, rate))
    table["snr"].append(snr)


def print_oracles(scores: dict, k_db: float, db) -> None:
    """Print the oracle table: mean DNSMOS parts and PESQ, and OVRL by input SNR."""
    print()
    print(f"Oracle versions ({k_db:g} dB) and peers on the same mixtures:")
    print()
    print("| version | DNSMOS OVRL | SIG | BAK | PESQ | noise removed in pauses (dB) |")
    print("|---|---|---|---|---|---|")
    for version, table in scores.items():
        pause = (
            db(sum(table["pause_in"]), sum(table["pause_out"])) if table.get("pause_in") else "-"
        )
        print(
            f"| {version} | {np.mean(table['ovrl']):.3f} | {np.mean(table['sig']):.3f} | "
            f"{np.mean(table['bak']):.3f} | {np.mean(table['pesq']):.3f} | {pause} |"
        )
    snrs = sorted(set(next(iter(scores.values()))["snr"]))
    print()
    print("| DNSMOS OVRL by input SNR | " + " | ".join(f"{v:g} dB" for v in snrs) + " |")
    print("|---|" + "---|" * len(snrs))
    for version, table in scores.items():
        ovrl, snr = np.asarray(table["ovrl"]), np.asarray(table["snr"])
        cells = " | ".join(f"{ovrl[snr == v].mean():.3f}" for v in snrs)
        print(f"| {version} | {cells} |")


if __name__ == "__main__":
    main()
