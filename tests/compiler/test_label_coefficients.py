"""Coefficients whose formula gives a label: typed by the checker, computed alike by
both backends, written under `labels` in every output format, and read back by
`sbm rollup`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.testing import assert_batch_agrees

SOURCE = """standard t.labels {
    version "1"
    scale kano5 { like = 1, must_be = 0.75, neutral = 0.5, live_with = 0.25, dislike = 0 }
    field channel "Канал"
    item f "Функциональный" answer kano5
    item d "Дисфункциональный" answer kano5 optional
    coefficient attractive = if category == "A" then 1 else 0
    coefficient category "Категория" =
        if answer(f) == like and answer(d) == like then "Q"
        else if answer(f) == like and answer(d) == dislike then "O"
        else if answer(f) == like then "A"
        else if answer(d) == dislike then "M"
        else "I"
    coefficient first "Ответ" = answer(f)
    coefficient via = visit.channel
    rollup share_a = 100 * share(category == "A")

    example "like, neutral: attractive" {
        answers { f = like, d = neutral }
        expect category == "A" and attractive == 1
        expect first == like
    }
}
"""
RECORDS = [
    {"visit_id": "1", "channel": "web", "answers": {"f": "like", "d": "neutral"}},
    {"visit_id": "2", "channel": 7, "answers": {"f": "like", "d": "dislike"}},
    {"visit_id": "3", "answers": {"f": "neutral", "d": "na"}},
]


def test_labels_are_computed_alike_and_kept_apart_from_the_numbers() -> None:
    std = sbm_engine.loads(SOURCE)
    assert [c.name for c in std.model.coefficients] == ["attractive"]
    assert [c.name for c in std.model.labels] == ["category", "first", "via"]
    out = assert_batch_agrees(std, RECORDS)
    assert [o.labels["category"] for o in out] == ["A", "O", "I"]
    assert [o.coefficients["attractive"] for o in out] == [1, 0, 0]
    assert out[0].labels["first"] == "like"
    assert [o.labels["via"] for o in out] == [
        "web",
        "7",
        None,
    ]  # a number as the language writes it
    record = out[0].to_dict()
    keys = list(record)
    assert keys.index("labels") == keys.index("bands") + 1  # right after the bands
    assert record["labels"] == {"category": "A", "first": "like", "via": "web"}
    assert std.run_examples()[0].passed


def test_a_standard_without_labels_writes_no_labels_key() -> None:
    std = sbm_engine.loads('standard t.plain {\n    item a "A" answer { y = 1, n = 0 }\n}\n')
    assert (
        "labels"
        not in next(iter(std.score_many([{"visit_id": "1", "answers": {"a": "y"}}]))).to_dict()
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx", ".parquet"])
def test_every_output_format_holds_the_labels_and_rolls_up(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("openpyxl")
    std_path = tmp_path / "t.sbm"
    std_path.write_text(SOURCE, encoding="utf-8")
    visits = tmp_path / "v.jsonl"
    records = [{**r, "channel": "phone"} if r.get("channel") == 7 else r for r in RECORDS]
    visits.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    std = sbm_engine.load(std_path)
    rows: dict[str, Any] = {}
    for engine in ("python", "batch"):
        out = tmp_path / f"{engine}{suffix}"
        summary = std.score_files([visits], out, engine=engine)
        assert summary.scored == 3
        rows[engine] = [r.record for r in sbm_engine.formats.read_visits(out)]
        rolled = std.rollup(_results(out), "network")
        assert rolled["groups"][0]["rollups"]["share_a"] == pytest.approx(100 / 3)
    assert rows["python"] == rows["batch"]


def _results(path: Path) -> list[dict[str, Any]]:
    from sbm_engine.result_files import read_results, unflatten

    out = []
    for _source, record, why in read_results([path]):
        assert why is None
        out.append(record if path.suffix == ".jsonl" else unflatten(record))
    return out


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ("    coefficient c = a > 0.5\n", "E0301", "expected a number"),
        ('    coefficient c = if a > 0.5 then "x" else 1\n', "E0301", ""),
        (
            '    coefficient c = if a > 0.5 then "x" else "y"\n    target c 1\n',
            "E0208",
            "gives a label",
        ),
        (
            '    coefficient c = if a > 0.5 then "x" else "y"\n    bands c { top >= 1, rest }\n',
            "E0208",
            "gives a label",
        ),
        (
            '    coefficient c = if a > 0.5 then "x" else "y"\n    coefficient d = c + 1\n',
            "E0301",
            "",
        ),
    ],
)
def test_diagnostics(tmp_path: Path, body: str, code: str, text: str) -> None:
    path = tmp_path / "t.sbm"
    path.write_text(
        'standard t.d {\n    item a "A" answer { y = 1, n = 0 }\n' + body + "}\n", encoding="utf-8"
    )
    report = check(path)
    assert code in codes(report), codes(report)
    assert text in one(report, code).message


def test_a_label_coefficient_declared_later_is_typed_where_it_is_read() -> None:
    std = sbm_engine.loads(
        "standard t.order {\n"
        '    item a "A" answer { y = 1, n = 0 }\n'
        '    coefficient uses = if later == "yes" then 1 else 0\n'
        '    coefficient later = if a == 1 then "yes" else "no"\n'
        "}\n"
    )
    (out,) = assert_batch_agrees(std, [{"visit_id": "1", "answers": {"a": "y"}}])
    assert out.coefficients["uses"] == 1 and out.labels["later"] == "yes"
    assert [kind for kind, _ in std.model.order] == ["item", "label", "coef"]


def test_a_label_from_a_number_compares_as_its_text_on_both_backends() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    field city "City"\n'
        '    item a "A" answer { y = 1, n = 0 } optional\n'
        "    coefficient lc = visit.city\n"
        '    coefficient five = if lc == "5" then 1 else 0\n}\n'
    )
    out = assert_batch_agrees(
        std, [{"visit_id": "1", "city": 5}, {"visit_id": "2", "city": "5"}, {"visit_id": "3"}]
    )
    assert [o.coefficients["five"] for o in out] == [1, 1, 0]


def test_a_band_condition_reads_answers_no_other_formula_reads() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    item a "A" answer { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }\n'
        '    item q "Q" answer { yes = 1, no = 0 }\n'
        "    coefficient c = a\n"
        "    bands c { hi >= 0 when answer(q) == yes and answer(a) > 3, lo }\n}\n"
    )
    out = assert_batch_agrees(
        std,
        [
            {"visit_id": "1", "answers": {"a": 4, "q": "yes"}},
            {"visit_id": "2", "answers": {"a": 2, "q": "yes"}},
        ],
    )
    assert [o.bands["c"] for o in out] == ["hi", "lo"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".xlsx"])
def test_results_whose_coefficients_are_all_labels_roll_up(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("openpyxl")
    std = sbm_engine.loads(
        'standard t.only {\n    version "1"\n    item a "A" answer { y = 1, n = 0 }\n'
        '    coefficient c = if a == 1 then "yes" else "no"\n'
        '    rollup yes = share(c == "yes")\n}\n'
    )
    visits = tmp_path / "v.jsonl"
    visits.write_text('{"visit_id": "1", "answers": {"a": "y"}}\n', encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    std.score_files([visits], out)
    assert std.rollup(_results(out), "network")["groups"][0]["rollups"]["yes"] == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_band_or_label_called_true_stays_text_in_tables(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("openpyxl")
    std = sbm_engine.loads(
        'standard t.words {\n    version "1"\n    item a "A" answer { y = 1, n = 0 }\n'
        "    coefficient c = a\n    bands c { true >= 0.5, false }\n"
        '    coefficient l = if a == 1 then "true" else "false"\n}\n'
    )
    visits = tmp_path / "v.jsonl"
    visits.write_text('{"visit_id": "1", "answers": {"a": "y"}}\n', encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    std.score_files([visits], out)
    (record,) = _results(out)
    assert record["bands"] == {"c": "true"} and record["labels"] == {"l": "true"}
    rolled = std.rollup([record], "network")["groups"][0]
    assert rolled["coefficients"]["c"]["mean"] == 1


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ('mode(c, "yes", 1)', "E0301"),  # a number is no label
        ('mode(c, "yes", a)', "E0301"),  # an item's name is no label
        ("mode(answer(a), y, maybe)", "E0207"),  # not a label of the item's scale
    ],
)
def test_mode_of_labels_diagnostics(tmp_path: Path, formula: str, code: str) -> None:
    path = tmp_path / "t.sbm"
    path.write_text(
        'standard t.m {\n    item a "A" answer { y = 1, n = 0 }\n'
        '    coefficient c = if a == 1 then "yes" else "no"\n'
        f"    rollup r = {formula}\n}}\n",
        encoding="utf-8",
    )
    assert code in codes(check(path))


def test_mode_of_labels_over_a_group() -> None:
    std = sbm_engine.loads(
        'standard t.m {\n    version "1"\n    item a "A" answer { y = 1, n = 0 }\n'
        '    coefficient c = if a == 1 then "yes" else "no"\n'
        '    rollup most = mode(c, "no", "yes")\n'
        "    rollup tie_first = mode(answer(a), y, n)\n}\n"
    )
    answers = ["y", "n", "y", "n"]
    records = [{"visit_id": str(k), "answers": {"a": x}} for k, x in enumerate(answers)]
    rolled = std.rollup([o.to_dict() for o in std.score_many(records)], "network")
    assert rolled["groups"][0]["rollups"] == {"most": "no", "tie_first": "y"}
