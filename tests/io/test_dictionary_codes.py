"""`few_codes`: exact dictionary codes for columns of few values, or None for many."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.io.dictionary_codes import SEED_ROWS, few_codes


@st.composite
def columns(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    pool = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20, unique=True))
    n = draw(st.integers(1, 3 * SEED_ROWS))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=60))
    keys = np.array([pool[picks[i % len(picks)]] for i in range(n)], dtype=np.uint64)
    if draw(st.booleans()):  # a value first met after the seed rows
        keys[-1] = draw(st.sampled_from(pool))
    valid = None
    if draw(st.booleans()):
        valid = np.array([draw(st.booleans()) for _ in range(min(n, 50))] * (n // 50 + 1))[:n]
    known = None
    if draw(st.booleans()):
        known = np.unique(np.array(draw(st.lists(st.sampled_from(pool), max_size=8)), np.uint64))
    return keys, valid, known, draw(st.integers(1, 16))


@given(columns())
def test_codes_index_the_dictionary_or_there_are_too_many_values(case) -> None:
    keys, valid, known, limit = case
    present = keys if valid is None else keys[valid]
    distinct = np.unique(present)
    found = few_codes(keys, valid, limit, np.uint8, known)
    if len(distinct) > limit:
        assert found is None
        return
    assert found is not None
    codes, dictionary = found
    assert codes.dtype == np.uint8
    assert len(dictionary) <= limit
    assert np.array_equal(dictionary, np.unique(dictionary))  # sorted, distinct
    picked = codes if valid is None else codes[valid]
    assert np.array_equal(dictionary[picked], present)
    if known is not None and len(known) <= limit and np.isin(present, known).all():
        assert dictionary is known  # an earlier dictionary that still fits is kept


def test_all_null_gives_an_empty_dictionary() -> None:
    keys = np.arange(10, dtype=np.uint64)
    found = few_codes(keys, np.zeros(10, bool), 4, np.int32)
    assert found is not None
    dictionary = found[1]
    assert len(dictionary) == 0
