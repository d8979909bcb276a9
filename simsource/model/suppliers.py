"""Suppliers: staff serving incidents, change work and improvement work; fees and prices.

* Staff (:class:`~simsource.model.servers.SupplierStaff`) serve incidents first, then change and
  project work, then improvement work, non-preemptively. A ring-fenced share of the staff (the
  partner organisation's *autonomy*) serves change and project work only.
* **Proactive ability as time** (MODEL.md §9): the supplier plans
  ``proactive × improvement_time_share`` of its staff time for improvement work, done by
  improvers at the lowest priority — they get only the time incidents and changes leave.
  Improvement person-days produce supplier ideas (a Poisson process in improvement time:
  ``ideas.supplier_ideas_per_improvement_year`` per person-year) and fee reductions: the fee of
  the next contract year falls by ``improvement_per_year`` × achieved improvement time /
  the improvement time of a fully proactive supplier. A supplier drowned in incidents improves
  less, and idea supply follows the supplier's scope (staff), not the number of contracts.
* **Reactive ability** acts through change requests (:mod:`simsource.model.change`).
* Change work is priced at ``day_rate_ksek``, negotiated change work at
  ``day_rate_ksek × (1 + change_markup)``.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import SUP_CHANGE, SUP_IMPROVEMENT, SUP_INCIDENT
from simsource.model.ideas import IDEA_WIDTH, IdeaFactory
from simsource.model.servers import SupplierStaff
from simsource.scenario.schema import Supplier

if TYPE_CHECKING:
    from simsource.model.world import World

#: Improvement work is done in pieces of one day (the model's time resolution for it).
IMPROVEMENT_PIECE_DAYS = 1.0


class SupplierActor:
    def __init__(self, world: World, name: str, spec: Supplier) -> None:
        self.w = world
        self.name = name
        self.spec = spec
        dedicated = math.floor(world.fx.fence_share * spec.staff + 1e-9)
        self.staff = SupplierStaff(world.env, spec.staff - dedicated, dedicated)
        self.books = world.rec.supplier_books(name, spec.staff)
        days = world.sc.scenario.working_days_per_year
        self.reference_improvement_days = spec.improvement_time_share * spec.staff * days
        self.improvement_days_this_year = 0.0
        self.fee = spec.annual_fee_msek
        # supplier ideas: a Poisson process in improvement time
        if spec.ideas_per_year is not None:
            ref = self.reference_improvement_days
            self.ideas_per_improvement_day = spec.ideas_per_year / ref if ref > 0 else 0.0
        else:
            self.ideas_per_improvement_day = (
                world.sc.ideas.supplier_ideas_per_improvement_year / days)
        self.exposure = 0.0
        self._next_idea = world.streams[f"supplier-ideas.{name}"]
        self.next_threshold = self._next_idea.expo(1.0)
        self.factory = IdeaFactory(world.sc, world.streams.entities(f"idea.supplier:{name}",
                                                                    IDEA_WIDTH),
                                   f"supplier:{name}", world.sc.ideas.supplier_domain_mix,
                                   supplier=name)
        planned = spec.proactive * spec.improvement_time_share * spec.staff
        if planned > 1e-9 and self.ideas_per_improvement_day >= 0:
            n = math.ceil(planned - 1e-9)
            duty = planned / n
            for _ in range(n):
                world.env.process(self._improver(duty))

    # ---- prices and fees -----------------------------------------------------------------
    @property
    def contract_price_msek_per_day(self) -> float:
        return self.spec.day_rate_ksek / 1000.0

    @property
    def negotiated_price_msek_per_day(self) -> float:
        return self.spec.day_rate_ksek * (1.0 + self.spec.change_markup) / 1000.0

    def start_year(self, year: int) -> float:
        """Roll the fee into contract year ``year`` (improvement of the year before)."""
        if year > 0 and self.reference_improvement_days > 0:
            achieved = min(1.0, self.improvement_days_this_year
                           / self.reference_improvement_days)
            self.fee *= 1.0 - self.spec.improvement_per_year * achieved
        rec = self.w.rec
        if rec.events is not None:
            rec.trace(self.w.env.now, "supplier", list(self.w.sc.suppliers).index(self.name),
                      "contract year", "", f"year {year + 1}: fee {self.fee:.3f} MSEK/year "
                      f"after {self.improvement_days_this_year:.1f} improvement person-days",
                      self.name)
        self.improvement_days_this_year = 0.0
        self.books.fees_by_year.append(self.fee)
        return self.fee

    # ---- work ----------------------------------------------------------------------------
    def resolve(self, effort: float) -> Generator[simpy.Event, Any, None]:
        """Resolve (or diagnose) an incident: supplier staff, highest priority."""
        env = self.w.env
        yield self.staff.request(SUP_INCIDENT)
        now = env._now
        self.books.busy_incidents.add_interval(now, now + effort)   # booked ahead
        yield env.timeout(effort)
        self.staff.release(False)

    def change_work(self, effort: float, chunk: float) -> Generator[simpy.Event, Any, None]:
        """Change or project work in pieces of ``chunk`` person-days, behind incidents."""
        env, staff, busy = self.w.env, self.staff, self.books.busy_changes
        while effort > 1e-12:
            piece = min(chunk, effort)
            dedicated = yield staff.request(SUP_CHANGE)
            now = env._now
            busy.add_interval(now, now + piece)
            yield env.timeout(piece)
            staff.release(dedicated)
            effort -= piece

    def _improver(self, duty: float) -> Generator[simpy.Event, Any, None]:
        """One improver: pieces of improvement work at the lowest priority, resting between
        pieces so that, unhindered, it works ``duty`` of its time."""
        env, staff, busy = self.w.env, self.staff, self.books.busy_improvement
        piece = IMPROVEMENT_PIECE_DAYS
        rest = piece * (1.0 - duty) / duty
        while True:
            yield staff.request(SUP_IMPROVEMENT)
            now = env._now
            busy.add_interval(now, now + piece)
            yield env.timeout(piece)
            staff.release(False)
            self.improvement_days_this_year += piece
            self.exposure += piece * self.ideas_per_improvement_day
            while self.exposure >= self.next_threshold:
                self.next_threshold += self._next_idea.expo(1.0)
                self.w.launch_idea(self.factory.make(self.w.new_idea_id(), env.now))
            if rest > 0:
                yield env.timeout(rest)
