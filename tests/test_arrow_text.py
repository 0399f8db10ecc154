"""The byte-level checks over Arrow text buffers agree with Python's own view of the
texts, for any text, null, slice offset and offset width."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.batch.arrow_text import starts_solid, text_layout
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
