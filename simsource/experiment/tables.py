"""Readable text tables of results (for the terminal) and the warm-up check after a run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource import formatting
from simsource.model import catalogue

if TYPE_CHECKING:
    import pandas as pd

    from simsource.scenario import Scenario

#: the KPIs a planner looks at first, in display order (absent or all-NaN ones are skipped)
HEADLINE_KPIS: tuple[str, ...] = catalogue.names("headline")
MONTH_DAYS = 20  # working days in a time-series month
WARMUP_COLUMNS = ("wip_project", "load_project")
MSER_BATCH = 5  # months per MSER-5 batch


def fmt(value: Any, decimals: int) -> str:
    return formatting.number(value, decimals, missing="–")


def fmt_ci(mean: float, low: float, high: float, kpi: str = "") -> tuple[str, str]:
    """Mean and ``[low, high]`` in the KPI's display unit (shares in percent)."""
    return formatting.kpi_mean_and_ci(catalogue.get(kpi), mean, low, high, missing="–")


def fmt_p(p: float) -> str:
    return formatting.p_value(p, missing="–")


def _render(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def headline(kpis: Sequence[str], available: Sequence[str]) -> list[str]:
    have = set(available)
    return [k for k in kpis if k in have]


def summary_table(summary: pd.DataFrame, kpis: Sequence[str] = HEADLINE_KPIS) -> str:
    """KPI, mean, 95 % CI, n — for the headline KPIs present in a ``summary.csv`` frame."""
    records = {str(r["kpi"]): r for r in summary.to_dict("records")}
    rows = []
    for kpi in headline(kpis, list(records)):
        row = records[kpi]
        if int(row["n"]) == 0:
            continue
        mean, ci = fmt_ci(float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]), kpi)
        rows.append([kpi, mean, ci, catalogue.get(kpi).display_unit, str(int(row["n"]))])
    return _render(["KPI", "mean", "95 % CI", "unit", "n"], rows, right={1, 4})


def comparison_table(comparison: pd.DataFrame, kpis: Sequence[str] = HEADLINE_KPIS,
                     ladder: bool = False) -> str:
    """Per KPI: each scenario's mean [CI], and the paired difference to the first (with
    ``ladder``: to the scenario before it) with its CI and Holm-corrected p-value."""
    rows = []
    present = headline(kpis, list(dict.fromkeys(comparison["kpi"])))
    for kpi in present:
        block = comparison[comparison["kpi"] == kpi]
        if (block["n"] == 0).all():
            continue
        for j, (_, r) in enumerate(block.iterrows()):
            mean, ci = fmt_ci(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]), kpi)
            if j == 0:
                diff = ""
                p = ""
            else:
                d, dci = fmt_ci(float(r["diff"]), float(r["diff_ci_low"]),
                                float(r["diff_ci_high"]), kpi)
                diff = f"{'+' if float(r['diff']) > 0 else ''}{d} {dci}"
                p = fmt_p(float(r["p_holm"]))
            unit = catalogue.get(kpi).display_unit if j == 0 else ""
            rows.append([kpi if j == 0 else "", unit, str(r["scenario"]), mean, ci, diff, p])
    what = "step from the one above [95 % CI]" if ladder else "paired diff [95 % CI]"
    return _render(["KPI", "unit", "scenario", "mean", "95 % CI", what, "p (Holm)"], rows,
                   right={3, 6})


def sweep_table(design: pd.DataFrame, summary: pd.DataFrame,
                kpis: Sequence[str] = catalogue.names("precision")) -> str:
    """One row per design point: its design values and the mean of a few headline KPIs."""
    cols = [c for c in design.columns if c != "point"]
    shown = headline(kpis, list(dict.fromkeys(summary["kpi"])))
    means = {(int(p), str(k)): float(m)
             for p, k, m in summary[["point", "kpi", "mean"]].itertuples(index=False)}
    rows = []
    for d in design.to_dict("records"):
        point = int(d["point"])
        vals = [f"p{point:04d}", *(str(d[c]) for c in cols)]
        for k in shown:
            vals.append(formatting.kpi_value(catalogue.get(k), means.get((point, k), math.nan),
                                              unit=False, missing="–"))
        rows.append(vals)
    return _render(["point", *cols, *shown], rows,
                   right=set(range(1 + len(cols), 1 + len(cols) + len(shown))))


def warmup_warning(folder: Path, sc: Scenario) -> str | None:
    """A one-line warning if MSER-5 on the mean monthly ``wip_project`` / ``load_project``
    suggests a warm-up more than one batch (5 months) longer than ``scenario.warmup_years``;
    None otherwise."""
    import pandas as pd
    import pyarrow.parquet as pq

    from simsource.stats import warmup_suggestion

    path = folder / "timeseries.parquet"
    names = pq.read_schema(path).names
    cols = [c for c in WARMUP_COLUMNS if c in names]
    if not cols or "month" not in names:
        return None
    ts = pd.read_parquet(path, columns=["replication", "month", *cols])
    months_per_year = sc.scenario.working_days_per_year / MONTH_DAYS
    have = sc.scenario.warmup_years * months_per_year
    worst = max(((warmup_suggestion(ts, c), c) for c in cols), default=(0, ""))
    months, col = worst
    # MSER-5 cuts whole batches of 5 months: the warm-up it finds lies in (months - 5, months]
    if have >= months - MSER_BATCH - 1e-9:
        return None
    years = months / months_per_year
    advice = math.ceil(years * 2) / 2
    plan = sc.coordination.plan
    ramp_end = plan[-1].until_day if plan else 0.0
    if ramp_end > sc.warmup_days and months * MONTH_DAYS <= ramp_end + MSER_BATCH * MONTH_DAYS:
        # the transient is the scenario's own staffing ramp, measured on purpose: say so once
        return (f"note: the KPI window includes the staffing plan's ramp (until day "
                f"{ramp_end:g}; MSER-5 on {col} sees a transient of {months} months); for "
                f"steady-state figures use --set scenario.warmup_years={advice:g}")
    return (f"MSER-5 on {col} suggests a warm-up of {months} months ({years:.1f} years), longer "
            f"than scenario.warmup_years = {sc.scenario.warmup_years:g}; consider "
            f"--set scenario.warmup_years={advice:g}")
