"""The event log of one replication: its schema, its rows against the KPIs, the same log from the
model, the engine and `simsource trace`, and the trace changing nothing of the run."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from simsource.cli import main
from simsource.experiment.trace import (
    COLUMNS,
    META_KEY,
    events_frame,
    read_trace,
    trace_events,
)
from simsource.model import simulate, simulate_full
from simsource.scenario import Scenario, load_scenario

SEED = 11


@pytest.fixture(scope="module")
def two_years() -> Scenario:
    return load_scenario("nacka-multi-10", {"scenario.years": 2.0, "scenario.warmup_years": 1.0})


@pytest.fixture(scope="module")
def traced(two_years: Scenario) -> tuple[pd.DataFrame, dict[str, float]]:
    res = simulate_full(two_years, seed=SEED, replication=1, trace=True)
    assert res.events is not None
    return events_frame(res.events), res.kpis


def test_the_log_has_the_documented_columns_and_kinds(traced: tuple[pd.DataFrame, dict[str, float]]
                                                      ) -> None:
    log, _ = traced
    assert list(log.columns) == list(COLUMNS)
    assert str(log["time"].dtype) == "float64"
    assert str(log["id"].dtype) == "int64"
    assert str(log["slot"].dtype) == "Int64"
    assert set(log["kind"]) == {"idea", "incident", "coordinator", "supplier"}
    assert log["time"].is_monotonic_increasing
    desks = log[log["kind"] == "coordinator"]
    assert desks["slot"].notna().all()
    assert (desks["slot"] == desks["id"]).all()
    assert set(desks["event"]) == {"start", "stop"}
    assert log.loc[log["kind"] == "incident", "slot"].isna().all()
    starts = log[log["event"].str.startswith("starts ")]
    assert len(starts) > 0
    assert starts["slot"].notna().all()


def test_row_counts_match_the_kpis(two_years: Scenario,
                                   traced: tuple[pd.DataFrame, dict[str, float]]) -> None:
    log, kpis = traced
    ideas = log[log["kind"] == "idea"]
    assert (ideas["event"] == "created").sum() == kpis["ideas_total"]
    assert (ideas["event"] == "implemented").sum() == kpis["ideas_implemented"]
    assert ideas["event"].str.startswith("dropped at").sum() == kpis["ideas_dropped"]
    incidents = log[log["kind"] == "incident"]
    arrivals = incidents[incidents["event"] == "arrives"]
    window = (arrivals["time"] >= two_years.warmup_days) & (
        arrivals["time"] <= two_years.horizon_days)
    years = two_years.scenario.years - two_years.scenario.warmup_years
    assert window.sum() / years == pytest.approx(kpis["incidents_per_year"])
    # every incident is taken by its owner at most once, and resolved at most once
    for event in ("owned", "resolved"):
        rows = incidents[incidents["event"] == event]
        assert rows["id"].is_unique
        assert set(rows["id"]) <= set(arrivals["id"])
    suppliers = log[log["kind"] == "supplier"]
    assert len(suppliers) == len(two_years.suppliers) * math.ceil(two_years.scenario.years)


def test_tracing_changes_no_kpi() -> None:
    for name in ("nacka-single", "nacka-transfer-2017"):
        sc = load_scenario(name, {"scenario.years": 1.5, "scenario.warmup_years": 0.5})
        plain, traced = simulate(sc, seed=3), simulate(sc, seed=3, trace=True)
        assert plain.keys() == traced.keys()
        for k, v in plain.items():
            assert v == traced[k] or (math.isnan(v) and math.isnan(traced[k])), (name, k)


def test_a_shorter_run_logs_the_start_of_a_longer_one(two_years: Scenario) -> None:
    """What `animate --years 1` replays is the first year of the scenario's own run."""
    one = load_scenario("nacka-multi-10", {"scenario.years": 1.0, "scenario.warmup_years": 0.0})
    short = simulate_full(one, seed=SEED, replication=1, trace=True).events
    long = simulate_full(two_years, seed=SEED, replication=1, trace=True).events
    assert short is not None
    assert long is not None
    assert long[:len(short)] == short
    assert float(long[len(short)]["time"]) >= one.horizon_days - 0.001


def test_the_engine_and_the_model_give_the_same_log(two_years: Scenario) -> None:
    res = simulate_full(two_years, seed=SEED, replication=1, trace=True)
    assert trace_events(two_years, SEED, 1) == res.events


def test_simsource_trace_writes_the_documented_log(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "logs" / "trace.parquet"
    args = ["trace", "nacka-multi-10", "--set", "scenario.years=1", "--set",
            "scenario.warmup_years=0", "--seed", "5", "--replication", "2", "--out", str(out)]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "events" in res.output
    frame, meta = read_trace(out)
    sc = load_scenario("nacka-multi-10", {"scenario.years": 1.0, "scenario.warmup_years": 0.0})
    expected = simulate_full(sc, seed=5, replication=2, trace=True).events
    assert expected is not None
    pd.testing.assert_frame_equal(frame, events_frame(expected))
    assert (meta["scenario"], meta["seed"], meta["replication"]) == ("nacka-multi-10", 5, 2)
    plain = pd.read_parquet(out)                     # what an analyst loads
    assert list(plain.columns) == list(COLUMNS)
    assert len(plain) == len(expected)
    assert META_KEY in (pq.read_schema(out).metadata or {})
    again = runner.invoke(main, args)                # its own file: replaced
    assert again.exit_code == 0, again.output


def test_trace_never_overwrites_a_file_of_the_user(tmp_path: Path, runner: CliRunner) -> None:
    mine = tmp_path / "mine.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(mine)    # a Parquet file, but not a trace
    before = mine.read_bytes()
    res = runner.invoke(main, ["trace", "nacka-multi-10", "--out", str(mine)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"error: {mine}: exists and was not written by simsource; move it or choose another "
        "name (simsource never overwrites a file it did not write)"]
    assert mine.read_bytes() == before


@pytest.mark.parametrize(("args", "says"), [
    (["nacka-mult"], "no such scenario"),
    (["nacka-multi-10", "--set", "coordination.staf=3"], "coordination.staf: unknown key"),
    (["nacka-multi-10", "--set", "operations.sla_days=-1"], "operations.sla_days"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, runner: CliRunner, args: list[str],
                                          says: str) -> None:
    out = tmp_path / "t.parquet"
    res = runner.invoke(main, ["trace", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert says in lines[0], lines
    assert not out.exists()


def test_the_file_name_is_checked_before_the_run(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(main, ["trace", "nacka-multi-10", "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 2
    assert "use a .parquet file name" in res.output
    res = runner.invoke(main, ["trace", "nacka-multi-10", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []
