"""People as a resource: a pool whose capacity follows a staffing plan, with priorities,
pre-emption of innovation work by operations work, and ring-fenced innovation capacity.

A :class:`StaffedPool` serves requests by priority (lower number first), FIFO within a
priority — the semantics of SimPy's ``PreemptiveResource`` — with two additions:

* **selective pre-emption**: a request with ``preempt=True`` and a priority below
  ``preemptible_from`` (operations work) that finds no free person takes one from the
  lowest-priority, most recently requested *innovation* user (priority ≥ ``preemptible_from``);
  operations work never pre-empts operations work;
* **ring-fencing**: ``fence_share`` of the staffed capacity (rounded down) is reserved for
  innovation work — operations work may hold at most ``capacity − fence`` people at once,
  innovation work may use everyone. (The partner organisation's *autonomy*, MODEL.md §4.)

Capacity follows ``plan`` exactly: more people serve waiting work at once; fewer take effect as
people finish (nobody is sent home in the middle of a task). Every grant gets a *slot* (a desk
number, lowest free first) for event logs and animations.

Written by hand rather than on SimPy's ``PreemptiveResource``: the ring-fence needs a per-class
ceiling inside one pool, which SimPy's resources cannot express without head-of-line blocking.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import PENDING

from simsource.model.monitor import Bins

N_PRIORITIES = 8


class Preempted:
    """The cause of an :class:`simpy.Interrupt` sent to pre-empted work."""

    __slots__ = ("by",)

    def __init__(self, by: int) -> None:
        self.by = by


class Grant(simpy.Event):
    """One request for a person: an event that succeeds when a person is granted, then held
    until released. (An event itself rather than an object holding one: one allocation less
    per request on the model's hot path.)"""

    def __init__(self, env: simpy.Environment, prio: int, ops: bool,
                 proc: simpy.Process | None, t: float) -> None:
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self.prio = prio
        self.ops = ops
        self.proc = proc
        self.t = t
        self.slot = -1


def _victim_key(g: Grant) -> tuple[int, float]:
    return (g.prio, g.t)


Tracer = Callable[[str, int, str, float], None]   # (kind, slot, "start"|"stop", time)


class StaffedPool:
    """People (coordinators, a transfer team) as a resource with a capacity plan."""

    def __init__(
        self,
        env: simpy.Environment,
        plan: Sequence[tuple[float, int]],
        final: int,
        horizon: float,
        warmup: float,
        kinds: Sequence[str],
        preemptible_from: int = N_PRIORITIES,
        on_preempt: Callable[[str], None] | None = None,
        fence_share: float = 0.0,
        busy: dict[str, Bins] | None = None,
        available: Bins | None = None,
    ) -> None:
        """``plan``: (until_day, capacity) steps in day order; ``final`` holds afterwards.
        ``busy`` (per kind) and ``available`` are the monitors to book into (default: own)."""
        self.env = env
        self.steps = [(float(d), int(c)) for d, c in plan] + [(math.inf, int(final))]
        self.peak = max(1, max(c for _, c in self.steps))
        self.preemptible_from = preemptible_from
        self.fence_share = fence_share
        self.on_preempt = on_preempt
        self.tracer: Tracer | None = None
        self.busy = busy if busy is not None else {k: Bins(horizon, warmup) for k in kinds}
        self.available = available if available is not None else Bins(horizon, warmup)
        self.horizon = horizon
        self.cap = 0
        self.fence = 0
        self.in_use = 0
        self.ops_in_use = 0
        self.queues: list[deque[Grant]] = [deque() for _ in range(N_PRIORITIES)]
        self.waiting = 0                     # requests in the queues
        self.innovation_users: list[Grant] = []
        self._free_slots = list(range(self.peak))
        self._book_capacity()
        self.set_capacity(self.steps[0][1])
        if len(self.steps) > 1 and self.steps[0][0] < horizon:
            env.process(self._follow_plan())

    # ---- capacity --------------------------------------------------------------------------
    def _book_capacity(self) -> None:
        start = 0.0
        for until, cap in self.steps:
            end = min(until, self.horizon)
            if end > start:
                self.available.add_interval(start, end, float(cap))
            start = end
            if start >= self.horizon:
                break

    def set_capacity(self, cap: int) -> None:
        self.cap = cap
        self.fence = math.floor(self.fence_share * cap + 1e-9)
        self._dispatch()

    def _follow_plan(self) -> Generator[simpy.Event, Any, None]:
        for (until, _), (_, cap) in zip(self.steps, self.steps[1:], strict=False):
            if until >= self.horizon:
                return
            yield self.env.timeout(until - self.env.now)
            self.set_capacity(cap)

    # ---- requests --------------------------------------------------------------------------
    # The hot path of the model: kept to few calls and attribute look-ups (the grant and the
    # dispatch are written out where they are used).
    def _can(self, ops: bool) -> bool:
        return self.in_use < self.cap and (not ops or self.ops_in_use < self.cap - self.fence)

    def _grant(self, g: Grant) -> None:
        self.in_use += 1
        if g.ops:
            self.ops_in_use += 1
        else:
            self.innovation_users.append(g)
        g.slot = heappop(self._free_slots)
        g.succeed()

    def _dispatch(self) -> None:
        if not self.waiting:
            return
        queues = self.queues
        while self.in_use < self.cap:
            for q in queues:
                if q and self._can(q[0].ops):
                    self.waiting -= 1
                    self._grant(q.popleft())
                    break
            else:
                return

    def request(self, prio: int, preempt: bool = False) -> Grant:
        """Ask for a person at priority ``prio``; ``yield`` the grant to wait for one."""
        env = self.env
        ops = prio < self.preemptible_from
        g = Grant(env, prio, ops, env._active_proc, env._now)
        in_use, cap = self.in_use, self.cap
        if in_use < cap and (not ops or self.ops_in_use < cap - self.fence):
            self.in_use = in_use + 1
            if ops:
                self.ops_in_use += 1
            else:
                self.innovation_users.append(g)
            g.slot = heappop(self._free_slots)
            g._ok = True
            g._value = None
            env.schedule(g)
        elif (preempt and ops and self.innovation_users
              and self.ops_in_use < cap - self.fence and in_use >= cap):
            victim = max(self.innovation_users, key=_victim_key)
            self._take_back(victim)
            if victim.proc is not None:
                victim.proc.interrupt(Preempted(prio))
            self._grant(g)
        else:
            self.queues[prio].append(g)
            self.waiting += 1
        return g

    def _take_back(self, g: Grant) -> None:
        self.in_use -= 1
        if g.ops:
            self.ops_in_use -= 1
        else:
            self.innovation_users.remove(g)
        heappush(self._free_slots, g.slot)

    def release(self, g: Grant) -> None:
        self._take_back(g)
        if self.waiting:
            self._dispatch()

    # ---- work ------------------------------------------------------------------------------
    def work(
        self,
        effort: float,
        priority: int,
        kind: str,
        preempt: bool = False,
        on_start: Callable[[float, int], None] | None = None,
    ) -> Generator[simpy.Event, Any, None]:
        """Do ``effort`` person-days of ``kind`` work; resumes the remainder if pre-empted.

        ``on_start(wait, slot)`` is called once, when the work first gets a person, with the
        time spent waiting for one and that person's desk (slot).
        """
        env = self.env
        remaining = effort
        asked = env._now
        first = True
        busy = self.busy[kind]
        while remaining > 1e-12:
            g = self.request(priority, preempt)
            try:
                yield g
            except simpy.Interrupt:
                continue  # pre-empted in the instant it was granted: ask again
            start = env._now
            if first:
                first = False
                if on_start is not None:
                    on_start(start - asked, g.slot)
            if self.tracer is not None:
                self.tracer(kind, g.slot, "start", start)
            # booked ahead (so work still in service at the horizon counts), corrected if
            # pre-empted: O(1) per piece of work, no bookkeeping of what is in service
            end = start + remaining
            busy.add_interval(start, end)
            try:
                yield env.timeout(remaining)
                remaining = 0.0
                self.release(g)
            except simpy.Interrupt:
                now = env._now
                busy.add_interval(now, end, -1.0)
                remaining = end - now
                if self.on_preempt is not None:
                    self.on_preempt(kind)
            if self.tracer is not None:
                self.tracer(kind, g.slot, "stop", env.now)
