"""The scenario-file reference (every key, default, unit, range and description) as Markdown.

``python -m simsource.scenario.reference > docs/scenario-reference.md`` regenerates the doc; a
test keeps the committed file in sync with the schema.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simsource.scenario.schema import IdeaSource, Scenario, Supplier

_TEMPLATES: dict[str, tuple[str, type[BaseModel]]] = {
    "suppliers": ("suppliers.<name>", Supplier),
    "ideas.sources": ("ideas.sources.<name>", IdeaSource),
}


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return "(table)"
    d = info.default
    if isinstance(d, BaseModel):
        return "(table)"
    if isinstance(d, tuple):
        d = list(d)
    try:
        return "`" + json.dumps(d, ensure_ascii=False) + "`"
    except TypeError:
        return str(d)


def _type_name(ann: Any) -> str:
    name = getattr(ann, "__name__", None)
    if typing.get_origin(ann) is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(ann))
    return name or str(ann).replace("typing.", "")


def _bounds(info: FieldInfo) -> str:
    """The hard validation bounds, e.g. ``≥ 0.1, ≤ 1000`` (``ge``/``gt``/``le``/``max_length``)."""
    parts = []
    for m in info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("max_length", "at most")):
            value = getattr(m, attr, None)
            if value is not None:
                unit = (" characters" if info.annotation is str else " entries") \
                    if attr == "max_length" else ""
                parts.append(f"{sign} {value:g}{unit}")
    return ", ".join(parts)


def rows(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[tuple[str, ...]]:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = info.annotation
        if key in _TEMPLATES:
            label, sub = _TEMPLATES[key]
            yield from rows(sub, label + ".")
            continue
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from rows(ann, key + ".")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = str(extra.get("unit", ""))
        rng = extra.get("range")
        rng_s = f"{rng[0]:g} – {rng[1]:g}" if isinstance(rng, list) else ""
        if extra.get("mix"):
            rng_s += " (mix)"
        why = str(extra.get("range_reason", ""))
        if why:
            rng_s += f": {why}"
        yield (f"`{key}`", _type_name(ann), _default(info), unit, _bounds(info), rng_s,
               (info.description or "").replace("|", "\\|"))
        elem = typing.get_args(ann)[0] if typing.get_origin(ann) is tuple else None
        if isinstance(elem, type) and issubclass(elem, BaseModel):
            yield from rows(elem, key + "[].")


def markdown() -> str:
    out = [
        "# Scenario file reference",
        "",
        "Generated from the schema (`python -m simsource.scenario.reference`). Every key can be",
        "set in a scenario file (TOML table = first part of the dotted key) or overridden with",
        "`--set key=value` / `load_scenario(name, overrides={...})`. Sources of the defaults:",
        "`model.md`.",
        "",
        "* *Bounds* are hard: validation refuses anything outside them (and inf, NaN, and",
        "  true/false where a number is expected). They are far wider than any municipality",
        "  needs, and keep every accepted value from overflowing or running away; the expected",
        "  work of a whole replication is checked separately (`--max-events`).",
        "* *Range* is the plausible range that `simsource sensitivity` samples from, with its",
        "  reason. Shares marked *(mix)* sum to one and are sampled as a whole mix",
        "  (`simsource.scenario.mixes.mix_from_unit`: stick breaking, uniform on the simplex).",
        "* Names (`name`, suppliers, idea sources) are letters, digits, `-`, `_` and `.`, not",
        "  starting with a dot, at most 100 characters. A new supplier or idea source needs its",
        "  own table (a source with `rate_per_year`; a supplier owns at least one area).",
        "",
        "| key | type | default | unit | bounds | range | description |",
        "|---|---|---|---|---|---|---|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
