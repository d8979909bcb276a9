"""The replay: the dots of each frame are the ideas and incidents present in the log at that
time, the red ones add up to the between-chairs KPI, the desks follow the log and the plan,
and `simsource animate` writes one self-contained page (checked in Chromium by
test_replay_e2e.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsource.analysis.replay import GENERATOR, Panel, build_replay, replay_html
from simsource.analysis.replay import desks as dk
from simsource.analysis.replay.figure import DOT_STYLE, frame_times
from simsource.analysis.replay.journeys import CHAIRS, IDEA, INCIDENT, chairs_times, incidents
from simsource.cli import main
from simsource.experiment.trace import events_frame
from simsource.model import simulate_full
from simsource.scenario import Scenario, load_scenario

#: few ideas and incidents, so that no group reaches its cap ("+ n more")
QUIET = {"scenario.years": 1.0, "scenario.warmup_years": 0.0,
         "ideas.sources.business_units.rate_per_year": 30.0,
         "ideas.sources.digital_unit.rate_per_year": 10.0,
         "ideas.sources.citizens.rate_per_year": 10.0,
         **{f"operations.incidents_per_year.{a}": 60.0
            for a in ("network", "operations", "security", "telephony")}}
DOTS = list(DOT_STYLE)         # the frame's first traces, in this order: then "+ n", desks, text


def _log(sc: Scenario, seed: int = 4) -> pd.DataFrame:
    events = simulate_full(sc, seed=seed, replication=0, trace=True).events
    assert events is not None
    return events_frame(events)


@pytest.fixture(scope="module")
def quiet() -> tuple[Scenario, pd.DataFrame]:
    sc = load_scenario("nacka-multi", QUIET)
    return sc, _log(sc)


def _present(log: pd.DataFrame, sc: Scenario, t: float, hold: float) -> dict[str, int]:
    """Ideas and incidents present at ``t``, counted from the log alone."""
    ideas = log[log["kind"] == "idea"]
    created = ideas[ideas["event"] == "created"].groupby("id")["time"].min()
    done = ideas[(ideas["event"] == "implemented") | ideas["event"].str.startswith(
        "dropped at")].groupby("id")["time"].min().reindex(created.index)
    gone = (done + hold).fillna(np.inf)
    inc = incidents(log, sc)
    here = (inc["arrived"] <= t) & (inc["resolved"] >= t)
    red = here & (inc["chairs"] <= t)
    return {IDEA: int(((created <= t) & (gone >= t)).sum()), INCIDENT: int((here & ~red).sum()),
            CHAIRS: int(red.sum())}


@pytest.mark.slow
def test_each_frame_shows_the_ideas_and_incidents_of_the_log(
        quiet: tuple[Scenario, pd.DataFrame]) -> None:
    sc, log = quiet
    step, hold = 4, 10.0
    fig = build_replay([Panel("quiet", log, sc)], 0, 200, step, hold=hold)
    times = frame_times(0, 200, step)
    assert [f.name for f in fig.frames] == [f"{t:g}" for t in times]
    seen = {IDEA: 0, INCIDENT: 0, CHAIRS: 0}
    for frame, t in zip(fig.frames, times, strict=True):
        assert len(frame.data[len(DOTS)].x) == 0, "a group reached its cap: quieten QUIET"
        shown = {g: len(frame.data[i].x) for i, g in enumerate(DOTS)}
        assert shown == _present(log, sc, float(t), hold), f"day {t:g}"
        for g, n in shown.items():
            seen[g] += n
    assert min(seen.values()) > 0, seen           # the test saw every kind of dot


@pytest.mark.slow
def test_an_idea_walks_the_funnel_in_order(quiet: tuple[Scenario, pd.DataFrame]) -> None:
    sc, log = quiet
    fig = build_replay([Panel("quiet", log, sc)], 0, 200, 1)
    ideas = fig.frames[0].data[0]
    assert ideas.ids is None or len(ideas.ids) == len(ideas.x)
    # an implemented idea's dot moves rightwards, stage by stage
    impl = log[(log["kind"] == "idea") & (log["event"] == "implemented")]
    assert len(impl) > 0
    eid = str(100_000_000 + int(impl["id"].iloc[0]))
    xs = [float(f.data[0].x[list(f.data[0].ids).index(eid)]) for f in fig.frames
          if f.data[0].ids is not None and eid in list(f.data[0].ids)]
    columns = [int((x - 30) // 190) for x in xs]      # the funnel's five columns
    assert columns == sorted(columns)
    assert columns[-1] == 4
    assert len(set(columns)) >= 4


def test_red_dots_add_up_to_the_between_chairs_kpi() -> None:
    sc = load_scenario("nacka-multi-10", {"scenario.years": 2.0, "scenario.warmup_years": 1.0})
    res = simulate_full(sc, seed=9, replication=0, trace=True)
    assert res.events is not None
    log = events_frame(res.events)
    inc = incidents(log, sc)
    chairs = chairs_times(log, sc)
    arrived = inc.loc[chairs.index, "arrived"]
    in_window = ((arrived >= sc.warmup_days) & (arrived <= sc.horizon_days)).sum()
    assert in_window > 5
    assert in_window / 1.0 == pytest.approx(res.kpis["between_chairs_per_year"])


def _desk_log(rows: list[tuple[float, int, str, str]]) -> pd.DataFrame:
    return events_frame([{"time": t, "kind": "coordinator", "id": s, "event": e, "stage": k,
                          "detail": "", "resource": "coordinators", "slot": s}
                         for t, s, e, k in rows])


def test_desks_follow_the_log_preemption_and_the_staffing_plan() -> None:
    sc = load_scenario("nacka-multi", {"coordination.plan": [{"until_day": 10, "staff": 2,
                                                              "consultants": 0}],
                                       "coordination.staff": 3, "coordination.consultants": 0})
    log = _desk_log([(1.0, 0, "start", "screening"), (2.0, 0, "start", "triage"),   # pre-empted:
                     (2.0, 0, "stop", "screening"),                                 # late stop
                     (3.0, 0, "stop", "triage"), (4.0, 1, "start", "project"),
                     (12.0, 2, "start", "governance")])
    states = dk.desk_states(log, sc, [0.5, 1.5, 2.5, 3.5, 5.0, 11.0, 13.0])
    name = [[dk.STATES[c] for c in row] for row in states]
    assert name == [["free", "free", "not staffed"], ["screening", "free", "not staffed"],
                    ["triage", "free", "not staffed"], ["free", "free", "not staffed"],
                    ["free", "project", "not staffed"], ["free", "project", "free"],
                    ["free", "project", "governance"]]
    ops, inn, free = dk.desk_counts(states)
    assert list(ops) == [0, 0, 1, 0, 0, 0, 1]
    assert list(inn) == [0, 1, 0, 0, 1, 1, 1]
    assert list(free) == [2, 1, 1, 2, 1, 2, 1]


def test_two_settings_share_one_clock(quiet: tuple[Scenario, pd.DataFrame]) -> None:
    sc, log = quiet
    other = load_scenario("nacka-multi", {**QUIET, "coordination.staff": 30})
    fig = build_replay([Panel("A", log, sc), Panel("B", _log(other), other)], 0, 100, 5)
    assert len(fig.frames) == len(frame_times(0, 100, 5))
    desks = fig.frames[0].data[len(DOTS) + 1]
    assert len(desks.x) == dk.desk_count(sc) + dk.desk_count(other)
    clock = fig.frames[3].data[-1].text
    assert clock[0].startswith("<b>Working day 15</b>")
    assert len(clock) == 1 + 2 * 2
    assert [c["label"] for c in fig.layout.updatemenus[0].buttons] == ["▶ Play", "Pause"]
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)


def test_the_page_is_self_contained(quiet: tuple[Scenario, pd.DataFrame]) -> None:
    sc, log = quiet
    page = replay_html(build_replay([Panel("quiet", log, sc)], 0, 40, 5), "quiet")
    assert GENERATOR in page[:2000]
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    assert re.search(r"<link[^>]*\bhref\s*=", page, re.IGNORECASE) is None
    assert re.search(r"@import\s+url", page, re.IGNORECASE) is None
    assert "Plotly.newPlot" in page
    assert len(page) > 3_000_000


def test_simsource_animate_writes_the_replay(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "replay.html"
    args = ["animate", "nacka-multi-10", "--years", "0.2", "--step", "4", "-o", str(out)]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output
    assert "12 frames" in res.output
    page = out.read_text(encoding="utf-8")
    assert GENERATOR in page
    assert "nacka-multi-10" in page
    assert runner.invoke(main, args).exit_code == 0          # its own file: replaced


def test_animate_refuses_bad_input_and_files_of_the_user(tmp_path: Path,
                                                         runner: CliRunner) -> None:
    mine = tmp_path / "slides.html"
    mine.write_text("<html>my slides</html>", encoding="utf-8")
    res = runner.invoke(main, ["animate", "nacka-multi-10", "--years", "0.1", "-o", str(mine)])
    assert res.exit_code == 2
    assert "was not written by simsource" in res.output
    assert mine.read_text(encoding="utf-8") == "<html>my slides</html>"
    res = runner.invoke(main, ["animate", "nacka-multi-10", "-o", str(tmp_path / "r.png")])
    assert res.exit_code == 2
    assert "use a .html or .htm file name" in res.output
    res = runner.invoke(main, ["animate", "nacka-multi-10", "--years", "10", "--step", "1",
                               "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert "raise --step" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slides.html"]


def test_worksheets_have_a_watch_step_that_runs() -> None:
    """At least two worksheets send the class to the Watch tab, between what to observe and the
    prediction, with a `simsource animate` command whose scenario file exists."""
    from simsource.app import exercises as ex

    watched = [e for e in ex.list_exercises() if "## Watch it happen" in e.student_text]
    assert len(watched) >= 2
    for e in watched:
        text = e.student_text
        assert text.index("## What to observe") < text.index("## Watch it happen") \
            < text.index("## Your prediction"), e.worksheet.name
        step = text.split("## Watch it happen", 1)[1].split("## ", 1)[0]
        assert "**Watch**" in step, e.worksheet.name
        commands = re.findall(r"`simsource animate (\S+)", step.replace("\n", " "))
        assert commands, e.worksheet.name
        for path in commands:
            assert (Path(__file__).resolve().parents[1] / path).is_file(), path


@pytest.mark.slow
def test_the_watch_tab_shows_the_same_year_from_the_cache_or_a_shorter_run() -> None:
    """A setting not run yet is simulated up to the end of the year watched only; the replay is
    the one the cached full replication gives (the page's Results tab ran it)."""
    from simsource.app import runs, watch

    base = load_scenario("nacka-multi-10", {"scenario.years": 2.0, "scenario.warmup_years": 1.0})
    cur = load_scenario("nacka-multi-10", {"scenario.years": 2.0, "scenario.warmup_years": 1.0,
                                           "coordination.staff": 24})
    fresh = watch.build_watch(base, cur, "b", "c", 3, 1, cache=runs.ReplicationCache())
    cache = runs.ReplicationCache()
    runs.run_settings([base, cur], 3, 1, cache=cache)
    cached = watch.build_watch(base, cur, "b", "c", 3, 1, cache=cache)
    assert len(fresh.figure.frames) == 45
    a, b = json.loads(fresh.figure.to_json()), json.loads(cached.figure.to_json())
    assert a["frames"] == b["frames"]
    assert a["data"] == b["data"]
