"""``sweep`` and ``transfer``: KPIs against a swept parameter, for sweep folders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import (
    colour,
    grid,
    mean_ci,
    new_axes,
    note_no_data,
    scale,
    wilson,
)
from simsource.analysis.plots.labels import axis_label, parameter_label, title
from simsource.model import catalogue

SWEEP_KPIS: tuple[str, ...] = catalogue.names("lead")
TEAM = "transition.team_size"
SHARED = "transition.shared_with_operations"


def is_bool_like(s: pd.Series) -> bool:
    vals = set(s.dropna().unique().tolist())
    return s.dtype == bool or (bool(vals) and vals <= {True, False, "true", "false", "True",
                                                       "False"})


def varies(s: pd.Series) -> bool:
    """Whether ``s`` holds more than one distinct non-missing value."""
    v = s.dropna().to_numpy()
    return bool(len(v)) and not bool((v == v[0]).all())


def truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() == "true"
    return bool(v)


def is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s)) and not is_bool_like(s)


def choose_x(sweep: pd.DataFrame, design: Sequence[str]) -> str:
    """The design column to put on the x-axis: the first numeric one that varies."""
    varying = [c for c in design if varies(sweep[c])] or list(design)
    numeric = [c for c in varying if is_numeric(sweep[c])]
    return (numeric or varying)[0]


def group_label(key: str, value: Any) -> str:
    if key == SHARED:
        return "team shared with operations" if truthy(value) else "separate transfer team"
    if isinstance(value, bool | np.bool_):
        return f"{parameter_label(key)}: {'yes' if value else 'no'}"
    return f"{parameter_label(key)} = {value}"


MAX_GROUPS = 6


def other_varied(sweep: pd.DataFrame, design: Sequence[str], x: str) -> list[str]:
    """The varied parameters besides ``x`` that split the points into lines — none when they
    would give more than :data:`MAX_GROUPS` lines (e.g. a Latin hypercube): the plot then shows
    the KPI against ``x`` alone."""
    cols = [c for c in design if c != x and varies(sweep[c])]
    if cols and len(sweep[cols].drop_duplicates()) > MAX_GROUPS:
        return []
    return cols


def sweep_stats(sweep: pd.DataFrame, x: str, kpi: str, by: Sequence[str] = (),
                proportion: bool = False) -> pd.DataFrame:
    """Per design point (values of ``x`` and ``by``): mean of ``kpi`` with a 95 % CI and n.

    ``proportion`` uses the Wilson interval (for 0/1 KPIs such as deadline met) instead of the
    t-interval.
    """
    rows = []
    keys = [*by, x]
    for vals, sub in sweep.groupby(keys, sort=True, dropna=False):
        v = sub[kpi].to_numpy(dtype=np.float64)
        v = v[np.isfinite(v)]
        if proportion:
            m = float(v.mean()) if v.size else math.nan
            lo, hi = wilson(float(v.sum()), int(v.size))
        else:
            m, lo, hi = mean_ci(v)
        tup = vals if isinstance(vals, tuple) else (vals,)
        rows.append({**dict(zip(keys, tup, strict=True)), "mean": m, "ci_low": lo,
                     "ci_high": hi, "n": int(v.size)})
    return pd.DataFrame(rows)


def _line_with_band(ax: Axes, xs: np.ndarray, st: pd.DataFrame, k: float, c: str,
                    label: str, gid: str) -> None:
    m = st["mean"].to_numpy(dtype=np.float64) * k
    lo = st["ci_low"].to_numpy(dtype=np.float64) * k
    hi = st["ci_high"].to_numpy(dtype=np.float64) * k
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(xs, np.where(ok, lo, m), np.where(ok, hi, m), color=c, alpha=0.2, lw=0)
    (line,) = ax.plot(xs, m, "o-", color=c, lw=1.8, ms=4, label=label)
    line.set_gid(gid)


def _x_positions(values: pd.Series, x: str, ax: Axes, all_values: list[Any]) -> np.ndarray:
    if is_numeric(values):
        return values.to_numpy(dtype=np.float64)
    pos = {v: i for i, v in enumerate(all_values)}
    ax.set_xticks(range(len(all_values)), [str(v) for v in all_values])
    return np.array([pos[v] for v in values], dtype=np.float64)


def sweep_kpi_plot(sweep: pd.DataFrame, design: Sequence[str], kpi: str, x: str | None = None,
                   ax: Axes | None = None) -> Figure:
    """Mean of ``kpi`` against the swept parameter ``x`` with a 95 % CI band; one line per
    combination of the other varied parameters. Lines carry the gid ``sweep:<kpi>:<group>``."""
    fig, ax = new_axes(ax, (7.0, 4.6))
    x = x or choose_x(sweep, design)
    if kpi not in sweep.columns or not np.isfinite(sweep[kpi].to_numpy(np.float64)).any():
        note_no_data(ax, kpi)
        return fig
    by = other_varied(sweep, design, x)
    st = sweep_stats(sweep, x, kpi, by)
    all_x = sorted(sweep[x].dropna().unique().tolist(), key=str) if not is_numeric(
        sweep[x]) else []
    k = scale(kpi)
    if by:
        for i, (vals, sub) in enumerate(st.groupby(by, sort=True)):
            tup = vals if isinstance(vals, tuple) else (vals,)
            label = ", ".join(group_label(b, v) for b, v in zip(by, tup, strict=True))
            _line_with_band(ax, _x_positions(sub[x], x, ax, all_x), sub, k, colour(i), label,
                            f"sweep:{kpi}:{label}")
        ax.legend(fontsize=8)
    else:
        _line_with_band(ax, _x_positions(st[x], x, ax, all_x), st, k, colour(0), "mean",
                        f"sweep:{kpi}:all")
    xl = parameter_label(x)
    ax.set_xlabel(xl[:1].upper() + xl[1:])
    ax.set_ylabel(axis_label(kpi))
    ax.set_title(f"{title(kpi)} against {parameter_label(x)}", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def sweep_plot(sweep: pd.DataFrame, design: Sequence[str], kpis: Sequence[str] | None = None,
               x: str | None = None, axes: Sequence[Axes] | None = None) -> Figure:
    """One :func:`sweep_kpi_plot` per KPI (default: innovations per year and total cost)."""
    chosen = list(kpis or SWEEP_KPIS)
    fig, axs = grid(len(chosen), 2, (5.6, 4.2), axes)
    for kpi, ax in zip(chosen, axs, strict=True):
        sweep_kpi_plot(sweep, design, kpi, x, ax)
    reps = int(sweep.groupby("point").size().max()) if "point" in sweep.columns else len(sweep)
    fig.suptitle(f"Sweep: mean over {reps} replications per point (line) with its 95 % CI "
                 "(band)", fontsize=11)
    return fig


def transfer_applies(sweep: pd.DataFrame | None, design: Sequence[str]) -> bool:
    return (sweep is not None and TEAM in design and "transition_deadline_met" in sweep.columns
            and bool(np.isfinite(sweep["transition_deadline_met"].to_numpy(np.float64)).any()))


def transfer_plot(sweep: pd.DataFrame, design: Sequence[str] = (TEAM, SHARED),
                  ax: Axes | None = None) -> Figure:
    """Probability of meeting the transfer deadline against team size, shared vs separate team.

    The probability is the share of replications that met the deadline, in percent, with a
    95 % Wilson interval. Lines carry the gid ``transfer:<shared|separate|all>``.
    """
    fig, ax = new_axes(ax, (7.5, 4.8))
    by = [SHARED] if SHARED in design and varies(sweep[SHARED]) else []
    st = sweep_stats(sweep, TEAM, "transition_deadline_met", by, proportion=True)
    if by:
        st["_shared"] = [truthy(v) for v in st[SHARED]]
        for i, shared in enumerate((False, True)):  # same colours as the sweep kind
            sub = st[st["_shared"] == shared].sort_values(TEAM)
            if len(sub):
                _line_with_band(ax, sub[TEAM].to_numpy(np.float64), sub, 100.0, colour(i),
                                group_label(SHARED, shared),
                                f"transfer:{'shared' if shared else 'separate'}")
    else:
        st = st.sort_values(TEAM)
        _line_with_band(ax, st[TEAM].to_numpy(np.float64), st, 100.0, colour(0),
                        "transfer team", "transfer:all")
    ax.axhline(90, color="grey", ls=":", lw=1)
    ax.text(ax.get_xlim()[0], 90, " 90 %", va="bottom", ha="left", fontsize=8, color="grey")
    ax.set_ylim(-2, 105)
    ax.set_xlabel("Transfer team size (persons)")
    ax.set_ylabel("Probability of meeting the deadline (%)")
    ax.set_title("Will the systems be moved before the deadline?\n"
                 "share of replications meeting it, with 95 % CI (band)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    return fig
