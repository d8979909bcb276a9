"""Write a resolved scenario back as TOML (every default filled in, by tomli-w) and hash it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import tomli_w

from simsource.scenario.schema import Scenario


def _without_none(v: Any) -> Any:
    """TOML has no null: unset optional values are left out."""
    if isinstance(v, Mapping):
        return {k: _without_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [_without_none(x) for x in v]
    return v


def to_toml(data: Mapping[str, Any]) -> str:
    """``data`` as a TOML document (tables for nested mappings)."""
    return tomli_w.dumps(_without_none(data))


def toml_value(v: Any) -> str:
    """``v`` as a one-line TOML value, e.g. for ``--set KEY=VALUE``: tomli-w writes every
    scalar and key; mappings become inline tables (tomli-w writes them as tables)."""
    if isinstance(v, Mapping):
        items = ", ".join(f"{tomli_w.dumps({str(k): 0}).rpartition(' = ')[0]} = {toml_value(x)}"
                          for k, x in v.items() if x is not None)
        return "{ " + items + " }" if items else "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return tomli_w.dumps({"v": v}).partition(" = ")[2].strip()


def scenario_toml(sc: Scenario) -> str:
    """The fully resolved scenario as TOML; loading it gives an equal scenario."""
    header = "# fully resolved simsource scenario (every default filled in)\n"
    return header + to_toml(sc.model_dump(mode="json"))


def scenario_hash(sc: Scenario) -> str:
    """A stable short hash of the resolved parameters (name excluded from nothing)."""
    blob = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
