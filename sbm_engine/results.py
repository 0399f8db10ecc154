"""What scoring returns: frozen results that serialize to the output contract.

Key names and their order are the contract of `product.md` ("Output records"):
a scored visit is `visit_id, standard, version, point, specialist, region, date,
scenario, coefficients, sections, items, bands, gaps, critical, warnings`, plus
`rollup_inputs` when the standard has `rollup` formulas (the per-visit values
those formulas aggregate, so a results file can be rolled up on its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .runtime import VisitError, VisitWarning

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@attrs.frozen
class ScoredVisit:
    visit_id: Any
    standard: str
    version: str | None
    point: Any
    specialist: Any
    region: Any
    date: Any
    scenario: Any
    coefficients: Mapping[str, float | None] = attrs.field(converter=_frozen_map)
    sections: Mapping[str, float | None] = attrs.field(converter=_frozen_map)
    items: Mapping[str, float | None] = attrs.field(converter=_frozen_map)
    bands: Mapping[str, str | None] = attrs.field(converter=_frozen_map)
    gaps: Mapping[str, float | None] = attrs.field(converter=_frozen_map)
    critical: tuple[str, ...] = ()
    warnings: tuple[VisitWarning, ...] = ()
    rollup_inputs: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_frozen_map)
    source: str | None = attrs.field(default=None, eq=False)

    ok = True

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
    visit_id: Any
    source: str | None
    errors: tuple[VisitError, ...]
    record: Any

    ok = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "visit_id": self.visit_id,
            "source": self.source,
            "errors": [e.to_dict() for e in self.errors],
            "record": self.record,
        }


VisitOutcome = ScoredVisit | RejectedVisit
