"""`simsource staff`: the search finds a known answer, cheaply, and bad targets are refused.

The known-answer scenario has governance as the only coordinator work: five suppliers, no
incidents, no ideas, no partnership effects. Governance is a fixed load of
``L = 5·a + 10·b`` FTE (a per supplier, b per supplier pair), so coordinator utilisation at
``s`` coordinators is ``L / s`` and the smallest staffing with utilisation ≤ 0.5 is ``ceil(2L)``.
Its staffing plan (2 coordinators until day 400, inside the KPI window) must be ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from simsource.analysis.staffing import (
    Target,
    find_staffing,
    parse_target,
    plot_staffing,
    search_smallest,
    summarise_level,
    wilson,
)
from simsource.cli import main
from simsource.errors import UserError
from simsource.scenario import Scenario, scenario_from_dict

WriteScenario = Callable[[str, str], Path]

SUPPLIERS = ("a", "b", "c", "d", "e")
AREAS = ("network", "operations", "security", "telephony", "workplace")
FTE_SUPPLIER = 0.9
FTE_PAIR = 0.43

GOVERNANCE_ONLY = f"""
name = "governance-only"
[scenario]
years = 2
warmup_years = 1
areas = {list(AREAS)!r}
[coordination]
staff = 10
consultants = 0
governance_fte_per_supplier = {FTE_SUPPLIER}
governance_fte_per_pair = {FTE_PAIR}
plan = [{{ until_day = 400, staff = 2 }}]   # emptied by the search: levels hold from day 0
governance_effort_cv = 0
[operations]
enabled = false
[changes]
enabled = false
[engagement]
enabled = false
[partnership]
effects = false
[ideas.sources.business_units]
rate_per_year = 0
[ideas.sources.digital_unit]
rate_per_year = 0
[ideas.sources.citizens]
rate_per_year = 0
""" + "".join(
    f'[suppliers.{s}]\nareas = ["{a}"]\nideas_per_year = 0\n'
    for s, a in zip(SUPPLIERS, AREAS, strict=True))


def governance_load() -> float:
    pairs = len(list(combinations(SUPPLIERS, 2)))
    return len(SUPPLIERS) * FTE_SUPPLIER + pairs * FTE_PAIR


def governance_only() -> Scenario:
    import tomllib

    return scenario_from_dict(tomllib.loads(GOVERNANCE_ONLY), source="governance-only")


# ---- the search itself -------------------------------------------------------------------------
@pytest.mark.parametrize(("lo", "hi"), [(1, 60), (0, 7), (5, 5), (3, 40)])
def test_search_finds_every_threshold_with_few_evaluations(lo: int, hi: int) -> None:
    for k in range(lo, hi + 2):
        calls: list[int] = []

        def passes(s: int, k: int = k, calls: list[int] = calls) -> bool:
            calls.append(s)
            return s >= k

        got = search_smallest(passes, lo, hi)
        assert got == (k if k <= hi else None), (k, calls)
        assert len(calls) == len(set(calls)), f"a level evaluated twice: {calls}"
        span = hi - lo + 1
        assert len(calls) <= 2 * math.ceil(math.log2(span)) + 2, (k, calls)
        if k - lo >= 8:  # brute force would need k - lo + 1 evaluations
            assert len(calls) < k - lo + 1, (k, calls)


def test_wilson_interval_matches_known_values() -> None:
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = wilson(0, 40)
    assert lo == 0.0
    assert hi == pytest.approx(0.0876, abs=1e-4)
    lo, hi = wilson(40, 40)
    assert hi == 1.0
    assert lo == pytest.approx(0.9124, abs=1e-4)


# ---- targets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "target"), [
    ("innovations_per_year>=20", Target("innovations_per_year", ">=", 20.0)),
    (" coordinator_utilisation <= 0.5 ", Target("coordinator_utilisation", "<=", 0.5)),
    ("sla_breach_share<.05", Target("sla_breach_share", "<", 0.05)),
    ("benefit_msek_per_year>-1e1", Target("benefit_msek_per_year", ">", -10.0)),
])
def test_parse_target(text: str, target: Target) -> None:
    assert parse_target(text) == target


def test_target_met_counts_nan_as_not_met() -> None:
    t = Target("x", ">=", 2.0)
    assert t.met([1.0, 2.0, 3.0, math.nan]).tolist() == [False, True, True, False]
    assert Target("x", "<", 2.0).met([1.0, 2.0, math.nan]).tolist() == [True, False, False]


@pytest.mark.parametrize("text", ["innovations_per_year=>20", "innovations_per_year>=",
                                  ">=20", "innovations_per_year==20", "a>=b", ""])
def test_bad_target_grammar(text: str) -> None:
    with pytest.raises(UserError, match="expected KPI>=X"):
        parse_target(text)


def test_unknown_kpi_lists_close_names() -> None:
    with pytest.raises(UserError) as info:
        parse_target("innovation_per_year>=20", ["innovations_per_year", "ideas_per_year",
                                                 "cost_total_msek_per_year"])
    msg = str(info.value)
    assert "unknown KPI 'innovation_per_year'" in msg
    assert "innovations_per_year" in msg
    assert "cost_total" not in msg


def test_a_level_passes_when_the_share_reaches_the_confidence() -> None:
    import pandas as pd

    df = pd.DataFrame({"x": [1.0] * 9 + [0.0], "cost_total_msek_per_year": [5.0] * 10})
    lv = summarise_level(7, df, Target("x", ">=", 1.0), 0.9, strict=False, order=0)
    assert (lv.met, lv.n, lv.share, lv.passes) == (9, 10, 0.9, True)
    assert lv.means["cost_total_msek_per_year"][0] == 5.0
    assert not summarise_level(7, df, Target("x", ">=", 1.0), 0.91, False, 0).passes
    strict = summarise_level(7, df, Target("x", ">=", 1.0), 0.9, strict=True, order=0)
    assert strict.share_low == pytest.approx(wilson(9, 10)[0])
    assert not strict.passes  # the Wilson lower end (≈ 0.60) is below 0.9


# ---- the known answer --------------------------------------------------------------------------
def test_finds_known_answer_with_fewer_levels_than_brute_force() -> None:
    load = governance_load()
    expected = math.ceil(2 * load)
    assert 2 * load != expected, "choose loads that keep the answer off the boundary"
    res = find_staffing(governance_only(), "coordinator_utilisation<=0.5", confidence=0.9,
                        min_staff=1, max_staff=40, replications=2, seed=3, jobs=1)
    assert res.answer == expected
    chosen = res.levels[expected]
    assert chosen.passes
    assert chosen.share == 1.0
    assert chosen.means["coordinator_utilisation"][0] == pytest.approx(load / expected, rel=1e-6)
    assert not res.levels[expected - 1].passes
    assert res.levels[expected - 1].share == 0.0
    brute_force = expected - 1 + 1
    assert len(res.levels) < brute_force
    assert res.evaluated[:5] == [1, 2, 4, 8, 16]
    assert res.non_monotone() == []
    # cost at the answer: coordination cost = staff x yearly cost, nothing else costs staff
    cost = chosen.means["cost_coordination_msek_per_year"][0]
    assert cost == pytest.approx(expected * 0.85, rel=1e-6)


def test_plot_shows_the_evaluated_curve_and_the_chosen_level() -> None:
    res = find_staffing(governance_only(), "coordinator_utilisation<=0.5", confidence=0.9,
                        min_staff=14, max_staff=22, replications=1, jobs=1)
    fig = plot_staffing(res)
    top = fig.axes[0]
    lines = {str(ln.get_label()): ln for ln in top.get_lines()}
    share = lines["share of replications meeting the target"]
    assert np.asarray(share.get_xdata()).tolist() == sorted(res.levels)
    assert np.asarray(share.get_ydata()).tolist() == \
        [res.levels[s].share for s in sorted(res.levels)]
    chosen = next(ln for label, ln in lines.items() if label.startswith("chosen"))
    assert np.asarray(chosen.get_xdata()).tolist() == [res.answer, res.answer] == [18, 18]


# ---- the command -------------------------------------------------------------------------------
def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_staff_command_writes_answer_curve_and_cost(runner: CliRunner,
                                                    write_scenario: WriteScenario,
                                                    tmp_path: Path) -> None:
    write_scenario("gov.toml", GOVERNANCE_ONLY)
    res = runner.invoke(main, ["staff", "gov.toml", "--target", "coordinator_utilisation<=0.5",
                               "-n", "2", "-j", "1", "--max-staff", "30", "-q",
                               "--out", "out"])
    assert res.exit_code == 0, res.output
    expected = math.ceil(2 * governance_load())
    assert f"answer: {expected} coordinators" in res.output
    assert "coordination.plan = []" in res.output
    assert "coordination staff cost" in res.output
    data = _json(tmp_path / "out" / "staff.json")
    assert data["answer"] == expected
    assert data["met"] is True
    import pandas as pd

    table = pd.read_csv(tmp_path / "out" / "staff.csv")
    assert table.loc[table["chosen"], "staff"].tolist() == [expected]
    assert {"share", "share_ci_low", "share_ci_high", "cost_total_msek_per_year_mean"} \
        <= set(table.columns)
    assert (tmp_path / "out" / "staff.png").stat().st_size > 1000


def test_staff_command_says_clearly_when_not_met(runner: CliRunner,
                                                 write_scenario: WriteScenario,
                                                 tmp_path: Path) -> None:
    write_scenario("gov.toml", GOVERNANCE_ONLY)
    res = runner.invoke(main, ["staff", "gov.toml", "--target", "coordinator_utilisation<=0.5",
                               "-n", "1", "-j", "1", "--max-staff", "12", "-q",
                               "--out", "out"])
    assert res.exit_code == 0, res.output
    assert "NOT MET: even 12 coordinators" in res.output
    data = _json(tmp_path / "out" / "staff.json")
    assert data["answer"] is None
    assert data["evaluated"][-1] == 12
    assert (tmp_path / "out" / "staff.png").is_file()


@pytest.mark.parametrize(("target", "message"), [
    ("innovations_per_year=>20", "--target: cannot read 'innovations_per_year=>20'"),
    ("innovation_per_year>=20", "--target: unknown KPI 'innovation_per_year'; close names: "
                                "innovations_per_year"),
])
def test_staff_command_refuses_bad_target_with_exit_2(runner: CliRunner,
                                                      write_scenario: WriteScenario,
                                                      target: str, message: str) -> None:
    write_scenario("gov.toml", GOVERNANCE_ONLY)
    res = runner.invoke(main, ["staff", "gov.toml", "--target", target, "-q"])
    assert res.exit_code == 2, res.output
    assert f"error: {message}" in res.stderr
    assert "Traceback" not in res.output
    assert not Path("results").exists()
