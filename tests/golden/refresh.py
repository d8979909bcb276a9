"""Golden backtests: every KPI of the shipped scenarios for a fixed seed and few replications.

``tests/test_golden.py`` runs the shipped scenarios again and compares every number with
``tests/golden/kpis.json`` (relative tolerance 1e-9), so an unintended change of the model's
numbers — a refactoring that was meant to change nothing — fails the test suite. The event log
of one short replication of three runs (``trace-*.csv.gz``, what ``simsource trace`` and the
replay show) is kept too and compared line by line, and so are its monthly time series
(``timeseries-*.csv``, what the results' ``timeseries.parquet`` holds).

After a deliberate change of the model (or of a shipped scenario), refresh the file and commit
it with the change::

    make golden                      # or: python tests/golden/refresh.py

and say in the commit why the numbers moved.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from simsource.experiment.backend import make_backend
from simsource.experiment.engine import Work, replications
from simsource.experiment.trace import events_frame
from simsource.model import simulate_full
from simsource.scenario import load_scenario
from simsource.scenario.loader import builtin_names

PATH = Path(__file__).with_name("kpis.json")
SEED = 2017
REPLICATIONS = 2
ID_COLUMNS = ("replication", "seed")
#: the runs whose event log is kept: name -> (scenario, overrides that keep it short); the
#: small budget makes an idea wait for money
TRACES: dict[str, tuple[str, dict[str, float]]] = {
    "nacka-transfer-2017": ("nacka-transfer-2017",
                            {"scenario.years": 1.0, "scenario.warmup_years": 0.1}),
    "nacka-multi-10": ("nacka-multi-10", {"scenario.years": 0.5, "scenario.warmup_years": 0.1}),
    "nacka-multi-small-budget": ("nacka-multi", {
        "scenario.years": 0.8, "scenario.warmup_years": 0.1,
        "budget.innovation_msek_per_year": 0.5, "budget.reinvest_savings_share": 0.0}),
}


def trace_path(name: str) -> Path:
    return PATH.with_name(f"trace-{name}.csv.gz")


def timeseries_path(name: str) -> Path:
    return PATH.with_name(f"timeseries-{name}.csv")


def traced_run(name: str) -> tuple[str, pd.DataFrame]:
    """Replication 0 of seed ``SEED`` of ``name`` (short): its event log as CSV text and its
    monthly time series."""
    scenario, overrides = TRACES[name]
    sc = load_scenario(scenario, overrides)
    res = simulate_full(sc, seed=SEED, replication=0, trace=True)
    assert res.events is not None
    # <NA> marks a missing value, so that a missing detail differs from an empty one
    text: str = events_frame(res.events).to_csv(index=False, lineterminator="\n", na_rep="<NA>")
    return text, pd.DataFrame(res.timeseries)


def trace_golden(name: str) -> str:
    return gzip.decompress(trace_path(name).read_bytes()).decode("utf-8")


def first_difference(expected: str, got: str) -> str | None:
    """The first line where two logs differ, with its number, or None when they are equal."""
    a, b = expected.splitlines(), got.splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i + 1}:\n  was {x}\n  now {y}"
    if len(a) != len(b):
        return f"{len(a)} lines before, {len(b)} now"
    return None


def scenario_hash(name: str) -> str:
    return hashlib.sha256(load_scenario(name).model_dump_json().encode()).hexdigest()[:16]


def compute(names: list[str] | None = None, jobs: int = 2) -> dict[str, Any]:
    """The golden record: per shipped scenario, its hash and every KPI of each replication."""
    names = builtin_names() if names is None else names
    works = [Work(load_scenario(n), SEED, range(REPLICATIONS)) for n in names]
    backend = make_backend("local", jobs)
    try:
        results = replications(works, backend, chunk_size=1)
    finally:
        backend.close()
    return {
        "seed": SEED, "replications": REPLICATIONS,
        "refresh": "python tests/golden/refresh.py (make golden)",
        "scenarios": {
            name: {"scenario_hash": scenario_hash(name),
                   "kpis": [{k: v for k, v in row.items() if k not in ID_COLUMNS}
                            for row in res.kpi_rows]}
            for name, res in zip(names, results, strict=True)},
    }


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
    return data


def differences(expected: dict[str, float], got: dict[str, float],
                rel: float = 1e-9) -> list[str]:
    """KPIs whose values differ by more than ``rel`` (relative; NaN equals NaN), or that are
    missing on either side."""
    out = []
    for k in sorted(set(expected) | set(got)):
        if k not in got:
            out.append(f"{k}: missing now (was {expected[k]!r})")
        elif k not in expected:
            out.append(f"{k}: new KPI ({got[k]!r})")
        else:
            a, b = float(expected[k]), float(got[k])
            if not ((math.isnan(a) and math.isnan(b))
                    or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)):
                out.append(f"{k}: {a!r} -> {b!r}")
    return out


def main() -> int:
    data = compute()
    PATH.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    n = len(data["scenarios"])
    print(f"wrote {PATH} ({n} scenarios x {REPLICATIONS} replications, seed {SEED})",
          file=sys.stderr)
    for name in TRACES:
        text, ts = traced_run(name)
        trace_path(name).write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        ts.to_csv(timeseries_path(name), index=False, float_format="%.17g", lineterminator="\n")
        print(f"wrote {trace_path(name)} ({text.count(chr(10)) - 1} events) and "
              f"{timeseries_path(name)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
