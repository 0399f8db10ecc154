"""The byte-level checks over Arrow text buffers agree with Python's own view of the
texts, for any text, null, slice offset and offset width."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.batch.arrow_text import (
    SHORT_DISTINCT,
    _short_codes,
    dictionary_encode,
    starts_solid,
    text_layout,
)
from sbm_engine.batch.columns import ArrowSource

SPACES = [" ", "\t", "\n", "\u2003", "\u3000", "\x1c", "\x85", "\xa0"]
texts = st.lists(
    st.none()
    | st.text(alphabet=st.sampled_from(SPACES), max_size=3)
    | st.text(max_size=6)
    | st.sampled_from(["a", " a", "\u2003x", "é", "~", "\x7f"]),
    max_size=40,
)


def _arrays(values: list[str | None], skip: int) -> list[pa.Array]:
    return [
        pa.array(values, t).slice(min(skip, len(values))) for t in (pa.string(), pa.large_string())
    ]


@given(texts, st.integers(0, 5))
def test_layout_spans_are_the_texts(values: list[str | None], skip: int) -> None:
    for arr in _arrays(values, skip):
        starts, lengths, data = text_layout(arr)
        for i, v in enumerate(values[skip:]):
            if v is not None:
                assert bytes(data[starts[i] : starts[i] + lengths[i]]).decode() == v


@given(texts, st.integers(0, 5))
def test_blank_is_strip_and_solid_never_claims_a_blank(values: list[str | None], skip: int) -> None:
    expected = [v is None or not v.strip() for v in values[skip:]]
    for arr in _arrays(values, skip):
        assert not (starts_solid(arr) & np.array(expected, dtype=bool)).any()
        assert ArrowSource(arr).blank(0, len(arr)).tolist() == expected
        assert ArrowSource(arr.dictionary_encode()).blank(0, len(arr)).tolist() == expected


codes = st.lists(
    st.none()
    | st.sampled_from(["0", "1", "2", "5", "9", "a", "", "10", "na", "yes", "é", "\x00", "\x7f"])
    | st.sampled_from(["да", "нет", "n/a", "1234567", "12345678", "yes\x00", "\x00\x00"])
    | st.text(min_size=1, max_size=3)
    | st.characters(max_codepoint=0x7F),  # one byte, any of them: wide ranges too
    max_size=40,
)


@given(st.one_of(codes, texts), st.integers(0, 5), st.integers(0, 5))
def test_dictionary_encode_keeps_every_value(values: list[str | None], skip: int, cut: int) -> None:
    """`dictionary_encode` (the one-byte path or Arrow's) gives back the same texts and
    nulls, with distinct dictionary values, from text or binary (large or not), sliced
    or not."""
    import pyarrow.compute as pc

    for t in (pa.string(), pa.binary(), pa.large_string(), pa.large_binary()):
        arr = pa.array([None if v is None else v.encode() for v in values], pa.binary()).cast(t)
        arr = arr.slice(min(skip, len(arr)), max(0, len(arr) - skip - cut))
        got = dictionary_encode(arr)
        got.validate(full=True)
        assert got.type == pa.dictionary(pa.int32(), pa.string())
        assert got.to_pylist() == arr.cast(pa.string()).to_pylist()
        assert got.null_count == arr.null_count
        assert len(set(got.dictionary.to_pylist())) == len(got.dictionary)
        assert sorted(got.dictionary.to_pylist()) == sorted(
            pc.dictionary_encode(arr.cast(pa.string())).dictionary.to_pylist()
        )


@given(st.lists(st.none() | st.sampled_from([b"1", b"0", b"\xff", b"\x80", b"\xd0"]), max_size=20))
def test_dictionary_encode_refuses_bytes_that_are_not_utf8(values: list[bytes | None]) -> None:
    arr = pa.array(values, pa.binary())
    bad = any(v is not None and v >= b"\x80" for v in values)
    if bad:
        with pytest.raises(pa.ArrowInvalid):
            dictionary_encode(arr)
    else:
        assert dictionary_encode(arr).to_pylist() == [
            None if v is None else v.decode() for v in values
        ]


def test_short_cells_are_matched_without_arrow() -> None:
    """Answer labels of up to 7 bytes take the numpy path; longer cells, or more than
    SHORT_DISTINCT distinct ones, go to Arrow's hash."""
    labels = ["yes", "no", "na", None, "нет", "", "да"] * 300 + ["late"]  # after the seed rows
    for t in (pa.string(), pa.binary(), pa.large_binary()):
        arr = pa.array([None if v is None else v.encode() for v in labels], pa.binary()).cast(t)
        got = _short_codes(arr.slice(3))
        assert got is not None
        assert got.cast(pa.string()).to_pylist() == labels[3:]
    assert _short_codes(pa.array(["1234567", "12345678"])) is None
    many = [str(i) for i in range(SHORT_DISTINCT + 1)]
    assert _short_codes(pa.array(many)) is None
    assert _short_codes(pa.array(many[:SHORT_DISTINCT])) is not None
    assert _short_codes(pa.array([None, None], pa.string())) is None
