"""The classroom exercise pack: worksheets are complete, the page steps they describe give their
scenario files, and every teacher's expected direction holds (20 replications, seed 2017, CRN,
paired 95 % CI excludes zero)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from simsource.analysis.plots.labels import COST_PARTS
from simsource.app import cards, logic, runs
from simsource.app import exercises as ex
from simsource.model import catalogue
from simsource.scenario import Scenario
from simsource.scenario.diff import diff
from simsource.stats import paired_difference

EXERCISES = ex.list_exercises()
IDS = [e.worksheet.stem for e in EXERCISES]


def test_pack_has_eight_numbered_complete_worksheets() -> None:
    assert [e.number for e in EXERCISES] == [f"{i:02d}" for i in range(1, 9)]
    for e in EXERCISES:
        positions = [e.text.find(s) for s in ex.SECTIONS]
        assert all(p >= 0 for p in positions), f"{e.worksheet.name}: missing a section"
        assert positions == sorted(positions), f"{e.worksheet.name}: sections out of order"
        assert len(e.scenarios) >= 2, f"{e.worksheet.name}: needs scenarios to compare"
        assert e.expectations, f"{e.worksheet.name}: no expected block"
        assert "expected" not in e.student_text, "the student text must not give the answer"
        for claim in e.expectations:
            assert {claim.left, claim.right} <= set(e.scenarios), f"{e.worksheet.name}: {claim}"
            assert claim.left != claim.right


def test_every_scenario_file_belongs_to_a_worksheet_and_loads() -> None:
    folder = ex.exercises_dir()
    numbers = {e.number for e in EXERCISES}
    for path in sorted(folder.glob("*.toml")):
        assert path.stem[:2] in numbers, f"{path.name} belongs to no worksheet"
    for e in EXERCISES:
        for stem in e.scenarios:
            sc = e.load(stem)
            assert sc.name == stem
            assert sc.scenario.years <= 3, f"{stem}: keep classroom runs short"
            assert stem in e.text, f"{e.worksheet.name} does not mention {stem}"


def test_every_checked_kpi_can_be_seen_on_the_page() -> None:
    """A claim's KPI is a card, a row of the *Behind the cards* table or a bar of the cost
    chart, and a worksheet that sends students *Behind the cards* names rows that are there."""
    shown = {c.name for c in (*cards.CARDS, *cards.BEHIND)} | {k for k, _ in COST_PARTS}
    rows = {c.label for c in cards.BEHIND}
    for e in EXERCISES:
        for claim in e.expectations:
            assert claim.kpi in catalogue.CATALOGUE, f"{e.worksheet.name}: {claim.kpi}"
            assert claim.kpi in shown, f"{e.worksheet.name}: {claim.kpi} is not on the page"
        observe = e.text.split("## What to observe", 1)[1].split("## ", 1)[0]
        for part in observe.split("*Behind the cards*")[1:]:
            named = [" ".join(m.split())
                     for m in re.findall(r"\*([^*]+)\*", part.split("\n- ", 1)[0])]
            assert named, f"{e.worksheet.name}: names nothing behind the cards"
            for label in named:
                assert any(r.startswith(label) for r in rows), \
                    f"{e.worksheet.name}: '{label}' is not behind the cards"


def test_malformed_expected_line_is_reported() -> None:
    text = "x\n```expected\ninnovations_per_year: a <= b\n```\n"
    with pytest.raises(ValueError, match="cannot read"):
        ex.parse_expectations(text, "w.md")
    ok = ex.parse_expectations("```expected\n# note\nk: a < b\n\nk2: c > d\n"
                               "k3: e ~ f ± 2.5 %\n```\n")
    assert [str(c) for c in ok] == ["k: a < b", "k2: c > d", "k3: e ~ f ±2.5%"]
    assert ok[2].margin == pytest.approx(0.025)
    for bad in ("k: a ~ b", "k: a < b ±5%", "k: a ~ b ±x%"):
        with pytest.raises(ValueError, match="cannot read"):
            ex.parse_expectations(f"```expected\n{bad}\n```\n", "w.md")


def _by_number(n: str) -> ex.Exercise:
    return next(e for e in EXERCISES if e.number == n)


def _page(start: Scenario, **changes: object) -> Scenario:
    c = logic.controls_for(start)
    for k, v in changes.items():
        setattr(c, k, v)
    return logic.build(start, c).scenario


@pytest.mark.parametrize(
    ("number", "start", "target", "changes"),
    [
        ("01", "01-dilemma-single", "01-dilemma-four-suppliers", {"sourcing": "multi"}),
        ("02", "02-coordinators-10", "02-coordinators-16", {"staff": 16}),
        ("03", "03-partnership-light", "03-partnership-heavy",
         {"partnership": logic.preset_dims("heavy")}),
        ("03", "03-partnership-heavy", "03-partnership-heavy-light-mandate",
         {"partnership": {**logic.preset_dims("heavy"), "mandate": 0.2}}),
        ("04", "04-business-shared", "04-business-supplier-led",
         {"responsibility": {"it": "supplier", "business": "supplier",
                             "new_service": "internal"}}),
        ("05", "05-transfer-shared-team", "05-transfer-separate-teams",
         {"transfer_shared": False}),
        ("06", "06-ambition-as-today", "06-ambition-doubled",
         {"idea_scale": 2.0, "ambition": 40.0}),
        # the ladder's third rung is the page's sourcing lever applied to the second
        ("07", "07-ladder-split", "07-ladder-multi-10", {"sourcing": "multi"}),
    ],
)
def test_page_steps_of_the_worksheet_give_its_scenario_file(
        number: str, start: str, target: str, changes: dict[str, object]) -> None:
    e = _by_number(number)
    made = _page(e.load(start), **changes)
    assert diff(e.load(target), made) == []
    assert logic.setting_key(made) == logic.setting_key(e.load(target))
    assert logic.setting_key(made) != logic.setting_key(e.load(start))


@pytest.fixture(scope="module")
def batches() -> dict[str, runs.BatchResult]:
    """Every exercise scenario run once (identical settings shared), in parallel."""
    t0 = time.perf_counter()
    stems = {stem: e.load(stem) for e in EXERCISES for stem in e.scenarios}
    unique = {logic.setting_key(sc): sc for sc in stems.values()}
    results = dict(zip(unique, runs.run_settings(list(unique.values()), ex.SEED,
                                                  ex.REPLICATIONS), strict=True))
    out = {stem: results[logic.setting_key(sc)] for stem, sc in stems.items()}
    elapsed = time.perf_counter() - t0
    print(f"\nexercise pack: {len(results)} settings x {ex.REPLICATIONS} replications "
          f"in {elapsed:.1f} s")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_teachers_expected_directions_hold(exercise: ex.Exercise,
                                           batches: dict[str, runs.BatchResult]) -> None:
    failures = []
    for claim in exercise.expectations:
        left, right = batches[claim.left], batches[claim.right]
        assert left.seed == right.seed == ex.SEED
        assert left.n == right.n == ex.REPLICATIONS
        assert claim.kpi in left.kpis, f"unknown KPI {claim.kpi}"
        d = paired_difference(right.kpis[claim.kpi], left.kpis[claim.kpi])  # left - right
        if not claim.holds(d, float(right.kpis[claim.kpi].mean())):
            failures.append(f"{claim}: left - right = {d.mean:+.3f} [{d.low:+.3f}, "
                            f"{d.high:+.3f}]")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_behind_the_cards_shows_the_mechanisms() -> None:
    # its own small batch: the whole exercise pack (the `batches` fixture) is a slow test
    e7 = next(e for e in EXERCISES if e.scenarios and "07-ladder-single" in e.scenarios)
    single, split = (e7.load(stem) for stem in ("07-ladder-single", "07-ladder-split"))
    one, two = runs.run_settings([single, split], ex.SEED, 8)
    table = cards.behind_table(one, two)
    rows = table.set_index("KPI")
    misrouted = rows.loc[cards.Card(catalogue.get("misrouted_share")).label]
    assert misrouted["verdict"] == "worse"
    assert misrouted["difference [95 % CI]"].startswith("+")
    assert "[" in misrouted["difference [95 % CI]"]
    assert misrouted["meaning"] == catalogue.get("misrouted_share").description
    # no transfer in these scenarios: its rows are left out
    assert cards.Card(catalogue.get("transition_systems_late")).label not in rows.index
    assert len(table) == len(cards.BEHIND) - 2


def test_claims_can_fail() -> None:
    """A claim with the direction reversed is rejected (the check is not vacuous)."""
    d = paired_difference([1.0, 2.0, 3.0, 4.0], [2.0, 3.1, 4.0, 5.2])
    assert ex.Expectation("k", "b", ">", "a").holds(d)
    assert not ex.Expectation("k", "b", "<", "a").holds(d)
    flat = paired_difference([1.0, 2.0, 3.0], [1.5, 1.5, 3.0])
    assert not ex.Expectation("k", "b", ">", "a").holds(flat)
    assert not ex.Expectation("k", "b", "<", "a").holds(flat)
    # "~": the whole CI within the margin of the reference mean; a clear or a noisy
    # difference fails, and so does a claim without a reference
    same = paired_difference([10.0, 20.0, 30.0, 40.0], [10.1, 19.9, 30.1, 39.9])
    assert ex.Expectation("k", "b", "~", "a", 0.05).holds(same, 25.0)
    assert not ex.Expectation("k", "b", "~", "a", 0.001).holds(same, 25.0)
    assert not ex.Expectation("k", "b", "~", "a", 0.05).holds(same)
    assert not ex.Expectation("k", "b", "~", "a", 0.05).holds(d, 2.5)
    assert not ex.Expectation("k", "b", "~", "a", 0.05).holds(flat, 2.0)
    assert ex.Expectation("k", "b", "~", "a", 0.5).holds(
        paired_difference([3.0, 3.0], [3.0, 3.0]), 3.0)


def test_readme_lists_every_worksheet() -> None:
    readme = (ex.exercises_dir() / "README.md").read_text(encoding="utf-8")
    for e in EXERCISES:
        assert Path(e.worksheet).name in readme
