"""Computed items (`value = EXPR`): worked out per visit, scored like answered ones,
never answered by the visit, alike on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.formatter import format_source
from sbm_engine.testing import assert_batch_agrees

SOURCE = """standard t.computed {
    item arrived "Arrived" answer number
    item served "Served" answer number
    section service "Service" {
        item greeted "Greeted" answer { yes = 1, no = 0 }
        item queue "Queue, minutes" answer number 0..60
            value = answer(served) - answer(arrived)
            score = if value <= 5 then 1 else if value <= 15 then 0.5 else 0
    }
    item doubled "Twice the queue" answer number 0..200 value = 2 * answer(queue)
        when answer(queue) > 0
    coefficient overall = weighted_mean(items)
}
"""


def _outcomes(records: list[dict[str, Any]]) -> list[Any]:
    return assert_batch_agrees(sbm_engine.loads(SOURCE), records)


def test_a_computed_item_is_scored_and_counts_in_its_section() -> None:
    (out,) = _outcomes(
        [{"visit_id": "1", "answers": {"greeted": "yes", "arrived": 10, "served": 18}}]
    )
    assert out.ok
    assert out.items["queue"] == 0.5
    assert out.items["doubled"] == 0.08  # (16 − 0) / 200
    assert out.sections["service"] == 0.75


def test_na_where_the_formula_is_na_and_not_applicable_where_its_condition_fails() -> None:
    out = _outcomes(
        [
            {"visit_id": "1", "answers": {"greeted": "yes", "arrived": None, "served": 18}},
            {"visit_id": "2", "answers": {"greeted": "yes", "arrived": 5, "served": 5}},
        ]
    )
    assert out[0].items["queue"] is None and out[0].items["doubled"] is None
    assert out[1].items["queue"] == 1 and out[1].items["doubled"] is None  # 0 minutes: no `when`


def test_a_value_outside_the_range_or_an_answer_to_it_rejects_the_visit() -> None:
    out = _outcomes(
        [
            {"visit_id": "1", "answers": {"greeted": "no", "arrived": 0, "served": 61}},
            {"visit_id": "2", "answers": {"greeted": "no", "arrived": 0, "served": 1, "queue": 1}},
        ]
    )
    assert [e.code for e in out[0].errors] == ["out_of_range"]
    assert [(e.item, e.code) for e in out[1].errors] == [("queue", "unknown_item")]
    assert "computed" in out[1].errors[0].message


def test_only_a_number_item_can_be_computed(tmp_path: Path) -> None:
    path = tmp_path / "t.sbm"
    path.write_text(
        'standard t.t {\n    item a "A" answer { y = 1, n = 0 } value = 1\n}\n', encoding="utf-8"
    )
    report = check(path)
    assert "E0104" in codes(report)
    assert "only a number item" in one(report, "E0104").message


def test_a_computed_item_in_a_cycle_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.sbm"
    path.write_text(
        "standard t.t {\n"
        '    item a "A" answer number 0..10 value = answer(b)\n'
        '    item b "B" answer number 0..10 value = answer(a)\n}\n',
        encoding="utf-8",
    )
    assert "E0401" in codes(check(path))


def test_fmt_keeps_the_value_and_the_export_leaves_it_out_of_the_answers() -> None:
    out = format_source(SOURCE, "t.sbm")
    assert format_source(out, "t.sbm") == out
    assert "value = answer(served) - answer(arrived)" in out
    from sbm_engine.export import json_schema, questionnaire

    model = sbm_engine.loads(SOURCE).model
    answers = json_schema(model)["properties"]["answers"]["properties"]
    assert "queue" not in answers and "greeted" in answers
    items = questionnaire(model)["sections"][0]["items"]
    assert [i.get("value") for i in items] == [None, "answer(served) - answer(arrived)"]


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_a_table_without_a_column_for_it_scores(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("pyarrow")
    src = tmp_path / "v.csv"
    src.write_text("visit_id,greeted,arrived,served\n1,yes,10,13\n2,no,10,30\n", encoding="utf-8")
    std_path = tmp_path / "t.sbm"
    std_path.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = sbm_engine.load(std_path).score_files([src], out, engine=engine)
    assert summary.scored == 2
    assert '"queue": 1.0' in out.read_text(encoding="utf-8")


def test_a_computed_item_is_neither_required_nor_optional(tmp_path: Path) -> None:
    path = tmp_path / "t.sbm"
    path.write_text(
        'standard t.t {\n    item a "A" answer number\n'
        '    item q "Q" answer number 0..10 required value = answer(a)\n}\n',
        encoding="utf-8",
    )
    report = check(path)
    assert "cannot be `required`" in one(report, "E0104").message


@pytest.mark.parametrize(
    "read",
    [
        "value = answer(a) * 2",  # read only by a computed value
        "value = if answer(b) == yes then 7 else 2",  # a label, read only there
    ],
)
def test_an_item_read_only_by_a_computed_value_keeps_its_answer(read: str) -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    item a "A" answer { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }\n'
        '    item b "B" answer { yes = 1, no = 0 }\n'
        f'    item d "D" answer number 0..10 {read}\n'
        "}\n"
    )
    (out,) = assert_batch_agrees(std, [{"visit_id": "1", "answers": {"a": 4, "b": "yes"}}])
    assert out.items["d"] in (0.8, 0.7)


def test_a_computed_negative_zero_is_written_as_zero() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    item z "Z" answer number\n'
        '    item q "Q" answer number -5..5 value = answer(z) * -1\n'
        "    coefficient a = answer(q)\n}\n"
    )
    from sbm_engine.batch import BatchEvaluator

    records = [{"visit_id": "1", "answers": {"z": 0}}]
    (slow,) = assert_batch_agrees(std, records)
    (fast,) = BatchEvaluator(std).score_records(records)
    assert str(slow.coefficients["a"]) == str(fast.coefficients["a"]) == "0.0"  # == misses -0.0
