"""Multi-select items (`answer any of SCALE`): what an answer may look like, how it is
scored, what formulas read of it and what the checker says, on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.formatter import format_source
from sbm_engine.interpret import Interpreter
from sbm_engine.testing import assert_batch_agrees

SOURCE = """standard t.multi {
    scale found_scale penalty { rodents = 5, dirty = 2.5, soap = 0.1, none = 0 }
    scale feats { wifi = 0.5, tv = 0.25, bar = 0.25 alias minibar "мини-бар" }
    item found "Нарушения" answer any of found_scale tags m critical
    item feats_of "Удобства" answer any of feats optional tags m
    item sizes "Размеры" answer any of { 1 = 1, 2 = 2, 3 = 0.2 } optional tags m
    coefficient demerits = points(found)
    coefficient most = max_points(tagged m)
    coefficient all_points = points(tagged m)
    coefficient rodents_seen = if selected(found, rodents) then 1 else 0
    coefficient has_bar = if selected(feats_of, "МИНИ-БАР") then 1 else 0
    coefficient how_many = selected_count(feats_of)
}
"""


def _score(records: list[dict[str, Any]], source: str = SOURCE) -> list[Any]:
    return assert_batch_agrees(sbm_engine.loads(source), records)


def _one(answers: dict[str, Any], source: str = SOURCE) -> Any:
    (out,) = _score([{"visit_id": "v", "answers": answers}], source)
    return out


def _check(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "t.sbm"
    path.write_text(text, encoding="utf-8")
    return check(path)


# ---- scores and points -----------------------------------------------------------------------


def test_a_penalty_checklist_scores_what_the_points_found_leave_of_the_most() -> None:
    out = _one({"found": ["rodents", "soap"], "feats_of": [], "sizes": "[]"})
    assert out.ok, out.errors
    assert out.coefficients["demerits"] == 5.1  # 5 + 0.1, exactly as written
    assert out.items["found"] == (7.6 - 5.1) / 7.6
    assert out.coefficients["rodents_seen"] == 1
    assert out.items["feats_of"] == 0.0 and out.coefficients["how_many"] == 0


def test_plain_and_inline_scales_score_the_points_chosen_over_the_sum_of_the_positive() -> None:
    out = _one({"found": "[]", "feats_of": "wifi; Minibar", "sizes": [1, "3"]})
    assert out.items["found"] == 1.0  # nothing found
    assert out.items["feats_of"] == 0.75
    assert out.items["sizes"] == 1.2 / 3.2
    assert out.coefficients["all_points"] == 0 + 0.75 + 1.2
    assert out.coefficients["most"] == 7.6 + 1 + 3.2
    assert out.coefficients["has_bar"] == 1 and out.coefficients["how_many"] == 2


def test_decimal_points_add_up_exactly() -> None:
    source = """standard t.exact {
    item q "Q" answer any of { a = 0.1, b = 0.2, c = 0.7 }
    coefficient p = points(q)
    coefficient at_most = if points(q) <= 0.3 then 1 else 0
}
"""
    out = _one({"q": ["a", "b"]}, source)
    assert out.coefficients["p"] == 0.3 and out.coefficients["at_most"] == 1
    assert out.items["q"] == 0.3 / 1.0
    assert sbm_engine.loads(source).model.item("q").scale.options_max == 1.0


def test_every_option_found_fails_a_critical_penalty_checklist() -> None:
    out = _one({"found": ["rodents", "dirty", "soap", "none"]})
    assert out.items["found"] == 0.0 and out.critical == ("found",)


def test_max_points_leaves_out_items_not_answered() -> None:
    out = _one({"found": "soap", "feats_of": "na"})  # sizes left out: optional
    assert out.items["feats_of"] is None and out.items["sizes"] is None
    assert out.coefficients["most"] == 7.6
    assert out.coefficients["all_points"] == 0.1
    assert out.coefficients["how_many"] is None  # not answered: N/A


# ---- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        ["tv", "wifi"],
        "wifi;tv",
        "  WIFI ;  tv  ",
        ["Wifi", "TV"],
        ("tv", "wifi"),  # from the API: a tuple or a set, as a list
        {"tv", "wifi"},
        frozenset({"tv", "WIFI"}),
    ],
)
def test_a_set_is_a_list_or_a_text_with_semicolons_in_any_case(answer: Any) -> None:
    out = _one({"found": "[]", "feats_of": answer})
    assert out.items["feats_of"] == 0.75


@pytest.mark.parametrize("answer", ["[]", "[ ]", " [  ] ", []])
def test_only_an_empty_list_is_nothing_chosen(answer: Any) -> None:
    out = _one({"found": answer, "feats_of": answer})
    assert out.ok, out.errors
    assert out.items["feats_of"] == 0.0 and out.coefficients["how_many"] == 0


def test_numeric_labels_match_numbers_and_texts() -> None:
    out = _one({"found": [], "sizes": [2, 1.0]})
    assert out.items["sizes"] == 3 / 3.2
    assert _one({"found": [], "sizes": "2"}).items["sizes"] == 2 / 3.2
    assert _one({"found": [], "sizes": 3}).items["sizes"] == 0.2 / 3.2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (["wifi", "zzz"], 'answer "zzz" is not on the scale of `feats_of` (wifi, tv, bar)'),
        ("wifi; tvv", 'answer "tvv" is not on the scale of `feats_of`'),
        (["wifi", "WiFi"], "label `wifi` is chosen twice in the answer to `feats_of`"),
        (["bar", "minibar"], "label `bar` is chosen twice"),
        ([["wifi"]], "is not on the scale of `feats_of`"),
        ({"wifi": True}, 'answer {"wifi": true} is not on the scale of `feats_of`'),
        ([None], "answer null is not on the scale of `feats_of`"),
        ({"zzz"}, 'answer "zzz" is not on the scale of `feats_of`'),
        # a text with an empty label is garbled, not "nothing chosen"
        (";", 'answer ";" is not on the scale of `feats_of`'),
        (" ; ; ", 'answer " ; ; " is not on the scale of `feats_of`'),
        ("tv; wifi;", 'answer "tv; wifi;" is not on the scale of `feats_of`'),
        ("tv;;wifi", 'answer "tv;;wifi" is not on the scale of `feats_of`'),
        (";tv", 'answer ";tv" is not on the scale of `feats_of`'),
    ],
)
def test_an_unknown_label_or_one_chosen_twice_rejects_the_visit(answer: Any, message: str) -> None:
    out = _one({"found": [], "feats_of": answer})
    assert not out.ok
    (error,) = out.errors
    assert (error.item, error.code) == ("feats_of", "not_in_scale")
    assert message in error.message


def test_did_you_mean_for_a_misspelt_label() -> None:
    out = _one({"found": ["rodentz"]})
    assert "did you mean `rodents`?" in out.errors[0].message


def test_no_answer_follows_the_rules_of_any_item() -> None:
    records = [
        {"visit_id": "1", "answers": {"feats_of": ["wifi"]}},  # found missing: error
        {"visit_id": "2", "answers": {"found": None}},  # N/A
        {"visit_id": "3", "answers": {"found": "N/A"}},
        {"visit_id": "4", "answers": {"found": "  "}},  # blank: missing
    ]
    first, second, third, fourth = _score(records)
    assert [e.code for e in first.errors] == ["missing"]
    assert second.ok and second.items["found"] is None
    assert second.coefficients["demerits"] is None
    assert third.ok and third.coefficients["rodents_seen"] == 0  # N/A takes `else`
    assert [e.code for e in fourth.errors] == ["missing"]
    required = SOURCE.replace("tags m critical", "tags m critical required")
    (na,) = _score([{"visit_id": "1", "answers": {"found": "na"}}], required)
    assert [e.code for e in na.errors] == ["na_not_allowed"]


def test_an_item_that_does_not_apply_is_na_and_its_answer_ignored() -> None:
    source = """standard t.when {
    item q "Q" answer { yes = 1, no = 0 }
    item m "M" answer any of { a = 1, b = 1 } when q == 1
    coefficient n = coalesce(selected_count(m), -1)
    coefficient s = if selected(m, a) then 1 else 0
}
"""
    off, on = _score(
        [
            {"visit_id": "1", "answers": {"q": "no", "m": ["a"]}},
            {"visit_id": "2", "answers": {"q": "yes", "m": ["a"]}},
        ],
        source,
    )
    assert off.items["m"] is None and off.coefficients["n"] == -1 and off.coefficients["s"] == 0
    assert off.warnings and off.warnings[0].item == "m"
    assert on.items["m"] == 0.5 and on.coefficients["n"] == 1 and on.coefficients["s"] == 1


def test_a_formula_scores_from_value_the_points_and_may_read_its_own_options() -> None:
    source = """standard t.formula {
    item m "M" answer any of { a = 2, b = 1, c = 1 }
        score = if selected(m, a) then 1 else clamp(value / 2, 0, 1)
    coefficient p = points(m)
}
"""
    with_a, without_a, nothing = _score(
        [
            {"visit_id": "1", "answers": {"m": ["a"]}},
            {"visit_id": "2", "answers": {"m": "b; c"}},
            {"visit_id": "3", "answers": {"m": "c"}},
        ],
        source,
    )
    assert with_a.items["m"] == 1 and with_a.coefficients["p"] == 2
    assert without_a.items["m"] == 1 and without_a.coefficients["p"] == 2
    assert nothing.items["m"] == 0.5


def test_points_stay_the_points_chosen_when_a_formula_is_na() -> None:
    source = """standard t.formula_na {
    item m "M" answer any of { a = 2, b = 1 } score = if selected(m, a) then 1 else na
    coefficient p = points(m)
    coefficient most = max_points(items)
}
"""
    out = _one({"m": ["b"]}, source)
    assert out.items["m"] is None
    assert out.coefficients["p"] == 1 and out.coefficients["most"] == 3


def test_sections_and_means_count_a_multi_select_as_any_item() -> None:
    source = """standard t.sections {
    section s "S" {
        item m "M" answer any of { a = 1, b = 3 } weight 2
        item y "Y" answer { yes = 1, no = 0 }
        item x "X" answer any of { c = 1 } optional bonus
    }
    coefficient total = weighted_mean(sections)
}
"""
    out = _one({"m": "b", "y": "no", "x": ["c"]}, source)
    assert out.sections["s"] == (2 * 0.75 + 0 + 1) / 3
    assert out.coefficients["total"] == out.sections["s"]


# ---- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_csv_cells_hold_labels_separated_by_semicolons(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("pyarrow")
    src = tmp_path / "v.csv"
    src.write_text(
        'visit_id,found,feats_of\n1,rodents; soap,"wifi;tv"\n2,[],\n3,na,bar\n4,zzz,\n',
        encoding="utf-8",
    )
    std_path = tmp_path / "t.sbm"
    std_path.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    summary = sbm_engine.load(std_path).score_files([src], out, rejects=rejects, engine=engine)
    assert (summary.scored, summary.rejected) == (3, 1)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {str(r["visit_id"]): r for r in rows}
    assert by_id["1"]["coefficients"]["demerits"] == 5.1
    assert by_id["1"]["items"]["feats_of"] == 0.75
    assert by_id["2"]["items"]["found"] == 1.0 and by_id["2"]["items"]["feats_of"] is None
    assert by_id["3"]["items"]["found"] is None and by_id["3"]["coefficients"]["has_bar"] == 1
    assert "zzz" in rejects.read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_parquet_list_and_text_columns(tmp_path: Path, engine: str) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "visit_id": ["1", "2", "3"],
            "found": pa.array([["rodents", "soap"], [], None], type=pa.list_(pa.string())),
            "feats_of": ["wifi; tv", None, "[]"],
        }
    )
    src = tmp_path / "v.parquet"
    pq.write_table(table, src)
    std_path = tmp_path / "t.sbm"
    std_path.write_text(SOURCE, encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    summary = sbm_engine.load(std_path).score_files([src], out, rejects=rejects, engine=engine)
    assert (summary.scored, summary.rejected) == (2, 1)
    rows = {r["visit_id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows["1"]["coefficients"]["demerits"] == 5.1 and rows["1"]["items"]["feats_of"] == 0.75
    assert rows["2"]["items"]["found"] == 1.0 and rows["2"]["items"]["feats_of"] is None
    (rejected,) = map(json.loads, rejects.read_text("utf-8").splitlines())
    assert rejected["visit_id"] == "3"  # a null list is no answer, and `found` is needed
    assert [e["code"] for e in rejected["errors"]] == ["missing"]


# ---- the checker -----------------------------------------------------------------------------


def test_answer_of_a_multi_select_is_a_type_error_with_a_hint(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        'standard t.t {\n    item m "M" answer any of { a = 1 }\n'
        "    coefficient c = if answer(m) == a then 1 else 0\n}\n",
    )
    d = one(report, "E0301")
    assert "`m` is a multi-select" in d.message and "selected(m, LABEL)" in (d.help or "")


def test_selected_takes_a_multi_select_and_a_label_of_its_scale(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        "standard t.t {\n"
        '    item y "Y" answer { yes = 1, no = 0 }\n'
        '    item m "M" answer any of { wifi = 1, tv = 1 alias телевизор }\n'
        "    coefficient a = if selected(y, yes) then 1 else 0\n"
        "    coefficient b = if selected(m, wfi) then 1 else 0\n"
        "    coefficient c = if selected(m, ТЕЛЕВИЗОР) then selected_count(y) else 0\n"
        "}\n",
    )
    assert sorted(codes(report)) == ["E0207", "E0301", "E0301"]
    assert "did you mean `wifi`?" in (one(report, "E0207").help or "")


def test_options_worth_nothing_are_an_error(tmp_path: Path) -> None:
    plain = _check(
        tmp_path,
        'standard t.t {\n    scale z { a = 0, b = 0 }\n    item m "M" answer any of z\n}\n',
    )
    assert codes(plain) == ["E0511"]
    inline = _check(tmp_path, 'standard t.t {\n    item m "M" answer any of { a = 0 }\n}\n')
    assert codes(inline) == ["E0504"]
    assert one(inline, "E0504").message == "no option of item `m` is worth any points"


def test_a_multi_select_in_a_formula_reads_as_its_score() -> None:
    source = (
        'standard t.t {\n    item m "M" answer any of { a = 1, b = 3 }\n'
        "    coefficient c = m * 4\n    coefficient f = if failed(m) then 1 else 0\n}\n"
    )
    assert _one({"m": "[]"}, source).coefficients == {"c": 0.0, "f": 1.0}
    assert _one({"m": "b"}, source).coefficients == {"c": 3.0, "f": 0.0}


def test_its_own_options_in_its_formula_are_no_cycle_but_its_score_is(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        'standard t.t {\n    item m "M" answer any of { a = 1, b = 3 } score = m\n}\n',
    )
    assert codes(report) == ["E0401"]


# ---- fmt, export -----------------------------------------------------------------------------


def test_fmt_writes_any_of_and_keeps_the_tree() -> None:
    text = 'standard t.t {\n  item m "M"   answer   any\n of{a=2,b=1 alias "bb"}  optional\n}\n'
    out = format_source(text)
    assert 'item m "M" answer any of { a = 2, b = 1 alias "bb" } optional' in out
    assert format_source(out) == out


def test_the_questionnaire_lists_the_options_with_their_points() -> None:
    from sbm_engine.export import questionnaire

    model = sbm_engine.loads(SOURCE).model
    found = questionnaire(model)["items"][0]["answer"]
    assert found["type"] == "multi" and found["scale"] == "found_scale"
    assert found["points"] == "penalty" and found["max_points"] == 7.6
    assert found["options"][:2] == [
        {"label": "rodents", "points": 5.0, "aliases": []},
        {"label": "dirty", "points": 2.5, "aliases": []},
    ]
    sizes = questionnaire(model)["items"][2]["answer"]
    assert sizes["scale"] is None and sizes["points"] == "points"


def test_the_json_schema_takes_an_array_of_distinct_labels_or_a_text() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from sbm_engine.export import json_schema

    schema = json_schema(sbm_engine.loads(SOURCE).model)
    feats = schema["properties"]["answers"]["properties"]["feats_of"]
    array = next(f for f in feats["anyOf"] if f.get("type") == "array")
    assert array["uniqueItems"] is True
    assert {"enum": ["wifi", "tv", "bar"]} in array["items"]["anyOf"]

    def valid(answer: Any) -> bool:
        record = {"visit_id": "1", "answers": {"found": answer}}
        try:
            jsonschema.validate(record, schema)
        except jsonschema.ValidationError:
            return False
        return True

    assert valid(["rodents", "SOAP"]) and valid([]) and valid("dirty; soap") and valid("[]")
    assert not valid(["rodents", "rodents"]) and not valid(["rats"]) and not valid("rats; soap")


def test_sbm_diff_names_a_change_of_options() -> None:
    from sbm_engine.compare import diff, render

    old = sbm_engine.loads(SOURCE).model
    new = sbm_engine.loads(
        SOURCE.replace("{ 1 = 1, 2 = 2, 3 = 0.2 }", "{ 1 = 1, 2 = 3 }")
        .replace("answer any of feats optional tags m", "answer feats optional")
        .replace('selected(feats_of, "МИНИ-БАР")', "answer(feats_of) == bar")
        .replace("selected_count(feats_of)", "2")
    ).model
    text = render(diff(old, new))
    assert "    answer: any of { 1 = 1, 2 = 2, 3 = 0.2 } -> any of { 1 = 1, 2 = 3 }" in text
    assert "    answer: any of scale feats -> scale feats" in text


def test_sbm_explain_shows_the_options_chosen_and_their_points() -> None:
    from sbm_engine.explain import explain, render

    std = sbm_engine.loads(SOURCE)
    record = {"visit_id": "v", "answers": {"found": "rodents; soap", "feats_of": "[]"}}
    exp = explain(std, record)
    found = next(i for i in exp["items"] if i["item"] == "found")
    assert found["chosen"] == [
        {"label": "rodents", "points": 5.0},
        {"label": "soap", "points": 0.1},
    ]
    assert (found["points"], found["max_points"]) == (5.1, 7.6)
    text = render(exp)
    assert "chosen: rodents (5) + soap (0.1) = 5.1 of 7.6 points" in text
    assert "chosen: — = 0 of 1 points" in text  # feats_of: nothing chosen
    demerits = next(c for c in exp["coefficients"] if c["coefficient"] == "demerits")
    assert demerits["inputs"][0]["points"] == 5.1


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_jsonl_arrays_of_labels_on_both_engines(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("pyarrow")
    lines = [
        {"visit_id": "1", "answers": {"found": ["rodents"], "feats_of": ["wifi", "tv"]}},
        {"visit_id": "2", "answers": {"found": [], "feats_of": "bar"}},
        {"visit_id": "3", "answers": {"found": None, "feats_of": ["tv", "tv"]}},
        {"visit_id": "4", "answers": {"found": "soap; dirty", "feats_of": None}},
    ]
    src = tmp_path / "v.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    std_path = tmp_path / "t.sbm"
    std_path.write_text(SOURCE, encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    summary = sbm_engine.load(std_path).score_files([src], out, rejects=rejects, engine=engine)
    assert (summary.scored, summary.rejected) == (3, 1)
    rows = {r["visit_id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows["1"]["coefficients"]["demerits"] == 5 and rows["1"]["items"]["feats_of"] == 0.75
    assert rows["2"]["items"]["found"] == 1 and rows["2"]["coefficients"]["has_bar"] == 1
    assert rows["4"]["coefficients"]["demerits"] == 2.6
    (rejected,) = map(json.loads, rejects.read_text("utf-8").splitlines())
    assert rejected["visit_id"] == "3" and "chosen twice" in rejected["errors"][0]["message"]


def test_an_unscored_multi_select_is_read_and_checked_but_has_no_score() -> None:
    """Every path (per visit, batch, the reference interpreter the examples use) leaves
    an `unscored` multi-select without a score and still reads its options."""
    std = sbm_engine.loads(
        "standard t.u {\n"
        "    scale channels { web = 1, phone = 1, office = 0 }\n"
        '    item used "Каналы" answer any of channels unscored\n'
        '    item q "Q" answer { yes = 1, no = 0 }\n'
        "    coefficient online = if selected(used, web) then 1 else 0\n"
        '    example "web and phone" {\n'
        '        answers { used = "web; phone", q = yes }\n'
        "        expect online == 1 and selected_count(used) == 2\n"
        "        expect weighted_mean(items) == 1\n    }\n}\n"
    )
    assert all(o.passed for o in std.run_examples())
    records = [
        {"visit_id": "a", "answers": {"used": ["web", "office"], "q": "no"}},
        {"visit_id": "b", "answers": {"used": "[]", "q": "yes"}},
        {"visit_id": "c", "answers": {"used": ["fax"], "q": "yes"}},
    ]
    a, b, c = assert_batch_agrees(std, records)
    for record in records[:2]:
        assert Interpreter(std.model, std.functions).visit(record)[0].items["used"] is None
    assert a.items["used"] is None and a.coefficients["online"] == 1
    assert b.items["used"] is None and b.coefficients["online"] == 0
    assert not c.ok
