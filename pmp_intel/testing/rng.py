"""Deterministic, order-free randomness for the simulated estate.

Every random fact of the estate is a pure function of the seed and the identity of the thing it
describes (a system index, a patch id, a day), so any record can be computed on its own, in any
order, on any thread, and comes out the same every time. ``random.Random`` is avoided on hot
paths: constructing one costs microseconds, a :func:`mix64` a fraction of one.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

MASK64 = (1 << 64) - 1
#: 2**64 as a float, for turning 64-bit hashes into probabilities.
SPAN64 = float(1 << 64)
GOLDEN = 0x9E3779B97F4A7C15


def mix64(value: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of ``value``."""
    value = (value + GOLDEN) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def label(text: str) -> int:
    """A stable integer for a name (``hash(str)`` is salted per process, crc32 is not)."""
    return zlib.crc32(text.encode("utf-8"))


def key(*parts: int) -> int:
    """Hash a tuple of integers into one 64-bit key."""
    value = 0
    for part in parts:
        value = mix64(value ^ (part & MASK64))
    return value


def unit(value: int) -> float:
    """A 64-bit hash as a float in [0, 1)."""
    return (value >> 11) * (1.0 / (1 << 53))


def threshold(probability: float) -> int:
    """The 64-bit bound below which a uniform hash falls with ``probability``."""
    if probability <= 0.0:
        return 0
    if probability >= 1.0:
        return MASK64 + 1
    return int(probability * SPAN64)


class Weighted:
    """Pick among options with fixed weights using a uniform number (bisect on the CDF)."""

    __slots__ = ("_cumulative", "_total", "options")

    def __init__(self, options: Sequence[object], weights: Sequence[float]) -> None:
        if len(options) != len(weights) or not options:
            raise ValueError("options and weights must be non-empty and of equal length")
        self.options = tuple(options)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]

    def index(self, u: float) -> int:
        """Index of the option that the uniform ``u`` in [0, 1) selects."""
        position = bisect_right(self._cumulative, u * self._total)
        return min(position, len(self.options) - 1)
