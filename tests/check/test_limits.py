"""A standard's cost is bounded: expressions nest only so deep, and up to the limit
every stage (checker, both backends, interpreter, formatter) handles them.

Every stage walks expressions recursively and generated Python may indent at most
100 levels; the parser refuses deeper nesting with E0005 (`parser.MAX_NESTING`,
`parser.MAX_BLOCKS`) instead of a RecursionError or an IndentationError. An
`else if` ladder is compiled flat, so a lookup table of a hundred steps is fine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import sbm_engine
from sbm_engine.api import CheckReport, check
from sbm_engine.formatter import format_source
from sbm_engine.parser import MAX_BLOCKS, MAX_NESTING


def nested_ifs(depth: int) -> str:
    expr = "1"
    for _ in range(depth):
        expr = f"if q >= 0 then ({expr}) else 0"
    return expr


def _standard(expr: str) -> str:
    return (
        "standard t.deep {\n"
        '    item q "Q" answer number 0..10\n'
        f"    coefficient c = {expr}\n"
        '    example "deep" {\n'
        "        answers { q = 4 }\n"
        "        expect c >= 0\n"
        "    }\n"
        "}\n"
    )


def ladder(steps: int) -> str:
    """`if answer(q) >= N then N else if …`: a lookup table of `steps` steps."""
    return " ".join(f"if answer(q) >= {i} then {i} else" for i in range(steps, 0, -1)) + " 0"


def right_nested_or(depth: int) -> str:
    expr = "q > 0"
    for _ in range(depth):
        expr = f"q > 0 or ({expr})"
    return expr


#: The deepest of each kind that must still work, and what it computes for q = 4.
AT_THE_LIMIT = {
    "conditions inside `then`": (nested_ifs(MAX_BLOCKS // 2), 1.0),
    "an `else if` ladder": (ladder(MAX_NESTING - 20), 4.0),
    "a long sum": (" + ".join(["q"] * (MAX_NESTING - 10)), 0.4 * (MAX_NESTING - 10)),
    "negations": ("-" * (MAX_NESTING - 10) + "q", 0.4),  # an even number of minus signs
    "an `and` chain": (
        "if " + " and ".join(["q > 0"] * (MAX_NESTING - 10)) + " then 1 else 0",
        1.0,
    ),
}


@pytest.mark.parametrize("kind", AT_THE_LIMIT)
def test_every_stage_handles_expressions_at_the_limit(kind: str) -> None:
    expr, expected = AT_THE_LIMIT[kind]
    text = _standard(expr)
    std = sbm_engine.loads(text)
    result = std.score({"visit_id": "v", "answers": {"q": 4}})
    assert result.ok and result.coefficients["c"] == pytest.approx(expected)
    assert all(outcome.passed for outcome in std.run_examples())
    assert format_source(format_source(text)) == format_source(text)
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("numpy")
    table = std.score_table(pa.table({"visit_id": ["v"], "q": [4]}))
    assert table.scored.column("coefficients.c").to_pylist() == [pytest.approx(expected)]


@pytest.mark.parametrize(
    "expr",
    [
        nested_ifs(MAX_BLOCKS // 2 + 1),
        " + ".join(["q"] * 20_000),
        "-" * 20_000 + "q",
        "if " + right_nested_or(MAX_BLOCKS + 1) + " then 1 else 0",
        ladder(3_000),
    ],
    ids=["ifs", "sum", "negations", "or", "ladder"],
)
def test_deeper_expressions_get_a_diagnostic_not_a_crash(expr: str) -> None:
    report = check_text(_standard(expr))
    assert [d.code for d in report.diagnostics] == ["E0005"]
    assert report.diagnostics[0].span.line == 3
    with pytest.raises(sbm_engine.CompileError):
        sbm_engine.loads(_standard(expr))


def check_text(text: str) -> CheckReport:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deep.sbm"
        path.write_text(text, encoding="utf-8")
        return check(path)


def test_parentheses_alone_do_not_nest() -> None:
    std = sbm_engine.loads(_standard("(" * 5_000 + "q" + ")" * 5_000))
    assert std.score({"visit_id": "v", "answers": {"q": 4}}).coefficients["c"] == 0.4


@pytest.mark.parametrize("count", [3, 33, 3_000, 10_000])
def test_bands_of_any_number_agree_on_both_backends(count: int) -> None:
    thresholds = ", ".join(f"b{i} >= {10 * (count - i) / count:.6f}" for i in range(count))
    std = sbm_engine.loads(
        "standard t.bands {\n"
        '    item q "Q" answer number 0..10\n'
        "    coefficient c = answer(q)\n"
        f"    bands c {{ {thresholds}, rest }}\n"
        "}\n"
    )
    answers = [0, 0.5, 2.5, 4, 9.99, 10]
    per_visit = [
        std.score({"visit_id": str(i), "answers": {"q": a}}).bands["c"]
        for i, a in enumerate(answers)
    ]
    assert per_visit == [std.model.bands["c"].band_of(float(a)) for a in answers]
    assert per_visit[-1] == "b0" and per_visit[0] == "rest"
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("numpy")
    table = std.score_table(pa.table({"visit_id": [str(i) for i in range(6)], "q": answers}))
    assert table.scored.column("bands.c").to_pylist() == per_visit


def test_a_function_takes_any_number_of_arguments_on_both_backends() -> None:
    std = sbm_engine.loads(_standard("max(" + ", ".join(["q"] * 1_000) + ")"))
    assert std.score({"visit_id": "v", "answers": {"q": 4}}).coefficients["c"] == 0.4
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("numpy")
    table = std.score_table(pa.table({"visit_id": ["v"], "q": [4]}))
    assert table.scored.column("coefficients.c").to_pylist() == [0.4]
