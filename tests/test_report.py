"""The HTML report: sections, embedded images, no network references, numbers that match the
results, plain-language claims only where the CI excludes zero, and a headless-Chromium look.

Results folders come from the fixtures of ``results_fixtures.py`` (the real model, a few short
replications, written per docs/results-format.md)."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from results_fixtures import COMPARE

from simsource.stats import mean_ci

pytest.importorskip("matplotlib")  # the report draws its figures with it

CHROMIUM = Path("/usr/bin/chromium")
COMPARE_SECTIONS = ["summary", "what-was-run", "key-results", "differences", "figures",
                    "reproducibility"]


@pytest.fixture(scope="session")
def compare_report(compare_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from simsource.analysis.report import write_report

    return write_report(compare_dir, tmp_path_factory.mktemp("report") / "report.html")


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.imgs: list[dict[str, str]] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value) of any URL
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self.sections.append(a.get("id", ""))
        if tag == "img":
            self.imgs.append(a)
        for key in ("src", "href", "action", "data", "poster", "srcset"):
            if key in a:
                self.refs.append((tag, key, a[key]))
        if tag == "table":
            self.tables.append([])
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def section_text(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert m, f"section {sid} missing"
    text = re.sub(r"<[^>]+>", " ", m.group(1))
    import html as h

    return re.sub(r"\s+", " ", h.unescape(text))


# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_compare_report_has_every_section(compare_report: Path) -> None:
    page = Page(compare_report.read_text(encoding="utf-8"))
    assert page.sections == COMPARE_SECTIONS


@pytest.mark.slow
def test_images_are_embedded_pngs(compare_report: Path) -> None:
    page = Page(compare_report.read_text(encoding="utf-8"))
    kinds = ["funnel", "distributions", "timeseries", "costs", "ambition", "leadtime"]
    assert [img["alt"].split(":")[0] for img in page.imgs] == kinds
    for img in page.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(png) > 10_000  # a real figure, not a placeholder


@pytest.mark.slow
def test_no_network_references(compare_report: Path) -> None:
    text = compare_report.read_text(encoding="utf-8")
    assert not re.search(r"https?:", text, re.I)
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert "@import" not in text
    assert "url(" not in text
    page = Page(text)
    for tag, attr, value in page.refs:
        assert value.startswith(("data:", "#")), (tag, attr, value[:60])


@pytest.mark.slow
def test_key_results_match_replications(compare_report: Path, compare_dir: Path) -> None:
    from simsource.analysis.narrative import value_text
    from simsource.analysis.plots import load_analysis

    reps = load_analysis(compare_dir).replications
    page = Page(compare_report.read_text(encoding="utf-8"))
    key = next(t for t in page.tables if t[0][0] == "KPI" and t[0][1:] == list(COMPARE))
    rows = {r[0]: r[1:] for r in key[1:]}
    for kpi, label in (("innovations_per_year", "innovations per year"),
                       ("cost_total_msek_per_year", "total cost"),
                       ("sla_breach_share", "incidents breaching the SLA")):
        for s, cell in zip(COMPARE, rows[label], strict=True):
            ci = mean_ci(reps.loc[reps["scenario"] == s, kpi].to_numpy(np.float64))
            assert cell == value_text(kpi, ci.mean, ci.low, ci.high)


@pytest.mark.slow
def test_differences_come_from_comparison_csv(compare_report: Path, compare_dir: Path) -> None:
    import pandas as pd

    from simsource.formatting import decimals, number_range

    comparison = pd.read_csv(compare_dir / "comparison.csv")
    page = Page(compare_report.read_text(encoding="utf-8"))
    diff = next(t for t in page.tables if t[0][:2] == ["KPI", "difference of"])
    row = next(r for r in diff[1:] if r[0] == "innovations per year"
               and r[1] == "nacka-multi − nacka-single")
    c = comparison[(comparison["kpi"] == "innovations_per_year")
                   & (comparison["scenario"] == "nacka-multi")].iloc[0]
    d = decimals(c["diff"], c["diff_ci_low"], c["diff_ci_high"])
    assert row[3] == number_range(c["diff_ci_low"], c["diff_ci_high"], d)
    assert row[5] == ("better" if c["diff_ci_low"] > 0 else "worse" if c["diff_ci_high"] < 0
                      else "no clear difference")
    # one row per headline KPI with a value and non-reference scenario
    from simsource.model import catalogue

    shown = [k for k in catalogue.names("headline") if comparison.loc[
        comparison["kpi"] == k, "n"].gt(0).any()]
    assert len(diff) - 1 == len(shown) * (len(COMPARE) - 1)


@pytest.mark.slow
def test_summary_claims_follow_the_ci(compare_report: Path, compare_dir: Path) -> None:
    import pandas as pd

    from simsource.analysis.narrative import Finding

    comparison = pd.read_csv(compare_dir / "comparison.csv")
    text = section_text(compare_report.read_text(encoding="utf-8"), "summary")
    for other in COMPARE[1:]:
        c = comparison[(comparison["kpi"] == "innovations_per_year")
                       & (comparison["scenario"] == other)].iloc[0]
        f = Finding("innovations_per_year", COMPARE[0], other, c["diff"], c["diff_ci_low"],
                    c["diff_ci_high"])
        sentence = f"Moving from {COMPARE[0]} to {other} {f.change_text()}"
        assert sentence in text
        word = {"up": "raises", "down": "lowers", "unclear": "makes no clear difference"}
        assert word[f.direction] in f.change_text()


def test_finding_direction_only_when_ci_excludes_zero() -> None:
    from simsource.analysis.narrative import Finding

    up = Finding("innovations_per_year", "a", "b", 6.1, 4.9, 7.3)
    assert up.change_text() == "raises innovations per year by 6.1 (95 % CI 4.9–7.3)"
    assert up.verdict == "better"
    down = Finding("cost_operations_msek_per_year", "a", "b", -14.6, -16.0, -13.0)
    assert down.change_text() == ("lowers operations cost by 14.6 MSEK/year "
                                  "(95 % CI 13.0–16.0)")
    assert down.verdict == "better"
    unclear = Finding("cost_total_msek_per_year", "a", "b", 1.0, -0.5, 2.5)
    assert unclear.direction == "unclear"
    assert "raises" not in unclear.change_text()
    assert "lowers" not in unclear.change_text()
    assert "−0.5 to 2.5" in unclear.change_text()
    share = Finding("sla_breach_share", "a", "b", 0.04, 0.032, 0.049)
    assert share.change_text() == ("raises incidents breaching the SLA by 4.0 percentage points "
                                   "(95 % CI 3.2–4.9)")
    assert share.verdict == "worse"
    nan = Finding("innovations_per_year", "a", "b", 1.0, math.nan, math.nan)
    assert nan.direction == "unclear"


def test_parameters_that_differ_from_defaults() -> None:
    from simsource.analysis.report import changed_parameters
    from simsource.scenario import load_scenario, scenario_toml

    changed, defaults = changed_parameters(scenario_toml(load_scenario("nacka-multi")))
    assert changed["coordination.staff"] == 24
    assert defaults["coordination.staff"] == 10
    assert changed["suppliers.basefarm.annual_fee_msek"] == 26.0
    assert defaults["suppliers.basefarm.annual_fee_msek"] == 15.0
    assert "name" not in changed
    assert "title" not in changed
    assert "funnel.screening_pass" not in changed  # left at its default
    assert "suppliers.basefarm.proactive" not in changed  # 0.5 is the supplier default
    changed2, _ = changed_parameters(scenario_toml(load_scenario(
        "nacka-multi", {"funnel": {"screening_pass": 0.3}})))
    assert set(changed2) - set(changed) == {"funnel.screening_pass"}


@pytest.mark.slow
def test_reproducibility_section(compare_report: Path, compare_dir: Path) -> None:
    html = compare_report.read_text(encoding="utf-8")
    text = section_text(html, "reproducibility")
    info = json.loads((compare_dir / "compare.json").read_text(encoding="utf-8"))
    m = re.search(r'<pre id="command"><code>(.*?)</code></pre>', html, re.S)
    assert m
    import html as h

    assert h.unescape(m.group(1)) == info["command"]
    for item in ("1.1", "1.2", "1.3", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "6.1"):
        assert re.search(rf"\b{re.escape(item)}\b", text), item
    assert "Warm-up 1 of 2.5 simulated years" in text
    assert f"Root seed {info['seed']}" in text
    manifest = json.loads((compare_dir / COMPARE[0] / "manifest.json").read_text("utf-8"))
    assert f"SimPy {manifest['simpy']}" in text
    assert f"simsource {manifest['simsource_version']}" in text
    assert f"{info['replications']} independent replications" in text


@pytest.mark.slow
def test_single_run_report(single_dir: Path, tmp_path: Path) -> None:
    from simsource.analysis.report import write_report

    html = write_report(single_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.sections == [s for s in COMPARE_SECTIONS if s != "differences"]
    summary = section_text(html, "summary")
    assert "nacka-multi implements" in summary
    assert "against an ambition of 20" in summary
    assert len(page.imgs) == 6


@pytest.mark.slow
def test_sweep_report(sweep_dir: Path, tmp_path: Path) -> None:
    from simsource.analysis.report import write_report

    html = write_report(sweep_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.sections == [s for s in COMPARE_SECTIONS if s != "differences"]
    assert len(page.imgs) == 2  # sweep and transfer
    summary = section_text(html, "summary")
    assert "met the deadline" in summary
    assert "transition.team_size" in section_text(html, "what-was-run")
    assert "swept: 6, 10, 14" in section_text(html, "what-was-run")
    table = next(t for t in page.tables if "probability of meeting the transfer deadline"
                 in t[0])
    assert len(table) - 1 == 6  # one row per design point


@pytest.mark.slow
def test_cli_report(compare_dir: Path, runner: Any, tmp_path: Path) -> None:
    from simsource.cli import main

    work = tmp_path / "cmp"
    shutil.copytree(compare_dir, work)
    result = runner.invoke(main, ["report", str(work)])
    assert result.exit_code == 0, result.output
    assert (work / "report.html").exists()
    out = tmp_path / "elsewhere" / "r.html"
    assert runner.invoke(main, ["report", str(work), "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = runner.invoke(main, ["report", str(work), "-o", str(tmp_path / "r.pdf")])
    assert bad.exit_code == 2
    assert "use a .html file name" in bad.output


# ---------------------------------------------------------------------------------------------
# headless Chromium
# ---------------------------------------------------------------------------------------------


def screenshot(report: Path, out: Path, profile: Path, size: tuple[int, int]) -> np.ndarray:
    """Render ``report`` in headless Chromium and return the screenshot as RGB floats."""
    import matplotlib.image as mpimg

    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={out}",
           f"--window-size={size[0]},{size[1]}", report.resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert out.exists(), "chromium wrote no screenshot"
    img: np.ndarray = mpimg.imread(out)[..., :3]
    return img


@pytest.mark.browser
def test_report_renders_in_headless_chromium(compare_report: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("headless-Chromium check skipped: /usr/bin/chromium not found "
                    "(apt-get install chromium)")
    shot = screenshot(compare_report, tmp_path / "shot.png", tmp_path / "profile", (1200, 3000))
    assert shot.shape[:2] == (3000, 1200)
    assert float(shot.std()) > 0.05, "the screenshot is blank"
    # the whole page: the embedded figures are decoded and drawn (colourful pixels), which a
    # page of text and broken-image icons would not give
    tall = screenshot(compare_report, tmp_path / "tall.png", tmp_path / "profile2",
                      (1200, 16000))
    content_rows = np.flatnonzero((tall < 0.98).any(axis=(1, 2)))
    assert content_rows.size
    content = tall[: content_rows.max() + 1]
    colourful = (content.max(axis=-1) - content.min(axis=-1)) > 0.25
    assert float(colourful.mean()) > 0.007, f"figures not visible ({colourful.mean():.4f})"


# ---------------------------------------------------------------------------------------------
# the real experiment layer: `simsource compare` / `sweep`, then `plot` and `report`
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_compare_and_sweep_then_plot_and_report(runner: Any, tmp_path: Path) -> None:
    from simsource.cli import main

    cmp = tmp_path / "cmp"
    made = runner.invoke(main, ["compare", "nacka-single", "nacka-multi", "-n", "3", "-j", "1",
                                "--seed", "5", "--set", "scenario.years=2", "--out", str(cmp),
                                "-q"])
    assert made.exit_code == 0, made.output
    plotted = runner.invoke(main, ["plot", str(cmp)])
    assert plotted.exit_code == 0, plotted.output
    assert len(list((cmp / "plots").glob("*.png"))) == 6
    reported = runner.invoke(main, ["report", str(cmp)])
    assert reported.exit_code == 0, reported.output
    html = (cmp / "report.html").read_text(encoding="utf-8")
    assert Page(html).sections == COMPARE_SECTIONS
    import html as h

    command = json.loads((cmp / "compare.json").read_text(encoding="utf-8"))["command"]
    assert f'<pre id="command"><code>{h.escape(command)}</code></pre>' in h.unescape(html) or \
        f'<pre id="command"><code>{command}</code></pre>' in h.unescape(html)

    sw = tmp_path / "sweep"
    made = runner.invoke(main, ["sweep", "nacka-transfer-2017", "--vary",
                                "transition.team_size=6,14", "--vary",
                                "transition.shared_with_operations=true,false", "-n", "2",
                                "-j", "1", "--set", "scenario.years=1.5", "--out", str(sw), "-q"])
    assert made.exit_code == 0, made.output
    plotted = runner.invoke(main, ["plot", str(sw)])
    assert plotted.exit_code == 0, plotted.output
    assert sorted(p.stem for p in (sw / "plots").glob("*.png")) == ["sweep", "transfer"]
    reported = runner.invoke(main, ["report", str(sw)])
    assert reported.exit_code == 0, reported.output
    assert "swept: 6, 14" in (sw / "report.html").read_text(encoding="utf-8")
