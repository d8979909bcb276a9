"""The *Watch* tab: the baseline and the current setting replayed side by side, one clock.

Both replays are replication 0 of their setting with the page's seed — the replication whose
event log the page keeps (:func:`simsource.app.runs.run_settings` traces it), so the same random
numbers drive both. A setting already run comes from the cache; one not run yet is simulated up
to the end of the year watched only. One year at a time, one frame per working week
(:data:`STEP_DAYS`): the replay of a simulated year takes about a second of CPU time to build,
for the page's 3-second budget for a first frame (docs/performance.md, *The replay*).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import plotly.graph_objects as go

from simsource.analysis.replay import Panel, build_replay
from simsource.app import runs
from simsource.experiment.trace import events_frame
from simsource.scenario import Scenario, with_overrides

#: working days per frame on the page (a working week)
STEP_DAYS = 5


@dataclass(frozen=True)
class Watch:
    figure: go.Figure
    year: int
    seconds: float     # to run (or fetch) the replications and build the replay


def years(sc: Scenario) -> list[int]:
    """The simulated years one can watch (1 … the setting's years, rounded up)."""
    return list(range(1, max(1, math.ceil(sc.scenario.years - 1e-9)) + 1))


def window(sc: Scenario, year: int) -> tuple[int, int]:
    """Working days ``(start, end)`` of simulated year ``year`` (the last one may be short)."""
    days = sc.scenario.working_days_per_year
    start = round((year - 1) * days)
    return start, math.floor(min(year * days, sc.horizon_days))


def _shortened(sc: Scenario, year: int) -> Scenario:
    """``sc`` run only up to the end of year ``year``: the same log up to there (the model
    looks no further ahead; tests/test_trace.py), at a fraction of the cost."""
    if year >= sc.scenario.years:
        return sc
    return with_overrides(sc, {"scenario.years": float(year), "scenario.warmup_years": 0.0})


def _replication_zero(settings: list[Scenario], seed: int, year: int,
                      cache: runs.ReplicationCache) -> list[runs.BatchResult]:
    """Replication 0 of each setting: from the page's cache when the settings have been run
    (the replication whose KPIs the Results tab shows), else run up to year ``year`` only."""
    done = [cache.get(sc.model_dump_json(), seed).get(0) for sc in settings]
    if all(r is not None and r.events is not None for r in done):
        return [runs.assemble(sc, seed, {0: r}) for sc, r in zip(settings, done, strict=True)
                if r is not None]
    return runs.run_settings([_shortened(sc, year) for sc in settings], seed, 1, cache=cache)


def build_watch(base: Scenario, cur: Scenario, base_label: str, cur_label: str, seed: int,
                year: int, cache: runs.ReplicationCache = runs.CACHE) -> Watch:
    """The side-by-side replay of year ``year`` (replication 0 of both settings)."""
    t0 = time.perf_counter()
    b, c = _replication_zero([base, cur], seed, year, cache)
    panels = [Panel(f"Baseline: {base_label}", events_frame(b.events), base),
              Panel(f"Current: {cur_label}", events_frame(c.events), cur)]
    start, end = window(cur, year)
    fig = build_replay(panels, start, end, STEP_DAYS)
    return Watch(fig, year, time.perf_counter() - t0)


def placeholder() -> go.Figure:
    """An empty figure shown before the first replay: the browser loads plotly while the
    teacher reads, so the replay's first frame does not wait for it."""
    fig = go.Figure()
    fig.update_layout(height=120, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      xaxis={"visible": False}, yaxis={"visible": False},
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig
