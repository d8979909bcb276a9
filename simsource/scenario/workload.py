"""How much work one replication of a scenario is, estimated before anything runs.

Every parameter is bounded in the schema, but a valid scenario can still ask for more than a
machine can do: 10⁶ incidents a year in five areas over 50 years are 2.5 × 10⁸ incidents. So
batch commands (and the teaching page) estimate the *expected number of simulation events* of
one replication from the scenario alone and refuse a scenario above a limit (default
:data:`DEFAULT_MAX_EVENTS`, ``--max-events``), showing the estimate.

The estimate adds, over the horizon ``H`` working days (``Y`` years):

* incidents: ``Σ rate × Y`` (× the transfer's disruption factor) × :data:`EVENTS_PER_INCIDENT`;
* ideas: ``(Σ source rates + Σ supplier ideas × proactive) × Y`` × :data:`EVENTS_PER_IDEA`;
* project work in chunks of ``funnel.work_chunk_days``: the expected project effort of the ideas
  that reach a project, but never more than all staff can work in ``H`` days, divided by the chunk
  size, × :data:`EVENTS_PER_CHUNK`;
* governance cycles, budget tranches, staffing steps and the transfer's systems.

The constants are calibrated against the model's own count (the ``sim_events`` KPI); a test
keeps the estimate within a factor of a few of the real count for the shipped scenarios and for
extreme ones, which is all a guard against runaway work needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from simsource.errors import UserError
from simsource.scenario.schema import Scenario

DEFAULT_MAX_EVENTS = 50_000_000
EVENTS_PER_INCIDENT = 3.5
EVENTS_PER_IDEA = 5.0
EVENTS_PER_CHUNK = 2.5
EVENTS_PER_CYCLE = 6.0
EVENTS_PER_SYSTEM = 12.0
BUDGET_STEP_DAYS = 20.0
#: rough rate of a replication on one core (events per second), only for the message
EVENTS_PER_SECOND = 250_000


@dataclass(frozen=True)
class Workload:
    """Expected events of one replication, by source."""

    incidents: float
    ideas: float
    project_chunks: float
    periodic: float
    transfer: float

    @property
    def events(self) -> float:
        return self.incidents + self.ideas + self.project_chunks + self.periodic + self.transfer

    def describe(self) -> str:
        parts = {"incidents": self.incidents, "ideas": self.ideas,
                 "project work": self.project_chunks, "governance and budget": self.periodic,
                 "transfer": self.transfer}
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:2]
        return ", ".join(f"{k} {v:.2g}" for k, v in top if v > 0)


def estimate(sc: Scenario) -> Workload:
    """The expected number of events of one replication of ``sc`` (see the module doc)."""
    run = sc.scenario
    years, horizon = run.years, sc.horizon_days
    tr = sc.transition
    transfer_on = tr.enabled and tr.systems > 0
    incidents = 0.0
    if sc.operations.enabled:
        peak = tr.disruption_incident_factor if transfer_on else 1.0
        rate = sum(sc.operations.incidents_per_year.get(a, 0.0) for a in run.areas)
        incidents = rate * peak * years * EVENTS_PER_INCIDENT
    idea_rate = sum(s.rate_per_year for s in sc.ideas.sources.values()) + \
        sum(s.ideas_per_year * s.proactive for s in sc.suppliers.values())
    n_ideas = idea_rate * years
    f = sc.funnel
    reach = 1.0
    if f.attrition:
        reach = max(f.screening_pass, *(s.screening_pass or 0.0
                                        for s in sc.ideas.sources.values())) * f.matching_pass
    if f.last_stage != "project":
        reach = 0.0
    effort = f.project_effort_days_mean * (1.0 + f.overrun_mean) * \
        (1.0 + f.integration_effort_per_extra_supplier * (len(sc.ideas.areas_needed_probs) - 1))
    c = sc.coordination
    most_coord = max([c.staff + c.consultants] + [s.staff + s.consultants for s in c.plan])
    servers = most_coord + sum(s.staff for s in sc.suppliers.values())
    capacity = servers * horizon * max(1.0, sc.partnership.colocation_speedup)
    work = min(n_ideas * reach * effort, capacity)
    chunks = work / f.work_chunk_days + n_ideas * reach * (1 + len(sc.suppliers))
    periodic = 2.0 * horizon / BUDGET_STEP_DAYS + 2.0 * len(c.plan)
    if c.governance:
        n = len(sc.suppliers)
        periodic += horizon / c.governance_interval_days * (n + n * (n - 1) / 2) * \
            EVENTS_PER_CYCLE
    transfer = tr.systems * EVENTS_PER_SYSTEM if transfer_on else 0.0
    return Workload(incidents, n_ideas * EVENTS_PER_IDEA, chunks * EVENTS_PER_CHUNK, periodic,
                    transfer)


def check_workload(sc: Scenario, max_events: float = DEFAULT_MAX_EVENTS,
                   where: str | None = None) -> Workload:
    """The estimate, or a :class:`UserError` (naming the estimate) when it exceeds
    ``max_events``."""
    w = estimate(sc)
    if w.events > max_events:
        minutes = w.events / EVENTS_PER_SECOND / 60
        raise UserError(
            f"{where or sc.name}: one replication would take about {w.events:.2g} simulation "
            f"events (mostly {w.describe()}), roughly {minutes:,.0f} minutes each; the limit is "
            f"{max_events:.2g}. Lower the rates or the years, or raise --max-events")
    return w
