"""How scenario problems are told: one line ``FILE: key.path: what is wrong`` each.

* :class:`ScenarioError` carries the lines (control characters escaped: one problem, one line);
* :func:`format_validation_error` turns pydantic's errors into such lines, blaming the file that
  set the key (a parent file's mistake is the parent's, see ``blame``);
* :func:`toml_problem` explains the TOML mistakes people make most (a byte-order mark, a bare
  word where a string needs quotes, a table name with spaces).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from simsource.errors import UserError


class ScenarioError(UserError):
    """One or more problems in a scenario; each is a line ``FILE: key: message``."""

    def __init__(self, problems: list[str] | str) -> None:
        lines = [problems] if isinstance(problems, str) else problems
        super().__init__([one_line(line) for line in lines])


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab


def one_line(text: str) -> str:
    """Control characters (line breaks in user-written keys or names) escaped: one problem,
    one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


# ---- TOML syntax ---------------------------------------------------------------------------------
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_BARE_VALUE = re.compile(r"^\s*[A-Za-z0-9_.\"-]+\s*=\s*([A-Za-z_][^\"'\[{]*?)\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[\[?([^\]]*)\]?\]?\s*$")

BOM = "\ufeff"


def toml_problem(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message plus a hint for the common mistakes on the line it points at."""
    msg = str(exc)
    m = _AT.search(msg)
    if not m:
        return f"malformed TOML: {msg}"
    lines = text.splitlines()
    n = int(m[1])
    line = lines[n - 1] if 0 < n <= len(lines) else ""
    hint = ""
    header = _HEADER.match(line)
    bare = _BARE_VALUE.match(line)
    if header and line.lstrip().startswith("["):
        hint = ("; a table name with spaces or other characters needs quotes, e.g. "
                '[suppliers."my supplier"] (names themselves are letters, digits, - _ .)')
    elif bare and bare[1] not in ("true", "false", "inf", "nan"):
        hint = f'; text needs quotes: "{bare[1].strip()}"'
    elif "Invalid value" in msg and ("[" in line or "{" in line):
        hint = '; text inside lists and tables needs quotes, e.g. areas = ["network"]'
    return f"malformed TOML: {msg}{hint}"


# ---- validation errors ---------------------------------------------------------------------------
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# Checks of the whole scenario (pydantic reports them at the top level): the key they are about.
_TOP_LEVEL_KEYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"area '.*' is owned by no supplier"), "scenario.areas"),
    (re.compile(r"supplier (.*) owns area '.*' that is not in scenario\.areas"),
     "suppliers.{0}.areas"),
    (re.compile(r"supplier (.*) owns no area"), "suppliers.{0}.areas"),
    (re.compile(r"area '.*' is owned by several suppliers"), "suppliers"),
    (re.compile(r"at least one supplier"), "suppliers"),
    (re.compile(r"^supplier name"), "suppliers"),
)

Blame = Callable[[Sequence[str]], str]


def loc_text(loc: Sequence[int | str]) -> str:
    """A dotted key as the user would write it (odd names quoted)."""
    return ".".join(
        str(x) if _BARE_KEY.fullmatch(str(x)) else json.dumps(str(x), ensure_ascii=False)
        for x in loc
    )


def _top_level_key(msg: str) -> str:
    for pattern, key in _TOP_LEVEL_KEYS:
        m = pattern.search(msg)
        if m:
            return key.format(*(loc_text([g]) for g in m.groups()))
    return "(top level)"


def format_validation_error(source: str, exc: ValidationError, blame: Blame | None = None,
                            suggest: Callable[[list[str]], str] | None = None) -> list[str]:
    """One line per error; ``blame(loc)`` names the file that set the key (default ``source``),
    ``suggest(loc)`` adds "did you mean" to an unknown key."""
    lines = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        where = blame(loc) if blame is not None and loc else source
        if err["type"] == "extra_forbidden":
            hint = suggest(loc) if suggest is not None else ""
            lines.append(f"{where}: {loc_text(loc)}: unknown key{hint}")
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        key = loc_text(loc) if loc else _top_level_key(msg)
        lines.append(f"{where}: {key}: {msg}")
    return lines
