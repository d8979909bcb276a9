""""What happened to one idea": the event log of one idea told as a short story.

The model's trace (``simulate_full(..., trace=True).events``) holds one dict per event with
``time`` (working day), ``kind`` (``idea``), ``id``, ``stage``, ``event`` and ``detail``. This
module picks a typical implemented idea and a typical dropped one, and turns their events into
plain sentences that name the whitepaper's mechanisms (sync points, mandate, transfer, …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simsource.formatting import number as num

STAGE_WORDS = {
    "screening": "screening (a coordinator judges whether the idea is worth pursuing)",
    "matching": "matching (a coordinator and the business need owner clarify the need)",
    "decision": "the decision (change requests to the suppliers, then the funding decision)",
    "project": "the project (coordinators and suppliers build it)",
}
SOURCE_WORDS = {
    "business_units": "a business unit",
    "digital_unit": "the digitalisation unit",
    "citizens": "citizens",
    "embedded": "a coordinator working out in the business (a need nobody had voiced)",
}
DOMAIN_WORDS = {
    "it": "IT as a tool/infrastructure",
    "business": "business development (VU)",
    "new_service": "a new service",
}
ORDER = ("screening", "matching", "decision", "project")
_NUM = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _num(text: str, default: float = 0.0) -> float:
    m = _NUM.search(text)
    return float(m.group()) if m else default


@dataclass(frozen=True)
class IdeaFate:
    id: int
    created: float
    outcome: str        # "implemented", "dropped:<stage>" or "in the funnel"
    end: float          # day of the outcome (or of the last event)


def idea_events(events: Iterable[Mapping[str, Any]], idea_id: int) -> list[Mapping[str, Any]]:
    return [e for e in events if e.get("kind") == "idea" and e.get("id") == idea_id]


def fates(events: Iterable[Mapping[str, Any]]) -> dict[int, IdeaFate]:
    """Outcome of every idea in the log."""
    created: dict[int, float] = {}
    outcome: dict[int, tuple[str, float]] = {}
    last: dict[int, float] = {}
    for e in events:
        if e.get("kind") != "idea":
            continue
        i, t, ev = int(e["id"]), float(e["time"]), str(e["event"])
        last[i] = t
        if ev == "created":
            created[i] = t
        elif ev == "implemented":
            outcome[i] = ("implemented", t)
        elif ev.startswith("dropped at "):
            outcome[i] = (f"dropped:{ev.removeprefix('dropped at ')}", t)
    return {i: IdeaFate(i, c, *outcome.get(i, ("in the funnel", last.get(i, c))))
            for i, c in created.items()}


def _typical(cands: list[IdeaFate]) -> int | None:
    """The candidate whose time in the funnel is the median (ties: the earliest id)."""
    if not cands:
        return None
    cands = sorted(cands, key=lambda f: (f.end - f.created, f.id))
    return cands[(len(cands) - 1) // 2].id


def pick_ideas(events: Iterable[Mapping[str, Any]], after_day: float = 0.0) -> dict[str, int]:
    """A typical ``implemented`` idea and a typical ``dropped`` one (dropped as late in the
    funnel as any idea was), preferring ideas created after ``after_day`` (the warm-up)."""
    all_fates = list(fates(events).values())
    late = [f for f in all_fates if f.created >= after_day] or all_fates
    out: dict[str, int] = {}
    impl = _typical([f for f in late if f.outcome == "implemented"])
    if impl is not None:
        out["implemented"] = impl
    for stage in reversed(ORDER):
        dropped = _typical([f for f in late if f.outcome == f"dropped:{stage}"])
        if dropped is not None:
            out["dropped"] = dropped
            break
    return out


def _day(t: float) -> str:
    return f"day {num(t, 0)} (month {int(t // 20) + 1})"


def _source(src: str) -> str:
    if src.startswith("supplier:"):
        return f"supplier {src.removeprefix('supplier:')}'s improvement work"
    return SOURCE_WORDS.get(src, src)


def _created(detail: str, owners: Mapping[str, str] | None) -> str:
    # "business_units idea in business, areas operations+network, effort …, value …"
    m = re.match(r"(\S+) idea in ([^,\s]+), areas ([^,\s]+)", detail)
    if not m:
        return f"a new idea ({detail})"
    src, dom, areas = m.group(1), m.group(2), m.group(3).split("+")
    text = f"a new idea from {_source(src)} about {DOMAIN_WORDS.get(dom, dom)}"
    area_txt = " and ".join(areas)
    sups = sorted({owners[a] for a in areas if a in owners}) if owners else []
    if sups:
        who = sups[0] if len(sups) == 1 else f"{len(sups)} suppliers ({', '.join(sups)})"
        return f"{text}; it touches {area_txt}, run by {who}"
    return f"{text}; it touches {area_txt}"


def story(events: Iterable[Mapping[str, Any]], idea_id: int,
          owners: Mapping[str, str] | None = None) -> list[str]:
    """Sentences, one per step, telling what happened to one idea (empty if unknown)."""
    evs = idea_events(events, idea_id)
    if not evs:
        return []
    lines: list[str] = []
    waited = {"transfer": 0.0, "sync": 0.0, "meeting": 0.0, "budget": 0.0}
    created = float(evs[0]["time"])
    end: tuple[str, float] | None = None
    for k, e in enumerate(evs):
        t, ev, detail, stage = float(e["time"]), str(e["event"]), str(e["detail"]), e["stage"]
        if ev == "created":
            lines.append(f"**{_day(t).capitalize()}**: {_created(detail, owners)}.")
        elif ev.startswith("enters "):
            continue
        elif ev.startswith("starts "):
            s = ev.removeprefix("starts ")
            d = _num(detail)
            desk = int(e.get("slot", -1))
            who = f"coordinator (desk {desk + 1})" if desk >= 0 else "coordinator"
            lines.append(f"{_day(t).capitalize()}: a {who} takes up its "
                         f"{STAGE_WORDS.get(s, s)}"
                         f"{f' after {num(d, 0)} days in the queue' if d >= 1 else ''}.")
        elif ev == "waits" and "transfer" in detail:
            d = float(evs[k + 1]["time"]) - t if k + 1 < len(evs) else 0.0
            waited["transfer"] += d
            lines.append(f"{_day(t).capitalize()}: all innovation work is on hold until the "
                         "transfer of systems to the new suppliers is finished"
                         f"{f' — it waits {num(d, 0)} days' if d > 0 else ''}.")
        elif ev == "waits":
            d = _num(detail)
            waited["sync"] += d
            lines.append(f"{_day(t).capitalize()}: information moves in batches, so it waits "
                         f"{num(d, 0)} days for the next sync point before the next stage.")
        elif ev == "escalated":
            d = _num(detail)
            waited["meeting"] += d
            lines.append(f"{_day(t).capitalize()}: the project costs more than the unit's "
                         f"mandate allows — it is escalated and waits {num(d, 0)} days for the "
                         "line organisation's meeting.")
        elif ev == "rejected":
            lines.append(f"{_day(t).capitalize()}: the line organisation says no — the "
                         "idea's value would not pay back the project's cost in time.")
        elif ev == "funded":
            d = _num(detail)
            waited["budget"] += d
            lines.append(f"{_day(t).capitalize()}: it waits {num(d, 0)} days for money in the "
                         "innovation budget.")
        elif ev.startswith("passes "):
            s = ev.removeprefix("passes ")
            if s == "project":
                continue  # told by "implemented"
            queue = (" (queueing for a free coordinator included)"
                     if s in ("screening", "matching") else "")
            lines.append(f"{_day(t).capitalize()}: passes {STAGE_WORDS.get(s, s)} after "
                         f"{num(_num(detail), 1)} days in that stage{queue}.")
        elif ev.startswith("dropped at "):
            s = ev.removeprefix("dropped at ")
            why = {"screening": "not relevant enough for the business's needs",
                   "matching": "no business need owner could be matched to it",
                   "decision": "no go-ahead",
                   "project": "the project did not deliver"}.get(s, "")
            lines.append(f"**{_day(t).capitalize()}**: dropped at {STAGE_WORDS.get(s, s)} "
                         f"after {num(_num(detail), 1)} days{' — ' + why if why else ''}.")
            end = ("dropped", t)
        elif ev == "implemented":
            m = re.search(r"value ([\d.]+) MSEK/year", detail)
            value = f", worth {num(float(m.group(1)), 2)} MSEK a year" if m else ""
            proj = next((x for x in evs if x["event"] == "enters project"), None)
            dur = f" after {num(t - float(proj['time']), 0)} days of project work" if proj else ""
            lines.append(f"**{_day(t).capitalize()}**: implemented{dur}{value}.")
            end = ("implemented", t)
        else:
            lines.append(f"{_day(t).capitalize()}: {ev} {detail}".strip() + f" ({stage}).")
    total = (end[1] if end else float(evs[-1]["time"])) - created
    what = {"transfer": "for the transfer to finish", "sync": "for sync points",
            "meeting": "for the line organisation", "budget": "for budget"}
    waits = [f"{num(v, 0)} days waiting {what[k]}" for k, v in waited.items() if v >= 0.5]
    of_which = f", of which {', '.join(waits)}" if waits else ""
    if end is None:
        lines.append(f"In all: still in the funnel {num(total, 0)} days after it was created"
                     f"{of_which}.")
    else:
        lines.append(f"In all: {num(total, 0)} working days from idea to {end[0]}{of_which}.")
    return lines
