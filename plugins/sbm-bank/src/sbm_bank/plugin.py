"""The bank pack's hook implementations (entry point `sbm` → `bank`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbm_engine.hookspecs import hookimpl

from . import STANDARDS
from .queueing import function_specs, validators_for

if TYPE_CHECKING:
    from sbm_engine.functions import FunctionSpec
    from sbm_engine.model import StandardModel
    from sbm_engine.runtime import VisitError


@hookimpl
def sbm_standards() -> Iterable[Path]:
    """`bank.branch` and any other standard in the pack's `standards/` folder."""
    return [STANDARDS]


@hookimpl
def sbm_functions() -> Iterable[FunctionSpec]:
    """`queue_minutes(ISSUED, CALLED)`: scalar and numpy batch forms."""
    return function_specs()


@hookimpl
def sbm_visit_validators(
    standard: StandardModel,
) -> Iterable[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """Reject visits with unreadable or inconsistent queue timestamps (any standard that
    uses `queue_minutes`) and, for the pack's own standards (`bank.…`), visits whose
    scenario matches none of the scenarios the standard's conditions name."""
    return validators_for(standard)
