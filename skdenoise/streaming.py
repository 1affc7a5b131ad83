"""Denoising files of any length in bounded memory, with frames batched across files.

A recording is processed in *chunks* of output samples. For each chunk the engine reads
exactly the samples whose STFT columns feed the network frames that cover the chunk (plus
the STFT's own context), runs those frames through the model, blends them as
:func:`skdenoise.spectral.join_frames` would for the whole recording, and overlap-adds only
the chunk's samples. The result equals a whole-recording run (to float rounding): no seams,
and memory that does not grow with the length of the file.

Files at another rate than the model's are resampled with soxr's streaming resampler (bit
for bit what a one-shot resample gives) into a temporary file first, and the output is
resampled back on the fly, so that it is written at the input's rate. Frames of many chunks
and files are gathered into large model calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import (
    AudioError,
    FileReader,
    PathLike,
    StreamWriter,
    commit_file,
    resample_to_file,
)
from .engine import BATCH_FRAMES, CHUNK_SECONDS, ChunkEngine, Job

logger = logging.getLogger(__name__)

__all__ = ["Denoiser", "FileResult", "denoise_file"]


# ----------------------------------------------------------------------------- the engine


@dataclass(eq=False)
class FileResult:
    """Outcome of one file: ``error`` is ``None`` on success.

    Parameters
    ----------
    source, destination : str
        The input file and where its output goes.
    seconds : float
        Seconds of audio denoised.
    error : str, optional
        One line naming the file and the problem.
    skipped : bool
        The output existed and was kept (``skip_existing``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import load_pretrained, write_wav
    >>> from skdenoise.streaming import Denoiser
    >>> from skdenoise.synthetic import syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> src = write_wav(root / "in.wav", syllables(), 8000)
    >>> (ok, missing) = Denoiser(load_pretrained()).denoise_files(
    ...     [(src, root / "out.wav"), (root / "gone.wav", root / "out2.wav")])
    >>> ok.error is None, missing.error.endswith("no such file.")
    (True, True)
    """

    source: str
    destination: str
    seconds: float = 0.0
    error: str | None = None
    skipped: bool = False


class Denoiser:
    """Denoise arrays and files with a fitted pipeline, in bounded memory.

    Parameters
    ----------
    pipeline : Pipeline
        A fitted pipeline from :func:`skdenoise.make_denoising_pipeline` (or
        :func:`skdenoise.load_pretrained`).
    dry : float, optional
        Dry mix; default: the pipeline's ``rebuild__dry``.
    bypass_snr_db : float, optional
        SNR bypass (see :class:`skdenoise.transformers.WaveformRebuilder`); default: the
        pipeline's ``rebuild__bypass_snr_db``. It is decided per chunk: for recordings no
        longer than ``chunk_seconds`` the output equals the pipeline's, for longer ones each
        chunk is judged by its own estimated SNR, and where two chunks get different dry
        mixes the mix moves from one to the other over the first 50 ms of the second
        (:func:`skdenoise.spectral.crossfade_dry`).
    bypass_ramp_db : float, optional
        Width of the bypass's fade, dB; default: the pipeline's ``rebuild__bypass_ramp_db``.
    bypass_low_snr_db : float, optional
        Low SNR bypass, decided per chunk like the other; default: the pipeline's
        ``rebuild__bypass_low_snr_db``.
    chunk_seconds : float
        Output seconds per chunk (memory grows with it, not with the file's length).
    batch_frames : int
        Frames gathered (across chunks and files) before each model call.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise import load_pretrained
    >>> from skdenoise.streaming import Denoiser
    >>> out = Denoiser(load_pretrained()).denoise_array(np.zeros(20000, "float32"))
    >>> out.shape
    (20000,)
    """

    def __init__(
        self,
        pipeline,
        *,
        dry: float | None = None,
        bypass_snr_db: float | None = None,
        bypass_ramp_db: float | None = None,
        bypass_low_snr_db: float | None = None,
        chunk_seconds: float = CHUNK_SECONDS,
        batch_frames: int = BATCH_FRAMES,
    ):
        from .pipeline import engine_for

        self._use(
            engine_for(
                pipeline,
                dry=dry,
                bypass_snr_db=bypass_snr_db,
                bypass_ramp_db=bypass_ramp_db,
                bypass_low_snr_db=bypass_low_snr_db,
                chunk_seconds=chunk_seconds,
                batch_frames=batch_frames,
            )
        )

    def _use(self, engine: ChunkEngine) -> None:
        self.engine = engine
        self.settings = engine.settings
        self.sample_rate = int(engine.settings.sample_rate)

    @classmethod
    def from_model_file(cls, path: PathLike, **options) -> Denoiser:
        """The denoiser of a model file, built without a pipeline (scikit-learn is not
        imported; with LiteRT neither is TensorFlow): what ``skdenoise denoise`` runs.

        Parameters
        ----------
        path : str or PathLike
            A model file.
        **options
            The keyword arguments of :func:`skdenoise.inference.model_engine`
            (``preset``, ``backend``, ``strength``, ``expansion``, ``dry``, the bypass
            settings, ``chunk_seconds``, ``batch_frames``).

        Returns
        -------
        Denoiser
            Its outputs are those of ``Denoiser(load_model(path, preset=preset))`` with the
            same settings.

        Examples
        --------
        >>> import numpy as np
        >>> from skdenoise.modelfile import pretrained_path
        >>> from skdenoise.streaming import Denoiser
        >>> Denoiser.from_model_file(pretrained_path(8000)).denoise_array(np.zeros(9000)).shape
        (9000,)
        """
        from .inference import model_engine

        denoiser = cls.__new__(cls)
        denoiser._use(model_engine(path, **options))
        return denoiser

    def run(self, jobs: Iterable[Job], progress=None) -> None:
        """Process jobs with the engine (see :meth:`skdenoise.engine.ChunkEngine.run`)."""
        self.engine.run(jobs, progress)

    # ---- public entry points

    def denoise_array(self, waveform: np.ndarray) -> np.ndarray:
        """Denoise a mono waveform at the model's rate, chunk by chunk.

        Parameters
        ----------
        waveform : ndarray of shape (n_samples,)

        Returns
        -------
        ndarray of shape (n_samples,), float32
            Equal (to float rounding) to ``pipeline.predict([waveform])[0]``.
        """
        from .audio import check_waveform

        waveform = check_waveform(np.asarray(waveform), name="waveform", allow_silent=True)
        if waveform.ndim != 1:
            raise AudioError("denoise_array takes a 1-D waveform.")
        return self.engine.denoise([waveform])[0]

    def denoise_files(
        self,
        pairs: Sequence[tuple[PathLike, PathLike]],
        *,
        overwrite: bool = False,
        skip_existing: bool = False,
        progress: bool = False,
        n_jobs: int = 1,
        backend: str | None = None,
    ) -> list[FileResult]:
        """Denoise files; each output has its input's rate and length, written atomically.

        Parameters
        ----------
        pairs : sequence of (source, destination)
            A destination that is a symbolic link is written through: the link stays and
            the file it points to gets the output.
        overwrite : bool
            Allow replacing an existing destination, the input itself included (atomic).
            Without it an existing destination is an error for that file, also when another
            process creates it while this one is working (it is never replaced).
        skip_existing : bool
            Skip a file whose destination exists and is not older than it (outputs are only
            ever committed whole, so it is complete): re-running an interrupted folder job
            finishes it.
        progress : bool
            Show a progress bar (in seconds of audio, counted before the work starts). With
            workers it is one bar in this process, advanced as their shares finish.
        n_jobs : int
            Worker processes (joblib); 1 runs here. ``-1``: as many as the backend offers.
        backend : str, optional
            joblib backend for the workers: ``"loky"`` (local processes, the default when
            ``n_jobs`` is not 1), ``"dask"`` (the current ``dask.distributed`` client, see
            :func:`skdenoise.parallel.dask_client`), or any registered one (``"ray"``).
            Each worker gets a copy of this denoiser and a share of the files; the rules
            above hold in every worker.

        Returns
        -------
        list of FileResult
            One per pair, in order; failures carry a one-line ``error`` and do not stop the
            other files; skipped files have ``skipped=True``.

        Notes
        -----
        If the run is interrupted (KeyboardInterrupt, or SIGTERM turned into one by the
        command line), the temporary files of the recordings in flight are removed before
        the exception propagates (with workers, by this process once they are stopped);
        finished outputs stay.
        """
        if n_jobs != 1 or backend is not None:
            return self._denoise_parallel(
                pairs, overwrite, skip_existing, progress, int(n_jobs), backend
            )
        results = [FileResult(str(src), str(dst)) for src, dst in pairs]
        bar = _seconds_bar([src for src, _ in pairs]) if progress else None

        def on_task(task) -> None:
            if bar is not None:
                bar.update((task.plan.b - task.plan.a) / self.sample_rate)

        opened: list[Job] = []

        def jobs() -> Iterator[Job]:
            for result in results:
                job = self._open(result, overwrite, skip_existing)
                if job is None:
                    if bar is not None and result.skipped:
                        bar.update(result.seconds)
                    continue
                opened.append(job)
                yield job

        try:
            self.run(jobs(), progress=on_task)
        except BaseException:
            # Interrupted: remove the temporary files of every recording in flight.
            for job in opened:
                if not job.failed and not job.done:
                    job.failed = True
                    job.fail("interrupted")
            raise
        finally:
            if bar is not None:
                bar.close()
        return results

    def _denoise_parallel(
        self,
        pairs: Sequence[tuple[PathLike, PathLike]],
        overwrite: bool,
        skip_existing: bool,
        progress: bool,
        n_jobs: int,
        backend: str | None,
    ) -> list[FileResult]:
        """:meth:`denoise_files` on joblib workers, in shares of a few files each."""
        import time

        from joblib import delayed

        from .parallel import joblib_parallel, thread_limit

        pairs = [(str(src), str(dst)) for src, dst in pairs]
        results: list[FileResult | None] = [None] * len(pairs)
        if not pairs:
            return []
        seconds = [_seconds(src) for src, _ in pairs]
        parallel = joblib_parallel(n_jobs, backend, return_as="generator_unordered")
        try:
            workers = max(1, int(parallel._effective_n_jobs()))
        except Exception:  # a private helper of joblib: fall back to the cores
            workers = max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1))
        # Engine threads per worker: Dask workers are set by their plugin (see
        # skdenoise.parallel.dask_client); local ones share this machine's cores.
        threads = None
        if backend != "dask":
            threads = thread_limit() or max(1, (os.cpu_count() or 1) // workers)
        # Shares of about equal audio, four per worker, so that a slow file does not hold
        # the others back; one task (one copy of the model) per share.
        n_shares = min(len(pairs), 4 * workers)
        shares: list[list[int]] = [[] for _ in range(n_shares)]
        load = [0.0] * n_shares
        for i in sorted(range(len(pairs)), key=lambda i: -seconds[i]):
            k = int(np.argmin(load))
            shares[k].append(i)
            load[k] += seconds[i]
        tasks = (
            delayed(_denoise_share)(
                self, share, [pairs[i] for i in share], overwrite, skip_existing, threads
            )
            for share in shares
        )
        bar = _seconds_bar(None, total=sum(seconds)) if progress else None
        started = time.time()
        try:
            for index, done in parallel(tasks):
                for i, result in zip(index, done):
                    results[i] = result
                if bar is not None:
                    bar.update(sum(seconds[i] for i in index))
        except BaseException:
            _remove_temporaries([pairs[i] for i, r in enumerate(results) if r is None], started)
            raise
        finally:
            if bar is not None:
                bar.close()
        return results  # type: ignore[return-value]

    # ---- file jobs

    def _open(self, result: FileResult, overwrite: bool, skip_existing: bool = False) -> Job | None:
        src, dst = Path(result.source), Path(result.destination)
        if dst.is_symlink():
            # Written through: the link stays, the file it points to gets the output.
            dst = Path(os.path.realpath(dst))
        cleanup: list[Path] = []
        reader = writer = None

        def fail(message: str) -> None:
            result.error = message if message.startswith(str(src)) else f"{src}: {message}"
            for obj in (reader, writer):
                if obj is not None:
                    try:
                        obj.close()
                    except Exception:  # closing after a failure: best effort
                        pass
            for path in cleanup:
                path.unlink(missing_ok=True)

        try:
            if not src.exists():
                if src.is_symlink():
                    raise FileNotFoundError(
                        f"{src}: broken symbolic link (it points to {os.readlink(src)}, "
                        "which does not exist)."
                    )
                raise FileNotFoundError(f"{src}: no such file.")
            if src.is_dir():
                raise IsADirectoryError(
                    f"{src}: is a folder, not an audio file; use --input-dir for a folder."
                )
            same = dst.exists() and os.path.samefile(src, dst)
            if (
                skip_existing
                and not same
                and dst.is_file()
                and dst.stat().st_mtime >= src.stat().st_mtime
            ):
                result.skipped = True
                with contextlib.suppress(Exception):
                    info = sf.info(src)
                    result.seconds = info.frames / info.samplerate
                return None
            if dst.exists() and not overwrite:
                what = "it is the input itself" if same else "it exists"
                raise FileExistsError(
                    f"{src}: not written to {dst}: {what}; pass --overwrite to replace it"
                    + ("." if same else ", or --skip-existing to keep it.")
                )
            try:
                info = sf.info(src)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise AudioError(f"{src}: not a readable audio file ({exc}).") from exc
            if info.frames == 0:
                raise AudioError(f"{src}: the recording is empty (0 samples).")
            model_path = src
            if info.samplerate != self.sample_rate or info.channels != 1:
                fd, tmp_in = tempfile.mkstemp(suffix=".wav", prefix="skdenoise-")
                os.close(fd)
                cleanup.append(Path(tmp_in))
                resample_to_file(src, Path(tmp_in), self.sample_rate, str(src))
                model_path = Path(tmp_in)
            reader = FileReader(model_path, str(src))
            dst.parent.mkdir(parents=True, exist_ok=True)
            fmt = dst.suffix.lstrip(".").upper()
            if fmt not in sf.available_formats():
                raise AudioError(f"{dst}: soundfile cannot write the format {fmt!r}.")
            subtype = (
                info.subtype
                if (fmt == info.format and sf.check_format(fmt, info.subtype))
                else sf.default_subtype(fmt)
            )
            fd, tmp_out = tempfile.mkstemp(
                dir=dst.parent, prefix=f".{dst.stem}.", suffix=dst.suffix
            )
            os.close(fd)
            cleanup.append(Path(tmp_out))
            writer = StreamWriter(
                Path(tmp_out), self.sample_rate, info.samplerate, info.frames, fmt, subtype, dst
            )
        except Exception as exc:  # reported per file
            fail(str(exc))
            return None

        def finish() -> None:
            writer.close()
            reader.close()
            if writer.clipped > 1.0:
                logger.warning("%s: output peak %.2f clipped to full scale.", dst, writer.clipped)
            try:
                commit_file(cleanup[-1], dst, replace=overwrite)
            except FileExistsError as exc:
                raise FileExistsError(
                    f"{src}: not written to {dst}: another process created it meanwhile; "
                    "pass --overwrite to replace it."
                ) from exc
            for path in cleanup[:-1]:
                path.unlink(missing_ok=True)
            result.seconds = info.frames / info.samplerate

        return Job(str(src), reader, reader.n, emit=writer.write, finish=finish, fail=fail)


def _seconds(path: PathLike) -> float:
    """Duration of an audio file in seconds, 0 if it cannot be read (reported later)."""
    try:
        info = sf.info(path)
    except Exception:  # reported by the run, with the file's name
        return 0.0
    return info.frames / info.samplerate


def _seconds_bar(sources: Sequence[PathLike] | None, total: float | None = None):
    """A progress bar counting seconds of audio (of ``sources``, or ``total``)."""
    from tqdm.auto import tqdm

    if total is None:
        total = sum(_seconds(src) for src in sources or ())
    return tqdm(
        total=total,
        unit="s",
        desc="denoising",
        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]",
    )


def _denoise_share(
    denoiser: Denoiser,
    index: list[int],
    pairs: list[tuple[str, str]],
    overwrite: bool,
    skip_existing: bool,
    threads: int | None,
) -> tuple[list[int], list[FileResult]]:
    """One worker task of :meth:`Denoiser.denoise_files`: its share of the files."""
    from .parallel import limit_threads

    if threads is not None:
        limit_threads(threads)
    return index, denoiser.denoise_files(pairs, overwrite=overwrite, skip_existing=skip_existing)


def _remove_temporaries(pairs: Sequence[tuple[str, str]], since: float) -> None:
    """Remove the temporary outputs that stopped workers left beside ``pairs``' destinations.

    They are the ``.STEM.<8 random characters>.SUFFIX`` files that :meth:`Denoiser._open` creates
    (``tempfile.mkstemp``), modified since the run began; nothing else is touched.
    """
    import re

    for _, dst in pairs:
        path = Path(dst)
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        pattern = re.compile(
            rf"^\.{re.escape(path.stem)}\.[A-Za-z0-9_]{{8}}{re.escape(path.suffix)}$"
        )
        with contextlib.suppress(OSError):
            for entry in os.scandir(path.parent):
                if pattern.match(entry.name) and entry.stat().st_mtime >= since - 1:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def denoise_file(
    pipeline,
    source: PathLike,
    destination: PathLike,
    *,
    dry: float | None = None,
    overwrite: bool = False,
) -> Path:
    """Denoise one file of any length in bounded memory (see :class:`Denoiser`).

    The output is written atomically at the input's rate and length (mono).

    Parameters
    ----------
    pipeline : Pipeline
        A fitted denoising pipeline (e.g. :func:`skdenoise.load_pretrained`).
    source : str or PathLike
        Input file, any format and rate soundfile reads.
    destination : str or PathLike
        Output file (its extension picks the format).
    dry : float, optional
        Dry mix; default the pipeline's.
    overwrite : bool
        Allow replacing an existing ``destination``.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Raises
    ------
    FileExistsError, FileNotFoundError, AudioError
        With a message naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skdenoise import load_pretrained, read_audio, write_wav
    >>> from skdenoise.streaming import denoise_file
    >>> from skdenoise.synthetic import noise, syllables
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> x = syllables()
    >>> src = write_wav(root / "noisy.wav", x + noise("hiss", len(x) / 8000) / 3, 8000)
    >>> out = denoise_file(load_pretrained(), src, root / "clean.wav")
    >>> read_audio(out)[0].shape == x.shape
    True
    """
    (result,) = Denoiser(pipeline, dry=dry).denoise_files(
        [(source, destination)], overwrite=overwrite
    )
    if result.error:
        raise AudioError(result.error)
    return Path(destination)
