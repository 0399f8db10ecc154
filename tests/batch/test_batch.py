"""The batch (numpy) backend against the per-visit backend: same outcomes, always.

Differential tests: the conformance visits, then random valid standards and
random visits (tests/strategies.py), scored through `CompiledStandard.score_many`
and through `BatchEvaluator.score_records` / `score_table`; every coefficient,
section, item, band, gap, critical list, warning, rollup input and rejection
(same items, codes and messages) must agree.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import sbm_engine  # noqa: E402
from sbm_engine.batch import BatchEvaluator, score_table  # noqa: E402
from sbm_engine.io.records import TableLayout  # noqa: E402
from sbm_engine.results import RejectedVisit, ScoredVisit  # noqa: E402
from sbm_engine.runtime import MISSING  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from strategies import standards, visits  # noqa: E402

HERE = Path(__file__).parents[1] / "conformance"
TOL = 1e-12


def _lines(name: str) -> list[dict[str, Any]]:
    text = (HERE / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


@pytest.fixture(scope="module")
def demo() -> sbm_engine.CompiledStandard:
    return sbm_engine.load(HERE / "demo_branch.sbm")


@pytest.fixture(scope="module")
def bare_demo() -> sbm_engine.CompiledStandard:
    """The demo without plugins (installed packs may add validators for bank standards)."""
    from sbm_engine.api import check
    from sbm_engine.standard import CompiledStandard

    report = check(HERE / "demo_branch.sbm")
    return CompiledStandard(report.model)


# -- comparing outcomes ------------------------------------------------------------------------


def _close(x: Any, y: Any) -> bool:
    if x is None or y is None or isinstance(x, bool | str) or isinstance(y, bool | str):
        return (x == y and type(x) is type(y)) or (x is None and y is None)
    return math.isclose(x, y, rel_tol=TOL, abs_tol=TOL)


def _same_map(a: Any, b: Any, what: str) -> None:
    assert list(a) == list(b), f"{what}: keys differ"
    for k in a:
        assert _close(a[k], b[k]), f"{what}.{k}: per-visit {a[k]!r}, batch {b[k]!r}"


def assert_same(want: Any, got: Any) -> None:
    """`got` (batch) is the outcome `want` (per visit) within 1e-12."""
    assert type(want) is type(got), f"per-visit {want!r}\nbatch {got!r}"
    if isinstance(want, RejectedVisit):
        assert want.errors == got.errors
        assert want.visit_id == got.visit_id and want.source == got.source
        assert want.record == got.record
        return
    assert isinstance(want, ScoredVisit)
    for key in (
        "visit_id",
        "standard",
        "version",
        "point",
        "specialist",
        "region",
        "date",
        "scenario",
        "shopper",
        "critical",
        "warnings",
        "source",
    ):
        assert getattr(want, key) == getattr(got, key), key
    for key in ("coefficients", "sections", "items", "bands", "gaps", "rollup_inputs"):
        _same_map(getattr(want, key), getattr(got, key), key)


def assert_all_same(want: list[Any], got: list[Any]) -> None:
    assert len(want) == len(got)
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        try:
            assert_same(a, b)
        except AssertionError as exc:
            raise AssertionError(f"record {i}: {exc}") from exc


# -- conformance -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 3, 1 << 15])
def test_conformance_visits_agree(demo, chunk):
    records = _lines("demo_visits.jsonl")
    sources = [f"demo_visits.jsonl:{i + 1}" for i in range(len(records))]
    want = list(demo.score_many(records, sources))
    got = BatchEvaluator(demo, chunk_size=chunk).score_records(records, sources)
    assert_all_same(want, got)


def test_conformance_expected_figures_through_the_batch(bare_demo):
    got = BatchEvaluator(bare_demo).score_records(_lines("demo_visits.jsonl"))
    for outcome, want in zip(got, _lines("demo_expected.jsonl"), strict=True):
        if want["status"] == "rejected":
            assert {e.item for e in outcome.errors} == set(want["errors_on"])
            continue
        for key, value in want["coefficients"].items():
            assert (
                _close(outcome.coefficients[key], value)
                or abs(outcome.coefficients[key] - value) <= 1e-9
            )
        assert dict(outcome.bands) == want["band"]
        assert sorted(w.item for w in outcome.warnings) == sorted(want["warnings_on"])


def _demo_table(records: list[dict[str, Any]]) -> Any:
    """The demo visits as a table the way a CSV reader would type them (all text)."""
    rows = []
    for r in records:
        row = {k: v for k, v in r.items() if k != "answers"}
        row.update({k: None if v is None else str(v) for k, v in r["answers"].items()})
        rows.append(row)
    return pa.Table.from_pylist(rows)


def _reader_records(std: Any, table: Any) -> list[dict[str, Any]]:
    """What the tabular readers make of a table: the reference input for `score_table`."""
    layout = TableLayout(table.column_names, std.model.fields)
    out = []
    for row in table.to_pylist():
        record, error = layout.to_record(list(row.values()))
        assert error is None
        out.append(record)
    return out


def _flat_expected(std: Any, outcomes: list[Any]) -> tuple[list[dict], list[dict]]:
    from sbm_engine.io.writers import flatten

    scored = [flatten(o.to_dict()) for o in outcomes if o.ok]
    rejects = [o for o in outcomes if not o.ok]
    return scored, rejects


def assert_table_matches(
    std: Any, table: Any, source: str = "t.parquet", evaluator: BatchEvaluator | None = None
) -> None:
    records = _reader_records(std, table)
    sources = [f"{source}:{i + 1}" for i in range(len(records))]
    want_scored, want_rejects = _flat_expected(std, list(std.score_many(records, sources)))
    got = score_table(evaluator or std, table, source)
    got_scored = got.scored.to_pylist()
    assert len(got_scored) == len(want_scored)
    for w, g in zip(want_scored, got_scored, strict=True):
        assert list(w) == list(g)
        for k in w:
            assert _close(w[k], g[k]), f"{k}: reader path {w[k]!r}, table path {g[k]!r}"
    rejects = got.rejects.to_pylist()
    assert [r["visit_id"] for r in rejects] == [
        None if o.visit_id is None else str(o.visit_id) for o in want_rejects
    ]
    for r, o in zip(rejects, want_rejects, strict=True):
        assert json.loads(r["errors"]) == [e.to_dict() for e in o.errors]
        assert r["source"] == o.source
        assert json.loads(r["record"]) == o.record


def test_conformance_table(demo):
    assert_table_matches(demo, _demo_table(_lines("demo_visits.jsonl")))


def test_evaluators_are_cached_per_block_size_and_agree(demo):
    """`sbm score` scores in larger blocks than the library default: the same figures."""
    from sbm_engine.batch import evaluator_for

    assert evaluator_for(demo) is evaluator_for(demo)
    small = evaluator_for(demo, 3)
    assert small is not evaluator_for(demo) and small.chunk_size == 3
    table = _demo_table(_lines("demo_visits.jsonl"))
    assert score_table(small, table).scored.equals(score_table(demo, table).scored)


def test_table_columns_follow_the_output_contract(demo):
    got = score_table(demo, _demo_table(_lines("demo_visits.jsonl")))
    first = got.scored.to_pylist()[0]
    from sbm_engine.io.writers import flatten

    want = flatten(demo.score(_lines("demo_visits.jsonl")[0]).to_dict())
    assert list(first) == list(want)
    assert got.rejects.column_names == ["row", "visit_id", "source", "errors", "record"]
    rejected = [i for i, o in enumerate(demo.score_many(_lines("demo_visits.jsonl"))) if not o.ok]
    assert got.rejects.column("row").to_pylist() == rejected


# -- random standards and visits ----------------------------------------------------------------

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _load(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sbm_engine.loads(text, "gen.sbm")


@SETTINGS
@given(data=st.data())
def test_random_standards_and_visits_agree(data):
    spec = data.draw(standards())
    std = _load(spec.text)
    records = data.draw(visits(spec))
    chunk = data.draw(st.sampled_from([1, 4, 1 << 15]))
    want = list(std.score_many(records))
    got = BatchEvaluator(std, chunk_size=chunk).score_records(records)
    assert_all_same(want, got)


def _numbers(outcome: ScoredVisit) -> dict[str, Any]:
    """Every number of an outcome with its sign (so -0.0 and 0.0 differ, as in JSON)."""
    return {
        f"{key}.{k}": v if not isinstance(v, float) else (v, math.copysign(1.0, v))
        for key in ("coefficients", "sections", "items", "gaps", "rollup_inputs")
        for k, v in getattr(outcome, key).items()
    }


@SETTINGS
@given(data=st.data())
def test_random_standards_agree_to_the_last_bit(data):
    """Not just within 1e-12: sums are added in the per-visit code's order, and min,
    max and clamp keep the first of equal values as Python does, so every number is
    the same float, down to the sign of a zero (the JSON and CSV the two paths write
    are byte-identical: `clamp(-0, 0, 1)` is -0.0 in both)."""
    spec = data.draw(standards())
    std = _load(spec.text)
    records = data.draw(visits(spec))
    want = list(std.score_many(records))
    got = BatchEvaluator(std, chunk_size=data.draw(st.sampled_from([1, 4, 1 << 15]))).score_records(
        records
    )
    for a, b in zip(want, got, strict=True):
        if isinstance(a, ScoredVisit) and isinstance(b, ScoredVisit):
            assert _numbers(a) == _numbers(b)


def test_min_max_and_clamp_keep_the_sign_of_zero_as_python_does():
    std = _load(
        """standard zero.test "Zero" {
    version "1"
    item a "A" answer { yes = 1, no = 0 }
    item b "B" answer { yes = 1, no = 0 }
    coefficient c1 "1" = clamp(-0.2 * lost(items), 0, 1)
    coefficient c2 "2" = max(-0.2 * lost(items), 0)
    coefficient c3 "3" = min(0, -a * 0)
    coefficient c4 "4" = max(a, b) - min(a, b)
}"""
    )
    records = [
        {"visit_id": f"v{i}", "answers": {"a": x, "b": y}}
        for i, (x, y) in enumerate([("yes", "yes"), ("no", "no"), ("yes", "no"), ("na", "no")])
    ]
    want = list(std.score_many(records))
    got = BatchEvaluator(std).score_records(records)
    assert [_numbers(o) for o in want] == [_numbers(o) for o in got]
    assert str(want[0].coefficients["c1"]) == "-0.0"  # the case that used to differ


def test_threshold_chains_score_as_the_per_visit_code_does():
    """`if X op c then r else …` over one reference and constants takes a shortcut in
    the batch compiler (`_thresholds`); N/A comparisons must still go to the else
    branch, boundaries must compare the same way, and `!=` (true for N/A in numpy)
    must not take the shortcut."""
    from sbm_engine.batch.compiler import _thresholds

    std = _load(
        """standard chain.test "Chain" {
    version "1"
    item t "T" answer number 0..60 optional
        score = if value <= 5 then 1 else if value < 10 then 0.5 else if value == 30 then 0.2 else 0
    item a "A" answer { yes = 1, maybe = 0.5, no = 0 }
    coefficient c1 "1" = if a >= 0.5 then 0.75 else 0.25
    coefficient c2 "2" = if a > 0.5 then 1 else if t == 1 then 0.5 else 0
    coefficient c3 "3" = if a != 0.5 then 1 else 0
    coefficient c4 "4" = if a < 1 then c1 else 0
}"""
    )
    model = std.model
    chains = {c.name: _thresholds(c.expr) is not None for c in model.coefficients}
    assert chains == {"c1": True, "c2": False, "c3": False, "c4": False}
    item_t = next(it for it in model.items if it.name == "t")
    assert _thresholds(item_t.score) is not None
    waits = [0, 5, 5.000001, 9.99, 10, 29, 30, 31, 60, None]
    records = [
        {"visit_id": f"v{i}", "answers": {"a": a, **({} if w is None else {"t": w})}}
        for i, (w, a) in enumerate((w, a) for w in waits for a in ("yes", "maybe", "no", "na"))
    ]
    want = list(std.score_many(records))
    got = BatchEvaluator(std).score_records(records)
    assert_all_same(want, got)
    assert [_numbers(o) for o in want] == [_numbers(o) for o in got]


def test_selections_scored_in_another_order_are_summed_in_theirs():
    """An item whose condition reads a later item is scored after it; a selection of
    both then cannot be summed while they are scored (`sums.SumPlan`) and is summed
    afterwards, still in its own order."""
    std = _load(
        """standard order.test "Order" {
    version "1"
    section s "S" {
        item a "A" answer { yes = 1, no = 0 } weight 0.1 tags t when b == 1
        item b "B" answer { yes = 1, no = 0 } weight 0.2 tags t
        item c "C" answer { yes = 1, no = 0.3 } weight 0.7 bonus tags t
    }
    coefficient ct "T" = weighted_mean(tagged t)
    coefficient ce "E" = earned(items) + possible(in s) - lost(tagged t)
}"""
    )
    plan = BatchEvaluator(std).plan
    assert plan.sums.index == {}  # a is scored after b: nothing is summed on the fly
    answers = [
        {"a": x, "b": y, "c": z}
        for x in ("yes", "no")
        for y in ("yes", "no")
        for z in ("yes", "no")
    ]
    records = [{"visit_id": f"v{i}", "answers": a} for i, a in enumerate(answers)]
    want = list(std.score_many(records))
    got = BatchEvaluator(std).score_records(records)
    assert_all_same(want, got)
    assert [_numbers(o) for o in want] == [_numbers(o) for o in got]


def test_selections_in_scoring_order_are_summed_while_scoring(demo):
    plan = BatchEvaluator(demo).plan
    sections = [s.name for s in demo.model.sections]
    assert len(plan.sums.index) >= len(sections)  # each section, plus the tag coefficients
    in_sections = {i for s in demo.model.sections for i in s.items if plan.items[i].scored}
    assert {x.name for sel in plan.sums.index for x in sel} >= in_sections


def _tabular(records: list[Any], items: list[str]) -> Any:
    """Records as a text table (a CSV read as strings): every cell str or null."""
    rows = []
    for r in records:
        if not isinstance(r, dict) or not isinstance(r.get("answers", {}), dict):
            continue
        row: dict[str, Any] = {}
        for key in ("visit_id", "point", "scenario", "channel"):
            v = r.get(key)
            row[key] = None if v is None else str(v)
        answers = r.get("answers") or {}
        for name in items:
            v = answers.get(name)
            row[name] = None if v is None else (v if isinstance(v, str) else json.dumps(v))
        rows.append(row)
    if not rows:
        return None
    return pa.Table.from_pylist(rows)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_tables_agree_with_the_reader_path(data):
    spec = data.draw(standards())
    std = _load(spec.text)
    records = data.draw(visits(spec))
    table = _tabular(records, [it.name for it in spec.items])
    if table is not None:
        assert_table_matches(std, table)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), block=st.integers(1, 6), chunk=st.integers(1, 9), dictionary=st.booleans())
def test_tables_agree_whatever_the_encoding_block_and_chunk(data, block, chunk, dictionary):
    """Columns are encoded a block at a time and item lookup tables are reused while
    a block's distinct answers stay the same: with blocks and chunks of a few rows,
    slices inside a block, across blocks and across chunk edges all meet."""
    from unittest.mock import patch

    from sbm_engine.batch import columns

    spec = data.draw(standards())
    std = _load(spec.text)
    records = data.draw(visits(spec))
    table = _tabular(records, [it.name for it in spec.items])
    if table is None:
        return
    if dictionary:
        table = pa.table(
            {
                k: c.dictionary_encode() if pa.types.is_string(c.type) else c
                for k, c in zip(table.column_names, table.columns, strict=True)
            }
        )
    with patch.object(columns, "BLOCK", block):
        assert_table_matches(std, table, evaluator=BatchEvaluator(std, chunk_size=chunk))


# -- columns API ------------------------------------------------------------------------------


def test_evaluate_columns_numpy_and_lists(bare_demo):
    demo = bare_demo
    ev = BatchEvaluator(demo)
    n = 4
    answers = {
        "greeted": ["yes", "no", "да", "na"],
        "smile": pa.array(["yes", None, "YES", "no"]),
        "wait": np.array([2.0, 7.0, 12.0, 3.0]),
        "questions": [5, "4", 3.0, 1],
        "card": ["yes", "no", MISSING, "yes"],
        "secrecy": ["yes", "yes", "yes", "no"],
        "clean": [5, 4, 3, None],
        "overall": [10, None, 9, MISSING],
    }
    visit = {"visit_id": [f"v{i}" for i in range(n)], "scenario": ["deposit", "loan", "loan", "x"]}
    res = ev.evaluate_columns(answers, visit)
    # row 1: `smile` null in an Arrow column is a missing answer: rejected per visit
    assert res.suspect.tolist() == [False, True, False, False]
    records = []
    for i in range(n):
        ans = {}
        for k, col in answers.items():
            v = col[i].as_py() if isinstance(col, pa.Array) else col[i]
            if isinstance(col, np.ndarray):
                v = float(v)
            if v is not MISSING and not (isinstance(col, pa.Array) and v is None):
                ans[k] = v
        records.append({"visit_id": f"v{i}", "scenario": visit["scenario"][i], "answers": ans})
    for i, rec in enumerate(records):
        want = demo.score(rec)
        if res.suspect[i]:
            assert not want.ok
            continue
        for name, value in want.coefficients.items():
            got = res.coefficients[name][i]
            assert (value is None and np.isnan(got)) or _close(value, float(got))
        assert res.band_values("visit")[i] == want.bands["visit"]
        assert bool(res.critical["secrecy"][i]) == ("secrecy" in want.critical)
        assert bool(res.warnings["card"][i]) == any(w.item == "card" for w in want.warnings)


def test_unknown_columns_make_rows_suspect(bare_demo):
    ev = BatchEvaluator(bare_demo)
    res = ev.evaluate_columns(
        {"greeted": ["yes", "yes"], "gretted": [MISSING, "yes"]},
        {"visit_id": ["a", "b"]},
    )
    assert res.suspect.tolist() == [True, True]  # both miss required answers; b also unknown
    records = [
        {"visit_id": "a", "answers": {"greeted": "yes"}},
        {"visit_id": "b", "answers": {"greeted": "yes", "gretted": "yes"}},
    ]
    got = ev.score_records(records)
    assert "unknown_item" in {e.code for e in got[1].errors}


# -- plugin functions ---------------------------------------------------------------------------


PLUGIN_STD = """
standard plug.test {
    scale yn { yes = 1, no = 0 }
    item a "A" answer number 0..10
    item b "B" answer yn optional
    coefficient c1 = clamp(half(answer(a)), 0, 1)
    coefficient c2 = if both(answer(a) >= 5, b >= 1) then 1 else 0
    coefficient c3 = coalesce(half(c1), 0.25)
}
"""


def _plugin_standard(monkeypatch: Any, batch: bool) -> Any:
    from sbm_engine import api
    from sbm_engine.functions import FunctionRegistry, FunctionSpec

    calls: dict[str, int] = {"half": 0, "half_batch": 0}

    def half(x: float) -> float | None:
        calls["half"] += 1
        return None if x > 9 else x / 2

    def half_batch(x: Any) -> Any:
        calls["half_batch"] += 1
        x = np.asarray(x, dtype=float)
        return np.where(x > 9, np.nan, x / 2)

    def both(x: bool | None, y: bool | None) -> bool | None:
        return None if x is None or y is None else (x and y)

    registry = FunctionRegistry(
        [
            FunctionSpec("half", ("num",), "num", half, half_batch if batch else None),
            FunctionSpec("both", ("bool", "bool"), "bool", both, None, na_aware=True),
        ]
    )
    monkeypatch.setattr(api, "_functions", lambda: registry)
    return api.loads(PLUGIN_STD, "plug.sbm"), calls


@pytest.mark.parametrize("batch", [True, False])
def test_plugin_functions_agree(monkeypatch, batch):
    std, calls = _plugin_standard(monkeypatch, batch)
    records = [
        {"visit_id": f"v{i}", "answers": {"a": a, "b": b}}
        for i, (a, b) in enumerate([(1, "yes"), (6, "no"), (10, "yes"), (7, None), (0, "yes")])
    ]
    want = list(std.score_many(records))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ev = BatchEvaluator(std)
    fallbacks = [w for w in caught if "no batch form" in str(w.message)]
    assert {str(w.message).split("`")[1] for w in fallbacks} == (
        {"both"} if batch else {"half", "both"}
    )
    assert len(fallbacks) == len({str(w.message) for w in fallbacks})  # once per function
    calls["half"] = calls["half_batch"] = 0
    assert_all_same(want, ev.score_records(records))
    if batch:
        assert calls["half_batch"] >= 1 and calls["half"] == 0


# -- odd inputs ----------------------------------------------------------------------------------


def test_odd_values_go_to_the_per_visit_path(demo):
    records = [
        {
            "visit_id": "v1",
            "scenario": "deposit",
            "answers": {
                "greeted": True,
                "smile": ["yes"],
                "wait": 2**60,
                "questions": 5,
                "card": "yes",
                "secrecy": "yes",
                "clean": 5,
            },
        },
        {
            "visit_id": "v2",
            "scenario": ["deposit"],
            "answers": {
                "greeted": "yes",
                "smile": "yes",
                "wait": float("nan"),
                "questions": 5,
                "card": {"x": 1},
                "secrecy": "yes",
                "clean": 5,
                "overall": "4,5",
            },
        },
        "not a record",
        {"visit_id": "v3", "answers": "oops"},
        {"visit_id": {"unhashable": 1}, "answers": {}},
        {"visit_id": {"unhashable": 1}, "answers": {}},
    ]
    assert_all_same(list(demo.score_many(records)), BatchEvaluator(demo).score_records(records))


def test_division_by_zero_only_where_the_branch_runs():
    std = _load("""
standard div.test {
    scale yn { yes = 1, no = 0 }
    item a "A" answer yn
    item b "B" answer yn
    coefficient safe = if b == 0 then 0 else a / b
    coefficient lazy = if (b > 0) and (a / b > 0.5) then 1 else 0
    coefficient risky = a / b
}
""")
    records = [
        {"visit_id": f"v{i}", "answers": {"a": a, "b": b}}
        for i, (a, b) in enumerate([("yes", "yes"), ("yes", "no"), ("no", "no")])
    ]
    want = list(std.score_many(records))
    got = BatchEvaluator(std).score_records(records)
    assert_all_same(want, got)
    assert [o.ok for o in got] == [True, False, False]
    assert got[1].errors[0].code == "formula_error"


def test_numpy_missing_gives_a_clear_error():
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "try:\n    import sbm_engine.batch\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'sbm-engine[fast]'" in out.stdout


def test_encoding_keeps_equal_numbers_of_other_types_apart():
    from sbm_engine.batch.values import encode_objects

    codes, distinct = encode_objects([1, 1.0, True, "1", 1, None, MISSING, [1]])
    assert len(distinct) == 7  # 1, 1.0, True, "1", None, MISSING, the list
    assert codes[0] == codes[4]
    assert len({codes[0], codes[1], codes[2], codes[3]}) == 4
    codes, distinct = encode_objects(["yes", 5, "na", 5, None])  # one numeric type: fast path
    assert codes.tolist()[1] == codes.tolist()[3] and len(distinct) == 4


_INT_TYPES = ["int8", "uint8", "int16", "uint16", "int32", "int64", "uint64"]


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    type_name=st.sampled_from(_INT_TYPES),
    wide=st.booleans(),
)
def test_integer_columns_encode_to_the_values_they_hold(data, type_name, wide):
    """Integer columns of a small range are coded from their buffers by offset (null
    slots hold arbitrary values); whatever the type, range, nulls and slice, code by
    code the distinct values are the cells as the tabular readers see them."""
    from sbm_engine.batch.columns import ArrowSource, tabular_cell

    t = getattr(pa, type_name)()
    info = np.iinfo(np.dtype(type_name))
    lo = data.draw(st.integers(int(info.min), int(info.max)))
    span = (2**40 if wide else 300) if info.bits > 8 else 255
    hi = min(int(info.max), lo + data.draw(st.integers(0, span)))
    cells = st.one_of(st.none(), st.integers(lo, hi))
    values = data.draw(st.lists(cells, min_size=1, max_size=40))
    arr = pa.array(values, type=t)
    start = data.draw(st.integers(0, len(values) - 1))
    stop = data.draw(st.integers(start + 1, len(values)))
    codes, distinct = ArrowSource(arr)._encode(start, stop)
    assert codes.dtype == np.intp
    want = [MISSING if v is None else tabular_cell(v) for v in values[start:stop]]
    assert [distinct[c] for c in codes] == want


def test_null_slots_of_an_integer_column_are_never_read_as_values():
    """Arrow leaves null slots undefined: garbage there widens the range at most."""
    from sbm_engine.batch.columns import ArrowSource

    raw = np.array([1, 99, 0, -77, 1], dtype=np.int8)
    valid = np.packbits(np.array([1, 0, 1, 0, 1], dtype=bool), bitorder="little")
    arr = pa.Array.from_buffers(pa.int8(), 5, [pa.py_buffer(valid), pa.py_buffer(raw)], 2)
    codes, distinct = ArrowSource(arr)._encode(0, 5)
    assert [distinct[c] for c in codes] == [1, MISSING, 0, MISSING, 1]


def test_null_slots_of_dictionary_indices_are_never_read_as_codes():
    """Dictionary indices are read from the Arrow buffers: null slots (garbage, even
    out of range) become the null code, and a slice's offset is honoured."""
    from sbm_engine.batch.columns import ArrowSource

    raw = np.array([0, 1, 7000, 2, -5, 1, 0], dtype=np.int32)
    valid = np.packbits(np.array([1, 1, 0, 1, 0, 1, 1], dtype=bool), bitorder="little")
    indices = pa.Array.from_buffers(pa.int32(), 7, [pa.py_buffer(valid), pa.py_buffer(raw)], 2)
    arr = pa.DictionaryArray.from_arrays(indices, pa.array(["yes", "no", ""]))
    for start in range(8):  # the last slice is empty
        part = arr.slice(start)
        codes, distinct = ArrowSource(part)._encode(0, len(part))
        want = [MISSING if v in (None, "") else v for v in part.to_pylist()]
        assert [distinct[c] for c in codes] == want


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    kind=st.sampled_from(["text", "dictionary", "int8", "int64"]),
)
def test_a_complete_block_has_no_missing_cell(data, kind):
    """`ArrowSource.complete` lets a decoder skip the rows' missing-answer errors:
    it may say False when unsure (it looks at the whole block of the rows), but True
    only when no code of the rows is MISSING (a null, or "" in a text column); of a
    whole block of these kinds it is never unsure."""
    from sbm_engine.batch.columns import BLOCK, ArrowSource

    if kind in ("text", "dictionary"):
        cells = st.one_of(st.none(), st.sampled_from(["", "yes", "no", "na"]))
        values = data.draw(st.lists(cells, min_size=1, max_size=30))
        arr = pa.array(values, type=pa.string())
        if kind == "dictionary":
            arr = arr.dictionary_encode()
    else:
        values = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=1))
        arr = pa.array(values, type=getattr(pa, kind)())
    start = data.draw(st.integers(0, len(values) - 1))
    stop = data.draw(st.integers(start + 1, len(values)))
    src = ArrowSource(arr)
    codes, distinct = src.encoded(start, stop)
    missing = any(distinct[c] is MISSING for c in codes)
    assert stop <= BLOCK
    assert not (src.complete(start, stop) and missing)
    whole = any(distinct[c] is MISSING for c in src.encoded(0, len(values))[0])
    assert src.complete(0, len(values)) == (not whole)


def test_a_missing_required_answer_is_suspect_in_a_later_block(bare_demo):
    """An item whose answers are all given in one block skips the missing-answer
    lookup there, and a later block of the same column with an empty cell still
    marks that row (the lookup tables are shared by the blocks)."""
    from sbm_engine.batch.columns import BLOCK

    ev = BatchEvaluator(bare_demo, chunk_size=BLOCK)
    n = BLOCK + 3
    answers = {
        "greeted": pa.array(["yes"] * (n - 1) + [""]).dictionary_encode(),
        "smile": ["yes"] * n,
        "wait": [2] * n,
        "questions": [5] * n,
        "card": ["yes"] * n,
        "secrecy": ["yes"] * n,
        "clean": [5] * n,
    }
    visit = {"visit_id": [f"v{i}" for i in range(n)], "scenario": ["deposit"] * n}
    res = ev.evaluate_columns(answers, visit)
    assert np.flatnonzero(res.suspect).tolist() == [n - 1]


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(
        st.one_of(st.none(), st.sampled_from(["", " ", "a", "b", "é", "ab"])), max_size=40
    ),
    collide=st.booleans(),
)
def test_repeated_ids_by_hash_are_the_repeated_texts(ids, collide, monkeypatch_module):
    """A chunk's repeated visit_ids found by hashing the text column's bytes are
    those found by encoding it, colliding hashes included (every hash alike)."""
    from sbm_engine.batch import table

    arr = pa.array(ids, type=pa.string())
    src = table._FieldTextSource(table.ArrowSource(arr))
    want = table._duplicates(table._Text(*src.inner.text_codes()))
    if collide:
        monkeypatch_module.setattr(table, "hash_texts", lambda t: np.zeros(len(t), np.int64))
    try:
        got = table._repeated_texts(arr)
    finally:
        monkeypatch_module.undo()
    assert got.tolist() == want.tolist()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), names=st.sampled_from([1, 3, 8, 9, 64, 65, 70]))
def test_json_masks_list_the_names_set(data, names):
    """Each row's JSON list names the masks set on it, in the masks' order, for up to
    64 names (packed in one integer) and beyond."""
    from sbm_engine.batch.table import _json_masks

    n = data.draw(st.integers(0, 12))
    keys = [f"k{j}" for j in range(names)]
    rows = data.draw(st.lists(st.sets(st.sampled_from(keys)), min_size=n, max_size=n))
    masks = {k: np.array([k in r for r in rows], dtype=bool) for k in keys}
    text = _json_masks(masks, n, lambda k: k.upper())
    got = [None if c < 0 else text._values[c] for c in text.codes.tolist()]
    assert got == [json.dumps([k.upper() for k in keys if k in r]).replace(", ", ",") for r in rows]


@given(
    st.lists(st.sampled_from([0.0, -0.0, 0.25, 1.0, 1e308, float("nan")]), max_size=20),
    st.sampled_from([1.0, 2.0, -3.0, 0.1, 0.0]),
    st.booleans(),
)
def test_weighted_rows_are_w_times_the_scores_and_w(scores, w, bonus):
    """w·score + i·w per row, +0.0 (both parts) where the score is N/A, no i·w for a
    bonus item: the very products, bit for bit, that the per-visit sums add."""
    from sbm_engine.batch.sums import weighted_rows

    with np.errstate(over="ignore"):  # the scoring runs so: an overflow marks the row
        out = weighted_rows(np.array(scores, dtype=float), w, bonus)
    for s, c in zip(scores, out.tolist(), strict=True):
        want = (0.0, 0.0) if math.isnan(s) else (s * w, 0.0 if bonus else w)
        assert np.float64(c.real).tobytes() == np.float64(want[0]).tobytes()
        assert np.float64(c.imag).tobytes() == np.float64(want[1]).tobytes()


def test_score_rows_explains_suspect_rows(bare_demo):
    ev = BatchEvaluator(bare_demo)
    answers = {
        "greeted": ["yes", "maybe"],
        "smile": ["yes", "yes"],
        "wait": [2, 400],
        "questions": [5, 5],
        "card": ["yes", "yes"],
        "secrecy": ["yes", "na"],
        "clean": [5, 5],
    }
    visit = {"visit_id": ["a", "b"], "scenario": ["deposit", "deposit"]}
    res = ev.evaluate_columns(answers, visit)
    assert res.suspect.tolist() == [False, True]
    (outcome,) = ev.score_rows(answers, visit, np.flatnonzero(res.suspect).tolist())
    assert {(e.item, e.code) for e in outcome.errors} == {
        ("greeted", "not_in_scale"),
        ("wait", "out_of_range"),
        ("secrecy", "na_not_allowed"),
    }
    assert ev.score_rows(answers, visit, [0])[0].ok


# -- text columns read from Arrow dictionaries ----------------------------------------------------


def _with_visit_ids(table: Any, ids: Any) -> Any:
    return table.set_column(table.column_names.index("visit_id"), "visit_id", ids)


@pytest.mark.parametrize("dictionary", [False, True])
def test_visit_ids_duplicate_blank_and_empty_as_the_reader_sees_them(demo, dictionary):
    """Duplicates, blank ids ("  ", "\\u2003") and empty cells ("" and null) are found
    whether visit_id is plain text or a dictionary (whose values Arrow lets repeat)."""
    table = _demo_table(_lines("demo_visits.jsonl"))
    n = table.num_rows
    assert n >= 6
    wanted = ["a", "b", "a", "  ", "\u2003", "", None, "c"][:n] + [f"x{i}" for i in range(n - 8)]
    if dictionary:
        values = pa.array(["a", "b", "a", "  ", "\u2003", "", "c", "a"])
        codes = {"a": 0, "b": 1, "  ": 3, "\u2003": 4, "": 5, "c": 6}
        # the third row uses the repeated "a" (code 2), the others the first one
        indices = [2 if i == 2 else codes.get(v) for i, v in enumerate(wanted[:8])]
        extra = pa.array(wanted[8:], pa.string())
        ids = pa.DictionaryArray.from_arrays(
            pa.array(indices + list(range(8, 8 + len(extra))), pa.int32()),
            pa.concat_arrays([values, extra]),
        )
    else:
        ids = pa.array(wanted, pa.string())
    assert ids.to_pylist() == wanted
    assert_table_matches(demo, _with_visit_ids(table, ids))


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch a hypothesis test may use (the function-scoped one is reset
    only once for all its examples)."""
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
