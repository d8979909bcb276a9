"""The report of an explore folder: what was explored, and the "across futures" section.

Data for ``templates/report.html.j2`` like :mod:`simsource.analysis.report.sections`: the
policies and the uncertain parameters (``what-was-run``), and the satisficing shares, regret and
PRIM boxes (``across-futures``) with the sentences that say what they mean.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from simsource import formatting
from simsource.analysis.explore import describe_boxes
from simsource.analysis.plots.data import AnalysisData
from simsource.analysis.plots.labels import info
from simsource.analysis.report.sections import Cell, Table, run_manifest, scenario_meta
from simsource.analysis.robustness import by_policy, records, wide_table


def policy_tomls(data: AnalysisData) -> dict[str, str]:
    """Each policy's resolved scenario file (``policies/<name>.toml``)."""
    out = {}
    for name in data.scenarios:
        path = data.path / "policies" / f"{name}.toml"
        out[name] = path.read_text(encoding="utf-8") if path.is_file() else ""
    return out


def _sampled(data: AnalysisData) -> str:
    m = data.manifest
    how = str(m.get("sampling") or "latin hypercube")
    src = f" (posterior {m['posterior']})" if m.get("posterior") else ""
    return f"{how}{src}"


def what_was_explored(data: AnalysisData) -> dict[str, Any]:
    m = data.manifest
    metas = {n: scenario_meta(t) if t else {} for n, t in policy_tomls(data).items()}
    scen_rows: list[list[Cell]] = [
        [Markup("<b>{}</b>").format(n), str(meta.get("title", "")),
         str(meta.get("description", "")).replace("\n", " ")] for n, meta in metas.items()]
    applies = {p: set(keys) for p, keys in (m.get("applies") or {}).items()}
    rows: list[list[Cell]] = []
    for u in m.get("uncertain") or []:
        parts = u.get("parts") or []
        rng = "any mix of " + ", ".join(parts) if parts else formatting.number_range(
            float(u["low"]), float(u["high"]), formatting.decimals(float(u["low"]),
                                                                   float(u["high"])))
        where = [p for p in data.scenarios if u["key"] in applies.get(p, set())]
        rows.append([Markup("<code>{}</code>").format(u["key"]), rng,
                     "all" if len(where) == len(data.scenarios) else ", ".join(where)])
    run = run_manifest(data)
    facts = [("kind of folder", "explore"), ("policies", len(data.scenarios)),
             ("futures", m.get("futures", "?")), ("futures sampled by", _sampled(data)),
             ("replications per policy and future", m.get("replications", "?")),
             ("seed (futures and replications)", data.seed),
             ("simsource", run.get("simsource_version", "?")), ("Python", run.get("python", "?")),
             ("numpy", run.get("numpy", "?")), ("SimPy", run.get("simpy", "?")),
             ("finished", run.get("finished", "?"))]
    return {"sweep": None, "scenarios_title": "Policies",
            "scenarios": Table(["name", "title", "description"], scen_rows, num_from=9),
            "uncertain": Table(["uncertain parameter", "sampled range", "applies to"], rows,
                               num_from=9),
            "parameters": None, "parameters_count": 0,
            "facts": Table(["fact", "value"], [[a, str(b)] for a, b in facts], num_from=9)}


def _share(r: Any) -> str:
    if math.isnan(float(r["value"])):
        return formatting.MISSING
    return (f"{formatting.percent(r['value'])} ({formatting.percent(r['ci_low'])}–"
            f"{formatting.percent(r['ci_high'])})")


def across_futures(data: AnalysisData) -> dict[str, Any]:
    """Satisficing, regret and the PRIM boxes as tables, and the boxes in words."""
    assert data.robustness is not None
    assert data.discovery is not None
    rob, disc = data.robustness, data.discovery
    policies = data.scenarios
    sat = rob[rob["measure"] == "satisficing"]
    targets = list(dict.fromkeys(sat["target"].astype(str)))
    sat_rows: list[list[Cell]] = []
    for policy in policies:
        mine = sat[sat["policy"] == policy].set_index("target")
        sat_rows.append([Markup("<b>{}</b>").format(policy),
                         *(_share(mine.loc[t]) if t in mine.index else formatting.MISSING
                           for t in targets)])
    reg = rob[rob["measure"] != "satisficing"]
    reg_rows: list[list[Cell]] = []
    for kpi, group in reg.groupby("kpi", sort=False):
        i = info(str(kpi))
        wide = wide_table(group, "policy", "measure", "value")
        means, p90s = by_policy(wide, "regret_mean"), by_policy(wide, "regret_p90")
        cells = []
        for p in policies:
            if p not in means:
                cells.append(formatting.MISSING)
                continue
            mean, p90 = means[p], p90s[p]
            cells.append(f"{formatting.kpi_value(i, mean, unit=False)} / "
                         f"{formatting.kpi_value(i, p90, unit=False)}")
        reg_rows.append([f"{i.label} ({i.display_unit or '-'})", *cells])
    ranges = data.ranges
    box_rows: list[list[Cell]] = []
    for r in records(disc):
        lo, hi = ranges.get(str(r["parameter"]), (math.nan, math.nan))
        box_rows.append([str(r["policy"]), str(r["target"]), str(r["box"]),
                         Markup("<code>{}</code>").format(r["parameter"]),
                         f"{formatting.number(float(r['lower']))} – "
                         f"{formatting.number(float(r['upper']))}",
                         f"{formatting.number(lo)} – {formatting.number(hi)}",
                         formatting.percent(float(r["coverage"])),
                         formatting.percent(float(r["density"])),
                         formatting.percent(float(r["mass"]))])
    return {
        "futures": data.manifest.get("futures", "?"),
        "replications": data.manifest.get("replications", "?"),
        "sampled": _sampled(data),
        "satisficing": Table(["policy", *targets], sat_rows) if targets else None,
        "regret": Table(["KPI", *policies], reg_rows) if reg_rows else None,
        "boxes": Table(["policy", "target", "box", "parameter", "range in the box",
                        "sampled range", "coverage", "density", "mass"], box_rows,
                       num_from=4) if box_rows else None,
        "sentences": describe_boxes(disc, rob),
    }
