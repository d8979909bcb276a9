"""Suppliers: staff serving incidents (first) and project work, fees and change prices.

* ``reactive`` — mean delay before a supplier starts project work is
  ``max_response_delay_days x (1 - reactive)``, and the change markup is
  ``change_markup x (1.5 - reactive)`` (how fast *and* how cheaply change is taken on);
* ``proactive`` — supplier ideas (see :mod:`simsource.model.ideas`) and the fee improvement
  ``improvement_per_year x proactive`` each contract year;
* change/project work is priced ``day_rate x (1 + markup)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.monitor import Bins
from simsource.scenario.schema import Supplier

if TYPE_CHECKING:
    from simsource.model.world import World

PRIO_INCIDENT, PRIO_CHANGE = 0, 1


class TwoClassServer:
    """``capacity`` identical people serving two non-preemptive priority classes, FIFO within a
    class — the semantics of a SimPy ``PriorityResource`` with priorities 0 and 1, without its
    per-request sorting (suppliers are on the model's hot path).

    ``request(priority)`` returns an event that succeeds when a person is assigned;
    ``release()`` hands the person to the next waiting request, incidents first.
    """

    __slots__ = ("env", "free", "queues")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.free = capacity
        self.queues: tuple[deque[simpy.Event], deque[simpy.Event]] = (deque(), deque())

    def request(self, priority: int) -> simpy.Event:
        ev = simpy.Event(self.env)
        if self.free > 0:
            self.free -= 1
            ev.succeed()
        else:
            self.queues[priority].append(ev)
        return ev

    def release(self) -> None:
        q0, q1 = self.queues
        if q0:
            q0.popleft().succeed()
        elif q1:
            q1.popleft().succeed()
        else:
            self.free += 1


class SupplierActor:
    def __init__(self, world: World, name: str, spec: Supplier) -> None:
        self.w = world
        self.name = name
        self.spec = spec
        self.res = TwoClassServer(world.env, spec.staff)
        self.busy_incidents = Bins(world.horizon, world.warmup)
        self.busy_projects = Bins(world.horizon, world.warmup)

    @property
    def change_markup(self) -> float:
        """Markup on change work: the market position (``change_markup``, for an average
        supplier with reactive = 0.5) scaled by the supplier's reactive ability — a reactive
        supplier takes on change cheaply, a non-reactive one charges up to 1.5 x."""
        return self.spec.change_markup * (1.5 - self.spec.reactive)

    @property
    def change_price_msek_per_day(self) -> float:
        return self.spec.day_rate_ksek * (1.0 + self.change_markup) / 1000.0

    def fee_msek_per_year(self, year: int) -> float:
        """Contract fee in contract year ``year`` (0-based) after continuous improvement."""
        cut = self.spec.improvement_per_year * self.spec.proactive
        return self.spec.annual_fee_msek * (1.0 - cut) ** year

    def resolve(self, effort: float) -> Generator[simpy.Event, Any, None]:
        """Resolve an incident: supplier staff, highest priority."""
        env = self.w.env
        yield self.res.request(PRIO_INCIDENT)
        now = env.now
        self.busy_incidents.add_interval(now, now + effort)   # booked ahead (non-preemptive)
        yield env.timeout(effort)
        self.res.release()

    def project_work(self, effort: float, e_delay: float) -> Generator[simpy.Event, Any, None]:
        """The supplier's share of a project: response delay (``e_delay``: a unit exponential
        drawn with the idea, for common random numbers), then work in chunks."""
        env = self.w.env
        delay = e_delay * self.spec.max_response_delay_days * (1.0 - self.spec.reactive)
        if delay > 0:
            yield env.timeout(delay)
        chunk = self.w.sc.funnel.work_chunk_days
        while effort > 1e-12:
            piece = min(chunk, effort)
            yield self.res.request(PRIO_CHANGE)
            now = env.now
            self.busy_projects.add_interval(now, now + piece)   # booked ahead (non-preemptive)
            yield env.timeout(piece)
            self.res.release()
            effort -= piece
