"""Figures of a results folder, one module per kind; every plot function takes DataFrames and
an optional ``ax`` (or ``axes`` for multi-panel kinds) and returns the figure, never shows it.

>>> from simsource.analysis.plots import load_analysis, render, save   # doctest: +SKIP
>>> data = load_analysis("results/nacka")
>>> save(render(data, "funnel"), "funnel.png")

Kinds: ``funnel``, ``distributions``, ``timeseries``, ``costs``, ``ambition``, ``leadtime``
(run and compare folders), ``sweep``, ``transfer`` (sweep folders; ``ambition`` too when
the sweep varies the ambition) and ``robustness``, ``tradeoff``, ``discovery`` (explore
folders).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from simsource.analysis.kinds import KIND_TEXTS
from simsource.analysis.plots._common import add_overload_note
from simsource.analysis.plots.ambition import ambition_plot
from simsource.analysis.plots.costs import costs_plot
from simsource.analysis.plots.data import AnalysisData, RunData, load_analysis
from simsource.analysis.plots.distributions import distributions_plot, leadtime_plot
from simsource.analysis.plots.explore import (
    discovery_plot,
    robustness_plot,
    target_kpis,
    tradeoff_plot,
)
from simsource.analysis.plots.funnel import funnel_plot
from simsource.analysis.plots.sweep import (
    sweep_plot,
    transfer_applies,
    transfer_plot,
    varies,
)
from simsource.analysis.plots.timeseries import timeseries_plot
from simsource.errors import UserError

__all__ = ["KINDS", "AnalysisData", "RunData", "applicable_kinds", "load_analysis", "plot_all",
           "render", "save"]

FORMATS = (".png", ".svg")


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    applies: Callable[[AnalysisData], bool]
    draw: Callable[[AnalysisData, Sequence[str] | None, str | None], Figure]


def _has(data: AnalysisData, *columns: str) -> bool:
    if data.kind == "sweep" or not data.runs:
        return False
    reps = data.replications
    return all(c in reps.columns for c in columns)


def _funnel(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    return funnel_plot(data.replications, data.scenarios)


def _distributions(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    return distributions_plot(data.replications, kpis, data.scenarios)


def _timeseries(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    return timeseries_plot(data.timeseries, data.scenarios)


def _costs(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    return costs_plot(data.replications, data.scenarios)


def _leadtime(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    return leadtime_plot(data.replications, data.scenarios)


def sweep_as_scenarios(data: AnalysisData, x: str | None = None) -> tuple[pd.DataFrame,
                                                                          list[str]]:
    """The sweep's replications with a ``scenario`` column naming each design point."""
    assert data.sweep is not None
    df = data.sweep.copy()
    varying = [c for c in data.design_columns if varies(df[c])] or list(
        data.design_columns)
    df["scenario"] = [", ".join(f"{c.rsplit('.', 1)[-1]}={row[c]}" for c in varying)
                      for _, row in df[varying].iterrows()]
    order = list(dict.fromkeys(df.sort_values(varying)["scenario"]))
    return df, order


def _ambition(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    if data.kind == "sweep":
        df, order = sweep_as_scenarios(data, x)
        return ambition_plot(df, order)
    return ambition_plot(data.replications, data.scenarios)


def _sweep(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    assert data.sweep is not None
    return sweep_plot(data.sweep, data.design_columns, kpis, x)


def _transfer(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    assert data.sweep is not None
    return transfer_plot(data.sweep, data.design_columns)


def _transfer_applies(data: AnalysisData) -> bool:
    return transfer_applies(data.sweep, data.design_columns)


def _robustness(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    assert data.robustness is not None
    return robustness_plot(data.robustness)


def _tradeoff(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    assert data.futures is not None
    chosen = list(kpis or ()) or [*target_kpis(data.targets)[:1], "cost_total_msek_per_year"]
    return tradeoff_plot(data.futures, chosen, data.targets)


def _discovery(data: AnalysisData, kpis: Sequence[str] | None, x: str | None) -> Figure:
    assert data.discovery is not None
    return discovery_plot(data.discovery, data.ranges)


def _ambition_applies(data: AnalysisData) -> bool:
    if data.kind == "sweep":  # useful on a sweep only when the ambition itself varies
        return (data.sweep is not None
                and {"innovations_per_year", "ambition_innovations_per_year"} <= set(data.sweep)
                and varies(data.sweep["ambition_innovations_per_year"]))
    return _has(data, "innovations_per_year", "ambition_innovations_per_year")


_DRAW: dict[str, tuple[Callable[[AnalysisData], bool],
                       Callable[[AnalysisData, Sequence[str] | None, str | None], Figure]]] = {
    "funnel": (lambda d: _has(d, "funnel_in_screening_per_year"), _funnel),
    "distributions": (lambda d: _has(d, "innovations_per_year"), _distributions),
    "timeseries": (lambda d: d.kind != "sweep" and bool(d.runs) and not d.timeseries.empty,
                   _timeseries),
    "costs": (lambda d: _has(d, "cost_total_msek_per_year"), _costs),
    "ambition": (_ambition_applies, _ambition),
    "leadtime": (lambda d: _has(d, "lead_time_days_median", "lead_time_days_p90"), _leadtime),
    "sweep": (lambda d: d.kind == "sweep" and d.sweep is not None, _sweep),
    "transfer": (_transfer_applies, _transfer),
    "robustness": (lambda d: d.kind == "explore", _robustness),
    "tradeoff": (lambda d: d.kind == "explore", _tradeoff),
    "discovery": (lambda d: d.kind == "explore" and d.discovery is not None
                  and not d.discovery.empty, _discovery),
}
KINDS: dict[str, Kind] = {name: Kind(name, what, *_DRAW[name])
                          for name, what in KIND_TEXTS.items()}


def applicable_kinds(data: AnalysisData) -> list[str]:
    """The kinds that make sense for this folder, in :data:`KINDS` order."""
    return [name for name, k in KINDS.items() if k.applies(data)]


def render(data: AnalysisData, kind: str, kpis: Sequence[str] | None = None,
           x: str | None = None) -> Figure:
    """The figure of one kind (``kpis`` for ``distributions``/``sweep``; ``x`` for sweeps),
    with the overload warning under it when a scenario (or design point) is overloaded."""
    if kind not in KINDS:
        raise UserError(f"unknown plot kind '{kind}' (choose from {', '.join(KINDS)})")
    if not KINDS[kind].applies(data):
        raise UserError(f"{data.path}: plot kind '{kind}' does not apply to this {data.kind} "
                        f"folder (applicable: {', '.join(applicable_kinds(data)) or 'none'})")
    if x is not None and data.kind == "sweep" and x not in data.design_columns:
        raise UserError(f"--x {x}: not a swept parameter (swept: "
                        f"{', '.join(data.design_columns)})")
    if data.kind == "explore" and data.futures is not None:
        columns = data.futures.columns
    elif data.kind == "sweep" and data.sweep is not None:
        columns = data.sweep.columns
    else:
        columns = data.replications.columns
    unknown = [k for k in kpis or () if k not in columns]
    if unknown:
        raise UserError(f"unknown KPI: {', '.join(unknown)} (not a column of the results)")
    fig = KINDS[kind].draw(data, kpis, x)
    if data.kind == "sweep":
        frame, order = sweep_as_scenarios(data, x)
        add_overload_note(fig, frame, order)
    elif data.kind == "explore" and data.futures is not None:
        add_overload_note(fig, data.futures, data.scenarios, by="policy")
    else:
        add_overload_note(fig, data.replications, data.scenarios)
    return fig


def check_format(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise UserError(f"{path}: write .png or .svg (the format follows the extension)")


def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG or SVG (by extension), rendered with the Agg backend."""
    from simsource.experiment.folders import claim_output

    p = Path(path)
    check_format(p)
    claim_output(p)  # recorded in its results folder (a user's file there is refused)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=dpi, metadata=_metadata(p))
    return p


def _metadata(p: Path) -> dict[str, str | None]:
    # no creation dates: the same results give byte-identical figures
    if p.suffix.lower() == ".svg":
        return {"Date": None, "Creator": "simsource"}
    return {"Software": "simsource"}


def plot_all(data: AnalysisData, out_dir: str | Path | None = None) -> list[Path]:
    """Every applicable kind as ``<out_dir>/<kind>.png`` (default ``RESULTS/plots``)."""
    out = Path(out_dir) if out_dir is not None else data.path / "plots"
    written = []
    for kind in applicable_kinds(data):
        written.append(save(render(data, kind), out / f"{kind}.png"))
    return written
