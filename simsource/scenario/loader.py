"""Scenario files → validated, frozen :class:`Scenario` objects.

* TOML read with :mod:`tomllib` (at most 10 MB, nesting checked before anything recursive sees
  it); ``extends = "name-or-relative-path"`` layers a variant over a parent (deep merge, cycles
  and chains deeper than 16 refused);
* overrides as dotted keys (``coordination.staff=24``), see :mod:`simsource.scenario.overrides`;
  the caller's data is never mutated;
* ``partnership.preset`` fills the five dimensions of the layer it appears in unless that layer
  sets them explicitly;
* every problem becomes one line ``FILE: key.path: what is wrong`` in a :class:`ScenarioError`,
  naming the file that set the key (a mistake in a parent file is the parent's).
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simsource.scenario.bounds import MAX_EXTENDS, nesting_problem, slugify
from simsource.scenario.overrides import (
    apply_overrides,
    check_override_key,
    new_entry_problems,
    parse_overrides,
    parse_value,
    suggest,
)
from simsource.scenario.problems import (
    BOM,
    Blame,
    ScenarioError,
    format_validation_error,
    toml_problem,
)
from simsource.scenario.schema import PARTNERSHIP_DIMENSIONS, PRESETS, Scenario

__all__ = [
    "ScenarioError", "apply_overrides", "builtin_names", "check_override_key", "deep_merge",
    "load_raw", "load_scenario", "parse_overrides", "parse_value", "resolve_path",
    "scenario_from_dict", "scenarios_dir", "suggest", "validate_data", "with_defaults",
    "with_overrides",
]

#: largest scenario file read (a real one is a few kB)
MAX_FILE_BYTES = 10_000_000
#: (file as displayed, its own data) — child first, then its parent, grandparent, ...
Layers = list[tuple[str, dict[str, Any]]]


def scenarios_dir() -> Path:
    """Folder of the built-in scenarios (``SIMSOURCE_SCENARIOS`` overrides)."""
    env = os.environ.get("SIMSOURCE_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "scenarios"


def builtin_names() -> list[str]:
    d = scenarios_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def _is_file(p: Path) -> bool:
    """``p.is_file()``, but False for names the OS refuses (too long, NUL byte, ...)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def resolve_path(name_or_path: str | Path, base: Path | None = None) -> Path:
    """A built-in name, or a path (relative to ``base`` when given, else to the cwd)."""
    s = str(name_or_path)
    p = Path(s)
    folder = base if base is not None and not p.is_absolute() else None
    candidate = folder / p if folder is not None else p
    if _is_file(candidate):
        return candidate
    if candidate.name and candidate.suffix != ".toml" \
            and _is_file(candidate.with_name(candidate.name + ".toml")):
        return candidate.with_name(candidate.name + ".toml")
    builtin = scenarios_dir() / f"{s}.toml"
    if "/" not in s and "\\" not in s and _is_file(builtin):
        return builtin
    known = builtin_names()
    near = difflib.get_close_matches(s, known, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else f" (built-in: {', '.join(known)})"
    raise ScenarioError([f"{s}: no such scenario file or built-in name{hint}"])


def display(path: Path) -> str:
    """A path as the user would write it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_toml(path: Path) -> dict[str, Any]:
    where = display(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([f"{where}: {size / 1e6:.0f} MB; a scenario file is at most "
                                 f"{MAX_FILE_BYTES / 1e6:.0f} MB"])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{where}: cannot read file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{where}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_toml(text, where)


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """TOML text as data; every problem (also a BOM or absurd nesting) names ``where``."""
    if text.startswith(BOM):
        raise ScenarioError([f"{where}: starts with a byte-order mark (BOM); save the file as "
                             "UTF-8 without BOM"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{where}: {toml_problem(text, exc)}"]) from None
    except RecursionError:
        raise ScenarioError([f"{where}: tables or lists nested too deeply"]) from None
    problem = nesting_problem(data)
    if problem:
        raise ScenarioError([f"{where}: {problem}"])
    return data


def _apply_preset(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    part = layer.get("partnership")
    if not isinstance(part, Mapping):
        return
    preset = part.get("preset")
    if isinstance(preset, str) and preset in PRESETS:
        target = base.setdefault("partnership", {})
        if isinstance(target, dict):
            for dim in PARTNERSHIP_DIMENSIONS:
                target[dim] = PRESETS[preset]
    elif any(d in part for d in PARTNERSHIP_DIMENSIONS) and "preset" not in part:
        target = base.setdefault("partnership", {})
        if isinstance(target, dict):
            target["preset"] = "custom"


def deep_merge(base: dict[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``layer`` over ``base`` (tables merged key by key, everything else replaced)."""
    out = copy.deepcopy(base)
    _apply_preset(out, layer)
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_layers(path: Path, seen: tuple[Path, ...], layers: Layers) -> dict[str, Any]:
    """The merged data of ``path`` and its ``extends`` parents; appends each file's own data
    to ``layers`` (child first)."""
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(p.name for p in (*seen, real))
        raise ScenarioError([f"{display(path)}: extends: cycle ({chain})"])
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError([f"{display(path)}: extends: a chain of more than {MAX_EXTENDS} "
                             "files"])
    data = read_toml(path)
    layers.append((display(path), data))
    parent = data.pop("extends", None)
    if parent is None:
        return deep_merge({}, data)  # applies a partnership preset of this (only) layer
    if not isinstance(parent, str):
        raise ScenarioError([f"{display(path)}: extends: must be a scenario name or relative path"])
    try:
        parent_path = resolve_path(parent, base=path.parent)
    except ScenarioError:
        raise ScenarioError([f"{display(path)}: extends: parent '{parent}' not found"]) from None
    base = _load_layers(parent_path, (*seen, real), layers)
    base.pop("name", None)
    base.pop("title", None)
    base.pop("description", None)
    return deep_merge(base, data)


def _depth_in(data: Mapping[str, Any], loc: Sequence[str]) -> int:
    """How many leading parts of ``loc`` exist in ``data``."""
    node: Any = data
    for depth, part in enumerate(loc):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return depth
    return len(loc)


def blame_layers(layers: Layers, fallback: str) -> Blame:
    """Who set a key: the file (child first) holding the longest part of its path."""
    def blame(loc: Sequence[str]) -> str:
        best, where = 0, fallback
        for source, data in layers:
            depth = _depth_in(data, loc)
            if depth > best:
                best, where = depth, source
        return where
    return blame


def validate_data(data: Mapping[str, Any], source: str, blame: Blame | None = None) -> Scenario:
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc, blame, suggest)) from None
    except RecursionError:  # pragma: no cover - nesting is checked when files are read
        raise ScenarioError([f"{source}: tables or lists nested too deeply"]) from None


def _load(name_or_path: str | Path) -> tuple[dict[str, Any], Path, Layers]:
    path = resolve_path(name_or_path)
    layers: Layers = []
    data = _load_layers(path, (), layers)
    data.setdefault("name", slugify(path.stem))
    return data, path, layers


def load_raw(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    """The merged data of a scenario file and its parents (no defaults, not validated)."""
    data, path, _ = _load(name_or_path)
    return data, path


def _defaults() -> dict[str, Any]:
    """Every default of the schema as plain data (tables with default entries included)."""
    return Scenario.model_construct().model_dump(mode="python")


def with_defaults(data: Mapping[str, Any], blame: Blame | None = None,
                  source: str = "<dict>") -> dict[str, Any]:
    """``data`` over the schema defaults, so a partial table (``[ideas.sources.citizens]``,
    ``operations.incidents_per_year.network``) keeps the default entries beside it. A new
    entry of a named table must give its required fields (a misspelt name is not a new one)."""
    defaults = _defaults()
    problems = new_entry_problems(data, defaults, blame or (lambda loc: source))
    if problems:
        raise ScenarioError(problems)
    return deep_merge(defaults, data)


def load_scenario(name_or_path: str | Path,
                  overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a built-in name or TOML file, apply dotted-key overrides, validate, freeze."""
    data, path, layers = _load(name_or_path)
    source = display(path)
    blame: Blame | None = blame_layers(layers, source)
    data = with_defaults(data, blame)
    if overrides:
        validate_data(data, source, blame)   # the file's own problems are the file's
        source = f"{source} (--set)"         # what fails from here on, the overrides caused
        data = apply_overrides(data, overrides, source=source)
        blame = None
    return validate_data(data, source, blame)


def scenario_from_dict(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                       source: str = "<dict>") -> Scenario:
    """Validate an in-memory scenario (e.g. from the web page)."""
    problem = nesting_problem(data)
    if problem:
        raise ScenarioError([f"{source}: {problem}"])
    merged = with_defaults(data, source=source)
    if overrides:
        merged = apply_overrides(merged, overrides, source=f"{source} (--set)")
    return validate_data(merged, source)


def with_overrides(sc: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of a resolved scenario with dotted-key overrides applied."""
    if not overrides:
        return sc
    data = sc.model_dump(mode="python")
    return validate_data(apply_overrides(data, overrides, source=f"{sc.name} (--set)"), sc.name)
