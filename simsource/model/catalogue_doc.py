"""docs/results-format.md's KPI section, generated from the KPI catalogue
(``python -m simsource.model.catalogue docs/results-format.md`` refreshes it; a test keeps the
two in step)."""

from __future__ import annotations

from collections.abc import Iterator

from simsource.model.catalogue import GROUPS, kpis

DOC_START = "<!-- kpis:start (generated: python -m simsource.model.catalogue) -->"
DOC_END = "<!-- kpis:end -->"


def _doc_rows() -> Iterator[str]:
    for g in GROUPS:
        yield f"\n#### {g[:1].upper()}{g[1:]}\n"
        yield "| KPI | unit | better | meaning |"
        yield "|---|---|---|---|"
        for k in kpis(group=g):
            marks = ["headline"] if k.headline else []
            note = f" *Deprecated: {k.deprecated}.*" if k.deprecated else ""
            extra = f" ({', '.join(marks)})" if marks else ""
            desc = k.description.replace("|", "\\|")
            yield f"| `{k.name}`{extra} | {k.unit} | {k.better} | {desc}{note} |"


def markdown() -> str:
    """The KPI section of docs/results-format.md, between :data:`DOC_START` and
    :data:`DOC_END`."""
    head = [DOC_START,
            "Every KPI of one replication, by group (`simsource kpis` prints the same list). "
            "Rates are per year in the KPI window (after warm-up); units `share` and `0/1` "
            "are stored as fractions of one and shown in percent. *headline* KPIs are what "
            "tables, the report and the teaching page show first.",
            ]
    return "\n".join([*head, *_doc_rows(), "", DOC_END])


def with_section(text: str) -> str:
    """``text`` (the results-format document) with its KPI section regenerated."""
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start < 0 or end < start:
        raise ValueError(f"no KPI section: the document needs the lines {DOC_START!r} and "
                         f"{DOC_END!r}")
    return text[:start] + markdown() + text[end + len(DOC_END):]
