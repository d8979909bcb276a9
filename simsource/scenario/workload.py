"""How much work one replication of a scenario is, estimated before anything runs.

Every parameter is bounded in the schema, but a valid scenario can still ask for more than a
machine can do: 10⁶ incidents a year in five areas over 50 years are 2.5 × 10⁸ incidents. So
batch commands (and the teaching page) estimate the *work* of one replication from the scenario
alone and refuse a scenario above a limit (default :data:`DEFAULT_MAX_EVENTS`, ``--max-events``),
showing the estimate. Work is counted in simulation events, over the horizon ``H`` working days
(``Y`` years):

* incidents: ``Σ rate × Y`` (× the transfer's disruption factor) × :data:`EVENTS_PER_INCIDENT`;
* ideas: ``(Σ source rates + supplier ideas + needs found in the business) × Y`` ×
  :data:`EVENTS_PER_IDEA` — supplier ideas at their full improvement time, found needs at most
  the latent needs' rate;
* supplier improvement work (one-day pieces) and coordinators out in the business (pieces of
  ``engagement.chunk_days``, at most ``max_share`` of the unit), × :data:`EVENTS_PER_CHUNK`;
* operational change requests, × :data:`EVENTS_PER_CHANGE` per supplier involved;
* project work in chunks of ``funnel.work_chunk_days``: the expected effort of the ideas that
  reach a project (at most what the budget funds and what all staff can work in ``H`` days),
  divided by the chunk size, × :data:`EVENTS_PER_CHUNK`;
* governance cycles, budget tranches, staffing steps and the transfer's systems;
* **queueing**: the coordinators' queue is a SimPy priority queue, which costs time in
  proportion to its length on every request. When the coordinators' expected demand
  (triage of cross-supplier incidents, governance, screening, matching, funded project work)
  exceeds their capacity, the queue grows by the excess every day; the estimate adds
  ``requests × mean queue length`` × :data:`QUEUE_ENTRY_COST` event-equivalents. This is what
  made ``incidents_per_year = 1e6`` run for hours with only a few million events.

The constants are calibrated against the model's own count (the ``sim_events`` KPI) and timings;
a test keeps the estimate within a factor of a few for the shipped scenarios and extreme ones,
which is all a guard against runaway work needs.
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
EVENTS_PER_CHANGE = 8.0
#: one request waiting in a sorted queue, each time another request arrives (event-equivalents)
QUEUE_ENTRY_COST = 0.1
BUDGET_STEP_DAYS = 20.0
#: rough rate of a replication on one core (events per second), only for the message
EVENTS_PER_SECOND = 250_000


@dataclass(frozen=True)
class Workload:
    """Expected work of one replication, in simulation events, by source."""

    incidents: float
    ideas: float
    project_chunks: float
    periodic: float
    transfer: float
    queueing: float = 0.0

    @property
    def events(self) -> float:
        return (self.incidents + self.ideas + self.project_chunks + self.periodic
                + self.transfer + self.queueing)

    def describe(self) -> str:
        parts = {"incidents": self.incidents, "ideas": self.ideas,
                 "project and improvement work": self.project_chunks,
                 "governance and change requests": self.periodic,
                 "transfer": self.transfer,
                 "an overloaded coordinators' queue": self.queueing}
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:2]
        return ", ".join(f"{k} {v:.2g}" for k, v in top if v > 0)


def _cross_supplier_per_year(sc: Scenario, peak: float) -> float:
    """Incidents a year that touch two areas of different suppliers (coordinator triage)."""
    areas = sc.scenario.areas
    owner = {a: sc.owner_of(a) for a in areas}
    total = 0.0
    for a in areas:
        others = [b for b in areas if b != a]
        if not others:
            continue
        foreign = sum(owner[b] != owner[a] for b in others) / len(others)
        total += sc.operations.incidents_per_year.get(a, 0.0) * peak * \
            sc.operations.cross_area_share * foreign
    return total


def _mean_coordinators(sc: Scenario) -> float:
    """Coordinators (staff + consultants) on average over the horizon, following the plan."""
    c, horizon = sc.coordination, sc.horizon_days
    start, area = 0.0, 0.0
    for step in c.plan:
        end = min(step.until_day, horizon)
        if end > start:
            area += (end - start) * (step.staff + step.consultants)
            start = end
    if horizon > start:
        area += (horizon - start) * (c.staff + c.consultants)
    return max(area / horizon, 1e-9)


def estimate(sc: Scenario) -> Workload:
    """The expected work of one replication of ``sc`` (see the module doc)."""
    run = sc.scenario
    years, horizon, days = run.years, sc.horizon_days, run.working_days_per_year
    tr = sc.transition
    transfer_on = tr.enabled and tr.systems > 0
    peak = tr.disruption_incident_factor if transfer_on else 1.0
    incidents = triage_per_year = 0.0
    if sc.operations.enabled:
        rate = sum(sc.operations.incidents_per_year.get(a, 0.0) for a in run.areas)
        incidents = rate * peak * years * EVENTS_PER_INCIDENT
        triage_per_year = _cross_supplier_per_year(sc, peak)
    improvement_days = sum(s.proactive * s.improvement_time_share * s.staff
                           for s in sc.suppliers.values()) * days          # a year
    supplier_ideas = sum(
        (s.ideas_per_year * s.proactive if s.ideas_per_year is not None else
         s.proactive * s.improvement_time_share * s.staff
         * sc.ideas.supplier_ideas_per_improvement_year)
        for s in sc.suppliers.values())
    e = sc.engagement
    found = e.latent_needs_per_year if e.enabled else 0.0
    idea_rate = sum(s.rate_per_year for s in sc.ideas.sources.values()) + supplier_ideas + found
    n_ideas = idea_rate * years
    f = sc.funnel
    screen = max(f.screening_pass, *(s.screening_pass or 0.0
                                     for s in sc.ideas.sources.values())) if f.attrition else 1.0
    match = f.matching_pass if f.attrition else 1.0
    stages = ("screening", "matching", "decision", "project")
    depth = stages.index(f.last_stage)
    matched = idea_rate * (screen if depth >= 1 else 0.0)
    projects = matched * (match if depth >= 3 else 0.0)                  # a year
    areas_mean = sum((i + 1) * p for i, p in enumerate(sc.ideas.areas_needed_probs))
    integration = 1.0 + f.integration_effort_per_extra_supplier * (areas_mean - 1.0)
    planned = f.project_effort_days_mean * integration
    if sc.budget.limited and projects > 0:
        prices = [s.day_rate_ksek * (1.0 + s.change_markup * (1.0 - s.reactive)) / 1000.0
                  for s in sc.suppliers.values()]
        cost = planned * 0.5 * sum(prices) / len(prices)                 # MSEK a project
        if cost > 0:
            projects = min(projects, sc.budget.innovation_msek_per_year / cost)
    effort = planned * (1.0 + f.overrun_mean)
    c = sc.coordination
    most_coord = max([c.staff + c.consultants] + [s.staff + s.consultants for s in c.plan])
    servers = most_coord + sum(s.staff for s in sc.suppliers.values())
    capacity = servers * horizon * max(1.0, sc.partnership.colocation_speedup)
    work = min(projects * years * effort, capacity)
    chunks = work / f.work_chunk_days + projects * years * (1 + len(sc.suppliers))
    chunks += improvement_days * years                          # one-day improvement pieces
    if e.enabled:
        chunks += e.max_share * _mean_coordinators(sc) * horizon / e.chunk_days
    ch = sc.changes
    owners_mean = min(len(sc.suppliers), sum((i + 1) * p for i, p in enumerate(ch.areas_probs)))
    changes = (ch.operational_per_year * years * owners_mean * EVENTS_PER_CHANGE
               if ch.enabled else 0.0)
    changes += projects * years * min(len(sc.suppliers), areas_mean) * EVENTS_PER_CHANGE
    periodic = 2.0 * horizon / BUDGET_STEP_DAYS + 2.0 * len(c.plan)
    n = len(sc.suppliers)
    cycles_per_day = 0.0
    if c.governance:
        cycles_per_day = (n + n * (n - 1) / 2) / c.governance_interval_days
        periodic += cycles_per_day * horizon * EVENTS_PER_CYCLE
    transfer = tr.systems * EVENTS_PER_SYSTEM if transfer_on else 0.0
    # the coordinators' queue: requests and demand a day against capacity
    requests = (triage_per_year + idea_rate + matched) / days + cycles_per_day + \
        projects * effort * 0.5 / f.work_chunk_days / days
    demand = (triage_per_year * sc.coordination.triage_effort_days
              + idea_rate * f.screening_effort_days + matched * f.matching_effort_days
              + projects * effort * 0.5) / days
    if c.governance:
        demand += n * c.governance_fte_per_supplier + n * (n - 1) / 2 * c.governance_fte_per_pair
    queueing = 0.0
    coordinators = _mean_coordinators(sc)
    if requests > 0 and demand > coordinators:
        growth = requests * (1.0 - coordinators / demand)                # requests a day
        queueing = requests * horizon * growth * horizon / 2 * QUEUE_ENTRY_COST
    return Workload(incidents, n_ideas * EVENTS_PER_IDEA, chunks * EVENTS_PER_CHUNK,
                    periodic + changes, transfer, queueing)


def check_workload(sc: Scenario, max_events: float = DEFAULT_MAX_EVENTS,
                   where: str | None = None) -> Workload:
    """The estimate, or a :class:`UserError` (naming the estimate) when it exceeds
    ``max_events``."""
    w = estimate(sc)
    if w.events > max_events:
        raise UserError(
            f"{where or sc.name}: one replication would take about {w.events:.2g} simulation "
            f"events (mostly {w.describe()}), roughly {_duration(w.events / EVENTS_PER_SECOND)} "
            f"each; the limit is {max_events:.2g}. Lower the rates or the years, or raise "
            "--max-events")
    return w


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} seconds"
