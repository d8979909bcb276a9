"""The simsource daemon: a warm worker server kept between commands (Linux).

A parallel command used to start a fork server that imported the model and ``scipy.stats``
(about 1.3 s, docs/performance.md) before its first worker could run, and that ended with the
command. The daemon is that server kept alive between commands: the first parallel command of
a session starts it, and every later one finds its workers a fork away (a few milliseconds).

- **Identity.** It listens on an abstract Unix socket (no file is written anywhere) named after
  the user and a :func:`fingerprint` of everything a worker's results could depend on: the
  Python executable, its flags and ``sys.path``; the size and modification time of every source
  file of simsource and of every file of the compiled model; the modification time of the
  ``site-packages`` folders (an install, upgrade or removal changes it); the environment
  variables read at import (``PYTHON*``, ``SIMSOURCE_*``, thread counts, locale, ...); the
  command's CPU affinity, niceness, resource limits and control group. Edited code or another
  setting finds no daemon of its own and starts a fresh one; the old one idles out. Each
  worker takes the command's whole environment, so a variable outside the fingerprint (a
  terminal's, a job's) is the command's too, without a daemon of its own.
- **Who may connect.** Only processes of the same user in the same mount namespace: the daemon
  checks each connection's credentials (``SO_PEERCRED``) and namespace, and the command checks
  the daemon's, before anything is unpickled. (An abstract socket has no file permissions: a
  sandboxed process of the same user, a Flatpak say, could reach it; its own mount namespace
  gives it away.) Another user can at worst take a daemon's name after it has idled out; the
  command then refuses it and starts its own fork server.
- **A worker** is a fork of the daemon per connection. It takes the command's standard output,
  error, environment, working folder and umask, runs one task at a time (a pickled function
  and its arguments) and exits when the command closes the connection, or within a second of
  the command's death (even ``kill -9``), like the pool's own workers.
- **A command** is a fork of the daemon too. While a daemon runs, a parallel command line
  (what :func:`simsource.cli.local_pool_jobs` counts workers for: ``run``, ``compare``,
  ``sweep``, ... with ``-j`` not 1 on the local backend) does not import the library itself:
  it hands its standard input, output and error, environment, folder, umask and arguments to
  the daemon, which forks a process that runs the whole command there, with everything a
  batch command needs imported already (:data:`~simsource.experiment.pool.COMMAND_PRELOAD`,
  imported in the daemon's first quiet second). The command that delegated it passes on
  Ctrl-C and ``kill``, waits and exits with its status; if it is killed (even ``kill -9``),
  the forked command ends within a second, as a worker does. ``SIMSOURCE_DELEGATE=0`` keeps
  commands in their own process (the first command of a session, which starts the daemon,
  always runs in its own).
- **Lifetime.** It exits after ``SIMSOURCE_DAEMON_IDLE`` seconds (default 900) without a new
  connection. ``SIMSOURCE_DAEMON=0`` turns it off: commands then start their own fork server,
  as before. It is started in a session of its own, so Ctrl-C in the terminal does not reach it.

The client side (the command's pool of daemon workers) is :mod:`simsource.experiment.daemonpool`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import math
import os
import pickle
import select
import signal
import socket
import struct
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from simsource.experiment.pool import PRELOAD, _watch_parent

#: bumped whenever the protocol between a command and the daemon changes
PROTOCOL = 1
ENV_SWITCH = "SIMSOURCE_DAEMON"
ENV_IDLE = "SIMSOURCE_DAEMON_IDLE"
IDLE_S = 900.0
ENV_DELEGATE = "SIMSOURCE_DELEGATE"
#: environment variables read at import (by Python, numpy's BLAS, scipy, tqdm's defaults,
#: simsource): part of the fingerprint; a worker or delegated command takes the command's whole
#: environment in any case
IMPORT_ENV = ("PYTHON", "SIMSOURCE_", "LD_", "OMP_", "MKL_", "OPENBLAS_", "BLIS_", "NUMEXPR_",
              "VECLIB_", "LANG", "LC_", "TZ", "HOME", "NUMPY_", "SCIPY_", "PANDAS_", "TQDM_")
#: seconds without a new connection after which the daemon imports what delegated commands
#: need (:data:`simsource.experiment.pool.COMMAND_PRELOAD`): not before the first command's
#: workers are forked, which wait for nothing but the workers' own preload
COMMAND_PRELOAD_AFTER_S = 1.0
_CRED = struct.Struct("3i")   # struct ucred: pid, uid, gid
#: set in a command the daemon runs (:func:`_command`): it runs there, never delegated again
IN_COMMAND: list[bool] = []


def enabled() -> bool:
    """Whether commands use the daemon here: Linux (abstract sockets, peer credentials) and not
    switched off with ``SIMSOURCE_DAEMON=0``."""
    return (sys.platform == "linux" and hasattr(socket, "SO_PEERCRED")
            and os.environ.get(ENV_SWITCH, "1").strip() not in {"0", "false", "no", "off"})


def delegating() -> bool:
    """Whether a parallel command runs whole in a fork of the running daemon
    (:func:`simsource.experiment.daemonpool.delegate`): not with ``SIMSOURCE_DELEGATE=0``, and
    never from a command the daemon runs already."""
    return (not IN_COMMAND and enabled()
            and os.environ.get(ENV_DELEGATE, "1").strip() not in {"0", "false", "no", "off"})


def idle_seconds() -> float:
    """``SIMSOURCE_DAEMON_IDLE`` (seconds without a new connection before the daemon exits):
    900 when unset, not a number, not positive or a week or more."""
    try:
        value = float(os.environ.get(ENV_IDLE, ""))
    except ValueError:
        return IDLE_S
    return value if 0 < value < 7 * 86400 else IDLE_S


def _sources() -> list[Path]:
    """The files a worker runs: simsource's sources and the compiled model beside them."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py"))
    native = package.parent / "build" / "native"
    if native.is_dir():
        files += sorted(p for p in native.rglob("*") if p.is_file())
    return files


def _process() -> str:
    """What the operating system holds for this process that its workers would inherit from
    the daemon instead: CPU affinity, niceness, resource limits, control group."""
    import resource

    parts: list[object] = [sorted(os.sched_getaffinity(0)), os.getpriority(os.PRIO_PROCESS, 0)]
    for name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_NPROC",
                 "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_FSIZE"):
        if hasattr(resource, name):
            parts.append(resource.getrlimit(getattr(resource, name)))
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/self/cgroup").read_text(encoding="utf-8"))
    return repr(parts)


def fingerprint() -> str:
    """What a worker's results may depend on, hashed (see the module's docstring)."""
    h = hashlib.sha256()
    h.update(repr((PROTOCOL, sys.executable, sys.version, sys.path, tuple(sys.flags),
                   sys._xoptions, sys.warnoptions, _process())).encode())
    # an install, upgrade or removal changes a site-packages folder's time; other folders on
    # the path (the working folder, say) count by name only: workers import anything outside
    # the preload afresh from them
    sites = [e for e in sys.path if Path(e).name in ("site-packages", "dist-packages")]
    for entry in [*sites, *map(str, _sources())]:
        try:
            st = os.stat(entry or ".")
        except OSError:
            continue
        h.update(f"\0{entry}\0{st.st_mtime_ns}\0{st.st_size}".encode())
    for key in sorted(os.environ):
        if key.startswith(IMPORT_ENV) or key.endswith("_NUM_THREADS"):
            h.update(f"\0{key}={os.environ[key]}".encode(errors="surrogateescape"))
    return h.hexdigest()[:32]


def address() -> str:
    """The abstract socket address of this user's daemon for this code and environment."""
    return f"\0simsource-{os.getuid()}-{fingerprint()}"


def credentials(sock: socket.socket) -> tuple[int, int]:
    """``(pid, uid)`` of the process at the other end of a connected Unix socket."""
    pid, uid, _ = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                               _CRED.size))
    return pid, uid


def trusted(sock: socket.socket) -> str | None:
    """Why the process at the other end of ``sock`` is not to be trusted (another user, or a
    sandbox of this user's: another mount namespace), or None."""
    pid, uid = credentials(sock)
    if uid != os.getuid():
        return f"it belongs to user {uid}"
    try:
        same = os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    except OSError:
        return "its mount namespace cannot be read"
    return None if same else "it runs in another mount namespace (a sandbox or a container)"


def spawn(addr: str) -> int:
    """Start a daemon for ``addr`` in a session of its own, with this process's interpreter
    flags and ``sys.path``, and return its pid; it exits at once if another one already
    listens there. This process does not wait for it: :func:`reap` collects it if it ends
    first, and the kernel's init adopts it when this process ends."""
    import subprocess

    flags: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]

    code = ("import os, sys, json; os.closerange(3, 65536); "
            "sys.path[:] = json.loads(sys.argv[1]); "
            "from simsource.experiment.daemon import main; main(sys.argv[2:])")
    # the command's interpreter flags (-O, -W, -X ...), as multiprocessing passes them on
    argv = [sys.executable, *flags, "-c", code, json.dumps(sys.path),
            addr.encode("unicode_escape").decode("ascii"), str(idle_seconds())]
    null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=null, setsid=True)
    _spawned.append(pid)
    return pid


_spawned: list[int] = []


def reap(pid: int) -> bool:
    """Whether the daemon ``pid`` this process started has ended (one that lost the race for
    its address, or whose preload failed); collects every one of them that has."""
    for child in list(_spawned):
        try:
            done = os.waitpid(child, os.WNOHANG)[0] == child
        except ChildProcessError:
            done = True
        if done:
            _spawned.remove(child)
    return pid not in _spawned


def running() -> list[dict[str, Any]]:
    """This user's daemons (not their workers): ``pid``, ``address`` (escaped), ``current``
    (whether it serves this code and environment), ``age_s``, ``rss_mb`` and ``workers``."""
    mine, here = os.getuid(), address().encode("unicode_escape").decode("ascii")
    procs: dict[int, tuple[list[str], list[str]]] = {}   # pid -> command line, stat fields
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if not any(__name__ in a for a in argv):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if (entry / "status").stat().st_uid != mine:
                continue
        except OSError:
            continue
        procs[int(entry.name)] = (argv, fields)
    tick = os.sysconf("SC_CLK_TCK")
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        uptime = math.nan
    found = []
    for pid, (argv, fields) in sorted(procs.items()):
        if int(fields[1]) in procs:
            continue   # a worker: a fork of a daemon
        at = next(i for i, a in enumerate(argv) if __name__ in a)   # -c code, path, address
        addr = argv[at + 2] if at + 2 < len(argv) else ""
        found.append({"pid": pid, "address": addr, "current": addr == here,
                      "age_s": uptime - int(fields[19]) / tick,
                      "rss_mb": int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20,
                      "workers": sum(1 for _, f in procs.values() if int(f[1]) == pid)})
    return found


def stop(pids: list[int]) -> list[int]:
    """Ask these daemons to end (SIGTERM: they stop taking commands; workers finish theirs);
    the pids it reached."""
    reached = []
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
            reached.append(pid)
    return reached


# ---- the daemon -----------------------------------------------------------------------------
def main(argv: list[str]) -> None:
    """``main([address (unicode-escaped), idle seconds])``: listen, preload, serve."""
    addr = argv[0].encode("ascii").decode("unicode_escape")
    serve(addr, float(argv[1]))


def serve(addr: str, idle: float) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(addr)
    except OSError:   # another daemon serves this address: it will do
        return
    listener.listen(64)   # commands may connect now; they are accepted once the preload is done
    # the fork server's preload (the model, scipy.stats); importing this module brought the
    # pool and multiprocessing.connection (a worker's watch on its command, its messages)
    from simsource.experiment.pool import COMMAND_PRELOAD

    _preload(PRELOAD)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # the kernel reaps ended workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    later = list(COMMAND_PRELOAD)
    while True:
        if not select.select([listener], [], [], COMMAND_PRELOAD_AFTER_S if later else idle)[0]:
            if not later:
                break
            _preload(later)   # quiet a second: what a delegated command needs, once
            later = []
            continue
        try:
            conn, _ = listener.accept()
        except OSError:   # e.g. out of file descriptors: try again shortly
            time.sleep(0.1)
            continue
        try:
            if trusted(conn) is None and os.fork() == 0:
                listener.close()
                _worker(conn)
        except OSError:   # the peer left, or no process can be made now: refuse it
            pass
        conn.close()
    listener.close()
    os._exit(0)   # nothing to flush or free: skip the final collections of a large heap


def _preload(modules: list[str]) -> None:
    for module in modules:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()   # the workers' collections then skip the preloaded heap (and share its pages)


def _worker(conn: socket.socket) -> None:
    """A forked worker's life; it never returns."""
    code = 1
    try:
        code = _work(conn)
    except BaseException:   # the command's stderr, where it has one by now
        traceback.print_exc()
    finally:
        _flush()
        os._exit(code)


def _work(conn: socket.socket) -> int:
    """One worker: adopt the command's output, environment and folder, then run its tasks until
    it hangs up."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    peer, _ = credentials(conn)
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    if not msg or len(fds) not in (2, 3):
        return 0   # the command went away before it said hello
    for fd, target in zip(fds, (1, 2) if len(fds) == 2 else (0, 1, 2), strict=True):
        os.dup2(fd, target)
        os.close(fd)
    # the streams were made for /dev/null: block-buffered; a terminal wants lines
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.reconfigure(line_buffering=fd == 2 or os.isatty(fd))  # type: ignore[union-attr]
    hello = json.loads(msg)
    os.environ.clear()
    os.environ.update(hello["env"])
    os.chdir(hello["cwd"])
    os.umask(int(hello["umask"]))
    _watch_parent(peer)
    link = Connection(conn.detach())
    if "argv" in hello:
        return _command(link, hello["entry"], hello["argv"])
    link.send((PROTOCOL, os.getpid(), os.getppid()))
    while True:
        try:
            data = link.recv_bytes()
        except (EOFError, OSError):
            return 0
        try:
            fn, args = pickle.loads(data)
            reply: tuple[Any, ...] = ("ok", fn(*args))
        except BaseException as exc:   # the command re-raises it, with this traceback
            reply = ("err", exc, traceback.format_exc())
        _flush()
        try:
            payload = pickle.dumps(reply)
        except Exception as exc:   # an unpicklable result or exception
            payload = pickle.dumps(("err", RuntimeError(
                f"a result could not be sent back: {exc!r}"), traceback.format_exc()))
        try:
            link.send_bytes(payload)
        except (EOFError, OSError):
            return 0


def _command(link: Connection, entry: str, argv: list[str]) -> int:
    """Run a whole command line in this fork of the warm daemon for the command that delegated
    it (:func:`simsource.experiment.daemonpool.delegate`), as that command would have: ``entry``
    (``"module:function"``, the command line's click group) gets ``argv[1:]``; Ctrl-C and
    ``kill``, which the caller passes on, stop it the same way; its exit handlers run; and its
    exit status goes back on ``link``. It starts only once the caller, told this process's
    pid, says go: a caller that gave up waiting runs the command itself, never both."""
    import atexit

    IN_COMMAND.append(True)
    sys.argv = list(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # what the caller passes on
    signal.signal(signal.SIGTERM, _terminated)                 # until the command sets its own
    code: object = 0
    try:
        link.send((PROTOCOL, os.getpid(), os.getppid()))
        if link.recv() != "go":
            return 0
    except (OSError, EOFError, KeyboardInterrupt, SystemExit):   # the caller gave up or left
        return 0
    try:
        module, _, name = entry.partition(":")
        getattr(importlib.import_module(module), name)(args=list(argv[1:]),
                                                       prog_name="simsource")
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:   # before or after the command's own handler
        code = 130
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()   # what the interpreter's exit would run (os._exit does not)
    status = _status(code)
    _flush()
    with contextlib.suppress(OSError, EOFError):
        link.send(("exit", status))
    return status


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _status(code: object) -> int:
    """The process exit status of ``SystemExit(code)``, as the interpreter makes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
