"""Experimental designs: full factorial grids and Latin hypercubes (``simsource sweep``), SALib
samples (``simsource sensitivity``), and the scenario of each design point.

``--vary KEY=VALUES`` takes a comma list of TOML literals (``partnership.preset=light,heavy``),
a range ``start:stop:step`` that includes ``stop`` when it lies on the grid
(``coordination.staff=8:30:2`` → 8, 10, …, 30), or — with ``--lhs K`` — an interval ``lo:hi``.
Several ``--vary`` give the full factorial (first key varies slowest). Values are coerced to the
parameter's type (an integer parameter gets integers; a Latin hypercube rounds).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.limits import check_points

if TYPE_CHECKING:
    import numpy as np

    from simsource.experiment.params import Param
    from simsource.scenario import Scenario

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^({_NUMBER}):({_NUMBER})(?::({_NUMBER}))?$")
Point = dict[str, Any]


@dataclass(frozen=True)
class Vary:
    """One varied parameter: explicit ``values``, or an interval ``lo..hi`` (for --lhs)."""

    key: str
    values: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None


def _num(text: str) -> int | float:
    v = float(text)
    return int(v) if re.fullmatch(r"[-+]?\d+", text) else v


def grid(start: float, stop: float, step: float) -> list[int | float]:
    """``start, start+step, …`` up to ``stop`` (included when on the grid, to rounding)."""
    if step == 0 or (stop - start) * step < 0:
        raise ValueError("step must be non-zero and point from start towards stop")
    count = math.floor((stop - start) / step + 1e-9) + 1
    check_points(count, f"range {start}:{stop}:{step}")
    values = [start + i * step for i in range(count)]
    if all(isinstance(x, int) for x in (start, stop, step)):
        return [int(v) for v in values]
    return [round(float(v), 12) for v in values]


def parse_vary(text: str, lhs: bool = False) -> Vary:
    """``KEY=VALUES`` → :class:`Vary` (a :class:`UserError` names what is wrong)."""
    from simsource.scenario.loader import check_override_key, parse_value

    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    where = f"--vary {text}"
    if not sep or not key or not spec:
        raise UserError(f"{where}: expected KEY=VALUES (a,b,c or start:stop:step)")
    problem = check_override_key(key)
    if problem:
        raise UserError(f"{where}: {key}: {problem}")
    m = _RANGE.match(spec)
    if lhs:
        if not m or m[3] is not None:
            raise UserError(f"{where}: --lhs needs an interval lo:hi, e.g. {key}=8:30")
        lo, hi = float(m[1]), float(m[2])
        if not lo < hi:
            raise UserError(f"{where}: the interval needs lo < hi")
        return Vary(key, lo=lo, hi=hi)
    if m:
        if m[3] is None:
            raise UserError(f"{where}: a range needs a step, start:stop:step (or use --lhs K "
                            "for an interval lo:hi)")
        try:
            return Vary(key, tuple(grid(_num(m[1]), _num(m[2]), _num(m[3]))))
        except ValueError as exc:
            raise UserError(f"{where}: {exc}") from None
    values = tuple(parse_value(v.strip()) for v in spec.split(","))
    if any(v == "" for v in values):
        raise UserError(f"{where}: empty value in the list")
    return Vary(key, values)


def _current(sc: Scenario, key: str) -> Any:
    node: Any = sc.model_dump(mode="python")
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def coerce(sc: Scenario, key: str, value: Any) -> Any:
    """An integer parameter gets an integer (rounded); everything else is left as given."""
    current = _current(sc, key)
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, float):
        return round(value)
    return value


def factorial(varies: Sequence[Vary], sc: Scenario) -> list[Point]:
    """Every combination of the listed values (the first ``--vary`` varies slowest)."""
    keys = [v.key for v in varies]
    if len(set(keys)) != len(keys):
        raise UserError("--vary: a key is given twice")
    check_points(math.prod(len(v.values) for v in varies), "--vary (full factorial)")
    lists = [[coerce(sc, v.key, x) for x in v.values] for v in varies]
    return [dict(zip(keys, combo, strict=True)) for combo in product(*lists)]


def latin_hypercube(varies: Sequence[Vary], k: int, seed: int, sc: Scenario) -> list[Point]:
    """``k`` points, one in each of ``k`` equal slices of every interval (McKay et al. 1979),
    from ``numpy.random.default_rng(seed)``: the same seed gives the same design."""
    import numpy as np

    if k < 1:
        raise UserError(f"--lhs: needs at least 1 point, got {k}")
    check_points(k, "--lhs")
    if len({v.key for v in varies}) != len(varies):
        raise UserError("--vary: a key is given twice")
    rng = np.random.default_rng(seed)
    cols = {}
    for v in varies:
        if v.lo is None or v.hi is None:
            raise UserError(f"--vary {v.key}: --lhs needs an interval lo:hi")
        lo, hi = v.lo, v.hi
        u = (rng.permutation(k) + rng.random(k)) / k
        cols[v.key] = [coerce(sc, v.key, float(lo + x * (hi - lo))) for x in u]
    return [{key: cols[key][i] for key in cols} for i in range(k)]


def design_hash(points: Sequence[Point]) -> str:
    blob = json.dumps(list(points), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def expand(vary: Sequence[str], sc: Scenario, lhs: int | None = None, seed: int = 0) -> list[Point]:
    """The design points of ``--vary`` options (factorial, or a Latin hypercube of ``lhs``)."""
    if not vary:
        raise UserError("sweep: give at least one --vary KEY=VALUES")
    varies = [parse_vary(t, lhs=lhs is not None) for t in vary]
    if lhs is not None:
        return latin_hypercube(varies, lhs, seed, sc)
    return factorial(varies, sc)


# ---- SALib samples (Morris trajectories, Saltelli/Sobol) --------------------------------------
def salib_problem(params: Sequence[Param]) -> dict[str, Any]:
    """The SALib problem dictionary of ``params`` (names and bounds)."""
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[p.low, p.high] for p in params]}


def sobol_samples(n: int) -> int:
    """``n`` rounded up to a power of two (Sobol sequences need one)."""
    return 1 << max(0, math.ceil(math.log2(max(1, n))))


def design_matrix(params: Sequence[Param], method: str, samples: int, seed: int,
                  levels: int = 4) -> np.ndarray:
    """The SALib sample for ``method`` (``morris``: ``samples`` trajectories on ``levels``
    levels; ``sobol``: Saltelli's scheme, first and total order): rows = design points,
    unrounded."""
    import numpy as np

    problem = salib_problem(params)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        x = morris_sample.sample(problem, samples, num_levels=levels, seed=seed)
    else:
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    return np.asarray(x, dtype=float)


def design_points(params: Sequence[Param], x: np.ndarray) -> list[Point]:
    """The rows of a design matrix as points ``{key: value}`` (integer parameters rounded)."""
    return [{p.key: p.cast(v) for p, v in zip(params, row, strict=True)} for row in x]


def point_scenarios(sc: Scenario, points: Sequence[Mapping[str, Any]]) -> list[Scenario]:
    """The scenario of each design point (all validated before anything runs); mix coordinates
    (``KEY#i``) become valid mixes (:func:`simsource.experiment.params.to_overrides`)."""
    from simsource.experiment.params import to_overrides
    from simsource.scenario import with_overrides

    out, problems = [], []
    for i, p in enumerate(points):
        try:
            out.append(with_overrides(sc, to_overrides(sc, p)))
        except UserError as exc:
            label = ", ".join(f"{k}={v}" for k, v in p.items())
            problems += [f"design point p{i:04d} ({label}): {line}" for line in exc.problems]
    if problems:
        raise UserError(problems[:20])
    return out
