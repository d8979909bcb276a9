"""Ideas and the Poisson idea sources (MODEL.md §3, whitepaper Fig. 1 and Fig. 5).

Every idea draws all its attributes (domain, areas, effort, value and the uniforms that decide
its pass/fail at each stage) from its source's own stream when it is created, so the same seed
gives the same ideas in every scenario whose idea inputs agree (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from simsource.scenario.schema import DOMAINS, DomainMix

if TYPE_CHECKING:
    from simsource.model.world import World

STAGES: tuple[str, ...] = ("screening", "matching", "decision", "project")
FX_DRAWS = 8  # 3 transitions x (hand-off, sync) + escalation (2)


@dataclass(slots=True)
class Idea:
    id: int
    source: str
    supplier: str | None          # originating supplier, if any
    domain: str
    areas: tuple[str, ...]
    effort_planned: float         # project person-days, before overrun
    overrun: float                # actual / planned
    value: float                  # MSEK/year once implemented
    u_screen: float
    u_match: float
    u_success: float
    e_work: tuple[float, float, float]   # unit-mean exponentials: screening, matching, need owner
    e_resp: tuple[float, ...]            # unit-mean exponentials: supplier response, per owner
    u_fx: list[float]                    # uniforms for partnership effects, used in order
    created: float
    stage: str = "idea"
    times: dict[str, float] = field(default_factory=dict)
    outcome: str = ""             # "implemented" | "dropped:<stage>" | "" (still in funnel)


class IdeaFactory:
    """Draws ideas for one source from that source's named streams."""

    def __init__(self, world: World, source: str, mix: DomainMix, supplier: str | None) -> None:
        self.w = world
        self.source = source
        self.supplier = supplier
        self.mix = mix.as_tuple()
        self.attrs = world.streams[f"idea-attrs.{source}"]

    def make(self, now: float) -> Idea:
        w, s, sc = self.w, self.attrs, self.w.sc
        domain = DOMAINS[s.choice_index(self.mix)]
        areas_all = sc.scenario.areas
        k = min(len(areas_all), 1 + s.choice_index(sc.ideas.areas_needed_probs))
        pool = list(areas_all)
        chosen: list[str] = []
        if self.supplier is not None:
            own = [a for a in sc.suppliers[self.supplier].areas if a in pool]
            first = own[int(s.uniform() * len(own)) % len(own)]
            chosen.append(first)
            pool.remove(first)
        while len(chosen) < k:
            a = pool.pop(int(s.uniform() * len(pool)) % len(pool))
            chosen.append(a)
        f = sc.funnel
        effort = s.lognormal_mean(f.project_effort_days_mean, f.project_effort_sigma)
        overrun = s.lognormal_mean(1.0 + f.overrun_mean, f.overrun_sigma)
        value = s.lognormal_mean(sc.ideas.value_msek_per_year_mean, sc.ideas.value_sigma)
        w.next_idea_id += 1
        return Idea(
            id=w.next_idea_id, source=self.source, supplier=self.supplier, domain=domain,
            areas=tuple(chosen), effort_planned=effort, overrun=overrun, value=value,
            u_screen=s.uniform(), u_match=s.uniform(), u_success=s.uniform(),
            e_work=(s.expo(1.0), s.expo(1.0), s.expo(1.0)),
            e_resp=tuple(s.expo(1.0) for _ in areas_all),
            u_fx=[s.uniform() for _ in range(FX_DRAWS)], created=now,
        )

    @staticmethod
    def next_fx(idea: Idea) -> float:
        return idea.u_fx.pop() if idea.u_fx else 0.5


def idea_source(world: World, factory: IdeaFactory, rate_per_day: float
                ) -> Generator[simpy.Event, Any, None]:
    """A Poisson process of ideas; each starts its own life through the funnel."""
    from simsource.model.funnel import idea_life

    env = world.env
    arrivals = world.streams[f"idea-arrivals.{factory.source}"]
    mean_gap = 1.0 / rate_per_day
    while True:
        yield env.timeout(arrivals.expo(mean_gap))
        idea = factory.make(env.now)
        world.on_idea_created(idea)
        env.process(idea_life(world, idea))


def poisson_rate_per_day(per_year: float, days: float) -> float | None:
    """A usable Poisson rate per day, or None when there are (numerically) no arrivals."""
    per_day = per_year / days
    return per_day if per_day > 0 and math.isfinite(1.0 / per_day) else None


def start_idea_sources(world: World) -> None:
    sc = world.sc
    days = sc.scenario.working_days_per_year
    for name, src in sc.ideas.sources.items():
        rate = poisson_rate_per_day(src.rate_per_year, days)
        if rate is not None:
            f = IdeaFactory(world, name, src.domain_mix, None)
            world.env.process(idea_source(world, f, rate))
    for name, sup in sc.suppliers.items():
        rate = poisson_rate_per_day(sup.ideas_per_year * sup.proactive, days)
        if rate is not None:
            f = IdeaFactory(world, f"supplier:{name}", sc.ideas.supplier_domain_mix, name)
            world.env.process(idea_source(world, f, rate))
