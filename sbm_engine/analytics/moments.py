"""Exact moments: count, mean and variance that do not depend on the order of the data.

Why exact: `compare` reads waves of millions of visits in whatever order the files
hold them, split into files and formats as they come, and the same waves must give
the same figures byte for byte (semantics §9). A float running sum changes in its
last bits with the order; integer sums do not.

Every finite float is a whole number of 2**-1074 (the smallest subnormal) and its
square a whole number of 2**-2148, so the sums are kept as Python integers in those
units. `columnar.WaveSums` computes them a column at a time; `add` is the same sum
value by value, which the tests hold the column sums to.
"""

from __future__ import annotations

import math

_UNIT = 1074
_UNIT2 = 2 * _UNIT


class Moments:
    """Count, exact sum and exact sum of squares of finite floats."""

    __slots__ = ("n", "sq_units", "sum_units")

    def __init__(self) -> None:
        self.n = 0
        self.sum_units = 0
        self.sq_units = 0

    def add(self, x: float) -> None:
        num, den = float(x).as_integer_ratio()  # den is a power of two
        shift = _UNIT - den.bit_length() + 1
        self.n += 1
        self.sum_units += num << shift
        self.sq_units += (num * num) << (2 * shift)

    def add_exact(self, n: int, total: int, total_exp: int, squares: int, squares_exp: int) -> None:
        """Add `n` values whose sum is total·2**total_exp and sum of squares
        squares·2**squares_exp."""
        self.n += n
        self.sum_units += _scaled(total, total_exp + _UNIT)
        self.sq_units += _scaled(squares, squares_exp + _UNIT2)

    def merge(self, other: Moments) -> None:
        self.n += other.n
        self.sum_units += other.sum_units
        self.sq_units += other.sq_units

    @property
    def count(self) -> int:
        return self.n

    def sum(self) -> float:
        return _divide(self.sum_units, 1 << _UNIT)

    def mean(self) -> float | None:
        """The mean, correctly rounded; None when nothing was added."""
        return _divide(self.sum_units, self.n << _UNIT) if self.n else None

    def variance(self) -> float | None:
        """The sample variance (n − 1 in the denominator), correctly rounded from the
        exact sums: (n·Σx² − (Σx)²) / (n·(n − 1)). None when n < 2."""
        n = self.n
        if n < 2:
            return None
        top = n * self.sq_units - self.sum_units * self.sum_units  # in units of 2**-2148
        return _divide(top, (n * (n - 1)) << _UNIT2)


def _scaled(x: int, shift: int) -> int:
    """x·2**shift, exact: a negative shift only drops zero bits (sums of floats are
    whole numbers of 2**-1074, of squares of 2**-2148)."""
    return x << shift if shift >= 0 else x >> -shift


def _divide(num: int, den: int) -> float:
    try:
        return num / den
    except OverflowError:
        return math.inf if (num < 0) == (den < 0) else -math.inf
