"""The analyses of an explore folder: robustness and scenario discovery, stored and printed.

:func:`analyse` reads ``futures.parquet`` of a finished exploration, computes ``robustness.csv``
(:mod:`simsource.analysis.robustness`) and ``discovery.csv`` (:mod:`simsource.analysis.discovery`)
for the targets given (or those the folder was last analysed with) and records both in the
folder; :func:`format_robustness` and :func:`describe_boxes` say what they found as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simsource import formatting
from simsource.analysis.discovery import discover
from simsource.analysis.plots.labels import info
from simsource.analysis.robustness import (
    Target,
    by_policy,
    parse_target,
    records,
    robustness_table,
    target_text,
    wide_table,
)
from simsource.errors import UserError
from simsource.experiment.explore import parameters_of, record_files
from simsource.experiment.manifest import now_iso
from simsource.experiment.results import load_results

ROBUSTNESS = "robustness.csv"
DISCOVERY = "discovery.csv"


@dataclass(frozen=True)
class Analysis:
    targets: list[Target]
    robustness: pd.DataFrame
    discovery: pd.DataFrame


def targets_of(texts: Sequence[str], known: Sequence[str] | None = None) -> list[Target]:
    """``--target`` texts as targets (each KPI checked against ``known``); duplicates once."""
    out: list[Target] = []
    for text in texts:
        t = parse_target(text, known)
        if t not in out:
            out.append(t)
    return out


def analyse(root: Path | str, targets: Sequence[Target] | None = None,
            max_boxes: int = 3) -> Analysis:
    """Robustness and discovery of the exploration in ``root`` for ``targets`` (default: the
    targets recorded in its manifest), written to ``robustness.csv`` and ``discovery.csv``."""
    res = load_results(root)
    if res.kind != "explore":
        raise UserError(f"{root}: a {res.kind} folder, not an exploration")
    futures = res.futures
    if targets is None:
        targets = targets_of([str(t) for t in res.manifest.get("targets") or []],
                             list(futures.columns))
    robustness = robustness_table(futures, targets)
    discovery = discover(futures, targets, parameters_of(res.manifest), max_boxes)
    record_files(Path(root), {ROBUSTNESS: robustness.to_csv(index=False),
                              DISCOVERY: discovery.to_csv(index=False)},
                 {"targets": [target_text(t) for t in targets], "analysed": now_iso(),
                  "max_boxes": max_boxes})
    return Analysis(list(targets), robustness, discovery)


def _kpi(kpi: str, v: float) -> str:
    return formatting.kpi_value(info(kpi), v, unit=False)


def format_robustness(robustness: pd.DataFrame) -> str:
    """The satisficing shares and the regret of each policy as aligned text."""
    lines: list[str] = []
    sat = robustness[robustness["measure"] == "satisficing"]
    if not sat.empty:
        lines.append("share of futures meeting the target (95 % Wilson interval):")
        width = max(len(str(p)) for p in sat["policy"])
        for target, group in sat.groupby("target", sort=False):
            lines.append(f"  {target}")
            for r in records(group):
                lines.append(f"    {r['policy']!s:<{width}}  {formatting.percent(r['value']):>5}"
                             f"  ({formatting.percent(r['ci_low'])}–"
                             f"{formatting.percent(r['ci_high'])})  of {r['futures']} futures")
    reg = robustness[robustness["measure"] != "satisficing"]
    if not reg.empty:
        lines.append("regret against the best policy in the same future (mean / 90th pct):")
        width = max(len(str(p)) for p in reg["policy"])
        for kpi, group in reg.groupby("kpi", sort=False):
            lines.append(f"  {info(str(kpi)).label} ({info(str(kpi)).display_unit or '-'})")
            wide = wide_table(group, "policy", "measure", "value")
            means, p90s = by_policy(wide, "regret_mean"), by_policy(wide, "regret_p90")
            for policy in dict.fromkeys(group["policy"].astype(str)):
                mean, p90 = means[policy], p90s[policy]
                lines.append(f"    {policy:<{width}}  {_kpi(str(kpi), mean)}"
                             f" / {_kpi(str(kpi), p90)}")
    return "\n".join(lines)


def describe_boxes(discovery: pd.DataFrame, robustness: pd.DataFrame) -> list[str]:
    """One sentence per PRIM box: where a policy misses a target."""
    lines: list[str] = []
    sat = robustness[robustness["measure"] == "satisficing"]
    for (policy, target), group in discovery.groupby(["policy", "target"], sort=False):
        for b, box in group.groupby("box", sort=True):
            rows = records(box)
            first = rows[0]
            ranges = " and ".join(f"{r['parameter']} in {formatting.number(r['lower'])}–"
                                  f"{formatting.number(r['upper'])}" for r in rows)
            lines.append(f"{policy} misses {target} (box {b}) when {ranges}: "
                         f"{formatting.percent(first['density'])} of the futures there fail, "
                         f"covering {formatting.percent(first['coverage'])} of all its failures "
                         f"({formatting.percent(first['mass'])} of the futures)")
    for r in records(sat):
        fails = 1.0 - float(r["value"])
        has = not discovery[(discovery["policy"] == r["policy"])
                            & (discovery["target"] == r["target"])].empty
        if fails >= 1.0:
            lines.append(f"{r['policy']} misses {r['target']} in every future")
        elif fails > 0 and not has:
            lines.append(f"{r['policy']} misses {r['target']} in {formatting.percent(fails)} "
                         "of the "
                         "futures, with no box of parameter ranges that concentrates them")
    return lines


def summary_sentences(futures: pd.DataFrame, robustness: pd.DataFrame,
                      discovery: pd.DataFrame) -> list[str]:
    """The plain-language summary of an exploration: who meets each target how often, where
    each policy fails, and the regret on the targets' KPIs."""
    out: list[str] = []
    count = int(futures["future"].nunique()) if not futures.empty else 0
    sat = robustness[robustness["measure"] == "satisficing"]
    for target, group in sat.groupby("target", sort=False):
        rows = records(group)
        parts = [f"{r['policy']} in {formatting.percent(r['value'])}" for r in rows]
        lead = f"Across {count} futures, {target} is met by " + ", ".join(parts) + \
            " of the futures."
        shares = [float(r["value"]) for r in rows]
        top = max(shares, default=float("nan"))
        if len(rows) > 1 and shares.count(top) == 1:
            lead += f" The most robust policy for it is {rows[shares.index(top)]['policy']}."
        out.append(lead)
    boxes = describe_boxes(discovery, robustness)
    if boxes:
        out.append(" ".join(s + "." for s in boxes))
    reg = robustness[(robustness["measure"] == "regret_mean")
                     & robustness["kpi"].isin(list(sat["kpi"]))]
    for kpi, group in reg.groupby("kpi", sort=False):
        parts = [f"{r['policy']} {_kpi(str(kpi), float(r['value']))}" for r in records(group)]
        out.append(f"Mean regret on {info(str(kpi)).label} (shortfall against the best policy "
                   f"in the same future, {info(str(kpi)).display_unit or 'units'}): "
                   + ", ".join(parts) + ".")
    if not out and count:
        out.append(f"{count} futures were run; give --target to see how often each policy "
                   "meets a goal.")
    return out
