"""A compiled standard: the object integrators hold and score visits with.

`CompiledStandard.score(record)` validates one visit record and either scores it
(`ScoredVisit`) or rejects it with every error found (`RejectedVisit`); it never
raises for bad data. `score_many` adds the batch rule that a `visit_id` seen
before is rejected. Instances are immutable after construction and the generated
evaluator keeps no state, so one standard can serve many threads.
"""

from __future__ import annotations

import math
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .codegen import printable
from .compiler import PythonCompiler, listing
from .diagnostics import Diagnostic, did_you_mean
from .functions import FunctionRegistry
from .model import StandardModel
from .nodes import Span
from .results import RejectedVisit, Row, ScoredVisit, VisitOutcome, json_safe
from .runtime import VisitError, VisitWarning, not_finite


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
        self._known_answers = frozenset(self.item_names)
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
        self._choice_fields = [f for f in model.fields.values() if f.values is not None]
        self._field_names = model.visit_fields
        self._finite = FiniteCheck(model)

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

    def score(self, record: Mapping[str, Any], source: str | None = None) -> VisitOutcome:
        """Score one visit record (the JSONL input shape); never raises for bad data."""
        if not isinstance(record, Mapping):
            return RejectedVisit(
                None,
                source,
                (VisitError("visit_id", "not_an_object", "a visit record must be an object"),),
                record,
            )
        visit_id = record.get("visit_id")
        errs: list[VisitError] = []
        if visit_id is None or (isinstance(visit_id, str) and not visit_id.strip()):
            errs.append(VisitError("visit_id", "missing_visit_id", "the record has no visit_id"))
        answers = record.get("answers")
        if answers is None:
            answers = {}
        if not isinstance(answers, Mapping):
            errs.append(VisitError("answers", "not_an_object", "`answers` must be an object"))
            return RejectedVisit(visit_id, source, tuple(errs), record)
        if not self.allow_unknown and not self._known_answers.issuperset(answers):
            for key in answers:
                if key not in self._known_answers:
                    hint = did_you_mean(str(key), self.item_names)
                    errs.append(
                        VisitError(
                            str(key),
                            "unknown_item",
                            f"`{key}` is not an item of {self.id}"
                            + (f"; did you mean `{hint}`?" if hint else ""),
                        )
                    )
        for validate in self.validators:
            errs.extend(validate(record))
        errs.extend(not_finite_fields(record, self._field_names))
        visit = record
        if self._choice_fields:
            visit = self._check_fields(record, errs)
        warns: list[VisitWarning] = []
        try:
            items, sections, coefs, bands, gaps, critical, terms = self._evaluate(
                answers, visit, errs, warns
            )
        except ArithmeticError as exc:
            errs.append(self._runtime_error(exc))
            return RejectedVisit(visit_id, source, tuple(errs), record)
        results = (items, sections, coefs, gaps, terms)
        if not self._finite.passes(results):
            errs.append(self._finite.error(results))
        if errs:
            return RejectedVisit(visit_id, source, tuple(errs), record)
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
            Row(self._coef_index, coefs),
            Row(self._section_index, sections),
            Row(self._item_index, items),
            Row(self._band_index, bands),
            Row(self._gap_index, gaps),
            tuple(critical),
            tuple(warns),
            Row(self._term_index, terms),
            source,
        )

    def _check_fields(self, record: Mapping[str, Any], errs: list[VisitError]) -> Mapping[str, Any]:
        """Declared `one of` fields, read as their canonical value or rejected."""
        fixed = dict(record)
        for field in self._choice_fields:
            value = record.get(field.name)
            if value is None:
                continue
            canonical = field.canonical(value)
            if canonical is None:
                values = field.values or ()
                hint = did_you_mean(str(value), values)
                errs.append(
                    VisitError(
                        field.name,
                        "bad_field",
                        f"`{field.name}` is {value!r}, not one of {', '.join(values)}"
                        + (f"; did you mean `{hint}`?" if hint else ""),
                    )
                )
            else:
                fixed[field.name] = canonical
        return fixed

    def _runtime_error(self, exc: BaseException) -> VisitError:
        """Map a failure inside generated code back to the `.sbm` construct that caused it."""
        span: Span | None = None
        what = "a formula"
        for frame, lineno in traceback.walk_tb(sys.exc_info()[2]):
            if frame.f_code.co_filename == self._filename:
                index = lineno - 1
                if 0 <= index < len(self._line_map):
                    span, what = self._line_map[index]
        where = f" ({span.file}:{span.line})" if span and span.line else ""
        reason = "division by zero" if isinstance(exc, ZeroDivisionError) else str(exc)
        name = what.split("`")[1] if "`" in what else "visit_id"
        return VisitError(name, "formula_error", f"{reason} in {what}{where}")

    def score_many(
        self, records: Iterable[Mapping[str, Any]], sources: Iterable[str | None] | None = None
    ) -> Iterator[VisitOutcome]:
        """Score a stream of records; a `visit_id` already seen in the stream is rejected."""
        session = self.session()
        source_iter = iter(sources) if sources is not None else None
        for record in records:
            source = next(source_iter, None) if source_iter is not None else None
            yield session.score(record, source)

    def score_table(self, table: Any, source: str | None = None) -> Any:
        """Score a `pyarrow.Table` (one visit per row, one column per item) with the
        vectorized evaluator: a `ScoredTable` of flattened scored rows and of rejects.
        Needs the `fast` and `arrow` extras (numpy, pyarrow)."""
        from .batch import score_table

        return score_table(self, table, source)

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
            none(self.coefficient_names),
            none(self.section_names),
            none(self.item_names),
            none(c for c, _, _ in self._bands),
            none(c for c, _, _ in self._targets),
            (),
            (),
            none(self.term_keys),
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
            (items, [(i.name, f"the score of item `{i.name}`", i.span) for i in m.items]),
            (sections, [(x.name, f"section `{x.name}`", x.span) for x in m.sections]),
            (coefs, [(c.name, f"coefficient `{c.name}`", c.span) for c in m.coefficients]),
            (gaps, [self._gap(c) for c in m.targets]),
            (terms, [(r.name, f"rollup `{r.name}`", r.span) for r in m.rollups for _ in r.terms]),
        ]
        for values, names in named:
            for value, (name, what, span) in zip(values, names, strict=True):
                if isinstance(value, float) and not math.isfinite(value):
                    where = f" ({span.file}:{span.line})" if span.line else ""
                    why = (
                        "too large for a number" if value == value else "undefined, like inf - inf"
                    )
                    return VisitError(
                        name,
                        "formula_error",
                        f"the result is {value!r}, not a finite number ({why}), in {what}{where}",
                    )
        raise AssertionError("error() called on finite results")

    def _gap(self, coefficient: str) -> tuple[str, str, Span]:
        coef = next(c for c in self.model.coefficients if c.name == coefficient)
        target = self.model.targets[coefficient]
        return coefficient, f"the gap of `{coefficient}` to its target {target:g}", coef.span


def not_finite_fields(record: Mapping[str, Any], names: Iterable[str]) -> list[VisitError]:
    """Errors for the visit fields `names` of `record` holding a number beyond the
    range of a float (JSONL `"point": 1e400` reads as inf; 1 followed by 309 zeros
    stays an int), empty when there is none (the usual case, kept fast).

    Why the visit is rejected, naming the field: the output carries the fields, and
    JSON has no spelling for inf, nor a Parquet number column room for such an int.
    Tabular readers make every field text (`"inf"`), so this concerns JSONL and the
    Python API; the batch backend sends such records here too."""
    errs = []
    get = record.get
    for name in names:
        value = get(name)
        if value is None or value.__class__ is str:
            continue
        if not not_finite(value) and json_safe(value) is value:
            continue
        errs.append(
            VisitError(
                name,
                "not_a_number",
                f"`{name}` is {_shown(value)}, not a finite number "
                "(too large for a number, or NaN)",
            )
        )
    return errs


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finite(values: tuple[Any, ...]) -> bool:
    """No float in `values` is inf or NaN (None, texts and booleans pass).

    A plain loop, not `all()` over a generator: it runs for every visit scored, and
    the generator costs half as much again."""
    for v in values:  # noqa: SIM110
        if isinstance(v, float) and not math.isfinite(v):
            return False
    return True


class ScoringSession:
    """Scores the visits of one batch in order, rejecting a `visit_id` seen before.

    Readers that could not make a record of some input (bad JSON, a row that does
    not fit the header) pass it to `unreadable`, so it too ends in the rejects.
    """

    def __init__(self, standard: CompiledStandard) -> None:
        self.standard = standard
        self.seen: set[Any] = set()

    def score(self, record: Any, source: str | None = None) -> VisitOutcome:
        outcome = self.standard.score(record, source)
        vid = record.get("visit_id") if isinstance(record, Mapping) else None
        key = hashable_id(vid)
        if key is None:
            return outcome
        if key in self.seen:
            dup = VisitError(
                "visit_id", "duplicate_visit", f"visit_id {vid!r} appears earlier in this batch"
            )
            errors = (dup, *outcome.errors) if isinstance(outcome, RejectedVisit) else (dup,)
            return RejectedVisit(vid, source, errors, record)
        self.seen.add(key)
        return outcome

    @staticmethod
    def unreadable(raw: Any, source: str | None, reason: str) -> RejectedVisit:
        return RejectedVisit(None, source, (VisitError("record", "unreadable", reason),), raw)


def hashable_id(vid: Any) -> Any:
    """A visit_id as a set key (an unhashable one by its repr); None when there is none."""
    if vid is None:
        return None
    try:
        hash(vid)
    except TypeError:
        return repr(vid)
    return vid


from .examples import ExampleOutcome  # noqa: E402  (examples imports this module's type only)
