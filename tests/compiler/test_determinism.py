"""Outputs that do not depend on the run: error order, nested visit fields, visit ids.

Three reproductions from a red team, each a rule of the engine now:

* the errors of a rejection, and the warnings of a scored visit, come in the order
  of the standard (`standard.error_rank`), not in the order of a set: the same
  bytes whatever PYTHONHASHSEED, on both backends;
* a visit field holding an object or a list (a JSONL object, a Parquet struct, list
  or map column) rejects the visit (`bad_field`), on both backends and from every
  input format, instead of being written as `<...Unhashable object at 0x…>`;
* visit ids are compared as the text the outputs show (`standard.visit_key`):
  `1`, `1.0` and `"1"` are one visit id, `true` is `"true"` and not `1`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import sbm_engine  # noqa: E402
from sbm_engine.batch import BatchEvaluator, evaluate_table, score_table  # noqa: E402
from sbm_engine.results import RejectedVisit  # noqa: E402
from sbm_engine.standard import CompiledStandard  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from strategies import standards, visits  # noqa: E402

#: `p` is declared first and reads q, r, s and t: they are evaluated before it, in
#: the order the checker finds them (once the order of a set).
DEP = """\
standard t.dep "dependencies" {
    version "1"
    scale yn { yes = 1, no = 0 }
    field channel "channel" one of { web, phone }
    item p "p" answer yn
        when answer(q) == yes or answer(r) == yes or answer(s) == yes or answer(t) == yes
    item q "q" answer yn when visit.scenario == "on"
    item r "r" answer yn when visit.scenario == "on"
    item s "s" answer yn when visit.scenario == "on"
    item t "t" answer yn when visit.scenario == "on"
    item u "u" answer number 0..10
    coefficient visit = weighted_mean(items)
}
"""

BAD = {"q": "bad-q", "r": "bad-r", "s": "bad-s", "t": "bad-t"}
GOOD = {"p": "yes", "q": "yes", "r": "no", "s": "yes", "t": "no", "u": 5}
RECORDS: list[dict[str, Any]] = [
    {"visit_id": "e1", "scenario": "on", "answers": {**GOOD, **BAD, "u": 11}},
    {"visit_id": "w1", "scenario": "off", "answers": GOOD},
    {"visit_id": "e2", "scenario": "on", "channel": "fax", "answers": {**BAD, "zz": 1, "p": 3}},
    {"scenario": "on", "answers": {"t": "x", "q": "y"}},
    {"visit_id": "e1", "scenario": "on", "answers": {**GOOD, "s": "maybe", "r": "??"}},
    {"visit_id": "ok", "scenario": "on", "answers": GOOD},
]


def _standard(path: Path) -> Path:
    path.write_text(DEP, encoding="utf-8")
    return path


def _table(records: list[dict[str, Any]]) -> Any:
    """Records as a flat table (one column per visit field and answer key; all text)."""
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(k for k in r if k != "answers"))
        keys.update(dict.fromkeys(r["answers"]))
    columns = {}
    for k in keys:
        cells = [r.get(k, r["answers"].get(k)) for r in records]
        columns[k] = pa.array([None if c is None else str(c) for c in cells], pa.string())
    return pa.table(columns)


# -- 1. the order of errors and warnings --------------------------------------------------------

_SCRIPT = """
import json, sys
import pyarrow as pa
import sbm_engine
from sbm_engine.batch import BatchEvaluator, score_table
std = sbm_engine.load(sys.argv[1])
records = json.loads(sys.argv[2])
table = pa.ipc.open_file(sys.argv[3]).read_all()
out = {
    "per_visit": [o.to_dict() for o in std.score_many(records)],
    "batch": [o.to_dict() for o in BatchEvaluator(std, chunk_size=2).score_records(records)],
}
scored, rejects = score_table(std, table, "t")
out["table"] = [scored.to_pylist(), rejects.to_pylist()]
print(json.dumps(out, sort_keys=True))
"""


def _run(seed: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=300
    )


def _sbm_score(
    std: Path, inputs: list[Path], *options: str, seed: int = 0, status: int = 1
) -> tuple[bytes, bytes]:
    """`sbm score` in a process of its own: the bytes of its output and rejects."""
    name = "_".join([str(seed), *options]).replace("-", "")
    out, bad = std.parent / f"{name}.jsonl", std.parent / f"{name}.rejects.jsonl"
    argv = ["score", str(std), *map(str, inputs), "-o", str(out), "--rejects", str(bad)]
    done = _run(seed, "-c", "from sbm_engine.cli import main; main()", *argv, *options)
    assert done.returncode == status, done.stderr
    return out.read_bytes(), bad.read_bytes()


def test_outcomes_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    std = _standard(tmp_path / "dep.sbm")
    table_path = tmp_path / "visits.arrow"
    with pa.ipc.new_file(table_path, _table(RECORDS).schema) as sink:
        sink.write_table(_table(RECORDS))
    runs = {}
    for seed in (0, 1, 2, 123):
        done = _run(seed, "-c", _SCRIPT, str(std), json.dumps(RECORDS), str(table_path))
        assert done.returncode == 0, done.stderr
        runs[seed] = json.loads(done.stdout)
    first = runs[0]
    for seed, run in runs.items():
        assert run == first, f"PYTHONHASHSEED={seed} gives other outcomes than 0"
    assert first["per_visit"] == first["batch"]
    errors = [[(e["item"], e["code"]) for e in o.get("errors", ())] for o in first["per_visit"]]
    assert errors[0] == [
        ("q", "not_in_scale"),
        ("r", "not_in_scale"),
        ("s", "not_in_scale"),
        ("t", "not_in_scale"),
        ("u", "out_of_range"),
    ]
    assert errors[2] == [  # p does not apply: its condition reads invalid answers
        ("zz", "unknown_item"),
        ("q", "not_in_scale"),
        ("r", "not_in_scale"),
        ("s", "not_in_scale"),
        ("t", "not_in_scale"),
        ("u", "missing"),
        ("channel", "bad_field"),
    ]
    assert errors[3][0] == ("visit_id", "missing_visit_id")
    assert [i for i, _ in errors[3][1:]] == ["q", "r", "s", "t", "u"]  # bad or missing
    assert errors[4][:3] == [
        ("visit_id", "duplicate_visit"),
        ("r", "not_in_scale"),
        ("s", "not_in_scale"),
    ]
    warned = [w["item"] for w in first["per_visit"][1]["warnings"]]
    assert warned == ["p", "q", "r", "s", "t"]  # declaration order
    table_rejects = first["table"][1]
    assert [json.loads(r["errors"]) for r in table_rejects] == [
        o["errors"] for o in first["per_visit"] if "errors" in o
    ]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sbm_score_gives_the_same_bytes_for_any_seed_and_engine(
    tmp_path: Path, suffix: str
) -> None:
    std = _standard(tmp_path / "dep.sbm")
    data = tmp_path / f"visits{suffix}"
    table = _table(RECORDS)
    if suffix == ".parquet":
        pq.write_table(table, data)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, data)
    outputs = {
        _sbm_score(std, [data], "--engine", engine, seed=seed)
        for seed in (0, 123)
        for engine in ("python", "batch")
    }
    assert len(outputs) == 1
    (scored, rejected), *_ = outputs
    assert json.loads(scored.splitlines()[0])["warnings"][0]["item"] == "p"
    assert b'"item": "q"' in rejected.splitlines()[0]


def _rank(m: Any) -> dict[str, int]:
    """Record, then undeclared names (2, the default), items, sections, … fields."""
    names = ["visit_id", "answers", "", *(i.name for i in m.items), *(s.name for s in m.sections)]
    names += [c.name for c in m.coefficients] + [r.name for r in m.rollups] + [*m.visit_fields]
    return {name: i for i, name in reversed(list(enumerate(names)))}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_errors_and_warnings_come_in_the_order_of_the_standard_on_both_engines(
    data: st.DataObject,
) -> None:
    spec = data.draw(standards())
    std = sbm_engine.loads(spec.text, "gen.sbm")
    records = data.draw(visits(spec))
    want = list(std.score_many(records))
    got = BatchEvaluator(std, chunk_size=3).score_records(records)
    assert [o.to_dict() for o in want] == [o.to_dict() for o in got]  # errors in order too
    rank = _rank(std.model)
    items = {it.name: i for i, it in enumerate(std.model.items)}
    for outcome in want:
        if isinstance(outcome, RejectedVisit):
            found = [rank.get(e.item, 2) for e in outcome.errors]
            assert found == sorted(found), [e.item for e in outcome.errors]
        else:
            warned = [items[w.item] for w in outcome.warnings]
            assert warned == sorted(warned)


# -- 2. objects and lists in visit fields --------------------------------------------------------


def _nested_table() -> Any:
    point = pa.struct([("x", pa.int64()), ("y", pa.string())])
    return pa.table(
        {
            "visit_id": ["n1", "n2", "n3", "n4"],
            "point": pa.array([{"x": 1, "y": "a"}, None, None, {"x": None, "y": None}], point),
            "region": pa.array([None, [1, 2], None, []], pa.list_(pa.int64())),
            "channel": pa.array([None, None, [("web", 1)], None], pa.map_(pa.string(), pa.int64())),
            "scenario": ["on", "on", "off", "on"],
            **{k: [str(v)] * 4 for k, v in GOOD.items()},
        }
    )


def test_nested_parquet_fields_are_rejected_alike_by_both_engines(tmp_path: Path) -> None:
    std = _standard(tmp_path / "dep.sbm")
    data = tmp_path / "nested.parquet"
    pq.write_table(_nested_table(), data)
    runs = [
        _sbm_score(std, [data], *options)
        for options in (["--engine", "python"], ["--engine", "batch"], ["--chunk-size", "2"])
    ]
    assert runs[0] == runs[1] == runs[2]
    assert b"Unhashable" not in runs[0][0] + runs[0][1]
    assert runs[0][0] == b""  # every visit holds an object or a list
    rejects = [json.loads(line) for line in runs[0][1].splitlines()]
    assert [[(e["item"], e["code"]) for e in r["errors"]] for r in rejects] == [
        [("point", "bad_field")],
        [("region", "bad_field")],
        [("channel", "bad_field")],  # once: not also "not one of web, phone"
        [("point", "bad_field"), ("region", "bad_field")],
    ]
    assert rejects[0]["record"]["point"] == {"x": 1, "y": "a"}
    assert "`point` is an object" in rejects[0]["errors"][0]["message"]


def test_object_visit_ids_are_rejected_and_compared_alike(tmp_path: Path) -> None:
    std = _standard(tmp_path / "dep.sbm")
    data = tmp_path / "ids.parquet"
    ids = pa.array([{"a": 1}, {"a": 2}, {"a": 1}], pa.struct([("a", pa.int64())]))
    pq.write_table(pa.table({"visit_id": ids, **{k: [str(v)] * 3 for k, v in GOOD.items()}}), data)
    runs = [
        _sbm_score(std, [data], *options)
        for options in (["--engine", "python"], ["--engine", "batch"], ["--chunk-size", "1"])
    ]
    assert runs[0] == runs[1] == runs[2]
    rejects = [json.loads(line) for line in runs[0][1].splitlines()]
    assert [r["visit_id"] for r in rejects] == ['{"a":1}', '{"a":2}', '{"a":1}']
    assert [e["code"] for e in rejects[2]["errors"]] == ["duplicate_visit", "bad_field"]


def test_nested_fields_from_jsonl_and_the_api_are_rejected(tmp_path: Path) -> None:
    std = sbm_engine.load(_standard(tmp_path / "dep.sbm"))
    records: list[dict[str, Any]] = [
        {"visit_id": "j1", "point": {"x": 1}, "scenario": "on", "answers": GOOD},
        {"visit_id": "j2", "date": ["2026"], "scenario": "on", "answers": GOOD},
        {"visit_id": {"id": 3}, "scenario": "on", "answers": GOOD},
        {"visit_id": {"id": 3}, "scenario": "on", "answers": GOOD},
        {"visit_id": "j4", "scenario": ["on"], "answers": GOOD},  # read by formulas: N/A
    ]
    want = list(std.score_many(records))
    got = BatchEvaluator(std).score_records(records)
    assert [o.to_dict() for o in want] == [o.to_dict() for o in got]
    codes = [[(e.item, e.code) for e in o.errors] for o in want]
    assert codes == [
        [("point", "bad_field")],
        [("date", "bad_field")],
        [("visit_id", "bad_field")],
        [("visit_id", "duplicate_visit"), ("visit_id", "bad_field")],
        [("scenario", "bad_field")],
    ]
    assert want[2].to_dict()["visit_id"] == '{"id":3}'
    table = pa.table({"visit_id": ["t1"], "date": pa.array([[1]], pa.list_(pa.int64()))})
    bare = CompiledStandard(std.model, allow_unknown=True)
    assert evaluate_table(BatchEvaluator(bare), table).suspect.tolist() == [True]
    scored, rejects = score_table(bare, table)
    assert scored.num_rows == 0
    errors = json.loads(rejects.column("errors")[0].as_py())
    assert [e["code"] for e in errors][-1] == "bad_field"


def test_a_field_compared_in_a_formula_may_hold_an_object(tmp_path: Path) -> None:
    text = DEP.replace('when visit.scenario == "on"', 'when visit.date >= "2026"')
    std = sbm_engine.loads(text, "date.sbm")
    record = {"visit_id": "d", "date": {"y": 2026}, "answers": GOOD}
    outcome = std.score(record)  # no TypeError: the object is read as N/A
    assert [(e.item, e.code) for e in outcome.errors] == [("date", "bad_field")]


# -- 3. what makes two visit ids the same ------------------------------------------------------


def test_visit_ids_compare_as_their_text_on_both_engines(tmp_path: Path) -> None:
    std = sbm_engine.load(_standard(tmp_path / "dep.sbm"))
    ids: list[Any] = [1, 1.0, True, "1", "true", 2, "2.0", 2.5, "2.50"]
    records = [{"visit_id": i, "scenario": "on", "answers": GOOD} for i in ids]
    for outcomes in (list(std.score_many(records)), BatchEvaluator(std).score_records(records)):
        dup = [not o.ok and o.errors[0].code == "duplicate_visit" for o in outcomes]
        assert dup == [False, True, False, True, True, False, False, False, False]
    jsonl = tmp_path / "ids.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    _, bad = _sbm_score(tmp_path / "dep.sbm", [jsonl])
    rejects = [json.loads(line) for line in bad.splitlines()]
    assert [r["visit_id"] for r in rejects] == [1.0, "1", "true"]
    assert [r["errors"][0]["message"] for r in rejects] == [
        f"visit_id {text!r} appears earlier in this batch" for text in ("1", "1", "true")
    ]


def test_visit_ids_of_any_column_type_compare_as_text(tmp_path: Path) -> None:
    std = _standard(tmp_path / "dep.sbm")
    answers = {k: [str(v)] for k, v in GOOD.items()}
    files = []
    for name, column in [
        ("ints", pa.array([1], pa.int64())),
        ("texts", pa.array(["1"])),  # the same id as 1
        ("floats", pa.array([1.0])),  # and again
        ("bools", pa.array([True])),  # "true": another id
        ("more", pa.array(["true"])),  # the same as true
    ]:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"visit_id": column, "scenario": ["on"], **answers}), path)
        files.append(path)
    runs = [_sbm_score(std, files, "--engine", engine) for engine in ("python", "batch")]
    assert runs[0] == runs[1]
    rejects = [json.loads(line) for line in runs[0][1].splitlines()]
    assert [(r["source"].rsplit("/", 1)[-1], r["visit_id"]) for r in rejects] == [
        ("texts.parquet:1", "1"),
        ("floats.parquet:1", "1"),
        ("more.parquet:1", "true"),
    ]


def test_the_evaluation_order_does_not_follow_the_hash_seed() -> None:
    import subprocess
    import sys

    text = (
        "standard t.order {\n"
        + "".join(f'    item i{k} "I" answer {{ yes = 1, no = 0 }}\n' for k in range(12))
        + "    coefficient total = "
        + " + ".join(f"c{k}" for k in range(12))
        + "\n"
        + "".join(f"    coefficient c{k} = i{k} + i{(k * 5) % 12}\n" for k in range(12))
        + "}\n"
    )
    code = f"import sbm_engine; print(sbm_engine.loads({text!r}).model.order)"
    orders = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "2", "123")
    }
    assert len(orders) == 1, orders
