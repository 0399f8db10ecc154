"""The red team's CSV findings (issue 21, items 1, 15 and 16), each with the test that
would have caught it: every input goes through both engines of `sbm score` (the
record path, `--engine python`, and the batch path, `--engine batch`), which must
agree on the counts, the exit status and every byte of the results and the rejects,
and every record must end in exactly one of the two.

* 1: a lone CR and a short row cancelled out in the batch path's line count, so the
  short row was lost (`read 2, scored 2`, exit 0);
* 15: a header-only file without a final newline stopped the batch path (exit 2);
  one 5 MB cell, or a quote that never closes, stopped (or swallowed) the run where
  JSONL rejects just the line;
* 16: a UTF-8 file with one cp1251 row was decoded wholly as cp1251 (Москва became
  РњРѕСЃРєРІР°, exit 0), and encoding errors gave the wrong line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbm_engine.cli import cli

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

STANDARD = str(Path(__file__).parent.parent / "conformance" / "demo_branch.sbm")
ITEMS = ["greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"]
HEADER = ["visit_id", "region", "scenario", *ITEMS]
ANSWERS = ["yes", "no", "3", "4", "yes", "yes", "5", "7"]


def row(vid: str, region: str = "R1", scenario: str = "deposit") -> str:
    """A line (no line end) of a visit the demo standard scores."""
    return ",".join([vid, region, scenario, *ANSWERS])


def wave(*lines: str, end: str = "\n", final: bool = True) -> bytes:
    """The header and `lines`, UTF-8, each ended by `end` (the last one only if `final`)."""
    text = end.join([",".join(HEADER), *lines])
    return (text + (end if final else "")).encode("utf-8")


class Run:
    """One `sbm score` run: exit status, summary, scored visits and rejects."""

    def __init__(self, inp: Path, engine: str, *extra: str) -> None:
        out = inp.with_name(f"{inp.stem}.{engine}.jsonl")
        self.rejects_path = inp.with_name(f"{inp.stem}.{engine}.rej.jsonl")
        args = ["score", STANDARD, str(inp), "-o", str(out), "--rejects", str(self.rejects_path)]
        result = CliRunner().invoke(cli, [*args, "--engine", engine, "--format", "json", *extra])
        self.code = result.exit_code
        self.output = result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        self.summary: dict[str, Any] = {}
        self.scored_bytes = self.rejects_bytes = b""
        if self.code in (0, 1):
            self.summary = json.loads(result.stdout)
            self.scored_bytes = out.read_bytes()
            self.rejects_bytes = self.rejects_path.read_bytes()

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.summary["read"], self.summary["scored"], self.summary["rejected"]

    @property
    def scored(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.scored_bytes.decode().splitlines()]

    @property
    def rejects(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.rejects_bytes.decode().splitlines()]

    @property
    def sources(self) -> list[int]:
        return [int(r["source"].rsplit(":", 1)[1]) for r in self.rejects]


def both(inp: Path, *batch_options: str) -> Run:
    """Score `inp` with both engines; assert they agree on everything and that nothing
    is lost (read = scored + rejected, as many lines in each file, no source twice).
    Returns the record path's run."""
    ref = Run(inp, "python")
    fast = Run(inp, "batch", *batch_options)
    assert ref.code in (0, 1), ref.output
    assert fast.code == ref.code, fast.output
    assert fast.counts == ref.counts
    read, scored, rejected = ref.counts
    assert read == scored + rejected
    assert ref.code == (1 if rejected else 0)
    assert (len(ref.scored), len(ref.rejects)) == (scored, rejected)
    assert len(set(ref.sources)) == len(ref.sources), "a line rejected twice"
    assert fast.scored_bytes == ref.scored_bytes
    assert fast.rejects_bytes == ref.rejects_bytes
    return ref


def raw_id(reject: dict[str, Any]) -> str:
    """The visit_id of a rejected record as read: a row's cells, a line's text, a dict."""
    record = reject["record"]
    if isinstance(record, dict):
        return str(record.get("visit_id"))
    if isinstance(record, list):
        return str(record[0])
    return str(record).split(",", 1)[0]


def assert_each_once(run: Run, ids: list[str]) -> None:
    """Every record (by its visit_id) is in exactly one of the results or the rejects."""
    scored = [v["visit_id"] for v in run.scored]
    rejected = [raw_id(r) for r in run.rejects]
    assert sorted(scored + rejected) == sorted(ids)


CHUNKS = [(), ("--chunk-size", "1")]


# -- item 1: a lone CR and a short row -----------------------------------------------------------


@pytest.mark.parametrize("chunk", CHUNKS)
def test_lone_cr_between_rows_and_a_short_row_lose_nothing(tmp_path: Path, chunk: tuple) -> None:
    """The red team's case: a CR alone ends a line (two rows on one LF-line), a short
    row later; newline bytes counted rows + 1, so the batch path took every line for
    one row and never looked for the short one."""
    inp = tmp_path / "wave.csv"
    inp.write_bytes(wave(row("v1") + "\r" + row("v2"), "v3,R1,deposit,yes"))
    ref = both(inp, *chunk)
    assert ref.counts == (3, 2, 1)
    assert ref.sources == [4]  # lines end at LF, CRLF and a lone CR, as csv.reader counts
    assert ref.rejects[0]["errors"][0]["code"] == "unreadable"
    assert_each_once(ref, ["v1", "v2", "v3"])


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize(
    ("lines", "sources"),
    [
        # a CR inside a row splits it into two short rows
        ([row("v1"), row("v2").replace(",R1,", ",R1\r", 1), "v3,R1"], [3, 4, 5]),
        # old Mac line ends only
        ([row("v1"), "v2,R1,deposit", row("v3")], [3]),
        # a CR inside a quoted cell counts as a line (the next row's line moves on)
        ([row("v1", region='"R\r1"'), "v2,R1", row("v3")], [4]),
    ],
)
def test_lone_crs_give_the_record_path_lines(
    tmp_path: Path, chunk: tuple, lines: list[str], sources: list[int]
) -> None:
    inp = tmp_path / "wave.csv"
    end = "\r" if lines[1] == "v2,R1,deposit" else "\n"
    inp.write_bytes(wave(*lines, end=end))
    ref = both(inp, *chunk)
    assert ref.sources == sources


# -- item 15: header only, huge cells, bad lines ---------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"\n", b"\r\n", b"\n\n\n", b"\r\r", b"\n,,,,,,,,,,\n", b"\r\n,,\r\n"]
)
def test_header_only_is_no_visits_on_both_paths(tmp_path: Path, data: bytes) -> None:
    """`visit_id,…` without a final newline stopped the batch path with exit 2."""
    inp = tmp_path / "wave.csv"
    inp.write_bytes(wave(final=False) + data)
    ref = both(inp)
    assert ref.counts == (0, 0, 0)


@pytest.mark.parametrize("data", [b"", b"\n\r\n", b"\xef\xbb\xbf"])
def test_a_file_without_a_header_is_no_visits_on_both_paths(tmp_path: Path, data: bytes) -> None:
    inp = tmp_path / "wave.csv"
    inp.write_bytes(data)
    assert both(inp).counts == (0, 0, 0)


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("quoted", [False, True])
def test_a_5mb_cell_rejects_its_row_and_the_run_goes_on(
    tmp_path: Path, chunk: tuple, quoted: bool
) -> None:
    """One 5 MB cell aborted both paths (the csv module's field limit; Arrow's block)."""
    huge = "x" * 5_000_000
    inp = tmp_path / "wave.csv"
    inp.write_bytes(wave(row("v1"), row("v2", region=f'"{huge}"' if quoted else huge), row("v3")))
    ref = both(inp, *chunk)
    assert ref.counts == (3, 2, 1)
    (reject,) = ref.rejects
    assert reject["source"].endswith(":3")
    assert reject["errors"] == [
        {"item": "record", "code": "unreadable", "message": "a cell longer than 131,072 characters"}
    ]
    assert_each_once(ref, ["v1", "v2", "v3"])


@pytest.mark.parametrize("chunk", CHUNKS)
def test_the_cell_limit_is_the_same_on_both_paths(tmp_path: Path, chunk: tuple) -> None:
    """A cell of `csv.field_size_limit()` characters is read; one more is not (Arrow
    read both, the record path stopped at the second)."""
    limit = csv.field_size_limit()
    inp = tmp_path / "wave.csv"
    inp.write_bytes(wave(row("v1", scenario="й" * limit), row("v2", scenario="й" * (limit + 1))))
    ref = both(inp, *chunk)
    assert ref.counts == (2, 1, 1)
    assert ref.sources == [3]


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("final", [True, False])
def test_a_quote_that_never_closes_rejects_its_line_alone(
    tmp_path: Path, chunk: tuple, final: bool
) -> None:
    """The quote swallowed every line after it into one row (read 2 of 5)."""
    inp = tmp_path / "wave.csv"
    opened = row("v2", region='"R1')
    inp.write_bytes(wave(row("v1"), opened, row("v3"), row("v4"), row("v5"), final=final))
    ref = both(inp, *chunk)
    assert ref.counts == (5, 4, 1)
    (reject,) = ref.rejects
    assert reject["source"].endswith(":3")
    assert reject["record"] == opened
    assert reject["errors"][0]["message"].startswith("a quote that never closes")
    assert_each_once(ref, ["v1", "v2", "v3", "v4", "v5"])


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("final", [True, False])
def test_a_quote_that_never_closes_on_the_last_line(
    tmp_path: Path, chunk: tuple, final: bool
) -> None:
    """On the last line such a quote runs into no other line, so the line count does
    not show it: Arrow read the row (`"7` as 7), the record path rejects it."""
    inp = tmp_path / "wave.csv"
    last = row("v3")[:-1] + '"7'
    inp.write_bytes(wave(row("v1"), row("v2"), last, final=final))
    ref = both(inp, *chunk)
    assert ref.counts == (3, 2, 1)
    assert ref.sources == [4]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_rows_that_do_not_fit_are_rejected_and_the_run_goes_on(
    tmp_path: Path, chunk: tuple
) -> None:
    inp = tmp_path / "wave.csv"
    inp.write_bytes(
        wave(row("v1"), "v2,R1", row("v3") + ",extra", row("v4"), 'v5,"R\n1",x', row("v6"))
    )
    ref = both(inp, *chunk)
    assert ref.sources == [3, 4, 6]
    assert_each_once(ref, ["v1", "v2", "v3", "v4", "v5", "v6"])


# -- item 16: encodings --------------------------------------------------------------------------


def _mixed(tmp_path: Path, before: int) -> Path:
    """UTF-8 visits in Москва with one row written in cp1251, after `before` rows."""
    head = wave(*(row(f"v{i}", region="Москва") for i in range(before)))
    bad = (row("bad", region="Москва") + "\n").encode("cp1251")
    tail = (row("last", region="Казань") + "\n").encode("utf-8")
    inp = tmp_path / "wave.csv"
    inp.write_bytes(head + bad + tail)
    return inp


@pytest.mark.parametrize("chunk", [(), ("--chunk-size", "1000")])
@pytest.mark.parametrize("before", [2, 5000])  # in the first 64 KiB, and after it
def test_a_cp1251_row_in_a_utf8_file_is_rejected_at_its_line(
    tmp_path: Path, chunk: tuple, before: int
) -> None:
    from sbm_engine.io.detect import detect_encoding

    inp = _mixed(tmp_path, before)
    assert detect_encoding(inp) == "utf-8"
    ref = both(inp, *chunk)
    assert ref.counts == (before + 2, before + 1, 1)
    (reject,) = ref.rejects
    line = before + 2
    assert reject["source"] == f"{inp}:{line}"
    message = reject["errors"][0]["message"]
    assert message.startswith(f"line {line}: not valid utf-8")
    assert "--encoding cp1251" in message
    assert {v["region"] for v in ref.scored} == {"Москва", "Казань"}  # never РњРѕСЃРєРІР°


def test_a_file_wholly_in_cp1251_is_still_read_as_cp1251(tmp_path: Path) -> None:
    from sbm_engine.io.detect import detect_encoding

    inp = tmp_path / "wave.csv"
    text = ",".join(HEADER) + "\n" + row("v1", region="Москва") + "\n" + row("v2", "Тверь") + "\n"
    inp.write_bytes(text.encode("cp1251"))
    assert detect_encoding(inp) == "cp1251"
    ref = both(inp)
    assert [v["region"] for v in ref.scored] == ["Москва", "Тверь"]


def test_a_line_with_multibyte_utf8_makes_the_file_utf8(tmp_path: Path) -> None:
    """Even when the other non-ASCII lines are cp1251: those rows are rejected, naming
    cp1251, rather than the UTF-8 one read as mojibake."""
    from sbm_engine.io.detect import detect_encoding

    inp = tmp_path / "wave.csv"
    cp = [(row(f"v{i}", region="Тверь") + "\n").encode("cp1251") for i in range(3)]
    inp.write_bytes(wave(row("u", region="Москва")) + b"".join(cp))
    assert detect_encoding(inp) == "utf-8"
    ref = both(inp)
    assert ref.counts == (4, 1, 3)
    assert all("it reads as cp1251" in r["errors"][0]["message"] for r in ref.rejects)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_short_row_not_in_utf8_is_rejected_without_noise(tmp_path: Path) -> None:
    """Arrow decodes a row that does not fit as UTF-8 before its skip handler sees it,
    and printed "Exception ignored in: _skip_row" and a traceback when it is not."""
    inp = tmp_path / "wave.csv"
    bad = "v2,Тверь\n".encode("cp1251")
    inp.write_bytes(wave(row("v1", region="Москва")) + bad + (row("v3") + "\n").encode())
    ref = both(inp)
    assert ref.sources == [3]
    assert "Exception ignored" not in Run(inp, "batch").output


def test_a_bad_byte_after_chunks_were_scored_starts_the_batch_run_again(tmp_path: Path) -> None:
    """Found in the 3rd chunk, after two were scored and written: the batch path reads
    the file again as the record path does, with nothing counted twice."""
    inp = tmp_path / "wave.csv"
    rows = [row(f"v{i}", region="Москва") for i in range(6)]
    rows[4] = rows[4].replace(",5,", ",@@,")
    inp.write_bytes(wave(*rows).replace(b"@@", b"\xff"))
    ref = both(inp, "--chunk-size", "2")
    assert ref.counts == (6, 5, 1)
    assert ref.sources == [6]
    both(inp, "--chunk-size", "2", "--jobs", "2")


# -- property: random CSV bytes --------------------------------------------------------------


@pytest.fixture
def small_cell_limit() -> Iterator[int]:
    """The csv module's field limit (process-wide) made small, so that long cells
    are cheap to generate; both paths read it."""
    old = csv.field_size_limit(24)
    try:
        yield 24
    finally:
        csv.field_size_limit(old)


CELLS = st.sampled_from(
    [
        *("yes", "no", "3", "", "deposit", "Москва", '"q"', '"a\rb"', '"a\nb"', '"x""y"'),
        *('x"y', '"unclosed', "z" * 30, '"' + "w" * 30 + '"', "R1\r", "\r", "\n", ",", '"'),
    ]
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """A header and rows made of good rows, short and long rows, quotes (closed or
    not), line breaks of every kind inside and between rows, long cells and a row in
    cp1251, with or without a final line end."""
    lines = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["good", "good", "cells", "cp1251", "blank"]))
        if kind == "good":
            text = row(f"v{i}")
        elif kind == "blank":
            text = ""
        else:
            cells = draw(st.lists(CELLS, min_size=1, max_size=12))
            text = ",".join([f"v{i}", *cells])
        end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        data = (text + end).encode("cp1251" if kind == "cp1251" else "utf-8")
        lines.append(data)
    body = b"".join(lines)
    if draw(st.booleans()):
        body = body.rstrip(b"\r\n")
    return (",".join(HEADER) + "\n").encode() + body


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=csv_bytes(), chunk=st.sampled_from(["1", "2", "65536"]))
def test_property_random_csv_both_paths_agree_and_nothing_is_lost(
    tmp_path_factory: pytest.TempPathFactory, small_cell_limit: int, data: bytes, chunk: str
) -> None:
    inp = tmp_path_factory.mktemp("red") / "wave.csv"
    inp.write_bytes(data)
    ref = Run(inp, "python")
    if ref.code == 2:  # the file as a whole cannot be read (its encoding): both say so
        assert Run(inp, "batch", "--chunk-size", chunk).code == 2
        return
    both(inp, "--chunk-size", chunk)
