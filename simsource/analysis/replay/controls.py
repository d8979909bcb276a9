"""Play, pause, speed and the time slider of the replay (plotly updatemenus and a slider).

vidigi's figure has one play button at one speed; a class needs to slow down, speed up and
stop, so the replay has its own: *Play* and *Pause*, speeds ½× to 4× (each plays from the
current frame at that speed), and a slider labelled with the working day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: milliseconds per frame at 1× (and of the glide between two frames)
FRAME_MS = 400
GLIDE_MS = 300
SPEEDS: tuple[tuple[str, float], ...] = (("½×", 0.5), ("1×", 1.0), ("2×", 2.0), ("4×", 4.0))
PLAY, PAUSE = "▶ Play", "Pause"


def _play(speed: float) -> list[Any]:
    return [None, {"frame": {"duration": FRAME_MS / speed, "redraw": False},
                   "transition": {"duration": GLIDE_MS / speed, "easing": "linear"},
                   "fromcurrent": True, "mode": "immediate"}]


def _pause() -> list[Any]:
    return [[None], {"frame": {"duration": 0, "redraw": False},
                     "transition": {"duration": 0}, "mode": "immediate"}]


def updatemenus() -> list[dict[str, Any]]:
    return [
        {"type": "buttons", "direction": "right", "showactive": False,
         "x": 0.0, "xanchor": "left", "y": 0.0, "yanchor": "top", "pad": {"t": 8, "r": 8},
         "buttons": [{"label": PLAY, "method": "animate", "args": _play(1.0)},
                     {"label": PAUSE, "method": "animate", "args": _pause()}]},
        {"type": "buttons", "direction": "right", "showactive": True, "active": 1,
         "x": 0.16, "xanchor": "left", "y": 0.0, "yanchor": "top", "pad": {"t": 8, "r": 8},
         "buttons": [{"label": label, "method": "animate", "args": _play(speed)}
                     for label, speed in SPEEDS]},
    ]


def slider(names: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """A slider with one step per frame (``names``), labelled ``labels``."""
    return {
        "active": 0, "x": 0.36, "len": 0.64, "y": 0.0, "yanchor": "top",
        "pad": {"t": 4, "b": 4},
        "currentvalue": {"prefix": "Working day ", "font": {"size": 13}},
        "transition": {"duration": 0},
        "steps": [{"label": label, "method": "animate",
                   "args": [[name], {"frame": {"duration": 0, "redraw": False},
                                     "transition": {"duration": 0}, "mode": "immediate"}]}
                  for name, label in zip(names, labels, strict=True)],
    }
