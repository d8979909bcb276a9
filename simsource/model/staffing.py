"""Staffed resources whose capacity follows a plan over time, with selective pre-emption.

A :class:`StaffedPool` is a SimPy ``PreemptiveResource`` sized to the largest staffing the plan
ever reaches; slots not yet (or no longer) staffed are held by *vacancy* requests of the highest
priority, so the usable capacity follows the plan exactly. Only users whose priority is at or
above ``preemptible_from`` (innovation work) can be pre-empted; operations never pre-empt
operations. :meth:`StaffedPool.work` performs an amount of effort, resuming after pre-emption,
and books busy time per kind of work into monitors.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import simpy
from simpy.resources.resource import Preempted, PriorityRequest

from simsource.model.monitor import Bins

VACANCY = -1


class _SelectivePreemptiveResource(simpy.PreemptiveResource):
    def __init__(self, env: simpy.Environment, capacity: int, preemptible_from: int) -> None:
        super().__init__(env, capacity)
        self.preemptible_from = preemptible_from

    def _do_put(self, event: PriorityRequest) -> None:  # type: ignore[override]
        if event.preempt and len(self.users) >= self.capacity:
            victim = max(self.users, key=lambda e: e.key)
            if victim.priority >= self.preemptible_from and victim.key > event.key:
                self.users.remove(victim)
                victim.proc.interrupt(  # type: ignore[union-attr]
                    Preempted(by=event.proc, usage_since=victim.usage_since, resource=self)
                )
        simpy.PriorityResource._do_put(self, event)


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
        preemptible_from: int = 10**6,
        on_preempt: Callable[[str], None] | None = None,
    ) -> None:
        """``plan``: (until_day, capacity) steps in day order; ``final`` holds afterwards."""
        self.env = env
        self.steps = [(float(d), int(c)) for d, c in plan] + [(float("inf"), int(final))]
        self.peak = max(1, max(c for _, c in self.steps))
        self.res = _SelectivePreemptiveResource(env, self.peak, preemptible_from)
        self.busy = {k: Bins(horizon, warmup) for k in kinds}
        self.available = Bins(horizon, warmup)
        self.horizon = horizon
        self.on_preempt = on_preempt
        self._vacancies: list[PriorityRequest] = []
        self._book_capacity()
        self._set_capacity(self.steps[0][1])
        if len(self.steps) > 1 and self.steps[0][0] < horizon:
            env.process(self._follow_plan())

    def _book_capacity(self) -> None:
        start = 0.0
        for until, cap in self.steps:
            end = min(until, self.horizon)
            if end > start:
                self.available.add_interval(start, end, float(cap))
            start = end
            if start >= self.horizon:
                break

    def _set_capacity(self, cap: int) -> None:
        vacant = self.peak - cap
        while len(self._vacancies) > vacant:
            self.res.release(self._vacancies.pop())
        while len(self._vacancies) < vacant:
            self._vacancies.append(self.res.request(priority=VACANCY, preempt=False))

    def _follow_plan(self) -> Generator[simpy.Event, Any, None]:
        for (until, _), (_, cap) in zip(self.steps, self.steps[1:], strict=False):
            if until >= self.horizon:
                return
            yield self.env.timeout(until - self.env.now)
            self._set_capacity(cap)

    def work(
        self,
        effort: float,
        priority: int,
        kind: str,
        preempt: bool = False,
        on_start: Callable[[float], None] | None = None,
    ) -> Generator[simpy.Event, Any, None]:
        """Do ``effort`` person-days of ``kind`` work; resumes the remainder if pre-empted.

        ``on_start(wait)`` is called once, when the work first gets a person, with the time
        spent waiting for one.
        """
        env = self.env
        remaining = effort
        asked = env.now
        first = True
        busy = self.busy[kind]
        while remaining > 1e-12:
            req = self.res.request(priority=priority, preempt=preempt)
            try:
                yield req
            except simpy.Interrupt:
                continue  # pre-empted in the instant it was granted: ask again
            start = env.now
            if first:
                first = False
                if on_start is not None:
                    on_start(start - asked)
            # booked ahead (so work still in service at the horizon counts), corrected if
            # pre-empted: O(1) per piece of work, no bookkeeping of what is in service
            end = start + remaining
            busy.add_interval(start, end)
            try:
                yield env.timeout(remaining)
                remaining = 0.0
                self.res.release(req)
            except simpy.Interrupt:
                now = env.now
                busy.add_interval(now, end, -1.0)
                remaining = end - now
                if self.on_preempt is not None:
                    self.on_preempt(kind)
