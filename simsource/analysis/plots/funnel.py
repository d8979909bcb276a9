"""``funnel``: ideas entering and passing each funnel stage per year (the whitepaper's Fig. 5)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource import formatting
from simsource.analysis.plots._common import colour, mean_ci, new_axes, values
from simsource.analysis.plots.labels import STAGE_LABELS
from simsource.model.core import STAGES


def funnel_flows(replications: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean and 95 % CI of the yearly flow into and out of each stage, per scenario.

    Columns: scenario, stage, direction (``in``/``out``), mean, ci_low, ci_high.
    """
    rows = []
    for s in scenarios:
        sub = replications[replications["scenario"] == s]
        for stage in STAGES:
            for direction in ("in", "out"):
                m, lo, hi = mean_ci(values(sub, f"funnel_{direction}_{stage}_per_year"))
                rows.append({"scenario": s, "stage": stage, "direction": direction,
                             "mean": m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def funnel_plot(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
                ax: Axes | None = None) -> Figure:
    """Grouped bars per stage: for each scenario, ideas entering (light) and passing (solid).

    Bar heights are the mean flows per year over replications (written above each bar); error
    bars are 95 % CIs. Each bar carries the gid ``funnel:<scenario>:<in|out>:<stage>``.
    """
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(replications["scenario"]))
    flows = funnel_flows(replications, names)
    fig, ax = new_axes(ax, (max(8.0, 2.2 + 1.6 * len(names) * 1.3), 5.2))
    n = len(names)
    group = 0.84
    width = group / (2 * n)
    x0 = np.arange(len(STAGES), dtype=np.float64)
    top = 0.0
    for i, s in enumerate(names):
        c = colour(i)
        for j, direction in enumerate(("in", "out")):
            sub = flows[(flows["scenario"] == s) & (flows["direction"] == direction)]
            sub = sub.set_index("stage").loc[list(STAGES)]
            heights = sub["mean"].to_numpy(dtype=np.float64)
            lo = sub["ci_low"].to_numpy(dtype=np.float64)
            hi = sub["ci_high"].to_numpy(dtype=np.float64)
            err = np.vstack([heights - lo, hi - heights])
            err = np.where(np.isfinite(err), err, 0.0)
            x = x0 - group / 2 + (2 * i + j + 0.5) * width
            label = f"{s}: {'entering' if direction == 'in' else 'passing'}"
            bars = ax.bar(x, np.nan_to_num(heights), width, yerr=err, capsize=2,
                          color=c, alpha=0.35 if direction == "in" else 0.95,
                          edgecolor=c, linewidth=1.0, label=label,
                          hatch="//" if direction == "in" else None,
                          error_kw={"elinewidth": 0.8, "ecolor": "#333333"})
            for bar, stage in zip(bars, STAGES, strict=True):
                bar.set_gid(f"funnel:{s}:{direction}:{stage}")
            top = max(top, float(np.nanmax(hi)) if np.isfinite(hi).any() else 0.0,
                      float(np.nanmax(heights)) if np.isfinite(heights).any() else 0.0)
            for xi, h, up in zip(x, heights, hi, strict=True):
                if math.isfinite(h):
                    ax.annotate(formatting.number(h),
                                (xi, up if math.isfinite(up) else h),
                                xytext=(0, 2), textcoords="offset points", ha="center",
                                va="bottom", fontsize=7, color="#333333")
    ax.set_xticks(x0, [STAGE_LABELS[s] for s in STAGES])
    ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    ax.set_ylabel("Ideas per year (mean over replications)")
    ax.set_xlabel("Funnel stage (ideas → screening → matching → decision → project → "
                  "implemented)")
    ax.set_title("Innovation funnel: ideas entering and passing each stage per year\n"
                 "(hatched = entering, solid = passed on; error bars = 95 % CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, ncols=min(n, 3), loc="upper right")
    return fig
