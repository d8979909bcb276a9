"""A command's workers taken from the simsource daemon (:mod:`simsource.experiment.daemon`).

:class:`DaemonPool` has the interface of :class:`simsource.experiment.pool.WarmPool` (``submit``
returns a :class:`~concurrent.futures.Future`; ``window``, ``warm``, ``shutdown``, ``kill``,
``processes``), so :mod:`simsource.experiment.pool` hands it to every batch of a command in
place of a pool of its own. Each worker is one connection to the daemon, which forks it from
its warm state; a thread per worker sends it the next queued task and waits for the answer.
A worker that dies mid-task breaks the pool, as in a process pool: every task still waiting
fails with :class:`~concurrent.futures.process.BrokenProcessPool`.

:func:`prestart` (from the command line, before it imports the library) opens the first
connection at once, and starts the daemon when there is none yet: it then preloads while the
command imports its own modules, as the fork server did.

:func:`delegate` runs a whole command line in a fork of the running daemon (its module
docstring: **A command**).

A task's function must be importable by name in the daemon (``run_task``, a model given as
``"module:function"``): unlike a pool of the process's own, the daemon's workers never import
the command's ``__main__``. That is why only the command line uses the daemon.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import queue
import select
import signal
import socket
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any

from simsource.experiment import daemon

#: how long a command waits for a daemon it started to accept (it preloads first: ~1.5 s)
START_TIMEOUT_S = 60.0

_early: list[tuple[str, socket.socket]] = []   # prestart's connection, for the first pool
_starting: dict[str, int] = {}   # address -> pid of the daemon prestart started


class RemoteTraceback(Exception):
    """The worker's traceback, attached as the cause of an exception raised in a task."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'


def _connect(addr: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(addr)
    except OSError:
        sock.close()
        return None
    return sock


def prestart() -> bool:
    """Connect to this code's daemon now, starting it when it does not run (cheap: a hash of
    the sources' times and one connection; the daemon starts in the background). True when it
    was running."""
    addr = daemon.address()
    sock = _connect(addr)
    if sock is None:
        _starting[addr] = daemon.spawn(addr)
        return False
    _early.append((addr, sock))
    return True


#: how long a delegating command waits for the daemon's fork to say it has taken the command
DELEGATE_TIMEOUT_S = 30.0
#: the signals a delegating command passes on to the process that runs it (a hang-up, or a
#: ``kill -9``, ends this one: the other sees it gone within a second and exits too)
FORWARDED = (signal.SIGINT, signal.SIGTERM)


def delegate(entry: str, argv: list[str], timeout: float = DELEGATE_TIMEOUT_S) -> int | None:
    """Run this whole command line (``entry``, ``"module:function"``: the click group, with
    ``argv[1:]``) in a fork of the running daemon, which has imported what a batch command
    needs: this process hands over its standard input, output and error, its environment,
    folder and umask, passes on Ctrl-C and ``kill`` (:data:`FORWARDED`) and returns the
    command's exit status. None, having done nothing, when no daemon of this very code and
    environment runs or it does not take the command in time: the caller then runs it itself
    (the fork waits for this process's go, so the command never runs twice)."""
    fds = [_fileno(stream, -1) for stream in (sys.stdin, sys.stdout, sys.stderr)]
    if min(fds) < 0:   # a stream replaced (captured, say): the command runs here, with it
        return None
    sock = _connect(daemon.address())
    if sock is None:
        return None
    link: Connection | None = None
    try:
        if daemon.trusted(sock) is not None:
            raise ConnectionRefusedError
        hello = json.dumps({"cwd": os.getcwd(), "umask": _umask(), "env": dict(os.environ),
                            "entry": entry, "argv": list(argv)}).encode()
        socket.send_fds(sock, [hello], fds)
        link = Connection(os.dup(sock.fileno()))
        if not link.poll(timeout):
            raise TimeoutError
        protocol, pid, _ = link.recv()
        if protocol != daemon.PROTOCOL:
            raise ConnectionRefusedError
        # a handle on that process before it starts (it waits for the go): signals reach it,
        # and no other process that might reuse its pid
        pidfd = os.pidfd_open(pid)
    except (OSError, EOFError, ValueError):   # nothing ran: this process runs the command
        if link is not None:
            link.close()
        sock.close()
        return None
    with contextlib.closing(sock), contextlib.closing(link):
        try:
            return _wait(link, pidfd)
        finally:
            os.close(pidfd)


def _wait(link: Connection, pidfd: int) -> int:
    """Tell the forked command to go; its exit status, Ctrl-C and ``kill`` passed on
    meanwhile."""
    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(pidfd, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    try:
        link.send("go")
        kind, status = link.recv()
    except (EOFError, OSError):
        kind, status = "", 1
    if kind != "exit":
        print("internal error: the process running this command (a fork of the simsource "
              "daemon) ended before it finished; SIMSOURCE_DELEGATE=0 runs commands in their "
              "own process", file=sys.stderr)
    return int(status)


def _open(addr: str, deadline: float) -> socket.socket:
    """A connection to the daemon at ``addr``: prestart's, or a new one (starting the daemon
    and waiting for it to listen when there is none)."""
    while _early:
        early_addr, sock = _early.pop()
        if early_addr == addr:
            return sock
        sock.close()
    fresh = _connect(addr)
    if fresh is None:
        pid = _starting.pop(addr, None) or daemon.spawn(addr)
        while fresh is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the simsource daemon did not start (or ended before it "
                                   "listened: without it, the fork server will say why)")
            time.sleep(0.01)
            if daemon.reap(pid):   # ended: another one has the address, or it failed
                deadline = min(deadline, time.monotonic() + 1.0)
            fresh = _connect(addr)
    return fresh


def _umask() -> int:
    """This process's umask, read without changing it (setting and restoring it would race
    with the thread opening the results folder meanwhile)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    raise OSError("no umask in /proc/self/status")


def _fileno(stream: Any, default: int) -> int:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):   # e.g. captured by a test runner
        return default


class _Worker:
    """One daemon worker: its connection, its pid and the thread that feeds it."""

    def __init__(self, addr: str, deadline: float) -> None:
        sock = _open(addr, deadline)
        link: Connection | None = None
        try:
            why = daemon.trusted(sock)
            if why is not None:
                raise PermissionError(f"the simsource daemon's socket is refused: {why}")
            hello = json.dumps({"cwd": os.getcwd(), "umask": _umask(),
                                "env": dict(os.environ)}).encode()
            socket.send_fds(sock, [hello], [_fileno(sys.stdout, 1), _fileno(sys.stderr, 2)])
            link = Connection(os.dup(sock.fileno()))
            if not link.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError("the simsource daemon did not answer")
            protocol, pid, daemon_pid = link.recv()
            if protocol != daemon.PROTOCOL:
                raise ConnectionError(f"the simsource daemon speaks protocol {protocol}, "
                                      f"not {daemon.PROTOCOL}")
            self.pid, self.daemon_pid = int(pid), int(daemon_pid)
            # a handle on this very process: its pid may be reused once the daemon reaps it
            self.pidfd: int | None = os.pidfd_open(self.pid) if hasattr(os, "pidfd_open") \
                else None
        except BaseException:
            if link is not None:
                link.close()
            sock.close()
            raise
        self.sock, self.link = sock, link
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        """Shut the connection down (the worker exits when it reads the end): a thread waiting
        for an answer wakes up and closes it (closing it here could pull the descriptor from
        under that thread)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the connection; by the thread that used it, or once that thread has ended."""
        self.wake()
        for closer in (self.link.close, self.sock.close):
            with contextlib.suppress(OSError):
                closer()
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None

    # what WarmPool.processes() gives: the parts of multiprocessing.Process that kill() and the
    # tests use
    def is_alive(self) -> bool:
        if self.pidfd is not None:
            return not select.select([self.pidfd], [], [], 0)[0]   # readable once it has ended
        from simsource.experiment.pool import _alive

        return _alive(self.pid)

    def terminate(self) -> None:
        if self.pidfd is None:
            return   # without a handle on the process, a signal could reach another one
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGTERM)

    def join(self, timeout: float | None = None) -> None:
        end = math.inf if timeout is None else time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < end:
            time.sleep(0.01)


_Item = tuple[Future[Any], Any, tuple[Any, ...]]


class DaemonPool:
    """``size`` workers forked by the daemon, kept for every batch of this process."""

    method = "daemon"

    def __init__(self, size: int, timeout: float = START_TIMEOUT_S) -> None:
        self.size = size
        self.batches = 0
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._closed = False
        addr = daemon.address()
        self._workers: list[_Worker] = []
        try:
            for attempt in (1, 2):
                deadline = time.monotonic() + timeout
                try:
                    while len(self._workers) < size:
                        self._workers.append(_Worker(addr, deadline))
                    break
                except (EOFError, ConnectionResetError):
                    # the daemon idled out as we connected: once more, with a new one
                    if attempt == 2 or self._workers:
                        raise
        except BaseException:
            for w in self._workers:
                w.close()
            raise
        for w in self._workers:
            w.thread = threading.Thread(target=self._feed, args=(w,), daemon=True,
                                        name=f"simsource-daemon-worker-{w.pid}")
            w.thread.start()

    @property
    def daemon_pid(self) -> int:
        return self._workers[0].daemon_pid

    def window(self, jobs: int) -> int:
        """As :meth:`simsource.experiment.pool.WarmPool.window`."""
        return 2 * jobs if jobs >= self.size else jobs

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            if self._broken is not None:
                fut.set_exception(BrokenProcessPool(self._broken))
            else:
                self._queue.put((fut, fn, args))
        return fut

    def _feed(self, w: _Worker) -> None:
        """Send ``w`` the next task and wait for its answer, until a stop (None) comes."""
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                fut, fn, args = item
                if not fut.set_running_or_notify_cancel():
                    continue
                if self._broken is not None:
                    fut.set_exception(BrokenProcessPool(self._broken))
                    continue
                try:
                    w.link.send((fn, args))
                except (OSError, EOFError):
                    self._break(w, fut)
                    continue
                except BaseException as exc:   # fn or its arguments cannot be pickled
                    fut.set_exception(exc)
                    continue
                try:
                    data = w.link.recv_bytes()
                except (OSError, EOFError):
                    self._break(w, fut)
                    continue
                try:   # the whole message is read: an error here leaves the stream in step
                    reply = pickle.loads(data)
                    if reply[0] == "ok":
                        fut.set_result(reply[1])
                        continue
                    error: BaseException = reply[1]
                    error.__cause__ = RemoteTraceback(reply[2])
                except BaseException as exc:   # e.g. an exception that cannot be unpickled
                    error = exc
                fut.set_exception(error)
        finally:
            w.close()

    def _break(self, w: _Worker, fut: Future[Any]) -> None:
        """``w`` died: its task and every one waiting fail, and so will later ones."""
        with self._lock:
            if self._broken is None:
                self._broken = (f"a worker of the simsource daemon (pid {w.pid}) ended while "
                                "running a task")
            broken = BrokenProcessPool(self._broken)
            fut.set_exception(broken)
            self._drain(broken)

    def _drain(self, exc: BaseException | None) -> None:
        """Fail (or, with ``exc`` None, cancel) every task still waiting; the stops for the
        feeding threads stay."""
        stops = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stops += 1
                continue
            fut = item[0]
            if exc is None:
                fut.cancel()
            elif fut.set_running_or_notify_cancel():
                fut.set_exception(exc)
        for _ in range(stops):
            self._queue.put(None)

    def processes(self) -> list[_Worker]:
        return list(self._workers)

    def warm(self) -> None:
        """Nothing to wait for: the daemon's workers start warm."""

    def _stop(self) -> bool:
        """Refuse new tasks, cancel the waiting ones and stop every feeding thread after its
        task; False if that was done already."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            self._drain(None)
            for _ in self._workers:
                self._queue.put(None)
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Cancel what waits, let running tasks finish (``wait``), then hang up."""
        self._stop()
        if not wait:
            return
        for w in self._workers:
            if w.thread is not None and w.thread is not threading.current_thread():
                w.thread.join()

    def kill(self) -> None:
        """Stop at once: cancel what waits, end the workers, wake the threads waiting for them
        (each closes its connection as it ends)."""
        self._stop()
        for w in self._workers:
            w.terminate()
            w.wake()
