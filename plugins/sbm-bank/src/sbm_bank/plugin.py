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
    uses `queue_minutes`) and, for a bank standard (`industry "bank"`), visits whose
    `datetime` fields measured between mix a UTC offset with none, or whose wait is
    negative or implausible (`queueing.validators_for`). The scenario is the
    standard's to check: `bank.branch` declares it `required one of { … }`."""
    return validators_for(standard)
