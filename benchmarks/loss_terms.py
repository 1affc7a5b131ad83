"""The training loss's terms, one by one, for models on the same training-stream frames.

    python benchmarks/loss_terms.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --model skdenoise/pretrained/skdenoise-8k.npz

The frames are the first ``--frames`` of the training stream (``skdenoise train``'s mixtures
with ``--augment``, ``--segment-seconds`` and ``--seed`` as given), scaled as each model
scales its input: training-side data, never a dev set. For each model and for the
unprocessed input (no attenuation): the magnitude loss (with the model's exponent), the
negative SI-SDR (dB, and times :data:`skdenoise.model.WAVEFORM_WEIGHT`) and the Whisper
encoder term (:func:`skdenoise.whisper_features.whisper_feature_loss`, unweighted). It sets
``--recogniser-weight`` by the convention of the SI-SDR weight (the terms weigh alike at the
shipped model) and says how a fine-tune moved each term.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--model", action="append", required=True, help="repeatable")
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--segment-seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from skdenoise.augment import Augmentation
    from skdenoise.fitting import _loss_bound, _waveform_rebuild
    from skdenoise.model import (
        WAVEFORM_WEIGHT,
        Scales,
        magnitude_loss,
        rebuilt_waveforms,
        si_sdr_loss,
    )
    from skdenoise.pipeline import load_model
    from skdenoise.recipe import RECIPE
    from skdenoise.training import _mixture_stream
    from skdenoise.whisper_features import whisper_encoder_weights, whisper_feature_loss

    started = time.time()
    weights = whisper_encoder_weights()
    print(f"`python benchmarks/loss_terms.py {shlex.join(sys.argv[1:])}`\n")
    print(
        "| model | magnitude | magnitude, input | -SI-SDR (dB) | x WAVEFORM_WEIGHT | "
        "Whisper term | Whisper term, input | magnitude / Whisper |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for path in args.model:
        pipe = load_model(path)
        unet = pipe.named_steps["unet"]
        settings = unet.settings_
        rate = int(settings.sample_rate)
        scales = Scales(unet.input_mean_, unet.input_scale_, unet.target_scale_)
        stream = _mixture_stream(
            args.speech,
            args.noise,
            (),
            sample_rate=rate,
            snr_range=RECIPE["snr_range"],
            gain_db_range=RECIPE["gain_db_range"],
            segment_seconds=args.segment_seconds,
            augmentation=Augmentation(),
            random_state=args.seed,
        )
        xs, ts, n = [], [], 0
        for item in stream.with_settings(settings).frame_pairs(epoch=0, phase=True):
            x, t = scales.training_pair(*item, loss="magnitude+si_sdr", max_attenuation_db=None)
            xs.append(x)
            ts.append(t)
            n += len(x)
            if n >= args.frames:
                break
        x, t = np.concatenate(xs)[: args.frames], np.concatenate(ts)[: args.frames]
        y = unet.model_.predict(x, batch_size=32, verbose=0)
        none = np.zeros_like(y)  # no attenuation: the unprocessed input
        bound = _loss_bound(unet.output_activation, unet.max_attenuation_db)
        rebuild = _waveform_rebuild(settings, bound)
        magnitude = magnitude_loss(
            scales.target_scale,
            exponent=float(unet.magnitude_exponent),
            max_attenuation_db=bound,
            over_suppression_weight=float(unet.over_suppression_weight),
        )
        sdr = si_sdr_loss(scales.target_scale, **rebuild)
        whisper = whisper_feature_loss(
            rebuilt_waveforms(scales.target_scale, **rebuild), sample_rate=rate, weights=weights
        )

        def mean(loss, pred, target=t):
            return float(np.mean(loss(target, pred)))

        m, w = mean(magnitude, y), mean(whisper, y)
        d = mean(sdr, y)
        print(
            f"| {path} | {m:.5f} | {mean(magnitude, none):.5f} | {d:.2f} | "
            f"{d * WAVEFORM_WEIGHT:.5f} | {w:.5f} | {mean(whisper, none):.5f} | {m / w:.4f} |"
        )
    print(
        f"\n{args.frames} training-stream frames per model (--augment, seed {args.seed}, "
        f"segments of {args.segment_seconds:g} s); {time.time() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
