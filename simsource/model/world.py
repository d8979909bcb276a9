"""One replication: the SimPy environment and its actors, wired to a recorder.

:class:`World` builds the actors of MODEL.md §3 — the digitalisation unit (a
:class:`~simsource.model.staffing.StaffedPool`), the suppliers, the innovation budget, the
transfer, the coordinators out in the business — and starts the processes (idea sources,
incidents, governance, operational changes, contract years). Everything that happens is
reported to the :class:`~simsource.model.recorder.Recorder`; :mod:`simsource.model.kpis` turns
the recorder into KPIs.
"""

from __future__ import annotations

import gc
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simsource.model.budget import InnovationBudget
from simsource.model.change import operational_changes
from simsource.model.core import COORD_KINDS, PREEMPTIBLE_FROM
from simsource.model.engagement import Engagement
from simsource.model.funnel import idea_life
from simsource.model.governance import start_governance
from simsource.model.ideas import Idea
from simsource.model.kpis import collect_kpis, collect_timeseries
from simsource.model.loop import Environment, run_until
from simsource.model.operations import start_incidents
from simsource.model.partnership import PartnershipEffects
from simsource.model.recorder import Recorder
from simsource.model.rng import Streams
from simsource.model.sources import poisson_rate_per_day, start_idea_sources
from simsource.model.staffing import StaffedPool
from simsource.model.suppliers import SupplierActor
from simsource.model.transition import TransitionActor
from simsource.scenario.schema import Scenario


@dataclass(frozen=True)
class ReplicationResult:
    kpis: dict[str, float]
    timeseries: dict[str, list[float]]
    events: list[dict[str, Any]] | None


class World:
    """The environment and the actors of one replication."""

    def __init__(self, sc: Scenario, seed: int, replication: int, trace: bool = False) -> None:
        self.sc = sc
        self.env = env = Environment()
        self.streams = Streams(seed, replication)
        self.rec = rec = Recorder(sc, trace)
        self.fx = PartnershipEffects(sc.partnership)
        self.owner: dict[str, str] = {a: sc.owner_of(a) for a in sc.scenario.areas}
        self._idea_ids = 0
        self._incident_ids = 0
        c = sc.coordination
        plan = [(st.until_day, st.staff + st.consultants) for st in c.plan]
        self.coord = StaffedPool(env, plan, c.staff + c.consultants, rec.horizon, rec.warmup,
                                 COORD_KINDS, preemptible_from=PREEMPTIBLE_FROM,
                                 on_preempt=self._on_preempt, fence_share=self.fx.fence_share,
                                 busy=rec.coord_busy, available=rec.coord_available)
        if trace:
            self.coord.tracer = self._trace_desk
        self.suppliers = {n: SupplierActor(self, n, s) for n, s in sc.suppliers.items()}
        self.budget = InnovationBudget(self)
        self.innovation_open = env.event()
        self.transition: TransitionActor | None = None
        if sc.transition.enabled and sc.transition.systems > 0:
            self.transition = TransitionActor(self, sc.transition)
            env.process(self.transition.run())
        else:
            self.innovation_open.succeed()
        self.engagement = Engagement(self) if sc.engagement.enabled else None
        env.process(self._contract_years())
        start_incidents(self)
        start_governance(self)
        days = sc.scenario.working_days_per_year
        rate = poisson_rate_per_day(sc.changes.operational_per_year, days)
        if sc.changes.enabled and rate is not None:
            env.process(operational_changes(self, rate))
        start_idea_sources(self)

    # ---- identities and helpers --------------------------------------------------------------
    def new_idea_id(self) -> int:
        self._idea_ids += 1
        return self._idea_ids

    def new_incident_id(self) -> int:
        self._incident_ids += 1
        return self._incident_ids

    def owners(self, areas: tuple[str, ...]) -> list[str]:
        """The suppliers owning ``areas``, each once, in area order."""
        out: list[str] = []
        for a in areas:
            o = self.owner[a]
            if o not in out:
                out.append(o)
        return out

    def project_effort(self, idea: Idea, planned: bool) -> float:
        """Project effort (person-days): planned (× overrun unless ``planned``) × integration
        effort per extra supplier involved, over the co-location speed-up."""
        n = len(self.owners(idea.areas))
        integ = 1.0 + self.sc.funnel.integration_effort_per_extra_supplier * (n - 1)
        factor = 1.0 if planned else idea.overrun
        return idea.effort_planned * factor * integ / self.fx.speedup

    # ---- ideas -------------------------------------------------------------------------------
    def launch_idea(self, idea: Idea) -> None:
        now = self.env.now
        self.rec.idea_created(now, idea.id, idea.supplier is not None, idea.embedded)
        if self.rec.events is not None:
            self.rec.trace(now, "idea", idea.id, "created", "",
                           f"{idea.source} idea in {idea.domain}, areas "
                           f"{'+'.join(idea.areas)}, effort {idea.effort_planned:.4f} days, "
                           f"value {idea.value:.5f} MSEK/year")
        self.env.process(idea_life(self, idea))

    def idea_done(self, idea: Idea) -> None:
        now = self.env.now
        implemented = idea.outcome == "implemented"
        self.rec.idea_done(now, idea.id, idea.domain, idea.value, implemented)
        if implemented:
            if self.engagement is not None:
                self.engagement.implemented(now)
            self.rec.trace(now, "idea", idea.id, "implemented", "project",
                           f"value {idea.value:.2f} MSEK/year, lead time "
                           f"{now - idea.created:.0f} days")

    # ---- time --------------------------------------------------------------------------------
    def _contract_years(self) -> Generator[simpy.Event, Any, None]:
        """Each contract year: roll the suppliers' fees, then appropriate the budget."""
        days = self.sc.scenario.working_days_per_year
        year = 0
        while True:
            fees = sum(s.start_year(year) for s in self.suppliers.values())
            self.budget.appropriate(year, fees)
            year += 1
            yield self.env.timeout(days)

    def _on_preempt(self, kind: str) -> None:
        if self.env.now >= self.rec.warmup:
            self.rec.preemptions += 1

    def _trace_desk(self, kind: str, slot: int, what: str, t: float) -> None:
        self.rec.trace(t, "coordinator", slot, what, kind, "", "coordinators", slot)

    # ---- run ---------------------------------------------------------------------------------
    def run(self) -> ReplicationResult:
        rec = self.rec
        # Python's cyclic garbage collector is paused during the run: the model makes little
        # cyclic garbage while it runs (a few thousand objects from pre-emptions; the world
        # itself once the run is over), but every full collection walks all live objects — in
        # an overloaded queue millions of waiting generators and events, which made such a run
        # 2-3 times slower and ever slower.
        collecting = gc.isenabled()
        gc.disable()
        try:
            run_until(self.env, rec.horizon)   # = env.run(until=...), the loop inlined
        finally:
            if collecting:
                gc.enable()
        rec.close(rec.horizon)
        if self.transition is not None:
            rec.transition = self.transition.kpis(rec.horizon)
            rec.transfer_cost_window = self.transition.cost_window_msek
        rec.budget_reinvested = self.budget.reinvested_window
        kpis = collect_kpis(rec)
        kpis["sim_events"] = float(next(self.env._eid))
        return ReplicationResult(kpis, collect_timeseries(rec), rec.events)


__all__ = ["ReplicationResult", "World"]
