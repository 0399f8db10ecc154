"""History across visits (`previous`, `has_previous`, `repeated`) on both backends.

Differential: random standards that read previous visits (tests/strategies.py,
`standards(history=True)`) and several visits per point, scored by
`CompiledStandard.score_many` and by `BatchEvaluator.score_records` in chunks of any
size, give the same outcomes; the outcome of a visit does not depend on the order
the visits come in; the reference interpreter agrees with the compiled code given
the same previous visit. Then the rules one by one.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.batch import BatchEvaluator
from sbm_engine.history import History
from sbm_engine.interpret import Interpreter

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from strategies import standards, visits
from test_batch import _load, assert_all_same, assert_same

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(data=st.data())
def test_history_standards_agree_on_both_backends(data):
    spec = data.draw(standards(history=True))
    std = _load(spec.text)
    assert std.uses_history
    records = data.draw(visits(spec, max_size=30))
    chunk = data.draw(st.sampled_from([1, 2, 5, 1 << 15]))
    want = list(std.score_many(records))
    ev = BatchEvaluator(std, chunk_size=chunk)
    ev.history_rows = 0  # every generation a batch, however small
    got = ev.score_records(records)
    assert_all_same(want, got)
    for a, b in zip(want, got, strict=True):
        if a.ok:
            assert dict(a.labels) == dict(b.labels)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_outcomes_do_not_depend_on_the_order_of_the_visits(data, seed):
    """Shuffled (distinct visit_ids: which of two equal ids is the duplicate does
    depend on the order), every visit gets the same outcome, on both backends."""
    spec = data.draw(standards(history=True))
    std = _load(spec.text)
    records = [r for r in data.draw(visits(spec, max_size=30)) if isinstance(r, dict)]
    for i, r in enumerate(records):
        r["visit_id"] = f"v{i}"
    shuffled = list(range(len(records)))
    random.Random(seed).shuffle(shuffled)
    want = list(std.score_many(records))
    again = list(std.score_many([records[i] for i in shuffled]))
    ev = BatchEvaluator(std, chunk_size=3)
    ev.history_rows = 0
    batch = ev.score_records([records[i] for i in shuffled])
    for k, i in enumerate(shuffled):
        assert_same(want[i], again[k])
        assert_same(want[i], batch[k])


@SETTINGS
@given(data=st.data())
def test_the_interpreter_agrees_given_the_same_previous_visit(data):
    spec = data.draw(standards(history=True))
    std = _load(spec.text)
    interp = Interpreter(std.model, std.functions)
    records = [r for r in data.draw(visits(spec, max_size=12)) if isinstance(r, dict)]
    previous = None
    for record in records:
        out = std.score(record, previous=previous)
        if not out.ok:
            continue
        env, errs, _, _ = interp.visit(record, std.history_reader.of(previous))
        assert errs == []
        for name, value in out.coefficients.items():
            got = env.coefs[name]
            assert value == got or abs(value - got) <= 1e-12 * max(1.0, abs(value)), name
        previous = out


STANDARD = """
standard demo.history {
    scale yn { yes = 1, no = 0 }
    section hygiene "Hygiene" {
        item hands "Hands washed" answer yn tags violation
        item fridge "Fridge at 5 °C" answer yn tags violation
    }
    item floor "Floor clean" answer yn
    coefficient total = weighted_mean(items)
    coefficient was = previous(total)
    coefficient hygiene_was = previous(hygiene)
    coefficient hands_was = previous(hands)
    coefficient again = repeated(tagged violation)
    coefficient again_listed = repeated(hands, floor)
    coefficient visits_before = if has_previous() then previous(visits_before) + 1 else 0
    coefficient grade = if total == 1 then "A"
        else if previous(grade) == "C" or previous(grade) == "B" then "C" else "B"
}
"""


@pytest.fixture(scope="module")
def std():
    return sbm_engine.loads(STANDARD, "history.sbm")


def _visit(vid: str, point: Any, date: Any, hands: str, fridge: str, floor: str) -> dict:
    record: dict[str, Any] = {"visit_id": vid, "answers": {"hands": hands, "fridge": fridge}}
    record["answers"]["floor"] = floor
    if point is not None:
        record["point"] = point
    if date is not None:
        record["date"] = date
    return record


def _both(std: Any, records: list[dict], history: History | None = None) -> list[Any]:
    want = list(std.score_many(records, history=history))
    ev = BatchEvaluator(std, chunk_size=2)
    ev.history_rows = 0
    got = ev.score_records(records, history=history)
    assert_all_same(want, got)
    return want


def test_previous_values_come_from_the_previous_visit_of_the_point(std):
    out = _both(
        std,
        [
            _visit("v2", "P1", "2026-02-01", "no", "yes", "no"),
            _visit("v1", "P1", "2026-01-01", "no", "no", "yes"),
            _visit("w1", "P2", "2026-01-15", "yes", "yes", "yes"),
        ],
    )
    second, first, other = out
    assert first.coefficients["was"] is None and first.coefficients["visits_before"] == 0
    assert second.coefficients["was"] == pytest.approx(1 / 3)
    assert second.coefficients["hygiene_was"] == 0.0 and second.coefficients["hands_was"] == 0.0
    assert second.coefficients["again"] == 1  # hands lost points at both visits, fridge not
    assert second.coefficients["again_listed"] == 1  # hands again; floor lost only now
    assert second.coefficients["visits_before"] == 1
    assert (first.labels["grade"], second.labels["grade"]) == ("B", "C")
    assert other.coefficients["was"] is None and other.labels["grade"] == "A"


def test_order_is_date_then_visit_id_as_texts(std):
    records = [
        _visit("b", "P1", "2026-01-01", "no", "no", "no"),
        _visit("a", "P1", "2026-01-01", "yes", "yes", "yes"),
        _visit("c", "P1", None, "yes", "no", "yes"),  # no date: first of all
    ]
    b, a, c = _both(std, records)
    assert c.coefficients["visits_before"] == 0
    assert a.coefficients["visits_before"] == 1 and a.coefficients["was"] == pytest.approx(2 / 3)
    assert b.coefficients["visits_before"] == 2 and b.coefficients["was"] == 1.0


def test_no_point_no_previous_and_rejected_visits_are_nobodys_previous(std):
    records = [
        _visit("v1", "P1", "2026-01-01", "no", "no", "no"),
        _visit("v2", "P1", "2026-01-02", "maybe", "no", "no"),  # rejected
        _visit("v3", "P1", "2026-01-03", "yes", "no", "no"),
        _visit("x1", None, "2026-01-04", "yes", "no", "no"),
        _visit("x2", "", "2026-01-05", "yes", "no", "no"),
        _visit("v1", "P1", "2026-01-06", "yes", "yes", "yes"),  # a duplicate: rejected
        _visit("v4", "P1", "2026-01-07", "yes", "yes", "yes"),
    ]
    _v1, v2, v3, x1, x2, dup, v4 = _both(std, records)
    assert not v2.ok and not dup.ok and dup.errors[0].code == "duplicate_visit"
    assert v3.coefficients["visits_before"] == 1 and v3.coefficients["was"] == 0.0
    assert x1.coefficients["visits_before"] == 0 and x2.coefficients["visits_before"] == 0
    assert v4.coefficients["visits_before"] == 2


def test_earlier_results_are_read_as_previous_visits(std):
    earlier = list(
        std.score_many(
            [
                _visit("old1", "P1", "2025-11-01", "no", "no", "no"),
                _visit("old2", "P1", "2025-12-01", "no", "yes", "no"),
                _visit("late", "P1", "2026-05-01", "yes", "yes", "yes"),  # after: not read
            ]
        )
    )
    history = History()
    for result in earlier:
        history.add(result.to_dict())  # the dict form, as read from a results file
    (now,) = _both(std, [_visit("new", "P1", "2026-01-01", "no", "no", "no")], history)
    assert now.coefficients["visits_before"] == 2
    assert now.coefficients["was"] == pytest.approx(1 / 3) and now.coefficients["again"] == 1
    assert now.labels["grade"] == "C"
    # a visit scored with it is newer than any earlier result before it
    _new, newer = _both(
        std,
        [
            _visit("new", "P1", "2026-01-01", "yes", "yes", "yes"),
            _visit("newer", "P1", "2026-02-01", "no", "yes", "yes"),
        ],
        history,
    )
    assert newer.coefficients["visits_before"] == 3 and newer.coefficients["was"] == 1.0


def test_score_takes_the_previous_result_or_its_dict(std):
    first = std.score(_visit("v1", "P1", "2026-01-01", "no", "no", "yes"))
    visit = _visit("v2", "P1", "2026-02-01", "no", "yes", "yes")
    by_object = std.score(visit, previous=first)
    by_dict = std.score(visit, previous=first.to_dict())
    assert by_object == by_dict
    assert by_object.coefficients["was"] == pytest.approx(1 / 3)
    assert std.score(visit).coefficients["was"] is None
    with pytest.raises(TypeError):
        std.score(visit, previous=42)


def test_a_rejected_visit_is_read_as_no_previous_visit(std):
    rejected = std.score(_visit("v1", "P1", "2026-01-01", "maybe", "no", "yes"))
    assert not rejected.ok
    visit = _visit("v2", "P1", "2026-02-01", "no", "yes", "yes")
    alone = std.score(visit)
    assert alone.coefficients["visits_before"] == 0  # has_previous() is false
    assert std.score(visit, previous=rejected) == alone
    assert std.score(visit, previous=rejected.to_dict()) == alone
    history = History()
    history.add(rejected)
    history.add(rejected.to_dict())
    assert len(history) == 0
    (out,) = _both(std, [visit], history)
    assert out == alone


def test_an_earlier_result_of_a_visit_scored_again_is_left_out(std):
    earlier = std.score_many(
        [
            _visit("v1", "P1", "2026-01-01", "no", "no", "no"),
            _visit("v2", "P1", "2026-02-01", "yes", "yes", "yes"),
        ]
    )
    history = History()
    for result in earlier:
        history.add(result.to_dict())
    # v2 corrected and moved later: its previous visit is v1, not its own old result
    (again,) = _both(std, [_visit("v2", "P1", "2026-03-01", "no", "yes", "yes")], history)
    assert again.coefficients["visits_before"] == 1 and again.coefficients["was"] == 0.0
    # a new visit still reads the newest earlier result
    (new,) = _both(std, [_visit("v3", "P1", "2026-03-01", "no", "yes", "yes")], history)
    assert new.coefficients["visits_before"] == 2 and new.coefficients["was"] == 1.0


def test_a_standard_without_history_ignores_previous():
    plain = sbm_engine.loads(
        'standard demo.plain { item a "A" answer { yes = 1, no = 0 } }', "plain.sbm"
    )
    assert not plain.uses_history and plain.history_reader is None
    one = plain.score({"visit_id": "1", "answers": {"a": "yes"}})
    assert plain.score({"visit_id": "2", "answers": {"a": "no"}}, previous=one).ok


def test_a_standard_with_history_is_not_scored_batch_by_batch(std):
    pa = pytest.importorskip("pyarrow")
    from sbm_engine.pipeline import Unsupported

    table = pa.table({"visit_id": ["1"], "hands": ["yes"], "fridge": ["no"], "floor": ["yes"]})
    with pytest.raises(Unsupported, match="history"):
        next(iter(std.score_batches(table)))


def test_a_table_of_a_standard_with_history_is_refused(std):
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"visit_id": ["1"], "hands": ["yes"], "fridge": ["no"], "floor": ["yes"]})
    with pytest.raises(ValueError, match="history"):
        std.score_table(table)


def test_score_files_reads_earlier_results(std, tmp_path):
    import json

    history = History()
    history.add(std.score(_visit("old", "P1", "2026-01-01", "no", "no", "no")).to_dict())
    wave = tmp_path / "wave.jsonl"
    wave.write_text(json.dumps(_visit("new", "P1", "2026-02-01", "no", "yes", "yes")) + "\n")
    out = tmp_path / "out.jsonl"
    counts = std.score_files([wave], out, history=history)
    assert (counts.read, counts.scored) == (1, 1)
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["coefficients"]["visits_before"] == 1 and row["coefficients"]["again"] == 1
