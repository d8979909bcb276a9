"""One self-contained HTML report of a results folder (run, compare or sweep).

Figures are embedded as base64 PNG data URIs and the CSS is inline: the file opens offline and
refers to nothing outside itself. Sections (element ids): ``summary``, ``what-was-run``,
``key-results``, ``differences`` (several scenarios only), ``figures`` and
``reproducibility`` (STRESS-DES, Monks et al. 2019).
"""

from __future__ import annotations

import base64
import io
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.analysis.narrative import (
    fmt,
    fmt_range,
    shown_decimals,
    summary_paragraphs,
    value_text,
)
from simsource.analysis.plots.labels import KEY_KPIS, info, parameter_label

if TYPE_CHECKING:
    from simsource.analysis.plots.data import AnalysisData

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "In plain language"),
    ("what-was-run", "What was run"),
    ("key-results", "Key results"),
    ("differences", "Differences between scenarios"),
    ("figures", "Figures"),
    ("reproducibility", "Reproducibility (STRESS-DES)"),
)
SKIP_PARAMETERS = ("name", "title", "description")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #0072B2;
       padding-bottom: 0.15em; margin-top: 2em; } h3 { margin-top: 1.4em; }
.sub { color: #555; margin-top: 0; }
nav ol { columns: 2; } nav a { color: #0072B2; text-decoration: none; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef3f8; } td.num { text-align: right; }
tr.better td.verdict { color: #006644; font-weight: 600; }
tr.worse td.verdict { color: #993300; font-weight: 600; }
.lead { font-size: 1.08em; background: #f4f8fb; border-left: 4px solid #0072B2;
        padding: 0.6em 1em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto;
        border: 1px solid #ddd; } figcaption { color: #444; font-size: 0.92em; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
details summary { cursor: pointer; color: #0072B2; }
.note { color: #555; font-size: 0.9em; } .scroll { overflow-x: auto; }
"""


# ---- small HTML helpers -----------------------------------------------------------------------


def _e(v: Any) -> str:
    return escape(str(v), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], num_from: int = 1,
           row_classes: Sequence[str] | None = None) -> str:
    """A table; cells are already-escaped HTML; columns from ``num_from`` are right-aligned."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(
            f'<td class="{"num" if j >= num_from else ""}{" verdict" if h == "verdict" else ""}"'
            f">{c}</td>" for j, (h, c) in enumerate(zip(header, row, strict=True)))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _section(sid: str, body: str) -> str:
    title = dict(SECTIONS)[sid]
    return f'<section id="{sid}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


# ---- parameters that differ from the defaults ---------------------------------------------------


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _defaults_for(actual: Mapping[str, Any]) -> dict[str, Any]:
    """The schema defaults shaped like ``actual`` (suppliers and extra idea sources get the
    per-entry defaults of :class:`Supplier` / :class:`IdeaSource`)."""
    from simsource.scenario.schema import IdeaSource, Scenario, Supplier

    base: dict[str, Any] = Scenario.model_construct().model_dump(mode="json")
    base["suppliers"] = {k: Supplier().model_dump(mode="json")
                         for k in actual.get("suppliers", {})}
    sources = base["ideas"]["sources"]
    for k in actual.get("ideas", {}).get("sources", {}):
        sources.setdefault(k, IdeaSource().model_dump(mode="json"))
    return base


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def changed_parameters(scenario_toml: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters of a resolved scenario file that differ from the schema defaults.

    Returns ``(changed, defaults)``: dotted key → value, and dotted key → default (missing when
    the schema has no default for that key, e.g. a supplier's own name).
    """
    actual = tomllib.loads(scenario_toml)
    flat = _flatten(actual)
    defaults = _flatten(_defaults_for(actual))
    changed = {k: v for k, v in flat.items() if k.split(".")[0] not in SKIP_PARAMETERS
               and k.rsplit(".", 1)[-1] not in ("title", "description")
               and (k not in defaults or not _same(v, defaults[k]))}
    return changed, {k: defaults[k] for k in changed if k in defaults}


def _show(v: Any) -> str:
    if hasattr(v, "item") and not isinstance(v, list | tuple | Mapping):
        v = v.item()  # numpy scalars
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_show(x) if not isinstance(x, Mapping) else
                               "{" + ", ".join(f"{k}={_show(y)}" for k, y in x.items()) + "}"
                               for x in v) + "]"
    return str(v)


def _scenario_meta(toml_text: str) -> dict[str, Any]:
    return tomllib.loads(toml_text)


# ---- sections ---------------------------------------------------------------------------------


def _summary(data: AnalysisData) -> str:
    paragraphs = summary_paragraphs(data)
    if not paragraphs:
        return "<p>No finding could be computed from these results.</p>"
    first, *rest = paragraphs
    body = f'<p class="lead">{_e(first)}</p>' + "".join(f"<p>{_e(p)}</p>" for p in rest)
    return body + ('<p class="note">A direction is stated only when the 95 % confidence '
                   "interval of the difference excludes zero; differences are paired by "
                   "replication (common random numbers).</p>")


def _what_was_run(data: AnalysisData) -> str:
    parts = []
    metas = [_scenario_meta(r.scenario_toml) for r in data.runs]
    if data.kind == "sweep":
        m = data.manifest
        parts.append(f"<p>A sweep of scenario <b>{_e(m.get('scenario', '?'))}</b> over "
                     f"{len(data.sweep['point'].unique()) if data.sweep is not None else '?'} "
                     "design points:</p>")
        parts.append(_table(["swept parameter", "values"],
                            [[_e(f"{k} ({parameter_label(k)})"), _e(", ".join(map(_show, v)))]
                             for k, v in data.vary.items()], num_from=9))
    rows = [[f"<b>{_e(r.name)}</b>", _e(meta.get("title", "")),
             _e(meta.get("description", "")).replace("\n", " ")]
            for r, meta in zip(data.runs, metas, strict=True)]
    if rows:
        label = "Base scenario" if data.kind == "sweep" else "Scenarios"
        parts.append(f"<h3>{label}</h3>" + _table(["name", "title", "description"], rows,
                                                 num_from=9))
    # parameters that differ from the defaults
    changed = [changed_parameters(r.scenario_toml) for r in data.runs]
    swept = data.vary
    keys = sorted({k for c, _ in changed for k in c} | set(swept))
    if keys:
        header = ["parameter", "schema default", *[_e(r.name) for r in data.runs]]
        defaults: dict[str, Any] = _flatten(_defaults_for({}))
        for _, d in changed:
            defaults.update(d)
        table_rows = []
        for k in keys:
            row = [f"<code>{_e(k)}</code>", _e(_show(defaults[k])) if k in defaults else "—"]
            for c, _ in changed:
                if k in swept:
                    row.append(_e("swept: " + ", ".join(map(_show, swept[k]))))
                else:
                    row.append(_e(_show(c[k])) if k in c else '<span class="note">default</span>')
            table_rows.append(row)
        parts.append("<h3>Parameters that differ from the defaults</h3>"
                     f"<p class='note'>{len(keys)} resolved parameters differ from the schema "
                     "defaults (docs/scenario-reference.md lists every parameter); the full "
                     "resolved scenario is in each folder's <code>scenario.toml</code>.</p>"
                     + _table(header, table_rows, num_from=99))
    m = _run_manifest(data)
    facts = [("kind of folder", data.kind), ("seed", data.seed),
             ("replications per scenario" if data.kind != "sweep" else "replications per point",
              _replications(data)),
             ("simsource", m.get("simsource_version", "?")), ("Python", m.get("python", "?")),
             ("numpy", m.get("numpy", "?")), ("SimPy", m.get("simpy", "?")),
             ("finished", m.get("finished", "?"))]
    parts.append("<h3>Run facts</h3>" + _table(["fact", "value"],
                                               [[_e(a), _e(b)] for a, b in facts], num_from=9))
    return "\n".join(parts)


def _run_manifest(data: AnalysisData) -> dict[str, Any]:
    """The manifest with the run details (a compare folder's first scenario)."""
    m = dict(data.runs[0].manifest) if data.runs else {}
    m.update({k: v for k, v in data.manifest.items() if v is not None})
    return m


def _replications(data: AnalysisData) -> Any:
    if data.kind == "sweep" and data.sweep is not None:
        return int(data.sweep.groupby("point").size().max())
    counts = {len(r.replications) for r in data.runs}
    return counts.pop() if len(counts) == 1 else ", ".join(str(len(r.replications))
                                                           for r in data.runs)


def _ci_cell(kpi: str, v: Any) -> str:
    return _e(value_text(kpi, v.mean, v.low, v.high))


def _key_results(data: AnalysisData) -> str:
    from simsource.analysis.stats import mean_ci

    if data.kind == "sweep":
        return _sweep_table(data)
    reps = data.replications
    names = data.scenarios
    kpis = [k for k in KEY_KPIS if k in reps.columns]
    by = {s: reps[reps["scenario"] == s] for s in names}
    rows = []
    for kpi in kpis:
        rows.append([_e(info(kpi).label)] + [
            _ci_cell(kpi, mean_ci(by[s][kpi].to_numpy(dtype=float))) for s in names])
    all_kpis = [c for c in reps.columns if c not in ("scenario", "replication", "seed", "point")
                and reps[c].dtype.kind == "f"]
    full = [[f"<code>{_e(k)}</code>"] + [
        _ci_cell(k, mean_ci(by[s][k].to_numpy(dtype=float))) for s in names] for k in all_kpis]
    return ("<p>Mean over replications with its 95 % confidence interval (t-interval); "
            "shares in percent.</p>"
            + _table(["KPI", *[_e(s) for s in names]], rows)
            + "<details><summary>Every KPI</summary>"
            + _table(["KPI", *[_e(s) for s in names]], full) + "</details>")


def _sweep_table(data: AnalysisData) -> str:
    from simsource.analysis.plots.sweep import sweep_stats

    assert data.sweep is not None
    sweep, design = data.sweep, data.design_columns
    kpis = [k for k in ("innovations_per_year", "cost_total_msek_per_year",
                        "lead_time_days_median") if k in sweep.columns]
    proportion = "transition_deadline_met" in sweep.columns and bool(
        sweep["transition_deadline_met"].notna().any())
    stats = {k: sweep_stats(sweep, design[-1], k, design[:-1]) for k in kpis}
    if proportion:
        stats["transition_deadline_met"] = sweep_stats(
            sweep, design[-1], "transition_deadline_met", design[:-1], proportion=True)
    first = next(iter(stats.values()))
    rows = []
    for i in range(len(first)):
        row = [_e(_show(first.iloc[i][c])) for c in design]
        for k, st in stats.items():
            r = st.iloc[i]
            row.append(_e(value_text(k, float(r["mean"]), float(r["ci_low"]),
                                     float(r["ci_high"]))))
        rows.append(row)
    header = [_e(parameter_label(c)) for c in design] + [_e(info(k).label) for k in stats]
    note = (" The probability of meeting the deadline uses a Wilson interval."
            if proportion else "")
    return ("<p>Mean per design point with its 95 % confidence interval." + note + "</p>"
            + _table(header, rows, num_from=len(design)))


def _differences(data: AnalysisData) -> str:
    from simsource.analysis.narrative import findings_from_comparison
    from simsource.analysis.stats import compare_table

    reps = data.replications
    comparison = data.comparison
    source = "comparison.csv"
    if comparison is None:
        frames = {s: reps[reps["scenario"] == s].drop(columns=["scenario"])
                  for s in data.scenarios}
        comparison = compare_table(frames)
        source = "the replications (no comparison.csv in the folder)"
    kpis = [k for k in KEY_KPIS if k in set(comparison["kpi"])]
    findings = findings_from_comparison(comparison, data.scenarios, kpis)
    rows, classes = [], []
    for f in findings:
        i = info(f.kpi)
        k = 100.0 if i.share else 1.0
        unit = "pp" if i.share else i.unit
        d = shown_decimals(f.diff * k, f.low * k, f.high * k)
        verdict = {"better": "better", "worse": "worse", "neither": "changed",
                   "unclear": "no clear difference"}[f.verdict]
        rows.append([_e(i.label), _e(f"{f.other} − {f.reference}"),
                     _e(f"{fmt(f.diff * k, d)} {unit}"),
                     _e(fmt_range(f.low * k, f.high * k, d)),
                     _e("n/a" if not math.isfinite(f.p_holm) else f"{f.p_holm:.3g}"),
                     _e(verdict)])
        classes.append(f.verdict)
    return (f"<p>Paired differences (scenario − {_e(data.scenarios[0])}, matched by replication "
            f"with common random numbers), from {_e(source)}. Shares in percentage points "
            "(pp). p-values are Holm-adjusted over the scenarios compared for each KPI.</p>"
            + _table(["KPI", "difference of", "mean difference", "95 % CI", "p (Holm)",
                      "verdict"], rows, num_from=2, row_classes=classes))


def figure_data_uri(fig: Any, dpi: int = 100) -> str:
    """A figure as a ``data:image/png;base64,…`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "simsource"})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(data: AnalysisData) -> str:
    from simsource.analysis.plots import KINDS, applicable_kinds, render

    parts = []
    for kind in applicable_kinds(data):
        uri = figure_data_uri(render(data, kind))
        what = KINDS[kind].what
        parts.append(f'<figure id="fig-{kind}"><img src="{uri}" alt="{_e(kind)}: {_e(what)}">'
                     f"<figcaption><b>{_e(kind)}</b> — {_e(what)}. Recreate with "
                     f"<code>simsource plot {_e(data.path)} --kind {_e(kind)}</code>."
                     "</figcaption></figure>")
    return "\n".join(parts) or "<p>No figure applies to this folder.</p>"


def _reproducibility(data: AnalysisData) -> str:
    import platform

    import matplotlib
    import pandas

    m = _run_manifest(data)
    metas = [_scenario_meta(r.scenario_toml) for r in data.runs]
    run = [md.get("scenario", {}) for md in metas]
    warm = sorted({(float(s.get("warmup_years", math.nan)), float(s.get("years", math.nan)),
                    int(s.get("working_days_per_year", 220))) for s in run})
    warm_txt = "; ".join(f"{_show(w)} of {_show(y)} simulated years ({d} working days a year)"
                         for w, y, d in warm)
    n = _replications(data)
    aims = {
        "run": f"Estimate the outputs of scenario {', '.join(data.scenarios)}.",
        "compare": f"Compare {', '.join(data.scenarios[1:])} with {data.scenarios[0]} "
                   "(paired by replication).",
        "sweep": "Show how the outputs change with " + ", ".join(
            f"{k} ({', '.join(map(_show, v))})" for k, v in data.vary.items()) + ".",
    }[data.kind]
    started, finished = m.get("started"), m.get("finished")
    unit = "design point" if data.kind == "sweep" else "scenario"
    cmd = data.command or "(not recorded in the manifest)"
    items = [
        ("1.1", "Purpose of the model",
         "Show how single- versus multi-sourced public IT operations, the coordinating "
         "digitalisation unit and the partner organisation affect innovation throughput, lead "
         "time, service levels and cost (the Nacka case; Axelson, Nordström & Rognes 2019)."),
        ("1.2", "Model outputs",
         "Per replication, after warm-up: " + ", ".join(info(k).label for k in KEY_KPIS)
         + ", and every other KPI of docs/results-format.md (replications.parquet); monthly "
           "time series of WIP and coordinator load."),
        ("1.3", "Experimentation aims", aims),
        ("2.2", "Base model logic",
         "SimPy discrete-event model: Poisson idea sources feed a staged funnel (screening, "
         "matching, decision, project); one coordinator pool shared by operations and innovation "
         "work with priorities; suppliers own technical areas; incidents, governance and an "
         "optional transfer of systems. See docs/model.md."),
        ("3.3", "Input parameters",
         "The fully resolved scenario is stored as scenario.toml in each results folder; the "
         "parameters that differ from the schema defaults are listed under “What was run”."),
        ("3.4", "Assumptions", "Defaults, their sources and the assumptions are documented in "
                               "docs/model.md and docs/scenario-reference.md."),
        ("4.1", "Initialisation (warm-up)",
         f"Warm-up {warm_txt or 'n/a'}; KPIs are measured after the warm-up, time series "
         "include it (shaded in the figures)."),
        ("4.2", "Run length", "; ".join(f"{_show(y)} simulated years, warm-up included"
                                        for _, y, _ in warm) or "n/a"),
        ("4.3", "Estimation approach",
         f"{n} independent replications per {unit}; "
         "95 % t confidence intervals of the mean; scenario differences paired by replication "
         "(common random numbers) with Holm-adjusted p-values; deadline probabilities with "
         "Wilson intervals."),
        ("5.1", "Software",
         f"simsource {m.get('simsource_version', '?')}, Python {m.get('python', '?')}, numpy "
         f"{m.get('numpy', '?')}, SimPy {m.get('simpy', '?')}; this report: pandas "
         f"{pandas.__version__}, matplotlib {matplotlib.__version__}."),
        ("5.2", "Random sampling",
         f"Root seed {data.seed}; replication i uses numpy SeedSequence(seed, spawn_key=(i,)) "
         "with one named child stream per stochastic activity, so scenarios run with the same "
         "seed share their random numbers where their inputs agree."),
        ("5.3", "Model execution",
         f"Event-driven (SimPy); backend {m.get('backend', '?')} with {m.get('jobs', '?')} "
         "job(s); results do not depend on the number of workers."),
        ("5.4", "System specification",
         f"Started {started or '?'}, finished {finished or '?'} (UTC). Report made on "
         f"{platform.system()} {platform.machine()} with Python {platform.python_version()}."),
        ("6.1", "Code access / reproduce", "The command that produced these results is below; "
                                           "the same seed and version give the same numbers."),
    ]
    table = _table(["STRESS-DES item", "", "this study"],
                   [[_e(a), _e(b), _e(c)] for a, b, c in items], num_from=9)
    return (table + "<h3>Command that reproduces the run</h3>"
            f'<pre id="command"><code>{_e(cmd)}</code></pre>'
            "<p>and then this report:</p>"
            f"<pre><code>simsource report {_e(data.path)}</code></pre>"
            '<p class="note">STRESS-DES: Monks T., Currie C.S.M., Onggo B.S., Robinson S., Kunc '
            "M., Taylor S.J.E. (2019). Strengthening the reporting of empirical simulation "
            "studies: introducing the STRESS guidelines. Journal of Simulation 13(1), 55–67.</p>")


# ---- the document -------------------------------------------------------------------------------


def build_report(data: AnalysisData, title: str | None = None) -> str:
    """The complete HTML document of a loaded results folder."""
    heading = title or {
        "run": f"simsource report: {', '.join(data.scenarios)}",
        "compare": f"simsource report: {' vs '.join(data.scenarios)}",
        "sweep": f"simsource report: sweep of {data.manifest.get('scenario', data.path.name)}",
    }[data.kind]
    sections = [("summary", _summary(data)), ("what-was-run", _what_was_run(data)),
                ("key-results", _key_results(data))]
    if data.kind == "compare" or len(data.scenarios) > 1:
        sections.append(("differences", _differences(data)))
    sections += [("figures", _figures(data)), ("reproducibility", _reproducibility(data))]
    nav = "".join(f'<li><a href="#{sid}">{_e(dict(SECTIONS)[sid])}</a></li>'
                  for sid, _ in sections)
    body = "\n".join(_section(sid, html) for sid, html in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_e(heading)}</h1><p class=\"sub\">Results folder "
            f"<code>{_e(data.path)}</code> · {_e(data.kind)} · seed {_e(data.seed)} · "
            f"{_e(_replications(data))} replications</p></header>\n"
            f"<nav><ol>{nav}</ol></nav>\n{body}\n</body>\n</html>\n")


def write_report(results: str | Path, output: str | Path | None = None) -> Path:
    """Load ``results`` and write its report (default ``RESULTS/report.html``)."""
    from simsource.analysis.plots import load_analysis
    from simsource.experiment.folders import claim_output
    from simsource.experiment.parquetio import atomic_write_text

    data = load_analysis(results)
    out = Path(output) if output is not None else data.path / "report.html"
    claim_output(out)  # recorded in its results folder (a user's file there is refused)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, build_report(data))  # a reader never sees half a report
    return out
