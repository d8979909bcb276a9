"""The simsource daemon (simsource/experiment/daemon.py, daemonpool.py): a warm worker server
kept between commands (issue 18).

The rest of the suite runs with the daemon switched off (conftest.py); each test here switches
it on with a tag of its own (``SIMSOURCE_DAEMON_TAG`` is part of the daemon's fingerprint, so
every test has a fresh daemon) and ends the daemons it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest

from simsource.experiment import daemon, daemonpool, pool
from simsource.experiment.backend import make_backend
from simsource.experiment.engine import Work, replications
from simsource.experiment.pool import _alive
from simsource.scenario import Scenario, load_scenario

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux",
                                reason="the daemon is Linux only")
HERE = "fake_models"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _daemons(tag: str) -> list[int]:
    """The daemons (and their workers) started with ``SIMSOURCE_DAEMON_TAG=tag``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if daemon.__name__.encode() not in (proc / "cmdline").read_bytes():
                continue
            if f"SIMSOURCE_DAEMON_TAG={tag}".encode() in (proc / "environ").read_bytes().split(
                    b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _gone(pids: list[int], within: float = 30.0) -> bool:
    end = time.monotonic() + within
    while any(_alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


@pytest.fixture
def tag(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The daemon switched on for this process (and its commands), with a fresh fingerprint;
    its daemons are ended afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("SIMSOURCE_DAEMON", "1")
    monkeypatch.setenv("SIMSOURCE_DAEMON_TAG", name)
    monkeypatch.setenv("SIMSOURCE_DAEMON_IDLE", "60")
    monkeypatch.setattr(pool, "_FROM_DAEMON", [True])
    pool.shutdown()
    yield name
    pool.shutdown()
    for pid in _daemons(name):
        with contextlib.suppress(ProcessLookupError):   # a worker may end between scan and kill
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi", {"scenario.years": 2})


def test_a_batch_runs_on_the_daemons_workers_with_the_same_numbers(tag: str,
                                                                   sc: Scenario) -> None:
    works = [Work(sc, 7, range(6))]
    serial = replications(works, make_backend("local", 1), chunk_size=2)[0]
    parallel = replications(works, make_backend("local", 2), chunk_size=1)[0]
    live = pool.current()
    assert isinstance(live, daemonpool.DaemonPool)
    assert pd.DataFrame(parallel.kpi_rows).equals(pd.DataFrame(serial.kpi_rows))
    assert pd.DataFrame(parallel.ts_rows).equals(pd.DataFrame(serial.ts_rows))
    # the workers are forks of the daemon, not of this process or a fork server of its own
    ppids = {_parent(w.pid) for w in live.processes()}
    assert ppids == {live.daemon_pid} != {os.getpid()}
    assert live.daemon_pid in _daemons(tag)


def test_a_second_pool_forks_from_the_same_warm_daemon_in_milliseconds(tag: str,
                                                                       sc: Scenario) -> None:
    replications([Work(sc, 0, range(2))], make_backend("local", 2),
                 model=f"{HERE}:pid_model")
    cold = pool.current()
    assert isinstance(cold, daemonpool.DaemonPool)
    workers = [w.pid for w in cold.processes()]
    pool.shutdown()
    assert _gone(workers, 10), "a worker outlived its pool"
    t0 = time.perf_counter()
    warm = daemonpool.DaemonPool(2)
    started = time.perf_counter() - t0
    try:
        assert warm.daemon_pid == cold.daemon_pid
        assert {w.pid for w in warm.processes()}.isdisjoint(workers)
        assert started < 1.0   # a fork each, no import (the cold daemon took over a second)
        assert warm.submit(os.getpid).result(timeout=30) in {w.pid for w in warm.processes()}
    finally:
        warm.shutdown()


def test_a_command_takes_its_workers_from_a_running_daemon_as_it_starts(
        tag: str) -> None:
    """pool.prestart(jobs) makes the process's pool at once when the daemon runs already (the
    pool made later, in a thread, waited for the command's imports); when the daemon has to
    start first, it only starts it, and the first batch makes the pool."""
    pool.prestart(2)                                 # no daemon yet: it starts, nothing waits
    assert pool.current() is None
    first = daemonpool.DaemonPool(1)                 # waits for it
    first.shutdown()
    pool.prestart(2)
    early = pool.current()
    assert isinstance(early, daemonpool.DaemonPool)
    assert early.size == 2
    assert early.daemon_pid == first.daemon_pid
    assert pool.get_pool(2) is early                 # the batch's pool is that one
    assert early.submit(os.getpid).result(timeout=30) in {w.pid for w in early.processes()}


def test_an_error_in_a_task_comes_back_with_the_workers_traceback(tag: str,
                                                                  sc: Scenario) -> None:
    be = make_backend("local", 2)
    with pytest.raises(RuntimeError, match="model bug") as info:
        replications([Work(sc, 0, range(8))], be, chunk_size=1, model=f"{HERE}:failing_model")
    assert isinstance(info.value.__cause__, daemonpool.RemoteTraceback)
    assert "failing_model" in str(info.value.__cause__)
    assert pool.current() is None   # killed, as the fork server's pool is
    [res] = replications([Work(sc, 0, range(4))], be, model=f"{HERE}:pid_model")
    assert [r["x"] for r in res.kpi_rows] == [0, 1, 2, 3]


@pytest.mark.timeout(120)
def test_an_error_that_cannot_come_back_fails_the_batch_instead_of_hanging_it(
        tag: str, sc: Scenario) -> None:
    """The worker pickles the exception; unpickling it fails in this process (TypeError): the
    task fails with that error, and the feeding thread goes on."""
    be = make_backend("local", 2)
    with pytest.raises(TypeError, match="why"):
        replications([Work(sc, 0, range(4))], be, chunk_size=1,
                     model=f"{HERE}:unpicklable_error_model")
    [res] = replications([Work(sc, 0, range(3))], be, model=f"{HERE}:pid_model")
    assert [r["x"] for r in res.kpi_rows] == [0, 1, 2]


def test_a_worker_that_dies_mid_task_breaks_the_pool_and_the_next_batch_starts_fresh(
        tag: str, sc: Scenario) -> None:
    be = make_backend("local", 2)
    with pytest.raises(BrokenProcessPool, match="simsource daemon"):
        replications([Work(sc, 0, range(8))], be, chunk_size=1, model=f"{HERE}:dying_model")
    [res] = replications([Work(sc, 0, range(3))], be, model=f"{HERE}:pid_model")
    assert [r["x"] for r in res.kpi_rows] == [0, 1, 2]


def test_workers_write_to_the_commands_output(tag: str, sc: Scenario,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    replications([Work(sc, 0, range(2))], make_backend("local", 2), chunk_size=1,
                 model=f"{HERE}:printing_model")
    pool.shutdown()
    out, err = capfd.readouterr()
    assert "out 0" in out
    assert "out 1" in out
    assert "err 0" in err
    assert "err 1" in err


def test_a_worker_takes_the_commands_environment_folder_and_umask(
        tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable outside the fingerprint (a terminal's, a job's) shares the daemon, and still
    reaches the worker as the command has it."""
    first = daemonpool.DaemonPool(1)
    first.shutdown()
    monkeypatch.setenv("MARK_OF_THIS_COMMAND", "7")
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o027)
    try:
        live = daemonpool.DaemonPool(1)
        try:
            assert live.daemon_pid == first.daemon_pid
            assert live.submit(os.getenv, "MARK_OF_THIS_COMMAND").result(timeout=30) == "7"
            assert live.submit(os.getcwd).result(timeout=30) == str(tmp_path)
            assert live.submit(os.umask, 0).result(timeout=30) == 0o027
        finally:
            live.shutdown()
    finally:
        os.umask(old)


def test_switched_off_a_process_keeps_a_pool_of_its_own(tag: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMSOURCE_DAEMON", "0")
    assert not daemon.enabled()
    assert isinstance(pool.get_pool(2), pool.WarmPool)
    assert _daemons(tag) == []


def test_the_fingerprint_follows_the_code_and_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "model.py"
    source.write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(daemon, "_sources", lambda: [source])
    first = daemon.fingerprint()
    assert daemon.fingerprint() == first
    monkeypatch.setenv("PWD", "/somewhere/else")     # shell bookkeeping: the same daemon
    assert daemon.fingerprint() == first
    os.utime(source, ns=(1, 10**18))                 # an edited source: a daemon of its own
    edited = daemon.fingerprint()
    assert edited != first
    monkeypatch.setenv("SIMSOURCE_PURE", "1")        # another environment: one of its own
    assert daemon.fingerprint() not in {first, edited}
    assert daemon.address().startswith(f"\0simsource-{os.getuid()}-")


@pytest.mark.parametrize("variable", ["TQDM_DISABLE", "PANDAS_COPY_ON_WRITE",
                                      "SCIPY_ARRAY_API", "NUMPY_EXPERIMENTAL_DTYPE_API"])
def test_the_fingerprint_covers_what_a_delegated_commands_libraries_read_at_import(
        variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """tqdm's defaults (TQDM_*), pandas', scipy's and numpy's switches are read when the daemon
    imports them for the commands it runs: another value needs a daemon of its own."""
    monkeypatch.delenv(variable, raising=False)
    first = daemon.fingerprint()
    monkeypatch.setenv(variable, "1")
    assert daemon.fingerprint() != first


def test_the_daemon_exits_when_idle(tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMSOURCE_DAEMON_IDLE", "0.5")
    pid = daemon.spawn(daemon.address())
    end = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < end:
        time.sleep(0.05)      # preload, half a second without a command, exit
    assert not _alive(pid)


def test_a_daemon_of_another_user_is_refused(tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    addr, real = daemon.address(), os.getuid()
    pid = daemon.spawn(addr)
    try:
        monkeypatch.setattr(os, "getuid", lambda: real + 1)   # we are someone else now
        with pytest.raises(PermissionError, match="belongs to user"):
            daemonpool._Worker(addr, time.monotonic() + 30)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


_OTHER_USER = """
import os, sys
sys.path[:] = {path!r}
from simsource.experiment import daemon
real = os.getuid()
os.getuid = lambda: real + 1     # this daemon believes it belongs to someone else
daemon.serve({addr!r}, 30.0)
"""


def test_a_command_of_another_user_is_refused(tag: str) -> None:
    addr = daemon.address() + "-other"
    proc = subprocess.Popen([sys.executable, "-c", _OTHER_USER.format(path=sys.path, addr=addr)])
    try:
        deadline = time.monotonic() + 60
        sock = None
        while sock is None and time.monotonic() < deadline:
            sock = daemonpool._connect(addr)
            time.sleep(0.05)
        assert sock is not None, "the daemon never listened"
        sock.settimeout(60)
        assert sock.recv(1) == b""   # hung up at once: no worker, nothing unpickled
        sock.close()
    finally:
        proc.kill()
        proc.wait()


def _command(tag: str, out: Path, n: int, jobs: int = 2) -> list[str]:
    return [sys.executable, "-m", "simsource", "run", "nacka-multi", "-n", str(n), "-j",
            str(jobs), "--seed", "5", "--quiet", "--out", str(out)]


@pytest.mark.slow
def test_commands_share_one_daemon_and_get_the_numbers_of_j1(tag: str, tmp_path: Path) -> None:
    env = {**os.environ, "SIMSOURCE_DAEMON": "1"}
    for name, jobs in (("a", 2), ("b", 2), ("c", 1)):
        subprocess.run(_command(tag, tmp_path / name, 4, jobs), env=env, check=True,
                       capture_output=True, timeout=300)
    assert len([p for p in _daemons(tag) if _alive(p)]) == 1   # the first started it, for both
    frames = [pd.read_parquet(tmp_path / n / "replications.parquet") for n in "abc"]
    assert frames[0].equals(frames[2])
    assert frames[1].equals(frames[2])


@pytest.mark.slow
def test_kill_9_of_a_command_leaves_no_daemon_worker_behind(tag: str, tmp_path: Path) -> None:
    env = {**os.environ, "SIMSOURCE_DAEMON": "1"}
    proc = subprocess.Popen(_command(tag, tmp_path / "run", 400), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        running = _daemons(tag)
        workers = [p for p in running if _parent(p) in running]
    assert len(workers) >= 2, "the command never got its workers"
    proc.kill()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert _gone(workers, 5), "a daemon worker outlived the killed command by 5 s"


def test_the_daemon_command_lists_and_stops_this_users_daemons(tag: str) -> None:
    from click.testing import CliRunner

    from simsource.cli import main

    addr = daemon.address()
    pid = daemon.spawn(addr)
    deadline = time.monotonic() + 60
    while (sock := daemonpool._connect(addr)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sock is not None
    sock.close()
    listed = CliRunner().invoke(main, ["daemon"])
    assert listed.exit_code == 0, listed.output
    line = next(ln for ln in listed.output.splitlines() if f"pid {pid:>7}" in ln)
    assert "this code and environment" in line
    stopped = CliRunner().invoke(main, ["daemon", "--stop"])
    assert stopped.exit_code == 0, stopped.output
    assert "stopped" in stopped.output
    end = time.monotonic() + 30
    while not daemon.reap(pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(pid)


# ---- a parallel command run whole by the daemon (daemonpool.delegate) ------------------------
def _children_of_the_daemon(tag: str) -> list[int]:
    """The live processes the tag's daemon forked: its workers and the commands it runs."""
    running = [p for p in _daemons(tag) if _alive(p)]
    return [p for p in running if _parent(p) in running]


def _start_daemon(tag: str, tmp_path: Path, env: dict[str, str]) -> None:
    """A first command starts the daemon (and runs itself); the daemon then imports what the
    commands it runs need, after a second without a new connection."""
    subprocess.run(_command(tag, tmp_path / "first", 2), env=env, check=True,
                   capture_output=True, timeout=300)
    time.sleep(daemon.COMMAND_PRELOAD_AFTER_S + 1.0)


def _wait_for_children(tag: str, proc: subprocess.Popen[bytes], n: int) -> list[int]:
    deadline = time.monotonic() + 120
    kids = _children_of_the_daemon(tag)
    while len(kids) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        kids = _children_of_the_daemon(tag)
    return kids


def _delegated(tag: str, tmp_path: Path, n: int, output: int | None = subprocess.PIPE
               ) -> tuple[subprocess.Popen[bytes], list[int]]:
    """A ``-j 2`` command of ``n`` replications into ``tmp_path/run``, started while the daemon
    runs, and the daemon's children once it has three (or the command has ended): the command,
    forked by the daemon, and its two workers, forked by it too; the caller forks nothing."""
    env = {**os.environ, "SIMSOURCE_DAEMON": "1"}
    _start_daemon(tag, tmp_path, env)
    proc = subprocess.Popen(_command(tag, tmp_path / "run", n), env=env, stdout=output,
                            stderr=output)
    return proc, _wait_for_children(tag, proc, 3)


@pytest.mark.slow
def test_a_parallel_command_runs_whole_in_a_fork_of_the_running_daemon(tag: str,
                                                                      tmp_path: Path) -> None:
    proc, kids = _delegated(tag, tmp_path, 24)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(kids) == 3, "the command did not run in a fork of the daemon"
    assert out.decode().strip() == str(tmp_path / "run")    # its output is this process's
    subprocess.run(_command(tag, tmp_path / "j1", 24, jobs=1),
                   env={**os.environ, "SIMSOURCE_DAEMON": "1"}, check=True,
                   capture_output=True, timeout=300)
    b, c = (pd.read_parquet(tmp_path / n / "replications.parquet") for n in ("run", "j1"))
    assert b.equals(c)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["command"] == shlex.join(["simsource",
                                              *_command(tag, tmp_path / "run", 24)[3:]])


@pytest.mark.slow
def test_a_delegated_command_fails_as_it_would_in_its_own_process(tag: str,
                                                                 tmp_path: Path) -> None:
    env = {**os.environ, "SIMSOURCE_DAEMON": "1"}
    _start_daemon(tag, tmp_path, env)
    bad = [*_command(tag, tmp_path / "bad", 4), "--set", "coordination.staff=-3"]
    delegated = subprocess.run(bad, env=env, capture_output=True, text=True, timeout=300)
    own = subprocess.run(bad, env={**env, "SIMSOURCE_DELEGATE": "0"}, capture_output=True,
                         text=True, timeout=300)
    assert delegated.returncode == own.returncode == 2
    assert delegated.stderr == own.stderr
    assert delegated.stderr.startswith("error: ")
    assert "Traceback" not in delegated.stderr
    assert delegated.stdout == own.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_kill_stop_a_delegated_command_as_its_own(tag: str, tmp_path: Path,
                                                             signum: int, status: int) -> None:
    proc, kids = _delegated(tag, tmp_path, 400)
    assert len(kids) == 3, "the command did not run in a fork of the daemon"
    manifest = tmp_path / "run" / "manifest.json"
    deadline = time.monotonic() + 120
    while not manifest.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)   # the folder is open: the batch runs
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    if signum == signal.SIGINT:
        assert b"interrupted: what was written so far is kept" in err
    assert _gone(kids, 5), "the delegated command or a worker outlived the signal by 5 s"
    assert manifest.is_file()   # left resumable


@pytest.mark.slow
def test_kill_9_of_a_delegating_command_ends_the_command_it_delegated(tag: str,
                                                                     tmp_path: Path) -> None:
    proc, kids = _delegated(tag, tmp_path, 400, subprocess.DEVNULL)
    assert len(kids) == 3, "the command did not run in a fork of the daemon"
    proc.kill()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert _gone(kids, 5), "the delegated command or a worker outlived its caller by 5 s"


def test_a_command_whose_streams_are_replaced_is_not_delegated(
        tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A program calling the command line with captured output (click's CliRunner, say) keeps
    the command in its own process, where that output goes: nothing is asked of the daemon."""
    import io

    asked: list[str] = []
    args = ["simsource", "run", "nacka-multi", "-j", "2"]
    monkeypatch.setattr(daemonpool, "_connect", lambda addr: asked.append(addr))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert daemonpool.delegate("simsource.cli:main", args) is None
    assert asked == []
    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, getattr(sys, f"__{name}__"))
    assert daemonpool.delegate("simsource.cli:main", args) is None
    assert len(asked) == 1                 # with real streams it asks (no daemon runs here)


def test_a_forked_command_that_is_not_told_to_go_runs_nothing(tag: str, tmp_path: Path) -> None:
    """The daemon's fork tells the caller its pid, then waits for the go: a caller that gave
    up waiting (and runs the command itself) leaves a fork that runs nothing."""
    import socket
    from multiprocessing.connection import Connection

    daemonpool.DaemonPool(1).shutdown()   # the daemon runs
    sock = daemonpool._connect(daemon.address())
    assert sock is not None
    out = tmp_path / "never"
    hello = {"cwd": str(tmp_path), "umask": 0o022, "env": dict(os.environ),
             "entry": "simsource.cli:main",
             "argv": ["simsource", "run", "nacka-multi", "-n", "2", "-j", "2", "--out", str(out)]}
    socket.send_fds(sock, [json.dumps(hello).encode()], [0, 1, 2])
    link = Connection(os.dup(sock.fileno()))
    assert link.poll(60)
    protocol, pid, _ = link.recv()
    assert protocol == daemon.PROTOCOL
    link.close()
    sock.close()
    assert _gone([pid], 10), "the fork outlived its caller's hang-up"
    assert not out.exists()
