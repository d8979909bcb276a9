"""The teaching page's figures: baseline against current, drawn by :mod:`simsource.analysis.plots`.

The page shows the same figures as ``simsource plot`` and the report (funnel, coordinator load,
costs, ambition map), each drawn into a small figure of the page's size: this module only turns
two batches into the tables those plot functions read (one ``scenario`` per batch) and adds the
overload note. Figures are built without ``pyplot`` (no global state, safe in the web
server's threads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import add_overload_note
from simsource.analysis.plots.ambition import ambition_plot
from simsource.analysis.plots.costs import costs_plot
from simsource.analysis.plots.funnel import funnel_plot
from simsource.analysis.plots.timeseries import load_plot

SIZE = (6.0, 3.8)


class Batch(Protocol):
    """What the figures need of a batch: KPIs per replication and its monthly time series."""

    @property
    def kpis(self) -> pd.DataFrame: ...

    @property
    def timeseries(self) -> pd.DataFrame: ...


def names(base_label: str, cur_label: str) -> list[str]:
    """The two "scenarios" of a page figure (distinct even when the labels agree)."""
    a, b = f"baseline: {base_label}", f"current: {cur_label}"
    return [a, b]


def _stack(frames: list[pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    out = []
    for frame, label in zip(frames, labels, strict=True):
        f = frame.reset_index() if frame.index.name == "replication" else frame.copy()
        f["scenario"] = label
        out.append(f)
    return pd.concat(out, ignore_index=True)


def replications(base: Batch, cur: Batch, base_label: str = "baseline",
                 cur_label: str = "current") -> tuple[pd.DataFrame, list[str]]:
    """Both batches' KPIs in one table with a ``scenario`` column, and the two names."""
    labels = names(base_label, cur_label)
    return _stack([base.kpis, cur.kpis], labels), labels


def _draw(plot: Callable[[pd.DataFrame, list[str], Axes], Figure], frame: pd.DataFrame,
          labels: list[str], title: str, size: tuple[float, float] = SIZE) -> Figure:
    """``plot`` drawn into one axes of a page-sized figure, with a title short enough for it
    (the page's caption says the rest)."""
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    plot(frame, labels, ax)
    ax.set_title(title, fontsize=10)
    return fig


def funnel_figure(base: Batch, cur: Batch, base_label: str = "baseline",
                  cur_label: str = "current") -> Figure:
    """Ideas entering and passing each funnel stage per year (Fig. 5)."""
    reps, labels = replications(base, cur, base_label, cur_label)
    fig = _draw(funnel_plot, reps, labels, "The innovation funnel (Fig. 5)")
    ax = fig.axes[0]
    ax.set_xlabel("")
    # four legend entries would cover the bars of a page-sized figure: put them under it
    ax.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    add_overload_note(fig, reps, labels)
    return fig


def load_figure(base: Batch, cur: Batch, base_label: str = "baseline",
                cur_label: str = "current") -> Figure:
    """Monthly coordinator load: all work and its operations part; warm-up shaded."""
    labels = names(base_label, cur_label)
    frames = [b.timeseries for b in (base, cur)]
    if all(f.empty for f in frames):
        ts = pd.DataFrame({"scenario": pd.Series(dtype=str), "month": pd.Series(dtype=float)})
    else:
        ts = _stack(frames, labels)
    return _draw(load_plot, ts, labels, "Coordinator load")


def cost_figure(base: Batch, cur: Batch, base_label: str = "baseline",
                cur_label: str = "current") -> Figure:
    """Yearly cost by component (stacked) and the benefit, baseline and current."""
    reps, labels = replications(base, cur, base_label, cur_label)
    return _draw(costs_plot, reps, labels, "Costs and benefit")


def ambition_figure(base: Batch, cur: Batch, base_label: str = "baseline",
                    cur_label: str = "current") -> Figure:
    """The whitepaper's Fig. 6: ambition against realised capacity (95 % CI)."""
    reps, labels = replications(base, cur, base_label, cur_label)
    return _draw(ambition_plot, reps, labels, "Ambition vs capacity (Fig. 6)", (6.0, 6.4))
