"""The mutation score of ``simsource/model/`` from mutmut's results (``make mutate``).

mutmut 3 writes, next to every mutated module in ``mutants/``, a ``.meta`` file with the exit
code of each mutant's test run. This reads them and prints the share of mutants the fast tests
kill, per module and in all, and the survivors by name (``mutmut show NAME`` shows the change).

The whole model has about 4,400 mutants: several CPU-hours. ``--pick N`` draws a uniform random
sample of N of them (seeded) for ``mutmut run``; the score of a sample comes with its exact
binomial 95 % interval (Clopper–Pearson, ``scipy.stats.binomtest``)::

    python -m tests.mutation_score --pick 300 --seed 1     # the names, one per line
    python -m tests.mutation_score --sample 300 --seed 1   # the score of that sample
    python -m tests.mutation_score                         # every mutant checked so far

A mutant counts as killed when a test failed (or timed out, or crashed); as surviving when
every test passed or no fast test reaches it ("no tests"); mutants not yet checked and those
mutmut skipped are left out.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

MUTANTS = Path("mutants")
MODEL = MUTANTS / "simsource" / "model"
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}


def _status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[code])


def exit_codes() -> dict[str, int | None]:
    """Every mutant of the model by name, with its exit code (None: not checked yet)."""
    if not MODEL.is_dir():
        sys.exit("mutants/ has no model: run `make mutate` first (it generates the mutants)")
    codes: dict[str, int | None] = {}
    for meta in sorted(MODEL.glob("*.py.meta")):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def pick(names: list[str], n: int, seed: int) -> list[str]:
    """A uniform random sample of ``n`` mutant names, the same for the same seed."""
    return sorted(random.Random(seed).sample(sorted(names), min(n, len(names))))


def score(codes: dict[str, int | None]) -> dict[str, Any]:
    statuses = {name: _status(code) for name, code in codes.items()}
    counts = Counter(statuses.values())
    killed = sum(counts[s] for s in KILLED)
    survived = sum(counts[s] for s in SURVIVED)
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses.items():
        module = name.split(".x_")[0].split(".xǁ")[0]
        by_module[module]["killed" if status in KILLED else
                          "survived" if status in SURVIVED else "other"] += 1
    out: dict[str, Any] = {
        "mutants": len(codes), "checked": killed + survived, "killed": killed,
        "survived": survived, "by_status": dict(counts),
        "score": killed / (killed + survived) if killed + survived else None,
        "by_module": {m: dict(c) for m, c in sorted(by_module.items())},
        "survivors": sorted(n for n, s in statuses.items() if s in SURVIVED)}
    if killed + survived:
        from scipy.stats import binomtest

        ci = binomtest(killed, killed + survived).proportion_ci(0.95, method="exact")
        out["ci95"] = [ci.low, ci.high]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pick", type=int, help="print a random sample of N mutant names")
    ap.add_argument("--sample", type=int, help="score only the sample --pick N would draw")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=MUTANTS / "score.json")
    args = ap.parse_args(argv)
    codes = exit_codes()
    if args.pick:
        print("\n".join(pick(list(codes), args.pick, args.seed)))
        return 0
    if args.sample:
        codes = {n: codes[n] for n in pick(list(codes), args.sample, args.seed)}
    else:
        codes = {n: c for n, c in codes.items() if c is not None}
    result = score(codes)
    result["sample"] = {"n": args.sample, "seed": args.seed} if args.sample else None
    args.json.write_text(json.dumps(result, indent=1))
    for module, c in result["by_module"].items():
        print(f"{module:40s} killed {c.get('killed', 0):4d}  survived {c.get('survived', 0):4d}"
              f"  not checked {c.get('other', 0):4d}")
    what = (f"a random sample of {args.sample} (seed {args.seed}) of all mutants"
            if args.sample else "every mutant checked so far")
    if result["score"] is None:
        print(f"no mutant of {what} has been checked yet")
        return 1
    low, high = result["ci95"]
    print(f"mutation score of simsource/model/, {what}: {result['killed']} of "
          f"{result['checked']} killed = {result['score']:.1%} (95 % interval {low:.1%}–"
          f"{high:.1%}); {result['by_status']}")
    print(f"survivors ({len(result['survivors'])}): mutmut show NAME")
    for name in result["survivors"]:
        print("  " + name)
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
