"""The simulated world of one replication: builds the actors, runs SimPy, returns KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import simpy

from simsource.model.ideas import STAGES, Idea, start_idea_sources
from simsource.model.monitor import Bins, Counter, Level
from simsource.model.operations import start_operations
from simsource.model.partnership import PartnershipEffects
from simsource.model.rng import Streams
from simsource.model.staffing import StaffedPool
from simsource.model.suppliers import SupplierActor
from simsource.model.transition import TransitionActor
from simsource.scenario.schema import DOMAINS, Scenario

COORD_KINDS: tuple[str, ...] = ("triage", "governance", "project", "matching", "screening",
                                "handoff")


@dataclass(frozen=True)
class ReplicationResult:
    kpis: dict[str, float]
    timeseries: dict[str, list[float]]
    events: list[dict[str, Any]] | None


class World:
    """Everything one replication needs; the actors call back into it to record what happens."""

    def __init__(self, sc: Scenario, seed: int, replication: int, trace: bool = False) -> None:
        self.sc = sc
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        self.horizon = sc.horizon_days
        self.warmup = sc.warmup_days
        self.events: list[dict[str, Any]] | None = [] if trace else None
        self.next_idea_id = 0
        self.next_incident_id = 0
        self.effects = PartnershipEffects(sc.partnership)
        self.owner: dict[str, str] = {a: sc.owner_of(a) for a in sc.scenario.areas}
        c = sc.coordination
        plan = [(st.until_day, st.staff + st.consultants) for st in c.plan]
        self.coord = StaffedPool(self.env, plan, c.staff + c.consultants, self.horizon,
                                 self.warmup, COORD_KINDS, preemptible_from=3,
                                 on_preempt=self._on_preempt)
        self.preemptions = 0
        self.suppliers = {n: SupplierActor(self, n, s) for n, s in sc.suppliers.items()}
        # monitors
        h, wu = self.horizon, self.warmup
        self.wip_bins = {st: Bins(h, wu) for st in STAGES}
        self.wip = {st: Level(self.wip_bins[st]) for st in STAGES}
        self.stage_entered = {st: Counter(wu, h) for st in STAGES}
        self.stage_passed = {st: Counter(wu, h) for st in STAGES}
        self.stage_wait_sum = dict.fromkeys(STAGES, 0.0)
        self.stage_wait_n = dict.fromkeys(STAGES, 0)
        self.stage_time_sum = dict.fromkeys(STAGES, 0.0)
        self.stage_time_n = dict.fromkeys(STAGES, 0)
        self.stage_passed_left = dict.fromkeys(STAGES, 0)
        self.ideas_created = Counter(wu, h)
        self.implemented_by_domain = {d: Counter(wu, h) for d in DOMAINS}
        self.implemented_month = Bins(h, wu)
        self.lead_times: list[float] = []
        self.benefit_window = 0.0
        self.ideas_total = 0
        self.ideas_implemented = 0
        self.ideas_dropped = 0
        self.incidents = Counter(wu, h)
        self.sla_breaches = Counter(wu, h)
        self.between_chairs = Counter(wu, h)
        self.incident_open = Bins(h, wu)                # incident x days, per month
        self.open_incidents: dict[int, float] = {}     # id -> arrival, until resolved
        self.awaiting_triage: dict[int, float] = {}    # id -> arrival, until triage starts
        self.innovation_cost_window = 0.0
        # budget and transition
        self.budget: simpy.Container | None = None
        if sc.budget.limited:
            self.budget = simpy.Container(self.env, init=0.0)
            self.env.process(self._budget_tranches())
        self.innovation_open = self.env.event()
        self.transition: TransitionActor | None = None
        if sc.transition.enabled and sc.transition.systems > 0:
            self.transition = TransitionActor(self, sc.transition)
            self.env.process(self.transition.run())
        else:
            self.innovation_open.succeed()
        start_operations(self)
        start_idea_sources(self)

    # ---- callbacks from the actors -------------------------------------------------------
    def _on_preempt(self, kind: str) -> None:
        if self.env.now >= self.warmup:
            self.preemptions += 1

    def on_idea_created(self, idea: Idea) -> None:
        self.ideas_total += 1
        self.ideas_created.hit(idea.created)
        if self.events is not None:
            self.trace(idea, "created", f"{idea.source} idea in {idea.domain}, areas "
                       f"{'+'.join(idea.areas)}")

    def stage_in(self, stage: str, idea: Idea) -> None:
        now = self.env.now
        self.wip[stage].change(now, +1)
        self.stage_entered[stage].hit(now)
        if self.events is not None:
            self.trace(idea, f"enters {stage}", "")

    def stage_out(self, stage: str, idea: Idea, passed: bool) -> None:
        now = self.env.now
        self.wip[stage].change(now, -1)
        if passed:
            self.stage_passed[stage].hit(now)
        t_in = idea.times[stage]
        if t_in >= self.warmup:
            self.stage_time_sum[stage] += now - t_in
            self.stage_time_n[stage] += 1
            self.stage_passed_left[stage] += passed
        if self.events is not None:
            self.trace(idea, f"{'passes' if passed else 'dropped at'} {stage}",
                       f"after {now - t_in:.1f} days")

    def stage_wait(self, stage: str, wait: float) -> None:
        if self.env.now - wait >= self.warmup:
            self.stage_wait_sum[stage] += wait
            self.stage_wait_n[stage] += 1

    def on_idea_done(self, idea: Idea) -> None:
        now = self.env.now
        if idea.outcome == "implemented":
            self.ideas_implemented += 1
            self.implemented_by_domain[idea.domain].hit(now)
            self.implemented_month.add_point(now)
            if now >= self.warmup:
                self.lead_times.append(now - idea.created)
            start = max(now, self.warmup)
            if start < self.horizon:
                self.benefit_window += idea.value * (self.horizon - start)
            if self.events is not None:
                self.trace(idea, "implemented", f"value {idea.value:.2f} MSEK/year, "
                           f"lead time {now - idea.created:.0f} days")
        else:
            self.ideas_dropped += 1

    def screening_pass(self, idea: Idea) -> float:
        src = self.sc.ideas.sources.get(idea.source)
        p = src.screening_pass if src is not None and src.screening_pass is not None else None
        p = self.sc.funnel.screening_pass if p is None else p
        if idea.supplier is not None and idea.domain == "business":
            p *= self.sc.ideas.supplier_business_pass_factor
        return p

    def owners(self, areas: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for a in areas:
            o = self.owner[a]
            if o not in out:
                out.append(o)
        return out

    def project_effort(self, idea: Idea) -> float:
        """Actual project effort: planned x overrun x integration, over the co-location speed-up."""
        n = len(self.owners(idea.areas))
        integ = 1.0 + self.sc.funnel.integration_effort_per_extra_supplier * (n - 1)
        return idea.effort_planned * idea.overrun * integ / self.effects.speedup

    def project_cost_estimate(self, idea: Idea) -> float:
        """Planned supplier cost of a project (MSEK), priced day_rate x (1 + markup)."""
        owners = self.owners(idea.areas)
        n = len(owners)
        integ = 1.0 + self.sc.funnel.integration_effort_per_extra_supplier * (n - 1)
        days = idea.effort_planned * integ / self.effects.speedup
        share = self.sc.responsibility.supplier_share(idea.domain)
        price = sum(self.suppliers[o].change_price_msek_per_day for o in owners) / n
        return days * share * price

    def charge_innovation(self, msek: float) -> None:
        if self.warmup <= self.env.now <= self.horizon:
            self.innovation_cost_window += msek

    def _budget_tranches(self) -> Any:
        b = self.sc.budget
        days = self.sc.scenario.working_days_per_year
        reinvest = b.reinvest_savings_share > 0 and b.baseline_operations_msek > 0
        step = 20.0
        assert self.budget is not None
        while True:
            yearly = b.innovation_msek_per_year
            if reinvest:   # savings against the baseline, in this contract year's fees
                year = int(self.env.now // days)
                fees = sum(s.fee_msek_per_year(year) for s in self.suppliers.values())
                yearly += max(0.0, b.baseline_operations_msek - fees) * b.reinvest_savings_share
            if yearly > 0:
                yield self.budget.put(yearly / days * step)
            yield self.env.timeout(step)

    # ---- tracing ---------------------------------------------------------------------------
    def trace(self, idea: Idea, what: str, detail: str) -> None:
        if self.events is not None:
            self.events.append({"time": round(self.env.now, 3), "kind": "idea", "id": idea.id,
                                "stage": idea.stage, "event": what, "detail": detail})

    def trace_incident(self, iid: int, area: str, what: str, detail: str) -> None:
        if self.events is not None:
            self.events.append({"time": round(self.env.now, 3), "kind": "incident", "id": iid,
                                "stage": area, "event": what, "detail": detail})

    def trace_system(self, sid: int, area: str, what: str, detail: str) -> None:
        if self.events is not None:
            self.events.append({"time": round(self.env.now, 3), "kind": "system", "id": sid,
                                "stage": area, "event": what, "detail": detail})

    # ---- end of run ------------------------------------------------------------------------
    def _close(self, t: float) -> None:
        """Account for what is still going on at the horizon (work in service, open incidents)."""
        for lvl in self.wip.values():
            lvl.close(t)
        ops = self.sc.operations
        for t0 in self.open_incidents.values():
            self.incident_open.add_interval(t0, t)
            if t - t0 > ops.sla_days:
                self.sla_breaches.hit(t0)
        for t0 in self.awaiting_triage.values():
            if t - t0 > ops.between_chairs_after_days:
                self.between_chairs.hit(t0)

    # ---- run -------------------------------------------------------------------------------
    def run(self) -> ReplicationResult:
        from simsource.model.kpis import collect_kpis, collect_timeseries

        self.env.run(until=self.horizon)
        self._close(self.horizon)
        kpis = collect_kpis(self)
        kpis["sim_events"] = float(next(self.env._eid))
        return ReplicationResult(kpis, collect_timeseries(self), self.events)

