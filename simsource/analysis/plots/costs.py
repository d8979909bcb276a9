"""``costs``: yearly cost per scenario stacked by component, with the benefit beside it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource import formatting
from simsource.analysis.plots._common import mean_ci, new_axes, values, wrap
from simsource.analysis.plots.labels import COST_PARTS

COST_COLOURS: tuple[str, ...] = ("#4C72B0", "#8172B3", "#CCB974", "#DD8452", "#64B5CD",
                                 "#8C8C8C", "#937860", "#DA8BC3")
BENEFIT_COLOUR = "#55A868"


def cost_means(replications: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean of each cost component, total and benefit per scenario (rows) with 95 % CIs of
    ``cost_total_msek_per_year`` and ``benefit_msek_per_year`` (``*_ci_low``/``*_ci_high``)."""
    rows = []
    for s in scenarios:
        sub = replications[replications["scenario"] == s]
        row: dict[str, float | str] = {"scenario": s}
        for col, _ in COST_PARTS:
            v = values(sub, col)
            row[col] = float(v.mean()) if v.size else 0.0
        for col in ("cost_total_msek_per_year", "benefit_msek_per_year"):
            m, lo, hi = mean_ci(values(sub, col))
            row[col], row[f"{col}_ci_low"], row[f"{col}_ci_high"] = m, lo, hi
        rows.append(row)
    return pd.DataFrame(rows).set_index("scenario")


def _err(m: float, lo: float, hi: float) -> list[list[float]] | None:
    if math.isnan(lo):
        return None
    return [[m - lo], [hi - m]]


def costs_plot(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
               ax: Axes | None = None) -> Figure:
    """Per scenario a stacked bar of mean yearly costs and a green benefit bar to its right.

    Segment heights are the mean of each component over replications (MSEK/year); the error
    bars on top are the 95 % CI of the total cost and of the benefit. Stacked segments carry the
    gid ``cost:<scenario>:<kpi>``, benefit bars ``benefit:<scenario>``.
    """
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(replications["scenario"]))
    means = cost_means(replications, names)
    fig, ax = new_axes(ax, (max(7.0, 3.0 + 2.0 * len(names)), 5.2))
    x = np.arange(len(names), dtype=np.float64)
    w = 0.38
    bottom = np.zeros(len(names))
    for (col, label), c in zip(COST_PARTS, COST_COLOURS, strict=True):
        h = means[col].to_numpy(dtype=np.float64)
        if not np.any(h > 0):
            continue  # a component that is zero everywhere only clutters the legend
        bars = ax.bar(x - w / 2, h, w, bottom=bottom, color=c, label=label, edgecolor="white",
                      linewidth=0.6)
        for bar, s in zip(bars, names, strict=True):
            bar.set_gid(f"cost:{s}:{col}")
        bottom += h
    for xi, s in zip(x, names, strict=True):
        r = dict(zip(means.columns.astype(str),
                     means.loc[[s]].to_numpy(dtype=np.float64)[0].tolist(), strict=True))
        tot = r["cost_total_msek_per_year"]
        ax.errorbar([xi - w / 2], [tot], yerr=_err(tot, r["cost_total_msek_per_year_ci_low"],
                                                    r["cost_total_msek_per_year_ci_high"]),
                    color="black", capsize=4, lw=1)
        ax.annotate(f"total {formatting.number(tot, 1)}", (xi - w / 2, tot), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=8)
        ben = r["benefit_msek_per_year"]
        (bar,) = ax.bar([xi + w / 2], [ben], w, color=BENEFIT_COLOUR, alpha=0.85,
                        label="Benefit of innovations" if xi == 0 else None)
        bar.set_gid(f"benefit:{s}")
        ax.errorbar([xi + w / 2], [ben], yerr=_err(ben, r["benefit_msek_per_year_ci_low"],
                                                    r["benefit_msek_per_year_ci_high"]),
                    color="black", capsize=4, lw=1)
        ax.annotate(f"benefit {formatting.number(ben, 1)}", (xi + w / 2, ben), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(x, [wrap(s, 20) for s in names])
    ax.set_ylabel("MSEK per year (mean over replications)")
    ax.set_title("Yearly cost by component (stacked) and benefit of implemented innovations\n"
                 "(error bars = 95 % CI of the total and of the benefit)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    tops = [bottom, means["benefit_msek_per_year"], means["cost_total_msek_per_year_ci_high"],
            means["benefit_msek_per_year_ci_high"]]
    top = max((float(np.nanmax(np.asarray(t, dtype=np.float64))) for t in tops
               if np.isfinite(np.asarray(t, dtype=np.float64)).any()), default=1.0)
    ax.set_ylim(0, max(top, 1.0) * 1.15)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
