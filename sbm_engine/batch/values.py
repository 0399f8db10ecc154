"""How the batch backend holds values: numbers as float arrays, text as categories.

Why these two shapes: N/A must travel through every operation without a Python
`None` per row. Numbers and conditions are float64 arrays where NaN is N/A and a
condition is 1.0 (true), 0.0 (false) or NaN (unknown), so Kleene logic is a few
`np.where`s. Texts and labels (visit fields, `answer(x)` of a label scale, band
labels) are `Cat`s: integer codes into a short list of distinct Python values,
-1 for N/A. Any operation on texts is then evaluated once per distinct value (or
distinct pair) with plain Python semantics and spread back with fancy indexing,
so `visit.scenario == "deposit"` means exactly what it means per visit.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

NAN = float("nan")

#: Python comparison operators by their `.sbm` spelling.
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Unhashable:
    """Stands for one unhashable raw value (a list, a dict) in a distinct-value table."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def value_key(value: Any) -> Any:
    """A dictionary key that keeps 1, 1.0 and True apart (Python's `==` merges them).

    Strings are their own key (no other type is equal to a string), so the common
    case costs nothing. Raises TypeError for unhashable values.
    """
    if value.__class__ is str:
        return value
    key = (value.__class__, value)
    hash(key)
    return key


_NUMERIC_TYPES = (bool, int, float, complex)


def encode_objects(values: Iterable[Any]) -> tuple[np.ndarray, list[Any]]:
    """Dictionary-encode Python objects: codes into a list of distinct values.

    Unhashable values each get their own slot, wrapped in `Unhashable`, so callers
    can treat them as the oddities they are.
    """
    if not isinstance(values, list):
        values = list(values)
    # Fast path, all in C loops: plain values as keys. Safe unless two numeric types
    # meet (Python's `==` merges 1, 1.0 and True, which answers must keep apart).
    types = set(map(type, values))
    if sum(1 for t in types if issubclass(t, _NUMERIC_TYPES)) <= 1:
        try:
            uniques = list(set(values))
        except TypeError:  # an unhashable value: the careful loop below
            pass
        else:
            index = {v: i for i, v in enumerate(uniques)}
            fast = np.fromiter(map(index.__getitem__, values), dtype=np.intp, count=len(values))
            return fast, uniques
    table: dict[Any, int] = {}
    distinct: list[Any] = []
    codes: list[int] = []
    append = codes.append
    for v in values:
        try:
            key = v if v.__class__ is str else (v.__class__, v)
            code = table.get(key)
        except TypeError:
            code = len(distinct)
            distinct.append(Unhashable(v))
            append(code)
            continue
        if code is None:
            code = table[key] = len(distinct)
            distinct.append(v)
        append(code)
    return np.fromiter(codes, dtype=np.intp, count=len(codes)), distinct


class Cat:
    """A column of text values: `codes[i]` indexes `values`, -1 is N/A.

    `const` marks a constant (every row the same code), which lets operations
    with a literal use a lookup table instead of pairing codes.
    """

    __slots__ = ("codes", "const", "values")

    def __init__(self, codes: np.ndarray, values: Sequence[Any], const: bool = False) -> None:
        self.codes = codes
        self.values = list(values)
        self.const = const

    @classmethod
    def constant(cls, value: Any, m: int) -> Cat:
        if value is None:
            return cls(np.full(m, -1, dtype=np.intp), [], const=True)
        return cls(np.zeros(m, dtype=np.intp), [value], const=True)

    @classmethod
    def from_objects(cls, values: Iterable[Any]) -> Cat:
        """From Python values, None meaning N/A."""
        codes, distinct = encode_objects(values)
        if any(v is None for v in distinct):
            lut = np.arange(len(distinct) + 1, dtype=np.intp)
            keep = [v for v in distinct if v is not None]
            j = 0
            for i, v in enumerate(distinct):
                if v is None:
                    lut[i] = -1
                else:
                    lut[i] = j
                    j += 1
            return cls(lut[codes], keep)
        return cls(codes, distinct)

    def lut(self, per_value: Sequence[Any], na: Any, dtype: Any) -> np.ndarray:
        """Spread one result per distinct value (and `na` for N/A rows) over the rows."""
        table = np.empty(len(self.values) + 1, dtype=dtype)
        table[: len(per_value)] = per_value
        table[-1] = na  # codes of -1 index the last slot
        return table[self.codes]

    def objects(self) -> np.ndarray:
        """The values as an object array, None for N/A."""
        table = np.empty(len(self.values) + 1, dtype=object)
        table[: len(self.values)] = [
            v.value if isinstance(v, Unhashable) else v for v in self.values
        ]
        table[-1] = None
        return table[self.codes]

    def is_na(self) -> np.ndarray:
        return self.codes < 0


def as_cat(x: Any, m: int) -> Cat:
    """Anything (a Cat, a float array or scalar) as a Cat; NaN becomes N/A."""
    if isinstance(x, Cat):
        return x
    arr = np.broadcast_to(np.asarray(x, dtype=float), (m,))
    return Cat.from_objects(None if v != v else v for v in arr.tolist())


def union(a: Cat, b: Cat) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """One value list for two Cats, and each Cat's codes in it (-1 kept)."""
    table: dict[Any, int] = {}
    values: list[Any] = []

    def remap(cat: Cat) -> np.ndarray:
        lut = np.empty(len(cat.values) + 1, dtype=np.intp)
        for i, v in enumerate(cat.values):
            try:
                key: Any = value_key(v)
            except TypeError:
                key = ("unhashable", id(v))
            code = table.get(key)
            if code is None:
                code = table[key] = len(values)
                values.append(v)
            lut[i] = code
        lut[-1] = -1
        return lut[cat.codes]

    return values, remap(a), remap(b)


def cat_where(cond: np.ndarray, a: Cat, b: Cat) -> Cat:
    values, ca, cb = union(a, b)
    return Cat(np.where(cond, ca, cb), values)


def cat_coalesce(a: Cat, b: Cat) -> Cat:
    values, ca, cb = union(a, b)
    return Cat(np.where(ca >= 0, ca, cb), values)


def _plain(v: Any) -> Any:
    return v.value if isinstance(v, Unhashable) else v


def cat_binary(
    fn: Callable[[Any, Any], Any], a: Cat, b: Cat, na: Any = None
) -> tuple[list[Any], np.ndarray, np.ndarray | None]:
    """Apply a Python function of two values to every row, once per distinct pair.

    Returns the distinct results, each row's index into them, and the rows where
    `fn` raised (None when it never did). N/A on either side gives `na` without
    calling `fn`, as the per-visit code does.
    """
    results: list[Any] = []
    failed: list[int] = []

    def call(x: Any, y: Any) -> Any:
        if x is None or y is None:
            return na
        try:
            return fn(_plain(x), _plain(y))
        except Exception:  # the per-visit path will meet (and report) the same failure
            failed.append(len(results))
            return na

    if b.const or a.const:
        other, const = (a, b) if b.const else (b, a)
        c = const.values[0] if const.values and const.codes.size and const.codes[0] >= 0 else None
        for v in other.values:
            results.append(call(v, c) if other is a else call(c, v))
        results.append(na)
        index = np.where(other.codes >= 0, other.codes, len(results) - 1)
    else:
        nb = len(b.values) + 1
        key = (a.codes + 1) * nb + (b.codes + 1)
        uniq, index = np.unique(key, return_inverse=True)
        index = index.reshape(-1)
        for k in uniq.tolist():
            i, j = divmod(k, nb)
            x = a.values[i - 1] if i else None
            y = b.values[j - 1] if j else None
            results.append(call(x, y))
    bad = None
    if failed:
        bad = np.isin(index, np.asarray(failed, dtype=np.intp))
    return results, index, bad


def to_float(v: Any) -> float:
    """A per-visit result (None, bool or number) as a float with NaN for N/A."""
    return NAN if v is None else float(v)


# -- three-valued logic on float arrays (1.0 true, 0.0 false, NaN unknown) ------------------


def truthy(x: Any) -> Any:
    """Where the per-visit code's `if x:` would take the then-branch."""
    return np.equal(x, 1.0)


def k_not(x: Any) -> Any:
    return np.subtract(1.0, x)


def k_and(x: Any, y: Any) -> Any:
    false = np.equal(x, 0.0) | np.equal(y, 0.0)
    unknown = np.isnan(x) | np.isnan(y)
    return np.where(false, 0.0, np.where(unknown, NAN, 1.0))


def k_or(x: Any, y: Any) -> Any:
    true = np.equal(x, 1.0) | np.equal(y, 1.0)
    unknown = np.isnan(x) | np.isnan(y)
    return np.where(true, 1.0, np.where(unknown, NAN, 0.0))


def full(x: Any, m: int) -> np.ndarray:
    """A float result as a writable array of the chunk's length."""
    if isinstance(x, np.ndarray) and x.shape == (m,):
        return x
    return np.full(m, x, dtype=float) if np.ndim(x) == 0 else np.array(np.broadcast_to(x, (m,)))
