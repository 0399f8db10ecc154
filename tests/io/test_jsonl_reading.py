"""JSONL read into tables (`jsonl_columns.read_jsonl_chunks`) against the record path.

The reference is built from the record path's own reader (`readers.read_jsonl`): its
records, laid out as the chunks' tables lay them out (`expected_chunk`), and its
unreadable lines. Generated files (hypothesis) mix what a wave may hold: a value
of several JSON types under one key, nulls, missing keys, duplicate keys spelt with
any white space, long integers, floats beyond a double, nested values, lines that
are not objects, blank lines, CRLF, a byte-order mark, bytes that are not UTF-8.
Every chunk must be the reference's, or the reader must say `Unsupported` exactly
where the reference cannot be a table; blocks are gathered a few lines at a time
too (`_HOT_LINES`), so that a column's coding changes between blocks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from sbm_engine.io import jsonl_columns  # noqa: E402
from sbm_engine.io.jsonl_columns import (  # noqa: E402
    NULL_ANSWER,
    Unsupported,
    arrow_values,
    read_jsonl_chunks,
)
from sbm_engine.io.readers import ReadOptions, read_jsonl  # noqa: E402
from sbm_engine.io.records import VISIT_FIELDS  # noqa: E402

KNOWN = ["greeted", "wait", "smile", "card"]
FIELDS = frozenset(VISIT_FIELDS) | {"shop"}
TYPED = frozenset({"shop"})
_ABSENT = object()


def expected_chunk(records: list[Any], known: frozenset[str]) -> Any:
    """The table `read_jsonl_chunks` gives for these readable records, as the record
    path reads them; raises Unsupported where a table cannot carry them."""
    names = list(dict.fromkeys(k for r in records for k in r))
    answers = []
    for r in records:
        a = r.get("answers")
        if a is None:
            a = {}
        elif type(a) is not dict:
            raise Unsupported("answers")
        answers.append(a)
    columns: dict[str, Any] = {}
    for name in names:
        if name not in FIELDS:
            continue
        values = [r.get(name) for r in records]
        kinds = set(map(type, values)) - {type(None)}
        if name in TYPED and kinds <= {str, int, float}:
            columns[name] = arrow_values(values)
            continue
        if kinds - {str} or ("" in values and name != "visit_id"):
            raise Unsupported("field")
        columns[name] = arrow_values(values)
    keys = list(dict.fromkeys(k for a in answers for k in a))
    for key in keys:
        if not key or key.strip() != key:
            raise Unsupported("key")
    for key in keys:
        values = []
        for a in answers:
            v = a.get(key, _ABSENT)
            if v is _ABSENT:
                v = None
            elif v is None:
                v = NULL_ANSWER
            elif v == "" and type(v) is str:
                if key not in known:
                    raise Unsupported("empty")
                v = None
            values.append(v)
        columns["answers." + key] = arrow_values(values)
    if columns:
        return pa.table(columns)
    return pa.table({"_": pa.nulls(len(records))}).drop_columns(["_"])


def check_file(
    path: Path, chunk_rows: int, typed: frozenset[str] = TYPED, ahead: bool = False
) -> None:
    """`read_jsonl_chunks(path)` against the record path, chunk by chunk; `ahead`: its
    lines read and quoted in a thread of their own, as the pipeline reads them."""
    known = frozenset(KNOWN)
    everything = list(read_jsonl(path, ReadOptions(visit_fields=FIELDS)))
    expected: list[tuple[Any, list[int], list[Any]]] = []
    unsupported = False
    for start in range(0, _line_count(path), chunk_rows):
        inside = [
            r for r in everything if start < int(r.source.rsplit(":", 1)[1]) <= start + chunk_rows
        ]
        readable = [r for r in inside if r.record is not None]
        try:
            table = expected_chunk([r.record for r in readable], known)
        except Unsupported:
            unsupported = True
            break
        numbers = [int(r.source.rsplit(":", 1)[1]) for r in readable]
        bad = [r for r in inside if r.record is None]
        expected.append((table, numbers, bad))
    chunks = read_jsonl_chunks(
        path,
        visit_fields=FIELDS,
        items=known,
        chunk_rows=chunk_rows,
        typed_fields=typed,
        ahead=_in_a_thread if ahead else None,
    )
    if unsupported:
        with pytest.raises(Unsupported):
            list(chunks)
        return
    got = list(chunks)
    assert len(got) == len(expected)
    for chunk, (table, numbers, bad) in zip(got, expected, strict=True):
        # columns in any order: Arrow's reader (plain blocks) orders them otherwise
        names = sorted(table.column_names)
        assert sorted(chunk.table.column_names) == names
        assert chunk.table.num_rows == table.num_rows
        got_table, want = chunk.table.select(names), table.select(names)
        assert got_table.schema == want.schema
        assert not names or got_table.equals(want)
        assert _same_values(got_table, want)
        assert chunk.numbers.tolist() == numbers
        assert [r for _, r in chunk.unreadable] == bad
        assert [n for n, _ in chunk.unreadable] == [int(r.source.rsplit(":", 1)[1]) for r in bad]
        for i in range(chunk.table.num_rows):
            record = next(r.record for r in everything if r.source == chunk.source(i))
            assert chunk.record(i) == record


def _in_a_thread(blocks: Any) -> Any:
    from sbm_engine.pipeline.overlap import prefetch

    return prefetch(blocks, depth=0, name="test-read-lines")


def _same_values(got: Any, want: Any) -> bool:
    """Equal with the types of the values (1 and 1.0 and True, 0.0 and -0.0 apart)."""

    def typed(table: Any) -> list[Any]:
        return [[(type(v), repr(v)) for v in column.to_pylist()] for column in table.columns]

    return typed(got) == typed(want)


def _line_count(path: Path) -> int:
    """The lines of `path` as a binary file gives them (split after each LF)."""
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# -- generated files -----------------------------------------------------------------------------

#: Answer values, as JSON text: several types under one key, nulls, empty texts,
#: integers beyond 64 bits, floats beyond a double or at 2**63 and more, nested values.
ANSWER_TEXTS = st.one_of(
    st.sampled_from(['"yes"', '"no"', '"na"', '""', '"да"', '"4"', '" 3 "', '"a\\"b"']),
    st.sampled_from(["null", "true", "false", "0", "-0", "4", "10", "0.0", "-0.0", "1.5"]),
    st.sampled_from(["1e400", "-1e400", "1E2", "1e19", "9223372036854775807"]),
    st.sampled_from(["9223372036854775808", "-9223372036854775809", "123456789012345678901"]),
    st.sampled_from(["18446744073709551616", "1" * 30, "2.5e-8", "10.0"]),
    st.sampled_from(['["a", "b"]', "[]", "[1]", '{"x": 1}', "{}", '"\\ud800"', '"\\u00e9"']),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False).map(lambda f: json.dumps(f)),
    st.text(max_size=4).map(lambda t: json.dumps(t, ensure_ascii=False)),
)
FIELD_TEXTS = st.sampled_from(
    ['"P1"', '"Точка"', '""', "null", "7", "2.5", "true", '"2026-11-02"', "1e19", "1" * 21]
)
#: What goes between a key and its colon, and after the colon.
SPACING = st.sampled_from(["", "", "", " ", "  ", "\t", " \t", "\r"])
KEYS = st.sampled_from([*KNOWN, "other", "другой", " greeted", ""])


@st.composite
def lines(draw: Any) -> bytes:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(
            st.sampled_from(
                [b"", b"   ", b"[1, 2]", b"5", b'"x"', b"null", b"{", b'{"a": NaN}', b"\xff{}"]
            )
        )
    before, after = draw(SPACING), draw(SPACING)

    def pair(key: str, value: str) -> str:
        return json.dumps(key, ensure_ascii=False) + before + ":" + after + value

    answers = [pair(draw(KEYS), draw(ANSWER_TEXTS)) for _ in range(draw(st.integers(0, 6)))]
    body = "{" + ", ".join(answers) + "}"
    if kind == 1:
        body = draw(st.sampled_from(["null", "[1]", '"x"', "3"]))
    parts = [pair("visit_id", draw(st.sampled_from(['"v1"', '"v2"', '""', "4"])))]
    for name in draw(st.lists(st.sampled_from(["point", "shop", "date"]), max_size=3)):
        parts.append(pair(name, draw(FIELD_TEXTS)))  # repeated: a duplicate key
    if draw(st.booleans()):
        parts.append(pair("extra", draw(ANSWER_TEXTS)))
    if kind != 2:
        parts.insert(draw(st.integers(0, len(parts))), pair("answers", body))
    line = ("{" + ", ".join(parts) + "}").encode("utf-8", errors="surrogatepass")
    return line + draw(st.sampled_from([b"", b"\r"]))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(lines(), min_size=1, max_size=12),
    bom=st.booleans(),
    chunk_rows=st.integers(1, 8),
    hot=st.integers(1, 4),
    end=st.sampled_from([b"\n", b""]),
    ahead=st.booleans(),
)
def test_generated_files_read_as_record_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: list[bytes],
    bom: bool,
    chunk_rows: int,
    hot: int,
    end: bytes,
    ahead: bool,
) -> None:
    path = tmp_path / "gen.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(body) + end)
    with monkeypatch.context() as m:
        m.setattr(jsonl_columns, "_HOT_LINES", hot)
        check_file(path, chunk_rows, ahead=ahead)


@st.composite
def wave_lines(draw: Any) -> bytes:
    """Lines that are all visits, mostly readable as tables: the fast path's cases."""
    answers = {
        key: draw(
            st.one_of(
                st.sampled_from(["yes", "no", "na", "", None, True, False]),
                st.integers(-3, 12),
                st.sampled_from([0.0, -0.0, 1.5, 2.0, 1e19, -(2.0**63)]),
                st.integers(2**62, 2**65),
                st.lists(st.sampled_from(["a", "b"]), max_size=2),
            )
        )
        for key in draw(st.lists(st.sampled_from(KNOWN), unique=True))
    }
    record: dict[str, Any] = {"visit_id": draw(st.sampled_from(["v1", "v2"])), "answers": answers}
    if draw(st.booleans()):
        record["shop"] = draw(st.sampled_from(["S1", "", 3, 2.5, None]))
    separators = draw(st.sampled_from([(", ", ": "), (",", ":"), (", ", " : "), (",", "\t:")]))
    return json.dumps(record, separators=separators, ensure_ascii=draw(st.booleans())).encode()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(wave_lines(), min_size=1, max_size=16),
    chunk_rows=st.sampled_from([3, 7, 100]),
    hot=st.sampled_from([1, 2, 5, 2048]),
    parts=st.integers(1, 6),
    ahead=st.booleans(),
)
def test_generated_waves_read_as_record_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: list[bytes],
    chunk_rows: int,
    hot: int,
    parts: int,
    ahead: bool,
) -> None:
    path = tmp_path / "wave.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n")
    with monkeypatch.context() as m:
        m.setattr(jsonl_columns, "_HOT_LINES", hot)
        m.setattr(jsonl_columns, "_QUOTE_PARTS", parts)
        check_file(path, chunk_rows, ahead=ahead)


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(
        st.one_of(wave_lines(), st.sampled_from([b"", b" \t", b"[1]", b"{", b"\xef\xbb\xbf{}"])),
        min_size=1,
        max_size=12,
    ),
    end=st.sampled_from([b"\n", b"\r\n", b""]),
)
def test_a_block_of_lines_as_the_lines_say(body: list[bytes], end: bytes) -> None:
    """`_Block`: its lines, its lines that are not blank (and whether all are objects)
    and its deepest line, as the lines one by one give them."""
    lines = [line + b"\n" for line in (b"\n".join(body) + end).split(b"\n")]
    if lines[-1] == b"\n":
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1]
    assume(lines)  # a file's block holds a line at least
    block = jsonl_columns._Block.of(lines)
    assert block.lines() == lines
    assert block.longest() == max(map(len, lines))
    filled = [i for i, line in enumerate(lines) if line.strip(b" \t\r\n")]
    assert block.rows(objects=False) == filled
    objects = all(
        lines[i].strip(b" \t\r\n")[:1] == b"{" and lines[i].strip(b" \t\r\n")[-1:] == b"}"
        for i in filled
    )
    assert block.rows(objects=True) == (filled if objects else None)
    deepest = max(line.count(b"{") + line.count(b"[") for line in lines)
    assert block.nested_too_deep() is (deepest > jsonl_columns._MAX_OPEN)


@settings(max_examples=200, deadline=None)
@given(body=st.lists(wave_lines(), min_size=1, max_size=30), parts=st.integers(1, 9))
def test_values_are_quoted_alike_whatever_the_parts(body: list[bytes], parts: int) -> None:
    """`_quoted_values` quotes a block a part of its values at a time: any number of
    parts gives the bytes of one, in which each value is put between `_MARK` and a
    quote (read back: the same objects, their literals as marked texts)."""
    import numpy as np

    data = np.frombuffer(b"\n".join(body) + b"\n", dtype=np.uint8)
    whole = jsonl_columns._QUOTE_PARTS
    try:
        jsonl_columns._QUOTE_PARTS = 1
        once = jsonl_columns._quoted_values(data).tobytes()
        jsonl_columns._QUOTE_PARTS = parts
        assert jsonl_columns._quoted_values(data).tobytes() == once
    finally:
        jsonl_columns._QUOTE_PARTS = whole

    def marked(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: marked(v) for k, v in value.items()}
        if isinstance(value, str | list):
            return value
        return "\x00" + json.dumps(value)

    for line, quoted in zip(body, once.splitlines(), strict=True):
        assert json.loads(quoted) == marked(json.loads(line))


def test_a_block_nested_deep_is_told_by_its_deepest_line() -> None:
    deep = b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}\n"
    block = jsonl_columns._Block.of([b"{}\n", deep, b"{}"])
    assert block.nested_too_deep()
    assert not jsonl_columns._Block.of([b"{}\n", deep.replace(b"[", b"", 1)]).nested_too_deep()


# -- the cases one by one ------------------------------------------------------------------------


def write(tmp_path: Path, *lines: str | bytes) -> Path:
    path = tmp_path / "case.jsonl"
    path.write_bytes(b"".join((x.encode() if isinstance(x, str) else x) + b"\n" for x in lines))
    return path


@pytest.mark.parametrize(
    "spacing", ['"greeted": "yes", "greeted"', '"greeted"  :', '"greeted"\t:', '"greeted"\r:']
)
def test_duplicate_keys_with_any_spacing_are_unreadable(tmp_path: Path, spacing: str) -> None:
    """orjson keeps the last of duplicate keys; the record path refuses the line."""
    line = '{"visit_id": "a", "answers": {' + spacing + ' "no", "greeted": "yes"}}'
    path = write(tmp_path, line, '{"visit_id": "b", "answers": {"greeted": 4}}')
    check_file(path, 10)
    (chunk,) = read_jsonl_chunks(path, items=KNOWN)
    assert [n for n, _ in chunk.unreadable] == [1]


def test_colons_in_texts(tmp_path: Path) -> None:
    """Colons inside texts (times, notes): keys are counted more closely, not refused."""
    path = write(
        tmp_path,
        '{"visit_id": "a", "time": "10:45", "answers": {"greeted": "yes: \\": sure", "wait": 3}}',
        '{"visit_id": "b", "note": "a \\" : b", "answers": {"greeted": "no", "wait": "na"}}',
        '{"visit_id": "c", "answers": {"greeted" : "no", "wait": 1}}',
    )
    check_file(path, 10)


@pytest.mark.parametrize(
    "value", ["123456789012345678901", "-9223372036854775809", "18446744073709551616"]
)
def test_integers_beyond_64_bits(tmp_path: Path, value: str) -> None:
    """orjson reads them as floats: the block is read again, such lines by `json`."""
    path = write(
        tmp_path,
        '{"visit_id": "a", "answers": {"wait": 1e19, "smile": 2}}',
        '{"visit_id": "b", "extra": ' + value + ', "answers": {"wait": 3, "smile": 1.5}}',
    )
    check_file(path, 10)  # a float at 2**63 and more, read again: the same table
    path = write(tmp_path, '{"visit_id": "a", "answers": {"wait": ' + value + "}}")
    with pytest.raises(Unsupported, match="digits"):
        list(read_jsonl_chunks(path, items=KNOWN))
    path = write(tmp_path, '{"visit_id": "a", "shop": ' + value + ', "answers": {}}')
    with pytest.raises(Unsupported, match=f"holds {value}"):  # as read: not a float
        list(read_jsonl_chunks(path, visit_fields=FIELDS, items=KNOWN))
    with pytest.raises(Unsupported, match="digits"):
        list(read_jsonl_chunks(path, visit_fields=FIELDS, items=KNOWN, typed_fields=TYPED))


def test_null_and_absent_answers_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A null answer is `NULL_ANSWER`, an absent or empty one empty, one code for both."""
    path = write(
        tmp_path,
        '{"visit_id": "a", "answers": {"greeted": "na", "wait": ""}}',
        '{"visit_id": "b", "answers": {"greeted": null, "card": 2}}',
        '{"visit_id": "c", "answers": {"wait": 0.0, "greeted": "yes"}}',
        '{"visit_id": "d", "answers": {"wait": -0.0, "card": "x", "smile": null}}',
    )
    for hot in (1, 2, 2048):
        monkeypatch.setattr(jsonl_columns, "_HOT_LINES", hot)
        check_file(path, 10)
        (chunk,) = read_jsonl_chunks(path, items=KNOWN)
        assert chunk.table.column("answers.greeted").to_pylist() == ["na", "na", "yes", None]
        wait = chunk.table.column("answers.wait").to_pylist()
        assert [repr(v) for v in wait] == ["None", "None", "0.0", "-0.0"]


def test_without_orjson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson is optional: every line is then parsed by `json`, with the same chunks."""
    path = write(
        tmp_path,
        '{"visit_id": "a", "answers": {"greeted": "yes", "wait": 4}}',
        '{"visit_id": "b", "answers": {"greeted": "no", "greeted": "yes"}}',
        '{"visit_id": "c", "answers": {"greeted": null, "wait": "na", "card": 1e400}}',
    )
    monkeypatch.setitem(sys.modules, "orjson", None)
    check_file(path, 10)


def test_mixed_first_block_is_not_tried_by_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number and a text under one key in the first lines: Arrow's reader would refuse
    the block, so it is not asked."""

    def no_arrow(*args: Any) -> Any:
        raise AssertionError("Arrow's reader was tried")

    monkeypatch.setattr(jsonl_columns, "_plain_chunk", no_arrow)
    path = write(
        tmp_path,
        *(
            f'{{"visit_id": "v{i}", "answers": {{"wait": {i if i % 2 else json.dumps("na")}}}}}'
            for i in range(5)
        ),
    )
    check_file(path, 3)


# -- blocks read by Arrow with their values quoted (`_quoted_chunk`) --------------------------

#: Values a quoted block reads back as `json` reads them: every scalar type under one
#: key, texts holding a colon then a number or literal, escapes, and numbers spelt
#: in every way JSON allows (and beyond 64 bits or a double, read line by line).
QUOTED_VALUES = st.one_of(
    st.sampled_from(['"yes"', '"no"', '"na"', '""', '"да"', '"4"', '"\\u00e9"', '"{}"']),
    st.sampled_from(['"a: 5"', '"b:true"', '"c: \\"x\\": -1"', '"d:\\t null"', '"e:[1]"']),
    st.sampled_from(["null", "true", "false", "0", "-0", "4", "10", "0.0", "-0.0", "1.5"]),
    st.sampled_from(["1E2", "1e-7", "2.50", "-3", "1e+2", "0.1e1", "-0e0", "1e400"]),
    st.sampled_from(["9223372036854775807", "-9223372036854775808", "9223372036854775808"]),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.text(max_size=4).map(lambda t: json.dumps(t, ensure_ascii=False)),
)
#: What follows a colon before its value.
GAPS = st.sampled_from(["", " ", " ", "  ", "\t", "\r", " \r "])
#: A line of a wave that Python's `json` refuses, or reads otherwise than Arrow might.
BAD_LINES = st.sampled_from(
    [
        '{"visit_id": "b", "answers": {"wait": 01}}',
        '{"visit_id": "b", "answers": {"wait": 1.}}',
        '{"visit_id": "b", "answers": {"wait": -}}',
        '{"visit_id": "b", "answers": {"wait": tru}}',
        '{"visit_id": "b", "answers": {"wait": 1.5.5}}',
        '{"visit_id": "b", "answers": {"wait": NaN}}',
        '{"visit_id": "b", "answers": {"wait": -Infinity}}',
        '{"visit_id": "b", "answers": {"wait": +1}}',
        '{"visit_id": "b", "answers": {"wait": 4 5}}',
        '{"visit_id": "b", "answers": {"wait": true1}}',
        '{"visit_id": "b", "answers": {"wait": 4}} {"visit_id": "c"}',
        '{"visit_id": "b", "answers": {"wait": 4}}\r{"visit_id": "c"}',
        '{"visit_id": "b", "answers": {"wait": 4, "wait": 5}}',
        '{"visit_id": "b", "answers": {"wait": 4, "w\\u0061it": 5}}',
        '{"visit_id": "b", "answers": {"wait": "\\u0000"}}',
        '{"visit_id": "b", "answers": {"wait": "\\ud800"}}',
        '{"visit_id": "b", "answers": {"wait": "a\tb"}}',
        '{"visit_id": "b", "answers": {"wait": 4},}',
        '{"visit_id": "b", "answers": {"wait": [1, 2]}}',
        '{"visit_id": "b", "answers": {"wait": {"x": 1}}}',
        '{"visit_id": "b", "answers": null}',
        '{"visit_id": "b", "extra": ' + "[" * 70 + "]" * 70 + "}",
        '{"visit_id": 4}',
        '{"visit_id": "b", "point": ""}',
        '{"visit_id": "b", "answers": {"other": ""}}',
        '{"visit_id": "b", "answers": {" wait": 1}}',
        '{"visit_id": "b", "answers": {"wait": 12345678901234567890123}}',
        '{"visit_id": "b", "answers": {"wait": 1' + "0" * 5000 + "}}",
        '{"visit_id": "b"',
        '["visit_id"]',
        '\ufeff{"visit_id": "b"}',
        "\x0c",
    ]
)


@st.composite
def quoted_lines(draw: Any) -> str:
    """Visits as a quoted block reads them (now and then a line it must leave to Python)."""
    if draw(st.integers(0, 40)) == 0:
        return draw(BAD_LINES)
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from(["", "  ", "\t", "\r"]))

    def pair(key: str, value: str) -> str:
        spelt = json.dumps(key, ensure_ascii=draw(st.booleans()))
        return spelt + draw(st.sampled_from(["", "", " ", "\t"])) + ":" + draw(GAPS) + value

    keys = draw(st.lists(st.sampled_from([*KNOWN, "other", "другой"]), unique=True, max_size=5))
    parts = [pair("visit_id", draw(st.sampled_from(['"v1"', '"v2"', '"v: 3"', '"\\u0076"'])))]
    if draw(st.booleans()):
        parts.append(pair("shop", draw(st.sampled_from(['"S1"', '""', '"S: 2"', '"Точка"']))))
    if draw(st.booleans()):
        extra = ["3", "true", "null", '"x"', '"2026-11-02"', '"x: 1"', "1e400", "{}", "[1]"]
        parts.append(pair(draw(st.sampled_from(["extra", "note"])), draw(st.sampled_from(extra))))
    if draw(st.integers(0, 5)):
        answers = "{" + ", ".join(pair(k, draw(QUOTED_VALUES)) for k in keys) + "}"
        parts.insert(draw(st.integers(0, len(parts))), pair("answers", answers))
    return draw(st.sampled_from(["", " "])) + "{" + ", ".join(parts) + "}" + draw(GAPS)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(quoted_lines(), min_size=1, max_size=16),
    chunk_rows=st.sampled_from([2, 5, 100]),
    bom=st.booleans(),
    end=st.sampled_from(["\n", "\r\n"]),
)
def test_generated_quoted_blocks_read_as_record_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: list[str],
    chunk_rows: int,
    bom: bool,
    end: str,
) -> None:
    """Blocks that Arrow's typed reading refuses (mixed types, nulls) are read with their
    values quoted, or else line by line: either way, as the record path reads them."""
    monkeypatch.setattr(jsonl_columns, "_plain_chunk", lambda *args: None)
    path = tmp_path / "quoted.jsonl"
    text = end.join(body) + end
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass"))
    check_file(path, chunk_rows)


def _no_line_by_line(*args: Any) -> Any:
    raise AssertionError("read line by line")


def test_quoted_block_reads_what_arrow_alone_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbers, texts, booleans and nulls under one key, colons in texts, white space
    of every kind around colons, escaped keys, CRLF, blank lines: one quoted block, as
    the record path reads it (no line read by Python)."""
    path = write(
        tmp_path,
        '{"visit_id": "a", "note": "at 10: 45", "answers": {"wait": 4, "greeted": "yes: 1"}}',
        '{"visit_id":"b","answers":{"wait":"na","gr\\u0065eted":null,"card":-0.0}}\r',
        "   ",
        '{"visit_id": "c", "extra": 1e400, "answers": {"wait" :\t1.5e1, "card": 0, "x": true}}',
        '{"visit_id": "d", "when": "2026-11-02", "answers": {"wait": \r 7, "smile": ""}}',
        '{"visit_id": "e"}',
        "{}",
    )
    monkeypatch.setattr(jsonl_columns, "_exact_chunk", _no_line_by_line)
    check_file(path, 100)
    (chunk,) = read_jsonl_chunks(path, visit_fields=FIELDS, items=KNOWN, typed_fields=TYPED)
    assert chunk.numbers.tolist() == [1, 2, 4, 5, 6, 7]
    wait = chunk.table.column("answers.wait").to_pylist()
    assert [repr(v) for v in wait] == ["4", "'na'", "15.0", "7", "None", "None"]


@pytest.mark.parametrize(
    "line",
    [
        '{"visit_id": "b", "answers": {"wait": 01}}',
        '{"visit_id": "b", "answers": {"wait": -}}',
        '{"visit_id": "b", "answers": {"wait": NaN}}',
        '{"visit_id": "b", "answers": {"wait": 4, "w\\u0061it": 5}}',
        '{"visit_id": "b", "answers": {"wait": "\\u00004"}}',
        '{"visit_id": "b", "note": "x: 4"} {"visit_id": "c"}',
        '{"visit_id": "b", "extra": ' + "[" * 70 + "]" * 70 + "}",
    ],
)
def test_quoted_block_leaves_to_python_what_it_may_read_otherwise(
    tmp_path: Path, line: str
) -> None:
    """A line Python refuses, or one Arrow might read otherwise (an escape that spells
    the quoting's mark, values nested deep): the block is read line by line."""
    path = write(tmp_path, '{"visit_id": "a", "answers": {"wait": 4, "greeted": "na"}}', line)
    lines = [x + b"\n" for x in path.read_bytes().splitlines()]
    ready = jsonl_columns._quotable(jsonl_columns._Block.of(lines), FIELDS)
    assert ready is None or (
        jsonl_columns._quoted_chunk(ready, 1, FIELDS, frozenset(KNOWN), TYPED) is None
    )
    check_file(path, 10)


def test_values_nested_deep_are_not_given_to_arrow(tmp_path: Path) -> None:
    """Arrow's reader recurses into nested values until the process crashes; Python's
    `json` refuses such a line (nested too deeply): it is unreadable, the rest is read."""
    import subprocess

    path = write(
        tmp_path,
        *(f'{{"visit_id": "v{i}", "answers": {{"wait": 4}}}}' for i in range(3)),
        '{"visit_id": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
    )
    script = (
        "import sys; from sbm_engine.io.jsonl_columns import read_jsonl_chunks as r; "
        "c = list(r(sys.argv[1], items=['wait'])); "
        "print(sum(x.table.num_rows for x in c), [n for x in c for n, _ in x.unreadable])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "[4]"]
