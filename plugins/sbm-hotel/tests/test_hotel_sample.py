"""The sample wave: deterministic, realistic, and rejected exactly where it is meant to be."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from sbm_hotel import sample

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
def outcomes(stay, wave):
    return score_sample_wave(stay, wave, dict(sample.DEFECTS))


def test_deterministic():
    check_seeded(sample.generate, 120, 5)
    assert sample.generate() == sample.generate_wave().records


def test_shape(wave):
    records = wave.records
    assert len(records) == 300
    assert len({r["visit_id"] for r in records}) == 300
    assert len({r["region"] for r in records}) >= 5
    assert len({r["point"] for r in records}) == len(sample.HOTELS)
    assert len({r["specialist"] for r in records}) >= 3 * len(sample.HOTELS)
    assert set(Counter(r["scenario"] for r in records)) == {"business", "leisure", "family"}
    assert set(Counter(r["booking_channel"] for r in records)) == {"phone", "website", "ota"}
    na = sum(1 for r in records for v in r["answers"].values() if v == "na")
    assert na > 50  # evaluators do give N/A
    assert sum(1 for r in records if "guest_rating" not in r["answers"]) > 10


def test_bad_records_are_documented(wave):
    assert len(wave.bad) == sample.BAD_RECORDS == 4
    assert sorted(wave.bad.values()) == sorted(kind for kind, _code in sample.DEFECTS)


def test_the_wave_scores_with_exactly_the_bad_records_rejected(outcomes):
    # `outcomes` checks each planted defect and that no scored visit warns (the generator
    # answers exactly the items that apply)
    assert sum(o.ok for o in outcomes) == 300 - sample.BAD_RECORDS


def test_the_wave_looks_like_a_real_one(stay, outcomes):
    scored = [o for o in outcomes if o.ok]
    visit = [o.coefficients["visit"] for o in scored]
    assert 0.7 < statistics.mean(visit) < 0.9
    critical = sum(1 for o in scored if o.critical)
    assert 0.01 * len(scored) < critical < 0.1 * len(scored)
    bands = Counter(o.bands["visit"] for o in scored)
    assert set(bands) == {"excellent", "good", "fair", "poor"}
    timing = [o.coefficients["checkin_minutes"] for o in scored]
    assert 0 < sum(t is None for t in timing) < 0.1 * len(scored)  # a few not recorded
    roll = stay.rollup(scored, "point")
    means = [g["coefficients"]["visit"]["mean"] for g in roll["groups"]]
    assert len(means) == len(sample.HOTELS)
    assert max(means) - min(means) > 0.1  # properties really differ
    network = stay.rollup(scored, "network")["groups"][0]
    assert network["rollups"]["nps"] is not None
    assert network["growth_zones"]


def test_main_writes_jsonl():
    assert "4 deliberately invalid" in check_sample_command(sample.main, sample.generate, 20, 3)


def test_too_small_a_wave():
    with pytest.raises(ValueError):
        sample.generate(3)


def test_the_batch_backend_agrees_with_the_per_visit_one(stay, wave, outcomes):
    """The numpy backend calls the batch forms of the timing functions: same results."""
    assert_batch_agrees(stay, wave, outcomes)
