"""Reuse in language 1.1: placing a layer's items and sections among the inherited ones
(`in SECTION`, `after`, `before`), pinned imports, `unscored` items and
`critical if CONDITION`, alike on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.formatter import format_source
from sbm_engine.parser import parse
from sbm_engine.testing import assert_batch_agrees

BASE = """standard acme.base {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    section greeting "Greeting" {
        item hello "Said hello" answer yes_no
        item name "Gave a name" answer yes_no
    }
    section needs "Needs" {
        item asked "Asked" answer yes_no
    }
    section farewell "Farewell" {
        item bye "Said goodbye" answer yes_no
    }
}
"""


def _child(tmp_path: Path, body: str) -> Any:
    (tmp_path / "base.sbm").write_text(BASE, encoding="utf-8")
    path = tmp_path / "child.sbm"
    path.write_text(f"standard acme.child extends acme.base {{\n{body}}}\n", encoding="utf-8")
    return check(path)


def _layout(report: Any) -> list[tuple[str, tuple[str, ...]]]:
    assert report.ok, codes(report)
    return [(s.name, s.items) for s in report.model.sections]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SBM_PATH", raising=False)


# ---- placing items and sections -------------------------------------------------------------


def test_an_item_in_an_inherited_section_goes_at_its_end_or_next_to_an_item(
    tmp_path: Path,
) -> None:
    report = _child(
        tmp_path,
        '    item id "Checked id" answer yes_no in greeting\n'
        '    item first "First" answer yes_no in greeting before hello\n'
        '    item a "A" answer yes_no in greeting after hello\n'
        '    item b "B" answer yes_no in greeting after hello\n',
    )
    assert _layout(report)[0] == ("greeting", ("first", "hello", "a", "b", "name", "id"))
    order = [i.name for i in report.model.items]
    assert order[:6] == ["first", "hello", "a", "b", "name", "id"]  # listed with its section
    assert report.model.item("id").section == "greeting"


def test_an_item_can_join_a_section_of_its_own_file_and_a_redeclared_item_can_move(
    tmp_path: Path,
) -> None:
    report = _child(
        tmp_path,
        '    section extra "Extra" { item e "E" answer yes_no }\n'
        '    item x "X" answer yes_no in extra\n'
        '    item asked "Asked again" answer yes_no in farewell before bye\n',
    )
    layout = dict(_layout(report))
    assert layout["extra"] == ("e", "x")
    assert layout["needs"] == ()
    assert layout["farewell"] == ("asked", "bye")


def test_a_section_placed_after_or_before_another_keeps_its_items_and_the_order_declared(
    tmp_path: Path,
) -> None:
    report = _child(
        tmp_path,
        '    section wait "Wait" after greeting { item w "W" answer yes_no }\n'
        '    section queue "Queue" after greeting { item q "Q" answer yes_no }\n'
        '    section door "Door" before greeting { item d "D" answer yes_no }\n'
        '    section mat "Mat" after door { item m "M" answer yes_no }\n'
        '    item late "Late" answer yes_no in greeting\n',
    )
    names = [name for name, _ in _layout(report)]
    assert names == ["door", "mat", "greeting", "wait", "queue", "needs", "farewell"]
    assert [i.name for i in report.model.items][:6] == ["d", "m", "hello", "name", "late", "w"]


def test_placing_changes_no_score(tmp_path: Path) -> None:
    answers = {"hello": "yes", "name": "no", "asked": "yes", "bye": "no", "w": "yes"}
    placed = _child(
        tmp_path, '    section wait "Wait" after greeting { item w "W" answer yes_no }\n'
    )
    plain = _child(tmp_path, '    section wait "Wait" { item w "W" answer yes_no }\n')
    assert placed.ok and plain.ok
    outs = [
        sbm_engine.api.compile_model(r.model).score({"visit_id": "1", "answers": answers})
        for r in (placed, plain)
    ]
    assert outs[0].sections == outs[1].sections


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ('    item x "X" answer yes_no in greting\n', "E0204", "unknown section `greting`"),
        (
            '    section s "S" after needz { item y "Y" answer yes_no }\n',
            "E0204",
            "unknown section `needz`",
        ),
        (
            '    item x "X" answer yes_no in greeting after asked\n',
            "E0201",
            "no item `asked` in section `greeting`",
        ),
        (
            '    item x "X" answer yes_no after hello\n',
            "E0104",
            "item `x` says `after` without `in`",
        ),
        (
            '    section s "S" { item x "X" answer yes_no in needs }\n',
            "E0104",
            "item `x` is inside the block of section `s` and says `in` too",
        ),
        (
            '    section s "S" after needs before farewell { item x "X" answer yes_no }\n',
            "E0104",
            "`s` is placed both after and before",
        ),
        (
            '    item x "X" answer yes_no in needs after y\n'
            '    item y "Y" answer yes_no in needs after x\n',
            "E0610",
            "`x`, `y` are placed relative to each other in a circle",
        ),
    ],
)
def test_misplaced(tmp_path: Path, body: str, code: str, message: str) -> None:
    report = _child(tmp_path, body)
    assert codes(report) == [code]
    assert one(report, code).message == message


def test_a_base_placement_is_inherited_by_the_next_layer(tmp_path: Path) -> None:
    (tmp_path / "base.sbm").write_text(BASE, encoding="utf-8")
    (tmp_path / "mid.sbm").write_text(
        "standard acme.mid extends acme.base {\n"
        '    section wait "Wait" after greeting { item w "W" answer yes_no }\n'
        '    item id "Id" answer yes_no in greeting before name\n'
        "}\n",
        encoding="utf-8",
    )
    path = tmp_path / "top.sbm"
    path.write_text(
        'standard acme.top extends acme.mid {\n    item w2 "W2" answer yes_no in wait\n}\n',
        encoding="utf-8",
    )
    layout = _layout(check(path))
    assert layout[:2] == [("greeting", ("hello", "id", "name")), ("wait", ("w", "w2"))]


# ---- import … version -----------------------------------------------------------------------


def test_an_import_pin_on_its_line_and_a_version_on_the_next_line_keep_apart() -> None:
    module = parse('standard a {\n    import "s.sbm" version "2"\n}\n')
    (imp,) = module.standards[0].members
    assert imp == sbm_engine.nodes.Import("s.sbm", version="2")
    module = parse('standard a {\n    import "s.sbm"\n    version "2"\n}\n')
    assert [type(m).__name__ for m in module.standards[0].members] == ["Import", "Version"]
    module = parse('import "s.sbm" version "2"\nstandard a {\n}\n')
    assert module.imports[0].version == "2"


def test_an_import_of_the_pinned_version_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.sbm"
    path.write_text(
        'standard p {\n    import "common/scales.sbm" version "2026.1"\n'
        '    item a "A" answer yes_no\n}\n',
        encoding="utf-8",
    )
    assert check(path).ok


# ---- unscored -------------------------------------------------------------------------------

UNSCORED = """standard t.unscored {
    scale yes_no { yes = 1, no = 0 }
    field channel "Channel" one of { web, phone }
    section service "Service" {
        item expected "Expected, 1-7" answer number 1..7 unscored
        item perceived "Perceived, 1-7" answer number 1..7 tags q
        item kano "Kano answer" answer { like = 1, must = 0.5, neutral = 0 } unscored required
        item told "Told the price" answer yes_no unscored optional tags q
    }
    coefficient gap = answer(perceived) - answer(expected)
    coefficient liked = if answer(kano) == like then 1 else 0
    coefficient quality = weighted_mean(tagged q)
    coefficient counted = count(items)
}
"""


def test_an_unscored_item_is_checked_and_read_but_has_no_score() -> None:
    std = sbm_engine.loads(UNSCORED)
    good = {"expected": 6, "perceived": 4, "kano": "like", "told": "yes"}
    outs = assert_batch_agrees(
        std,
        [
            {"visit_id": "1", "answers": good},
            {"visit_id": "2", "answers": {**good, "expected": 9}},  # outside 1..7
            {"visit_id": "3", "answers": {**good, "kano": "maybe"}},  # not a label
            {"visit_id": "4", "answers": {"expected": 6, "perceived": 4}},  # kano required
            {"visit_id": "5", "answers": {"expected": 6, "perceived": 4, "kano": "must"}},
        ],
    )
    first = outs[0]
    assert first.ok
    assert first.items == {"expected": None, "perceived": 0.5, "kano": None, "told": None}
    assert first.sections == {"service": 0.5}  # the perception only
    assert first.coefficients == {"gap": -2.0, "liked": 1.0, "quality": 0.5, "counted": 1.0}
    assert [e.code for e in outs[1].errors] == ["out_of_range"]
    assert [e.code for e in outs[2].errors] == ["not_in_scale"]
    assert [e.code for e in outs[3].errors] == ["missing"]
    assert outs[4].ok and outs[4].coefficients["liked"] == 0.0


@pytest.mark.parametrize(
    "option", ["critical", "bonus", "weight 2", "score = if value > 3 then 1 else 0"]
)
def test_options_of_a_score_mean_nothing_for_an_unscored_item(tmp_path: Path, option: str) -> None:
    path = tmp_path / "u.sbm"
    path.write_text(
        f'standard u {{\n    item a "A" answer number 1..7 unscored {option}\n}}\n',
        encoding="utf-8",
    )
    report = check(path)
    assert codes(report) == ["E0104"]
    word = option.split(" ")[0] + (" =" if option.startswith("score") else "")
    assert one(report, "E0104").message == f"item `a` is `unscored` and `{word}`"


def test_reading_an_unscored_item_as_a_score_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "u.sbm"
    path.write_text(
        'standard u {\n    item a "A" answer number 1..7 unscored\n    coefficient c = a\n}\n',
        encoding="utf-8",
    )
    assert codes(check(path)) == ["E0304"]


# ---- critical if ----------------------------------------------------------------------------

CRITICAL = """standard t.critical {
    scale yes_no { yes = 1, no = 0 }
    item kind "Kind of visit" answer { hair = 1, nails = 1 } unscored optional
    section hygiene "Hygiene" {
        item gloves "Gloves" answer yes_no critical if answer(kind) == nails
        item hands "Washed hands" answer yes_no critical
        item tools "Tools" answer yes_no critical if visit.scenario == "risky" and gloves == 0
    }
    coefficient visit = if critical_failed then 0 else weighted_mean(items)
    coefficient hygiene_ok = if critical_failed(in hygiene) then 0 else 1
}
"""


def test_a_conditional_critical_item_fails_the_visit_only_where_its_condition_holds() -> None:
    std = sbm_engine.loads(CRITICAL)
    ok = {"gloves": "yes", "hands": "yes", "tools": "yes"}
    outs = assert_batch_agrees(
        std,
        [
            {"visit_id": "1", "answers": {**ok, "kind": "nails", "gloves": "no"}},
            {"visit_id": "2", "answers": {**ok, "kind": "hair", "gloves": "no"}},
            {"visit_id": "3", "answers": {**ok, "gloves": "no"}},  # kind N/A: not critical
            {"visit_id": "4", "answers": {**ok, "kind": "hair", "hands": "no"}},
            {
                "visit_id": "5",
                "scenario": "risky",
                "answers": {**ok, "kind": "hair", "gloves": "no", "tools": "no"},
            },
            {"visit_id": "6", "scenario": "risky", "answers": {**ok, "tools": "no"}},
        ],
    )
    assert [o.critical for o in outs] == [("gloves",), (), (), ("hands",), ("tools",), ()]
    assert [o.coefficients["visit"] for o in outs] == [0.0, 2 / 3, 2 / 3, 0.0, 0.0, 2 / 3]
    assert [o.coefficients["hygiene_ok"] for o in outs] == [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]


def test_critical_if_reads_the_item_and_a_cycle_through_critical_failed_is_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sbm"
    path.write_text(
        "standard c {\n"
        '    item a "A" answer { yes = 1, no = 0 } critical if visit_ok == 1\n'
        "    coefficient visit_ok = if critical_failed then 0 else 1\n"
        "}\n",
        encoding="utf-8",
    )
    assert codes(check(path)) == ["E0401"]


def test_critical_if_on_an_item_never_scored_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sbm"
    path.write_text(
        'standard c {\n    item a "A" answer text critical if visit.scenario == "x"\n}\n',
        encoding="utf-8",
    )
    assert codes(check(path)) == ["E0104"]


# ---- the text: soft keywords, fmt -----------------------------------------------------------


def test_after_before_and_unscored_stay_names_where_a_name_can_stand() -> None:
    text = (
        "standard s {\n"
        '    section after "A" {\n'
        '        item before "B" answer { unscored = 1, x = 0 } tags after before unscored\n'
        "    }\n"
        "    coefficient unscored = before\n"
        "}\n"
    )
    (section, coef) = parse(text).standards[0].members
    assert section.name == "after" and section.items[0].name == "before"
    assert section.items[0].tags == ("after", "before", "unscored")
    assert not section.items[0].unscored
    assert coef.name == "unscored"


def test_fmt_writes_the_new_options_in_their_order_and_keeps_the_tree() -> None:
    text = (
        "standard s {\n"
        '    import "a.sbm"   version "1"\n'
        '    section b "B" weight 2 before a {\n'
        '        item i "I" answer { y = 1 } tags t critical if visit.scenario == x weight 2\n'
        "    }\n"
        '    item j "J" answer number 1..7 unscored after i in b tags t after\n'
        "}\n"
    )
    formatted = format_source(text)
    assert formatted == (
        "standard s {\n"
        '    import "a.sbm" version "1"\n'
        "\n"
        '    section b "B" before a weight 2 {\n'
        '        item i "I" answer { y = 1 } weight 2 tags t critical if visit.scenario == x\n'
        "    }\n"
        "\n"
        '    item j "J" answer number 1..7 in b after i unscored tags t after\n'  # a tag
        "}\n"
    )
    assert parse(formatted) == parse(text)
    assert format_source(formatted) == formatted


# ---- repeat ---------------------------------------------------------------------------------

REPEAT = """standard t.repeat {
    scale yes_no { yes = 1, no = 0 }
    item shared "Shared" answer yes_no
    repeat product in { deposit "вклад", loan "кредит" } {
        section offer "Offer: {product}" weight 2 {
            item rate "Rate of the {product}" answer yes_no tags products
            item terms "Terms" answer yes_no
                when rate == 1 and shared == 1 and visit.scenario != "{product}"
        }
        item calc "Calculation" answer yes_no in offer before terms
            critical if answer(rate) == no
    }
    coefficient products = weighted_mean(in offer_deposit, in offer_loan)
    coefficient visit = if critical_failed then 0 else weighted_mean(items)
}
"""


def test_a_repeated_block_is_declared_once_per_key_with_its_own_names() -> None:
    m = sbm_engine.loads(REPEAT).model
    assert [(s.name, s.title, s.weight, s.items) for s in m.sections] == [
        ("offer_deposit", "Offer: вклад", 2.0, ("rate_deposit", "calc_deposit", "terms_deposit")),
        ("offer_loan", "Offer: кредит", 2.0, ("rate_loan", "calc_loan", "terms_loan")),
    ]
    assert m.item("rate_loan").question == "Rate of the кредит"
    assert m.item("rate_loan").tags == ("products",)  # tags are not names: one for all
    assert m.item("terms_loan").when_text is not None
    assert {i.name for i in m.items if i.critical} == {"calc_deposit", "calc_loan"}


def test_the_copies_score_alike_on_both_backends() -> None:
    std = sbm_engine.loads(REPEAT)
    answers = {"shared": "yes", "rate_deposit": "yes", "terms_deposit": "no"}
    outs = assert_batch_agrees(
        std,
        [
            {
                "visit_id": "1",
                "scenario": "кредит",
                "answers": {**answers, "calc_deposit": "yes", "rate_loan": "no", "calc_loan": "no"},
            },
            {
                "visit_id": "2",
                "scenario": "вклад",  # terms_deposit does not apply
                "answers": {
                    "shared": "yes",
                    "rate_deposit": "yes",
                    "calc_deposit": "no",
                    "rate_loan": "yes",
                    "terms_loan": "yes",
                    "calc_loan": "yes",
                },
            },
        ],
    )
    first, second = outs
    assert first.sections == {"offer_deposit": 2 / 3, "offer_loan": 0.0}
    assert first.critical == ("calc_loan",)  # its own rate was "no"
    assert first.coefficients["visit"] == 0
    assert second.items["terms_deposit"] is None
    assert second.critical == ()  # calc_deposit is 0, but its rate was "yes"
    assert second.sections == {"offer_deposit": 0.5, "offer_loan": 1.0}


def test_fmt_keeps_a_repeated_block_as_written() -> None:
    text = (
        "standard s {\n"
        '    repeat p in {a "A",b "B"} {  # products\n'
        '        item r "R {p}" answer { yes = 1 }\n'
        "    }\n"
        "}\n"
    )
    formatted = format_source(text)
    assert formatted == (
        "standard s {\n"
        '    repeat p in { a "A", b "B" } {  # products\n'
        '        item r "R {p}" answer { yes = 1 }\n'
        "    }\n"
        "}\n"
    )
    assert parse(formatted) == parse(text)


def test_repeat_stays_a_name_where_a_name_can_stand() -> None:
    text = (
        "standard s {\n"
        '    item repeat "R" answer { repeat = 1 } tags repeat\n'
        "    coefficient c = repeat\n"
        "}\n"
    )
    item, coef = parse(text).standards[0].members
    assert item.name == "repeat" and item.tags == ("repeat",)
    assert coef.expr == sbm_engine.nodes.Name("repeat")
    assert sbm_engine.loads(text).model.item("repeat").scored


def test_explain_and_the_questionnaire_show_critical_if_and_unscored() -> None:
    from sbm_engine.explain import explain, render
    from sbm_engine.export import questionnaire

    std = sbm_engine.loads(CRITICAL)
    record = {"visit_id": "v", "answers": {"kind": "nails", "gloves": "no", "hands": "yes"}}
    exp = explain(std, {**record, "answers": {**record["answers"], "tools": "yes"}})
    gloves = next(i for i in exp["items"] if i["item"] == "gloves")
    assert gloves["critical_if"] == "answer(kind) == nails"
    assert exp["critical"] == ["gloves"]
    text = render(exp)
    assert "critical if answer(kind) == nails" in text
    items = {i["name"]: i for s in questionnaire(std.model)["sections"] for i in s["items"]}
    items.update({i["name"]: i for i in questionnaire(std.model)["items"]})
    assert items["gloves"]["critical_if"] == "answer(kind) == nails"
    assert items["kind"]["unscored"] is True
    assert "unscored" not in items["hands"] and "critical_if" not in items["hands"]
