"""Figures of a calibration (``simsource calibrate``): prior against posterior marginals, and
each fact's observation against its prior and posterior predictions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import colour, grid, note_no_data
from simsource.analysis.plots.labels import parameter_label

PRIOR = "#bbbbbb"
OBSERVED = colour(1)
POSTERIOR = colour(0)


def plot_marginals(summary: Mapping[str, Any], evaluations: pd.DataFrame,
                   axes: Sequence[Axes] | None = None, bins: int = 20) -> Figure:
    """One panel per parameter: the uniform prior, the weighted posterior histogram, the
    posterior's 90 % interval and the scenario's own value."""
    params = list(summary["params"])
    fig, axs = grid(max(1, len(params)), 3, panel=(4.0, 2.8), axes=axes)
    accepted = evaluations[evaluations["weight"] > 0]
    for ax, p in zip(axs, params, strict=False):
        lo, hi = float(p["prior"]["lower"]), float(p["prior"]["upper"])
        edges = np.linspace(lo, hi, bins + 1)
        ax.fill_between([lo, hi], [1 / (hi - lo)] * 2, color=PRIOR, alpha=0.5, label="prior",
                        step="mid")
        if len(accepted):
            ax.hist(accepted[p["key"]], bins=edges.tolist(), weights=accepted["weight"],
                    density=True, color=POSTERIOR, alpha=0.75, label="posterior")
            ax.axvspan(_num(p["posterior"], "q05"), _num(p["posterior"], "q95"),
                       color=POSTERIOR, alpha=0.08, label="posterior 90 %")
        if math.isfinite(_num(p, "scenario_value")):
            ax.axvline(_num(p, "scenario_value"), color="black", lw=1, ls="--",
                       label="scenario value")
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
        ax.set_title(parameter_label(p["key"]), fontsize=9)
    if not params:
        note_no_data(axs[0], "no parameters")
    handles, labels = axs[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle(f"Calibration of {summary['scenario']}: prior and posterior "
                 f"({summary['accepted']} of {summary['candidates']} candidates accepted)",
                 fontsize=10)
    return fig


def _num(q: Mapping[str, Any], key: str) -> float:
    """A number of calibration.json (null, i.e. undefined, as NaN)."""
    v = q.get(key)
    return math.nan if v is None else float(v)


def _interval(ax: Axes, y: float, q: Mapping[str, Any], colour_: str, lw: float,
              label: str) -> None:
    lo, hi, mid = _num(q, "q05"), _num(q, "q95"), _num(q, "q50")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    ax.plot([lo, hi], [y, y], color=colour_, lw=lw, solid_capstyle="butt", label=label)
    if math.isfinite(mid):
        ax.plot([mid], [y], "o", color=colour_, ms=4)


def plot_facts(summary: Mapping[str, Any], axes: Sequence[Axes] | None = None) -> Figure:
    """One panel per fact: the observation (band, or the allowed side of a bound) against the
    prior and posterior predictive 90 % intervals of one history, and the posterior interval
    of the mean (parameter uncertainty alone)."""
    facts = list(summary["facts"])
    fig, axs = grid(max(1, len(facts)), 2, panel=(5.0, 1.9), axes=axes)
    for ax, f in zip(axs, facts, strict=False):
        lo = f["lower"] if f["lower"] is not None else -math.inf
        hi = f["upper"] if f["upper"] is not None else math.inf
        _interval(ax, 2.0, f["prior_predictive"], PRIOR, 6, "prior predictive 90 %")
        _interval(ax, 1.0, f["posterior_predictive"], POSTERIOR, 6, "posterior predictive 90 %")
        _interval(ax, 0.0, f["posterior_mean_interval"], "#004c7a", 3, "posterior mean 90 %")
        xmin, xmax = ax.get_xlim()
        for bound in (lo, hi):  # show where a bound lies, also one-sided
            if math.isfinite(bound):
                pad = 0.05 * max(xmax - xmin, abs(bound) * 0.1, 1e-9)
                xmin, xmax = min(xmin, bound - pad), max(xmax, bound + pad)
        ax.axvspan(max(lo, xmin) if math.isfinite(lo) else xmin,
                   min(hi, xmax) if math.isfinite(hi) else xmax, color=OBSERVED, alpha=0.25,
                   label="observed")
        for edge in (f.get("value"), f["lower"], f["upper"]):
            if edge is not None:
                ax.axvline(edge, color=OBSERVED, lw=1.5 if edge == f.get("value") else 0.8)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(-0.7, 2.7)
        ax.set_yticks([0, 1, 2], ["mean", "posterior", "prior"], fontsize=8)
        what = f["kpi"] if f["baseline"] is None else \
            f"{f['kpi']}: {f['statistic']} vs {f['baseline']}"
        held = "" if f["used"] else " (held back: predicted)"
        ax.set_title(f"{f['name']}{held}: observed {f['observed']}\n{what}", fontsize=8)
    if not facts:
        note_no_data(axs[0], "no facts")
    handles, labels = axs[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
    title = summary.get("facts_title") or "The facts"
    fig.suptitle(f"{title}: observed, and predicted before and after calibrating "
                 f"{summary['scenario']}", fontsize=10)
    return fig
