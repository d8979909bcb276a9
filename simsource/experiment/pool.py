"""The warm worker pool: one per process, created on first use and reused by every batch.

Every local parallel batch — ``simsource run -j 2``, :func:`~simsource.experiment.run_batch`,
the teaching page, sensitivity, staffing and the tests — runs on the process's one pool, so
worker start-up is paid once per process, not once per batch. The pool is a
:class:`WarmPool` (a :class:`~concurrent.futures.ProcessPoolExecutor` of this process's own)
or, for the command line (:func:`use_daemon`), a
:class:`~simsource.experiment.daemonpool.DaemonPool`: workers forked by the simsource daemon,
a warm server kept between commands (:mod:`simsource.experiment.daemon`, Linux), whose
workers start in milliseconds. This module and the daemon are the only ones that make worker
processes.

Workers come from a fork server that has imported the model already
(``set_forkserver_preload``): a new worker is a fork of a warm interpreter, which is also safe
in a multi-threaded parent such as the Streamlit server. Where there is no fork server
(Windows, macOS before 3.14 by choice of default) workers are spawned. A command line that will
run a batch starts the fork server first of all (:func:`prestart`, from
:mod:`simsource.cli`), so the server imports the model while the command imports its own
modules.

The pool holds as many workers as the largest ``jobs`` asked for so far; a batch asking for
fewer keeps at most that many tasks running (:meth:`WarmPool.window`). It is shut down at
interpreter exit (and by :func:`shutdown`); on an error or Ctrl-C inside a batch the caller
stops it at once with :func:`abort`, so no worker outlives the batch it was running. A worker
also exits once the process that started it is gone, so even ``kill -9`` of a command leaves
none behind.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsource.experiment.daemonpool import DaemonPool

#: modules the fork server imports once, before it forks any worker
PRELOAD = ["simsource.experiment.worker",
           "scipy.stats",   # the model's Kaplan–Meier imports it at its first call
           "simsource.experiment.serverexit"]   # the server's exit skips its final GC

#: what the daemon imports beyond :data:`PRELOAD` for the commands it runs whole
#: (:func:`simsource.experiment.daemon._command`): the modules of the command line's batch
#: commands, named (this layer never imports the command line)
COMMAND_PRELOAD = ["simsource.cli", "simsource.cli.experiment_cmds",
                   "simsource.experiment.runner", "simsource.experiment.store",
                   "simsource.experiment.tables", "simsource.experiment.compare",
                   "simsource.experiment.sweep", "simsource.stats", "pandas", "tqdm"]


def start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:   # no /proc (macOS, Windows): ask the kernel
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _watch_parent(pid: int, every: float = 1.0) -> None:
    """Exit this worker once the process that started the pool is gone, also after ``kill -9``
    (which no handler sees): a worker waits on its task queue forever otherwise, and holds the
    fork server up too. A daemon thread, asleep but for one check a second. Not on Windows,
    where ``os.kill(pid, 0)`` would terminate the parent."""
    if sys.platform == "win32":
        return

    def watch() -> None:
        while _alive(pid):
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="simsource-parent-watch", daemon=True).start()


def _worker_init(parent: int) -> None:
    # Ctrl-C is the parent's business: it stops the pool and keeps what is written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent(parent)


def _context(method: str) -> Any:
    """The multiprocessing context of the pool's workers; a fork server's preload is set (it
    takes effect when this process starts its fork server, i.e. for its first pool)."""
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


_FROM_DAEMON: list[bool] = []


def use_daemon() -> None:
    """This process's pool takes its workers from the simsource daemon, where there is one
    (:mod:`simsource.experiment.daemon`: Linux, ``SIMSOURCE_DAEMON`` not 0): the command line
    calls it; a library user, the teaching page and the tests keep a pool of their own."""
    if not _FROM_DAEMON:
        _FROM_DAEMON.append(True)


def _daemon() -> bool:
    if not _FROM_DAEMON:
        return False
    from simsource.experiment import daemon

    return daemon.enabled()


def delegate(entry: str, argv: list[str]) -> int | None:
    """The exit status of this command line run whole by the daemon
    (:func:`simsource.experiment.daemonpool.delegate`), or None: run it here."""
    from simsource.experiment import daemon

    if not daemon.delegating():
        return None
    from simsource.experiment import daemonpool

    return daemonpool.delegate(entry, argv)


def prestart(jobs: int = 0) -> None:
    """With the daemon (:func:`use_daemon`): connect to it now, or start it
    (:func:`simsource.experiment.daemonpool.prestart`); when it runs already, this process's
    pool of ``jobs`` workers is made at once (a few hundredths of a second: the daemon forks
    them warm), before the command imports its heavy modules: made later, in the background,
    the pool's threads waited for this one's imports (a third of a second, docs/performance.md).
    Otherwise: start the fork server now, before this process imports its own heavy modules: it
    then imports the model (about a second) while this process imports and prepares the batch,
    on another core, and the pool's workers fork from it as soon as the batch needs them. Cheap
    (one process spawned, nothing waited for); the server exits with this process. A command
    that turns out to need no worker has spent some CPU of an idle core."""
    if _daemon():
        from simsource.experiment import daemonpool

        if daemonpool.prestart() and jobs > 1:
            _early_daemon_pool(jobs)
        return
    if start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    _context("forkserver")
    forkserver.ensure_running()


class WarmPool:
    """A process pool of ``size`` workers that stays up between batches."""

    def __init__(self, size: int) -> None:
        method = start_method()
        self.size = size
        self.method = method
        self.executor = ProcessPoolExecutor(max_workers=size, mp_context=_context(method),
                                            initializer=_worker_init, initargs=(os.getpid(),))
        self.batches = 0

    def window(self, jobs: int) -> int:
        """Tasks to keep submitted for a batch on ``jobs`` workers: two per worker when the pool
        is exactly that size (the next task is ready when one finishes), else ``jobs`` (so no
        more than ``jobs`` workers are busy)."""
        return 2 * jobs if jobs >= self.size else jobs

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        return self.executor.submit(fn, *args)

    def processes(self) -> list[Any]:
        # ProcessPoolExecutor has no public list of its processes; needed to stop them at once
        return list((getattr(self.executor, "_processes", None) or {}).values())

    def warm(self) -> None:
        """Start every worker now (each imports nothing more: the fork server preloaded it)."""
        from simsource.experiment.worker import ready

        futures = [self.executor.submit(ready) for _ in range(self.size)]
        for fut in futures:
            fut.result()

    def shutdown(self, wait: bool = True) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)

    def kill(self) -> None:
        """Stop at once: cancel queued tasks and end the workers (their results are not
        needed)."""
        procs = self.processes()
        self.executor.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)


def _make(jobs: int) -> WarmPool | DaemonPool:
    """The daemon's workers when this process uses it and it answers, else a pool of its own."""
    if _daemon():
        from simsource.experiment.daemonpool import DaemonPool

        try:
            return DaemonPool(jobs)
        except Exception:   # no daemon to be had here: the command starts its own fork server
            pass
    return WarmPool(jobs)


_LOCK = threading.Lock()
_POOL: WarmPool | DaemonPool | None = None
_AT_EXIT: list[bool] = []


def get_pool(jobs: int) -> WarmPool | DaemonPool:
    """The process's pool, with at least ``jobs`` workers (made or enlarged on demand)."""
    global _POOL
    with _LOCK:
        if _POOL is not None and _POOL.size < jobs:
            _POOL.shutdown(wait=True)
            _POOL = None
        if _POOL is None:
            _POOL = _make(jobs)
            _at_exit()
        _POOL.batches += 1
        return _POOL


def _early_daemon_pool(jobs: int) -> None:
    """The process's pool, ``jobs`` workers of the running daemon (nothing if that fails: the
    first batch then makes its pool as usual)."""
    global _POOL
    from simsource.experiment.daemonpool import DaemonPool

    with _LOCK:
        if _POOL is not None:
            return
        try:
            _POOL = DaemonPool(jobs)
        except Exception:
            return
        _at_exit()


def _at_exit() -> None:
    if not _AT_EXIT:  # registered with the first pool: importing this module does nothing
        atexit.register(shutdown)
        _AT_EXIT.append(True)


def current() -> WarmPool | DaemonPool | None:
    return _POOL


def warm_up(jobs: int, background: bool = True) -> threading.Thread | None:
    """Start the pool's ``jobs`` workers ahead of the first batch (in a background thread, so
    a web page or a command goes on meanwhile); returns the thread, or None when done here."""
    if jobs < 2:
        return None

    def start() -> None:
        pool = get_pool(jobs)
        pool.batches -= 1  # warming is not a batch
        try:
            pool.warm()
        except Exception:
            abort(pool)

    if not background:
        start()
        return None
    thread = threading.Thread(target=start, name="simsource-pool-warm-up", daemon=True)
    thread.start()
    return thread


def abort(pool: WarmPool | DaemonPool | None = None) -> None:
    """Kill the pool (``pool`` if given and still the current one) after an error or Ctrl-C;
    the next batch starts a new one."""
    global _POOL
    with _LOCK:
        if _POOL is None or (pool is not None and pool is not _POOL):
            return
        dead, _POOL = _POOL, None
    dead.kill()


def shutdown() -> None:
    """Shut the pool down cleanly (waits for running tasks; queued ones are cancelled)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)

