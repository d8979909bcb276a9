"""Plain-language findings generated from the numbers of a results folder.

A direction ("raises", "lowers") is claimed only when the 95 % confidence interval of the
difference excludes zero; otherwise the sentence says the difference is not clear and gives the
interval. Numbers are written by :mod:`simsource.formatting`, never invented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from simsource import formatting
from simsource.analysis.explore import summary_sentences
from simsource.analysis.plots.data import AnalysisData
from simsource.analysis.plots.labels import info, parameter_label
from simsource.analysis.plots.sweep import (
    SHARED,
    TEAM,
    choose_x,
    group_label,
    is_numeric,
    other_varied,
    truthy,
    varies,
)
from simsource.model import catalogue
from simsource.stats import compare_table, mean_ci, paired_difference

Direction = Literal["up", "down", "unclear"]
Verdict = Literal["better", "worse", "neither", "unclear"]
HEADLINE: tuple[str, ...] = catalogue.names("headline")
LEAD: tuple[str, ...] = catalogue.names("lead")


def value_text(kpi: str, mean: float, lo: float, hi: float) -> str:
    """``19.2 innovations/year (95 % CI 15.2–23.2)``; shares in percent; ``n/a`` if no value."""
    return formatting.kpi_ci(info(kpi), mean, lo, hi)


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
        if better == "none":
            return "neither"
        good = (self.direction == "up") == (better == "higher")
        return "better" if good else "worse"

    def change_text(self) -> str:
        """``raises innovations per year by 6.1 innovations/year (95 % CI 4.9–7.3)``."""
        i = info(self.kpi)
        k = 100.0 if i.share else 1.0
        unit = sentence_unit(self.kpi)
        sp = f" {unit}" if unit else ""
        d = formatting.decimals(self.diff * k, self.low * k, self.high * k)
        if self.direction == "unclear":
            return (f"makes no clear difference to {i.label} (95 % CI "
                    f"{formatting.number_range(self.low * k, self.high * k, d)}{sp}, which "
                    "includes 0)")
        verb = "raises" if self.direction == "up" else "lowers"
        lo, hi = sorted((abs(self.low * k), abs(self.high * k)))
        return (f"{verb} {i.label} by {formatting.number(abs(self.diff * k), d)}{sp} "
                f"(95 % CI {formatting.number_range(lo, hi, d)})")


def compared_kpis(comparison: pd.DataFrame, kpis: Sequence[str] = HEADLINE) -> list[str]:
    """``kpis`` that ``comparison`` holds with at least one value (a transfer KPI without a
    transfer has none)."""
    has = comparison.loc[comparison["n"] > 0, "kpi"] if "n" in comparison else comparison["kpi"]
    present = set(has)
    return [k for k in kpis if k in present]


def findings_from_comparison(comparison: pd.DataFrame, scenarios: Sequence[str],
                             kpis: Sequence[str] = HEADLINE,
                             ladder: bool = False) -> list[Finding]:
    """Findings for every non-reference scenario and KPI from a ``comparison.csv`` table (with
    ``ladder``, each scenario's reference is the one before it)."""
    out = []
    for i, other in enumerate(scenarios[1:], start=1):
        ref = scenarios[i - 1] if ladder else scenarios[0]
        for kpi in kpis:
            row = comparison[(comparison["kpi"] == kpi) & (comparison["scenario"] == other)]
            if row.empty:
                continue
            r = row.iloc[0]
            out.append(Finding(kpi, ref, other, float(r["diff"]), float(r["diff_ci_low"]),
                               float(r["diff_ci_high"]),
                               float(r["p_holm"]) if "p_holm" in r else math.nan))
    return out


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
    lead = [by_kpi[k] for k in LEAD if k in by_kpi]
    if not lead:
        return None
    return (f"Moving from {lead[0].reference} to {lead[0].other} "
            + _join([f.change_text() for f in lead]) + ".")


def pair_details(findings: Sequence[Finding]) -> list[str]:
    """The other key measures of one (reference, other) pair and the balance."""
    if not findings:
        return []
    ref, other = findings[0].reference, findings[0].other
    rest = [f for f in findings if f.kpi not in LEAD]
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
    if not {"innovations_per_year", "ambition_innovations_per_year"} <= set(reps.columns):
        return None
    ci = mean_ci(reps["innovations_per_year"].to_numpy(dtype=float))
    amb = float(reps["ambition_innovations_per_year"].mean())
    if not math.isfinite(ci.mean) or not math.isfinite(amb):
        return None
    head = (f"{name} implements {value_text('innovations_per_year', ci.mean, ci.low, ci.high)} "
            f"against an ambition of {formatting.number(amb)}")
    if math.isfinite(ci.high) and ci.high < amb:
        return head + ": the ambition exceeds the capacity."
    if math.isfinite(ci.low) and ci.low > amb:
        return head + ": the capacity exceeds the ambition."
    return head + ": capacity and ambition match within the uncertainty."


def scenario_sentences(name: str, reps: pd.DataFrame) -> list[str]:
    """Plain statements of one scenario's level on the key KPIs (no comparison)."""
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


def sweep_sentences(sweep: pd.DataFrame, design: Sequence[str], kpis: Sequence[str] = LEAD,
                    x: str | None = None) -> list[str]:
    """Lowest vs highest value of the swept parameter, paired by replication (common random
    numbers), per combination of the other varied parameters."""
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
            out.append(f"{prefix} {_bare(parameter_label(x))} from "
                       f"{formatting.number(float(lo_x))} to {formatting.number(float(hi_x))} "
                       + _join(changes) + ".")
    return out


def transfer_sentences(sweep: pd.DataFrame, design: Sequence[str], target: float = 0.9
                       ) -> list[str]:
    """The smallest team meeting the deadline in at least ``target`` of replications."""
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
            best = p.index[int(p.to_numpy().argmax())]
            out.append(f"With {who}, no team size tried (up to "
                       f"{formatting.number(p.index.max())}) met the deadline in "
                       f"{formatting.percent(target)} of replications (best: "
                       f"{formatting.percent(p.max())} at {formatting.number(best)}).")
        else:
            size = ok.index.min()
            out.append(f"With {who}, {formatting.number(size)} people were the smallest team "
                       f"that met the deadline in at least {formatting.percent(target)} of "
                       f"replications ({formatting.percent(p[size])}).")
    return out


# ---- the summary of a folder ------------------------------------------------------------------


def summary_paragraphs(data: AnalysisData) -> list[str]:
    """The plain-language summary of a results folder, one paragraph per string."""
    if data.kind == "explore":
        assert data.futures is not None
        assert data.robustness is not None
        assert data.discovery is not None
        return summary_sentences(data.futures, data.robustness, data.discovery)
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
        comparison = compare_table(frames, [k for k in HEADLINE if k in reps.columns])
    kpis = compared_kpis(comparison)
    ladder = bool(data.manifest.get("ladder")) and data.comparison is not None
    findings = findings_from_comparison(comparison, names, kpis, ladder=ladder)
    pairs = [[f for f in findings if f.other == other] for other in names[1:]]
    leads = [lead for lead in (pair_lead(p) for p in pairs) if lead]
    out = [" ".join(leads)] if leads else []
    out.extend(" ".join(d) for d in (pair_details(p) for p in pairs) if d)
    ambition = [a for a in (ambition_sentence(n, reps[reps["scenario"] == n]) for n in names)
                if a]
    if ambition:
        out.append(" ".join(ambition))
    return out
