"""Weight-space interpolation between a model and its fine-tune (WiSE-FT), chosen on
training-side selection sets, never on a dev set that is reported.

    python benchmarks/weight_average.py --base skdenoise/pretrained/skdenoise-8k.npz \
        --tuned runs/R1/model.npz --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --out runs/R1/wise.npz

Fine-tuning on far more varied data (``skdenoise train --init pretrained --augment``) moves
a model towards real recordings and away from the clean studio mixtures it was first
trained on. Averaging the weights of the two, ``(1 - alpha) * base + alpha * tuned``, keeps
much of both (Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022). It is
valid here because the fine-tune started from the base's weights with the base's input and
output scales (checked).

``alpha`` is chosen on two selection sets made from the fine-tuning run's *validation*
speakers and noise files (``skdenoise.training.validation_sources``; neither model trained
on them... except that the base model's own training side may include some of these
speakers, which can only favour the base):

- *realistic*: their transcribed or untranscribed sentences of 2-12 s through the training
  augmentation (telephone channel on half, rooms on a quarter, summed noises, babble) at
  -5 to 15 dB;
- *in-domain*: the validation speakers of the shared corpora (LibriSpeech, FSDD, AN4),
  plainly mixed with the validation noises at 0 to 15 dB, like the older dev set.

``--minus`` (task arithmetic; Ilharco et al., "Editing models with task arithmetic", ICLR
2023): ``base + alpha * (tuned - minus)``, where ``tuned`` and ``minus`` are two fine-tunes of
``base`` that differ in one thing (e.g. the recogniser term in the loss), from the same
weights with the same seed, so that what every fine-tune does cancels and their difference
is that one thing's pull. ``--each`` also writes every alpha's model beside ``--out``
(``STEM.alpha<a>.npz``), to judge each one further.

Rule (fixed before any result): the largest realistic PESQ among the alphas whose in-domain
PESQ is within ``--max-in-domain-loss`` (0.05) of the base model's. Prints the table and
writes the chosen model to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

SHARED = ("/librispeech_subsets/", "/fsdd/", "/an4_subset/")


def interpolate(base_path, tuned_path, alpha: float, minus_path=None):
    """A pipeline with ``(1 - alpha) * base + alpha * tuned`` weights, or with ``minus_path``
    ``base + alpha * (tuned - minus)`` (scales and architecture checked alike)."""
    from skdenoise.pipeline import load_model

    base, tuned = load_model(base_path), load_model(tuned_path)
    others = [tuned] if minus_path is None else [tuned, load_model(minus_path)]
    rb = base.named_steps["unet"]
    for other in others:
        ro = other.named_steps["unet"]
        for name in ("input_mean_", "input_scale_", "target_scale_", "architecture_"):
            if getattr(rb, name) != getattr(ro, name):
                raise SystemExit(f"{name} differs between the models: they cannot be combined")
    rt = tuned.named_steps["unet"]
    meta, w_tuned = rt._fitted_state()
    _, w_base = rb._fitted_state()
    if minus_path is None:
        weights = [(1 - alpha) * a + alpha * b for a, b in zip(w_base, w_tuned)]
    else:
        _, w_minus = others[1].named_steps["unet"]._fitted_state()
        weights = [a + alpha * (b - c) for a, b, c in zip(w_base, w_tuned, w_minus)]
    rt._restore_fitted(meta, weights)
    return tuned


def held_out_of_both(val_speech, val_noise, other_speech, other_noise):
    """The validation rows that are on the validation side of another pair of manifests
    too: speakers held out of both, and noise files (category and name, at any rate) held
    out of both. For a model that starts from one trained on the other manifests (say, the
    8 kHz model for a 16 kHz one), whose training side holds the rest of these speakers."""
    from skdenoise.training import validation_sources

    other_s, other_n = validation_sources(other_speech, other_noise, random_state=0)
    speakers = {r.get("speaker") for r in other_s}

    def key(row):
        return row.get("category"), Path(row["path"]).stem

    noises = {key(r) for r in other_n}
    speech = [r for r in val_speech if r.get("speaker") in speakers]
    noise = [r for r in val_noise if key(r) in noises]
    if not speech or not noise:
        raise SystemExit("no speaker or no noise file is held out of both sets of manifests")
    return speech, noise


def selection_sets(
    speech,
    noise,
    rate: int,
    n: int,
    seed: int,
    with_snr: bool = False,
    held_out_from: tuple | None = None,
):
    """The two selection sets, name -> list of ``(noisy, clean)`` (``(noisy, clean, snr_db)``
    with ``with_snr``). With ``held_out_from=(speech, noise)`` (other manifests), the
    realistic set is drawn only from what :func:`held_out_of_both` keeps, its sentences
    repeated (each repeat a new draw of noise, SNR and degradation) until it has ``n``."""
    from skdenoise.augment import Augmentation
    from skdenoise.datasets import MixtureStream
    from skdenoise.training import validation_sources

    val_speech, val_noise = validation_sources(speech, noise, random_state=0)
    realistic_speech, realistic_noise = val_speech, val_noise
    if held_out_from is not None:
        realistic_speech, realistic_noise = held_out_of_both(val_speech, val_noise, *held_out_from)
    sentences = [r for r in realistic_speech if 2.0 <= float(r.get("duration_s") or 0) <= 12.0]
    if not sentences:
        raise SystemExit(
            f"no validation sentence of 2-12 s to draw the realistic selection set from "
            f"({len(realistic_speech)} validation rows"
            + (", held out of both sets of manifests)" if held_out_from is not None else ")")
        )
    if held_out_from is not None:
        sentences = sentences * -(-n // len(sentences))
    shared = [r for r in val_speech if any(k in r["path"] for k in SHARED)]
    sets = {}
    realistic = Augmentation(rt60_s=(0.2, 0.5))
    for name, rows, noises, snrs, augmentation in (
        ("realistic", sentences, realistic_noise, (-5.0, 0.0, 5.0, 10.0, 15.0), realistic),
        ("in-domain", shared, val_noise, (0.0, 5.0, 10.0, 15.0), None),
    ):
        stream = MixtureStream(
            speech=rows,
            noise=noises,
            sample_rate=rate,
            snrs=snrs,
            segment_seconds=12.0,
            min_seconds=1.0,
            augmentation=augmentation,
            random_state=seed,
            fixed=True,
        )
        pairs = []
        for noisy, clean, snr, _ in stream.mixtures(0):
            pairs.append((noisy, clean, snr) if with_snr else (noisy, clean))
            if len(pairs) == n:
                break
        sets[name] = pairs
    return sets


#: Seconds between DNSMOS windows, as ``quality.py`` scores by default.
DNSMOS_HOP_S = 9.01


def score_outputs(outputs, pairs, rate: int, dnsmos: bool = False) -> dict[str, np.ndarray]:
    """Per-mixture PESQ, STOI, SI-SDR (and with ``dnsmos`` DNSMOS OVRL, windows
    :data:`DNSMOS_HOP_S` apart) of ``outputs`` against the clean side of ``pairs``; NaN
    where a metric refuses a file."""
    from skdenoise import metrics

    fns = {
        "pesq": lambda r, e: metrics.pesq(r, e, rate),
        "stoi": lambda r, e: metrics.stoi(r, e, rate),
        "si_sdr": metrics.si_sdr,
    }
    if dnsmos:
        fns["dnsmos_ovrl"] = lambda r, e: metrics.dnsmos(e, rate, hop_s=DNSMOS_HOP_S)["ovrl"]
    values: dict[str, list[float]] = {name: [] for name in fns}
    for (_, clean), out in zip(pairs, outputs):
        for name, fn in fns.items():
            try:
                values[name].append(float(fn(clean, out)))
            except ValueError:
                values[name].append(np.nan)
    return {k: np.asarray(v) for k, v in values.items()}


def score(pipe, pairs, rate: int) -> dict[str, np.ndarray]:
    """:func:`score_outputs` of ``pipe`` on the noisy side of ``pairs`` (of the noisy
    input itself when ``pipe`` is None)."""
    noisy = [x for x, _ in pairs]
    outputs = pipe.predict(noisy, sample_rate=rate) if pipe is not None else noisy
    return score_outputs(outputs, pairs, rate)


def paired_mean(values: np.ndarray, reference: np.ndarray, mask=None) -> float:
    """Mean over the mixtures both ``values`` and ``reference`` could score (and within
    ``mask``); NaN if none."""
    ok = ~np.isnan(values) & ~np.isnan(reference)
    if mask is not None:
        ok &= mask
    return float(np.mean(values[ok])) if ok.any() else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--tuned", required=True)
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument(
        "--minus", default=None, help="base + alpha * (tuned - minus) instead of the average"
    )
    parser.add_argument(
        "--each", action="store_true", help="also write every alpha's model beside --out"
    )
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.5, 0.6, 0.7, 0.8, 1.0])
    parser.add_argument("--n", type=int, default=150, help="mixtures per selection set")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-in-domain-loss", type=float, default=0.05)
    parser.add_argument("--out", required=True, help="where the chosen model goes")
    parser.add_argument(
        "--sample-rate", type=int, default=8000, help="rate of the models and the sets (Hz)"
    )
    args = parser.parse_args()

    from skdenoise.pipeline import save_model

    started = time.time()
    rate = args.sample_rate
    sets = selection_sets(args.speech, args.noise, rate, args.n, args.seed)
    inputs = {name: score(None, pairs, rate) for name, pairs in sets.items()}
    results = {}
    for alpha in args.alphas:
        pipe = interpolate(args.base, args.tuned, alpha, args.minus)
        results[alpha] = (pipe, {name: score(pipe, pairs, rate) for name, pairs in sets.items()})

    def mean(values, name, metric):
        return paired_mean(values[metric], inputs[name][metric])

    from machine import describe as describe_machine

    print(f"machine: {describe_machine()}")
    if args.minus:
        print(f"weights: base + alpha * (tuned - minus); minus {args.minus}")
    print(
        "selection sets from the fine-tune's validation side: "
        + ", ".join(f"{k} {len(v)} mixtures" for k, v in sets.items())
    )
    print("| alpha | realistic PESQ | STOI | SI-SDR (dB) | in-domain PESQ | STOI | SI-SDR (dB) |")
    print("|---|---|---|---|---|---|---|")
    row = ["input"]
    for name in sets:
        row += [f"{mean(inputs[name], name, m):.4f}" for m in ("pesq", "stoi")]
        row += [f"{mean(inputs[name], name, 'si_sdr'):.2f}"]
    print("| " + " | ".join(row) + " |")
    for alpha, (_, scores) in results.items():
        row = [f"{alpha:g}"]
        for name in sets:
            row += [f"{mean(scores[name], name, m):.4f}" for m in ("pesq", "stoi")]
            row += [f"{mean(scores[name], name, 'si_sdr'):.2f}"]
        print("| " + " | ".join(row) + " |")
    base = results[min(results)][1]
    floor = mean(base["in-domain"], "in-domain", "pesq") - args.max_in_domain_loss
    allowed = [
        a for a, (_, s) in results.items() if mean(s["in-domain"], "in-domain", "pesq") >= floor
    ]
    chosen = max(allowed, key=lambda a: mean(results[a][1]["realistic"], "realistic", "pesq"))
    save_model(results[chosen][0], args.out)
    if args.each:
        out = Path(args.out)
        for alpha, (pipe, _) in results.items():
            print(f"wrote {save_model(pipe, out.with_name(f'{out.stem}.alpha{alpha:g}.npz'))}")
    print(
        f"chosen alpha {chosen:g} (in-domain PESQ floor {floor:.4f}); wrote {args.out} "
        f"({time.time() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
