"""The teaching page's runs on the experiment engine: replication i of seed S, partial results as
chunks finish, identical settings once, cached replications reused."""

from __future__ import annotations

import math
from typing import Any

import pytest

from simsource.app import runs
from simsource.model import simulate_full
from simsource.scenario import load_scenario, with_overrides


@pytest.fixture(scope="module")
def tiny() -> Any:
    """A quick scenario: two years, one measured."""
    return with_overrides(load_scenario("nacka-multi"), {"scenario.years": 2.0})


def test_a_setting_is_replication_i_of_seed_s_with_replication_0_traced(tiny: Any) -> None:
    res = runs.run_setting(tiny, seed=7, n=3, jobs=1, cache=runs.ReplicationCache())
    direct = simulate_full(tiny, seed=7, replication=2).kpis
    row = res.kpis.loc[2]
    for k, v in direct.items():
        assert (math.isnan(v) and math.isnan(row[k])) or row[k] == v, k
    assert list(res.kpis.index) == [0, 1, 2]
    assert res.events == simulate_full(tiny, seed=7, replication=0, trace=True).events
    assert len(res.timeseries) == 2 * 220 // 20               # months, mean over replications
    assert (res.seed, res.n, res.horizon_days) == (7, 3, 440.0)


@pytest.mark.slow
def test_partial_results_grow_chunk_by_chunk_and_cached_ones_are_not_run_again(
        tiny: Any) -> None:
    cache = runs.ReplicationCache()
    more = with_overrides(tiny, {"coordination.staff": 30})
    seen: list[tuple[list[int], int, int]] = []

    def update(p: runs.Partial) -> None:
        seen.append(([0 if r is None else r.n for r in p.results()], p.done, p.total))

    base, cur, again = runs.run_settings([tiny, more, tiny], seed=3, n=4, jobs=1,
                                         on_update=update, cache=cache)
    assert [r.n for r in (base, cur, again)] == [4, 4, 4]
    assert again.kpis.equals(base.kpis)                      # identical settings run once
    assert [s[1:] for s in seen] == [(i, 8) for i in range(1, 9)]     # one replication a chunk
    assert seen[-1][0] == [4, 4, 4]
    # common random numbers: identical incident streams replication by replication
    assert list(base.kpis["incidents_per_year"]) == list(cur.kpis["incidents_per_year"])
    seen.clear()
    bigger = runs.run_settings([tiny, more], seed=3, n=6, jobs=1, on_update=update,
                               cache=cache)
    assert [s[1:] for s in seen] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # cached, then new
    assert seen[0][0] == [4, 4]
    assert bigger[0].kpis.loc[:3].equals(base.kpis)
    seen.clear()
    runs.run_settings([more], seed=3, n=5, jobs=1, on_update=update, cache=cache)
    assert seen == []                                        # all cached: nothing runs


def test_the_cache_forgets_the_oldest_setting() -> None:
    cache = runs.ReplicationCache(settings=2)
    rep = runs.Replication({"x": 1.0}, {"month": [0.0]}, None)
    for name in ("a", "b", "a", "c"):
        cache.put(name, 0, {0: rep})
    assert cache.get("b", 0) == {}
    assert set(cache.get("a", 0)) == {0}
    assert set(cache.get("c", 0)) == {0}


def test_no_replications_is_refused(tiny: Any) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        runs.run_setting(tiny, seed=0, n=0)


def test_app_jobs_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMSOURCE_APP_JOBS", "3")
    assert runs.app_jobs() == 3
    monkeypatch.setenv("SIMSOURCE_APP_JOBS", "zero")
    assert 1 <= runs.app_jobs() <= 8
