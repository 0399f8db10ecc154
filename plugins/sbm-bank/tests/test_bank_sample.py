"""The sample wave: deterministic, realistic, rejected exactly where it is meant to be."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from sbm_bank import sample

from sbm_engine.testing import (
    assert_batch_agrees,
    check_sample_command,
    check_seeded,
    score_sample_wave,
)


@pytest.fixture(scope="module")
def wave():
    return sample.generate(300, seed=2026)


@pytest.fixture
def outcomes(branch, wave):
    return score_sample_wave(branch, wave, dict(sample.DEFECTS))


def test_deterministic():
    check_seeded(sample.generate, 120, 5)


def test_shape(wave):
    assert isinstance(wave, list) and len(wave) == 300
    assert len({r["visit_id"] for r in wave}) == 300
    assert len({r["region"] for r in wave}) == 4
    assert len({r["point"] for r in wave}) == 9
    assert len({r["specialist"] for r in wave}) >= 20
    scenarios = Counter(r["scenario"] for r in wave)
    assert set(scenarios) >= {"вклад", "кредит", "карта"}
    assert scenarios["вклад"] > scenarios["кредит"] > 50
    na = sum(1 for r in wave for v in r["answers"].values() if v == "н/п")
    assert na > 150
    assert sum(1 for r in wave if "ticket_issued" in r) > 150
    assert sum(1 for r in wave if "ticket_issued" not in r) > 30
    assert len({r["date"] for r in wave}) >= 20


def test_known_number_of_bad_records(wave):
    assert wave.expected_rejects == sample.bad_count(300) == 6
    assert len(wave.bad_visit_ids) == 6
    assert sorted(wave.defects.values()) == sorted(d for d, _ in sample.DEFECTS)
    assert sample.generate(49, seed=1).expected_rejects == 0
    assert sample.generate(1000, seed=1).expected_rejects == 20


def test_exactly_the_bad_records_are_rejected(wave, outcomes):
    # `outcomes` checks every planted defect and the warnings; here, the count
    assert sum(not o.ok for o in outcomes) == wave.expected_rejects


def test_realistic_levels(outcomes):
    ok = [o for o in outcomes if o.ok]
    visit = statistics.mean(o.coefficients["visit"] for o in ok)
    assert 0.6 < visit < 0.85  # below the target of 0.85, as real networks are
    crit = sum(1 for o in ok if o.critical) / len(ok)
    assert 0.02 < crit < 0.12
    bands = Counter(o.bands["visit"] for o in ok)
    assert set(bands) == {"excellent", "good", "fair", "poor"}
    waits = [o.coefficients["queue_time"] for o in ok]
    assert 4 < statistics.median(waits) < 10
    assert any(w > 15 for w in waits)


def test_rollup_by_point(branch, outcomes):
    report = branch.rollup([o for o in outcomes if o.ok], "point")
    groups = {g["key"]: g for g in report["groups"]}
    assert len(groups) == 9
    for g in groups.values():
        assert g["coefficients"]["visit"]["n"] == g["visits"]
        assert g["growth_zones"]
        assert g["rollups"]["nps"] is not None
        assert 0 <= g["rollups"]["long_waits"] <= 1


def test_the_batch_evaluator_agrees(branch, wave, outcomes):
    assert_batch_agrees(branch, wave, outcomes)


def test_command_line():
    assert "2 bad on purpose" in check_sample_command(sample.main, sample.generate, 100, 7)
