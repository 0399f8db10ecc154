"""The restaurant sample wave: deterministic, realistic, rejected exactly where meant to be."""

from __future__ import annotations

import json
import statistics
from collections import Counter

import pytest
from sbm_restaurant import plugin, sample

EXPECTED_CODES = {
    "unknown_item": "unknown_item",
    "out_of_range": "out_of_range",
    "missing_required": "missing",
    "duplicate_visit": "duplicate_visit",
}


@pytest.fixture(autouse=True)
def only_this_pack(sbm_plugin_manager):
    return sbm_plugin_manager(restaurant=plugin)


@pytest.fixture(scope="module")
def wave():
    return sample.generate_wave(300, seed=sample.DEFAULT_SEED)


@pytest.fixture
def outcomes(sbm_score, wave):
    return sbm_score("restaurant.service", wave.records)


def test_deterministic():
    a = json.dumps(sample.generate(100, seed=11), ensure_ascii=False)
    assert a == json.dumps(sample.generate(100, seed=11), ensure_ascii=False)
    assert a != json.dumps(sample.generate(100, seed=12), ensure_ascii=False)
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
    assert sorted(wave.bad.values()) == sorted(EXPECTED_CODES)


def test_the_wave_scores_with_exactly_the_bad_records_rejected(wave, outcomes):
    assert len(outcomes) == 300
    rejected = [o for o in outcomes if not o.ok]
    assert len(rejected) == sample.BAD_RECORDS
    assert {o.visit_id for o in rejected} == set(wave.bad)
    for o in rejected:
        codes = {e.code for e in o.errors}
        assert EXPECTED_CODES[wave.bad[o.visit_id]] in codes, o.errors
    scored = [o for o in outcomes if o.ok]
    assert len(scored) == 300 - sample.BAD_RECORDS
    assert [w for o in scored for w in o.warnings] == []


def test_the_wave_looks_like_a_real_one(sbm_standard, outcomes):
    std = sbm_standard("restaurant.service")
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
    assert not all(z.startswith("y_") for z in zones)  # penalty weights do not swamp service
    minutes = [g["rollups"]["avg_main_minutes"] for g in roll["groups"]]
    assert all(10 < m < 30 for m in minutes)


def test_main_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "wave.jsonl"
    assert sample.main(["-n", "25", "--seed", "4", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == sample.generate(25, seed=4)
    assert "4 deliberately invalid" in capsys.readouterr().err


def test_small_waves():
    assert len(sample.generate_wave(5, seed=1).bad) == 4
    with pytest.raises(ValueError):
        sample.generate(4)


def test_the_batch_backend_agrees_with_the_per_visit_one(sbm_standard, wave, outcomes):
    """The numpy backend calls the batch forms of the penalty functions: same results."""
    pytest.importorskip("numpy")
    batch = pytest.importorskip("sbm_engine.batch")
    fast = batch.BatchEvaluator(sbm_standard("restaurant.service")).score_records(wave.records)
    assert [o.to_dict() for o in fast] == [o.to_dict() for o in outcomes]
