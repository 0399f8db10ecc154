"""CSV and JSONL lines built column-wise (`io.text_columns`, `io.jsonl_columns`) against
the record path's writers.

The reference is the record path's own writer (`formats.open_writer`: `CsvWriter` with
``spreadsheet_safe``, `JsonlWriter`) fed each row of the table as a record. Generated
tables (hypothesis) mix the values whose spelling is easy to get wrong: floats Arrow
and Python spell differently, nulls, text a spreadsheet would run or `csv.writer`
must quote, booleans, integers, columns of few distinct values (spelt once each) and
of many (spelt column-wise), and the chunk sizes at which `sbm score` cuts a table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from sbm_engine.formats import open_writer  # noqa: E402
from sbm_engine.io import OutputError, jsonl_columns, text_columns  # noqa: E402
from sbm_engine.io.jsonl_columns import JsonlEncoder  # noqa: E402
from sbm_engine.io.text_columns import CsvEncoder, assemble, coded_piece  # noqa: E402
from sbm_engine.pipeline import outputs  # noqa: E402
from sbm_engine.pipeline.outputs import TableOutput  # noqa: E402

# -- the reference -------------------------------------------------------------------------------


def record_bytes(path: Path, table: Any) -> bytes:
    """What the record path writes to `path` for the rows of `table`, or the OutputError."""
    with open_writer(path, columns=table.column_names, spreadsheet_safe=True) as writer:
        writer.write_many(table.to_pylist())
    return path.read_bytes()


def csv_lines(tmp_path: Path, table: Any) -> bytes:
    """The record path's CSV lines for `table`, without the header."""
    data = record_bytes(tmp_path / "reference.csv", table)
    return data.split(b"\r\n", 1)[1]  # no column name here holds a line break


def streamed(tmp_path: Path, table: Any, suffix: str, parts: list[int]) -> bytes:
    """What `sbm score`'s table output writes for `table`, given in parts of these sizes."""
    path = tmp_path / f"streamed{suffix}"
    template = dict.fromkeys(table.column_names)
    with TableOutput(path, table.column_names, template) as out:
        start = 0
        for size in [*parts, table.num_rows]:
            out.write(table.slice(start, size))
            start += size
            if start >= table.num_rows:
                break
    return path.read_bytes()


# -- generated tables ----------------------------------------------------------------------------

AWKWARD_FLOATS = [
    0.0, -0.0, 0.5, 1.0, 1e15, 1e16, -1e15, 123456789012345.6, 1e-4, 1e-5, -1e-7,
    0.1 + 0.2, 1 / 3, 2.0**53, 5e-324, 1.7976931348623157e308, 100.0, None,
]  # fmt: skip
NOT_FINITE = [math.nan, math.inf, -math.inf]
AWKWARD_TEXTS = [
    "", "plain", "a,b", 'say "hi"', "line\r\nbreak", "cr\ronly", "lf\nonly", "=1+1",
    "+x", "-0.5", "@SUM(A1)", "\tindent", "\rcr", " space", "ключ", "😀,", "'quoted'",
    "tail,", '"', None,
]  # fmt: skip

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
lead = st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", '"', ","])


@st.composite
def awkward_texts(draw: Any, nul: bool) -> str:
    text = draw(lead) + draw(texts)
    return text if nul else text.replace("\0", "")


@st.composite
def awkward_tables(draw: Any, finite_only: bool, nul: bool = False) -> Any:
    """A table of 1..8 columns of the kinds scored tables hold, 0..200 rows."""
    n = draw(st.integers(0, 200))
    floats = AWKWARD_FLOATS if finite_only else AWKWARD_FLOATS + NOT_FINITE
    kinds = {
        "few floats": (st.sampled_from(floats), pa.float64()),
        "many floats": (
            st.one_of(
                st.floats(allow_nan=not finite_only, allow_infinity=not finite_only),
                st.sampled_from(floats),
            ),
            pa.float64(),
        ),
        "items": (st.sampled_from([0.0, 0.5, 1.0, None]), pa.float64()),
        "few texts": (st.sampled_from(AWKWARD_TEXTS), pa.string()),
        "many texts": (st.one_of(awkward_texts(nul), st.none()), pa.string()),
        "booleans": (st.one_of(st.booleans(), st.none()), pa.bool_()),
        "integers": (st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()), pa.int64()),
    }
    names = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=8))
    columns = {}
    for i, kind in enumerate(names):
        values, arrow_type = kinds[kind]
        name = draw(st.sampled_from([f"c{i}", f"items.q{i}", f'odd "{i}", name']))
        columns[name] = pa.array(draw(st.lists(values, min_size=n, max_size=n)), arrow_type)
    if draw(st.booleans()) and n:
        columns["blank"] = pa.nulls(n)
    return pa.table(columns)


SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(table=awkward_tables(finite_only=False, nul=True))
def test_csv_lines_are_the_record_writers(tmp_path: Path, table: Any) -> None:
    assert CsvEncoder().encode(table) == csv_lines(tmp_path, table)


@SETTINGS
@given(table=awkward_tables(finite_only=True))
def test_jsonl_lines_are_the_record_writers(tmp_path: Path, table: Any) -> None:
    assert JsonlEncoder(dict.fromkeys(table.column_names)).encode(table) == record_bytes(
        tmp_path / "reference.jsonl", table
    )


@SETTINGS
@given(
    table=awkward_tables(finite_only=False),
    suffix=st.sampled_from([".csv", ".jsonl"]),
    parts=st.lists(st.integers(0, 40), max_size=4),
    sizes=st.tuples(st.integers(1, 50), st.integers(1, 50)),
)
def test_streamed_output_is_the_record_writers_whatever_the_chunks(
    tmp_path: Path, table: Any, suffix: str, parts: list[int], sizes: tuple[int, int]
) -> None:
    """`TableOutput` at small write sizes (`TEXT_WRITE`, `JSONL_WRITE`) and line-building
    slices (`TEXT_WRITE_ROWS`, `JSONL_WRITE_ROWS`): the bytes do not depend on them;
    a float JSON cannot carry fails as the record writer fails."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outputs, "TEXT_WRITE", sizes[0])
        patch.setattr(outputs, "JSONL_WRITE", sizes[0])
        patch.setattr(text_columns, "TEXT_WRITE_ROWS", sizes[1])
        patch.setattr(jsonl_columns, "JSONL_WRITE_ROWS", sizes[1])
        try:
            expected = record_bytes(tmp_path / f"reference{suffix}", table)
        except OutputError as exc:
            with pytest.raises(OutputError) as got:
                streamed(tmp_path, table, suffix, parts)
            assert str(got.value) == str(exc)
            return
        assert streamed(tmp_path, table, suffix, parts) == expected


# -- cases the generated tables may miss ---------------------------------------------------------


@pytest.mark.parametrize("n", [1, 50, 5000])
def test_csv_of_a_scored_shape(tmp_path: Path, n: int) -> None:
    """Item scores (few values), coefficients (many), ids, bands, flags side by side:
    coded pieces joined with their neighbours, varying pieces between them."""
    table = pa.table(
        {
            "visit_id": [f"v{i}" for i in range(n)],
            "coefficients.visit": [i / 7 if i % 5 else None for i in range(n)],
            **{
                f"items.i{k}": [(0.0, 0.5, 1.0, None)[(i + k) % 4] for i in range(n)]
                for k in range(9)
            },
            "bands.visit": [("good", "=bad", None)[i % 3] for i in range(n)],
            "rollup_inputs.share": [(True, False, None)[i % 3] for i in range(n)],
        }
    )
    assert CsvEncoder().encode(table) == csv_lines(tmp_path, table)


def test_csv_of_one_column_and_of_none(tmp_path: Path) -> None:
    """`csv.writer` quotes the empty cell of a one-cell row: the record rows are used."""
    one = pa.table({"x": pa.array(["", None, "a"], pa.string())})
    assert CsvEncoder().encode(one) == b'""\r\n""\r\na\r\n' == csv_lines(tmp_path, one)
    none = pa.table({"x": [1.0, 2.0]}).drop_columns(["x"])
    assert CsvEncoder().encode(none) == b"\r\n\r\n"


def test_csv_first_column_empty_beside_many_values(tmp_path: Path) -> None:
    """A first column of nulls spells nothing at all (a piece of no bytes)."""
    n = 300
    table = pa.table({"a": pa.nulls(n, pa.float64()), "b": [i / 7 for i in range(n)]})
    assert CsvEncoder().encode(table) == csv_lines(tmp_path, table)


def test_csv_text_holding_a_nul_goes_to_the_record_rows(tmp_path: Path) -> None:
    table = pa.table({"a": ["x\0y", "z"] * 100, "b": [0.5, 1.0] * 100})
    assert CsvEncoder().encode(table) == csv_lines(tmp_path, table)
    assert b"x\0y" in CsvEncoder().encode(table)


def test_csv_dictionary_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "a": pa.array(["=x", "b,c", None, "d"] * 30).dictionary_encode(),
            "b": pa.array([0.5, None, 1e16, -0.0] * 30).dictionary_encode(),
        }
    )
    plain = pa.table({"a": table["a"].cast(pa.string()), "b": table["b"].cast(pa.float64())})
    assert CsvEncoder().encode(table) == csv_lines(tmp_path, plain)


def test_csv_not_finite_floats_are_spelt_as_repr(tmp_path: Path) -> None:
    many = [math.nan, math.inf, -math.inf] + [i / 3 for i in range(300)]
    table = pa.table({"few": [math.nan, math.inf, None] * 101, "many": many})
    got = CsvEncoder().encode(table)
    assert got == csv_lines(tmp_path, table)
    assert got.startswith(b"nan,nan\r\ninf,inf\r\n,-inf\r\n")


def test_joined_coded_pieces_keep_every_combination() -> None:
    """Adjacent coded pieces become one coded by their pairs, up to a bound of values."""
    n = 64
    pieces: list[Any] = []
    expected = [b""] * n
    for k in range(1, 12):
        spelt = [f"<{k}:{v}>" for v in range(k)] + ["-"]
        codes = [None if (i * k) % 7 == 0 else (i + k) % k for i in range(n)]
        pieces.append(coded_piece(b",", spelt, pa.array(codes, pa.int32()), k))
        for i, code in enumerate(codes):
            expected[i] += b"," + spelt[k if code is None else code].encode()
    assert bytes(assemble(pieces, n)) == b"".join(expected)


# -- what an encoder keeps from part to part (`text_columns.Kept`) ------------------------------

#: Values a float column of an output takes: a few scores, zeros of both signs, values
#: repr and Arrow spell differently, and runs of many values (more than `FEW_BITS`).
PART_FLOATS = [0.0, -0.0, 0.25, 0.5, 1.0, 1e-05, 1e16, 5e-324, 1 / 3, None]


@st.composite
def parts_of_a_file(draw: Any) -> list[Any]:
    """Tables of one schema, the parts of one output, whose columns change their values
    from part to part: new values, more than `FEW_BITS` of them in a part and few in
    the next, values that hardly repeat (ids, coefficients), all null, and repeats of
    the values of earlier parts."""
    kinds = draw(st.lists(st.sampled_from(["float", "text"]), min_size=1, max_size=4))
    texts = st.one_of(st.sampled_from(AWKWARD_TEXTS), awkward_texts(False))
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        n = draw(st.integers(0, 300))
        columns = {}
        for i, kind in enumerate(kinds):
            spread = draw(st.sampled_from(["few", "many", "distinct", "nulls"]))
            few = st.sampled_from(PART_FLOATS) if kind == "float" else texts
            values: list[Any]
            if spread == "few" or (kind == "text" and spread == "many"):
                values = draw(st.lists(few, min_size=n, max_size=n))
            elif spread == "many":
                values = [draw(few) if r % 3 else r / 7 for r in range(n)]
            elif spread == "distinct":
                values = [r / 7 + 0.5 if kind == "float" else f"v{r}" for r in range(n)]
            else:
                values = [None] * n
            columns[f"c{i}"] = pa.array(values, pa.float64() if kind == "float" else pa.string())
        parts.append(pa.table(columns))
    return parts


@SETTINGS
@given(parts=parts_of_a_file())
def test_one_encoder_over_the_parts_of_a_file_writes_the_record_writers_lines(
    tmp_path: Path, parts: list[Any]
) -> None:
    """The values and spellings a column kept from earlier parts never change a later
    part's lines: each part is the record writer's lines, CSV and JSONL."""
    csv_encoder = CsvEncoder()
    jsonl_encoder = JsonlEncoder(dict.fromkeys(parts[0].column_names))
    for part in parts:
        assert csv_encoder.encode(part) == csv_lines(tmp_path, part)
        assert jsonl_encoder.encode(part) == record_bytes(tmp_path / "reference.jsonl", part)


def test_a_float_column_is_coded_by_its_bits_and_spelt_once() -> None:
    """A column of few values is coded against the values it took before (no new
    dictionary, no new spellings while they cover a part), -0.0 apart from 0.0."""
    kept = text_columns.Kept()
    spelt: list[float] = []

    def spell(value: float) -> str:
        spelt.append(value)
        return repr(value)

    first = pa.array([0.5, -0.0, None, 0.0, 0.5], pa.float64())
    piece = kept.float_piece("c", b",", first, spell, "")
    assert piece is not None
    assert [piece.spelt[c] for c in piece.codes] == [b",0.5", b",-0.0", b",", b",0.0", b",0.5"]
    assert sorted(map(repr, spelt)) == ["-0.0", "0.0", "0.5"]
    again = kept.float_piece("c", b",", pa.array([0.0, 0.5, None], pa.float64()), spell, "")
    assert again is not None and again.spelt is piece.spelt
    assert len(spelt) == 3
    many = pa.array([i / 7 for i in range(text_columns.FEW_BITS + 1)], pa.float64())
    assert kept.float_piece("c", b",", many, spell, "") is None


def test_joined_spellings_are_reused_while_parts_use_them() -> None:
    """`_Memo` gives the same joined list for the same lists, and forgets what a whole
    part did not use."""
    memo = text_columns._Memo()
    a, b = [b"x", b"y"], [b"1", b"2"]
    joined = memo.joined(a, b)
    assert joined == [b"x1", b"x2", b"y1", b"y2"]
    memo.age()
    assert memo.joined(a, b) is joined  # used in the part before
    memo.age()
    memo.age()  # a part that did not use it
    assert memo.joined(a, b) is not joined
    assert memo.joined([b"x", b"y"], b) == joined  # equal lists, other identities


@SETTINGS
@given(data=st.binary(max_size=300), chars=st.binary(min_size=1, max_size=12))
def test_bytes_among_chars_as_a_table_finds_them(data: bytes, chars: bytes) -> None:
    import numpy as np

    array = np.frombuffer(data, dtype=np.uint8)
    expected = np.array([byte in chars for byte in data], dtype=bool)
    assert np.array_equal(text_columns._among(array, chars), expected)


@SETTINGS
@given(data=st.binary(max_size=2000), block=st.sampled_from([8, 24, 1 << 18]))
def test_without_nul_deletes_exactly_the_nuls(data: bytes, block: int) -> None:
    """Whatever the blocks the mask is found in (a multiple of 8 bytes)."""
    import numpy as np

    flat = np.frombuffer(data, dtype=np.uint8).copy()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_columns, "_MASK_BLOCK", block)
        assert bytes(text_columns._without_nul(flat)) == data.replace(b"\0", b"")


@SETTINGS
@given(
    values=st.lists(
        st.one_of(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"))),
        min_size=1,
        max_size=40,
    ),
    prefix=st.sampled_from([b"", b",", b'"k": "']),
    reused=st.booleans(),
)
def test_varying_texts_are_copied_whole_ascii_or_not(
    values: list[str], prefix: bytes, reused: bool
) -> None:
    """A varying piece's texts as they are (ASCII ones padded by Arrow as one block,
    others byte by byte), in a matrix that may hold an earlier part's bytes."""
    kept = text_columns.Kept() if reused else None
    if kept is not None:
        n = len(values)
        garbage = [text_columns.LiteralPiece(b"\xff" * 64)]
        text_columns.assemble(garbage, n, kept)  # the matrix now holds other bytes
    texts = pa.array(values, pa.string())
    pieces = [text_columns.VaryingPiece(prefix, texts), text_columns.LiteralPiece(b"\n")]
    got = bytes(text_columns.assemble(pieces, len(values), kept))
    assert got == b"".join(prefix + v.encode("utf-8") + b"\n" for v in values)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("room", [0, 10, 5000])
def test_a_write_failing_behind_the_encoder_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, room: int
) -> None:
    """Text is written to the file by a thread of its own ("sbm-flush"): a failed write
    there ends the output with the record writers' `OutputError`, the file is not
    made, and no thread is left behind."""
    import errno
    import os
    import threading

    class Full:
        def __init__(self, stream: Any) -> None:
            self.stream, self.left = stream, room

        def write(self, data: Any) -> int:
            size = memoryview(data).nbytes
            if size > self.left:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.left -= size
            return int(self.stream.write(data))

        def flush(self) -> None:
            self.stream.flush()

    def begin(self: Any, stream: Any) -> None:
        self.stream = Full(stream)

    monkeypatch.setattr(outputs._ArrowFile, "_begin", begin)
    monkeypatch.setattr(outputs, "TEXT_WRITE", 64)
    monkeypatch.setattr(outputs, "JSONL_WRITE", 64)
    table = pa.table(
        {"visit_id": [f"v{i}" for i in range(1000)], "x": [i / 3 for i in range(1000)]}
    )
    with pytest.raises(OutputError, match="No space left on device"):
        streamed(tmp_path, table, suffix, [100] * 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file, no temporary one
    assert not [t for t in threading.enumerate() if t.name.startswith("sbm-")]


@SETTINGS
@given(
    values=st.lists(st.one_of(awkward_texts(True), st.none()), max_size=30), skip=st.integers(0, 5)
)
def test_a_nul_is_found_in_any_text_of_a_slice(values: list[str | None], skip: int) -> None:
    texts = pa.array(values, pa.string()).slice(skip)
    expected = any(v is not None and "\0" in v for v in values[skip:])
    assert text_columns._holds_nul(texts) == expected


@SETTINGS
@given(
    values=st.lists(st.floats(allow_nan=False), min_size=1, max_size=32, unique=True),
    rows=st.lists(st.integers(0, 40), max_size=200),
    nulls=st.lists(st.booleans(), min_size=200, max_size=200),
)
def test_slots_code_the_known_values_and_refuse_others(
    values: list[float], rows: list[int], nulls: list[bool]
) -> None:
    """A row of a known value gets its index in the sorted bits; a null row may hold
    anything; a non-null row of another value makes the table refuse the column."""
    import numpy as np

    dictionary = np.unique(np.array(values, dtype=np.float64).view(np.uint64))
    slots = text_columns._Slots.of(dictionary)
    if slots is None:  # no multiplier separated them: `few_codes` does the work
        return
    other = np.array([0.123456789, -1e300, 7.5], dtype=np.float64).view(np.uint64)
    pool = np.concatenate([dictionary, np.setdiff1d(other, dictionary)])
    keys = pool[[r % len(pool) for r in rows]]
    valid = np.array(nulls[: len(keys)], dtype=bool)
    codes = slots.codes(keys, valid)
    foreign = ~np.isin(keys, dictionary) & valid
    if foreign.any():
        assert codes is None
    else:
        assert codes is not None
        expected = np.searchsorted(dictionary, keys)
        assert np.array_equal(codes[valid], expected[valid])
