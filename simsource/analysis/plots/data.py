"""What the plots and the report read: one results folder (run, compare or sweep), as DataFrames.

Folders follow docs/results-format.md and are opened only through
:func:`simsource.experiment.load_results`; this module arranges what it returns for plotting
(scenarios in compare order, tables stacked with a ``scenario`` column, the sweep design).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from simsource.errors import UserError
from simsource.experiment import load_results
from simsource.experiment.results import Results

Kind = Literal["run", "compare", "sweep", "explore"]


@dataclass(frozen=True)
class RunData:
    """One scenario's results folder (its tables are read on first use)."""

    name: str
    results: Results

    @property
    def path(self) -> Path:
        return Path(self.results.path)

    @property
    def replications(self) -> pd.DataFrame:
        return self.results.replications

    @property
    def timeseries(self) -> pd.DataFrame:
        return self.results.timeseries

    @property
    def summary(self) -> pd.DataFrame:
        return self.results.summary

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(self.results.manifest)

    @property
    def scenario_toml(self) -> str:
        return str(self.results.scenario_toml)


@dataclass(frozen=True)
class AnalysisData:
    """A results folder of any kind, ready for plotting and reporting.

    ``runs`` holds one :class:`RunData` per scenario (in the compare order); for a sweep it holds
    the sweep itself, whose ``scenario_toml`` is the base scenario; an exploration has none, but
    ``futures`` (one row per future and policy), ``robustness`` and ``discovery``. Do not modify
    the frames.
    """

    path: Path
    kind: Kind
    runs: list[RunData]
    manifest: dict[str, Any]
    comparison: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    design_columns: list[str] = field(default_factory=list)
    futures: pd.DataFrame | None = None
    robustness: pd.DataFrame | None = None
    discovery: pd.DataFrame | None = None
    explore: Results | None = None

    @property
    def scenarios(self) -> list[str]:
        """The scenarios (an exploration's policies)."""
        if self.kind == "explore":
            return [str(p) for p in self.manifest.get("policies", [])]
        return [r.name for r in self.runs]

    @property
    def targets(self) -> list[str]:
        """An exploration's targets (``kpi>=X``) as last analysed."""
        return [str(t) for t in self.manifest.get("targets") or []]

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """An exploration's uncertain columns and the ranges they were sampled from (a mix's
        shares: 0 to 1)."""
        out: dict[str, tuple[float, float]] = {}
        for u in self.manifest.get("uncertain") or []:
            parts = u.get("parts") or []
            for c in [f"{u['key']}.{p}" for p in parts] or [u["key"]]:
                out[c] = (0.0, 1.0) if parts else (float(u["low"]), float(u["high"]))
        return out

    @cached_property
    def replications(self) -> pd.DataFrame:
        """KPIs of every replication of every scenario, with a ``scenario`` column."""
        return _stack([r.replications for r in self.runs], [r.name for r in self.runs])

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Monthly time series of every replication of every scenario (``scenario`` column)."""
        return _stack([r.timeseries for r in self.runs], [r.name for r in self.runs])

    @property
    def seed(self) -> Any:
        return self.manifest.get("seed", self.runs[0].manifest.get("seed") if self.runs else None)

    @property
    def command(self) -> str | None:
        cmd = self.manifest.get("command")
        if cmd is None and self.runs:
            cmd = self.runs[0].manifest.get("command")
        return None if cmd is None else str(cmd)

    @property
    def vary(self) -> dict[str, list[Any]]:
        """The swept parameters and their values (sweep folders only)."""
        if self.sweep is None:
            return {}
        return {c: list(dict.fromkeys(self.sweep[c].dropna().tolist()))
                for c in self.design_columns}


def _stack(frames: list[pd.DataFrame], names: list[str]) -> pd.DataFrame:
    out = []
    for frame, name in zip(frames, names, strict=True):
        f = frame.copy()
        f["scenario"] = name  # the compare order's name wins over what a file says
        out.append(f)
    if not out:
        return pd.DataFrame()
    return pd.concat(out, ignore_index=True)


def load_analysis(path: str | Path) -> AnalysisData:
    """Load a run, compare, sweep or explore folder for plotting and reporting."""
    root = Path(path)
    res = load_results(root)
    if res.kind == "run":
        name = str(res.manifest.get("scenario") or root.name)
        return AnalysisData(root, "run", [RunData(name, res)], dict(res.manifest))
    if res.kind == "compare":
        names = [str(n) for n in res.manifest.get("scenarios", [])]
        runs = [RunData(n, res.member(n)) for n in names]
        return AnalysisData(root, "compare", runs, dict(res.manifest), comparison=res.summary)
    if res.kind == "sweep":
        sweep = res.replications
        columns = [str(c) for c in res.manifest.get("vary", {})]
        missing = [c for c in columns if c not in sweep.columns]
        if missing or not columns:
            raise UserError(f"{root / 'sweep.parquet'}: design columns missing: "
                            f"{', '.join(missing) or '(manifest.json has no vary)'}")
        name = str(res.manifest.get("scenario") or root.name)
        return AnalysisData(root, "sweep", [RunData(name, res)], dict(res.manifest),
                            sweep=sweep, design_columns=columns)
    if res.kind == "explore":
        if not (root / "robustness.csv").is_file():
            raise UserError(f"{root / 'robustness.csv'}: missing; run the same explore command "
                            "again to finish the analysis")
        return AnalysisData(root, "explore", [], dict(res.manifest), futures=res.futures,
                            robustness=res.summary, discovery=res.discovery, explore=res)
    raise UserError(f"{root}: unknown kind of results folder '{res.kind}'")
