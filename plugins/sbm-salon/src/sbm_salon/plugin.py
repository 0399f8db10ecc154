"""The salon pack's hook implementations (entry point `sbm` → `salon`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbm_engine.hookspecs import hookimpl

from . import STANDARDS
from .punctuality import function_specs, validators_for

if TYPE_CHECKING:
    from sbm_engine.functions import FunctionSpec
    from sbm_engine.model import StandardModel
    from sbm_engine.runtime import VisitError


@hookimpl
def sbm_standards() -> Iterable[Path]:
    """`salon.visit` and any other standard in the pack's `standards/` folder."""
    return [STANDARDS]


@hookimpl
def sbm_functions() -> Iterable[FunctionSpec]:
    """`appointment_delay(APPOINTMENT, STARTED)`: scalar and numpy batch forms."""
    return function_specs()


@hookimpl
def sbm_visit_validators(
    standard: StandardModel,
) -> Iterable[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """Reject visits with unreadable or inconsistent appointment times (any standard
    that uses `appointment_delay`). The scenario and the booking channel are the
    standard's to check: `salon.visit` declares both `required one of { … }`."""
    return validators_for(standard)
