"""KPIs and monthly time series of one replication (after warm-up), costs and benefits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simsource.model.ideas import STAGES
from simsource.model.monitor import MONTH_DAYS
from simsource.scenario.schema import DOMAINS

if TYPE_CHECKING:
    from simsource.model.world import World


def _div(a: float, b: float) -> float:
    return a / b if b else math.nan


def _staff_years(w: World, attr: str) -> float:
    """Person-years of staff or consultants employed inside the KPI window."""
    c = w.sc.coordination
    steps = [(st.until_day, getattr(st, attr)) for st in c.plan] + [(math.inf, getattr(c, attr))]
    total, start = 0.0, 0.0
    for until, n in steps:
        lo, hi = max(start, w.warmup), min(until, w.horizon)
        if hi > lo:
            total += n * (hi - lo)
        start = until
    return total / w.sc.scenario.working_days_per_year


def _fees_per_year(w: World) -> float:
    """Mean yearly operations fees over the window (contract years start at day 0)."""
    days = w.sc.scenario.working_days_per_year
    t, total = w.warmup, 0.0
    while t < w.horizon - 1e-9:
        year = int(t // days + 1e-9)
        end = min((year + 1) * days, w.horizon)
        total += sum(s.fee_msek_per_year(year) for s in w.suppliers.values()) * (end - t) / days
        t = end
    return total / ((w.horizon - w.warmup) / days)


def collect_kpis(w: World) -> dict[str, float]:
    sc = w.sc
    days = sc.scenario.working_days_per_year
    years = (w.horizon - w.warmup) / days
    k: dict[str, float] = {}
    k["ideas_per_year"] = w.ideas_created.window / years
    implemented = sum(c.window for c in w.implemented_by_domain.values())
    k["innovations_per_year"] = implemented / years
    for d in DOMAINS:
        k[f"innovations_{d}_per_year"] = w.implemented_by_domain[d].window / years
    for st in STAGES:
        entered, passed = w.stage_entered[st].window, w.stage_passed[st].window
        k[f"funnel_in_{st}_per_year"] = entered / years
        k[f"funnel_out_{st}_per_year"] = passed / years
    # pass rate per stage: ideas that left the stage in the window and passed / all that left
    for st in STAGES:
        left = w.stage_time_n[st]
        k[f"pass_rate_{st}"] = _div(w.stage_passed_left[st], left)
    k["implemented_per_year"] = k["innovations_per_year"]
    lt = np.asarray(w.lead_times)
    k["lead_time_days_median"] = float(np.median(lt)) if lt.size else math.nan
    k["lead_time_days_p90"] = float(np.quantile(lt, 0.9)) if lt.size else math.nan
    k["lead_time_days_mean"] = float(lt.mean()) if lt.size else math.nan
    for st in STAGES:
        k[f"wait_{st}_days_mean"] = _div(w.stage_wait_sum[st], w.stage_wait_n[st])
        k[f"time_in_{st}_days_mean"] = _div(w.stage_time_sum[st], w.stage_time_n[st])
        k[f"wip_{st}_mean"] = w.wip_bins[st].window / (w.horizon - w.warmup)
    in_funnel = sum(lvl.value for lvl in w.wip.values())
    waiting_gate = w.ideas_total - w.ideas_implemented - w.ideas_dropped - in_funnel
    k["backlog_end"] = float(in_funnel + waiting_gate)
    # coordinators
    avail = w.coord.available.window
    busy = {kind: b.window for kind, b in w.coord.busy.items()}
    all_busy = sum(busy.values())
    k["coordinator_utilisation"] = _div(all_busy, avail)
    for kind, v in busy.items():
        k[f"coordinator_utilisation_{kind}"] = _div(v, avail)
    k["operations_share_of_unit_effort"] = _div(
        busy["triage"] + busy["governance"] + busy["handoff"], all_busy)
    k["coordinator_preemptions"] = float(w.preemptions)
    # operations
    k["incidents_per_year"] = w.incidents.window / years
    k["sla_breach_share"] = _div(w.sla_breaches.window, w.incidents.window)
    k["between_chairs_per_year"] = w.between_chairs.window / years
    sup_avail = sum(s.spec.staff for s in w.suppliers.values()) * (w.horizon - w.warmup)
    sup_busy = sum(s.busy_incidents.window + s.busy_projects.window
                   for s in w.suppliers.values())
    k["supplier_utilisation"] = _div(sup_busy, sup_avail)
    # costs (MSEK/year over the window)
    c = sc.coordination
    k["cost_operations_msek_per_year"] = _fees_per_year(w)
    k["cost_coordination_msek_per_year"] = (_staff_years(w, "staff")
                                            * c.staff_cost_msek_per_year / years)
    k["cost_consultants_msek_per_year"] = (_staff_years(w, "consultants")
                                           * c.consultant_cost_msek_per_year / years)
    k["cost_innovation_msek_per_year"] = w.innovation_cost_window / years
    k["cost_partnership_msek_per_year"] = w.effects.fixed_cost_msek_per_year()
    tr = w.transition.kpis(w.horizon) if w.transition is not None else None
    k["cost_transfer_msek_per_year"] = (w.transition.cost_window_msek / years
                                        if w.transition is not None else 0.0)
    k["cost_total_msek_per_year"] = sum(
        k[f"cost_{x}_msek_per_year"]
        for x in ("operations", "coordination", "consultants", "innovation", "partnership",
                  "transfer"))
    k["benefit_msek_per_year"] = w.benefit_window / days / years
    k["ambition_innovations_per_year"] = sc.ambition.innovations_per_year
    k["innovation_capacity_ratio"] = _div(k["innovations_per_year"],
                                          sc.ambition.innovations_per_year)
    for name in ("transition_finish_day", "transition_deadline_met", "transition_systems_late",
                 "transition_disruption_days", "transition_cost_msek"):
        k[name] = tr[name] if tr else math.nan
    # whole-run counters
    k["ideas_total"] = float(w.ideas_total)
    k["ideas_implemented"] = float(w.ideas_implemented)
    k["ideas_dropped"] = float(w.ideas_dropped)
    k["ideas_in_funnel"] = float(w.ideas_total - w.ideas_implemented - w.ideas_dropped)
    return k


def collect_timeseries(w: World) -> dict[str, list[float]]:
    n = w.coord.available.months
    avail = w.coord.available.values
    ts: dict[str, list[float]] = {
        "month": [float(m) for m in range(n)],
        "day": [min((m + 1) * MONTH_DAYS, w.horizon) for m in range(n)],
    }
    ts["warmup"] = [1.0 if (m + 1) * MONTH_DAYS <= w.warmup + 1e-9 else 0.0 for m in range(n)]
    lengths = [min((m + 1) * MONTH_DAYS, w.horizon) - m * MONTH_DAYS for m in range(n)]
    for st in STAGES:
        ts[f"wip_{st}"] = [v / ln for v, ln in zip(w.wip_bins[st].values, lengths, strict=True)]
    for kind, b in w.coord.busy.items():
        ts[f"load_{kind}"] = [_div(v, a) if a else 0.0 for v, a in
                              zip(b.values, avail, strict=True)]
    ts["capacity"] = [a / ln for a, ln in zip(avail, lengths, strict=True)]
    ts["incidents_open"] = [v / ln for v, ln in
                            zip(w.incident_open.values, lengths, strict=True)]
    ts["implemented"] = list(w.implemented_month.values)
    return ts
