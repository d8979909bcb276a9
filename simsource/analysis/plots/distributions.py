"""``distributions`` and ``leadtime``: each scenario's Monte Carlo distribution of a KPI."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import (
    box_points,
    colour,
    grid,
    new_axes,
    note_no_data,
    scale,
    values,
    wrap,
)
from simsource.analysis.plots.labels import title as kpi_title
from simsource.analysis.plots.labels import unit_label
from simsource.model import catalogue


def _names(replications: pd.DataFrame, scenarios: Sequence[str] | None) -> list[str]:
    if scenarios is not None:
        return list(scenarios)
    return list(dict.fromkeys(replications["scenario"]))


def distribution_plot(replications: pd.DataFrame, kpi: str,
                      scenarios: Sequence[str] | None = None, ax: Axes | None = None,
                      title: str | None = None) -> Figure:
    """One box per scenario with every replication as a dot and the mean with its 95 % CI.

    Shares are drawn in percent. Scenarios without a finite value get an empty slot.
    """
    names = _names(replications, scenarios)
    fig, ax = new_axes(ax, (1.6 + 1.5 * len(names), 4.5))
    k = scale(kpi)
    samples = [values(replications[replications["scenario"] == s], kpi) * k for s in names]
    if not any(s.size for s in samples):
        note_no_data(ax, kpi)
    box_points(ax, samples, [wrap(s) for s in names], [colour(i) for i in range(len(names))],
               keys=names)
    ax.set_ylabel(unit_label(kpi))
    ax.set_title(title or kpi_title(kpi), fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    return fig


def distributions_plot(replications: pd.DataFrame, kpis: Sequence[str] | None = None,
                       scenarios: Sequence[str] | None = None,
                       axes: Sequence[Axes] | None = None) -> Figure:
    """A grid with one :func:`distribution_plot` per KPI (default: the catalogue's headline KPIs
    that have a value)."""
    names = _names(replications, scenarios)
    chosen = list(kpis) if kpis else [k for k in catalogue.names("headline")
                                      if values(replications, k).size]
    ncols = 1 if len(chosen) == 1 else 2 if len(chosen) <= 8 else 3
    fig, axs = grid(len(chosen), ncols, (max(4.2, 1.3 + 1.05 * len(names)), 3.3), axes)
    for kpi, ax in zip(chosen, axs, strict=True):
        distribution_plot(replications, kpi, names, ax)
    n = int(replications.groupby("scenario").size().max()) if len(replications) else 0
    fig.suptitle(f"Monte Carlo distributions over {n} replications per scenario\n"
                 "box = quartiles and median, dots = replications, ◆ = mean with 95 % CI",
                 fontsize=11)
    return fig


def leadtime_plot(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
                  axes: Sequence[Axes] | None = None) -> Figure:
    """Median and 90th-percentile idea → implementation lead time per replication, per scenario."""
    names = _names(replications, scenarios)
    fig, axs = grid(2, 2, (max(4.2, 1.6 + 1.4 * len(names)), 4.4), axes, sharey=axes is None)
    distribution_plot(replications, "lead_time_days_median", names, axs[0],
                      title="Median lead time (half of the ideas are faster)")
    distribution_plot(replications, "lead_time_days_p90", names, axs[1],
                      title="90th percentile (9 in 10 ideas are faster)")
    axs[1].tick_params(axis="y", labelleft=True)
    fig.suptitle("Lead time from idea to implementation, in working days "
                 "(one dot per replication; ◆ = mean with 95 % CI)", fontsize=11)
    return fig
