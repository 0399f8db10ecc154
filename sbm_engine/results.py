"""What scoring returns: frozen results that serialize to the output contract.

Key names and their order are the contract of `product.md` ("Output records"):
a scored visit is `visit_id, standard, version, point, specialist, region, date,
scenario, shopper, coefficients, sections, items, bands, gaps, critical, warnings`, plus
`rollup_inputs` when the standard has `rollup` formulas (the per-visit values
those formulas aggregate, so a results file can be rolled up on its own).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import attrs

from .io.records import field_text
from .runtime import VisitError, VisitWarning


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
            "gaps": dict(self.gaps),
            "critical": list(self.critical),
            "warnings": [w.to_dict() for w in self.warnings],
        }
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
