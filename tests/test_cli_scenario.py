"""The scenario commands (`scenarios`, `validate`, `show`) and how the CLI refuses bad input.

Every bad input gives one line ``error: FILE: key.path: what is wrong`` on stderr, exit code 2 and
no traceback; property tests feed random scenario mutations and random ``--set`` items through
``simsource validate``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import event, given, settings
from hypothesis import strategies as st

import simsource
from simsource.cli import main
from simsource.scenario import builtin_names, load_scenario, scenario_toml
from simsource.scenario.dump import to_toml, toml_value

WriteScenario = Callable[[str, str], Path]  # the write_scenario fixture of conftest.py

ROOT = Path(__file__).resolve().parents[1]
BUILTINS = ("nacka-single", "nacka-multi", "nacka-multi-10", "nacka-transfer-2017")


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args))


def user_error(result: Result, file: str, key: str) -> str:
    """The single error line, after checking exit code 2, no traceback and the line's form."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    prefix = f"error: {file}: {key}: "
    assert lines[0].startswith(prefix), (lines[0], prefix)
    return lines[0]


# ---- one test per bad input ------------------------------------------------------------------


def test_unknown_key_suggests_the_closest_valid_key(runner: CliRunner,
                                                     write_scenario: WriteScenario) -> None:
    write_scenario("typo.toml", 'extends = "nacka-multi"\n[coordination]\nstaf = 30\n')
    line = user_error(run(runner, "validate", "typo.toml"), "typo.toml", "coordination.staf")
    assert line.endswith("unknown key (did you mean 'staff'?)")


def test_wrong_type(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("sub/wrong-type.toml",
                   'extends = "nacka-multi"\n[coordination]\nstaff = "many"\n')
    line = user_error(run(runner, "validate", "sub/wrong-type.toml"), "sub/wrong-type.toml",
                      "coordination.staff")
    assert "integer" in line


def test_negative_rate(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("negative.toml",
                   'extends = "nacka-multi"\n[ideas.sources.citizens]\nrate_per_year = -1\n')
    line = user_error(run(runner, "validate", "negative.toml"), "negative.toml",
                      "ideas.sources.citizens.rate_per_year")
    assert "greater than or equal to 0" in line


def test_probability_above_one(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("prob.toml", 'extends = "nacka-multi"\n[funnel]\nscreening_pass = 1.5\n')
    line = user_error(run(runner, "validate", "prob.toml"), "prob.toml", "funnel.screening_pass")
    assert "less than or equal to 1" in line


def test_domain_mix_not_summing_to_one(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("mix.toml", 'extends = "nacka-multi"\n'
                   "[ideas.sources.citizens.domain_mix]\nit = 0.5\nbusiness = 0.4\n"
                   "new_service = 0.3\n")
    line = user_error(run(runner, "validate", "mix.toml"), "mix.toml",
                      "ideas.sources.citizens.domain_mix")
    assert "sum to 1" in line
    assert "1.2" in line


def test_area_owned_by_no_supplier(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("orphan.toml", 'extends = "nacka-multi"\n[suppliers.dustin]\nareas = []\n')
    line = user_error(run(runner, "validate", "orphan.toml"), "orphan.toml", "scenario.areas")
    assert "'telephony' is owned by no supplier" in line


def test_extends_cycle(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("a.toml", 'extends = "b"\n')
    write_scenario("b.toml", 'extends = "a.toml"\n')
    line = user_error(run(runner, "validate", "a.toml"), "a.toml", "extends")
    assert "cycle (a.toml -> b.toml -> a.toml)" in line


def test_extends_itself(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("self.toml", 'extends = "self"\n')
    line = user_error(run(runner, "validate", "self.toml"), "self.toml", "extends")
    assert "cycle" in line


def test_extends_missing_parent(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("orphan.toml", 'extends = "nacka-mutli"\n[coordination]\nstaff = 30\n')
    line = user_error(run(runner, "validate", "orphan.toml"), "orphan.toml", "extends")
    assert "parent 'nacka-mutli' not found" in line


def test_malformed_toml_names_the_line(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("broken.toml", 'extends = "nacka-multi"\n[coordination]\nstaff = = 3\n')
    line = user_error(run(runner, "validate", "broken.toml"), "broken.toml", "malformed TOML")
    assert "line 3" in line


def test_set_of_an_unknown_key(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("ok.toml", 'extends = "nacka-multi"\n')
    line = user_error(run(runner, "validate", "ok.toml", "--set", "coordination.staf=30"),
                      "ok.toml (--set)", "coordination.staf")
    assert line.endswith("unknown key (did you mean 'staff'?)")


def test_set_without_equals(runner: CliRunner) -> None:
    line = user_error(run(runner, "validate", "nacka-multi", "--set", "coordination.staff"),
                      "--set", "coordination.staff")
    assert line.endswith("expected KEY=VALUE")


# ---- more refusals -----------------------------------------------------------------------------


def test_several_problems_give_one_line_each(runner: CliRunner,
                                             write_scenario: WriteScenario) -> None:
    write_scenario("two.toml", 'extends = "nacka-multi"\n[funnel]\nscreening_pass = 1.5\n'
                   "matching_pas = 0.5\n")
    result = run(runner, "validate", "two.toml")
    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()) == [
        "error: two.toml: funnel.matching_pas: unknown key (did you mean 'matching_pass'?)",
        "error: two.toml: funnel.screening_pass: Input should be less than or equal to 1",
    ]


def test_validate_reports_good_and_bad_files(runner: CliRunner,
                                             write_scenario: WriteScenario) -> None:
    write_scenario("bad.toml", 'extends = "nacka-multi"\n[funnel]\nscreening_pass = -0.1\n')
    result = run(runner, "validate", "nacka-single", "bad.toml", "--set", "coordination.staff")
    assert result.exit_code == 2
    # a malformed --set is reported once, not once per file
    assert result.stderr == "error: --set: coordination.staff: expected KEY=VALUE\n"
    result = run(runner, "validate", "nacka-single", "bad.toml")
    assert result.exit_code == 2
    assert result.stdout.startswith("ok: nacka-single (")
    assert result.stderr.startswith("error: bad.toml: funnel.screening_pass: ")


def test_unknown_scenario_name(runner: CliRunner, write_scenario: WriteScenario) -> None:
    result = run(runner, "show", "nacka-mult")
    assert result.exit_code == 2
    assert result.stderr == ("error: nacka-mult: no such scenario file or built-in name "
                             "(did you mean 'nacka-multi'?)\n")


def test_file_that_is_not_utf8(runner: CliRunner, write_scenario: WriteScenario) -> None:
    write_scenario("latin1.toml", "").write_bytes(b'title = "V\xe4rmd\xf6"\n')
    result = run(runner, "validate", "latin1.toml")
    assert result.exit_code == 2
    assert result.stderr == "error: latin1.toml: not UTF-8 text (byte 10)\n"


def test_internal_error_exits_1_with_a_short_message(runner: CliRunner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("simsource.scenario.load_scenario", broken)
    result = run(runner, "show", "nacka-multi")
    assert result.exit_code == 1
    assert result.stderr == ("internal error: RuntimeError: boom (run with --debug for the "
                             "traceback)\n")
    result = run(runner, "--debug", "show", "nacka-multi")
    assert isinstance(result.exception, RuntimeError)  # --debug lets the traceback through


# ---- the commands ------------------------------------------------------------------------------


def test_scenarios_lists_the_builtins_with_titles(runner: CliRunner) -> None:
    result = run(runner, "scenarios")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(BUILTINS) <= set(rows)
    assert set(rows) == set(builtin_names())
    for name in rows:
        assert load_scenario(name).title in rows[name]


def test_validate_accepts_every_shipped_file(runner: CliRunner,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.toml"))
    assert len(files) >= len(BUILTINS)
    result = run(runner, "validate", *files)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [line.split()[1] for line in result.stdout.splitlines()] == files


def test_show_with_set(runner: CliRunner) -> None:
    result = run(runner, "show", "nacka-multi", "--set", "coordination.staff=30")
    assert result.exit_code == 0, result.output
    coordination = result.stdout.split("\n[coordination]\n")[1].split("\n[")[0]
    assert "staff = 30" in coordination.splitlines()
    assert tomllib.loads(result.stdout)["coordination"]["staff"] == 30


@pytest.mark.parametrize("name", builtin_names())
def test_show_output_reloads_to_an_equal_scenario(name: str, runner: CliRunner,
                                                  write_scenario: WriteScenario) -> None:
    result = run(runner, "show", name)
    assert result.exit_code == 0, result.output
    path = write_scenario("shown.toml", result.stdout)
    assert load_scenario(path) == load_scenario(name)


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"simsource, version {simsource.__version__}\n"


def test_python_dash_m_simsource_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "simsource", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: simsource ")
    for command in ("scenarios", "validate", "show"):
        assert command in proc.stdout


# ---- property tests: random mutations never crash ----------------------------------------------

BASE: dict[str, Any] = tomllib.loads(scenario_toml(load_scenario("nacka-multi")))


def _paths(d: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in d.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out.extend(_paths(value, (*prefix, key)))
    return out


SCHEMA_PATHS = sorted({*_paths(BASE), ("extends",), ("ideas", "sources", "new", "rate_per_year"),
                       ("suppliers", "new", "areas"), ("suppliers", "new", "staff")})
LETTERS = "abcdefghijklmnopqrstuvwxyz_"


@st.composite
def near_miss(draw: st.DrawFn, name: str) -> str:
    """``name`` with one typo (or, now and then, any text at all)."""
    i = draw(st.integers(0, max(len(name) - 1, 0)))
    c = draw(st.sampled_from(LETTERS))
    return draw(st.sampled_from([
        name[:i] + name[i + 1:],
        name[:i] + c + name[i:],
        name[:i] + c + name[i + 1:],
        name + "s",
        name.upper(),
        draw(st.text(max_size=8)),
    ]))


@st.composite
def dotted_key(draw: st.DrawFn) -> tuple[str, ...]:
    path = draw(st.sampled_from(SCHEMA_PATHS))
    if draw(st.booleans()):
        return path
    return (*path[:-1], draw(near_miss(path[-1])))


SCALARS = st.one_of(
    st.integers(min_value=0, max_value=40),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2, max_value=2),
    st.text(max_size=10),
    st.booleans(),
    st.sampled_from(["light", "heavy", "custom", "supplier", "shared", "internal", "network",
                     "workplace", "nacka-multi", "nacka-single", ""]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["until_day", "staff", "consultants", "x"]),
                             SCALARS, max_size=3), max_size=3),
)


def _set(d: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        if not isinstance(d.get(part), dict):
            d[part] = {}
        d = d[part]
    d[path[-1]] = value


def _delete(d: dict[str, Any], path: tuple[str, ...]) -> None:
    for part in path[:-1]:
        if not isinstance(d.get(part), dict):
            return
        d = d[part]
    d.pop(path[-1], None)


def _normal(v: Any) -> Any:
    """Comparable form: keys sorted, NaN replaced (NaN != NaN)."""
    if isinstance(v, dict):
        return sorted((k, _normal(x)) for k, x in v.items())
    if isinstance(v, list):
        return [_normal(x) for x in v]
    if isinstance(v, float) and math.isnan(v):
        return "<nan>"
    return (type(v).__name__, v)


def check_refusal(result: Result) -> None:
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    event(f"exit code {result.exit_code}")
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines
        for line in lines:
            assert line.startswith("error: "), line
            assert ": " in line[len("error: "):], line


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(mutations=st.lists(
    st.tuples(dotted_key(), st.one_of(VALUES, st.just(None))), min_size=1, max_size=3))
def test_random_file_mutations_validate_or_exit_2(
        mutations: list[tuple[tuple[str, ...], Any]],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tomllib.loads(to_toml(BASE))
    for key, value in mutations:
        if value is None:
            _delete(data, key)
        else:
            _set(data, key, value)
    text = to_toml(data)
    assert _normal(tomllib.loads(text)) == _normal(data)  # the writer itself is sound
    path = tmp_path_factory.mktemp("mut") / "mutated.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    check_refusal(result)
    if result.exit_code == 0:  # what validates also round-trips through `show`
        shown = CliRunner().invoke(main, ["show", str(path)])
        assert shown.exit_code == 0, shown.output
        again = path.with_name("shown.toml")
        again.write_text(shown.stdout, encoding="utf-8")
        assert load_scenario(again) == load_scenario(path)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(sets=st.lists(st.tuples(dotted_key(), st.one_of(
VALUES.map(toml_value), st.text(max_size=12))), min_size=1, max_size=3))
def test_random_set_overrides_validate_or_exit_2(sets: list[tuple[tuple[str, ...], str]]) -> None:
    args = [f"--set={'.'.join(key)}={value}" for key, value in sets]
    check_refusal(CliRunner().invoke(main, ["validate", "nacka-multi", *args]))
