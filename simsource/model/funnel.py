"""The innovation funnel (whitepaper Fig. 5): screening → matching → decision → project.

Each idea is one SimPy process. Coordinator work competes, by priority, with operations work
for the same :class:`~simsource.model.staffing.StaffedPool` (the dilemma emerges from that
competition). Partnership effects add hand-off delays, sync-point waits and escalations; the
responsibility matrix sets who carries project effort and the success probability.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.ideas import STAGES, Idea, IdeaFactory

if TYPE_CHECKING:
    from simsource.model.world import World

# coordinator work priorities (lower = more urgent), MODEL.md §3
PRIO_TRIAGE, PRIO_GOVERNANCE, PRIO_PROJECT, PRIO_MATCHING, PRIO_SCREENING = 1, 2, 3, 4, 5


def _enter(w: World, idea: Idea, stage: str) -> None:
    idea.stage = stage
    idea.times[stage] = w.env.now
    w.stage_in(stage, idea)


def _leave(w: World, idea: Idea, stage: str, passed: bool) -> bool:
    w.stage_out(stage, idea, passed)
    if not passed:
        idea.outcome = f"dropped:{stage}"
        w.on_idea_done(idea)
        return False
    if stage == w.sc.funnel.last_stage:
        idea.outcome = "implemented"
        idea.times["implemented"] = w.env.now
        w.on_idea_done(idea)
        return False
    return True


def _transition(w: World, idea: Idea) -> Generator[simpy.Event, Any, None]:
    """Hand-off between unit and supplier plus a possible wait for the next sync point."""
    fx = w.effects
    delay = fx.handoff_delay(IdeaFactory.next_fx(idea))
    wait = fx.sync_wait(w.env.now + delay, IdeaFactory.next_fx(idea))
    if delay + wait > 0:
        if wait > 0:
            w.trace(idea, "waits", f"{wait:.0f} days for the next sync point")
        yield w.env.timeout(delay + wait)


def _coordinator_work(w: World, idea: Idea, effort: float, prio: int, kind: str
                      ) -> Generator[simpy.Event, Any, None]:
    stage = idea.stage

    def started(wait: float) -> None:
        w.stage_wait(stage, wait)

    yield from w.coord.work(effort, prio, kind, on_start=started)


def idea_life(w: World, idea: Idea) -> Generator[simpy.Event, Any, None]:
    env, sc, fx = w.env, w.sc, w.effects
    f = sc.funnel
    e_screen, e_match, e_owner = idea.e_work
    if not w.innovation_open.triggered:
        w.trace(idea, "waits", "innovation work waits until the transfer is finished")
        yield w.innovation_open

    # 1 screening ---------------------------------------------------------------------------
    _enter(w, idea, "screening")
    yield from _coordinator_work(w, idea, e_screen * f.screening_effort_days *
                                 fx.switching_factor, PRIO_SCREENING, "screening")
    passed = (not f.attrition) or idea.u_screen < w.screening_pass(idea)
    if not _leave(w, idea, "screening", passed):
        return

    # 2 matching: coordinator + need owner clarify the requirement --------------------------
    yield from _transition(w, idea)
    _enter(w, idea, "matching")
    yield from _coordinator_work(w, idea, e_match * f.matching_effort_days *
                                 fx.switching_factor, PRIO_MATCHING, "matching")
    owner_wait = e_owner * f.need_owner_delay_days
    if owner_wait > 0:
        yield env.timeout(owner_wait)
    passed = (not f.attrition) or idea.u_match < f.matching_pass
    if not _leave(w, idea, "matching", passed):
        return

    # 3 decision: escalation where the mandate is limited, then funding ---------------------
    yield from _transition(w, idea)
    _enter(w, idea, "decision")
    esc = fx.escalation(env.now, IdeaFactory.next_fx(idea), IdeaFactory.next_fx(idea))
    rejected = False
    if esc is not None:
        wait, rejected = esc
        w.trace(idea, "escalated", f"waits {wait:.0f} days for the line organisation's meeting")
        yield env.timeout(wait)
        if rejected and f.attrition:
            w.trace(idea, "rejected", "the line organisation said no")
    passed = not (rejected and f.attrition)
    if passed:
        cost = w.project_cost_estimate(idea)
        if w.budget is not None and cost > 0:
            t0 = env.now
            yield w.budget.get(cost)
            if env.now > t0:
                w.trace(idea, "funded", f"waited {env.now - t0:.0f} days for budget")
        w.charge_innovation(cost)
    w.stage_wait("decision", env.now - idea.times["decision"])   # escalation + budget
    if not _leave(w, idea, "decision", passed):
        return

    # 4 project: coordinators and the suppliers of the areas involved, in parallel ----------
    yield from _transition(w, idea)
    _enter(w, idea, "project")
    total = w.project_effort(idea)
    share = sc.responsibility.supplier_share(idea.domain)
    owners = w.owners(idea.areas)
    jobs = [env.process(_coord_project(w, idea, total * (1.0 - share) * fx.switching_factor))]
    if share > 0:
        per = total * share / len(owners)
        for i, name in enumerate(owners):
            jobs.append(env.process(w.suppliers[name].project_work(per, idea.e_resp[i])))
    yield simpy.AllOf(env, jobs)
    overrun_cost = w.project_cost_estimate(idea) * (idea.overrun - 1.0)
    if overrun_cost > 0:
        w.charge_innovation(overrun_cost)
    success = sc.responsibility.success(idea.domain)
    passed = (not f.attrition) or idea.u_success < success
    _leave(w, idea, "project", passed)


def _coord_project(w: World, idea: Idea, effort: float) -> Generator[simpy.Event, Any, None]:
    chunk = w.sc.funnel.work_chunk_days
    first = True
    while effort > 1e-12:
        piece = min(chunk, effort)
        if first:
            yield from _coordinator_work(w, idea, piece, PRIO_PROJECT, "project")
            first = False
        else:
            yield from w.coord.work(piece, PRIO_PROJECT, "project")
        effort -= piece


__all__ = ["PRIO_GOVERNANCE", "PRIO_MATCHING", "PRIO_PROJECT", "PRIO_SCREENING",
           "PRIO_TRIAGE", "STAGES", "idea_life"]
