"""Arrow tables in, Arrow tables out: the vectorized path end to end.

Why here and not in `sbm_engine.io`: the readers turn a table into one record per
row, which is exactly the per-row cost the batch backend exists to avoid. This
module reads the table's columns directly, with the same layout rules as the
tabular readers (visit-field columns at the top level, every other column, or
`answers.ITEM`, an answer; an empty cell is an absent key), and writes the results
flattened as the output writers flatten a scored visit (`coefficients.visit`,
`items.greeted`, …, `critical` and `warnings` as compact JSON text). Scoring a
table here gives the same results as reading it with the Parquet reader and
calling `score_many` on the records.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..io.dictionary_codes import valid_rows
from ..io.numpy_arrow import arrow_array, distinct
from ..io.records import TableLayout, field_text, field_value, is_empty, jsonable
from ..results import RejectedVisit, ScoredVisit, duplicate, json_safe
from ..runtime import MISSING
from .arrow_text import hash_texts, text_layout
from .columns import ArrowSource, Source
from .evaluator import BatchEvaluator, BatchResult, evaluator_for
from .values import Cat, Unhashable

if TYPE_CHECKING:
    from ..standard import CompiledStandard

_VISIT_OUT = ("visit_id", "point", "specialist", "region", "date", "scenario", "shopper")


class ScoredTable(NamedTuple):
    """`scored`: one row per scored visit, flattened output columns; `rejects`: one row
    per rejected visit with `row` (0-based input row), `visit_id`, `source`, `errors`
    and `record` (JSON text)."""

    scored: Any
    rejects: Any


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _FieldTextSource(Source):
    """A visit-field column as the readers put it in a record (`field_value`): text
    (`field_text`), empty cells absent, an object or a list (a struct, map or list
    column) as read, wrapped in `Unhashable`. `nested` marks the rows of those, which
    the per-visit path rejects (`standard.field_errors`)."""

    def __init__(self, inner: ArrowSource) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        codes, distinct = self.inner.encoded(start, stop)
        if self.inner.text:  # field_text of a text is the text
            return codes, distinct
        return codes, [
            v if v is MISSING or isinstance(v, Unhashable) else field_text(v) for v in distinct
        ]

    def nested(self, start: int, stop: int) -> np.ndarray | None:
        return self.inner.nested(start, stop)

    def blank(self, start: int, stop: int) -> np.ndarray:
        if self.inner.text:
            return self.inner.blank(start, stop)
        return super().blank(start, stop)


class _Layout:
    """Where each column of the table goes: the tabular readers' `TableLayout`, which
    classifies the columns (and refuses two that give one key), with a struct column
    `answers` read child by child."""

    def __init__(self, ev: BatchEvaluator, table: Any) -> None:
        import pyarrow as pa

        from .. import arrow_compute as pc

        names = table.column_names
        layout = TableLayout(names, ev.model.visit_fields)
        self.fields: dict[str, Source] = {}
        self.answers: dict[str, Source] = {}
        self.field_columns: dict[str, str] = {}
        self.answer_columns: dict[str, Any] = {}  # key -> (column name, child index or None)
        for column, data in zip(layout.columns, table.columns, strict=True):
            name = names[column.index]
            if column.kind == "unnamed":
                raise ValueError("a column without a name cannot be scored")
            if column.kind == "field":
                self.field_columns[column.key] = name
                self.fields[column.key] = _FieldTextSource(ArrowSource(data))
            elif column.kind == "answers" and pa.types.is_struct(data.type):
                for child in data.type:
                    values = pc.struct_field(data, child.name)
                    self._claim(self.answer_columns, child.name, (name, child.name))
                    self.answers[child.name] = ArrowSource(values)
            else:
                self._claim(self.answer_columns, column.key, (name, None))
                self.answers[column.key] = ArrowSource(data)

    @staticmethod
    def _claim(taken: dict[str, Any], key: str, what: Any) -> None:
        """A struct's child and a column (or two structs) giving one answer."""
        if key in taken:
            raise ValueError(f"columns {taken[key]!r} and {what!r} both give {key!r}")
        taken[key] = what

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        """The canonical record of one row, as `sbm_engine.io.records.TableLayout` builds it."""
        record: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        for key, column in self.field_columns.items():
            cell = row.get(column)
            if not is_empty(cell):
                record[key] = field_value(cell)
        for key, (column, child) in self.answer_columns.items():
            cell = row.get(column)
            if child is not None:
                cell = None if cell is None else cell.get(child)
            if not is_empty(cell):
                answers[key] = jsonable(cell)
        record["answers"] = answers
        return record


def table_columns(ev: BatchEvaluator, table: Any) -> tuple[dict[str, Source], dict[str, Source]]:
    """A table's answer and visit-field columns, keyed as `evaluate_columns` wants them."""
    layout = _Layout(ev, table)
    return layout.answers, layout.fields


def evaluate_table(ev: BatchEvaluator, table: Any) -> BatchResult:
    """`evaluate_columns` on a pyarrow Table laid out as the tabular readers expect
    (visit-field columns, one column per item or `answers.ITEM`): whole-column arrays,
    without building result rows. Suspect rows still need `score_table` (or
    `CompiledStandard.score`) for their outcome."""
    answers, fields = table_columns(ev, table)
    return ev.evaluate_columns(answers, fields, n=table.num_rows)


def score_table(
    standard: CompiledStandard | BatchEvaluator, table: Any, source: str | None = None
) -> ScoredTable:
    """Score a pyarrow Table, one visit per row; `source` names it in the rejects
    (`source:ROW`, rows counted from 1 as the Parquet reader does). A standard that
    uses history is refused (`ValueError`): its visits are scored together, in order
    (`BatchEvaluator.score_records`)."""
    scored, rejected = score_table_visits(standard, table, source)
    return ScoredTable(scored, _rejects_table(rejected))


def score_table_visits(
    standard: CompiledStandard | BatchEvaluator, table: Any, source: str | None = None
) -> tuple[Any, dict[int, RejectedVisit]]:
    """`score_table` with the rejects as they are made: {table row: `RejectedVisit`}
    (sources `source:ROW`, None without `source`), for callers that place or write
    them themselves (the streaming pipeline) rather than read them as a table."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    ev = standard if isinstance(standard, BatchEvaluator) else evaluator_for(standard)
    if ev.standard.history_reader is not None:
        raise ValueError(
            f"{ev.standard.id} uses history (previous visits): score its visits together "
            "with `score_many`, `BatchEvaluator.score_records` or `score_files`"
        )
    layout = _Layout(ev, table)
    n = table.num_rows
    res = ev.evaluate_columns(layout.answers, layout.fields, n=n)
    suspect = res.suspect.copy()
    if ev.validators:  # plugin validators see records: build them (slow, but only then)
        for i, row in enumerate(table.to_pylist()):
            record = layout.record(row)
            if any(True for validate in ev.validators for _ in validate(record)):
                suspect[i] = True
    dup = _repeated_ids(layout, n)
    # Rows scored per visit: the suspect ones, and duplicates (whose errors come first).
    redo = np.flatnonzero(suspect | dup).tolist()
    per_visit: dict[int, tuple[dict[str, Any], Any]] = {}
    if redo:
        rows = pc.take(table, pa.array(redo, type=pa.int64())).to_pylist()
        for i, row in zip(redo, rows, strict=True):
            record = layout.record(row)
            outcome = ev.standard.score(record, _source(source, i)) if suspect[i] else None
            per_visit[i] = (record, outcome)
    rejected: dict[int, RejectedVisit] = {}
    for i, (record, outcome) in per_visit.items():
        if dup[i]:
            rejected[i] = duplicate(record.get("visit_id"), _source(source, i), record, outcome)
        elif isinstance(outcome, RejectedVisit):
            rejected[i] = outcome
    keep = np.ones(n, dtype=bool)
    keep[list(rejected)] = False
    fixed = {i: o for i, (_, o) in per_visit.items() if isinstance(o, ScoredVisit) and keep[i]}
    scored = _scored_table(ev, res, layout, n, fixed, keep)
    return scored, dict(sorted(rejected.items()))


def _source(source: str | None, i: int) -> str | None:
    return None if source is None else f"{source}:{i + 1}"


class _Text:
    """A text output column as codes into values (-1: null), patched row by row.

    The values are a Python list, or, for a column taken straight from an Arrow
    text column, that column's dictionary as an Arrow array: a million distinct
    visit_ids then never become Python strings (a patch, which is rare, does it)."""

    def __init__(self, codes: np.ndarray, values: Any) -> None:
        self.codes = codes
        self._values = values
        self._index: dict[Any, int] | None = None

    def set(self, i: int, value: Any) -> None:
        if value is None:
            self.codes[i] = -1
            return
        if not isinstance(self._values, list):
            self._values = self._values.to_pylist()
        if self._index is None:
            self._index = {v: k for k, v in enumerate(self._values)}
        k = self._index.get(value)
        if k is None:
            k = self._index[value] = len(self._values)
            self._values.append(value)
        self.codes[i] = k

    def arrow(self, keep: np.ndarray | slice) -> Any:
        import pyarrow as pa

        from .. import arrow_compute as pc

        codes = self.codes[keep]
        indices = arrow_array(codes.astype(np.int32), codes >= 0)
        values = self._values
        dictionary = pa.array(values, type=pa.string()) if isinstance(values, list) else values
        return pc.cast(pa.DictionaryArray.from_arrays(indices, dictionary), pa.string())


def _texts(layout: _Layout, key: str, n: int) -> _Text:
    """A visit-field column as field texts (an object or a list as its JSON text, as
    `standard.visit_key` compares it), equal texts sharing one code."""
    src = layout.fields.get(key)
    if src is None:
        return _Text(np.full(n, -1, dtype=np.intp), [])
    if isinstance(src, _FieldTextSource) and src.inner.text:  # field_text of a text is the text
        return _Text(*src.inner.text_codes())
    codes, distinct = src.encoded(0, n)
    index: dict[str, int] = {}
    lut = np.empty(len(distinct) + 1, dtype=np.intp)
    for j, v in enumerate(distinct):
        if isinstance(v, Unhashable):
            v = field_text(v.value)
        lut[j] = -1 if v is MISSING else index.setdefault(v, len(index))
    lut[-1] = -1
    return _Text(lut[codes], list(index))


def _repeated_ids(layout: _Layout, n: int) -> np.ndarray:
    """Rows whose visit_id appeared on an earlier row (as field texts; no id never
    repeats one)."""
    src = layout.fields.get("visit_id")
    if isinstance(src, _FieldTextSource) and src.inner.text and src.inner.kind != "dictionary":
        return _repeated_texts(src.inner.array)
    return _duplicates(_texts(layout, "visit_id", n))


def _repeated_texts(texts: Any) -> np.ndarray:
    """`_duplicates` of a plain Arrow text column (null and "" are no id), by hashing
    its bytes: dictionary encoding a chunk of distinct ids costs several times more.
    Rows whose hash repeats are compared as texts, so a collision changes nothing."""

    from .. import arrow_compute as pc

    n = len(texts)
    dup = np.zeros(n, dtype=bool)
    _, lengths, _ = text_layout(texts)
    given = lengths > 0
    valid = valid_rows(texts)
    if valid is not None:
        given &= valid
    rows = np.flatnonzero(given)
    if rows.size < 2:
        return dup
    hashes = hash_texts(texts)[rows]
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return dup
    grouped = np.zeros(rows.size, dtype=bool)
    grouped[1:] |= same
    grouped[:-1] |= same
    candidates = np.sort(rows[order[grouped]])
    seen: set[str] = set()
    values = pc.take(texts, arrow_array(candidates.astype(np.int64))).to_pylist()
    for row, text in zip(candidates.tolist(), values, strict=True):
        if text in seen:
            dup[row] = True
        else:
            seen.add(text)
    return dup


def _duplicates(ids: _Text) -> np.ndarray:
    """Rows whose visit_id appeared on an earlier row."""
    codes = ids.codes
    dup = np.zeros(codes.shape, dtype=bool)
    present = codes >= 0
    if present.any():
        _, first = np.unique(codes, return_index=True)
        firsts = np.zeros(codes.shape, dtype=bool)
        firsts[first] = True
        dup = present & ~firsts
    return dup


def _scored_table(
    ev: BatchEvaluator,
    res: Any,
    layout: _Layout,
    n: int,
    fixed: dict[int, ScoredVisit],
    keep: np.ndarray,
) -> Any:
    """The flattened output columns (in `ScoredVisit.to_dict()` order) of the kept rows.

    `fixed` holds the rows the per-visit path scored; their values replace the
    vectorized ones."""
    import pyarrow as pa

    cols: dict[str, Any] = {}
    kept = int(keep.sum())
    rows: Any = slice(None) if kept == n else keep  # a view, not a copy, when all are kept

    def floats(values: np.ndarray, pick: Any) -> Any:
        arr = values[rows] if not fixed else values.copy()
        if fixed:
            for i, o in fixed.items():
                v = pick(o)
                arr[i] = np.nan if v is None else v
            arr = arr[rows]
        return _float_array(arr)

    def texts(col: _Text, pick: Any) -> Any:
        for i, o in fixed.items():
            col.set(i, pick(o))
        return col.arrow(rows)

    for key in ("visit_id", "standard", "version", *_VISIT_OUT[1:]):
        src = layout.fields.get(key)
        if key in ("standard", "version"):
            value = ev.model.name if key == "standard" else ev.model.version
            cols[key] = pa.repeat(pa.scalar(value, type=pa.string()), kept)
        elif not fixed and isinstance(src, _FieldTextSource) and src.inner.text:
            cols[key] = _field_texts(src.inner.array, keep if kept != n else None)
        else:
            cols[key] = texts(_texts(layout, key, n), lambda o, k=key: getattr(o, k))
    for group, names, arrays in (
        ("coefficients", ev.coef_names, res.coefficients),
        ("sections", ev.section_names, res.sections),
        ("items", ev.item_names, res.items),
    ):
        for name in names:
            cols[f"{group}.{name}"] = floats(
                arrays[name], lambda o, g=group, k=name: getattr(o, g)[k]
            )
    for c, _bands in ev.bands:
        col = _Text(res.bands[c].copy(), list(res.band_labels[c]))
        cols[f"bands.{c}"] = texts(col, lambda o, k=c: o.bands[k])
    for c in ev.label_names:
        cat = Cat.from_objects(res.labels[c].tolist())
        cols[f"labels.{c}"] = texts(_Text(cat.codes, cat.values), lambda o, k=c: o.labels[k])
    for c, _ in ev.targets:
        cols[f"gaps.{c}"] = floats(res.gaps[c], lambda o, k=c: o.gaps[k])
    cols["critical"] = texts(
        _json_masks(res.critical, n, lambda k: k), lambda o: _json(list(o.critical))
    )
    cols["warnings"] = texts(
        _json_masks(res.warnings, n, lambda k: {"item": k, "message": ev.warn_messages[k]()}),
        lambda o: _json([w.to_dict() for w in o.warnings]),
    )
    for key in ev.term_keys:
        name = f"rollup_inputs.{key}"
        if key in ev.bool_terms:
            vals = res.rollup_inputs[key].copy()
            for i, o in fixed.items():
                v = o.rollup_inputs.get(key)
                vals[i] = np.nan if v is None else float(v)
            vals = vals[rows]
            cols[name] = arrow_array(vals == 1.0, ~np.isnan(vals))
        else:
            cols[name] = floats(res.rollup_inputs[key], lambda o, k=key: o.rollup_inputs.get(k))
    return pa.table(cols)


def _field_texts(column: Any, keep: np.ndarray | None) -> Any:
    """A text visit-field column as output, straight from Arrow: what `_texts` and
    `_Text.arrow` give when no row is patched (an empty text is null), without
    encoding the column and decoding it again."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    if keep is not None:
        column = pc.filter(column, arrow_array(keep))
    if not pa.types.is_string(column.type):  # a dictionary, or large_string
        column = pc.cast(column, pa.string())
    empty = pc.equal(column, "")
    if pc.any(empty).as_py():
        column = pc.if_else(empty, pa.scalar(None, pa.string()), column)
    return column


def _float_array(values: np.ndarray) -> Any:
    """Floats with NaN as null, sharing the numpy buffer: the validity bitmap is packed
    by numpy (three times faster than `pa.array(values, mask=...)`)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values, dtype=np.float64)
    valid = np.packbits(values == values, bitorder="little")  # NaN alone differs from itself
    return pa.Array.from_buffers(
        pa.float64(), len(values), [pa.py_buffer(valid), pa.py_buffer(values)]
    )


def _json_masks(masks: dict[str, np.ndarray], n: int, entry: Any) -> _Text:
    """Per row, the JSON list of the names whose mask is set (in the masks' order).

    Each row's flags are packed into one integer, so the distinct combinations are
    found by sorting integers (up to 64 names; rows of bytes beyond, which numpy
    sorts several times slower)."""
    names = list(masks)
    codes = np.zeros(n, dtype=np.intp)
    values = ["[]"]
    if not names:
        return _Text(codes, values)
    if len(names) <= 64:
        keys = np.zeros(n, dtype=np.uint64)
        for j, k in enumerate(names):
            keys |= masks[k].astype(np.uint64) << np.uint64(j)
        rows = np.flatnonzero(keys)
        if rows.size == 0:
            return _Text(codes, values)
        keys = keys[rows]
        uniq = distinct(keys)
        inverse = np.searchsorted(uniq, keys)  # `return_inverse` sorts them again
        for key in uniq.tolist():
            values.append(_json([entry(k) for j, k in enumerate(names) if key >> j & 1]))
    else:
        stacked = np.stack([masks[k] for k in names], axis=1)
        rows = np.flatnonzero(stacked.any(axis=1))
        if rows.size == 0:
            return _Text(codes, values)
        packed = np.packbits(stacked[rows], axis=1)
        uniq, inverse = np.unique(packed, axis=0, return_inverse=True)
        for bits in uniq:
            flags = np.unpackbits(bits)[: len(names)].tolist()
            values.append(_json([entry(k) for k, f in zip(names, flags, strict=True) if f]))
    codes[rows] = inverse.reshape(-1) + 1
    return _Text(codes, values)


def _rejects_table(rejected: dict[int, RejectedVisit]) -> Any:
    import pyarrow as pa

    rows = sorted(rejected)
    return pa.table(
        {
            "row": pa.array(rows, type=pa.int64()),
            "visit_id": pa.array([_text(rejected[i].visit_id) for i in rows], type=pa.string()),
            "source": pa.array([rejected[i].source for i in rows], type=pa.string()),
            "errors": pa.array(
                [_json([e.to_dict() for e in rejected[i].errors]) for i in rows], type=pa.string()
            ),
            "record": pa.array(
                [_json(json_safe(jsonable(rejected[i].record))) for i in rows],
                type=pa.string(),
            ),
        }
    )


def _text(v: Any) -> str | None:
    return None if v is None else field_text(v)
