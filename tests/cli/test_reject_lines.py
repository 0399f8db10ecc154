"""A CSV reject's `source` is the same `file:LINE` on both engines of `sbm score`, and
that line is the physical line an editor shows (issue 18: a lone CR line break and a
blank line moved the batch path's numbers).

Lines end at LF, CRLF or a lone CR, as `io.csv_rows` and `csv.reader` count them; a
quoted cell's line breaks count too, a blank line counts, a byte-order mark does
not. The batch path is forced (`--engine batch`, Parquet output, whole file and one
row a chunk) and compared with the record path (`--engine python`, JSONL output).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

STANDARD = str(Path(__file__).parent.parent / "conformance" / "demo_branch.sbm")
HEADER = "visit_id,region,scenario,greeted,smile,wait,questions,card,secrecy,clean,overall"
ENDS = ("\n", "\r\n", "\r")
BOM = "\ufeff"


def good(vid: str, region: str = "R1") -> str:
    return f"{vid},{region},deposit,yes,no,3,4,yes,yes,5,7"


def bad(vid: str, region: str = "R1") -> str:
    """A row the standard rejects (`overall` is 0..10)."""
    return f"{vid},{region},deposit,yes,no,3,4,yes,yes,5,99"


def short(vid: str) -> str:
    """A row that does not fit the header (rejected as unreadable)."""
    return f"{vid},R1"


def rejects(inp: Path, engine: str, suffix: str, *extra: str) -> list[tuple[str, str]]:
    """(visit_id, source) of each reject of one run."""
    out = inp.with_name(f"{inp.stem}.{engine}{len(extra)}{suffix}")
    bad_path = out.with_name(out.name + ".rejects.jsonl")
    args = ["score", STANDARD, str(inp), "-o", str(out), "--rejects", str(bad_path)]
    result = CliRunner().invoke(cli, [*args, "--engine", engine, *extra])
    assert result.exit_code in (0, 1), result.output
    return [
        (r["visit_id"], r["source"])
        for r in map(json.loads, bad_path.read_text(encoding="utf-8").splitlines())
    ]


def both(inp: Path) -> list[int]:
    """The reject lines, asserted equal on the record path and the batch path."""
    ref = rejects(inp, "python", ".jsonl")
    for extra in [(), ("--chunk-size", "1")]:
        assert rejects(inp, "batch", ".parquet", *extra) == ref, extra
    assert rejects(inp, "batch", ".jsonl") == ref
    assert all(source.rsplit(":", 1)[0] == str(inp) for _, source in ref)
    return [int(source.rsplit(":", 1)[1]) for _, source in ref]


#: Rows after the header (line 1), and the lines of their rejects.
CASES = {
    "lone CR": ([good("v1"), "\r", bad("v2"), "\n", good("v3"), "\r", bad("v4"), "\n"], [3, 5]),
    "blank line": (
        [good("v1"), "\n\n", bad("v2"), "\n", good("v3"), "\n\n\n", bad("v4"), "\n"],
        [4, 8],
    ),
    "lone CR and blank line": ([good("v1"), "\r\r", bad("v2"), "\n\n", bad("v3"), "\r"], [4, 6]),
    "blank CRLF lines": ([good("v1"), "\r\n\r\n", bad("v2"), "\r\n", bad("v3"), "\r\n"], [4, 5]),
    "CR after a blank LF line": (
        [good("v1"), "\r\n\n\r", bad("v2"), "\n", short("v3"), "\n"],
        [5, 6],
    ),
    "quoted line breaks": (
        [
            good("v1", '"R\n1"'),  # lines 2-3
            "\n",
            good("v2", '"R\r\n\r\n1"'),  # 4-6
            "\r\n",
            good("v3", '"R\r1"'),  # 7-8
            "\r",
            bad("v4"),  # 9, then a blank line
            "\n\n",
            short("v5"),  # 11
            "\r",
            bad("v6", '"R\r1"'),  # 12-13, no final line end
        ],
        [9, 11, 12],
    ),
    "no final line end": ([good("v1"), "\n\r\n", bad("v2")], [4]),
}


@pytest.mark.parametrize("bom", ["", BOM])
@pytest.mark.parametrize("case", sorted(CASES))
def test_reject_lines_agree_and_are_physical(tmp_path: Path, case: str, bom: str) -> None:
    rows, lines = CASES[case]
    inp = tmp_path / "wave.csv"
    inp.write_bytes((bom + HEADER + "\n" + "".join(rows)).encode("utf-8"))
    assert both(inp) == lines


@pytest.mark.parametrize("header_end", ENDS)
def test_random_line_structures(tmp_path: Path, header_end: str) -> None:
    """Line ends, blank lines, quoted breaks and bad rows drawn at random."""
    rng = random.Random(header_end)
    for n in range(12):
        parts = [BOM if rng.random() < 0.3 else "", HEADER, header_end]
        for i in range(rng.randint(1, 10)):
            if rng.random() < 0.25:
                parts.append(rng.choice(ENDS) * rng.randint(1, 2))  # blank lines
            region = f'"R{rng.choice(ENDS)}1"' if rng.random() < 0.25 else "R1"
            kind = rng.random()
            vid = f"v{i}"
            text = (
                short(vid) if kind < 0.1 else bad(vid, region) if kind < 0.4 else good(vid, region)
            )
            parts += [text, rng.choice(ENDS)]
        inp = tmp_path / f"wave{n}.csv"
        inp.write_bytes("".join(parts).encode("utf-8"))
        both(inp)
