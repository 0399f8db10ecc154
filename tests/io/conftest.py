"""Shared helpers of the I/O tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def visit() -> dict:
    """A scored-visit-like record with nested dicts and lists, as writers receive."""
    return {
        "visit_id": "v01",
        "standard": "demo-branch",
        "version": "1.0",
        "point": "P1",
        "specialist": "S1",
        "region": "R1",
        "date": "2026-11-02",
        "scenario": "deposit",
        "shopper": "A. Petrova",
        "coefficients": {"visit": 0.585, "subjective": None, "point": 1.0},
        "sections": {"greeting": 0.625},
        "items": {"greeted": 1.0, "card": None},
        "bands": {"visit": "плохо"},
        "gaps": {"visit": -0.265},
        "critical": ["secrecy"],
        "warnings": [{"item": "card", "message": "нет ответа"}],
    }
