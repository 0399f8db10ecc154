"""What scoring returns: frozen results that serialize to the output contract, and
the rules that make a rejection whatever the path that scores (one record at a
time, a batch, a stream of batches): a visit_id seen before (`ScoringSession`,
`duplicate`, compared as `visit_key`), a record no reader could make
(`ScoringSession.unreadable`), a visit field no output can carry (`field_errors`).

Key names and their order are the contract of `product.md` ("Output records"):
a scored visit is `visit_id, standard, version, point, specialist, region, date,
scenario, shopper, coefficients, sections, items, bands, gaps, critical, warnings`, plus
`rollup_inputs` when the standard has `rollup` formulas (the per-visit values
those formulas aggregate, so a results file can be rolled up on its own).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from .io.records import field_text
from .messages import message
from .runtime import VisitError, VisitWarning, not_finite

if TYPE_CHECKING:
    from .standard import CompiledStandard


class Row(Mapping[str, Any]):
    """An immutable mapping over a shared key index and a tuple of values.

    Every result of a standard shares one index per kind (items, sections, …), so
    building a result costs a tuple, not a dict per visit.
    """

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: tuple[Any, ...]) -> None:
        self._index = index
        self._values = values

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Row:
        return cls({k: i for i, k in enumerate(mapping)}, tuple(mapping.values()))

    def __getitem__(self, key: str) -> Any:
        return self._values[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return repr(dict(zip(self._index, self._values, strict=True)))

    def __hash__(self) -> int:
        return hash((tuple(self._index), self._values))

    def as_dict(self) -> dict[str, Any]:
        """The mapping as a plain dict (built at C speed)."""
        return dict(zip(self._index, self._values, strict=True))


_EMPTY = Row({}, ())


class ScoredVisit(NamedTuple):
    """A scored visit. Immutable (a named tuple of immutable parts) and cheap to build:
    the per-visit path makes millions of them. The mappings are `Row`s, or any
    mapping a caller passes when building one by hand."""

    visit_id: Any
    standard: str
    version: str | None
    point: Any
    specialist: Any
    region: Any
    date: Any
    scenario: Any
    shopper: Any
    coefficients: Mapping[str, float | None]
    sections: Mapping[str, float | None]
    items: Mapping[str, float | None]
    bands: Mapping[str, str | None]
    gaps: Mapping[str, float | None]
    critical: tuple[str, ...] = ()
    warnings: tuple[VisitWarning, ...] = ()
    rollup_inputs: Mapping[str, Any] = _EMPTY
    source: str | None = None
    #: the values of coefficients that give a label (`StandardModel.labels`)
    labels: Mapping[str, str | None] = _EMPTY

    @property
    def ok(self) -> bool:
        """Always true: results and rejects share `.ok`. A property, as a named tuple's
        class body may only declare fields and methods."""
        return True

    @property
    def critical_failed(self) -> bool:
        return bool(self.critical)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "visit_id": self.visit_id,
            "standard": self.standard,
            "version": self.version,
            "point": self.point,
            "specialist": self.specialist,
            "region": self.region,
            "date": self.date,
            "scenario": self.scenario,
            "shopper": self.shopper,
            "coefficients": dict(self.coefficients),
            "sections": dict(self.sections),
            "items": dict(self.items),
            "bands": dict(self.bands),
        }
        if self.labels:  # only for a standard with coefficients that give a label
            out["labels"] = dict(self.labels)
        out["gaps"] = dict(self.gaps)
        out["critical"] = list(self.critical)
        out["warnings"] = [w.to_dict() for w in self.warnings]
        if self.rollup_inputs:
            out["rollup_inputs"] = dict(self.rollup_inputs)
        return out


@attrs.frozen
class RejectedVisit:
    """A rejected visit: every error found (in the order of `standard.error_rank`)
    and the record as read.

    In `to_dict`, a visit_id that is an object or a list (a visit rejected for it) is
    given as its compact JSON text, as the batch backend's text column of rejected
    ids gives it (the record keeps it as read)."""

    visit_id: Any
    source: str | None
    errors: tuple[VisitError, ...]
    record: Any

    ok = False

    def to_dict(self) -> dict[str, Any]:
        vid = self.visit_id
        nested = isinstance(vid, Mapping | list | tuple)
        return {
            "visit_id": field_text(vid) if nested else json_safe(vid),
            "source": self.source,
            "errors": [e.to_dict() for e in self.errors],
            "record": json_safe(self.record),
        }


VisitOutcome = ScoredVisit | RejectedVisit


def json_safe(value: Any) -> Any:
    """`value` with each float that is not finite replaced by its text ("inf", "-inf",
    "nan"), in nested dicts, lists and tuples too; the very same object when there
    is none (the usual case, so callers can test `json_safe(v) is v`).

    Why: a record is kept "as read" in the rejects file, and one rejected for an
    answer `1e400` holds inf, which JSON cannot carry; written as is, it would abort
    the whole run. Its text keeps what was read visible to whoever fixes the data."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(float(value))
    if isinstance(value, Mapping):
        pairs = [(k, v, json_safe(v)) for k, v in value.items()]
        if all(safe is v for _, v, safe in pairs):
            return value
        return {k: safe for k, _, safe in pairs}
    if isinstance(value, list | tuple):
        items = [json_safe(v) for v in value]
        if all(safe is v for safe, v in zip(items, value, strict=True)):
            return value
        return items
    return value


class ScoringSession:
    """Scores the visits of one batch in order, rejecting a `visit_id` seen before
    (compared as `visit_key`s).

    Readers that could not make a record of some input (bad JSON, a row that does
    not fit the header) pass it to `unreadable`, so it too ends in the rejects.
    """

    def __init__(self, standard: CompiledStandard) -> None:
        self.standard = standard
        self.seen: set[str] = set()

    def score(self, record: Any, source: str | None = None) -> VisitOutcome:
        return self.check(record, source, self.standard.score(record, source))

    def check(self, record: Any, source: str | None, outcome: VisitOutcome) -> VisitOutcome:
        """`outcome` (the record scored alone), or its rejection when the record's
        visit_id was seen before in this session: the duplicate error comes first."""
        vid = record.get("visit_id") if isinstance(record, Mapping) else None
        key = visit_key(vid)
        if key is None:
            return outcome
        if key in self.seen:
            return duplicate(vid, source, record, outcome)
        self.seen.add(key)
        return outcome

    @staticmethod
    def unreadable(raw: Any, source: str | None, reason: str) -> RejectedVisit:
        return RejectedVisit(None, source, (VisitError("record", "unreadable", reason),), raw)

    def read(self, rec: Any) -> VisitOutcome:
        """The outcome of a record as a reader gave it (`io.VisitRecord`): scored, or
        rejected as unreadable when no record could be made of the input."""
        if rec.record is None:
            return self.unreadable(rec.raw, rec.source, rec.error or "unreadable")
        return self.score(rec.record, rec.source)


def duplicate(
    vid: Any, source: str | None, record: Any, outcome: VisitOutcome | None
) -> RejectedVisit:
    """The rejection of a record whose visit_id appeared earlier in the batch: the
    `duplicate_visit` error, then the record's own errors if it has any (`outcome`,
    the record scored alone, None when it was not)."""
    dup = duplicate_error(vid)
    errors = (dup, *outcome.errors) if isinstance(outcome, RejectedVisit) else (dup,)
    return RejectedVisit(vid, source, errors, record)


def duplicate_error(vid: Any) -> VisitError:
    """The `duplicate_visit` error; it names the id by its `visit_key`, so that `1.0`
    after `1` reads "visit_id '1' appears earlier", the same from every input."""
    return VisitError(
        "visit_id", "duplicate_visit", message("visit.duplicate", key=repr(visit_key(vid)))
    )


def visit_key(vid: Any) -> str | None:
    """What a visit_id is compared as, to find duplicates: its text as the outputs and
    the tabular readers spell it (`io.records.field_text`); None when there is none.

    So `1`, `1.0` and `"1"` are the same visit_id, as they are in a CSV or Parquet
    file, where a visit field is always read as text; `true` is `"true"`, not `1`
    (Python's `==` would merge 1, 1.0 and True). An object or a list (a visit that
    is rejected anyway) is compared as its compact JSON text."""
    return None if vid is None else field_text(vid)


def field_errors(record: Mapping[str, Any], names: Iterable[str]) -> list[VisitError]:
    """Errors for the visit fields `names` of `record` whose value no output can
    carry, empty when there is none (the usual case, kept fast):

    * an object or a list (JSONL `"point": {"x": 1}`, a Parquet struct, list or map
      column) is `bad_field`. A visit field is one value (a text, a number, true or
      false): it is copied to the scored visit, where a CSV or Parquet output has one
      text column for it (an object there would abort the whole run) and `sbm rollup`
      groups visits by it. Such a visit is rejected, from every input format and on
      both backends, rather than scored with the field spelt some arbitrary way;
    * a number beyond the range of a float (JSONL `"point": 1e400` reads as inf; 1
      followed by 309 zeros stays an int) is `not_a_number`: JSON has no spelling for
      inf, nor a Parquet number column room for such an int. Tabular readers make
      every scalar field text (`"inf"`), so this concerns JSONL and the Python API.

    The batch backend sends the records with such fields here too."""
    errs = []
    get = record.get
    for name in names:
        value = get(name)
        if value is None or value.__class__ is str:
            continue
        if isinstance(value, Mapping | list | tuple):
            shown = _short(field_text(value))
            errs.append(
                VisitError(
                    name,
                    "bad_field",
                    message("visit.field_object", field=name, value=shown)
                    if isinstance(value, Mapping)
                    else message("visit.field_list", field=name, value=shown),
                )
            )
            continue
        if not not_finite(value) and json_safe(value) is value:
            continue
        errs.append(
            VisitError(
                name,
                "not_a_number",
                message("visit.field_not_finite", field=name, value=_shown(value)),
            )
        )
    return errs


def _shown(value: Any) -> str:
    return _short(repr(value))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
