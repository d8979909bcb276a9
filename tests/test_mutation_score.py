"""The mutation score script (``make mutate``): sampling and counting."""

from __future__ import annotations

import pytest

pytest.importorskip("mutmut", reason="mutmut is not installed (pip install 'simsource[mutate]')")

from mutation_score import pick, score


def test_the_sample_is_uniform_seeded_and_without_repeats() -> None:
    names = [f"simsource.model.m{i % 7}.x_f__mutmut_{i}" for i in range(1000)]
    a, b = pick(names, 250, seed=1), pick(list(reversed(names)), 250, seed=1)
    assert a == b
    assert len(set(a)) == 250
    assert pick(names, 250, seed=2) != a
    assert pick(names, 5000, seed=1) == sorted(names)


def test_killed_timeouts_count_as_killed_and_untested_ones_as_survivors() -> None:
    codes: dict[str, int | None] = {"simsource.model.a.x_f__mutmut_1": 1,
                                    "simsource.model.a.x_f__mutmut_2": 0,
                                    "simsource.model.a.xǁCǁg__mutmut_1": 36,
                                    "simsource.model.b.x_h__mutmut_1": 33,
                                    "simsource.model.b.x_h__mutmut_2": None}
    s = score(codes)
    assert (s["killed"], s["survived"], s["checked"]) == (2, 2, 4)
    assert s["score"] == 0.5
    assert s["survivors"] == ["simsource.model.a.x_f__mutmut_2",
                              "simsource.model.b.x_h__mutmut_1"]
    assert s["by_module"] == {"simsource.model.a": {"killed": 2, "survived": 1},
                              "simsource.model.b": {"survived": 1, "other": 1}}
    low, high = s["ci95"]  # type: ignore[misc]
    assert 0 < low < 0.5 < high < 1
