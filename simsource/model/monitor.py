"""Monitors: explicit objects that keep time-weighted totals per month and per KPI window.

A *month* is 20 working days. Every accumulator is O(1) amortised per event: an interval is
split only at the (few) month boundaries it crosses, and clipped once to the KPI window
``[warmup, horizon]``.
"""

from __future__ import annotations

import math

from simsource.model.core import MONTH_DAYS


class Bins:
    """Amounts of something (busy person-days, ideas x days …) per month and in the window."""

    __slots__ = ("hi", "inside", "lo", "m", "months", "t0", "t1", "values", "window")

    def __init__(self, horizon: float, warmup: float) -> None:
        self.months = max(1, math.ceil(horizon / MONTH_DAYS - 1e-9))
        self.values = [0.0] * self.months
        self.t0 = warmup
        self.t1 = horizon
        self.window = 0.0
        # The month of the last interval booked, [lo, hi) on one side of the window's start:
        # an interval inside it (most are, as time moves forward) is booked with one or two
        # additions and no month arithmetic. ``inside``: [lo, hi) lies in the KPI window.
        self.m, self.lo, self.hi, self.inside = 0, math.inf, -math.inf, False

    def add_interval(self, start: float, end: float, weight: float = 1.0) -> None:
        """Add ``weight x (end - start)`` spread over the months the interval covers."""
        if self.lo <= start < end <= self.hi:   # fast path: inside the last month booked
            amount = weight * (end - start)
            self.values[self.m] += amount
            if self.inside:
                self.window += amount
            return
        self._add(start, end, weight)

    def _add(self, start: float, end: float, weight: float) -> None:
        if end > self.t1:
            end = self.t1
        if end <= start or weight == 0.0:
            return
        m = int(start // MONTH_DAYS)
        t0 = self.t0
        lo, hi = m * MONTH_DAYS, min((m + 1) * MONTH_DAYS, self.t1)
        if hi <= t0:
            self.m, self.lo, self.hi, self.inside = m, lo, hi, False
        else:
            self.m, self.lo, self.hi, self.inside = m, max(lo, t0), hi, True
        if start >= t0 and end <= (m + 1) * MONTH_DAYS:   # one month, in window
            amount = weight * (end - start)
            self.window += amount
            self.values[m] += amount
            return
        lo, hi = max(start, t0), end
        if hi > lo:
            self.window += weight * (hi - lo)
        t = start
        last = self.months - 1
        while t < end and m <= last:
            edge = (m + 1) * MONTH_DAYS
            stop = end if (end <= edge or m == last) else edge
            self.values[m] += weight * (stop - t)
            t = stop
            m += 1

    def add_point(self, t: float, amount: float = 1.0) -> None:
        m = min(int(t // MONTH_DAYS), self.months - 1)
        self.values[m] += amount
        if self.t0 <= t <= self.t1:
            self.window += amount


class Level:
    """A level that changes by steps (e.g. ideas in a stage): time-weighted integral."""

    __slots__ = ("bins", "last_t", "value")

    def __init__(self, bins: Bins) -> None:
        self.bins = bins
        self.value = 0
        self.last_t = 0.0

    def change(self, t: float, delta: int) -> None:
        if self.value:
            self.bins.add_interval(self.last_t, t, float(self.value))
        self.last_t = t
        self.value += delta

    def close(self, t: float) -> None:
        self.change(t, 0)


class Counter:
    """Counts events that happen within the KPI window."""

    __slots__ = ("t0", "t1", "window")

    def __init__(self, warmup: float, horizon: float) -> None:
        self.t0 = warmup
        self.t1 = horizon
        self.window = 0

    def hit(self, t: float) -> None:
        if self.t0 <= t <= self.t1:
            self.window += 1
