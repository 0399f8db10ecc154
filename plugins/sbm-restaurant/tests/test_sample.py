"""The restaurant sample wave: deterministic, realistic, rejected exactly where meant to be."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from sbm_restaurant import sample

from sbm_engine.testing import (
    assert_batch_agrees,
    check_sample_command,
    check_seeded,
    score_sample_wave,
)


@pytest.fixture(scope="module")
def wave():
    return sample.generate_wave(300, seed=sample.DEFAULT_SEED)


@pytest.fixture
def outcomes(service, wave):
    return score_sample_wave(service, wave, dict(sample.DEFECTS))


def test_deterministic():
    check_seeded(sample.generate, 100, 11)
    assert sample.generate() == sample.generate_wave().records


def test_shape(wave):
    records = wave.records
    assert len(records) == 300
    assert len({r["visit_id"] for r in records}) == 299  # one deliberate duplicate
    assert len({r["region"] for r in records}) == 5
    assert len({r["point"] for r in records}) == len(sample.RESTAURANTS)
    assert len({r["specialist"] for r in records}) >= 4 * len(sample.RESTAURANTS)
    assert set(Counter(r["scenario"] for r in records)) == {"lunch", "dinner", "family"}
    assert 0.15 < sum(r["allergen_test"] == "yes" for r in records) / 300 < 0.35
    assert sum(1 for r in records for v in r["answers"].values() if v == "н/п") > 30
    assert sum(1 for r in records if "s_starter_time" not in r["answers"]) > 30


def test_bad_records_are_documented(wave):
    assert len(wave.bad) == sample.BAD_RECORDS == 4
    assert sorted(wave.bad.values()) == sorted(kind for kind, _code in sample.DEFECTS)


def test_the_wave_scores_with_exactly_the_bad_records_rejected(outcomes):
    # `outcomes` checks each planted defect and that no scored visit warns
    assert len(outcomes) == 300
    assert sum(o.ok for o in outcomes) == 300 - sample.BAD_RECORDS


def test_the_wave_looks_like_a_real_one(service, outcomes):
    std = service
    scored = [o for o in outcomes if o.ok]
    assert 0.65 < statistics.mean(o.coefficients["visit"] for o in scored) < 0.9
    critical = Counter(name for o in scored for name in o.critical)
    assert 0.03 * len(scored) < sum(1 for o in scored if o.critical) < 0.15 * len(scored)
    assert {"p_receipt", "m_allergens"} <= set(critical)  # not only hygiene fails
    status = Counter(o.bands["hygiene_status"] for o in scored)
    assert status["satisfactory"] > 0.8 * len(scored) and status["unsatisfactory"] > 0
    roll = std.rollup(scored, "point")
    means = [g["coefficients"]["visit"]["mean"] for g in roll["groups"]]
    assert len(means) == len(sample.RESTAURANTS)
    assert max(means) - min(means) > 0.1
    zones = [z["item"] for g in roll["groups"] for z in g["growth_zones"][:3]]
    assert not all(z.startswith("y_") for z in zones)  # hygiene weights do not swamp service
    minutes = [g["rollups"]["avg_main_minutes"] for g in roll["groups"]]
    assert all(10 < m < 30 for m in minutes)


def test_main_writes_jsonl():
    assert "4 deliberately invalid" in check_sample_command(sample.main, sample.generate, 25, 4)


def test_small_waves():
    assert len(sample.generate_wave(5, seed=1).bad) == 4
    with pytest.raises(ValueError):
        sample.generate(4)


def test_the_batch_backend_agrees_with_the_per_visit_one(service, wave, outcomes):
    """The numpy backend calls the batch forms of the penalty functions: same results."""
    assert_batch_agrees(service, wave, outcomes)
