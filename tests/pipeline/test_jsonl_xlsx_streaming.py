"""JSONL and XLSX inputs on the streaming path (`io.jsonl_columns`, `io.xlsx_columns`
read them in chunks) against the record path (`--engine python`, the reference):
the same output bytes (XLSX outputs: the same cells read back), the same rejects
with the same sources (`file:LINE`, `file:SHEET:ROW`) and records as written, for
any chunk size and `--jobs`; what a table cannot carry exactly falls back to the
record path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.cli import cli
from sbm_engine.pipeline import Unsupported, why_not
from tests.pipeline.agreement import assert_batch_path_agrees, record_rejects

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

ROOT = Path(__file__).parent.parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"
STANDARD = str(CONFORMANCE / "demo_branch.sbm")
DEMO = CONFORMANCE / "demo_visits.jsonl"
FIELDS = ["visit_id", "point", "specialist", "region", "date", "scenario"]
ITEMS = ["greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"]

_STD: list[sbm_engine.CompiledStandard] = []


def standard() -> sbm_engine.CompiledStandard:
    if not _STD:
        _STD.append(sbm_engine.load(STANDARD))
    return _STD[0]


def sheet_cells(path: Path) -> list[list]:
    """The cells of a workbook's sheet read back (a row ends at its last value: the
    columnar writer stores its empty cells, openpyxl does not)."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    return rows


def sbm(standard: str, inp: Path, out: Path, engine: str, *extra: str) -> tuple[int, dict, Path]:
    rejects = out.with_name(out.name + ".rej.jsonl")
    args = ["score", standard, str(inp), "-o", str(out), "--rejects", str(rejects)]
    result = CliRunner().invoke(cli, [*args, "--engine", engine, "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout), rejects


def both(
    inp: Path, tmp: Path, suffix: str = ".jsonl", *extra: str, standard: str = STANDARD
) -> list[dict]:
    """Score with both engines (one output name: XLSX names its sheet by it); assert the
    same outputs and rejects; return the rejects."""
    (tmp / "ref").mkdir(parents=True, exist_ok=True)
    (tmp / "fast").mkdir(parents=True, exist_ok=True)
    ref, fast = tmp / "ref" / f"out{suffix}", tmp / "fast" / f"out{suffix}"
    code_ref, sum_ref, rej_ref = sbm(standard, inp, ref, "python")
    code_fast, sum_fast, rej_fast = sbm(standard, inp, fast, "batch", *extra)
    assert code_ref == code_fast
    keys = ("read", "scored", "rejected")
    assert {k: sum_ref[k] for k in keys} == {k: sum_fast[k] for k in keys}
    if suffix == ".xlsx":
        assert sheet_cells(fast) == sheet_cells(ref)
    else:
        assert fast.read_bytes() == ref.read_bytes()
    assert rej_fast.read_bytes() == rej_ref.read_bytes()
    return [json.loads(x) for x in rej_ref.read_text("utf-8").splitlines()]


def visit(vid: str, **answers: object) -> dict:
    base = {"greeted": "yes", "smile": "no", "wait": 3, "questions": 4, "card": "yes"}
    base |= {"secrecy": "yes", "clean": 5, "overall": 7}
    base.update(answers)
    return {"visit_id": vid, "region": "R1", "scenario": "deposit", "answers": base}


def jsonl(path: Path, lines: list[object]) -> Path:
    text = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines]
    path.write_bytes(("\n".join(text) + "\n").encode("utf-8"))
    return path


def xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "wave"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def demo_rows() -> tuple[list[str], list[list]]:
    rows = []
    for line in DEMO.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("answers"), dict):
            continue
        rows.append([rec.get(k) for k in FIELDS] + [rec["answers"].get(k) for k in ITEMS])
    return FIELDS + ITEMS, rows


# -- the streaming path is chosen --------------------------------------------------------------


def test_jsonl_and_xlsx_inputs_stream(tmp_path: Path) -> None:
    pytest.importorskip("python_calamine")
    for name in ("a.jsonl", "a.ndjson", "a.xlsx"):
        assert why_not([tmp_path / name], tmp_path / "out.parquet", None) is None
    assert why_not([tmp_path / "a.xlsx"], None, "wave") is None
    assert why_not([tmp_path / "a.jsonl"], None, "wave") is not None  # --sheet: XLSX only


# -- JSONL -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".xlsx"])
@pytest.mark.parametrize("chunk", ["1", "2", "65536"])
def test_conformance_demo_visits(tmp_path: Path, suffix: str, chunk: str) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    rejects = both(DEMO, tmp_path, suffix, "--chunk-size", chunk)
    assert len(rejects) == 6
    assert all(r["source"].startswith(f"{DEMO}:") for r in rejects)


PACKS = sorted(ROOT.glob("plugins/*/sample/*.jsonl"))


@pytest.mark.parametrize("wave", PACKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_pack_sample_waves(tmp_path: Path, wave: Path) -> None:
    standards = sorted(wave.parent.parent.glob("src/*/standards/*.sbm"))
    assert standards
    for k, std in enumerate(standards):  # the restaurant's king_county rejects every visit
        both(wave, tmp_path / str(k), ".jsonl", "--chunk-size", "37", standard=str(std))


def test_unreadable_lines_duplicates_across_chunks_mixed_answers(tmp_path: Path) -> None:
    lines: list[object] = [
        visit("v1"),
        "",
        "{not json",
        visit("v2", wait="na"),  # text among the numbers of `wait`
        "[1, 2]",
        visit("v3", overall=99),  # out of range
        '{"visit_id": "v4", "visit_id": "v5", "answers": {}}',  # a duplicate key
        visit("v1"),  # repeated in a later chunk
        "   ",
        visit("v6", wait=4.5, questions="4"),
        visit("v3", clean=None),  # a rejected visit repeated; a null answer
        {"visit_id": "v7", "region": "R1", "answers": {"greeted": "yes"}, "extra": [1]},
        "\ufeff" + json.dumps(visit("v8")),  # a BOM that is not at the start of the file
        visit("v2"),
        "42",
    ]
    inp = jsonl(tmp_path / "wave.jsonl", lines)
    inp.write_bytes(inp.read_bytes().replace(b"\n", b"\r\n", 3))
    for chunk in ("1", "2", "3", "100"):
        rejects = both(inp, tmp_path / chunk, ".jsonl", "--chunk-size", chunk)
        codes = [r["errors"][0]["code"] for r in rejects]
        assert codes.count("duplicate_visit") == 3
        assert codes.count("unreadable") >= 4
    both(inp, tmp_path / "jobs", ".parquet", "--chunk-size", "2", "--jobs", "2")


def test_score_batches_and_score_files_agree_with_sbm_score(tmp_path: Path) -> None:
    std = standard()
    lines: list[object] = [visit("v1"), "oops", visit("v2", overall=99), visit("v1"), visit("v3")]
    inp = jsonl(tmp_path / "wave.jsonl", lines)
    _, _, rej = sbm(STANDARD, inp, tmp_path / "cli.jsonl", "python")
    counts = std.score_files(inp, tmp_path / "api.jsonl", tmp_path / "api.rej.jsonl", chunk_rows=2)
    assert (tmp_path / "api.jsonl").read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    assert (tmp_path / "api.rej.jsonl").read_bytes() == rej.read_bytes()
    assert (counts.read, counts.scored, counts.rejected) == (5, 2, 3)
    expected = [json.loads(x) for x in rej.read_text("utf-8").splitlines()]
    batches = list(std.score_batches(inp, chunk_rows=2))
    assert [r.to_dict() for b in batches for r in b.rejects] == expected
    assert sum(b.scored.num_rows for b in batches) == 2
    assert [r["source"] for r in expected] == [f"{inp}:{n}" for n in (2, 3, 4)]


@pytest.mark.parametrize(
    "line",
    [
        visit("v2", wait=123456789012345678901234567890),  # beyond 64 bits
        visit("v2", wait={"a": 1}),  # an object answer
        {"visit_id": 7, "answers": {}},  # a visit_id that is not text
    ],
)
def test_what_a_table_cannot_carry_goes_the_record_path(tmp_path: Path, line: object) -> None:
    std = standard()
    inp = jsonl(tmp_path / "wave.jsonl", [visit("v1"), line])
    with pytest.raises(Unsupported):
        std.score_files(inp, tmp_path / "b.jsonl", engine="batch")
    assert not (tmp_path / "b.jsonl").exists()
    std.score_files(inp, tmp_path / "auto.jsonl", engine="auto")
    std.score_files(inp, tmp_path / "ref.jsonl", engine="python")
    for name in ("{}.jsonl", "{}.rejects.jsonl"):
        auto, ref = (tmp_path / name.format(x) for x in ("auto", "ref"))
        assert auto.read_bytes() == ref.read_bytes()


def test_utf16_jsonl_goes_the_record_path(tmp_path: Path) -> None:
    std = standard()
    inp = tmp_path / "wave.jsonl"
    inp.write_text(json.dumps(visit("v1")) + "\n", encoding="utf-16")
    with pytest.raises(Unsupported):
        std.score_files(inp, tmp_path / "b.jsonl", engine="batch", encoding="utf-16")
    counts = std.score_files(inp, tmp_path / "a.jsonl", encoding="utf-16")
    assert counts.scored == 1


# JSONL line structures: blank lines, CRLF, bad JSON, duplicate keys, BOMs, nulls.
jsonl_line = st.one_of(
    st.builds(
        lambda vid, overall, wait: json.dumps(visit(vid, overall=overall, wait=wait)),
        st.sampled_from(["v1", "v2", "v3", "v4", "v5"]),
        st.sampled_from([7, 7.0, 10, 99, "7", None, ""]),
        st.sampled_from([3, 2.5, "na", None, True]),
    ),
    st.sampled_from(
        [
            "",
            "   ",
            "{bad",
            "[]",
            "null",
            '"text"',
            '{"visit_id": "v1", "visit_id": "v9", "answers": {}}',
            '{"visit_id": "v6", "answers": {"wait": 1, "wait": 2}}',
            '{"visit_id": "v7", "answers": {"overall": NaN}}',
            '{"visit_id": "v8", "answers": {"unknown": 1}}',
            '{"visit_id": "v8", "answers": {"unknown": ""}}',
            '{"visit_id": "v9", "answers": null}',
            '{"visit_id": "v3", "region": "R\\u00e9", "answers": {"greeted": "yes"}}',
        ]
    ),
)


@pytest.mark.property
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(st.tuples(jsonl_line, st.sampled_from(["\n", "\r\n"])), min_size=1, max_size=12),
    bom=st.booleans(),
    final_end=st.booleans(),
    chunk_rows=st.sampled_from([1, 2, 3, 1000]),
)
def test_batch_and_record_paths_agree_on_any_jsonl_lines(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[tuple[str, str]],
    bom: bool,
    final_end: bool,
    chunk_rows: int,
) -> None:
    std = standard()
    tmp = tmp_path_factory.mktemp("jsonl")
    inp = tmp / "wave.jsonl"
    text = "".join(line + end for line, end in lines)
    if not final_end:
        text = text.rstrip("\r\n")
    inp.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    ref, rejects = record_rejects(std, inp, tmp)
    try:
        assert_batch_path_agrees(std, inp, tmp, chunk_rows, ref, rejects)
    except Unsupported:  # an empty answer to a key the standard does not know
        assert '"unknown": ""' in text


# -- XLSX --------------------------------------------------------------------------------------


@pytest.fixture
def calamine() -> None:
    pytest.importorskip("python_calamine")
    pytest.importorskip("openpyxl")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".xlsx"])
def test_xlsx_demo_visits(tmp_path: Path, calamine: None, suffix: str) -> None:
    header, rows = demo_rows()
    inp = xlsx(tmp_path / "demo.xlsx", header, rows)
    for chunk in ("1", "3", "65536"):
        rejects = both(inp, tmp_path / chunk, suffix, "--chunk-size", chunk)
        assert all(r["source"].startswith(f"{inp}:wave:") for r in rejects)


def test_xlsx_duplicates_unreadable_rows_mixed_answers(tmp_path: Path, calamine: None) -> None:
    header = ["visit_id", "region", "scenario", *ITEMS]
    good = ["yes", "no", 3, 4, "yes", "yes", 5, 7]
    rows = [
        ["v1", "R1", "deposit", *good],
        [None] * len(header),  # an empty row
        ["v2", "R1", "deposit", "yes", "no", "na", 4, "yes", "yes", 5, 7],  # `na` among numbers
        ["v3", "R1", "deposit", *good[:-1], 99],
        ["v4", "R1", "deposit", *good, "under no header"],
        ["v1", "R1", "deposit", *good],  # repeated in a later chunk
        ["v5", "R1", "deposit", "yes", "no", 2.5, "4", "yes", "yes", 5, 7.0],
        ["v3", "R1", "deposit", *good],  # a rejected visit repeated
        [6, "R1", "deposit", *good],  # a number as visit_id: text "6"
        ["6", "R1", "deposit", *good],
    ]
    inp = xlsx(tmp_path / "wave.xlsx", header, rows)
    for chunk in ("1", "2", "100"):
        rejects = both(inp, tmp_path / chunk, ".jsonl", "--chunk-size", chunk)
        codes = [r["errors"][0]["code"] for r in rejects]
        assert codes.count("duplicate_visit") == 3
        assert "unreadable" in codes
    both(inp, tmp_path / "jobs", ".jsonl", "--chunk-size", "2", "--jobs", "2")
    both(inp, tmp_path / "sheet", ".jsonl", "--sheet", "wave")
    std = standard()
    _, _, rej = sbm(STANDARD, inp, tmp_path / "cli.jsonl", "python")
    expected = [json.loads(x) for x in rej.read_text("utf-8").splitlines()]
    batches = list(std.score_batches(inp, chunk_rows=2))
    assert [r.to_dict() for b in batches for r in b.rejects] == expected


def test_duplicates_across_files_of_every_kind(tmp_path: Path, calamine: None) -> None:
    std = standard()
    header = ["visit_id", "region", "scenario", *ITEMS]
    good = ["yes", "no", 3, 4, "yes", "yes", 5, 7]
    a = jsonl(tmp_path / "a.jsonl", [visit("v1"), "bad", visit("v2"), visit("v3")])
    b = xlsx(tmp_path / "b.xlsx", header, [["v2", "R1", "deposit", *good], ["v4", "R1", "x"]])
    c = tmp_path / "c.csv"
    c.write_text(",".join(header) + "\nv4,R1,deposit,yes,no,3,4,yes,yes,5,7\n", encoding="utf-8")
    d = jsonl(tmp_path / "d.ndjson", [visit("v3"), visit("v5"), visit("v1", overall=99)])
    inputs = [a, b, c, d]
    (tmp_path / "ref").mkdir()
    (tmp_path / "fast").mkdir()
    ref = std.score_files(inputs, tmp_path / "ref" / "out.jsonl", engine="python")
    for chunk in (1, 2, 100):
        got = std.score_files(
            inputs, tmp_path / "fast" / "out.jsonl", engine="batch", chunk_rows=chunk
        )
        assert (got.read, got.scored, got.rejected) == (ref.read, ref.scored, ref.rejected)
        for name in ("out.jsonl", "out.rejects.jsonl"):
            assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()
    rejected = (tmp_path / "ref" / "out.rejects.jsonl").read_text("utf-8").splitlines()
    assert sum('"duplicate_visit"' in line for line in rejected) == 4
