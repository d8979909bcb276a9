"""The fork server of the worker pool starts before a batch command imports the library
(issue 18: a ``-j 2`` command otherwise waits for it to import the model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import simsource.cli as cli
from simsource.experiment import pool


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "nacka-multi", "-n", "60", "-j", "2"], True),
    (["run", "nacka-multi", "-j2"], True),
    (["compare", "a", "b", "--jobs", "4"], True),
    (["sweep", "a", "--jobs=2"], True),
    (["--debug", "staff", "a", "-j", "3"], True),
    (["sensitivity", "a", "-j", "2", "--backend", "local"], True),
    (["calibrate", "a", "-j", "2"], True),
    (["explore", "a", "-j", "2"], True),
    (["run", "nacka-multi", "-j", "1"], False),
    (["run", "nacka-multi", "-j", "2", "-j", "1"], False),     # the last one counts, as in click
    (["run", "nacka-multi", "-j", "two"], False),             # click will report it
    (["run", "nacka-multi", "-j", "2", "--backend", "dask"], False),
    (["run", "nacka-multi", "-j", "2", "--backend=dask"], False),
    (["run", "nacka-multi", "-j", "2", "--help"], False),
    (["run", "-h"], False),
    (["validate", "x.toml"], False),
    (["plot", "results/x"], False),
    (["app"], False),
    ([], False),
    (["--version"], False),
])
def test_which_arguments_start_the_pool_early(args: list[str], expected: bool) -> None:
    assert (cli.local_pool_jobs(args) > 0) is expected


@pytest.mark.parametrize(("args", "jobs"), [
    (["run", "nacka-multi", "-j", "2"], 2),
    (["compare", "a", "b", "--jobs=4"], 4),
    (["run", "nacka-multi", "-j", "2", "-j", "3"], 3),
    (["run", "nacka-multi", "-j", "1"], 0),
    (["run", "nacka-multi", "-j", "two"], 0),
    (["plot", "results/x", "-j", "2"], 0),
])
def test_the_early_pool_has_the_workers_the_command_asks_for(args: list[str], jobs: int) -> None:
    assert cli.local_pool_jobs(args) == jobs


@pytest.mark.parametrize("cores", [1, 2])
def test_without_jobs_the_pool_starts_early_when_there_are_several_cores(
        monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    from simsource.experiment import backend

    monkeypatch.setattr(backend, "default_jobs", lambda: cores)
    assert (cli.local_pool_jobs(["run", "nacka-multi", "-n", "60"]) > 0) is (cores > 1)


@pytest.mark.parametrize(("jobs", "started"), [("2", True), ("1", False)])
def test_a_batch_command_starts_the_fork_server_before_it_runs(
        monkeypatch: pytest.MonkeyPatch, jobs: str, started: bool) -> None:
    calls: list[int] = []
    monkeypatch.setattr(pool, "prestart", calls.append)
    res = CliRunner().invoke(cli.main, ["run", "no-such-scenario", "-n", "2", "-j", jobs])
    assert res.exit_code == 2   # the unknown scenario, reported after the early start
    assert calls == ([int(jobs)] if started else [])



def test_shell_completion_starts_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(pool, "prestart", calls.append)
    res = CliRunner().invoke(cli.main, [], prog_name="simsource", env={
        "_SIMSOURCE_COMPLETE": "bash_complete", "COMP_WORDS": "simsource run nacka -j 2 --",
        "COMP_CWORD": "5"})
    assert res.exit_code == 0
    assert "--replications" in res.output   # it completed the command's options
    assert calls == []


_ORDER = """
import json, sys
from simsource.experiment import pool
seen = []
heavy = ("simsource.cli.experiment_cmds", "simsource.scenario", "simsource.model", "pandas",
         "scipy", "numpy")
pool.prestart = lambda *_: seen.append(sorted(m for m in sys.modules if m.startswith(heavy)))
from simsource.cli import main
try:
    main(["run", "no-such-scenario", "-n", "2", "-j", "2"], standalone_mode=False)
except BaseException:
    pass
print(json.dumps(seen))
"""


def test_the_fork_server_starts_before_the_command_imports_anything_heavy() -> None:
    out = subprocess.run([sys.executable, "-c", _ORDER], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [[]]


_SERVER = """
import json, os
from multiprocessing import forkserver
from simsource.experiment import pool
pool.prestart()
server = forkserver._forkserver
first = server._forkserver_pid
pool.prestart()   # a second call keeps the same server
workers = pool.get_pool(2)
workers.warm()
pids = sorted({workers.submit(os.getppid).result() for _ in range(4)})
print(json.dumps({"first": first, "again": server._forkserver_pid, "parents": pids,
                  "preload": server._preload_modules}))
pool.shutdown()
"""


@pytest.mark.skipif(pool.start_method() != "forkserver", reason="no fork server here")
def test_the_early_fork_server_is_the_one_the_pool_forks_its_workers_from() -> None:
    out = subprocess.run([sys.executable, "-c", _SERVER], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["first"] is not None
    assert got["again"] == got["first"]
    assert got["parents"] == [got["first"]]          # every worker is a fork of that server
    assert got["preload"] == pool.PRELOAD


# ---- the end of a command ----------------------------------------------------------------------
_LAST_AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))  # runs last
sys.argv = ["simsource", *sys.argv[1:]]
from simsource.cli import main
main(prog_name="simsource")
"""


@pytest.mark.parametrize("args", [["--help"], ["scenarios"]])
def test_a_command_freezes_the_heap_before_the_interpreter_tears_it_down(
        args: list[str]) -> None:
    """The interpreter's final collections would walk every object pandas and scipy made
    (0.3 s); frozen, they skip them. Once per process, however many commands run in it."""
    p = subprocess.run([sys.executable, "-c", _LAST_AT_EXIT, *args], capture_output=True,
                       text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    frozen = int(p.stdout.strip().splitlines()[-1].split(":")[1])
    assert frozen > 1000
    cli.exit_quickly()
    cli.exit_quickly()
    assert cli._exit_quickly == [True]


# the fork server: its first preload module is this probe, so its handler runs last there
_PROBE = """
import atexit, gc, os, sys
atexit.register(lambda: (sys.stdout.write(f"server {os.getpid()} frozen at exit: "
                                          f"{gc.get_freeze_count()}\\n"), sys.stdout.flush()))
"""
_SERVER_EXIT = """
from multiprocessing import forkserver
from simsource.experiment import pool
pool.PRELOAD = ["_simsource_exit_probe", *pool.PRELOAD]
workers = pool.get_pool(2)
workers.warm()
print("server", forkserver._forkserver._forkserver_pid, flush=True)
pool.shutdown()
"""


@pytest.mark.skipif(pool.start_method() != "forkserver", reason="no fork server here")
def test_the_fork_server_freezes_its_heap_before_it_exits(tmp_path: Path) -> None:
    """The fork server outlives the command by its own teardown, holding the command's stdout
    and stderr: with the model and scipy.stats imported, its final collections took a quarter
    of a second of a core after every parallel command (docs/performance.md)."""
    (tmp_path / "_simsource_exit_probe.py").write_text(_PROBE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # the pipe closes once the server has exited too, so its last line is in the output
    p = subprocess.run([sys.executable, "-c", _SERVER_EXIT], capture_output=True, text=True,
                       timeout=120, check=False, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.strip().splitlines()
    server = next(ln.split()[1] for ln in lines if ln.startswith("server") and "frozen" not in ln)
    frozen = [ln for ln in lines if ln.startswith(f"server {server} frozen at exit:")]
    assert len(frozen) == 1, p.stdout
    assert int(frozen[0].rsplit(":", 1)[1]) > 10_000
