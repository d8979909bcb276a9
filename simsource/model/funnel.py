"""The innovation funnel (whitepaper Fig. 5): screening → matching → decision → project.

Each idea is one SimPy process. Coordinator work competes, by priority, with operations work for
the same :class:`~simsource.model.staffing.StaffedPool` (the dilemma emerges from that
competition). At the decision, the supplier work the project needs starts as change requests
(:mod:`simsource.model.change`); their outcome sets the price, the price decides whether the
unit's mandate suffices, and the budget funds it. The partner organisation adds hand-off delays
and sync-point waits; the responsibility matrix sets who carries project effort and the success
probability.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.change import ChangeOutcome, change_request
from simsource.model.core import PRIO_MATCHING, PRIO_PROJECT, PRIO_SCREENING
from simsource.model.ideas import Idea

if TYPE_CHECKING:
    from simsource.model.world import World


def _enter(w: World, idea: Idea, stage: str) -> None:
    now = w.env.now
    idea.stage = stage
    idea.times[stage] = now
    w.rec.stage_in(now, stage)
    if w.rec.events is not None:
        w.rec.trace(now, "idea", idea.id, f"enters {stage}", stage)


def _leave(w: World, idea: Idea, stage: str, passed: bool) -> bool:
    """Record leaving ``stage``; False when the idea's life ends here."""
    now = w.env.now
    t_in = idea.times[stage]
    w.rec.stage_out(now, stage, t_in, passed)
    if w.rec.events is not None:
        w.rec.trace(now, "idea", idea.id, f"{'passes' if passed else 'dropped at'} {stage}",
                    stage, f"after {now - t_in:.1f} days")
    if not passed:
        idea.outcome = f"dropped:{stage}"
        w.idea_done(idea)
        return False
    if stage == w.sc.funnel.last_stage:
        idea.outcome = "implemented"
        idea.times["implemented"] = now
        w.idea_done(idea)
        return False
    return True


def _transition(w: World, idea: Idea, i: int) -> Generator[simpy.Event, Any, None]:
    """Hand-off ``i`` between unit and supplier, then the wait for the next sync point."""
    fx = w.fx
    delay = fx.handoff_delay(idea.e_handoff(i))
    wait = fx.sync_wait(w.env.now + delay)
    if delay + wait > 0:
        if wait > 0 and w.rec.events is not None:
            w.rec.trace(w.env.now, "idea", idea.id, "waits", idea.stage,
                        f"{wait:.0f} days for the next sync point")
        yield w.env.timeout(delay + wait)


def _coordinator_work(w: World, idea: Idea, effort: float, prio: int, kind: str
                      ) -> Generator[simpy.Event, Any, None]:
    stage, rec = idea.stage, w.rec

    def started(wait: float, slot: int) -> None:
        now = w.env.now
        rec.stage_wait(now, stage, wait)
        if rec.events is not None:
            rec.trace(now, "idea", idea.id, f"starts {stage}", stage,
                      f"after {wait:.1f} days in the queue", "coordinators", slot)

    yield from w.coord.work(effort, prio, kind, on_start=started)


def _coord_project(w: World, effort: float) -> Generator[simpy.Event, Any, None]:
    chunk = w.sc.funnel.work_chunk_days
    while effort > 1e-12:
        piece = min(chunk, effort)
        yield from w.coord.work(piece, PRIO_PROJECT, "project")
        effort -= piece


def idea_life(w: World, idea: Idea) -> Generator[simpy.Event, Any, None]:
    env, sc, fx, rec = w.env, w.sc, w.fx, w.rec
    f = sc.funnel
    attrition = f.attrition
    if not w.innovation_open.triggered:
        rec.trace(env.now, "idea", idea.id, "waits", "", "until the transfer is finished")
        yield w.innovation_open

    # 1 screening ---------------------------------------------------------------------------
    _enter(w, idea, "screening")
    yield from _coordinator_work(w, idea, idea.e_work(0) * f.screening_effort_days
                                 * fx.switching_factor, PRIO_SCREENING, "screening")
    if not _leave(w, idea, "screening", not attrition or idea.u_screen < idea.screening_pass):
        return

    # 2 matching: coordinator + need owner clarify the requirement --------------------------
    yield from _transition(w, idea, 0)
    _enter(w, idea, "matching")
    yield from _coordinator_work(w, idea, idea.e_work(1) * f.matching_effort_days
                                 * idea.matching_factor * fx.switching_factor, PRIO_MATCHING,
                                 "matching")
    owner_wait = idea.e_work(2) * f.need_owner_delay_days
    if owner_wait > 0:
        yield env.timeout(owner_wait)
    if not _leave(w, idea, "matching", not attrition or idea.u_match < idea.matching_pass):
        return

    # 3 decision: change requests (price), mandate or escalation, funding -------------------
    yield from _transition(w, idea, 1)
    _enter(w, idea, "decision")
    owners = w.owners(idea.areas)
    share = sc.responsibility.supplier_share(idea.domain)
    total = w.project_effort(idea, planned=True)
    outcomes: list[ChangeOutcome] = []
    if share > 0:
        crs = [env.process(change_request(w, w.suppliers[o], idea.cr_draws(i), outcomes))
               for i, o in enumerate(owners)]
        yield simpy.AllOf(env, crs)
    supplier_days = total * share
    price = (sum(o.price_msek_per_day for o in outcomes) / len(outcomes)) if outcomes else 0.0
    cost = supplier_days * price
    passed = True
    if fx.escalates(cost):
        wait = fx.line_meeting_wait(env.now)
        rec.decisions_escalated.hit(env.now)
        rec.trace(env.now, "idea", idea.id, "escalated", "decision",
                  f"waits {wait:.0f} days for the line organisation's meeting")
        yield env.timeout(wait)
        if not fx.line_approves(idea.value, cost):
            rec.decisions_rejected.hit(env.now)
            rec.trace(env.now, "idea", idea.id, "rejected", "decision",
                      "the business case does not meet the line organisation's hurdle")
            passed = not attrition
    if passed and cost > 0:
        t0 = env.now
        yield from w.budget.fund(cost)
        if env.now > t0:
            rec.trace(env.now, "idea", idea.id, "funded", "decision",
                      f"waited {env.now - t0:.0f} days for budget")
    rec.stage_wait(env.now, "decision", env.now - idea.times["decision"])
    if not _leave(w, idea, "decision", passed):
        return

    # 4 project: coordinators and the suppliers of the areas involved, in parallel ----------
    yield from _transition(w, idea, 2)
    _enter(w, idea, "project")
    actual = w.project_effort(idea, planned=False)
    jobs = [env.process(_coord_project(w, actual * (1.0 - share) * fx.switching_factor))]
    if share > 0:
        per = actual * share / len(owners)
        chunk = f.work_chunk_days
        jobs.extend(env.process(w.suppliers[o].change_work(per, chunk)) for o in owners)
    yield simpy.AllOf(env, jobs)
    extra = cost * (idea.overrun - 1.0)
    if extra > 0:
        w.budget.charge_overrun(extra)
    elif extra < 0:
        w.budget.refund(-extra)
    success = sc.responsibility.success(idea.domain)
    _leave(w, idea, "project", not attrition or idea.u_success < success)
