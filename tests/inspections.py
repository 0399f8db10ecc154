"""Visits of `inspections.snhd` (Southern Nevada grade cards) for the tests of history."""

from __future__ import annotations

from typing import Any


def snhd_inspection(vid: str, date: str, cited: list[str]) -> dict[str, Any]:
    """A routine inspection of point P1 citing `cited` (each answered "out")."""
    answers = {"imminent_hazard": "none", **dict.fromkeys(cited, "out")}
    return {
        "visit_id": vid,
        "point": "P1",
        "date": date,
        "inspection": "routine",
        "answers": answers,
    }
