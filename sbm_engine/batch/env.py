"""The state of one chunk of rows while a compiled standard evaluates it.

Why a module of its own: the compiled closures (`compiler.py`) and the plugin
calls (`plugins.py`) share it. Besides the values computed so far, an `Env`
carries the *suspect* mask: rows the vectorized code does not vouch for, which
the evaluator hands to the per-visit path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .columns import Coded, Source
from .values import Cat

Active = np.ndarray | None  # rows the per-visit code would evaluate; None: all rows
Expr = Callable[["Env", Active], Any]


def both(active: Active, mask: Any) -> Any:
    """Rows in `active` (None: all) where `mask` holds."""
    if active is None:
        return mask
    return active & mask


class Env:
    """Values of one chunk of rows while its standard is evaluated."""

    def __init__(
        self,
        m: int,
        sources: Mapping[str, Source],
        fields: Mapping[str, Source],
        start: int,
        stop: int,
    ) -> None:
        self.m = m
        self.start = start
        self.stop = stop
        self.sources = sources
        self.field_sources = fields
        self.suspect = np.zeros(m, dtype=bool)
        self.items: dict[str, np.ndarray] = {}
        self.values: dict[str, Any] = {}
        #: each multi-select's options chosen: (rows, options) of 1.0/0.0, NaN rows for N/A
        self.options: dict[str, np.ndarray] = {}
        self.sections: dict[str, np.ndarray] = {}
        self.coefs: dict[str, np.ndarray] = {}
        #: coefficients that give a label (`StandardModel.labels`), as text columns
        self.labels: dict[str, Cat] = {}
        self.fields: dict[str, Cat | np.ndarray] = {}  # floats for a typed field
        self.section_when: dict[str, Any] = {}
        self.warn: dict[str, np.ndarray] = {}
        self.coded: dict[str, Coded] = {}
        #: the accumulators of `sums.SumPlan`, one row per selection (complex: num + i·den)
        self.sums: np.ndarray | None = None
        #: whole-column arrays that take item scores in place (`BatchCompiler.run`)
        self.out: Mapping[str, np.ndarray] | None = None
        #: the previous visit's values of the chunk's rows, by `ir.previous_key` (float
        #: arrays, NaN for N/A, or label columns; `ir.HAS_PREVIOUS` 1.0 or 0.0); empty: none
        self.previous: Mapping[Any, Any] = {}
        #: rows where a critical item with `critical if` failed the visit (its 0 where
        #: the condition held); the other critical items fail where they score 0
        self.critical: dict[str, np.ndarray] = {}
        self._zero: dict[tuple[str, str], np.ndarray] = {}
        self._valid: dict[tuple[str, str], np.ndarray] = {}
        self._weighted: dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]] = {}

    def mark(self, mask: Any, active: Active = None) -> None:
        """Rows the per-visit path must score (where `active`)."""
        if mask is None:
            return
        if np.ndim(mask) == 0:
            if mask:
                self.suspect |= True if active is None else active
            return
        self.suspect |= mask if active is None else (mask & active)

    def critical_failed(self, name: str) -> np.ndarray:
        """Rows where critical item `name` failed the visit."""
        failed = self.critical.get(name)
        return failed if failed is not None else self.items[name] == 0.0

    def zero_filled(self, kind: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """An item's or section's value with N/A as 0, and 1.0/0.0 for not-N/A."""
        key = (kind, name)
        z = self._zero.get(key)
        if z is None:
            coded = self.coded.get(name) if kind == "item" else None
            if coded is not None:
                z, self._valid[key] = _looked_up(coded, 1.0)
            else:
                x = self.items[name] if kind == "item" else self.sections[name]
                z, self._valid[key] = zero_and_valid(x)
            self._zero[key] = z
        return z, self._valid[key]

    def weighted(self, kind: str, name: str, w: float) -> tuple[np.ndarray, np.ndarray]:
        """`zero_filled` times the weight, kept: an item is summed into its section and
        again into each tag's coefficient, and the products are the same each time."""
        coded = self.coded.get(name) if kind == "item" else None
        if w == 1.0 and coded is None:
            return self.zero_filled(kind, name)
        key = (kind, name, w)
        hit = self._weighted.get(key)
        if hit is None:
            if coded is not None:  # the products taken in the table: no pass over the rows
                hit = _looked_up(coded, w)
            else:
                z, valid = self.zero_filled(kind, name)
                hit = (z * w, valid * w)
            self._weighted[key] = hit
        return hit


def _looked_up(coded: Coded, w: float) -> tuple[np.ndarray, np.ndarray]:
    """w × `zero_and_valid` of an item whose scores are `table[codes]`, computed on the
    table of a few values and then gathered: two gathers instead of four passes."""
    codes, table, _ = coded
    zt, vt = zero_and_valid(table)
    return np.take(zt * w, codes), np.take(vt * w, codes)


def zero_and_valid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x with N/A (NaN) as 0.0, and 1.0 where x is not N/A, 0.0 where it is."""
    na = np.isnan(x)
    return np.where(na, 0.0, x), np.logical_not(na).astype(float)  # faster than a where


class ChunkResult:
    """What one chunk evaluated to (arrays of the chunk's length)."""

    __slots__ = (
        "bands",
        "coefs",
        "critical",
        "items",
        "labels",
        "sections",
        "suspect",
        "terms",
        "warn",
    )

    def __init__(
        self,
        env: Env,
        critical: dict[str, np.ndarray],
        terms: dict[str, np.ndarray],
        bands: dict[str, np.ndarray],
        labels: dict[str, np.ndarray],
    ) -> None:
        self.items = env.items
        self.sections = env.sections
        self.coefs = env.coefs
        self.warn = env.warn
        self.suspect = env.suspect
        self.critical = critical
        self.terms = terms
        #: each banded coefficient's band, as an index into its bands (-1: none)
        self.bands = bands
        #: each coefficient that gives a label: an object array of texts (None: N/A)
        self.labels = labels
