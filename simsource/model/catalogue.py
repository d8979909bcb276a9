"""The KPI catalogue: every KPI the model reports, with its unit, label, meaning and direction.

The model declares here what :func:`simsource.model.simulate` returns; tables, plots, the
report, the teaching page, ``run --precision`` and ``simsource staff`` read it instead of
keeping their own lists, and ``simsource kpis`` prints it. Names patterned per funnel stage,
innovation domain or coordinator work kind are generated from the model's own tuples.

``tests/test_catalogue.py`` checks that the catalogue and the model agree, name for name, and
that ``docs/results-format.md``'s KPI section is generated from it
(``python -m simsource.model.catalogue docs/results-format.md`` refreshes that section).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from simsource import formatting
from simsource.model.core import COORD_KINDS, STAGES
from simsource.scenario.schema import DOMAINS

Better = Literal["higher", "lower", "none"]

#: the vocabulary of :attr:`Kpi.tags` (what reads the tag)
TAGS: dict[str, str] = {
    "headline": "a planner's first look: terminal tables, report, plots, narrative, app cards",
    "lead": "the two figures a comparison or sweep summary leads with (innovation vs cost)",
    "precision": "a default target of `simsource run --precision`",
    "staffing": "reported with the answer of `simsource staff`",
    "cost_part": "a component of cost_total_msek_per_year (stacking order = catalogue order)",
}
#: units whose values are fractions of one (shown in percent; a mean of a 0/1 flag is a share)
SHARE_UNITS = ("share", "0/1")

#: below this mean of ``funnel_stable`` a scenario counts as overloaded
OVERLOAD_THRESHOLD = 0.5
STABILITY_KPI = "funnel_stable"
OVERLOAD_TEXT = ("overloaded: the idea funnel's backlog keeps growing in most replications, so "
                 "lead times grow without bound and the figures depend on the run length")


@dataclass(frozen=True)
class Kpi:
    """One KPI: ``name`` as in the results, ``unit``, a sentence-case ``label``, what it means,
    which direction is better, and ``tags`` (see :data:`TAGS`).

    ``deprecated`` says what to use instead (the KPI stays in the results for compatibility).
    """

    name: str
    unit: str
    label: str
    description: str
    better: Better = "none"
    group: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    deprecated: str | None = None

    @property
    def headline(self) -> bool:
        return "headline" in self.tags

    @property
    def share(self) -> bool:
        """Stored as a fraction of one, shown in percent."""
        return self.unit in SHARE_UNITS

    @property
    def scale(self) -> float:
        """Factor from the stored value to the shown one (100 for shares)."""
        return 100.0 if self.share else 1.0

    @property
    def display_unit(self) -> str:
        return "%" if self.share else self.unit


# ---- the catalogue ------------------------------------------------------------------------

STAGE_WORDS: dict[str, str] = {"screening": "screening", "matching": "matching",
                               "decision": "the funding decision", "project": "the project"}
DOMAIN_WORDS: dict[str, str] = {"it": "IT", "business": "business-development",
                                "new_service": "new-service"}
WORK_WORDS: dict[str, str] = {
    "triage": "cross-supplier incident triage", "governance": "supplier governance",
    "project": "project leadership", "matching": "matching ideas with needs",
    "screening": "screening ideas", "handoff": "transfer hand-offs",
    "change": "raising and negotiating change requests",
    "embedded": "work out in the business (finding needs)",
}

_ALL: dict[str, Kpi] = {}


def _add(name: str, unit: str, label: str, description: str, better: Better = "none",
         group: str = "", tags: Iterable[str] = (), *, deprecated: str | None = None) -> None:
    if name in _ALL:
        raise ValueError(f"{name}: declared twice")
    unknown = set(tags) - set(TAGS)
    if unknown:
        raise ValueError(f"{name}: unknown tags {sorted(unknown)}")
    _ALL[name] = Kpi(name, unit, label, description, better, group, frozenset(tags),
                     deprecated)


def _declare() -> None:
    """One declaration per KPI, in display order."""
    g = "innovation"
    _add("innovations_per_year", "innovations/year", "innovations per year",
         "Ideas implemented per year in the KPI window (the end of the funnel, Fig. 5).",
         "higher", g, ("headline", "lead", "precision"))
    for d in DOMAINS:
        _add(f"innovations_{d}_per_year", "innovations/year",
             f"{DOMAIN_WORDS[d]} innovations per year",
             f"Implemented innovations per year in the domain `{d}` (Fig. 1).", "higher", g)
    _add("ideas_per_year", "ideas/year", "ideas per year",
         "Ideas created per year by every source in the KPI window.", "none", g)
    _add("ideas_from_suppliers_per_year", "ideas/year", "ideas from suppliers per year",
         "Ideas the suppliers bring per year: a Poisson process in their improvement time "
         "(MODEL.md §9).", "higher", g)
    _add("ideas_embedded_per_year", "ideas/year", "needs found out in the business per year",
         "Latent business needs found by coordinators working out in the business, per year "
         "(engagement, MODEL.md §9).", "higher", g)
    _add("ambition_innovations_per_year", "innovations/year", "innovation ambition",
         "The scenario's target (`ambition.innovations_per_year`), for the ambition map "
         "(Fig. 6).", "none", g)
    _add("innovation_capacity_ratio", "share", "innovations as a share of the ambition",
         "innovations_per_year / ambition_innovations_per_year.", "higher", g)
    _add("implemented_per_year", "innovations/year", "implemented per year",
         "Same value as innovations_per_year.", "higher", g,
         deprecated="use innovations_per_year (kept in the results for compatibility)")

    _add("embedded_share_mean", "share", "share of the unit sent out in the business",
         "Mean share of the unit the engagement loop sends out (Fig. 6: more when short of "
         "the ambition); what it achieves is coordinator_utilisation_embedded.", "none", g)

    g = "funnel"
    for st in STAGES:
        _add(f"funnel_in_{st}_per_year", "ideas/year", f"ideas entering {st} per year",
             f"Ideas entering {STAGE_WORDS[st]} per year in the KPI window.", "none", g)
        _add(f"funnel_out_{st}_per_year", "ideas/year", f"ideas passing {st} per year",
             f"Ideas passed on by {STAGE_WORDS[st]} per year in the KPI window.", "none", g)
    for st in STAGES:
        better: Better = "higher" if st == "project" else "none"
        label = "project success rate" if st == "project" else f"{st} pass rate"
        _add(f"pass_rate_{st}", "share", label,
             f"Of the ideas that left {STAGE_WORDS[st]} in the KPI window, the share passed "
             "on (NaN when none left).", better, g)
    for st in STAGES:
        what = ("escalation and budget" if st == "decision" else "a coordinator")
        _add(f"wait_{st}_days_mean", "working days", f"mean wait for {what} in {st}",
             f"Mean working days an idea waits in {STAGE_WORDS[st]} for {what}.", "lower", g)
        _add(f"time_in_{st}_days_mean", "working days", f"mean time in {st}",
             f"Mean working days an idea spends in {STAGE_WORDS[st]}, waiting or in service.",
             "lower", g)
        _add(f"wip_{st}_mean", "ideas", f"ideas in {st} (time average)",
             f"Time-average number of ideas in {STAGE_WORDS[st]}.", "none", g)
    _add("decisions_escalated_per_year", "decisions/year", "funding decisions escalated",
         "Projects per year costing more than the unit's mandate allows, sent to the line "
         "organisation's meeting.", "none", g)
    _add("decisions_rejected_per_year", "decisions/year", "escalated projects rejected",
         "Escalated projects per year whose business case fails the line organisation's "
         "payback hurdle.", "lower", g)
    _add("backlog_end", "ideas", "ideas waiting in the funnel at the end",
         "Ideas in the funnel or waiting at a gate at the horizon.", "lower", g)
    _add("backlog_growth_per_year", "ideas/year", "growth of the funnel backlog",
         "OLS trend of the monthly mean number of ideas in the funnel over the KPI window "
         "(ideas per year): about λ − μ for an overloaded funnel, about 0 for a stable one.",
         "lower", g)
    _add(STABILITY_KPI, "0/1", "funnel stable",
         "1 when the backlog grows by less than 10 % of the idea inflow a year "
         "(backlog_growth_per_year ≤ 0.1 × max(ideas_per_year, 10)), else 0. A scenario "
         "whose mean is below "
         f"{OVERLOAD_THRESHOLD:g} is reported as overloaded.", "higher", g)

    g = "lead time"
    _add("lead_time_days_median", "working days", "median lead time from idea to implementation",
         "Kaplan–Meier median of the working days from idea to implementation, ideas still in "
         "the funnel at the horizon counted as right-censored; NaN (with the reason) when more "
         "than half are censored.", "lower", g, ("headline", "precision"))
    _add("lead_time_days_p90", "working days",
         "90th-percentile lead time from idea to implementation",
         "Kaplan–Meier 90th percentile of the lead time, unfinished ideas right-censored; NaN "
         "when undefined.", "lower", g)
    _add("lead_time_days_median_completed", "working days",
         "median lead time of finished ideas",
         "Median lead time over the ideas implemented in the KPI window only (biased low "
         "when the funnel is overloaded).", "lower", g)
    _add("lead_time_days_p90_completed", "working days",
         "90th-percentile lead time of finished ideas",
         "90th percentile of the lead time over implemented ideas only.", "lower", g)
    _add("lead_time_censored_share", "share", "ideas still waiting (censored)",
         "Share of the lead-time sample still in the funnel at the horizon (right-censored); "
         "above 50 % the median is undefined (NaN), above 10 % the 90th percentile may be.",
         "lower", g)
    _add("lead_time_days_mean", "working days", "mean lead time of finished ideas",
         "Mean working days from idea to implementation over the implemented ideas.", "lower",
         g)

    g = "coordination"
    _add("coordinator_utilisation", "share", "coordinator utilisation",
         "Share of available coordinator person-days that are busy (staff and consultants).",
         "none", g, ("headline", "precision"))
    for kind in COORD_KINDS:
        _add(f"coordinator_utilisation_{kind}", "share", f"coordinator time on {WORK_WORDS[kind]}",
             f"Share of available coordinator person-days spent on {WORK_WORDS[kind]}.", "none",
             g)
    _add("operations_share_of_unit_effort", "share", "operations share of coordinator effort",
         "(triage + governance + change requests + transfer hand-offs) / all coordinator "
         "work: the sourcing logic's claim on the unit (Nacka: about one third; a "
         "calibration target, docs/model.md).", "lower", g, ("headline",))
    _add("coordinator_preemptions", "preemptions", "innovation work pre-empted by operations",
         "Times innovation work was pre-empted by operations work in the KPI window.", "none",
         g)

    g = "operations"
    _add("incidents_per_year", "incidents/year", "incidents per year",
         "Incidents reported per year in the KPI window.", "lower", g)
    _add("sla_breach_share", "share", "incidents breaching the SLA",
         "Share of incidents resolved later than `operations.sla_days`.", "lower", g,
         ("headline",))
    _add("between_chairs_per_year", "incidents/year", "incidents falling between chairs per year",
         "Incidents per year left without an owner working on them for longer than "
         "`operations.between_chairs_after_days`, or bounced between owners more than "
         "`operations.between_chairs_bounces` times (the blame game, MODEL.md §9).",
         "lower", g, ("headline",))
    _add("misrouted_share", "share", "incidents first sent to the wrong owner",
         "Share of incidents first routed to an owner that does not own them (MODEL.md §9).",
         "lower", g)
    _add("incident_bounces_per_year", "bounces/year", "incident bounces per year",
         "Times per year a wrongly chosen owner sent an incident back.", "lower", g)
    _add("incidents_triaged_per_year", "incidents/year", "incidents triaged by the unit",
         "Incidents per year the digitalisation unit triaged: spanning suppliers, or still "
         "unowned after `operations.triage_after_bounces` bounces.", "none", g)
    _add("change_requests_per_year", "requests/year", "change requests per year",
         "Change requests answered per year (every piece of supplier change or project "
         "work starts as one).", "none", g)
    _add("change_requests_negotiated_share", "share", "change requests negotiated",
         "Share of change requests the supplier negotiates instead of accepting within the "
         "contract (about 1 − reactive).", "lower", g)
    _add("change_negotiation_rounds_mean", "rounds", "negotiation rounds per negotiated request",
         "Mean negotiation rounds of the change requests that were negotiated.", "lower", g)
    _add("supplier_improvement_share", "share", "supplier time on improvement work",
         "Share of supplier staff time spent on improvement work (proactive ability as time; "
         "it gets only what incidents and changes leave).", "none", g)
    _add("supplier_utilisation", "share", "supplier utilisation",
         "Share of supplier staff time busy with incidents and project work.", "none", g)

    g = "cost"
    parts: tuple[tuple[str, str, Better, str], ...] = (
        ("operations", "operations cost", "lower", "Supplier operations fees"),
        ("coordination", "coordination staff cost", "lower", "Employed coordinators"),
        ("consultants", "consultant cost", "lower", "Hired coordinators"),
        ("innovation", "innovation project cost", "none",
         "Innovation projects funded (planned cost at the decision, overrun or underrun at "
         "completion)"),
        ("changes", "operational change cost", "lower",
         "Operational changes paid to suppliers at the agreed price"),
        ("integration", "service integration cost", "lower",
         "Service integration (`operations.service_integration` x its cost)"),
        ("partnership", "partner-organisation cost", "lower",
         "The partner organisation's fixed cost"),
        ("transfer", "transfer cost", "lower", "Transfer work paid inside the KPI window"),
    )
    for part, label, better, what in parts:
        tags = ["cost_part"] + (["headline"] if part == "operations" else []) + (
            ["staffing"] if part == "coordination" else [])
        _add(f"cost_{part}_msek_per_year", "MSEK/year", label,
             f"{what}, per year over the KPI window.", better, g, tags)
    _add("cost_total_msek_per_year", "MSEK/year", "total cost",
         "Operations + coordination + consultants + innovation + changes + integration + "
         "partnership + transfer.",
         "lower", g, ("headline", "lead", "precision", "staffing"))
    _add("benefit_msek_per_year", "MSEK/year", "benefit of implemented innovations",
         "Value of the innovations implemented in the KPI window over their lifetime "
         "(`ideas.benefit_lifetime_years`, ramping up over `ideas.adoption_lag_days`), "
         "undiscounted, per year of the window.", "higher", g, ("headline",))
    _add("benefit_npv_msek", "MSEK", "net present value of the innovations",
         "Net present value of the innovations implemented in the window over their stated "
         "lifetime (adoption lag, discounted at `budget.discount_rate` to the start of the "
         "window), net of all innovation spending in the window, failed projects included.",
         "higher", g)
    _add("budget_lapsed_msek_per_year", "MSEK/year", "innovation budget lapsed",
         "Unspent innovation budget that lapsed at year ends (none with "
         "`budget.carry_over`).", "none", g)
    _add("budget_reinvested_msek_per_year", "MSEK/year", "operations savings reinvested",
         "Operations savings against `budget.baseline_operations_msek` added to the "
         "innovation budget.", "none", g)

    g = "transfer"
    _add("transition_deadline_met", "0/1", "probability of meeting the transfer deadline",
         "1 when every system moved before the deadline (NaN without a transfer).", "higher",
         g, ("headline",))
    _add("transition_finish_day", "working days", "transfer finish day",
         "Working day the last system moved (NaN without a transfer).", "lower", g)
    _add("transition_systems_late", "systems", "systems migrated after the deadline",
         "Systems moved after the deadline (NaN without a transfer).", "lower", g)
    _add("transition_disruption_days", "days", "transfer disruption",
         "Days of disrupted service caused by the transfer (NaN without a transfer).",
         "lower", g)
    _add("transition_cost_msek", "MSEK", "transfer cost over the whole run",
         "Transfer cost over the whole run, warm-up included (NaN without a transfer).",
         "lower", g)

    g = "whole run"
    _add("ideas_total", "ideas", "ideas created (whole run)",
         "Ideas created over the whole run, warm-up included.", "none", g)
    _add("ideas_implemented", "ideas", "ideas implemented (whole run)",
         "Ideas implemented over the whole run.", "none", g)
    _add("ideas_dropped", "ideas", "ideas dropped (whole run)",
         "Ideas dropped at some stage over the whole run.", "none", g)
    _add("ideas_in_funnel", "ideas", "ideas still in the funnel (whole run)",
         "ideas_total − implemented − dropped at the horizon.", "none", g)
    _add("sim_events", "events", "SimPy events scheduled",
         "SimPy events scheduled in the replication (for benchmarks).", "none", "diagnostics")


_declare()
CATALOGUE: dict[str, Kpi] = dict(_ALL)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(k.group for k in CATALOGUE.values()))


# ---- looking things up --------------------------------------------------------------------


def get(name: str) -> Kpi:
    """The :class:`Kpi` of ``name``; a readable stand-in for a name the catalogue lacks (an
    analysis may add columns of its own)."""
    kpi = CATALOGUE.get(name)
    if kpi is None:
        return Kpi(name, "", name.replace("_", " "), "", "none", "other")
    return kpi


def kpis(tag: str | None = None, group: str | None = None) -> list[Kpi]:
    """KPIs in catalogue order, optionally only those with ``tag`` and/or in ``group``."""
    if tag is not None and tag not in TAGS:
        raise ValueError(f"unknown tag {tag!r} (known: {', '.join(TAGS)})")
    return [k for k in CATALOGUE.values()
            if (tag is None or tag in k.tags) and (group is None or k.group == group)]


def names(tag: str | None = None, group: str | None = None) -> tuple[str, ...]:
    return tuple(k.name for k in kpis(tag, group))


# ---- overload -----------------------------------------------------------------------------


def stable_share(values: Iterable[float]) -> float:
    """Mean of ``funnel_stable`` over replications (NaN when there is no finite value)."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return sum(v) / len(v) if v else math.nan


def is_overloaded(share_stable: float) -> bool:
    """A scenario is overloaded when most of its replications' funnels are unstable; unknown
    (NaN: results without ``funnel_stable``) is not overloaded."""
    return math.isfinite(share_stable) and share_stable < OVERLOAD_THRESHOLD


def overload_warning(scenario: str, share_stable: float) -> str:
    """The one sentence every output uses to say that ``scenario`` is overloaded."""
    return (f"{scenario} is {OVERLOAD_TEXT} (funnel stable in "
            f"{formatting.percent(share_stable)} of replications)")


# ---- documentation (docs/results-format.md's KPI section: simsource.model.catalogue_doc) ---


def markdown() -> str:
    """The KPI section of docs/results-format.md (see :mod:`simsource.model.catalogue_doc`)."""
    from simsource.model import catalogue_doc

    return catalogue_doc.markdown()


def with_section(text: str) -> str:
    """``text`` (the results-format document) with its KPI section regenerated."""
    from simsource.model import catalogue_doc

    return catalogue_doc.with_section(text)


def main(argv: list[str]) -> int:
    """``python -m simsource.model.catalogue [DOC]``: print the section, or rewrite DOC's."""
    if not argv:
        print(markdown())
        return 0
    path = Path(argv[0])
    path.write_text(with_section(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
