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
from simsource.model.ideas import poisson_rate_per_day
from simsource.model.suppliers import PRIO_INCIDENT, SupplierActor

if TYPE_CHECKING:
    from simsource.model.world import World


def incident(w: World, iid: int, area: str, second: str | None, e_res: float, e_tri: float,
             u_pre: float, u_team: float) -> Generator[simpy.Event, Any, None]:
    """An incident that needs more than its supplier: cross-supplier triage or the transfer."""
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
    _resolved(w, iid, t0)


def plain_incident(w: World, iid: int, sup: SupplierActor, effort: float
                   ) -> Generator[simpy.Event, Any, None]:
    """The common case, kept lean (the hot path): the owning supplier resolves it."""
    env = w.env
    t0 = env.now
    w.incidents.hit(t0)
    w.open_incidents[iid] = t0
    yield sup.res.request(PRIO_INCIDENT)
    now = env.now
    sup.busy_incidents.add_interval(now, now + effort)   # booked ahead (non-preemptive)
    yield env.timeout(effort)
    sup.res.release()
    _resolved(w, iid, t0)


def _resolved(w: World, iid: int, t0: float) -> None:
    now = w.env.now
    w.incident_open.add_interval(t0, now)
    del w.open_incidents[iid]
    if now - t0 > w.sc.operations.sla_days:
        w.sla_breaches.hit(t0)


def incident_source(w: World, area: str, rate_per_day: float
                    ) -> Generator[simpy.Event, Any, None]:
    """Poisson incidents of one area. Draws depend only on inputs that scenarios compared
    with common random numbers share (the areas, the cross-area share), never on who owns
    which area, so single- and multi-sourced runs see the same incidents."""
    env, ops = w.env, w.sc.operations
    s = w.streams[f"incidents.{area}"]
    uniform, expo = s.uniform, s.expo
    others = [a for a in w.sc.scenario.areas if a != area]
    tr = w.transition
    peak = tr.spec.disruption_incident_factor if tr is not None else 1.0
    mean_gap = 1.0 / (rate_per_day * peak)
    sup = w.suppliers[w.owner[area]]
    effort_mean = ops.resolution_effort_days
    cross_share = ops.cross_area_share
    while True:
        yield env.timeout(expo(mean_gap))
        u_cross, u_other, e_res = uniform(), uniform(), expo(1.0)
        u_accept = u_team = 0.0
        if tr is not None:
            u_accept, u_team = uniform(), uniform()
            factor = peak if tr.in_transfer(area) else 1.0
            if u_accept * peak >= factor:   # thinning: disruption raises the rate in transfer
                continue
        second = None
        if others and u_cross < cross_share:
            second = others[int(u_other * len(others)) % len(others)]
        w.next_incident_id += 1
        if second is None and tr is None:
            env.process(plain_incident(w, w.next_incident_id, sup, e_res * effort_mean))
            continue
        e_tri, u_pre = (expo(1.0), uniform()) if second is not None else (0.0, 1.0)
        env.process(incident(w, w.next_incident_id, area, second, e_res, e_tri, u_pre, u_team))


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
            rate = poisson_rate_per_day(sc.operations.incidents_per_year.get(area, 0.0), days)
            if rate is not None:
                w.env.process(incident_source(w, area, rate))
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
