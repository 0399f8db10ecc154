"""Shared helpers of the I/O tests.

Why the sys.path line: the tests must run from a plain checkout
(`.venv/bin/pytest tests/io`) even when the package is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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
        "coefficients": {"visit": 0.585, "subjective": None, "point": 1.0},
        "sections": {"greeting": 0.625},
        "items": {"greeted": 1.0, "card": None},
        "bands": {"visit": "плохо"},
        "gaps": {"visit": -0.265},
        "critical": ["secrecy"],
        "warnings": [{"item": "card", "message": "нет ответа"}],
    }
