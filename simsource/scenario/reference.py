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
        yield (f"`{key}`", _type_name(ann), _default(info), unit, rng_s,
               (info.description or "").replace("|", "\\|"))


def markdown() -> str:
    out = [
        "# Scenario file reference",
        "",
        "Generated from the schema (`python -m simsource.scenario.reference`). Every key can be",
        "set in a scenario file (TOML table = first part of the dotted key) or overridden with",
        "`--set key=value` / `load_scenario(name, overrides={...})`. *Range* is the plausible",
        "range that `simsource sensitivity` samples from. Sources of the defaults: `model.md`.",
        "",
        "| key | type | default | unit | range | description |",
        "|---|---|---|---|---|---|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
