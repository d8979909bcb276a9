"""``timeseries``: WIP per stage and coordinator load by work type over the simulated months.

Each line is the median over replications with a shaded 5–95 % envelope; the warm-up months
(not counted in the KPIs) are shaded grey.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import (
    PALETTE,
    WARMUP_COLOUR,
    colour,
    grid,
    new_axes,
    note_no_data,
)
from simsource.analysis.plots.labels import STAGE_LABELS, WORK_LABELS
from simsource.model.core import OPS_KINDS

WIP_COLUMNS: dict[str, str] = {f"wip_{s}": label for s, label in STAGE_LABELS.items()}
LOAD_COLUMNS: dict[str, str] = {f"load_{w}": label for w, label in WORK_LABELS.items()}


def envelope(ts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per month: median, 5 % and 95 % quantile of ``column`` over replications."""
    g = ts.groupby("month")[column]
    out = pd.DataFrame({"q05": g.quantile(0.05), "median": g.median(), "q95": g.quantile(0.95)})
    return out.sort_index()


def warmup_months(ts: pd.DataFrame) -> list[int]:
    if "warmup" not in ts.columns:
        return []
    w = ts.groupby("month")["warmup"].max()
    return [int(m) for m in w.index[w.to_numpy(dtype=np.float64) > 0.5]]


def timeseries_panel(ts: pd.DataFrame, columns: dict[str, str], ax: Axes, *,
                     percent: bool = False, skip_zero: bool = True) -> Axes:
    """Median line and 5–95 % band of each column (``{column: label}``) over months.

    Each line carries the gid ``ts:<column>``; with ``percent`` values are multiplied by 100.
    Columns that are zero throughout are left out when ``skip_zero``.
    """
    k = 100.0 if percent else 1.0
    warm = warmup_months(ts)
    if warm:
        ax.axvspan(min(warm) - 0.5, max(warm) + 0.5, color=WARMUP_COLOUR, alpha=0.6, lw=0,
                   label="warm-up (not in KPIs)")
    drawn = 0
    for i, (col, label) in enumerate(columns.items()):
        if col not in ts.columns:
            continue
        if skip_zero and not np.any(ts[col].to_numpy(dtype=np.float64) != 0):
            continue
        env = envelope(ts, col)
        x = env.index.to_numpy(dtype=np.float64)
        c = PALETTE[i % len(PALETTE)]
        ax.fill_between(x, env["q05"] * k, env["q95"] * k, color=c, alpha=0.18, lw=0)
        (line,) = ax.plot(x, env["median"] * k, color=c, lw=1.8, label=label)
        line.set_gid(f"ts:{col}")
        drawn += 1
    if not drawn:
        note_no_data(ax, ", ".join(columns))
    ax.set_xlabel("Month of simulated time (20 working days each)")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    return ax


def timeseries_plot(timeseries: pd.DataFrame, scenarios: Sequence[str] | None = None,
                    axes: Sequence[Axes] | None = None) -> Figure:
    """Two rows (WIP per stage; coordinator load by work type) and one column per scenario."""
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(timeseries["scenario"]))
    n = len(names)
    fig, axs = grid(2 * n, n, (5.0, 3.6), axes)
    wip_axes, load_axes = axs[:n], axs[n:]
    for s, a_wip, a_load in zip(names, wip_axes, load_axes, strict=True):
        sub = timeseries[timeseries["scenario"] == s]
        timeseries_panel(sub, WIP_COLUMNS, a_wip)
        a_wip.set_title(f"{s}: ideas in each stage (WIP)", fontsize=10)
        a_wip.set_ylabel("Ideas in stage (time average)")
        timeseries_panel(sub, LOAD_COLUMNS, a_load, percent=True)
        a_load.set_title(f"{s}: coordinator load by work", fontsize=10)
        a_load.set_ylabel("% of available coordinator time")
    if axes is None and n > 1:
        for row in (wip_axes, load_axes):
            top = max(a.get_ylim()[1] for a in row)
            for a in row:
                a.set_ylim(0, top)
    for row in (wip_axes, load_axes):
        row[-1].legend(fontsize=7, loc="upper right")
    reps = int(timeseries.groupby("scenario")["replication"].nunique().max()) if len(
        timeseries) else 0
    fig.suptitle(f"Over time: median over {reps} replications (line) with 5–95 % range (band)",
                 fontsize=11)
    return fig


#: coordinator work that serves operations (the sourcing logic): the model's own list, the one
#: ``operations_share_of_unit_effort`` sums
OPERATIONS_WORK: tuple[str, ...] = OPS_KINDS


def load_plot(timeseries: pd.DataFrame, scenarios: Sequence[str] | None = None,
              ax: Axes | None = None) -> Figure:
    """Coordinator load per month for each scenario: all work (solid) and its operations part
    (incident triage, supplier governance, change requests, transfer hand-offs; dashed), median over
    replications. Lines carry the gids ``load:<scenario>:all`` and ``load:<scenario>:ops``."""
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(timeseries["scenario"]))
    fig, ax = new_axes(ax, (8.0, 4.6))
    warm = warmup_months(timeseries)
    if warm:
        ax.axvspan(min(warm) - 0.5, max(warm) + 0.5, color=WARMUP_COLOUR, alpha=0.6, lw=0,
                   label="warm-up (not in KPIs)")
    loads = [c for c in LOAD_COLUMNS if c in timeseries.columns]
    ops = [f"load_{w}" for w in OPERATIONS_WORK if f"load_{w}" in timeseries.columns]
    for i, s in enumerate(names):
        sub = timeseries[timeseries["scenario"] == s]
        if sub.empty or not loads:
            continue
        frame = sub[["month"]].copy()
        frame["all"] = sub[loads].sum(axis=1)
        frame["ops"] = sub[ops].sum(axis=1) if ops else 0.0
        for col, style, what in (("all", "-", "all work"), ("ops", "--", "operations")):
            med = frame.groupby("month")[col].median().sort_index()
            (line,) = ax.plot(med.index.to_numpy(dtype=np.float64), med.to_numpy() * 100.0,
                              ls=style, lw=1.8 if col == "all" else 1.2, color=colour(i),
                              label=f"{s}: {what}")
            line.set_gid(f"load:{s}:{col}")
    if not loads:
        note_no_data(ax, "coordinator load")
    ax.set_ylim(0, 110)
    ax.set_xlabel("Month of simulated time (20 working days each)")
    ax.set_ylabel("% of available coordinator time")
    ax.set_title("Coordinator load: all work and its operations part")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return fig
