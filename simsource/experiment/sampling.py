"""Parameter sets: uncertain parameters, sampled by Latin hypercube or drawn from a posterior,
and the scenario each set gives.

A building block shared by ``simsource explore`` (futures), ``--posterior`` and calibration:

* :func:`resolve_uncertain` reads ``--uncertain`` (dotted keys, fnmatch globs, ``KEY=LOW:HIGH``
  or ``all``) against one or several scenarios: a key counts when it applies to at least one
  of them (:func:`simsource.experiment.params.select_params`); *mixes* (shares that sum to
  one, :mod:`simsource.scenario.mixes`) are one :class:`Uncertain` each, with ``k − 1``
  dimensions of the unit hypercube;
* :func:`latin_hypercube_sets` samples them with SALib's Latin hypercube (McKay et al. 1979)
  over the schema's plausible ranges; a mix's dimensions go through stick breaking, so every
  sampled mix is valid;
* :func:`read_posterior` reads ``DIR/posterior.parquet`` (one row per accepted parameter set,
  one column per dotted key, plus ``weight``) and :func:`draw_posterior` draws sets from it by
  weight, deterministically from a seed;
* :func:`set_overrides` turns one set (a row) into the overrides of one scenario, leaving out
  keys that do not apply to it, and :func:`set_scenarios` validates them all before anything
  runs.

A parameter set is a flat ``{column: value}``: a parameter's column is its key, a mix's columns
are its shares (``ideas.sources.citizens.domain_mix.it``, ``ideas.areas_needed_probs.1``).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.params import Param, mix_key, parameter_space, select_params
from simsource.scenario.mixes import mix_from_unit, mix_parameters

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from simsource.scenario import Scenario

POSTERIOR_FILE = "posterior.parquet"
WEIGHT = "weight"
#: the stream of posterior draws: SeedSequence(seed, spawn_key=(DRAW_KEY,)), apart from the
#: replications' streams (spawn keys (i,) with i the replication)
DRAW_KEY = 2**31 - 17


@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter: a numeric ``key`` with its range, or a mix (``parts`` set)."""

    key: str
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    parts: tuple[str, ...] = ()

    @property
    def is_mix(self) -> bool:
        return bool(self.parts)

    @property
    def columns(self) -> list[str]:
        return [f"{self.key}.{p}" for p in self.parts] if self.parts else [self.key]

    @property
    def dims(self) -> int:
        """Dimensions of the unit hypercube this parameter takes."""
        return len(self.parts) - 1 if self.parts else 1

    def from_unit(self, u: Sequence[float]) -> dict[str, Any]:
        """The column values of ``u`` (``dims`` numbers in [0, 1])."""
        if self.parts:
            return dict(zip(self.columns, mix_from_unit(list(u)), strict=True))
        x = self.low + float(u[0]) * (self.high - self.low)
        return {self.key: round(x) if self.integer else x}

    def overrides(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Scenario overrides of this parameter's columns in ``row``."""
        if not self.parts:
            return {self.key: row[self.key]}
        values = [float(row[c]) for c in self.columns]
        if self.parts[0].isdigit():  # a list (areas_needed_probs), not a table of shares
            return {self.key: values}
        return dict(zip(self.columns, values, strict=True))


def _mixes(scenarios: Sequence[Scenario]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for sc in scenarios:
        for key, parts in mix_parameters(sc).items():
            out.setdefault(key, parts)
    return out


def _matches(pattern: str, key: str, parts: Sequence[str]) -> bool:
    return fnmatch.fnmatchcase(key, pattern) or any(
        fnmatch.fnmatchcase(f"{key}.{p}", pattern) for p in parts)


def resolve_uncertain(scenarios: Sequence[Scenario], spec: str | Sequence[str],
                      option: str = "--uncertain") -> list[Uncertain]:
    """The uncertain parameters of ``spec`` for ``scenarios`` (see the module docstring), in
    the order given; a :class:`UserError` names items that match nothing in any scenario."""
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [
        s.strip() for s in spec]
    items = [s for s in items if s]
    if not items:
        raise UserError(f"{option}: name at least one parameter (dotted keys, globs or 'all')")
    mixes = _mixes(scenarios)
    chosen: dict[str, Uncertain] = {}

    def add_param(p: Param) -> None:
        base = mix_key(p.key)      # a mix's coordinate (KEY#i): the mix is sampled whole
        if base is not None and base in mixes:
            add_mix(base)
        elif base is None:
            chosen.setdefault(p.key, Uncertain(p.key, p.low, p.high, p.integer))

    def add_mix(key: str) -> None:
        chosen.setdefault(key, Uncertain(key, parts=mixes[key]))

    if items == ["all"]:
        for sc in scenarios:
            for p in parameter_space(sc):
                add_param(p)
        for key in mixes:
            add_mix(key)
        return list(chosen.values())
    for item in items:
        key = item.partition("=")[0].strip()
        if "=" not in item and key in mixes:
            add_mix(key)
            continue
        glob = any(c in key for c in "*?[")
        hit_mixes = [m for m, parts in mixes.items() if glob and _matches(key, m, parts)]
        found: list[Param] = []
        problems: list[str] = []
        for sc in scenarios:
            try:
                found += select_params(sc, item)
            except UserError as exc:
                problems += [line.replace("--params", option, 1) for line in exc.problems]
        if not found and not hit_mixes:
            suffix = "" if len(scenarios) == 1 else " (in none of the scenarios)"
            raise UserError(f"{problems[0]}{suffix}" if problems else
                            f"{option}: {item}: matches no parameter")
        for p in found:
            add_param(p)
        for m in hit_mixes:
            add_mix(m)
    return list(chosen.values())


def applicable(space: Sequence[Uncertain], sc: Scenario) -> list[Uncertain]:
    """The parameters of ``space`` that apply to ``sc``: not a supplier it does not have, nor a
    mechanism it switches off (a parameter without a declared range applies when it exists)."""
    keys = {p.key for p in parameter_space(sc)}
    declared = {p.key for p in parameter_space(sc, only_applicable=False)}
    mixes = mix_parameters(sc)
    return [u for u in space if (u.key in mixes if u.is_mix else
                                 u.key in keys or (u.key not in declared and _exists(sc, u.key)))]


def _exists(sc: Scenario, key: str) -> bool:
    node: Any = sc
    for part in key.split("."):
        if isinstance(node, dict):
            if part not in node:
                return False
            node = node[part]
        elif hasattr(node, part) and part in type(node).model_fields:
            node = getattr(node, part)
        else:
            return False
    return isinstance(node, int | float) and not isinstance(node, bool)


def columns(space: Sequence[Uncertain]) -> list[str]:
    return [c for u in space for c in u.columns]


# ---- sampling ------------------------------------------------------------------------------
def unit_latin_hypercube(dims: int, k: int, seed: int) -> np.ndarray:
    """``k`` points of SALib's Latin hypercube in ``[0, 1]^dims`` (seeded)."""
    import numpy as np
    from SALib.sample import latin

    problem = {"num_vars": dims, "names": [f"u{i}" for i in range(dims)],
               "bounds": [[0.0, 1.0]] * dims}
    x: np.ndarray = np.clip(np.asarray(latin.sample(problem, k, seed=seed), dtype=float),
                            0.0, 1.0)
    return x


def _lhs_rows(space: Sequence[Uncertain], k: int, seed: int) -> list[dict[str, Any]]:
    x = unit_latin_hypercube(sum(u.dims for u in space), k, seed)
    rows = []
    for point in x:
        values: dict[str, Any] = {}
        at = 0
        for u in space:
            values.update(u.from_unit(point[at:at + u.dims]))
            at += u.dims
        rows.append(values)
    return rows


def latin_hypercube_sets(space: Sequence[Uncertain], k: int, seed: int,
                         scenarios: Sequence[Scenario] = (), max_rounds: int = 50
                         ) -> pd.DataFrame:
    """``k`` parameter sets (rows; one column per :func:`columns`), a Latin hypercube over the
    parameters' ranges — one stratum per set in every dimension; a mix is sampled uniformly on
    its simplex.

    With ``scenarios``, a set that one of them refuses (ranges sampled independently can break
    a rule between parameters, e.g. the overrun mixture's) is *rejected* and replaced by the
    next valid set of a fresh hypercube (seeded from ``seed`` and the round), so the sets are
    uniform over the valid part of the ranges. ``attrs["rejected"]`` counts the rejected sets
    and ``attrs["rejection"]`` gives the first reason."""
    import numpy as np
    import pandas as pd

    if k < 1:
        raise UserError(f"--futures: needs at least 1, got {k}")
    if sum(u.dims for u in space) == 0:
        return pd.DataFrame(index=range(k))
    mine = {sc.name: applicable(space, sc) for sc in scenarios}
    rows: list[dict[str, Any]] = []
    rejected, reason = 0, ""
    for r in range(max_rounds):
        round_seed = seed if r == 0 else int(
            np.random.SeedSequence(seed, spawn_key=(DRAW_KEY, r)).generate_state(1)[0])
        for row in _lhs_rows(space, k, round_seed):
            problem = first_problem(scenarios, mine, row)
            if problem is None:
                rows.append(row)
                if len(rows) == k:
                    break
            else:
                rejected += 1
                reason = reason or problem
        if len(rows) == k:
            break
    else:
        raise UserError(f"--uncertain: only {len(rows)} of {k} sampled futures are valid "
                        f"scenarios after {max_rounds} rounds; e.g. {reason}")
    out = pd.DataFrame(rows, columns=columns(space))
    out.attrs.update(rejected=rejected, rejection=reason)
    return out


def first_problem(scenarios: Sequence[Scenario], mine: Mapping[str, Sequence[Uncertain]],
                  row: Mapping[str, Any]) -> str | None:
    """The first line a scenario refuses the parameter set ``row`` with, or None."""
    from simsource.scenario import with_overrides

    for sc in scenarios:
        try:
            with_overrides(sc, set_overrides(mine[sc.name], row))
        except UserError as exc:
            return exc.problems[0]
    return None


# ---- a posterior ---------------------------------------------------------------------------
def read_posterior(folder: Path | str) -> pd.DataFrame:
    """``DIR/posterior.parquet`` as a table (parameter columns, then ``weight``), read and
    checked by :meth:`simsource.experiment.posterior.Posterior.load` (the one reader of a
    posterior: a :class:`UserError` names the file and the column)."""
    import pandas as pd

    from simsource.experiment.posterior import Posterior

    post = Posterior.load(folder)
    df = pd.DataFrame({k: (post.values[:, j].round().astype("int64") if is_int
                           else post.values[:, j])
                       for j, (k, is_int) in enumerate(zip(post.keys, post.integer,
                                                           strict=True))})
    df[WEIGHT] = post.weights
    return df


def posterior_shares(post: pd.DataFrame, scenarios: Sequence[Scenario],
                     where: str = "--posterior") -> pd.DataFrame:
    """``post`` with a mix given as coordinates (``KEY#1 … KEY#k-1``, the parameter space's
    names, :mod:`simsource.experiment.params`) turned into its share columns
    (``KEY.<part>``, stick breaking); a :class:`UserError` when a coordinate is missing."""
    mixes = _mixes(scenarios)
    coords: dict[str, list[str]] = {}
    for c in post.columns:
        base = mix_key(str(c))
        if base is not None and base in mixes:
            coords.setdefault(base, []).append(str(c))
    if not coords:
        return post
    out = post.copy()
    for base, cols in coords.items():
        names = [f"{base}#{i}" for i in range(1, len(mixes[base]))]
        missing = [n for n in names if n not in cols]
        if missing:
            raise UserError(f"{where}: column {missing[0]} missing (a mix needs all its "
                            "coordinates)")
        shares = [mix_from_unit([min(1.0, max(0.0, float(x))) for x in row])
                  for row in out[names].to_numpy()]
        for j, part in enumerate(mixes[base]):
            out[f"{base}.{part}"] = [sh[j] for sh in shares]
        out = out.drop(columns=names)
    return out


def posterior_space(post: pd.DataFrame, scenarios: Sequence[Scenario],
                    where: str = "--posterior") -> list[Uncertain]:
    """The parameters a posterior's columns name (a mix when all its share columns are there);
    a :class:`UserError` for a column that is no parameter of any scenario."""
    mixes = _mixes(scenarios)
    cols = [c for c in post.columns if c != WEIGHT]
    out: list[Uncertain] = []
    used: set[str] = set()
    for key, parts in mixes.items():
        names = [f"{key}.{p}" for p in parts]
        if any(n in cols for n in names):
            missing = [n for n in names if n not in cols]
            if missing:
                raise UserError(f"{where}: column {missing[0]} missing (a mix needs all its "
                                "shares)")
            out.append(Uncertain(key, parts=parts))
            used.update(names)
    known: dict[str, Param] = {}
    for sc in scenarios:
        for p in parameter_space(sc, only_applicable=False):
            known.setdefault(p.key, p)
    for c in cols:
        if c in used:
            continue
        if c in known:
            p = known[c]
            out.append(Uncertain(c, p.low, p.high, p.integer))
        elif any(_exists(sc, c) for sc in scenarios):
            out.append(Uncertain(c, math.nan, math.nan, False))
        else:
            raise UserError(f"{where}: column '{c}' is not a parameter of "
                            f"{', '.join(sc.name for sc in scenarios)}")
    return out


def draw_posterior(post: pd.DataFrame, k: int, seed: int) -> pd.DataFrame:
    """``k`` parameter sets drawn with replacement from ``post`` with probability proportional
    to ``weight``; the same seed gives the same draws. A ``posterior_row`` column says which
    row each set is."""
    import numpy as np

    if k < 1:
        raise UserError(f"--futures: needs at least 1, got {k}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DRAW_KEY,)))
    w = post[WEIGHT].to_numpy(dtype=float)
    rows = rng.choice(len(post), size=k, replace=True, p=w / w.sum())
    out = post.drop(columns=[WEIGHT]).iloc[rows].reset_index(drop=True)
    out.insert(0, "posterior_row", rows.astype("int64"))
    return out


# ---- sets → scenarios ----------------------------------------------------------------------
def set_overrides(space: Sequence[Uncertain], row: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario overrides of one parameter set (``space``: the parameters that apply)."""
    out: dict[str, Any] = {}
    for u in space:
        values = u.overrides(row)
        out.update({k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()})
    return out


def set_scenarios(sc: Scenario, space: Sequence[Uncertain], sets: pd.DataFrame,
                  label: str = "f") -> list[Scenario]:
    """The scenario of each parameter set (row of ``sets``) for ``sc``, with only the
    parameters of ``space`` that apply to it; all validated before anything runs (a
    :class:`UserError` lists the first problems, naming the set)."""
    from simsource.scenario import with_overrides

    mine = applicable(space, sc)
    out: list[Scenario] = []
    problems: list[str] = []
    for i, row in enumerate(sets.to_dict("records")):
        try:
            out.append(with_overrides(sc, set_overrides(mine, {str(k): v
                                                               for k, v in row.items()})))
        except UserError as exc:
            problems += [f"{sc.name}, {label}{i:04d}: {line}" for line in exc.problems]
            if len(problems) >= 20:
                break
    if problems:
        raise UserError(problems[:20])
    return out
