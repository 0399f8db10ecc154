"""Numbers that are not finite (inf, NaN) reject one visit; they never abort a run and
never reach an output.

Where they come from: JSONL `1e400` (valid JSON, read as inf), a CSV cell `1e400`, a
Parquet float `inf`, and formulas that overflow (`answer(a) * answer(a)` with
a = 1e200) or lose their meaning (inf - inf). The choices made, and tested here:

* an answer that is such a number: `not_a_number` on the item, "not a finite number";
* a visit field that is one (JSONL keeps a field's JSON type; tabular readers make
  fields text, so a Parquet `inf` field is the text "inf"): `not_a_number` on the
  field, since the output would carry it and JSON has no spelling for it;
* a CSV cell beyond the float range stays text as read ("1e400");
* a Parquet float NaN is an empty cell, as it always was (a missing answer);
* a coefficient, gap, rollup input or score that comes out inf or NaN:
  `formula_error` naming the construct and its line, on both engines alike;
* the rejects file keeps the record as read, such numbers written as text ("inf").
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.cli import cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("numpy")

from demo import GOOD  # noqa: E402

from sbm_engine.batch import BatchEvaluator, score_table  # noqa: E402
from tests.batch.test_batch import assert_all_same  # noqa: E402

DEMO = str(Path(__file__).parents[1] / "conformance" / "demo_branch.sbm")
DEMO_COLUMNS = ["visit_id", "scenario", *GOOD]
#: 10**309: beyond the float range when read as a float.
HUGE = "1" + "0" * 309
#: 10**308, in the float range, written as a literal the language reads.
E308 = "1" + "0" * 308

BIG = """standard test.big "Big numbers" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    item ok "Ok" answer yes_no
    item a "A" answer number optional
    item b "B" answer number optional
    coefficient sq "Square" = answer(a) * answer(a)
    coefficient diff "Difference" = answer(a) * 10 - answer(b) * 10
    coefficient total "Total" = weighted_mean(items)
    rollup mean_a "Mean of a" = avg(answer(a))
}
"""


def _refuse(constant: str) -> Any:
    raise AssertionError(f"{constant} in JSON output")


def strict_lines(path: Path) -> list[dict[str, Any]]:
    """A JSONL file's objects; NaN or Infinity anywhere fails the test."""
    text = path.read_text(encoding="utf-8")
    return [json.loads(line, parse_constant=_refuse) for line in text.splitlines() if line]


def run_score(
    standard: str, inp: Path, out: Path, engine: str = "python"
) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """`sbm score` with one engine: exit status, summary, rejects (strictly parsed)."""
    rejects = out.with_name(out.stem + ".rej.jsonl")
    args = ["score", standard, str(inp), "-o", str(out), "--rejects", str(rejects)]
    result = CliRunner().invoke(cli, [*args, "--engine", engine, "--format", "json"])
    assert result.exit_code == 1, result.output
    return result.exit_code, json.loads(result.stdout), strict_lines(rejects)


def assert_output_finite(out: Path) -> None:
    """No number in a results file is inf or NaN (NaN in a table would read as N/A)."""
    if out.suffix == ".jsonl":
        strict_lines(out)
    elif out.suffix == ".csv":
        text = out.read_text(encoding="utf-8").lower()
        assert "inf" not in text and "nan" not in text
    else:
        for column in pq.read_table(out).columns:
            if pa.types.is_floating(column.type):
                values = [v for v in column.to_pylist() if v is not None]
                assert all(math.isfinite(v) for v in values), column


def demo_line(vid: str, **changes: Any) -> str:
    """A good demo visit as a JSONL line; `changes` replace answers, or, when named
    `field_…`, set a visit field; values that are strings go in raw (e.g. "1e999")."""
    answers = {k: json.dumps(v) for k, v in GOOD.items()}
    fields = {"visit_id": json.dumps(vid), "scenario": '"deposit"'}
    for key, value in changes.items():
        target = fields if key.startswith("field_") else answers
        target[key.removeprefix("field_")] = value if isinstance(value, str) else json.dumps(value)
    inner = ", ".join(f'"{k}": {v}' for k, v in answers.items())
    head = ", ".join(f'"{k}": {v}' for k, v in fields.items())
    return "{" + head + ', "answers": {' + inner + "}}"


def _errors(reject: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["item"], e["code"]) for e in reject["errors"]]


# -- 1. a non-finite answer or field in the input ------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("literal", ["1e999", "-1e400", HUGE + ".0"])
def test_a_jsonl_answer_beyond_the_float_range_rejects_its_visit(tmp_path, suffix, literal):
    inp = tmp_path / "wave.jsonl"
    lines = [demo_line("v1"), demo_line("v2", wait=literal), demo_line("v3")]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    _, summary, rejects = run_score(DEMO, inp, out)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (3, 2, 1)
    (reject,) = rejects
    assert reject["visit_id"] == "v2" and reject["source"].endswith("wave.jsonl:2")
    assert _errors(reject) == [("wait", "not_a_number")]
    assert "not a finite number" in reject["errors"][0]["message"]
    assert reject["record"]["answers"]["wait"] in ("inf", "-inf")
    assert_output_finite(out)


@pytest.mark.parametrize("item", ["greeted", "questions"])  # a label scale, a numeric one
def test_a_non_finite_answer_to_a_scale_item_is_not_a_number(tmp_path, item):
    inp = tmp_path / "wave.jsonl"
    inp.write_text(demo_line("v1", **{item: "1e999"}) + "\n", encoding="utf-8")
    _, _, (reject,) = run_score(DEMO, inp, tmp_path / "out.jsonl")
    assert _errors(reject) == [(item, "not_a_number")]
    assert "not a finite number" in reject["errors"][0]["message"]


@pytest.mark.parametrize("field", ["point", "shopper", "visit_id"])
def test_a_jsonl_visit_field_beyond_the_float_range_rejects_its_visit(tmp_path, field):
    inp = tmp_path / "wave.jsonl"
    lines = [demo_line("v1"), demo_line("v2", **{f"field_{field}": "1e400"}), demo_line("v3")]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    _, summary, (reject,) = run_score(DEMO, inp, out)
    assert summary["scored"] == 2
    assert _errors(reject) == [(field, "not_a_number")]
    assert f"`{field}` is inf" in reject["errors"][0]["message"]
    assert reject["record"][field] == "inf"
    assert [v["visit_id"] for v in strict_lines(out)] == ["v1", "v3"]


@pytest.mark.parametrize("field", ["point", "shopper", "visit_id"])
def test_both_engines_reject_a_field_beyond_the_float_range_in_records(field):
    std = sbm_engine.load(DEMO)
    lines = [demo_line("v1"), *(demo_line(x, **{f"field_{field}": x}) for x in ("1e400", HUGE))]
    records = [json.loads(line) for line in lines]
    want = list(std.score_many(records))
    assert [[(e.item, e.code) for e in o.errors] if not o.ok else [] for o in want] == [
        [],
        [(field, "not_a_number")],
        [(field, "not_a_number")],
    ]
    assert_all_same(want, BatchEvaluator(std).score_records(records))


def _demo_rows(wait_values: list[Any]) -> list[list[Any]]:
    return [
        [f"v{i}", "deposit", *({**GOOD, "wait": w}.values())]
        for i, w in enumerate(wait_values, start=1)
    ]


def _engines_agree(tmp_path: Path, standard: str, inp: Path, suffix: str) -> list[dict]:
    """Score with both engines: same exit, counts, result bytes and rejects."""
    got = {}
    for engine in ("python", "batch"):
        out = tmp_path / f"{engine}{suffix}"
        code, summary, rejects = run_score(standard, inp, out, engine)
        assert_output_finite(out)
        counts = {k: summary[k] for k in ("read", "scored", "rejected")}
        # Parquet: the same values (the two writers may choose other column encodings)
        results = pq.read_table(out).to_pylist() if suffix == ".parquet" else out.read_bytes()
        got[engine] = (code, counts, results, rejects)
    assert got["python"] == got["batch"]
    return got["python"][3]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_csv_cell_beyond_the_float_range_stays_text_and_rejects_its_visit(tmp_path, suffix):
    inp = tmp_path / "wave.csv"
    with inp.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([DEMO_COLUMNS, *_demo_rows([3, "1e400", 4])])
    (reject,) = _engines_agree(tmp_path, DEMO, inp, suffix)
    assert reject["source"].endswith("wave.csv:3")
    assert _errors(reject) == [("wait", "not_a_number")]
    assert reject["errors"][0]["message"].startswith('answer "1e400" to `wait` is not a finite')
    assert reject["record"]["answers"]["wait"] == "1e400"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_parquet_inf_answer_rejects_its_visit_and_nan_is_an_empty_cell(tmp_path, suffix):
    rows = _demo_rows([3.0, math.inf, 4.0, math.nan])
    columns = {c: [r[i] for r in rows] for i, c in enumerate(DEMO_COLUMNS)}
    columns["overall"] = [7.0, 7.0, -math.inf, math.nan]  # optional: NaN is N/A
    inp = tmp_path / "wave.parquet"
    pq.write_table(pa.table(columns), inp)
    rejects = _engines_agree(tmp_path, DEMO, inp, suffix)
    assert [(r["visit_id"], _errors(r)) for r in rejects] == [
        ("v2", [("wait", "not_a_number")]),
        ("v3", [("overall", "not_a_number")]),
        ("v4", [("wait", "missing")]),  # NaN: an empty cell, as pandas writes one
    ]
    assert rejects[0]["record"]["answers"]["wait"] == "inf"
    assert rejects[1]["record"]["answers"]["overall"] == "-inf"


def test_a_parquet_inf_in_a_visit_field_is_text_as_every_tabular_field(tmp_path):
    rows = _demo_rows([3, 4])
    columns = {c: [r[i] for r in rows] for i, c in enumerate(DEMO_COLUMNS)}
    columns["point"] = [math.inf, 1.0]
    inp = tmp_path / "wave.parquet"
    pq.write_table(pa.table(columns), inp)
    for engine in ("python", "batch"):
        out = tmp_path / f"{engine}.jsonl"
        result = CliRunner().invoke(
            cli, ["score", DEMO, str(inp), "-o", str(out), "--engine", engine]
        )
        assert result.exit_code == 0, result.output
        assert [v["point"] for v in strict_lines(out)] == ["inf", "1"]


# -- 2. formulas whose result is not finite ------------------------------------------------------

BIG_ROWS = [
    ("v1", 2.0, 1.0),
    ("v2", 1e200, 1.0),  # a * a overflows
    ("v3", 1e308, 1e308),  # a * 10 - b * 10 is inf - inf
    ("v4", 3.0, 1.0),
]


@pytest.fixture()
def big_sbm(tmp_path: Path) -> str:
    path = tmp_path / "big.sbm"
    path.write_text(BIG, encoding="utf-8")
    return str(path)


def _assert_big_rejects(rejects: list[dict[str, Any]]) -> None:
    assert [r["visit_id"] for r in rejects] == ["v2", "v3"]
    for r in rejects:
        assert _errors(r) == [("sq", "formula_error")]
        message = r["errors"][0]["message"]
        assert message.startswith("the result is inf, not a finite number (too large")
        assert "in coefficient `sq` (" in message and message.endswith("big.sbm:7)")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_an_overflowing_formula_is_a_formula_error_from_jsonl(tmp_path, big_sbm, suffix):
    inp = tmp_path / "big.jsonl"
    inp.write_text(
        "".join(
            json.dumps({"visit_id": v, "answers": {"ok": "yes", "a": a, "b": b}}) + "\n"
            for v, a, b in BIG_ROWS
        ),
        encoding="utf-8",
    )
    out = tmp_path / f"out{suffix}"
    _, summary, rejects = run_score(big_sbm, inp, out)
    assert summary["scored"] == 2
    _assert_big_rejects(rejects)
    assert_output_finite(out)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_an_overflowing_formula_is_the_same_formula_error_on_both_engines(
    tmp_path, big_sbm, kind, suffix
):
    inp = tmp_path / f"big.{kind}"
    if kind == "csv":
        with inp.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(
                [
                    ["visit_id", "ok", "a", "b"],
                    *[[v, "yes", repr(a), repr(b)] for v, a, b in BIG_ROWS],
                ]
            )
    else:
        names = ["visit_id", "ok", "a", "b"]
        rows = [(v, "yes", a, b) for v, a, b in BIG_ROWS]
        pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), inp)
    _assert_big_rejects(_engines_agree(tmp_path, big_sbm, inp, suffix))


# -- the two engines on the same extreme inputs (a differential test) ---------------------------

#: One construct per standard, so that nothing else marks the row for the per-visit path.
FORMULAS = [
    "answer(a) * answer(a)",
    "answer(a) * 10 - answer(b) * 10",
    "answer(a) - answer(b)",
    "answer(a) / answer(b)",
    "sum(sum(answer(a), answer(a)), -sum(answer(b), answer(b)))",
    "mean(answer(a), answer(a), answer(b))",
    "weighted_mean(answer(a): 1, answer(b): 1)",
    "clamp(answer(a) * answer(a), 0, 1)",
    "if answer(a) * answer(a) > 1 then 1 else 0",
    "min(answer(a) * 10, 5)",
    "coalesce(answer(a) * answer(a), 0)",
    "sum(answer(a), answer(b))",
    "max(answer(a) * answer(b), 0)",
    "-answer(a) * answer(b) / 3",
]
EXTREMES = [0.0, 2.0, -3.0, 1e-300, 1e200, -1e200, 1e308, -1e308, 1.7e308, None]


def _standard(body: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sbm_engine.loads(
            'standard test.x "X" {\n version "1"\n'
            ' item a "A" answer number optional\n item b "B" answer number optional\n'
            + body
            + "\n}\n",
            "x.sbm",
        )


def _records(pairs: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, (a, b) in enumerate(pairs):
        answers = {k: v for k, v in (("a", a), ("b", b)) if v is not None}
        out.append({"visit_id": f"v{i}", "answers": answers})
    return out


def _table(pairs: list[tuple[Any, Any]]) -> Any:
    return pa.table(
        {
            "visit_id": [f"v{i}" for i in range(len(pairs))],
            "a": pa.array([a for a, _ in pairs], pa.float64()),
            "b": pa.array([b for _, b in pairs], pa.float64()),
        }
    )


def _engines_same(std: Any, pairs: list[tuple[Any, Any]]) -> None:
    """Per visit, batch from records, batch from a table: the same outcomes."""
    from sbm_engine.results import json_safe

    records = _records(pairs)
    want = list(std.score_many(records))
    for chunk in (1, 1 << 13):
        assert_all_same(want, BatchEvaluator(std, chunk_size=chunk).score_records(records))
    got = score_table(std, _table(pairs))
    scored = [o for o in want if o.ok]
    assert got.scored.column("visit_id").to_pylist() == [o.visit_id for o in scored]
    for o, row in zip(scored, got.scored.to_pylist(), strict=True):
        for name, value in o.coefficients.items():
            assert row[f"coefficients.{name}"] == value
        for name, value in o.gaps.items():
            assert row[f"gaps.{name}"] == value
    rejected = [o for o in want if not o.ok]
    rows = got.rejects.to_pylist()
    assert [r["visit_id"] for r in rows] == [o.visit_id for o in rejected]
    for o, r in zip(rejected, rows, strict=True):
        assert json.loads(r["errors"]) == [e.to_dict() for e in o.errors]
        assert json.loads(r["record"], parse_constant=_refuse) == json_safe(o.record)
    for o in scored:
        for value in (*o.coefficients.values(), *o.gaps.values(), *o.rollup_inputs.values()):
            assert not isinstance(value, float) or math.isfinite(value)


@pytest.mark.parametrize("formula", FORMULAS)
def test_both_engines_reject_the_same_non_finite_results(formula):
    std = _standard(f'coefficient c "C" = {formula}')
    pairs = [(a, b) for a in EXTREMES for b in EXTREMES]
    _engines_same(std, pairs)


def test_rollup_inputs_and_gaps_that_overflow_are_formula_errors_on_both_engines():
    std = _standard(
        'coefficient c "C" = answer(a) * 1.5\n'
        f"target c {E308}\n"
        'rollup r "R" = avg(answer(b) * answer(b))'
    )
    pairs = [(1.0, 1.0), (-1e308, 1.0), (1.0, 1e200), (2.0, None)]
    _engines_same(std, pairs)
    outcomes = list(std.score_many(_records(pairs)))
    assert [o.ok for o in outcomes] == [True, False, False, True]
    assert outcomes[1].errors[0].item == "c" and "the gap of `c`" in outcomes[1].errors[0].message
    assert outcomes[2].errors[0].item == "r" and "rollup `r`" in outcomes[2].errors[0].message


def test_scores_of_a_range_as_wide_as_the_floats_are_checked_on_both_engines():
    std = _standard(
        f'item w "W" answer number -{E308}..{E308} optional\n'
        'coefficient c "C" = weighted_mean(items)'
    )
    records = [
        {"visit_id": f"v{i}", "answers": {"w": w}}
        for i, w in enumerate([0.0, 1e308, -1e308, 5e307])
    ]
    want = list(std.score_many(records))
    assert [o.ok for o in want] == [True, False, True, True]
    assert want[1].errors[0].item == "w" and "the score of item `w`" in want[1].errors[0].message
    assert_all_same(want, BatchEvaluator(std).score_records(records))


# -- 3. explain ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "visit", "status"),
    [
        (demo_line("x1", card="1e999", field_scenario='"loan"'), "x1", 0),  # card does not apply
        (demo_line("x2", wait="1e999"), "x2", 1),
        (demo_line("x3", field_visit_id="1e999"), "inf", 1),
    ],
)
def test_explain_json_never_holds_nan_or_infinity(tmp_path, line, visit, status):
    inp = tmp_path / "wave.jsonl"
    inp.write_text(line + "\n", encoding="utf-8")
    args = ["explain", DEMO, str(inp), "--visit", visit, "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == status, result.output
    json.loads(result.stdout, parse_constant=_refuse)


# -- nothing is lost, whatever numbers come ------------------------------------------------------

odd_numbers = st.sampled_from(["1e999", "-1e999", "1e308", HUGE, HUGE + ".5", "2", '"1e400"'])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cells=st.lists(
        st.tuples(st.sampled_from(["wait", "overall", "greeted", "field_point"]), odd_numbers),
        max_size=12,
    ),
    suffix=st.sampled_from([".jsonl", ".csv", ".parquet"]),
)
def test_odd_numbers_never_lose_a_visit_or_abort_the_run(tmp_path_factory, cells, suffix):
    tmp = tmp_path_factory.mktemp("odd")
    inp = tmp / "wave.jsonl"
    lines = [demo_line(f"v{i}", **{key: value}) for i, (key, value) in enumerate(cells)]
    inp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out, bad = tmp / f"out{suffix}", tmp / "bad.jsonl"
    result = CliRunner().invoke(
        cli, ["score", DEMO, str(inp), "-o", str(out), "--rejects", str(bad), "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    summary = json.loads(result.stdout)
    assert summary["read"] == len(lines) == summary["scored"] + summary["rejected"]
    assert len(strict_lines(bad)) == summary["rejected"]
    assert_output_finite(out)


# -- the pieces ------------------------------------------------------------------------------------


def test_number_parser_keeps_numbers_beyond_the_float_range_as_text():
    from sbm_engine.io.detect import number_parser

    convert = number_parser(".")
    assert convert("1e400") == "1e400" and convert("-1.5e999") == "-1.5e999"
    assert convert("1e308") == 1e308 and convert(HUGE) == int(HUGE)
    assert number_parser(",")("1,5e400") == "1,5e400"


def test_json_safe_spells_non_finite_numbers_and_keeps_the_rest_as_is():
    from sbm_engine.results import json_safe

    record = {"a": [1.0, {"b": math.inf}], "c": -math.inf, "d": math.nan, "e": "x"}
    assert json_safe(record) == {"a": [1.0, {"b": "inf"}], "c": "-inf", "d": "nan", "e": "x"}
    clean = {"a": [1.0, {"b": 2}], "e": None}
    assert json_safe(clean) is clean


def test_not_finite():
    from sbm_engine.runtime import not_finite

    assert not_finite(math.inf) and not_finite(math.nan) and not_finite("1e400")
    assert not_finite(int(HUGE)) and not_finite("4,5e999")
    assert not (not_finite(1e308) or not_finite("4,5") or not_finite(True) or not_finite("x"))


def test_a_huge_integer_answer_is_rejected_alike_by_both_engines(big_sbm):
    """An int too large for a float is `not_a_number`, with a range or without, from
    both engines, never a crash."""
    std = sbm_engine.load(big_sbm)
    records = [{"visit_id": "v", "answers": {"ok": "yes", "a": int(HUGE), "b": -int(HUGE)}}]
    want = list(std.score_many(records))
    assert [(e.item, e.code) for e in want[0].errors] == [
        ("a", "not_a_number"),
        ("b", "not_a_number"),
    ]
    assert_all_same(want, BatchEvaluator(std).score_records(records))
    std = sbm_engine.load(DEMO)
    out = std.score(
        {"visit_id": "v", "scenario": "deposit", "answers": {**GOOD, "wait": int(HUGE)}}
    )
    assert [(e.item, e.code) for e in out.errors] == [("wait", "not_a_number")]
    assert "of about 310 digits" in out.errors[0].message
