"""Plain-language names, units and 'good direction' of KPIs and time-series columns.

Shared by the plots, the HTML report and the narrative so that a KPI is called the same thing
everywhere. Unknown names fall back to a readable form of the column name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Better = Literal["higher", "lower", "neither"]


@dataclass(frozen=True)
class KpiInfo:
    """How to speak about one KPI: ``label`` (sentence case), ``unit`` and what counts as better.

    ``share`` KPIs are stored as fractions and shown as percentages.
    """

    label: str
    unit: str
    better: Better = "neither"
    share: bool = False


KPIS: dict[str, KpiInfo] = {
    "innovations_per_year": KpiInfo("innovations per year", "innovations/year", "higher"),
    "innovations_it_per_year": KpiInfo("IT innovations per year", "innovations/year", "higher"),
    "innovations_business_per_year": KpiInfo(
        "business-development innovations per year", "innovations/year", "higher"),
    "innovations_new_service_per_year": KpiInfo(
        "new-service innovations per year", "innovations/year", "higher"),
    "ideas_per_year": KpiInfo("ideas per year", "ideas/year"),
    "ambition_innovations_per_year": KpiInfo("innovation ambition", "innovations/year"),
    "innovation_capacity_ratio": KpiInfo("innovations as a share of the ambition", "share",
                                         "higher", share=True),
    "pass_rate_screening": KpiInfo("screening pass rate", "share", share=True),
    "pass_rate_matching": KpiInfo("matching pass rate", "share", share=True),
    "pass_rate_decision": KpiInfo("decision pass rate", "share", share=True),
    "pass_rate_project": KpiInfo("project success rate", "share", "higher", share=True),
    "lead_time_days_median": KpiInfo("median lead time from idea to implementation",
                                     "working days", "lower"),
    "lead_time_days_p90": KpiInfo("90th-percentile lead time from idea to implementation",
                                  "working days", "lower"),
    "lead_time_days_mean": KpiInfo("mean lead time from idea to implementation",
                                   "working days", "lower"),
    "backlog_end": KpiInfo("ideas waiting in the funnel at the end", "ideas", "lower"),
    "coordinator_utilisation": KpiInfo("coordinator utilisation", "share", share=True),
    "operations_share_of_unit_effort": KpiInfo("operations share of coordinator effort", "share",
                                               share=True),
    "incidents_per_year": KpiInfo("incidents per year", "incidents/year", "lower"),
    "sla_breach_share": KpiInfo("incidents breaching the SLA", "share", "lower", share=True),
    "between_chairs_per_year": KpiInfo("incidents falling between chairs per year",
                                       "incidents/year", "lower"),
    "cost_operations_msek_per_year": KpiInfo("operations cost", "MSEK/year", "lower"),
    "cost_coordination_msek_per_year": KpiInfo("coordination staff cost", "MSEK/year", "lower"),
    "cost_consultants_msek_per_year": KpiInfo("consultant cost", "MSEK/year", "lower"),
    "cost_innovation_msek_per_year": KpiInfo("innovation project cost", "MSEK/year"),
    "cost_partnership_msek_per_year": KpiInfo("partner-organisation cost", "MSEK/year", "lower"),
    "cost_transfer_msek_per_year": KpiInfo("transfer cost", "MSEK/year", "lower"),
    "cost_changes_msek_per_year": KpiInfo("operational change cost", "MSEK/year", "lower"),
    "cost_integration_msek_per_year": KpiInfo("service integration cost", "MSEK/year",
                                              "lower"),
    "cost_total_msek_per_year": KpiInfo("total cost", "MSEK/year", "lower"),
    "benefit_msek_per_year": KpiInfo("benefit of implemented innovations", "MSEK/year", "higher"),
    "transition_deadline_met": KpiInfo("probability of meeting the transfer deadline",
                                       "share", "higher", share=True),
    "transition_finish_day": KpiInfo("transfer finish day", "working days", "lower"),
    "transition_systems_late": KpiInfo("systems migrated after the deadline", "systems", "lower"),
    "transition_disruption_days": KpiInfo("transfer disruption", "days", "lower"),
}

for _w, _what in (("triage", "cross-supplier incident triage"),
                  ("governance", "supplier governance"), ("project", "project leadership"),
                  ("matching", "matching ideas with needs"), ("screening", "screening ideas"),
                  ("handoff", "transfer hand-offs")):
    KPIS[f"coordinator_utilisation_{_w}"] = KpiInfo(
        f"coordinator time on {_what}", "share", share=True)

STAGES: tuple[str, ...] = ("screening", "matching", "decision", "project")
STAGE_LABELS: dict[str, str] = {
    "screening": "Screening", "matching": "Matching", "decision": "Decision", "project": "Project",
}
for _s in STAGES:
    KPIS[f"funnel_in_{_s}_per_year"] = KpiInfo(f"ideas entering {_s} per year", "ideas/year")
    KPIS[f"funnel_out_{_s}_per_year"] = KpiInfo(f"ideas passing {_s} per year", "ideas/year")

WORK_TYPES: tuple[str, ...] = ("triage", "governance", "project", "matching", "screening",
                               "handoff")
WORK_LABELS: dict[str, str] = {
    "triage": "incident triage", "governance": "supplier governance",
    "project": "project leadership", "matching": "matching", "screening": "screening",
    "handoff": "transfer hand-offs",
}

#: the cost components that add up to ``cost_total_msek_per_year``, in stacking order
COST_PARTS: tuple[tuple[str, str], ...] = (
    ("cost_operations_msek_per_year", "Operations (supplier fees)"),
    ("cost_coordination_msek_per_year", "Coordination staff"),
    ("cost_consultants_msek_per_year", "Consultants"),
    ("cost_innovation_msek_per_year", "Innovation projects"),
    ("cost_changes_msek_per_year", "Operational changes"),
    ("cost_integration_msek_per_year", "Service integration"),
    ("cost_partnership_msek_per_year", "Partner organisation"),
    ("cost_transfer_msek_per_year", "Transfer"),
)

#: KPIs shown by default in the distributions plot, the report table and the narrative
KEY_KPIS: tuple[str, ...] = (
    "innovations_per_year",
    "lead_time_days_median",
    "cost_total_msek_per_year",
    "cost_operations_msek_per_year",
    "benefit_msek_per_year",
    "coordinator_utilisation",
    "sla_breach_share",
    "between_chairs_per_year",
)

PARAMETER_LABELS: dict[str, str] = {
    "coordination.staff": "coordinators (staff)",
    "coordination.consultants": "consultants",
    "transition.team_size": "transfer team size (persons)",
    "transition.shared_with_operations": "transfer team shared with operations",
    "ambition.innovations_per_year": "innovation ambition (innovations/year)",
}


def info(kpi: str) -> KpiInfo:
    """The :class:`KpiInfo` of ``kpi`` (a readable fallback for unknown names)."""
    return KPIS.get(kpi, KpiInfo(kpi.replace("_", " "), ""))


def axis_label(kpi: str) -> str:
    """``label (unit)`` for an axis; shares are shown in percent."""
    i = info(kpi)
    unit = "%" if i.share else i.unit
    return f"{i.label[:1].upper()}{i.label[1:]}" + (f" ({unit})" if unit else "")


def unit_label(kpi: str) -> str:
    """The unit alone, for an axis whose title already names the KPI."""
    i = info(kpi)
    return "percent" if i.share else (i.unit or i.label)


def parameter_label(key: str) -> str:
    """A readable name for a dotted scenario parameter (the key itself if unknown)."""
    return PARAMETER_LABELS.get(key, key)
