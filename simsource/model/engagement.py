"""Coordinators out in the business: demand that grows with capacity (MODEL.md §9, Fig. 6).

The whitepaper: the unit's project leaders increasingly work out in the business, understand
needs and translate them for colleagues and suppliers. The model:

* **Latent needs.** Needs arise in the business units (Poisson, ``latent_needs_per_year``) and
  stay relevant for Exp(``need_life_years``) unless somebody finds them: they do not surface as
  ideas by themselves (the ordinary ``business_units`` ideas are the ones that do).
* **Embedded work.** A share of the unit works out in the business, in pieces of
  ``chunk_days``, at the *lowest* coordinator priority: it gets only the time operations and the
  funnel leave. Each embedded person-year finds a given latent need at rate
  ``discovery_per_fte_year`` — so the discovery flow is ``L·qE/(qE + 1/life)`` for E embedded
  people: diminishing returns emerge from the finite stock of needs.
* **Found needs** become ideas of source ``embedded`` with a better screening and matching pass
  and less matching effort (the need owner is already engaged).
* **The loop of Fig. 6.** Every month the unit compares the last year's innovations with its
  ambition: short of it by a share *g*, it sends ``base_share + gain × g`` of its people out
  (at most ``max_share``); meeting it, it keeps its base engagement (and may then do better
  than its ambition). More coordinators leave more spare time, so the same share finds more
  needs — not just shorter queues.

Randomness: latent need *k* reads its life, its discovery threshold and all its idea attributes
from its own draws, so a need is the same need whenever it is found.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import MONTH_DAYS, PRIO_EMBEDDED
from simsource.model.ideas import IDEA_WIDTH, IdeaFactory
from simsource.model.rng import Draws, expo

if TYPE_CHECKING:
    from simsource.model.world import World

_NEED_WIDTH = 2 + IDEA_WIDTH


class Engagement:
    def __init__(self, w: World) -> None:
        self.w = w
        e = self.spec = w.sc.engagement
        self.days = w.sc.scenario.working_days_per_year
        self.share = e.base_share
        self.active = 0                       # embedded workers running
        self.exposure = 0.0                   # cumulative finding hazard per latent need
        self.rate_per_person_day = e.discovery_per_fte_year / self.days
        self.life_days = e.need_life_years * self.days
        self.needs: list[tuple[float, float, int, Draws]] = []   # (threshold, death, k, d)
        self.need_draws = w.streams.entities("latent-need", _NEED_WIDTH)
        self.factory = IdeaFactory(w.sc, self.need_draws, "embedded", e.domain_mix,
                                   embedded=True, screening_pass=e.screening_pass,
                                   matching_pass=e.matching_pass,
                                   matching_factor=e.matching_effort_factor)
        self.recent: deque[float] = deque()   # implementation days of the last year
        env = w.env
        stock = round(e.latent_needs_per_year * e.need_life_years)   # start in equilibrium
        for _ in range(stock):
            self._new_need(0.0)
        rate = e.latent_needs_per_year / self.days
        if rate > 0 and math.isfinite(1.0 / rate):
            env.process(self._needs_arise(rate))
        env.process(self._steer())

    # ---- latent needs ------------------------------------------------------------------------
    def _new_need(self, now: float) -> None:
        d = self.need_draws.next()
        k = self.need_draws.count
        death = now + expo(d[0]) * self.life_days
        threshold = self.exposure + expo(d[1])
        heapq.heappush(self.needs, (threshold, death, k, d))

    def _needs_arise(self, rate: float) -> Generator[simpy.Event, Any, None]:
        arrivals = self.w.streams["latent-need-arrivals"]
        while True:
            yield self.w.env.timeout(arrivals.expo(1.0 / rate))
            self._new_need(self.w.env.now)

    def _find(self, now: float) -> None:
        needs = self.needs
        while needs and needs[0][0] <= self.exposure:
            _, death, _, d = heapq.heappop(needs)
            if death > now:
                self.w.launch_idea(self.factory.make(self.w.new_idea_id(), now, d[2:]))

    # ---- the loop of Fig. 6 ------------------------------------------------------------------
    def implemented(self, now: float) -> None:
        self.recent.append(now)

    def _steer(self) -> Generator[simpy.Event, Any, None]:
        w, e, env = self.w, self.spec, self.w.env
        ambition = w.sc.ambition.innovations_per_year
        month = 0
        while True:
            self._staff_workers()
            yield env.timeout(MONTH_DAYS)
            month += 1
            now = env.now
            while self.recent and self.recent[0] <= now - self.days:
                self.recent.popleft()
            w.rec.embedded_share_sample(now, self.share)
            if month < 3 or ambition <= 0:
                continue
            span = min(now, self.days)
            realised = len(self.recent) * self.days / span
            gap = max(0.0, (ambition - realised) / ambition)
            self.share = min(max(e.max_share, e.base_share), e.base_share + e.gain * gap)

    def _staff_workers(self) -> None:
        want = round(self.share * self.w.coord.cap)
        while self.active < want:
            self.active += 1
            self.w.env.process(self._worker(self.active))

    def _worker(self, index: int) -> Generator[simpy.Event, Any, None]:
        w, chunk = self.w, self.spec.chunk_days
        while index <= round(self.share * w.coord.cap):
            yield from w.coord.work(chunk, PRIO_EMBEDDED, "embedded")
            self.exposure += chunk * self.rate_per_person_day
            self._find(w.env.now)
        self.active -= 1
