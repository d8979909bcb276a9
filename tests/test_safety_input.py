"""Bad input is one clear line and exit 2 — never exit 1, a traceback or a hang (issue 14).

One table per kind of probe: scenario values (inf, NaN, overflow, booleans, names used as paths),
named tables (misspelt suppliers and sources), file syntax (BOM, nesting, extends chains, unquoted
text), and options (seeds, replications, designs, workload, folders, schedulers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simsource.cli import main
from simsource.errors import UserError
from simsource.model import simulate
from simsource.scenario import load_scenario
from simsource.scenario.mixes import mix_from_unit, mix_overrides, mix_parameters
from simsource.scenario.workload import DEFAULT_MAX_EVENTS, estimate

WriteScenario = Callable[[str, str], Path]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def refused(result: Result, *fragments: str) -> str:
    """Exit 2, no traceback, the first line an ``error:`` holding every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    line = result.stderr.strip().splitlines()[0]
    assert line.startswith(("error: ", "Usage: ", "Error: ")), line
    text = result.stderr
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return line


# ---- values --------------------------------------------------------------------------------------
BAD_SETS = [
    # inf and NaN, where a float has only a lower bound, inside dicts and tuples
    ("funnel.overrun_mean=inf", "funnel.overrun_mean", "finite"),
    ("ambition.innovations_per_year=inf", "ambition.innovations_per_year", "finite"),
    ("operations.incidents_per_year.network=nan", "incidents_per_year.network", "finite"),
    ("ideas.areas_needed_probs=[0.5, nan, 0.5]", "ideas.areas_needed_probs.1", "finite"),
    ("transition.handoff_days=-inf", "transition.handoff_days", ""),
    # overflow: 1e308 in effort, overrun, value, hand-off delay
    ("funnel.project_effort_days_mean=1e308", "funnel.project_effort_days_mean", "less than"),
    ("funnel.overrun_sigma=1e308", "funnel.overrun_sigma", "less than"),
    ("ideas.value_msek_per_year_mean=1e308", "ideas.value_msek_per_year_mean", "less than"),
    ("partnership.handoff_delay_days=1e308", "partnership.handoff_delay_days", "less than"),
    # valid-looking values that hung or exhausted memory
    ("operations.incidents_per_year.network=1e12", "incidents_per_year", "between 0 and"),
    ("ideas.sources.citizens.rate_per_year=1e12", "citizens.rate_per_year", "less than"),
    ("suppliers.dcg.ideas_per_year=1e12", "suppliers.dcg.ideas_per_year", "less than"),
    ("funnel.work_chunk_days=1e-9", "funnel.work_chunk_days", "greater than or equal to 0.1"),
    ("coordination.governance_interval_days=1e-9", "governance_interval_days", "0.1"),
    ("partnership.decision_interval_days=1e-9", "decision_interval_days", "0.1"),
    ("coordination.plan=[{until_day=100, staff=10000000}]", "coordination.plan.0.staff", ""),
    ("coordination.staff=10000000", "coordination.staff", "less than"),
    # booleans are not numbers
    ("coordination.staff=true", "coordination.staff", "true/false"),
    ("operations.incidents_per_year.network=false", "incidents_per_year: network:", "true/false"),
    # names are slugs: a shared file never decides where files go
    ("name=../../x", "name", "not a valid name"),
    ("name=\"/tmp/x\"", "name", "not a valid name"),
    ("name=.hidden", "name", "not a valid name"),
    (f"name={'x' * 101}", "name", "101 characters"),
    # a supplier with no areas (ZeroDivisionError before)
    ("suppliers.acme={title=\"A\"}", "suppliers.acme.areas", "owns no area"),
]


@pytest.mark.parametrize(("item", "key", "why"), BAD_SETS, ids=[b[0][:40] for b in BAD_SETS])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_values_exit_2_naming_the_key(item: str, key: str, why: str, command: str,
                                          tmp_path: Path) -> None:
    extra = ["-n", "1", "-j", "1", "--out", str(tmp_path / "out")] if command == "run" else []
    line = refused(invoke(command, "nacka-multi", "--set", item, *extra), key, why)
    assert "(--set)" in line or line.startswith(("Usage", "Error"))
    assert not (tmp_path / "out").exists()  # refused before anything is written


NAMED = [
    ("suppliers.DCG.staff=20", "unknown supplier 'DCG'", "did you mean 'dcg'"),
    ("ideas.sources.citizen.rate_per_year=0", "unknown source 'citizen'",
     "did you mean 'citizens'"),
    ("ideas.sources.citizen={domain_mix={it=1, business=0, new_service=0}}",
     "a new source needs rate_per_year", "did you mean the existing source 'citizens'"),
    ("suppliers.acme={areas=[workplace]}", "not a valid TOML list or table", "quotes"),
]


@pytest.mark.parametrize(("item", "what", "hint"), NAMED, ids=[n[0][:30] for n in NAMED])
def test_named_tables_are_checked_against_the_scenario(item: str, what: str, hint: str) -> None:
    refused(invoke("validate", "nacka-multi", "--set", item), what, hint)


def test_a_new_entry_with_its_table_is_added() -> None:
    sc = load_scenario("nacka-multi", {
        "scenario.areas": ["network", "operations", "security", "telephony", "workplace"],
        "suppliers.acme": {"areas": ["workplace"], "staff": 4},
        "ideas.sources.schools": {"rate_per_year": 10.0},
    })
    assert sc.suppliers["acme"].staff == 4
    assert sc.ideas.sources["schools"].rate_per_year == 10.0
    assert sc.ideas.sources["citizens"].rate_per_year == 50.0


# ---- files ---------------------------------------------------------------------------------------
def _chain(write: WriteScenario, depth: int) -> str:
    for i in range(depth):
        write(f"c{i}.toml", f'extends = "c{i + 1}"\n')
    write(f"c{depth}.toml", 'extends = "nacka-multi"\n')
    return "c0.toml"


FILES: list[tuple[str, Callable[[WriteScenario], str], tuple[str, ...]]] = [
    ("bom", lambda w: str(w("bom.toml", "\ufefftitle = 'x'\n")), ("bom.toml", "BOM")),
    ("deep arrays", lambda w: str(w("deep.toml", "title = " + "[" * 600 + "]" * 600 + "\n")),
     ("deep.toml", "nested")),
    ("deep tables", lambda w: str(w("deep2.toml", "[" + ".".join(["a"] * 600) + "]\nx = 1\n")),
     ("deep2.toml", "nested")),
    ("deep inline", lambda w: str(w("deep3.toml", "x = " + "{a=" * 600 + "1" + "}" * 600)),
     ("deep3.toml", "nested")),
    ("extends chain", lambda w: _chain(w, 1500), ("extends", "chain of more than 16")),
    ("unquoted table", lambda w: str(w("t.toml", '[suppliers.Nacka IT]\nareas = ["network"]\n')),
     ("t.toml", "needs quotes")),
    ("unquoted text", lambda w: str(w("u.toml", '[partnership]\npreset = heavy\n')),
     ("u.toml", 'text needs quotes: "heavy"')),
    ("supplier name", lambda w: str(w("s.toml", 'extends = "nacka-multi"\n'
                                      '[suppliers."a/b"]\nareas = ["workplace"]\n')),
     ("s.toml", "suppliers", "not a valid name")),
    ("huge", lambda w: str(w("h.toml", 'title = "' + "x" * 11_000_000 + '"\n')),
     ("h.toml", "at most 10 MB")),
    ("2000 suppliers", lambda w: str(w("many.toml", 'extends = "nacka-multi"\n' + "".join(
        f'[suppliers.s{i}]\nareas = ["workplace"]\n' for i in range(2000)))),
     ("many.toml", "suppliers")),
]


@pytest.mark.parametrize(("make", "fragments"), [f[1:] for f in FILES], ids=[f[0] for f in FILES])
def test_bad_files_exit_2_naming_the_file(make: Callable[[WriteScenario], str],
                                          fragments: tuple[str, ...],
                                          write_scenario: WriteScenario) -> None:
    start = time.perf_counter()
    refused(invoke("validate", make(write_scenario)), *fragments)
    assert time.perf_counter() - start < 30


def test_an_error_in_a_parent_file_is_blamed_on_the_parent(write_scenario: WriteScenario) -> None:
    write_scenario("parent.toml", 'extends = "nacka-multi"\n[funnel]\nscreening_pas = 0.3\n')
    write_scenario("child.toml", 'extends = "parent"\n[funnel]\nmatching_pass = 2.0\n')
    result = invoke("validate", "child.toml")
    refused(result)
    lines = result.stderr.splitlines()
    assert any(ln.startswith("error: parent.toml: funnel.screening_pas: unknown key") for ln in
               lines), lines
    assert any(ln.startswith("error: child.toml: funnel.matching_pass:") for ln in lines), lines


# ---- options -------------------------------------------------------------------------------------
OPTIONS = [
    (["run", "nacka-multi", "--seed", "-1"], ("--seed",)),
    (["run", "nacka-multi", "--seed", str(2**63)], ("--seed",)),
    (["run", "nacka-multi", "-n", "1000000000"], ("at most 100,000",)),
    (["run", "nacka-multi", "--out", ""], ("--out", "empty path")),
    (["sweep", "nacka-multi", "--vary", "coordination.staff=8:30:1e-9"],
     ("design points", "at most 10,000")),
    (["sweep", "nacka-multi", "--vary", "coordination.staff=8:30", "--lhs", "100000000"],
     ("--lhs", "at most 10,000")),
    (["sweep", "nacka-multi", "--vary", "coordination.staff=1,2,3,4,5,6,7,8,9,10",
      "--vary", "coordination.consultants=1,2,3,4,5,6,7,8,9,10",
      "--vary", "funnel.screening_pass=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
      "--vary", "funnel.matching_pass=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
      "--vary", "partnership.colocation=0.1,0.2"], ("full factorial", "20,000")),
    (["run", "nacka-multi", "--set", "operations.incidents_per_year.network=1e6",
      "--set", "scenario.years=50"], ("simulation events", "--max-events")),
    (["validate", "nacka-multi", "--set", "operations.incidents_per_year.network=1e6",
      "--set", "scenario.years=50"], ("simulation events",)),
    (["compare", "nacka-multi", "nacka-single", "--set", "ideas.sources.citizens.rate_per_year"
      "=10000", "--set", "scenario.years=50"], ("simulation events",)),
    (["run", "nacka-multi", "--backend", "dask", "--scheduler", "foo://x"],
     ("--scheduler foo://x", "not a scheduler address")),
    (["run", "nacka-multi", "--backend", "dask", "--scheduler", ""], ("--scheduler", "empty")),
]


@pytest.mark.parametrize(("args", "fragments"), OPTIONS, ids=[" ".join(a)[:50] for a, _ in OPTIONS])
def test_bad_options_exit_2_at_once(args: list[str], fragments: tuple[str, ...],
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    refused(invoke(*args, "-j", "1") if args[0] != "validate" else invoke(*args), *fragments)
    assert time.perf_counter() - start < 30  # before building lists or starting any work
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_out_inside_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    refused(invoke("run", "nacka-multi", "-n", "1", "-j", "1", "--out",
                   str(tmp_path / "afile" / "sub")), "is a file, not a folder")


def test_more_jobs_than_cores_warns(tmp_path: Path) -> None:
    from simsource.experiment.limits import cores

    result = invoke("run", "nacka-multi", "-n", "1", "-j", str(cores() + 1), "-q", "--set",
                    "scenario.years=0.5", "--set", "scenario.warmup_years=0.25", "--out",
                    str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert f"-j {cores() + 1} is more than the {cores()} cores" in result.stderr


def test_max_events_help_states_the_default() -> None:
    result = invoke("run", "--help")
    assert f"default: {DEFAULT_MAX_EVENTS / 1e6:g} million" in " ".join(result.output.split())


# ---- the workload estimate -----------------------------------------------------------------------
WORKLOADS = [
    ("nacka-multi", {}),
    ("nacka-single", {}),
    ("nacka-transfer-2017", {}),
    ("nacka-multi", {"funnel.work_chunk_days": 0.1}),
    ("nacka-multi", {"coordination.governance_interval_days": 0.5}),
    ("nacka-multi", {"operations.incidents_per_year.network": 20_000.0}),
    ("nacka-multi", {"funnel.attrition": False}),
    ("nacka-multi", {"operations.enabled": False, "coordination.governance": False}),
    ("nacka-multi-10", {}),  # overloaded: queueing adds to the events
    ("nacka-multi", {"ideas.sources.citizens.rate_per_year": 1000.0}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "overrides"), WORKLOADS,
                         ids=[f"{n} {o}"[:50] for n, o in WORKLOADS])
def test_the_workload_estimate_is_within_a_factor_of_four(name: str,
                                                           overrides: dict[str, object]) -> None:
    """Never far below the model's own event count; close to it where no queue runs away
    (an overloaded queue costs time beyond its events, see workload.py)."""
    sc = load_scenario(name, {**overrides, "scenario.years": 2.0, "scenario.warmup_years": 1.0})
    real = simulate(sc, 0, 0)["sim_events"]
    work = estimate(sc)
    assert work.events > real / 4
    if work.queueing == 0:
        assert work.events < real * 4


def test_a_runaway_queue_is_counted() -> None:
    """10^6 incidents a year: only a few million events, but the coordinators' triage queue
    grows by hundreds a day, and each request costs its length: hours, not seconds."""
    sc = load_scenario("nacka-multi", {"operations.incidents_per_year.network": 1e6})
    work = estimate(sc)
    assert work.incidents < DEFAULT_MAX_EVENTS < work.queueing
    assert "overloaded coordinators' queue" in work.describe()


def test_the_workload_limit_names_the_estimate() -> None:
    from simsource.scenario.workload import check_workload

    sc = load_scenario("nacka-single", {"operations.incidents_per_year.network": 1e6,
                                        "scenario.years": 50.0})
    with pytest.raises(UserError, match=r"about 1\.\de\+08 simulation events \(mostly "
                       r"incidents.*roughly 12 minutes each"):
        check_workload(sc)
    check_workload(sc, max_events=1e9)


# ---- mixes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("u", [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5], [0.999, 0.001], [0.2, 0.7, 0.1]])
def test_mix_from_unit_gives_valid_mixes(u: list[float]) -> None:
    mix = mix_from_unit(u)
    assert len(mix) == len(u) + 1
    assert all(x >= 0 for x in mix)
    assert math.isclose(sum(mix), 1.0)


def test_mix_from_unit_is_uniform_on_the_simplex() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    first = np.array([mix_from_unit(rng.random(2))[0] for _ in range(4000)])
    # share 1 of a uniform 3-simplex point is Beta(1, 2): mean 1/3, P(x < 0.5) = 3/4
    assert abs(first.mean() - 1 / 3) < 0.02
    assert abs((first < 0.5).mean() - 0.75) < 0.03


def test_every_mix_of_a_scenario_can_be_varied_validly() -> None:
    from simsource.scenario import with_overrides

    sc = load_scenario("nacka-multi")
    mixes = mix_parameters(sc)
    assert {"ideas.areas_needed_probs", "ideas.supplier_domain_mix",
            "ideas.sources.citizens.domain_mix"} <= set(mixes)
    for key, parts in mixes.items():
        for spread in (1.0, 0.3):
            varied = with_overrides(sc, mix_overrides(sc, key, [0.9] * (len(parts) - 1), spread))
            assert varied != sc
