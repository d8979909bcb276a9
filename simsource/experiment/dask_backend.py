"""Run chunks of replications on a Dask cluster (``--backend dask``), with the same numbers.

>>> be = make_backend(4)                          # a LocalCluster of 4 processes  # doctest: +SKIP
>>> be = make_backend(4, "tcp://10.0.0.5:8786")   # an existing cluster            # doctest: +SKIP
>>> for task, result in be.map_chunks(run_task, tasks): ...                     # doctest: +SKIP
>>> be.close()                                                                  # doctest: +SKIP

A chunk is one Dask task: the worker runs the same top-level function as the local backend
(:func:`simsource.experiment.worker.run_task`) on a :class:`~simsource.experiment.worker.ChunkTask`,
which carries the scenario as JSON and the seed, so no shared filesystem is needed and each
replication's numbers depend only on (scenario, seed, replication). Results come back to this
process, which alone writes the results folder.

Faults. A worker that dies mid-chunk (killed, out of memory, pre-empted) loses only the chunk in
hand: the scheduler runs it again on another worker (up to
``distributed.scheduler.allowed-failures`` times, Dask's default 3), and an exception inside a
chunk is retried ``retries`` times. Each task is yielded once, whatever happened on the
workers, so a chunk is never stored twice. A scheduler that cannot be reached is a
:class:`~simsource.errors.UserError` after ``timeout`` seconds.

Identical results need identical code: every chunk checks that its worker runs the same model
source files (:data:`NUMBER_CODE`), numpy and simpy as this client, and fails with a clear error
otherwise.

Dask is an optional dependency (``pip install 'simsource[dask]'``); it is imported only here, and
only when a Dask backend is made.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from simsource.errors import UserError

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

    from simsource.experiment.backend import Backend

T = TypeVar("T")
R = TypeVar("R")

MISSING = "the dask backend needs the optional extra: pip install 'simsource[dask]'"
#: seconds to reach a scheduler before giving up
CONNECT_TIMEOUT = 10.0
#: seconds to wait for a first worker on a scheduler that has none
WORKER_TIMEOUT = 60.0
#: automatic re-runs of a chunk that raised (a dead worker is handled by the scheduler)
RETRIES = 2
#: tasks in flight per worker thread: enough to keep workers busy, few enough that a huge
#: sweep does not ship every scenario to the scheduler at once and Ctrl-C cancels little
IN_FLIGHT_PER_THREAD = 4
#: seconds between asking the scheduler how many threads it has (clusters may scale)
RESIZE_EVERY = 5.0
#: the parts of simsource that decide a replication's numbers (relative to the package)
NUMBER_CODE = ("model", "scenario", "experiment/worker.py")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UserError(MISSING) from None
    return distributed


# ---- what decides the numbers ----------------------------------------------------------------
def code_fingerprint() -> str:
    """A short hash of what decides a replication's numbers: the model's source files
    (:data:`NUMBER_CODE`) as they are on disk now, and the numpy and simpy versions."""
    import numpy
    import simpy

    import simsource

    root = Path(simsource.__file__).parent
    files = [p for part in NUMBER_CODE
             for p in ((root / part).rglob("*.py") if (root / part).is_dir() else [root / part])]
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    h.update(f"numpy {numpy.__version__} simpy {getattr(simpy, '__version__', '?')}".encode())
    return h.hexdigest()[:16]


def describe_environment(fingerprint: str) -> str:
    import numpy
    import simpy

    import simsource

    return (f"simsource {simsource.__version__} (code {fingerprint}), "
            f"numpy {numpy.__version__}, simpy {getattr(simpy, '__version__', '?')}")


# ---- on the workers ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def worker_fingerprint() -> str:
    """:func:`code_fingerprint` when this worker process first ran a chunk (and imported the
    model): a worker started after the code changed differs from its older peers."""
    return code_fingerprint()


class EnvironmentMismatch(RuntimeError):
    """A worker runs other code than the client: its numbers could differ."""


def run_checked(fn: Callable[[T], R], task: T, expected: str) -> R:
    """``fn(task)`` on a worker, after checking the worker's code matches the client's."""
    got = worker_fingerprint()
    if got != expected:
        import socket

        raise EnvironmentMismatch(f"worker on {socket.gethostname()} runs "
                                  f"{describe_environment(got)}")
    return fn(task)


def dask_setup(worker: object) -> None:
    """Preload for LocalCluster workers: Ctrl-C is the client's business (it cancels the work
    and closes the cluster); workers sharing its terminal must not die of it on their own."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---- in the client -------------------------------------------------------------------------------
class DaskBackend:
    """A :class:`~simsource.experiment.backend.Backend` on a Dask client.

    ``cluster`` is the LocalCluster this backend started (closed with it), or None for an
    external scheduler (left running). ``jobs`` is the number of worker threads when made; it
    sizes chunks. The window of tasks in flight follows the cluster as it scales.
    """

    name = "dask"

    def __init__(self, client: Client, cluster: LocalCluster | None, jobs: int, *,
                 retries: int = RETRIES) -> None:
        self.jobs = max(1, jobs)
        self.retries = retries
        #: the code every worker must run, as it is on disk when the backend is made
        self.fingerprint = code_fingerprint()
        self.address = str(client.scheduler.address if client.scheduler else "?")
        self._client: Client | None = client
        self._cluster = cluster
        self._threads = self.jobs
        self._threads_at = time.monotonic()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the Dask backend is closed")
        return self._client

    def _window(self) -> int:
        now = time.monotonic()
        if now - self._threads_at > RESIZE_EVERY:
            with contextlib.suppress(OSError, TimeoutError):
                self._threads = max(1, sum(self.client.nthreads().values()))  # type: ignore[no-untyped-call]
            self._threads_at = now
        return IN_FLIGHT_PER_THREAD * max(self._threads, 1)

    def map_chunks(self, fn: Callable[[T], R],
                   tasks: Sequence[T]) -> Generator[tuple[T, R], None, None]:
        """Submit ``fn(task)`` for every task (a bounded window at a time); yield each
        ``(task, result)`` once, as it completes. On any error, Ctrl-C or when the consumer stops
        early, the tasks not yet returned are cancelled."""
        if not tasks:
            return
        distributed = _distributed()
        client = self.client
        expected = self.fingerprint
        batch = f"simsource-{getattr(fn, '__name__', 'chunk')}-{uuid.uuid4().hex[:8]}"
        todo = iter(enumerate(tasks))
        running: dict[str, tuple[Future[R], T]] = {}
        done = distributed.as_completed(loop=client.loop, with_results=True, raise_errors=False)

        def refill() -> None:
            while len(running) < self._window():
                nxt = next(todo, None)
                if nxt is None:
                    return
                i, task = nxt
                key = f"{batch}-{i}"
                fut = client.submit(run_checked, fn, task, expected, key=key, pure=False,
                                    retries=self.retries)
                running[key] = (fut, task)
                done.add(fut)

        try:
            refill()
            while running:
                fut, result = next(done)
                entry = running.pop(fut.key, None)
                if entry is None:  # not ours or already returned: never yield a task twice
                    continue
                task = entry[1]
                if fut.status != "finished":
                    raise self._failure(fut, task)
                refill()
                yield task, result
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel([f for f, _ in running.values()], force=True)  # type: ignore[no-untyped-call]
            raise
        finally:
            running.clear()

    def _failure(self, fut: Future[Any], task: object) -> BaseException:
        """The error of a failed task, as the user should read it."""
        from distributed import KilledWorker

        what = _task_name(task)
        if fut.status == "cancelled":  # the scheduler restarted or the connection was lost
            return UserError(f"Dask scheduler at {self.address} dropped {what} (restarted, or "
                             "the connection was lost); completed chunks are kept, run the same "
                             "command again to continue")
        exc = fut.exception()  # type: ignore[no-untyped-call]
        if isinstance(exc, KilledWorker):
            return UserError(f"Dask workers died repeatedly while running {what} (out of "
                             "memory? see the workers' logs); completed chunks are kept, run the "
                             "same command again to continue")
        if isinstance(exc, EnvironmentMismatch):
            return UserError(f"{exc}, but this client runs "
                             f"{describe_environment(self.fingerprint)}: results "
                             "would not be identical; install the same simsource commit and "
                             "versions on every worker (docs/distributed.md)")
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("simsource"):
            return UserError(f"Dask workers at {self.address} cannot import {exc.name}: install "
                             "the same simsource on the scheduler and every worker: pip install "
                             "'simsource[dask]' (docs/distributed.md)")
        if isinstance(exc, RuntimeError) and "deserialization of the task graph" in str(exc):
            return UserError(f"Dask scheduler at {self.address} cannot read simsource's tasks: "
                             "install the same simsource on the scheduler and every worker: pip "
                             "install 'simsource[dask]' (docs/distributed.md)")
        assert isinstance(exc, BaseException)
        return exc

    def close(self) -> None:
        """Close the client, and the LocalCluster if this backend started it."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=10)  # type: ignore[no-untyped-call]
        finally:
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=20)

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    def _implements_backend(be: DaskBackend) -> Backend:  # mypy checks the protocol here
        return be


def _task_name(task: object) -> str:
    reps = getattr(task, "reps", None)
    if reps:
        return f"replications {reps[0]}-{reps[-1]}"
    return "a task"


def make_backend(jobs: int, scheduler: str | None = None, *, timeout: float | None = None,
                 retries: int = RETRIES, worker_timeout: float | None = None) -> DaskBackend:
    """A Dask backend: connected to ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``;
    default: Dask's ``scheduler-address`` setting, e.g. ``DASK_SCHEDULER_ADDRESS``), else on a
    new LocalCluster of ``jobs`` single-threaded worker processes on this machine.

    With a scheduler, ``jobs`` is ignored: the cluster's worker threads decide. An unreachable
    scheduler is a :class:`UserError` after ``timeout`` s (default :data:`CONNECT_TIMEOUT`); one
    without workers after ``worker_timeout`` s (default :data:`WORKER_TIMEOUT`).
    """
    distributed = _distributed()
    import dask

    address = scheduler or dask.config.get("scheduler-address", None)
    if address:
        return _connect(distributed, str(address),
                        CONNECT_TIMEOUT if timeout is None else timeout, retries,
                        WORKER_TIMEOUT if worker_timeout is None else worker_timeout)
    if jobs < 1:
        raise UserError(f"-j/--jobs: must be at least 1, got {jobs}")
    # No dashboard; the scheduler's small HTTP server (health, metrics) still runs: on a free
    # port of localhost, not 8787, which another cluster may hold.
    cluster = distributed.LocalCluster(
        n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR,
        preload=["simsource.experiment.dask_backend"])
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return DaskBackend(client, cluster, jobs, retries=retries)


def _check_address(address: str) -> None:
    """A malformed address is refused before a Client exists (a Client that fails inside its
    constructor prints a traceback from its ``__del__`` 20 s later)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, loc = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            _, port = parse_host_port(loc)
            if not 0 < int(port) < 65536:
                raise ValueError(f"port {port} is not in 1..65535")
    except (ValueError, TypeError) as exc:
        raise UserError(f"--scheduler {address}: not a scheduler address ({exc}); e.g. "
                        "tcp://10.0.0.5:8786") from None


def _connect(distributed: Any, address: str, timeout: float, retries: int,
             worker_timeout: float) -> DaskBackend:
    _check_address(address)
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        raise UserError(f"cannot reach Dask scheduler at {address}: {exc}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=worker_timeout)
        except TimeoutError:
            raise UserError(f"Dask scheduler at {address} has no workers (waited "
                            f"{worker_timeout:g} s); start some with: dask worker "
                            f"{address}") from None
        threads = sum(client.nthreads().values())
    except BaseException:
        client.close()
        raise
    return DaskBackend(client, None, threads, retries=retries)
