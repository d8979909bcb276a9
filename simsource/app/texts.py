"""Plain-language help for every control of the teaching page, tied to the whitepaper's concepts.

One line each: a teacher reads them aloud. Figure numbers refer to the whitepaper (Axelson,
Nordström, Rognes 2019): Fig. 3 multi-supplier environment, Fig. 4 responsibility matrix,
Fig. 5 innovation funnel, Fig. 6 ambition vs capacity, Fig. 7 light vs heavy partner organisation.
"""

from __future__ import annotations

HELP: dict[str, str] = {
    "base": "Where the class starts: a built-in Nacka case, an exercise scenario, or a scenario "
            "file you upload.",
    "sourcing": "One supplier (Nacka before 2016) or four by technical area (from April 2017) "
                "at their procured prices, an input. More owners: more contracts and interfaces "
                "to govern, more incidents misrouted (Fig. 3).",
    "abilities": "Set every supplier's proactive and reactive ability yourself instead of using "
                 "the scenario's values.",
    "proactive": "Proactive ability: the share of its staff time the supplier plans for "
                 "improvement work. That work brings ideas and lower fees, but it only gets the "
                 "time incidents and changes leave.",
    "reactive": "Reactive ability: how often the supplier accepts a change request within the "
                "contract, and how fast; otherwise it is negotiated (coordinator effort, delay, "
                "a higher price) — the whitepaper's key ability for innovation.",
    "staff": "Employed coordinators in the digitalisation unit. Operations work (supplier "
             "governance, triage, change requests) goes first, then innovation; spare time "
             "goes out into the business to find needs.",
    "consultants": "Hired coordinators: they do the same work as staff at about twice the cost.",
    "keep_plan": "Keep the scenario's staffing ramp (Nacka grew 10 → 16 → 24 in two years); off "
                 "means the numbers above apply from day one.",
    "colocation": "Co-location (Fig. 7): do the unit and the suppliers sit together? Distributed "
                  "teams lose days at every hand-off, and shared premises speed up project "
                  "work.",
    "mandate": "Mandate (Fig. 7): how dear a project the unit may fund itself. Dearer ones wait "
               "for the line organisation's meeting, which approves only those that pay back "
               "their cost in time.",
    "information": "Information flow (Fig. 7): continuous, or in batches at meetings? Ideas "
                   "wait for the next sync point; the lighter, the longer between them.",
    "autonomy": "Autonomy (Fig. 7): the share of coordinators and supplier staff ring-fenced "
                "for innovation. Elsewhere operations work interrupts innovation work.",
    "intensity": "Intensity (Fig. 7): dedicated full-time people, or part-timers who lose time "
                 "switching between tasks?",
    "preset_light": "Light partner organisation (Fig. 7): every dimension at 0.2 — cheap, slow.",
    "preset_heavy": "Heavy partner organisation (Fig. 7): every dimension at 0.9 — fast, with a "
                    "fixed yearly cost for dedicated people and shared premises.",
    "resp_it": "Fig. 4, innovation in IT as a tool/infrastructure: suppliers can lead this "
               "themselves (cell 1).",
    "resp_business": "Fig. 4, business development (VU): suppliers lack business knowledge, so "
                     "the whitepaper says the municipality should lead, together with them.",
    "resp_new_service": "New services and areas: who leads? (counts as business development in "
                        "Fig. 4).",
    "idea_scale": "Idea inflow (Fig. 5): ideas from business units, the digitalisation unit "
                  "and citizens, relative to the scenario (1.0 = unchanged); suppliers' ideas "
                  "and needs found in the business are not scaled.",
    "ambition": "Innovation ambition (Fig. 6): implemented innovations a year. Short of it, the "
                "unit sends more people out into the business; the map shows whether it "
                "delivers.",
    "transfer": "Simulate the transfer of 100+ systems to the new suppliers before a hard "
                "deadline; innovation work waits until the transfer is finished.",
    "transfer_shared": "The same people run operations and the transfer, so incidents interrupt "
                       "transfer work — the whitepaper's lesson is to keep them apart.",
    "years": "Simulated years, including a warm-up that is not measured; shortened for a live "
             "demo, and the exported command uses the same value.",
    "replications": "How many times the years are re-run with different luck; baseline and "
                    "current get the same luck (common random numbers), so the difference is fair.",
    "seed": "The random seed: the same seed gives exactly the same numbers on any machine.",
}
"""Help line per control key (the page uses the same keys, prefixed ``c_``)."""
