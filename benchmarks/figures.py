"""The figures of the benchmark suite: settings, each figure with its target, and the table.

Every figure is a ratio or a time measured in the same run, with a stated target (or reported
only); :func:`table` prints them with their status. See docs/performance.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks import mmc_simpy


# ---- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    repeats: int = 5
    seed: int = 1
    customers: int = mmc_simpy.CUSTOMERS      # bare SimPy M/M/5 reference run
    model_reps: int = 2                       # replications per scenario and repeat
    # the engine ratio: per repeat, this many adjacent pairs of one nacka-multi replication and
    # a bare-SimPy M/M/5 run of as many events (each pair's two halves back to back)
    engine_pairs: int = 8
    scenarios: tuple[str, ...] = ("nacka-multi", "nacka-transfer-2017")
    peer_customers: int = 10_000              # Ciw / salabim / SimPy comparison
    peer_repeats: int = 3
    # parallel efficiency: `simsource run nacka-multi -n 60 -j 2` against `-j 1`, whole commands
    batch_n: int = 60
    batch_sets: tuple[str, ...] = ()
    # pairs of commands: the noisiest figure (each sample the ratio of two whole commands; one
    # run's samples spread 0.73-0.94), so more of them than ``repeats`` (--repeats sets both)
    batch_repeats: int = 9
    # beside each pair, the same pair in bare SimPy: 12 M/M/5 runs (about 5 s on one process)
    bare_runs: int = 12
    bare_customers: int = 30_000
    pool_n: int = 20                          # warm-pool speed-up: run_batch of 20 replications
    pool_sets: tuple[str, ...] = ()
    app_pause: float = 2.0                    # app latency: seconds between page load and Run
    app_repeats: int = 3                      # fresh page (and server) per repeat: slow
    memory_small: int = 100
    memory_large: int = 2000
    memory_sets: tuple[str, ...] = ("scenario.years=1", "scenario.warmup_years=0.5")
    store_n: int = 200                        # synthetic batch written through ResultStore
    store_jobs: int = 2
    profile_reps: int = 0
    # the cost of a design point: calibrate and explore as in the README, fewer points
    calibrate_budget: int = 250               # simulations (about 15 candidates)
    explore_futures: int = 16
    explore_replications: int = 3
    design_repeats: int = 2                   # whole commands of 20-30 s each
    design_sets: tuple[str, ...] = ()


_TINY = ("scenario.years=0.25", "scenario.warmup_years=0.1")
QUICK = Settings(repeats=2, engine_pairs=2, batch_repeats=2, bare_runs=2, bare_customers=500,
                 customers=5_000, model_reps=1, peer_customers=500, peer_repeats=1, batch_n=4,
                 batch_sets=_TINY, memory_small=2, memory_large=4, memory_sets=_TINY, store_n=4,
                 pool_n=4, pool_sets=_TINY, app_pause=0.0, app_repeats=1, calibrate_budget=100,
                 explore_futures=2, explore_replications=1, design_repeats=1,
                 design_sets=_TINY)


# ---- figures -------------------------------------------------------------------------------
@dataclass
class Figure:
    """One number of the table. ``target`` is ``(op, value)`` with op ``>=`` or ``<=``, or None
    for a figure that is only reported."""

    key: str
    label: str
    unit: str
    target: tuple[str, float] | None = None
    value: float | None = None
    samples: list[float] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None or math.isnan(self.value):
            return None
        op, bound = self.target
        return self.value >= bound if op == ">=" else self.value <= bound

    def target_text(self) -> str:
        return "report" if self.target is None else f"{self.target[0]} {fmt(self.target[1])}"

    def status(self) -> str:
        if self.value is None:
            return "skipped"
        if self.target is None:
            return "-"
        return "met" if self.met else "NOT MET"

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label, "unit": self.unit, "value": clean(self.value),
            "target": self.target_text(),
            "target_op": self.target[0] if self.target else None,
            "target_value": self.target[1] if self.target else None,
            "met": self.met, "status": self.status(),
            "samples": [clean(s) for s in self.samples],
            "detail": clean(self.detail), "note": self.note,
        }


FIGURES: list[tuple[str, str, str, tuple[str, float] | None]] = [
    ("engine_overhead_ratio", "engine overhead: simsource ev/s / bare SimPy M/M/5 ev/s", "ratio",
     (">=", 0.75)),
    ("engine_overhead_ratio_cpu", "  the same ratio in CPU time (robust to load)", "ratio", None),
    ("engine_overhead_ratio_pure",
     "  the same ratio, model run as Python (SIMSOURCE_PURE=1, not compiled)", "ratio", None),
    ("simsource_events_per_s", "  simsource events/s (nacka-multi)", "events/s", None),
    ("simpy_events_per_s", "  bare SimPy M/M/5 events/s", "events/s", None),
    ("engine_overhead_ratio_matched",
     "  against bare SimPy M/M/c at the model's concurrency (CPU)", "ratio", None),
    ("concurrency_ceiling",
     "  that concurrency alone: SimPy M/M/c ev/s / M/M/5 ev/s (CPU)", "ratio", None),
    ("replication_s_nacka_multi", "replication cost: nacka-multi", "s/rep", None),
    ("replication_s_nacka_transfer_2017", "replication cost: nacka-transfer-2017", "s/rep", None),
    ("sim_years_per_s_nacka_multi", "simulated years per second: nacka-multi", "years/s", None),
    ("sim_years_per_s_nacka_transfer_2017", "simulated years per second: nacka-transfer-2017",
     "years/s", None),
    ("parallel_efficiency", "parallel efficiency, run -n {n}: reps/s -j 2 / (2 x -j 1)", "ratio",
     (">=", 0.85)),
    ("parallel_efficiency_bare_simpy",
     "  bare SimPy, same pairs: 1 process / (2 x 2 processes)", "ratio", None),
    ("parallel_efficiency_vs_bare", "  simsource's efficiency / bare SimPy's", "ratio", None),
    ("warm_pool_speedup", "warm pool: {pool} reps in series / 2nd run_batch -j 2", "ratio",
     (">=", 1.6)),
    ("app_first_result_s", "app: Run to first result, default setting (AppTest)", "s",
     ("<=", 3.0)),
    ("app_first_result_browser_s", "app: Run to first card on screen (headless Chromium)", "s",
     ("<=", 3.0)),
    ("memory_ratio", "memory: peak RSS {large} reps / {small} reps", "ratio", ("<=", 1.3)),
    ("startup_help_s", "start-up: simsource --help", "s", ("<=", 0.5)),
    ("startup_run_n1_s", "start-up: simsource run nacka-multi -n 1 --quiet", "s", None),
    ("store_overhead_share", "store overhead: result writing / batch time", "share",
     ("<=", 0.05)),
    ("calibrate_point_s", "calibrate: one candidate (README command, fewer candidates)", "s",
     ("<=", 6.0)),
    ("explore_point_s", "explore: one future, both policies (README command, fewer futures)",
     "s", ("<=", 3.0)),
    ("ciw_vs_simpy", "peer: Ciw customers/s / SimPy customers/s (M/M/5)", "ratio", None),
    ("salabim_vs_simpy", "peer: salabim customers/s / SimPy customers/s (M/M/5)", "ratio", None),
]


def new_figures(s: Settings) -> dict[str, Figure]:
    names = {"small": s.memory_small, "large": s.memory_large, "n": s.batch_n,
             "pool": s.pool_n}
    return {k: Figure(k, label.format(**names), unit, target)
            for k, label, unit, target in FIGURES}


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isnan(v):
        return "nan"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf become None, tuples lists, floats rounded to 6 significant digits."""
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


def median(xs: Sequence[float]) -> float | None:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return statistics.median(xs) if xs else None


def quartiles(xs: Sequence[float]) -> list[float]:
    """The lower quartile, median and upper quartile, within the samples (the sample itself
    when there is one)."""
    return statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3


# ---- report ------------------------------------------------------------------------------------
def table(figs: dict[str, Figure]) -> str:
    w = max(len(f.label) for f in figs.values())
    lines = [f"{'figure':<{w}}  {'value':>12}  {'unit':<9}  {'target':<8}  status",
             "-" * (w + 45)]
    for f in figs.values():
        lines.append(f"{f.label:<{w}}  {fmt(f.value):>12}  {f.unit:<9}  {f.target_text():<8}"
                     f"  {f.status()}")
    notes = [f"  {f.key}: {f.note}" for f in figs.values() if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)
