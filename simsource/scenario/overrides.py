"""Dotted-key overrides (``--set coordination.staff=24``), checked against the schema *and* the
scenario they change.

* values are TOML literals (never ``eval``); a bare word is a string, but a malformed table or
  list is an error, not a string;
* a key must exist in the schema ("did you mean …" otherwise);
* a key inside a named table (``suppliers.<name>.…``, ``ideas.sources.<name>.…``) must name an
  entry the scenario has — a misspelt name never adds a supplier or source with default
  settings. A new entry is added only by giving its whole table
  (``--set 'suppliers.acme={areas = ["workplace"]}'``), with its required fields
  (:data:`NEW_ENTRY_REQUIRES`);
* the caller's data is never mutated.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from simsource.scenario.bounds import nesting_problem
from simsource.scenario.problems import ScenarioError
from simsource.scenario.schema import Scenario

#: named tables (dict of models) and what one entry is called in messages
NAMED_TABLES: dict[str, str] = {"suppliers": "supplier", "ideas.sources": "source"}
#: fields a new entry of a named table must give (the rest have defaults); a supplier's areas
#: are checked by the schema (every supplier owns at least one area)
NEW_ENTRY_REQUIRES: dict[str, tuple[str, ...]] = {"ideas.sources": ("rate_per_year",)}


def parse_value(text: str) -> Any:
    """A TOML literal (``24``, ``0.5``, ``true``, ``[1, 2]``, ``"x"``); bare words are strings.

    A value that starts a list or table but is not valid TOML raises :class:`ScenarioError`."""
    try:
        parsed = tomllib.loads(f"v = {text}")
    except RecursionError:
        raise ScenarioError(f"{text[:40]}…: nested too deeply") from None
    except tomllib.TOMLDecodeError:
        if text.lstrip().startswith(("[", "{")):
            raise ScenarioError(f"{text}: not a valid TOML list or table (text inside needs "
                                'quotes, e.g. {areas = ["network"]})') from None
        return text
    if len(parsed) != 1:
        return text  # "1\nx = 2" is not one literal
    problem = nesting_problem(parsed["v"])
    if problem:
        raise ScenarioError(f"{text[:40]}…: {problem}")
    return parsed["v"]


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["a.b=1", ...]`` → ``{"a.b": 1}``; a malformed item raises :class:`ScenarioError`."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError([f"--set: {item}: expected KEY=VALUE"])
        try:
            out[key.strip()] = parse_value(value.strip())
        except ScenarioError as exc:
            raise ScenarioError([f"--set: {key.strip()}: {p}" for p in exc.problems]) from None
    return out


def _as_model(t: Any) -> type[BaseModel] | None:
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _model_at(path: list[str]) -> type[BaseModel] | None:
    """The pydantic model at a dotted path (None past a leaf or a free-keyed dict)."""
    model: type[BaseModel] | None = Scenario
    i = 0
    while i < len(path) and model is not None:
        field = model.model_fields.get(path[i])
        if field is None:
            return None
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if origin in (dict, tuple):
            if i + 1 >= len(path):
                return None
            elem = getattr(ann, "__args__", (object, object))[1 if origin is dict else 0]
            i += 2  # skip the entry name or list index
            model = _as_model(elem)
            continue
        i += 1
        model = _as_model(ann)
    return model


def suggest(path: list[str]) -> str:
    """`` (did you mean 'x'?)`` for a misspelt last part of ``path``, else ``""``."""
    model = _model_at(path[:-1])
    if model is None:
        return ""
    near = difflib.get_close_matches(path[-1], list(model.model_fields), n=1, cutoff=0.5)
    return f" (did you mean '{near[0]}'?)" if near else ""


def check_override_key(key: str) -> str | None:
    """An error message if a dotted key does not exist in the schema, else None."""
    parts = key.split(".")
    model: type[BaseModel] | None = Scenario
    i = 0
    while i < len(parts):
        if model is None:
            return None
        field = model.model_fields.get(parts[i])
        if field is None:
            return f"unknown key{suggest(parts[: i + 1])}"
        ann = field.annotation
        if getattr(ann, "__origin__", None) is dict:
            value_t = getattr(ann, "__args__", (str, object))[1]
            i += 2
            model = _as_model(value_t)
            continue
        i += 1
        model = _as_model(ann)
        if model is None and i < len(parts):
            return f"'{'.'.join(parts[:i])}' is not a table"
    return None


def near_name(name: str, names: list[str]) -> str | None:
    """The existing name ``name`` was probably meant as (case-insensitive, close spelling)."""
    lower = {n.lower(): n for n in names}
    near = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.5)
    return lower[near[0]] if near else None


def _entry_problem(key: str, data: Mapping[str, Any]) -> str | None:
    """A key inside a named table must name an entry ``data`` has."""
    parts = key.split(".")
    for table, what in NAMED_TABLES.items():
        tparts = table.split(".")
        n = len(tparts)
        if parts[:n] != tparts or len(parts) < n + 2:
            continue  # not inside an entry (the whole table or a whole entry is set)
        node: Any = data
        for p in tparts:
            node = node.get(p, {}) if isinstance(node, Mapping) else {}
        names = list(node) if isinstance(node, Mapping) else []
        name = parts[n]
        if name in names:
            return None
        near = near_name(name, names)
        hint = f"did you mean '{near}'? " if near else ""
        have = ", ".join(names) or "none"
        return (f"unknown {what} '{name}' ({hint}the scenario has: {have}); to add a {what}, give "
                f"its whole table: --set '{table}.{name}={{...}}'")
    return None


def new_entry_problems(data: Mapping[str, Any], known: Mapping[str, Any],
                       where: Callable[[list[str]], str]) -> list[str]:
    """Entries of named tables in ``data`` that ``known`` lacks must give the required fields."""
    problems = []
    for table, required in NEW_ENTRY_REQUIRES.items():
        node: Any = data
        base: Any = known
        for p in table.split("."):
            node = node.get(p, {}) if isinstance(node, Mapping) else {}
            base = base.get(p, {}) if isinstance(base, Mapping) else {}
        if not isinstance(node, Mapping):
            continue
        what = NAMED_TABLES[table]
        for name, entry in node.items():
            if name in base or not isinstance(entry, Mapping):
                continue
            missing = [f for f in required if f not in entry]
            if missing:
                near = near_name(name, list(base))
                hint = f" (did you mean the existing {what} '{near}'?)" if near else ""
                loc = [*table.split("."), name]
                problems.append(f"{where(loc)}: {table}.{name}: a new {what} needs "
                                f"{', '.join(missing)}{hint}")
    return problems


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any],
                    source: str = "--set") -> dict[str, Any]:
    """A new dict with dotted-key overrides applied (the inputs are not mutated)."""
    from simsource.scenario.loader import deep_merge

    problems = []
    layer: dict[str, Any] = {}
    for key, value in overrides.items():
        msg = check_override_key(key) or _entry_problem(key, data)
        if msg:
            problems.append(f"{source}: {key}: {msg}")
            continue
        node = layer
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                problems.append(f"{source}: {key}: conflicts with another override")
                break
            node = nxt
        else:
            node[parts[-1]] = copy.deepcopy(value)
    problems += new_entry_problems(layer, data, lambda loc: source)
    if problems:
        raise ScenarioError(problems)
    return deep_merge(dict(data), layer)
