"""The replay: watch a replication happen — ideas moving through the funnel, incidents at the
suppliers, the coordinators' desks — as a plotly animation (vidigi on plotly).

:func:`build_replay` draws one or two replications (:class:`Panel`, from the event log of
:mod:`simsource.experiment.trace`) on one clock; :func:`replay_html` makes it a self-contained
HTML page (plotly.js inlined). Used by ``simsource animate`` and the teaching page's *Watch* tab.
"""

from __future__ import annotations

from simsource.analysis.replay.export import GENERATOR, replay_html, write_replay
from simsource.analysis.replay.figure import Panel, build_replay, frame_times

__all__ = ["GENERATOR", "Panel", "build_replay", "frame_times", "replay_html", "write_replay"]
