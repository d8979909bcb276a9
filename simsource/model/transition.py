"""The transfer of systems to the new suppliers before a hard deadline (MODEL.md §3).

Systems with planned effort and a dependency DAG are migrated by a transfer team; actual effort
is planned effort times the fat-tailed overrun of IT projects (:mod:`simsource.model.overrun`:
mean +27 %, one in six a black swan averaging +200 %; Flyvbjerg & Budzier 2011). A system
moves only after the systems it depends on; one that spans two new suppliers needs a hand-off
between them (a delay plus coordinator time). When the team is *shared with operations*,
incidents are resolved by the same people and pre-empt transfer work. Areas in transfer see
more incidents that take longer (schools without network). Innovation work waits until the
transfer is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import PRIO_GOVERNANCE
from simsource.model.overrun import OverrunTail
from simsource.model.rng import expo, pick
from simsource.model.staffing import StaffedPool
from simsource.scenario.schema import Transition

if TYPE_CHECKING:
    from simsource.model.world import World

PRIO_TRANSFER = 1


@dataclass(slots=True)
class System:
    id: int
    area: str
    second_area: str | None
    effort: float
    critical: bool
    deps: tuple[int, ...]
    done: simpy.Event
    e_handoff: float = 1.0           # unit exponential of its hand-off delay
    started: float = -1.0
    finished: float = -1.0


@dataclass
class TransitionActor:
    w: World
    spec: Transition
    systems: list[System] = field(default_factory=list)
    active: bool = False
    _left: dict[str, int] = field(default_factory=dict)        # unfinished systems per area
    _area_since: dict[str, float] = field(default_factory=dict)
    disruption_days: float = 0.0
    finish_day: float = float("nan")
    cost_window_msek: float = 0.0

    def __post_init__(self) -> None:
        w, t = self.w, self.spec
        plan = [(t.surge_day, t.team_size)] if t.surge_consultants > 0 else []
        self.team = StaffedPool(w.env, plan, t.team_size + t.surge_consultants, w.rec.horizon,
                                w.rec.warmup, kinds=("transfer", "incident"), preemptible_from=1)
        self._build_systems()

    # ---- the systems and their dependency DAG -------------------------------------------
    def _build_systems(self) -> None:
        """System *i* reads its own draws (area, hand-off, overrun, hand-off delay) and its own
        gamma draw; its dependencies on systems j < i read a triangle of uniforms of their own,
        so a system is the same whatever the number of systems or the switches."""
        w, t = self.w, self.spec
        draws = w.streams.entities("transition.system", 6)
        efforts = w.streams["transition.effort"]
        deps_stream = w.streams["transition.dependencies"]
        tail = OverrunTail(t.underestimation_mean, t.underestimation_sigma, t.black_swan_share,
                           t.black_swan_overrun_mean, t.black_swan_sigma, t.overrun_max_factor)
        areas = list(w.sc.scenario.areas)
        n = t.systems
        n_critical = round(t.critical_share * n)
        for i in range(n):
            d = draws.next()
            area = areas[pick(d[0], len(areas))]
            other = [a for a in areas if w.owner[a] != w.owner[area]]
            second = None
            if other and d[1] < t.cross_supplier_share:
                second = other[pick(d[2], len(other))]
            g = efforts.gamma_mean_cv(t.planned_effort_days_mean, t.planned_effort_cv)
            planned = t.planned_effort_days_mean if t.deterministic_effort else g
            factor = tail.factor(d[3], d[4])
            effort = planned * (factor if t.underestimation else 1.0)
            if str(i) in t.dependencies:
                deps = tuple(sorted(set(t.dependencies[str(i)])))
            elif t.dependencies or t.dependency_density <= 0:
                deps = ()
            else:
                deps = tuple(j for j in range(i)
                             if deps_stream.uniform() < t.dependency_density)
            self.systems.append(System(i, area, second, effort, i < n_critical, deps,
                                       w.env.event(), expo(d[5])))
        for sys in self.systems:
            bad = [j for j in sys.deps if j < 0 or j >= n or j == sys.id]
            if bad:
                raise ValueError(f"transition.dependencies.{sys.id}: unknown systems {bad}")
        # A critical system needs its dependencies before the deadline too, so they are critical:
        # otherwise, with defer_noncritical, it would wait for a deferred system that waits for
        # every critical one (a deadlock).
        stack = [s.id for s in self.systems if s.critical]
        while stack:
            for j in self.systems[stack.pop()].deps:
                if not self.systems[j].critical:
                    self.systems[j].critical = True
                    stack.append(j)

    # ---- state used by operations ----------------------------------------------------------
    def in_transfer(self, area: str) -> bool:
        return self._left.get(area, 0) > 0

    def shared_now(self) -> bool:
        return self.active and self.spec.shared_with_operations

    def _area_done(self, area: str) -> None:
        """One more system of ``area`` has moved; the area leaves the transfer with its last."""
        self._left[area] -= 1
        if self._left[area] == 0:
            self.disruption_days += self.w.env.now - self._area_since[area]

    # ---- processes -----------------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        env, t = self.w.env, self.spec
        if t.start_day > 0:
            yield env.timeout(t.start_day)
        self.active = True
        for sys in self.systems:         # the whole area is in transfer until its last system
            self._left[sys.area] = self._left.get(sys.area, 0) + 1
            self._area_since[sys.area] = env.now
        critical_done = [s.done for s in self.systems if s.critical]
        gate = simpy.AllOf(env, critical_done) if t.defer_noncritical else None
        for sys in self.systems:
            env.process(self._migrate(sys, gate if not sys.critical else None))
        yield simpy.AllOf(env, [s.done for s in self.systems])
        self.active = False
        self.finish_day = env.now
        self.w.rec.trace(env.now, "system", -1, "finished", "transfer",
                         f"all {len(self.systems)} systems moved")
        self.w.innovation_open.succeed()

    def _migrate(self, sys: System, gate: simpy.Event | None
                 ) -> Generator[simpy.Event, Any, None]:
        env, t = self.w.env, self.spec
        deps = [self.systems[d].done for d in sys.deps]
        if deps:
            yield simpy.AllOf(env, deps)
        if gate is not None:
            yield gate
        sys.started = env.now
        yield from self.team.work(sys.effort, PRIO_TRANSFER, "transfer")
        if sys.second_area is not None:
            yield env.timeout(sys.e_handoff * t.handoff_days)
            yield from self.w.coord.work(t.handoff_coordinator_days, PRIO_GOVERNANCE, "handoff",
                                         preempt=True)
        sys.finished = env.now
        self.w.rec.trace(env.now, "system", sys.id, "moved", sys.area,
                         f"after {env.now - sys.started:.1f} days")
        self._area_done(sys.area)
        sys.done.succeed()

    # ---- KPIs ------------------------------------------------------------------------------
    def kpis(self, horizon: float) -> dict[str, float]:
        t = self.spec
        deadline = t.start_day + t.deadline_days
        finished = self.finish_day
        late = sum(1 for s in self.systems if s.critical and not (0 <= s.finished <= deadline))
        open_areas = [a for a, k in self._left.items() if k > 0]
        disruption = self.disruption_days + sum(horizon - self._area_since[a] for a in open_areas)
        end = finished if finished == finished else horizon
        days = self.w.sc.scenario.working_days_per_year

        def cost_between(lo: float, hi: float) -> float:
            """Transfer people paid between days lo and hi (MSEK)."""
            c = 0.0
            if not t.shared_with_operations:
                c += t.team_size * t.separate_team_cost_msek_per_year * max(0.0, hi - lo) / days
            if t.surge_consultants > 0:
                c += (t.surge_consultants * t.surge_cost_msek_per_year
                      * max(0.0, hi - max(lo, t.surge_day)) / days)
            return c

        self.cost_window_msek = cost_between(max(t.start_day, self.w.rec.warmup), end)
        return {
            "transition_finish_day": finished,
            "transition_deadline_met": float(late == 0),
            "transition_systems_late": float(late),
            "transition_disruption_days": disruption,
            "transition_cost_msek": cost_between(t.start_day, end),
        }
