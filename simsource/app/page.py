"""The teaching web page (Streamlit script): change one lever, run, compare with a baseline.

Start it with ``simsource app`` (or ``make app``); it binds to 127.0.0.1 and needs nothing from
the internet. All logic lives in :mod:`simsource.app.logic` (scenario from controls),
:mod:`simsource.app.runs` (CRN batches on the experiment engine's warm pool, partial results
as replications finish), :mod:`simsource.app.cards` (KPI cards, overload warning),
:mod:`simsource.app.export`,
:mod:`simsource.app.story` (one idea's story), :mod:`simsource.app.watch` (the replay),
:mod:`simsource.app.figures` and
:mod:`simsource.app.exercises`; this script lays out the sidebar and the page, and
:mod:`simsource.app.views` the result tabs.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import streamlit as st

from simsource import formatting
from simsource.app import cards, logic, runs, views
from simsource.app.texts import HELP
from simsource.errors import UserError
from simsource.scenario import Scenario
from simsource.scenario.diff import diff
from simsource.scenario.schema import DOMAINS, PARTNERSHIP_DIMENSIONS, RESPONSIBILITIES

UPLOAD = "upload a scenario file…"
LIVE_EVERY_S = 0.4  # while a run is under way, redraw the partial cards at most this often
DIM_LABELS = {"colocation": "Co-location", "mandate": "Mandate", "information": "Information",
              "autonomy": "Autonomy", "intensity": "Intensity"}
DOMAIN_LABELS = {"it": "IT as a tool", "business": "Business development",
                 "new_service": "New services"}
ss: Any = st.session_state


# ---- cached work ---------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=32)
def load_start(ref: str) -> Scenario:
    return logic.load_start(ref)


@st.cache_data(show_spinner=False, max_entries=8)
def load_upload(content: bytes, filename: str) -> Scenario:
    return logic.load_uploaded(content, filename)


# ---- controls ----------------------------------------------------------------------------------
def reset_controls(sc: Scenario) -> None:
    """Set every control to the scenario's own values (nothing changed)."""
    c = logic.controls_for(sc)
    ss.c_years = c.years
    ss.c_sourcing = "scenario"
    ss.c_abilities = False
    ss.c_staff = c.staff
    ss.c_consultants = c.consultants
    ss.c_keep_plan = True
    for dim in PARTNERSHIP_DIMENSIONS:
        ss[f"c_{dim}"] = round(c.partnership[dim], 2)
    for dom in DOMAINS:
        ss[f"c_resp_{dom}"] = c.responsibility[dom]
    ss.c_idea_scale = 1.0
    ss.c_ambition = float(c.ambition)
    ss.c_transfer = c.transfer
    ss.c_transfer_shared = c.transfer_shared


def init_abilities(base: Scenario) -> None:
    """Start the ability sliders at the mean of the supplier set in use."""
    try:
        sups = logic.with_sourcing(base, ss.c_sourcing)
    except UserError:
        sups = base
    ss.c_proactive = logic.mean_ability(sups, "proactive")
    ss.c_reactive = logic.mean_ability(sups, "reactive")


def set_preset(preset: str) -> None:
    for dim, value in logic.preset_dims(preset).items():
        ss[f"c_{dim}"] = value


def pin_baseline() -> None:
    ss.baseline = dict(ss.current_info)


def unpin_baseline() -> None:
    ss.pop("baseline", None)


def caption(key: str) -> None:
    st.caption(HELP[key])


def sidebar_controls(base: Scenario) -> logic.Controls:
    sb = st.sidebar
    with sb.expander("Sourcing and suppliers (Fig. 3)", expanded=True):
        choices = logic.sourcing_choices()
        st.radio("Sourcing", choices, key="c_sourcing", format_func=logic.SOURCING.get,
                 help=HELP["sourcing"])
        caption("sourcing")
        st.checkbox("Set the suppliers' abilities", key="c_abilities", help=HELP["abilities"],
                    on_change=init_abilities, args=(base,))
        if ss.c_abilities:
            st.slider("Proactive ability", 0.0, 1.0, step=0.05, key="c_proactive",
                      help=HELP["proactive"])
            caption("proactive")
            st.slider("Reactive ability", 0.0, 1.0, step=0.05, key="c_reactive",
                      help=HELP["reactive"])
            caption("reactive")
    with sb.expander("Digitalisation unit (coordinators)", expanded=True):
        st.number_input("Coordinators (staff)", 0, 500, step=1, key="c_staff",
                        help=HELP["staff"])
        caption("staff")
        st.number_input("Consultants", 0, 500, step=1, key="c_consultants",
                        help=HELP["consultants"])
        caption("consultants")
        if base.coordination.plan:
            steps = " → ".join(str(s.staff) for s in base.coordination.plan)
            st.checkbox(f"Keep the staffing ramp ({steps} → staff above)", key="c_keep_plan",
                        help=HELP["keep_plan"])
            caption("keep_plan")
    with sb.expander("Partner organisation (Fig. 7)", expanded=True):
        left, right = st.columns(2)
        left.button("Light", on_click=set_preset, args=("light",), key="preset_light",
                    help=HELP["preset_light"], width="stretch")
        right.button("Heavy", on_click=set_preset, args=("heavy",), key="preset_heavy",
                     help=HELP["preset_heavy"], width="stretch")
        st.caption("Light = 0.2 on every dimension, heavy = 0.9 (0 light … 1 heavy).")
        for dim in PARTNERSHIP_DIMENSIONS:
            st.slider(DIM_LABELS[dim], 0.0, 1.0, step=0.05, key=f"c_{dim}", help=HELP[dim])
            caption(dim)
    with sb.expander("Responsibility for innovation (Fig. 4)", expanded=True):
        r = base.responsibility
        for dom in DOMAINS:
            st.radio(f"{DOMAIN_LABELS[dom]}: who leads?", RESPONSIBILITIES, key=f"c_resp_{dom}",
                     horizontal=True, help=HELP[f"resp_{dom}"])
            column = "it" if dom == "it" else "business"
            p = getattr(r, f"success_{ss[f'c_resp_{dom}']}_{column}")
            st.caption(f"{HELP[f'resp_{dom}']} Project success in this cell: {p:.0%}.")
    with sb.expander("Ideas and ambition (Fig. 5, Fig. 6)", expanded=True):
        st.slider("Idea inflow (× scenario)", 0.25, 3.0, step=0.25, key="c_idea_scale",
                  help=HELP["idea_scale"])
        caption("idea_scale")
        st.number_input("Ambition (innovations / year)", 0.0, 1000.0, step=1.0, format="%g",
                        key="c_ambition", help=HELP["ambition"])
        caption("ambition")
    with sb.expander("Transfer of systems", expanded=True):
        st.checkbox("Simulate the transfer", key="c_transfer", help=HELP["transfer"])
        caption("transfer")
        st.checkbox("Transfer team shared with operations", key="c_transfer_shared",
                    disabled=not ss.c_transfer, help=HELP["transfer_shared"])
        caption("transfer_shared")
    with sb.expander("Run settings", expanded=False):
        st.select_slider("Simulated years", logic.year_choices(base), key="c_years",
                         format_func=lambda y: f"{y:g}", help=HELP["years"])
        caption("years")
        st.number_input("Replications", 2, 500, step=1, key="c_n", help=HELP["replications"])
        caption("replications")
        st.number_input("Seed", 0, 2**31 - 1, step=1, key="c_seed", help=HELP["seed"])
        caption("seed")
    return logic.Controls(
        years=float(ss.c_years),
        sourcing=ss.c_sourcing,
        proactive=float(ss.c_proactive) if ss.c_abilities else None,
        reactive=float(ss.c_reactive) if ss.c_abilities else None,
        staff=int(ss.c_staff),
        consultants=int(ss.c_consultants),
        keep_plan=bool(ss.get("c_keep_plan", True)),
        partnership={d: float(ss[f"c_{d}"]) for d in PARTNERSHIP_DIMENSIONS},
        responsibility={d: str(ss[f"c_resp_{d}"]) for d in DOMAINS},
        idea_scale=float(ss.c_idea_scale),
        ambition=float(ss.c_ambition),
        transfer=bool(ss.c_transfer),
        transfer_shared=bool(ss.c_transfer_shared),
    )


def choose_base() -> tuple[Scenario, str | None, str]:
    """The starting scenario, its built-in/exercise reference (None if uploaded), and an id."""
    options = [*logic.start_options(), UPLOAD]
    if "base_choice" not in ss:
        ss.base_choice = "nacka-multi-10" if "nacka-multi-10" in options else options[0]
    st.sidebar.selectbox("Start from", options, key="base_choice", help=HELP["base"])
    st.sidebar.caption(HELP["base"])
    if ss.base_choice != UPLOAD:
        return load_start(ss.base_choice), ss.base_choice, ss.base_choice
    up = st.sidebar.file_uploader("Scenario file (TOML)", type=["toml"], key="upload")
    if up is None:
        st.info("Choose a scenario file (TOML) in the sidebar. `extends` may name a built-in "
                "scenario, e.g. `extends = \"nacka-multi\"`.")
        st.stop()
    content = up.getvalue()
    try:
        sc = load_upload(content, up.name)
    except UserError as exc:
        st.error("The file is not a valid scenario:\n\n" +
                 "\n".join(f"- {line}" for line in exc.problems))
        st.stop()
    return sc, None, f"upload:{up.name}:{hashlib.sha256(content).hexdigest()[:12]}"


# ---- running -----------------------------------------------------------------------------------
def run_live(run_key: tuple[str, str, int, int], current: Scenario, base_label: str,
             cur_label: str) -> None:
    """Run baseline and current setting (identical settings once, cached replications reused),
    showing the cards as replications finish; keep the final results in the session."""
    seed, n = run_key[2], run_key[3]
    bar = st.progress(0.0, text="Starting …")
    live = st.empty()
    t0 = time.perf_counter()
    first: list[float] = []
    shown = [0.0]

    def update(p: runs.Partial) -> None:
        bar.progress(p.done / p.total if p.total else 1.0,
                     text=f"{p.done}/{p.total} replications to run")
        now = time.perf_counter()
        if first and (now - shown[0] < LIVE_EVERY_S or p.done == p.total):
            return  # the cards were redrawn a moment ago, or the final ones follow
        b, c = p.results()
        if b is None or c is None:
            return  # nothing to compare yet
        if not first:
            first.append(now - t0)
        shown[0] = now
        with live.container():
            st.caption(f"Partial result: {min(b.n, c.n)} of {n} replications so far …")
            views.show_cards(b, c)

    b, c = runs.run_settings([Scenario.model_validate_json(run_key[0]),
                              Scenario.model_validate_json(run_key[1])], seed, n,
                             on_update=update, posterior=runs.posterior())
    seconds = time.perf_counter() - t0
    bar.empty()
    live.empty()
    ss.results = {"key": run_key, "base": b, "cur": c, "base_label": base_label,
                  "cur_label": cur_label, "cur_json": current.model_dump_json(),
                  "first_s": first[0] if first else seconds, "seconds": seconds}


# ---- the page ----------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="simsource — what if?", layout="wide")
    runs.warm_up()  # the worker pool starts now, while the teacher looks at the page
    ss.setdefault("c_n", logic.DEFAULT_REPLICATIONS)
    ss.setdefault("c_seed", logic.DEFAULT_SEED)
    st.sidebar.title("What if …?")
    base, base_ref, base_id = choose_base()
    if ss.get("_base_id") != base_id:
        reset_controls(base)
        ss._base_id = base_id
    controls = sidebar_controls(base)
    seed, n = int(ss.c_seed), int(ss.c_n)

    st.title("IT sourcing and innovation: what if …?")
    st.markdown("Change one lever in the sidebar, press **Run**, and compare with the baseline. "
                "Based on the Nacka whitepaper (Axelson, Nordström, Rognes 2019).")
    try:
        built = logic.build(base, controls)
        neutral = logic.build(base, logic.controls_for(base, years=controls.years)).scenario
    except UserError as exc:
        st.error("This setting is not valid:\n\n" +
                 "\n".join(f"- {line}" for line in exc.problems))
        st.stop()
    current = built.scenario
    cur_changes = diff(neutral, current)
    ss.current_info = {"json": current.model_dump_json(), "name": base.name,
                       "label": logic.label_for(base, cur_changes)}
    pinned = ss.get("baseline")
    if pinned:
        base_sc = Scenario.model_validate_json(pinned["json"])
        base_label, base_name = pinned["label"], pinned["name"]
    else:
        base_sc, base_label, base_name = neutral, f"{base.name} as loaded", base.name
    cur_label = logic.label_for(base, cur_changes) if cur_changes else f"{base.name} as loaded"

    top = st.columns([3, 1, 1])
    top[0].markdown(f"**Baseline:** {base_label}  \n**Current:** {cur_label}")
    top[1].button("Pin current as baseline", on_click=pin_baseline, key="pin",
                  help="Freeze the current setting as the baseline the next runs compare with.")
    top[2].button("Reset baseline", on_click=unpin_baseline, key="unpin", disabled=not pinned,
                  help="Use the starting scenario (as loaded) as the baseline again.")
    years = current.scenario.years
    file_years = base.scenario.years
    short = f" (the scenario file says {file_years:g}; shortened for a live demo)" \
        if years < file_years else ""
    st.caption(f"{n} replications each, seed {seed}, {years:g} simulated years including "
               f"{current.scenario.warmup_years:g} warm-up{short}. Baseline and current use "
               "the same random numbers (common random numbers).")
    post = runs.posterior()
    if post is not None:
        st.caption(f"{post.note()[0].upper()}{post.note()[1:]}: the spread of the results is "
                   "what we do not know about the parameters as well as chance.")
    if base_sc.scenario.years != years:
        st.warning(f"The baseline simulates {base_sc.scenario.years:g} years, the current "
                   f"setting {years:g}: pin again after changing the years.")
    changes = diff(base_sc, current)
    with st.expander(f"Changes from the baseline ({len(changes)})", expanded=bool(changes)):
        if changes:
            st.markdown("\n".join(f"- `{c.key}`: {formatting.parameter(c.old)} → "
                                   f"**{formatting.parameter(c.new)}**" for c in changes))
        else:
            st.write("None — change a control in the sidebar.")

    run_key = (logic.setting_key(base_sc), logic.setting_key(current), seed, n)
    clicked = st.button("Run", type="primary", key="run")
    res = ss.get("results")
    tabs = st.tabs(["Results", "Watch", "What happened to one idea", "Export", "Exercise pack"])
    with tabs[0]:
        if clicked:
            run_live(run_key, current, base_label, cur_label)
            res = ss.get("results")
        if res is None:
            st.info("Press **Run** to simulate the baseline and the current setting.")
        else:
            if res["key"] != run_key:
                st.warning("The controls changed since the last run — press **Run** to update.")
            b, c = res["base"], res["cur"]
            first = res.get("first_s")
            shown = f"first result after {first:.1f} s, " if first is not None else ""
            st.caption(f"Last run: {shown}all {c.n} replications of both settings after "
                       f"{res['seconds']:.1f} s (replications already run come from the "
                       "cache).")
            for line in cards.overload_warnings({f"The baseline ({res['base_label']})": b,
                                                 f"The current setting ({res['cur_label']})": c}):
                st.warning(line, icon="⚠️")
            views.show_cards(b, c)
            views.show_charts(b, c, res["base_label"], res["cur_label"])
    with tabs[1]:
        views.show_watch(base_sc, current, base_label, cur_label, seed, run_key)
    with tabs[2]:
        if res is None:
            st.info("Press **Run** first.")
        else:
            views.show_story(res["cur"], res["base"], Scenario.model_validate_json(res["cur_json"]))
    with tabs[3]:
        views.show_export(current, base_sc, built, base_ref,
                          base.name if not pinned else base_name, seed, n)
    with tabs[4]:
        views.show_exercises()


if __name__ == "__main__":  # `streamlit run page.py` works too; `simsource app` serves serve.py,
    main()                  # which worker processes can import without importing Streamlit
