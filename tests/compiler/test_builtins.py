"""The table of built-in functions: one entry makes a function of the language.

A test-local table gains one entry (`value_function`) and a standard calling it is
checked, compiled and scored by the per-visit code, the batch code and the
reference interpreter, which must agree; the default table is what the checker,
the backends and the plugin layer all read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from sbm_engine import plugins  # noqa: E402
from sbm_engine.batch import BatchEvaluator  # noqa: E402
from sbm_engine.builtins import (  # noqa: E402
    BUILTINS,
    MANY,
    Builtin,
    BuiltinTable,
    strict_range,
    value_function,
)
from sbm_engine.checker import check  # noqa: E402
from sbm_engine.diagnostics import CompileError  # noqa: E402
from sbm_engine.functions import FunctionSpec  # noqa: E402
from sbm_engine.interpret import Interpreter  # noqa: E402
from sbm_engine.ir import Arith  # noqa: E402
from sbm_engine.loader import Flat, Loader  # noqa: E402
from sbm_engine.model import StandardModel  # noqa: E402
from sbm_engine.parser import parse  # noqa: E402
from sbm_engine.standard import CompiledStandard  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

STANDARD = """standard fn.test {
    item x "X" answer number 0..100
    item y "Y" answer number 0..100 optional
    item z "Z" answer number 0..10 score = hypot(value, 0) / 10
    coefficient dist = hypot(answer(x), answer(y))
    coefficient near = if hypot(answer(x), answer(y)) <= 50 then 1 else 0
}
"""

VISITS = [
    {"visit_id": "v1", "answers": {"x": 30, "y": 40, "z": 5}},
    {"visit_id": "v2", "answers": {"x": 60, "y": 80, "z": 10}},
    {"visit_id": "v3", "answers": {"x": 7, "y": None, "z": 0}},
    {"visit_id": "v4", "answers": {"x": 0, "y": 0, "z": 2.5}},
]


def _flat(text: str) -> Flat:
    loader = Loader(())
    path = Path("fn_test.sbm")
    loader.sources[str(path)] = text
    loader._modules[path.resolve()] = parse(text, str(path))
    return loader.flatten_file(path, root=Path.cwd())


def _model(text: str, table: BuiltinTable | None = None) -> StandardModel:
    model, _ = check(_flat(text), None, table)
    return model


class _Counted:
    """A numpy form that counts its calls, to show the batch code ran it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any, y: Any) -> Any:
        self.calls += 1
        return np.hypot(x, y)


def test_one_entry_adds_a_function_to_the_checker_both_backends_and_the_interpreter() -> None:
    batch = _Counted()
    table = BUILTINS.with_(value_function("hypot", ("num", "num"), "num", math.hypot, batch))
    model = _model(STANDARD, table)
    assert model.builtins is table
    std = CompiledStandard(model)
    per_visit = list(std.score_many(VISITS))
    batched = BatchEvaluator(std).score_records(VISITS)
    interp = Interpreter(model)
    assert batch.calls > 0
    assert [o.coefficients["dist"] for o in per_visit] == [50.0, 100.0, None, 0.0]
    assert [o.coefficients["near"] for o in per_visit] == [1.0, 0.0, 0.0, 1.0]
    assert [o.items["z"] for o in per_visit] == [0.5, 1.0, 0.0, 0.25]
    for record, want, got in zip(VISITS, per_visit, batched, strict=True):
        assert got.ok and want.ok
        assert got.coefficients == want.coefficients
        assert got.items == want.items
        env, errs, _, _ = interp.visit(record)
        assert errs == []
        assert env.coefs == want.coefficients
        assert env.items == want.items
    assert "hypot" not in std.python_source  # called through a constant, as a pack's is


def test_without_the_entry_the_name_is_an_unknown_function() -> None:
    with pytest.raises(CompileError) as err:
        _model(STANDARD)
    assert {d.code for d in err.value.diagnostics} == {"E0206"}


def test_an_entry_states_its_arity() -> None:
    table = BUILTINS.with_(value_function("hypot", ("num", "num"), "num", math.hypot))
    with pytest.raises(CompileError) as err:
        _model(STANDARD.replace("hypot(value, 0)", "hypot(value)"), table)
    assert [d.code for d in err.value.diagnostics] == ["E0302"]


def test_an_entry_states_its_parameter_types() -> None:
    table = BUILTINS.with_(value_function("hypot", ("num", "num"), "num", math.hypot))
    text = STANDARD.replace("hypot(value, 0)", 'hypot(value, "0")')
    with pytest.raises(CompileError) as err:
        _model(text, table)
    assert [d.code for d in err.value.diagnostics] == ["E0301"]


def test_the_range_rule_of_an_entry_feeds_the_range_warning() -> None:
    """W0701 comes from the entry's range rule: with none, nothing is proven."""

    def spread(args: list[tuple[float, float]]) -> tuple[float, float]:
        (a, b), (c, d) = args
        return (0.0, math.hypot(max(abs(a), abs(b)), max(abs(c), abs(d))))

    bare = BUILTINS.with_(value_function("hypot", ("num", "num"), "num", math.hypot))
    ranged = BUILTINS.with_(
        value_function("hypot", ("num", "num"), "num", math.hypot, range=strict_range(spread))
    )
    reaches_two = STANDARD.replace("/ 10", "/ 5")  # hypot(0..10, 0) / 5 reaches 2
    assert _warnings(reaches_two, bare) == []
    assert _warnings(reaches_two, ranged) == ["W0701"]
    assert _warnings(STANDARD, ranged) == []


def _warnings(text: str, table: BuiltinTable) -> list[str]:
    _, diagnostics = check(_flat(text), None, table)
    return [d.code for d in diagnostics if d.severity == "warning"]


def test_a_table_refuses_a_second_entry_of_the_same_name() -> None:
    with pytest.raises(ValueError, match="clamp"):
        BUILTINS.with_(value_function("clamp", ("num",), "num", abs))


def test_entries_that_bind_to_calls_have_all_three_implementations() -> None:
    """`answer` binds to a reference and the rollup aggregates to rollup terms; every
    other entry is compiled by both backends and evaluated by the interpreter."""
    without = {e.name for e in BUILTINS if e.emit is None}
    assert without == {"answer", "avg", "share", "total", "median", "percentile", "mode"}
    for entry in BUILTINS:
        if entry.name not in without:
            assert entry.kernel is not None and entry.scalar is not None, entry.name
        assert 0 <= entry.min_args <= entry.max_args <= MANY


def test_the_plugin_layer_refuses_the_names_of_the_table() -> None:
    for name in BUILTINS.names():
        with pytest.raises(plugins.PluginError):
            plugins._check_spec("pack", FunctionSpec(name, ("num",), "num", abs))
    spec = plugins._check_spec("pack", FunctionSpec("hypot", ("num", "num"), "num", math.hypot))
    assert spec.name == "hypot" and spec.plugin == "pack"


def test_a_hand_written_entry_with_its_own_type_rule() -> None:
    """An entry need not be a function of plain values: `twice(x)` binds to a sum of
    `x` with itself, and then needs no implementation of its own."""

    def bind(ck: Any, call: Any, ctx: Any) -> Any:
        x = ck._bind_num(call.args[0], ctx)
        return Arith("+", x, x, type="num", span=call.span)

    table = BUILTINS.with_(Builtin("twice", 1, 1, bind))
    text = STANDARD.replace("hypot(value, 0) / 10", "twice(value) / 20").replace("hypot(", "max(")
    std = CompiledStandard(_model(text, table))
    out = list(std.score_many(VISITS))
    assert [o.items["z"] for o in out] == [0.5, 1.0, 0.0, 0.25]


def test_every_entry_says_how_a_call_is_written() -> None:
    for entry in BUILTINS:
        assert entry.signature.startswith(entry.name), entry.name
        assert entry.doc, entry.name
    made = value_function("hypot", ("num", "bool"), "num", math.hypot)
    assert made.signature == "hypot(NUMBER, CONDITION)"
