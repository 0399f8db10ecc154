"""The Python API of product.md: load, score, score_many, rollup; frozen, typed results."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import sbm_engine

DEMO = Path(__file__).parents[1] / "conformance" / "demo_branch.sbm"
VISITS = [json.loads(x) for x in (DEMO.parent / "demo_visits.jsonl").read_text().splitlines()]
CONTRACT = [
    "visit_id",
    "standard",
    "version",
    "point",
    "specialist",
    "region",
    "date",
    "scenario",
    "shopper",
    "coefficients",
    "sections",
    "items",
    "bands",
    "gaps",
    "critical",
    "warnings",
]


def test_a_scored_visit_serializes_to_the_output_contract_in_order() -> None:
    out = sbm_engine.load(DEMO).score(VISITS[0])
    assert out.ok
    d = out.to_dict()
    assert list(d)[: len(CONTRACT)] == CONTRACT
    assert set(d) - set(CONTRACT) <= {"rollup_inputs"}
    json.dumps(d)  # plain JSON types only


def test_a_rejected_visit_serializes_to_the_rejects_contract() -> None:
    out = sbm_engine.load(DEMO).score(VISITS[4], source="wave.jsonl:5")
    assert not out.ok
    assert list(out.to_dict()) == ["visit_id", "source", "errors", "record"]
    assert out.to_dict()["errors"][0] == {
        "item": "greeted",
        "code": "missing",
        "message": out.errors[0].message,
    }


def test_results_are_immutable() -> None:
    out = sbm_engine.load(DEMO).score(VISITS[0])
    with pytest.raises(AttributeError):
        out.visit_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        out.coefficients["visit"] = 0.0  # type: ignore[index]


def test_a_standard_is_reloaded_when_a_file_it_imports_changes(tmp_path: Path) -> None:
    (tmp_path / "scales.sbm").write_text("standard lib.s { scale yn { yes = 1, no = 0 } }\n")
    main = tmp_path / "main.sbm"
    main.write_text(
        'standard m { import "scales.sbm"\n item a "A" answer yn\n coefficient c = a }\n'
    )
    first = sbm_engine.load(main)
    assert sbm_engine.load(main) is first  # unchanged files: the cached compile
    (tmp_path / "scales.sbm").write_text("standard lib.s { scale yn { yes = 1, no = 0.5 } }\n")
    again = sbm_engine.load(main)
    assert again is not first
    assert again.score({"visit_id": 1, "answers": {"a": "no"}}).coefficients["c"] == 0.5


def test_one_standard_scores_the_same_from_many_threads() -> None:
    std = sbm_engine.load(DEMO)
    want = [o.to_dict() for o in map(std.score, VISITS * 50)]
    with ThreadPoolExecutor(4) as pool:
        got = [o.to_dict() for o in pool.map(std.score, VISITS * 50)]
    assert got == want


def test_unknown_answer_keys_can_be_allowed() -> None:
    record = {**VISITS[0], "answers": {**VISITS[0]["answers"], "extra": 1}}
    assert not sbm_engine.load(DEMO).score(record).ok
    assert sbm_engine.load(DEMO, allow_unknown=True).score(record).ok


def test_the_generated_python_is_readable_and_names_no_user_text() -> None:
    src = sbm_engine.load(DEMO).python_source
    assert "def evaluate(answers, visit, errs, warns):" in src
    assert "greeted" not in src and "deposit" not in src and "demo_branch" not in src


def test_score_table_scores_an_arrow_table_like_score_many() -> None:
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("numpy")
    std = sbm_engine.load(DEMO)
    rows = [
        {"visit_id": v["visit_id"], "scenario": v["scenario"], **v["answers"]} for v in VISITS[:4]
    ]
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in columns})
    result = std.score_table(table, source="wave.parquet")
    scored = result.scored.to_pylist()
    want = [o for o in std.score_many(VISITS[:4]) if o.ok]
    assert [r["visit_id"] for r in scored] == [o.visit_id for o in want]
    for row, out in zip(scored, want, strict=True):
        assert row["coefficients.visit"] == pytest.approx(out.coefficients["visit"], abs=1e-12)


def test_compiling_pauses_the_garbage_collector_and_restores_it():
    """The collector is off while a standard compiles (it would only walk new objects
    that all live on) and comes back as it was: on, off, after an error, nested."""
    import gc

    from sbm_engine.api import gc_paused

    seen = []

    @gc_paused
    def inner() -> None:
        seen.append(gc.isenabled())

    @gc_paused
    def outer(fail: bool) -> None:
        inner()
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")

    assert gc.isenabled()
    outer(False)
    assert seen == [False, False] and gc.isenabled()
    with pytest.raises(ValueError):
        outer(True)
    assert gc.isenabled()
    gc.disable()
    try:
        outer(False)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    with pytest.raises(sbm_engine.CompileError):
        sbm_engine.loads("standard x {", "bad.sbm")
    assert gc.isenabled()
