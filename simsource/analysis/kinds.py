"""The kinds of figure ``simsource plot`` draws and what each shows, in drawing order.

A module of its own, without matplotlib or pandas, so that ``simsource plot --help`` can list
the kinds quickly; :mod:`simsource.analysis.plots` pairs each with its drawing function.
"""

from __future__ import annotations

KIND_TEXTS: dict[str, str] = {
    "funnel": "ideas entering and passing each funnel stage per year",
    "distributions": "each scenario's Monte Carlo distribution of the headline KPIs",
    "timeseries": "WIP per stage and coordinator load over months",
    "costs": "yearly cost by component and benefit per scenario",
    "ambition": "innovation ambition vs realised capacity (Fig. 6)",
    "leadtime": "idea → implementation lead time (median and p90)",
    "sweep": "KPIs against the swept parameter with CI band",
    "transfer": "probability of meeting the transfer deadline vs team size",
    "robustness": "share of futures meeting each target, and regret, per policy",
    "tradeoff": "two KPIs across the futures, one dot per policy and future",
    "discovery": "PRIM boxes: the parameter ranges in which a policy misses a target",
}
