"""Loading scenarios through the Python API: ``extends``, overrides, presets, freezing, TOML
output, and problems as ``FILE: key.path: message`` lines."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from simsource.scenario import (
    Scenario,
    ScenarioError,
    builtin_names,
    load_scenario,
    parse_overrides,
    scenario_from_dict,
    scenario_toml,
    with_overrides,
)

WriteScenario = Callable[[str, str], Path]  # the write_scenario fixture of conftest.py

# The dotted keys other parts of the product rely on (issue 2), with a valid value as typed on
# the command line and the value the scenario must then hold.
CONTRACT: list[tuple[str, str, Any]] = [
    ("scenario.years", "6", 6.0),
    ("scenario.warmup_years", "0.5", 0.5),
    ("coordination.staff", "30", 30),
    ("coordination.consultants", "3", 3),
    ("partnership.preset", "heavy", "heavy"),
    ("partnership.colocation", "0.7", 0.7),
    ("partnership.mandate", "0.6", 0.6),
    ("partnership.information", "1", 1.0),
    ("partnership.autonomy", "0.0", 0.0),
    ("partnership.intensity", "0.45", 0.45),
    ("responsibility.it", "supplier", "supplier"),
    ("responsibility.business", "internal", "internal"),
    ("responsibility.new_service", '"shared"', "shared"),
    ("ideas.sources.business_units.rate_per_year", "80", 80.0),
    ("ideas.sources.digital_unit.rate_per_year", "12.5", 12.5),
    ("ideas.sources.citizens.rate_per_year", "0", 0.0),
    ("operations.cross_area_share", "0.3", 0.3),
    ("transition.enabled", "true", True),
    ("transition.systems", "50", 50),
    ("transition.deadline_days", "100", 100.0),
    ("transition.shared_with_operations", "false", False),
]


def get(sc: Scenario, dotted: str) -> Any:
    node: Any = sc
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def dump_without(sc: Scenario, *drop: str) -> dict[str, Any]:
    data = sc.model_dump()
    for dotted in drop:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(last)
    return data


# ---- built-ins ---------------------------------------------------------------------------------


def test_the_four_nacka_builtins_exist_and_validate() -> None:
    assert {"nacka-single", "nacka-multi", "nacka-multi-10", "nacka-transfer-2017"} <= set(
        builtin_names())
    for name in builtin_names():
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.title


def test_builtins_match_their_description() -> None:
    single = load_scenario("nacka-single")
    assert len(single.suppliers) == 1
    assert set(next(iter(single.suppliers.values())).areas) == set(single.scenario.areas)
    assert single.coordination.staff == 10
    assert single.partnership.preset == "light"
    multi = load_scenario("nacka-multi")
    assert len(multi.suppliers) == 4
    assert [s.staff for s in multi.coordination.plan] + [multi.coordination.staff] == [10, 16, 24]
    assert multi.coordination.consultants > 0
    flat = load_scenario("nacka-multi-10")
    assert (flat.coordination.staff, flat.coordination.plan) == (10, ())
    assert load_scenario("nacka-transfer-2017").transition.enabled


# ---- extends -----------------------------------------------------------------------------------


def test_variant_holds_only_what_differs(write_scenario: WriteScenario) -> None:
    path = write_scenario("staff30.toml", 'extends = "nacka-multi"\n[coordination]\nstaff = 30\n')
    parent, variant = load_scenario("nacka-multi"), load_scenario(path)
    assert variant.coordination.staff == 30
    assert variant.name == "staff30"
    assert dump_without(variant, "name", "title", "description", "coordination.staff") == \
        dump_without(parent, "name", "title", "description", "coordination.staff")


def test_extends_chains_and_later_layers_win(write_scenario: WriteScenario) -> None:
    write_scenario("mid.toml", 'extends = "nacka-multi"\n[coordination]\nstaff = 30\n'
                   "consultants = 2\n")
    leaf = load_scenario(write_scenario("leaf.toml", 'extends = "mid"\n[coordination]\n'
                                        "consultants = 5\n"))
    assert (leaf.coordination.staff, leaf.coordination.consultants) == (30, 5)
    assert leaf.coordination.plan == load_scenario("nacka-multi").coordination.plan


def test_extends_a_relative_path_from_the_files_folder(tmp_path: Path,
                                                       write_scenario: WriteScenario,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    write_scenario("base/parent.toml", 'extends = "nacka-multi"\n[coordination]\nstaff = 12\n')
    write_scenario("variants/child.toml",
                   'extends = "../base/parent.toml"\n[coordination]\nconsultants = 1\n')
    write_scenario("base/sibling.toml", 'extends = "parent"\n')  # ".toml" may be left out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the file, not to the working folder
    child = load_scenario(tmp_path / "variants" / "child.toml")
    assert (child.coordination.staff, child.coordination.consultants) == (12, 1)
    assert load_scenario(tmp_path / "base" / "sibling.toml").coordination.staff == 12


def test_extends_is_not_resolved_against_the_working_folder(tmp_path: Path,
                                                           write_scenario: WriteScenario) -> None:
    write_scenario("parent.toml", 'extends = "nacka-multi"\n')
    write_scenario("sub/child.toml", 'extends = "parent.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario("sub/child.toml")
    assert info.value.problems == ["sub/child.toml: extends: parent 'parent.toml' not found"]


def test_parent_name_title_and_description_are_not_inherited(
        write_scenario: WriteScenario) -> None:
    sc = load_scenario(write_scenario("bare.toml", 'extends = "nacka-multi"\n'))
    assert (sc.name, sc.title, sc.description) == ("bare", "", "")


# ---- overrides ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "text", "expected"), CONTRACT, ids=[c[0] for c in CONTRACT])
def test_contract_keys_work_as_overrides(key: str, text: str, expected: Any) -> None:
    overrides = parse_overrides([f"{key}={text}"])
    assert overrides == {key: expected}
    for sc in (load_scenario("nacka-multi", overrides),
               with_overrides(load_scenario("nacka-multi"), overrides)):
        value = get(sc, key)
        assert value == expected
        assert type(value) is type(expected)


def test_override_values_are_toml_literals() -> None:
    assert parse_overrides([
        "coordination.staff=30", "funnel.screening_pass=0.3", "partnership.preset=heavy",
        "title=\"two words\"", "transition.enabled=true", 'scenario.areas=["network", "security"]',
        "description=", "a.b = 1e3", "x=1\ny=2", "y=__import__('os')",
    ]) == {
        "coordination.staff": 30, "funnel.screening_pass": 0.3, "partnership.preset": "heavy",
        "title": "two words", "transition.enabled": True,
        "scenario.areas": ["network", "security"], "description": "", "a.b": 1000.0,
        "x": "1\ny=2", "y": "__import__('os')",
    }


def test_preset_sets_the_dimensions_and_explicit_ones_in_the_same_layer_win() -> None:
    heavy = load_scenario("nacka-multi", parse_overrides(["partnership.preset=heavy"]))
    assert heavy.partnership.preset == "heavy"
    assert heavy.partnership.dims() == dict.fromkeys(heavy.partnership.dims(), 0.9)
    for order in (["partnership.colocation=0.1", "partnership.preset=heavy"],
                  ["partnership.preset=heavy", "partnership.colocation=0.1"]):
        mixed = load_scenario("nacka-multi", parse_overrides(order))
        assert mixed.partnership.colocation == 0.1
        assert mixed.partnership.mandate == 0.9


def test_preset_in_files(write_scenario: WriteScenario) -> None:
    heavy = load_scenario(write_scenario("heavy.toml", 'extends = "nacka-multi"\n'
                                         '[partnership]\npreset = "heavy"\ncolocation = 0.3\n'))
    assert (heavy.partnership.colocation, heavy.partnership.intensity) == (0.3, 0.9)
    # a later layer's preset replaces dimensions set by an earlier layer
    relight = load_scenario(write_scenario("light.toml", 'extends = "heavy"\n'
                                           '[partnership]\npreset = "light"\n'))
    assert relight.partnership.colocation == 0.2
    # a dimension without a preset makes the partnership custom
    custom = load_scenario(write_scenario("custom.toml", 'extends = "nacka-multi"\n'
                                          "[partnership]\nmandate = 0.8\n"))
    assert (custom.partnership.preset, custom.partnership.mandate) == ("custom", 0.8)
    # a file without extends: its preset applies too
    standalone = write_scenario("standalone.toml", scenario_toml(load_scenario("nacka-single"))
                                .replace('preset = "light"', 'preset = "heavy"')
                                .replace("colocation = 0.2\n", ""))
    assert load_scenario(standalone).partnership.colocation == 0.9


def test_the_callers_overrides_are_not_mutated() -> None:
    areas = ["network", "operations", "security", "telephony"]
    overrides: dict[str, Any] = {
        "coordination.staff": 30,
        "coordination.plan": [{"until_day": 100, "staff": 12}],
        "ideas.sources.citizens": {"rate_per_year": 5.0, "domain_mix": {"it": 1.0,
                                                                       "business": 0.0,
                                                                       "new_service": 0.0}},
        "scenario.areas": areas,
        "partnership.preset": "heavy",
    }
    before = copy.deepcopy(overrides)
    sc = load_scenario("nacka-multi", overrides)
    assert overrides == before
    areas.append("workplace")  # later changes to the caller's data do not reach the scenario
    overrides["coordination.plan"][0]["staff"] = 99
    assert sc.scenario.areas == ("network", "operations", "security", "telephony")
    assert sc.coordination.plan[0].staff == 12
    assert sc.ideas.sources["citizens"].rate_per_year == 5.0


def test_scenario_from_dict_does_not_mutate_its_input() -> None:
    data = tomllib.loads(scenario_toml(load_scenario("nacka-single")))
    before = copy.deepcopy(data)
    sc = scenario_from_dict(data, {"coordination.staff": 11, "partnership.preset": "heavy"})
    assert data == before
    assert sc.coordination.staff == 11


def test_with_overrides_returns_a_new_scenario() -> None:
    sc = load_scenario("nacka-multi")
    other = with_overrides(sc, {"coordination.staff": 31})
    assert (sc.coordination.staff, other.coordination.staff) == (24, 31)
    assert with_overrides(sc, {}) is sc


def test_the_scenario_is_frozen() -> None:
    sc = load_scenario("nacka-multi")
    with pytest.raises(ValidationError, match="frozen"):
        sc.coordination.staff = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        sc.name = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        sc.suppliers["dcg"].staff = 1  # type: ignore[misc]


# ---- problems ----------------------------------------------------------------------------------


def test_override_problems_name_the_file_and_key(write_scenario: WriteScenario) -> None:
    path = write_scenario("ok.toml", 'extends = "nacka-multi"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, {"coordination.staf": 1, "suppliers.dcg.stafff": 2,
                             "scenario.areas.network": 3, "coordination.plan.0.staff": 4})
    assert info.value.problems == [
        "ok.toml (--set): coordination.staf: unknown key (did you mean 'staff'?)",
        "ok.toml (--set): suppliers.dcg.stafff: unknown key (did you mean 'staff'?)",
        "ok.toml (--set): scenario.areas.network: 'scenario.areas' is not a table",
        "ok.toml (--set): coordination.plan.0.staff: 'coordination.plan' is not a table",
    ]


def test_problems_in_whole_scenario_checks_name_a_key(write_scenario: WriteScenario) -> None:
    cases = {
        "owned twice": ('[suppliers.dustin]\nareas = ["telephony", "network"]\n',
                        "suppliers: area 'network' is owned by several suppliers: dcg, dustin"),
        "not in use": ('[suppliers.dustin]\nareas = ["telephony", "workplace"]\n',
                       "suppliers.dustin.areas: supplier dustin owns area 'workplace' that is "
                       "not in scenario.areas"),
    }
    for i, (body, expected) in enumerate(cases.values()):
        path = write_scenario(f"c{i}.toml", f'extends = "nacka-multi"\n{body}')
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert info.value.problems == [f"c{i}.toml: {expected}"]


def test_problems_stay_on_one_line(write_scenario: WriteScenario) -> None:
    path = write_scenario("odd.toml", 'extends = "nacka-multi"\n[suppliers.dcg]\n'
                          '"sta\\nff" = 3\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        'odd.toml: suppliers.dcg."sta\\nff": unknown key (did you mean \'staff\'?)']
    for odd in ("\n", "\r", "\x0b", "\x85", "\u2028", "\x00"):
        with pytest.raises(ScenarioError) as info:
            load_scenario("nacka-multi", {f"coordination.x{odd}y": 1})
        assert len(info.value.problems) == 1
        assert info.value.problems[0].splitlines() == info.value.problems


@pytest.mark.parametrize("name", ["", "a\0b", "x" * 5000, "/", ".."])
def test_unusable_names_are_user_errors(name: str) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file or built-in name"):
        load_scenario(name)


# ---- TOML output -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", builtin_names())
def test_scenario_toml_round_trips(name: str, write_scenario: WriteScenario) -> None:
    sc = load_scenario(name)
    assert load_scenario(write_scenario("rt.toml", scenario_toml(sc))) == sc


def test_scenario_toml_round_trips_odd_names_and_values(write_scenario: WriteScenario) -> None:
    sc = load_scenario("nacka-multi", {
        "scenario.areas": ["network", "operations", "security", "telephony", "workplace"],
        "suppliers": {"åtvida.berg-c_d": {"title": 'tab\t"quote"\x7f\\ ny\nrad',
                                          "areas": ["workplace"]}},
        "partnership.preset": "heavy", "partnership.colocation": 0.35,
        "ambition.innovations_per_year": 1e4,
        "transition.dependencies": {"3": [1, 2]},
    })
    text = scenario_toml(sc)
    assert load_scenario(write_scenario("odd.toml", text)) == sc
