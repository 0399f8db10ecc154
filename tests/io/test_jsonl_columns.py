"""JSONL from scored Arrow tables (`io.jsonl_columns`) against the record writer.

The reference is the record path's own writer: `writers.JsonlWriter`, fed each
scored visit in the `ScoredVisit.to_dict()` shape. The sample waves and the
conformance visits are scored twice, by the record path (records read from the
wave's Parquet file, `CompiledStandard.score_many`) and by the batch path
(`score_table` on the same file), and the bytes must agree; generated tables
(hypothesis) check the spelling of every kind of value."""

from __future__ import annotations

import importlib
import json
import math
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("numpy")

import sbm_engine  # noqa: E402
from sbm_engine.batch.table import score_table  # noqa: E402
from sbm_engine.formats import open_writer  # noqa: E402
from sbm_engine.io import (  # noqa: E402
    InputError,
    OutputError,
    jsonl_columns,
)
from sbm_engine.io.jsonl_columns import (  # noqa: E402
    JsonlEncoder,
    Unsupported,
    read_jsonl_chunks,
    value_texts,
)
from sbm_engine.io.readers import (  # noqa: E402
    ReadOptions,
    read_jsonl,
    read_parquet,
    read_xlsx,
)
from sbm_engine.standard import duplicate  # noqa: E402


def record_reader(path: Path, **options: Any) -> Any:
    """The record path's own reader of `path` (by its extension), with `options`."""
    readers = {".jsonl": read_jsonl, ".parquet": read_parquet, ".xlsx": read_xlsx}
    return readers[path.suffix](path, ReadOptions(**options))


ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "tests" / "conformance"
PACKS = {
    "bank": "bank.branch",
    "salon": "salon.visit",
    "restaurant": "restaurant.service",
    "hotel": "hotel.stay",
}


# -- the reference -------------------------------------------------------------------------------


def nested(flat: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """A flat scored row in the `ScoredVisit.to_dict()` shape (missing columns: None, or
    an empty list for `critical` and `warnings`)."""
    out: dict[str, Any] = {}
    for key, shape in template.items():
        if isinstance(shape, dict):
            out[key] = {name: flat.get(f"{key}.{name}") for name in shape}
        elif key in ("critical", "warnings"):
            text = flat.get(key)
            out[key] = json.loads(text) if text else []
        else:
            out[key] = flat.get(key)
    return out


def record_writer_bytes(tmp_path: Path, visits: list[dict[str, Any]]) -> bytes:
    path = tmp_path / "reference.jsonl"
    with open_writer(path) as writer:
        writer.write_many(visits)
    return path.read_bytes()


def reference(tmp_path: Path, table: Any, template: dict[str, Any]) -> bytes:
    return record_writer_bytes(tmp_path, [nested(row, template) for row in table.to_pylist()])


# -- the same visits scored by both paths --------------------------------------------------------


def wave_table(records: list[dict[str, Any]]) -> Any:
    """Records as a table the tabular readers read back to the same records: visit
    fields and `answers.ITEM` columns; a column holding more than one JSON type is text."""
    columns: dict[str, list[Any]] = {}
    for i, record in enumerate(records):
        cells = {k: v for k, v in record.items() if k != "answers"}
        cells.update({f"answers.{k}": v for k, v in record.get("answers", {}).items()})
        for key in cells:
            columns.setdefault(key, [None] * i)
        for key, column in columns.items():
            column.append(cells.get(key))
    arrays = {}
    for key, values in columns.items():
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int} or kinds <= {float} or kinds <= {str} or kinds <= {bool}:
            arrays[key] = pa.array(values)
        else:
            arrays[key] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


def both_paths(std: Any, path: Path, tmp_path: Path) -> tuple[bytes, bytes, int]:
    """(the record path's bytes, the columnar bytes, visits scored) for one Parquet wave."""
    session = std.session()
    scored = []
    for rec in record_reader(path, visit_fields=std.model.visit_fields):
        outcome = session.read(rec)
        if outcome.ok:
            scored.append(outcome.to_dict())
    expected = record_writer_bytes(tmp_path, scored)
    table = score_table(std, pq.read_table(path), str(path)).scored
    return expected, JsonlEncoder(std.result_template()).encode(table), len(scored)


def _records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_conformance_visits_same_bytes_as_record_path(tmp_path: Path) -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    path = tmp_path / "demo.parquet"
    pq.write_table(wave_table(_records(CONFORMANCE / "demo_visits.jsonl")), path)
    expected, got, count = both_paths(std, path, tmp_path)
    assert count > 0
    assert got == expected


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_sample_waves_same_bytes_as_record_path(tmp_path: Path, pack: str) -> None:
    pytest.importorskip(f"sbm_{pack}")
    importlib.import_module(f"sbm_{pack}")
    std = sbm_engine.load(PACKS[pack])
    path = tmp_path / "wave.parquet"
    pq.write_table(
        wave_table(_records(ROOT / "plugins" / f"sbm-{pack}" / "sample" / "wave.jsonl")), path
    )
    expected, got, count = both_paths(std, path, tmp_path)
    assert count > 10
    assert got == expected


# -- spelling, on generated tables -------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "visit_id": None,
    "standard": "demo",
    "version": None,
    "point": None,
    "coefficients": {"visit": None, "point": None},
    "items": {"greeted": None, "wait": None, 'длинное имя "x"': None},
    "bands": {"visit": None},
    "gaps": {},
    "critical": [],
    "warnings": [],
    "rollup_inputs": {"nps.1": None, "count.1": None},
}

finite = st.floats(allow_nan=False, allow_infinity=False)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
few = st.sampled_from([0.0, 0.5, 1.0, -0.0, None])
criticals = st.lists(st.sampled_from(["card", "secrecy", "ключ"]), unique=True)
warnings = st.lists(
    st.fixed_dictionaries({"item": st.sampled_from(["wait", "card"]), "message": texts}),
    max_size=2,
)


def _compact(value: list[Any]) -> str | None:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@st.composite
def scored_tables(draw: Any) -> Any:
    n = draw(st.integers(1, 150))
    many = st.lists(st.one_of(finite, st.none()), min_size=n, max_size=n)
    column = {
        "visit_id": pa.array(draw(st.lists(texts, min_size=n, max_size=n)), pa.string()),
        "standard": pa.array(["demo"] * n),
        "version": pa.array([draw(st.one_of(st.none(), texts))] * n, pa.string()),
        "point": pa.array(draw(st.lists(st.one_of(texts, st.none()), min_size=n, max_size=n))),
        "coefficients.visit": pa.array(draw(many), pa.float64()),
        "coefficients.point": pa.array(
            [draw(finite) for _ in range(n)] if draw(st.booleans()) else [None] * n, pa.float64()
        ),
        "items.greeted": pa.array(draw(st.lists(few, min_size=n, max_size=n)), pa.float64()),
        "items.wait": pa.array(
            draw(
                st.lists(
                    st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()), min_size=n, max_size=n
                )
            ),
            pa.int64(),
        ),
        'items.длинное имя "x"': pa.array(draw(many), pa.float64()),
        "bands.visit": pa.array(
            draw(st.lists(st.sampled_from(["good", "плохо", None]), min_size=n, max_size=n)),
            pa.string(),
        ),
        "critical": pa.array(
            [_compact(v) for v in draw(st.lists(criticals, min_size=n, max_size=n))], pa.string()
        ),
        "warnings": pa.array(
            [_compact(v) for v in draw(st.lists(warnings, min_size=n, max_size=n))], pa.string()
        ),
        "rollup_inputs.nps.1": pa.array(
            draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=n, max_size=n)), pa.bool_()
        ),
        "rollup_inputs.count.1": pa.array(draw(many), pa.float64()),
    }
    return pa.table(column)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=scored_tables())
def test_generated_tables_same_bytes_as_record_writer(tmp_path: Path, table: Any) -> None:
    assert JsonlEncoder(TEMPLATE).encode(table) == reference(tmp_path, table, TEMPLATE)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(finite, st.none()), min_size=1, max_size=300))
def test_float_column_spelt_as_json_dumps(values: list[float | None]) -> None:
    """Both spellings: once per distinct value, and Arrow's column-wise one."""
    column = pa.array(values, pa.float64())
    expected = [json.dumps(v) for v in values]
    assert value_texts(column).to_pylist() == expected
    line = JsonlEncoder({"x": None}).encode(pa.table({"x": column}))
    assert line.decode().splitlines() == ['{"x": ' + e + "}" for e in expected]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(texts, st.none()), min_size=1, max_size=300))
def test_text_column_spelt_as_json_dumps(values: list[str | None]) -> None:
    column = pa.array(values, pa.string())
    expected = [json.dumps(v, ensure_ascii=False) for v in values]
    assert value_texts(column).to_pylist() == expected
    assert value_texts(column.dictionary_encode()).to_pylist() == expected


def test_hard_floats_column_wise() -> None:
    """Values where Arrow's and Python's spellings part: exponents, tiny values, integers."""
    values = [
        1e15, 1e16, 123456789012345.6, 1e-4, 1e-5, 0.00012345, 5e-324, -0.0, 0.0, 100.0,
        1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 1e22, -1e-7, 0.1, 1 / 3,
    ]  # fmt: skip
    spread = values + [i / 7 for i in range(200)]  # many distinct: the column-wise spelling
    assert value_texts(pa.array(spread)).to_pylist() == [repr(v) for v in spread]
    table = pa.table({"x": spread})
    lines = JsonlEncoder({"x": None}).encode(table).decode().splitlines()
    assert [json.loads(line)["x"] for line in lines] == spread
    assert lines[3] == '{"x": 0.0001}' and lines[4] == '{"x": 1e-05}'


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
@pytest.mark.parametrize("distinct", [1, 500])
def test_not_finite_float_refused_as_record_writer_refuses(
    tmp_path: Path, bad: float, distinct: int
) -> None:
    values = [bad] + [i / 3 for i in range(distinct)]
    table = pa.table({"x": pa.array(values)})
    with pytest.raises(OutputError) as got:
        JsonlEncoder({"x": None}).encode(table)
    with pytest.raises(OutputError) as expected:
        record_writer_bytes(tmp_path, [{"x": v} for v in values])
    assert str(got.value) == str(expected.value)


def test_missing_columns_and_empty_lists(tmp_path: Path) -> None:
    template = {"visit_id": None, "items": {"a": None, "b": None}, "critical": [], "warnings": []}
    table = pa.table({"visit_id": ["v1", "v2"], "items.a": [1.0, None], "critical": ["", None]})
    got = JsonlEncoder(template).encode(table)
    assert got == reference(tmp_path, table, template)
    assert got.splitlines()[0] == (
        b'{"visit_id": "v1", "items": {"a": 1.0, "b": null}, "critical": [], "warnings": []}'
    )


def test_slices_chunks_and_offsets_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 1000
    table = pa.table(
        {
            "visit_id": [f"v{i}" for i in range(n)],
            "items.a": [i / 9 if i % 3 else None for i in range(n)],
            "items.b": [float(i % 4) for i in range(n)],
        }
    )
    template = {"visit_id": None, "items": {"a": None, "b": None}}
    whole = JsonlEncoder(template).encode(table)
    assert whole == reference(tmp_path, table, template)
    monkeypatch.setattr(jsonl_columns, "JSONL_WRITE_ROWS", 97)
    chunked = pa.concat_tables([table.slice(0, 333), table.slice(333)])
    assert JsonlEncoder(template).encode(chunked) == whole
    assert JsonlEncoder(template).encode(table.slice(10, 50)) == b"".join(
        whole.splitlines(keepends=True)[10:60]
    )
    with (tmp_path / "out.jsonl").open("wb") as stream:
        written = JsonlEncoder(template).write(stream, chunked)
    assert written == len(whole) and (tmp_path / "out.jsonl").read_bytes() == whole


def test_empty_table_writes_nothing() -> None:
    table = pa.table({"visit_id": pa.array([], pa.string())})
    assert JsonlEncoder({"visit_id": None}).encode(table) == b""


def test_unsupported_column_type() -> None:
    table = pa.table({"x": pa.array([[1]])})
    with pytest.raises(TypeError):
        JsonlEncoder({"x": None}).encode(table)


# -- the reader ----------------------------------------------------------------------------------


def score_both_ways(std: Any, path: Path, chunk_rows: int = 65536, **options: Any) -> None:
    """The record path (its reader, a scoring session) and the columnar one
    (`read_jsonl_chunks`, `score_table` a chunk at a time) give the same scored bytes,
    and the same rejects: a rejected row is scored again from its record as read
    (`TableChunk.record`), as the record path scores it (a duplicate as such)."""
    fields = std.model.visit_fields
    session = std.session()
    scored, rejected = [], []
    for rec in record_reader(path, visit_fields=fields, **options):
        outcome = session.read(rec)
        (scored if outcome.ok else rejected).append(outcome.to_dict())
    encoder = JsonlEncoder(std.result_template())
    got = b""
    got_rejects: list[tuple[int, dict[str, Any]]] = []
    items = std.item_names
    for chunk in read_jsonl_chunks(
        path, visit_fields=fields, items=items, chunk_rows=chunk_rows, **options
    ):
        result = score_table(std, chunk.table)
        got += encoder.encode(result.scored)
        for number, rec in chunk.unreadable:
            outcome = session.unreadable(rec.raw, rec.source, rec.error or "")
            got_rejects.append((number, outcome.to_dict()))
        rejects = result.rejects
        for row, errors in zip(
            rejects.column("row").to_pylist(), rejects.column("errors").to_pylist(), strict=True
        ):
            record, source = chunk.record(row), chunk.source(row)
            again = std.score(record, source)
            if json.loads(errors)[0]["code"] == "duplicate_visit":
                again = duplicate(record.get("visit_id"), source, record, again)
            got_rejects.append((int(chunk.numbers[row]), again.to_dict()))
    got_rejects.sort(key=lambda pair: pair[0])
    expected = b"".join(
        (json.dumps(v, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode() for v in scored
    )
    assert got == expected
    assert [r for _, r in got_rejects] == rejected


def test_reader_conformance_visits(tmp_path: Path) -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    score_both_ways(std, CONFORMANCE / "demo_visits.jsonl")  # one chunk: it repeats ids


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_reader_sample_waves(pack: str) -> None:
    pytest.importorskip(f"sbm_{pack}")
    std = sbm_engine.load(PACKS[pack])
    score_both_ways(std, ROOT / "plugins" / f"sbm-{pack}" / "sample" / "wave.jsonl")


def test_reader_unreadable_lines_as_record_path(tmp_path: Path) -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    lines = [
        b'\xef\xbb\xbf{"visit_id": "a1", "answers": {"greeted": "yes"}}\r\n',
        b"\n",
        b"   \n",
        b'{"visit_id": "a2", "answers": {"greeted" : "yes", "greeted": "no"}}\n',
        b'{"visit_id": "a3", "answers": {"wait": NaN}}\n',
        b"[1, 2]\n",
        b'{"visit_id": "a4", "answers": {"smile": "\xff"}}\n',
        b'{"visit_id": "a5" "answers": {}}\n',
        b'{"visit_id": "a6", "extra": {"k": [1, {"z": 2}]}, "answers": {"card": null}}\n',
        b'{"visit_id": "a7", "answers": {"wait": 1e400, "smile": "yes"}}\n',
        b'{"visit_id": "a1", "answers": {"greeted": "no"}}',
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(lines))
    score_both_ways(std, path, chunk_rows=64)
    chunk = next(read_jsonl_chunks(path, visit_fields=std.model.visit_fields))
    assert [n for n, _ in chunk.unreadable] == [4, 5, 6, 7, 8]
    assert chunk.source(0) == f"{path}:1"
    assert chunk.record(1) == {
        "visit_id": "a6",
        "extra": {"k": [1, {"z": 2}]},
        "answers": {"card": None},
    }
    sent = pickle.loads(pickle.dumps(chunk))  # to a worker process and back
    assert sent.table.equals(chunk.table) and sent.record(0) == chunk.record(0)
    assert sent.record(0) == {"visit_id": "a1", "answers": {"greeted": "yes"}}


def test_reader_chunks_and_plain_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks Arrow parses (no null, plain types: no line is parsed by Python here)
    give the visits the record path reads, whatever the chunk size."""

    def no_python(*args: Any) -> Any:
        raise AssertionError("a plain block was parsed line by line")

    monkeypatch.setattr(jsonl_columns, "_exact_chunk", no_python)
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    rows = [
        {
            "visit_id": f"v{i}",
            "point": f"P{i % 3}",
            "date": "2026-11-02",
            "answers": {
                "greeted": "yes" if i % 2 else "no",
                "wait": i % 9,
                "overall": 7,
                "questions": [1.5, 4.0, 2.25][i % 3],  # whole floats written as floats
            },
        }
        for i in range(40)
    ]
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for size in (7, 40):
        score_both_ways(std, path, chunk_rows=size)
    chunks = list(read_jsonl_chunks(path, visit_fields=std.model.visit_fields, chunk_rows=7))
    assert [c.table.num_rows for c in chunks] == [7, 7, 7, 7, 7, 5]
    assert chunks[1].numbers.tolist() == list(range(8, 15))


@pytest.mark.parametrize(
    "line, why",
    [
        ('{"visit_id": 17, "answers": {}}', "visit field"),
        ('{"visit_id": "a", "point": "", "answers": {}}', "visit field"),
        ('{"visit_id": "a", "answers": [1]}', "not an object"),
        ('{"visit_id": "a", "answers": {"greeted": {"x": 1}}}', "dict"),
        ('{"visit_id": "a", "answers": {"x": 123456789012345678901234567890}}', "digits"),
        ('{"visit_id": "a", "answers": {" greeted": "yes"}}', "spaces"),
        ('{"visit_id": "a", "answers": {"unknown": ""}}', "empty answer"),
        ('{"visit_id": "a", "answers": {"greeted": "\\ud800"}}', "surrogate"),
    ],
)
def test_reader_says_what_a_table_cannot_carry(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(Unsupported, match=why):
        list(read_jsonl_chunks(path, items=["greeted"]))


def test_reader_encodings(tmp_path: Path) -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    path = tmp_path / "cp.jsonl"
    text = '{"visit_id": "в1", "point": "Точка", "answers": {"greeted": "да"}}\n'
    path.write_bytes(text.encode("cp1251") + b'{"visit_id": "\x98"}\n')
    score_both_ways(std, path, encoding="cp1251")
    with pytest.raises(Unsupported):
        read_jsonl_chunks(path, encoding="utf-16")
    with pytest.raises(InputError, match="unknown encoding"):
        read_jsonl_chunks(path, encoding="no-such-codec")


answer_values = st.one_of(
    st.sampled_from(["yes", "no", "na", "N/A", "да", "5", "4,5", " 3 ", "partly"]),
    st.integers(-3, 12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from([-0.0, 0.0, 1.0, 4.5, 1e-7, 2.0**53 + 1]),
    st.booleans(),
    st.none(),
    st.text(max_size=6).filter(lambda t: t != ""),
)
ITEMS = ["greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"]


@st.composite
def jsonl_waves(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 25))
    records = []
    for i in range(n):
        answers = {
            item: draw(answer_values)
            for item in draw(st.lists(st.sampled_from(ITEMS), unique=True, max_size=8))
        }
        if draw(st.integers(0, 9)) == 0:
            answers[draw(st.sampled_from(["extra", "другой"]))] = draw(answer_values)
        record: dict[str, Any] = {"visit_id": draw(st.sampled_from([f"v{i}", f"v{i}", "dup"]))}
        if draw(st.booleans()):
            record["point"] = draw(st.sampled_from(["P1", "Точка 2", None]))
        record["answers"] = answers
        if draw(st.booleans()):
            record = dict(reversed(list(record.items())))
        records.append(record)
    return records


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=jsonl_waves(), ascii_only=st.booleans(), size=st.integers(1, 30))
def test_reader_generated_waves_score_as_record_path(
    tmp_path: Path, records: list[dict[str, Any]], ascii_only: bool, size: int
) -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    path = tmp_path / "gen.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in records), encoding="utf-8"
    )
    ids = [r["visit_id"] for r in records]
    # duplicates across chunks are the pipeline's to find: one chunk when ids repeat
    score_both_ways(std, path, chunk_rows=size if len(set(ids)) == len(ids) else 1000)


def test_reader_whole_numbers_beside_floats_read_as_python_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`10` beside `1.5` is an int for Python, a float for Arrow's typed reading: such a
    block is read with its values quoted (texts, read back as Python reads them)."""
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"visit_id": "a", "answers": {"questions": 10, "wait": 3}}\n'
        '{"visit_id": "b", "answers": {"questions" :\t1.5, "wait": 3}}\n',
        encoding="utf-8",
    )
    calls = []
    quoted = jsonl_columns._quoted_chunk

    def counted(*args: Any) -> Any:
        calls.append(args[1])
        return quoted(*args)

    monkeypatch.setattr(jsonl_columns, "_quoted_chunk", counted)
    score_both_ways(std, path)
    assert calls == [1]
    (chunk,) = read_jsonl_chunks(path, visit_fields=std.model.visit_fields)
    assert chunk.table.column("answers.questions").to_pylist() == [10, 1.5]
    assert [type(v) for v in chunk.table.column("answers.questions").to_pylist()] == [int, float]


@pytest.mark.parametrize(
    ("block", "texts", "held"),
    [
        (b'{"a": NaN}', (b"NaN",), True),
        (b'{"a": "N"}', (b"NaN",), False),
        (b'{"a": "x"}', (b"NaN",), False),
        (b'{"a": "\\ud800"}', (b"\\u0000", b"\\ud", b"\\uD"), True),
        (b'{"a": "\\n"}', (b"\\u0000", b"\\ud", b"\\uD"), False),
    ],
)
def test_a_block_holds_a_text_when_it_does(
    block: bytes, texts: tuple[bytes, ...], held: bool
) -> None:
    from sbm_engine.io.jsonl_columns import _holds

    assert _holds(block, *texts) is held


def test_dictionary_entries_in_the_order_they_first_appear() -> None:
    """`_first_seen`: a value first met past the first rows keeps its place; a null's
    code (the count) is left out."""
    import numpy as np

    from sbm_engine.io.jsonl_columns import _first_seen

    codes = np.array([3, 3, 1, 4] * 600 + [0] + [2] * 10, dtype=np.int32)  # 4: a null
    assert _first_seen(codes, 4) == [3, 1, 0, 2]
    assert _first_seen(np.array([1, 0, 1], dtype=np.int32), 2) == [1, 0]
