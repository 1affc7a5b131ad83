"""Manifests and sources: reading and writing the TSV/CSV files that list recordings,
finding audio in folders, and resolving what a user gives (folders, manifests, lists) into
rows, with a licence filter."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .audio import AudioError, PathLike
from .mixing import AUDIO_EXTENSIONS

logger = logging.getLogger("skdenoise.datasets")

__all__ = ["list_audio", "load_manifest", "resolve_many", "resolve_sources", "write_manifest"]

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

    Parameters
    ----------
    spec : folder, manifest file, sequence of paths or sequence of dict
        The source.
    what : str
        ``"speech"`` or ``"noise"``, for messages.
    exclude_licenses : sequence of str
        Rows whose licence contains one of these are dropped.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "alice" / "a.wav", syllables(), 8000)
    >>> _ = write_wav(root / "bob" / "b.wav", syllables(seed=1), 8000)
    >>> from skdenoise.manifests import resolve_sources
    >>> sorted(row["speaker"] for row in resolve_sources(root, what="speech"))
    ['alice', 'bob']
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
    """:func:`resolve_sources` of one spec or of several (their rows, in order).

    Parameters
    ----------
    specs : source or list of sources
        As :func:`resolve_sources` takes them.
    what : str
        ``"speech"`` or ``"noise"``, for messages.
    exclude_licenses : sequence of str
        Rows whose licence contains one of these are dropped.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import write_wav
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(root / "alice" / "a.wav", syllables(), 8000)
    >>> _ = write_wav(root / "bob" / "b.wav", syllables(seed=1), 8000)
    >>> from skdenoise.manifests import resolve_many
    >>> len(resolve_many([root / "alice", root / "bob"], what="speech"))
    2
    """
    if isinstance(specs, (str, Path)):
        specs = [specs]
    rows: list[dict] = []
    for spec in specs:
        rows.extend(resolve_sources(spec, what=what, exclude_licenses=exclude_licenses))
    return rows
