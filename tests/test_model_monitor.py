"""``Bins`` (time-weighted totals per month and in the KPI window) against a plain reference.

``Bins.add_interval`` books most intervals through a fast path (inside the month last booked);
whatever order the intervals come in, the totals must be those of splitting every interval at
the month boundaries and clipping it to the window.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simsource.model.core import MONTH_DAYS
from simsource.model.monitor import Bins

HORIZON, WARMUP = 130.0, 45.0   # months of 20 days: the warm-up ends inside the third month


def _reference(intervals: list[tuple[float, float, float]]) -> tuple[list[float], float]:
    months = math.ceil(HORIZON / MONTH_DAYS)
    values = [0.0] * months
    window = 0.0
    for start, end, w in intervals:
        end = min(end, HORIZON)
        if end <= start:
            continue
        window += w * max(0.0, end - max(start, WARMUP))
        for m in range(months):
            lo = m * MONTH_DAYS
            hi = HORIZON if m == months - 1 else (m + 1) * MONTH_DAYS
            values[m] += w * max(0.0, min(end, hi) - max(start, lo))
    return values, window


# starts on a half-day grid and mostly short durations: many intervals share a month, start
# or end on a boundary or straddle the end of the warm-up
_interval = st.tuples(st.integers(0, 2 * int(HORIZON)).map(lambda k: k / 2),
                      st.one_of(st.floats(0.0, 4.0), st.floats(0.0, 60.0)),
                      st.sampled_from([1.0, -1.0, 2.5]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_interval, max_size=40), st.booleans())
def test_bins_match_the_reference(raw: list[tuple[float, float, float]], ordered: bool) -> None:
    intervals = [(s, s + d, w) for s, d, w in raw]
    if ordered:   # time moving forward, as in a run: the fast path's common case
        intervals.sort()
    b = Bins(HORIZON, WARMUP)
    for s, e, w in intervals:
        b.add_interval(s, e, w)
    values, window = _reference(intervals)
    assert b.values == pytest.approx(values, abs=1e-9)
    assert b.window == pytest.approx(window, abs=1e-9)


def test_short_intervals_in_one_month_across_the_warmup() -> None:
    b = Bins(HORIZON, WARMUP)
    for s, e in [(41.0, 42.0), (43.0, 47.0), (46.0, 48.0), (47.0, 49.0), (44.0, 44.5)]:
        b.add_interval(s, e)
    assert b.values[2] == pytest.approx(1.0 + 4.0 + 2.0 + 2.0 + 0.5)
    assert b.window == pytest.approx(2.0 + 2.0 + 2.0)


def test_points_count_in_the_month_and_in_the_closed_window() -> None:
    """A point (an implementation) is booked in its month, the last month taking the horizon,
    and counts in the window [warm-up, horizon] with both ends included."""
    b = Bins(HORIZON, WARMUP)
    for t in (0.0, WARMUP - 1e-9, WARMUP, 70.0, HORIZON):
        b.add_point(t)
    b.add_point(90.0, 2.5)
    assert b.window == pytest.approx(1.0 + 1.0 + 1.0 + 2.5)
    assert b.values[0] == 1.0
    assert b.values[2] == 2.0                 # 45 - 1e-9 and 45, both in days 40-60
    assert b.values[-1] == 1.0                # the horizon, in the last month
    assert sum(b.values) == pytest.approx(7.5)
