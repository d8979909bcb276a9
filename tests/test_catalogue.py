"""The KPI catalogue agrees with the model, name for name, and the docs are generated from it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from simsource.cli import main
from simsource.model import catalogue, catalogue_doc, simulate
from simsource.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def returned() -> set[str]:
    """Every KPI name the model returns, with and without a transfer."""
    names: set[str] = set()
    for name in ("nacka-multi", "nacka-transfer-2017"):
        sc = load_scenario(name, {"scenario.years": 1.2, "scenario.warmup_years": 0.2})
        names |= set(simulate(sc, seed=1, replication=0))
    return names


def test_every_kpi_the_model_returns_is_in_the_catalogue(returned: set[str]) -> None:
    assert returned - set(catalogue.CATALOGUE) == set(), "declare these in catalogue.py"


def test_the_catalogue_holds_nothing_the_model_does_not_return(returned: set[str]) -> None:
    assert set(catalogue.CATALOGUE) - returned == set()


def test_every_entry_is_complete() -> None:
    for k in catalogue.CATALOGUE.values():
        assert k.unit, k.name
        assert k.label, k.name
        assert k.description.endswith("."), k.name
        assert k.better in ("higher", "lower", "none"), k.name
        assert k.tags <= set(catalogue.TAGS), k.name
        assert k.group in catalogue.GROUPS, k.name
    assert catalogue.get("implemented_per_year").deprecated
    for tag in catalogue.TAGS:
        assert catalogue.names(tag), f"no KPI is tagged {tag}"


def test_patterned_names_follow_the_model_tuples() -> None:
    from simsource.model.core import COORD_KINDS, STAGES
    from simsource.scenario.schema import DOMAINS

    names = set(catalogue.CATALOGUE)
    for st in STAGES:
        assert {f"funnel_in_{st}_per_year", f"pass_rate_{st}", f"wip_{st}_mean"} <= names
    assert {f"innovations_{d}_per_year" for d in DOMAINS} <= names
    assert {f"coordinator_utilisation_{w}" for w in COORD_KINDS} <= names


def test_cost_parts_add_up_to_the_total() -> None:
    kpis = simulate(load_scenario("nacka-transfer-2017", {"scenario.years": 1.5}), seed=2)
    parts = catalogue.names("cost_part")
    assert len(parts) == 8
    assert sum(kpis[p] for p in parts) == pytest.approx(kpis["cost_total_msek_per_year"])


def test_unknown_names_get_a_readable_stand_in() -> None:
    k = catalogue.get("my_extra_column")
    assert k.label == "my extra column"
    assert k.better == "none"
    assert not k.share
    with pytest.raises(ValueError, match="unknown tag"):
        catalogue.kpis("favourite")


def test_overload_rule_and_text() -> None:
    assert catalogue.is_overloaded(0.2)
    assert not catalogue.is_overloaded(0.5)
    assert not catalogue.is_overloaded(math.nan)  # results without funnel_stable
    assert catalogue.stable_share([1.0, 0.0, math.nan, 0.0]) == pytest.approx(1 / 3)
    assert math.isnan(catalogue.stable_share([]))
    text = catalogue.overload_warning("nacka-multi-10", 0.25)
    assert text.startswith("nacka-multi-10 is overloaded")
    assert "lead times grow without bound" in text
    assert "run length" in text
    assert "25 %" in text


def test_results_format_kpi_section_is_generated() -> None:
    path = ROOT / "docs" / "results-format.md"
    text = path.read_text(encoding="utf-8")
    assert text == catalogue.with_section(text), (
        "docs/results-format.md's KPI section is stale: run "
        "`python -m simsource.model.catalogue docs/results-format.md`")
    for name in catalogue.CATALOGUE:
        assert f"`{name}`" in text


def test_the_refresh_command_rewrites_only_the_section(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# head\n\n{catalogue_doc.DOC_START}\nold\n{catalogue_doc.DOC_END}\n\ntail\n",
                   encoding="utf-8")
    assert catalogue.main([str(doc)]) == 0
    new = doc.read_text(encoding="utf-8")
    assert new.startswith("# head\n\n")
    assert new.endswith("\n\ntail\n")
    assert "old" not in new
    assert "`innovations_per_year` (headline)" in new
    with pytest.raises(ValueError, match="no KPI section"):
        catalogue.with_section("no markers")


def test_kpis_command_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["kpis"])
    assert text.exit_code == 0, text.output
    for k in catalogue.CATALOGUE.values():
        assert k.name in text.output
    line = next(ln for ln in text.output.splitlines() if " innovations_per_year " in ln)
    assert line.startswith("*")
    assert "innovations/year" in line
    as_json = runner.invoke(main, ["kpis", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    assert [r["name"] for r in rows] == list(catalogue.CATALOGUE)
    first = rows[0]
    assert {"name", "unit", "label", "description", "better", "headline"} <= set(first)
    heads = json.loads(runner.invoke(main, ["kpis", "--json", "--headline"]).output)
    assert [r["name"] for r in heads] == list(catalogue.names("headline"))
    md = runner.invoke(main, ["kpis", "--markdown"])
    assert md.output.strip() == catalogue.markdown().strip()
