"""The Dask backend: the same numbers as the local backend, and no lost or doubled chunk when a
worker dies (LocalClusters of 2 worker processes; about a minute in all)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simsource.errors import UserError
from simsource.experiment import dask_backend as db
from simsource.experiment import worker as wk
from simsource.experiment.backend import make_backend as make_named_backend
from simsource.experiment.engine import Work, plan_tasks
from simsource.experiment.runner import Job, MemorySink, execute, run_batch
from simsource.experiment.store import ResultStore
from simsource.experiment.worker import run_task
from simsource.scenario import Scenario, load_scenario

pytest.importorskip("distributed")
pytestmark = [pytest.mark.dask, pytest.mark.timeout(240)]

SETS = {"scenario.years": 1.5}
KILL_ENV = "SIMSOURCE_TEST_KILL_MARKER"
KILL_AT = 5  # replication 5: the middle of chunk 4-7 with chunk_size=4
DYING = "test_dask_backend:dying_simulate"  # importable by workers (tests/ is on sys.path)
FAKE = "fake_models:fake_simulate"


def dying_simulate(sc: Scenario, seed: int, replication: int) -> Any:
    """The real model, except that the first attempt at replication ``KILL_AT`` kills its own
    worker process (SIGKILL, no clean-up), halfway through a chunk."""
    if replication == KILL_AT:
        try:
            fd = os.open(os.environ[KILL_ENV], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass  # the retry, on a new worker
        else:
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
    return wk._simulate_full(sc, seed, replication)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi", SETS)


@pytest.fixture(scope="module")
def local_12(sc: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 replications, seed 4, on the local backend: the reference."""
    out = tmp_path_factory.mktemp("local") / "r"
    run_batch(sc, 12, seed=4, jobs=1, out=out)
    return out


@pytest.fixture(scope="module")
def backend() -> Iterator[db.DaskBackend]:
    be = db.make_backend(2)
    yield be
    be.close()


def _same_files(a: Path, b: Path) -> None:
    for name in ("replications.parquet", "timeseries.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _reps(out: Path) -> list[int]:
    return sorted(pd.read_parquet(out / "replications.parquet")["replication"].tolist())


# ---- identical numbers -------------------------------------------------------------------------
def test_cli_run_on_dask_writes_the_same_files_as_local(runner: Any, local_12: Path,
                                                          tmp_path: Path) -> None:
    from simsource.cli import main

    out = tmp_path / "dask"
    res = runner.invoke(main, ["run", "nacka-multi", "--set", "scenario.years=1.5", "-n", "12",
                               "--seed", "4", "-j", "2", "--backend", "dask", "--out", str(out),
                               "-q"])
    assert res.exit_code == 0, res.output
    _same_files(out, local_12)  # local used 3 chunks of 4, dask 12 chunks of 1
    manifest = pd.read_json(out / "manifest.json", typ="series")
    assert manifest["backend"] == "dask"
    assert manifest["jobs"] == 2


def test_each_task_is_returned_once_and_an_early_stop_cancels_the_rest(
        backend: db.DaskBackend, sc: Scenario) -> None:
    tasks = plan_tasks([Work(sc, 0, range(40))], 1, FAKE)
    got = sorted(t.reps[0] for t, _ in backend.map_chunks(run_task, tasks))
    assert got == list(range(40))

    results = backend.map_chunks(run_task, tasks)
    next(results)
    results.close()  # what execute() does on an error or Ctrl-C

    def scheduler_tasks(dask_scheduler: Any) -> int:
        return len(dask_scheduler.tasks)

    deadline = time.monotonic() + 10
    while backend.client.run_on_scheduler(scheduler_tasks) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend.client.run_on_scheduler(scheduler_tasks) == 0


# ---- faults ------------------------------------------------------------------------------------
def test_a_worker_killing_itself_mid_chunk_loses_and_doubles_nothing(
        sc: Scenario, local_12: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_ENV, str(marker))  # inherited by the workers the cluster spawns
    out = tmp_path / "dask"
    run_batch(sc, 12, seed=4, jobs=2, out=out, backend="dask", chunk_size=4, model=DYING)
    assert marker.exists(), "the worker was not killed"
    assert _reps(out) == list(range(12))
    assert len(list((out / "chunks").glob("*.json"))) == 3
    _same_files(out, local_12)


def test_killing_a_busy_worker_from_outside_loses_and_doubles_nothing(
        backend: db.DaskBackend, sc: Scenario, local_12: Path, tmp_path: Path) -> None:
    pids = list(backend.client.run(os.getpid).values())
    killed: list[int] = []

    class KillOnFirstChunk:
        """A progress bar that SIGKILLs a worker once the first chunk is stored."""

        n = 0

        def update(self, k: int) -> None:
            self.n += k
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

    out = tmp_path / "dask"
    with ResultStore.open(out, sc, 4, requested=12) as store:
        execute([Job(store, sc, 4, list(range(12)))], backend, KillOnFirstChunk(), chunk_size=2)
        store.finalize(12)
    assert killed
    assert _reps(out) == list(range(12))
    _same_files(out, local_12)


def test_a_worker_with_other_code_is_refused(backend: db.DaskBackend, sc: Scenario,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "fingerprint", "0123456789abcdef")  # as if the code changed
    tasks = plan_tasks([Work(sc, 0, [0, 1])], 2, FAKE)
    with pytest.raises(UserError, match="results would not be identical"):
        list(backend.map_chunks(run_task, tasks))


def test_a_scheduler_address_joins_that_cluster_and_leaves_it_running(
        backend: db.DaskBackend, sc: Scenario, local_12: Path) -> None:
    # an earlier test may have killed a worker: wait until the nanny has restarted it
    backend.client.wait_for_workers(2, timeout=60)
    with db.make_backend(1, backend.address) as remote:  # -j is ignored: the cluster decides
        assert remote.jobs == 2
        frame = run_batch_on(remote, sc, 12, seed=4)
    pd.testing.assert_frame_equal(frame, pd.read_parquet(local_12 / "replications.parquet"))
    assert backend.client.run(os.getpid)  # the cluster still runs


def run_batch_on(be: db.DaskBackend, sc: Scenario, n: int, seed: int) -> pd.DataFrame:
    sink = MemorySink(sc.name)

    class NoBar:
        def update(self, k: int) -> None:
            pass

    execute([Job(sink, sc, seed, list(range(n)))], be, NoBar())
    return sink.frame()


def test_a_scheduler_without_workers_is_a_clear_error() -> None:
    import distributed

    with distributed.LocalCluster(n_workers=0, dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as c, \
            pytest.raises(UserError, match="has no workers"):
        db.make_backend(2, c.scheduler_address, worker_timeout=0.5)


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout() -> None:
    t0 = time.monotonic()
    with pytest.raises(UserError, match=r"cannot reach Dask scheduler at tcp://127\.0\.0\.1:1"):
        db.make_backend(2, "tcp://127.0.0.1:1", timeout=1)
    assert time.monotonic() - t0 < 8


def test_cli_exit_2_for_an_unreachable_scheduler_from_dask_config(
        runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dask

    from simsource.cli import main

    monkeypatch.setattr(db, "CONNECT_TIMEOUT", 1.0)
    with dask.config.set({"scheduler-address": "tcp://127.0.0.1:1"}):  # DASK_SCHEDULER_ADDRESS
        res = runner.invoke(main, ["run", "nacka-multi", "-n", "2", "--backend", "dask",
                                   "--out", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 2, res.output
    assert "error: cannot reach Dask scheduler at tcp://127.0.0.1:1" in res.output


def test_cli_exit_2_for_an_unreachable_scheduler(runner: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from simsource.cli import main

    monkeypatch.setattr(db, "CONNECT_TIMEOUT", 1.0)
    res = runner.invoke(main, ["run", "nacka-multi", "-n", "2", "--backend", "dask",
                               "--scheduler", "tcp://127.0.0.1:1", "--out",
                               str(tmp_path / "r"), "-q"])
    assert res.exit_code == 2, res.output
    assert "error: cannot reach Dask scheduler at tcp://127.0.0.1:1" in res.output


def test_without_the_extra_the_message_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(UserError, match=r"pip install 'simsource\[dask\]'"):
        make_named_backend("dask", 2)


# ---- the benchmark stays runnable ------------------------------------------------------------
def test_overhead_benchmark_smoke() -> None:
    from benchmarks.dask_overhead import run

    r = run(replications=4, sets=("scenario.years=1.5",), repeats=1)
    assert r["identical"] is True
    assert r["overhead_ratio"] > 0
    assert r["batch_ratio"] > 0
