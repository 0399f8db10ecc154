"""Reading a `CheckReport` in tests: its codes, and the one diagnostic of a code."""

from __future__ import annotations

from sbm_engine.api import CheckReport
from sbm_engine.diagnostics import Diagnostic


def codes(report: CheckReport) -> list[str]:
    return [d.code for d in report.diagnostics]


def one(report: CheckReport, code: str) -> Diagnostic:
    """The single diagnostic with `code` in the report."""
    found = [d for d in report.diagnostics if d.code == code]
    assert len(found) == 1, f"want one {code}, got {codes(report)}"
    return found[0]
