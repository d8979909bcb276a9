"""What each section of the report shows, as plain data for the template.

Every function takes a loaded results folder (:class:`AnalysisData`) and returns the values and
tables one section of ``templates/report.html.j2`` renders; cells are text (the template
escapes them) or :class:`markupsafe.Markup` built with escaped arguments.
"""

from __future__ import annotations

import base64
import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from matplotlib.figure import Figure

from simsource import formatting
from simsource.analysis.narrative import (
    compared_kpis,
    findings_from_comparison,
    summary_paragraphs,
    value_text,
)
from simsource.analysis.plots import KINDS, applicable_kinds, render, sweep_as_scenarios
from simsource.analysis.plots._common import overload_lines
from simsource.analysis.plots.data import AnalysisData
from simsource.analysis.plots.labels import info, parameter_label
from simsource.analysis.plots.sweep import sweep_stats
from simsource.model import catalogue
from simsource.scenario import diff
from simsource.stats import compare_table, mean_ci

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "In plain language"),
    ("what-was-run", "What was run"),
    ("key-results", "Key results"),
    ("differences", "Differences between scenarios"),
    ("across-futures", "Across futures"),
    ("figures", "Figures"),
    ("reproducibility", "Reproducibility (STRESS-DES)"),
)
Cell = str | Markup
VERDICTS = {"better": "better", "worse": "worse", "neither": "changed",
            "unclear": "no clear difference"}


@dataclass(frozen=True)
class Table:
    """A table for the template's ``table`` macro: columns from ``num_from`` are numbers
    (right-aligned); ``row_classes`` style whole rows (``better``/``worse``)."""

    header: list[str]
    rows: list[list[Cell]]
    num_from: int = 1
    row_classes: list[str] = field(default_factory=list)


def scenario_meta(toml_text: str) -> dict[str, Any]:
    return tomllib.loads(toml_text)


def run_manifest(data: AnalysisData) -> dict[str, Any]:
    """The manifest with the run details (a compare folder's first scenario)."""
    m = dict(data.runs[0].manifest) if data.runs else {}
    m.update({k: v for k, v in data.manifest.items() if v is not None})
    return m


def replications(data: AnalysisData) -> Any:
    """Replications per scenario (or per design point, or per policy and future), or the list
    when they differ."""
    if data.kind == "explore":
        return data.manifest.get("replications", "?")
    if data.kind == "sweep" and data.sweep is not None:
        return int(data.sweep.groupby("point").size().max())
    counts = {len(r.replications) for r in data.runs}
    return counts.pop() if len(counts) == 1 else ", ".join(str(len(r.replications))
                                                           for r in data.runs)


def posterior_sentence(data: AnalysisData) -> str:
    """The sentence that says the intervals include parameter uncertainty (results run with
    --posterior), or ""."""
    from simsource.experiment.posterior import posterior_note

    note = posterior_note(run_manifest(data).get("posterior_source"))
    return f" {note[0].upper()}{note[1:]}." if note else ""


# ---- overload -----------------------------------------------------------------------------


def overload(data: AnalysisData) -> list[str]:
    """The catalogue's overload warning for each overloaded scenario (nothing for results
    without ``funnel_stable``)."""
    if data.kind == "sweep":
        frame, order = sweep_as_scenarios(data)
        return overload_lines(frame, order)
    if data.kind == "explore" and data.futures is not None:
        return overload_lines(data.futures, data.scenarios, by="policy")
    return overload_lines(data.replications, data.scenarios)


# ---- summary --------------------------------------------------------------------------------


def summary(data: AnalysisData) -> dict[str, Any]:
    return {"paragraphs": summary_paragraphs(data)}


# ---- what was run -------------------------------------------------------------------------


def changed_parameters(scenario_toml: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters of a resolved scenario file that differ from the schema defaults.

    Returns ``(changed, defaults)``: dotted key → value, and dotted key → default (missing when
    the schema has no default for that key, e.g. a supplier's own name).
    """
    changes = diff.from_defaults(tomllib.loads(scenario_toml))
    return ({c.key: c.new for c in changes},
            {c.key: c.old for c in changes if c.old is not diff.MISSING})


def _parameters(data: AnalysisData) -> tuple[Table | None, int]:
    changed = [changed_parameters(r.scenario_toml) for r in data.runs]
    present = [set(diff.flatten(scenario_meta(r.scenario_toml))) for r in data.runs]
    swept = data.vary
    keys = sorted({k for c, _ in changed for k in c} | set(swept))
    if not keys:
        return None, 0
    defaults: dict[str, Any] = diff.flatten(diff.defaults_like({}))
    for _, d in changed:
        defaults.update(d)
    rows: list[list[Cell]] = []
    for k in keys:
        row: list[Cell] = [Markup("<code>{}</code>").format(k),
                           formatting.parameter(defaults[k]) if k in defaults else "—"]
        for (c, _), has in zip(changed, present, strict=True):
            if k in swept:
                row.append("swept: " + ", ".join(map(formatting.parameter, swept[k])))
            elif k in c:
                row.append(formatting.parameter(c[k]))
            elif k not in has:  # e.g. a supplier this scenario does not have
                row.append("—")
            else:
                row.append(Markup('<span class="note">default</span>'))
        rows.append(row)
    header = ["parameter", "schema default", *[r.name for r in data.runs]]
    return Table(header, rows, num_from=99), len(keys)


def what_was_run(data: AnalysisData) -> dict[str, Any]:
    out: dict[str, Any] = {"sweep": None, "scenarios": None, "scenarios_title": "",
                           "uncertain": None}
    if data.kind == "sweep":
        points = len(data.sweep["point"].unique()) if data.sweep is not None else "?"
        rows: list[list[Cell]] = [
            [f"{k} ({parameter_label(k)})", ", ".join(map(formatting.parameter, v))]
            for k, v in data.vary.items()]
        out["sweep"] = {"scenario": data.manifest.get("scenario", "?"), "points": points,
                        "table": Table(["swept parameter", "values"], rows, num_from=9)}
    metas = [scenario_meta(r.scenario_toml) for r in data.runs]
    scen_rows: list[list[Cell]] = [
        [Markup("<b>{}</b>").format(r.name), str(meta.get("title", "")),
         str(meta.get("description", "")).replace("\n", " ")]
        for r, meta in zip(data.runs, metas, strict=True)]
    if scen_rows:
        out["scenarios_title"] = "Base scenario" if data.kind == "sweep" else "Scenarios"
        out["scenarios"] = Table(["name", "title", "description"], scen_rows, num_from=9)
    out["parameters"], out["parameters_count"] = _parameters(data)
    m = run_manifest(data)
    facts = [("kind of folder", data.kind), ("seed", data.seed),
             ("replications per scenario" if data.kind != "sweep" else "replications per point",
              replications(data)),
             ("simsource", m.get("simsource_version", "?")), ("Python", m.get("python", "?")),
             ("numpy", m.get("numpy", "?")), ("SimPy", m.get("simpy", "?")),
             ("finished", m.get("finished", "?"))]
    out["facts"] = Table(["fact", "value"], [[a, str(b)] for a, b in facts], num_from=9)
    return out


# ---- key results --------------------------------------------------------------------------


def _ci_cell(kpi: str, values: Any) -> str:
    ci = mean_ci(values)
    return value_text(kpi, ci.mean, ci.low, ci.high)


def key_results(data: AnalysisData) -> dict[str, Any]:
    if data.kind == "sweep":
        return sweep_results(data)
    reps = data.replications
    names = data.scenarios
    by = {s: reps[reps["scenario"] == s] for s in names}
    kpis = [k for k in catalogue.names("headline") if k in reps.columns]
    rows: list[list[Cell]] = [
        [info(k).label, *(_ci_cell(k, by[s][k].to_numpy(dtype=float)) for s in names)]
        for k in kpis]
    every = [c for c in reps.columns if c not in ("scenario", "replication", "seed", "point")
             and reps[c].dtype.kind == "f"]
    full: list[list[Cell]] = [
        [Markup("<code>{}</code>").format(k),
         *(_ci_cell(k, by[s][k].to_numpy(dtype=float)) for s in names)] for k in every]
    header = ["KPI", *names]
    return {"intro": "Mean over replications with its 95 % confidence interval (t-interval); "
                     "shares in percent." + posterior_sentence(data),
            "table": Table(header, rows), "full": Table(header, full)}


def sweep_results(data: AnalysisData) -> dict[str, Any]:
    """Mean per design point of the lead KPIs and the median lead time (and the probability of
    meeting the transfer deadline, with a Wilson interval, when there is a transfer)."""
    assert data.sweep is not None
    sweep, design = data.sweep, data.design_columns
    wanted = [*catalogue.names("lead"), "lead_time_days_median"]
    kpis = [k for k in wanted if k in sweep.columns]
    proportion = "transition_deadline_met" in sweep.columns and bool(
        sweep["transition_deadline_met"].notna().any())
    stats = {k: sweep_stats(sweep, design[-1], k, design[:-1]) for k in kpis}
    if proportion:
        stats["transition_deadline_met"] = sweep_stats(
            sweep, design[-1], "transition_deadline_met", design[:-1], proportion=True)
    first = next(iter(stats.values()))
    rows: list[list[Cell]] = []
    for i in range(len(first)):
        row: list[Cell] = [formatting.parameter(first.iloc[i][c]) for c in design]
        for k, st in stats.items():
            r = st.iloc[i]
            row.append(value_text(k, float(r["mean"]), float(r["ci_low"]),
                                  float(r["ci_high"])))
        rows.append(row)
    header = [parameter_label(c) for c in design] + [info(k).label for k in stats]
    note = (" The probability of meeting the deadline uses a Wilson interval."
            if proportion else "")
    return {"intro": "Mean per design point with its 95 % confidence interval." + note
                     + posterior_sentence(data),
            "table": Table(header, rows, num_from=len(design)), "full": None}


# ---- differences --------------------------------------------------------------------------


def differences(data: AnalysisData) -> dict[str, Any]:
    reps = data.replications
    comparison = data.comparison
    source = "comparison.csv"
    if comparison is None:
        frames = {s: reps[reps["scenario"] == s].drop(columns=["scenario"])
                  for s in data.scenarios}
        comparison = compare_table(frames)
        source = "the replications (no comparison.csv in the folder)"
    kpis = compared_kpis(comparison)
    rows: list[list[Cell]] = []
    classes: list[str] = []
    ladder = bool(data.manifest.get("ladder")) and data.comparison is not None
    for f in findings_from_comparison(comparison, data.scenarios, kpis, ladder=ladder):
        i = info(f.kpi)
        k = i.scale
        d = formatting.decimals(f.diff * k, f.low * k, f.high * k)
        rows.append([i.label, f"{f.other} − {f.reference}",
                     formatting.kpi_delta(i, f.diff, d),
                     formatting.number_range(f.low * k, f.high * k, d),
                     formatting.p_value(f.p_holm),
                     VERDICTS[f.verdict]])
        classes.append(f.verdict)
    header = ["KPI", "difference of", "mean difference", "95 % CI", "p (Holm)", "verdict"]
    return {"reference": "the scenario before each (a ladder)" if ladder else data.scenarios[0],
            "source": source,
            "table": Table(header, rows, num_from=2, row_classes=classes)}


# ---- figures ------------------------------------------------------------------------------


def figure_data_uri(fig: Figure, dpi: int = 100) -> str:
    """A figure as a ``data:image/png;base64,…`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "simsource"})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figures(data: AnalysisData) -> dict[str, Any]:
    return {"figures": [{"kind": kind, "what": KINDS[kind].what,
                         "uri": figure_data_uri(render(data, kind))}
                        for kind in applicable_kinds(data)]}


def headline_labels(kpis: Sequence[str] | None = None) -> str:
    """The headline KPIs' labels, comma-separated (for the STRESS-DES outputs item)."""
    return ", ".join(info(k).label for k in (kpis or catalogue.names("headline")))
