"""The scenario schema: every parameter of MODEL.md §3–§5 with default, unit and description.

Each numeric parameter declares two things:

* hard bounds (``ge``/``le``/``gt``): what validation accepts — derived from what a municipality
  could possibly have, so that no accepted value overflows, hangs or exhausts memory;
* a *plausible range* (``json_schema_extra["range"]``, with its reason in ``"range_reason"``)
  that sensitivity analysis samples from. Shares that must sum to one are marked ``"mix"`` and
  sampled as a whole (:mod:`simsource.scenario.mixes`).

All models are frozen, reject unknown keys, inf and NaN, and ``true``/``false`` where a number is
expected.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from simsource.scenario.bounds import bool_number, check_slug, slug_problem

AREAS: tuple[str, ...] = ("network", "operations", "security", "telephony", "workplace")
DOMAINS: tuple[str, ...] = ("it", "business", "new_service")
RESPONSIBILITIES: tuple[str, ...] = ("supplier", "shared", "internal")
PARTNERSHIP_DIMENSIONS: tuple[str, ...] = (
    "colocation",
    "mandate",
    "information",
    "autonomy",
    "intensity",
)
PRESETS: dict[str, float] = {"light": 0.2, "heavy": 0.9}
#: hard bounds of the named tables and the per-area rates (see bounds.py for the reasons)
MAX_SOURCES = 50
MAX_INCIDENTS_PER_YEAR = 1e6

Area = Literal["network", "operations", "security", "telephony", "workplace"]
Responsibility = Literal["supplier", "shared", "internal"]


def P(
    default: Any,
    description: str,
    unit: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    why: str = "",
    mix: bool = False,
    max_length: int | None = None,
) -> Any:
    """A documented parameter: default, one-line description, unit, hard bounds (``ge``, ``le``,
    ``gt``, ``max_length``) and plausible range ``lo``–``hi`` with its reason ``why``; ``mix``
    marks shares that sum to one (ranged as a whole)."""
    extra: dict[str, Any] = {"unit": unit}
    if lo is not None and hi is not None:
        extra["range"] = [lo, hi]
    if why:
        extra["range_reason"] = why
    if mix:
        extra["mix"] = True
    return Field(
        default=default, description=description, ge=ge, le=le, gt=gt, max_length=max_length,
        json_schema_extra=extra
    )


def check_overrun_tail(mean: float, swan_share: float, swan_mean: float, cap: float,
                       key: str) -> None:
    """The fat-tailed overrun mixture must be possible: ordinary projects keep a mean factor of
    at least 0.5, and the black swans' mean fits under the cap."""
    ordinary = (1.0 + mean - swan_share * (1.0 + swan_mean)) / (1.0 - swan_share)
    if ordinary < 0.5:
        raise ValueError(
            f"{key} ({mean:g}) is too small for black_swan_share x black_swan_overrun_mean "
            f"({swan_share:g} x {swan_mean:g}): ordinary projects would finish in "
            f"{ordinary:.0%} of their planned effort")
    if 1.0 + swan_mean >= 0.8 * cap:
        raise ValueError(f"black_swan_overrun_mean ({swan_mean:g}) must stay well below "
                         f"overrun_max_factor - 1 ({cap - 1:g})")


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """``staff = true`` is a mistake, not 1 (pydantic's lax mode would accept it)."""
        field = cls.model_fields.get(info.field_name or "")
        where = bool_number(value, field.annotation) if field is not None else None
        if where is not None:
            raise ValueError(f"{where + ': ' if where else ''}expected a number, got true/false")
        return value


class DomainMix(Frozen):
    it: float = P(0.34, "share of ideas in domain 1: IT as tool/infrastructure", "share",
                  ge=0, le=1)
    business: float = P(0.33, "share in domain 2: business development (VU)", "share", ge=0, le=1)
    new_service: float = P(0.33, "share in domain 3: new services/areas", "share", ge=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> DomainMix:
        total = self.it + self.business + self.new_service
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"domain mix must sum to 1 (it + business + new_service = {total:g})")
        return self

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.it, self.business, self.new_service)


class RunSettings(Frozen):
    years: float = P(4.0, "simulated years including warm-up", "years", gt=0, le=50)
    warmup_years: float = P(1.0, "years discarded before KPIs are measured", "years", ge=0)
    working_days_per_year: int = P(220, "working days in a year (the clock's unit is a "
                                   "working day)", "days", gt=0, le=366)
    areas: tuple[Area, ...] = P(("network", "operations", "security", "telephony"),
                                "technical areas in use; each owned by exactly one supplier")

    @model_validator(mode="after")
    def _warmup_shorter(self) -> RunSettings:
        if self.warmup_years >= self.years:
            raise ValueError(
                f"warmup_years ({self.warmup_years:g}) must be shorter than years ({self.years:g})"
            )
        if len(set(self.areas)) != len(self.areas) or not self.areas:
            raise ValueError("areas must be a non-empty list without repeats")
        return self


class Supplier(Frozen):
    title: str = P("", "display name of the supplier")
    areas: tuple[Area, ...] = P((), "technical areas this supplier owns")
    staff: int = P(8, "supplier staff serving incidents and project work", "persons",
                   ge=1, le=1000, lo=3, hi=30,
                   why="Nacka's suppliers field 5-10 people on its account; x0.5 to x3")
    proactive: float = P(0.5, "proactive ability: the share of improvement_time_share the "
                         "supplier plans to spend on improvement work (ideas, fee cuts)",
                         "0..1", ge=0, le=1, lo=0.1, hi=0.9,
                         why="the whole scale short of the extremes")
    reactive: float = P(0.5, "reactive ability: probability a change request is accepted within "
                        "the contract, and how fast the first answer comes", "0..1", ge=0,
                        le=1, lo=0.1, hi=0.9, why="the whole scale short of the extremes")
    improvement_time_share: float = P(
        0.25, "share of staff time a fully proactive supplier plans for improvement work "
        "(planned share = this x proactive; it gets only time incidents and changes leave)",
        "share", ge=0, le=0.6, lo=0.1, hi=0.4,
        why="assumption: a tenth to two fifths of an account team's time")
    ideas_per_year: float | None = P(
        None, "optional: this supplier's ideas per year when a fully proactive supplier achieves "
        "its whole improvement time (default: ideas.supplier_ideas_per_improvement_year x "
        "improvement person-years)", "ideas/year", ge=0, le=1000, lo=0, hi=30,
        why="assumption: none to a few ideas a month")
    annual_fee_msek: float = P(15.0, "yearly operations fee for the supplier's areas",
                               "MSEK/year", ge=0, le=10_000, lo=5, hi=80,
                               why="Nacka's contracts: 8-26 MSEK a year per supplier")
    improvement_per_year: float = P(0.03, "continuous-improvement clause: yearly fee reduction "
                                    "when the supplier achieves the improvement time of a fully "
                                    "proactive supplier (scaled by the time it achieves)",
                                    "share/year", ge=0, le=0.5, lo=0, hi=0.06,
                                    why="contract practice 0-6 %/year (MODEL.md 5)")
    day_rate_ksek: float = P(9.0, "price of one supplier person-day of change/project work",
                             "kSEK/day", ge=0, le=1000, lo=7, hi=14,
                             why="Swedish IT consultancy day rates")
    change_markup: float = P(0.1, "markup on negotiated change/project work, the supplier's "
                             "market position (0.1 competing, 0.4 locked-in; UpperEdge)",
                             "share", ge=0, le=2, lo=0.1, hi=0.4,
                             why="competing 0.1 ... locked-in 0.4 (UpperEdge, MODEL.md 5)")
    max_response_delay_days: float = P(15.0, "mean time to the first answer to a change request "
                                       "of a fully non-reactive supplier (x (1 - reactive))",
                                       "days", ge=0, le=1000, lo=5, hi=30,
                                       why="assumption: one to six working weeks")


class IdeaSource(Frozen):
    rate_per_year: float = P(60.0, "ideas per year from this source (Poisson)", "ideas/year",
                             ge=0, le=10_000, lo=0, hi=200,
                             why="Nacka's sources: 60-180 ideas a year; none to about x1.5")
    domain_mix: DomainMix = Field(default_factory=DomainMix, description="domain mix of its ideas",
                                  json_schema_extra={"mix": True, "range": [0, 1],
                                                     "range_reason": "any mix (sum 1)"})
    screening_pass: float | None = P(None, "screening pass probability for this source "
                                     "(default: funnel.screening_pass)", "probability", ge=0, le=1,
                                     lo=0.1, hi=0.45, why="as funnel.screening_pass")


def _default_sources() -> dict[str, IdeaSource]:
    return {
        "business_units": IdeaSource(
            rate_per_year=130.0,
            domain_mix=DomainMix(it=0.15, business=0.6, new_service=0.25),
        ),
        "digital_unit": IdeaSource(
            rate_per_year=60.0, domain_mix=DomainMix(it=0.5, business=0.3, new_service=0.2)
        ),
        "citizens": IdeaSource(
            rate_per_year=50.0,
            domain_mix=DomainMix(it=0.05, business=0.35, new_service=0.6),
            screening_pass=0.15,
        ),
    }


class Ideas(Frozen):
    sources: dict[str, IdeaSource] = Field(default_factory=_default_sources,
                                           description="internal and citizen idea sources")
    supplier_domain_mix: DomainMix = Field(
        default_factory=lambda: DomainMix(it=0.6, business=0.3, new_service=0.1),
        description="domain mix of supplier-originated ideas",
        json_schema_extra={"mix": True, "range": [0, 1], "range_reason": "any mix (sum 1)"},
    )
    supplier_ideas_per_improvement_year: float = P(
        2.0, "supplier ideas per person-year of improvement work (supplier idea supply follows "
        "improvement time, i.e. scope, not the number of contracts)", "ideas/person-year",
        ge=0, le=50, lo=0.5, hi=5.0,
        why="assumption: an improvement person-year yields one idea every two months to six")
    supplier_business_pass_factor: float = P(
        0.5, "screening pass of supplier ideas in business development is multiplied by this "
        "(suppliers lack business knowledge)", "factor", ge=0, le=1, lo=0.3, hi=1.0,
        why="assumption: from a large handicap to none")
    areas_needed_probs: tuple[float, ...] = P(
        (0.55, 0.3, 0.15), "probability an idea needs 1, 2, 3, … supplier areas", "probabilities",
        lo=0, hi=1, why="any mix (sum 1)", mix=True, max_length=len(AREAS))
    value_msek_per_year_mean: float = P(0.4, "mean yearly benefit of an implemented idea "
                                        "(lognormal)", "MSEK/year", gt=0, le=1000, lo=0.1, hi=1.5,
                                        why="assumption: small service improvements")
    value_sigma: float = P(1.0, "lognormal sigma of idea value", "", ge=0, le=3, lo=0.5, hi=1.5,
                           why="assumption: a few ideas carry most of the value")
    benefit_lifetime_years: float = P(5.0, "years an implemented idea yields its value (public "
                                      "IT services: 3-8 years)", "years", gt=0, le=30,
                                      lo=3, hi=8, why="assumption: useful life of IT services")
    adoption_lag_days: float = P(60.0, "value ramps up linearly over this many days after "
                                 "implementation (adoption)", "days", ge=0, le=660, lo=0,
                                 hi=220, why="assumption: none to a year of adoption")

    @model_validator(mode="after")
    def _probs(self) -> Ideas:
        p = self.areas_needed_probs
        if not p or any(x < 0 for x in p) or abs(sum(p) - 1.0) > 1e-6:
            raise ValueError("areas_needed_probs must be non-negative and sum to 1")
        if len(self.sources) > MAX_SOURCES:
            raise ValueError(f"ideas.sources: {len(self.sources)} sources; at most {MAX_SOURCES}")
        for name in self.sources:
            problem = slug_problem(name)
            if problem:
                raise ValueError(f"source name {problem}")
        return self


class Funnel(Frozen):
    attrition: bool = P(True, "false: every idea passes every stage (textbook reduction)")
    screening_pass: float = P(0.25, "screening pass probability (Stevens & Burley 1997)",
                              "probability", ge=0, le=1, lo=0.10, hi=0.45,
                              why="Stevens & Burley 1997; Imaginatik 2004 (MODEL.md 5)")
    matching_pass: float = P(0.5, "matching pass probability (assumption: public innovation is "
                             "mostly reuse)", "probability", ge=0, le=1, lo=0.3, hi=0.7,
                             why="assumption (MODEL.md 5)")
    screening_effort_days: float = P(0.5, "mean coordinator effort to screen an idea "
                                     "(exponential)", "person-days", gt=0, le=100, lo=0.25, hi=1.0,
                                     why="assumption: two hours to a day")
    matching_effort_days: float = P(4.0, "mean coordinator effort to match an idea with a need "
                                    "owner (exponential)", "person-days", gt=0, le=1000, lo=2.0,
                                    hi=8.0, why="assumption: half a week to two weeks")
    need_owner_delay_days: float = P(5.0, "mean wait for the business need owner during "
                                     "matching (exponential)", "days", ge=0, le=1000, lo=0, hi=15,
                                     why="assumption: none to three weeks")
    project_effort_days_mean: float = P(50.0, "mean planned project effort (lognormal)",
                                        "person-days", gt=0, le=10_000, lo=25, hi=100,
                                        why="assumption: one to five person-months")
    project_effort_sigma: float = P(0.6, "lognormal sigma of planned project effort", "",
                                    ge=0, le=3, lo=0.3, hi=1.0,
                                    why="assumption: moderate to wide spread")
    integration_effort_per_extra_supplier: float = P(
        0.25, "extra project effort per additional supplier involved (interfaces)", "share",
        ge=0, le=5, lo=0.1, hi=0.5, why="Brooks: each interface adds work; assumption")
    overrun_mean: float = P(0.27, "mean effort (= cost) overrun of projects, black swans "
                            "included (Flyvbjerg & Budzier 2011: +27 %)", "share", ge=0, le=2,
                            lo=0.1, hi=0.5, why="Flyvbjerg & Budzier 2011: mean +27 %")
    overrun_sigma: float = P(0.2, "lognormal sigma of the overrun factor of ordinary (non-black-"
                             "swan) projects (assumption)", "", ge=0, le=1.5, lo=0.1, hi=0.4,
                             why="assumption: ordinary projects within about +-30 %")
    black_swan_share: float = P(1 / 6, "share of projects that turn into black swans "
                                "(Flyvbjerg & Budzier 2011: one in six)", "share", ge=0, le=0.5,
                                lo=0.1, hi=0.25, why="Flyvbjerg & Budzier 2011: one in six")
    black_swan_overrun_mean: float = P(2.0, "mean effort (= cost) overrun of a black swan "
                                       "(Flyvbjerg & Budzier 2011: +200 %)", "share", ge=0.6,
                                       le=5, lo=1.0, hi=3.0,
                                       why="Flyvbjerg & Budzier 2011: about +200 %")
    black_swan_sigma: float = P(1.0, "lognormal sigma of a black swan's overrun beyond +50 % "
                                "(assumption: the shape of the tail)", "", ge=0.1, le=2,
                                lo=0.5, hi=1.5, why="assumption: the tail's shape")
    overrun_max_factor: float = P(10.0, "largest actual/planned effort factor (the tail of "
                                  "black swans is cut here: bounded work)", "factor", ge=2,
                                  le=50, lo=6, hi=20,
                                  why="assumption: the largest overruns reported are about 10x")
    last_stage: Literal["screening", "matching", "decision", "project"] = P(
        "project", "ideas passing this stage count as implemented (reduce the funnel to one "
        "stage for textbook checks)")
    work_chunk_days: float = P(5.0, "project work is done in chunks of this many person-days, so "
                               "operations can interleave", "person-days", ge=0.1, le=1000,
                               lo=2.5, hi=10, why="half a working week to two weeks")

    @model_validator(mode="after")
    def _overrun_tail(self) -> Funnel:
        check_overrun_tail(self.overrun_mean, self.black_swan_share,
                           self.black_swan_overrun_mean, self.overrun_max_factor, "overrun_mean")
        return self


class ResponsibilityMatrix(Frozen):
    it: Responsibility = P("shared", "who leads innovation in domain 1 (IT) — Fig. 4 row")
    business: Responsibility = P("shared", "who leads business development (VU)")
    new_service: Responsibility = P("internal", "who leads new services (uses the VU column)")
    success_supplier_it: float = P(0.65, "project success, supplier-led IT (Fig. 4 cell 1)",
                                   "probability", ge=0, le=1, lo=0.5, hi=0.8,
                                   why="PDMA 2004 ±; assumption")
    success_supplier_business: float = P(0.35, "project success, supplier-led VU (cell 2): "
                                         "suppliers lack business knowledge", "probability",
                                         ge=0, le=1, lo=0.2, hi=0.5,
                                         why="below the shared cells; assumption")
    success_shared_it: float = P(0.7, "project success, shared IT (cell 3)", "probability",
                                 ge=0, le=1, lo=0.5, hi=0.85, why="PDMA 2004 ±; assumption")
    success_shared_business: float = P(0.6, "project success, shared VU (cell 4; PDMA 2004 59 %)",
                                       "probability", ge=0, le=1, lo=0.4, hi=0.8,
                                       why="PDMA 2004: 59 % (MODEL.md 5)")
    success_internal_it: float = P(0.55, "project success, internal IT (cell 5)", "probability",
                                   ge=0, le=1, lo=0.4, hi=0.75, why="PDMA 2004 ±; assumption")
    success_internal_business: float = P(0.6, "project success, internal VU (cell 6)",
                                         "probability", ge=0, le=1, lo=0.4, hi=0.8,
                                         why="PDMA 2004: 59 % (MODEL.md 5)")
    supplier_effort_share_supplier: float = P(0.85, "share of project effort carried by "
                                              "suppliers when supplier-led", "share", ge=0, le=1,
                                              lo=0.7, hi=0.95, why="supplier-led: most of it")
    supplier_effort_share_shared: float = P(0.5, "supplier share of effort when shared",
                                            "share", ge=0, le=1, lo=0.3, hi=0.7,
                                            why="shared: about half")
    supplier_effort_share_internal: float = P(0.15, "supplier share of effort when internal",
                                              "share", ge=0, le=1, lo=0.05, hi=0.3,
                                              why="internal: a small part")

    def cell(self, domain: str) -> Responsibility:
        resp: Responsibility = getattr(self, domain)
        return resp

    def success(self, domain: str) -> float:
        column = "it" if domain == "it" else "business"
        value: float = getattr(self, f"success_{self.cell(domain)}_{column}")
        return value

    def supplier_share(self, domain: str) -> float:
        value: float = getattr(self, f"supplier_effort_share_{self.cell(domain)}")
        return value


class StaffStep(Frozen):
    until_day: float = P(220.0, "this staff level holds until this day", "days", gt=0,
                         le=20_000, lo=110, hi=660, why="Nacka's ramp: half a year to 3 years")
    staff: int = P(10, "coordinators employed until until_day", "persons", ge=0, le=500,
                   lo=6, hi=40, why="as coordination.staff")
    consultants: int = P(0, "consultants until until_day", "persons", ge=0, le=500, lo=0,
                         hi=15, why="as coordination.consultants")


class Coordination(Frozen):
    staff: int = P(10, "digitalisation-unit coordinators (steady state, after any plan steps)",
                   "persons", ge=0, le=500, lo=6, hi=40,
                   why="Nacka: 10 -> 24 (whitepaper); x0.6 to x1.7")
    consultants: int = P(0, "consultants working as coordinators (steady state)", "persons",
                         ge=0, le=500, lo=0, hi=15, why="Nacka: about ten (whitepaper)")
    plan: tuple[StaffStep, ...] = P((), "earlier staffing levels (ramp), in day order",
                                    max_length=100)
    staff_cost_msek_per_year: float = P(0.85, "yearly cost of one employed coordinator",
                                        "MSEK/year", ge=0, le=100, lo=0.7, hi=1.1,
                                        why="Swedish municipal salaries with overheads")
    consultant_cost_msek_per_year: float = P(1.6, "yearly cost of one full-time consultant",
                                             "MSEK/year", ge=0, le=100, lo=1.2, hi=2.2,
                                             why="consultancy day rates x 220 days")
    governance: bool = P(True, "false: no periodic supplier governance work")
    governance_interval_days: float = P(10.0, "mean length of a governance cycle; each supplier "
                                        "relationship and interface keeps its own rhythm (random "
                                        "phase, drawn durations)", "days", ge=0.1, le=1000,
                                        lo=5, hi=20, why="weekly to monthly follow-up; assumption")
    governance_effort_cv: float = P(0.5, "coefficient of variation of one cycle's governance "
                                    "effort (gamma; assumption)", "", ge=0, le=2, lo=0.2,
                                    hi=1.0, why="assumption: some cycles twice the mean")
    governance_fte_per_supplier: float = P(
        0.7, "coordination effort a per supplier (vendor management 0.2 FTE, Forrester, plus "
        "contract follow-up; assumption calibrated to ops ≈ 1/3 of unit effort)", "FTE",
        ge=0, le=10, lo=0.2, hi=1.5, why="Forrester 0.2 FTE up to calibrated x2")
    governance_fte_per_pair: float = P(
        0.35, "coordination effort b per supplier pair (interfaces, Brooks n(n-1)/2)", "FTE",
        ge=0, le=10, lo=0.1, hi=0.8, why="Brooks: interfaces; assumption")
    triage_effort_days: float = P(0.5, "mean coordinator effort to triage an incident that "
                                  "spans suppliers or keeps bouncing (exponential)",
                                  "person-days", gt=0, le=100, lo=0.25, hi=1.0,
                                  why="assumption: two hours to a day")

    @model_validator(mode="after")
    def _plan_sorted(self) -> Coordination:
        days = [s.until_day for s in self.plan]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("plan steps must be in strictly increasing until_day order")
        if self.staff + self.consultants == 0:
            raise ValueError("staff + consultants must be at least 1")
        return self


class Partnership(Frozen):
    preset: Literal["light", "heavy", "custom"] = P(
        "light", "light (≈0.2 on every dimension) or heavy (≈0.9); explicit dimensions win")
    colocation: float = P(0.2, "0 distributed … 1 one place: hand-off delays, co-location speed-up",
                          "0..1", ge=0, le=1, lo=0, hi=1, why="the whole scale (Fig. 7)")
    mandate: float = P(0.2, "0 decisions by others … 1 decides itself: escalation to the line",
                       "0..1", ge=0, le=1, lo=0, hi=1, why="the whole scale (Fig. 7)")
    information: float = P(0.2, "0 batches … 1 continuous: stage transitions wait for sync points",
                           "0..1", ge=0, le=1, lo=0, hi=1, why="the whole scale (Fig. 7)")
    autonomy: float = P(0.2, "0 inside line org … 1 independent: ring-fences "
                        "autonomy x ring_fence_max_share of coordinators and supplier staff for "
                        "innovation", "0..1", ge=0, le=1, lo=0, hi=1,
                        why="the whole scale (Fig. 7)")
    intensity: float = P(0.2, "0 part-time … 1 dedicated: task-switching loss (Weinberg)", "0..1",
                         ge=0, le=1, lo=0, hi=1, why="the whole scale (Fig. 7)")
    effects: bool = P(True, "false: the five dimensions have no effect at all (textbook reduction)")
    handoff_delay_days: float = P(4.0, "mean hand-off delay between unit and supplier per stage "
                                  "when fully distributed (x (1 - colocation))", "days", ge=0,
                                  le=1000, lo=1, hi=10, why="assumption: a day to two weeks")
    colocation_speedup: float = P(1.3, "project speed-up of fully co-located teams (Waber 2014; "
                                  "Teasley 2002)", "factor", ge=1, le=10, lo=1.3, hi=2.0,
                                  why="Waber et al. 2014; Teasley et al. 2002 (MODEL.md 5)")
    decision_interval_days: float = P(20.0, "interval between sync points / decision meetings of "
                                      "a fully batch-oriented organisation (Better Reykjavik: "
                                      "monthly); x (1 - information)", "days", ge=0.1,
                                      le=1000, lo=10, hi=60, why="Better Reykjavik (MODEL.md 5)")
    line_meeting_interval_days: float = P(40.0, "interval of the line organisation's meetings "
                                          "that take escalated decisions", "days", ge=0.1,
                                          le=1000, lo=20, hi=90,
                                          why="monthly to quarterly committee meetings")
    full_mandate_msek: float = P(1.0, "spending authority of a unit with full mandate: a "
                                 "project costing more than mandate x this is escalated to the "
                                 "line organisation (assumption)", "MSEK", gt=0, le=100,
                                 lo=0.5, hi=3.0,
                                 why="assumption: a unit head's delegated spending limit")
    line_hurdle_years: float = P(2.0, "the line organisation approves an escalated project only "
                                 "if its yearly value x this covers its cost (payback hurdle; "
                                 "assumption)", "years", ge=0, le=20, lo=1.0, hi=5.0,
                                 why="assumption: payback within one to five years")
    ring_fence_max_share: float = P(0.3, "share of coordinators and supplier staff a fully "
                                    "autonomous organisation reserves for innovation "
                                    "(x autonomy; assumption)", "share", ge=0, le=0.9,
                                    lo=0.1, hi=0.5,
                                    why="assumption: a tenth to half of the people dedicated")
    max_tasks: float = P(3.0, "tasks a fully part-time (intensity 0) person is split over",
                         "tasks", ge=1, le=5, lo=2, hi=4, why="Weinberg 1992: 2-4 tasks")
    switching_loss_per_task: float = P(0.2, "capacity lost per extra task (Weinberg: 2 → 20 %, "
                                       "3 → 40 %, 4 → 60 %)", "share", ge=0, le=0.3, lo=0.1,
                                       hi=0.25, why="Weinberg 1992: 20 % per task, ±5 points")
    heavy_fixed_cost_msek_per_year: float = P(
        3.0, "yearly fixed cost of a fully heavy organisation (dedicated people, shared "
        "premises); scales with the mean dimension", "MSEK/year", ge=0, le=1000, lo=1, hi=6,
        why="a few dedicated people and premises")

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        """``Partnership(preset="heavy")`` sets every dimension not given explicitly."""
        preset = data.get("preset") if isinstance(data, dict) else None
        if isinstance(preset, str) and preset in PRESETS:
            return {**dict.fromkeys(PARTNERSHIP_DIMENSIONS, PRESETS[preset]), **data}
        return data

    def dims(self) -> dict[str, float]:
        return {d: float(getattr(self, d)) for d in PARTNERSHIP_DIMENSIONS}


class Operations(Frozen):
    enabled: bool = P(True, "false: no incidents at all")
    incidents_per_year: dict[str, float] = P(
        {"network": 250.0, "operations": 500.0, "security": 150.0, "telephony": 150.0,
         "workplace": 300.0},
        "incidents escalated to suppliers per year, per area (Poisson)", "incidents/year",
        lo=50, hi=1000, why="Nacka's areas: 150-500 a year; x1/3 to x2 (each area)")
    resolution_effort_days: float = P(0.6, "mean supplier effort to resolve an incident "
                                      "(exponential)", "person-days", gt=0, le=100, lo=0.3,
                                      hi=1.5, why="assumption: a few hours to a day and a half")
    cross_area_share: float = P(0.15, "share of incidents that touch two areas", "share",
                                ge=0, le=1, lo=0.05, hi=0.4, why="assumption (MODEL.md 5)")
    cross_supplier_multiplier: float = P(2.5, "resolution effort multiplier when the areas belong "
                                         "to different suppliers (Herbsleb & Mockus 2003)",
                                         "factor", ge=1, le=100, lo=1.5, hi=4.0,
                                         why="Herbsleb & Mockus 2003 (MODEL.md 5)")
    sla_days: float = P(3.0, "an incident resolved later than this breaches the SLA", "days",
                        gt=0, le=1000, lo=1, hi=10, why="contract practice: 1-10 working days")
    between_chairs_after_days: float = P(2.0, "an incident without an owner working on it for "
                                         "longer than this (misrouted, bouncing, waiting for "
                                         "triage) is 'between chairs'", "days", gt=0,
                                         le=1000, lo=1, hi=5, why="assumption: one day to a week")
    between_chairs_bounces: int = P(1, "an incident bounced between owners more often than this "
                                    "is 'between chairs'", "bounces", ge=0, le=5, lo=1, hi=2,
                                    why="assumption: a ping-pong of two or three owners")
    symptom_ambiguity: float = P(0.3, "share of incidents whose symptom also points at another "
                                 "area (its owner borders the symptom; assumption)", "share",
                                 ge=0, le=1, lo=0.1, hi=0.5,
                                 why="assumption: a tenth to half of the symptoms are ambiguous")
    application_boundary_share: float = P(
        0.3, "share of incidents whose symptom shows in a business application, so the "
        "business application owner borders it too - with any sourcing (assumption)", "share",
        ge=0, le=1, lo=0.1, hi=0.5, why="assumption: a tenth to half of the incidents")
    service_integration: float = P(
        0.3, "0: the reporter guesses among the owners bordering a symptom … 1: a service "
        "integrator (SIAM) routes every incident to its owner", "0..1", ge=0, le=1, lo=0,
        hi=0.8, why="from no integration to a strong service desk (SIAM)")
    service_integration_cost_msek_per_year: float = P(
        2.0, "yearly cost of full service integration (x service_integration; assumption: an "
        "integration function of about two people)", "MSEK/year", ge=0, le=100, lo=1, hi=4,
        why="assumption: one to four people")
    misroute_diagnosis_days: float = P(0.25, "mean supplier effort a wrongly chosen supplier "
                                       "spends before it bounces an incident (exponential)",
                                       "person-days", ge=0, le=10, lo=0.1, hi=0.5,
                                       why="assumption: an hour to half a day")
    application_owner_delay_days: float = P(1.0, "mean time a wrongly chosen business application "
                                            "owner takes to bounce an incident (exponential)",
                                            "days", ge=0, le=20, lo=0.5, hi=3,
                                            why="assumption: half a day to three days")
    triage_after_bounces: int = P(2, "after this many bounces the digitalisation unit triages "
                                  "the incident (routes it to its owner)", "bounces", ge=1, le=3,
                                  lo=1, hi=3, why="assumption: the unit steps in after 1-3 tries")

    @model_validator(mode="after")
    def _rates(self) -> Operations:
        for area, rate in self.incidents_per_year.items():
            if area not in AREAS:
                raise ValueError(f"unknown area '{area}' in incidents_per_year")
            if not 0 <= rate <= MAX_INCIDENTS_PER_YEAR:
                raise ValueError(f"incidents_per_year.{area} must be between 0 and "
                                 f"{MAX_INCIDENTS_PER_YEAR:g} (got {rate:g})")
        return self


class Changes(Frozen):
    """Change requests: every piece of supplier change or project work starts as one."""

    enabled: bool = P(True, "false: no operational change requests (project change requests "
                      "still go through the process)")
    operational_per_year: float = P(120.0, "non-standard operational changes the business asks "
                                    "for per year (Poisson; standard catalogue orders are not "
                                    "modelled; assumption)", "changes/year", ge=0, le=1e5,
                                    lo=50, hi=300,
                                    why="assumption: a few non-standard changes a week")
    operational_effort_days: float = P(1.5, "mean supplier effort of an operational change "
                                       "(exponential)", "person-days", gt=0, le=100, lo=0.5,
                                       hi=3.0,
                                       why="assumption: half a day to three days of supplier work")
    areas_probs: tuple[float, ...] = P((0.75, 0.2, 0.05), "probability an operational change "
                                       "touches 1, 2, 3 … areas", "probabilities", lo=0, hi=1,
                                       why="any mix (sum 1)", mix=True, max_length=len(AREAS))
    raise_effort_days: float = P(0.25, "mean coordinator effort to specify and raise a change "
                                 "request with one supplier (exponential)", "person-days",
                                 ge=0, le=20, lo=0.1, hi=0.5,
                                 why="assumption: an hour to half a day")
    negotiation_effort_days: float = P(1.0, "mean coordinator effort per negotiation round "
                                       "(exponential)", "person-days", ge=0, le=20, lo=0.5,
                                       hi=2.0,
                                       why="assumption: half a day to two days a round")
    negotiation_round_days: float = P(10.0, "mean calendar time of one negotiation round "
                                      "(exponential)", "days", ge=0, le=200, lo=5, hi=20,
                                      why="assumption: one to four working weeks a round")
    agreement_per_round: float = P(0.5, "probability a negotiation round ends in agreement",
                                   "probability", gt=0, le=1, lo=0.3, hi=0.8,
                                   why="assumption: most requests settle in one to three rounds")

    @model_validator(mode="after")
    def _probs(self) -> Changes:
        p = self.areas_probs
        if not p or any(x < 0 for x in p) or abs(sum(p) - 1.0) > 1e-6:
            raise ValueError("areas_probs must be non-negative and sum to 1")
        return self


class Engagement(Frozen):
    """Coordinators embedded in the business (Fig. 6 as a loop): ambition drives engagement."""

    enabled: bool = P(True, "false: no coordinator works out in the business")
    latent_needs_per_year: float = P(100.0, "needs arising in the business units per year that "
                                     "surface only when someone looks for them (assumption)",
                                     "needs/year", ge=0, le=1e5, lo=50, hi=250,
        why="assumption: one to five latent needs a week across the business")
    need_life_years: float = P(1.0, "mean time a latent need stays relevant before the business "
                               "works around it (exponential; assumption)", "years", gt=0,
                               le=20, lo=0.5, hi=3.0,
                               why="assumption: half a year to three years")
    discovery_per_fte_year: float = P(0.2, "rate at which one embedded coordinator-year "
                                      "discovers a given latent need (assumption)",
                                      "1/person-year", ge=0, le=100, lo=0.1, hi=1.0,
        why="assumption: an embedded person finds a given need within 1-10 years")
    base_share: float = P(0.03, "share of the unit out in the business when it meets its "
                          "ambition (the start and the floor of the loop)", "share", ge=0, le=1,
                          lo=0, hi=0.1,
                          why="assumption: none to a tenth of the unit out in the business")
    max_share: float = P(0.4, "largest share of the unit that works out in the business",
                         "share", ge=0, le=1, lo=0.1, hi=0.5,
        why="whitepaper: the unit's role moved out into the business; a tenth to a half")
    gain: float = P(1.0, "embedded share added per 100 % shortfall of the last year's "
                    "innovations against the ambition (a proportional response; assumption)",
                    "share", ge=0, le=10, lo=0.5, hi=2.0,
                    why="assumption: a gentle to a strong response")
    chunk_days: float = P(2.0, "embedded work is done in pieces of this many days (operations "
                          "can call people back in between)", "person-days", ge=0.1, le=50,
                          lo=1, hi=5,
                          why="assumption: a day to a week out at a time")
    screening_pass: float = P(0.6, "screening pass of a need found out in the business",
                              "probability", ge=0, le=1, lo=0.4, hi=0.8,
                              why="assumption: found needs are already understood")
    matching_pass: float = P(0.8, "matching pass of a need found out in the business (the need "
                             "owner is already engaged)", "probability", ge=0, le=1, lo=0.6,
                             hi=0.9,
                             why="assumption: the need owner is already engaged")
    matching_effort_factor: float = P(0.5, "matching effort of a found need relative to other "
                                      "ideas (the requirement is already clarified)", "factor",
                                      ge=0, le=1, lo=0.3, hi=1.0,
                                      why="assumption: a third to all of the usual matching effort")
    domain_mix: DomainMix = Field(
        default_factory=lambda: DomainMix(it=0.15, business=0.6, new_service=0.25),
        description="domain mix of needs found out in the business",
        json_schema_extra={"mix": True, "range": [0, 1], "range_reason": "any mix (sum 1)"})


class Budget(Frozen):
    limited: bool = P(True, "false: projects never wait for money")
    innovation_msek_per_year: float = P(12.0, "innovation budget: a yearly appropriation, "
                                        "available from the start of each year", "MSEK/year",
                                        ge=0, le=10_000, lo=4, hi=30,
                                        why="assumption around Nacka's 12 MSEK")
    carry_over: bool = P(False, "unspent innovation budget carries over to the next year (false: "
                         "it lapses at year end, as in a Swedish municipality)")
    discount_rate: float = P(0.035, "real discount rate for benefit_npv_msek (Trafikverket ASEK: "
                             "3.5 %)", "share/year", ge=0, le=0.2, lo=0.01, hi=0.06,
                             why="Swedish guidance for public investments: 1-6 % real")
    reinvest_savings_share: float = P(0.0, "share of operations savings against "
                                      "baseline_operations_msek reinvested in innovation",
                                      "share", ge=0, le=1, lo=0, hi=0.5,
                                      why="none to half of the savings")
    baseline_operations_msek: float = P(0.0, "operations cost the savings are measured against "
                                        "(0: no reinvestment)", "MSEK/year", ge=0, le=100_000,
                                        lo=0, hi=100, why="0 (off) to Nacka's yearly IT cost")


class Ambition(Frozen):
    innovations_per_year: float = P(20.0, "innovation ambition: target implemented per year "
                                    "(Fig. 6)", "innovations/year", ge=0, le=10_000, lo=5,
                                    hi=40, why="what a unit of this size could aim for")


class Transition(Frozen):
    enabled: bool = P(False, "simulate the transfer of systems to the new suppliers")
    systems: int = P(110, "systems to migrate (Nacka: over 100)", "systems", ge=0, le=5000,
                     lo=60, hi=160, why="Nacka: over 100 systems (whitepaper)")
    deadline_days: float = P(160.0, "hard deadline from the transfer start (1 April 2017 00:00)",
                             "days", gt=0, le=20_000, lo=100, hi=250,
                             why="Nacka: 1 April 2017; half a year to a year")
    start_day: float = P(0.0, "day the transfer starts", "days", ge=0, le=20_000, lo=0, hi=220,
                         why="within the first year")
    shared_with_operations: bool = P(True, "the transfer team also resolves incidents "
                                     "(incidents pre-empt transfer work)")
    team_size: int = P(9, "people in the transfer team", "persons", ge=1, le=200, lo=4, hi=16,
                       why="assumption around Nacka's team")
    shared_incident_share: float = P(0.3, "share of incidents in areas in transfer that the "
                                     "shared team must handle itself", "share", ge=0, le=1,
                                     lo=0.1, hi=0.6, why="assumption")
    separate_team_cost_msek_per_year: float = P(1.0, "yearly cost of one transfer-team person "
                                                "when the team is separate from operations",
                                                "MSEK/year", ge=0, le=100, lo=0.7, hi=1.4,
                                                why="salaries with overheads")
    planned_effort_days_mean: float = P(8.0, "mean planned migration effort per system "
                                        "(gamma)", "person-days", gt=0, le=1000, lo=4, hi=15,
                                        why="assumption: one to three weeks a system")
    planned_effort_cv: float = P(0.6, "coefficient of variation of planned effort", "", ge=0,
                                 le=10, lo=0.3, hi=1.0, why="assumption")
    dependency_density: float = P(0.03, "probability that a system depends on a given earlier "
                                  "system (random DAG)", "probability", ge=0, le=1, lo=0, hi=0.1,
                                  why="assumption: sparse dependencies")
    dependencies: dict[str, tuple[int, ...]] = P(
        {}, "explicit dependencies {system: [systems it needs first]} (overrides the random DAG)")
    underestimation: bool = P(True, "false: actual effort = planned effort")
    underestimation_mean: float = P(0.27, "mean effort underestimation, black swans included "
                                    "(Flyvbjerg & Budzier 2011: +27 %)", "share", ge=0, le=2,
                                    lo=0.1, hi=0.6, why="Flyvbjerg & Budzier 2011: mean +27 %")
    underestimation_sigma: float = P(0.2, "lognormal sigma of ordinary systems' underestimation "
                                     "(assumption)", "", ge=0, le=1.5, lo=0.1, hi=0.4,
                                     why="assumption: ordinary migrations within about +-30 %")
    black_swan_share: float = P(1 / 6, "share of systems whose migration is a black swan "
                                "(Flyvbjerg & Budzier 2011: one in six IT projects)", "share",
                                ge=0, le=0.5, lo=0.05, hi=0.25,
                                why="Flyvbjerg & Budzier 2011: one in six; less if mapped early")
    black_swan_overrun_mean: float = P(2.0, "mean effort overrun of a black swan (+200 %)",
                                       "share", ge=0.6, le=5, lo=1.0, hi=3.0,
                                       why="Flyvbjerg & Budzier 2011: about +200 %")
    black_swan_sigma: float = P(1.0, "lognormal sigma of a black swan's overrun beyond +50 %",
                                "", ge=0.1, le=2, lo=0.5, hi=1.5,
                                why="assumption: the tail's shape")
    overrun_max_factor: float = P(10.0, "largest actual/planned effort factor", "factor", ge=2,
                                  le=50, lo=6, hi=20,
                                  why="assumption: the largest overruns reported are about 10x")
    deterministic_effort: bool = P(False, "true: planned effort is exactly the mean (tests)")
    cross_supplier_share: float = P(0.2, "share of systems spanning two new suppliers (need a "
                                    "hand-off)", "share", ge=0, le=1, lo=0.05, hi=0.4,
                                    why="assumption")
    handoff_days: float = P(3.0, "mean delay of a hand-off between two new suppliers", "days",
                            ge=0, le=1000, lo=1, hi=10,
                            why="assumption: a day to two weeks")
    handoff_coordinator_days: float = P(0.5, "coordinator effort per hand-off", "person-days",
                                        ge=0, le=100, lo=0.25, hi=1.0,
                                        why="assumption: two hours to a day")
    surge_consultants: int = P(0, "consultants added to the transfer team from surge_day",
                               "persons", ge=0, le=100, lo=0, hi=8,
                               why="none to most of the team again")
    surge_day: float = P(60.0, "day the surge consultants join", "days", ge=0, le=20_000, lo=20,
                         hi=120, why="within the transfer's first half year")
    surge_cost_msek_per_year: float = P(1.6, "yearly cost of one surge consultant", "MSEK/year",
                                        ge=0, le=100, lo=1.2, hi=2.2,
                                        why="as coordination.consultant_cost_msek_per_year")
    critical_share: float = P(1.0, "share of systems that must move before the deadline; "
                              "the rest may be deferred", "share", ge=0, le=1, lo=0.6, hi=1.0,
                              why="assumption: most systems are critical")
    defer_noncritical: bool = P(False, "non-critical systems wait until critical ones are done")
    disruption_incident_factor: float = P(1.5, "incident-rate multiplier for areas in transfer",
                                          "factor", ge=1, le=10, lo=1, hi=3,
                                          why="assumption: none to x3")
    disruption_resolution_factor: float = P(1.5, "resolution-effort multiplier for areas in "
                                            "transfer", "factor", ge=1, le=10, lo=1, hi=3,
                                            why="assumption: none to x3")

    @model_validator(mode="after")
    def _overrun_tail(self) -> Transition:
        check_overrun_tail(self.underestimation_mean, self.black_swan_share,
                           self.black_swan_overrun_mean, self.overrun_max_factor,
                           "underestimation_mean")
        return self

    @model_validator(mode="after")
    def _dependencies(self) -> Transition:
        """Explicit dependencies name existing systems and form a DAG (a cycle would deadlock)."""
        n = self.systems
        graph: dict[int, set[int]] = {}
        for key, deps in self.dependencies.items():
            try:
                i = int(key)
            except ValueError:
                raise ValueError(f"dependencies: '{key}' is not a system number") from None
            if not 0 <= i < n:
                raise ValueError(f"dependencies: system {key} does not exist "
                                 f"(systems are 0..{n - 1})")
            bad = sorted(d for d in deps if not 0 <= d < n or d == i)
            if bad:
                raise ValueError(f"dependencies.{key}: unknown systems or the system itself "
                                 f"{bad} (systems are 0..{n - 1})")
            graph[i] = set(deps)
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            # graphlib lists the cycle with each system before the one that needs it; reversed,
            # each system needs the next one first
            cycle = list(reversed(exc.args[1]))
            raise ValueError("dependencies contain a cycle: "
                             + " → ".join(str(c) for c in cycle)
                             + " (each system needs the next one first)") from None
        return self


class Scenario(Frozen):
    """A fully resolved, validated, frozen scenario."""

    name: str = P("custom", "short name (used for result folders): letters, digits, '-', '_' "
                  "and '.', no leading dot, at most 100 characters")
    title: str = P("", "one-line title", max_length=500)
    description: str = P("", "what the scenario represents", max_length=20_000)
    scenario: RunSettings = Field(default_factory=RunSettings)
    suppliers: dict[str, Supplier] = Field(default_factory=dict)
    coordination: Coordination = Field(default_factory=Coordination)
    partnership: Partnership = Field(default_factory=Partnership)
    responsibility: ResponsibilityMatrix = Field(default_factory=ResponsibilityMatrix)
    ideas: Ideas = Field(default_factory=Ideas)
    funnel: Funnel = Field(default_factory=Funnel)
    operations: Operations = Field(default_factory=Operations)
    changes: Changes = Field(default_factory=Changes)
    engagement: Engagement = Field(default_factory=Engagement)
    budget: Budget = Field(default_factory=Budget)
    ambition: Ambition = Field(default_factory=Ambition)
    transition: Transition = Field(default_factory=Transition)

    _slug_name = field_validator("name")(check_slug)

    @model_validator(mode="after")
    def _areas_owned(self) -> Scenario:
        if not self.suppliers:
            raise ValueError("at least one supplier is needed")
        for name in self.suppliers:
            problem = slug_problem(name)
            if problem:
                raise ValueError(f"supplier name {problem}")
        owners: dict[str, list[str]] = {}
        for name, sup in self.suppliers.items():
            for area in sup.areas:
                owners.setdefault(area, []).append(name)
        for area in self.scenario.areas:
            if area not in owners:
                raise ValueError(f"area '{area}' is owned by no supplier")
            if len(owners[area]) > 1:
                raise ValueError(
                    f"area '{area}' is owned by several suppliers: {', '.join(owners[area])}"
                )
        for owned, names in owners.items():
            if owned not in self.scenario.areas:
                raise ValueError(
                    f"supplier {names[0]} owns area '{owned}' that is not in scenario.areas"
                )
        for name, sup in self.suppliers.items():
            if not sup.areas:
                raise ValueError(f"supplier {name} owns no area; every supplier needs at least "
                                 "one of scenario.areas")
        return self

    # ---- convenience -------------------------------------------------------------
    def owner_of(self, area: str) -> str:
        for name, sup in self.suppliers.items():
            if area in sup.areas:
                return name
        raise KeyError(area)

    @property
    def horizon_days(self) -> float:
        return self.scenario.years * self.scenario.working_days_per_year

    @property
    def warmup_days(self) -> float:
        return self.scenario.warmup_years * self.scenario.working_days_per_year
