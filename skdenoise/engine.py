"""The inference engine: chunked, batched denoising of recordings (functional core).

Every way of denoising in the package (``pipe.predict``, ``skdenoise denoise``,
``skdenoise evaluate``, :func:`skdenoise.denoise_file`) runs this one engine. A recording is
cut into chunks of output samples by :func:`skdenoise.spectral.plan_chunks` (a recording up
to ``chunk_seconds`` long is one chunk); each chunk's frames come from
:func:`~skdenoise.spectral.analyse_chunk`, go through the network in batches gathered across
chunks and recordings, and come back through :func:`~skdenoise.spectral.synthesise_chunk`
and the dry mix / SNR bypass of :func:`~skdenoise.spectral.mix_output`. Chunked output
equals a whole-recording run (to float rounding), in memory that does not grow with the
length of the recording; only the SNR bypass, when set, judges each chunk on its own (and
crossfades between two chunks' dry mixes over ``crossfade_seconds``).

The engine knows no estimator: it takes the network as a function of noisy log-magnitude
frames (``denoise_frames``), and recordings as *jobs* that read sample ranges and receive
output samples in order.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import spectral
from .audio import ArrayReader, AudioError
from .spectral import SpectralSettings

__all__ = ["BATCH_FRAMES", "CHUNK_SECONDS", "ChunkEngine", "Job"]

logger = logging.getLogger(__name__)

#: Default seconds of output per chunk.
CHUNK_SECONDS = 60.0
#: Frames gathered before a model call.
BATCH_FRAMES = 64


@dataclass(eq=False)
class Job:
    """One recording in flight: where its samples come from and where its output goes.

    Parameters
    ----------
    name : str
        For messages.
    reader : object
        ``read(start, stop)`` gives samples ``[start, stop)`` at the model's rate, zero
        outside the recording (:class:`skdenoise.audio.ArrayReader`, ``FileReader``).
    n : int
        Samples of the recording.
    emit : callable
        ``emit(samples, last)`` receives the output in order.
    finish : callable
        Called after the last output.
    fail : callable
        ``fail(message)`` is called instead when the recording cannot be processed.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.audio import ArrayReader
    >>> from skdenoise.engine import ChunkEngine, Job
    >>> from skdenoise.spectral import SpectralSettings
    >>> x, parts = np.zeros(9000, "float32"), []
    >>> job = Job("x", ArrayReader(x), len(x), emit=lambda out, last: parts.append(out),
    ...           finish=lambda: None, fail=print)
    >>> ChunkEngine(lambda f: f, SpectralSettings(sample_rate=8000)).run([job])
    >>> sum(len(p) for p in parts)
    9000
    """

    name: str
    reader: object
    n: int
    emit: Callable[[np.ndarray, bool], None]
    finish: Callable[[], None]
    fail: Callable[[str], None]
    failed: bool = False
    done: bool = False
    last_dry: float | None = None  # the dry mix of the chunk emitted last


@dataclass(eq=False)
class _Task:
    job: Job
    plan: spectral.ChunkPlan
    last: bool
    samples: np.ndarray
    frames: np.ndarray
    phase: np.ndarray
    denoised: np.ndarray | None = None
    sent: int = 0  # frames handed to the network so far


class ChunkEngine:
    """Denoise recordings chunk by chunk, gathering frames across chunks and recordings.

    Parameters
    ----------
    denoise_frames : callable
        Noisy log-magnitude frames ``(n, n_freq, frame_columns)`` in, denoised ones out
        (e.g. :meth:`skdenoise.UNetNoiseRegressor.denoise_frames`).
    settings : SpectralSettings
        The model's spectral settings.
    dry : float
        Share of the input mixed into the output, in [0, 1].
    bypass_snr_db : float or None
        SNR bypass, decided per chunk (see :func:`skdenoise.spectral.mix_output`).
    bypass_ramp_db : float
        Width of the bypass's fade, dB (0: a hard switch).
    bypass_low_snr_db : float or None
        Low SNR bypass, decided per chunk: a chunk estimated below it is handed over
        unprocessed (see :func:`skdenoise.spectral.mix_output`).
    crossfade_seconds : float
        Where the bypass gives two chunks of a recording different dry mixes, the mix moves
        from one to the other over this many seconds at the start of the second
        (:func:`~skdenoise.spectral.crossfade_dry`), so that the boundary does not click.
    chunk_seconds : float
        Output seconds per chunk.
    batch_frames : int
        Frames gathered before each model call.
    model_batch : int
        The network's call size: calls take whole multiples of it (but the last).
    overlap : bool
        Run each network call on a worker thread while this thread prepares the next call's
        chunks and finishes the previous call's (see :meth:`run`); the output is the same.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.engine import ChunkEngine
    >>> from skdenoise.spectral import SpectralSettings
    >>> engine = ChunkEngine(lambda frames: frames, SpectralSettings(sample_rate=8000))
    >>> x = np.random.default_rng(0).normal(0, 0.1, 20000).astype("float32")
    >>> bool(np.allclose(engine.denoise([x])[0], x, atol=1e-4))  # identity network
    True
    """

    def __init__(
        self,
        denoise_frames: Callable[[np.ndarray], np.ndarray],
        settings: SpectralSettings,
        *,
        dry: float = 0.0,
        bypass_snr_db: float | None = None,
        bypass_ramp_db: float = spectral.BYPASS_RAMP_DB,
        bypass_low_snr_db: float | None = None,
        crossfade_seconds: float = spectral.BYPASS_CROSSFADE_S,
        chunk_seconds: float = CHUNK_SECONDS,
        batch_frames: int = BATCH_FRAMES,
        model_batch: int = 1,
        overlap: bool = True,
    ):
        self.denoise_frames = denoise_frames
        self.settings = settings
        self.dry = float(dry)
        spectral.mix_dry(np.zeros(1, np.float32), np.zeros(1, np.float32), self.dry)
        self.bypass_snr_db = spectral.check_bypass_snr_db(bypass_snr_db)
        self.bypass_ramp_db = spectral.check_bypass_ramp_db(bypass_ramp_db)
        self.bypass_low_snr_db = spectral.check_bypass_snr_db(
            bypass_low_snr_db, "bypass_low_snr_db"
        )
        rate = settings.sample_rate
        self.crossfade_samples = max(0, round(float(crossfade_seconds) * rate))
        self.chunk_samples = max(int(chunk_seconds * rate), settings.frame_length)
        self.batch_frames = int(batch_frames)
        self.model_batch = max(1, int(model_batch))
        self.overlap = bool(overlap)

    def _tasks(self, job: Job) -> Iterator[_Task]:
        plans = spectral.plan_chunks(job.n, self.settings, self.chunk_samples)
        for k, plan in enumerate(plans):
            samples = job.reader.read(plan.s_lo, plan.s_hi)
            frames, phase = spectral.analyse_chunk(samples, plan, self.settings)
            yield _Task(job, plan, k == len(plans) - 1, samples, frames, phase)

    def _finish(self, task: _Task) -> None:
        plan = task.plan
        enhanced = spectral.synthesise_chunk(task.denoised, task.phase, plan, self.settings)
        dry_input = task.samples[plan.a - plan.s_lo : plan.b - plan.s_lo]
        dry = spectral.output_dry(
            enhanced,
            dry_input,
            self.dry,
            self.bypass_snr_db,
            self.bypass_ramp_db,
            self.bypass_low_snr_db,
        )
        out = spectral.mix_dry(enhanced, dry_input, dry)
        if dry == 1.0 and self.dry < 1.0:  # a bypass handed this chunk over whole
            rate = self.settings.sample_rate
            logger.info(
                "%s (%.1f-%.1f s): estimated SNR %.1f dB, handed over unprocessed by the "
                "SNR bypass",
                task.job.name,
                plan.a / rate,
                plan.b / rate,
                spectral.estimated_snr_db(enhanced, dry_input),
            )
        previous, task.job.last_dry = task.job.last_dry, dry
        if previous is not None:
            out = spectral.crossfade_dry(
                out, enhanced, dry_input, previous, dry, self.crossfade_samples
            )
        task.job.emit(out, task.last)
        if task.last:
            task.job.finish()
            task.job.done = True

    def run(self, jobs: Iterable[Job], progress=None) -> None:
        """Process jobs, gathering the frames of many chunks into each model call.

        Model calls take whole batches of the model's inference batch size: frames beyond
        the last whole batch wait for the next call (a task may be split between two), so
        that no call is padded except the very last. A job whose audio cannot be read or
        analysed fails alone (``job.fail``); an error of the network ends the run.

        With ``overlap``, each model call runs on a worker thread while this one reads and
        analyses the chunks of the next call and rebuilds and writes those of the previous
        one (the network and the runners release the GIL); calls, and the tasks' outputs,
        keep their order, so the samples are the same either way.
        """
        pending: deque[_Task] = deque()  # tasks with frames not all denoised yet
        unsent = 0  # frames of ``pending`` not yet handed to the network
        head_done = 0  # frames of ``pending[0]`` already denoised

        def send(final: bool) -> np.ndarray | None:
            """The next call's frames (whole batches unless ``final``), marked as sent."""
            nonlocal unsent
            n = unsent if final else unsent - unsent % self.model_batch
            if n == 0:
                return None
            parts, need = [], n
            for task in pending:
                take = min(len(task.frames) - task.sent, need)
                if take:
                    parts.append(task.frames[task.sent : task.sent + take])
                    task.sent += take
                    need -= take
                if need == 0:
                    break
            unsent -= n
            return np.concatenate(parts)

        def receive(denoised: np.ndarray) -> None:
            """Hand a call's output to its tasks, in order; finish the tasks it completes."""
            nonlocal head_done
            offset, n = 0, len(denoised)
            while offset < n:
                task = pending[0]
                if task.denoised is None:
                    task.denoised = np.empty_like(task.frames)
                take = min(len(task.frames) - head_done, n - offset)
                task.denoised[head_done : head_done + take] = denoised[offset : offset + take]
                offset += take
                head_done += take
                if head_done < len(task.frames):
                    break
                pending.popleft()
                head_done = 0
                if not task.job.failed:
                    try:
                        self._finish(task)
                    except Exception as exc:  # reported per file
                        task.job.failed = True
                        task.job.fail(str(exc))
                if progress is not None:
                    progress(task)

        with contextlib.ExitStack() as stack:
            pool = None
            if self.overlap:
                pool = stack.enter_context(ThreadPoolExecutor(1, "skdenoise-network"))
            running = None  # the call on the worker thread (a future), if any

            def call(frames: np.ndarray | None) -> None:
                """Start a call on ``frames`` (if any), then finish the one before it."""
                nonlocal running
                if pool is None:
                    if frames is not None:
                        receive(self.denoise_frames(frames))
                    return
                previous = running
                running = None if frames is None else pool.submit(self.denoise_frames, frames)
                if previous is not None:
                    receive(previous.result())

            for job in jobs:
                tasks = self._tasks(job)
                while True:
                    try:
                        task = next(tasks)
                    except StopIteration:
                        break
                    except Exception as exc:  # one bad file must not stop the others
                        job.failed = True
                        job.fail(str(exc))
                        break
                    pending.append(task)
                    unsent += len(task.frames)
                    if unsent >= self.batch_frames:
                        # A failing network stops the run (the caller removes what is in
                        # flight): it is no file's fault, and its frames are lost.
                        call(send(final=False))
            call(send(final=True))
            call(None)

    def denoise(self, waveforms: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Denoise mono waveforms at the model's rate, batching frames across them.

        Parameters
        ----------
        waveforms : sequence of ndarray of shape (n_samples_i,)
            At ``settings.sample_rate``.

        Returns
        -------
        list of ndarray of shape (n_samples_i,), float32

        Raises
        ------
        AudioError
            The first recording that could not be processed, by name.
        """
        outputs: list[list[np.ndarray]] = [[] for _ in waveforms]
        errors: list[str] = []
        jobs = [
            Job(
                f"X[{i}]",
                ArrayReader(np.asarray(w, dtype=np.float32)),
                len(w),
                emit=lambda out, last, parts=outputs[i]: parts.append(out),
                finish=lambda: None,
                fail=lambda message, i=i: errors.append(f"X[{i}]: {message}"),
            )
            for i, w in enumerate(waveforms)
        ]
        self.run(jobs)
        if errors:
            raise AudioError(errors[0])
        return [np.concatenate(parts) for parts in outputs]
