"""Suppliers: staff serving incidents (first) and project work, fees and change prices.

* ``reactive`` — mean delay before a supplier starts project work is
  ``max_response_delay_days x (1 - reactive)``;
* ``proactive`` — supplier ideas (see :mod:`simsource.model.ideas`) and the fee improvement
  ``improvement_per_year x proactive`` each contract year;
* change/project work is priced ``day_rate x (1 + change_markup)``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.monitor import Bins
from simsource.scenario.schema import Supplier

if TYPE_CHECKING:
    from simsource.model.ideas import Idea
    from simsource.model.world import World

PRIO_INCIDENT, PRIO_CHANGE = 0, 1


class SupplierActor:
    def __init__(self, world: World, name: str, spec: Supplier) -> None:
        self.w = world
        self.name = name
        self.spec = spec
        self.res = simpy.PriorityResource(world.env, capacity=spec.staff)
        self.delays = world.streams[f"supplier-response.{name}"]
        self.busy_incidents = Bins(world.horizon, world.warmup)
        self.busy_projects = Bins(world.horizon, world.warmup)

    @property
    def change_price_msek_per_day(self) -> float:
        return self.spec.day_rate_ksek * (1.0 + self.spec.change_markup) / 1000.0

    def fee_msek_per_year(self, year: int) -> float:
        """Contract fee in contract year ``year`` (0-based) after continuous improvement."""
        cut = self.spec.improvement_per_year * self.spec.proactive
        return self.spec.annual_fee_msek * (1.0 - cut) ** year

    def resolve(self, effort: float) -> Generator[simpy.Event, Any, None]:
        """Resolve an incident: supplier staff, highest priority."""
        env = self.w.env
        req = self.res.request(priority=PRIO_INCIDENT)
        yield req
        now = env.now
        self.busy_incidents.add_interval(now, now + effort)   # booked ahead (non-preemptive)
        yield env.timeout(effort)
        self.res.release(req)

    def project_work(self, idea: Idea, effort: float) -> Generator[simpy.Event, Any, None]:
        """The supplier's share of a project: response delay, then work in chunks."""
        env = self.w.env
        delay = self.delays.expo(self.spec.max_response_delay_days * (1.0 - self.spec.reactive))
        if delay > 0:
            yield env.timeout(delay)
        chunk = self.w.sc.funnel.work_chunk_days
        while effort > 1e-12:
            piece = min(chunk, effort)
            req = self.res.request(priority=PRIO_CHANGE)
            yield req
            now = env.now
            self.busy_projects.add_interval(now, now + piece)   # booked ahead (non-preemptive)
            yield env.timeout(piece)
            self.res.release(req)
            effort -= piece
