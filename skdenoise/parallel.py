"""Running skdenoise's work on a joblib backend: local processes (loky) or a Dask cluster.

scikit-learn's searches, :func:`skdenoise.evaluation.evaluate` and
:meth:`skdenoise.streaming.Denoiser.denoise_files` hand their work to joblib, so they run
wherever joblib runs: local worker processes (``"loky"``, the default), a Dask cluster
(``"dask"``, the ``skdenoise[dask]`` extra) or Ray (``ray.util.joblib.register_ray()``, then
``"ray"``).

One setting bounds the threads of every engine inside a worker: the environment variable
``SKDENOISE_THREADS`` (see :data:`THREADS_ENV`). TensorFlow, LiteRT, ONNX Runtime and the
BLAS libraries each start a pool as large as the machine by default; N workers on one
machine then run N times as many threads as there are cores. :func:`limit_threads` sets it
(and the variables the engines read themselves) in a worker before any engine starts;
:func:`dask_client` does so on every Dask worker, one thread each unless told otherwise.

Examples
--------
>>> from skdenoise.parallel import limit_threads, thread_limit
>>> limit_threads(1)
1
>>> thread_limit()
1
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

logger = logging.getLogger(__name__)

__all__ = [
    "BACKENDS",
    "THREADS_ENV",
    "dask_client",
    "joblib_parallel",
    "limit_threads",
    "parallel_backend",
    "thread_limit",
]

#: Environment variable with the number of threads each engine may use in one process.
THREADS_ENV = "SKDENOISE_THREADS"

#: joblib backends that the command line offers.
BACKENDS = ("loky", "dask")

# Variables read by the engines themselves when they start (TensorFlow reads the TF_ ones
# when its runtime is first used; OpenMP and the BLAS libraries when they are loaded).
_ENGINE_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_limit() -> int | None:
    """Threads each engine may use in this process (``SKDENOISE_THREADS``), if set.

    Returns
    -------
    int or None
        ``None`` when the variable is unset: each engine then uses all the cores.

    Raises
    ------
    ValueError
        If the variable is set to something other than a positive integer.

    Examples
    --------
    >>> import os
    >>> from skdenoise.parallel import thread_limit
    >>> os.environ["SKDENOISE_THREADS"] = "2"
    >>> thread_limit()
    2
    """
    value = os.environ.get(THREADS_ENV)
    if value is None or value == "":
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}.")
    return threads


def limit_threads(threads: int | None = 1) -> int:
    """Bound the threads of TensorFlow, LiteRT, ONNX Runtime and BLAS in this process.

    Call it in a worker before it runs any model (joblib and Dask workers start fresh
    processes, so that is before their first task). It sets ``SKDENOISE_THREADS``, which
    skdenoise's LiteRT and ONNX Runtime sessions read, and the variables that TensorFlow,
    OpenMP and the BLAS libraries read at start-up; BLAS pools already running are limited
    with threadpoolctl, and TensorFlow's too when its runtime has not started yet.

    Parameters
    ----------
    threads : int, optional
        Threads per engine; ``None`` keeps ``SKDENOISE_THREADS`` if set, else 1.

    Returns
    -------
    int
        The limit now in force.

    Examples
    --------
    >>> from skdenoise.parallel import limit_threads
    >>> limit_threads(2)
    2
    """
    if threads is None:
        threads = thread_limit() or 1
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads!r}.")
    os.environ[THREADS_ENV] = str(threads)
    for name in _ENGINE_VARIABLES:
        os.environ[name] = str(threads)
    with contextlib.suppress(Exception):  # threadpoolctl is a dependency of scikit-learn
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        # Only possible before TensorFlow's runtime starts; afterwards the pools stay as
        # they are (the environment variables above cover a process that has not started
        # it yet).
        with contextlib.suppress(Exception):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
    return threads


def _dask_plugin(threads: int):
    from distributed.diagnostics.plugin import WorkerPlugin

    class LimitThreads(WorkerPlugin):
        """Runs :func:`limit_threads` on every worker, those that join later included."""

        name = "skdenoise-limit-threads"

        def __init__(self, threads: int):
            self.threads = threads

        def setup(self, worker) -> None:
            limit_threads(self.threads)

    return LimitThreads(threads)


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    threads: int = 1,
) -> Iterator:
    """A ``dask.distributed`` client: to a cluster, or to a local one made for the block.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default the environment
        variable ``DASK_SCHEDULER_ADDRESS``; without either, a
        ``dask.distributed.LocalCluster`` of ``n_workers`` processes is started and closed
        with the block.
    n_workers : int, optional
        Worker processes of the local cluster (default: one per core).
    threads : int
        Engine threads per worker (:func:`limit_threads`, applied on every worker).

    Yields
    ------
    distributed.Client
        Also the default client inside the block, so ``joblib.parallel_config(backend="dask")``
        uses it.

    Raises
    ------
    ImportError
        If ``dask.distributed`` is not installed (``pip install "skdenoise[dask]"``).

    Examples
    --------
    >>> import joblib
    >>> from skdenoise.parallel import dask_client
    >>> with dask_client(n_workers=1) as client:  # doctest: +SKIP
    ...     with joblib.parallel_config(backend="dask"):
    ...         search.fit(noisy, clean)
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            'the Dask backend needs dask.distributed: pip install "skdenoise[dask]".'
        ) from exc
    # Dask logs every connection at INFO on its own handler; keep its warnings only.
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.WARNING)
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    cluster = None
    if address:
        client = Client(address)
        logger.info("connected to the Dask scheduler at %s", address)
    else:
        env = {name: str(threads) for name in (*_ENGINE_VARIABLES, THREADS_ENV)}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.WARNING,
            env=env,
        )
        client = Client(cluster)
        logger.info("started a local Dask cluster of %d workers", len(cluster.workers))
    try:
        client.register_plugin(_dask_plugin(threads))
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def parallel_backend(
    backend: str | None = None,
    *,
    n_jobs: int | None = None,
    scheduler: str | None = None,
) -> Iterator[int]:
    """The joblib backend that the command line's ``--backend`` names, for a block.

    Parameters
    ----------
    backend : {"loky", "dask"}, optional
        ``None`` or ``"loky"``: local worker processes (``n_jobs`` of them). ``"dask"``:
        a Dask cluster (:func:`dask_client`: ``scheduler``, ``DASK_SCHEDULER_ADDRESS`` or
        a local cluster of ``n_jobs`` workers).
    n_jobs : int, optional
        Local workers.
    scheduler : str, optional
        Address of a Dask scheduler.

    Yields
    ------
    int
        How many tasks to run at once: ``n_jobs`` for loky, the cluster's worker threads
        for Dask.

    Examples
    --------
    >>> from skdenoise.parallel import parallel_backend
    >>> with parallel_backend("loky", n_jobs=2) as workers:
    ...     workers
    2
    """
    if backend in (None, "loky"):
        if scheduler:
            raise ValueError("a scheduler address needs backend='dask'.")
        yield max(1, int(n_jobs or 1))
        return
    if backend != "dask":
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    import joblib

    with dask_client(scheduler, n_workers=n_jobs) as client:
        workers = max(1, sum(client.nthreads().values()))
        with joblib.parallel_config(backend="dask"):
            yield workers


def joblib_parallel(n_jobs: int, backend: str | None = None, **kwargs):
    """A ``joblib.Parallel`` of ``n_jobs`` workers on ``backend``.

    The backend is chosen with ``joblib.parallel_config`` around the construction (a
    ``Parallel`` keeps the backend it was made with), not with ``Parallel(backend=...)``:
    joblib's Dask backend fails when named that way inside a ``parallel_config`` block, as
    ``skdenoise denoise --backend dask`` runs it.

    Parameters
    ----------
    n_jobs : int
        Workers (``-1``: as many as the backend offers).
    backend : str, optional
        ``"loky"``, ``"dask"``, ``"ray"``...; ``None``: the active joblib backend.
    **kwargs
        Other arguments of ``joblib.Parallel`` (e.g. ``return_as``).

    Returns
    -------
    joblib.Parallel

    Examples
    --------
    >>> from joblib import delayed
    >>> from skdenoise.parallel import joblib_parallel
    >>> joblib_parallel(2, "loky")(delayed(abs)(x) for x in (-1, -2))
    [1, 2]
    """
    from joblib import Parallel, parallel_config

    if backend is None:
        return Parallel(n_jobs=n_jobs, **kwargs)
    with parallel_config(backend=backend):
        return Parallel(n_jobs=n_jobs, **kwargs)
