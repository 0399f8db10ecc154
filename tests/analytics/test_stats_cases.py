"""The published worked examples of analytics.md (`stats_cases.json`, a copy of the
spec's file, unchanged): every case whose `function` is one of
`sbm_engine.analytics.stats` becomes a test, within the case's own tolerance."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

stats = pytest.importorskip("sbm_engine.analytics.stats")

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "stats_cases.json").read_text(encoding="utf-8")
)
#: The cases for `stats` (the `plan_lp` case is `sbm plan`'s, tested elsewhere).
STATS_CASES = {
    name: case
    for name, case in CASES.items()
    if not name.startswith("_") and hasattr(stats, str(case.get("function", "")))
}


def test_every_case_of_the_statistics_is_taken() -> None:
    """Only cases naming something other than a function of `stats` are left out."""
    left = {n for n in CASES if not n.startswith("_")} - set(STATS_CASES)
    assert all(not str(CASES[n]["function"]).isidentifier() for n in left), left
    assert len(STATS_CASES) >= 7


def _tol(case: dict[str, Any], key: str) -> float:
    tol = case["tolerance"]
    return float(tol[key] if isinstance(tol, dict) else tol)


def _close(got: float, want: float, tol: float, what: str) -> None:
    assert math.isfinite(got), f"{what}: got {got}"
    assert abs(got - want) <= tol, f"{what}: got {got!r}, want {want!r} ± {tol}"


def _inputs_and_checks(case: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any] | float]]:
    """(label, result, expected) for each computation a case asks for."""
    fn = getattr(stats, case["function"])
    name = case["function"]
    if name == "krippendorff_alpha":
        return [
            (level, fn(case["data"], level=level), want) for level, want in case["expect"].items()
        ]
    if name == "fleiss_kappa":
        return [("kappa", fn(case["counts"]), case["expect"])]
    if name == "cohen_kappa":
        out = []
        for key, want in case.items():
            if key == "expect":
                out.append(("unweighted", fn(case["table"], weights=case.get("weights")), want))
            elif key.startswith("expect_"):
                weights = key.removeprefix("expect_")
                w = None if weights == "unweighted" else weights
                out.append((weights, fn(case["table"], weights=w), want))
        return out
    if name in ("relative_weights", "shapley_r2"):
        return [("weights", fn(case["X"], case["y"]), case)]
    if name == "two_proportions":
        return [("test", fn(*case["args"]), case["expect"])]
    if name == "welch":
        return [("test", fn(case["a"], case["b"]), case["expect"])]
    pytest.fail(f"no reader for the case of {name}")


@pytest.mark.parametrize("name", sorted(STATS_CASES))
def test_published_case(name: str) -> None:
    case = STATS_CASES[name]
    for label, got, want in _inputs_and_checks(case):
        if case["function"] in ("relative_weights", "shapley_r2"):
            tol = _tol(case, "weights")
            assert len(got) == len(case["expect"])
            for column, g, w in zip(case["columns"], got, case["expect"], strict=True):
                _close(float(g), w, tol, f"{name} {column}")
            _close(float(sum(got)), case["expect_r2"], tol, f"{name} R²")
        elif isinstance(want, dict):
            for field, value in want.items():
                _close(float(getattr(got, field)), value, _tol(case, field), f"{name} {field}")
        else:
            _close(float(got), float(want), _tol(case, label), f"{name} {label}")
