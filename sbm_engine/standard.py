"""A compiled standard: the object integrators hold and score visits with.

`CompiledStandard.score(record)` validates one visit record and either scores it
(`ScoredVisit`) or rejects it with every error found (`RejectedVisit`); it never
raises for bad data. `score_many` adds the batch rule that a `visit_id` seen
before is rejected (`visit_key`). What an outcome lists (errors, warnings, failed
critical items) comes in the order of the standard, never in the order of a set
(`error_rank`), so that reruns and both backends write the same bytes. Instances
are immutable after construction and the generated evaluator keeps no state, so
one standard can serve many threads.
"""

from __future__ import annotations

import math
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .codegen import NO_PLACE, Place, printable
from .compiler import PythonCompiler, listing
from .diagnostics import Diagnostic, did_you_mean
from .field_types import read_fields
from .functions import FunctionRegistry
from .history import History, score_in_order
from .history import Reader as HistoryReader
from .history import reads as history_reads
from .messages import message
from .model import StandardModel
from .results import (
    RejectedVisit,
    Row,
    ScoredVisit,
    ScoringSession,
    VisitOutcome,
    duplicate,
    duplicate_error,
    field_errors,
    visit_key,
)
from .runtime import VisitError, VisitWarning
from .spans import Span

if TYPE_CHECKING:
    from .pipeline import Counts, ScoredBatch

#: Defined in `results` (the batch backends use them without this module); named here too.
__all__ = [
    "CompiledStandard",
    "ScoringSession",
    "duplicate",
    "duplicate_error",
    "field_errors",
    "visit_key",
]


class CompiledStandard:
    """A standard compiled for scoring; see the module docstring."""

    def __init__(
        self,
        model: StandardModel,
        warnings: Iterable[Diagnostic] = (),
        functions: FunctionRegistry | None = None,
        allow_unknown: bool = False,
        validators: Iterable[Callable[[Mapping[str, Any]], Iterable[VisitError]]] = (),
    ) -> None:
        self.model = model
        self.validators = tuple(validators)
        self.warnings = tuple(warnings)
        self.allow_unknown = allow_unknown
        self.functions = functions
        filename = f"<sbm {model.name}>"
        compiler = PythonCompiler(model, functions)
        self._evaluate, self.python_source, self._line_map = compiler.build(filename)
        self._filename = filename
        self.item_names = tuple(i.name for i in model.items)
        self.section_names = tuple(s.name for s in model.sections)
        self.coefficient_names = tuple(c.name for c in model.coefficients)
        # a computed item (`value = …`) is worked out by the standard, never answered
        self._computed = frozenset(i.name for i in model.items if i.computed is not None)
        self._known_answers = frozenset(self.item_names) - self._computed
        self.term_keys = tuple(t.key for r in model.rollups for t in r.terms)
        self._targets = [(c, self.coefficient_names.index(c), t) for c, t in model.targets.items()]
        self._bands = [(c, self.coefficient_names.index(c), b) for c, b in model.bands.items()]

        def index(names: Iterable[str]) -> dict[str, int]:
            return {name: i for i, name in enumerate(names)}

        self._item_index = index(self.item_names)
        self._section_index = index(self.section_names)
        self._coef_index = index(self.coefficient_names)
        self._term_index = index(self.term_keys)
        self._band_index = index(c for c, _, _ in self._bands)
        self._gap_index = index(c for c, _, _ in self._targets)
        self.label_names = tuple(c.name for c in model.labels)
        self._label_index = index(self.label_names)
        #: declared fields read before scoring: typed, `required` or `one of`
        self._read_fields = [f for f in model.fields.values() if f.read]
        self._field_names = model.visit_fields
        self._finite = FiniteCheck(model)
        self._error_rank = error_rank(model)
        wanted = history_reads(model)
        #: what a previous visit is read as (None: the standard uses no history)
        self.history_reader = None if wanted is None else HistoryReader(model, wanted)
        #: How to make this standard again in another process (the worker processes of
        #: `score_files`): a module-level function and its arguments, set by
        #: `api.load`; None for a standard made otherwise.
        self.origin: (
            tuple[Callable[..., CompiledStandard], tuple[Any, ...], dict[str, Any]] | None
        ) = None

    def python_listing(self) -> str:
        """`python_source` with the `.sbm` construct each block comes from, for people."""
        m = self.model
        title = printable(f"# Standard {m.name} {m.version or ''}, compiled from {m.file}")
        return title + "\n" + listing(self.python_source, self._line_map)

    # -- identity ---------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.model.name

    @property
    def version(self) -> str | None:
        return self.model.version

    def __repr__(self) -> str:
        return f"<CompiledStandard {self.id} {self.version or ''}>".replace(" >", ">")

    # -- scoring ----------------------------------------------------------------------------------

    @property
    def uses_history(self) -> bool:
        """The standard reads a previous visit (`previous`, `has_previous`, `repeated`):
        `score_many` then scores every visit of a point after the earlier ones."""
        return self.history_reader is not None

    def score(
        self, record: Mapping[str, Any], source: str | None = None, previous: Any = None
    ) -> VisitOutcome:
        """Score one visit record (the JSONL input shape); never raises for bad data.

        `previous`: the result of the same point's previous visit (a `ScoredVisit` or
        its dict form), for a standard that uses history; None when there is none (a
        rejected visit, or its dict form, is read as none: it is nobody's previous).
        A rejection lists its errors in the order of `error_rank`; a scored visit its
        warnings (and failed critical items) in the order the items are declared."""
        if not isinstance(record, Mapping):
            return RejectedVisit(
                None,
                source,
                (VisitError("visit_id", "not_an_object", message("visit.not_an_object")),),
                record,
            )
        visit_id = record.get("visit_id")
        errs: list[VisitError] = []
        if visit_id is None or (isinstance(visit_id, str) and not visit_id.strip()):
            errs.append(
                VisitError("visit_id", "missing_visit_id", message("visit.missing_visit_id"))
            )
        answers = record.get("answers")
        if answers is None:
            answers = {}
        if not isinstance(answers, Mapping):
            errs.append(
                VisitError("answers", "not_an_object", message("visit.answers_not_an_object"))
            )
            return self._rejected(visit_id, source, errs, record)
        if not self.allow_unknown and not self._known_answers.issuperset(answers):
            for key in answers:
                if key not in self._known_answers:
                    hint = did_you_mean(str(key), self._known_answers)
                    errs.append(
                        VisitError(
                            str(key),
                            "unknown_item",
                            message("visit.computed_item", key=key, standard=self.id)
                            if key in self._computed
                            else message("visit.unknown_item", key=key, standard=self.id)
                            + (message("visit.did_you_mean", name=hint) if hint else ""),
                        )
                    )
        for validate in self.validators:
            errs.extend(validate(record))
        visit = record
        bad_fields = field_errors(record, self._field_names)
        if bad_fields:
            errs.extend(bad_fields)
            # An object or a list is read as N/A from here on, so the other errors are found.
            nested = [e.item for e in bad_fields if e.code == "bad_field"]
            visit = {**record, **dict.fromkeys(nested)} if nested else record
        if self._read_fields:
            values, field_errs = read_fields(self._read_fields, visit)
            if bad_fields:  # one error per field
                field_errs = [e for e in field_errs if e.item not in {b.item for b in bad_fields}]
            errs.extend(field_errs)
            visit = {**visit, **values}
        warns: list[VisitWarning] = []
        if previous is not None and self.history_reader is not None:
            read = self.history_reader.of(previous)  # None for a rejected visit
            if read is not None:
                visit = {**visit, **read}  # type: ignore[dict-item]
        try:
            items, sections, coefs, bands, gaps, labels, critical, terms = self._evaluate(
                answers, visit, errs, warns
            )
        except ArithmeticError as exc:
            errs.append(self._runtime_error(exc))
            return self._rejected(visit_id, source, errs, record)
        results = (items, sections, coefs, gaps, terms)
        if not self._finite.passes(results):
            errs.append(self._finite.error(results))
        if errs:
            return self._rejected(visit_id, source, errs, record)
        if len(warns) > 1:  # made in evaluation order: put in declaration order
            warns.sort(key=lambda w: self._item_index.get(w.item, -1))
        get = record.get
        return ScoredVisit(
            get("visit_id"),
            self.model.name,
            self.model.version,
            get("point"),
            get("specialist"),
            get("region"),
            get("date"),
            get("scenario"),
            get("shopper"),
            Row(self._coef_index, coefs),
            Row(self._section_index, sections),
            Row(self._item_index, items),
            Row(self._band_index, bands),
            Row(self._gap_index, gaps),
            tuple(critical),
            tuple(warns),
            Row(self._term_index, terms),
            source,
            Row(self._label_index, labels),
        )

    def _rejected(
        self, visit_id: Any, source: str | None, errs: list[VisitError], record: Any
    ) -> RejectedVisit:
        """The rejection, its errors in the order of `error_rank` (stable: errors about
        one name stay in the order they were found)."""
        if len(errs) > 1:
            rank = self._error_rank
            errs.sort(key=lambda e: rank.get(e.item, UNDECLARED))
        return RejectedVisit(visit_id, source, tuple(errs), record)

    def _runtime_error(self, exc: BaseException) -> VisitError:
        """Map a failure inside generated code back to the `.sbm` construct that caused it."""
        span: Span | None = None
        place = NO_PLACE
        for frame, lineno in traceback.walk_tb(sys.exc_info()[2]):
            if frame.f_code.co_filename == self._filename:
                index = lineno - 1
                if 0 <= index < len(self._line_map):
                    span, place = self._line_map[index]
        where = f" ({span.file}:{span.line})" if span and span.line else ""
        reason = (
            message("visit.division_by_zero") if isinstance(exc, ZeroDivisionError) else str(exc)
        )
        return VisitError(
            place.name or "visit_id",
            "formula_error",
            message("visit.formula_error", reason=reason, what=_in(place), where=where),
        )

    def score_many(
        self,
        records: Iterable[Mapping[str, Any]],
        sources: Iterable[str | None] | None = None,
        history: History | None = None,
    ) -> Iterator[VisitOutcome]:
        """Score a stream of records; a `visit_id` already seen in the stream is rejected.

        A standard that uses history reads every record first, then scores each point's
        visits in order, each with its previous one among them or in `history`
        (earlier results); the outcomes still come in the order of the records."""
        if self.history_reader is not None:
            yield from self._score_in_order(records, sources, history)
            return
        session = self.session()
        source_iter = iter(sources) if sources is not None else None
        for record in records:
            source = next(source_iter, None) if source_iter is not None else None
            yield session.score(record, source)

    def _score_in_order(
        self,
        records: Iterable[Mapping[str, Any]],
        sources: Iterable[str | None] | None,
        history: History | None,
    ) -> list[VisitOutcome]:
        """`score_many` of a standard that uses history (`history.score_in_order`)."""
        assert self.history_reader is not None
        kept = list(records)
        srcs = list(sources) if sources is not None else []
        srcs += [None] * (len(kept) - len(srcs))

        def group(rows: list[int], previous: list[Any]) -> list[VisitOutcome]:
            return [self.score(kept[i], srcs[i], p) for i, p in zip(rows, previous, strict=True)]

        return score_in_order(kept, srcs, self.history_reader, group, history)

    def score_table(self, table: Any, source: str | None = None) -> Any:
        """Score a `pyarrow.Table` (one visit per row, one column per item) with the
        vectorized evaluator: a `ScoredTable` of flattened scored rows and of rejects.
        Needs the `fast` and `arrow` extras (numpy, pyarrow)."""
        from .batch import score_table

        return score_table(self, table, source)

    def score_batches(
        self,
        source: Any,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        decimal: str | None = None,
        chunk_rows: int = 65536,
        jobs: int = 1,
        label: str = "table",
    ) -> Iterator[ScoredBatch]:
        """Score Parquet and CSV files (a path or a list of paths) or Arrow data (a
        `pyarrow.Table`, a `RecordBatch`, or an iterable of them) batch by batch, with
        the rules of `score_many` across batches and files: each `ScoredBatch` holds
        a table of scored visits (the columns `sbm score` writes) and the
        `RejectedVisit`s among its rows, with their sources (`file:LINE` for CSV,
        `file:ROW` for Parquet, `label:ROW` for Arrow data). A CSV file's rejects come
        with its last batch: its line numbers are known once it is read whole.

        CSV cells are read as `sbm score` reads them (`encoding`, `delimiter` and
        `decimal`: None to detect). `jobs` > 1 scores chunks of files in worker
        processes. A file the streaming path cannot read exactly raises
        `pipeline.Unsupported` (`score_many` over `formats.read_visits` reads any).
        Needs the `fast` and `arrow` extras (numpy, pyarrow)."""
        from .pipeline import score_batches

        options = {"encoding": encoding, "delimiter": delimiter, "decimal": decimal}
        return score_batches(
            self, source, options=options, chunk_rows=chunk_rows, jobs=jobs, label=label
        )

    def score_files(
        self,
        inputs: Any,
        output: str | os.PathLike[str],
        rejects: str | os.PathLike[str] | None = None,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        decimal: str | None = None,
        sheet: str | None = None,
        engine: str = "auto",
        chunk_rows: int = 65536,
        jobs: int = 1,
        history: History | None = None,
    ) -> Counts:
        """Score input files (a path or a list of paths, any format `sbm score` reads)
        into `output` and `rejects` (default: `OUTPUT.rejects.jsonl` beside it) and
        return the `Counts`: the same bytes `sbm score` writes, with the same options
        (`engine`: "auto", "batch" or "python"). Both files are written to temporary
        names and appear together at the end, or not at all. `jobs` > 1 scores in
        worker processes, which load the standard again (`origin`: one loaded with
        `sbm_engine.load`). It does not run the standard's examples first, as
        `sbm score` does (`run_examples`). `history`: earlier results, for a standard
        that uses history (which is scored whole, `pipeline.batches.score_whole`)."""
        from .pipeline import score_files

        options = {"encoding": encoding, "delimiter": delimiter, "decimal": decimal}
        return score_files(
            self,
            inputs,
            output,
            rejects,
            options={**options, "sheet": sheet},
            engine=engine,
            chunk_rows=chunk_rows,
            jobs=jobs,
            history=history,
        )

    def result_template(self) -> dict[str, Any]:
        """A scored visit's shape with every key and no values: fixes table columns."""
        none = dict.fromkeys
        return ScoredVisit(
            None,
            self.model.name,
            self.model.version,
            None,
            None,
            None,
            None,
            None,
            None,
            none(self.coefficient_names),
            none(self.section_names),
            none(self.item_names),
            none(c for c, _, _ in self._bands),
            none(c for c, _, _ in self._targets),
            (),
            (),
            none(self.term_keys),
            None,
            none(self.label_names),
        ).to_dict()

    def session(self) -> ScoringSession:
        """A stateful scorer for one batch: remembers visit_ids to reject duplicates."""
        return ScoringSession(self)

    def rollup(self, results: Iterable[Any], by: str) -> dict[str, Any]:
        """Aggregate scored visits (objects or their dicts) `by` point, specialist, region
        or network: the roll-up contract of the product spec."""
        from .rollup import rollup

        return rollup(self.model, results, by)

    # -- examples ---------------------------------------------------------------------------------

    def run_examples(self) -> list[ExampleOutcome]:
        from .examples import run_examples

        return run_examples(self)


#: A visit's computed values as the generated code returns them: item scores,
#: section scores, coefficients, gaps and rollup inputs.
Results = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]


class FiniteCheck:
    """Refuses results that are not finite numbers: a formula that overflowed
    (`answer(a) * answer(a)` with a = 1e200 gives inf) or lost its meaning
    (inf - inf gives NaN).

    Why: no output may carry such a value (JSON cannot spell it; a table would show
    `inf` or, worse, read NaN as N/A), and the batch backend must be able to hand
    such rows here and get the same verdict: a `formula_error` naming the construct
    and its line, as a division by zero gets. Only the values a formula of the
    standard can make unbounded are looked at on every visit: coefficients, gaps
    and rollup inputs. Item and section scores are bounded by the language (scores
    in [0, 1], finite weights), so they are checked only in a standard whose
    constants could overflow them (a `number` range or weights near 1e308)."""

    def __init__(self, model: StandardModel) -> None:
        self.model = model
        weights = [it.weight for it in model.items] + [s.weight for s in model.sections]
        self.bounded = math.isfinite(sum(float(w) for w in weights)) and all(
            math.isfinite(float(it.high) - float(it.low))
            for it in model.items
            if it.low is not None and it.high is not None
        )

    def passes(self, results: Results) -> bool:
        """True when every float among the results is finite (the common, fast case)."""
        items, sections, coefs, gaps, terms = results
        if not (_finite(coefs) and _finite(gaps) and _finite(terms)):
            return False
        return self.bounded or (_finite(items) and _finite(sections))

    def error(self, results: Results) -> VisitError:
        """The `formula_error` for the first result that is not finite, in the order
        the standard computes them (items, sections, coefficients, then gaps and
        rollup inputs, which are computed from them)."""
        m = self.model
        items, sections, coefs, gaps, terms = results
        named: list[tuple[tuple[Any, ...], list[tuple[str, str, Span]]]] = [
            (items, [(i.name, "item_score", i.span) for i in m.items]),
            (sections, [(x.name, "section", x.span) for x in m.sections]),
            (coefs, [(c.name, "coefficient", c.span) for c in m.coefficients]),
            (gaps, [(c, "gap", self._coef_span(c)) for c in m.targets]),
            (terms, [(r.name, "rollup", r.span) for r in m.rollups for _ in r.terms]),
        ]
        for values, names in named:
            for value, (name, kind, span) in zip(values, names, strict=True):
                if isinstance(value, float) and not math.isfinite(value):
                    where = f" ({span.file}:{span.line})" if span.line else ""
                    why = (
                        message("visit.too_large") if value == value else message("visit.undefined")
                    )
                    if kind == "item_score":
                        what = message("visit.in.item_score", name=name)
                    elif kind == "section":
                        what = message("visit.in.section", name=name)
                    elif kind == "coefficient":
                        what = message("visit.in.coefficient", name=name)
                    elif kind == "gap":
                        target = f"{self.model.targets[name]:g}"
                        what = message("visit.in.gap", name=name, target=target)
                    else:
                        what = message("visit.in.rollup", name=name)
                    return VisitError(
                        name,
                        "formula_error",
                        message(
                            "visit.not_finite_result",
                            value=repr(value),
                            why=why,
                            what=what,
                            where=where,
                        ),
                    )
        raise AssertionError("error() called on finite results")

    def _coef_span(self, coefficient: str) -> Span:
        return next(c for c in self.model.coefficients if c.name == coefficient).span


#: The rank, in `error_rank`, of a name the standard does not declare.
UNDECLARED = 2


def error_rank(model: StandardModel) -> dict[str, int]:
    """The position of each name an error may concern: the order of a rejection's errors.

    The rule, the same on both backends and in every run: first the errors about the
    record itself (`visit_id`: a duplicate, then a missing id; then `answers`), then
    those about names the standard does not declare, in the order they were found
    (answer keys that are no item, `unknown_item`, in the record's order; names used
    by plugin validators); then the standard's items in the order they are declared;
    then sections, coefficients and rollups (formula errors) in declaration order;
    last the visit fields (built-in ones, then declared ones). Errors about one name
    keep the order they were found in. Names missing from the result rank
    `UNDECLARED`.

    Why not the order of evaluation: formulas are evaluated in dependency order,
    which may differ from run to run (the checker builds it from sets), and a
    methodologist reads a rejection against the standard as written."""
    m = model
    rank = {"visit_id": 0, "answers": 1}
    for name in (
        *(i.name for i in m.items),
        *(s.name for s in m.sections),
        *(c.name for c in (*m.coefficients, *m.labels)),
        *(r.name for r in m.rollups),
        *m.visit_fields,
    ):
        rank.setdefault(name, UNDECLARED + len(rank))
    return rank


def _finite(values: tuple[Any, ...]) -> bool:
    """No float in `values` is inf or NaN (None, texts and booleans pass).

    A plain loop with no call in it, not `all()` over a generator nor `isinstance` and
    `math.isfinite`: it runs for every visit scored. `x - x` is 0 for every finite
    float and NaN for inf and NaN."""
    for v in values:  # noqa: SIM110
        if v.__class__ is float and v - v != 0.0:
            return False
    return True


def _in(place: Place) -> str:
    """Where a formula failed, in the reader's language: "in item `x`"."""
    kind, name = place
    if kind == "item":
        return message("visit.in.item", name=name)
    if kind == "item_condition":
        return message("visit.in.item_condition", name=name)
    if kind == "section_condition":
        return message("visit.in.section_condition", name=name)
    if kind == "score_formula":
        return message("visit.in.score_formula", name=name)
    if kind == "item_value":
        return message("visit.in.item_value", name=name)
    if kind == "critical_condition":
        return message("visit.in_critical.condition", name=name)
    if kind == "section":
        return message("visit.in.section", name=name)
    if kind == "coefficient":
        return message("visit.in.coefficient", name=name)
    if kind == "rollup":
        return message("visit.in.rollup", name=name)
    if kind == "critical":
        return message("visit.in.critical")
    if kind == "bands":
        return message("visit.in.bands")
    return message("visit.in.formula")


from .examples import ExampleOutcome  # noqa: E402  (examples imports this module's type only)
