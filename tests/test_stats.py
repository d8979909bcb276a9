"""Tests for simsource.stats (output analysis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from simsource.stats import (
    COMPARE_COLUMNS,
    N_MAX,
    SUMMARY_COLUMNS,
    compare_table,
    holm,
    mean_ci,
    mser5,
    paired_difference,
    precision_reached,
    relative_half_width,
    replications_needed,
    summarize,
    unpaired_difference,
    warmup_suggestion,
)

FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
maybe_nan = st.one_of(finite, st.just(float("nan")))


# --- mean_ci -------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_mean_ci_matches_scipy(confidence: float) -> None:
    x = np.random.default_rng(1).normal(10.0, 3.0, size=17)
    ci = mean_ci(x, confidence)
    low, high = sps.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert ci.n == 17
    assert ci.mean == pytest.approx(x.mean())
    assert ci.std == pytest.approx(x.std(ddof=1))
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert ci.half_width == pytest.approx((high - low) / 2)


def test_mean_ci_drops_nan_and_handles_small_samples() -> None:
    ci = mean_ci([1.0, float("nan"), 3.0])
    assert ci.n == 2
    assert ci.mean == 2.0
    assert ci.low < 2.0 < ci.high
    one = mean_ci([5.0, float("nan")])
    assert (one.n, one.mean) == (1, 5.0)
    assert all(math.isnan(v) for v in (one.std, one.low, one.high, one.half_width))
    empty = mean_ci([])
    assert empty.n == 0
    assert math.isnan(empty.mean)
    assert math.isnan(mean_ci([float("nan")] * 3).mean)
    const = mean_ci([4.0] * 6)
    assert (const.low, const.high, const.half_width) == (4.0, 4.0, 0.0)


def test_mean_ci_rejects_bad_confidence() -> None:
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], confidence=1.0)


def _coverage(samples: np.ndarray, true_mean: float) -> float:
    hits = 0
    for row in samples:
        ci = mean_ci(row)
        hits += ci.low <= true_mean <= ci.high
    return hits / len(samples)


def test_mean_ci_coverage_normal() -> None:
    samples = np.random.default_rng(20240501).normal(3.0, 2.0, size=(2000, 20))
    assert 0.93 <= _coverage(samples, 3.0) <= 0.97


def test_mean_ci_coverage_exponential() -> None:
    # Skewed data: the t-interval undercovers a little at n = 20, but not badly.
    samples = np.random.default_rng(7).exponential(2.0, size=(2000, 20))
    assert 0.88 <= _coverage(samples, 2.0) <= 0.97


@FAST
@given(st.lists(maybe_nan, max_size=30))
def test_mean_ci_never_raises(xs: list[float]) -> None:
    ci = mean_ci(xs)
    assert ci.n == sum(not math.isnan(v) for v in xs)
    if ci.n >= 2:
        assert ci.low <= ci.mean <= ci.high


# --- summarize -----------------------------------------------------------------------------


def test_summarize_columns_order_and_values() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "scenario": "a",
            "replication": np.arange(8),
            "seed": 42,
            "b_kpi": rng.normal(size=8),
            "a_kpi": rng.normal(size=8),
        }
    )
    out = summarize(df)
    assert list(out.columns) == SUMMARY_COLUMNS
    assert list(out["kpi"]) == ["b_kpi", "a_kpi"]
    assert out["n"].tolist() == [8, 8]
    ci = mean_ci(df["a_kpi"])
    row = out.set_index("kpi").loc["a_kpi"]
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((ci.mean, ci.low, ci.high))
    assert list(summarize(df, ["a_kpi"])["kpi"]) == ["a_kpi"]
    assert list(summarize(df, []).columns) == SUMMARY_COLUMNS


# --- differences ---------------------------------------------------------------------------


def test_paired_difference_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(5.0, 1.0, size=25)
    b = a + rng.normal(0.3, 0.5, size=25)
    d = paired_difference(a, b)
    ref = sps.ttest_rel(b, a)
    low, high = ref.confidence_interval(0.95)
    assert d.n == 25
    assert d.mean == pytest.approx(np.mean(b - a))
    assert d.p_value == pytest.approx(ref.pvalue)
    assert (d.low, d.high) == pytest.approx((low, high))


def test_unpaired_difference_matches_scipy_welch() -> None:
    rng = np.random.default_rng(12)
    a = rng.normal(5.0, 1.0, size=15)
    b = rng.normal(5.8, 3.0, size=22)
    d = unpaired_difference(a, b, confidence=0.9)
    ref = sps.ttest_ind(b, a, equal_var=False)
    low, high = ref.confidence_interval(0.9)
    assert d.n == 37
    assert d.mean == pytest.approx(b.mean() - a.mean())
    assert d.p_value == pytest.approx(ref.pvalue)
    assert (d.low, d.high) == pytest.approx((low, high))


def test_paired_narrower_than_unpaired_for_correlated_samples() -> None:
    rng = np.random.default_rng(13)
    common = rng.normal(100.0, 10.0, size=30)  # common random numbers
    a = common + rng.normal(0.0, 1.0, size=30)
    b = common + 2.0 + rng.normal(0.0, 1.0, size=30)
    paired, unpaired = paired_difference(a, b), unpaired_difference(a, b)
    assert paired.mean == pytest.approx(unpaired.mean)
    assert paired.high - paired.low < 0.5 * (unpaired.high - unpaired.low)
    assert paired.p_value < 1e-6 < unpaired.p_value


def test_paired_difference_edge_cases() -> None:
    nan = float("nan")
    d = paired_difference([1.0, nan, 3.0, 4.0], [2.0, 5.0, nan, 6.0])
    assert d.n == 2
    assert d.mean == pytest.approx(1.5)
    same = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (same.mean, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    shifted = paired_difference([0.1, 0.2, 0.7], [0.2, 0.3, 0.8])  # b = a + 0.1 with rounding
    assert shifted.p_value == 0.0
    assert shifted.low == shifted.high == shifted.mean == pytest.approx(0.1)
    one = paired_difference([1.0], [3.0])
    assert (one.mean, one.n) == (2.0, 1)
    assert math.isnan(one.p_value)
    assert math.isnan(one.low)
    assert paired_difference([], []).n == 0
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])


def test_unpaired_difference_edge_cases() -> None:
    const = unpaired_difference([2.0, 2.0], [3.0, 3.0, 3.0])
    assert (const.mean, const.low, const.high, const.p_value) == (1.0, 1.0, 1.0, 0.0)
    small = unpaired_difference([1.0], [2.0, 3.0])
    assert small.mean == 1.5
    assert math.isnan(small.p_value)
    assert math.isnan(unpaired_difference([], [1.0]).mean)


@FAST
@given(st.lists(st.tuples(maybe_nan, maybe_nan), max_size=20))
def test_differences_never_raise(pairs: list[tuple[float, float]]) -> None:
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    for d in (paired_difference(a, b), unpaired_difference(a, b)):
        assert math.isnan(d.p_value) or 0.0 <= d.p_value <= 1.0
        if not math.isnan(d.low):
            assert d.low <= d.mean <= d.high


# --- Holm ----------------------------------------------------------------------------------


def test_holm_hand_computed() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max-accumulate
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([0.01, float("nan"), 0.04])  # NaN not counted: m = 2
    assert out[0] == pytest.approx(0.02)
    assert math.isnan(out[1])
    assert out[2] == pytest.approx(0.04)
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([]) == []


@FAST
@given(st.lists(st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))), max_size=12))
def test_holm_properties(ps: list[float]) -> None:
    adj = holm(ps)
    assert len(adj) == len(ps)
    for p, q in zip(ps, adj, strict=True):
        assert math.isnan(p) == math.isnan(q)
        if not math.isnan(p):
            assert p <= q <= 1.0
    valid = [(p, q) for p, q in zip(ps, adj, strict=True) if not math.isnan(p)]
    for p1, q1 in valid:
        for p2, q2 in valid:
            if p1 <= p2:
                assert q1 <= q2


# --- compare_table -------------------------------------------------------------------------


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(21)
    base = rng.normal(10.0, 2.0, size=12)
    frames = {}
    for name, shift in (("ref", 0.0), ("b", 1.0), ("c", 0.05)):
        frames[name] = pd.DataFrame(
            {
                "scenario": name,
                "replication": np.arange(12),
                "seed": 5,
                "cost": base + shift + rng.normal(0.0, 0.3, size=12),
                "rate": rng.uniform(size=12),
            }
        )
    # Rows out of order and one replication missing: pairing must use `replication`.
    frames["c"] = frames["c"].iloc[::-1].iloc[1:].reset_index(drop=True)
    return frames


def test_compare_table_shape_and_diff() -> None:
    frames = _frames()
    out = compare_table(frames)
    assert list(out.columns) == COMPARE_COLUMNS
    assert len(out) == 2 * 3
    assert list(out["kpi"]) == ["cost"] * 3 + ["rate"] * 3
    assert list(out["scenario"]) == ["ref", "b", "c"] * 2
    ref_rows = out[out["scenario"] == "ref"]
    assert ref_rows[["diff", "diff_ci_low", "p_value", "p_holm"]].isna().all().all()
    merged = frames["ref"].merge(frames["c"], on="replication", suffixes=("_a", "_b"))
    row = out[(out["kpi"] == "cost") & (out["scenario"] == "c")].iloc[0]
    assert row["n"] == 11
    assert row["diff"] == pytest.approx((merged["cost_b"] - merged["cost_a"]).mean())
    assert row["diff_ci_low"] < row["diff"] < row["diff_ci_high"]
    b_row = out[(out["kpi"] == "cost") & (out["scenario"] == "b")].iloc[0]
    assert b_row["p_value"] < 0.001
    for _, block in out.groupby("kpi"):
        others = block[block["scenario"] != "ref"]
        assert others["p_holm"].tolist() == pytest.approx(holm(others["p_value"].tolist()))
    assert list(compare_table(frames, ["rate"])["kpi"].unique()) == ["rate"]


def test_compare_table_edge_cases() -> None:
    assert list(compare_table({}).columns) == COMPARE_COLUMNS
    single = compare_table({"only": pd.DataFrame({"replication": [0], "x": [1.0]})})
    assert len(single) == 1
    assert math.isnan(single["ci_low"].iloc[0])
    with pytest.raises(ValueError, match="replication"):
        compare_table({"a": pd.DataFrame({"x": [1.0]})})


# --- replication count (Hoad, Robinson & Davies 2010) ---------------------------------------


def test_relative_half_width() -> None:
    x = np.random.default_rng(31).normal(50.0, 5.0, size=40)
    ci = mean_ci(x)
    assert relative_half_width(x) == pytest.approx(ci.half_width / abs(ci.mean))
    assert relative_half_width([-1.0, 1.0]) == math.inf
    assert relative_half_width([3.0]) == math.inf
    assert relative_half_width([0.0, 0.0, 0.0]) == 0.0


def test_precision_reached() -> None:
    rng = np.random.default_rng(32)
    df = pd.DataFrame(
        {
            "replication": np.arange(30),
            "tight": rng.normal(100.0, 1.0, size=30),
            "loose": rng.normal(1.0, 5.0, size=30),
            "disabled": np.nan,
        }
    )
    assert precision_reached(df, ["tight", "disabled"], 0.05)
    assert not precision_reached(df, ["tight", "loose"], 0.05)
    assert not precision_reached(df.head(5), ["tight"], 0.05)  # below min_n
    assert precision_reached(df.head(5), ["tight"], 0.05, min_n=3)


def test_replications_needed_is_minimal() -> None:
    x = np.random.default_rng(33).normal(20.0, 6.0, size=10)
    mean, s = x.mean(), x.std(ddof=1)
    for rel in (0.2, 0.05, 0.01):
        n = replications_needed(x, rel)

        def hw(k: int) -> float:
            return float(sps.t.ppf(0.975, k - 1) * s / math.sqrt(k) / abs(mean))

        assert hw(n) <= rel
        assert n == 2 or hw(n - 1) > rel
    assert replications_needed(x, 0.05) > replications_needed(x, 0.1)


def test_replications_needed_edge_cases() -> None:
    assert replications_needed([1.0], 0.05) == 2
    assert replications_needed([3.0, 3.0, 3.0], 0.05) == 2
    assert replications_needed([-1.0, 1.0], 0.05) == N_MAX
    with pytest.raises(ValueError):
        replications_needed([1.0, 2.0], 0.0)


# --- MSER-5 warm-up ------------------------------------------------------------------------


def _transient_series(seed: int, n: int = 600) -> np.ndarray:
    t = np.arange(n)
    transient = np.where(t < 50, 15.0 * (1.0 - t / 50.0) ** 2, 0.0)
    return 10.0 + transient + np.random.default_rng(seed).normal(0.0, 1.0, size=n)


@pytest.mark.parametrize("seed", range(5))
def test_mser5_finds_planted_transient(seed: int) -> None:
    d = mser5(_transient_series(seed))
    assert 30 <= d <= 100
    assert d % 5 == 0


def test_mser5_stationary_and_short_series() -> None:
    x = np.random.default_rng(41).normal(size=500)
    assert mser5(x) <= 250  # searches only the first half
    assert mser5([1.0, 2.0, 3.0]) == 0
    assert mser5([]) == 0
    assert mser5(np.full(100, 2.0)) == 0


def test_warmup_suggestion_averages_replications() -> None:
    frames = []
    for rep in range(4):
        y = _transient_series(100 + rep, n=240)
        frames.append(pd.DataFrame({"replication": rep, "month": np.arange(240), "wip": y}))
    ts = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=0)  # shuffled
    months = warmup_suggestion(ts, "wip")
    assert 30 <= months <= 100
    no_month = pd.concat(frames, ignore_index=True).drop(columns="month")
    assert warmup_suggestion(no_month, "wip") == months
