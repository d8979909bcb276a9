"""The one scenario diff: which parameters differ between two scenarios, or from the defaults.

Used by the HTML report ("parameters that differ from the defaults") and the teaching page
("changes from the baseline"). Scenarios are compared as their resolved JSON dumps, flattened
to dotted keys; numbers are compared with a relative tolerance, so ``0.1 + 0.2`` equals
``0.3``. The names and texts that identify a scenario (``name``, ``title``,
``description``) and labels that the model does not use (``partnership.preset``) never count
as differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from simsource.scenario.schema import IdeaSource, Scenario, Supplier

IDENTITY_KEYS: Final = ("name", "title", "description")
LABEL_KEYS: Final = ("partnership.preset",)  # labels only: the five dimensions are what counts
SUPPLIERS: Final = "suppliers"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __str__(self) -> str:
        return "—"


#: the value of a key one side does not have (e.g. a supplier only the other side names)
MISSING: Final = _Missing()


@dataclass(frozen=True)
class Change:
    """``key`` is ``old`` in the first scenario and ``new`` in the second (either may be
    :data:`MISSING`)."""

    key: str
    old: Any
    new: Any


def _dump(sc: Scenario | Mapping[str, Any]) -> dict[str, Any]:
    return sc.model_dump(mode="json") if isinstance(sc, Scenario) else dict(sc)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys (``{"a": {"b": 1}}`` → ``{"a.b": 1}``); empty tables and
    lists stay values."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as parameters: numbers within a relative 1e-9, lists element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def _ignored(key: str) -> bool:
    return (key.split(".")[0] in IDENTITY_KEYS or key.rsplit(".", 1)[-1] in IDENTITY_KEYS[1:]
            or key in LABEL_KEYS)


def diff(a: Scenario | Mapping[str, Any], b: Scenario | Mapping[str, Any], *,
         collapse_suppliers: bool = True) -> list[Change]:
    """Parameters that differ from ``a`` to ``b``, sorted by key.

    With ``collapse_suppliers``, a change of the supplier set is one change of ``suppliers``
    (the names, comma-separated) rather than one per field of every supplier.
    """
    da, db = _dump(a), _dump(b)
    fa, fb = flatten(da), flatten(db)
    swapped = collapse_suppliers and list(da.get(SUPPLIERS, {})) != list(db.get(SUPPLIERS, {}))
    out = []
    if swapped:
        out.append(Change(SUPPLIERS, ", ".join(da.get(SUPPLIERS, {})),
                          ", ".join(db.get(SUPPLIERS, {}))))
    for key in sorted(set(fa) | set(fb)):
        if _ignored(key) or (swapped and key.startswith(SUPPLIERS + ".")):
            continue
        va, vb = fa.get(key, MISSING), fb.get(key, MISSING)
        if va is MISSING or vb is MISSING or not same(va, vb):
            out.append(Change(key, va, vb))
    return sorted(out, key=lambda c: c.key)


def defaults_like(sc: Scenario | Mapping[str, Any]) -> dict[str, Any]:
    """The schema defaults shaped like ``sc``: its suppliers and extra idea sources get the
    per-entry defaults of :class:`Supplier` / :class:`IdeaSource`."""
    actual = _dump(sc)
    base: dict[str, Any] = Scenario.model_construct().model_dump(mode="json")
    base[SUPPLIERS] = {k: Supplier().model_dump(mode="json") for k in actual.get(SUPPLIERS, {})}
    sources = base["ideas"]["sources"]
    for k in actual.get("ideas", {}).get("sources", {}):
        sources.setdefault(k, IdeaSource().model_dump(mode="json"))
    return base


def from_defaults(sc: Scenario | Mapping[str, Any]) -> list[Change]:
    """Parameters of ``sc`` that differ from the schema defaults (``old`` = the default, or
    :data:`MISSING` where the schema has none, e.g. a field only a custom entry has)."""
    return [c for c in diff(defaults_like(sc), sc, collapse_suppliers=False)
            if c.new is not MISSING]
