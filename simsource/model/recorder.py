"""The recorder of one replication: every counter, monitor and event-log row.

The actors report what happens (``idea_created``, ``stage_in``, ``incident_resolved`` …);
the recorder keeps the KPI window's counts, time-weighted monitors and, when tracing, the event
log. :mod:`simsource.model.kpis` reads the recorder only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simsource.model.core import COORD_KINDS, STAGES
from simsource.model.monitor import Bins, Counter, Level
from simsource.scenario.schema import DOMAINS, Scenario


@dataclass
class SupplierBooks:
    """Busy time and fees of one supplier."""

    staff: int
    busy_incidents: Bins
    busy_changes: Bins
    busy_improvement: Bins
    fees_by_year: list[float] = field(default_factory=list)   # MSEK in contract year y


class Recorder:
    def __init__(self, sc: Scenario, trace: bool = False) -> None:
        self.sc = sc
        h = self.horizon = sc.horizon_days
        wu = self.warmup = sc.warmup_days
        self.days_per_year = sc.scenario.working_days_per_year
        self.events: list[dict[str, Any]] | None = [] if trace else None
        # funnel
        self.wip_bins = {st: Bins(h, wu) for st in STAGES}
        self.wip = {st: Level(self.wip_bins[st]) for st in STAGES}
        self.in_funnel_bins = Bins(h, wu)
        self.in_funnel = Level(self.in_funnel_bins)       # created and not yet done
        self.stage_entered = {st: Counter(wu, h) for st in STAGES}
        self.stage_passed = {st: Counter(wu, h) for st in STAGES}
        self.stage_wait_sum = dict.fromkeys(STAGES, 0.0)
        self.stage_wait_n = dict.fromkeys(STAGES, 0)
        self.stage_time_sum = dict.fromkeys(STAGES, 0.0)
        self.stage_time_n = dict.fromkeys(STAGES, 0)
        self.stage_passed_left = dict.fromkeys(STAGES, 0)
        self.ideas_created = Counter(wu, h)
        self.ideas_from_suppliers = Counter(wu, h)
        self.ideas_embedded = Counter(wu, h)
        self.implemented_by_domain = {d: Counter(wu, h) for d in DOMAINS}
        self.implemented_month = Bins(h, wu)
        self.lead_times: list[float] = []                   # implemented in the window
        self.open_ideas: dict[int, float] = {}              # id -> created, until done
        self.implemented_values: list[tuple[float, float]] = []   # (day, MSEK/year) in window
        self.innovation_spend: list[tuple[float, float]] = []     # (day, MSEK) in window
        self.ideas_total = 0
        self.ideas_implemented = 0
        self.ideas_dropped = 0
        self.decisions_escalated = Counter(wu, h)
        self.decisions_rejected = Counter(wu, h)
        # coordinators
        self.coord_busy = {k: Bins(h, wu) for k in COORD_KINDS}
        self.coord_available = Bins(h, wu)
        self.preemptions = 0
        self.embedded_share_sum = 0.0
        self.embedded_share_n = 0
        # operations
        self.incidents = Counter(wu, h)
        self.sla_breaches = Counter(wu, h)
        self.between_chairs = Counter(wu, h)
        self.misrouted = Counter(wu, h)
        self.bounces = Counter(wu, h)
        self.triaged = Counter(wu, h)
        self.incident_open = Bins(h, wu)
        self.open_incidents: dict[int, float] = {}          # id -> arrival, until resolved
        self.unowned: dict[int, tuple[float, int]] = {}      # id -> (arrival, bounces)
        # change requests
        self.change_requests = Counter(wu, h)
        self.change_negotiated = Counter(wu, h)
        self.change_rounds = 0
        # suppliers, budget
        self.suppliers: dict[str, SupplierBooks] = {}
        self.budget_lapsed = 0.0
        self.budget_appropriated = 0.0
        self.budget_reinvested = 0.0
        self.operational_change_cost = 0.0
        self.transition: dict[str, float] | None = None
        self.transfer_cost_window = 0.0

    def in_window(self, t: float) -> bool:
        return self.warmup <= t <= self.horizon

    def supplier_books(self, name: str, staff: int) -> SupplierBooks:
        h, wu = self.horizon, self.warmup
        b = SupplierBooks(staff, Bins(h, wu), Bins(h, wu), Bins(h, wu))
        self.suppliers[name] = b
        return b

    # ---- ideas ------------------------------------------------------------------------------
    def idea_created(self, now: float, idea_id: int, from_supplier: bool,
                     embedded: bool) -> None:
        self.ideas_total += 1
        self.ideas_created.hit(now)
        if from_supplier:
            self.ideas_from_suppliers.hit(now)
        if embedded:
            self.ideas_embedded.hit(now)
        self.open_ideas[idea_id] = now
        self.in_funnel.change(now, +1)

    def stage_in(self, now: float, stage: str) -> None:
        self.wip[stage].change(now, +1)
        self.stage_entered[stage].hit(now)

    def stage_out(self, now: float, stage: str, t_in: float, passed: bool) -> None:
        self.wip[stage].change(now, -1)
        if passed:
            self.stage_passed[stage].hit(now)
        if t_in >= self.warmup:
            self.stage_time_sum[stage] += now - t_in
            self.stage_time_n[stage] += 1
            self.stage_passed_left[stage] += passed

    def stage_wait(self, now: float, stage: str, wait: float) -> None:
        if now - wait >= self.warmup:
            self.stage_wait_sum[stage] += wait
            self.stage_wait_n[stage] += 1

    def idea_done(self, now: float, idea_id: int, domain: str, value: float,
                  implemented: bool) -> None:
        created = self.open_ideas.pop(idea_id)
        self.in_funnel.change(now, -1)
        if not implemented:
            self.ideas_dropped += 1
            return
        self.ideas_implemented += 1
        self.implemented_by_domain[domain].hit(now)
        self.implemented_month.add_point(now)
        if self.in_window(now):
            self.lead_times.append(now - created)
            self.implemented_values.append((now, value))

    def spend_innovation(self, now: float, msek: float) -> None:
        if self.in_window(now) and msek != 0:
            self.innovation_spend.append((now, msek))

    def embedded_share_sample(self, now: float, share: float) -> None:
        if self.in_window(now):
            self.embedded_share_sum += share
            self.embedded_share_n += 1

    # ---- incidents ---------------------------------------------------------------------------
    def incident_arrived(self, now: float, iid: int) -> None:
        self.incidents.hit(now)
        self.open_incidents[iid] = now
        self.unowned[iid] = (now, 0)

    def incident_bounced(self, now: float, iid: int) -> None:
        t0, b = self.unowned[iid]
        self.unowned[iid] = (t0, b + 1)
        self.bounces.hit(now)

    def incident_owned(self, now: float, iid: int, bounces: int) -> None:
        t0, _ = self.unowned.pop(iid)
        ops = self.sc.operations
        if now - t0 > ops.between_chairs_after_days or bounces > ops.between_chairs_bounces:
            self.between_chairs.hit(t0)

    def incident_resolved(self, now: float, iid: int) -> None:
        t0 = self.open_incidents.pop(iid)
        self.incident_open.add_interval(t0, now)
        if now - t0 > self.sc.operations.sla_days:
            self.sla_breaches.hit(t0)

    # ---- tracing -----------------------------------------------------------------------------
    def trace(self, now: float, kind: str, eid: int, event: str, stage: str = "",
              detail: str = "", resource: str = "", slot: int = -1) -> None:
        if self.events is not None:
            self.events.append({"time": round(float(now), 3), "kind": kind, "id": eid,
                                "stage": stage, "event": event, "detail": detail,
                                "resource": resource, "slot": slot})

    # ---- end of run --------------------------------------------------------------------------
    def close(self, t: float) -> None:
        """Account for what is still going on at the horizon."""
        for lvl in self.wip.values():
            lvl.close(t)
        self.in_funnel.close(t)
        ops = self.sc.operations
        for t0 in self.open_incidents.values():
            self.incident_open.add_interval(t0, t)
            if t - t0 > ops.sla_days:
                self.sla_breaches.hit(t0)
        for t0, bounces in self.unowned.values():
            if t - t0 > ops.between_chairs_after_days or bounces > ops.between_chairs_bounces:
                self.between_chairs.hit(t0)
