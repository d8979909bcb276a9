"""The execution engine and its warm worker pool.

The invariant "results never depend on the workers" is tested here, once, at the engine level
(and once more through the command line, in test_cli_experiment.py): in this process (``-j 1``)
and on the pool's workers (other interpreters: other hash seeds, other import order), with
any chunking, into a results folder or into memory, the numbers and the files are identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simsource.experiment import pool
from simsource.experiment.backend import make_backend
from simsource.experiment.engine import Work, replications, stream
from simsource.experiment.runner import run_batch
from simsource.scenario import Scenario, load_scenario

HERE = "fake_models"  # stand-ins for the model, imported by the workers by name


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi", {"scenario.years": 2})


@pytest.mark.slow
def test_results_do_not_depend_on_workers_chunking_or_sink(tmp_path: Path, sc: Scenario) -> None:
    one = run_batch(sc, 6, seed=5, jobs=1, out=tmp_path / "a", chunk_size=6)
    two = run_batch(sc, 6, seed=5, jobs=2, out=tmp_path / "b", chunk_size=1)
    auto = run_batch(sc, 6, seed=5, jobs=2)
    mem = run_batch(sc, 6, seed=5, jobs=1, chunk_size=4)
    for other in (two, auto, mem):
        pd.testing.assert_frame_equal(one, other)
    for f in ("replications.parquet", "timeseries.parquet", "summary.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_stream_yields_each_work_items_chunks_with_progress_and_traces(sc: Scenario) -> None:
    short = load_scenario("nacka-single", {"scenario.years": 1, "scenario.warmup_years": 0.5})
    works = [Work(short, 3, range(4), trace=(0, 3)), Work(short, 4, [7, 8])]
    seen: list[tuple[int, int]] = []
    got: dict[int, list[int]] = {0: [], 1: []}
    events: dict[int, set[int]] = {0: set(), 1: set()}
    be = make_backend("local", 1)
    for key, chunk in stream(works, be, chunk_size=2,
                             progress=lambda d, t: seen.append((d, t))):
        got[key] += [int(r["replication"]) for r in chunk.kpi_rows]
        assert {int(r["seed"]) for r in chunk.kpi_rows} == {3 + key}
        events[key] |= set(chunk.events)
    assert got == {0: [0, 1, 2, 3], 1: [7, 8]}
    assert events == {0: {0, 3}, 1: set()}
    assert seen == [(2, 6), (4, 6), (6, 6)]


def test_the_pool_is_created_once_and_reused_by_every_batch(sc: Scenario) -> None:
    pool.shutdown()
    batches = []
    for _ in range(3):
        be = make_backend("local", 2)
        [res] = replications([Work(sc, 0, range(8))], be, chunk_size=1, model=f"{HERE}:pid_model")
        be.close()
        batches.append({r["pid"] for r in res.kpi_rows})
    live = pool.current()
    assert live is not None
    assert live.size == 2
    assert live.batches == 3
    used = set().union(*batches)
    assert len(used) <= 2                          # the same two warm workers every time
    assert used <= {float(p.pid) for p in live.processes()}
    assert os.getpid() not in batches[0]
    if sys.platform == "linux":
        assert live.method == "forkserver"  # workers fork from a server with the model loaded


def test_a_failing_batch_ends_its_workers_and_the_next_batch_starts_fresh(sc: Scenario) -> None:
    be = make_backend("local", 2)
    with pytest.raises(RuntimeError, match="model bug"):
        replications([Work(sc, 0, range(12))], be, chunk_size=1, model=f"{HERE}:failing_model")
    assert pool.current() is None  # killed: no worker keeps running the failed batch
    [res] = replications([Work(sc, 0, range(4))], be, model=f"{HERE}:pid_model")
    assert [r["x"] for r in res.kpi_rows] == [0, 1, 2, 3]


_AT_EXIT = """
import json, sys
sys.path.insert(0, {tests!r})
from simsource.experiment.backend import make_backend
from simsource.experiment.engine import Work, replications
from simsource.scenario import load_scenario

if __name__ == "__main__":
    sc = load_scenario("nacka-single")
    [res] = replications([Work(sc, 0, range(6))], make_backend("local", 2), chunk_size=1,
                         model="fake_models:pid_model")
    pids = sorted({{int(r["pid"]) for r in res.kpi_rows}})
    print(json.dumps(pids))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_no_worker_outlives_the_process(tmp_path: Path) -> None:
    script = tmp_path / "batch.py"
    script.write_text(_AT_EXIT.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, check=True)
    pids = json.loads(out.stdout.strip().splitlines()[-1])
    assert pids
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            "zombie" in Path(f"/proc/{pid}/status").read_text(), f"worker {pid} still runs"


def test_one_module_makes_worker_processes() -> None:
    package = Path(__file__).resolve().parents[1] / "simsource"
    makers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                    if any(word in p.read_text(encoding="utf-8")
                           for word in ("ProcessPoolExecutor", "multiprocessing")))
    # the pool (its own workers, from a fork server), the daemon (forks workers kept between
    # commands) and the daemon's client (multiprocessing.connection: messages, no process)
    assert makers == ["experiment/daemon.py", "experiment/daemonpool.py", "experiment/pool.py"]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        todo += list(kids - found)
        found |= kids
    return found


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except OSError:
        return False


def _run_with_a_pool(out: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """`simsource run` with two workers, once its fork server and workers are up."""
    cmd = [sys.executable, "-m", "simsource", "run", "nacka-multi", "-n", "400", "-j", "2",
           "--seed", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 3 and time.monotonic() < deadline:   # forkserver + two workers
        time.sleep(0.5)
        workers = _descendants(proc.pid)
    assert len(workers) >= 3, "the pool never started"
    return proc, workers


def _none_outlives(workers: set[int]) -> None:
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [p for p in workers if _alive(p)], "a worker outlived the killed command"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_kill_stops_a_command_without_orphaning_its_workers(tmp_path: Path) -> None:
    """SIGTERM (`kill`) ends `simsource run` like Ctrl-C: exit 143, no worker left running."""
    proc, workers = _run_with_a_pool(tmp_path / "run")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    _none_outlives(workers)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_kill_9_of_a_command_leaves_no_worker_behind(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: each worker sees its command gone and exits, instead of
    waiting on its task queue forever (and holding the fork server up)."""
    proc, workers = _run_with_a_pool(tmp_path / "run")
    proc.kill()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    _none_outlives(workers)
