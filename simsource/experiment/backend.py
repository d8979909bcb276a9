"""Where chunks of replications run: in this process, on the warm local pool, or elsewhere.

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
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Protocol, TypeVar

from simsource.errors import UserError
from simsource.experiment import pool

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


class LocalBackend:
    """Worker processes on this machine: the process's warm pool
    (:mod:`simsource.experiment.pool`), at most ``jobs`` of them busy for this backend.

    Closing the backend leaves the pool running for the next batch (it is shut down at exit);
    on an error or Ctrl-C the pool is killed at once, so its workers stop with the batch.
    """

    name = "local"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def map_chunks(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[T, R]]:
        if not tasks:
            return
        the_pool = pool.get_pool(self.jobs)
        window = the_pool.window(min(self.jobs, len(tasks)))
        todo = iter(tasks)
        running: dict[Future[R], T] = {}
        try:
            while True:
                while len(running) < window:
                    task = next(todo, None)
                    if task is None:
                        break
                    running[the_pool.submit(fn, task)] = task
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield running.pop(fut), fut.result()
        except BaseException:
            pool.abort(the_pool)
            raise

    def warm_up(self) -> None:
        """Start the workers now, in the background (the first batch then finds them ready)."""
        pool.warm_up(self.jobs)

    def close(self) -> None:
        pass


def make_local(jobs: int) -> Backend:
    """``-j 1``: this process; more: the warm pool, whose workers start now in the background
    (while the caller opens its results folder)."""
    if jobs <= 1:
        return SerialBackend()
    backend = LocalBackend(jobs)
    backend.warm_up()
    return backend


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
