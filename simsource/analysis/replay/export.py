"""The replay as one self-contained HTML file: plotly.js inlined, nothing loaded from outside,
so it plays from a USB stick, in slides or in a learning platform without the app."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from simsource.experiment.outputs import claim_file, html_is_ours
from simsource.experiment.parquetio import atomic_write_text

#: the mark that tells simsource a replay file is its own (and may be replaced)
GENERATOR = '<meta name="generator" content="simsource animate">'


def replay_html(fig: go.Figure, title: str) -> str:
    """A complete HTML page of ``fig`` with plotly.js inlined and simsource's mark."""
    page: str = pio.to_html(fig, include_plotlyjs=True, full_html=True, auto_play=False,
                       config={"displaylogo": False, "responsive": True}, validate=False)
    head = f"<head>{GENERATOR}<title>{html.escape(title)}</title>"
    return page.replace("<head>", head, 1)


def claim_replay_file(path: Path, option: str = "-o/--output") -> None:
    """Check ``path`` before the run: an ``.html`` name, and no file of the user's there."""
    claim_file(path, (".html", ".htm"), option, "the replay (HTML)",
               lambda p: html_is_ours(p, GENERATOR))


def write_replay(path: Path, fig: go.Figure, title: str) -> Path:
    """Write the replay page atomically (after :func:`claim_replay_file`)."""
    atomic_write_text(Path(path), replay_html(fig, title))
    return Path(path)
