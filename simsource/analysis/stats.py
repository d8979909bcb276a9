"""Moved to :mod:`simsource.stats` (the bottom layer); this name is kept for older imports."""

from __future__ import annotations

from simsource.stats import *  # noqa: F403
from simsource.stats import __all__ as __all__
