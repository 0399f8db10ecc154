"""Property: the streaming path and the record path agree on any CSV wave, line
structure included: lone CRs, CRLF and LF line ends, blank lines, quoted line
breaks, a byte-order mark, rows that do not fit the header, repeated ids, a last
line without its end. Same output and rejects bytes for any chunk size, and the
same `file:LINE` for every reject from `score_batches`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from tests.pipeline.agreement import assert_batch_path_agrees, record_rejects

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

STANDARD = str(Path(__file__).parent.parent / "conformance" / "demo_branch.sbm")
HEADER = "visit_id,region,scenario,greeted,smile,wait,questions,card,secrecy,clean,overall"
ENDS = ("\n", "\r\n", "\r")

_STD: list[sbm_engine.CompiledStandard] = []


def standard() -> sbm_engine.CompiledStandard:
    if not _STD:
        _STD.append(sbm_engine.load(STANDARD))
    return _STD[0]


row = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["good", "good", "bad", "short", "empty cells"]),
        "vid": st.sampled_from(["v1", "v2", "v3", "v4", "v5", ""]),
        "region": st.sampled_from(["R1", '"R\n1"', '"R\r\n1"', '"R\r1"', '"R,1"', "R2"]),
        "blank": st.sampled_from(["", "", "\n", "\r", "\r\n", "\n\n", "\r\r"]),
        "end": st.sampled_from(ENDS),
    }
)


def render(rows: list[dict[str, str]], bom: bool, header_end: str, final_end: bool) -> bytes:
    parts = ["\ufeff" if bom else "", HEADER, header_end]
    for i, r in enumerate(rows):
        vid, region = r["vid"], r["region"]
        if r["kind"] == "short":
            text = f"{vid},{region}"
        elif r["kind"] == "empty cells":
            text = "," * 10
        else:
            overall = "99" if r["kind"] == "bad" else "7"
            text = f"{vid},{region},deposit,yes,no,3,4,yes,yes,5,{overall}"
        last = i == len(rows) - 1
        parts += [r["blank"], text, r["end"] if final_end or not last else ""]
    return "".join(parts).encode("utf-8")


@pytest.mark.property
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(row, min_size=1, max_size=10),
    bom=st.booleans(),
    header_end=st.sampled_from(ENDS),
    final_end=st.booleans(),
    chunk_rows=st.sampled_from([1, 2, 1000]),
)
def test_batch_and_record_paths_agree_on_any_line_structure(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, str]],
    bom: bool,
    header_end: str,
    final_end: bool,
    chunk_rows: int,
) -> None:
    std = standard()
    tmp = tmp_path_factory.mktemp("lines")
    inp = tmp / "wave.csv"
    inp.write_bytes(render(rows, bom, header_end, final_end))
    ref, rejects = record_rejects(std, inp, tmp)
    assert_batch_path_agrees(std, inp, tmp, chunk_rows, ref, rejects)
    # every source is a physical line of the file, counted as an editor counts them
    text = inp.read_bytes().decode("utf-8-sig")
    physical = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for reject in rejects:
        path, line = reject["source"].rsplit(":", 1)
        assert path == str(inp)
        assert 2 <= int(line) <= physical
