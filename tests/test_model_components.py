"""Unit tests of the model's components, each against theory or a reference implementation:
random streams and entity draws (moments), the fat-tailed overrun, the change-request rounds,
the Kaplan–Meier lead time, the staffed pool (priorities, pre-emption, ring-fence, staffing
plan) and the supplier staff server (a property test against SimPy's ``PriorityResource``).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simsource.model.change import MAX_ROUNDS, negotiation_rounds
from simsource.model.core import SUP_CHANGE, SUP_IMPROVEMENT, SUP_INCIDENT
from simsource.model.leadtime import km_quantiles
from simsource.model.overrun import SWAN_THRESHOLD, OverrunTail
from simsource.model.partnership import PartnershipEffects
from simsource.model.rng import (
    EntityDraws,
    Streams,
    choice_index,
    expo,
    lognormal_mean,
    normal,
    pick,
)
from simsource.model.servers import SupplierStaff
from simsource.model.staffing import StaffedPool
from simsource.scenario import load_scenario

N = 200_000


def _uniforms(n: int = N, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


# ---- streams --------------------------------------------------------------------------------


def test_stream_moments_match_theory() -> None:
    s = Streams(7, 0)["test"]
    u = np.array([s.uniform() for _ in range(N)])
    e = np.array([s.expo(2.0) for _ in range(N)])
    g = np.array([s.gamma_mean_cv(8.0, 0.6) for _ in range(N // 4)])
    assert u.mean() == pytest.approx(0.5, abs=4 * math.sqrt(1 / 12 / N))
    assert u.var() == pytest.approx(1 / 12, rel=0.02)
    assert e.mean() == pytest.approx(2.0, abs=4 * 2.0 / math.sqrt(N))
    assert e.std() == pytest.approx(2.0, rel=0.02)
    assert g.mean() == pytest.approx(8.0, rel=0.02)
    assert g.std() / g.mean() == pytest.approx(0.6, rel=0.03)


def test_inverse_transforms_match_theory() -> None:
    u = _uniforms()
    ex = np.array([expo(x) for x in u])
    z = np.array([normal(x) for x in u])
    ln = np.array([lognormal_mean(3.0, 0.5, x) for x in u])
    assert ex.mean() == pytest.approx(1.0, abs=0.01)
    assert stats.kstest(z, "norm").pvalue > 0.001
    assert ln.mean() == pytest.approx(3.0, rel=0.01)
    assert np.log(ln).std() == pytest.approx(0.5, rel=0.01)
    assert lognormal_mean(3.0, 0.0, 0.1) == 3.0
    assert all(0 <= pick(x, 7) < 7 for x in (0.0, 0.5, 1.0 - 1e-16))
    counts = np.bincount([choice_index(x, (0.2, 0.5, 0.3)) for x in u], minlength=3) / N
    assert counts == pytest.approx([0.2, 0.5, 0.3], abs=0.005)


def test_named_streams_are_reproducible_and_independent() -> None:
    a, b = Streams(7, 3), Streams(7, 3)
    assert [a["x"].uniform() for _ in range(5)] == [b["x"].uniform() for _ in range(5)]
    assert Streams(7, 3)["x"].uniform() != Streams(7, 3)["y"].uniform()
    assert Streams(7, 3)["x"].uniform() != Streams(7, 4)["x"].uniform()


def test_entity_draws_are_fixed_width_slices() -> None:
    """Entity k always reads uniforms [k·w, (k+1)·w) of its stream, whatever was used of the
    entities before it."""
    d = Streams(1, 0).entities("src", 5)
    first = [d.next() for _ in range(200)]
    gen = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(1, spawn_key=(0, zlib.crc32(b"entity:src")))))
    flat = gen.random(5 * 64 * 4).tolist()
    for k, draws in enumerate(first):
        assert list(draws) == flat[5 * k: 5 * k + 5]
    s = Streams(1, 0)
    assert s.entities("src", 5) is s.entities("src", 5)
    with pytest.raises(ValueError, match="widths"):
        s.entities("src", 6)


def test_entity_draws_block_boundary() -> None:
    d = EntityDraws(np.random.default_rng(0), width=3, per_block=2)
    rows = [d.next() for _ in range(5)]
    assert all(len(r) == 3 for r in rows)
    assert len({tuple(r) for r in rows}) == 5
    assert d.count == 5


# ---- the fat-tailed overrun -----------------------------------------------------------------


def test_overrun_mixture_matches_flyvbjerg_budzier() -> None:
    """Mean +27 %, one in six a black swan averaging +200 % (Flyvbjerg & Budzier 2011)."""
    tail = OverrunTail(0.27, 0.2, 1 / 6, 2.0, 1.0, 10.0)
    u1, u2 = _uniforms(N, 1), _uniforms(N, 2)
    f = np.array([tail.factor(a, b) for a, b in zip(u1, u2, strict=True)])
    swan = u1 < 1 / 6
    assert f.mean() == pytest.approx(1.27, abs=0.01)
    assert swan.mean() == pytest.approx(1 / 6, abs=0.003)
    assert (f[swan] - 1).mean() == pytest.approx(2.0, rel=0.03)
    assert f[swan].min() >= 1 + SWAN_THRESHOLD
    assert f.max() <= 10.0
    assert tail.ordinary_mean == pytest.approx((1.27 - 3.0 / 6) / (5 / 6))
    # fat: the top 1 % of projects hold far more than 1 % of the overrun
    over = np.sort(np.maximum(f - 1, 0))
    assert over[-N // 100:].sum() / over.sum() > 0.08


def test_overrun_without_black_swans_is_the_ordinary_lognormal() -> None:
    tail = OverrunTail(0.27, 0.2, 0.0, 2.0, 1.0, 10.0)
    f = np.array([tail.factor(a, b) for a, b in zip(_uniforms(), _uniforms(seed=2),
                                                     strict=True)])
    assert f.mean() == pytest.approx(1.27, rel=0.01)
    assert np.log(f).std() == pytest.approx(0.2, rel=0.02)


# ---- change requests ------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.3, 0.5, 0.8])
def test_negotiation_rounds_are_geometric_up_to_the_cap(p: float) -> None:
    r = np.array([negotiation_rounds(x, p) for x in _uniforms()])
    expected = sum(min(k, MAX_ROUNDS) * p * (1 - p) ** (k - 1) for k in range(1, 200))
    assert r.mean() == pytest.approx(expected, rel=0.01)
    assert r.min() == 1
    assert r.max() == MAX_ROUNDS
    assert negotiation_rounds(0.99, 1.0) == 1


# ---- Kaplan–Meier lead times ----------------------------------------------------------------


def test_km_without_censoring_is_the_median() -> None:
    x = [5.0, 1.0, 3.0, 9.0]
    assert km_quantiles(x, [])[0] == pytest.approx(float(np.median(x)))
    assert km_quantiles([1.0, 2.0, 3.0], [])[0] == 2.0


def test_km_matches_a_hand_computed_example() -> None:
    # events at 1, 2, 4, 5; censored at 3 and 6 (n = 6)
    # S(1) = 5/6, S(2) = 4/6, S(4) = 4/6 * 2/3 = 4/9 <= 1/2 -> median 4
    assert km_quantiles([1.0, 2.0, 4.0, 5.0], [3.0, 6.0], qs=(0.5,))[0] == 4.0


def test_km_with_censoring_is_never_below_completed_only() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        done = list(rng.exponential(100, rng.integers(1, 40)))
        waiting = list(rng.exponential(150, rng.integers(0, 40)))
        km = km_quantiles(done, waiting, qs=(0.5,))[0]
        assert math.isnan(km) or km >= float(np.median(done)) - 1e-9


def test_km_is_undefined_when_most_ideas_still_wait() -> None:
    assert math.isnan(km_quantiles([10.0], [50.0, 60.0, 70.0], qs=(0.5,))[0])
    assert math.isnan(km_quantiles([], [1.0])[0])


# ---- the staffed pool -----------------------------------------------------------------------


def _pool(env: simpy.Environment, cap: int, plan: list[tuple[float, int]] | None = None,
          fence: float = 0.0) -> StaffedPool:
    return StaffedPool(env, plan or [], cap, 1000.0, 0.0, ("ops", "inn"),
                       preemptible_from=3, fence_share=fence)


def _job(env: simpy.Environment, pool: StaffedPool, log: list[Any], name: str, at: float,
         effort: float, prio: int, preempt: bool = False) -> None:
    def proc() -> Any:
        yield env.timeout(at)
        kind = "ops" if prio < 3 else "inn"
        yield from pool.work(effort, prio, kind, preempt=preempt,
                             on_start=lambda w, s: log.append((name, "start", env.now)))
        log.append((name, "end", env.now))
    env.process(proc())


def test_pool_serves_by_priority_then_fifo() -> None:
    env = simpy.Environment()
    pool, log = _pool(env, 1), []
    _job(env, pool, log, "first", 0, 1, 5)
    _job(env, pool, log, "low", 0.1, 1, 5)
    _job(env, pool, log, "high", 0.2, 1, 4)
    _job(env, pool, log, "low2", 0.3, 1, 5)
    env.run()
    starts = [n for n, what, _ in log if what == "start"]
    assert starts == ["first", "high", "low", "low2"]


def test_operations_preempt_innovation_and_the_work_resumes() -> None:
    env = simpy.Environment()
    pool, log = _pool(env, 1), []
    _job(env, pool, log, "project", 0, 4.0, 3)
    _job(env, pool, log, "triage", 1.0, 0.5, 1, preempt=True)
    env.run()
    ends = {n: t for n, what, t in log if what == "end"}
    assert ends["triage"] == pytest.approx(1.5)
    assert ends["project"] == pytest.approx(4.5)     # 1 done, pre-empted 0.5, 3 more
    assert pool.busy["inn"].window == pytest.approx(4.0)
    assert pool.busy["ops"].window == pytest.approx(0.5)


def test_operations_never_preempt_operations() -> None:
    env = simpy.Environment()
    pool, log = _pool(env, 1), []
    _job(env, pool, log, "governance", 0, 2.0, 2, preempt=True)
    _job(env, pool, log, "triage", 0.5, 0.5, 1, preempt=True)
    env.run()
    ends = {n: t for n, what, t in log if what == "end"}
    assert ends == {"governance": 2.0, "triage": 2.5}


def test_ring_fence_keeps_innovation_capacity() -> None:
    """With 4 people and a fence of 0.5, operations hold at most 2 at once; innovation may use
    all four."""
    env = simpy.Environment()
    pool, log = _pool(env, 4, fence=0.5), []
    for i in range(4):
        _job(env, pool, log, f"ops{i}", 0, 1.0, 2, preempt=True)
    env.run()
    ends = sorted(t for n, what, t in log if what == "end")
    assert ends == [1.0, 1.0, 2.0, 2.0]
    env = simpy.Environment()
    pool, log = _pool(env, 4, fence=0.5), []
    for i in range(4):
        _job(env, pool, log, f"inn{i}", 0, 1.0, 4)
    env.run()
    assert sorted(t for n, what, t in log if what == "end") == [1.0] * 4


def test_staffing_plan_changes_capacity() -> None:
    env = simpy.Environment()
    pool, log = _pool(env, 3, plan=[(10.0, 1)]), []
    for i in range(4):
        _job(env, pool, log, f"j{i}", 0, 4.0, 4)
    env.run()
    ends = sorted(t for n, what, t in log if what == "end")
    assert ends == [4.0, 8.0, 12.0, 14.0]    # one person until day 10, then three
    assert pool.available.window == pytest.approx(10 * 1 + 990 * 3)


def test_slots_are_unique_while_held() -> None:
    env = simpy.Environment()
    pool = _pool(env, 3)
    held: dict[int, str] = {}
    clashes: list[int] = []

    def tracer(kind: str, slot: int, what: str, t: float) -> None:
        if what == "start":
            if slot in held:
                clashes.append(slot)
            held[slot] = kind
        else:
            held.pop(slot, None)
    pool.tracer = tracer
    log: list[Any] = []
    for i in range(12):
        _job(env, pool, log, f"j{i}", i * 0.3, 1.0, 3 + i % 3)
    env.run()
    assert not clashes
    assert len(log) == 24


# ---- supplier staff vs SimPy's PriorityResource ---------------------------------------------

JOBS = st.lists(st.tuples(st.floats(0, 20), st.sampled_from([0, 1, 2]), st.floats(0.1, 5)),
                min_size=1, max_size=25)


def _run_simpy(jobs: list[tuple[float, int, float]], cap: int) -> list[float]:
    env = simpy.Environment()
    res = simpy.PriorityResource(env, cap)
    starts = [math.nan] * len(jobs)

    def proc(i: int, at: float, cls: int, dur: float) -> Any:
        yield env.timeout(at)
        with res.request(priority=cls) as req:
            yield req
            starts[i] = env.now
            yield env.timeout(dur)
    for i, (at, cls, dur) in enumerate(jobs):
        env.process(proc(i, at, cls, dur))
    env.run()
    return starts


def _run_staff(jobs: list[tuple[float, int, float]], cap: int) -> list[float]:
    env = simpy.Environment()
    staff = SupplierStaff(env, cap)
    starts = [math.nan] * len(jobs)

    def proc(i: int, at: float, cls: int, dur: float) -> Any:
        yield env.timeout(at)
        dedicated = yield staff.request(cls)
        starts[i] = env.now
        yield env.timeout(dur)
        staff.release(dedicated)
    for i, (at, cls, dur) in enumerate(jobs):
        env.process(proc(i, at, cls, dur))
    env.run()
    return starts


@settings(max_examples=150, deadline=None)
@given(jobs=JOBS, cap=st.integers(1, 4))
def test_supplier_staff_behaves_as_simpy_priority_resource(
        jobs: list[tuple[float, int, float]], cap: int) -> None:
    assert _run_staff(jobs, cap) == _run_simpy(jobs, cap)


def test_dedicated_staff_serve_change_work_only() -> None:
    env = simpy.Environment()
    staff = SupplierStaff(env, shared=1, dedicated=1)
    got: list[tuple[int, bool]] = []

    def proc(cls: int) -> Any:
        dedicated = yield staff.request(cls)
        got.append((cls, dedicated))
        yield env.timeout(1)
        staff.release(dedicated)
    for cls in (SUP_INCIDENT, SUP_IMPROVEMENT, SUP_CHANGE, SUP_CHANGE):
        env.process(proc(cls))
    env.run()
    assert got[:2] == [(SUP_INCIDENT, False), (SUP_CHANGE, True)]
    assert (SUP_IMPROVEMENT, False) in got
    assert all(not d for cls, d in got if cls != SUP_CHANGE)


def test_partnership_without_effects_is_the_textbook_reduction() -> None:
    """``partnership.effects = false`` switches all five dimensions off, whatever their values:
    no hand-off delay, no speed-up, no ring-fence, no switching loss, unlimited authority and no
    sync waits; with effects on, the same values act."""
    base = load_scenario("nacka-multi").partnership
    strong = base.model_copy(update={"colocation": 0.5, "autonomy": 1.0, "intensity": 0.0,
                                     "mandate": 0.5, "information": 0.0})
    off = PartnershipEffects(strong.model_copy(update={"effects": False}))
    assert (off.handoff_mean, off.speedup, off.fence_share) == (0.0, 1.0, 0.0)
    assert (off.switching_factor, off.authority_msek, off.sync_interval) == (1.0, math.inf, 0.0)
    on = PartnershipEffects(strong)
    assert on.handoff_mean > 0
    assert on.speedup != 1.0
    assert on.fence_share > 0
    assert on.switching_factor > 1.0
    assert math.isfinite(on.authority_msek)
    assert on.sync_interval > 0


@pytest.mark.parametrize("mean", [0.5, 5.0])
def test_a_deterministic_gamma_uses_the_randomness_of_an_exponential_one(mean: float) -> None:
    """cv = 0 returns the mean but still takes the one draw a cv = 1 (exponential) gamma takes,
    so that setting an effort's cv to 0 leaves every later draw of its stream as it was."""
    fixed, random_ = Streams(3, 1)["efforts"], Streams(3, 1)["efforts"]
    assert fixed.gamma_mean_cv(mean, 0.0) == mean
    assert random_.gamma_mean_cv(mean, 1.0) != mean
    assert [fixed.gamma_mean_cv(2.0, 0.6) for _ in range(20)] == \
        [random_.gamma_mean_cv(2.0, 0.6) for _ in range(20)]
