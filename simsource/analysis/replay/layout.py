"""Where things are on the replay's canvas: the places of ideas and incidents (vidigi's
``event_position_df``), the desks of the coordinators, the labels.

One *panel* per replication, :data:`PANEL_W` wide, side by side (``x0`` = its left edge); the
canvas is :data:`HEIGHT` high. In a panel, from the top: the title and running counts, the idea
funnel (screening, matching, decision, project, outcome: a *waiting* group above an *in work*
group, queues growing to the left of their front and upwards in rows of :data:`WRAP`), the
incidents at each supplier (open, and between chairs), and the row of desks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simsource.analysis.replay.journeys import incident_place, place

PANEL_W = 1000.0
PANEL_GAP = 60.0
HEIGHT = 1060.0
WRAP = 10                      # dots per queue row (vidigi's wrap_queues_at)
ROW_GAP = 16                   # between queue rows (data units)
DOT_GAP = 17                   # between dots of a row, at most (data units)
#: dots drawn per group before vidigi's "+ n more" (multiples of WRAP)
CAPS = {"waiting": 40, "work": 30, "open": 30, "chairs": 20}

# vertical positions
TITLE_Y, COUNTS_Y = 1000.0, (965.0, 940.0)
FUNNEL_TOP, FUNNEL_BOTTOM = 910.0, 540.0
STAGE_Y, UPPER_Y, LOWER_Y = 885.0, 720.0, 585.0
INCIDENTS_TOP, INCIDENTS_BOTTOM = 520.0, 250.0
INCIDENTS_TITLE_Y, SUPPLIER_Y, OPEN_Y, CHAIRS_Y = 500.0, 470.0, 390.0, 290.0
DESKS_TOP, DESKS_BOTTOM = 235.0, 15.0
DESKS_LABEL_Y, DESK_ROW0_Y, DESK_ROW_GAP = 215.0, 180.0, 40.0

#: the idea funnel's columns: (title, upper group, lower group); a group is (place key, label,
#: cap key) or None
FUNNEL: tuple[tuple[str, tuple[str, str, str] | None, tuple[str, str, str] | None], ...] = (
    ("Screening", ("screening-wait", "waiting", "waiting"),
     ("screening-work", "begun (or paused)", "work")),
    ("Matching", ("matching-wait", "waiting", "waiting"),
     ("matching-work", "begun (or paused)", "work")),
    ("Decision", ("decision", "awaiting decision", "waiting"), None),
    ("Project", None, ("project", "in the project", "waiting")),
    ("Outcome", ("implemented", "implemented", "work"), ("dropped", "dropped", "work")),
)


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    size: int = 12
    colour: str = "#333333"


@dataclass(frozen=True)
class PanelLayout:
    """The places, caps, desk positions and labels of one panel."""

    positions: list[dict[str, object]]   # rows of vidigi's event_position_df
    caps: dict[str, int]                  # place -> dots drawn before "+ n more"
    desks: list[tuple[float, float]]      # desk slot -> (x, y)
    labels: list[Label]


def panel_x0(panel: int) -> float:
    return panel * (PANEL_W + PANEL_GAP)


def canvas_width(panels: int) -> float:
    return panels * PANEL_W + (panels - 1) * PANEL_GAP


def dot_gap(suppliers: int) -> int:
    """Horizontal gap between dots so that a row of :data:`WRAP` fits a supplier's column."""
    pitch = 940.0 / max(1, suppliers)
    return int(max(6, min(DOT_GAP, math.floor((pitch - 20) / WRAP))))


def _desk_xy(x0: float, desks: int) -> list[tuple[float, float]]:
    per_row = max(20, math.ceil(desks / 4))
    pitch = 920.0 / per_row
    return [(x0 + 40 + (i % per_row) * pitch, DESK_ROW0_Y - (i // per_row) * DESK_ROW_GAP)
            for i in range(desks)]


def panel_layout(panel: int, suppliers: list[str], desks: int, gap: int) -> PanelLayout:
    """The layout of panel ``panel`` with these suppliers (in order) and ``desks`` desks;
    ``gap`` is the dot gap shared by every panel of the replay."""
    x0 = panel_x0(panel)
    positions: list[dict[str, object]] = []
    caps: dict[str, int] = {}
    labels: list[Label] = []
    pitch = 190.0
    for i, (title, upper, lower) in enumerate(FUNNEL):
        right = x0 + 30 + (i + 1) * pitch - 15
        labels.append(Label(right - pitch / 2 + 10, STAGE_Y, f"<b>{title}</b>", 14))
        for group, y in ((upper, UPPER_Y), (lower, LOWER_Y)):
            if group is None:
                continue
            key, text, cap = group
            name = place(panel, key)
            positions.append({"event": name, "x": right, "y": y, "label": text})
            caps[name] = CAPS[cap]
            labels.append(Label(right - pitch / 2 + 10, y - 22, text, 11, "#555555"))
    labels.append(Label(x0 + 500, INCIDENTS_TITLE_Y, "<b>Incidents</b> at each supplier", 13))
    spitch = 940.0 / max(1, len(suppliers))
    for i, sup in enumerate(suppliers):
        right = x0 + 30 + i * spitch + min(spitch, WRAP * gap + 20) - 10
        centre = right - WRAP * gap / 2
        labels.append(Label(centre, SUPPLIER_Y, f"<b>{sup}</b>", 13))
        for chairs, y, cap, text, colour in ((False, OPEN_Y, "open", "open", "#555555"),
                                             (True, CHAIRS_Y, "chairs", "between chairs",
                                              "#c0392b")):
            name = place(panel, incident_place(sup, chairs))
            positions.append({"event": name, "x": right, "y": y, "label": text})
            caps[name] = CAPS[cap]
            labels.append(Label(centre, y - 22, text, 11, colour))
    labels.append(Label(x0 + 500, DESKS_LABEL_Y,
                        "<b>Coordinators</b>: one square per desk, coloured by what its person "
                        "is doing", 13))
    return PanelLayout(positions, caps, _desk_xy(x0, desks), labels)


def fixed_positions() -> list[dict[str, object]]:
    """vidigi's arrival and departure places (never drawn: an idea or incident is shown at
    its group from the instant it arrives)."""
    return [{"event": "arrival", "x": -50, "y": -50, "label": "arrival"},
            {"event": "depart", "x": -50, "y": -90, "label": "departure"}]
