"""Evaluating a denoiser on a set of noisy/clean pairs: per-file metrics, summaries, plots.

:func:`evaluate` scores the noisy input and the enhanced output of every pair against the
clean reference (PESQ, STOI, SI-SDR) and runs the recogniser on clean, input and output
(WER, MER, WIL against the manifest's transcript, or against the recogniser's transcript of
the clean reference when there is none). :func:`summarize` averages signal metrics and
computes corpus-level word metrics overall, by SNR and by noise type. What ``skdenoise
evaluate`` prints and writes comes from here.
"""

from __future__ import annotations

import csv
import functools
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

# Views of the one registry, skdenoise.metrics.METRICS.
SIGNAL = metrics.metric_names("signal")
#: Reference-free metrics (DNSMOS), computed when ``evaluate(dnsmos=True)``.
REFERENCE_FREE = metrics.metric_names("reference_free")
WORDS = metrics.metric_names("words")
LABELS = {name: m.label for name, m in metrics.METRICS.items()}
HIGHER_IS_BETTER = {name: m.higher_is_better for name, m in metrics.METRICS.items()}


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

    Parameters
    ----------
    manifest : str or PathLike, optional
        A TSV or CSV manifest.
    noisy_dir : str or PathLike, optional
        A folder of noisy files (instead of a manifest).
    clean_dir : str or PathLike, optional
        A folder of clean files with the same relative paths.

    Returns
    -------
    list of dict
        Keys ``name``, ``noisy``, ``clean``, ``transcript``, ``snr_db``, ``noise_type``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.evaluation import read_pairs
    >>> from skdenoise.synthetic import syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "noisy" / "a.wav", syllables(), 8000)
    >>> _ = write_wav(root / "clean" / "a.wav", syllables(), 8000)
    >>> item = read_pairs(noisy_dir=root / "noisy", clean_dir=root / "clean")[0]
    >>> item["name"], pathlib.Path(item["clean"]).parent.name
    ('a.wav', 'clean')
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

    Parameters
    ----------
    item : dict
        One item of :func:`read_pairs`.
    output : ndarray of shape (n_samples,), optional
        The enhanced recording at ``sample_rate``; ``None`` scores the input as the output.
    sample_rate : int
        The scoring rate in Hz.
    transcriber : Transcriber or None
        The recogniser (PocketSphinx when ``None`` and ``asr`` is on).
    asr : bool or "transcribed"
        Which items the recogniser decodes.
    dnsmos_hop_s : float, optional
        Seconds between DNSMOS windows; ``None``: no DNSMOS.
    signal : bool
        Compute PESQ, STOI and SI-SDR.
    dnsmos_cache : DnsmosCache, optional
        Scores kept between calls.

    Returns
    -------
    row : dict
        ``{metric}_input``, ``{metric}_output`` for the signal metrics (NaN when a metric
        cannot score the pair, with the reason in ``not_scored``); ``hyp_clean``,
        ``hyp_input``, ``hyp_output`` and ``reference`` texts when decoded.
    timings : dict
        Per metric, (seconds spent, seconds of audio processed).

    Examples
    --------
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import score_item
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hum", 3.0), 5.0, rng=0)
    >>> item = {"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...         "snr_db": 5.0, "noise_type": "hum"}
    >>> row, seconds = score_item(item, None, sample_rate=8000, transcriber=None, asr=False)
    >>> round(row["si_sdr_input"], 1)  # SI-SDR counts the silences too; the SNR does not
    1.8
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
            fn = metrics.METRICS[metric]
            try:
                row[f"{metric}_{system}"] = _timed(
                    timings, metric, seconds, fn, clean, wave, sample_rate
                )
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
    it, and again in no later run.

    Parameters
    ----------
    path : str or PathLike, optional
        File of scores kept between runs; ``None`` keeps them in memory only.

    Examples
    --------
    >>> import tempfile
    >>> from skdenoise.evaluation import DnsmosCache, evaluate
    >>> cache = DnsmosCache(tempfile.mkdtemp() + "/dnsmos.jsonl")
    >>> # evaluate(items, enhance, dnsmos=True, dnsmos_cache=cache.path) scores each audio once
    """

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
    """Per-file rows and the time spent per metric.

    Parameters
    ----------
    rows : list of dict
        One row per item (see :func:`score_item`).
    sample_rate : int
        The scoring rate in Hz.
    timings : dict of str to (float, float)
        Seconds spent and seconds of audio processed, per metric.
    audio_seconds : float
        Seconds of audio scored.
    enhance_seconds : float
        Seconds spent enhancing.
    recogniser : str
        The recogniser's ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> type(result).__name__, round(result.audio_seconds, 2), len(result.rows)
    ('Evaluation', 2.18, 1)
    """

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


def evaluate(
    items: Sequence[dict],
    enhance,
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
    enhance : DenoisingPipeline, callable or None
        A fitted denoising pipeline (its ``predict`` runs with ``sample_rate=``: a model
        at another rate gets the audio resampled, and gives its output back at
        ``sample_rate``); or a callable that takes a list of waveforms at ``sample_rate``
        and returns the enhanced list (e.g. a peer); ``None`` scores the input as the
        output (passthrough).
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

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> row = result.rows[0]
    >>> bool(row["si_sdr_output"] > row["si_sdr_input"])
    True
    """
    from joblib import delayed

    from .asr import CachedTranscriber, as_transcriber
    from .parallel import joblib_parallel

    if transcript_cache is not None or not isinstance(transcriber, CachedTranscriber):
        transcriber = CachedTranscriber(as_transcriber(transcriber), path=transcript_cache)
    if hasattr(enhance, "predict"):  # a pipeline: its arrays are at the scoring rate
        enhance = functools.partial(enhance.predict, sample_rate=sample_rate)
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
        parallel = joblib_parallel(jobs, backend)
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

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`evaluate`.

    Returns
    -------
    dict
        ``{"overall": summary, "by_snr": {snr: summary}, "by_noise": {type: summary}}``;
        a summary holds ``{metric}_{system}`` means (signal) or corpus-level rates (words).

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> from skdenoise.evaluation import summarize
    >>> summary = summarize(result)
    >>> sorted(summary["by_snr"]), sorted(summary["by_noise"])
    ([5.0], ['hiss'])
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
    """The metrics a :func:`summarize` result holds, in table order.

    Parameters
    ----------
    summary : dict
        From :func:`summarize`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> from skdenoise.evaluation import summarize, summary_metrics
    >>> summary_metrics(summarize(result))
    ['pesq', 'stoi', 'si_sdr']
    """
    overall = summary["overall"]
    present = [m for m in SIGNAL + REFERENCE_FREE if f"{m}_input" in overall]
    return present + (list(WORDS) if summary["asr"] else [])


def format_summary(summary: dict, *, output_name: str = "output") -> str:
    """Markdown tables of a :func:`summarize` result.

    Parameters
    ----------
    summary : dict
        From :func:`summarize`.
    output_name : str
        Name of the system in the tables.

    Returns
    -------
    str
        Markdown: overall, by SNR, by noise type.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> from skdenoise.evaluation import format_summary, summarize
    >>> print(format_summary(summarize(result), output_name="skdenoise").splitlines()[0])
    ### Overall
    """
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
    """Seconds of processing per second of audio, per metric.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`evaluate`.

    Returns
    -------
    str
        A Markdown table.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> from skdenoise.evaluation import format_timings
    >>> "PESQ" in format_timings(result)
    True
    """
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
    """Per-file CSV (atomic).

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`evaluate`.
    path : str or PathLike
        The CSV file to write.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> import tempfile
    >>> from skdenoise.evaluation import write_rows
    >>> path = write_rows(result, tempfile.mkdtemp() + "/per_file.csv")
    >>> path.read_text().split(",")[0]
    'name'
    """
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
    """One PNG per metric against SNR (input vs output, plus the ASR ceiling).

    Parameters
    ----------
    summary : dict
        From :func:`summarize`.
    folder : str or PathLike
        Where to write ``{metric}_by_snr.png``.
    output_name : str
        Name of the system in the legends.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.evaluation import evaluate
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, _ = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> items = [{"name": "a", "noisy": noisy, "clean": clean, "transcript": "",
    ...           "snr_db": 5.0, "noise_type": "hiss"}]
    >>> result = evaluate(items, load_pretrained(), asr=False)
    >>> import tempfile
    >>> from skdenoise.evaluation import plot_summary, summarize
    >>> sorted(p.name for p in plot_summary(summarize(result), tempfile.mkdtemp()))[:2]
    ['pesq_by_snr.png', 'si_sdr_by_snr.png']
    """
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
