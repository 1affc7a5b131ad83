"""Training a denoising model from clean speech and noise, mixed on the fly.

:func:`train_model` is what ``skdenoise train`` runs: a :class:`MixtureStream` draws new
mixtures every epoch; the pipeline trains with a validation split (held-out speakers and
noise files), early stopping and a checkpoint after every epoch, so that an interrupted run
resumes where it stopped. It writes the model file, a loss-curve PNG and a JSON report.
TensorFlow uses a GPU when it sees one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from .audio import PathLike, atomic_path
from .augment import Augmentation
from .datasets import MixtureStream, resolve_many
from .recipe import RECIPE

logger = logging.getLogger(__name__)

__all__ = [
    "train_model",
    "validation_sources",
]

#: Licence words excluded by default from training data: a shipped model must not be
#: trained on rows whose licence forbids commercial use or is not stated.
DEFAULT_EXCLUDED_LICENSES = ("NON-COMMERCIAL", "unspecified", "no explicit license")


def companion_paths(out: PathLike) -> dict[str, Path]:
    """Files written beside a model: checkpoint, loss curve and report."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".npz" else out
    return {
        "model": stem.with_name(stem.name + ".npz"),
        "checkpoint": stem.with_name(stem.name + ".checkpoint.npz"),
        "loss_curve": stem.with_name(stem.name + ".loss.png"),
        "report": stem.with_name(stem.name + ".json"),
    }


def _mixture_stream(speech, noise, exclude_licenses, **kwargs) -> MixtureStream:
    """The on-the-fly mixtures of :func:`train_model` (sources resolved, licences filtered)."""
    return MixtureStream(
        speech=resolve_many(speech, what="speech", exclude_licenses=exclude_licenses),
        noise=resolve_many(noise, what="noise", exclude_licenses=exclude_licenses),
        **kwargs,
    )


def validation_sources(
    speech,
    noise,
    *,
    validation_fraction: float = 0.1,
    exclude_licenses: Sequence[str] = DEFAULT_EXCLUDED_LICENSES,
    random_state: int = 0,
) -> tuple[list[dict], list[dict]]:
    """The speech and noise rows that :func:`train_model` holds out for validation.

    With the same sources, licence filter, fraction and seed as the training run, these are
    its validation speakers and noise files: mixed (``skdenoise mix``), they make a selection
    set on which to compare models without touching the dev set.

    Parameters
    ----------
    speech, noise : folder, manifest or list of them
        The training run's sources.
    validation_fraction : float
        Its validation fraction.
    exclude_licenses : sequence of str
        Its licence filter.
    random_state : int
        Its seed.

    Returns
    -------
    speech_rows, noise_rows : list of dict

    Examples
    --------
    >>> from skdenoise.training import validation_sources
    >>> speech_rows, noise_rows = validation_sources(
    ...     "runs/train_speech.tsv", "runs/train_noise.tsv")  # doctest: +SKIP
    """
    from .regressor import UNetNoiseRegressor

    stream = _mixture_stream(speech, noise, exclude_licenses, random_state=random_state)
    regressor = UNetNoiseRegressor(
        validation_fraction=validation_fraction, random_state=random_state
    )
    _, val = regressor.split_stream(stream)
    if val is None:
        return [], []
    return val.speech, val.noise


def train_model(
    speech,
    noise,
    out: PathLike,
    *,
    sample_rate: int = RECIPE["sample_rate"],
    epochs: int = RECIPE["epochs"],
    resume: bool = False,
    exclude_licenses: Sequence[str] = DEFAULT_EXCLUDED_LICENSES,
    snr_range: tuple[float, float] = RECIPE["snr_range"],
    gain_db_range: tuple[float, float] = RECIPE["gain_db_range"],
    segment_seconds: float = RECIPE["segment_seconds"],
    n_fft: int = RECIPE["n_fft"],
    hop_length: int = RECIPE["hop_length"],
    frame_length: int = RECIPE["frame_length"],
    validation_fraction: float = RECIPE["validation_fraction"],
    patience: int = RECIPE["patience"],
    lr_reduce_patience: int | None = RECIPE["lr_reduce_patience"],
    batch_size: int = RECIPE["batch_size"],
    learning_rate: float = RECIPE["learning_rate"],
    filters: int = RECIPE["filters"],
    depth: int = RECIPE["depth"],
    patch_size: int = RECIPE["patch_size"],
    dropout: float = RECIPE["dropout"],
    max_attenuation_db: float | None = RECIPE["max_attenuation_db"],
    loss: str = RECIPE["loss"],
    magnitude_exponent: float = RECIPE["magnitude_exponent"],
    over_suppression_weight: float = RECIPE["over_suppression_weight"],
    recogniser_weight: float = RECIPE["recogniser_weight"],
    output_activation: str | None = RECIPE["output_activation"],
    dry: float = RECIPE["dry"],
    init_model: PathLike | None = None,
    augmentation: Augmentation | None = None,
    random_state: int = RECIPE["random_state"],
    verbose: int = 1,
    command: str | None = None,
) -> dict:
    """Train a denoising pipeline on speech and noise mixed on the fly, and save it.

    Parameters
    ----------
    speech, noise : folder, manifest or list of them
        Sources (see :func:`skdenoise.datasets.resolve_sources`).
    out : path
        Model file to write (``.npz``); a checkpoint, a loss-curve PNG and a JSON report
        are written beside it.
    sample_rate : int
        Rate of the model in Hz.
    epochs : int
        Maximum epochs (one epoch visits every speech utterance once).
    resume : bool
        Continue from the checkpoint beside ``out``. Without it, an existing checkpoint is an
        error (nothing is overwritten by accident).
    exclude_licenses : sequence of str
        Manifest rows whose licence contains one of these are not used.
    snr_range, gain_db_range : (float, float)
        Ranges (dB) of the SNR and of the random level change of each mixture.
    segment_seconds : float
        Longest speech segment per utterance and epoch.
    n_fft, hop_length : int
        STFT window and hop in samples (``n_fft // 2 + 1`` frequency bins). The default,
        255 and 63, is 128 bins of 31 Hz and a 7.9 ms hop at 8 kHz; at 16 kHz, 510 and 126
        keep that resolution (256 bins up to 8 kHz), where 255 and 63 halve it.
    frame_length : int
        Samples per network frame, a multiple of ``hop_length``: 8064 is 128 columns of hop
        63, 1.008 s at 8 kHz and 0.504 s at 16 kHz (16128 with a hop of 126 at 16 kHz).
    validation_fraction : float
        Share of speakers (and of noise files per category) held out for validation.
    patience : int
        Early-stopping patience in epochs.
    lr_reduce_patience : int or None
        Halve the learning rate after this many epochs without improvement.
    batch_size, learning_rate, filters, depth, patch_size, dropout, max_attenuation_db, loss
        U-Net hyperparameters (see :class:`skdenoise.UNetNoiseRegressor`).
    magnitude_exponent : float
        Compression of the ``"magnitude"`` loss (see :class:`skdenoise.UNetNoiseRegressor`).
    over_suppression_weight : float
        Extra weight of speech removed in the ``"magnitude"`` loss (same).
    recogniser_weight : float
        Weight of the Whisper-encoder term in the loss (same; 0: none).
    output_activation : {None, "linear", "sigmoid", "tanh"}
        Last layer; ``"sigmoid"`` is the bounded gain-mask parameterisation.
    dry : float
        Dry mix stored in the model's rebuild step.
    init_model : path, optional
        Warm start from this model file's weights (same architecture), e.g. the shipped
        model (:func:`skdenoise.pipeline.pretrained_path`) to fine-tune it.
    augmentation : skdenoise.augment.Augmentation, optional
        Degradations of the training mixtures (telephone channel, room, codec, clipping,
        summed noises, babble); None mixes speech and noise only.
    random_state : int
        Seed.
    verbose : int
        1 for progress bars.
    command : str, optional
        The command line, recorded in the report.

    Returns
    -------
    dict
        The report written beside the model.

    Examples
    --------
    The recipe behind ``skdenoise train`` (here a tiny run on synthetic audio):

    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> from skdenoise.training import train_model
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(4):
    ...     _ = write_wav(root / "speech" / f"s{i}.wav", syllables(seed=i), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 5.0), 8000)
    >>> report = train_model(root / "speech", root / "noise", root / "tiny.npz", epochs=1,
    ...                      filters=4, depth=2, verbose=0)  # doctest: +SKIP
    """
    from .pipeline import make_denoising_pipeline, save_model
    from .plotting import plot_history

    paths = companion_paths(out)
    if paths["checkpoint"].exists() and not resume:
        raise FileExistsError(
            f"{paths['checkpoint']}: a checkpoint of an earlier run exists; pass --resume to "
            "continue it, or delete it to start again."
        )
    stream = _mixture_stream(
        speech,
        noise,
        exclude_licenses,
        sample_rate=sample_rate,
        snr_range=snr_range,
        gain_db_range=gain_db_range,
        segment_seconds=segment_seconds,
        augmentation=augmentation,
        random_state=random_state,
    )
    speech_rows, noise_rows = stream.speech, stream.noise
    pipe = make_denoising_pipeline(
        load__sample_rate=sample_rate,
        spec__n_fft=n_fft,
        spec__hop_length=hop_length,
        spec__frame_length=frame_length,
        unet__filters=filters,
        unet__depth=depth,
        unet__patch_size=patch_size,
        unet__dropout=dropout,
        unet__max_attenuation_db=max_attenuation_db,
        unet__loss=loss,
        unet__magnitude_exponent=magnitude_exponent,
        unet__over_suppression_weight=over_suppression_weight,
        unet__recogniser_weight=recogniser_weight,
        unet__output_activation=None if output_activation == "linear" else output_activation,
        unet__epochs=epochs,
        unet__batch_size=batch_size,
        unet__learning_rate=learning_rate,
        unet__validation_fraction=validation_fraction,
        unet__patience=patience,
        unet__lr_reduce_patience=lr_reduce_patience,
        unet__random_state=random_state,
        unet__checkpoint_path=str(paths["checkpoint"]),
        unet__init_model=None if init_model is None else str(init_model),
        unet__verbose=verbose,
        rebuild__dry=dry,
    )
    logger.info("training on %d speech and %d noise files", len(speech_rows), len(noise_rows))
    started = time.time()
    pipe.fit(stream)
    seconds = time.time() - started
    regressor = pipe.named_steps["unet"]
    save_model(pipe, paths["model"])
    plot_history(
        regressor.history_, paths["loss_curve"], title=f"{paths['model'].name}: {loss} loss"
    )
    report = {
        "command": command,
        "model": paths["model"].name,
        "sample_rate": sample_rate,
        "init_model": None if init_model is None else str(init_model),
        "wall_time_s_this_run": round(seconds, 1),
        "epochs_run": regressor.n_epochs_,
        "best_epoch": regressor.best_epoch_,
        "frames_per_epoch": regressor.n_train_frames_,
        "final_loss": regressor.history_["loss"][-1],
        "final_val_loss": regressor.history_.get("val_loss", [None])[-1],
        "best_val_loss": min(regressor.history_.get("val_loss", [float("nan")])),
        "history": regressor.history_,
        "parameters": int(regressor.model_.count_params()),
        "speech_files": len(speech_rows),
        "noise_files": len(noise_rows),
        "speech_minutes": round(sum(float(r.get("duration_s") or 0) for r in speech_rows) / 60, 1),
        "noise_minutes": round(sum(float(r.get("duration_s") or 0) for r in noise_rows) / 60, 1),
        "excluded_licenses": list(exclude_licenses),
        "speech_licenses": sorted({r.get("license", "") for r in speech_rows}),
        "noise_licenses": sorted({r.get("license", "") for r in noise_rows}),
        "noise_categories": sorted({r.get("category", "") for r in noise_rows}),
        "mixing": {
            "snr_range": list(stream.snr_range),
            "gain_db_range": list(stream.gain_db_range),
            "segment_seconds": stream.segment_seconds,
            "min_seconds": stream.min_seconds,
            "augmentation": None if augmentation is None else augmentation.as_dict(),
        },
        "unet": {
            k: v
            for k, v in regressor.get_params().items()
            if k not in ("checkpoint_path", "verbose")
        },
    }
    with atomic_path(paths["report"]) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    return report
