"""Scenario files → validated, frozen :class:`Scenario` objects.

* TOML read with :mod:`tomllib`; ``extends = "name-or-relative-path"`` layers a variant over a
  parent (deep merge, cycles refused);
* overrides as dotted keys (``coordination.staff=24``) whose values are TOML literals (never
  ``eval``); the caller's data is never mutated;
* ``partnership.preset`` fills the five dimensions of the layer it appears in unless that layer
  sets them explicitly;
* every problem becomes one line ``FILE: key.path: what is wrong`` in a :class:`ScenarioError`.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simsource.errors import UserError
from simsource.scenario.schema import PARTNERSHIP_DIMENSIONS, PRESETS, Scenario


class ScenarioError(UserError):
    """One or more problems in a scenario; each is a line ``FILE: key: message``."""

    def __init__(self, problems: list[str] | str) -> None:
        lines = [problems] if isinstance(problems, str) else problems
        super().__init__([_one_line(line) for line in lines])


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab


def _one_line(text: str) -> str:
    """Control characters (line breaks in user-written keys or names) escaped: one problem,
    one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{display(path)}: cannot read file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{display(path)}: not UTF-8 text (byte {exc.start})"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{display(path)}: malformed TOML: {exc}"]) from None


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


def _load_layers(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(p.name for p in (*seen, real))
        raise ScenarioError([f"{display(path)}: extends: cycle ({chain})"])
    data = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return deep_merge({}, data)  # applies a partnership preset of this (only) layer
    if not isinstance(parent, str):
        raise ScenarioError([f"{display(path)}: extends: must be a scenario name or relative path"])
    try:
        parent_path = resolve_path(parent, base=path.parent)
    except ScenarioError:
        raise ScenarioError([f"{display(path)}: extends: parent '{parent}' not found"]) from None
    base = _load_layers(parent_path, (*seen, real))
    base.pop("name", None)
    base.pop("title", None)
    base.pop("description", None)
    return deep_merge(base, data)


def parse_value(text: str) -> Any:
    """A TOML literal (``24``, ``0.5``, ``true``, ``[1, 2]``, ``"x"``); bare words are strings."""
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return parsed["v"] if len(parsed) == 1 else text  # "1\nx = 2" is not one literal


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["a.b=1", ...]`` → ``{"a.b": 1}``; a malformed item raises :class:`ScenarioError`."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError([f"--set: {item}: expected KEY=VALUE"])
        out[key.strip()] = parse_value(value.strip())
    return out


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _as_model(t: Any) -> type[BaseModel] | None:
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _model_at(path: list[str]) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model at a dotted path, and whether the path ends in a free-keyed dict."""
    model: type[BaseModel] | None = Scenario
    i = 0
    while i < len(path) and model is not None:
        field = model.model_fields.get(path[i])
        if field is None:
            return None, False
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if origin is dict:
            args = getattr(ann, "__args__", (str, object))
            value_t = args[1]
            if i + 1 >= len(path):
                return None, True
            i += 2
            model = _as_model(value_t)
            if model is None:
                return None, True
            continue
        if origin is tuple:
            elem = getattr(ann, "__args__", (object,))[0]
            if i + 1 >= len(path):
                return None, False
            i += 2  # skip the list index
            model = _as_model(elem)
            continue
        i += 1
        model = _as_model(ann)
    return model, False


def suggest(path: list[str]) -> str:
    model, _ = _model_at(path[:-1])
    if model is None:
        return ""
    near = difflib.get_close_matches(path[-1], _field_names(model), n=1, cutoff=0.5)
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


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any],
                    source: str = "--set") -> dict[str, Any]:
    """A new dict with dotted-key overrides applied (the inputs are not mutated)."""
    problems = []
    layer: dict[str, Any] = {}
    for key, value in overrides.items():
        msg = check_override_key(key)
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
    if problems:
        raise ScenarioError(problems)
    return deep_merge(dict(data), layer)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# Checks of the whole scenario (pydantic reports them at the top level): the key they are about.
_TOP_LEVEL_KEYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"area '.*' is owned by no supplier"), "scenario.areas"),
    (re.compile(r"supplier (.*) owns area '.*' that is not in scenario\.areas"),
     "suppliers.{0}.areas"),
    (re.compile(r"area '.*' is owned by several suppliers"), "suppliers"),
    (re.compile(r"at least one supplier"), "suppliers"),
)


def _loc(loc: tuple[int | str, ...] | list[str]) -> str:
    return ".".join(
        str(x) if _BARE_KEY.fullmatch(str(x)) else json.dumps(str(x), ensure_ascii=False)
        for x in loc
    )


def _top_level_key(msg: str) -> str:
    for pattern, key in _TOP_LEVEL_KEYS:
        m = pattern.search(msg)
        if m:
            return key.format(*(_loc([g]) for g in m.groups()))
    return "(top level)"


def format_validation_error(source: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: {_loc(loc)}: unknown key{suggest(loc)}")
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        key = _loc(loc) if loc else _top_level_key(msg)
        lines.append(f"{source}: {key}: {msg}")
    return lines


def validate_data(data: Mapping[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc)) from None


def load_raw(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    path = resolve_path(name_or_path)
    data = _load_layers(path, ())
    data.setdefault("name", path.stem)
    return data, path


def _defaults() -> dict[str, Any]:
    """Every default of the schema as plain data (tables with default entries included)."""
    return Scenario.model_construct().model_dump(mode="python")


def with_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` over the schema defaults, so a partial table (``[ideas.sources.citizens]``,
    ``operations.incidents_per_year.network``) keeps the default entries beside it."""
    return deep_merge(_defaults(), data)


def load_scenario(name_or_path: str | Path,
                  overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a built-in name or TOML file, apply dotted-key overrides, validate, freeze."""
    data, path = load_raw(name_or_path)
    data = with_defaults(data)
    source = display(path)
    if overrides:
        validate_data(data, source)      # the file's own problems are the file's
        source = f"{source} (--set)"     # what fails from here on, the overrides caused
        data = apply_overrides(data, overrides, source=source)
    return validate_data(data, source)


def scenario_from_dict(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                       source: str = "<dict>") -> Scenario:
    """Validate an in-memory scenario (e.g. from the web page)."""
    merged = with_defaults(data)
    if overrides:
        merged = apply_overrides(merged, overrides, source=f"{source} (--set)")
    return validate_data(merged, source)


def with_overrides(sc: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of a resolved scenario with dotted-key overrides applied."""
    if not overrides:
        return sc
    data = sc.model_dump(mode="python")
    return validate_data(apply_overrides(data, overrides, source=f"{sc.name} (--set)"), sc.name)
