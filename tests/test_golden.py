"""Golden backtests: the shipped scenarios' KPIs for a fixed seed equal tests/golden/kpis.json.

A failure after a deliberate change of the model or a shipped scenario: refresh the file with
``make golden`` (``python tests/golden/refresh.py``) and commit it with the change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from golden.refresh import (
    TRACES,
    compute,
    differences,
    first_difference,
    load,
    scenario_hash,
    timeseries_path,
    trace_golden,
    traced_run,
)
from replicate import jobs, under_mutmut

from simsource.scenario.loader import builtin_names

GOLDEN = load()
HINT = "if the model changed on purpose: make golden (python tests/golden/refresh.py)"


_NOW: dict[str, Any] = {}


def now(name: str) -> dict[str, Any]:
    """A scenario's KPIs now, computed when its test runs, so that a change fails at the first
    scenario it shows in (mutmut runs the quickest test first); not cached under mutmut."""
    if under_mutmut() or name not in _NOW:
        _NOW[name] = compute([name], jobs=jobs())["scenarios"][name]
    return dict(_NOW[name])


def test_every_shipped_scenario_has_golden_numbers() -> None:
    assert sorted(GOLDEN["scenarios"]) == sorted(builtin_names()), HINT


@pytest.mark.parametrize("name", sorted(GOLDEN["scenarios"]))
def test_kpis_equal_the_golden_numbers(name: str) -> None:
    expected = GOLDEN["scenarios"][name]
    got = now(name)
    problems = [f"replication {i}: {d}"
                for i, (a, b) in enumerate(zip(expected["kpis"], got["kpis"], strict=True))
                for d in differences(a, b)]
    if problems:
        changed = "" if expected["scenario_hash"] == scenario_hash(name) else \
            " (the resolved scenario changed too)"
        pytest.fail(f"{name}{changed}: {len(problems)} differences, e.g.\n  "
                    + "\n  ".join(problems[:8]) + f"\n{HINT}")


_TRACED: dict[str, tuple[str, pd.DataFrame]] = {}


def traced(name: str) -> tuple[str, pd.DataFrame]:
    """A traced run's event log and time series, run once for both tests (not cached under
    mutmut, as ``now``)."""
    if under_mutmut() or name not in _TRACED:
        _TRACED[name] = traced_run(name)
    return _TRACED[name]


@pytest.mark.parametrize("name", sorted(TRACES))
def test_the_event_log_equals_the_golden_log(name: str) -> None:
    """Every event of a short replication, in order, with its time, stage, resource and detail:
    what `simsource trace` writes and the replay draws."""
    log, _ = traced(name)
    diff = first_difference(trace_golden(name), log)
    assert diff is None, f"{name}: the event log changed at {diff}\n{HINT}"


@pytest.mark.parametrize("name", sorted(TRACES))
def test_the_monthly_time_series_equal_the_golden_ones(name: str) -> None:
    _, now = traced(name)
    golden = pd.read_csv(timeseries_path(name))
    assert list(now.columns) == list(golden.columns), HINT
    assert len(now) == len(golden), HINT
    for col in golden.columns:
        np.testing.assert_allclose(now[col].to_numpy(float), golden[col].to_numpy(float),
                                   rtol=1e-9, atol=1e-12, err_msg=f"{name}: {col}; {HINT}")


def test_differences_see_a_change_beyond_the_tolerance() -> None:
    assert differences({"a": 1.0, "b": float("nan")}, {"a": 1.0 + 1e-12, "b": float("nan")}) \
        == []
    assert differences({"a": 1.0}, {"a": 1.0 + 1e-8}) == ["a: 1.0 -> 1.00000001"]
    assert differences({"a": 1.0}, {"c": 1.0}) == ["a: missing now (was 1.0)", "c: new KPI (1.0)"]
    assert first_difference("a\nb\n", "a\nb\n") is None
    assert first_difference("a\nb\n", "a\nc\n") == "line 2:\n  was b\n  now c"
    assert first_difference("a\n", "a\nb\n") == "1 lines before, 2 now"
