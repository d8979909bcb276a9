"""The transfer of systems to the new suppliers before a hard deadline (MODEL.md §3).

Systems with planned effort and a dependency DAG are migrated by a transfer team; actual effort
is planned effort times a fat-tailed underestimation factor (lognormal, mean +24 %, 1 in 6 ≈
+70 %: Budzier & Flyvbjerg 2011). A system moves only after the systems it depends on; one that
spans two new suppliers needs a hand-off between them (a delay plus coordinator time). When the
team is *shared with operations*, incidents are resolved by the same people and pre-empt
transfer work. Areas in transfer see more incidents that take longer (schools without network).
Innovation work waits until the transfer is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.funnel import PRIO_GOVERNANCE
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
        self.team = StaffedPool(w.env, plan, t.team_size + t.surge_consultants, w.horizon,
                                w.warmup, kinds=("transfer", "incident"), preemptible_from=1)
        self._build_systems()

    # ---- the systems and their dependency DAG -------------------------------------------
    def _build_systems(self) -> None:
        w, t = self.w, self.spec
        s = w.streams["transition.systems"]
        areas = list(w.sc.scenario.areas)
        n = t.systems
        n_critical = round(t.critical_share * n)
        for i in range(n):
            area = areas[int(s.uniform() * len(areas)) % len(areas)]
            other = [a for a in areas if w.owner[a] != w.owner[area]]
            u_cross, u_other = s.uniform(), s.uniform()
            second = None
            if other and u_cross < t.cross_supplier_share:
                second = other[int(u_other * len(other)) % len(other)]
            if t.deterministic_effort:
                planned = t.planned_effort_days_mean
            else:
                planned = s.gamma_mean_cv(t.planned_effort_days_mean, t.planned_effort_cv)
            factor = s.lognormal_mean(1.0 + t.underestimation_mean, t.underestimation_sigma)
            effort = planned * (factor if t.underestimation else 1.0)
            if str(i) in t.dependencies:
                deps = tuple(sorted(set(t.dependencies[str(i)])))
            elif t.dependencies:
                deps = ()
            else:
                deps = tuple(j for j in range(i) if s.uniform() < t.dependency_density)
            self.systems.append(System(i, area, second, effort, i < n_critical, deps,
                                       w.env.event()))
        for sys in self.systems:
            bad = [d for d in sys.deps if d < 0 or d >= n or d == sys.id]
            if bad:
                raise ValueError(f"transition.dependencies.{sys.id}: unknown systems {bad}")
        # A critical system needs its dependencies before the deadline too, so they are critical:
        # otherwise, with defer_noncritical, it would wait for a deferred system that waits for
        # every critical one (a deadlock).
        stack = [s.id for s in self.systems if s.critical]
        while stack:
            for d in self.systems[stack.pop()].deps:
                if not self.systems[d].critical:
                    self.systems[d].critical = True
                    stack.append(d)

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
        self.w.trace_system(-1, "transfer", "finished", f"all {len(self.systems)} systems moved")
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
            s = self.w.streams[f"transition.handoff.{sys.id}"]
            yield env.timeout(s.expo(t.handoff_days))
            yield from self.w.coord.work(t.handoff_coordinator_days, PRIO_GOVERNANCE, "handoff")
        sys.finished = env.now
        self.w.trace_system(sys.id, sys.area, "moved", f"after {env.now - sys.started:.1f} days")
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

        self.cost_window_msek = cost_between(max(t.start_day, self.w.warmup), end)
        return {
            "transition_finish_day": finished,
            "transition_deadline_met": float(late == 0),
            "transition_systems_late": float(late),
            "transition_disruption_days": disruption,
            "transition_cost_msek": cost_between(t.start_day, end),
        }
