"""KPIs and monthly time series of one replication, read from its recorder only.

Everything is measured over the KPI window ``[warm-up, horizon]``; rates are per year of the
window. Costs are MSEK per year of the window; benefits are defined in :func:`_benefits`.
"""

from __future__ import annotations

import math

import numpy as np

from simsource.model.core import MONTH_DAYS, OPS_KINDS, STAGES
from simsource.model.leadtime import km_quantiles
from simsource.model.partnership import PartnershipEffects
from simsource.model.recorder import Recorder
from simsource.scenario.schema import DOMAINS

#: The funnel is *stable* when its backlog grows by less than this share of the idea inflow a
#: year (OLS trend of the monthly mean backlog over the KPI window; an unstable queue grows at
#: its excess arrival rate λ − μ).
STABLE_GROWTH_SHARE = 0.10


def _div(a: float, b: float) -> float:
    return a / b if b else math.nan


def _staff_years(rec: Recorder, attr: str) -> float:
    """Person-years of staff or consultants employed inside the KPI window."""
    c = rec.sc.coordination
    steps = [(st.until_day, getattr(st, attr)) for st in c.plan] + [(math.inf, getattr(c, attr))]
    total, start = 0.0, 0.0
    for until, n in steps:
        lo, hi = max(start, rec.warmup), min(until, rec.horizon)
        if hi > lo:
            total += n * (hi - lo)
        start = until
    return total / rec.days_per_year


def _fees_per_year(rec: Recorder) -> float:
    """Mean yearly operations fees over the window (contract years start at day 0)."""
    days = rec.days_per_year
    t, total = rec.warmup, 0.0
    while t < rec.horizon - 1e-9:
        year = int(t // days + 1e-9)
        end = min((year + 1) * days, rec.horizon)
        fees = sum(b.fees_by_year[min(year, len(b.fees_by_year) - 1)]
                   for b in rec.suppliers.values() if b.fees_by_year)
        total += fees * (end - t) / days
        t = end
    return total / ((rec.horizon - rec.warmup) / days)


def _backlog_trend(rec: Recorder) -> float:
    """OLS slope of the monthly mean number of ideas in the funnel over the window, per year."""
    first = math.ceil(rec.warmup / MONTH_DAYS - 1e-9)
    xs, ys = [], []
    for m, v in enumerate(rec.in_funnel_bins.values):
        start, end = m * MONTH_DAYS, min((m + 1) * MONTH_DAYS, rec.horizon)
        if m >= first and end > start:
            xs.append(0.5 * (start + end))
            ys.append(v / (end - start))
    if len(xs) < 3:
        return math.nan
    slope = float(np.polyfit(np.asarray(xs), np.asarray(ys), 1)[0])
    return slope * rec.days_per_year


def _benefits(rec: Recorder, k: dict[str, float], years: float) -> None:
    """Benefit of the innovations implemented in the window, over their whole lifetime.

    An implemented idea yields its value (MSEK/year) for ``ideas.benefit_lifetime_years``,
    ramping up linearly over ``ideas.adoption_lag_days``. ``benefit_msek_per_year`` is that
    lifetime value (undiscounted) per year of the window; ``benefit_npv_msek`` discounts it at
    ``budget.discount_rate`` to the start of the window and subtracts the innovation spending of
    the window (all projects, failed ones included), discounted the same way.
    """
    sc = rec.sc
    days = rec.days_per_year
    life = sc.ideas.benefit_lifetime_years
    lag = min(sc.ideas.adoption_lag_days / days, life)
    r = sc.budget.discount_rate
    delta = math.log1p(r)                      # continuous rate per year
    total, pv = 0.0, 0.0
    for t, value in rec.implemented_values:
        total += value * (life - 0.5 * lag)
        t0 = (t - rec.warmup) / days
        pv += value * _pv_ramp(delta, lag, life) * math.exp(-delta * t0)
    cost_pv = sum(msek * math.exp(-delta * (t - rec.warmup) / days)
                  for t, msek in rec.innovation_spend)
    k["benefit_msek_per_year"] = total / years
    k["benefit_npv_msek"] = pv - cost_pv


def _pv_ramp(delta: float, lag: float, life: float) -> float:
    """Present value (at implementation) of 1 MSEK/year ramping up linearly over ``lag`` years,
    then flat until ``life`` years."""
    if delta <= 0:
        return life - 0.5 * lag
    ramp = 0.0
    if lag > 0:   # ∫0^lag (t/lag) e^{-δt} dt
        ramp = (1.0 - math.exp(-delta * lag) * (1.0 + delta * lag)) / (delta * delta * lag)
    flat = (math.exp(-delta * lag) - math.exp(-delta * life)) / delta
    return ramp + flat


def collect_kpis(rec: Recorder) -> dict[str, float]:
    sc = rec.sc
    window = rec.horizon - rec.warmup
    years = window / rec.days_per_year
    k: dict[str, float] = {}
    # ---- ideas and the funnel
    k["ideas_per_year"] = rec.ideas_created.window / years
    k["ideas_from_suppliers_per_year"] = rec.ideas_from_suppliers.window / years
    k["ideas_embedded_per_year"] = rec.ideas_embedded.window / years
    implemented = sum(c.window for c in rec.implemented_by_domain.values())
    k["innovations_per_year"] = implemented / years
    for d in DOMAINS:
        k[f"innovations_{d}_per_year"] = rec.implemented_by_domain[d].window / years
    for st in STAGES:
        k[f"funnel_in_{st}_per_year"] = rec.stage_entered[st].window / years
        k[f"funnel_out_{st}_per_year"] = rec.stage_passed[st].window / years
    for st in STAGES:
        k[f"pass_rate_{st}"] = _div(rec.stage_passed_left[st], rec.stage_time_n[st])
    k["implemented_per_year"] = k["innovations_per_year"]    # deprecated alias (v0.1)
    k["decisions_escalated_per_year"] = rec.decisions_escalated.window / years
    k["decisions_rejected_per_year"] = rec.decisions_rejected.window / years
    # ---- lead times: Kaplan–Meier with the unfinished ideas censored, and completed only
    lt = np.asarray(rec.lead_times)
    waiting = [rec.horizon - t0 for t0 in rec.open_ideas.values()]
    km50, km90 = km_quantiles(rec.lead_times, waiting)
    k["lead_time_days_median"] = km50
    k["lead_time_days_p90"] = km90
    k["lead_time_days_median_completed"] = float(np.median(lt)) if lt.size else math.nan
    k["lead_time_days_p90_completed"] = float(np.quantile(lt, 0.9)) if lt.size else math.nan
    k["lead_time_days_mean"] = float(lt.mean()) if lt.size else math.nan
    k["lead_time_censored_share"] = _div(len(waiting), len(waiting) + lt.size)
    for st in STAGES:
        k[f"wait_{st}_days_mean"] = _div(rec.stage_wait_sum[st], rec.stage_wait_n[st])
        k[f"time_in_{st}_days_mean"] = _div(rec.stage_time_sum[st], rec.stage_time_n[st])
        k[f"wip_{st}_mean"] = rec.wip_bins[st].window / window
    k["backlog_end"] = float(len(rec.open_ideas))
    growth = _backlog_trend(rec)
    k["backlog_growth_per_year"] = growth
    limit = STABLE_GROWTH_SHARE * max(k["ideas_per_year"], 10.0)
    k["funnel_stable"] = float(not growth > limit)
    # ---- coordinators
    avail = rec.coord_available.window
    busy = {kind: b.window for kind, b in rec.coord_busy.items()}
    all_busy = sum(busy.values())
    k["coordinator_utilisation"] = _div(all_busy, avail)
    for kind, v in busy.items():
        k[f"coordinator_utilisation_{kind}"] = _div(v, avail)
    k["operations_share_of_unit_effort"] = _div(sum(busy[x] for x in OPS_KINDS), all_busy)
    k["coordinator_preemptions"] = float(rec.preemptions)
    k["embedded_share_mean"] = _div(rec.embedded_share_sum, rec.embedded_share_n)
    # ---- operations
    n_inc = rec.incidents.window
    k["incidents_per_year"] = n_inc / years
    k["sla_breach_share"] = _div(rec.sla_breaches.window, n_inc)
    k["between_chairs_per_year"] = rec.between_chairs.window / years
    k["misrouted_share"] = _div(rec.misrouted.window, n_inc)
    k["incident_bounces_per_year"] = rec.bounces.window / years
    k["incidents_triaged_per_year"] = rec.triaged.window / years
    k["change_requests_per_year"] = rec.change_requests.window / years
    k["change_requests_negotiated_share"] = _div(rec.change_negotiated.window,
                                                 rec.change_requests.window)
    k["change_negotiation_rounds_mean"] = _div(rec.change_rounds, rec.change_negotiated.window)
    books = rec.suppliers.values()
    sup_avail = sum(b.staff for b in books) * window
    k["supplier_utilisation"] = _div(sum(b.busy_incidents.window + b.busy_changes.window
                                         for b in books), sup_avail)
    k["supplier_improvement_share"] = _div(sum(b.busy_improvement.window for b in books),
                                           sup_avail)
    # ---- costs (MSEK/year over the window)
    c = sc.coordination
    k["cost_operations_msek_per_year"] = _fees_per_year(rec)
    k["cost_coordination_msek_per_year"] = (_staff_years(rec, "staff")
                                            * c.staff_cost_msek_per_year / years)
    k["cost_consultants_msek_per_year"] = (_staff_years(rec, "consultants")
                                           * c.consultant_cost_msek_per_year / years)
    k["cost_innovation_msek_per_year"] = sum(m for _, m in rec.innovation_spend) / years
    k["cost_changes_msek_per_year"] = rec.operational_change_cost / years
    k["cost_integration_msek_per_year"] = (sc.operations.service_integration
                                           * sc.operations.service_integration_cost_msek_per_year)
    k["cost_partnership_msek_per_year"] = PartnershipEffects(
        sc.partnership).fixed_cost_msek_per_year()
    k["cost_transfer_msek_per_year"] = rec.transfer_cost_window / years
    k["cost_total_msek_per_year"] = sum(
        k[f"cost_{x}_msek_per_year"]
        for x in ("operations", "coordination", "consultants", "innovation", "changes",
                  "integration", "partnership", "transfer"))
    k["budget_lapsed_msek_per_year"] = rec.budget_lapsed / years
    k["budget_reinvested_msek_per_year"] = rec.budget_reinvested / years
    _benefits(rec, k, years)
    k["ambition_innovations_per_year"] = sc.ambition.innovations_per_year
    k["innovation_capacity_ratio"] = _div(k["innovations_per_year"],
                                          sc.ambition.innovations_per_year)
    tr = rec.transition
    for name in ("transition_finish_day", "transition_deadline_met", "transition_systems_late",
                 "transition_disruption_days", "transition_cost_msek"):
        k[name] = tr[name] if tr else math.nan
    # ---- whole-run counters
    k["ideas_total"] = float(rec.ideas_total)
    k["ideas_implemented"] = float(rec.ideas_implemented)
    k["ideas_dropped"] = float(rec.ideas_dropped)
    k["ideas_in_funnel"] = float(len(rec.open_ideas))
    return k


def collect_timeseries(rec: Recorder) -> dict[str, list[float]]:
    n = rec.coord_available.months
    avail = rec.coord_available.values
    ts: dict[str, list[float]] = {
        "month": [float(m) for m in range(n)],
        "day": [min((m + 1) * MONTH_DAYS, rec.horizon) for m in range(n)],
    }
    ts["warmup"] = [1.0 if (m + 1) * MONTH_DAYS <= rec.warmup + 1e-9 else 0.0 for m in range(n)]
    lengths = [min((m + 1) * MONTH_DAYS, rec.horizon) - m * MONTH_DAYS for m in range(n)]
    for st in STAGES:
        ts[f"wip_{st}"] = [v / ln for v, ln in zip(rec.wip_bins[st].values, lengths, strict=True)]
    ts["backlog"] = [v / ln for v, ln in zip(rec.in_funnel_bins.values, lengths, strict=True)]
    for kind, b in rec.coord_busy.items():
        ts[f"load_{kind}"] = [_div(v, a) if a else 0.0 for v, a in
                              zip(b.values, avail, strict=True)]
    ts["capacity"] = [a / ln for a, ln in zip(avail, lengths, strict=True)]
    ts["incidents_open"] = [v / ln for v, ln in
                            zip(rec.incident_open.values, lengths, strict=True)]
    ts["implemented"] = list(rec.implemented_month.values)
    return ts
