"""The parameter space of a scenario: every numeric parameter with its declared range.

Every numeric scenario parameter declares a plausible range (``json_schema_extra["range"]`` in
:mod:`simsource.scenario.schema`). :func:`parameter_space` lists those that apply to a scenario
(per-supplier and per-source keys expanded for the scenario's suppliers and sources, per-area
rates such as ``operations.incidents_per_year.network`` for the scenario's areas, parameters of
switched-off mechanisms left out); :func:`select_params` reads a ``--params`` value. Designs over
these parameters (SALib samples, Latin hypercubes) are made in :mod:`simsource.experiment.design`.

**Mixes** (shares that sum to one: domain mixes, ``ideas.areas_needed_probs``,
``changes.areas_probs``) are varied as a whole: a mix of *k* shares is *k − 1* coordinates
``KEY#1 … KEY#k-1`` in [0, 1], mapped to a valid mix by stick breaking
(:func:`simsource.scenario.mixes.mix_from_unit`; uniform coordinates give a uniform point of the
simplex). A coordinate's ``value`` is the scenario's own mix; :func:`to_overrides` turns a design
point with coordinates into ordinary overrides (coordinates not in the point keep the
scenario's own value). Naming the mix (``ideas.areas_needed_probs``) selects all its
coordinates.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from simsource.errors import UserError
from simsource.scenario.mixes import current_mix, mix_overrides, mix_parameters, unit_from_mix

if TYPE_CHECKING:
    from simsource.scenario import Scenario


#: parameters analysed when none are named (those that apply to the scenario)
DEFAULT_PARAMS: tuple[str, ...] = (
    "coordination.staff",
    "coordination.consultants",
    "coordination.governance_fte_per_supplier",
    "coordination.governance_fte_per_pair",
    "funnel.screening_pass",
    "funnel.matching_pass",
    "funnel.project_effort_days_mean",
    "budget.innovation_msek_per_year",
    "partnership.autonomy",
    "partnership.intensity",
)


# ---- the parameter space -------------------------------------------------------------------
MIX_SEP = "#"


@dataclass(frozen=True)
class Param:
    """One parameter to vary: dotted key, range, whether it is an integer, its current value."""

    key: str
    low: float
    high: float
    integer: bool = False
    value: float = math.nan
    unit: str = ""

    def cast(self, x: float) -> int | float:
        return round(x) if self.integer else float(x)


def _n_suppliers(sc: Scenario) -> int:
    return len(sc.suppliers)


_EFFECT_PARAMS = ("handoff_delay_days", "colocation_speedup", "decision_interval_days",
                  "line_meeting_interval_days", "escalation_reject_prob", "max_tasks")

#: (fnmatch pattern, does it apply?) — parameters of mechanisms the scenario switches off
_GATES: tuple[tuple[str, Callable[[Scenario], bool]], ...] = (
    ("transition.*", lambda sc: sc.transition.enabled),
    ("transition.underestimation_*", lambda sc: sc.transition.underestimation),
    ("transition.planned_effort_cv", lambda sc: not sc.transition.deterministic_effort),
    ("operations.*", lambda sc: sc.operations.enabled),
    ("operations.cross_supplier_multiplier", lambda sc: _n_suppliers(sc) > 1),
    ("coordination.triage_effort_days",
     lambda sc: sc.operations.enabled and _n_suppliers(sc) > 1),
    ("coordination.governance_*", lambda sc: sc.coordination.governance),
    ("coordination.governance_fte_per_pair", lambda sc: _n_suppliers(sc) > 1),
    *((f"partnership.{name}", lambda sc: sc.partnership.effects) for name in _EFFECT_PARAMS),
    ("funnel.screening_pass", lambda sc: sc.funnel.attrition),
    ("funnel.matching_pass", lambda sc: sc.funnel.attrition),
    ("responsibility.success_*", lambda sc: sc.funnel.attrition),
    ("ideas.supplier_business_pass_factor", lambda sc: sc.funnel.attrition),
    ("budget.*", lambda sc: sc.budget.limited),
)


def applies(key: str, sc: Scenario) -> bool:
    """Whether changing ``key`` can matter in ``sc`` (False for switched-off mechanisms)."""
    return all(ok(sc) for pattern, ok in _GATES if fnmatch.fnmatchcase(key, pattern))


def _walk(model: BaseModel, prefix: str) -> list[Param]:
    out: list[Param] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            out += _walk(value, f"{key}.")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rng = extra.get("range")
        if isinstance(value, dict):
            for sub, item in value.items():
                if isinstance(item, BaseModel):
                    out += _walk(item, f"{key}.{sub}.")
                elif isinstance(item, int | float) and not isinstance(item, bool) \
                        and isinstance(rng, list) and len(rng) == 2:   # e.g. per-area rates
                    unit = extra.get("unit")
                    out.append(Param(f"{key}.{sub}", float(rng[0]), float(rng[1]),  # type: ignore[arg-type]
                                     value=float(item), unit=unit if isinstance(unit, str) else ""))
            continue
        if not isinstance(rng, list) or len(rng) != 2 or isinstance(value, bool) \
                or not isinstance(value, int | float):
            continue
        lo, hi = float(rng[0]), float(rng[1])  # type: ignore[arg-type]
        unit = extra.get("unit")
        out.append(Param(key, lo, hi, integer=info.annotation is int, value=float(value),
                         unit=unit if isinstance(unit, str) else ""))
    return out


def _mix_params(sc: Scenario) -> list[Param]:
    out: list[Param] = []
    for key, parts in mix_parameters(sc).items():
        u = unit_from_mix(current_mix(sc, key))
        out += [Param(f"{key}{MIX_SEP}{i + 1}", 0.0, 1.0, value=x, unit="mix coordinate")
                for i, x in enumerate(u)]
        del parts
    return out


def _areas_only(sc: Scenario, p: Param) -> bool:
    """Per-area entries exist only for the scenario's areas."""
    if p.key.startswith("operations.incidents_per_year."):
        return p.key.rsplit(".", 1)[1] in sc.scenario.areas
    return True


def parameter_space(sc: Scenario, only_applicable: bool = True) -> list[Param]:
    """Every numeric parameter of ``sc`` with a declared range, in schema order, then the mixes'
    coordinates."""
    params = [p for p in _walk(sc, "") if _areas_only(sc, p)] + _mix_params(sc)
    return [p for p in params if applies(p.key, sc)] if only_applicable else params


def mix_key(key: str) -> str | None:
    """The mix a coordinate key belongs to (``ideas.areas_needed_probs#1`` →
    ``ideas.areas_needed_probs``), or None for an ordinary key."""
    base, sep, index = key.rpartition(MIX_SEP)
    return base if sep and index.isdigit() else None


def to_overrides(sc: Scenario, point: Mapping[str, Any]) -> dict[str, Any]:
    """A design point as overrides: mix coordinates become the mix's shares (the coordinates
    the point does not set keep the scenario's own mix)."""
    out: dict[str, Any] = {}
    coords: dict[str, dict[int, float]] = {}
    for key, v in point.items():
        base = mix_key(key)
        if base is None:
            out[key] = v
        else:
            coords.setdefault(base, {})[int(key.rpartition(MIX_SEP)[2])] = float(v)
    for base, given in coords.items():
        u = list(unit_from_mix(current_mix(sc, base)))
        for i, x in given.items():
            u[i - 1] = min(1.0, max(0.0, x))
        out.update(mix_overrides(sc, base, u))
    return out


def _parse_range(key: str, text: str) -> tuple[float, float]:
    lo_s, sep, hi_s = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise UserError(f"--params: {key}={text}: expected a range LOW:HIGH, e.g. "
                        f"{key}=10:30") from None
    if not lo < hi:
        raise UserError(f"--params: {key}={text}: LOW must be below HIGH")
    return lo, hi


def select_params(sc: Scenario, spec: str | Sequence[str] | None) -> list[Param]:
    """Parameters from a ``--params`` value.

    ``None`` or ``""``: :data:`DEFAULT_PARAMS` that apply; ``"all"``: the whole
    :func:`parameter_space`; otherwise comma-separated items, each a dotted key, an fnmatch
    pattern (``suppliers.*.proactive``) or ``KEY=LOW:HIGH`` (own range; also for parameters
    without a declared one).
    """
    space = parameter_space(sc)
    if spec is None or spec == "" or spec == ():
        chosen = [p for p in space if p.key in DEFAULT_PARAMS]
        if not chosen:
            raise UserError("--params: none of the default parameters applies to this scenario; "
                            "name some (see --list-params)")
        return chosen
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    items = [s for s in items if s]
    if items == ["all"]:
        if not space:
            raise UserError("--params all: the scenario has no parameter with a declared range")
        return space
    by_key = {p.key: p for p in space}
    every = {p.key: p for p in parameter_space(sc, only_applicable=False)}
    chosen, problems = [], []
    for item in items:
        key, eq, rng = item.partition("=")
        key = key.strip()
        if any(c in key for c in "*?["):
            hits = [p for p in space if fnmatch.fnmatchcase(p.key, key)]
            if not hits:
                problems.append(f"--params: {key}: matches no parameter with a range that "
                                "applies to this scenario")
            chosen += hits
            continue
        if eq:
            lo, hi = _parse_range(key, rng.strip())
            base = by_key.get(key) or every.get(key) or _bare_param(sc, key, problems)
            if base is not None:
                chosen.append(Param(key, lo, hi, base.integer, base.value, base.unit))
            continue
        if key in by_key:
            chosen.append(by_key[key])
        elif f"{key}{MIX_SEP}1" in by_key:          # a mix: all its coordinates
            chosen += [p for p in space if mix_key(p.key) == key]
        elif key in every:
            problems.append(f"--params: {key}: does not apply to this scenario (its mechanism is "
                            "switched off)")
        else:
            near = difflib.get_close_matches(key, list(every), n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(near)}?)" if near else \
                " (see --list-params; give KEY=LOW:HIGH for a parameter without a range)"
            problems.append(f"--params: {key}: not a parameter with a declared range{hint}")
    if problems:
        raise UserError(problems)
    seen: dict[str, Param] = {}
    for p in chosen:
        seen.setdefault(p.key, p)
    if not seen:
        raise UserError("--params: no parameters selected")
    return list(seen.values())


def _bare_param(sc: Scenario, key: str, problems: list[str]) -> Param | None:
    """A numeric parameter without a declared range (the user supplies one)."""
    node: Any = sc
    for part in key.split("."):
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            problems.append(f"--params: {key}: no such parameter in this scenario")
            return None
    if isinstance(node, bool) or not isinstance(node, int | float):
        problems.append(f"--params: {key}: not a numeric parameter")
        return None
    return Param(key, 0.0, 1.0, integer=isinstance(node, int), value=float(node))
