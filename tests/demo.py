"""The conformance standard (`conformance/demo_branch.sbm`) and a visit it scores."""

from __future__ import annotations

from pathlib import Path

DEMO = Path(__file__).parent / "conformance" / "demo_branch.sbm"

#: Answers of a visit the demo standard accepts (the `deposit` scenario's items too).
GOOD = {
    "greeted": "yes",
    "smile": "no",
    "wait": 3,
    "questions": 4,
    "card": "yes",
    "secrecy": "yes",
    "clean": 5,
    "overall": 7,
}
