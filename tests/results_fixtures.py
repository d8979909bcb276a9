"""Results folders written as ``simsource run/compare/sweep`` would (docs/results-format.md), by
running the real model for a few short replications, for ``test_plots.py`` and ``test_report.py``.
Their ``compare_dir``, ``single_dir`` and ``sweep_dir`` fixtures reach the tests through
``conftest.py``; each kind of folder is built once per test session."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simsource.stats import compare_table, summarize

SEED = 11
COMPARE = ("nacka-single", "nacka-multi-10", "nacka-multi")
SHORT = ("scenario.years=2.5",)  # short runs keep the suite fast; warm-up stays 1 year
REPS = 5


def _env() -> dict[str, str]:
    import platform

    import simpy

    import simsource

    return {"simsource_version": simsource.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "simpy": getattr(simpy, "__version__", "unknown")}


def write_run(root: Path, name: str, overrides: Sequence[str], seed: int, reps: int,
              command: str, kind: str = "run") -> pd.DataFrame:
    """Run ``reps`` replications of scenario ``name`` and write a results folder at ``root``."""
    from simsource.model import simulate_full
    from simsource.scenario import load_scenario, parse_overrides, scenario_hash, scenario_toml

    sc = load_scenario(name, parse_overrides(tuple(overrides)))
    kpi_rows: list[dict[str, Any]] = []
    ts_frames = []
    for i in range(reps):
        r = simulate_full(sc, seed=seed, replication=i)
        kpi_rows.append({"scenario": sc.name, "replication": i, "seed": seed,
                         **{k: float(v) for k, v in r.kpis.items()}})
        ts = pd.DataFrame(r.timeseries)
        ts.insert(0, "seed", seed)
        ts.insert(0, "replication", i)
        ts.insert(0, "scenario", sc.name)
        ts_frames.append(ts)
    reps_df = pd.DataFrame(kpi_rows)
    root.mkdir(parents=True, exist_ok=True)
    reps_df.to_parquet(root / "replications.parquet", index=False)
    pd.concat(ts_frames, ignore_index=True).to_parquet(root / "timeseries.parquet", index=False)
    summarize(reps_df.drop(columns=["scenario"])).to_csv(root / "summary.csv", index=False)
    (root / "scenario.toml").write_text(scenario_toml(sc), encoding="utf-8")
    manifest = {**_env(), "scenario": sc.name, "scenario_hash": scenario_hash(sc), "seed": seed,
                "replications": reps, "requested": reps, "backend": "local", "jobs": 1,
                "started": "2024-01-01T00:00:00Z", "finished": "2024-01-01T00:01:00Z",
                "command": command, "kind": kind}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return reps_df


def write_compare(root: Path, names: Sequence[str] = COMPARE, overrides: Sequence[str] = SHORT,
                  seed: int = SEED, reps: int = REPS) -> Path:
    sets = " ".join(f"--set {o}" for o in overrides)
    command = f"simsource compare {' '.join(names)} -n {reps} --seed {seed} {sets} --out {root}"
    frames = {n: write_run(root / n, n, overrides, seed, reps, command) for n in names}
    compare_table({n: f.drop(columns=["scenario"]) for n, f in frames.items()}).to_csv(
        root / "comparison.csv", index=False)
    info = {"kind": "compare", "scenarios": list(names), "seed": seed, "replications": reps,
            "command": command, "folders": {n: n for n in names}}
    (root / "compare.json").write_text(json.dumps(info), encoding="utf-8")
    return root


def write_single(root: Path, name: str = "nacka-multi", seed: int = SEED,
                 reps: int = REPS) -> Path:
    command = f"simsource run {name} -n {reps} --seed {seed} --set {SHORT[0]} --out {root}"
    write_run(root, name, SHORT, seed, reps, command)
    return root


TRANSFER_VARY: dict[str, list[Any]] = {"transition.team_size": [6, 10, 14],
                                       "transition.shared_with_operations": [True, False]}


def write_sweep(root: Path, base: str = "nacka-transfer-2017",
                vary: dict[str, list[Any]] | None = None, seed: int = SEED,
                reps: int = 4) -> Path:
    vary = vary or TRANSFER_VARY
    keys = list(vary)
    command = (f"simsource sweep {base} "
               + " ".join(f"--vary {k}={','.join(map(str, v)).lower()}" for k, v in vary.items())
               + f" -n {reps} --seed {seed} --set scenario.years=1.5 --out {root}")
    design_rows, frames = [], []
    for p, combo in enumerate(itertools.product(*vary.values())):
        sets = ["scenario.years=1.5"] + [
            f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in zip(keys, combo, strict=True)]
        df = write_run(root / "points" / f"p{p:04d}", base, sets, seed, reps, command)
        design = dict(zip(keys, combo, strict=True))
        design_rows.append({"point": p, **design})
        df = df.drop(columns=["scenario"])
        for k, v in reversed(design.items()):
            df.insert(0, k, v)
        df.insert(0, "point", p)
        frames.append(df)
    sweep = pd.concat(frames, ignore_index=True)
    sweep.to_parquet(root / "sweep.parquet", index=False)
    pd.DataFrame(design_rows).to_csv(root / "design.csv", index=False)
    summary = []
    for p, sub in sweep.groupby("point"):
        s = summarize(sub.drop(columns=keys))
        for k in keys:
            s.insert(0, k, sub[k].iloc[0])
        s.insert(0, "point", p)
        summary.append(s)
    pd.concat(summary).to_csv(root / "sweep_summary.csv", index=False)
    from simsource.scenario import load_scenario, parse_overrides, scenario_toml

    base_sc = load_scenario(base, parse_overrides(("scenario.years=1.5",)))
    (root / "scenario.toml").write_text(scenario_toml(base_sc), encoding="utf-8")
    manifest = {**_env(), "kind": "sweep", "scenario": base, "seed": seed, "replications": reps,
                "requested": reps, "points": len(design_rows), "vary": vary,
                "started": "2024-01-01T00:00:00Z", "finished": "2024-01-01T00:02:00Z",
                "command": command}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


_CACHE: dict[str, Path] = {}


def cached_folder(kind: str, factory: pytest.TempPathFactory) -> Path:
    """Each kind of folder built once per test session (shared by test_plots and test_report)."""
    if kind not in _CACHE:
        base = factory.mktemp(kind)
        maker = {"compare": write_compare, "single": write_single, "sweep": write_sweep}[kind]
        _CACHE[kind] = maker(base / "res")
    return _CACHE[kind]


@pytest.fixture(scope="session")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("compare", tmp_path_factory)


@pytest.fixture(scope="session")
def single_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("single", tmp_path_factory)


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("sweep", tmp_path_factory)
