"""Runner, designs, sweeps, precision and load_results (fake model where speed matters)."""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_models import Record, fake_simulate
from hypothesis import given, settings
from hypothesis import strategies as st

from simsource.errors import UserError
from simsource.experiment import design, runner, worker
from simsource.experiment.engine import Work, auto_chunk_size, plan_tasks
from simsource.experiment.precision import lookahead, run_precise
from simsource.experiment.results import load_results
from simsource.experiment.runner import Job, MemorySink, execute, run_batch
from simsource.experiment.sweep import run_sweep
from simsource.experiment.worker import run_chunk
from simsource.scenario import Scenario, load_scenario

FAKE = "fake_models:fake_simulate"  # importable by worker processes (tests/ is on sys.path)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi-10", {"scenario.years": 2})


# ---- chunking -------------------------------------------------------------------------------
@given(st.lists(st.integers(0, 300), unique=True, max_size=120), st.integers(1, 60),
       st.sampled_from([0, 2, 3]))
@settings(max_examples=60, deadline=None)
def test_plan_covers_every_missing_replication_once_in_contiguous_blocks(
        reps: list[int], size: int, taper: int) -> None:
    sc0 = load_scenario("nacka-single")
    tasks = plan_tasks([Work(sc0, 0, reps, trace=reps[:3])], size, taper=taper)
    got = [r for t in tasks for r in t.reps]
    assert sorted(got) == sorted(reps)
    assert sorted(r for t in tasks for r in t.trace) == sorted(reps[:3])
    for t in tasks:
        assert len(t.reps) <= size
        assert list(t.reps) == list(range(t.reps[0], t.reps[-1] + 1))
    assert len(tasks) <= len(plan_tasks([Work(sc0, 0, reps)], size)) + 3 * taper


def test_a_parallel_batch_ends_on_small_chunks() -> None:
    """The workers' last chunks are an eighth of the others (the tail of the batch), two
    workers or three, one scenario or several; a serial plan is left as it is."""
    sc0 = load_scenario("nacka-single")
    sizes = [len(t.reps) for t in plan_tasks([Work(sc0, 0, range(60))], 15, taper=2)]
    assert sizes == [15, 15, 8, 8, 4, 4, 2, 2, 1, 1]
    sizes = [len(t.reps) for t in plan_tasks([Work(sc0, 0, range(60))], 6, taper=2)]
    assert sizes == [6] * 8 + [3, 3, 2, 2, 1, 1]      # as far as the blocks go
    two = plan_tasks([Work(sc0, 0, range(24)), Work(sc0, 1, range(24))], 4, taper=3)
    assert [len(t.reps) for t in two[-6:]] == [1] * 6
    assert [len(t.reps) for t in two[:-12]] == [4] * (len(two) - 12)
    assert {t.key for t in two[-6:]} == {0, 1}
    assert [len(t.reps) for t in plan_tasks([Work(sc0, 0, range(60))], 6)] == [6] * 10
    # the engine tapers only the automatic plan of a parallel backend
    assert plan_tasks([Work(sc0, 0, range(3))], 1, taper=2) == plan_tasks(
        [Work(sc0, 0, range(3))], 1)


@pytest.mark.parametrize(("total", "workers", "size"), [
    (10, 8, 1), (100, 2, 25), (60, 2, 15), (20, 2, 5), (100_000, 4, 50), (3, 2, 1), (1, 1, 1),
    (60, 1, 15), (100, 1, 25), (61, 2, 11),
])
def test_auto_chunk_size_balances_and_caps(total: int, workers: int, size: int) -> None:
    assert auto_chunk_size(total, workers) == size
    chunks = math.ceil(total / size)
    assert chunks % workers == 0 or chunks == total  # every worker gets as many chunks


# ---- the real model -------------------------------------------------------------------------
def test_every_row_reproduces_alone_with_simulate(sc: Scenario) -> None:
    from simsource import simulate

    kpi_rows, ts_rows = run_chunk(sc.model_dump_json(), 7, [3, 4])
    alone = simulate(sc, seed=7, replication=4)
    row = kpi_rows[1]
    assert row["replication"] == 4
    assert row["seed"] == 7
    for k, v in alone.items():
        assert row[k] == v or (math.isnan(v) and math.isnan(row[k])), k
    assert len(ts_rows[0]["month"]) == sc.scenario.years * 11


# ---- fake model: extension, errors ----------------------------------------------------------
def test_extending_n_keeps_existing_chunks(tmp_path: Path, sc: Scenario) -> None:
    run_batch(sc, 8, jobs=1, out=tmp_path / "r", model=FAKE, chunk_size=4)
    chunk = tmp_path / "r" / "chunks" / "r0000000-0000003.kpi.parquet"
    before = chunk.stat().st_ino, chunk.stat().st_mtime_ns
    df = run_batch(sc, 20, jobs=2, out=tmp_path / "r", model=FAKE)
    assert (chunk.stat().st_ino, chunk.stat().st_mtime_ns) == before
    fresh = run_batch(sc, 20, jobs=1, out=tmp_path / "fresh", model=FAKE)
    pd.testing.assert_frame_equal(df, fresh)
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["replications"] == 20
    smaller = run_batch(sc, 5, jobs=1, out=tmp_path / "r", model=FAKE)  # a prefix, nothing lost
    assert smaller["replication"].tolist() == list(range(5))
    assert len(list((tmp_path / "r" / "chunks").glob("*.json"))) >= 3


def test_an_error_in_a_worker_keeps_completed_chunks(tmp_path: Path, sc: Scenario,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(sc_: Scenario, seed: int, replication: int) -> Record:
        if replication == 6:
            raise RuntimeError("model bug")
        return fake_simulate(sc_, seed, replication)

    monkeypatch.setattr(worker, "_simulate_full", failing)
    with pytest.raises(RuntimeError, match="model bug"):
        run_batch(sc, 10, jobs=1, out=tmp_path / "r", chunk_size=3)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["replications"] == 6
    assert manifest["finished"] is None
    monkeypatch.setattr(worker, "_simulate_full", fake_simulate)
    df = run_batch(sc, 10, jobs=1, out=tmp_path / "r")
    assert df["replication"].tolist() == list(range(10))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"replications": 0}, "-n/--replications: must be at least 1"),
    ({"backend": "cloud"}, "unknown backend 'cloud'"),
    ({"jobs": 0}, "-j/--jobs: must be at least 1"),
])
def test_bad_arguments_are_user_errors(sc: Scenario, kwargs: dict[str, object],
                                       message: str) -> None:
    args: dict[str, object] = {"replications": 2, **kwargs}
    with pytest.raises(UserError, match=message):
        run_batch(sc, **args)  # type: ignore[arg-type]


# ---- designs --------------------------------------------------------------------------------
def test_range_includes_stop_on_the_grid(sc: Scenario) -> None:
    points = design.expand(["coordination.staff=8:30:2"], sc)
    assert [p["coordination.staff"] for p in points] == list(range(8, 31, 2))
    assert len(points) == 12
    assert design.grid(0.1, 0.5, 0.1) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert design.grid(8, 29, 2)[-1] == 28


def test_factorial_is_the_product_first_key_slowest(sc: Scenario) -> None:
    points = design.expand(["coordination.staff=8:12:2", "partnership.preset=light,heavy"], sc)
    assert points == [{"coordination.staff": s, "partnership.preset": p}
                      for s in (8, 10, 12) for p in ("light", "heavy")]


def test_latin_hypercube_strata_rounding_and_seed(sc: Scenario) -> None:
    vary = ["operations.cross_area_share=0.05:0.4", "coordination.staff=6:40"]
    a = design.expand(vary, sc, lhs=10, seed=3)
    assert a == design.expand(vary, sc, lhs=10, seed=3)
    assert a != design.expand(vary, sc, lhs=10, seed=4)
    share = sorted(p["operations.cross_area_share"] for p in a)
    strata = [math.floor((x - 0.05) / 0.35 * 10) for x in share]
    assert strata == list(range(10))  # one point in each tenth of the interval
    assert all(isinstance(p["coordination.staff"], int) for p in a)


@pytest.mark.parametrize(("spec", "lhs", "message"), [
    ("coordination.staff", None, "expected KEY=VALUES"),
    ("coordination.staf=1,2", None, "unknown key"),
    ("coordination.staff=8:30", None, "needs a step"),
    ("coordination.staff=30:8:2", None, "step must"),
    ("coordination.staff=8,10", 5, "needs an interval lo:hi"),
])
def test_bad_vary_is_a_clear_error(sc: Scenario, spec: str, lhs: int | None,
                                   message: str) -> None:
    with pytest.raises(UserError, match=message):
        design.expand([spec], sc, lhs=lhs)


# ---- sweep, precision, load_results (fake model) --------------------------------------------
def test_sweep_writes_design_points_and_resumes(tmp_path: Path, sc: Scenario) -> None:
    points = design.expand(["coordination.staff=10:20:10", "partnership.preset=light,heavy"], sc)
    out = tmp_path / "sw"
    d, summary = run_sweep(sc, points, 4, seed=1, jobs=1, out=out, model=FAKE)
    assert d["point"].tolist() == [0, 1, 2, 3]
    sweep = pd.read_parquet(out / "sweep.parquet")
    assert list(sweep.columns[:5]) == ["point", "coordination.staff", "partnership.preset",
                                       "replication", "seed"]
    assert len(sweep) == 16
    # common random numbers: the same seed per point, so the fake's draw shifts by staff/10
    by = sweep.pivot_table(index="replication", columns="point", values="innovations_per_year")
    assert np.allclose(by[2] - by[0], 1.0)
    assert set(summary.columns) >= {"point", "coordination.staff", "kpi", "mean", "ci_low"}
    assert (out / "points" / "p0003" / "replications.parquet").is_file()
    res = load_results(out)
    assert res.kind == "sweep"
    assert len(res.replications) == 16
    assert res.timeseries["point"].nunique() == 4
    run_sweep(sc, points, 6, seed=1, jobs=1, out=out, model=FAKE)  # extend every point
    assert len(pd.read_parquet(out / "sweep.parquet")) == 24
    with pytest.raises(UserError, match="holds a sweep over"):
        run_sweep(sc, points[:2], 6, seed=1, jobs=1, out=out, model=FAKE)


def test_precision_stops_when_the_interval_is_tight(tmp_path: Path, sc: Scenario) -> None:
    # innovations ~ N(11, 1): ±2 % of 11 needs about (1.96 / 0.22)² ≈ 80 replications
    df, outcome = run_precise(sc, tmp_path / "p", target=0.02, max_n=400, seed=0,
                              kpis=["innovations_per_year"], jobs=1, model=FAKE)
    assert outcome.reached
    assert 50 <= outcome.n <= 200
    assert len(df) == outcome.n
    assert outcome.rel_half_width["innovations_per_year"] <= 0.02
    capped, short = run_precise(sc, tmp_path / "q", target=0.001, max_n=30, seed=0,
                                kpis=["innovations_per_year"], jobs=1, model=FAKE)
    assert not short.reached
    assert len(capped) == 30
    with pytest.raises(UserError, match="unknown KPI 'innovations'"):
        run_precise(sc, tmp_path / "q", target=0.05, max_n=30, kpis=["innovations"], jobs=1,
                    model=FAKE)
    assert lookahead(50) == 5
    assert lookahead(1000) == 50


def test_load_results_round_trip_and_errors(tmp_path: Path, sc: Scenario) -> None:
    df = run_batch(sc, 5, seed=2, jobs=1, out=tmp_path / "r", model=FAKE)
    res = load_results(tmp_path / "r")
    assert res.kind == "run"
    pd.testing.assert_frame_equal(res.replications, df)
    assert len(res.timeseries) == 5 * 6
    assert res.manifest["seed"] == 2
    assert res.scenario_toml.startswith("#")
    assert set(res.summary["kpi"]) == {"innovations_per_year", "cost_total_msek_per_year",
                                       "transition_finish_day"}
    with pytest.raises(UserError, match="no such results folder"):
        load_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a simsource results folder"):
        load_results(tmp_path / "empty")
    (tmp_path / "r" / "manifest.json").write_text("[")
    with pytest.raises(UserError, match=r"manifest\.json: broken JSON"):
        load_results(tmp_path / "r")


# ---- what finalizing needs is imported while the workers compute ------------------------------
class _WaitingBackend:
    """Two "workers" that compute nothing until ``module`` has been imported (by someone else):
    a batch whose finalize imports were left to the end would never start."""

    name = "waiting"

    def __init__(self, module: str, jobs: int, wait: float) -> None:
        self.module, self.jobs, self.wait = module, jobs, wait

    def map_chunks(self, fn, tasks):  # type: ignore[no-untyped-def]
        end = time.monotonic() + self.wait
        while self.module not in sys.modules and time.monotonic() < end:
            time.sleep(0.01)
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("jobs", [2, 1])
def test_finalize_imports_happen_while_the_workers_compute(
        tmp_path: Path, sc: Scenario, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """With workers, the finalize imports start with the batch (the backend computes nothing
    until they have) and are complete before ``done`` (the probe takes 0.3 s to import, its
    flag set last); a serial batch leaves them to finalize."""
    name = f"probe_finalize_{jobs}"
    (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.3)\nLOADED = True\n",
                                         encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "FINALIZE_IMPORTS", (name,))
    monkeypatch.delitem(sys.modules, name, raising=False)

    def loaded() -> bool:
        return getattr(sys.modules.get(name), "LOADED", False)

    sink = MemorySink(sc.name)
    seen: list[bool] = []
    backend = _WaitingBackend(name, jobs, 30.0 if jobs > 1 else 0.3)
    execute([Job(sink, sc, 0, list(range(3)))], backend, _NoBar(), model=FAKE,
            done=lambda _: seen.append(loaded()))
    assert len(sink.rows) == 3
    assert seen == [jobs > 1]
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_the_import_thread_is_over_when_a_batch_ends_even_on_an_error(
        tmp_path: Path, sc: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """No thread is left importing (scipy, in a real batch) while the interpreter shuts down."""
    name = "probe_finalize_error"
    (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.3)\nLOADED = True\n",
                                         encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "FINALIZE_IMPORTS", (name,))
    monkeypatch.delitem(sys.modules, name, raising=False)

    class Broken:
        def write(self, kpi_rows: object, ts_rows: object) -> None:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        execute([Job(Broken(), sc, 0, [0])], _WaitingBackend(name, 2, 30.0), _NoBar(),
                model=FAKE)
    assert getattr(sys.modules.get(name), "LOADED", False)
    assert not [t for t in threading.enumerate() if t.name == "simsource-import"]
    monkeypatch.delitem(sys.modules, name, raising=False)


class _NoBar:
    def update(self, n: int) -> None:
        pass
