"""Rolling up Parquet and CSV results a column at a time (pyarrow and numpy).

The record path (`result_files.CheckedResults`, then `Rollup.add_checked`) builds a
dict per visit and adds it value by value; on a million visits that is minutes. Here
the same figures are summed a batch of columns at a time into the same `Rollup`
groups: visits, each coefficient's `_Stat` (n, exact total, hits), each item's lost
points and the possible points, the rollup terms, each band's count of visits. Sums are
exact in the units of `ExactSum` (`analytics.columnar.exponent_sums`), so the report is
the record path's, bit for bit. The values of `median` and `percentile` terms are not
summed but gathered per group (`ColumnSums.samples`), and the report computes each
percentile from them as the record path does (`rollup.percentile`).

Only input the record path would read as the same values without a word of complaint
is read here: every check `Rollup.problems` makes is made column-wise, on what the
record path's readers would give (`result_files._parquet_rows` for Parquet, the CSV
reader's cell conversion for CSV). Anything else, however harmless, raises `Fallback`
before a figure is reported, and the caller reads the whole input on the record path,
which names each problem with its file and line, as it always has.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analytics.columnar import Fallback, exponent_sums, grown, total_of
from .io.detect import number_patterns
from .rollup import LEVELS, QUANTILE_KINDS, ExactSum, Rollup, same_version

if TYPE_CHECKING:
    from .standard import CompiledStandard

BATCH_ROWS = 65_536
#: Running int64 totals are folded into Python integers after this many rows, long
#: before a sum of 27-bit parts could overflow.
_FOLD_ROWS = 1 << 22
#: The visit fields `Rollup.problems` checks at every level.
_GROUP_FIELDS = ("point", "specialist", "region")
_HEADS = ("coefficients", "items", "rollup_inputs", "bands")
#: Integers the CSV reader turns into Python ints and that a float64 holds exactly.
_MAX_INT_CHARS = 15
#: The cells `io.detect.number_parser` reads as numbers (a decimal point), anchored.
_CSV_INTEGER, _CSV_REAL = (f"^(?:{p})$" for p in number_patterns("."))


def rollup_columnar(
    paths: Sequence[str | Path],
    by: str,
    standard: CompiledStandard | None,
    given: str | None,
    key_fields: Sequence[str] | None = None,
) -> tuple[CompiledStandard, Rollup]:
    """The standard and the roll-up by `by` of every visit in `paths` (Parquet or CSV
    results), grouped by the level's field, or by the tuple of `key_fields` when
    given. Raises `Fallback` when the input must be read on the record path."""
    standard, files = columnar_inputs(paths, standard, given)
    acc = Rollup(standard.model, by)
    if key_fields is None:
        field = LEVELS[by]
        key_fields = () if field is None else (field,)
    sums = ColumnSums(acc, tuple(key_fields))
    sum_columns(files, sums)
    return standard, acc


def columnar_inputs(
    paths: Sequence[str | Path], standard: CompiledStandard | None, given: str | None
) -> tuple[CompiledStandard, list[Path]]:
    """The standard of the results in `paths` (`standard`, if it is theirs) and the
    files; `Fallback` unless all are Parquet or CSV and pyarrow and numpy are here."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise Fallback("no pyarrow or numpy") from err
    from .analytics.columnar import first_identity
    from .result_files import result_paths, standard_mismatch, standard_of_results

    files = [Path(p) for p in result_paths(paths)]
    if not files or not all(p.suffix.lower() in (".parquet", ".csv") for p in files):
        raise Fallback("not all Parquet or CSV")
    import pyarrow as pa

    try:
        source, found = first_identity(files[0])
    except (pa.ArrowException, OSError, ValueError) as err:
        raise Fallback(str(err)) from err
    if standard is None:
        try:
            standard = standard_of_results(found["standard"], source)
        except Exception as err:  # the record path raises it again, where it is handled
            raise Fallback("standard not found") from err
    elif standard_mismatch(standard, str(given or standard.id), source, found) is not None:
        raise Fallback("another standard")
    return standard, files


#: Called with each batch once its roll-up columns passed their checks and were
#: summed, with its group indices and its measures (`ColumnSums.add`).
BatchHook = Callable[["Batch", Any, dict[str, Any]], None]


def sum_columns(
    files: Sequence[Path],
    sums: ColumnSums,
    also: Collection[str] = (),
    hook: BatchHook | None = None,
) -> None:
    """Add every visit of `files` to `sums` and fill its roll-up; `also`: more columns
    to read (when present) for `hook`. `Fallback` as soon as a check fails."""
    import pyarrow as pa

    from .io import InputError

    try:
        for path in files:
            if path.suffix.lower() == ".parquet":
                batches = _parquet_batches(path, sums.acc, also)
            else:
                batches = _csv_batches(path, sums.acc, also)
            for batch in batches:
                coefs = sums.add(batch)
                if hook is not None:
                    hook(batch, sums.last_codes, coefs)
    except (pa.ArrowException, OSError, ValueError, TypeError, InputError) as err:
        # a file this path cannot read as the record path would: that path reads it
        raise Fallback(str(err)) from err
    if not sums.rows_seen:
        raise Fallback("no visits")
    sums.fill()


# -- reading ------------------------------------------------------------------------------------


class Batch:
    """One batch of rows as the record path would read them: per column, values or
    None where a cell is empty (absent from the record)."""

    def __init__(self, rows: int, columns: dict[str, Any], csv: bool) -> None:
        self.rows = rows
        self.columns = columns
        self.csv = csv


def _wanted(names: Sequence[str], acc: Rollup, also: Collection[str] = ()) -> list[str]:
    """The columns the roll-up reads; `Fallback` on any the record path would read
    differently or complain about."""
    from .result_files import _NESTED

    if len(set(names)) != len(names):
        raise Fallback("duplicate columns")
    if not {"standard", "version"} <= set(names):
        raise Fallback("not a results table")
    wanted = ["standard", "version"]
    heads = set()
    for name in names:
        head, _, rest = name.partition(".")
        if name in _GROUP_FIELDS or name in also:
            wanted.append(name)
        elif rest and head in _HEADS:
            if rest not in acc.checks[head]:  # an unknown name: a problem if any cell holds one
                raise Fallback(f"unknown column {name}")
            wanted.append(name)
            heads.add(head)
        elif name in _NESTED or name == "answers" or name.startswith("answers."):
            # a whole nested field in one column, or answers the CSV reader renames
            raise Fallback(f"column {name}")
    if "coefficients" not in heads:  # a record without `coefficients` is refused
        raise Fallback("no coefficients")
    return wanted


def _parquet_batches(path: Path, acc: Rollup, also: Collection[str]) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    from .result_files import _PLAIN_TYPES

    f = pq.ParquetFile(path)
    schema = f.schema_arrow
    # the tables `result_files._parquet_results` reads itself; others go to the visit reader
    if any(str(field.type) not in _PLAIN_TYPES for field in schema):
        raise Fallback("not a plain results table")
    wanted = _wanted(schema.names, acc, also)
    for batch in f.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
        names = batch.schema.names
        yield Batch(batch.num_rows, {n: batch.column(names.index(n)) for n in wanted}, csv=False)


def _csv_batches(path: Path, acc: Rollup, also: Collection[str]) -> Iterator[Batch]:
    import csv

    import pyarrow as pa
    import pyarrow.csv as pcsv

    from .io.detect import detect_dialect

    # Only the dialect Arrow reads as the csv module does: UTF-8, commas, decimal points.
    dialect = detect_dialect(path)
    if dialect.encoding.lower().replace("_", "-") not in ("utf-8", "utf8") or (
        dialect.delimiter,
        dialect.decimal,
    ) != (",", "."):
        raise Fallback("another CSV dialect")
    with open(path, encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream), None)
    if not header or any(not h or h != h.strip() for h in header):
        raise Fallback("header")
    wanted = _wanted(header, acc, also)
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=1 << 22),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            include_columns=wanted,
            strings_can_be_null=False,  # every cell as written; "" is an empty cell
        ),
    )
    for batch in reader:
        names = batch.schema.names
        yield Batch(batch.num_rows, {n: batch.column(names.index(n)) for n in wanted}, csv=True)


# -- checking and converting ----------------------------------------------------------------------


def empty_as_null(column: Any) -> Any:
    """Text with "" as null: the readers leave an empty cell out of the record."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise Fallback("not text")
    empty = pc.equal(column, "")
    if pc.any(empty).as_py():
        return pc.if_else(empty, pa.scalar(None, column.type), column)
    return column


def _csv_value(text: str) -> Any:
    """A CSV cell as the CSV reader gives it (`io.detect.number_parser`)."""
    from .io.detect import number_parser

    return number_parser(".")(text)


def _check_identity(batch: Batch, acc: Rollup) -> None:
    """Every row scored with the standard and version being rolled up."""
    import pyarrow.compute as pc

    model = acc.m
    for name in ("standard", "version"):
        column = empty_as_null(batch.columns[name])
        if column.null_count:  # an empty cell is a missing field
            raise Fallback(f"no {name}")
        for value in pc.unique(column).to_pylist():
            if batch.csv:  # not a visit field: read as an answer, numbers parsed
                value = _csv_value(value)
            if name == "standard" and value != model.name:
                raise Fallback("another standard")
            if name == "version" and not (
                isinstance(value, str) or (type(value) in (int, float) and _finite(value))
            ):
                raise Fallback("a version that is not one")
            if name == "version" and not same_version(value, model.version):
                raise Fallback("another version")


def _finite(x: float) -> bool:
    import math

    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def column_numbers(batch: Batch, name: str) -> tuple[Any, Any] | None:
    """(valid rows, float64 values) of a numeric column, as the record path reads its
    cells: only finite numbers (`Fallback` otherwise). None when no cell holds one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = batch.columns.get(name)
    if column is None or pa.types.is_null(column.type):
        return None
    if batch.csv:
        column = empty_as_null(column)
        if column.null_count == len(column):
            return None
        integer = pc.match_substring_regex(column, _CSV_INTEGER)
        real = pc.match_substring_regex(column, _CSV_REAL)
        number = pc.or_(integer, real)
        if not pc.all(pc.or_kleene(number, pc.is_null(column))).as_py():
            raise Fallback(f"{name}: text where a number is")
        long = pc.and_(integer, pc.greater(pc.utf8_length(column), _MAX_INT_CHARS))
        if pc.any(long).as_py():
            raise Fallback(f"{name}: an integer a float may not hold")
        column = pc.cast(column, pa.float64())
    elif pa.types.is_integer(column.type):
        # a Python int that the float conversion and comparisons keep exact
        largest = pc.max(pc.abs_checked(column.cast(pa.float64()))).as_py()
        if largest is not None and largest > 1 << 53:
            raise Fallback(f"{name}: an integer a float may not hold")
    elif not pa.types.is_floating(column.type):
        raise Fallback(f"{name} is not numeric")
    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    valid = ~column.is_null().to_numpy(zero_copy_only=False)
    if not batch.csv:
        valid &= ~np.isnan(values)  # the Parquet reader leaves NaN out, as an empty cell
    if not np.isfinite(values[valid]).all():
        raise Fallback(f"{name}: not a finite number")
    return valid, values


def _band_indices(batch: Batch, coefficient: str, labels: Sequence[str]) -> Any:
    """Each row's band of `coefficient` as its index among `labels` (-1 where there is
    none), or None when no cell holds one; `Fallback` on a cell that is not a label, or
    on a CSV label the CSV reader would read as something else (a number, a boolean)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = batch.columns.get(f"bands.{coefficient}")
    if column is None:
        return None
    column = empty_as_null(column)  # `Fallback` unless text
    if column.null_count == len(column):
        return None
    if batch.csv and any(_csv_value(x) != x or x in ("true", "false") for x in labels):
        raise Fallback(f"bands.{coefficient}: a label the CSV reader reads otherwise")
    index = pc.index_in(column, value_set=pa.array(list(labels), type=pa.string()))
    if index.null_count != column.null_count:
        raise Fallback(f"bands.{coefficient}: not one of the bands")
    return index.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _flags(batch: Batch, name: str, share: bool) -> tuple[Any, Any] | None:
    """(valid rows, float64 values) of a rollup input: booleans (as 1.0 and 0.0), or
    numbers (0 or 1 for a share)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = batch.columns.get(name)
    if column is None:
        return None
    if batch.csv:  # "true" and "false" are booleans in a nested field; numbers fall back
        column = empty_as_null(column)
        is_true, is_false = pc.equal(column, "true"), pc.equal(column, "false")
        if not pc.all(pc.or_kleene(pc.or_(is_true, is_false), pc.is_null(column))).as_py():
            raise Fallback(f"{name}: not true or false")
        column = is_true
    if pa.types.is_null(column.type):
        return None
    if pa.types.is_boolean(column.type):
        valid = ~column.is_null().to_numpy(zero_copy_only=False)
        values = column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.float64)
        return valid, values
    got = column_numbers(batch, name)
    if got is not None and share:
        valid, values = got
        v = values[valid]
        if not ((v == 0) | (v == 1)).all():
            raise Fallback(f"{name}: a share input that is not 0 or 1")
    return got


# -- summing ------------------------------------------------------------------------------------


class ColumnSums:
    """Exact per-group sums of checked batches, filled into a `Rollup`'s groups as
    `add_checked` would have filled them visit by visit."""

    def __init__(self, acc: Rollup, key_fields: tuple[str, ...]) -> None:
        self.acc = acc
        self.key_fields = key_fields
        self.keys: dict[Any, int] = {}
        self.visits: Any = None
        #: per measure: exponent -> int64 (groups, 3) running sums (n, Σhi, Σlo)
        self.running: dict[str, dict[int, Any]] = {}
        #: per measure: exact units per group (Python integers), folded from `running`
        self.units: dict[str, Any] = {}
        #: per measure: int64 counts (coefficient hits, share hits, items applied)
        self.counts: dict[str, Any] = {}
        #: per measure: values summed per group, folded from `running`
        self.n_of: dict[str, Any] = {}
        #: per `median` or `percentile` term: (group indices, values) of each batch
        self.samples: dict[str, list[tuple[Any, Any]]] = {}
        self.rows = 0
        self.rows_seen = 0
        self.last_codes: Any = None
        m = acc.m
        self.targets = {c: m.targets.get(c) for c in acc.coef_names}
        for target in self.targets.values():
            if target is not None and not (
                type(target) in (int, float) and float(target) == target
            ):
                raise Fallback("a target numpy may compare otherwise")
        self.weights = {}
        for name, (weight, bonus) in acc.weights.items():
            if bonus:
                continue
            w = float(weight)
            if not _finite(w) or w != weight:
                raise Fallback("a weight that is not a float")
            self.weights[name] = w

    def add(self, batch: Batch) -> dict[str, Any]:
        """Add a batch; its coefficient and item columns (`coefficients.x`, `items.y`) as
        (valid rows, values), None where absent: what `WaveSums.add` takes."""
        import numpy as np

        acc = self.acc
        _check_identity(batch, acc)
        codes = self.last_codes = self._codes(batch)
        g = len(self.keys)
        self.visits = self._grown(self.visits) + np.bincount(codes, minlength=g)
        coefs = {c: column_numbers(batch, f"coefficients.{c}") for c in acc.coef_names}
        items = {}
        for name in acc.checks["items"]:
            got = column_numbers(batch, f"items.{name}")
            if got is not None:
                valid, values = got
                v = values[valid]
                if ((v < 0.0) | (v > 1.0)).any():
                    raise Fallback(f"items.{name}: not a score")
            items[name] = got
        terms = {
            k: _flags(batch, f"rollup_inputs.{k}", kind == "share")
            for k, kind in acc.term_kinds.items()
        }
        bands = {c: _band_indices(batch, c, labels) for c, labels in acc.band_labels.items()}
        # every column checked: only now does anything count
        measures = {f"coefficients.{c}": got for c, got in coefs.items()}
        measures.update((f"items.{i}", got) for i, got in items.items())
        for name, got in coefs.items():
            if got is None:
                continue
            valid, values = got
            self._sum(f"c:{name}", codes[valid], values[valid])
            target = self.targets[name]
            if target is not None:
                self._count(f"h:{name}", codes[valid & (values >= target)])
        for name, w in self.weights.items():
            got = items.get(name)
            if got is None:
                continue
            valid, values = got
            self._count(f"a:{name}", codes[valid])
            # w * (1.0 - score) in float64, the same IEEE operations as in Python
            self._sum(f"l:{name}", codes[valid], w * (1.0 - values[valid]))
        for key, got in terms.items():
            if got is None:
                continue
            valid, values = got
            if acc.term_kinds[key] == "share":
                self._count(f"n:{key}", codes[valid])
                self._count(f"h:t:{key}", codes[valid & (values != 0.0)])
            elif acc.term_kinds[key] in QUANTILE_KINDS:
                self.samples.setdefault(key, []).append((codes[valid], values[valid]))
            else:
                self._sum(f"t:{key}", codes[valid], values[valid])
        for name, index in bands.items():
            if index is None:
                continue
            for j in range(len(acc.band_labels[name])):
                self._count(f"b:{name}:{j}", codes[index == j])
        self.rows += batch.rows
        self.rows_seen += batch.rows
        if self.rows >= _FOLD_ROWS:
            self._fold()
        return measures

    def _codes(self, batch: Batch) -> Any:
        """Each row's group index; the group keys checked as `Rollup.problems` does."""
        import numpy as np
        import pyarrow.compute as pc

        by_field = {}
        for field in _GROUP_FIELDS:  # checked at every level: one verdict per file
            column = batch.columns.get(field)
            if column is not None:
                by_field[field] = empty_as_null(column)
        if not self.key_fields:
            keys: list[Any] = ["network"]
            local = np.zeros(batch.rows, dtype=np.int64)
        else:
            local = np.zeros(batch.rows, dtype=np.int64)
            fields: list[list[Any]] = []
            for field in self.key_fields:
                column = by_field.get(field)
                if column is None:
                    values: list[Any] = [None]
                    index = np.zeros(batch.rows, dtype=np.int64)
                else:
                    encoded = pc.dictionary_encode(column)
                    values = encoded.dictionary.to_pylist()
                    index = encoded.indices.to_numpy(zero_copy_only=False)
                    if encoded.null_count:
                        values.append(None)
                        nulls = encoded.is_null().to_numpy(zero_copy_only=False)
                        index = np.where(nulls, len(values) - 1, index)
                    index = index.astype(np.int64)
                local = local * len(values) + index  # below rows**fields: no overflow
                fields.append(values)
            used, local = np.unique(local, return_inverse=True)
            local = local.reshape(-1)
            keys = []
            for code in used.tolist():  # only the combinations present, decoded
                parts = []
                for values in reversed(fields):
                    code, i = divmod(code, len(values))
                    parts.append(values[i])
                keys.append(parts[0] if len(parts) == 1 else tuple(reversed(parts)))
        mapping = np.array([self.keys.setdefault(k, len(self.keys)) for k in keys], dtype=np.int64)
        return mapping[local] if batch.rows else local

    def _grown(self, array: Any, width: int | None = None) -> Any:
        return grown(array, len(self.keys), width)

    def _count(self, name: str, codes: Any) -> None:
        import numpy as np

        self.counts[name] = self._grown(self.counts.get(name)) + np.bincount(
            codes, minlength=len(self.keys)
        )

    def _sum(self, name: str, codes: Any, values: Any) -> None:
        by_exp = self.running.setdefault(name, {})
        for exp, sums in exponent_sums(codes, values, len(self.keys), squares=False):
            by_exp[exp] = self._grown(by_exp.get(exp), 3) + sums

    def _fold(self) -> None:
        """Running totals into exact Python integers, in units of 2**-1074."""
        for name, by_exp in self.running.items():
            units = self._grown_objects(self.units.get(name))
            n_of = self._grown(self.n_of.get(name))
            for exp, array in by_exp.items():
                array = self._grown(array, 3)
                n_of = n_of + array[:, 0]
                # Σ M per group, as Python integers (an object array: C loops, no overflow)
                total = total_of(array[:, 1].astype(object), array[:, 2].astype(object))
                shift = exp - 53 + 1074  # M·2**(exp−53) in units of 2**-1074
                # a negative shift drops only zero bits: every float is whole units
                units = units + (total << shift if shift >= 0 else total >> -shift)
            self.units[name] = units
            self.n_of[name] = n_of
            by_exp.clear()
        self.rows = 0

    def _grown_objects(self, array: Any) -> Any:
        import numpy as np

        g = len(self.keys)
        have = 0 if array is None else len(array)
        extra = np.zeros(g - have, dtype=object)
        extra[:] = 0
        if array is None:
            return extra
        return np.concatenate([array, extra]) if have < g else array

    def fill(self) -> None:
        """Add the sums into the roll-up's groups."""
        self._fold()
        acc = self.acc
        groups = []
        for key in self.keys:
            group = acc.groups.get(key)
            if group is None:
                group = acc.groups[key] = acc._new_group()
            groups.append(group)
        visits = self._grown(self.visits).tolist()
        for group, n in zip(groups, visits, strict=True):
            group.visits += n

        def counts(name: str) -> list[int]:
            array = self.counts.get(name)
            return [0] * len(groups) if array is None else self._grown(array).tolist()

        def units(name: str) -> list[int]:
            array = self.units.get(name)
            return [0] * len(groups) if array is None else self._grown_objects(array).tolist()

        for c in acc.coef_names:
            n = self._n(f"c:{c}")
            for gi, k in enumerate(counts(f"h:{c}")):
                groups[gi].coefs[c].hits += k
            for gi, k in enumerate(n):
                groups[gi].coefs[c].n += k
            for gi, u in enumerate(units(f"c:{c}")):
                groups[gi].coefs[c].total.units += u
        for name, w in self.weights.items():
            weight = ExactSum()
            weight.add(w)
            for gi, k in enumerate(counts(f"a:{name}")):
                groups[gi].possible.units += k * weight.units
            for gi, u in enumerate(units(f"l:{name}")):
                groups[gi].lost[name].units += u
        for key, kind in acc.term_kinds.items():
            if kind == "share":
                for gi, k in enumerate(counts(f"n:{key}")):
                    groups[gi].terms[key].n += k
                for gi, k in enumerate(counts(f"h:t:{key}")):
                    groups[gi].terms[key].hits += k
            elif kind in QUANTILE_KINDS:
                self._fill_samples(key, groups)
            else:
                for gi, k in enumerate(self._n(f"t:{key}")):
                    groups[gi].terms[key].n += k
                for gi, u in enumerate(units(f"t:{key}")):
                    groups[gi].terms[key].total.units += u
        for name, labels in acc.band_labels.items():
            for j, label in enumerate(labels):
                for gi, k in enumerate(counts(f"b:{name}:{j}")):
                    groups[gi].bands[name][label] += k

    def _fill_samples(self, key: str, groups: list[Any]) -> None:
        """A term's gathered values into each group's list (in no particular order:
        a percentile sorts them)."""
        import numpy as np

        parts = self.samples.get(key)
        if not parts:
            return
        codes = np.concatenate([c for c, _ in parts])
        values = np.concatenate([v for _, v in parts])
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(groups)))
        for gi, chunk in enumerate(np.split(values[order], bounds[:-1])):
            if len(chunk):
                groups[gi].samples[key].extend(chunk.tolist())

    def _n(self, name: str) -> list[int]:
        """Values summed per group (column 0 of the running sums, kept at folding)."""
        array = self.n_of.get(name)
        return [0] * len(self.keys) if array is None else self._grown(array).tolist()
