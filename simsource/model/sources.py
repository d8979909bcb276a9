"""Poisson idea sources (MODEL.md §3): business units, the digitalisation unit, citizens.

Supplier ideas come from improvement work (:mod:`simsource.model.suppliers`) and needs found out
in the business from embedded coordinators (:mod:`simsource.model.engagement`).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.ideas import IDEA_WIDTH, IdeaFactory

if TYPE_CHECKING:
    from simsource.model.world import World


def poisson_rate_per_day(per_year: float, days: float) -> float | None:
    """A usable Poisson rate per day, or None when there are (numerically) no arrivals."""
    per_day = per_year / days
    return per_day if per_day > 0 and math.isfinite(1.0 / per_day) else None


def idea_source(w: World, factory: IdeaFactory, rate_per_day: float
                ) -> Generator[simpy.Event, Any, None]:
    """A Poisson process of ideas; each starts its own life through the funnel."""
    env = w.env
    arrivals = w.streams[f"idea-arrivals.{factory.source}"]
    mean_gap = 1.0 / rate_per_day
    while True:
        yield env.timeout(arrivals.expo(mean_gap))
        w.launch_idea(factory.make(w.new_idea_id(), env.now))


def start_idea_sources(w: World) -> None:
    sc = w.sc
    days = sc.scenario.working_days_per_year
    for name, src in sc.ideas.sources.items():
        rate = poisson_rate_per_day(src.rate_per_year, days)
        if rate is not None:
            f = IdeaFactory(sc, w.streams.entities(f"idea.{name}", IDEA_WIDTH), name,
                            src.domain_mix)
            w.env.process(idea_source(w, f, rate))
