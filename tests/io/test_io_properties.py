"""Property: whatever visits are written, reading them back keeps them, in order."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sbm_engine.formats import open_writer, read_visits

# Any text a CSV or JSON file can hold in UTF-8 (no lone surrogates).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
IDS = TEXT.filter(lambda text: text != "")
VALUES = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
VISITS = st.lists(
    st.builds(
        lambda visit_id, point, wait, note: {
            "visit_id": visit_id,
            "point": point,
            "answers": {"wait": wait, "note": note},
        },
        IDS,
        TEXT,
        VALUES,
        VALUES,
    ),
    max_size=20,
)


def _round_trip(ext: str, visits: list[dict]) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"visits.{ext}"
        with open_writer(path) as writer:
            writer.write_many(visits)
        return list(read_visits(path))


@settings()
@given(VISITS)
def test_jsonl_round_trip_is_exact(visits: list[dict]) -> None:
    got = _round_trip("jsonl", visits)
    assert [r.record for r in got] == visits


@settings()
@given(VISITS)
def test_csv_round_trip_keeps_visit_ids_in_order(visits: list[dict]) -> None:
    got = _round_trip("csv", visits)
    assert all(r.error is None for r in got)
    assert [r.record["visit_id"] for r in got if r.record] == [v["visit_id"] for v in visits]


@given(
    data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b'"', b","]), max_size=40).map(
        b"".join
    ),
    block=st.integers(1, 9),
)
def test_line_terminators_count_as_csv_reader_does(data: bytes, block: int) -> None:
    """LF, CRLF and a lone CR each end one line, wherever the blocks are cut (a CRLF
    split between two blocks, blocks without a CR)."""
    import re

    from sbm_engine.io.csv_rows import line_terminators

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        path.write_bytes(data)
        expected = (len(re.findall(rb"\r\n|\r|\n", data)), data[-1:] in (b"\n", b"\r"))
        assert line_terminators(path, block) == expected
