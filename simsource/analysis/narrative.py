"""Plain-language findings generated from the numbers of a results folder.

A direction ("raises", "lowers") is claimed only when the 95 % confidence interval of the
difference excludes zero; otherwise the sentence says the difference is not clear and gives the
interval. Numbers are rounded for reading (see :func:`fmt`), never invented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from simsource.analysis.plots.labels import KEY_KPIS, info, parameter_label

if TYPE_CHECKING:
    import pandas as pd

    from simsource.analysis.plots.data import AnalysisData

Direction = Literal["up", "down", "unclear"]
Verdict = Literal["better", "worse", "neither", "unclear"]
MINUS = "−"


# ---- numbers --------------------------------------------------------------------------------


def magnitude_decimals(a: float) -> int:
    """Decimals by size: 0 from 100, 1 from 1, 2 from 0.1, else 3."""
    a = abs(a)
    if a >= 100:
        return 0
    if a >= 1:
        return 1
    if a >= 0.1:
        return 2
    return 3


def decimals_for(v: float) -> int:
    """Decimals to show ``v`` alone with: whole numbers without decimals, else by size."""
    if not math.isfinite(v):
        return 1
    if v == 0 or (abs(v) >= 1 and float(v).is_integer()):
        return 0
    return magnitude_decimals(v)


def fmt(v: float, decimals: int | None = None) -> str:
    """A number for reading: 0 decimals from 100, 1 from 1, else 2–3; a real minus sign."""
    if v is None or not math.isfinite(v):
        return "n/a"
    d = decimals_for(v) if decimals is None else decimals
    s = f"{v:,.{d}f}".replace(",", " ")
    if s.startswith("-"):
        s = MINUS + s[1:]
    return "0" if s in (MINUS + "0", MINUS + "0.0") else s


def fmt_range(lo: float, hi: float, decimals: int) -> str:
    """``4.9–7.3``, or ``−1.2 to 3.4`` when a bound is negative (a dash would read as minus)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    if lo < 0 or hi < 0:
        return f"{fmt(lo, decimals)} to {fmt(hi, decimals)}"
    return f"{fmt(lo, decimals)}–{fmt(hi, decimals)}"


def shown_decimals(*vs: float) -> int:
    """Decimals for a value and its interval: enough for the largest magnitude among them."""
    finite = [abs(v) for v in vs if math.isfinite(v)]
    if not finite:
        return 1
    if all(float(v).is_integer() for v in finite):
        return 0
    big = max(finite)
    if big >= 1:
        return magnitude_decimals(big)
    return max(magnitude_decimals(v) for v in finite if v)  # all below 1, one at least not 0


def value_text(kpi: str, mean: float, lo: float, hi: float) -> str:
    """``19.2 innovations/year (95 % CI 15.2–23.2)``; shares in percent; ``n/a`` if no value."""
    if not math.isfinite(mean):
        return "n/a"
    k = 100.0 if info(kpi).share else 1.0
    d = shown_decimals(mean * k, lo * k, hi * k)
    unit = "%" if info(kpi).share else info(kpi).unit
    value = f"{fmt(mean * k, d)} {unit}".rstrip()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{value} (no CI: fewer than two values)"
    return f"{value} (95 % CI {fmt_range(lo * k, hi * k, d)})"


def sentence_unit(kpi: str) -> str:
    """The unit to write after a number in a sentence ("" when the label already says it)."""
    i = info(kpi)
    if i.share:
        return "percentage points"
    if i.unit.endswith("/year") and i.label.endswith("per year"):
        return ""
    return i.unit


# ---- differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One difference of a KPI between a scenario and the reference (``diff`` = other − ref)."""

    kpi: str
    reference: str
    other: str
    diff: float
    low: float
    high: float
    p_holm: float = math.nan

    @property
    def direction(self) -> Direction:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return "unclear"
        if self.low > 0:
            return "up"
        if self.high < 0:
            return "down"
        return "unclear"

    @property
    def verdict(self) -> Verdict:
        if self.direction == "unclear":
            return "unclear"
        better = info(self.kpi).better
        if better == "neither":
            return "neither"
        good = (self.direction == "up") == (better == "higher")
        return "better" if good else "worse"

    def change_text(self) -> str:
        """``raises innovations per year by 6.1 innovations/year (95 % CI 4.9–7.3)``."""
        i = info(self.kpi)
        k = 100.0 if i.share else 1.0
        unit = sentence_unit(self.kpi)
        sp = f" {unit}" if unit else ""
        d = shown_decimals(self.diff * k, self.low * k, self.high * k)
        if self.direction == "unclear":
            return (f"makes no clear difference to {i.label} (95 % CI "
                    f"{fmt_range(self.low * k, self.high * k, d)}{sp}, which includes 0)")
        verb = "raises" if self.direction == "up" else "lowers"
        lo, hi = sorted((abs(self.low * k), abs(self.high * k)))
        return (f"{verb} {i.label} by {fmt(abs(self.diff * k), d)}{sp} "
                f"(95 % CI {fmt_range(lo, hi, d)})")


def findings_from_comparison(comparison: pd.DataFrame, scenarios: Sequence[str],
                             kpis: Sequence[str] = KEY_KPIS) -> list[Finding]:
    """Findings for every non-reference scenario and KPI from a ``comparison.csv`` table."""
    out = []
    ref = scenarios[0]
    for other in scenarios[1:]:
        for kpi in kpis:
            row = comparison[(comparison["kpi"] == kpi) & (comparison["scenario"] == other)]
            if row.empty:
                continue
            r = row.iloc[0]
            out.append(Finding(kpi, ref, other, float(r["diff"]), float(r["diff_ci_low"]),
                               float(r["diff_ci_high"]),
                               float(r["p_holm"]) if "p_holm" in r else math.nan))
    return out


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def _bare(label: str) -> str:
    """A label without its trailing ``(unit)``, for sentences."""
    return label.split(" (")[0] if label.endswith(")") else label


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def pair_lead(findings: Sequence[Finding]) -> str | None:
    """``Moving from A to B raises innovations per year by … and lowers total cost by …``."""
    by_kpi = {f.kpi: f for f in findings}
    lead = [by_kpi[k] for k in ("innovations_per_year", "cost_total_msek_per_year") if k in by_kpi]
    if not lead:
        return None
    return (f"Moving from {lead[0].reference} to {lead[0].other} "
            + _join([f.change_text() for f in lead]) + ".")


def pair_details(findings: Sequence[Finding]) -> list[str]:
    """The other key measures of one (reference, other) pair and the balance."""
    if not findings:
        return []
    ref, other = findings[0].reference, findings[0].other
    rest = [f for f in findings if f.kpi not in ("innovations_per_year",
                                                 "cost_total_msek_per_year")]
    out = []
    clear = [f for f in rest if f.direction != "unclear"]
    if clear:
        out.append(f"Moving from {ref} to {other} also " + _join([f.change_text() for f in clear])
                   + ".")
    unclear = [info(f.kpi).label for f in rest if f.direction == "unclear"]
    if unclear:
        out.append("No clear difference (the 95 % CI includes 0) in " + _join(unclear) + ".")
    better = [info(f.kpi).label for f in findings if f.verdict == "better"]
    worse = [info(f.kpi).label for f in findings if f.verdict == "worse"]
    if better or worse:
        out.append(f"On balance {other} is better than {ref} on {len(better)} of "
                   f"{len(findings)} key measures"
                   + (f" ({_join(better)})" if better else "")
                   + f" and worse on {len(worse)}" + (f" ({_join(worse)})" if worse else "")
                   + ".")
    return out


# ---- single scenario ------------------------------------------------------------------------


def ambition_sentence(name: str, reps: pd.DataFrame) -> str | None:
    """Where a scenario sits on the ambition map (Fig. 6), claimed only outside the CI."""
    from simsource.analysis.stats import mean_ci

    if not {"innovations_per_year", "ambition_innovations_per_year"} <= set(reps.columns):
        return None
    ci = mean_ci(reps["innovations_per_year"].to_numpy(dtype=float))
    amb = float(reps["ambition_innovations_per_year"].mean())
    if not math.isfinite(ci.mean) or not math.isfinite(amb):
        return None
    head = (f"{name} implements {value_text('innovations_per_year', ci.mean, ci.low, ci.high)} "
            f"against an ambition of {fmt(amb)}")
    if math.isfinite(ci.high) and ci.high < amb:
        return head + ": the ambition exceeds the capacity."
    if math.isfinite(ci.low) and ci.low > amb:
        return head + ": the capacity exceeds the ambition."
    return head + ": capacity and ambition match within the uncertainty."


def scenario_sentences(name: str, reps: pd.DataFrame) -> list[str]:
    """Plain statements of one scenario's level on the key KPIs (no comparison)."""
    from simsource.analysis.stats import mean_ci

    out = []
    amb = ambition_sentence(name, reps)
    if amb:
        out.append(amb)
    parts = []
    for kpi in ("cost_total_msek_per_year", "benefit_msek_per_year", "lead_time_days_median",
                "coordinator_utilisation"):
        if kpi in reps.columns:
            ci = mean_ci(reps[kpi].to_numpy(dtype=float))
            if math.isfinite(ci.mean):
                parts.append(f"{info(kpi).label} {value_text(kpi, ci.mean, ci.low, ci.high)}")
    if parts:
        out.append(f"In {name}: " + "; ".join(parts) + ".")
    return out


# ---- sweeps ---------------------------------------------------------------------------------


def sweep_sentences(sweep: pd.DataFrame, design: Sequence[str],
                    kpis: Sequence[str] = ("innovations_per_year", "cost_total_msek_per_year"),
                    x: str | None = None) -> list[str]:
    """Lowest vs highest value of the swept parameter, paired by replication (common random
    numbers), per combination of the other varied parameters."""
    from simsource.analysis.plots.sweep import (
        SHARED,
        choose_x,
        group_label,
        is_numeric,
        other_varied,
        varies,
    )
    from simsource.analysis.stats import paired_difference

    x = x or choose_x(sweep, design)
    if not is_numeric(sweep[x]) or not varies(sweep[x]):
        return []
    lo_x, hi_x = sweep[x].min(), sweep[x].max()
    by = other_varied(sweep, design, x)
    groups = sweep.groupby(by, sort=True) if by else [((), sweep)]
    out = []
    for vals, sub in groups:
        tup = vals if isinstance(vals, tuple) else (vals,)
        where = ", ".join(("a " if b == SHARED else "") + group_label(b, v)
                          for b, v in zip(by, tup, strict=True))
        a = sub[sub[x] == lo_x].set_index("replication")
        b = sub[sub[x] == hi_x].set_index("replication")
        changes = []
        for kpi in kpis:
            if kpi not in sub.columns:
                continue
            ra, rb = a[kpi].align(b[kpi], join="inner")
            d = paired_difference(ra.to_numpy(float), rb.to_numpy(float))
            f = Finding(kpi, f"{x}={lo_x}", f"{x}={hi_x}", d.mean, d.low, d.high)
            changes.append(f.change_text())
        if changes:
            prefix = f"With {where}, raising" if where else "Raising"
            out.append(f"{prefix} {_bare(parameter_label(x))} from {fmt(float(lo_x))} to "
                       f"{fmt(float(hi_x))} " + _join(changes) + ".")
    return out


def transfer_sentences(sweep: pd.DataFrame, design: Sequence[str], target: float = 0.9
                       ) -> list[str]:
    """The smallest team meeting the deadline in at least ``target`` of replications."""
    from simsource.analysis.plots.sweep import SHARED, TEAM, group_label, truthy, varies

    if TEAM not in design or "transition_deadline_met" not in sweep.columns:
        return []
    keys = [True, False] if SHARED in design and varies(sweep[SHARED]) else [None]
    out = []
    for k in keys:
        sub = sweep if k is None else sweep[[truthy(v) == k for v in sweep[SHARED]]]
        p = sub.groupby(TEAM)["transition_deadline_met"].mean().sort_index()
        p.index = p.index.astype(float)
        who = "the transfer team" if k is None else f"a {group_label(SHARED, k)}"
        ok = p[p >= target]
        if ok.empty:
            out.append(f"With {who}, no team size tried (up to {fmt(p.index.max())}) met "
                       f"the deadline in {_pct(target)} of replications (best: "
                       f"{_pct(p.max())} at {fmt(p.index[int(p.to_numpy().argmax())])}).")
        else:
            size = ok.index.min()
            out.append(f"With {who}, {fmt(size)} people were the smallest team that met "
                       f"the deadline in at least {_pct(target)} of replications "
                       f"({_pct(p[size])}).")
    return out


# ---- the summary of a folder ------------------------------------------------------------------


def summary_paragraphs(data: AnalysisData) -> list[str]:
    """The plain-language summary of a results folder, one paragraph per string."""
    from simsource.analysis.stats import compare_table

    if data.kind == "sweep":
        assert data.sweep is not None
        return (sweep_sentences(data.sweep, data.design_columns)
                + transfer_sentences(data.sweep, data.design_columns))
    reps = data.replications
    names = data.scenarios
    if len(names) == 1:
        return scenario_sentences(names[0], reps)
    comparison = data.comparison
    if comparison is None:
        frames = {s: reps[reps["scenario"] == s].drop(columns=["scenario"]) for s in names}
        comparison = compare_table(frames, [k for k in KEY_KPIS if k in reps.columns])
    kpis = [k for k in KEY_KPIS if k in set(comparison["kpi"])]
    findings = findings_from_comparison(comparison, names, kpis)
    pairs = [[f for f in findings if f.other == other] for other in names[1:]]
    leads = [lead for lead in (pair_lead(p) for p in pairs) if lead]
    out = [" ".join(leads)] if leads else []
    out.extend(" ".join(d) for d in (pair_details(p) for p in pairs) if d)
    ambition = [a for a in (ambition_sentence(n, reps[reps["scenario"] == n]) for n in names)
                if a]
    if ambition:
        out.append(" ".join(ambition))
    return out
