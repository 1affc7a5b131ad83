"""Evaluating a denoiser on a set of noisy/clean pairs: per-file metrics, summaries, plots.

:func:`evaluate` scores the noisy input and the enhanced output of every pair against the
clean reference (PESQ, STOI, SI-SDR) and runs the recogniser on clean, input and output
(WER, MER, WIL against the manifest's transcript, or against the recogniser's transcript of
the clean reference when there is none). :func:`summarize` averages signal metrics and
computes corpus-level word metrics overall, by SNR and by noise type. What ``skdenoise
evaluate`` prints and writes comes from here.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import metrics
from .audio import PathLike, atomic_path, to_waveform
from .datasets import list_audio, load_manifest

logger = logging.getLogger(__name__)

__all__ = [
    "DnsmosCache",
    "Evaluation",
    "enhance_at_rate",
    "evaluate",
    "format_summary",
    "format_timings",
    "plot_summary",
    "read_pairs",
    "score_item",
    "summarize",
    "summary_metrics",
    "write_rows",
]

SIGNAL = ("pesq", "stoi", "si_sdr")
#: Reference-free metrics (DNSMOS), computed when ``evaluate(dnsmos=True)``.
REFERENCE_FREE = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808")
WORDS = ("wer", "mer", "wil")
LABELS = {
    "pesq": "PESQ",
    "stoi": "STOI",
    "si_sdr": "SI-SDR (dB)",
    "dnsmos_ovrl": "DNSMOS OVRL",
    "dnsmos_sig": "DNSMOS SIG",
    "dnsmos_bak": "DNSMOS BAK",
    "dnsmos_p808": "DNSMOS P.808",
    "wer": "WER",
    "mer": "MER",
    "wil": "WIL",
}
HIGHER_IS_BETTER = {
    "pesq": True,
    "stoi": True,
    "si_sdr": True,
    "dnsmos_ovrl": True,
    "dnsmos_sig": True,
    "dnsmos_bak": True,
    "dnsmos_p808": True,
    "wer": False,
    "mer": False,
    "wil": False,
}


def read_pairs(
    manifest: PathLike | None = None,
    *,
    noisy_dir: PathLike | None = None,
    clean_dir: PathLike | None = None,
) -> list[dict]:
    """Evaluation items from a manifest or from two folders with matching names.

    A manifest (TSV or CSV) needs ``noisy_path`` and ``clean_path`` (or ``noisy`` and
    ``clean``) columns, and may have ``transcript``, ``snr_db`` (or ``snr``) and
    ``noise_category`` (or ``noise_type``). Folders are matched by relative path.

    Without ``clean_dir``, items have ``clean=None``: only reference-free metrics (DNSMOS)
    can score them.

    Returns
    -------
    list of dict
        Keys ``name``, ``noisy``, ``clean``, ``transcript``, ``snr_db``, ``noise_type``.
    """
    items = []
    if manifest is not None:
        for row in load_manifest(manifest):
            noisy = row.get("noisy_path") or row.get("noisy")
            clean = row.get("clean_path") or row.get("clean")
            if not noisy or not clean:
                raise ValueError(f"{manifest}: rows need noisy_path and clean_path columns.")
            snr = row.get("snr_db", row.get("snr", ""))
            items.append(
                {
                    "name": Path(noisy).name,
                    "noisy": noisy,
                    "clean": clean,
                    "transcript": row.get("transcript", "") or "",
                    "snr_db": float(snr) if snr not in ("", None) else math.nan,
                    "noise_type": row.get("noise_category", row.get("noise_type", "")) or "",
                }
            )
        return items
    if noisy_dir is None:
        raise ValueError("give a manifest, or a noisy folder (with or without a clean one).")
    noisy_root = Path(noisy_dir)
    clean_root = None if clean_dir is None else Path(clean_dir)
    for noisy in list_audio(noisy_root):
        relative = noisy.relative_to(noisy_root)
        clean = None
        if clean_root is not None:
            clean = clean_root / relative
            if not clean.exists():
                raise FileNotFoundError(f"{noisy}: no clean file {clean} with the same name.")
        items.append(
            {
                "name": str(relative),
                "noisy": str(noisy),
                "clean": None if clean is None else str(clean),
                "transcript": "",
                "snr_db": math.nan,
                "noise_type": "",
            }
        )
    return items


def _timed(timings: dict, key: str, audio_seconds: float, fn: Callable, *args):
    """Call ``fn(*args)``, adding its time and the audio it processed to ``timings[key]``."""
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        spent, audio = timings.get(key, (0.0, 0.0))
        timings[key] = (spent + time.perf_counter() - start, audio + audio_seconds)


def score_item(
    item: dict,
    output: np.ndarray | None,
    *,
    sample_rate: int,
    transcriber,
    asr: bool | str = True,
    dnsmos_hop_s: float | None = None,
    signal: bool = True,
    dnsmos_cache: DnsmosCache | None = None,
) -> tuple[dict, dict]:
    """Metrics of one item's input and output (``output=None``: the input passes through).

    ``asr`` is True (decode every item), ``"transcribed"`` (only items with a manifest
    transcript) or False. ``dnsmos_hop_s`` (seconds between DNSMOS windows, see
    :func:`skdenoise.metrics.dnsmos`) adds the reference-free DNSMOS scores; None leaves
    them out. ``signal=False`` leaves out PESQ, STOI and SI-SDR (e.g. a second pass with
    another recogniser). An item without a clean file (``clean=None``) gets reference-free
    metrics only.

    Returns
    -------
    row : dict
        ``{metric}_input``, ``{metric}_output`` for the signal metrics (NaN when a metric
        cannot score the pair, with the reason in ``not_scored``); ``hyp_clean``,
        ``hyp_input``, ``hyp_output`` and ``reference`` texts when decoded.
    timings : dict
        Per metric, (seconds spent, seconds of audio processed).
    """
    timings: dict[str, tuple[float, float]] = {}
    noisy = to_waveform(item["noisy"], sample_rate=sample_rate, name=item["name"])
    clean = None
    if item.get("clean") is not None:
        clean = to_waveform(
            item["clean"],
            sample_rate=sample_rate,
            name=f"{item['name']} (clean)",
            allow_silent=True,
        )
        if len(clean) != len(noisy):
            raise ValueError(
                f"{item['name']}: {len(noisy)} samples but its clean reference {item['clean']} "
                f"has {len(clean)} at {sample_rate} Hz: a pair must be aligned sample for sample."
            )
    output = noisy if output is None else output
    seconds = len(noisy) / sample_rate
    row = {
        "name": item["name"],
        "snr_db": item["snr_db"],
        "noise_type": item["noise_type"],
        "duration_s": round(seconds, 3),
    }
    reasons: dict[str, str] = {}
    for system, wave in (("input", noisy), ("output", output)):
        if dnsmos_hop_s is not None:
            if system == "output" and output is noisy:
                for metric in REFERENCE_FREE:
                    row[f"{metric}_output"] = row[f"{metric}_input"]
                continue
            try:
                scores = _timed(
                    timings,
                    "dnsmos",
                    seconds,
                    _dnsmos,
                    wave,
                    sample_rate,
                    dnsmos_hop_s,
                    dnsmos_cache,
                )
            except ValueError as exc:
                reasons.setdefault("dnsmos", str(exc))
                scores = dict.fromkeys(metrics.DNSMOS_PARTS, math.nan)
            for part in metrics.DNSMOS_PARTS:
                row[f"dnsmos_{part}_{system}"] = scores[part]
        if clean is None or not signal:
            continue
        for metric in SIGNAL:
            fn = {
                "pesq": lambda r, e: metrics.pesq(r, e, sample_rate),
                "stoi": lambda r, e: metrics.stoi(r, e, sample_rate),
                "si_sdr": metrics.si_sdr,
            }[metric]
            try:
                row[f"{metric}_{system}"] = _timed(timings, metric, seconds, fn, clean, wave)
            except ValueError as exc:
                reasons.setdefault(metric, str(exc))
                row[f"{metric}_{system}"] = math.nan
    if reasons:
        row["not_scored"] = "; ".join(f"{m}: {why}" for m, why in reasons.items())
    if clean is None or (asr == "transcribed" and not item["transcript"]):
        asr = False
    if asr:
        decode = transcriber.transcribe
        row["hyp_clean"] = _timed(timings, "asr", seconds, decode, clean, sample_rate)
        row["hyp_input"] = _timed(timings, "asr", seconds, decode, noisy, sample_rate)
        row["hyp_output"] = (
            row["hyp_input"]
            if output is noisy
            else _timed(timings, "asr", seconds, decode, output, sample_rate)
        )
        if item["transcript"]:
            row["reference"], row["reference_source"] = item["transcript"], "manifest"
        else:
            row["reference"], row["reference_source"] = row["hyp_clean"], "asr of clean"
        for system in ("clean", "input", "output"):
            measures = metrics.text_measures(row["reference"], row[f"hyp_{system}"])
            for metric in WORDS:
                row[f"{metric}_{system}"] = measures[metric]
    return row, timings


class DnsmosCache:
    """DNSMOS scores kept by the audio's content (and rate and hop), optionally in a file
    (JSON lines), so that the same noisy input is scored once for every system compared on
    it, and again in no later run."""

    def __init__(self, path: PathLike | None = None):
        self.path = None if path is None else Path(path)
        self.scores: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.scores[entry["key"]] = entry["scores"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash: scored again

    @staticmethod
    def key(wave: np.ndarray, sample_rate: int, hop_s: float) -> str:
        from .asr import CachedTranscriber

        return f"{CachedTranscriber.key(wave, sample_rate)}/{float(hop_s)!r}"

    def __call__(self, wave: np.ndarray, sample_rate: int, hop_s: float) -> dict[str, float]:
        key = self.key(wave, sample_rate, hop_s)
        if key not in self.scores:
            self.scores[key] = metrics.dnsmos(wave, sample_rate, hop_s=hop_s)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "scores": self.scores[key]}) + "\n")
        return self.scores[key]


_DNSMOS_CACHE = DnsmosCache()


def _dnsmos(
    wave: np.ndarray, sample_rate: int, hop_s: float, cache: DnsmosCache | None = None
) -> dict[str, float]:
    return (cache or _DNSMOS_CACHE)(wave, sample_rate, hop_s)


@dataclass(eq=False)
class Evaluation:
    """Per-file rows and the time spent per metric."""

    rows: list[dict]
    sample_rate: int
    timings: dict[str, tuple[float, float]] = field(default_factory=dict)
    audio_seconds: float = 0.0
    enhance_seconds: float = 0.0
    recogniser: str = ""

    def seconds_per_audio_second(self) -> dict[str, float]:
        """Processing seconds per second of audio for one evaluation of each metric (one
        decoding for ``asr``), and for the enhancement (``enhance``)."""
        out = {k: spent / audio for k, (spent, audio) in sorted(self.timings.items()) if audio}
        if self.enhance_seconds:
            out["enhance"] = self.enhance_seconds / self.audio_seconds
        return out


def enhance_at_rate(
    enhance: Callable[[list[np.ndarray]], list[np.ndarray]], model_rate: int, rate: int
) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """Wrap ``enhance`` (waveforms at ``model_rate`` in and out) for waveforms at ``rate``.

    Inputs are resampled to the model's rate and outputs back to ``rate``, trimmed or padded
    to the input's length: what ``skdenoise denoise`` does to a file at another rate, so that,
    e.g., an 8 kHz model can be scored on 16 kHz audio as a user would run it.
    """
    from .audio import fit_length, resample

    if model_rate == rate:
        return enhance

    def wrapped(waveforms: list[np.ndarray]) -> list[np.ndarray]:
        outputs = enhance([resample(x, rate, model_rate) for x in waveforms])
        return [
            fit_length(resample(y, model_rate, rate), len(x)) for x, y in zip(waveforms, outputs)
        ]

    return wrapped


def evaluate(
    items: Sequence[dict],
    enhance: Callable[[list[np.ndarray]], list[np.ndarray]] | None,
    *,
    sample_rate: int = 8000,
    transcriber=None,
    asr: bool | str = True,
    jobs: int = 1,
    backend: str | None = None,
    batch: int = 32,
    transcript_cache: PathLike | None = None,
    dnsmos: bool = False,
    dnsmos_hop_s: float = 1.0,
    signal: bool = True,
    dnsmos_cache: PathLike | None = None,
    progress: bool = False,
) -> Evaluation:
    """Enhance every noisy file and score input and output against the clean reference.

    Parameters
    ----------
    items : sequence of dict
        From :func:`read_pairs`.
    enhance : callable, optional
        Takes a list of waveforms at ``sample_rate``, returns the enhanced list (e.g. a
        pipeline's ``predict``). ``None`` scores the input as the output (passthrough).
    sample_rate : int
        Rate at which everything is scored (8000: narrowband PESQ; 16000: wideband).
    transcriber : Transcriber, optional
        Default PocketSphinx.
    asr : bool or "transcribed"
        Compute WER/MER/WIL for every item, or only for items with a transcript in the
        manifest (the others get signal metrics only).
    jobs : int
        Worker processes for the metrics.
    backend : str, optional
        joblib backend of those workers: ``"loky"`` (local processes, the default when
        ``jobs > 1``), ``"dask"`` (the current ``dask.distributed`` client; see
        :func:`skdenoise.parallel.dask_client`) or another registered one (``"ray"``).
        Enhancement runs here, in batches; scoring (PESQ, STOI, the recogniser, DNSMOS)
        runs on the workers.
    batch : int
        Files enhanced per model call.
    transcript_cache : path, optional
        File of transcripts kept between runs and shared with the worker processes (see
        :class:`skdenoise.asr.CachedTranscriber`).
    dnsmos : bool
        Also score input and output with DNSMOS (reference-free, at 16 kHz; see
        :func:`skdenoise.metrics.dnsmos`). Items without a clean file get only these.
    dnsmos_hop_s : float
        Seconds between DNSMOS windows (1.0 as speechmos; larger is faster).
    signal : bool
        Compute PESQ, STOI and SI-SDR (False: only the recogniser and DNSMOS).
    dnsmos_cache : path, optional
        File of DNSMOS scores kept between runs, keyed by the audio (see
        :class:`DnsmosCache`); without it scores are kept for this process only.
    progress : bool
        Progress bars.

    Returns
    -------
    Evaluation
    """
    from joblib import Parallel, delayed, parallel_config

    from .asr import CachedTranscriber, as_transcriber

    if transcript_cache is not None or not isinstance(transcriber, CachedTranscriber):
        transcriber = CachedTranscriber(as_transcriber(transcriber), path=transcript_cache)
    rows: list[dict] = []
    timings: dict[str, tuple[float, float]] = {}
    enhance_seconds = 0.0
    cache = DnsmosCache(dnsmos_cache) if dnsmos_cache is not None else None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), unit="file", desc="evaluating")
    parallel = None
    if jobs > 1 or backend is not None:
        # Through parallel_config: joblib's Dask backend fails when named in
        # Parallel(backend=...) inside a parallel_config block.
        with parallel_config(backend=backend) if backend else contextlib.nullcontext():
            parallel = Parallel(n_jobs=jobs)
    for start in range(0, len(items), batch):
        group = list(items[start : start + batch])
        outputs: list = [None] * len(group)
        if enhance is not None:
            noisy = [
                to_waveform(i["noisy"], sample_rate=sample_rate, name=i["name"]) for i in group
            ]
            t0 = time.perf_counter()
            outputs = list(enhance(noisy))
            enhance_seconds += time.perf_counter() - t0
        calls = [
            delayed(score_item)(
                item,
                out,
                sample_rate=sample_rate,
                transcriber=transcriber,
                asr=asr,
                dnsmos_hop_s=dnsmos_hop_s if dnsmos else None,
                signal=signal,
                dnsmos_cache=cache,
            )
            for item, out in zip(group, outputs)
        ]
        results = parallel(calls) if parallel is not None else [c[0](*c[1], **c[2]) for c in calls]
        for row, spent in results:
            rows.append(row)
            for key, (seconds, audio) in spent.items():
                total, total_audio = timings.get(key, (0.0, 0.0))
                timings[key] = (total + seconds, total_audio + audio)
        if bar is not None:
            bar.update(len(group))
    if bar is not None:
        bar.close()
    _warn_not_scored(rows)
    seconds = sum(r["duration_s"] for r in rows)
    return Evaluation(
        rows,
        sample_rate,
        dict(timings),
        seconds,
        enhance_seconds,
        recogniser=repr(getattr(transcriber, "transcriber", transcriber)),
    )


def _warn_not_scored(rows: list[dict]) -> None:
    """One warning per metric that could not score some files (not one per file)."""
    for metric in SIGNAL + REFERENCE_FREE:
        skipped = [
            r
            for r in rows
            if f"{metric}_input" in r
            and (math.isnan(r[f"{metric}_input"]) or math.isnan(r[f"{metric}_output"]))
        ]
        if skipped:
            first = skipped[0]
            key = "dnsmos" if metric.startswith("dnsmos") else metric
            reason = first.get("not_scored", "").split(f"{key}: ", 1)[-1].split("; ")[0]
            logger.warning(
                "%s not scored on %d of %d files, left out of its means (e.g. %s: %s); the "
                "per-file CSV gives each reason in its not_scored column.",
                metric,
                len(skipped),
                len(rows),
                first["name"],
                reason,
            )


# ----------------------------------------------------------------------------- summaries


def _group_summary(rows: list[dict], asr: bool) -> dict:
    out: dict = {"files": len(rows)}
    for metric in SIGNAL + REFERENCE_FREE:
        if not any(f"{metric}_input" in r for r in rows):
            continue
        # Paired means: a file counts only where both input and output were scored, so an
        # output that a metric refuses (e.g. silence for PESQ) cannot flatter the mean.
        pairs = [
            (r[f"{metric}_input"], r[f"{metric}_output"]) for r in rows if f"{metric}_input" in r
        ]
        pairs = [p for p in pairs if not (math.isnan(p[0]) or math.isnan(p[1]))]
        out[f"{metric}_files"] = len(pairs)
        for k, system in enumerate(("input", "output")):
            out[f"{metric}_{system}"] = float(np.mean([p[k] for p in pairs])) if pairs else math.nan
    decoded = [r for r in rows if "hyp_input" in r]
    if asr and decoded:
        out["files_asr"] = len(decoded)
        refs = [r["reference"] for r in decoded]
        for system in ("clean", "input", "output"):
            measures = metrics.text_measures(refs, [r[f"hyp_{system}"] for r in decoded])
            for metric in WORDS:
                out[f"{metric}_{system}"] = measures[metric]
    return out


def summarize(evaluation: Evaluation) -> dict:
    """Summaries overall, by SNR and by noise type.

    Returns
    -------
    dict
        ``{"overall": summary, "by_snr": {snr: summary}, "by_noise": {type: summary}}``;
        a summary holds ``{metric}_{system}`` means (signal) or corpus-level rates (words).
    """
    rows = evaluation.rows
    asr = any("hyp_input" in r for r in rows)
    by_snr: dict = defaultdict(list)
    by_noise: dict = defaultdict(list)
    for r in rows:
        if not math.isnan(r["snr_db"]):
            by_snr[r["snr_db"]].append(r)
        if r["noise_type"]:
            by_noise[r["noise_type"]].append(r)
    return {
        "overall": _group_summary(rows, asr),
        "by_snr": {k: _group_summary(v, asr) for k, v in sorted(by_snr.items())},
        "by_noise": {k: _group_summary(v, asr) for k, v in sorted(by_noise.items())},
        "asr": asr,
    }


def _fmt(value: float, metric: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if metric in WORDS:
        return f"{100 * value:.1f}%"
    return f"{value:.2f}" if metric == "si_sdr" else f"{value:.3f}"


def _delta(a: float, b: float, metric: str) -> str:
    if math.isnan(a) or math.isnan(b):
        return "-"
    d = b - a
    if metric in WORDS:
        return f"{100 * d:+.1f} pts"
    return f"{d:+.2f}" if metric == "si_sdr" else f"{d:+.3f}"


def summary_metrics(summary: dict) -> list[str]:
    """The metrics a :func:`summarize` result holds, in table order."""
    overall = summary["overall"]
    present = [m for m in SIGNAL + REFERENCE_FREE if f"{m}_input" in overall]
    return present + (list(WORDS) if summary["asr"] else [])


def format_summary(summary: dict, *, output_name: str = "output") -> str:
    """Markdown tables of a :func:`summarize` result."""
    metrics_ = summary_metrics(summary)
    lines = []

    def table(title: str, groups: dict, key_name: str) -> None:
        lines.append(f"### {title}")
        lines.append("")
        header = [key_name, "files", "system", *[LABELS[m] for m in metrics_]]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for key, s in groups.items():
            systems = [("input", "noisy input"), ("output", output_name)]
            if summary["asr"]:
                systems.insert(0, ("clean", "clean (ASR ceiling)"))
            for system, label in systems:
                cells = [str(key), str(s["files"]), label]
                for m in metrics_:
                    cells.append(
                        _fmt(s.get(f"{m}_{system}", math.nan), m)
                        if (system != "clean" or m in WORDS)
                        else ""
                    )
                lines.append("| " + " | ".join(cells) + " |")
            cells = [str(key), str(s["files"]), "improvement"]
            cells += [
                _delta(s.get(f"{m}_input", math.nan), s.get(f"{m}_output", math.nan), m)
                for m in metrics_
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    table("Overall", {"all": summary["overall"]}, "set")
    if summary["by_snr"]:
        table("By input SNR", {f"{k:g} dB": v for k, v in summary["by_snr"].items()}, "SNR")
    if summary["by_noise"]:
        table("By noise type", summary["by_noise"], "noise")
    return "\n".join(lines)


def format_timings(evaluation: Evaluation) -> str:
    """Seconds of processing per second of audio, per metric."""
    lines = ["| step | s per s of audio |", "|---|---|"]
    names = {
        "asr": f"ASR (one decoding: {evaluation.recogniser or 'recogniser'})",
        "dnsmos": "DNSMOS (one recording)",
        "pesq": "PESQ",
        "stoi": "STOI",
        "si_sdr": "SI-SDR",
        "enhance": "enhancement (model)",
    }
    for key, value in evaluation.seconds_per_audio_second().items():
        lines.append(f"| {names.get(key, key)} | {value:.4f} |")
    return "\n".join(lines)


def write_rows(evaluation: Evaluation, path: PathLike) -> Path:
    """Per-file CSV (atomic)."""
    rows = evaluation.rows
    columns = list(dict.fromkeys(key for row in rows for key in row)) or ["name"]
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
    return path


def plot_summary(summary: dict, folder: PathLike, *, output_name: str = "output") -> list[Path]:
    """One PNG per metric against SNR (input vs output, plus the ASR ceiling)."""
    from .plotting import plot_metric_by_snr

    by_snr = summary["by_snr"]
    if not by_snr:
        return []
    snrs = list(by_snr)
    written = []
    metrics_ = summary_metrics(summary)
    for metric in metrics_:
        curves = {
            "noisy input": [by_snr[s][f"{metric}_input"] for s in snrs],
            output_name: [by_snr[s][f"{metric}_output"] for s in snrs],
        }
        if metric in WORDS:
            curves["clean (ceiling)"] = [by_snr[s][f"{metric}_clean"] for s in snrs]
        path = Path(folder) / f"{metric}_by_snr.png"
        plot_metric_by_snr(
            snrs,
            curves,
            metric=LABELS[metric],
            path=path,
            higher_is_better=HIGHER_IS_BETTER[metric],
        )
        written.append(path)
    return written
