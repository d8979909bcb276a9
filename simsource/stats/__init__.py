"""Statistics of replicated simulation output: the bottom layer, usable by every other layer.

:mod:`simsource.stats.output_analysis` holds t intervals, paired and Welch comparisons, Holm's
correction, the sequential replication count and MSER-5; :mod:`simsource.stats.proportion` the
Wilson interval of a share. Nothing here imports another part of simsource.
"""

from __future__ import annotations

from simsource.stats.output_analysis import (
    CI,
    COMPARE_COLUMNS,
    ID_COLUMNS,
    N_MAX,
    SUMMARY_COLUMNS,
    Difference,
    compare_table,
    holm,
    mean_ci,
    mser5,
    paired_difference,
    precision_reached,
    relative_half_width,
    replications_needed,
    summarize,
    unpaired_difference,
    warmup_suggestion,
)
from simsource.stats.proportion import wilson

__all__ = [
    "CI", "COMPARE_COLUMNS", "ID_COLUMNS", "N_MAX", "SUMMARY_COLUMNS", "Difference",
    "compare_table", "holm", "mean_ci", "mser5", "paired_difference", "precision_reached",
    "relative_half_width", "replications_needed", "summarize", "unpaired_difference",
    "warmup_suggestion", "wilson",
]  # fmt: skip
