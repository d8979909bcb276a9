"""Shared plumbing of the plot modules: figures without pyplot, colours, CIs, box + points.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot, no global state,
no GUI): saving renders with the Agg backend.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource import stats
from simsource.analysis.plots.labels import info
from simsource.model import catalogue

#: colour-blind-safe palette (Okabe & Ito 2008) for scenarios, in order
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                            "#F0E442", "#000000")
WARMUP_COLOUR = "#d9d9d9"


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 5.0)) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a fresh figure with one axes."""
    if ax is not None:
        fig = ax.get_figure()
        assert fig is not None
        return fig, ax  # type: ignore[return-value]
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def new_figure(figsize: tuple[float, float]) -> Figure:
    return Figure(figsize=figsize, layout="constrained", dpi=100)


def grid(n: int, ncols: int, panel: tuple[float, float] = (4.2, 3.4),
         axes: Sequence[Axes] | None = None, sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """``n`` axes in rows of ``ncols`` (extra cells removed), or the given ``axes``."""
    if axes is not None:
        if len(axes) < n:
            raise ValueError(f"need {n} axes, got {len(axes)}")
        fig = axes[0].get_figure()
        assert fig is not None
        return fig, list(axes[:n])  # type: ignore[return-value]
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = new_figure((panel[0] * ncols, panel[1] * nrows + 0.6))
    arr = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    flat = [a for row in arr for a in row]
    for extra in flat[n:]:
        extra.remove()
    return fig, flat[:n]


def scale(kpi: str) -> float:
    """Factor for display: shares are drawn in percent."""
    return 100.0 if info(kpi).share else 1.0


def values(df: pd.DataFrame, column: str) -> np.ndarray:
    """Finite values of ``column`` (missing column: empty)."""
    if column not in df.columns:
        return np.empty(0)
    v = df[column].to_numpy(dtype=np.float64)
    finite: np.ndarray = v[np.isfinite(v)]
    return finite


def mean_ci(v: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % t-interval (NaN bounds with fewer than two values)."""
    ci = stats.mean_ci(v)
    return ci.mean, ci.low, ci.high


def wilson(successes: float, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion (:func:`simsource.stats.wilson`)."""
    return stats.wilson(round(successes), n)


def box_points(ax: Axes, samples: Sequence[np.ndarray], labels: Sequence[str],
               colours: Sequence[str], *, keys: Sequence[str] | None = None,
               seed: int = 0) -> None:
    """Box plot per sample, every value as a jittered dot, and the mean with its 95 % CI.

    The mean is a black diamond with a black error bar (label ``mean and 95 % CI``); the boxes
    show the median and quartiles, whiskers 1.5 IQR. Boxes carry the gid ``box:<key>``, their
    median lines ``median:<key>`` (``keys`` default to the labels).
    """
    pos = np.arange(1, len(samples) + 1, dtype=np.float64)
    data = [s if s.size else np.array([np.nan]) for s in samples]
    bp = ax.boxplot(data, positions=pos, widths=0.5, patch_artist=True, showfliers=False,
                    medianprops={"color": "black", "linewidth": 1.2}, manage_ticks=False)
    gids = list(keys) if keys is not None else list(labels)
    for patch, med, c, label in zip(bp["boxes"], bp["medians"], colours, gids, strict=True):
        patch.set_gid(f"box:{label}")
        med.set_gid(f"median:{label}")
        patch.set_facecolor(c)
        patch.set_alpha(0.35)
        patch.set_edgecolor(c)
    rng = np.random.default_rng(seed)  # jitter only: fixed, so figures are reproducible
    for p, s, c in zip(pos, samples, colours, strict=True):
        if s.size:
            ax.scatter(p + rng.uniform(-0.16, 0.16, s.size), s, s=10, color=c, alpha=0.6,
                       linewidths=0, zorder=3)
    for i, (p, s) in enumerate(zip(pos, samples, strict=True)):
        if s.size == 0:
            continue
        m, lo, hi = mean_ci(s)
        yerr = None if math.isnan(lo) else [[m - lo], [hi - m]]
        ax.errorbar([p + 0.33], [m], yerr=yerr, fmt="D", color="black", markersize=5,
                    capsize=4, zorder=4, label="mean and 95 % CI" if i == 0 else None)
    ax.set_xticks(pos, list(labels))
    ax.set_xlim(0.4, len(samples) + 0.75)
    ax.grid(axis="y", alpha=0.3)


def wrap(text: str, width: int = 16) -> str:
    """Break a scenario name or label over lines at ``-``/space for narrow tick labels."""
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text.replace("-", "- "), width)).replace("- ", "-")


def note_no_data(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes,
            color="grey")


# ---- overload -----------------------------------------------------------------------------

OVERLOAD_GID = "overload-note"


def overloaded(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
               by: str = "scenario") -> dict[str, float]:
    """Overloaded scenarios (catalogue rule) and their share of stable replications; empty when
    the results have no ``funnel_stable`` column (results of an older model)."""
    col = catalogue.STABILITY_KPI
    if col not in replications.columns or by not in replications.columns:
        return {}
    names = list(scenarios) if scenarios is not None else list(
        dict.fromkeys(replications[by]))
    out = {}
    for s in names:
        share = catalogue.stable_share(replications.loc[replications[by] == s, col])
        if catalogue.is_overloaded(share):
            out[str(s)] = share
    return out


def overload_lines(replications: pd.DataFrame, scenarios: Sequence[str] | None = None,
                   by: str = "scenario") -> list[str]:
    """The catalogue's overload warning for each overloaded scenario."""
    return [catalogue.overload_warning(s, share)
            for s, share in overloaded(replications, scenarios, by).items()]


def add_overload_note(fig: Figure, replications: pd.DataFrame,
                      scenarios: Sequence[str] | None = None, by: str = "scenario") -> bool:
    """Write the overload warning under the figure (gid ``overload-note``) when a scenario is
    overloaded; True if it did."""
    lines = overload_lines(replications, scenarios, by)
    if not lines:
        return False
    width = max(40, int(fig.get_figwidth() * 11))  # characters of 9 pt text per line
    text = "\n".join(textwrap.fill("⚠ " + line, width) for line in lines)
    fig.supxlabel(text, color="#993300", fontsize=9, ha="center").set_gid(OVERLOAD_GID)
    return True
