"""The checker on its own: the model it builds and the rules it enforces before any visit.

Codes and messages are pinned in test_diagnostics.py; here are the finer points —
evaluation order, the typing of `if` and `na`, label literals, the W0701 interval
analysis, rollup cycles and field values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reports import codes

import sbm_engine
from sbm_engine.api import CheckReport, check
from sbm_engine.ir import Call, Compare, Const

HEAD = """standard chk.t {
    scale yes_no { yes = 1 alias "да", no = 0 alias "нет" }
    item a "A" answer yes_no
    item n "N" answer number 0..60
"""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)

    def go(body: str) -> CheckReport:
        path = tmp_path / "t.sbm"
        path.write_text(HEAD + body + "\n}\n", encoding="utf-8")
        return check(path)

    return go


# ---- evaluation order -----------------------------------------------------------------------


def test_order_puts_every_dependency_first(run) -> None:
    report = run("""    coefficient total = weighted_mean(sections) + late
    coefficient late = b
    section s "S" when a == 1 { item b "B" answer yes_no optional when answer(c) == yes }
    item c "C" answer yes_no""")
    assert report.ok, codes(report)
    order = [name for _, name in report.model.order]  # type: ignore[union-attr]
    for before, after in [
        ("a", "b"),
        ("c", "b"),
        ("b", "s"),
        ("b", "late"),
        ("s", "total"),
        ("late", "total"),
    ]:
        assert order.index(before) < order.index(after), (before, after, order)


def test_an_item_condition_on_itself_is_a_cycle(run) -> None:
    report = run('    item b "B" answer yes_no when b == 1')
    assert codes(report) == ["E0401"]
    assert report.diagnostics[0].message == "cycle between formulas: b -> b"


def test_rollup_cycles_are_found(run) -> None:
    report = run("    rollup r1 = r2 + avg(a)\n    rollup r2 = r1 * 2\n    rollup r3 = r3 + visits")
    assert [(d.code, d.message) for d in report.diagnostics] == [
        ("E0401", "cycle between rollups: r1 -> r2 -> r1"),
        ("E0401", "cycle between rollups: r3 -> r3"),
    ]


def test_rollups_may_use_each_other(run) -> None:
    assert run("    rollup base = avg(a)\n    rollup twice = base * 2 + visits").ok


# ---- typing ---------------------------------------------------------------------------------


def test_na_is_a_value_of_any_type(run) -> None:
    report = run("""    coefficient c1 = na
    coefficient c2 = if a == 1 then na else a
    coefficient c3 = if is_na(if a == 1 then na else answer(a)) then 0 else 1
    item s "S" answer number 0..10 score = if value > 5 then na else value / 5""")
    assert report.ok and codes(report) == [], codes(report)


def test_comparing_with_na_is_an_error(run) -> None:
    report = run("    coefficient c = if n == na then 1 else 0")
    assert codes(report) == ["E0301"]
    assert report.diagnostics[0].help == "to ask whether a value is N/A, write `is_na(n)`"


def test_an_unknown_name_in_one_branch_is_reported_once(run) -> None:
    report = run("    coefficient c = if a == 1 then foo else 1")
    assert [(d.code, d.message) for d in report.diagnostics] == [("E0201", "unknown name `foo`")]


def test_branches_of_different_kinds_are_a_type_error(run) -> None:
    report = run("    coefficient c = if a == 1 then 1 else a == 1")
    assert codes(report) == ["E0301"]
    assert report.diagnostics[0].message == "expected a number, found a condition"
    assert report.diagnostics[0].help == "turn a condition into a number with `if … then 1 else 0`"


def test_a_label_where_a_number_is_needed(run) -> None:
    report = run("    coefficient c = answer(a) + 1")
    assert report.diagnostics[0].message == "expected a number, found an answer label"
    assert report.diagnostics[0].help is not None and "`answer(x)`" in report.diagnostics[0].help


def _cmp_constant(report: CheckReport, coefficient: str) -> Const:
    model = report.model
    assert model is not None
    expr = next(c.expr for c in model.coefficients if c.name == coefficient)
    constant = next(b for b in expr.walk() if isinstance(b, Compare)).right
    assert isinstance(constant, Const)
    return constant


@pytest.mark.parametrize("literal", ["yes", "YES", '"Да"', '" да "', "да"])
def test_label_literals_and_aliases_read_as_the_canonical_label(run, literal: str) -> None:
    report = run(f"    coefficient c = if answer(a) == {literal} then 1 else 0")
    assert report.ok, codes(report)
    assert _cmp_constant(report, "c").value == "yes"


def test_numbers_compare_with_numeric_labels(run) -> None:
    report = run(
        '    item q "Q" answer { 1 = 0, 2 = 1 }\n'
        "    coefficient c = if answer(q) == 2 then 1 else 0"
    )
    assert report.ok
    assert _cmp_constant(report, "c").value == 2


def test_critical_failed_of_sections_is_refused_without_a_second_error(run) -> None:
    report = run("    coefficient c = if critical_failed(sections) then 0 else 1")
    assert codes(report) == ["E0301"]


# ---- W0701: proving a score formula leaves [0, 1] -------------------------------------------


@pytest.mark.parametrize(
    "formula",
    [
        "if value > 30 then na else 1 - value / 30",
        "if value <= 30 then 1 - value / 30 else 0",
        "if not (value > 30) then 1 - value / 30 else 0",
        "if value > 40 or value < 10 then 0 else value / 40",
        "if 30 < value then 0 else value / 30",
        "if value == 60 then 1 else value / 60",
        "clamp(value / 10, 0, 1)",
        "min(1, value / 10)",
        "max(0, 1 - value / 10)",
        "coalesce(a, 0.5)",
        "a * value / 60",
        "weighted_mean(a: 1, n: 2)",
        "value / (60 + answer(n))",
        "if value <= 5 then 1 else if value <= 10 then 0.5 else 0",
    ],
)
def test_formulas_that_stay_in_range_are_not_warned(run, formula: str) -> None:
    report = run(f'    item x "X" answer number 0..60 score = {formula}')
    assert report.ok and codes(report) == [], codes(report)


@pytest.mark.parametrize(
    ("formula", "reach"),
    [
        ("value / 30", "can give 2"),
        ("if value > 30 then 1 else value / 20", "can give 1.5"),
        ("if value < 40 or value > 50 then 0 else value / 40", "can give 1.25"),
        ("1 - value / 30", "can give -1"),
        ("-value", "can give -60"),
        ("sum(a, a)", "can give 2"),
        ("answer(n) / 30 + a", "can give 3"),
    ],
)
def test_formulas_proven_to_leave_the_range_are_warned(run, formula: str, reach: str) -> None:
    report = run(f'    item x "X" answer number 0..60 score = {formula}')
    assert codes(report) == ["W0701"]
    assert report.diagnostics[0].message == f"the score formula of `x` {reach}, outside [0, 1]"


def test_formulas_over_unknown_ranges_are_not_warned(run) -> None:
    report = run('    coefficient k = n * 2\n    item x "X" answer number 0..60 score = k / value')
    assert codes(report) == []


# ---- fields ---------------------------------------------------------------------------------


def test_field_values_are_unique_and_not_empty(run) -> None:
    report = run(
        '    field channel "К" one of { office, Office, "phone" }\n    field e "E" one of { }'
    )
    assert [(d.code, d.span.line) for d in report.diagnostics] == [("E0505", 5), ("E0504", 6)]


def test_a_field_compared_with_a_value_outside_its_list(run) -> None:
    report = run(
        '    field channel "К" one of { office, phone }\n'
        '    item b "B" answer yes_no when visit.channel == "fax"'
    )
    assert codes(report) == ["E0207"]


# ---- the model is what the backends compile -------------------------------------------------


def test_selections_expand_to_scored_items_once_in_declaration_order(run) -> None:
    report = run("""    item t "T" answer text optional tags g
    item b "B" answer yes_no weight 2 tags g bonus
    coefficient c = weighted_mean(tagged g, items)""")
    model = report.model
    assert model is not None
    expr = next(c.expr for c in model.coefficients if c.name == "c")
    assert isinstance(expr, Call) and expr.fn == "weighted_mean"
    kind, selected = expr.payload
    assert kind == "items"
    assert [(s.name, s.weight, s.bonus) for s in selected] == [
        ("a", 1.0, False),
        ("n", 1.0, False),
        ("b", 2.0, True),
    ]


def test_sections_selection_leaves_out_weight_zero(run) -> None:
    report = run(
        '    section s1 "1" weight 2 { item b "B" answer yes_no }\n'
        '    section s0 "0" weight 0 { item c "C" answer yes_no }\n'
        "    coefficient c2 = weighted_mean(sections)"
    )
    model = report.model
    assert model is not None
    assert next(c.expr for c in model.coefficients) == Call(
        "weighted_mean", ("sections", (("s1", 2.0),))
    )


def test_the_checked_model_compiles(run) -> None:
    report = run('    coefficient c = if answer(a) == "да" then n else 0')
    std = sbm_engine.api.compile_model(report.model)  # type: ignore[arg-type]
    out = std.score({"visit_id": 1, "answers": {"a": "Да", "n": 30}})
    assert out.coefficients["c"] == 0.5  # type: ignore[union-attr]
