"""Noisy-speech synthesis and data sets: mix clean speech with noise at chosen SNRs.

The functional core is :func:`mix_at_snr`. Around it:

- :func:`load_manifest` reads the project's own manifests and the corpus manifests of
  ``shared/data`` (TSV with ``path``, ``speaker_or_category``, ``transcript``, ``license``),
  with a licence filter;
- :func:`make_noisy_speech` builds a reproducible set of mixtures (and optionally writes
  ``noisy/``, ``clean/``, ``noise/`` and ``manifest.csv``);
- :func:`train_dev_split` splits rows so that no speaker and no noise file of the dev set
  appears in training;
- :class:`MixtureStream` and :class:`ManifestStream` stream training frames without holding
  the data set in memory; the U-Net regressor (and a denoising pipeline) fits on them.

SNR definition
--------------
The SNR is measured on *active speech*: the clean signal is cut into 20 ms frames, frames
more than ``threshold_db`` (40 dB) below the loudest frame are ignored, and the speech power
is the mean power of the remaining frames. The noise power is that of the whole noise
segment added. ``snr_db = 10 log10(P_speech_active / P_noise)``. Because silences do not
count, a sentence with long pauses is not made to look cleaner than it sounds.
"""

from __future__ import annotations

import csv
import logging
import os
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .audio import AudioError, PathLike, audio_info, read_audio, read_segment, write_wav
from .augment import Augmentation
from .spectral import SpectralSettings, log_magnitude_frames

logger = logging.getLogger(__name__)

__all__ = [
    "ManifestStream",
    "Mixture",
    "MixtureSet",
    "MixtureStream",
    "active_power",
    "list_audio",
    "load_manifest",
    "make_noisy_speech",
    "measure_snr",
    "mix_at_snr",
    "train_dev_split",
    "write_manifest",
]

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".opus"})
#: Shortest usable noise, in seconds.
MIN_NOISE_SECONDS = 0.010
#: A noise shorter than this (seconds) that has to be looped is warned about: repeating a
#: short sound turns it into a buzz at its repetition rate.
SHORT_LOOP_SECONDS = 0.5
#: Offsets tried before a noise recording is refused as silent where it is cut.
SILENT_SEGMENT_DRAWS = 20
#: Columns of the manifest written by :func:`make_noisy_speech`.
MANIFEST_COLUMNS = (
    "noisy_path",
    "clean_path",
    "noise_path",
    "snr_db",
    "noise_category",
    "speaker",
    "transcript",
    "clean_source",
    "noise_file",
    "noise_offset",
    "scale",
    "duration_s",
    "speech_license",
    "noise_license",
)


# ----------------------------------------------------------------------------- SNR and mixing


def active_power(
    signal: np.ndarray, sample_rate: int, *, threshold_db: float = 40.0, frame_s: float = 0.02
) -> float:
    """Mean power of the active part of a signal (frames within ``threshold_db`` of the
    loudest 20 ms frame).

    Parameters
    ----------
    signal : ndarray of shape (n_samples,)
    sample_rate : int
        Hz.
    threshold_db : float
        Frames this far below the loudest one are silence.
    frame_s : float
        Frame length in seconds.

    Returns
    -------
    float
        Power (mean squared sample) of the active frames; 0.0 for a silent signal.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.datasets import active_power
    >>> x = np.concatenate([np.zeros(8000), np.ones(8000)])  # half silence
    >>> active_power(x, 8000)
    1.0
    """
    x = np.asarray(signal, dtype=np.float64)
    n = max(1, round(frame_s * sample_rate))
    n_frames = max(1, len(x) // n)
    frames = x[: n_frames * n].reshape(n_frames, -1) if len(x) >= n else x[None, :]
    power = np.mean(frames**2, axis=1)
    peak = power.max(initial=0.0)
    if peak == 0.0:
        return 0.0
    active = power >= peak * 10.0 ** (-threshold_db / 10.0)
    return float(power[active].mean())


def measure_snr(
    clean: np.ndarray, noise: np.ndarray, sample_rate: int, *, threshold_db: float = 40.0
) -> float:
    """SNR in dB of ``clean`` (active speech power) against ``noise`` (whole power).

    Parameters
    ----------
    clean : ndarray of shape (n_samples,)
        The speech.
    noise : ndarray of shape (n_samples,)
        The noise added to it.
    sample_rate : int
        Hz.
    threshold_db : float
        Activity threshold of :func:`active_power`.

    Returns
    -------
    float
        dB; ``inf`` for silent noise.

    Examples
    --------
    >>> from skdenoise.datasets import measure_snr, mix_at_snr
    >>> from skdenoise.synthetic import noise, syllables
    >>> noisy, clean, background = mix_at_snr(syllables(), noise("hiss", 3.0), 5.0, rng=0)
    >>> round(measure_snr(clean, background, 8000), 6)
    5.0
    """
    p_speech = active_power(clean, sample_rate, threshold_db=threshold_db)
    p_noise = float(np.mean(np.asarray(noise, dtype=np.float64) ** 2))
    if p_speech == 0.0:
        raise ValueError("the clean signal is silent: its SNR is undefined.")
    if p_noise == 0.0:
        return float("inf")
    return float(10.0 * np.log10(p_speech / p_noise))


@dataclass(frozen=True, eq=False)
class Mixture:
    """A noisy mixture and its parts, with ``noisy == clean + noise`` (float32).

    Unpacks as ``noisy, clean, noise = mix_at_snr(...)``.

    Attributes
    ----------
    noisy, clean, noise : ndarray of shape (n_samples,), float32
    snr_db : float
        The requested SNR (the measured one equals it, see the module's definition).
    noise_gain : float
        Factor applied to the noise segment to reach ``snr_db`` (before ``scale``).
    scale : float
        Factor applied to both speech and noise to keep the peak below full scale (1.0
        when no scaling was needed).
    noise_offset : int
        Sample of the noise file where the segment starts.

    Examples
    --------
    >>> from skdenoise.datasets import mix_at_snr
    >>> from skdenoise.synthetic import noise, syllables
    >>> mixture = mix_at_snr(syllables(), noise("hiss", 3.0), 10.0, rng=0)
    >>> noisy, clean, background = mixture
    >>> mixture.snr_db
    10.0
    """

    noisy: np.ndarray
    clean: np.ndarray
    noise: np.ndarray
    snr_db: float
    noise_gain: float
    scale: float
    noise_offset: int

    def __iter__(self):
        return iter((self.noisy, self.clean, self.noise))


def fit_noise_length(
    noise: np.ndarray, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Crop (at a random offset) or loop ``noise`` to exactly ``n_samples``.

    Returns
    -------
    segment : ndarray of shape (n_samples,)
    offset : int
        Where in ``noise`` the segment starts.
    """
    noise = np.asarray(noise, dtype=np.float32)
    offset = int(rng.integers(0, len(noise)))
    if len(noise) >= n_samples:
        offset = int(rng.integers(0, len(noise) - n_samples + 1))
        return noise[offset : offset + n_samples].copy(), offset
    reps = -(-(offset + n_samples) // len(noise))
    return np.tile(noise, reps)[offset : offset + n_samples].copy(), offset


def _check_snr(snr_db, *, allow_negative: bool = False) -> float:
    try:
        value = float(snr_db)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"SNR must be a number of dB, got {snr_db!r}.") from exc
    if not np.isfinite(value):
        raise ValueError(f"SNR must be a finite number of dB, got {snr_db!r}.")
    if value < 0 and not allow_negative:
        raise ValueError(
            f"SNR {value:g} dB is negative (more noise than speech); if that is intended, "
            "pass allow_negative_snr=True (--allow-negative-snr on the command line)."
        )
    return value


def mix_at_snr(
    clean: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    *,
    rng: np.random.Generator | int | None = None,
    sample_rate: int = 8000,
    threshold_db: float = 40.0,
    peak: float = 0.99,
    allow_negative_snr: bool = False,
) -> Mixture:
    """Add noise to clean speech at an SNR measured on active speech.

    The noise is cropped at a random offset (or looped) to the speech's length, scaled to
    ``snr_db``, and added. If the mixture's peak would exceed ``peak``, speech and noise are
    scaled down together (the SNR is unchanged) and the factor is reported as ``scale``.

    Parameters
    ----------
    clean : ndarray of shape (n_samples,)
        Speech; must not be silent.
    noise : ndarray of shape (n_noise,)
        At least 10 ms of noise at the same rate; must not be silent.
    snr_db : float
        Target SNR in dB, finite; a negative SNR (more noise than speech) is refused unless
        ``allow_negative_snr``, so that a sign slip does not go unnoticed.
    rng : numpy Generator, int or None
        Source of the noise offset.
    sample_rate : int
        Rate of both signals in Hz (for the 20 ms activity frames and the 10 ms minimum).
    threshold_db : float
        Activity threshold below the loudest frame, in dB.
    peak : float
        Largest allowed absolute sample of the mixture.
    allow_negative_snr : bool
        Accept ``snr_db < 0``.

    Returns
    -------
    Mixture
        ``noisy == clean + noise`` exactly in float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.datasets import mix_at_snr, measure_snr
    >>> rng = np.random.default_rng(0)
    >>> speech = np.sin(np.arange(8000) / 5).astype("float32")
    >>> noisy, clean, noise = mix_at_snr(speech, rng.normal(size=4000), 5.0, rng=rng)
    >>> round(measure_snr(clean, noise, 8000), 3)
    5.0
    """
    snr = _check_snr(snr_db, allow_negative=allow_negative_snr)
    rng = np.random.default_rng(rng)
    clean = np.asarray(clean, dtype=np.float32)
    noise = np.asarray(noise, dtype=np.float32)
    if clean.ndim != 1 or noise.ndim != 1:
        raise AudioError("clean and noise must be 1-D (mono) waveforms.")
    if len(noise) < MIN_NOISE_SECONDS * sample_rate:
        raise AudioError(
            f"the noise has {len(noise)} samples, shorter than {MIN_NOISE_SECONDS * 1000:.0f} "
            f"ms at {sample_rate} Hz: give a longer noise recording."
        )
    p_speech = active_power(clean, sample_rate, threshold_db=threshold_db)
    if p_speech == 0.0:
        raise AudioError("the clean speech is silent (all zeros): it cannot set an SNR.")
    # A recording with silent stretches can give a silent segment: draw again (the first
    # draw is kept whenever it is usable, so mixtures made before stay the same).
    for _ in range(SILENT_SEGMENT_DRAWS):
        segment, offset = fit_noise_length(noise, len(clean), rng)
        p_noise = float(np.mean(segment.astype(np.float64) ** 2))
        if p_noise > 0.0:
            break
    else:
        raise AudioError(
            f"the noise is silent (all zeros) at each of {SILENT_SEGMENT_DRAWS} random "
            f"offsets for {len(clean)} samples of speech: it cannot be scaled; trim its "
            "silence or drop it."
        )
    gain = float(np.sqrt(p_speech / (p_noise * 10.0 ** (snr / 10.0))))
    noise_scaled = segment.astype(np.float64) * gain
    peak_now = float(np.max(np.abs(clean.astype(np.float64) + noise_scaled)))
    scale = min(1.0, peak / peak_now) if peak_now > 0 else 1.0
    clean_out = (clean.astype(np.float64) * scale).astype(np.float32)
    noise_out = (noise_scaled * scale).astype(np.float32)
    noisy = clean_out + noise_out
    return Mixture(noisy, clean_out, noise_out, snr, gain, scale, offset)


# ----------------------------------------------------------------------------- manifests


def _read_table(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        head = fh.readline()
        fh.seek(0)
        delimiter = "\t" if "\t" in head else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        rows = [dict(row) for row in reader]
    if not rows:
        raise ValueError(f"{path}: the manifest has no rows.")
    return rows


def _base_for(manifest: Path, relative: str) -> Path:
    """Folder against which a manifest's relative paths resolve.

    The manifest's own folder first, then its parents (the corpus manifests of
    ``shared/data`` hold paths relative to ``data/``).
    """
    folder = manifest.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / relative).exists():
            return candidate
    return folder


def _license_ok(text: str, exclude: Sequence[str], include: Sequence[str] | None) -> bool:
    low = (text or "").lower()
    if any(word.lower() in low for word in exclude):
        return False
    return include is None or any(word.lower() in low for word in include)


def load_manifest(
    path: PathLike,
    *,
    exclude_licenses: Sequence[str] = (),
    include_licenses: Sequence[str] | None = None,
) -> list[dict]:
    """Read a manifest (TSV or CSV) into a list of row dicts with absolute paths.

    Two kinds are understood:

    - a corpus manifest (``shared/data``): ``path`` (relative to ``data/``),
      ``speaker_or_category``, ``duration_s``, ``transcript``, ``license``...; each row also
      gets ``speaker`` and ``category`` (both the ``speaker_or_category`` value);
    - a mixture manifest written by :func:`make_noisy_speech` (or a user's own):
      ``noisy_path``, ``clean_path`` and optionally ``noise_path``, ``transcript``,
      ``snr_db``, ``noise_category``, ``speaker``.

    Every column ending in ``path`` is resolved to an absolute path.

    Parameters
    ----------
    path : str or PathLike
    exclude_licenses : sequence of str
        Drop rows whose ``license`` contains any of these (case-insensitive), e.g.
        ``("NON-COMMERCIAL", "unspecified")``.
    include_licenses : sequence of str, optional
        Keep only rows whose ``license`` contains one of these.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import load_manifest, write_manifest
    >>> path = write_manifest([{"path": str(root / "speech" / "a.wav"), "speaker": "s1"}],
    ...                       root / "speech.tsv")
    >>> load_manifest(path)[0]["speaker"]
    's1'
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such manifest.")
    rows = _read_table(path)
    path_columns = [c for c in rows[0] if c == "path" or c.endswith("_path")]
    if not path_columns:
        raise ValueError(
            f"{path}: no path column; expected 'path' (corpus) or 'noisy_path'/'clean_path'."
        )
    first = next((r[path_columns[0]] for r in rows if r[path_columns[0]]), "")
    base = _base_for(path, first)
    out = []
    for row in rows:
        if "license" in row and not _license_ok(row["license"], exclude_licenses, include_licenses):
            continue
        for column in path_columns:
            if row[column]:
                row[column] = str((base / row[column]).resolve())
        if "speaker_or_category" in row:
            row.setdefault("speaker", row["speaker_or_category"])
            row.setdefault("category", row["speaker_or_category"])
        out.append(row)
    if not out:
        raise ValueError(f"{path}: no rows left after the licence filter.")
    return out


def write_manifest(
    rows: Sequence[dict], path: PathLike, columns: Sequence[str] | None = None
) -> Path:
    """Write rows as CSV (or TSV for a ``.tsv`` name), atomically.

    Parameters
    ----------
    rows : sequence of dict
        One dict per row.
    path : str or PathLike
        ``.tsv`` for tab-separated, anything else comma-separated.
    columns : sequence of str, optional
        Column order (default: the keys of the rows, in order of appearance).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from skdenoise.datasets import write_manifest
    >>> path = write_manifest([{"path": "a.wav", "speaker": "s1"}], tempfile.mkdtemp() + "/m.tsv")
    >>> path.read_text().split()[:2]
    ['path', 'speaker']
    """
    from .audio import atomic_path

    path = Path(path)
    columns = list(columns or rows[0].keys())
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh,
            fieldnames=columns,
            delimiter="\t" if path.suffix == ".tsv" else ",",
            extrasaction="ignore",
            lineterminator="\n",
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def list_audio(folder: PathLike, *, exclude: Sequence[PathLike] = ()) -> list[Path]:
    """Audio files below ``folder`` (recursively), sorted by path.

    Hidden files and folders (names starting with ".", such as the temporary files of an
    interrupted run) are left out, and so is everything below a folder of ``exclude`` (e.g.
    an output folder inside the input folder). Symbolic links to folders are followed (each
    real folder once); a link to a file that does not exist is listed, so that the run
    reports it instead of skipping it silently.

    Parameters
    ----------
    folder : str or PathLike
        Where to look.
    exclude : sequence of path
        Folders whose contents are left out.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import list_audio
    >>> [p.name for p in list_audio(root)]
    ['hum.wav', 'a.wav']
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"{folder}: is a file, not a folder; give it as an input file instead."
        )
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder.")
    excluded = {os.path.realpath(p) for p in exclude}
    seen: set[str] = set()
    files = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen or real in excluded:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = Path(root) / name
            if name.startswith(".") or path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            if path.is_file() or (path.is_symlink() and not path.exists()):
                files.append(path)
    files.sort()
    if not files:
        raise AudioError(
            f"{folder}: no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))}) in this folder."
        )
    return files


def resolve_sources(spec, *, what: str, exclude_licenses: Sequence[str] = ()) -> list[dict]:
    """Rows (``path``, ``speaker``, ``category``, ``transcript``, ``license``) for a source.

    ``spec`` is a folder (speaker/category = the file's parent folder name), a manifest
    file (``.tsv``/``.csv``), a sequence of audio paths, or a sequence of row dicts.
    """
    if isinstance(spec, (str, Path)) and Path(spec).is_dir():
        folder = Path(spec)
        return [
            {
                "path": str(p.resolve()),
                "speaker": p.parent.name,
                "category": p.parent.name,
                "transcript": "",
                "license": "",
            }
            for p in list_audio(folder)
        ]
    if isinstance(spec, (str, Path)):
        if Path(spec).suffix.lower() in (".tsv", ".csv"):
            rows = load_manifest(spec, exclude_licenses=exclude_licenses)
            if "path" not in rows[0]:
                raise ValueError(f"{spec}: a {what} manifest needs a 'path' column.")
            return rows
        if not Path(spec).exists():
            raise FileNotFoundError(f"{spec}: no such {what} folder, manifest or file.")
        spec = [spec]
    rows = []
    for item in spec:
        if isinstance(item, dict):
            rows.append({"speaker": "", "category": "", "transcript": "", "license": "", **item})
        else:
            p = Path(item)
            rows.append(
                {
                    "path": str(p),
                    "speaker": p.parent.name,
                    "category": p.parent.name,
                    "transcript": "",
                    "license": "",
                }
            )
    if not rows:
        raise AudioError(f"no {what} files given.")
    return rows


def resolve_many(specs, *, what: str, exclude_licenses: Sequence[str] = ()) -> list[dict]:
    """:func:`resolve_sources` of one spec or of several (their rows, in order)."""
    if isinstance(specs, (str, Path)):
        specs = [specs]
    rows: list[dict] = []
    for spec in specs:
        rows.extend(resolve_sources(spec, what=what, exclude_licenses=exclude_licenses))
    return rows


# ----------------------------------------------------------------------------- mixture sets


@dataclass(eq=False)
class MixtureSet:
    """What :func:`make_noisy_speech` returns.

    Attributes
    ----------
    manifest : list of dict
        One row per mixture (columns :data:`MANIFEST_COLUMNS`); paths are absolute when
        files were written, empty otherwise.
    noisy, clean, noise : list of ndarray, or None
        The arrays (``None`` when ``keep_arrays=False``).
    sample_rate : int

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import make_noisy_speech
    >>> mixtures = make_noisy_speech(root / "speech", root / "noise", [0, 10], n_mixtures=2)
    >>> len(mixtures.noisy), sorted(row["snr_db"] for row in mixtures.manifest)
    (2, ['0', '10'])
    """

    manifest: list[dict]
    noisy: list[np.ndarray] | None
    clean: list[np.ndarray] | None
    noise: list[np.ndarray] | None
    sample_rate: int

    @property
    def transcripts(self) -> list[str]:
        """Transcript of each mixture ('' when unknown)."""
        return [row["transcript"] for row in self.manifest]

    def __len__(self) -> int:
        return len(self.manifest)


def _choose_noise(rows: list[dict], rng: np.random.Generator, balance: str) -> dict:
    if balance == "file":
        return rows[int(rng.integers(len(rows)))]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_category[row.get("category", "")].append(row)
    names = sorted(by_category)
    group = by_category[names[int(rng.integers(len(names)))]]
    return group[int(rng.integers(len(group)))]


def _load_noise(row: dict, sample_rate: int) -> np.ndarray:
    waveform, _ = read_audio(row["path"], sample_rate=sample_rate)
    if len(waveform) < MIN_NOISE_SECONDS * sample_rate:
        raise AudioError(
            f"{row['path']}: the noise is {len(waveform)} samples long, shorter than "
            f"{MIN_NOISE_SECONDS * 1000:.0f} ms at {sample_rate} Hz."
        )
    if not np.any(waveform):
        raise AudioError(f"{row['path']}: the noise is silent (all zeros).")
    return waveform


def _load_speech(row: dict, sample_rate: int) -> np.ndarray:
    waveform, _ = read_audio(row["path"], sample_rate=sample_rate)
    if waveform.size == 0 or not np.any(waveform):
        raise AudioError(f"{row['path']}: the speech recording is empty or silent.")
    return waveform


def _pad_to(speech: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``speech`` at a random position in ``n_samples`` of silence (unchanged if longer)."""
    if len(speech) >= n_samples:
        return speech
    padded = np.zeros(n_samples, dtype=np.float32)
    at = int(rng.integers(0, n_samples - len(speech) + 1))
    padded[at : at + len(speech)] = speech
    return padded


def _snr_list(snrs, allow_negative: bool = False) -> list[float]:
    values = [
        _check_snr(s, allow_negative=allow_negative)
        for s in np.atleast_1d(np.asarray(snrs, dtype=object))
    ]
    if not values:
        raise ValueError("give at least one SNR.")
    return values


def make_noisy_speech(
    speech,
    noise,
    snrs: Sequence[float] = (0, 5, 10, 15),
    n_mixtures: int | None = None,
    *,
    sample_rate: int = 8000,
    random_state: int | None = 0,
    out_dir: PathLike | None = None,
    noise_balance: str = "category",
    exclude_licenses: Sequence[str] = (),
    keep_arrays: bool | None = None,
    allow_negative_snr: bool = False,
    min_seconds: float = 0.0,
    progress: bool = False,
) -> MixtureSet:
    """Build a reproducible set of noisy mixtures from clean speech and noise.

    Mixture ``i`` uses speech utterance ``order[i % n_speech]`` (``order`` a seeded
    permutation), SNR ``snrs[i % len(snrs)]`` after a seeded shuffle (so the SNRs are
    balanced), and a noise file drawn by a generator seeded with ``(random_state, i)``:
    the same seed gives the same mixtures, byte for byte, whatever ``out_dir``.

    Parameters
    ----------
    speech, noise : folder, manifest, or sequence of paths
        Clean speech and noise sources. Folders are searched recursively; a manifest may be
        a corpus manifest of ``shared/data``.
    snrs : sequence of float
        SNRs in dB (active-speech definition, see the module).
    n_mixtures : int, optional
        Number of mixtures; default one per speech utterance.
    sample_rate : int
        Rate of the mixtures in Hz; sources at other rates are resampled.
    random_state : int, optional
        Seed. ``None`` draws a fresh one (not reproducible).
    out_dir : path, optional
        If given, write ``noisy/``, ``clean/``, ``noise/`` (32-bit float WAV, so that noisy
        = clean + noise exactly) and ``manifest.csv`` (paths relative to ``out_dir``).
    noise_balance : {"category", "file"}
        Draw a noise category uniformly, then a file in it (default), or a file uniformly.
    exclude_licenses : sequence of str
        Licence filter applied to manifest sources.
    keep_arrays : bool, optional
        Return the arrays; default ``True`` without ``out_dir``, ``False`` with it.
    allow_negative_snr : bool
        Accept negative SNRs (refused by default).
    min_seconds : float
        Place shorter utterances at a seeded random position in silence of this length
        (the noise then runs on alone): an utterance in noise, long enough for PESQ
        (0.25 s) and STOI (0.4 s) to score.
    progress : bool
        Show a progress bar.

    Returns
    -------
    MixtureSet

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import make_noisy_speech
    >>> mixtures = make_noisy_speech(root / "speech", root / "noise", [0, 5, 10], n_mixtures=3,
    ...                              out_dir=root / "mixed")
    >>> sorted(p.name for p in (root / "mixed").iterdir())
    ['clean', 'manifest.csv', 'noise', 'noisy']
    """
    if noise_balance not in ("category", "file"):
        raise ValueError(f"noise_balance must be 'category' or 'file', got {noise_balance!r}.")
    snr_values = _snr_list(snrs, allow_negative_snr)
    speech_rows = resolve_sources(speech, what="speech", exclude_licenses=exclude_licenses)
    noise_rows = resolve_sources(noise, what="noise", exclude_licenses=exclude_licenses)
    n = len(speech_rows) if n_mixtures is None else int(n_mixtures)
    if n < 1:
        raise ValueError(f"n_mixtures must be >= 1, got {n_mixtures!r}.")
    if not (isinstance(sample_rate, (int, np.integer)) and sample_rate > 0):
        raise ValueError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}.")
    if not (min_seconds >= 0 and np.isfinite(min_seconds)):
        raise ValueError(f"min_seconds must be a finite number >= 0, got {min_seconds!r}.")
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
    master = np.random.default_rng(seed)
    order = master.permutation(len(speech_rows))
    snr_order = [snr_values[k % len(snr_values)] for k in master.permutation(n)]
    keep = (out_dir is None) if keep_arrays is None else keep_arrays
    out = Path(out_dir) if out_dir is not None else None
    width = len(str(n - 1))
    rows, noisy_list, clean_list, noise_list = [], [], [], []
    short_noises: set[str] = set()
    indices = range(n)
    if progress:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc="mixing", unit="mixture")
    for i in indices:
        rng = np.random.default_rng([seed, i])
        s_row = speech_rows[order[i % len(speech_rows)]]
        n_row = _choose_noise(noise_rows, rng, noise_balance)
        clean = _pad_to(_load_speech(s_row, sample_rate), int(min_seconds * sample_rate), rng)
        noise_wave = _load_noise(n_row, sample_rate)
        if len(noise_wave) < min(len(clean), SHORT_LOOP_SECONDS * sample_rate):
            short_noises.add(n_row["path"])
        try:
            mixture = mix_at_snr(
                clean,
                noise_wave,
                snr_order[i],
                rng=rng,
                sample_rate=sample_rate,
                allow_negative_snr=allow_negative_snr,
            )
        except AudioError as exc:
            raise AudioError(
                f"mixture {i}, speech {s_row['path']} with noise {n_row['path']}: {exc}"
            ) from exc
        name = f"{i:0{width}d}_{Path(s_row['path']).stem}.wav"
        row = {
            "noisy_path": "",
            "clean_path": "",
            "noise_path": "",
            "snr_db": f"{mixture.snr_db:g}",
            "noise_category": n_row.get("category", ""),
            "speaker": s_row.get("speaker", ""),
            "transcript": s_row.get("transcript", ""),
            "clean_source": s_row["path"],
            "noise_file": n_row["path"],
            "noise_offset": mixture.noise_offset,
            "scale": f"{mixture.scale:.6g}",
            "duration_s": f"{len(clean) / sample_rate:.3f}",
            "speech_license": s_row.get("license", ""),
            "noise_license": n_row.get("license", ""),
        }
        if out is not None:
            for kind, data in (
                ("noisy", mixture.noisy),
                ("clean", mixture.clean),
                ("noise", mixture.noise),
            ):
                target = out / kind / name
                write_wav(target, data, sample_rate, subtype="FLOAT")
                row[f"{kind}_path"] = str(target.resolve())
        rows.append(row)
        if keep:
            noisy_list.append(mixture.noisy)
            clean_list.append(mixture.clean)
            noise_list.append(mixture.noise)
    for path in sorted(short_noises):
        logger.warning(
            "%s: a noise this short was looped to the speech's length; a repeated short sound "
            "becomes a buzz at its repetition rate: use noise of at least %g s.",
            path,
            SHORT_LOOP_SECONDS,
        )
    if out is not None:
        write_manifest(_relative_rows(rows, out), out / "manifest.csv", MANIFEST_COLUMNS)
    return MixtureSet(
        rows,
        noisy_list if keep else None,
        clean_list if keep else None,
        noise_list if keep else None,
        sample_rate,
    )


def _relative_rows(rows: list[dict], base: Path) -> list[dict]:
    """Rows with every path relative to ``base``: the manifest is the same, byte for byte,
    wherever the set is written, and moves with its folder."""
    base = base.resolve()
    out = []
    for row in rows:
        row = dict(row)
        for column in ("noisy_path", "clean_path", "noise_path", "clean_source", "noise_file"):
            if row[column]:
                row[column] = Path(os.path.relpath(row[column], base)).as_posix()
        out.append(row)
    return out


# ----------------------------------------------------------------------------- splits


def train_dev_split(
    rows: Sequence[dict],
    by: Sequence[str] = ("speaker", "noise_file"),
    *,
    dev_fraction: float = 0.2,
    stratify: str | None = None,
    dev_values: dict[str, Sequence[str]] | None = None,
    random_state: int | None = 0,
) -> tuple[list[dict], list[dict]]:
    """Split rows so that no value of any ``by`` column is shared by train and dev.

    For each column in ``by`` a seeded share ``dev_fraction`` of its distinct values (at
    least one) is chosen for dev, or taken from ``dev_values``. A row goes to dev when
    *all* its ``by`` values are dev values, to train when *none* is; a row with some of
    each (a dev speaker mixed with a training noise, say) is dropped, and the number dropped
    is logged. To lose no rows, split the *sources* (speech by speaker, noise by file)
    before mixing, then mix train and dev separately.

    Parameters
    ----------
    rows : sequence of dict
        Manifest rows.
    by : sequence of str
        Columns that must not cross the split (default speaker and noise file).
    dev_fraction : float
        Share of the distinct values of each column sent to dev, in (0, 1).
    stratify : str, optional
        Column within whose groups values are chosen (e.g. ``"category"``, so that each
        noise category gives some dev files); groups with a single value stay in train.
    dev_values : dict, optional
        Explicit dev values per column; columns not named are drawn.
    random_state : int, optional

    Returns
    -------
    train, dev : list of dict

    Examples
    --------
    >>> from skdenoise.datasets import train_dev_split
    >>> rows = [{"speaker": s, "noise_file": n} for s in "abcde" for n in "xyz"]
    >>> train, dev = train_dev_split(rows, dev_fraction=0.4, random_state=0)
    >>> {r["speaker"] for r in train} & {r["speaker"] for r in dev}
    set()
    """
    rows = list(rows)
    if not rows:
        raise ValueError("no rows to split.")
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be within (0, 1), got {dev_fraction!r}.")
    for column in by:
        if column not in rows[0]:
            raise KeyError(f"no column {column!r} in the rows; columns: {sorted(rows[0])}.")
    rng = np.random.default_rng(random_state)
    chosen: dict[str, set] = {}
    for column in by:
        if dev_values and column in dev_values:
            chosen[column] = set(dev_values[column])
            continue
        groups: dict[str, list] = defaultdict(list)
        for row in rows:
            key = row.get(stratify, "") if stratify else ""
            if row[column] not in groups[key]:
                groups[key].append(row[column])
        picked: set = set()
        for key in sorted(groups):
            values = sorted(groups[key])
            if stratify and len(values) < 2:
                continue
            k = max(1, round(dev_fraction * len(values)))
            k = min(k, len(values) - 1) if len(values) > 1 else k
            picked.update(values[j] for j in rng.choice(len(values), size=k, replace=False))
        chosen[column] = picked
    train, dev, dropped = [], [], 0
    for row in rows:
        flags = [row[column] in chosen[column] for column in by]
        if all(flags):
            dev.append(row)
        elif not any(flags):
            train.append(row)
        else:
            dropped += 1
    if dropped:
        logger.info("train_dev_split: %d rows mix dev and train values and were dropped.", dropped)
    if not dev or not train:
        raise ValueError(
            f"the split left {len(train)} train and {len(dev)} dev rows: adjust dev_fraction "
            "or dev_values."
        )
    return train, dev


# ----------------------------------------------------------------------------- streaming


@dataclass(eq=False)
class FrameSource(ABC):
    """Base of the streamed training sets.

    A frame source yields, per recording, a pair of log-magnitude frame stacks
    ``(noisy_db, clean_db)``, each of shape (n_frames, n_freq, frame_columns), computed with
    :func:`skdenoise.spectral.log_magnitude_frames` and the pipeline's settings. It loads one
    recording at a time, so memory does not grow with the number of files.

    ``UNetNoiseRegressor.fit`` accepts a frame source; so does a denoising pipeline
    (``make_denoising_pipeline().fit(source)``), whose ``spec`` step gives it its settings.
    """

    sample_rate: int = 8000
    settings: SpectralSettings | None = None
    random_state: int | None = 0

    def with_settings(self, settings: SpectralSettings) -> FrameSource:
        """A copy that computes frames with ``settings``."""
        if settings.sample_rate != self.sample_rate:
            raise ValueError(
                f"the frame source is at {self.sample_rate} Hz but the settings are at "
                f"{settings.sample_rate} Hz."
            )
        return replace(self, settings=settings)

    def _require_settings(self) -> SpectralSettings:
        if self.settings is None:
            raise ValueError(
                "this frame source has no spectral settings yet: fit it through a pipeline, "
                "or call .with_settings(LogSpectrogram().settings(sample_rate))."
            )
        return self.settings

    def _pair_frames(self, noisy: np.ndarray, clean: np.ndarray):
        settings = self._require_settings()
        return log_magnitude_frames(noisy, settings), log_magnitude_frames(clean, settings)

    @abstractmethod
    def frame_pairs(self, epoch: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(noisy_db, clean_db)`` frame stacks for one pass (epoch)."""

    @abstractmethod
    def split(self, fraction: float, random_state: int | None = None):
        """Return ``(train, validation)`` sources sharing no speaker."""

    @abstractmethod
    def n_frames_hint(self) -> int:
        """Frames in one pass (for progress bars)."""


@dataclass(eq=False)
class MixtureStream(FrameSource):
    """Mix speech and noise on the fly, differently at every epoch.

    Each epoch visits every speech utterance once in a seeded order; each gets a random
    segment of at most ``segment_seconds``, a noise file (category-balanced), a noise
    offset, an SNR drawn uniformly from ``snr_range`` (or from ``snrs``) and a random gain.
    Only the needed part of each file is read.

    Parameters
    ----------
    speech, noise : list of dict
        Source rows (see :func:`resolve_sources`); build with :meth:`from_sources`.
    snrs : sequence of float, optional
        SNRs to draw from (dB). Ignored when ``snr_range`` is given.
    snr_range : (float, float), optional
        Draw SNRs uniformly within this range (dB).
    gain_db_range : (float, float)
        Random level change applied to each mixture (speech and noise together), in dB, so
        the model sees a range of absolute levels.
    segment_seconds : float
        Longest speech segment per utterance and epoch.
    min_seconds : float
        Shorter utterances are placed at a random position in this much silence (the noise
        then runs on alone), so short words still fill a frame.
    fixed : bool
        Draw the same mixtures at every epoch (used for validation).
    augmentation : skdenoise.augment.Augmentation, optional
        Degradations drawn per mixture (telephone channel, room, codec, clipping, summed
        noises, babble from other training speakers); None keeps plain additive mixing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise import make_denoising_pipeline
    >>> from skdenoise.datasets import MixtureStream
    >>> stream = MixtureStream.from_sources(root / "speech", root / "noise", snr_range=(0, 15))
    >>> noisy, clean, snr, row = next(stream.mixtures(epoch=0))
    >>> noisy.shape == clean.shape and 0 <= snr <= 15
    True
    >>> pipe = make_denoising_pipeline(unet__filters=4, unet__depth=2, unet__epochs=1,
    ...                                unet__validation_fraction=0.0)
    >>> pipe.fit(stream)  # doctest: +SKIP
    """

    speech: list = field(default_factory=list)
    noise: list = field(default_factory=list)
    snrs: Sequence[float] = (0, 5, 10, 15)
    snr_range: tuple[float, float] | None = None
    gain_db_range: tuple[float, float] = (0.0, 0.0)
    segment_seconds: float = 4.0
    min_seconds: float = 1.0
    fixed: bool = False
    augmentation: Augmentation | None = None

    @classmethod
    def from_sources(
        cls,
        speech,
        noise,
        *,
        sample_rate: int = 8000,
        exclude_licenses: Sequence[str] = (),
        **kwargs,
    ) -> MixtureStream:
        """Build from folders, manifests or lists of paths (as :func:`make_noisy_speech`)."""
        return cls(
            speech=resolve_sources(speech, what="speech", exclude_licenses=exclude_licenses),
            noise=resolve_sources(noise, what="noise", exclude_licenses=exclude_licenses),
            sample_rate=sample_rate,
            **kwargs,
        )

    def _duration(self, row: dict) -> float:
        if row.get("duration_s"):
            return float(row["duration_s"])
        return float(audio_info(row["path"]).duration)

    def n_frames_hint(self) -> int:
        """Frames per epoch (from the manifest durations or the file headers)."""
        settings = self._require_settings()
        total = 0
        for row in self.speech:
            seconds = min(max(self._duration(row), self.min_seconds), self.segment_seconds)
            total += settings.n_frames(settings.n_columns(int(seconds * self.sample_rate)))
        return total

    def split(self, fraction: float, random_state: int | None = None):
        """Split speech by speaker and noise by file into (train, validation) streams.

        Noise files are held out within each category when categories have several files,
        else across all files. With a single speaker (or a single noise file) both streams
        share it: the validation loss then also measures fitting, not only generalising.
        """

        def attempt(rows, **kwargs):
            for options in ({**kwargs}, {k: v for k, v in kwargs.items() if k != "stratify"}):
                try:
                    return train_dev_split(
                        rows, dev_fraction=fraction, random_state=random_state, **options
                    )
                except ValueError:
                    continue
            logger.info(
                "validation shares its %s with training (too few to hold out).", kwargs["by"][0]
            )
            return rows, rows

        speech_train, speech_val = attempt(self.speech, by=("speaker",))
        noise_train, noise_val = attempt(self.noise, by=("path",), stratify="category")
        return (
            replace(self, speech=speech_train, noise=noise_train),
            replace(self, speech=speech_val, noise=noise_val, fixed=True),
        )

    def _segment(self, row: dict, rng: np.random.Generator) -> np.ndarray:
        rate = self.sample_rate
        want = int(self.segment_seconds * rate)
        total = int(self._duration(row) * rate)
        start = int(rng.integers(0, total - want + 1)) if total > want else 0
        speech = read_segment(row["path"], start=start, n_samples=want, sample_rate=rate)
        return _pad_to(speech, int(self.min_seconds * rate), rng)

    def _noise_for(self, row: dict, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        rate = self.sample_rate
        total = int(self._duration(row) * rate)
        if total > n_samples:
            start = int(rng.integers(0, total - n_samples + 1))
            noise = read_segment(row["path"], start=start, n_samples=n_samples, sample_rate=rate)
            if len(noise) >= MIN_NOISE_SECONDS * rate and np.any(noise):
                return noise
        return _load_noise(row, rate)

    def _snr(self, rng: np.random.Generator) -> float:
        # A training stream's SNRs are an explicit choice: negative values are intended.
        if self.snr_range is not None:
            low, high = self.snr_range
            return float(rng.uniform(low, high))
        values = _snr_list(self.snrs, allow_negative=True)
        return values[int(rng.integers(len(values)))]

    def mixtures(self, epoch: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, float, dict]]:
        """Yield ``(noisy, clean, snr_db, speech_row)`` of one pass, one mixture at a time.

        Every draw (segment, noise, SNR, level, augmentation) comes from a generator seeded
        by ``(random_state, epoch, k)``, so a pass is reproduced exactly from the seed and
        the epoch, e.g. when training resumes. ``clean`` is the target: the speech through
        the same room and channel as in ``noisy``, at the same level; ``speech_row`` is the
        source row of the speech (its ``transcript``, ``speaker``...).
        """
        epoch = 0 if self.fixed else epoch
        seed = int(np.random.SeedSequence(self.random_state).generate_state(1)[0])
        order = np.random.default_rng([seed, epoch]).permutation(len(self.speech))
        for k, index in enumerate(order):
            rng = np.random.default_rng([seed, epoch, k])
            row = self.speech[index]
            try:
                speech = self._segment(row, rng)
                if not np.any(speech):
                    continue
                noise_row = _choose_noise(self.noise, rng, "category")
                noise = self._noise_for(noise_row, len(speech), rng)
                if self.augmentation is not None:
                    speech, noise = self._degrade(speech, noise, row, noise_row, rng)
                snr = self._snr(rng)
                mixture = mix_at_snr(
                    speech,
                    noise,
                    snr,
                    rng=rng,
                    sample_rate=self.sample_rate,
                    allow_negative_snr=True,
                )
            except (AudioError, OSError) as exc:
                logger.warning("skipping a mixture: %s", exc)
                continue
            low, high = self.gain_db_range
            gain = 10.0 ** (rng.uniform(low, high) / 20.0) if high > low else 1.0
            peak = float(np.max(np.abs(mixture.noisy)))
            gain = min(gain, 0.99 / peak) if peak > 0 else gain
            noisy, clean = mixture.noisy * gain, mixture.clean * gain
            if self.augmentation is not None:
                noisy = self.augmentation.input_path(noisy, rng)
            yield noisy, clean, snr, row

    def frame_pairs(self, epoch: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(noisy_db, clean_db)`` frame stacks, one mixture at a time."""
        self._require_settings()
        for noisy, clean, _, _ in self.mixtures(epoch):
            yield self._pair_frames(noisy, clean)

    def _babble(self, row: dict, n_samples: int, rng: np.random.Generator) -> np.ndarray | None:
        """Babble: segments of 4-7 other speakers' utterances, each at unit active power."""
        low, high = self.augmentation.babble_talkers
        talkers = int(rng.integers(low, high + 1))
        speaker = row.get("speaker", "")
        total = np.zeros(n_samples, np.float64)
        used = 0
        for _ in range(4 * talkers):
            other = self.speech[int(rng.integers(len(self.speech)))]
            if speaker and other.get("speaker", "") == speaker:
                continue
            seconds = self._duration(other)
            start = int(rng.integers(0, max(1, int(seconds * self.sample_rate) - n_samples)))
            voice = read_segment(
                other["path"], start=start, n_samples=n_samples, sample_rate=self.sample_rate
            )
            power = active_power(voice, self.sample_rate) if len(voice) else 0.0
            if power == 0.0:
                continue
            voice, _ = fit_noise_length(voice, n_samples, rng)
            total += voice / np.sqrt(power)
            used += 1
            if used == talkers:
                break
        return total.astype(np.float32) if used else None

    def _degrade(self, speech, noise, row, noise_row, rng):
        """Sources through the augmentation: babble or a second noise, room, channel."""
        from .augment import apply_channel

        augmentation, n = self.augmentation, len(speech)
        noise, _ = fit_noise_length(noise, n, rng)
        if rng.random() < augmentation.babble_p:
            babble = self._babble(row, n, rng)
            noise = noise if babble is None else babble
        elif rng.random() < augmentation.extra_noise_p and len(self.noise) > 1:
            category = noise_row.get("category", "")
            others = [r for r in self.noise if r.get("category", "") != category] or self.noise
            second_row = others[int(rng.integers(len(others)))]
            second, _ = fit_noise_length(self._noise_for(second_row, n, rng), n, rng)
            p1 = float(np.mean(noise.astype(np.float64) ** 2))
            p2 = float(np.mean(second.astype(np.float64) ** 2))
            if p1 > 0 and p2 > 0:
                level = 10.0 ** (rng.uniform(*augmentation.extra_noise_db) / 20.0)
                noise = (noise + second * np.sqrt(p1 / p2) * level).astype(np.float32)
        speech, channel = augmentation.speech_path(speech, self.sample_rate, rng)
        if channel is not None:
            speech = apply_channel(speech, self.sample_rate, channel)
            noise = apply_channel(noise, self.sample_rate, channel)
        return speech, noise


@dataclass(eq=False)
class ManifestStream(FrameSource):
    """Stream pre-mixed pairs listed in a mixture manifest, shuffled per epoch.

    Parameters
    ----------
    rows : list of dict
        Rows with ``noisy_path`` and ``clean_path`` (see :meth:`from_manifest`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "speech" / "a.wav", syllables("ba di gu ke po"), 8000)
    >>> _ = write_wav(root / "noise" / "hum.wav", noise("hum", 3.0), 8000)
    >>> from skdenoise.datasets import ManifestStream, make_noisy_speech
    >>> mixtures = make_noisy_speech(root / "speech", root / "noise", [5], out_dir=root / "mix")
    >>> stream = ManifestStream.from_manifest(root / "mix" / "manifest.csv")
    >>> len(stream.rows)
    1
    """

    rows: list = field(default_factory=list)
    fixed: bool = False

    @classmethod
    def from_manifest(cls, path: PathLike, *, sample_rate: int = 8000, **kwargs) -> ManifestStream:
        """Build from a manifest file with ``noisy_path`` and ``clean_path`` columns."""
        rows = load_manifest(path)
        if "noisy_path" not in rows[0] or "clean_path" not in rows[0]:
            raise ValueError(f"{path}: a mixture manifest needs noisy_path and clean_path.")
        return cls(rows=rows, sample_rate=sample_rate, **kwargs)

    def n_frames_hint(self) -> int:
        settings = self._require_settings()
        total = 0
        for row in self.rows:
            if row.get("duration_s"):
                n = int(float(row["duration_s"]) * self.sample_rate)
            else:
                n = int(audio_info(row["noisy_path"]).duration * self.sample_rate)
            total += settings.n_frames(settings.n_columns(n))
        return total

    def split(self, fraction: float, random_state: int | None = None):
        """Split by speaker when the manifest has several, else by row."""
        speakers = {r.get("speaker", "") for r in self.rows}
        if len(speakers) > 1:
            train, val = train_dev_split(
                self.rows, by=("speaker",), dev_fraction=fraction, random_state=random_state
            )
        else:
            order = np.random.default_rng(random_state).permutation(len(self.rows))
            k = max(1, round(fraction * len(self.rows)))
            val = [self.rows[i] for i in sorted(order[:k])]
            train = [self.rows[i] for i in sorted(order[k:])]
        return replace(self, rows=train), replace(self, rows=val, fixed=True)

    def frame_pairs(self, epoch: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(noisy_db, clean_db)`` frame stacks, one file pair at a time."""
        self._require_settings()
        epoch = 0 if self.fixed else epoch
        order = np.random.default_rng([self.random_state or 0, epoch]).permutation(len(self.rows))
        for index in order:
            row = self.rows[index]
            noisy, _ = read_audio(row["noisy_path"], sample_rate=self.sample_rate)
            clean, _ = read_audio(row["clean_path"], sample_rate=self.sample_rate)
            if len(noisy) != len(clean):
                raise AudioError(
                    f"{row['noisy_path']}: {len(noisy)} samples but its clean reference "
                    f"{row['clean_path']} has {len(clean)}."
                )
            yield self._pair_frames(noisy, clean)
