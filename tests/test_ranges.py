"""Every numeric parameter declares a plausible range with its reason, inside its hard bounds
(issue 13 item 6), and the hard bounds themselves exist (issue 14: bounded work)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from types import UnionType
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simsource.scenario.schema import Scenario

#: numeric fields that are structure, not quantities (system numbers of the dependency graph)
STRUCTURE = {"transition.dependencies"}


def _model(t: Any) -> type[BaseModel] | None:
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _numeric(ann: Any) -> bool:
    if ann in (int, float):
        return True
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, UnionType):
        return any(a in (int, float) for a in args)
    if origin is dict:
        return _numeric(args[1])
    if origin is tuple:
        return bool(args) and _numeric(args[0])
    return False


def fields(model: type[BaseModel] = Scenario, prefix: str = ""
           ) -> Iterator[tuple[str, FieldInfo]]:
    """Every field of the schema, dotted (``suppliers.*.staff``, ``coordination.plan[].staff``);
    shares inside a mix are covered by the mix's own declaration."""
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = info.annotation
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        sub = _model(ann)
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is dict and _model(args[1]):
            yield from fields(args[1], f"{key}.*.")
        elif origin is tuple and args and _model(args[0]):
            yield key, info
            yield from fields(args[0], f"{key}[].")
        elif sub is not None and not extra.get("mix"):
            yield from fields(sub, f"{key}.")
        else:
            yield key, info


NUMERIC = [(k, i) for k, i in fields() if (_numeric(i.annotation) or
                                            (i.json_schema_extra or {}).get("mix"))  # type: ignore[union-attr]
           and not k.startswith("scenario.") and k not in STRUCTURE]


def _bounds(info: FieldInfo) -> tuple[float, float]:
    lo, hi = -float("inf"), float("inf")
    for m in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = float(getattr(m, attr))
        if getattr(m, "le", None) is not None:
            hi = float(m.le)
    return lo, hi


def test_the_table_covers_the_schema() -> None:
    keys = {k for k, _ in NUMERIC}
    assert {"suppliers.*.staff", "coordination.plan[].staff", "operations.incidents_per_year",
            "ideas.areas_needed_probs", "ideas.sources.*.domain_mix", "funnel.work_chunk_days",
            "responsibility.supplier_effort_share_shared",
            "partnership.switching_loss_per_task"} <= keys
    assert len(keys) > 80


@pytest.mark.parametrize(("key", "info"), NUMERIC, ids=[k for k, _ in NUMERIC])
def test_every_numeric_parameter_has_a_range_with_a_reason(key: str, info: FieldInfo) -> None:
    extra = info.json_schema_extra
    assert isinstance(extra, dict), f"{key}: no range"
    rng = extra.get("range")
    assert isinstance(rng, list), f"{key}: no range"
    assert len(rng) == 2
    lo, hi = (float(x) for x in rng)  # type: ignore[arg-type]
    assert lo < hi, key
    assert str(extra.get("range_reason", "")).strip(), f"{key}: range without a reason"
    if extra.get("mix"):
        return
    hard_lo, hard_hi = _bounds(info)
    assert hard_lo <= lo, f"{key}: range below the hard bounds"
    assert hi <= hard_hi, f"{key}: range above the hard bounds"


@pytest.mark.parametrize(("key", "info"), NUMERIC, ids=[k for k, _ in NUMERIC])
def test_every_quantity_has_hard_bounds(key: str, info: FieldInfo) -> None:
    """Rates, counts, intervals and staffing cannot be set to values that overflow or run
    away: an upper bound on every quantity (except per-entry dicts and mixes, bounded by their
    validators)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("mix") or typing.get_origin(info.annotation) is dict:
        return
    lo, hi = _bounds(info)
    assert lo > -float("inf"), f"{key}: no lower bound"
    assert hi < float("inf"), f"{key}: no upper bound"
    if key.endswith(("interval_days", "work_chunk_days")):
        assert lo >= 0.1, f"{key}: an interval below 0.1 day"
