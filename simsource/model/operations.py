"""Operations: incidents, who owns them, and "between chairs" (MODEL.md §3, §9).

Incidents arrive per area (Poisson). Each has a true owner (the supplier of its area); a share
touches a second area too (``cross_area_share``), and when that area belongs to another supplier
the incident spans suppliers: it needs the digitalisation unit's triage first and resolves slower
(``cross_supplier_multiplier``, Herbsleb & Mockus 2003).

**Ownership** decides the rest. The owners that *border* a symptom are the true owner, the owner
of the second area, the owner of an area the symptom also points at (``symptom_ambiguity``)
and, for a share of incidents (``application_boundary_share``), the business application owner
— a boundary that exists with one supplier too. The reporter sends the incident to the owner it
guesses: the right one with probability ``service_integration``, else one of the bordering
owners at random. A wrongly chosen supplier spends diagnosis time (its own staff) and bounces the
incident; a wrongly chosen application owner takes calendar time to bounce it. The reporter then
guesses again among the owners left, until the right owner has it or, after
``triage_after_bounces`` bounces, a coordinator triages it (top coordinator priority).

An incident is **between chairs** when it was unowned for longer than
``between_chairs_after_days`` or bounced more than ``between_chairs_bounces`` times — the
blame game, emergent from ownership boundaries, not from calendars.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import APP_OWNER, PRIO_TRIAGE, SUP_INCIDENT
from simsource.model.rng import Draws, expo, pick
from simsource.model.sources import poisson_rate_per_day

if TYPE_CHECKING:
    from simsource.model.suppliers import SupplierActor
    from simsource.model.world import World

# draws of one incident
INCIDENT_WIDTH = 20
_ROUTE = 9          # (skill, pick, diagnosis) per routing round from here
MAX_ROUTING_ROUNDS = 3


class Incident:
    __slots__ = ("area", "border", "cross", "d", "id", "second", "t0")

    def __init__(self, iid: int, area: str, second: str | None, border: list[str],
                 cross: bool, d: Draws, t0: float) -> None:
        self.id = iid
        self.area = area
        self.second = second
        self.border = border
        self.cross = cross
        self.d = d
        self.t0 = t0


def plain_incident(w: World, iid: int, area: str, sup: SupplierActor, effort: float
                   ) -> Generator[simpy.Event, Any, None]:
    """The common case, kept lean (the hot path): the owner has it at once and resolves it."""
    env, rec = w.env, w.rec
    t0 = env._now
    rec.incidents.hit(t0)
    rec.open_incidents[iid] = t0
    if rec.events is not None:
        rec.trace(t0, "incident", iid, "arrives", area, f"effort {effort:.5f} days", sup.name)
        rec.trace(t0, "incident", iid, "owned", area, "at once", sup.name)
    staff = sup.staff
    yield staff.request(SUP_INCIDENT)
    now = env._now
    sup.books.busy_incidents.add_interval(now, now + effort)   # booked ahead (non-preemptive)
    yield env.timeout(effort)
    staff.release(False)
    rec.incident_resolved(env._now, iid)
    if rec.events is not None:
        rec.trace(env.now, "incident", iid, "resolved", area, "", sup.name)


def _route(w: World, inc: Incident) -> Generator[simpy.Event, Any, int]:
    """Send the incident from owner to owner until its owner has it; returns the bounces."""
    env, ops, rec = w.env, w.sc.operations, w.rec
    owner = w.owner[inc.area]
    candidates = list(inc.border)
    skill = ops.service_integration
    bounces = 0
    for r in range(min(ops.triage_after_bounces, MAX_ROUTING_ROUNDS)):
        u_skill, u_pick, u_diag = inc.d[_ROUTE + 3 * r: _ROUTE + 3 * r + 3]
        chosen = owner if u_skill < skill else candidates[pick(u_pick, len(candidates))]
        if chosen == owner:
            return bounces
        if bounces == 0:
            rec.misrouted.hit(inc.t0)
        if chosen == APP_OWNER:
            wait = expo(u_diag) * ops.application_owner_delay_days
            if wait > 0:
                yield env.timeout(wait)
        else:
            effort = expo(u_diag) * ops.misroute_diagnosis_days
            if effort > 0:
                yield from w.suppliers[chosen].resolve(effort)
        bounces += 1
        rec.incident_bounced(env.now, inc.id)
        if rec.events is not None:
            rec.trace(env.now, "incident", inc.id, "bounced", inc.area, f"not {chosen}'s",
                      chosen)
        candidates.remove(chosen)
    # still not with its owner: the unit triages it
    yield from _triage(w, inc)
    return bounces


def _triage(w: World, inc: Incident) -> Generator[simpy.Event, Any, None]:
    effort = expo(inc.d[8]) * w.sc.coordination.triage_effort_days
    w.rec.triaged.hit(w.env.now)
    yield from w.coord.work(effort, PRIO_TRIAGE, "triage", preempt=True)


def incident(w: World, inc: Incident) -> Generator[simpy.Event, Any, None]:
    """An incident that may not reach its owner at once, span suppliers or meet the transfer."""
    env, ops, rec = w.env, w.sc.operations, w.rec
    rec.incident_arrived(inc.t0, inc.id)
    owner = w.owner[inc.area]
    effort = expo(inc.d[2]) * ops.resolution_effort_days
    if rec.events is not None:
        rec.trace(env.now, "incident", inc.id, "arrives", inc.area,
                  f"effort {effort:.5f} days, bordering {len(inc.border)} owners", owner)
    if inc.cross:
        yield from _triage(w, inc)
        bounces = 0
    elif len(inc.border) > 1:
        bounces = yield from _route(w, inc)
    else:
        bounces = 0
    rec.incident_owned(env.now, inc.id, bounces)
    if rec.events is not None:
        rec.trace(env.now, "incident", inc.id, "owned", inc.area,
                  f"after {env.now - inc.t0:.1f} days, {bounces} bounces", owner)
    if rec.events is not None and (env.now - inc.t0 > ops.between_chairs_after_days
                                   or bounces > ops.between_chairs_bounces):
        rec.trace(env.now, "incident", inc.id, "between chairs", inc.area,
                  f"unowned {env.now - inc.t0:.1f} days, {bounces} bounces", owner)
    if inc.cross:
        effort *= ops.cross_supplier_multiplier
    tr = w.transition
    if tr is not None and tr.in_transfer(inc.area):
        effort *= tr.spec.disruption_resolution_factor
        if tr.shared_now() and inc.d[7] < tr.spec.shared_incident_share:
            yield from tr.team.work(effort, 0, "incident", preempt=True)
            rec.incident_resolved(env.now, inc.id)
            rec.trace(env.now, "incident", inc.id, "resolved", inc.area, "", "transfer team")
            return
    yield from w.suppliers[owner].resolve(effort)
    rec.incident_resolved(env.now, inc.id)
    if rec.events is not None:
        rec.trace(env.now, "incident", inc.id, "resolved", inc.area, "", owner)


def incident_source(w: World, area: str, rate_per_day: float
                    ) -> Generator[simpy.Event, Any, None]:
    """Poisson incidents of one area. Incident *k* of the area always reads the same draws,
    whatever the ownership, the cross-area share or the transfer (common random numbers)."""
    env, ops = w.env, w.sc.operations
    arrivals = w.streams[f"incident-arrivals.{area}"]
    draws = w.streams.entities(f"incident.{area}", INCIDENT_WIDTH)
    areas = w.sc.scenario.areas
    others = [a for a in areas if a != area]
    tr = w.transition
    peak = tr.spec.disruption_incident_factor if tr is not None else 1.0
    mean_gap = 1.0 / (rate_per_day * peak)
    owner = w.owner[area]
    sup = w.suppliers[owner]
    effort_mean = ops.resolution_effort_days
    cross_share, ambiguity = ops.cross_area_share, ops.symptom_ambiguity
    app_share = ops.application_boundary_share
    while True:
        yield env.timeout(arrivals.expo(mean_gap))
        d = draws.next()
        if peak > 1.0 and tr is not None:   # thinning: more incidents in areas in transfer
            factor = tr.spec.disruption_incident_factor if tr.in_transfer(area) else 1.0
            if d[6] * peak >= factor:
                continue
        iid = w.new_incident_id()
        second = others[pick(d[1], len(others))] if others and d[0] < cross_share else None
        border = [owner]
        if second is not None and w.owner[second] != owner:
            border.append(w.owner[second])
        if others and d[3] < ambiguity:
            o = w.owner[others[pick(d[4], len(others))]]
            if o not in border:
                border.append(o)
        if d[5] < app_share:
            border.append(APP_OWNER)
        cross = second is not None and w.owner[second] != owner
        if len(border) == 1 and tr is None:
            env.process(plain_incident(w, iid, area, sup, expo(d[2]) * effort_mean))
            continue
        env.process(incident(w, Incident(iid, area, second, border, cross, d, env.now)))


def start_incidents(w: World) -> None:
    sc = w.sc
    if not sc.operations.enabled:
        return
    days = sc.scenario.working_days_per_year
    for area in sc.scenario.areas:
        rate = poisson_rate_per_day(sc.operations.incidents_per_year.get(area, 0.0), days)
        if rate is not None:
            w.env.process(incident_source(w, area, rate))
