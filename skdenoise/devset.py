"""A realistic dev set: noisy speech *unlike* the training data, and the training split that
keeps away from it.

Unlike training in the ways real use is:

- **noise categories training never sees**: whole kinds are held out (:data:`HELD_OUT_NOISE`:
  every category of every corpus whose name matches one of a kind's keywords), plus
  **babble** summed from four to six held-out speakers;
- **sentences from held-out speakers**, each at least 2 s (:func:`dev_speakers`);
- a **telephone channel** (:func:`skdenoise.augment.draw_channel`: elliptic band-pass with
  random edges in 250-400 Hz and 3100-3400 Hz, random tilt and EQ) on half of the set, applied
  to speech and noise before they are mixed, the clean reference through the same channel;
  a mild synthetic **room** on a quarter (reverberation time 0.2-0.5 s);
- SNR set on the active speech level (:func:`skdenoise.datasets.active_power`: 20 ms frames
  within 40 dB of the loudest, a P.56-style activity measure), at -5, 0, 5, 10 and 15 dB;
- written at every requested rate (8 and 16 kHz) from the same draws, each rate mixed at its
  own rate so that its SNR is exact there; a manifest per rate states every choice.

:func:`realistic_split` returns the training rows with every dev speaker and every held-out
noise category removed; ``skdenoise train`` on those never sees the dev set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .audio import AudioError, PathLike, read_audio, read_segment, write_wav
from .augment import apply_channel, apply_room, draw_channel, room_impulse_response
from .datasets import active_power, fit_noise_length, mix_at_snr, write_manifest

logger = logging.getLogger(__name__)

__all__ = [
    "HELD_OUT_NOISE",
    "dev_speakers",
    "make_realistic_devset",
    "noise_kind",
    "realistic_split",
]

#: Noise kinds held out of training, each with the keywords of its category names.
HELD_OUT_NOISE: dict[str, tuple[str, ...]] = {
    "vacuum": ("vacuum",),
    "dishes": ("dishes",),
    "exercise_bike": ("exercise_bike",),
    "train": ("train", "subway"),
    "construction": ("construction",),
    "laundry": ("washing_machine", "dryer", "laundry"),
    "typing": ("keyboard", "typewriter"),
}
#: The dev set's extra noise kind, summed from held-out speakers.
BABBLE = "babble"
DEV_SNRS = (-5.0, 0.0, 5.0, 10.0, 15.0)
MIN_SPEECH_S = 2.0
MAX_SPEECH_S = 12.0
MANIFEST_COLUMNS = (
    "noisy_path",
    "clean_path",
    "noise_path",
    "snr_db",
    "noise_category",
    "noise_files",
    "speaker",
    "transcript",
    "clean_source",
    "channel",
    "room",
    "scale",
    "duration_s",
    "speech_license",
    "noise_license",
)


def noise_kind(category: str) -> str | None:
    """The held-out kind of a noise category, or None if training may use it.

    Parameters
    ----------
    category : str
        A noise category of a corpus manifest.

    Returns
    -------
    str or None
        A key of :data:`HELD_OUT_NOISE`.

    Examples
    --------
    >>> from skdenoise.devset import noise_kind
    >>> noise_kind("vacuum_cleaner"), noise_kind("rain")
    ('vacuum', None)
    """
    name = category.lower()
    for kind, words in HELD_OUT_NOISE.items():
        if any(word in name for word in words):
            return kind
    return None


def dev_speakers(rows: Sequence[dict], *, n_speechocean: int = 30, seed: int = 0) -> set[str]:
    """The held-out speakers: every LibriSpeech test-other, test-clean and AN4 speaker of
    ``shared/data``, and ``n_speechocean`` speakers of speechocean762's test split (seeded).

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows with ``path`` and ``speaker``.
    n_speechocean : int
        speechocean762 test speakers to hold out.
    seed : int
        Seed of that choice.

    Returns
    -------
    set of str

    Examples
    --------
    >>> from skdenoise.devset import dev_speakers
    >>> rows = [{"path": "speech/librispeech/8k/test-other/1688/x.flac", "speaker": "1688"},
    ...         {"path": "speech/librispeech/8k/train-clean-100/19/y.flac", "speaker": "19"}]
    >>> sorted(dev_speakers(rows))
    ['1688']
    """
    speakers: set[str] = set()
    ocean: set[str] = set()
    for row in rows:
        path = row["path"]
        if "/test-other/" in path or "/test-clean/" in path or "/an4_subset/" in path:
            speakers.add(row["speaker"])
        elif "/speechocean762/" in path and "/test/" in path:
            ocean.add(row["speaker"])
    rng = np.random.default_rng(seed)
    ordered = sorted(ocean)
    pick = rng.choice(len(ordered), size=min(n_speechocean, len(ordered)), replace=False)
    return speakers | {ordered[i] for i in sorted(pick)}


def realistic_split(
    speech: Sequence[dict],
    noise: Sequence[dict],
    *,
    held_out_speakers: set[str],
    extra_dev_speakers: Sequence[str] = (),
    extra_dev_noise_paths: Sequence[str] = (),
) -> dict[str, list[dict]]:
    """Split rows into training and dev sides that share no speaker and no noise kind.

    Parameters
    ----------
    speech, noise : sequence of dict
        Corpus rows (``path``, ``speaker``, ``category``...).
    held_out_speakers : set of str
        Speakers of the dev side (:func:`dev_speakers`).
    extra_dev_speakers, extra_dev_noise_paths : sequence of str
        Also kept out of training (e.g. the older in-domain dev set's speakers and noise
        files, so that it stays a fair test too).

    Returns
    -------
    dict
        ``train_speech``, ``dev_speech``, ``train_noise``, ``dev_noise`` row lists.

    Examples
    --------
    >>> from skdenoise.devset import realistic_split
    >>> speech = [{"path": f"{s}.flac", "speaker": s} for s in ("ann", "bob")]
    >>> noise = [{"path": "v.flac", "category": "vacuum_cleaner"},
    ...          {"path": "r.flac", "category": "rain"}]
    >>> split = realistic_split(speech, noise, held_out_speakers={"bob"})
    >>> [r["speaker"] for r in split["dev_speech"]], [r["category"] for r in split["train_noise"]]
    (['bob'], ['rain'])
    """
    excluded = set(held_out_speakers) | set(extra_dev_speakers)
    excluded_noise = {str(Path(p).resolve()) for p in extra_dev_noise_paths}
    out: dict[str, list[dict]] = {k: [] for k in ("train_speech", "dev_speech")}
    for row in speech:
        if row["speaker"] in held_out_speakers:
            out["dev_speech"].append(row)
        elif row["speaker"] not in excluded:
            out["train_speech"].append(row)
    out["train_noise"], out["dev_noise"] = [], []
    for row in noise:
        if noise_kind(row.get("category", "")) is not None:
            out["dev_noise"].append(row)
        elif str(Path(row["path"]).resolve()) not in excluded_noise:
            out["train_noise"].append(row)
    return out


def _at_rate(path: str, rate: int) -> str:
    """The copy of a corpus file at another rate (``.../16k/...`` -> ``.../8k/...``)."""
    tag = f"/{rate // 1000}k/"
    for other in ("/8k/", "/16k/"):
        if other in path:
            return path.replace(other, tag, 1)
    return path


def _seconds(row: dict) -> float:
    return float(row.get("duration_s") or 0.0)


def _plan(dev_speech, dev_noise, n_per_snr, snrs, seed) -> list[dict]:
    """What each mixture is made of, independent of the rate."""
    rng = np.random.default_rng(seed)
    usable = [r for r in dev_speech if MIN_SPEECH_S <= _seconds(r) <= MAX_SPEECH_S]
    if not usable:
        raise ValueError(f"no dev utterance lasts {MIN_SPEECH_S:g}-{MAX_SPEECH_S:g} s.")
    transcribed = [r for r in usable if r.get("transcript")]
    others = [r for r in usable if not r.get("transcript")]
    n = n_per_snr * len(snrs)
    # Sentences with a transcript first (they give true WER), at most a third without.
    n_other = min(len(others), n // 3)
    pick_t = rng.choice(len(transcribed), size=min(n - n_other, len(transcribed)), replace=False)
    pick_o = rng.choice(len(others), size=n - len(pick_t), replace=len(others) < n - len(pick_t))
    chosen = [transcribed[i] for i in pick_t] + [others[i] for i in pick_o]
    order = rng.permutation(len(chosen))
    chosen = [chosen[i] for i in order]
    kinds = [*HELD_OUT_NOISE, BABBLE]
    by_kind: dict[str, list[dict]] = {k: [] for k in HELD_OUT_NOISE}
    for row in dev_noise:
        kind = noise_kind(row.get("category", ""))
        if kind is not None:
            by_kind[kind].append(row)
    missing = [k for k in HELD_OUT_NOISE if not by_kind[k]]
    if missing:
        logger.warning("no dev noise of kind %s: those mixtures use the other kinds", missing)
        kinds = [k for k in kinds if k not in missing]
    channel_on = rng.permutation(np.arange(n) % 2 == 0)
    room_on = rng.permutation(np.arange(n) % 4 == 0)
    babble_pool = [r for r in usable if r["speaker"]]
    plan = []
    for i, row in enumerate(chosen):
        kind = kinds[i % len(kinds)]
        item = {
            "index": i,
            "speech": row,
            "snr_db": float(snrs[i % len(snrs)]),
            "kind": kind,
            "channel": draw_channel(rng) if channel_on[i] else None,
            "room_seed": int(rng.integers(2**31)) if room_on[i] else None,
        }
        if kind == BABBLE:
            talkers = int(rng.integers(4, 7))
            pool = [r for r in babble_pool if r["speaker"] != row["speaker"]]
            picks, seen = [], set()
            for j in rng.permutation(len(pool)):
                if pool[j]["speaker"] not in seen:
                    picks.append(pool[j])
                    seen.add(pool[j]["speaker"])
                if len(picks) == talkers:
                    break
            item["noise"] = picks
            item["noise_starts"] = [float(rng.uniform(0, 0.5)) for _ in picks]
        else:
            files = by_kind[kind]
            noise_row = files[int(rng.integers(len(files)))]
            item["noise"] = [noise_row]
            span = max(0.0, _seconds(noise_row) - _seconds(row))
            item["noise_starts"] = [float(rng.uniform(0, span))]
        item["mix_seed"] = int(rng.integers(2**31))
        plan.append(item)
    return plan


def _noise_signal(item: dict, n: int, rate: int) -> np.ndarray:
    rng = np.random.default_rng(item["mix_seed"])
    total = np.zeros(n, np.float64)
    for row, start in zip(item["noise"], item["noise_starts"]):
        path = _at_rate(row["path"], rate)
        part = read_segment(path, start=int(start * rate), n_samples=n, sample_rate=rate)
        if len(part) < n:  # short noise: loop the whole file
            part, _ = read_audio(path, sample_rate=rate)
        part, _ = fit_noise_length(part, n, rng)
        if item["kind"] == BABBLE:
            power = active_power(part, rate)
            part = part / np.sqrt(power) if power > 0 else part
        total += part
    return total.astype(np.float32)


def make_realistic_devset(
    dev_speech: Sequence[dict],
    dev_noise: Sequence[dict],
    out: PathLike,
    *,
    n_per_snr: int = 40,
    snrs: Sequence[float] = DEV_SNRS,
    rates: Sequence[int] = (8000, 16000),
    seed: int = 0,
    progress: bool = False,
) -> dict[int, Path]:
    """Write the realistic dev set, one folder per rate (``8k/``, ``16k/``).

    Parameters
    ----------
    dev_speech, dev_noise : sequence of dict
        The dev side of :func:`realistic_split` (rows of the 16 kHz or 8 kHz manifests;
        the copy at each rate is found by its ``/8k/`` or ``/16k/`` folder).
    out : path
        Output folder; each rate gets ``noisy/``, ``clean/``, ``noise/`` and
        ``manifest.csv``.
    n_per_snr : int
        Mixtures per SNR.
    snrs : sequence of float
        SNRs in dB on active speech.
    rates : sequence of int
        Rates to write, in Hz.
    seed : int
        Seed of every choice.
    progress : bool
        Progress bar.

    Returns
    -------
    dict
        Rate -> manifest path.

    Examples
    --------
    Build it from the shared data and the extra corpus (see
    ``benchmarks/make_realistic_devset.py``, which makes the split first):

    >>> from skdenoise.devset import make_realistic_devset
    >>> paths = make_realistic_devset(split["dev_speech"], split["dev_noise"],
    ...                               "runs/realistic/devset")  # doctest: +SKIP
    """
    plan = _plan(list(dev_speech), list(dev_noise), n_per_snr, list(snrs), seed)
    out = Path(out)
    manifests = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan) * len(rates), unit="mixture", desc="realistic dev set")
    for rate in rates:
        folder = out / f"{rate // 1000}k"
        rows = []
        for item in plan:
            speech_row = item["speech"]
            speech, _ = read_audio(_at_rate(speech_row["path"], rate), sample_rate=rate)
            room = ""
            if item["room_seed"] is not None:
                rir, info = room_impulse_response(
                    rate, np.random.default_rng(item["room_seed"]), rt60_s=(0.2, 0.5)
                )
                speech = apply_room(speech, rir)
                room = f"rt60 {info['rt60_s']} s, room {info['dims_m']} m"
            noise = _noise_signal(item, len(speech), rate)
            channel = ""
            if item["channel"] is not None:
                speech = apply_channel(speech, rate, item["channel"])
                noise = apply_channel(noise, rate, item["channel"])
                channel = " ".join(f"{k}={v:g}" for k, v in item["channel"].as_dict().items())
            try:
                mixture = mix_at_snr(
                    speech,
                    noise,
                    item["snr_db"],
                    rng=np.random.default_rng(item["mix_seed"]),
                    sample_rate=rate,
                    allow_negative_snr=True,
                )
            except AudioError as exc:
                raise AudioError(f"{speech_row['path']} with {item['kind']}: {exc}") from exc
            name = f"{item['index']:04d}_{item['kind']}_{item['snr_db']:+g}dB.wav"
            # The mixture's peak is bounded by mix_at_snr; its parts can still exceed it
            # (speech and noise out of phase): scale all three alike, never clip a reference.
            parts = (mixture.noisy, mixture.clean, mixture.noise)
            peak = max(float(np.max(np.abs(x))) for x in parts)
            extra = min(1.0, 0.99 / peak) if peak > 0 else 1.0
            paths = {}
            for part, signal in zip(("noisy", "clean", "noise"), parts):
                signal = signal * np.float32(extra)
                paths[part] = folder / part / name
                write_wav(paths[part], signal, rate)
            rows.append(
                {
                    "noisy_path": f"noisy/{name}",
                    "clean_path": f"clean/{name}",
                    "noise_path": f"noise/{name}",
                    "snr_db": f"{item['snr_db']:g}",
                    "noise_category": item["kind"],
                    "noise_files": " + ".join(Path(r["path"]).name for r in item["noise"]),
                    "speaker": speech_row["speaker"],
                    "transcript": speech_row.get("transcript", ""),
                    "clean_source": Path(speech_row["path"]).name,
                    "channel": channel,
                    "room": room,
                    "scale": f"{mixture.scale * extra:.4g}",
                    "duration_s": f"{len(speech) / rate:.3f}",
                    "speech_license": speech_row.get("license", ""),
                    "noise_license": " + ".join(
                        sorted({r.get("license", "") for r in item["noise"]})
                    ),
                }
            )
            if bar is not None:
                bar.update()
        manifests[rate] = write_manifest(rows, folder / "manifest.csv", MANIFEST_COLUMNS)
    if bar is not None:
        bar.close()
    return manifests
