"""History matching in waves: sample, rule out what is implausible, refocus, sample again.

Wave 1 samples the prior box (uniform priors) with a scrambled Latin hypercube
(:func:`simsource.experiment.design.unit_lhs`, scipy.stats.qmc) and evaluates every candidate on
every scenario the facts name. Each later wave samples the bounding box of the candidates not
ruled out so far, widened by :data:`MARGIN` of the prior range on each side (the refocusing of
Vernon et al. 2010, with the box standing in for an emulator), and evaluates the scenarios in
turn: a candidate already implausible on the facts of the scenarios evaluated so far is not run
on the rest (it cannot become plausible), which leaves budget for more candidates.

The accepted candidates of all waves, weighted by ``1 / q(u)`` where ``q`` is the mixture of the
waves' uniform sampling densities (Owen & Zhou 2000, deterministic-mixture importance weights),
approximate the prior restricted to the non-implausible region: the posterior.

This module decides *what* to run; ``evaluate(group, candidates)`` (the experiment engine, via
:mod:`simsource.analysis.calibration.run`) runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource.analysis.calibration.facts import Fact
from simsource.analysis.calibration.implausibility import estimate, implausibility
from simsource.experiment.design import unit_lhs

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.params import Param
    from simsource.scenario import Scenario

#: widening of each refocused box, as a share of the prior range on each side
MARGIN = 0.1
#: the spawn key of the design's random numbers (the replications use the root seed itself)
DESIGN_STREAM = 0x63616C
#: more waves than asked are run while the budget still pays this many candidates
MIN_WAVE = 5
MAX_EXTRA_WAVES = 10


@dataclass(frozen=True)
class Group:
    """One scenario the candidates are evaluated on (a fact's scenario or baseline, with the
    fact's ``set`` overrides), with the replications per candidate."""

    index: int
    label: str
    scenario: Scenario
    reps: int


@dataclass(frozen=True)
class Target:
    """A fact wired to the groups it reads; ``used`` is False for a held-back fact."""

    fact: Fact
    group: int
    baseline: int | None
    used: bool = True

    @property
    def groups(self) -> tuple[int, ...]:
        return (self.group,) if self.baseline is None else (self.group, self.baseline)


@dataclass
class WaveInfo:
    number: int
    low: np.ndarray
    high: np.ndarray
    ids: list[int]
    simulations: int = 0

    @property
    def volume(self) -> float:
        return float(np.prod(self.high - self.low))

    def record(self, params: Sequence[Param]) -> dict[str, Any]:
        return {"wave": self.number, "candidates": len(self.ids),
                "simulations": self.simulations,
                "box": {p.key: [p.low + lo * (p.high - p.low), p.low + hi * (p.high - p.low)]
                        for p, lo, hi in zip(params, self.low, self.high, strict=True)}}


#: ``evaluate(group, candidate ids, their values)`` → candidate id → KPI frame (one row per
#: replication, sorted)
Evaluate = Callable[[Group, Sequence[int], Sequence[Mapping[str, Any]]],
                    Mapping[int, "pd.DataFrame"]]


@dataclass
class Matching:
    """The state of a history matching: candidates (unit coordinates ``u`` and values), the
    KPI frames evaluated so far, and the implausibility of every used fact."""

    params: Sequence[Param]
    groups: Sequence[Group]
    targets: Sequence[Target]
    cutoff: float
    u: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    waves: list[WaveInfo] = field(default_factory=list)
    frames: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)

    # ---- candidates --------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.u.shape[0])

    def values(self, cid: int) -> dict[str, int | float]:
        return {p.key: p.cast(p.low + x * (p.high - p.low))
                for p, x in zip(self.params, self.u[cid], strict=True)}

    def add(self, u: np.ndarray) -> list[int]:
        start = self.size
        self.u = u if start == 0 else np.vstack([self.u, u])
        return list(range(start, self.size))

    # ---- implausibility ----------------------------------------------------------------
    def matrix(self, group: int, kpi: str, ids: Sequence[int], reps: int) -> np.ndarray:
        """Candidates × replications of ``kpi`` on ``group`` (NaN where not evaluated)."""
        out = np.full((len(ids), reps), np.nan)
        for row, cid in enumerate(ids):
            df = self.frames.get((group, cid))
            if df is not None and kpi in df.columns:
                vals = df[kpi].to_numpy(dtype=float)[:reps]
                out[row, :len(vals)] = vals
        return out

    def evaluated(self, target: Target) -> list[int]:
        return [c for c in range(self.size)
                if all((g, c) in self.frames for g in target.groups)]

    def implausibilities(self, target: Target) -> np.ndarray:
        """``I`` of ``target`` for every candidate (NaN where it was not evaluated)."""
        out = np.full(self.size, np.nan)
        ids = self.evaluated(target)
        if not ids:
            return out
        reps = min(self.groups[g].reps for g in target.groups)
        y = self.matrix(target.group, target.fact.kpi, ids, reps)
        b = None if target.baseline is None else \
            self.matrix(target.baseline, target.fact.kpi, ids, reps)
        out[ids] = implausibility(target.fact, estimate(target.fact, y, b))
        return out

    def table(self) -> np.ndarray:
        """Candidates × used targets: ``I`` (NaN: not evaluated)."""
        used = [t for t in self.targets if t.used]
        if not used:
            return np.zeros((self.size, 0))
        return np.column_stack([self.implausibilities(t) for t in used])

    def accepted(self) -> np.ndarray:
        """Candidates evaluated on every used fact with ``max I < cutoff``."""
        table = self.table()
        if table.shape[1] == 0:
            return np.ones(self.size, dtype=bool)
        with np.errstate(invalid="ignore"):
            ok: np.ndarray = np.all(np.isfinite(table) & (table < self.cutoff), axis=1)
        return ok

    def ruled_out(self, ids: Sequence[int], before: int) -> set[int]:
        """Candidates of ``ids`` implausible on a used fact whose groups all come before
        group ``before``."""
        out: set[int] = set()
        for t in self.targets:
            if t.used and max(t.groups) < before:
                imp = self.implausibilities(t)
                out |= {c for c in ids if not imp[c] < self.cutoff}
        return out

    # ---- waves -------------------------------------------------------------------------
    def next_box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The bounding box of the accepted candidates, widened by :data:`MARGIN`; None when
        none is accepted."""
        ok = self.accepted()
        if not ok.any():
            return None
        u = self.u[ok]
        return np.clip(u.min(axis=0) - MARGIN, 0, 1), np.clip(u.max(axis=0) + MARGIN, 0, 1)

    def run_wave(self, number: int, n: int, box: tuple[np.ndarray, np.ndarray],
                 rng: np.random.Generator, evaluate: Evaluate) -> WaveInfo:
        low, high = box
        u = low + unit_lhs(len(self.params), n, rng) * (high - low)
        wave = WaveInfo(number, low, high, self.add(u))
        self.waves.append(wave)
        for g in self.groups:
            alive = list(wave.ids)
            if number > 1:
                dropped = self.ruled_out(alive, g.index)
                alive = [c for c in alive if c not in dropped]
            if not alive:
                continue
            frames = evaluate(g, alive, [self.values(c) for c in alive])
            for cid, df in frames.items():
                self.frames[(g.index, cid)] = df
            wave.simulations += len(alive) * g.reps
        return wave

    def weights(self) -> np.ndarray:
        """Deterministic-mixture importance weights of the accepted candidates (0 elsewhere),
        summing to one (all zero if none is accepted)."""
        total = self.size
        q = np.zeros(total)
        for wave in self.waves:
            inside = np.all((self.u >= wave.low - 1e-12) & (self.u <= wave.high + 1e-12), axis=1)
            q += inside * (len(wave.ids) / total) / max(wave.volume, 1e-300)
        w = np.where(self.accepted(), 1.0 / np.maximum(q, 1e-300), 0.0)
        s = w.sum()
        return w / s if s > 0 else w


def plan_waves(budget: int, cost: int, waves: int, spent: int, done: int) -> int:
    """Candidates for the next wave: an equal share of what is left over the waves still to
    come, sized as if every candidate ran on every scenario; after the waves asked for, more
    while the budget pays :data:`MIN_WAVE` candidates (0: stop)."""
    left = budget - spent
    if done < waves:
        return max(0, left // (waves - done) // cost)
    if done >= waves + MAX_EXTRA_WAVES or left < MIN_WAVE * cost:
        return 0
    return left // cost


def match(params: Sequence[Param], groups: Sequence[Group], targets: Sequence[Target], *,
          budget: int, waves: int, cutoff: float, seed: int, evaluate: Evaluate,
          on_wave: Callable[[Matching, WaveInfo], None] | None = None) -> Matching:
    """Run the waves until the budget is spent (or nothing is non-implausible)."""
    m = Matching(params, groups, targets, cutoff, u=np.zeros((0, len(params))))
    cost = sum(g.reps for g in groups)
    spent = 0
    box: tuple[np.ndarray, np.ndarray] | None = (np.zeros(len(params)), np.ones(len(params)))
    while box is not None:
        n = plan_waves(budget, cost, waves, spent, len(m.waves))
        if n < 1:
            break
        number = len(m.waves) + 1
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,
                                                                            number)))
        wave = m.run_wave(number, n, box, rng, evaluate)
        spent += wave.simulations
        if on_wave is not None:
            on_wave(m, wave)
        box = m.next_box()
    return m


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of ``x`` with weights ``w`` (the weighted empirical distribution, inverted
    at the midpoints of its steps; NaN for an empty sample)."""
    ok = np.isfinite(x) & (w > 0)
    if not ok.any():
        return [float("nan")] * len(qs)
    order = np.argsort(x[ok])
    xs, ws = x[ok][order], w[ok][order]
    cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return [float(np.interp(q, cdf, xs)) for q in qs]
