"""Named random streams (MODEL.md §7).

Replication *i* of a batch with root seed *S* draws from ``SeedSequence(S, spawn_key=(i,))``;
each stochastic activity has its own child stream, keyed by a stable hash of its name, so two
scenarios run with the same seed see the same ideas and incidents where their inputs agree
(common random numbers). Uniforms and exponentials come from pre-drawn blocks for speed.
Global ``random``/``np.random`` are never used.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

_BLOCK = 256


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


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

    def bernoulli(self, p: float) -> bool:
        return self.uniform() < p

    def lognormal_mean(self, mean: float, sigma: float) -> float:
        """Lognormal with the given *mean* (not median) and log-sigma.

        Always consumes one normal draw, also for sigma = 0, so later draws of the stream do
        not shift when a spread is switched off (common random numbers).
        """
        z = float(self.gen.standard_normal())
        if sigma <= 0:
            return mean
        return math.exp(math.log(mean) - 0.5 * sigma * sigma + sigma * z)

    def gamma_mean_cv(self, mean: float, cv: float) -> float:
        """Gamma with the given mean and coefficient of variation (one draw, also for cv = 0)."""
        shape = 1.0 / (cv * cv) if cv > 0 else 1.0
        g = float(self.gen.standard_gamma(shape))
        if cv <= 0:
            return mean
        return g * mean / shape

    def choice_index(self, probs: tuple[float, ...] | list[float]) -> int:
        u = self.uniform()
        acc = 0.0
        for i, p in enumerate(probs):
            acc += p
            if u < acc:
                return i
        return len(probs) - 1


class Streams:
    """The named streams of one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._streams: dict[str, Stream] = {}

    def __getitem__(self, name: str) -> Stream:
        s = self._streams.get(name)
        if s is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, _name_key(name)))
            s = Stream(np.random.Generator(np.random.PCG64(ss)))
            self._streams[name] = s
        return s
