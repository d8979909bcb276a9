"""The classroom exercise pack in ``scenarios/exercises/``.

Each exercise ``NN-slug.md`` is a worksheet (question, what to change, what to observe, teacher's
note) with scenario files ``NN-*.toml`` beside it. The teacher's expected answer is written in
the worksheet as a fenced block tagged ``expected``, one line per claim::

    innovations_per_year: 01-dilemma-four-suppliers < 01-dilemma-single

meaning: run both scenarios with the same seed (common random numbers) and
:data:`REPLICATIONS` replications; the paired mean difference (left − right) is negative and
its 95 % confidence interval excludes zero. A claim that a lever does *not* move a KPI names a
margin relative to the right-hand scenario's mean::

    between_chairs_per_year: 02-coordinators-24 ~ 02-coordinators-10 ±5%

meaning: the whole 95 % confidence interval of the paired difference lies within ±5 % of the
mean of ``02-coordinators-10`` (an equivalence test: a noisy, inconclusive comparison does not
pass). ``tests/test_exercises.py`` checks every claim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from simsource.scenario import Scenario, load_scenario
from simsource.scenario.loader import scenarios_dir
from simsource.stats import Difference

SEED = 2017
REPLICATIONS = 20
SECTIONS = ("## Question", "## What to change", "## What to observe", "## Teacher's note")
_BLOCK = re.compile(r"^```expected[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CLAIM = re.compile(r"^\s*([a-z0-9_]+)\s*:\s*([\w.-]+)\s*([<>~])\s*([\w.-]+)"
                    r"\s*(?:±\s*(\d+(?:\.\d+)?)\s*%)?\s*$")


@dataclass(frozen=True)
class Expectation:
    """``kpi: left op right`` — the sign of mean(left − right), paired over replications; or,
    with ``op`` ``~`` and a ``margin`` (a fraction), that the difference is within
    ± margin × mean(right)."""

    kpi: str
    left: str
    op: str
    right: str
    margin: float | None = None

    def holds(self, diff: Difference, reference: float = math.nan) -> bool:
        """``diff`` is left − right; a ``<``/``>`` claim holds when its 95 % CI lies on the
        stated side, a ``~`` claim when the whole CI lies within ± margin × |``reference``|
        (the right-hand scenario's mean)."""
        if math.isnan(diff.mean):
            return False
        if self.op == "~":
            if self.margin is None or math.isnan(reference) or math.isnan(diff.low):
                return False
            bound = self.margin * abs(reference)
            return max(abs(diff.low), abs(diff.high)) <= bound
        if self.op == "<":
            return diff.high < 0 or (diff.mean < 0 and diff.low == diff.high)
        return diff.low > 0 or (diff.mean > 0 and diff.low == diff.high)

    def __str__(self) -> str:
        tail = "" if self.margin is None else f" ±{self.margin * 100:g}%"
        return f"{self.kpi}: {self.left} {self.op} {self.right}{tail}"


@dataclass(frozen=True)
class Exercise:
    number: str
    slug: str
    title: str
    worksheet: Path
    text: str
    scenarios: tuple[str, ...]          # file stems, e.g. "01-dilemma-single"
    expectations: tuple[Expectation, ...]

    def scenario_path(self, stem: str) -> Path:
        return self.worksheet.parent / f"{stem}.toml"

    def load(self, stem: str) -> Scenario:
        sc = load_scenario(self.scenario_path(stem))
        return sc.model_copy(update={"name": stem})

    @property
    def student_text(self) -> str:
        """The worksheet without the teacher's note."""
        return self.text.split("## Teacher's note", 1)[0].rstrip() + "\n"

    @property
    def teacher_note(self) -> str:
        parts = self.text.split("## Teacher's note", 1)
        return parts[1].strip() if len(parts) == 2 else ""


def exercises_dir() -> Path:
    return scenarios_dir() / "exercises"


def parse_expectations(text: str, source: str = "worksheet") -> list[Expectation]:
    """The claims of every ``expected`` block; a malformed line raises ``ValueError``."""
    out = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = _CLAIM.match(line)
            if not m or (m.group(3) == "~") != (m.group(5) is not None):
                raise ValueError(f"{source}: expected block: cannot read '{line.strip()}' "
                                 "(want 'kpi: scenario-a < scenario-b', '… > …' or "
                                 "'kpi: scenario-a ~ scenario-b ±5%')")
            pct = m.group(5)
            out.append(Expectation(m.group(1), m.group(2), m.group(3), m.group(4),
                                   None if pct is None else float(pct) / 100.0))
    return out


def load_exercise(worksheet: Path) -> Exercise:
    text = worksheet.read_text(encoding="utf-8")
    number, _, slug = worksheet.stem.partition("-")
    title_line = next((ln for ln in text.splitlines() if ln.startswith("# ")), worksheet.stem)
    stems = tuple(sorted(p.stem for p in worksheet.parent.glob(f"{number}-*.toml")))
    return Exercise(number, slug, title_line.removeprefix("# ").strip(), worksheet, text, stems,
                    tuple(parse_expectations(text, worksheet.name)))


def list_exercises(folder: Path | None = None) -> list[Exercise]:
    d = folder or exercises_dir()
    if not d.is_dir():
        return []
    return [load_exercise(p) for p in sorted(d.glob("[0-9][0-9]-*.md"))]
