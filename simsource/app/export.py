"""The teaching page's setting as a scenario file, and the commands that reproduce it.

A planner who downloads the file (or copies the command) gets exactly the class's numbers with
``simsource run``/``compare``: same scenario, seed and replications.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from simsource.app.logic import Built, setting_key
from simsource.scenario import Scenario, ScenarioError, load_scenario, parse_overrides
from simsource.scenario.dump import scenario_toml
from simsource.scenario.loader import builtin_names

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def export_name(base_name: str, suffix: str = "whatif") -> str:
    """A file-system-safe scenario name: ``<base>-<suffix>``."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base_name).strip("-")
    return f"{stem or 'scenario'}-{suffix}"


def export_toml(sc: Scenario, name: str, *, seed: int, n: int, note: str = "") -> str:
    """The resolved scenario as TOML, named ``name``, with the command that reproduces it."""
    named = sc.model_copy(update={"name": name})
    head = [f"# made on the simsource teaching page{': ' + note if note else ''}",
            f"# reproduce: {run_command(f'{name}.toml', n=n, seed=seed)}"]
    return "\n".join(head) + "\n" + scenario_toml(named)


def _set_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | tuple) and not v:
        return "[]"
    return str(v)


def run_command(target: str, *, n: int, seed: int, overrides: Mapping[str, Any] | None = None
                ) -> str:
    """``simsource run TARGET -n N --seed S [--set k=v ...]`` (shell-quoted)."""
    parts = ["simsource", "run", target, "-n", str(n), "--seed", str(seed)]
    for key, value in (overrides or {}).items():
        parts += ["--set", f"{key}={_set_value(value)}"]
    return shlex.join(parts)


def compare_command(targets: Iterable[str], *, n: int, seed: int) -> str:
    return shlex.join(["simsource", "compare", *targets, "-n", str(n), "--seed", str(seed)])


def set_command_possible(base_ref: str | None, built: Built) -> bool:
    """Whether ``simsource run <built-in> --set ...`` reproduces the setting exactly.

    Checked by loading it the way the CLI does: some overrides (e.g. one idea source's rate on
    a file that leaves the sources at their defaults) resolve differently from the page.
    """
    if base_ref is None or base_ref not in builtin_names() or built.sourcing_switched:
        return False
    if not all(_BARE.fullmatch(name) for name in built.scenario.suppliers):
        return False
    try:
        again = load_scenario(base_ref, parse_overrides(
            [f"{k}={_set_value(v)}" for k, v in built.overrides.items()]))
    except ScenarioError:
        return False
    return setting_key(again) == setting_key(built.scenario)

