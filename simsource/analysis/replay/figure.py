"""The replay: one replication (or two, side by side on one clock) as a plotly animation.

vidigi does what it is made for: from the journeys (:mod:`~simsource.analysis.replay.journeys`)
:func:`vidigi.prep.reshape_for_animations` takes a snapshot of every entity's place at each
frame (who is present, ranked by arrival at their place, at most a cap per place with a
"+ n more" label) and :func:`vidigi.prep.generate_animation_df` lays the queues out (rows of
:data:`~simsource.analysis.replay.layout.WRAP` growing to the left of their front and upwards).

The figure itself is built here rather than by vidigi's ``generate_animation``, for what that
cannot do: the replay needs a desk row coloured by the kind of work (:mod:`.desks`), running
counts, a clock, play, pause and speed controls (:mod:`.controls`) and two replications on one
clock. It is also cheaper: on the same snapshots ``generate_animation`` (plotly express) takes
about 1.5 times the CPU time of this figure step (benchmarks/replay_latency.py,
docs/performance.md); its ``go`` backend took 24 s of CPU for 45 frames (measured once).
Every frame carries the same six traces — three kinds of dots, "+ n more" labels, desks, clock
and counts — and the labels and legend are static traces, so frames animate without a redraw.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from vidigi.prep import generate_animation_df, reshape_for_animations

from simsource.analysis.replay import controls, desks, layout
from simsource.analysis.replay.journeys import CHAIRS, IDEA, INCIDENT, chairs_times, journeys
from simsource.scenario import Scenario

DOT = "●"
DOT_STYLE: dict[str, tuple[str, int]] = {IDEA: ("#1f4e79", 13), INCIDENT: ("#7f8c8d", 11),
                                         CHAIRS: ("#e74c3c", 15)}
DOT_LABELS = {IDEA: "an idea", INCIDENT: "an open incident",
              CHAIRS: "an incident fallen between chairs"}
BANDS = (("#eef4fb", layout.FUNNEL_BOTTOM, layout.FUNNEL_TOP),
         ("#fdf3ea", layout.INCIDENTS_BOTTOM, layout.INCIDENTS_TOP),
         ("#f4f4f4", layout.DESKS_BOTTOM, layout.DESKS_TOP))


@dataclass(frozen=True)
class Panel:
    """One replication to replay: a title, its event log (:func:`simsource.experiment.trace.
    events_frame`) and its scenario."""

    label: str
    log: pd.DataFrame
    scenario: Scenario


def frame_times(start: float, end: float, step: int) -> np.ndarray:
    """The frames' times: ``start``, ``start + step``, … up to ``end`` (working days)."""
    return np.arange(int(start), int(end) + 1, step, dtype=float)


def _in_window(steps: pd.DataFrame, start: float, end: float, step: int) -> pd.DataFrame:
    """The steps, up to ``end``, of the entities that some frame (``start``, ``start + step``,
    … ``end``) shows: whole journeys, since vidigi needs each entity's arrival. (Most incidents
    are resolved between two frames and never shown: leaving them out saves vidigi's time.)"""
    eid = steps["entity_id"]
    t = steps["time"]
    arrived = t.where(steps["event"] == "arrival").groupby(eid).transform("min")
    left = t.where(steps["event"] == "depart").groupby(eid).transform("max").fillna(np.inf)
    first_frame = start + np.ceil(np.maximum(arrived - start, 0) / step) * step
    keep = (first_frame <= np.minimum(left, end)) & (t <= end)
    return steps[np.asarray(keep)]


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """vidigi's reshape ends with two full ``gc.collect()`` calls, which in a big process (the
    teaching page's server) cost a few tenths of a second each: with the objects that exist
    already frozen (``gc.freeze``) they look only at what vidigi made."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def positioned(panels: Sequence[Panel], start: int, end: int, step: int,
               hold: float) -> tuple[pd.DataFrame, list[layout.PanelLayout]]:
    """vidigi's positioned snapshots of every panel's ideas and incidents (one row per entity
    and frame, columns ``snapshot_time``, ``entity_id``, ``event``, ``grp``, ``x_final``,
    ``y_final``, ``additional``), and each panel's layout."""
    gap = min(layout.dot_gap(len(p.scenario.suppliers)) for p in panels)
    layouts = [layout.panel_layout(i, list(p.scenario.suppliers), desks.desk_count(p.scenario),
                                   gap) for i, p in enumerate(panels)]
    log = pd.concat([_in_window(journeys(p.log, p.scenario, i, hold), start, end, step)
                     for i, p in enumerate(panels)],
                    ignore_index=True).sort_values("time", kind="stable", ignore_index=True)
    positions = pd.DataFrame([*layout.fixed_positions(),
                              *(row for lay in layouts for row in lay.positions)])
    caps = {k: v for lay in layouts for k, v in lay.caps.items()}
    big = max(layout.CAPS.values())
    with warnings.catch_warnings(), _gc_frozen():
        # vidigi warns about caps for places that no dot reaches in this window: expected
        warnings.filterwarnings("ignore", message=".*matches no event.*")
        warnings.filterwarnings("ignore", message=".*step_snapshot_max_overrides.*")
        snaps = reshape_for_animations(log, every_x_time_units=step, limit_duration=end,
                                       warm_up=start, step_snapshot_max=big,
                                       step_snapshot_max_overrides=caps)
        placed = generate_animation_df(snaps, positions, wrap_queues_at=layout.WRAP,
                                       step_snapshot_max=big, step_snapshot_max_overrides=caps,
                                       gap_between_entities=gap,
                                       gap_between_queue_rows=layout.ROW_GAP,
                                       custom_entity_icon_list=[DOT],
                                       spawn_in_from_arrival=False)
    keep = placed["entity_id"].notna() & (placed["event_type"] == "queue")
    if "_phantom" in placed:
        keep &= ~placed["_phantom"].fillna(False).astype(bool)
    cols = ["snapshot_time", "entity_id", "event", "grp", "x_final", "y_final", "additional"]
    if "additional" not in placed:
        placed = placed.assign(additional=np.nan)
    out = placed.loc[keep, cols].sort_values(["snapshot_time", "entity_id"], kind="stable")
    return out.reset_index(drop=True), layouts


def _split(frame: pd.DataFrame, times: np.ndarray) -> list[pd.DataFrame]:
    snap = frame["snapshot_time"].to_numpy(dtype=float)
    cuts = np.searchsorted(snap, times, side="left")
    ends = np.searchsorted(snap, times, side="right")
    return [frame.iloc[a:b] for a, b in zip(cuts, ends, strict=True)]


def _dots(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One text trace per kind of dot (ideas, open incidents, incidents between chairs), with
    entity ids so that plotly glides each dot from frame to frame, and one of "+ n" labels."""
    extra = rows["additional"].notna().to_numpy()
    dots, more = rows[~extra], rows[extra]
    grp = dots["grp"].to_numpy()
    out = []
    for name, (colour, size) in DOT_STYLE.items():
        mine = dots[grp == name]
        out.append({"type": "scatter", "mode": "text", "x": mine["x_final"].to_numpy(),
                    "y": mine["y_final"].to_numpy(), "text": DOT, "hoverinfo": "skip",
                    "ids": mine["entity_id"].astype("int64").astype(str).to_numpy(),
                    "textfont": {"color": colour, "size": size}})
    out.append({"type": "scatter", "mode": "text", "x": more["x_final"].to_numpy(),
                "y": more["y_final"].to_numpy(), "hoverinfo": "skip",
                "text": [f"+{int(a) + 1}" for a in more["additional"]],
                "textfont": {"color": "#222222", "size": 11}})
    return out


def _counts(panel: Panel, times: np.ndarray, states: np.ndarray) -> list[list[str]]:
    """Two lines of running counts per frame."""
    log = panel.log
    ideas, incs = log[log["kind"] == "idea"], log[log["kind"] == "incident"]

    def upto(values: pd.Series) -> np.ndarray:
        return np.searchsorted(np.sort(values.to_numpy(dtype=float)), times, side="right")

    created = upto(ideas.loc[ideas["event"] == "created", "time"])
    implemented = upto(ideas.loc[ideas["event"] == "implemented", "time"])
    dropped = upto(ideas.loc[ideas["event"].str.startswith("dropped at"), "time"])
    arrived = upto(incs.loc[incs["event"] == "arrives", "time"])
    resolved = upto(incs.loc[incs["event"] == "resolved", "time"])
    chairs = upto(chairs_times(log, panel.scenario))
    ops, inn, free = desks.desk_counts(states)
    return [[f"Ideas: {c - i - d} in the funnel · {i} implemented · {d} dropped",
             f"Incidents: {a - r} open · {b} fell between chairs · Coordinators: {o} on "
             f"operations, {n} on innovation, {f} free"]
            for c, i, d, a, r, b, o, n, f in zip(created, implemented, dropped, arrived,
                                                 resolved, chairs, ops, inn, free, strict=True)]


def clock_text(t: float, days_per_year: float) -> str:
    year = int(t // days_per_year) + 1
    month = int((t % days_per_year) // 20) + 1
    return f"<b>Working day {t:g}</b> · year {year}, month {month}"


def _static(panels: Sequence[Panel], layouts: Sequence[layout.PanelLayout]
            ) -> list[dict[str, Any]]:
    labels = [lab for lay in layouts for lab in lay.labels]
    labels += [layout.Label(layout.panel_x0(i) + layout.PANEL_W / 2, layout.TITLE_Y,
                            f"<b>{p.label}</b>", 15, "#111111") for i, p in enumerate(panels)]
    out: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "text", "x": [lab.x for lab in labels],
        "y": [lab.y for lab in labels], "text": [lab.text for lab in labels],
        "textfont": {"size": [lab.size for lab in labels],
                     "color": [lab.colour for lab in labels]},
        "hoverinfo": "skip", "showlegend": False}]
    for grp, (colour, size) in DOT_STYLE.items():
        out.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None],
                    "name": DOT_LABELS[grp],
                    "marker": {"color": colour, "size": size - 3, "symbol": "circle"}})
    for state in desks.STATES:
        out.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None],
                    "name": f"desk: {state}",
                    "marker": {"color": desks.COLOURS[state], "size": 12, "symbol": "square",
                               "line": {"color": "#888888", "width": 1}}})
    return out


def build_replay(panels: Sequence[Panel], start: float, end: float, step: int = 1,
                 hold: float | None = None) -> go.Figure:
    """The animation of ``panels`` (side by side, one clock) from working day ``start`` to
    ``end``, one frame every ``step`` working days; implemented and dropped ideas stay
    ``hold`` days (default: the larger of 5 days and two frames) in their outcome group."""
    if not panels:
        raise ValueError("a replay needs at least one replication")
    if step < 1 or end <= start:
        raise ValueError(f"frames every {step} days from day {start:g} to {end:g}: nothing "
                         "to show")
    hold = max(5.0, 2.0 * step) if hold is None else hold
    times = frame_times(start, end, step)
    placed, layouts = positioned(panels, int(start), int(end), step, hold)
    by_frame = _split(placed, times)
    states = [desks.desk_states(p.log, p.scenario, times) for p in panels]
    counts = [_counts(p, times, s) for p, s in zip(panels, states, strict=True)]
    width = layout.canvas_width(len(panels))
    desk_xy = [xy for lay in layouts for xy in lay.desks]
    text_x = [width / 2] + [layout.panel_x0(i) + 500 for i in range(len(panels))
                            for _ in (0, 1)]
    text_y = [layout.HEIGHT - 15] + [y for _ in panels for y in layout.COUNTS_Y]
    days = panels[0].scenario.scenario.working_days_per_year
    frames: list[dict[str, Any]] = []
    names: list[str] = []
    for k, t in enumerate(times):
        dot_traces = _dots(by_frame[k])
        codes = np.concatenate([s[k] for s in states])
        desk_trace = {"type": "scatter", "mode": "markers", "x": [x for x, _ in desk_xy],
                      "y": [y for _, y in desk_xy], "hoverinfo": "skip",
                      "marker": {"symbol": "square", "size": 15,
                                 "color": [desks.COLOURS[desks.STATES[c]] for c in codes],
                                 "line": {"color": "#888888", "width": 1}}}
        text_trace = {"type": "scatter", "mode": "text", "x": text_x, "y": text_y,
                      "hoverinfo": "skip", "textfont": {"size": [16] + [12] * (len(text_x) - 1),
                                                        "color": "#222222"},
                      "text": [clock_text(float(t), days)] + [line for c in counts
                                                              for line in c[k]]}
        names.append(f"{t:g}")
        data = [*dot_traces, desk_trace, text_trace]
        frames.append({"name": names[-1], "traces": list(range(len(data))), "data": data})
    shapes = [{"type": "rect", "xref": "x", "yref": "y", "x0": layout.panel_x0(i) + 5,
               "x1": layout.panel_x0(i) + layout.PANEL_W - 5, "y0": y0, "y1": y1,
               "fillcolor": fill, "line": {"width": 0}, "layer": "below"}
              for i in range(len(panels)) for fill, y0, y1 in BANDS]
    fig_layout = {
        "height": 860, "margin": {"l": 10, "r": 10, "t": 10, "b": 160},
        "plot_bgcolor": "white", "paper_bgcolor": "white", "shapes": shapes,
        "xaxis": {"range": [-10, width + 10], "visible": False, "fixedrange": True},
        "yaxis": {"range": [0, layout.HEIGHT], "visible": False, "fixedrange": True},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.19, "yanchor": "top",
                   "font": {"size": 11}},
        "updatemenus": controls.updatemenus(),
        "sliders": [controls.slider(names, names)],
    }
    data = [*[dict(tr, showlegend=False) for tr in frames[0]["data"]],
            *_static(panels, layouts)]
    return go.Figure(data=data, layout=fig_layout, frames=frames)
