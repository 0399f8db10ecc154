"""`BatchEvaluator`: a compiled standard's visits scored a chunk of rows at a time.

Why chunks: a chunk of a few ten thousand rows keeps every intermediate array in
the CPU cache and bounds memory, whatever the size of the wave. Why a suspect
mask: the vectorized code vouches only for rows it understood completely; every
other row (an invalid answer, a division by zero, a missing `visit_id`, an
unknown answer key, a value of an unexpected type) is scored by the per-visit
`CompiledStandard.score`, so rejections carry exactly the per-visit errors and
nothing is ever scored differently by the two backends.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from ..history import History, Previous, score_in_order
from ..ir import HAS_PREVIOUS, previous_key
from ..results import Row, ScoredVisit, ScoringSession, VisitOutcome, field_errors
from ..runtime import MISSING, VisitWarning, not_applicable
from .columns import ConstSource, ListSource, Source, as_source
from .compiler import BatchCompiler, conditional
from .env import ChunkResult
from .values import Cat, Unhashable

if TYPE_CHECKING:
    from ..standard import CompiledStandard

#: Rows per chunk: large enough to amortize Python overhead, small enough for the cache
#: (an array of 8,192 floats is 64 KiB). On the 100-item benchmark standard, in-process
#: CPU per visit was lowest at 8,192 and 16,384 rows and 10-15 % higher at 32,768; end to
#: end (`sbm score`) the sizes were within the noise, and 8,192 holds ~150 MB less.
#: Larger arrays cost more here because glibc maps them afresh each time; `sbm score`,
#: which makes glibc keep freed memory, uses `pipeline.scoring.SCORE_BLOCK` instead.
CHUNK = 1 << 13
#: `BatchEvaluator.history_rows`: the smallest generation scored as a batch.
HISTORY_ROWS = 1024


@attrs.frozen(eq=False)
class BatchResult:
    """Whole-column results of `BatchEvaluator.evaluate_columns`.

    Floats are float64 arrays with NaN for N/A; `bands` holds, per coefficient,
    the index of the band label in `band_labels` (-1 for N/A); `critical` and
    `warnings` are boolean masks per item (failed critical item; answered but not
    applicable); conditions among `rollup_inputs` (see `rollup_bool`) are 1.0,
    0.0 or NaN. Rows where `suspect` is True were not vouched for by the
    vectorized code: their values are meaningless and must be taken from
    `CompiledStandard.score` (which rejects most of them).
    """

    n: int
    items: dict[str, np.ndarray]
    sections: dict[str, np.ndarray]
    coefficients: dict[str, np.ndarray]
    bands: dict[str, np.ndarray]
    band_labels: dict[str, tuple[str, ...]]
    gaps: dict[str, np.ndarray]
    critical: dict[str, np.ndarray]
    warnings: dict[str, np.ndarray]
    rollup_inputs: dict[str, np.ndarray]
    rollup_bool: frozenset[str]
    suspect: np.ndarray
    #: per coefficient that gives a label: an object array of texts (None for N/A)
    labels: dict[str, np.ndarray] = attrs.field(factory=dict)

    def band_values(self, coefficient: str) -> np.ndarray:
        """The band labels of a coefficient as an object array (None for N/A)."""
        labels = np.array([*self.band_labels[coefficient], None], dtype=object)
        return labels[self.bands[coefficient]]


class BatchEvaluator:
    """Scores batches of visits of one `CompiledStandard` with numpy.

    Thread-safe: the compiled plan is immutable; the per-item caches of resolved
    raw answers only ever gain entries whose values do not depend on the thread.
    """

    def __init__(self, standard: CompiledStandard, chunk_size: int = CHUNK) -> None:
        self.standard = standard
        self.model = standard.model
        self.chunk_size = max(1, int(chunk_size))
        #: a generation of fewer visits than this (`score_records` of a standard that
        #: uses history) is scored visit by visit: a batch's fixed cost (some 0.1 s for
        #: a 100-item standard) outweighs its rows. The outcomes are the same either way.
        self.history_rows = HISTORY_ROWS
        self.plan = BatchCompiler(standard.model, standard.functions)
        m = self.model
        self.item_names = tuple(it.name for it in m.items)
        self.section_names = tuple(s.name for s in m.sections)
        self.coef_names = tuple(c.name for c in m.coefficients)
        self.label_names = tuple(c.name for c in m.labels)
        self.term_keys = tuple(t.key for r in m.rollups for t in r.terms)
        self.bool_terms = frozenset(
            t.key for r in m.rollups for t in r.terms if t.expr.type == "bool"
        )
        self.targets = tuple(m.targets.items())
        self.bands = tuple((c, b.bands) for c, b in m.bands.items())
        self.allow_unknown = bool(getattr(standard, "allow_unknown", False))
        self.validators = tuple(getattr(standard, "validators", ()))
        self.index = {
            kind: {k: i for i, k in enumerate(names)}
            for kind, names in (
                ("items", self.item_names),
                ("sections", self.section_names),
                ("coefficients", self.coef_names),
                ("bands", [c for c, _ in self.bands]),
                ("gaps", [c for c, _ in self.targets]),
                ("terms", self.term_keys),
                ("labels", self.label_names),
            )
        }
        #: answer keys a record may give: every item but the computed ones (`value = …`)
        self.known = frozenset(it.name for it in m.items if it.computed is None)
        items = {it.name: it for it in m.items}
        #: each item's warning text, made on the first visit it concerns (`runtime.not_applicable`)
        self.warn_messages = {
            name: not_applicable(name, items[name].when_text)
            for kind, name in m.order
            if kind == "item"
        }
        #: items that may warn, in declaration order: the order of a visit's warnings
        self.warn_order = tuple(it.name for it in m.items if conditional(it))

    # -- columns in, columns out ----------------------------------------------------------------

    def evaluate_columns(
        self,
        answers: Mapping[str, Any],
        visit: Mapping[str, Any] | None = None,
        *,
        n: int | None = None,
    ) -> BatchResult:
        """Evaluate whole columns: `answers` maps item names to raw answer columns,
        `visit` maps record keys (`visit_id`, `scenario`, declared fields) to columns.

        A column is a Python sequence (JSON semantics: `runtime.MISSING` for an
        absent answer, None for null, i.e. N/A), a pyarrow array or a numpy array
        (table semantics: null, NaN and "" are an empty cell, i.e. a missing
        answer). An answer column whose name is not an item makes the rows where
        it holds something suspect (an unknown answer), unless the standard was
        loaded with `allow_unknown`. A row without a usable `visit_id`, or with an
        object or a list in a visit field (`standard.field_errors`), is suspect
        too. Plugin visit validators need whole records and are not run here;
        `score_records` and `score_table` run them. No previous visit is read
        here (`previous` is N/A, `has_previous()` false): a standard that uses
        history is scored by `score_records`.
        """
        visit = visit or {}
        sources = {k: as_source(v) for k, v in answers.items()}
        fields = {k: as_source(v) for k, v in visit.items()}
        n = _length(n, [*sources.values(), *fields.values()])
        sources, extra = self._answer_sources(sources, n)
        out = _Output(self, n)
        for start in range(0, n, self.chunk_size):
            stop = min(n, start + self.chunk_size)
            res = self.plan.run(sources, fields, start, stop, out.items)
            suspect = res.suspect
            suspect |= self._suspect_fields(fields, start, stop)
            for src in fields.values():
                nested = src.nested(start, stop)
                if nested is not None:
                    suspect |= nested
            for src in extra:
                suspect |= _present(src, start, stop)
            out.put(start, stop, res)
        return out.result()

    def score_rows(
        self,
        answers: Mapping[str, Any],
        visit: Mapping[str, Any] | None,
        rows: Iterable[int],
    ) -> list[VisitOutcome]:
        """The per-visit outcome of some rows of columns (typically the suspect ones of
        `evaluate_columns`): each row becomes a record and goes through
        `CompiledStandard.score`, so a rejection lists exactly its per-visit errors."""
        sources = {k: as_source(v) for k, v in answers.items()}
        fields = {k: as_source(v) for k, v in (visit or {}).items()}
        out = []
        for i in rows:
            record: dict[str, Any] = {}
            for key, src in fields.items():
                value = _cell(src, i)
                if value is not MISSING:
                    record[key] = value
            record["answers"] = {
                key: value
                for key, src in sources.items()
                if (value := _cell(src, i)) is not MISSING
            }
            out.append(self.standard.score(record))
        return out

    def _answer_sources(
        self, sources: dict[str, Source], n: int
    ) -> tuple[dict[str, Source], list[Source]]:
        extra = [] if self.allow_unknown else [s for k, s in sources.items() if k not in self.known]
        full = {name: sources.get(name) or ConstSource(MISSING, n) for name in self.item_names}
        return full, extra

    def _suspect_fields(self, fields: Mapping[str, Source], start: int, stop: int) -> np.ndarray:
        """Rows without a usable visit_id (the per-visit path rejects them)."""
        src = fields.get("visit_id")
        if src is None:
            return np.ones(stop - start, dtype=bool)
        return src.blank(start, stop)

    # -- records in, outcomes out ---------------------------------------------------------------

    def score_records(
        self,
        records: Iterable[Mapping[str, Any]],
        sources: Iterable[str | None] | None = None,
        history: History | None = None,
    ) -> list[VisitOutcome]:
        """Exactly `list(standard.score_many(records, sources, history))`, computed
        column-wise; for a standard that uses history, one generation of visits
        (`history.score_in_order`) at a time, their previous values as columns."""
        records = list(records)
        srcs = list(sources) if sources is not None else [None] * len(records)
        if len(srcs) < len(records):
            srcs += [None] * (len(records) - len(srcs))
        reader = self.standard.history_reader
        if reader is not None:
            size = self.chunk_size
            std = self.standard

            def group(rows: list[int], previous: list[Previous | None]) -> list[VisitOutcome]:
                if len(rows) < self.history_rows:  # a batch would cost more than its rows
                    return [
                        std.score(records[i], srcs[i], p)
                        for i, p in zip(rows, previous, strict=True)
                    ]
                out: list[VisitOutcome] = []
                for start in range(0, len(rows), size):
                    part = rows[start : start + size]
                    out += self._score_chunk(
                        [records[i] for i in part],
                        [srcs[i] for i in part],
                        previous[start : start + size],
                    )
                return out

            return score_in_order(records, srcs, reader, group, history)
        outcomes: list[VisitOutcome] = []
        for start in range(0, len(records), self.chunk_size):
            chunk = records[start : start + self.chunk_size]
            outcomes += self._score_chunk(chunk, srcs[start : start + len(chunk)])
        check = ScoringSession(self.standard).check  # a visit_id seen before is rejected
        return [check(r, src, o) for r, src, o in zip(records, srcs, outcomes, strict=True)]

    def _score_chunk(
        self,
        records: Sequence[Any],
        sources: Sequence[str | None],
        previous: Sequence[Previous | None] | None = None,
    ) -> list[VisitOutcome]:
        std = self.standard
        rows: list[int] = []
        answers: list[Mapping[str, Any]] = []
        unknown: list[bool] = []
        known = self.known
        field_names = self.model.visit_fields
        for i, r in enumerate(records):
            if not isinstance(r, Mapping):
                continue
            a = r.get("answers")
            if a is None:
                a = {}
            if not isinstance(a, Mapping):
                continue
            rows.append(i)
            answers.append(a)
            unknown.append(
                (not self.allow_unknown and not known.issuperset(a))
                or any(any(True for _ in validate(r)) for validate in self.validators)
                or bool(field_errors(r, field_names))  # copied to the result: must be plain
            )
        out: list[Any] = [None] * len(records)
        if rows:
            kept = [records[i] for i in rows]
            cols = {name: ListSource(_column(answers, name)) for name in self.item_names}
            fields = {
                key: ListSource([r.get(key) for r in kept])
                for key in dict.fromkeys([*self.plan.field_decoders, "visit_id"])
            }
            prev = [previous[i] for i in rows] if previous is not None else None
            res = self.plan.run(
                cols,
                fields,
                0,
                len(rows),
                previous=self._previous_columns(prev) if prev is not None else None,
            )
            suspect = res.suspect | self._suspect_fields(fields, 0, len(rows))
            suspect |= np.array(unknown, dtype=bool)
            built = self._outcomes(res, kept, [sources[i] for i in rows], suspect, prev)
            for i, o in zip(rows, built, strict=True):
                out[i] = o
        for i, o in enumerate(out):
            if o is None:
                out[i] = std.score(records[i], sources[i], previous[i] if previous else None)
        return out

    def _previous_columns(self, previous: Sequence[Previous | None]) -> dict[Any, Any]:
        """The previous visits' values as columns (`Env.previous`): numbers as floats
        (NaN for N/A and for no previous visit), labels as label columns."""
        reader = self.standard.history_reader
        assert reader is not None
        cols: dict[Any, Any] = {
            HAS_PREVIOUS: np.array([0.0 if p is None else 1.0 for p in previous], dtype=float)
        }
        for kind, name in reader.wanted:
            k = previous_key(kind, name)
            values = [None if p is None else p.get(k) for p in previous]
            if kind == "coef" and name in reader.labels:
                cols[k] = Cat.from_objects(values)
            else:
                cols[k] = np.array([np.nan if v is None else v for v in values], dtype=float)
        return cols

    def _outcomes(
        self,
        res: ChunkResult,
        records: list[Mapping[str, Any]],
        sources: list[str | None],
        suspect: np.ndarray,
        previous: Sequence[Previous | None] | None = None,
    ) -> list[VisitOutcome]:
        """ScoredVisit objects for trusted rows, the per-visit outcome for suspect ones."""
        std = self.standard
        m = len(records)
        items = _rows([res.items[k] for k in self.item_names], m)
        sections = _rows([res.sections[k] for k in self.section_names], m)
        coefs = _rows([res.coefs[k] for k in self.coef_names], m)
        with np.errstate(over="ignore"):  # an overflowing gap marked the row suspect
            gaps = _rows([res.coefs[c] - float(t) for c, t in self.targets], m)
        band_cols = []
        for c, bands in self.bands:
            labels = np.array([*(label for label, _ in bands), None], dtype=object)
            band_cols.append(labels[res.bands[c]])
        bands_rows = (
            list(map(tuple, np.stack(band_cols, axis=1).tolist())) if band_cols else [()] * m
        )
        terms = _term_rows(res.terms, self.term_keys, self.bool_terms, m)
        label_rows = (
            list(map(tuple, np.stack([res.labels[k] for k in self.label_names], axis=1).tolist()))
            if self.label_names
            else [()] * m
        )
        idx = self.index
        crit_names = list(res.critical)
        crit_any = _any(list(res.critical.values()), m)
        warn_names = [k for k in self.warn_order if k in res.warn]
        warn_any = _any([res.warn[k] for k in warn_names], m)
        name, version = self.model.name, self.model.version
        out: list[VisitOutcome] = []
        for i, rec in enumerate(records):
            if suspect[i]:
                out.append(std.score(rec, sources[i], previous[i] if previous else None))
                continue
            critical: tuple[str, ...] = ()
            if crit_any[i]:
                critical = tuple(k for k in crit_names if res.critical[k][i])
            warns: tuple[VisitWarning, ...] = ()
            if warn_any[i]:
                warns = tuple(
                    VisitWarning(k, self.warn_messages[k]()) for k in warn_names if res.warn[k][i]
                )
            get = rec.get
            out.append(
                ScoredVisit(
                    get("visit_id"),
                    name,
                    version,
                    get("point"),
                    get("specialist"),
                    get("region"),
                    get("date"),
                    get("scenario"),
                    get("shopper"),
                    Row(idx["coefficients"], coefs[i]),
                    Row(idx["sections"], sections[i]),
                    Row(idx["items"], items[i]),
                    Row(idx["bands"], bands_rows[i]),
                    Row(idx["gaps"], gaps[i]),
                    critical,
                    warns,
                    Row(idx["terms"], terms[i]),
                    sources[i],
                    Row(idx["labels"], label_rows[i]),
                )
            )
        return out


class _Output:
    """Whole-column result arrays, filled chunk by chunk (column-major: one column per name)."""

    def __init__(self, ev: BatchEvaluator, n: int) -> None:
        self.ev = ev
        self.n = n

        def block(names: Sequence[str], dtype: Any = float) -> dict[str, np.ndarray]:
            return {k: np.empty(n, dtype=dtype) for k in names}

        self.items = block(ev.item_names)
        self.sections = block(ev.section_names)
        self.coefs = block(ev.coef_names)
        self.terms = block(ev.term_keys)
        self.critical = block(ev.plan.critical, bool)
        self.bands = block([c for c, _ in ev.bands], np.intp)
        self.labels = block(ev.label_names, object)
        self.warn = block(ev.warn_order, bool)
        for arr in self.warn.values():
            arr[:] = False
        self.suspect = np.zeros(n, dtype=bool)

    def put(self, start: int, stop: int, res: ChunkResult) -> None:
        in_place = self.ev.plan.in_place  # already written by `BatchCompiler.run`
        items = {k: v for k, v in res.items.items() if k not in in_place}
        for target, part in (
            (self.items, items),
            (self.sections, res.sections),
            (self.coefs, res.coefs),
            (self.terms, res.terms),
            (self.critical, res.critical),
            (self.bands, res.bands),
            (self.labels, res.labels),
            (self.warn, res.warn),
        ):
            for k, arr in part.items():
                target[k][start:stop] = arr
        self.suspect[start:stop] = res.suspect

    def result(self) -> BatchResult:
        ev = self.ev
        bands = self.bands
        labels = {c: tuple(label for label, _ in b) for c, b in ev.bands}
        with np.errstate(over="ignore"):  # an overflowing gap marked the row suspect
            gaps = {c: self.coefs[c] - t for c, t in ev.targets}
        return BatchResult(
            self.n,
            self.items,
            self.sections,
            self.coefs,
            bands,
            labels,
            gaps,
            self.critical,
            self.warn,
            self.terms,
            ev.bool_terms,
            self.suspect,
            self.labels,
        )


# -- helpers ----------------------------------------------------------------------------------


def _length(n: int | None, sources: list[Source]) -> int:
    lengths = {len(s) for s in sources if not isinstance(s, ConstSource)}
    if n is not None:
        lengths.add(n)
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    if not lengths:
        raise ValueError("no columns: pass n= for a batch without answers")
    return lengths.pop()


def _column(answers: list[Mapping[str, Any]], name: str) -> list[Any]:
    """One answer of every record (MISSING where absent), in a C loop for plain dicts."""
    if all(type(a) is dict for a in answers):
        return list(map(dict.get, answers, repeat(name), repeat(MISSING)))  # type: ignore[arg-type]
    return [a.get(name, MISSING) for a in answers]


def _cell(src: Source, i: int) -> Any:
    """The raw value of row i of a column (MISSING for an absent answer)."""
    codes, distinct = src.encoded(i, i + 1)
    value = distinct[int(codes[0])]
    return value.value if isinstance(value, Unhashable) else value


def _present(src: Source, start: int, stop: int) -> np.ndarray:
    codes, distinct = src.encoded(start, stop)
    return np.array([v is not MISSING for v in distinct], dtype=bool)[codes]


def _rows(cols: list[np.ndarray], m: int) -> list[tuple[Any, ...]]:
    """Per-row tuples of Python floats, None for N/A."""
    if not cols:
        return [()] * m
    lists = []
    for col in cols:
        obj = col.astype(object)
        na = np.isnan(col)
        if na.any():
            obj[na] = None
        lists.append(obj.tolist())
    return list(zip(*lists, strict=True))


def _term_rows(
    terms: dict[str, np.ndarray], keys: Sequence[str], bools: frozenset[str], m: int
) -> list[tuple[Any, ...]]:
    if not keys:
        return [()] * m
    cols = []
    for k in keys:
        arr = terms[k]
        obj = arr.astype(bool).astype(object) if k in bools else arr.astype(object)
        obj[np.isnan(arr)] = None
        cols.append(obj)
    return list(map(tuple, np.stack(cols, axis=1).tolist()))


def _any(masks: list[np.ndarray], m: int) -> np.ndarray:
    out = np.zeros(m, dtype=bool)
    for mask in masks:
        out |= mask
    return out


_evaluators: weakref.WeakKeyDictionary[Any, dict[int, BatchEvaluator]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def evaluator_for(standard: CompiledStandard, chunk_size: int = CHUNK) -> BatchEvaluator:
    """The (cached) batch evaluator of a compiled standard, for chunks of `chunk_size` rows."""
    with _lock:
        by_size = _evaluators.setdefault(standard, {})
        ev = by_size.get(chunk_size)
        if ev is None:
            ev = by_size[chunk_size] = BatchEvaluator(standard, chunk_size)
    return ev
