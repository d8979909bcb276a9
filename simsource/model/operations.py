"""Operations: incidents per area and periodic supplier governance (MODEL.md §3).

Incidents arrive per area (Poisson). A share touches a second area; when the two areas belong
to different suppliers the incident first needs coordinator *triage* (top coordinator priority)
and resolves slower (``cross_supplier_multiplier``). A cross-supplier incident that waits longer
than ``between_chairs_after_days`` for a coordinator is counted as *between chairs* — an
emergent figure, not a dice roll. Governance is recurring coordinator work per supplier (a) and
per supplier pair (b): ``a·n + b·n(n-1)/2`` FTE (Brooks' interfaces).
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.funnel import PRIO_GOVERNANCE, PRIO_TRIAGE

if TYPE_CHECKING:
    from simsource.model.world import World


def incident(w: World, iid: int, area: str, second: str | None, e_res: float, e_tri: float,
             u_pre: float, u_team: float) -> Generator[simpy.Event, Any, None]:
    env, ops = w.env, w.sc.operations
    t0 = env.now
    owner = w.owner[area]
    cross = second is not None and w.owner[second] != owner
    effort = e_res * ops.resolution_effort_days
    if cross:
        effort *= ops.cross_supplier_multiplier
    tr = w.transition
    disrupted = tr is not None and tr.in_transfer(area)
    if disrupted and tr is not None:
        effort *= tr.spec.disruption_resolution_factor
    w.incident_open.change(t0, +1)
    w.incidents.hit(t0)
    w.open_incidents[iid] = t0
    if cross:
        w.awaiting_triage[iid] = t0
        waited = [0.0]

        def started(wait: float) -> None:
            waited[0] = wait

        yield from w.coord.work(e_tri * w.sc.coordination.triage_effort_days, PRIO_TRIAGE,
                                "triage", preempt=u_pre < w.effects.preempt_prob,
                                on_start=started)
        del w.awaiting_triage[iid]
        if waited[0] > ops.between_chairs_after_days:
            w.between_chairs.hit(t0)
            w.trace_incident(iid, area, "between chairs",
                             f"waited {waited[0]:.1f} days for coordination")
    if disrupted and tr is not None and tr.shared_now() \
            and u_team < tr.spec.shared_incident_share:
        yield from tr.team.work(effort, 0, "incident", preempt=True)
    else:
        yield from w.suppliers[owner].resolve(effort)
    w.incident_open.change(env.now, -1)
    del w.open_incidents[iid]
    if env.now - t0 > ops.sla_days:
        w.sla_breaches.hit(t0)


def incident_source(w: World, area: str, rate_per_day: float
                    ) -> Generator[simpy.Event, Any, None]:
    env, ops = w.env, w.sc.operations
    s = w.streams[f"incidents.{area}"]
    others = [a for a in w.sc.scenario.areas if a != area]
    tr = w.transition
    peak = tr.spec.disruption_incident_factor if tr is not None else 1.0
    mean_gap = 1.0 / (rate_per_day * peak)
    while True:
        yield env.timeout(s.expo(mean_gap))
        u_accept, u_cross, u_other, u_pre = s.uniform(), s.uniform(), s.uniform(), s.uniform()
        u_team = s.uniform()
        e_res, e_tri = s.expo(1.0), s.expo(1.0)
        factor = peak if (tr is not None and tr.in_transfer(area)) else 1.0
        if u_accept * peak >= factor:       # thinning: disruption raises the rate in transfer
            continue
        second = None
        if others and u_cross < ops.cross_area_share:
            second = others[int(u_other * len(others)) % len(others)]
        w.next_incident_id += 1
        env.process(incident(w, w.next_incident_id, area, second, e_res, e_tri, u_pre,
                                     u_team))


def governance(w: World, effort: float, label: str) -> Generator[simpy.Event, Any, None]:
    """Recurring governance work of ``effort`` person-days every interval."""
    env = w.env
    interval = w.sc.coordination.governance_interval_days
    s = w.streams[f"governance.{label}"]
    while True:
        pre = s.uniform() < w.effects.preempt_prob
        env.process(w.coord.work(effort, PRIO_GOVERNANCE, "governance", preempt=pre))
        yield env.timeout(interval)


def start_operations(w: World) -> None:
    sc = w.sc
    days = sc.scenario.working_days_per_year
    if sc.operations.enabled:
        for area in sc.scenario.areas:
            rate = sc.operations.incidents_per_year.get(area, 0.0)
            if rate > 0:
                w.env.process(incident_source(w, area, rate / days))
    c = sc.coordination
    if c.governance:
        interval = c.governance_interval_days
        names = sorted(sc.suppliers)
        for name in names:
            if c.governance_fte_per_supplier > 0:
                w.env.process(governance(w, c.governance_fte_per_supplier * interval, name))
        for a, b in itertools.combinations(names, 2):
            if c.governance_fte_per_pair > 0:
                w.env.process(governance(w, c.governance_fte_per_pair * interval, f"{a}+{b}"))
