"""What each coordinator desk is doing at each frame of the replay, from the event log.

The model logs ``coordinator`` rows (id = slot = desk): ``start`` and ``stop`` of each piece of
work, with the kind of work as ``stage``. A desk is busy with that kind from a start to its stop;
pre-empted work stops at the instant operations work takes the desk over, so a late ``stop`` of
another kind than the desk's current work is ignored. A desk without work is *free* while the
staffing plan (``coordination.plan``, then ``staff + consultants``) counts it, and *not staffed*
above the plan's level (Nacka's unit grew from 10 to 24 people and ten consultants).

vidigi draws resources as identical icons that entities occupy; it has no way to show a shared
pool whose people do work that is not an entity of the log (governance, triage, change
requests, work out in the business), coloured by that work — hence this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

from simsource.model.core import COORD_KINDS, OPS_KINDS
from simsource.scenario import Scenario

FREE = len(COORD_KINDS)          # state codes: 0..7 the kinds of work, then free, not staffed
ABSENT = FREE + 1
STATES: tuple[str, ...] = (*COORD_KINDS, "free", "not staffed")
COLOURS: dict[str, str] = {
    # operations work: warm colours
    "triage": "#c0392b", "governance": "#e67e22", "change": "#f1c40f", "handoff": "#8e5a3c",
    # innovation work: cool colours
    "project": "#27ae60", "matching": "#16a085", "screening": "#2e86c1", "embedded": "#8e44ad",
    "free": "#d5d8dc", "not staffed": "#ffffff",
}
OPS_CODES = np.array([COORD_KINDS.index(k) for k in OPS_KINDS])


def capacity_plan(sc: Scenario) -> list[tuple[float, int]]:
    """``(until_day, people)`` steps of the unit, the last one open-ended (as the model
    staffs it)."""
    c = sc.coordination
    return [(float(st.until_day), st.staff + st.consultants) for st in c.plan] + \
        [(float("inf"), c.staff + c.consultants)]


def desk_count(sc: Scenario) -> int:
    """Desks to draw: the most people the plan ever has (at least one)."""
    return max(1, max(n for _, n in capacity_plan(sc)))


def capacity_at(sc: Scenario, times: np.ndarray) -> np.ndarray:
    plan = capacity_plan(sc)
    ends = np.array([d for d, _ in plan])
    levels = np.array([n for _, n in plan])
    return levels[np.minimum(np.searchsorted(ends, times, side="right"), len(plan) - 1)]


def _steps(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One desk's state changes (times, codes) from its start/stop rows in log order."""
    times, codes = [0.0], [FREE]
    current = FREE
    for t, event, kind in zip(rows["time"].to_numpy(), rows["event"].to_numpy(),
                              rows["stage"].to_numpy(), strict=True):
        code = COORD_KINDS.index(str(kind)) if str(kind) in COORD_KINDS else FREE
        if event == "start":
            current = code
        elif event == "stop" and code == current:
            current = FREE
        else:
            continue
        times.append(float(t))
        codes.append(current)
    return np.asarray(times), np.asarray(codes)


def desk_states(log: pd.DataFrame, sc: Scenario,
                times: Sequence[float] | np.ndarray) -> np.ndarray:
    """State code of every desk (columns) at every frame time (rows)."""
    t = np.asarray(times, dtype=float)
    n = desk_count(sc)
    out = np.full((len(t), n), FREE, dtype=np.int64)
    rows = log[log["kind"] == "coordinator"]
    for key, desk in rows.groupby("id", sort=True):
        slot = int(cast("float", key))
        if not 0 <= slot < n:
            continue
        st, codes = _steps(desk)
        out[:, slot] = codes[np.searchsorted(st, t, side="right") - 1]
    cap = capacity_at(sc, t)
    absent = (np.arange(n)[None, :] >= cap[:, None]) & (out == FREE)
    out[absent] = ABSENT
    return out


def desk_counts(states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: desks on operations work, on innovation work, free."""
    ops = np.isin(states, OPS_CODES).sum(axis=1)
    free = (states == FREE).sum(axis=1)
    busy = (states < FREE).sum(axis=1)
    return ops, busy - ops, free
