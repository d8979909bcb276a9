"""``robustness``, ``tradeoff`` and ``discovery``: the figures of an explore folder.

* :func:`robustness_plot` — per target, the share of futures in which each policy meets it
  (with its Wilson interval); per regret KPI, each policy's mean regret (bar) and 90th
  percentile (marker);
* :func:`tradeoff_plot` — two KPIs across the futures, one dot per (future, policy), with the
  targets on those KPIs as lines;
* :func:`discovery_plot` — each PRIM box as a ranges chart: the restricted parameters' box range
  against their whole sampled range, with the box's coverage, density and mass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simsource.analysis.plots._common import colour, grid, new_axes, note_no_data, scale, wrap
from simsource.analysis.plots.labels import axis_label, title
from simsource.analysis.robustness import records, wide_table
from simsource.model import catalogue

TRADEOFF_KPIS: tuple[str, ...] = catalogue.names("lead")
_TARGET_OPS = (">=", "<=", ">", "<")


def _policies(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["policy"].astype(str)))


def split_target(text: str) -> tuple[str, str, float]:
    """``'kpi>=15'`` → ``('kpi', '>=', 15.0)``."""
    for op in _TARGET_OPS:
        kpi, sep, num = text.partition(op)
        if sep:
            return kpi.strip(), op, float(num)
    raise ValueError(f"not a target: {text}")


def robustness_plot(robustness: pd.DataFrame, axes: Sequence[Axes] | None = None) -> Figure:
    """Satisficing shares per target and regret per KPI (see the module docstring); regret is
    drawn for the targets' KPIs, or the lead KPIs when there is no target."""
    sat = robustness[robustness["measure"] == "satisficing"]
    reg = robustness[robustness["measure"] != "satisficing"]
    targets = list(dict.fromkeys(sat["target"].astype(str)))
    wanted = list(dict.fromkeys(sat["kpi"].astype(str))) or list(TRADEOFF_KPIS)
    kpis = [k for k in wanted if k in set(reg["kpi"])]
    policies = _policies(robustness) if not robustness.empty else []
    n = max(1, len(targets) + len(kpis))
    fig, axs = grid(n, min(n, 3), panel=(4.4, 0.9 + 0.45 * max(1, len(policies))), axes=axes)
    if robustness.empty:
        note_no_data(axs[0], "no robustness table")
        return fig
    ypos = np.arange(len(policies))[::-1]
    for ax, target in zip(axs, targets, strict=False):
        rows = sat[sat["target"] == target].set_index("policy").reindex(policies)
        v = rows["value"].to_numpy(dtype=float) * 100
        lo = v - rows["ci_low"].to_numpy(dtype=float) * 100
        hi = rows["ci_high"].to_numpy(dtype=float) * 100 - v
        ax.barh(ypos, v, xerr=[lo, hi], color=[colour(i) for i in range(len(policies))],
                alpha=0.85, error_kw={"capsize": 3, "lw": 1, "ecolor": "#333333"})
        for y, val, top in zip(ypos, v, v + hi, strict=True):
            ax.text(top + 2, y, f"{val:.0f} %", va="center", fontsize=8)
        ax.set_xlim(0, 118)
        ax.set_yticks(ypos, [wrap(p, 18) for p in policies], fontsize=8)
        ax.set_xlabel("share of futures meeting the target (%)", fontsize=8)
        futures = int(rows["futures"].max())
        ax.set_title(f"{target}\n{futures} futures, 95 % Wilson interval", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax, kpi in zip(axs[len(targets):], kpis, strict=False):
        rows = wide_table(reg[reg["kpi"] == kpi], "policy", "measure", "value")
        rows = rows.reindex(policies)
        k = scale(kpi)
        mean = rows["regret_mean"].to_numpy(dtype=float) * k
        p90 = rows["regret_p90"].to_numpy(dtype=float) * k
        ax.barh(ypos, mean, color=[colour(i) for i in range(len(policies))], alpha=0.85,
                label="mean regret")
        ax.scatter(p90, ypos, marker="|", s=200, color="black", zorder=3,
                   label="90th percentile")
        ax.set_yticks(ypos, [wrap(p, 18) for p in policies], fontsize=8)
        ax.set_xlabel(f"regret: {axis_label(kpi)}", fontsize=8)
        ax.set_title(f"Regret against the best policy in each future\n{title(kpi)}",
                     fontsize=9)
        ax.set_xlim(left=0)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    return fig


def tradeoff_plot(futures: pd.DataFrame, kpis: Sequence[str] | None = None,
                  targets: Sequence[str] = (), ax: Axes | None = None) -> Figure:
    """Two KPIs (default: the lead KPIs) across the futures, one colour per policy; a dashed
    line at each target on either KPI."""
    x_kpi, y_kpi = list(dict.fromkeys([*(kpis or ()), *TRADEOFF_KPIS]))[:2]
    fig, ax = new_axes(ax, (7.0, 5.0))
    if x_kpi not in futures.columns or y_kpi not in futures.columns:
        note_no_data(ax, f"{x_kpi} or {y_kpi} not in the futures")
        return fig
    for i, policy in enumerate(_policies(futures)):
        mine = futures[futures["policy"] == policy]
        ax.scatter(mine[x_kpi] * scale(x_kpi), mine[y_kpi] * scale(y_kpi), s=14,
                   color=colour(i), alpha=0.6, linewidths=0, label=policy, gid=f"dots:{policy}")
    for text in targets:
        kpi, _, threshold = split_target(text)
        if kpi == x_kpi:
            ax.axvline(threshold * scale(kpi), color="black", ls="--", lw=1, label=text)
        elif kpi == y_kpi:
            ax.axhline(threshold * scale(kpi), color="black", ls="--", lw=1, label=text)
    ax.set_xlabel(axis_label(x_kpi))
    ax.set_ylabel(axis_label(y_kpi))
    count = futures["future"].nunique()
    ax.set_title(f"Trade-off across {count} futures: each dot is one policy in one future\n"
                 "(mean over its replications; same futures for every policy)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, framealpha=0.9)
    return fig


def discovery_plot(discovery: pd.DataFrame, ranges: Mapping[str, tuple[float, float]],
                   axes: Sequence[Axes] | None = None) -> Figure:
    """One panel per PRIM box: each restricted parameter's box range (coloured) within the range
    the futures were sampled from (grey), and the box's coverage, density and mass."""
    boxes = list(discovery.groupby(["policy", "target", "box"], sort=False)) if not \
        discovery.empty else []
    sizes = [len(b) for _, b in boxes] or [1]
    fig, axs = grid(max(1, len(boxes)), 2 if len(boxes) > 1 else 1,
                    panel=(5.6, 1.3 + 0.5 * max(sizes)), axes=axes)
    if not boxes:
        note_no_data(axs[0], "no PRIM box (no target missed in a concentrated region)")
        return fig
    policies = list(dict.fromkeys(discovery["policy"].astype(str)))
    for ax, ((policy, target, b), box) in zip(axs, boxes, strict=True):
        c = colour(policies.index(str(policy)))
        names = [str(p) for p in box["parameter"]]
        ypos = np.arange(len(names))[::-1]
        for y, r in zip(ypos, records(box), strict=True):
            lower, upper = float(r["lower"]), float(r["upper"])
            lo, hi = ranges.get(str(r["parameter"]), (np.nan, np.nan))
            if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
                lo, hi = min(lower, 0.0), max(upper, 1.0)
            a = (lower - lo) / (hi - lo)
            z = (upper - lo) / (hi - lo)
            ax.barh(y, 1.0, color="#e0e0e0", height=0.55)
            ax.barh(y, z - a, left=a, color=c, height=0.55, alpha=0.9)
            ax.text(a, y - 0.38, f"{lower:.3g}", ha="center", va="top", fontsize=7)
            ax.text(z, y - 0.38, f"{upper:.3g}", ha="center", va="top", fontsize=7)
            ax.text(0, y + 0.3, f"{lo:.3g}", ha="left", va="bottom", fontsize=6, color="grey")
            ax.text(1, y + 0.3, f"{hi:.3g}", ha="right", va="bottom", fontsize=6, color="grey")
        ax.set_yticks(ypos, [wrap(n, 28) for n in names], fontsize=8)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.8, len(names) - 0.3)
        ax.set_xticks([])
        first = box.iloc[0]
        ax.set_title(f"{policy} misses {target} — box {b}\ncoverage {first['coverage']:.0%}, "
                     f"density {first['density']:.0%}, mass {first['mass']:.0%}", fontsize=9)
    fig.suptitle("Where each policy fails: PRIM boxes (coloured) within the sampled ranges "
                 "(grey)", fontsize=10)
    return fig


def target_kpis(targets: Sequence[str]) -> list[str]:
    """The KPIs the targets are on, in order."""
    return list(dict.fromkeys(split_target(t)[0] for t in targets))
