"""Write a resolved scenario back as TOML (every default filled in) and hash it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from simsource.scenario.schema import Scenario


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if ("." in r or "e" in r or "inf" in r or "nan" in r) else r + ".0"
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        if all(not isinstance(x, Mapping) for x in v):
            return "[" + ", ".join(_scalar(x) for x in v) + "]"
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return _inline(v)
    if v is None:
        raise TypeError("None has no TOML form")
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # TOML bare keys are ASCII only


def _string(s: str) -> str:
    # JSON escapes are TOML escapes; TOML also forbids a raw DEL (U+007F) in basic strings
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else _string(k)


def _inline(d: Mapping[str, Any]) -> str:
    items = (f"{_key(k)} = {_scalar(v)}" for k, v in d.items() if v is not None)
    return "{ " + ", ".join(items) + " }"


def _is_table(v: Any) -> bool:
    return isinstance(v, Mapping)


def _emit(d: Mapping[str, Any], prefix: str, out: list[str]) -> None:
    scalars = [(k, v) for k, v in d.items() if not _is_table(v) and v is not None]
    tables = [(k, v) for k, v in d.items() if _is_table(v)]
    if prefix and (scalars or not tables):
        out.append(f"\n[{prefix}]")
    for k, v in scalars:
        out.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in tables:
        _emit(v, f"{prefix}.{_key(k)}" if prefix else _key(k), out)


def to_toml(data: Mapping[str, Any]) -> str:
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"


def scenario_toml(sc: Scenario) -> str:
    """The fully resolved scenario as TOML; loading it gives an equal scenario."""
    header = "# fully resolved simsource scenario (every default filled in)\n"
    return header + to_toml(sc.model_dump(mode="json"))


def scenario_hash(sc: Scenario) -> str:
    """A stable short hash of the resolved parameters (name excluded from nothing)."""
    blob = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
