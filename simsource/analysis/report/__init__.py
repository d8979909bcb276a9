"""One self-contained HTML report of a results folder (run, compare, sweep or explore).

The page is the jinja2 template ``templates/report.html.j2`` (CSS in ``report.css``, inlined);
figures are embedded as base64 PNG data URIs, so the file opens offline and refers to nothing
outside itself. Sections (element ids): ``summary``, ``what-was-run``, ``key-results``,
``differences`` (several scenarios only), ``across-futures`` (explore folders, instead of
key results and differences), ``figures`` and ``reproducibility`` (STRESS-DES, Monks et al.
2019). An overloaded scenario gets the catalogue's warning at the top and in the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from simsource.analysis.plots import load_analysis
from simsource.analysis.plots.data import AnalysisData
from simsource.analysis.report import futures as fut
from simsource.analysis.report import sections as sec
from simsource.analysis.report.sections import SECTIONS, changed_parameters, figure_data_uri
from simsource.analysis.report.stress import reproducibility
from simsource.experiment.folders import claim_output
from simsource.experiment.parquetio import atomic_write_text

__all__ = ["SECTIONS", "build_report", "changed_parameters", "figure_data_uri", "write_report"]

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("simsource.analysis.report", "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=True)
_BUILDERS: dict[str, Callable[[AnalysisData], dict[str, Any]]] = {
    "summary": sec.summary, "what-was-run": sec.what_was_run, "key-results": sec.key_results,
    "differences": sec.differences, "figures": sec.figures, "reproducibility": reproducibility,
    "across-futures": fut.across_futures,
}
#: the sections of an explore folder's report (what-was-run has its own data there)
EXPLORE_SECTIONS = ("summary", "what-was-run", "across-futures", "figures", "reproducibility")


def build_report(data: AnalysisData, title: str | None = None) -> str:
    """The complete HTML document of a loaded results folder."""
    heading = title or {
        "run": f"simsource report: {', '.join(data.scenarios)}",
        "compare": f"simsource report: {' vs '.join(data.scenarios)}",
        "sweep": f"simsource report: sweep of {data.manifest.get('scenario', data.path.name)}",
        "explore": f"simsource report: {', '.join(data.scenarios)} across "
                   f"{data.manifest.get('futures', '?')} futures",
    }[data.kind]
    several = data.kind == "compare" or len(data.scenarios) > 1
    if data.kind == "explore":
        chosen = [(sid, t) for sid, t in SECTIONS if sid in EXPLORE_SECTIONS]
        builders = {**_BUILDERS, "what-was-run": fut.what_was_explored}
    else:
        chosen = [(sid, t) for sid, t in SECTIONS
                  if sid != "across-futures" and (sid != "differences" or several)]
        builders = _BUILDERS
    sections = [{"id": sid, "title": t, **builders[sid](data)} for sid, t in chosen]
    return _ENV.get_template("report.html.j2").render(
        heading=heading, path=str(data.path), kind=data.kind, seed=data.seed,
        replications=sec.replications(data), overload=sec.overload(data), sections=sections)


def write_report(results: str | Path, output: str | Path | None = None) -> Path:
    """Load ``results`` and write its report (default ``RESULTS/report.html``)."""
    data = load_analysis(results)
    out = Path(output) if output is not None else data.path / "report.html"
    claim_output(out)  # recorded in its results folder (a user's file there is refused)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, build_report(data))  # a reader never sees half a report
    return out
