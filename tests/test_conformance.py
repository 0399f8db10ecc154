"""The spec's conformance cases (tests/conformance/, copied unchanged): what correct means."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sbm_engine

HERE = Path(__file__).parent / "conformance"
TOL = 1e-9


def _lines(name: str) -> list[dict]:
    return [
        json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line
    ]


@pytest.fixture(scope="module")
def standard() -> sbm_engine.CompiledStandard:
    return sbm_engine.load(HERE / "demo_branch.sbm")


@pytest.fixture(scope="module")
def outcomes(standard):
    return list(standard.score_many(_lines("demo_visits.jsonl")))


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TOL


def _assert_map(got: dict, want: dict, what: str) -> None:
    assert set(got) >= set(want), f"{what}: missing {set(want) - set(got)}"
    for key, value in want.items():
        assert _close(got[key], value), f"{what}.{key}: got {got[key]!r}, want {value!r}"


@pytest.mark.parametrize("index", range(12))
def test_each_visit_matches_the_expected_result(outcomes, index):
    want = _lines("demo_expected.jsonl")[index]
    got = outcomes[index]
    assert got.visit_id == want["visit_id"]
    if want["status"] == "rejected":
        assert not got.ok, f"{want['visit_id']} should be rejected"
        assert {e.item for e in got.errors} == set(want["errors_on"])
        return
    assert got.ok, f"{want['visit_id']} rejected: {got.errors if not got.ok else ''}"
    assert got.point == want["point"] and got.specialist == want["specialist"]
    _assert_map(dict(got.coefficients), want["coefficients"], "coefficients")
    _assert_map(dict(got.sections), want["sections"], "sections")
    _assert_map(dict(got.items), want["items"], "items")
    assert dict(got.bands) == want["band"]
    _assert_map(dict(got.gaps), want["gap"], "gaps")
    assert got.critical_failed is want["critical_failed"]
    assert sorted(w.item for w in got.warnings) == sorted(want["warnings_on"])


def test_every_input_ends_in_exactly_one_outcome(outcomes):
    assert len(outcomes) == len(_lines("demo_visits.jsonl"))


def test_examples_in_the_standard_pass(standard):
    results = standard.run_examples()
    assert [r.name for r in results] == ["a flawless visit", "a breach of secrecy fails the visit"]
    assert all(r.passed for r in results), [r.failures for r in results]


@pytest.mark.parametrize("level", ["point", "specialist"])
def test_rollup_matches_the_expected_figures(standard, outcomes, level):
    want = json.loads((HERE / "demo_rollup.json").read_text(encoding="utf-8"))[level]
    report = standard.rollup([o for o in outcomes if o.ok], by=level)
    groups = {g["key"]: g for g in report["groups"]}
    assert set(groups) == set(want)
    for key, exp in want.items():
        got = groups[key]
        assert got["visits"] == exp["visits"]
        for coef, mean in exp["coefficients"].items():
            assert _close(got["coefficients"][coef]["mean"], mean), (key, coef)
        for name, value in exp["rollups"].items():
            assert _close(got["rollups"][name], value), (key, name)
        for coef, share in exp["share_meeting_target"].items():
            assert _close(got["coefficients"][coef]["meets_share"], share)
        for coef, gap in exp["gap"].items():
            assert _close(got["coefficients"][coef]["gap"], gap)
        zones = {z["item"]: z["lost_share"] for z in got["growth_zones"]}
        for item, share in exp["lost_share"].items():
            if share > 0:
                assert _close(zones.get(item), share), (key, item)
            else:
                assert item not in zones, (key, item)
        # ties may come in any order: compare the sequence of shares, then the sets
        assert [round(zones[i], 12) for i in exp["growth_zones"]] == [
            round(z["lost_share"], 12) for z in got["growth_zones"]
        ]
        assert set(exp["growth_zones"]) == set(zones)
