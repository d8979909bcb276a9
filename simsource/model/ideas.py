"""Ideas and how they are drawn (MODEL.md §3, whitepaper Fig. 1 and Fig. 5).

Every idea reads all its randomness — domain, areas, effort, overrun, value, the uniforms that
decide each pass, its efforts, hand-offs and change requests — from its own fixed-width slice of
its source's entity stream (:class:`~simsource.model.rng.EntityDraws`), so idea *k* of a source
is the same idea in every scenario, whatever else changes (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simsource.model.overrun import OverrunTail
from simsource.model.rng import Draws, EntityDraws, choice_index, expo, lognormal_mean, pick
from simsource.scenario.schema import DOMAINS, DomainMix, Scenario

MAX_OWNERS = 5                       # at most one supplier per area
CR_WIDTH = 14                        # draws of one change request (see change.py)
_AREAS = 2                           # offsets in an idea's draws
_CR = 20
IDEA_WIDTH = _CR + MAX_OWNERS * CR_WIDTH


@dataclass(slots=True)
class Idea:
    id: int
    source: str
    supplier: str | None          # originating supplier, if any
    embedded: bool                # a need found by a coordinator out in the business
    domain: str
    areas: tuple[str, ...]
    effort_planned: float         # project person-days, before overrun
    overrun: float                # actual / planned effort
    value: float                  # MSEK/year once implemented
    screening_pass: float
    matching_pass: float
    matching_factor: float        # matching effort relative to other ideas
    draws: Draws                  # the idea's own uniforms (see the offsets above)
    created: float
    stage: str = "idea"
    times: dict[str, float] = field(default_factory=dict)
    outcome: str = ""             # "implemented" | "dropped:<stage>" | "" (still in funnel)

    @property
    def u_screen(self) -> float:
        return self.draws[11]

    @property
    def u_match(self) -> float:
        return self.draws[12]

    @property
    def u_success(self) -> float:
        return self.draws[13]

    def e_work(self, i: int) -> float:
        """Unit exponentials: 0 screening effort, 1 matching effort, 2 need-owner wait."""
        return expo(self.draws[14 + i])

    def e_handoff(self, i: int) -> float:
        """Unit exponential of hand-off ``i`` (0: to matching, 1: to decision, 2: to project)."""
        return expo(self.draws[17 + i])

    def cr_draws(self, owner_index: int) -> Draws:
        """The draws of the change request to the ``owner_index``-th supplier involved."""
        start = _CR + owner_index * CR_WIDTH
        return self.draws[start:start + CR_WIDTH]


class IdeaFactory:
    """Draws the ideas of one source from that source's entity stream."""

    def __init__(self, sc: Scenario, draws: EntityDraws, source: str, mix: DomainMix,
                 supplier: str | None = None, embedded: bool = False,
                 screening_pass: float | None = None, matching_pass: float | None = None,
                 matching_factor: float = 1.0) -> None:
        self.sc = sc
        self.source_draws = draws
        self.source = source
        self.supplier = supplier
        self.embedded = embedded
        self.mix = mix.as_tuple()
        f = sc.funnel
        self.tail = OverrunTail(f.overrun_mean, f.overrun_sigma, f.black_swan_share,
                                f.black_swan_overrun_mean, f.black_swan_sigma,
                                f.overrun_max_factor)
        self.own_areas = (tuple(a for a in sc.suppliers[supplier].areas
                                if a in sc.scenario.areas) if supplier is not None else ())
        self.screening_pass = screening_pass
        self.matching_pass = sc.funnel.matching_pass if matching_pass is None else matching_pass
        self.matching_factor = matching_factor

    def make(self, idea_id: int, now: float, d: Draws | None = None) -> Idea:
        """Idea number ``idea_id`` created at ``now`` from the source's next draws (or ``d``)."""
        sc = self.sc
        d = self.source_draws.next() if d is None else d
        domain = DOMAINS[choice_index(d[0], self.mix)]
        areas_all = sc.scenario.areas
        k = min(len(areas_all), 1 + choice_index(d[1], sc.ideas.areas_needed_probs))
        pool = list(areas_all)
        chosen: list[str] = []
        j = _AREAS
        if self.own_areas:
            first = self.own_areas[pick(d[j], len(self.own_areas))]
            chosen.append(first)
            pool.remove(first)
            j += 1
        while len(chosen) < k:
            chosen.append(pool.pop(pick(d[j], len(pool))))
            j += 1
        f, ideas = sc.funnel, sc.ideas
        effort = lognormal_mean(f.project_effort_days_mean, f.project_effort_sigma, d[7])
        overrun = self.tail.factor(d[8], d[9])
        value = lognormal_mean(ideas.value_msek_per_year_mean, ideas.value_sigma, d[10])
        screen = self.screening_pass
        if screen is None:
            src = ideas.sources.get(self.source)
            screen = src.screening_pass if src is not None else None
            screen = f.screening_pass if screen is None else screen
        if self.supplier is not None and domain == "business":
            screen *= ideas.supplier_business_pass_factor
        return Idea(id=idea_id, source=self.source, supplier=self.supplier,
                    embedded=self.embedded, domain=domain, areas=tuple(chosen),
                    effort_planned=effort, overrun=overrun, value=value,
                    screening_pass=screen, matching_pass=self.matching_pass,
                    matching_factor=self.matching_factor, draws=d, created=now)
