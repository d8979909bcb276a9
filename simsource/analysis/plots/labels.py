"""Axis and legend texts of the figures, read from the model's KPI catalogue.

KPI names, units and labels live in :mod:`simsource.model.catalogue`; this module only turns
them into axis labels, and names the stages, work kinds, cost parts and swept parameters the
way the figures show them.
"""

from __future__ import annotations

from simsource.model import catalogue
from simsource.model.catalogue import Kpi
from simsource.model.core import COORD_KINDS, STAGES

STAGE_LABELS: dict[str, str] = {s: s.capitalize() for s in STAGES}
WORK_LABELS: dict[str, str] = {w: catalogue.WORK_WORDS[w] for w in COORD_KINDS}

#: the cost components that add up to ``cost_total_msek_per_year``, in stacking order
COST_PARTS: tuple[tuple[str, str], ...] = tuple(
    (k.name, k.label[:1].upper() + k.label[1:]) for k in catalogue.kpis(tag="cost_part"))

PARAMETER_LABELS: dict[str, str] = {
    "coordination.staff": "coordinators (staff)",
    "coordination.consultants": "consultants",
    "transition.team_size": "transfer team size (persons)",
    "transition.shared_with_operations": "transfer team shared with operations",
    "ambition.innovations_per_year": "innovation ambition (innovations/year)",
}


def info(kpi: str) -> Kpi:
    """The catalogue entry of ``kpi`` (a readable stand-in for unknown names)."""
    return catalogue.get(kpi)


def title(kpi: str) -> str:
    """The KPI's label with a capital first letter."""
    label = info(kpi).label
    return label[:1].upper() + label[1:]


def axis_label(kpi: str) -> str:
    """``Label (unit)`` for an axis or a card; shares in percent; no unit when the label
    already says it (``Innovations per year``)."""
    i = info(kpi)
    unit = i.display_unit
    if not unit or (unit.endswith("/year") and i.label.endswith("per year")):
        return title(kpi)
    return f"{title(kpi)} ({unit})"


def unit_label(kpi: str) -> str:
    """The unit alone, for an axis whose title already names the KPI."""
    i = info(kpi)
    return "percent" if i.share else (i.unit or i.label)


def parameter_label(key: str) -> str:
    """A readable name for a dotted scenario parameter (the key itself if unknown)."""
    return PARAMETER_LABELS.get(key, key)
