"""The replay's cost: CPU seconds to build the Watch tab's replay of one simulated year, and the
figure step against vidigi's own ``generate_animation`` on the same snapshots.

For the Watch tab's setting (nacka-multi-10 as the baseline, 24 coordinators as the current
setting, year 1, one frame per working week): the two traced replications, the vidigi snapshots
and queue layout (:func:`simsource.analysis.replay.figure.positioned`), and the rest of
:func:`~simsource.analysis.replay.build_replay` (the figure). Then, for one panel with 45 and 221
frames, simsource's figure step against ``vidigi.animation.generate_animation`` (plotly express
backend) fed vidigi's positioned snapshots of the same log, both up to the figure's JSON (what
the page sends to the browser). CPU time (``time.process_time``),
median of ``REPEATS``, so that a loaded machine changes the figures less than wall time would.

    python -m benchmarks.replay_latency       # prints the figures as JSON
"""

from __future__ import annotations

import functools
import json
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

REPEATS = 3


def _figure_json(panels: list[Any], end: int, step: int) -> str:
    from simsource.analysis.replay import build_replay

    return str(build_replay(panels, 0, end, step).to_json())


def _cpu(fn: Callable[[], Any]) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def measure(repeats: int = REPEATS) -> dict[str, float]:
    import pandas as pd
    from vidigi.animation import generate_animation

    from simsource.analysis.replay import Panel, build_replay
    from simsource.analysis.replay import figure as fig_mod
    from simsource.app.watch import STEP_DAYS
    from simsource.experiment.trace import events_frame
    from simsource.model import simulate_full
    from simsource.scenario import Scenario, load_scenario, with_overrides

    warnings.filterwarnings("ignore")
    base = load_scenario("nacka-multi-10", {"scenario.years": 1.0, "scenario.warmup_years": 0.0})
    cur = with_overrides(base, {"coordination.staff": 24})
    end = int(base.scenario.working_days_per_year)

    def log_of(sc: Scenario) -> pd.DataFrame:
        return events_frame(simulate_full(sc, seed=0, replication=0, trace=True).events or [])

    out: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(value)

    # vidigi's positioned snapshots, kept for generate_animation (wraps the module's function)
    kept: dict[str, Any] = {}
    mod: Any = fig_mod   # its vidigi import is patched: not part of its typed interface
    positioned = mod.positioned
    generate_df = mod.generate_animation_df

    def keep_df(*args: Any, **kw: Any) -> pd.DataFrame:
        df: pd.DataFrame = generate_df(*args, **kw)
        kept["df"], kept["positions"] = df, args[1]
        return df

    def timed_positioned(*args: Any, **kw: Any) -> Any:
        c0 = time.process_time()
        res = positioned(*args, **kw)
        kept["prep_s"] = time.process_time() - c0
        return res

    mod.positioned, mod.generate_animation_df = timed_positioned, keep_df
    try:
        for _ in range(repeats):
            c0 = time.process_time()
            logs = [log_of(base), log_of(cur)]
            add("watch_simulate_cpu_s", time.process_time() - c0)
            panels = [Panel("baseline", logs[0], base), Panel("current", logs[1], cur)]
            total = _cpu(functools.partial(build_replay, panels, 0, end, STEP_DAYS))
            add("watch_snapshots_cpu_s", kept["prep_s"])
            add("watch_figure_cpu_s", total - kept["prep_s"])
            for step in (STEP_DAYS, 1):
                frames = end // step + 1
                one = [Panel("baseline", logs[0], base)]
                total = _cpu(functools.partial(_figure_json, one, end, step))
                add(f"figure_{frames}_frames_cpu_s", total - kept["prep_s"])
                add(f"vidigi_generate_animation_{frames}_frames_cpu_s", _cpu(
                    lambda: generate_animation(kept["df"], kept["positions"],
                                               simulation_time_unit="days").to_json()))
    finally:
        mod.positioned, mod.generate_animation_df = positioned, generate_df
    return {k: round(statistics.median(v), 3) for k, v in out.items()}


if __name__ == "__main__":
    print(json.dumps(measure()))
