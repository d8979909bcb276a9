"""Docs that are generated from code stay in sync with it."""

from pathlib import Path

from simsource.scenario.reference import markdown

ROOT = Path(__file__).resolve().parents[1]


def test_scenario_reference_in_sync() -> None:
    committed = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == markdown(), (
        "docs/scenario-reference.md is stale: run "
        "`python -m simsource.scenario.reference > docs/scenario-reference.md`"
    )


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:6]
    text = "\n".join(head)
    assert "make run" in text
    assert "make test" in text
