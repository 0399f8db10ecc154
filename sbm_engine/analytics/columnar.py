"""Tallying Parquet and CSV results a column at a time (pyarrow and numpy).

The record path (`result_files.CheckedResults`) reads any results file a dict per
visit, checking each one; for the million-visit waves `compare` is built for, that
is the slow part. This path reads only the columns a comparison needs, in batches,
and checks them column-wise: the standard and version of every row, numbers where
coefficients are, scores in [0, 1] where items are. When a check fails, or the file
is not what this path expects, it gives up (`Fallback`) before anything is counted
and the caller reads the file on the record path, whose messages name the file and
line of each problem. Both paths add the same values to the same `Moments`, so
their figures are identical, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..rollup import same_version

if TYPE_CHECKING:
    from .waves import WaveTally

BATCH_ROWS = 65_536


class Fallback(Exception):
    """This file is read on the record path instead (why, for debugging)."""


def grown(array: Any, groups: int, width: int | None = None) -> Any:
    """An int64 array of per-group counts (rows: groups) with zero rows added up to
    `groups`, or a new one (`width` columns, if given) when `array` is None: groups
    appear batch by batch."""
    import numpy as np

    if array is None:
        return np.zeros((groups, width) if width else groups, dtype=np.int64)
    if array.shape[0] < groups:
        extra = np.zeros((groups - array.shape[0], *array.shape[1:]), dtype=np.int64)
        return np.concatenate([array, extra])
    return array


def tally_columnar(
    paths: Sequence[str | Path], tally: WaveTally, wave: str, identity: tuple[str, Any]
) -> None:
    """Add every visit of `paths` (Parquet or CSV results) to `tally` under `wave`.

    Raises `Fallback` when a file cannot be checked column-wise or does not pass
    the checks; `tally` is then unchanged (sums are folded into it at the end)."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise Fallback("no pyarrow or numpy") from err
    sums = WaveSums(tally)
    for path in paths:
        for batch in _batches(Path(path), tally):
            codes, keys = _group_codes(batch, tally, identity)
            sums.add(sums.global_codes(codes, keys), _measures(batch, tally))
    sums.fold_into(tally, wave)


def first_identity(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(source, {"standard", "version"}) of the first row of a results table."""
    import pyarrow as pa

    for batch in _batches(Path(path), None):
        if batch.num_rows:
            row = batch.slice(0, 1).to_pylist()[0]
            if not isinstance(row.get("standard"), str):
                raise Fallback("no standard in the first row")
            return f"{path}:1", {"standard": row["standard"], "version": row.get("version")}
    del pa
    raise Fallback("no rows")


def _wanted(tally: WaveTally | None) -> list[str]:
    cols = ["standard", "version"]
    if tally is None:
        return cols
    if tally.field is not None:
        cols.append(tally.field)
    cols += [f"coefficients.{c}" for c in tally.coef_names]
    cols += [f"items.{i}" for i in tally.item_names]
    return cols


def _batches(path: Path, tally: WaveTally | None) -> Iterator[Any]:
    import pyarrow as pa

    suffix = path.suffix.lower()
    wanted = _wanted(tally)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            f = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as err:
            raise Fallback(str(err)) from err
        names = set(f.schema_arrow.names)
        _require(names, tally)
        yield from f.iter_batches(batch_size=BATCH_ROWS, columns=[c for c in wanted if c in names])
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        types = {c: pa.float64() for c in wanted if c.startswith(("coefficients.", "items."))}
        types.update({c: pa.string() for c in wanted if c not in types})
        try:
            reader = pcsv.open_csv(
                path,
                read_options=pcsv.ReadOptions(block_size=1 << 22),
                convert_options=pcsv.ConvertOptions(
                    column_types=types,
                    include_columns=wanted,
                    include_missing_columns=True,
                    strings_can_be_null=True,
                ),
            )
            _require(set(reader.schema.names), tally)
            yield from reader
        except (pa.ArrowException, OSError) as err:
            raise Fallback(str(err)) from err
    else:
        raise Fallback(f"{suffix} is read record by record")


def _require(names: set[str], tally: WaveTally | None) -> None:
    field = tally.field if tally else None
    if not {"standard", "version"} <= names or (field and field not in names):
        raise Fallback("not a results table")


def _group_codes(batch: Any, tally: WaveTally, identity: tuple[str, Any]) -> tuple[Any, list[Any]]:
    """Check one batch's standard and version; its rows' group codes and the keys."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    names = batch.schema.names
    standard, version = identity
    std_col = batch.column(names.index("standard"))
    if std_col.null_count or pc.any(pc.not_equal(std_col, standard)).as_py():
        raise Fallback("another standard")
    versions = pc.unique(batch.column(names.index("version"))).to_pylist()
    if any(not same_version(v, version) for v in versions):
        raise Fallback("another version")
    if tally.field is None:
        return np.zeros(batch.num_rows, dtype=np.int64), ["network"]
    column = batch.column(names.index(tally.field))
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise Fallback("group keys that are not text")
    encoded = pc.dictionary_encode(column)
    keys = encoded.dictionary.to_pylist()
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    if encoded.null_count:
        keys.append(None)
        nulls = encoded.is_null().to_numpy(zero_copy_only=False)
        indices = np.where(nulls, len(keys) - 1, indices)
    return indices.astype(np.int64), keys


def _measures(batch: Any, tally: WaveTally) -> dict[str, Any]:
    """Each coefficient and item column as (valid rows, values), checked: finite
    numbers, items in [0, 1]. None for a column absent or all null (N/A throughout)."""
    import numpy as np
    import pyarrow as pa

    names = batch.schema.names
    cols: dict[str, Any] = {}
    for prefix, measures, low, high in (
        ("coefficients.", tally.coef_names, None, None),
        ("items.", tally.item_names, 0.0, 1.0),
    ):
        for m in measures:
            name = prefix + m
            if name not in names:
                cols[name] = None
                continue
            column = batch.column(names.index(name))
            if pa.types.is_null(column.type):
                cols[name] = None
                continue
            if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
                raise Fallback(f"{name} is not numeric")
            values = column.to_numpy(zero_copy_only=False).astype(np.float64)
            if column.null_count:
                valid = ~column.is_null().to_numpy(zero_copy_only=False)
            else:
                valid = np.ones(batch.num_rows, dtype=bool)
            v = values[valid]
            if not np.isfinite(v).all() or (low is not None and ((v < low) | (v > high)).any()):
                raise Fallback(f"{name} out of range")
            cols[name] = (valid, values)
    return cols


#: Parts of a 53-bit significand: 26 + 27 bits for sums, three of 18 bits for squares,
#: so that every sum numpy makes of at most BATCH_ROWS parts is exact in a float64
#: (below 2**53) and every running total fits an int64 until it is folded.
_LOW = (1 << 26) - 1
_PART = (1 << 18) - 1
#: Running totals are folded into Python integers after this many rows.
_FOLD_ROWS = 1 << 22


def exponent_sums(g: Any, v: Any, groups: int, squares: bool = True) -> Iterator[tuple[int, Any]]:
    """Exact per-group sums of the float64 values `v` (row i in group g[i] < groups),
    by exponent: (e, int64 array (groups, 9)) for every `frexp` exponent e present.

    A value v = M·2**(e−53), M a 53-bit integer. The columns: n, Σ hi, Σ lo (M split
    as hi·2**26 + lo, `total_of`), then, if `squares`, Σ of the pairwise products of
    three 18-bit parts of |M| (a², ab, ac, b², bc, c²; `WaveSums.exact_sums`); without
    squares the array is (groups, 3). `bincount` adds the parts with float64 weights,
    exactly, since no sum of at most BATCH_ROWS parts reaches 2**53; an exponent may
    come more than once (one per BATCH_ROWS rows), so callers add, never assign.
    """
    import numpy as np

    for start in range(0, len(v), BATCH_ROWS):  # the parts' sums stay exact up to BATCH_ROWS
        gs, vs = g[start : start + BATCH_ROWS], v[start : start + BATCH_ROWS]
        m, e = np.frexp(vs)
        big = (m * float(1 << 53)).astype(np.int64)
        parts = [
            np.ones(len(vs)),
            (big >> 26).astype(np.float64),
            (big & _LOW).astype(np.float64),
        ]
        if squares:
            mag = np.abs(big)
            a, b, c = mag >> 36, (mag >> 18) & _PART, mag & _PART
            parts += [
                (x * y).astype(np.float64)
                for x, y in ((a, a), (a, b), (a, c), (b, b), (b, c), (c, c))
            ]
        low = int(e.min())
        span = int(e.max()) - low + 1
        exps = np.arange(low, low + span)
        slot = (e - low).astype(np.int64)
        if span * groups > max(4 * len(vs), 1 << 16):
            # values far apart (5e-324 beside 1e308): index only the exponents present,
            # so that the bins stay as few as the rows
            exps, slot = np.unique(e, return_inverse=True)
            span = len(exps)
        index = slot.reshape(-1) * groups + gs
        size = span * groups
        width = len(parts)
        sums = np.stack([np.bincount(index, weights=p, minlength=size) for p in parts], axis=1)
        sums = sums.reshape(span, groups, width)
        for offset in np.flatnonzero(sums[:, :, 0].any(axis=1)).tolist():
            yield int(exps[offset]), sums[offset].astype(np.int64)


def total_of(hi: int, lo: int) -> int:
    """Σ M from Σ hi and Σ lo of `exponent_sums`."""
    return (hi << 26) + lo


class WaveSums:
    """Exact per-group sums of one wave's columns, in numpy, folded into `Moments`.

    A value v = M·2**(e−53) (`frexp`, M a 53-bit integer). Per group and exponent e:
    Σ M split as Σ hi·2**26 + Σ lo, and Σ M² from the pairwise products of three
    18-bit parts of |M|. `bincount` adds the parts with float64 weights, exactly,
    since no sum reaches 2**53; the totals are int64 and Python integers, so the
    sum and the sum of squares of every group are exact whatever the order of the
    rows: the same as `Moments.add` gives value by value.
    """

    def __init__(self, tally: WaveTally) -> None:
        self.keys: dict[Any, int] = {}
        self.tally = tally
        self.visits: list[int] = []
        # per coefficient: exponent -> int64 array (groups, 9): n, hi, lo, a², ab, ac, b², bc, c²
        self.coef: dict[str, dict[int, Any]] = {c: {} for c in tally.coef_names}
        self.hits: dict[str, Any] = {}
        self.items: dict[str, tuple[Any, Any]] = {}
        self.exact: dict[str, dict[int, list[int]]] = {c: {} for c in tally.coef_names}
        self.rows = 0

    def global_codes(self, codes: Any, keys: list[Any]) -> Any:
        import numpy as np

        mapping = np.array([self.keys.setdefault(k, len(self.keys)) for k in keys], dtype=np.int64)
        return mapping[codes] if len(codes) else codes

    def add_records(
        self, records: Sequence[Mapping[str, Any]], group_keys: Sequence[Any] | None = None
    ) -> None:
        """Add checked result records (`result_files.CheckedResults`), as columns, each
        to the group of its level's field, or of `group_keys` when given."""
        import numpy as np

        field = self.tally.field
        keys = self.keys
        if group_keys is None:
            group_keys = (
                ["network"] * len(records) if field is None else [r.get(field) for r in records]
            )
        codes = np.fromiter(
            (keys.setdefault(k, len(keys)) for k in group_keys), dtype=np.int64, count=len(records)
        )
        cols: dict[str, Any] = {}
        for prefix, measures in (
            ("coefficients", self.tally.coef_names),
            ("items", self.tally.item_names),
        ):
            maps = [r.get(prefix) or {} for r in records]
            for m in measures:
                values = np.array([x.get(m) for x in maps], dtype=np.float64)  # None -> nan
                cols[f"{prefix}.{m}"] = (~np.isnan(values), values)
        self.add(codes, cols)

    def _grow(self, array: Any, width: int | None = None) -> Any:
        return grown(array, len(self.keys), width)

    def add(self, codes: Any, cols: dict[str, Any]) -> None:
        import numpy as np

        g = len(self.keys)
        visits = np.bincount(codes, minlength=g)
        self.visits += [0] * (g - len(self.visits))
        for gi, k in enumerate(visits.tolist()):
            self.visits[gi] += k
        targets = self.tally.m.targets
        for c in self.tally.coef_names:
            col = cols[f"coefficients.{c}"]
            if col is None:
                continue
            valid, values = col
            self._add_values(c, codes[valid], values[valid])
            target = targets.get(c)
            if target is not None:
                hit = valid & (values >= target - 1e-9)
                self.hits[c] = self._grow(self.hits.get(c)) + np.bincount(codes[hit], minlength=g)
        for item in self.tally.item_names:
            col = cols[f"items.{item}"]
            if col is None:
                continue
            valid, values = col
            applied, passed = self.items.get(item, (None, None))
            applied = self._grow(applied) + np.bincount(codes[valid], minlength=g)
            ok = valid & (values >= 1 - 1e-9)
            passed = self._grow(passed) + np.bincount(codes[ok], minlength=g)
            self.items[item] = (applied, passed)
        self.rows += len(codes)
        if self.rows >= _FOLD_ROWS:
            self._fold()

    def _add_values(self, name: str, g: Any, v: Any) -> None:
        by_exp = self.coef[name]
        for exp, sums in exponent_sums(g, v, len(self.keys)):
            by_exp[exp] = self._grow(by_exp.get(exp), 9) + sums

    def _fold(self) -> None:
        """Running int64 totals of coefficient sums into Python integers (no overflow)."""
        for name, by_exp in self.coef.items():
            exact = self.exact[name]
            for exp, array in by_exp.items():
                for gi, row in enumerate(array.tolist()):
                    if row[0]:
                        acc = exact.setdefault(gi * 4096 + exp + 2048, [0] * 9)
                        for j in range(9):
                            acc[j] += row[j]
            by_exp.clear()
        self.rows = 0

    def exact_sums(self, name: str) -> Iterator[tuple[int, int, int, int, int, int]]:
        """(group, n, total, its exponent, sum of squares, its exponent) of every group and
        exponent of a coefficient: what `Moments.add_exact` takes. Call `_fold` first."""
        for packed, (n, hi, lo, aa, ab, ac, bb, bc, cc) in self.exact[name].items():
            gi, exp = divmod(packed, 4096)
            exp -= 2048
            total = total_of(hi, lo)
            square = (aa << 72) + (ab << 55) + ((2 * ac + bb) << 36) + (bc << 19) + cc
            yield gi, n, total, exp - 53, square, 2 * (exp - 53)

    def fold_into(self, tally: WaveTally, wave: str) -> None:
        self._fold()
        keys = list(self.keys)
        cells = [tally.cell(wave, key) for key in keys]
        for cell, n in zip(cells, self.visits, strict=False):
            cell.visits += n
        for name in self.exact:
            for gi, *sums in self.exact_sums(name):
                cells[gi].coefs[name].add_exact(*sums)
            hits = self.hits.get(name)
            if hits is not None:
                for gi, k in enumerate(hits.tolist()):
                    cells[gi].hits[name] += k
        for name, (applied, passed) in self.items.items():
            for gi, (k, x) in enumerate(zip(applied.tolist(), passed.tolist(), strict=True)):
                cells[gi].applied[name] += k
                cells[gi].passed[name] += x
