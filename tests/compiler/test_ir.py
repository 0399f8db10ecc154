"""The typed intermediate form: what the checker binds each construct to.

Every construct of a formula becomes a node of its own class with typed fields;
the generic view (`op`, `args`, `data`, `walk`) gives the same tree to readers
that only walk it.
"""

from __future__ import annotations

import pytest

from sbm_engine.api import check
from sbm_engine.ir import (
    Agg,
    And,
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Compare,
    Const,
    FieldRef,
    If,
    ItemRef,
    Neg,
    Not,
    Or,
    RollupRef,
    SectionRef,
    ValueRef,
    Visits,
)
from sbm_engine.model import SelectedItem, StandardModel
from sbm_engine.nodes import Span

STANDARD = """standard ir.t {
    scale yes_no { yes = 1 alias "да", no = 0 }
    field channel one of { phone, web }
    section s "S" { item a "A" answer yes_no critical }
    item n "N" answer number 0..60 score = if value <= 5 then 1 else -(value / 60) + 1
    coefficient k = if answer(a) == yes and not (n < 0.5 or visit.channel == web) then s else 0
    coefficient m = clamp(mean(items), 0, k)
    coefficient f = if critical_failed then 0 else 1
    rollup r = avg(k) * visits
    rollup r2 = r + 1
}
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> StandardModel:
    path = tmp_path_factory.mktemp("ir") / "t.sbm"
    path.write_text(STANDARD, encoding="utf-8")
    report = check(path)
    assert report.ok and report.model is not None, report.diagnostics
    return report.model


def _coef(model: StandardModel, name: str) -> Bound:
    return next(c.expr for c in model.coefficients if c.name == name)


def test_a_score_formula_binds_to_typed_nodes(model: StandardModel) -> None:
    score = next(i.score for i in model.items if i.name == "n")
    assert score == If(
        Compare("<=", ValueRef("n"), Const(5.0), type="bool"),
        Const(1.0),
        Arith("+", Neg(Arith("/", ValueRef("n"), Const(60.0))), Const(1.0)),
    )


def test_conditions_references_and_labels_bind_to_typed_nodes(model: StandardModel) -> None:
    k = _coef(model, "k")
    assert isinstance(k, If)
    cond = k.condition
    assert isinstance(cond, And) and cond.type == "bool"
    label_test, rest = cond.left, cond.right
    assert isinstance(label_test, Compare)
    assert isinstance(label_test.left, AnswerRef) and label_test.left.type == "label"
    assert label_test.right == Const("yes", type="label", labels=frozenset({"yes", "no"}))
    assert isinstance(rest, Not) and isinstance(rest.operand, Or)
    channel = rest.operand.right
    assert isinstance(channel, Compare) and isinstance(channel.left, FieldRef)
    assert channel.left.name == "channel"
    assert rest.operand.left == Compare("<", ItemRef("n"), Const(0.5), type="bool")
    assert k.then == SectionRef("s")


def test_calls_hold_their_function_and_payload(model: StandardModel) -> None:
    m = _coef(model, "m")
    assert isinstance(m, Call) and m.fn == "clamp" and m.payload is None
    mean, low, high = m.operands
    assert mean == Call(
        "mean_sel", ("items", (SelectedItem("a", 1.0, False), SelectedItem("n", 1.0, False)))
    )
    assert low == Const(0.0) and high == CoefRef("k")
    f = _coef(model, "f")
    assert isinstance(f, If)
    assert f.condition == Call("critical_failed", ("a",), type="bool")


def test_rollups_bind_to_terms_and_references(model: StandardModel) -> None:
    r, r2 = model.rollups
    assert r.expr == Arith("*", Agg("avg", "r.1"), Visits())
    assert [(t.key, t.kind, t.expr) for t in r.terms] == [("r.1", "avg", CoefRef("k"))]
    assert r2.expr == Arith("+", RollupRef("r"), Const(1.0))


def test_the_generic_view_of_each_node() -> None:
    x, y = ItemRef("x"), CoefRef("y")
    cases: list[tuple[Bound, str, tuple[Bound, ...], object]] = [
        (Const(2.0), "const", (), 2.0),
        (x, "item", (), "x"),
        (AnswerRef("x"), "answer", (), "x"),
        (ValueRef("x"), "value", (), "x"),
        (SectionRef("s"), "section", (), "s"),
        (y, "coef", (), "y"),
        (FieldRef("visit_id"), "field", (), "visit_id"),
        (RollupRef("r"), "rollup_ref", (), "r"),
        (Visits(), "visits", (), None),
        (Agg("share", "r.2"), "agg", (), ("share", "r.2")),
        (Neg(x), "neg", (x,), None),
        (Arith("-", x, y), "arith", (x, y), "-"),
        (Compare(">=", x, y), "cmp", (x, y), ">="),
        (And(x, y), "and", (x, y), None),
        (Or(x, y), "or", (x, y), None),
        (Not(x), "not", (x,), None),
        (If(x, y, x), "if", (x, y, x), None),
        (Call("clamp", None, (x, y, x)), "call", (x, y, x), ("clamp", None)),
    ]
    for node, op, args, data in cases:
        assert (node.op, node.args, node.data) == (op, args, data), node


def test_walk_is_depth_first_in_evaluation_order() -> None:
    a, b, c = ItemRef("a"), ItemRef("b"), ItemRef("c")
    tree = If(Compare("<", a, b), Neg(c), Call("coalesce", None, (a, c)))
    assert [n.op for n in tree.walk()] == [
        "if",
        "cmp",
        "item",
        "item",
        "neg",
        "item",
        "call",
        "item",
        "item",
    ]


def test_nodes_are_equal_wherever_they_were_written() -> None:
    here = Span("a.sbm", 1, 1, 1, 5, 0, 4)
    there = Span("b.sbm", 9, 2, 9, 6, 80, 84)
    assert ItemRef("x", span=here) == ItemRef("x", span=there)
    assert ItemRef("x") != CoefRef("x")  # the class is part of what a node is
    assert Const(1.0) != Const(1.0, type="bool")
    assert hash(Arith("+", ItemRef("x"), Const(1.0))) == hash(Arith("+", ItemRef("x"), Const(1.0)))


def test_the_model_module_still_names_the_base_class() -> None:
    from sbm_engine import model

    assert model.Bound is Bound
