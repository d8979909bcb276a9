"""From a replication's event log to the journeys the replay draws: vidigi's event-log format.

vidigi (:mod:`vidigi.prep`) animates an event log with one row per step of an entity: columns
``entity_id``, ``time``, ``event_type`` (``arrival_departure`` or ``queue``) and ``event`` (a
*place* on the screen). Here the entities are the ideas and the incidents; the places are the
groups of :mod:`simsource.analysis.replay.layout`, prefixed with the panel (``"0:screening-wait"``),
so that two replications can share one animation and one clock.

* An **idea** waits for screening from its creation, is screened once a coordinator starts on
  it, waits for matching (hand-off and sync point included) once it passes, is matched, waits
  for the decision (change requests, the line organisation's meeting, budget), is in the
  project, and lands as *implemented* or *dropped* — where it stays ``hold`` days before it
  leaves the screen.
* An **incident** is open at the supplier that owns its area from arrival to resolution; it is
  *between chairs* (MODEL.md §9) from the moment it has been without an owner longer than
  ``operations.between_chairs_after_days`` or was bounced more than
  ``operations.between_chairs_bounces`` times — computed from its ``arrives``, ``bounced`` and
  ``owned`` rows with the same rule the model counts with (so the red dots of a year add up to
  that year's ``between_chairs_per_year``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simsource.scenario import Scenario

#: entity ids: panel p's ideas from (p + 1)·10⁸, its incidents from (p + 1)·10⁸ + 5·10⁷ (vidigi
#: gives its "+ n more" labels ids between 9·10⁶ and 10⁷, below every entity)
PANEL_IDS = 100_000_000
INCIDENT_IDS = 50_000_000
IDEA, INCIDENT, CHAIRS = "idea", "incident", "between chairs"
COLUMNS = ("entity_id", "time", "event_type", "event", "grp")

#: where an idea goes on each of its trace events (events not listed leave it where it is)
IDEA_PLACES: dict[str, str] = {
    "created": "screening-wait",
    "starts screening": "screening-work",
    "passes screening": "matching-wait",
    "starts matching": "matching-work",
    "passes matching": "decision",
    "passes decision": "project",
    "enters project": "project",
    "implemented": "implemented",
}


def place(panel: int, key: str) -> str:
    """The vidigi event name of place ``key`` in panel ``panel``."""
    return f"{panel}:{key}"


def incident_place(owner: str, chairs: bool) -> str:
    return f"{'chairs' if chairs else 'incident'}:{owner}"


def incidents(log: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """One row per incident (index: its id): ``arrived``, ``owner``, ``owned``, ``resolved``
    (``inf`` when not yet) and ``chairs`` — when it fell between chairs, NaN if it did not: the
    model's rule (:meth:`simsource.model.recorder.Recorder.incident_owned` and ``close``)."""
    rows = log[log["kind"] == "incident"]
    event = rows["event"]
    arrived = rows[event == "arrives"].drop_duplicates("id").set_index("id")
    out = pd.DataFrame({"arrived": arrived["time"].astype(float),
                        "owner": arrived["resource"].astype(str)})

    def first(name: str) -> pd.Series:
        return rows[event == name].groupby("id")["time"].min()

    out["owned"] = first("owned").reindex(out.index).fillna(math.inf)
    out["resolved"] = first("resolved").reindex(out.index).fillna(math.inf)
    ops = sc.operations
    bounced = rows[event == "bounced"].groupby("id")["time"].nth(ops.between_chairs_bounces)
    too_many = pd.Series(bounced.to_numpy(dtype=float), index=rows.loc[bounced.index, "id"])
    unowned = np.minimum(out["owned"], sc.horizon_days) - out["arrived"]
    too_long = (out["arrived"] + ops.between_chairs_after_days).where(
        unowned > ops.between_chairs_after_days)
    out["chairs"] = np.fmin(too_long, too_many.reindex(out.index))
    return out


def chairs_times(log: pd.DataFrame, sc: Scenario) -> pd.Series:
    """When each incident that fell between chairs did so (index: incident id)."""
    return incidents(log, sc)["chairs"].dropna()


def _idea_rows(log: pd.DataFrame, panel: int, hold: float) -> pd.DataFrame:
    rows = log[log["kind"] == "idea"]
    event = rows["event"].astype(str)
    key = event.map(IDEA_PLACES).where(~event.str.startswith("dropped at"), "dropped")
    eid = (panel + 1) * PANEL_IDS + rows["id"].to_numpy(dtype=np.int64)
    t = rows["time"].to_numpy(dtype=float)
    created = (event == "created").to_numpy()
    placed = key.notna().to_numpy()
    done = key.isin(["implemented", "dropped"]).to_numpy()
    parts = [
        pd.DataFrame({"entity_id": eid[created], "time": t[created],
                      "event_type": "arrival_departure", "event": "arrival"}),
        pd.DataFrame({"entity_id": eid[placed], "time": t[placed], "event_type": "queue",
                      "event": [place(panel, k) for k in key[placed]]}),
        pd.DataFrame({"entity_id": eid[done], "time": t[done] + hold,
                      "event_type": "arrival_departure", "event": "depart"}),
    ]
    return pd.concat(parts, ignore_index=True).assign(grp=IDEA)


def _incident_rows(log: pd.DataFrame, sc: Scenario, panel: int) -> pd.DataFrame:
    inc = incidents(log, sc)
    eid = (panel + 1) * PANEL_IDS + INCIDENT_IDS + inc.index.to_numpy(dtype=np.int64)
    owner = inc["owner"].to_numpy()
    red = (inc["chairs"] < inc["resolved"]).to_numpy()
    gone = np.isfinite(inc["resolved"].to_numpy())
    parts = [
        pd.DataFrame({"entity_id": eid, "time": inc["arrived"].to_numpy(),
                      "event_type": "arrival_departure", "event": "arrival", "grp": INCIDENT}),
        pd.DataFrame({"entity_id": eid, "time": inc["arrived"].to_numpy(), "event_type": "queue",
                      "event": [place(panel, incident_place(o, False)) for o in owner],
                      "grp": INCIDENT}),
        pd.DataFrame({"entity_id": eid[red], "time": inc["chairs"].to_numpy()[red],
                      "event_type": "queue",
                      "event": [place(panel, incident_place(o, True)) for o in owner[red]],
                      "grp": CHAIRS}),
        pd.DataFrame({"entity_id": eid[gone], "time": inc["resolved"].to_numpy()[gone],
                      "event_type": "arrival_departure", "event": "depart", "grp": INCIDENT}),
    ]
    return pd.concat(parts, ignore_index=True)


def journeys(log: pd.DataFrame, sc: Scenario, panel: int = 0, hold: float = 5.0
             ) -> pd.DataFrame:
    """vidigi's event log of panel ``panel``: one row per step of each idea and incident,
    sorted by time; an entity's steps at one instant keep their order (arrival first)."""
    frame = pd.concat([_idea_rows(log, panel, hold), _incident_rows(log, sc, panel)],
                      ignore_index=True)[list(COLUMNS)]
    return frame.sort_values("time", kind="stable").reset_index(drop=True)
