"""The result tabs of the teaching page: KPI cards, figures, the story of one idea, export and
the exercise pack (Streamlit calls; the logic is in the modules they call)."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from simsource.app import cards, exercises, export, figures, logic, runs, story, watch
from simsource.formatting import MINUS
from simsource.scenario import Scenario


def show_cards(base: runs.BatchResult, cur: runs.BatchResult) -> None:
    values = cards.kpi_cards(base, cur)
    for row in range(0, len(values), 4):
        cols = st.columns(4)
        for col, v in zip(cols, values[row:row + 4], strict=False):
            colour: Literal["normal", "inverse", "off"] = (
                "normal" if v.card.better > 0 else "inverse" if v.card.better < 0 else "off")
            # st.metric reads the arrow's direction from an ASCII minus sign
            delta = None if v.delta_text is None else v.delta_text.replace(MINUS, "-")
            with col:
                st.metric(v.card.label, v.value_text, delta, delta_color=colour,
                          help=v.card.help, border=True)
                st.caption(v.ci_text)
    table = cards.behind_table(base, cur)
    if len(table):
        with st.expander(f"Behind the cards: the mechanisms ({len(table)} KPIs)"):
            st.caption("What moves the cards: misrouted incidents, needs found out in the "
                       "business, escalated decisions, negotiated change requests, … Baseline "
                       "and current as above (paired difference, 95 % CI); `simsource kpis` "
                       "explains every KPI.")
            st.dataframe(table, hide_index=True, width="stretch")


#: the four figures (and what they show), in two columns
CHARTS = (
    (figures.funnel_figure, "Ideas entering (hatched) and passing (solid) each funnel stage per "
                            "year (Fig. 5), mean over replications with 95 % CI."),
    (figures.cost_figure, "Yearly costs by component (stacked) and the benefit of implemented "
                          "innovations, mean over replications."),
    (figures.load_figure, "Share of coordinator time used per month; the operations part "
                          "(dashed) is supplier governance, incident triage, change requests "
                          "and transfer hand-offs, as in the operations-share card."),
    (figures.ambition_figure, "Ambition (target) against capacity (realised innovations, 95 % "
                              "CI). Below the diagonal the ambition is beyond the "
                              "organisation's capacity."),
)


def show_charts(base: runs.BatchResult, cur: runs.BatchResult, bl: str, cl: str) -> None:
    columns = st.columns(2)
    for i, (draw, text) in enumerate(CHARTS):
        with columns[i % 2]:
            st.pyplot(draw(base, cur, bl, cl), clear_figure=True)
            st.caption(text)


WATCH_HELP = (
    "Replication 0 of the **baseline** (left) and the **current setting** (right), with the "
    "same random numbers, on one clock; one frame per working week. Dark blue dots are ideas: "
    "they wait in front of each stage of the funnel, are worked on, and end implemented or "
    "dropped. Grey dots are open incidents at the supplier that owns them; red ones have "
    "fallen between chairs (no owner for too long, or bounced too often). Each square is a "
    "coordinator's desk, coloured by what that person is doing: warm colours are operations "
    "work (triage, governance, change requests, hand-offs), cool colours innovation work "
    "(projects, matching, screening, out in the business). Press **Play**; ½× to 4× set the "
    "speed.")


def show_watch(base_sc: Scenario, cur_sc: Scenario, base_label: str, cur_label: str,
               seed: int, key: tuple[str, str, int, int]) -> None:
    """The replay of one simulated year, built when the teacher asks for it."""
    st.markdown(WATCH_HELP)
    left, right = st.columns([3, 1])
    year = left.select_slider("Simulated year to watch", watch.years(cur_sc), key="watch_year",
                              help="Year 1 starts from an empty organisation; later years show "
                                   "the queues that have built up.")
    clicked = right.button("Show the replay", key="watch_show", type="primary")
    shown = st.session_state.get("watch_replay")
    if clicked:
        with st.spinner("Replaying …"):
            built = watch.build_watch(base_sc, cur_sc, base_label, cur_label, seed, int(year))
        shown = st.session_state["watch_replay"] = {"key": (key, int(year)), "watch": built}
    if shown is None:
        st.info("Press **Show the replay** to watch the baseline and the current setting.")
        st.plotly_chart(watch.placeholder(), theme=None, width="stretch", key="watch_chart",
                        config={"displayModeBar": False, "staticPlot": True})
        return
    w: watch.Watch = shown["watch"]
    if shown["key"] != (key, int(year)):
        st.warning("The controls or the year changed since this replay was made — press "
                   "**Show the replay** to update.")
    st.caption(f"Year {w.year}, ready after {w.seconds:.1f} s. To show it without the page, "
               "download the setting on the Export tab and run `simsource animate FILE.toml "
               f"--years {w.year} -o replay.html` (a self-contained HTML file).")
    st.plotly_chart(w.figure, theme=None, width="stretch", key="watch_chart",
                    config={"displaylogo": False})


def show_story(cur: runs.BatchResult, base: runs.BatchResult, sc: Scenario) -> None:
    owners: dict[str, str] = {str(a): sc.owner_of(a) for a in sc.scenario.areas}
    picks = story.pick_ideas(cur.events, cur.warmup_days)
    st.markdown("One replication of the **current setting**, told from its event log. Days are "
                "working days since the start of the simulation (20 a month).")
    cols = st.columns(2)
    for col, (kind, title) in zip(cols, (("implemented", "An idea that was implemented"),
                                         ("dropped", "An idea that was dropped")), strict=True):
        with col:
            st.subheader(title)
            if kind not in picks:
                st.write("None in this replication.")
                continue
            st.caption(f"Idea #{picks[kind]}, a typical one (median time in the funnel).")
            st.markdown("\n".join(f"- {line}" for line in story.story(cur.events, picks[kind],
                                                                       owners)))
    fates = story.fates(cur.events)
    if not fates:
        return
    with st.expander("Tell the story of another idea"):
        ids = sorted(fates)
        later = [i for i in ids if fates[i].created >= cur.warmup_days and i not in
                 picks.values()]
        pick = st.number_input("Idea number", min_value=ids[0], max_value=ids[-1],
                               value=(later or ids)[0], step=1,
                               help="Ideas are numbered in the order they were created.")
        lines = story.story(cur.events, int(pick), owners)
        st.markdown("\n".join(f"- {line}" for line in lines) or "No such idea.")
        base_lines = story.story(base.events, int(pick), owners)
        if base_lines:
            st.markdown(f"**Idea #{int(pick)} in the baseline run** (same random numbers; "
                        "the same idea when the idea sources are unchanged):")
            st.markdown("\n".join(f"- {line}" for line in base_lines))


def show_export(cur_sc: Scenario, base_sc: Scenario, built: logic.Built, base_ref: str | None,
                base_name: str, seed: int, n: int) -> None:
    name = export.export_name(base_name)
    bname = export.export_name(base_name, "baseline")
    if bname == name:
        bname += "-baseline"
    years = cur_sc.scenario.years
    st.markdown(f"The current setting as a scenario file, with **{years:g} simulated years** "
                f"({cur_sc.scenario.warmup_years:g} warm-up) as on this page. A planner "
                "reproduces the class result exactly with the command below.")
    text = export.export_toml(cur_sc, name, seed=seed, n=n, note=f"based on {base_name}")
    st.download_button(f"Download {name}.toml", text, file_name=f"{name}.toml",
                       mime="application/toml", key="download_current")
    st.code(export.run_command(f"{name}.toml", n=n, seed=seed), language="bash")
    if export.set_command_possible(base_ref, built):
        st.markdown("Or, without the file, from the built-in scenario:")
        st.code(export.run_command(str(base_ref), n=n, seed=seed, overrides=built.overrides),
                language="bash")
    st.markdown("Baseline and current side by side (paired, same seed):")
    btext = export.export_toml(base_sc, bname, seed=seed, n=n, note="the pinned baseline")
    st.download_button(f"Download {bname}.toml", btext, file_name=f"{bname}.toml",
                       mime="application/toml", key="download_baseline")
    st.code(export.compare_command([f"{bname}.toml", f"{name}.toml"], n=n, seed=seed),
            language="bash")
    with st.expander("Show the scenario file"):
        st.code(text, language="toml")


def show_exercises() -> None:
    pack = exercises.list_exercises()
    if not pack:
        st.write("No exercise pack found (scenarios/exercises/).")
        return
    st.markdown("Each exercise: choose its first scenario under *Start from* (`exercises/…`), "
                "run, pin it as the baseline, then change what the worksheet says.")
    for e in pack:
        with st.expander(e.title):
            st.markdown(e.student_text)
            if st.toggle("Show the teacher's note", key=f"note_{e.number}"):
                st.markdown(e.teacher_note)
