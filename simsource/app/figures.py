"""Small matplotlib figures of the teaching page: baseline against current setting.

Each function takes two :class:`~simsource.app.logic.BatchResult` (or their numbers) and returns
a :class:`matplotlib.figure.Figure` built without ``pyplot`` (no global state, safe in the web
server's threads). The full plot library for results folders is
:mod:`simsource.analysis.plots`; these are deliberately simpler and quick to draw.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from simsource.analysis.stats import mean_ci

if TYPE_CHECKING:
    from simsource.app.logic import BatchResult

BASE_COLOUR = "#9a9a9a"
CUR_COLOUR = "#0072B2"
OPS_COLOUR = "#D55E00"
SIZE = (5.6, 3.2)

FUNNEL_STEPS: tuple[tuple[str, str], ...] = (
    ("funnel_in_screening_per_year", "ideas"),
    ("funnel_out_screening_per_year", "screened"),
    ("funnel_out_matching_per_year", "matched"),
    ("funnel_out_decision_per_year", "funded"),
    ("funnel_out_project_per_year", "implemented"),
)
COSTS: tuple[tuple[str, str], ...] = (
    ("cost_operations_msek_per_year", "operations fees"),
    ("cost_coordination_msek_per_year", "coordinators"),
    ("cost_consultants_msek_per_year", "consultants"),
    ("cost_innovation_msek_per_year", "innovation projects"),
    ("cost_changes_msek_per_year", "changes"),
    ("cost_integration_msek_per_year", "integration"),
    ("cost_partnership_msek_per_year", "partnership"),
    ("cost_transfer_msek_per_year", "transfer"),
)
LOADS = ("load_triage", "load_governance", "load_project", "load_matching", "load_screening",
         "load_handoff")
OPS_LOADS = ("load_triage", "load_governance")


def _fig(size: tuple[float, float] = SIZE) -> Figure:
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    return fig


def _labels(base_label: str, cur_label: str) -> tuple[str, str]:
    return f"baseline: {base_label}", f"current: {cur_label}"


def funnel_figure(base: BatchResult, cur: BatchResult, base_label: str = "baseline",
                  cur_label: str = "current") -> Figure:
    """Ideas per year reaching each step of the funnel (Fig. 5), log scale."""
    fig = _fig()
    ax = fig.add_subplot()
    names = [label for _, label in FUNNEL_STEPS]
    x = np.arange(len(names))
    lb, lc = _labels(base_label, cur_label)
    for off, res, colour, label in ((-0.2, base, BASE_COLOUR, lb), (0.2, cur, CUR_COLOUR, lc)):
        vals = [res.mean(k) for k, _ in FUNNEL_STEPS]
        bars = ax.bar(x + off, vals, width=0.4, color=colour, label=label)
        ax.bar_label(bars, labels=[f"{v:.0f}" if not math.isnan(v) else "" for v in vals],
                     fontsize=7, padding=1)
    ax.set_yscale("log")
    ax.set_xticks(x, names)
    ax.set_ylabel("per year (log scale)")
    ax.set_title("The innovation funnel", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def load_figure(base: BatchResult, cur: BatchResult, base_label: str = "baseline",
                cur_label: str = "current") -> Figure:
    """Monthly coordinator load (share of available person-days): all work and the operations
    part (incident triage + supplier governance); the warm-up is shaded."""
    fig = _fig()
    ax = fig.add_subplot()
    lb, lc = _labels(base_label, cur_label)
    for res, colour, label, ls in ((base, BASE_COLOUR, lb, "--"), (cur, CUR_COLOUR, lc, "-")):
        ts = res.timeseries
        if ts.empty:
            continue
        month = ts["month"].to_numpy(dtype=np.float64) + 1
        total = ts[[c for c in LOADS if c in ts]].sum(axis=1).to_numpy(dtype=np.float64)
        ops = ts[[c for c in OPS_LOADS if c in ts]].sum(axis=1).to_numpy(dtype=np.float64)
        ax.plot(month, total * 100, color=colour, ls=ls, lw=1.8, label=f"{label}: all work")
        ax.plot(month, ops * 100, color=OPS_COLOUR if res is cur else BASE_COLOUR, ls=ls,
                lw=1.0, alpha=0.9, label=f"{label}: operations only")
    warm = max(base.warmup_days, cur.warmup_days) / 20.0
    if warm > 0:
        ax.axvspan(0.5, warm + 0.5, color="#eeeeee", zorder=0)
        ax.text(warm / 2 + 0.5, 2, "warm-up", ha="center", fontsize=7, color="#666666")
    ax.set_ylim(0, 110)
    ax.set_xlabel("month")
    ax.set_ylabel("% of coordinator time")
    ax.set_title("Coordinator load", fontsize=10)
    ax.legend(fontsize=6, loc="lower right")
    return fig


def cost_figure(base: BatchResult, cur: BatchResult, base_label: str = "baseline",
                cur_label: str = "current") -> Figure:
    """Yearly cost by component (MSEK), baseline and current side by side."""
    items = [(k, lab) for k, lab in COSTS
             if any((v := r.mean(k)) == v and abs(v) > 1e-9 for r in (base, cur))]
    fig = _fig((5.6, 0.5 + 0.45 * max(2, len(items))))
    ax = fig.add_subplot()
    y = np.arange(len(items))
    lb, lc = _labels(base_label, cur_label)
    for off, res, colour, label in ((0.2, base, BASE_COLOUR, lb), (-0.2, cur, CUR_COLOUR, lc)):
        vals = [0.0 if math.isnan(v := res.mean(k)) else v for k, _ in items]
        bars = ax.barh(y + off, vals, height=0.4, color=colour, label=label)
        ax.bar_label(bars, labels=[f"{v:.1f}" for v in vals], fontsize=7, padding=2)
    top = max([0.0, *(r.mean(k) for r in (base, cur) for k, _ in items if r.mean(k) == r.mean(k))])
    ax.set_xlim(0, top * 1.18 + 1e-9)
    ax.set_yticks(y, [lab for _, lab in items])
    ax.invert_yaxis()
    ax.set_xlabel("MSEK per year")
    ax.set_title("Costs", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def ambition_figure(base: BatchResult, cur: BatchResult, base_label: str = "baseline",
                    cur_label: str = "current") -> Figure:
    """The whitepaper's Fig. 6: innovation ambition (target) against realised capacity
    (innovations per year, 95 % CI)."""
    fig = _fig((5.6, 4.0))
    ax = fig.add_subplot()
    pts = []
    lb, lc = _labels(base_label, cur_label)
    for res, colour, label, marker in ((base, BASE_COLOUR, lb, "s"),
                                       (cur, CUR_COLOUR, lc, "o")):
        amb = res.mean("ambition_innovations_per_year")
        ci = mean_ci(res.kpis["innovations_per_year"]) if "innovations_per_year" in res.kpis \
            else None
        if ci is None or math.isnan(amb):
            continue
        err = None if math.isnan(ci.low) else [[ci.mean - ci.low], [ci.high - ci.mean]]
        ax.errorbar([amb], [ci.mean], yerr=err, fmt=marker, color=colour, ms=8, capsize=4,
                    label=label)
        pts += [amb, ci.high if not math.isnan(ci.high) else ci.mean]
    lim = max([*pts, 1.0]) * 1.3
    ax.fill_between([0, lim], [0, 0], [0, lim], color=OPS_COLOUR, alpha=0.07, lw=0)
    ax.fill_between([0, lim], [0, lim], [lim, lim], color="#009E73", alpha=0.07, lw=0)
    ax.plot([0, lim], [0, lim], color="grey", ls="--", lw=1)
    ax.text(0.97 * lim, 0.05 * lim, "ambition beyond\ncapacity", ha="right", fontsize=8,
            color=OPS_COLOUR)
    ax.text(0.04 * lim, 0.92 * lim, "capacity to spare", ha="left", fontsize=8,
            color="#007a5a")
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("ambition (innovations / year wanted)")
    ax.set_ylabel("capacity (innovations / year realised)")
    ax.set_title("Ambition vs capacity (Fig. 6)", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=1)
    return fig
