"""The one number formatter: how every table, sentence, card and figure writes a number.

Rules, the same everywhere:

* decimals follow the magnitude of the numbers shown together (a value with its confidence
  interval shares one precision): none from 100, one from 1, two from 0.1, else three; whole
  numbers get none;
* thousands are grouped with a thin space, negative numbers get a real minus sign (−), and a
  negative number rounded to zero loses its sign;
* missing values (None, NaN, inf) are shown as ``n/a`` (or the ``missing`` text asked for);
* KPIs stored as shares are shown in percent (``%``; differences in percentage points, ``pp``).

KPI-aware functions take anything with ``scale`` and ``display_unit`` (a
:class:`simsource.model.catalogue.Kpi`), so this bottom module imports nothing of simsource.
Python's format mini-language has no "decimals by magnitude" or "shared precision for a value
and its interval", hence these few lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, TypeGuard

MINUS = "−"
THIN = " "  # thin space between groups of thousands
MISSING = "n/a"


class Unit(Protocol):
    """What the KPI-aware functions need of a KPI (see ``catalogue.Kpi``)."""

    @property
    def scale(self) -> float: ...

    @property
    def display_unit(self) -> str: ...


def _finite(v: object) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v: float) -> bool:
    """A whole number up to floating-point noise (``0.55 * 100`` is 55)."""
    return abs(v - round(v)) <= 1e-9 * max(1.0, abs(v))


def magnitude_decimals(a: float) -> int:
    """Decimals by size: 0 from 100, 1 from 1, 2 from 0.1, else 3."""
    a = abs(a)
    if a >= 100:
        return 0
    if a >= 1:
        return 1
    if a >= 0.1:
        return 2
    return 3


def decimals(*values: float | None) -> int:
    """Decimals to show ``values`` together with: none when they are all whole numbers; by
    the largest magnitude when one is at least 1; else by the smallest non-zero one (so
    ``0.05`` and ``0.3`` show as ``0.050`` and ``0.300``)."""
    finite = [abs(float(v)) for v in values if _finite(v)]
    if not finite:
        return 1
    if all(_whole(v) for v in finite):
        return 0
    big = max(finite)
    if big >= 1:
        return magnitude_decimals(big)
    return max(magnitude_decimals(v) for v in finite if v)


def number(v: float | None, places: int | None = None, *, missing: str = MISSING) -> str:
    """``1 234.5``, ``−0.25``, ``n/a``; ``places`` defaults to :func:`decimals` of ``v``."""
    if v is None or not _finite(v):
        return missing
    d = decimals(v) if places is None else places
    s = f"{float(v):,.{d}f}".replace(",", THIN)
    if s.startswith("-"):
        s = s[1:] if s[1:].strip("0.") == "" else MINUS + s[1:]  # no "−0.0"
    return s


def signed(v: float | None, places: int | None = None, *, missing: str = MISSING) -> str:
    """``+1.2`` / ``−1.2`` / ``0`` (differences)."""
    s = number(v, places, missing=missing)
    if v is None or not _finite(v) or s.strip("0.") == "" or s.startswith(MINUS):
        return s
    return "+" + s


def number_range(lo: float | None, hi: float | None, places: int, *,
                 missing: str = MISSING) -> str:
    """``4.9–7.3``, or ``−1.2 to 3.4`` when a bound is negative (a dash would read as minus)."""
    if lo is None or hi is None or not (_finite(lo) and _finite(hi)):
        return missing
    if lo < 0 or hi < 0:
        return f"{number(lo, places)} to {number(hi, places)}"
    return f"{number(lo, places)}–{number(hi, places)}"


def percent(share: float | None, places: int = 0, *, missing: str = MISSING) -> str:
    """A fraction of one as ``42 %``."""
    if share is None or not _finite(share):
        return missing
    return f"{number(share * 100, places)} %"


def p_value(p: float | None, *, missing: str = MISSING) -> str:
    if p is None or not _finite(p):
        return missing
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# ---- KPIs ---------------------------------------------------------------------------------


def _kpi_text(kpi: Unit, v: float | None, places: int | None, unit: bool, missing: str,
              delta: bool) -> str:
    if v is None or not _finite(v):
        return missing
    x = v * kpi.scale
    write = signed if delta else number
    text = write(x, decimals(x) if places is None else places)
    shown = "pp" if delta and kpi.scale != 1.0 else kpi.display_unit
    return f"{text} {shown}".rstrip() if unit else text


def kpi_value(kpi: Unit, v: float | None, places: int | None = None, *, unit: bool = True,
              missing: str = MISSING) -> str:
    """One KPI value in its display unit: ``13.6 innovations/year``, ``45.2 %``."""
    return _kpi_text(kpi, v, places, unit, missing, delta=False)


def kpi_delta(kpi: Unit, d: float | None, places: int | None = None, *, unit: bool = True,
              missing: str = MISSING) -> str:
    """A difference of a KPI: ``+2.1 innovations/year``, ``−3.0 pp`` for shares."""
    return _kpi_text(kpi, d, places, unit, missing, delta=True)


def kpi_ci(kpi: Unit, mean: float, lo: float, hi: float, *, unit: bool = True,
           missing: str = MISSING) -> str:
    """``19.2 innovations/year (95 % CI 15.2–23.2)``; no CI with fewer than two values."""
    if not _finite(mean):
        return missing
    k = kpi.scale
    d = decimals(mean * k, lo * k, hi * k)
    value = kpi_value(kpi, mean, d, unit=unit)
    if not (_finite(lo) and _finite(hi)):
        return f"{value} (no CI: fewer than two values)"
    return f"{value} (95 % CI {number_range(lo * k, hi * k, d)})"


def kpi_mean_and_ci(kpi: Unit, mean: float, lo: float, hi: float, *,
                    missing: str = MISSING) -> tuple[str, str]:
    """``("19.2", "[15.2, 23.2]")`` in display units, for table columns."""
    k = kpi.scale
    d = decimals(mean * k, lo * k, hi * k)
    m = number(mean * k, d, missing=missing)
    if not (_finite(lo) and _finite(hi)):
        return m, missing
    return m, f"[{number(lo * k, d)}, {number(hi * k, d)}]"


# ---- scenario parameters ------------------------------------------------------------------


def parameter(v: Any) -> str:
    """A scenario parameter value as written in a scenario file: ``true``, ``0.15``,
    ``[0.6, 0.3, 0.1]``, ``{until_day=220, staff=16}``, ``[]``."""
    if hasattr(v, "item") and not isinstance(v, list | tuple | Mapping):
        v = v.item()  # numpy scalars
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}={parameter(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(parameter(x) for x in v) + "]"
    if v is None:
        return "—"
    return str(v)
