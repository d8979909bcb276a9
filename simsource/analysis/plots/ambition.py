"""``ambition``: the whitepaper's Fig. 6 — innovation ambition against realised capacity."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource import formatting
from simsource.analysis.plots._common import colour, mean_ci, new_axes, values

AMBITION = "ambition_innovations_per_year"
CAPACITY = "innovations_per_year"
ABOVE = "capacity exceeds ambition"
BELOW = "ambition exceeds capacity"


def ambition_points(replications: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Per scenario: mean ambition and mean innovations per year, each with its 95 % CI."""
    rows = []
    for s in scenarios:
        sub = replications[replications["scenario"] == s]
        a, alo, ahi = mean_ci(values(sub, AMBITION))
        c, clo, chi = mean_ci(values(sub, CAPACITY))
        rows.append({"scenario": s, "ambition": a, "ambition_low": alo, "ambition_high": ahi,
                     "capacity": c, "capacity_low": clo, "capacity_high": chi})
    return pd.DataFrame(rows)


def _err(m: float, lo: float, hi: float) -> list[list[float]] | None:
    return None if math.isnan(lo) else [[m - lo], [hi - m]]


def ambition_plot(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
                  ax: Axes | None = None) -> Figure:
    """Each scenario as a point (x: ambition, y: realised innovations per year) with 95 % CI
    bars, the diagonal where capacity matches ambition (gid ``ambition:diagonal``) and the two
    regions labelled. Points carry the gid ``ambition:<scenario>``."""
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(replications["scenario"]))
    pts = ambition_points(replications, names)
    fig, ax = new_axes(ax, (7.0, 7.2))
    finite = pts[["ambition_high", "capacity_high", "ambition", "capacity"]].to_numpy(
        dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    lim = max(float(finite.max()) * 1.35 if finite.size else 1.0, 1.0)
    ax.fill_between([0, lim], [0, lim], [lim, lim], color="#009E73", alpha=0.07, lw=0)
    ax.fill_between([0, lim], [0, 0], [0, lim], color="#D55E00", alpha=0.07, lw=0)
    (diag,) = ax.plot([0, lim], [0, lim], color="grey", ls="--", lw=1.2,
                      label="matched: capacity = ambition")
    diag.set_gid("ambition:diagonal")
    ax.text(0.05 * lim, 0.93 * lim, ABOVE.capitalize() + "\n(room for more ambition)",
            va="top", ha="left", fontsize=10, color="#006644")
    ax.text(0.95 * lim, 0.05 * lim, BELOW.capitalize() + "\n(targets out of reach)",
            va="bottom", ha="right", fontsize=10, color="#993300")
    for i, r in pts.iterrows():
        if not (math.isfinite(r["ambition"]) and math.isfinite(r["capacity"])):
            continue
        idx = int(i)  # type: ignore[call-overload]
        c = colour(idx)
        cont = ax.errorbar([r["ambition"]], [r["capacity"]],
                           xerr=_err(r["ambition"], r["ambition_low"], r["ambition_high"]),
                           yerr=_err(r["capacity"], r["capacity_low"], r["capacity_high"]),
                           fmt="o", ms=8, color=c, capsize=5, lw=1.5,
                           label=f"{r['scenario']}: {formatting.number(r['capacity'], 1)} of "
                                 f"{formatting.number(r['ambition'])}")
        cont.lines[0].set_gid(f"ambition:{r['scenario']}")
        if len(pts) <= 4:  # more points: the legend names them
            ax.annotate(str(r["scenario"]), (r["ambition"], r["capacity"]),
                        xytext=(8, 4 + 10 * (idx % 3)), textcoords="offset points", fontsize=8,
                        color=c)
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("Innovation ambition (target innovations per year)")
    ax.set_ylabel("Innovation capacity (realised innovations per year)")
    ax.set_title("Ambition vs capacity (whitepaper Fig. 6)\nmean with 95 % CI per scenario")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2)
    return fig
