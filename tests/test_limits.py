"""A standard's cost is bounded: expressions nest only so deep, and up to the limit
every stage (checker, both backends, interpreter, formatter) handles them.

Every stage walks expressions recursively and generated Python may indent at most
100 levels; the parser refuses deeper nesting with E0005 (`parser.MAX_NESTING`,
`parser.MAX_CONDITIONS`) instead of a RecursionError or an IndentationError.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import sbm_engine
from sbm_engine.api import CheckReport, check
from sbm_engine.formatter import format_source
from sbm_engine.parser import MAX_CONDITIONS, MAX_NESTING


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


#: The deepest of each kind that must still work, and what it computes for q = 4.
AT_THE_LIMIT = {
    "conditions": (nested_ifs(MAX_CONDITIONS), 1.0),
    "a long sum": (" + ".join(["q"] * (MAX_NESTING - 10)), 0.4 * (MAX_NESTING - 10)),
    "negations": ("-" * (MAX_NESTING - 10) + "q", 0.4),  # an even number of minus signs
    "and chain": (
        "if " + " and ".join(["q > 0"] * (MAX_CONDITIONS - 1)) + " then 1 else 0",
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
        nested_ifs(MAX_CONDITIONS + 1),
        " + ".join(["q"] * 20_000),
        "-" * 20_000 + "q",
        " or ".join(["q > 0"] * (MAX_CONDITIONS + 2)),
    ],
    ids=["ifs", "sum", "negations", "or chain"],
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
