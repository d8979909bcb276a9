"""The story of one idea reads the model's own event log: every source of ideas (business units,
suppliers' improvement work, needs found out in the business) and the owners of the areas an
idea touches come out as words, with the decision told as change requests, mandate and the
line organisation's payback hurdle."""

from __future__ import annotations

from typing import Any

import pytest

from simsource.app import story
from simsource.model import simulate_full
from simsource.scenario import load_scenario
from simsource.scenario.loader import with_overrides


@pytest.fixture(scope="module")
def traced() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One replication of nacka-multi with a light partnership (escalations, rejections), two
    years, with its event log."""
    sc = with_overrides(load_scenario("nacka-multi"),
                        {"scenario.years": 2.0, "partnership.preset": "light"})
    res = simulate_full(sc, seed=2017, replication=0, trace=True)
    assert res.events is not None
    owners = {str(a): sc.owner_of(a) for a in sc.scenario.areas}
    return res.events, owners


def _first_lines(events: list[dict[str, Any]], owners: dict[str, str],
                 prefix: str) -> list[str]:
    ids = [int(e["id"]) for e in events if e.get("kind") == "idea" and e["event"] == "created"
           and str(e["detail"]).startswith(prefix)]
    assert ids, f"no idea from {prefix} in the log"
    return [story.story(events, i, owners)[0] for i in ids[:20]]


def test_every_source_and_owner_is_told_in_words(
        traced: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
    events, owners = traced
    for prefix, words in (("business_units", "a business unit"),
                          ("supplier:", "'s improvement work"),
                          ("embedded", "a coordinator working out in the business")):
        for line in _first_lines(events, owners, prefix):
            assert words in line, line
            assert ", run by " in line, line         # every area has an owner
            for leftover in (",,", "()", "effort", "MSEK"):
                assert leftover not in line, line


def test_decisions_tell_the_mandate_and_the_payback_hurdle(
        traced: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
    events, owners = traced
    rejected = [int(e["id"]) for e in events if e.get("kind") == "idea"
                and e["event"] == "rejected"]
    assert rejected, "a light partnership rejects some escalated projects"
    text = "\n".join(story.story(events, rejected[0], owners))
    assert "costs more than the unit's mandate allows" in text
    assert "would not pay back the project's cost in time" in text
    assert "the decision (change requests to the suppliers" in text
