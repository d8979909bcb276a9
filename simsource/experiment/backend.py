"""Where chunks of replications run: in this process, on local worker processes, or elsewhere.

A backend maps one top-level, picklable function over tasks and yields ``(task, result)`` as
tasks complete, in any order; the caller stores each result at once, so completion order never
changes the numbers. A new backend (e.g. Dask in ``simsource/experiment/dask_backend.py``)
implements :class:`Backend` and registers a factory ``make_backend(jobs[, scheduler]) -> Backend``
in :data:`BACKENDS`. Library functions take a backend name or a ready :class:`Backend` (which the
caller then owns and closes), see :func:`using_backend`.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol, TypeVar

from simsource.errors import UserError

T = TypeVar("T")
R = TypeVar("R")

#: backend name -> "module:factory"; the factory takes ``jobs`` and returns a :class:`Backend`.
BACKENDS: dict[str, str] = {
    "local": "simsource.experiment.backend:make_local",
    "dask": "simsource.experiment.dask_backend:make_backend",
}


class Backend(Protocol):
    name: str
    jobs: int

    def map_chunks(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` on every task; yield ``(task, result)`` as each completes."""
        ...

    def close(self) -> None:
        ...


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class SerialBackend:
    """Runs every task in this process, in order (``-j 1``): no start-up cost, easy to debug."""

    name = "local"
    jobs = 1

    def map_chunks(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[T, R]]:
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


def _worker_init() -> None:
    # Ctrl-C is the parent's business: it stops the pool and keeps what is written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalBackend:
    """A pool of worker processes on this machine.

    Workers come from a fork server (start-up cost paid once, no fork of a threaded parent);
    at most ``2 × jobs`` tasks are in flight, so pending results never pile up in memory.
    """

    name = "local"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self, n_tasks: int) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
                else "spawn"
            ctx = multiprocessing.get_context(method)
            if method == "forkserver":
                ctx.set_forkserver_preload(["simsource.experiment.runner", "simsource.model"])
            self._pool = ProcessPoolExecutor(max_workers=max(1, min(self.jobs, n_tasks)),
                                             mp_context=ctx, initializer=_worker_init)
        return self._pool

    def map_chunks(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[T, R]]:
        if not tasks:
            return
        pool = self._executor(len(tasks))
        todo = iter(tasks)
        running: dict[Future[R], T] = {}
        try:
            while True:
                while len(running) < 2 * self.jobs:
                    task = next(todo, None)
                    if task is None:
                        break
                    running[pool.submit(fn, task)] = task
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield running.pop(fut), fut.result()
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        """Stop at once: cancel queued tasks and end the workers (their chunks are not needed)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list(getattr(pool, "_processes", {}).values())  # no public API for this
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def make_local(jobs: int) -> Backend:
    return SerialBackend() if jobs <= 1 else LocalBackend(jobs)


def make_backend(name: str, jobs: int | None, scheduler: str | None = None) -> Backend:
    """The backend called ``name`` with ``jobs`` workers (None: every core); ``scheduler`` is
    the address of a cluster for backends that have one (dask)."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise UserError(f"-j/--jobs: must be at least 1, got {jobs}")
    target = BACKENDS.get(name)
    if target is None:
        raise UserError(f"--backend: unknown backend '{name}' (known: {', '.join(BACKENDS)})")
    module, _, factory = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise UserError(f"--backend {name}: not available ({exc.name} is not installed; for "
                        "dask: pip install 'simsource[dask]')") from None
    if scheduler is not None and not scheduler.strip():
        raise UserError("--scheduler: empty address (e.g. tcp://10.0.0.5:8786)")
    if scheduler is None:
        backend: Backend = getattr(mod, factory)(jobs)
    elif name == "dask":
        backend = getattr(mod, factory)(jobs, scheduler)
    else:
        raise UserError(f"--scheduler: only with --backend dask, not '{name}'")
    return backend


@contextlib.contextmanager
def using_backend(backend: str | Backend, jobs: int | None) -> Iterator[Backend]:
    """A backend for the duration of a call: made from a name (and closed afterwards), or the
    caller's own instance (left open for the caller to reuse and close)."""
    if not isinstance(backend, str):
        yield backend
        return
    be = make_backend(backend, jobs)
    try:
        yield be
    finally:
        be.close()
