"""The sample wave: deterministic, realistic, and rejected exactly where it is meant to be."""

from __future__ import annotations

import json
import statistics
from collections import Counter

import pytest
from sbm_hotel import sample

EXPECTED_CODES = {
    "unknown_item": "unknown_item",
    "out_of_range": "out_of_range",
    "missing_required": "missing",
    "bad_timestamp": "bad_timestamp",
}


@pytest.fixture(scope="module")
def wave():
    return sample.generate_wave(300, seed=sample.DEFAULT_SEED)


@pytest.fixture
def outcomes(stay, wave):
    return list(stay.score_many(wave.records))


def test_deterministic():
    a = json.dumps(sample.generate(120, seed=5), ensure_ascii=False)
    b = json.dumps(sample.generate(120, seed=5), ensure_ascii=False)
    assert a == b
    assert a != json.dumps(sample.generate(120, seed=6), ensure_ascii=False)
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
    assert sorted(wave.bad.values()) == sorted(EXPECTED_CODES)


def test_the_wave_scores_with_exactly_the_bad_records_rejected(wave, outcomes):
    rejected = {o.visit_id: o for o in outcomes if not o.ok}
    assert set(rejected) == set(wave.bad)
    for vid, kind in wave.bad.items():
        codes = {e.code for e in rejected[vid].errors}
        assert EXPECTED_CODES[kind] in codes, (vid, kind, rejected[vid].errors)
    scored = [o for o in outcomes if o.ok]
    assert len(scored) == 300 - sample.BAD_RECORDS
    # the generator answers exactly the items that apply: no warnings anywhere
    assert [w for o in scored for w in o.warnings] == []


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


def test_main_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "wave.jsonl"
    assert sample.main(["-n", "20", "--seed", "3", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == sample.generate(20, seed=3)
    assert "4 deliberately invalid" in capsys.readouterr().err


def test_too_small_a_wave():
    with pytest.raises(ValueError):
        sample.generate(3)


def test_the_batch_backend_agrees_with_the_per_visit_one(stay, wave, outcomes):
    """The numpy backend calls the batch forms of the timing functions: same results."""
    pytest.importorskip("numpy")
    batch = pytest.importorskip("sbm_engine.batch")
    fast = batch.BatchEvaluator(stay).score_records(wave.records)
    assert [o.to_dict() for o in fast] == [o.to_dict() for o in outcomes]
