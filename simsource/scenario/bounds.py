"""Hard limits on what a scenario file may contain, so that valid-looking input cannot hang the
program, exhaust memory or write outside the results folder.

* :func:`check_slug` — names used in paths (the scenario ``name``, supplier and source names) are
  *slugs*: letters, digits, ``-``, ``_`` and ``.``, no leading dot, at most 100 characters;
* :func:`check_nesting` — TOML data nested deeper than any scenario needs is refused before any
  recursive code (merging, copying, validating) sees it;
* :func:`reject_bool` — ``true``/``false`` where a number is expected is an error (pydantic's lax
  mode would read ``staff = true`` as 1).

The numeric bounds of each parameter are stated in the schema (``ge``/``le`` of every field);
the expected amount of work of a whole replication is checked by
:mod:`simsource.scenario.workload`.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from typing import Any

SLUG_MAX = 100
SLUG_RULE = (f"letters, digits, '-', '_' and '.', not starting with a dot, at most {SLUG_MAX} "
             "characters")
_SLUG = re.compile(r"[\w-][\w.-]*")  # \w: letters (also å, ä, ö), digits and '_'

#: deepest nesting of tables/lists a scenario needs is 5 (ideas.sources.X.domain_mix.it); files
#: nested far deeper are refused before anything recursive touches them
MAX_NESTING = 24
#: longest ``extends`` chain (parent of a parent of ...)
MAX_EXTENDS = 16


def slug_problem(name: object) -> str | None:
    """Why ``name`` is not a slug, or None when it is one."""
    if not isinstance(name, str):
        return f"must be a text, got {type(name).__name__}"
    if len(name) > SLUG_MAX:
        return f"'{name[:40]}…' is {len(name)} characters long; names are {SLUG_RULE}"
    if not _SLUG.fullmatch(name) or name in (".", ".."):
        return f"'{name}' is not a valid name; names are {SLUG_RULE}"
    return None


def check_slug(name: str) -> str:
    """``name`` if it is a slug, else a ``ValueError`` stating the rule (for pydantic)."""
    problem = slug_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


def slugify(text: str) -> str:
    """A slug made from ``text`` (a file name stem): other characters become ``-``."""
    s = re.sub(r"[^\w.-]+", "-", text).lstrip(".-") or "scenario"
    return s[:SLUG_MAX]


def nesting_depth(data: object, limit: int = MAX_NESTING) -> int:
    """How deeply tables and lists are nested in ``data`` (iterative; stops counting past
    ``limit``)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: typing.Iterable[object] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((c, depth) for c in children)
    return deepest


def nesting_problem(data: object) -> str | None:
    if nesting_depth(data) > MAX_NESTING:
        return (f"tables or lists nested more than {MAX_NESTING} levels deep; a scenario needs "
                "at most 5")
    return None


# ---- booleans where numbers are expected --------------------------------------------------------
def _numeric(ann: Any) -> bool:
    return ann is int or ann is float


def bool_number(value: object, ann: Any) -> str | None:
    """Where ``value`` holds ``true``/``false`` though ``ann`` expects a number (``""`` for
    the value itself, ``"network"`` or ``"1"`` for an entry of a ``dict[str, float]`` or
    ``tuple[float, ...]``), or None."""
    if _numeric(ann):
        return "" if isinstance(value, bool) else None
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        hit = bool not in args and any(_numeric(a) for a in args) and isinstance(value, bool)
        return "" if hit else None
    entries: typing.Iterable[tuple[object, object]] = ()
    if origin is dict and len(args) == 2 and isinstance(value, Mapping):
        entries, elem = value.items(), args[1]
    elif origin is tuple and args and isinstance(value, list | tuple):
        entries, elem = enumerate(value), args[0]
    for key, v in entries:
        inner = bool_number(v, elem)
        if inner is not None:
            return f"{key}.{inner}".rstrip(".")
    return None
