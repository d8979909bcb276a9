"""Named random streams and per-entity draws (MODEL.md §7).

Replication *i* of a batch with root seed *S* draws from ``SeedSequence(S, spawn_key=(i,))``;
each stochastic activity has its own child stream, keyed by a stable hash of its name.

Common random numbers that survive parameter changes: an *entity* (an idea, an incident, a
system, a governance cycle, a latent need …) never shares a sequence of draws with another.
Entity number *k* of a source reads the fixed-width slice ``[k·width, (k+1)·width)`` of its
source's entity stream (:class:`EntityDraws`) — a sub-stream keyed by source and index —
whatever the parameters decide to use of it. Arrival times come from a separate stream of unit
exponentials, one per arrival. So changing how an entity is treated (how many areas it needs,
whether it crosses a supplier boundary, whether a transfer is running) never shifts another
entity's draws. Global ``random``/``np.random`` are never used.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

_BLOCK = 256
_NORMAL = NormalDist()
_U_MIN = 1e-12   # uniforms are clipped to (U_MIN, 1 - U_MIN) before inverse transforms
_U_MAX = 1.0 - _U_MIN


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


# (the clips below are written as comparisons, not min() and max(): these functions run for
# almost every draw, and a builtin call costs more than the comparison; same values)
def expo(u: float) -> float:
    """A unit-mean exponential from a uniform (inverse transform)."""
    return -math.log1p(-(u if u < _U_MAX else _U_MAX))


def normal(u: float) -> float:
    """A standard normal from a uniform (inverse transform)."""
    return _NORMAL.inv_cdf(_U_MIN if u < _U_MIN else (u if u < _U_MAX else _U_MAX))


def lognormal_mean(mean: float, sigma: float, u: float) -> float:
    """Lognormal with the given *mean* (not median) and log-sigma, from a uniform."""
    if sigma <= 0:
        return mean
    return math.exp(math.log(mean) - 0.5 * sigma * sigma + sigma * normal(u))


def pick(u: float, n: int) -> int:
    """An index in ``range(n)`` from a uniform."""
    k = int(u * n)
    return k if k < n else n - 1


def choice_index(u: float, probs: tuple[float, ...] | list[float]) -> int:
    """The index drawn from ``probs`` by inverse transform of one uniform."""
    acc = 0.0
    for i, p in enumerate(probs):
        acc += p
        if u < acc:
            return i
    return len(probs) - 1


class Stream:
    """One named stream: uniforms and standard exponentials from pre-drawn blocks."""

    __slots__ = ("_exp", "_ie", "_iu", "_uni", "gen")

    def __init__(self, gen: np.random.Generator) -> None:
        self.gen = gen
        self._uni: list[float] = []
        self._iu = 0
        self._exp: list[float] = []
        self._ie = 0

    def uniform(self) -> float:
        """A U(0, 1) draw."""
        if self._iu >= len(self._uni):
            self._uni = self.gen.random(_BLOCK).tolist()
            self._iu = 0
        u = self._uni[self._iu]
        self._iu += 1
        return u

    def expo(self, mean: float) -> float:
        """An exponential draw with the given mean (0 when mean is 0)."""
        if self._ie >= len(self._exp):
            self._exp = self.gen.standard_exponential(_BLOCK).tolist()
            self._ie = 0
        e = self._exp[self._ie]
        self._ie += 1
        return e * mean

    def gamma_mean_cv(self, mean: float, cv: float) -> float:
        """Gamma with the given mean and coefficient of variation (one draw, also for cv = 0)."""
        shape = 1.0 / (cv * cv) if cv > 0 else 1.0
        g = float(self.gen.standard_gamma(shape))
        if cv <= 0:
            return mean
        return g * mean / shape


#: One entity's uniforms: a slice of a block of doubles (``array('d')``), read by index.
Draws = Sequence[float]


class EntityDraws:
    """Fixed-width blocks of uniforms: entity *k* of a source gets its own ``width`` uniforms.

    Entities are numbered in creation order; :meth:`next` returns the next entity's uniforms.
    A block is kept as doubles (``array('d')``, copied from numpy's buffer), not as a list:
    an entity reads only some of its ``width`` uniforms, and a Python float is made only for
    those it reads (converting a whole block to floats cost 4 % of a replication's
    instructions). The values are the same doubles either way.
    """

    __slots__ = ("_block", "_i", "count", "gen", "per_block", "width")

    def __init__(self, gen: np.random.Generator, width: int, per_block: int = 64) -> None:
        self.gen = gen
        self.width = width
        self.per_block = per_block
        self._block: array[float] = array("d")
        self._i = 0
        self.count = 0

    def next(self) -> Draws:
        if self._i >= len(self._block):
            b = array("d")
            b.frombytes(self.gen.random(self.width * self.per_block).tobytes())
            self._block = b
            self._i = 0
        i = self._i
        self._i = i + self.width
        self.count += 1
        return self._block[i:i + self.width]


class Streams:
    """The named streams of one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._streams: dict[str, Stream] = {}
        self._entities: dict[str, EntityDraws] = {}

    def _generator(self, name: str) -> np.random.Generator:
        ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, _name_key(name)))
        return np.random.Generator(np.random.PCG64(ss))

    def __getitem__(self, name: str) -> Stream:
        s = self._streams.get(name)
        if s is None:
            s = Stream(self._generator(name))
            self._streams[name] = s
        return s

    def entities(self, name: str, width: int) -> EntityDraws:
        """The per-entity draws of source ``name`` (``width`` uniforms per entity)."""
        e = self._entities.get(name)
        if e is None:
            e = EntityDraws(self._generator(f"entity:{name}"), width)
            self._entities[name] = e
        elif e.width != width:
            raise ValueError(f"entity stream {name!r} used with widths {e.width} and {width}")
        return e
