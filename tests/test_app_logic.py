"""The teaching page's pure logic: controls → scenario, KPI cards, the story of one idea, figures,
export and the ``simsource app`` command (its runs: test_app_runs.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsource.app import cards, export, figures, logic, runs, story
from simsource.app.texts import HELP
from simsource.cli import main
from simsource.errors import UserError
from simsource.model import catalogue
from simsource.scenario import load_scenario, parse_overrides, with_overrides
from simsource.scenario.diff import Change, diff
from simsource.scenario.schema import PARTNERSHIP_DIMENSIONS

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def multi10() -> Any:
    return load_scenario("nacka-multi-10")


@pytest.fixture(scope="module")
def tiny() -> Any:
    """A quick scenario for batch tests: two years, one measured."""
    return with_overrides(load_scenario("nacka-multi"), {"scenario.years": 2.0})


# ---- controls → scenario -----------------------------------------------------------------------
def test_neutral_controls_change_nothing_but_the_demo_years(multi10: Any) -> None:
    c = logic.controls_for(multi10)
    assert c.years == 3.0 < multi10.scenario.years
    built = logic.build(multi10, c)
    assert built.overrides == {"scenario.years": 3.0}
    assert diff(multi10, built.scenario) == [Change("scenario.years", 4.0, 3.0)]
    full = logic.build(multi10, logic.controls_for(multi10, years=multi10.scenario.years))
    assert full.overrides == {}
    assert logic.setting_key(full.scenario) == logic.setting_key(multi10)


def test_demo_years_keep_a_measured_year() -> None:
    transfer = load_scenario("nacka-transfer-2017")   # 3 years, warm-up 0.5
    assert logic.demo_years(transfer) == 3.0
    sc = with_overrides(load_scenario("nacka-multi"), {"scenario.warmup_years": 2.5})
    assert logic.demo_years(sc) == 4.0                  # 3 years would leave half a year
    assert all(y - sc.scenario.warmup_years >= 1.0 or y == sc.scenario.years
               for y in logic.year_choices(sc))


def test_each_lever_becomes_its_override(multi10: Any) -> None:
    c = logic.controls_for(multi10)
    c.staff, c.consultants = 24, 5
    c.partnership = logic.preset_dims("heavy")
    c.responsibility = {"it": "supplier", "business": "internal", "new_service": "internal"}
    c.ambition = 35.0
    c.transfer, c.transfer_shared = True, False
    built = logic.build(multi10, c)
    sc, ov = built.scenario, built.overrides
    assert sc.coordination.staff == 24
    assert sc.coordination.consultants == 5
    assert sc.partnership.dims() == dict.fromkeys(PARTNERSHIP_DIMENSIONS, 0.9)
    assert (sc.responsibility.it, sc.responsibility.business) == ("supplier", "internal")
    assert "responsibility.new_service" not in ov          # unchanged: not overridden
    assert sc.ambition.innovations_per_year == 35.0
    assert sc.transition.enabled
    assert not sc.transition.shared_with_operations
    assert not built.sourcing_switched
    assert with_overrides(multi10, ov) == sc               # the overrides reproduce it


def test_idea_inflow_scales_every_source_and_keeps_their_mix(multi10: Any) -> None:
    c = logic.controls_for(multi10)
    c.idea_scale = 2.0
    sc = logic.build(multi10, c).scenario
    for name, src in multi10.ideas.sources.items():
        assert sc.ideas.sources[name].rate_per_year == pytest.approx(2 * src.rate_per_year)
        assert sc.ideas.sources[name].domain_mix == src.domain_mix
        assert sc.ideas.sources[name].screening_pass == src.screening_pass


def test_supplier_abilities_apply_to_every_supplier(multi10: Any) -> None:
    c = logic.controls_for(multi10)
    c.proactive, c.reactive = 0.9, 0.1
    sc = logic.build(multi10, c).scenario
    assert {s.proactive for s in sc.suppliers.values()} == {0.9}
    assert {s.reactive for s in sc.suppliers.values()} == {0.1}
    assert logic.mean_ability(multi10, "reactive") == 0.6


def test_sourcing_switch_takes_the_template_supplier_set() -> None:
    single = load_scenario("nacka-single")
    multi = load_scenario("nacka-multi")
    c = logic.controls_for(single)
    c.sourcing = "multi"
    built = logic.build(single, c)
    assert built.sourcing_switched
    assert built.scenario.suppliers == multi.suppliers
    assert built.scenario.coordination == single.coordination   # the unit is unchanged
    assert not export.set_command_possible("nacka-single", built)
    changes = diff(single, built.scenario)
    assert Change("suppliers", "incumbent", "dcg, basefarm, dustin, certessa") in changes
    assert not any(c.key.startswith("suppliers.") for c in changes)  # one line for the swap
    back = logic.controls_for(multi)
    back.sourcing = "single"
    assert logic.build(multi, back).scenario.suppliers == single.suppliers
    assert logic.sourcing_choices() == ["scenario", "single", "multi"]


def test_invalid_settings_are_user_errors(multi10: Any) -> None:
    c = logic.controls_for(multi10)
    c.staff, c.consultants = 0, 0
    with pytest.raises(UserError, match="staff \\+ consultants"):
        logic.build(multi10, c)
    c = logic.controls_for(multi10)
    c.sourcing = "three"
    with pytest.raises(UserError, match="sourcing"):
        logic.build(multi10, c)
    c = logic.controls_for(multi10)
    c.responsibility = {"it": "nobody"}
    with pytest.raises(UserError, match=r"responsibility\.it"):
        logic.build(multi10, c)


# ---- starting points ---------------------------------------------------------------------------
def test_start_options_are_builtins_then_exercises() -> None:
    opts = logic.start_options()
    assert {"nacka-single", "nacka-multi", "nacka-multi-10"} <= set(opts)
    ex = [o for o in opts if o.startswith("exercises/")]
    assert ex
    assert opts.index(ex[0]) > opts.index("nacka-single")
    sc = logic.load_start(ex[0])
    assert sc.name == ex[0].removeprefix("exercises/")


def test_uploaded_file_may_extend_a_builtin_and_errors_name_the_upload() -> None:
    good = b'extends = "nacka-multi"\n[coordination]\nstaff = 30\n'
    sc = logic.load_uploaded(good, "my-town.toml")
    assert sc.name == "my-town"
    assert sc.coordination.staff == 30
    bad = b'extends = "nacka-multi"\n[coordination]\nstaf = 30\n'
    with pytest.raises(UserError) as info:
        logic.load_uploaded(bad, "my-town.toml")
    assert info.value.problems == [
        "my-town.toml: coordination.staf: unknown key (did you mean 'staff'?)"]
    with pytest.raises(UserError, match="malformed TOML"):
        logic.load_uploaded(b"[[[", "x.toml")


# ---- KPI cards ---------------------------------------------------------------------------------
def _result(values: dict[str, list[float]], seed: int = 1) -> runs.BatchResult:
    kpis = pd.DataFrame(values, index=pd.Index(range(len(next(iter(values.values())))),
                                               name="replication"))
    return runs.BatchResult(seed=seed, n=len(kpis), kpis=kpis, timeseries=pd.DataFrame(),
                             events=[], seconds=0.0, warmup_days=220.0, horizon_days=660.0)


def test_cards_show_the_paired_difference_and_its_ci() -> None:
    base = _result({"innovations_per_year": [10.0, 12.0, 11.0, 13.0],
                    "lead_time_days_median": [100.0, 120.0, 110.0, 90.0],
                    "ideas_per_year": [300.0, 310.0, 320.0, 330.0],
                    "cost_total_msek_per_year": [math.nan] * 4})
    cur = _result({"innovations_per_year": [12.0, 14.5, 13.0, 15.0],
                   "lead_time_days_median": [100.0, 120.0, 110.0, 90.0],
                   "ideas_per_year": [300.0, 310.0, 320.0, 330.0],
                   "cost_total_msek_per_year": [math.nan] * 4})
    values = {v.card.name: v for v in cards.kpi_cards(base, cur)}
    # headline KPIs with a value, in catalogue order (none for an all-NaN or a non-headline KPI)
    assert [c.name for c in cards.CARDS] == list(catalogue.names("headline"))
    assert list(values) == ["innovations_per_year", "lead_time_days_median"]
    inn = values["innovations_per_year"]
    assert inn.card.label == "Innovations per year"
    assert inn.card.help == catalogue.get("innovations_per_year").description
    assert inn.current == pytest.approx(13.625)
    assert inn.baseline == pytest.approx(11.5)
    assert inn.diff == pytest.approx(2.125)
    assert inn.low < 2.125 < inn.high
    assert inn.low > 0
    assert inn.verdict == "better"
    assert inn.value_text == "13.6"
    assert inn.delta_text == "+2.1"
    assert "95 % CI [+1.7, +2.5]" in inn.ci_text  # t(3) = 3.18, se = 0.125
    lead = values["lead_time_days_median"]
    assert lead.card.label == "Median lead time from idea to implementation (working days)"
    assert lead.verdict == "no change"
    assert lead.delta_text is None
    [missing] = cards.kpi_cards(base, cur, [cards.Card(catalogue.get("benefit_msek_per_year"))])
    assert math.isnan(missing.diff)
    assert missing.value_text == "–"
    with pytest.raises(ValueError, match="same seed"):
        cards.kpi_cards(base, _result({"innovations_per_year": [1.0]}, seed=2))


def test_card_verdicts_follow_the_catalogue_direction() -> None:
    base = _result({"cost_total_msek_per_year": [80.0, 81.0, 82.0],
                    "coordinator_utilisation": [0.5, 0.6, 0.7],
                    "between_chairs_per_year": [1.0, 5.0, 3.0],
                    "transition_deadline_met": [math.nan] * 3})
    cur = _result({"cost_total_msek_per_year": [90.0, 91.5, 92.0],
                   "coordinator_utilisation": [0.6, 0.7, 0.8],
                   "between_chairs_per_year": [2.0, 4.0, 3.5],
                   "transition_deadline_met": [math.nan] * 3})
    values = {v.card.name: v for v in cards.kpi_cards(base, cur)}
    assert values["cost_total_msek_per_year"].verdict == "worse"         # lower is better
    assert values["coordinator_utilisation"].verdict == "higher"         # no good direction
    assert values["coordinator_utilisation"].delta_text == "+10 pp"
    assert values["coordinator_utilisation"].value_text == "70 %"
    assert values["between_chairs_per_year"].verdict == "no clear change"
    assert "transition_deadline_met" not in values  # no transfer: no card
    with_transfer = _result({"transition_deadline_met": [1.0, 0.0, 1.0]})
    assert "transition_deadline_met" in {c.name for c in cards.cards_for(with_transfer)}


def test_overload_warning_on_the_page_follows_funnel_stable() -> None:
    stable = _result({"funnel_stable": [1.0, 1.0, 0.0]})
    unstable = _result({"funnel_stable": [0.0, 0.0, 1.0]})
    old = _result({"innovations_per_year": [1.0, 2.0, 3.0]})   # results without the column
    lines = cards.overload_warnings({"baseline": stable, "current": unstable, "old": old})
    assert lines == [catalogue.overload_warning("current", 1 / 3)]
    assert "overloaded" in lines[0]


# ---- export ------------------------------------------------------------------------------------
def test_exported_toml_and_command_reproduce_the_setting(multi10: Any, tmp_path: Path) -> None:
    c = logic.controls_for(multi10)
    c.staff = 16
    c.partnership = {**c.partnership, "mandate": 0.9}
    built = logic.build(multi10, c)
    name = export.export_name(multi10.name)
    assert name == "nacka-multi-10-whatif"
    text = export.export_toml(built.scenario, name, seed=2017, n=20, note="class 3B")
    assert "# reproduce: simsource run nacka-multi-10-whatif.toml -n 20 --seed 2017" in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    again = load_scenario(path)
    assert again.name == name
    assert logic.setting_key(again) == logic.setting_key(built.scenario)
    assert again.scenario.years == 3.0

    cmd = export.run_command("nacka-multi-10", n=20, seed=2017, overrides=built.overrides)
    assert cmd == ("simsource run nacka-multi-10 -n 20 --seed 2017 --set scenario.years=3.0 "
                   "--set coordination.staff=16 --set partnership.mandate=0.9")
    assert export.set_command_possible("nacka-multi-10", built)
    assert not export.set_command_possible(None, built)           # uploaded: no built-in name
    sets = cmd.split("--set ")[1:]
    assert logic.setting_key(load_scenario("nacka-multi-10", parse_overrides(
        [s.strip() for s in sets]))) == logic.setting_key(built.scenario)
    assert export.compare_command(["a b.toml", "c.toml"], n=5, seed=1) == \
        "simsource compare 'a b.toml' c.toml -n 5 --seed 1"


@pytest.mark.parametrize("lever", ["idea_scale", "abilities", "plan", "transfer", "resp"])
def test_the_set_command_is_only_offered_when_it_reproduces_exactly(lever: str) -> None:
    base = load_scenario("nacka-multi")
    c = logic.controls_for(base)
    if lever == "idea_scale":
        c.idea_scale = 1.5
    elif lever == "abilities":
        c.reactive = 0.9
    elif lever == "plan":
        c.keep_plan = False
    elif lever == "transfer":
        c.transfer, c.transfer_shared = True, False
    else:
        c.responsibility = {"it": "internal", "business": "supplier", "new_service": "shared"}
    built = logic.build(base, c)
    if export.set_command_possible("nacka-multi", built):
        items = [f"{k}={export._set_value(v)}" for k, v in built.overrides.items()]
        again = load_scenario("nacka-multi", parse_overrides(items))
        assert logic.setting_key(again) == logic.setting_key(built.scenario)


# ---- the story of one idea ---------------------------------------------------------------------
EVENTS: list[dict[str, Any]] = [
    {"time": 230.0, "kind": "idea", "id": 1, "stage": "idea", "event": "created",
     "detail": "business_units idea in business, areas network+operations"},
    {"time": 230.0, "kind": "idea", "id": 1, "stage": "screening", "event": "enters screening",
     "detail": ""},
    {"time": 232.0, "kind": "idea", "id": 1, "stage": "screening", "event": "passes screening",
     "detail": "after 2.0 days"},
    {"time": 232.0, "kind": "idea", "id": 1, "stage": "screening", "event": "waits",
     "detail": "8 days for the next sync point"},
    {"time": 240.0, "kind": "idea", "id": 1, "stage": "matching", "event": "enters matching",
     "detail": ""},
    {"time": 250.0, "kind": "idea", "id": 1, "stage": "matching", "event": "passes matching",
     "detail": "after 10.0 days"},
    {"time": 250.0, "kind": "idea", "id": 1, "stage": "decision", "event": "escalated",
     "detail": "waits 23 days for the line organisation's meeting"},
    {"time": 273.0, "kind": "idea", "id": 1, "stage": "decision", "event": "passes decision",
     "detail": "after 23.0 days"},
    {"time": 275.0, "kind": "idea", "id": 1, "stage": "project", "event": "enters project",
     "detail": ""},
    {"time": 330.0, "kind": "idea", "id": 1, "stage": "project", "event": "passes project",
     "detail": "after 55.0 days"},
    {"time": 330.0, "kind": "idea", "id": 1, "stage": "project", "event": "implemented",
     "detail": "value 0.40 MSEK/year, lead time 100 days"},
    {"time": 231.0, "kind": "idea", "id": 2, "stage": "idea", "event": "created",
     "detail": "citizens idea in new_service, areas security"},
    {"time": 231.0, "kind": "idea", "id": 2, "stage": "screening", "event": "waits",
     "detail": "innovation work waits until the transfer is finished"},
    {"time": 260.0, "kind": "idea", "id": 2, "stage": "screening", "event": "enters screening",
     "detail": ""},
    {"time": 261.0, "kind": "idea", "id": 2, "stage": "screening",
     "event": "dropped at screening", "detail": "after 1.0 days"},
    {"time": 235.0, "kind": "incident", "id": 9, "stage": "network", "event": "between chairs",
     "detail": "x"},
    {"time": 300.0, "kind": "idea", "id": 3, "stage": "idea", "event": "created",
     "detail": "supplier:dcg idea in it, areas network"},
]


def test_story_names_the_waits_and_the_outcome() -> None:
    owners = {"network": "dcg", "operations": "basefarm", "security": "certessa"}
    lines = story.story(EVENTS, 1, owners)
    text = "\n".join(lines)
    assert lines[0].startswith("**Day 230 (month 12)**: a new idea from a business unit about "
                               "business development (VU)")
    assert "2 suppliers (basefarm, dcg)" in lines[0]
    assert "waits 8 days for the next sync point" in text
    assert "escalated and waits 23 days for the line organisation's meeting" in text
    assert "implemented after 55 days of project work, worth 0.40 MSEK a year" in text
    assert lines[-1] == ("In all: 100 working days from idea to implemented, of which 8 days "
                         "waiting for sync points, 23 days waiting for the line organisation.")
    dropped = story.story(EVENTS, 2, owners)
    assert "it waits 29 days" in dropped[1]
    assert "dropped at screening" in dropped[2]
    assert dropped[-1].endswith("of which 29 days waiting for the transfer to finish.")
    assert story.story(EVENTS, 3)[0].startswith("**Day 300 (month 16)**: a new idea from "
                                                "supplier dcg")
    assert "still in the funnel" in story.story(EVENTS, 3)[-1]
    assert story.story(EVENTS, 99) == []


def test_pick_ideas_prefers_ideas_after_the_warmup() -> None:
    fates = story.fates(EVENTS)
    assert fates[1].outcome == "implemented"
    assert fates[2].outcome == "dropped:screening"
    assert fates[3].outcome == "in the funnel"
    assert story.pick_ideas(EVENTS, after_day=220) == {"implemented": 1, "dropped": 2}
    assert story.pick_ideas(EVENTS[-1:], after_day=0) == {}


def test_story_of_a_real_replication_reads_end_to_end(tiny: Any) -> None:
    res = runs.run_setting(tiny, seed=5, n=1, jobs=1)
    picks = story.pick_ideas(res.events, res.warmup_days)
    assert set(picks) == {"implemented", "dropped"}
    owners = {str(a): tiny.owner_of(a) for a in tiny.scenario.areas}
    for idea in picks.values():
        lines = story.story(res.events, idea, owners)
        assert lines[0].startswith("**Day ")
        assert lines[-1].startswith("In all: ")
        assert not any("(idea)." in line or "(screening)." in line for line in lines), \
            "an event the story does not know"


# ---- figures -----------------------------------------------------------------------------------
def test_figures_are_the_analysis_plots_of_both_batches(tiny: Any) -> None:
    a, b = runs.run_settings([tiny, with_overrides(tiny, {"coordination.staff": 30})], seed=1,
                             n=2, jobs=1)
    for draw in (figures.funnel_figure, figures.load_figure, figures.cost_figure,
                 figures.ambition_figure):
        fig = draw(a, b, "base", "more staff")
        ax = fig.axes[0]
        labels = [t.get_text() for t in [*ax.get_legend().get_texts(), *ax.get_xticklabels()]]
        assert any("baseline: base" in t for t in labels), draw
        assert any("current: more staff" in t for t in labels), draw
        assert fig.get_size_inches()[0] <= 6
    # the funnel is analysis.plots' funnel: bars carry its gids and the mean flows
    funnel = figures.funnel_figure(a, b, "base", "more")
    bars = {p.get_gid(): p for p in funnel.axes[0].patches if p.get_gid()}
    assert len(bars) == 2 * 2 * 4
    assert bars["funnel:baseline: base:in:screening"].get_height() == pytest.approx(
        a.mean("funnel_in_screening_per_year"))
    load = figures.load_figure(a, b, "base", "more")
    lines = {ln.get_gid(): ln for ln in load.axes[0].lines}
    assert {"load:baseline: base:all", "load:current: more:ops"} <= set(lines)
    # the operations part is what operations_share_of_unit_effort sums (triage, governance,
    # change requests, hand-offs), in percent, below all work
    ts = a.timeseries
    ops = (ts["load_triage"] + ts["load_governance"] + ts["load_change"]
           + ts["load_handoff"]) * 100
    assert lines["load:baseline: base:ops"].get_ydata() == pytest.approx(ops.to_numpy())
    assert all(lines["load:baseline: base:all"].get_ydata() >= ops.to_numpy() - 1e-9)


def test_page_figures_carry_the_overload_note() -> None:
    from simsource.analysis.plots._common import OVERLOAD_GID

    cols = {"funnel_in_screening_per_year": [10.0, 11.0], "funnel_out_screening_per_year":
            [5.0, 6.0]}
    base = _result({**cols, "funnel_stable": [1.0, 1.0]})
    cur = _result({**cols, "funnel_stable": [0.0, 0.0]})
    fig = figures.funnel_figure(base, cur, "a", "b")
    notes = [t for t in fig.findobj() if getattr(t, "get_gid", lambda: None)() == OVERLOAD_GID]
    assert len(notes) == 1
    assert "current: b is overloaded" in notes[0].get_text()
    assert not [t for t in figures.funnel_figure(base, base).findobj()
                if getattr(t, "get_gid", lambda: None)() == OVERLOAD_GID]


def test_cost_figure_skips_empty_components() -> None:
    base = _result({"cost_operations_msek_per_year": [50.0, 52.0],
                    "cost_transfer_msek_per_year": [float("nan"), float("nan")]})
    fig = figures.cost_figure(base, base)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "Operations cost"
    assert "Transfer cost" not in labels


# ---- help texts --------------------------------------------------------------------------------
def test_every_control_has_one_plain_line_of_help() -> None:
    page = (Path(logic.__file__).parent / "page.py").read_text(encoding="utf-8")
    import re

    used = set(re.findall(r'HELP\["([a-z_]+)"\]', page)) | set(
        re.findall(r'caption\("([a-z_]+)"\)', page))
    used |= {f"resp_{d}" for d in ("it", "business", "new_service")}
    used |= set(PARTNERSHIP_DIMENSIONS)
    assert used <= set(HELP)
    for key, text in HELP.items():
        assert "\n" not in text
        assert 20 < len(text) < 220, key


# ---- the command -------------------------------------------------------------------------------
def test_app_command_without_streamlit_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "streamlit" else real(name, *a))
    res = CliRunner().invoke(main, ["app"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "error: streamlit is not installed: pip install 'simsource[app]'"]


def test_app_command_runs_streamlit_locally_and_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    calls: list[list[str]] = []

    def fake_exec(path: str, argv: list[str]) -> None:
        calls.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_exec)
    monkeypatch.setattr(os, "name", "posix")
    res = CliRunner().invoke(main, ["app", "--port", "8600"])
    assert res.exit_code == 0
    (argv,) = calls
    assert argv[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert argv[4].endswith(str(Path("simsource") / "app" / "serve.py"))
    opts = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert opts["--server.address"] == "127.0.0.1"
    assert opts["--server.port"] == "8600"
    assert opts["--server.headless"] == "true"
    assert opts["--browser.gatherUsageStats"] == "false"
    res = CliRunner().invoke(main, ["app", "--port", "0"])
    assert res.exit_code == 2


def test_mean_of_a_missing_kpi_is_nan() -> None:
    assert np.isnan(_result({"x": [1.0]}).mean("y"))
