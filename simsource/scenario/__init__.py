"""Scenario files: schema, loading with ``extends`` and overrides, TOML output."""

from simsource.scenario.dump import scenario_hash, scenario_toml
from simsource.scenario.loader import (
    ScenarioError,
    builtin_names,
    load_scenario,
    parse_overrides,
    scenario_from_dict,
    scenarios_dir,
    with_overrides,
)
from simsource.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "builtin_names",
    "load_scenario",
    "parse_overrides",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_toml",
    "scenarios_dir",
    "with_overrides",
]
