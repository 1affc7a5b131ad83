"""Noisy-speech synthesis and data sets: mix clean speech with noise at chosen SNRs.

This module makes mixture sets and splits; it also gives access, under their old names, to
the parts that live in their own modules: :mod:`skdenoise.mixing` (:func:`mix_at_snr`, the
SNR definition), :mod:`skdenoise.manifests` (:func:`load_manifest`, :func:`list_audio`) and
:mod:`skdenoise.streams` (:class:`MixtureStream`, :class:`ManifestStream`). Around
:func:`mix_at_snr`:

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

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import AudioError, PathLike, write_wav
from .manifests import (  # noqa: F401  (also importable from here, as before)
    list_audio,
    load_manifest,
    resolve_many,
    resolve_sources,
    write_manifest,
)
from .mixing import (  # noqa: F401
    AUDIO_EXTENSIONS,
    MANIFEST_COLUMNS,
    MIN_NOISE_SECONDS,
    SHORT_LOOP_SECONDS,
    SILENT_SEGMENT_DRAWS,
    Mixture,
    _choose_noise,
    _load_noise,
    _load_speech,
    _pad_to,
    _snr_list,
    active_power,
    fit_noise_length,
    measure_snr,
    mix_at_snr,
)
from .splits import train_dev_split
from .streams import FrameSource, ManifestStream, MixtureStream  # noqa: F401

logger = logging.getLogger(__name__)

__all__ = ["MixtureSet", "make_noisy_speech", "train_dev_split"]

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
