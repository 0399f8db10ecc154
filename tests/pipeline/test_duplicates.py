"""Duplicate visit_ids across the chunks of a streaming run: the 64-bit hashes of the
ids and the sorted runs they are kept in (`pipeline.duplicates`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")

from sbm_engine.batch.arrow_text import hash_texts  # noqa: E402
from sbm_engine.pipeline.duplicates import SeenIds  # noqa: E402


@given(st.lists(st.text(max_size=40), max_size=30), st.integers(0, 5))
def test_id_hashes_agree_whatever_form_the_texts_come_in(texts, cut):
    """Equal texts hash alike from a list, a sliced array, a large_string array and a
    chunked array (the scored ids are Arrow, the rejected ones Python)."""
    want = hash_texts(texts)
    padded = pa.array(["pad"] * cut + texts, pa.string()).slice(cut)
    assert np.array_equal(hash_texts(padded), want)
    assert np.array_equal(hash_texts(padded.cast(pa.large_string())), want)
    halves = pa.chunked_array([texts[: len(texts) // 2], texts[len(texts) // 2 :]], pa.string())
    assert np.array_equal(hash_texts(halves), want)
    by_text = {}
    for t, h in zip(texts, want.tolist(), strict=True):
        assert by_text.setdefault(t, h) == h


def test_id_hashes_tell_near_texts_apart():
    texts = ["", "a", "a\x00", "ab", "ba", "й", "и", "visit-000001", "visit-000010"]
    texts += [f"v{i}" for i in range(10_000)]
    assert len(set(hash_texts(texts).tolist())) == len(texts)


def test_seen_ids_find_earlier_hashes():
    seen = SeenIds()
    for start in range(0, 1000, 100):  # several runs, merged as they grow
        seen.add(hash_texts([f"id{i}" for i in range(start, start + 100)]))
    probe = hash_texts(["id0", "id999", "id1000", "other"])
    assert seen.hits(probe).tolist() == [True, True, False, False]
    assert seen.nbytes == 8 * 1000
    assert all(np.all(np.diff(run) >= 0) for run in seen.runs)


@given(
    st.lists(st.lists(st.integers(-50, 50), max_size=30), max_size=6),
    st.lists(st.integers(-60, 60), max_size=40),
)
def test_seen_ids_hit_exactly_the_hashes_added(added, probe):
    """Whatever the runs and the order of the probed hashes: a hit is a hash added before."""
    seen = SeenIds()
    for part in added:
        seen.add(np.array(part, dtype=np.int64))
    known = {h for part in added for h in part}
    got = seen.hits(np.array(probe, dtype=np.int64)).tolist()
    assert got == [h in known for h in probe]
    assert seen.any_of(np.sort(np.array(probe, dtype=np.int64))) == any(got)


def _fnv1a(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return h - 2**64 if h >= 2**63 else h


@given(st.lists(st.text(max_size=60), max_size=40))
def test_id_hashes_are_fnv1a_of_the_utf8_bytes(texts):
    assert hash_texts(texts).tolist() == [_fnv1a(t) for t in texts]


def test_one_long_id_among_short_ones():
    """Rows of very different lengths: each is hashed over its own bytes only."""
    texts = [f"v{i}" for i in range(2000)] + ["x" * 5000] + ["", "й" * 3]
    assert hash_texts(texts).tolist() == [_fnv1a(t) for t in texts]
