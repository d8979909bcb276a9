"""Parameters that must sum to one — domain mixes and ``ideas.areas_needed_probs`` — sampled so
that every sample is a valid mix.

Varying one share of a mix alone breaks the sum, so sensitivity analysis and sweeps treat a mix
as *one* parameter with ``k − 1`` dimensions of the unit hypercube, mapped to the simplex by
:func:`mix_from_unit`:

* **stick breaking** (Devroye 1986, ch. 5): share ``i`` takes the fraction
  ``1 − (1 − u_i)^(1/(k−1−i))`` of what the earlier shares left, the last share takes the rest.
  A uniform ``u`` gives a *uniform* point of the simplex (Dirichlet(1, …, 1)); the map is
  continuous and monotone in each ``u_i``, so Morris elementary effects and Sobol indices stay
  meaningful;
* ``around`` and ``spread`` keep the sample near a plausible mix: the result is
  ``(1 − spread) · around + spread · simplex point`` — still on the simplex (a convex
  combination), covering the whole simplex at ``spread = 1``.

>>> mix_from_unit([0.5, 0.5])                     # doctest: +ELLIPSIS
(0.29289..., 0.35355..., 0.35355...)
>>> mix_overrides(load_scenario("nacka-multi"), "ideas.areas_needed_probs", [0.2, 0.7])
... # doctest: +SKIP
{'ideas.areas_needed_probs': [...]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from simsource.scenario.schema import Scenario


def mix_from_unit(u: Sequence[float], around: Sequence[float] | None = None,
                  spread: float = 1.0) -> tuple[float, ...]:
    """``len(u) + 1`` non-negative shares summing to one, from ``u`` in the unit hypercube."""
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"spread must be in [0, 1], got {spread}")
    k = len(u) + 1
    if around is not None and len(around) != k:
        raise ValueError(f"around has {len(around)} shares, u gives {k}")
    left = 1.0
    shares: list[float] = []
    for i, x in enumerate(u):
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"unit sample {x} is outside [0, 1]")
        take = left * (1.0 - (1.0 - x) ** (1.0 / (k - 1 - i)))
        shares.append(take)
        left -= take
    shares.append(max(left, 0.0))
    if around is not None:
        shares = [(1.0 - spread) * a + spread * s for a, s in zip(around, shares, strict=True)]
    total = sum(shares)
    return tuple(s / total for s in shares)


def unit_from_mix(mix: Sequence[float]) -> tuple[float, ...]:
    """The unit-hypercube coordinates :func:`mix_from_unit` maps to ``mix`` (its inverse)."""
    k = len(mix)
    total = sum(mix)
    shares = [m / total for m in mix] if total > 0 else [1.0 / k] * k
    left, u = 1.0, []
    for i, s in enumerate(shares[:-1]):
        frac = min(1.0, s / left) if left > 1e-15 else 0.0
        u.append(1.0 - (1.0 - frac) ** (k - 1 - i))
        left -= s
    return tuple(min(1.0, max(0.0, x)) for x in u)


def _is_mix(info: Any) -> bool:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return bool(extra.get("mix"))


def mix_parameters(sc: Scenario) -> dict[str, tuple[str, ...]]:
    """Every mix of ``sc``: dotted key → names of its shares (``("it", "business",
    "new_service")`` for a domain mix, ``("1", "2", …)`` for ``areas_needed_probs``)."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(model: BaseModel, prefix: str) -> None:
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            key = f"{prefix}{name}"
            if _is_mix(info):
                if isinstance(value, BaseModel):
                    out[key] = tuple(type(value).model_fields)
                else:
                    out[key] = tuple(str(i + 1) for i in range(len(value)))
            elif isinstance(value, BaseModel):
                walk(value, f"{key}.")
            elif isinstance(value, dict):
                for sub, item in value.items():
                    if isinstance(item, BaseModel):
                        walk(item, f"{key}.{sub}.")

    walk(sc, "")
    return out


def current_mix(sc: Scenario, key: str) -> tuple[float, ...]:
    node: Any = sc
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    if isinstance(node, BaseModel):
        return tuple(float(v) for v in node.model_dump().values())
    return tuple(float(v) for v in node)


def mix_overrides(sc: Scenario, key: str, u: Sequence[float],
                  spread: float = 1.0) -> dict[str, Any]:
    """Overrides (for :func:`simsource.scenario.with_overrides`) that set the mix ``key`` of
    ``sc`` to :func:`mix_from_unit` of ``u``, around its current value."""
    parts = mix_parameters(sc).get(key)
    if parts is None:
        raise KeyError(f"{key}: not a mix of this scenario")
    mix = mix_from_unit(u, around=current_mix(sc, key) if spread < 1.0 else None,
                        spread=spread)
    if parts and not parts[0].isdigit():
        return {f"{key}.{p}": v for p, v in zip(parts, mix, strict=True)}
    return {key: list(mix)}
