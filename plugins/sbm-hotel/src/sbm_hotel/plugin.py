"""The hotel pack's hook implementations (entry point `sbm` → `hotel`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbm_engine.hookspecs import hookimpl

from . import STANDARDS
from .timing import function_specs, validators_for

if TYPE_CHECKING:
    from sbm_engine.functions import FunctionSpec
    from sbm_engine.model import StandardModel
    from sbm_engine.runtime import VisitError


@hookimpl
def sbm_standards() -> Iterable[Path]:
    """`hotel.stay` and any other standard in the pack's `standards/` folder."""
    return [STANDARDS]


@hookimpl
def sbm_functions() -> Iterable[FunctionSpec]:
    """`minutes_late`, `room_ready`: scalar and numpy batch forms."""
    return function_specs()


@hookimpl
def sbm_visit_validators(
    standard: StandardModel,
) -> Iterable[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """Reject visits whose timestamps are unreadable, out of order or mix UTC offsets,
    for any standard (this pack's or a derived one) that passes visit fields to the
    timing functions or measures minutes between `datetime` fields; nothing otherwise."""
    return validators_for(standard)
