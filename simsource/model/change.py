"""Change requests: how a supplier's *reactive* ability acts (MODEL.md §9).

Every piece of supplier change or project work starts as a change request. A coordinator
specifies and raises it (coordinator work of kind ``change``); the supplier answers after
Exp(``max_response_delay_days × (1 − reactive)``). With probability ``reactive`` it accepts the
request within the contract, at the contract day rate. Otherwise it is negotiated: rounds of
coordinator effort (``changes.negotiation_effort_days``) and calendar time
(``changes.negotiation_round_days``), each ending in agreement with probability
``changes.agreement_per_round`` (at most :data:`MAX_ROUNDS`: then the parties settle), and the
work is priced with the supplier's ``change_markup``. So lead time, coordinator load and cost all
move with ``reactive``.

Draws of one request (:data:`~simsource.model.ideas.CR_WIDTH` uniforms): accept, rounds, raise
effort, first answer, then (effort, calendar) per round.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import PRIO_GOVERNANCE
from simsource.model.rng import Draws, choice_index, expo, pick

if TYPE_CHECKING:
    from simsource.model.suppliers import SupplierActor
    from simsource.model.world import World

MAX_ROUNDS = 5


def negotiation_rounds(u: float, p_agree: float) -> int:
    """Rounds until agreement (geometric, from one uniform), at most MAX_ROUNDS."""
    if p_agree >= 1.0:
        return 1
    n = 1 + int(math.log1p(-min(u, 1.0 - 1e-12)) / math.log1p(-p_agree))
    return min(n, MAX_ROUNDS)


class ChangeOutcome:
    """The result of one change request: was it negotiated, and the price per person-day."""

    __slots__ = ("negotiated", "price_msek_per_day", "rounds")

    def __init__(self, negotiated: bool, rounds: int, price: float) -> None:
        self.negotiated = negotiated
        self.rounds = rounds
        self.price_msek_per_day = price


def change_request(w: World, sup: SupplierActor, d: Draws, out: list[ChangeOutcome]
                   ) -> Generator[simpy.Event, Any, None]:
    """Raise a change request with ``sup`` and negotiate until it is agreed; appends the
    outcome to ``out``."""
    env, ch, rec = w.env, w.sc.changes, w.rec
    spec = sup.spec
    effort = expo(d[2]) * ch.raise_effort_days
    if effort > 0:
        yield from w.coord.work(effort, PRIO_GOVERNANCE, "change", preempt=True)
    answer = expo(d[3]) * spec.max_response_delay_days * (1.0 - spec.reactive)
    if answer > 0:
        yield env.timeout(answer)
    rec.change_requests.hit(env.now)
    if d[0] < spec.reactive:
        out.append(ChangeOutcome(False, 0, sup.contract_price_msek_per_day))
        return
    rounds = negotiation_rounds(d[1], ch.agreement_per_round)
    rec.change_negotiated.hit(env.now)
    if rec.in_window(env.now):
        rec.change_rounds += rounds
    for r in range(rounds):
        e = expo(d[4 + 2 * r]) * ch.negotiation_effort_days
        if e > 0:
            yield from w.coord.work(e, PRIO_GOVERNANCE, "change", preempt=True)
        wait = expo(d[5 + 2 * r]) * ch.negotiation_round_days
        if wait > 0:
            yield env.timeout(wait)
    out.append(ChangeOutcome(True, rounds, sup.negotiated_price_msek_per_day))


# ---- operational change requests -------------------------------------------------------------
OP_CHANGE_WIDTH = 7 + 5 * 14   # areas (count + 5 picks), effort, then one request per owner


def operational_change(w: World, d: Draws) -> Generator[simpy.Event, Any, None]:
    """A non-standard change the business asks for: a change request to every supplier whose
    area it touches, then their work (paid per person-day at the agreed price)."""
    env, ch = w.env, w.sc.changes
    areas_all = w.sc.scenario.areas
    k = min(len(areas_all), 1 + choice_index(d[0], ch.areas_probs))
    pool = list(areas_all)
    areas = tuple(pool.pop(pick(d[1 + j], len(pool))) for j in range(k))
    owners = w.owners(areas)
    effort = expo(d[6]) * ch.operational_effort_days / len(owners)
    outcomes: list[ChangeOutcome] = []
    yield simpy.AllOf(env, [env.process(change_request(w, w.suppliers[o],
                                                       d[7 + 14 * i: 21 + 14 * i], outcomes))
                            for i, o in enumerate(owners)])
    jobs = [env.process(w.suppliers[o].change_work(effort, effort)) for o in owners]
    yield simpy.AllOf(env, jobs)
    if w.rec.in_window(env.now):
        w.rec.operational_change_cost += sum(effort * o.price_msek_per_day for o in outcomes)


def operational_changes(w: World, rate_per_day: float) -> Generator[simpy.Event, Any, None]:
    env = w.env
    arrivals = w.streams["change-arrivals"]
    draws = w.streams.entities("change", OP_CHANGE_WIDTH)
    while True:
        yield env.timeout(arrivals.expo(1.0 / rate_per_day))
        env.process(operational_change(w, draws.next()))
