"""The streaming API of the library (`CompiledStandard.score_files`, `score_batches`)
gives what `sbm score` gives: the same bytes for every output format, the same
rejects with the same sources, duplicates found across batches and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbm_engine
from sbm_engine.cli import cli
from sbm_engine.formats import read_visits

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("numpy")

STANDARD = str(Path(__file__).parent.parent / "conformance" / "demo_branch.sbm")
HEADER = "visit_id,region,scenario,greeted,smile,wait,questions,card,secrecy,clean,overall"


def good(vid: str, region: str = "R1") -> str:
    return f"{vid},{region},deposit,yes,no,3,4,yes,yes,5,7"


def bad(vid: str) -> str:
    return f"{vid},R1,deposit,yes,no,3,4,yes,yes,5,99"  # overall is 0..10


def wave_csv(path: Path, ids: list[str], first_bad: int = 2) -> Path:
    """A CSV wave with a blank line, a lone CR, a quoted line break, a row that does
    not fit the header, a bad visit and a repeated id."""
    rows = [good(ids[0]), "\n\n", good(ids[1], '"R\n1"'), "\r"]
    rows += [bad(ids[first_bad]), "\n", f"{ids[3]},R1", "\n", good(ids[0]), "\r\n"]
    rows += [good(v) + "\n" for v in ids[4:]]
    path.write_bytes((HEADER + "\n" + "".join(rows)).encode("utf-8"))
    return path


def wave_parquet(path: Path, ids: list[str]) -> Path:
    columns = {name: [] for name in HEADER.split(",")}
    for i, vid in enumerate(ids):
        cells = (bad(vid) if i % 3 == 2 else good(vid)).split(",")
        for name, cell in zip(columns, cells, strict=True):
            columns[name].append(cell)
    pq.write_table(pa.table(columns), path)
    return path


def sbm_score(inputs: list[Path], out: Path, *extra: str) -> Path:
    rejects = out.with_name(out.name + ".cli-rejects.jsonl")
    args = ["score", STANDARD, *map(str, inputs), "-o", str(out), "--rejects", str(rejects)]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code in (0, 1), result.output
    return rejects


@pytest.fixture(scope="module")
def std() -> sbm_engine.CompiledStandard:
    return sbm_engine.load(STANDARD)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".xlsx"])
@pytest.mark.parametrize("engine", ["auto", "python"])
def test_score_files_writes_the_bytes_sbm_score_writes(
    tmp_path: Path, std: sbm_engine.CompiledStandard, suffix: str, engine: str
) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    inputs = [
        wave_csv(tmp_path / "a.csv", ["v1", "v2", "v3", "v4", "v5"]),
        wave_parquet(tmp_path / "b.parquet", ["v5", "v6", "v7", "v1", "v8"]),
    ]
    (tmp_path / "cli").mkdir()
    (tmp_path / "api").mkdir()
    cli_out = tmp_path / "cli" / f"out{suffix}"  # one name: XLSX names its sheet by it
    args = ["score", STANDARD, *map(str, inputs), "-o", str(cli_out), "--engine", engine]
    assert CliRunner().invoke(cli, args).exit_code == 1
    api_out = tmp_path / "api" / f"out{suffix}"
    counts = std.score_files(inputs, api_out, engine=engine, chunk_rows=2)
    assert api_out.read_bytes() == cli_out.read_bytes()
    cli_rejects = tmp_path / "cli" / "out.rejects.jsonl"  # both named by default
    assert (tmp_path / "api" / "out.rejects.jsonl").read_bytes() == cli_rejects.read_bytes()
    rejected = cli_rejects.read_text(encoding="utf-8").splitlines()
    assert counts.rejected == len(rejected)
    assert counts.read == counts.scored + counts.rejected == 6 + 5  # blank lines are no visits
    sources = [json.loads(line)["source"] for line in rejected]
    assert sources == [f"{inputs[0]}:{n}" for n in (6, 7, 8)] + [
        f"{inputs[1]}:{n}" for n in (1, 3, 4)
    ]


def test_score_files_same_bytes_in_worker_processes(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    inp = wave_csv(tmp_path / "a.csv", ["v1", "v2", "v3", "v4", "v5", "v6", "v7"])
    cli_rejects = sbm_score([inp], tmp_path / "cli.parquet", "--chunk-size", "2")
    std.score_files(inp, tmp_path / "api.parquet", tmp_path / "api.jsonl", jobs=2, chunk_rows=2)
    assert (tmp_path / "api.parquet").read_bytes() == (tmp_path / "cli.parquet").read_bytes()
    assert (tmp_path / "api.jsonl").read_bytes() == cli_rejects.read_bytes()
    batches = list(std.score_batches(inp, jobs=2, chunk_rows=2))
    expected = [json.loads(line) for line in cli_rejects.read_text(encoding="utf-8").splitlines()]
    assert [r.to_dict() for b in batches for r in b.rejects] == expected
    scored = pa.concat_tables(b.scored for b in batches)
    assert scored.to_pylist() == pq.read_table(tmp_path / "cli.parquet").to_pylist()


def test_score_batches_from_files_agrees_with_sbm_score(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    inputs = [
        wave_csv(tmp_path / "a.csv", ["v1", "v2", "v3", "v4", "v5"]),
        wave_parquet(tmp_path / "b.parquet", ["v5", "v6", "v7", "v1", "v8"]),
    ]
    cli_rejects = sbm_score(inputs, tmp_path / "cli.parquet")
    batches = list(std.score_batches(inputs, chunk_rows=2))
    assert len(batches) >= 4  # chunks of 2 rows, whatever the file
    scored = pa.concat_tables(b.scored for b in batches)
    assert scored.to_pylist() == pq.read_table(tmp_path / "cli.parquet").to_pylist()
    rejects = [r.to_dict() for b in batches for r in b.rejects]
    expected = [json.loads(line) for line in cli_rejects.read_text(encoding="utf-8").splitlines()]
    assert rejects == expected
    assert all(isinstance(r, sbm_engine.RejectedVisit) for b in batches for r in b.rejects)


def test_score_batches_from_arrow_tables_agrees_with_score_many(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    """Record batches in memory: rows counted across batches, duplicates across them."""
    path = wave_parquet(tmp_path / "w.parquet", ["v1", "v2", "v3", "v2", "v4", "v1", "v5"])
    table = pq.read_table(path)
    batches = list(std.score_batches(table.to_batches(max_chunksize=2), label=str(path)))
    assert len(batches) == 4
    records = list(read_visits(path, visit_fields=std.model.visit_fields))
    outcomes = list(std.score_many([r.record for r in records], [r.source for r in records]))
    want_rejects = [o.to_dict() for o in outcomes if not o.ok]
    got_rejects = [r.to_dict() for b in batches for r in b.rejects]
    assert got_rejects == want_rejects
    assert [r["source"] for r in got_rejects] == [f"{path}:3", f"{path}:4", f"{path}:6"]
    got_ids = [v for b in batches for v in b.scored.column("visit_id").to_pylist()]
    assert got_ids == [o.visit_id for o in outcomes if o.ok] == ["v1", "v2", "v4", "v5"]


def test_score_batches_of_one_table(std: sbm_engine.CompiledStandard) -> None:
    cells = zip(HEADER.split(","), bad("x").split(","), strict=True)
    table = pa.table({name: [cell] for name, cell in cells})
    (batch,) = std.score_batches(table)
    assert batch.scored.num_rows == 0
    assert [(r.visit_id, r.source, r.errors[0].item) for r in batch.rejects] == [
        ("x", "table:1", "overall")
    ]


def test_score_batches_refuses_what_it_cannot_read_exactly(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    from sbm_engine.pipeline import Unsupported

    ods = tmp_path / "w.ods"
    with pytest.raises(Unsupported, match=r"only \.parquet, \.csv, \.tsv, \.jsonl"):
        std.score_batches(ods)
    inp = tmp_path / "w.jsonl"  # an integer of 30 digits: no table holds it exactly
    inp.write_text('{"visit_id": "v1", "answers": {"wait": %s}}\n' % ("1" * 30), encoding="utf-8")
    with pytest.raises(Unsupported, match="30 digits"):
        list(std.score_batches(inp))
    with pytest.raises(Unsupported):
        std.score_files(inp, tmp_path / "out.csv", engine="batch")
    counts = std.score_files(inp, tmp_path / "out.csv")  # auto: the record path reads it
    assert (counts.read, counts.scored + counts.rejected) == (1, 1)


def test_a_fallback_found_mid_run_counts_every_visit_once(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    """An answer the streaming path cannot hold (an integer of 25 digits), in the second
    chunk: the record path scores the whole wave and the summary counts it once."""
    inp = tmp_path / "w.csv"
    huge = "1" * 25
    inp.write_text(f"{HEADER}\n{good('v1')}\n{good('v2').replace(',3,', f',{huge},')}\n")
    args = ["score", STANDARD, str(inp), "-o", str(tmp_path / "cli.csv"), "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--chunk-size", "1"])
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["scored"] + summary["rejected"]) == (2, 2)
    counts = std.score_files(inp, tmp_path / "api.csv", chunk_rows=1)
    assert (counts.read, counts.scored + counts.rejected) == (2, 2)
    assert (tmp_path / "api.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_many_written_by_the_record_writers_is_what_sbm_score_writes(
    tmp_path: Path, std: sbm_engine.CompiledStandard, suffix: str
) -> None:
    """`score_many` over the records as read, written with the writers `sbm score`
    uses, gives the bytes of `sbm score` on its streaming path."""
    from sbm_engine.formats import open_writer
    from sbm_engine.pipeline import record_writer

    inputs = [
        wave_csv(tmp_path / "a.csv", ["v1", "v2", "v3", "v4", "v5"]),
        wave_parquet(tmp_path / "b.parquet", ["v5", "v6", "v7", "v1", "v8"]),
    ]
    (tmp_path / "cli").mkdir()
    (tmp_path / "api").mkdir()
    sbm_score(inputs, tmp_path / "cli" / f"out{suffix}", "--chunk-size", "2")
    records = [r for p in inputs for r in read_visits(p, visit_fields=std.model.visit_fields)]
    assert all(r.record is not None for r in records[:3])
    outcomes = std.score_many([r.record for r in records], [r.source for r in records])
    with (
        record_writer(std, tmp_path / "api" / f"out{suffix}") as out,
        open_writer(tmp_path / "api" / "rejects.jsonl") as bad,
    ):
        for rec, outcome in zip(records, outcomes, strict=True):
            if rec.record is None:  # a row no record could be made of
                outcome = std.session().read(rec)
            (out if outcome.ok else bad).write(outcome.to_dict())
    cli_out = tmp_path / "cli" / f"out{suffix}"
    assert (tmp_path / "api" / f"out{suffix}").read_bytes() == cli_out.read_bytes()
    cli_rejects = cli_out.with_name(cli_out.name + ".cli-rejects.jsonl")
    assert (tmp_path / "api" / "rejects.jsonl").read_bytes() == cli_rejects.read_bytes()


def test_score_batches_reads_a_csv_file_again_when_arrow_cannot(
    tmp_path: Path, std: sbm_engine.CompiledStandard
) -> None:
    """A byte that is not UTF-8 in a late chunk of the first file: its batches come
    from `io.csv_rows` (that row alone rejected, at its line), and the ids seen in it
    still make a later file's copies duplicates."""
    first = tmp_path / "a.csv"
    rows = [good("Точка") if k == 0 else good(f"v{k}") for k in range(3000)]
    first.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8"))
    data = first.read_bytes()
    at = data.index(b"v2500,")
    end = data.index(b"\n", at)
    first.write_bytes(data[:at] + data[at:end].rsplit(b",", 1)[0] + b",\xff" + data[end:])
    second = wave_csv(tmp_path / "b.csv", ["v7", "w2", "w3", "w4", "v2999"])
    cli_rejects = sbm_score([first, second], tmp_path / "cli.parquet", "--chunk-size", "1000")
    batches = list(std.score_batches([first, second], chunk_rows=1000))
    expected = [json.loads(line) for line in cli_rejects.read_text(encoding="utf-8").splitlines()]
    assert [r.to_dict() for b in batches for r in b.rejects] == expected
    assert expected[0]["source"] == f"{first}:2502"
    assert {e["visit_id"] for e in expected if e["errors"][0]["code"] == "duplicate_visit"} == {
        "v7",
        "v2999",
    }
    scored = pa.concat_tables(b.scored for b in batches)
    assert scored.to_pylist() == pq.read_table(tmp_path / "cli.parquet").to_pylist()


def test_worker_processes_need_a_standard_they_can_load_again(tmp_path: Path) -> None:
    text = Path(STANDARD).read_text(encoding="utf-8")
    std = sbm_engine.loads(text, file=str(tmp_path / "x.sbm"))
    inp = wave_csv(tmp_path / "a.csv", ["v1", "v2", "v3", "v4", "v5"])
    with pytest.raises(ValueError, match="worker processes cannot make it again"):
        std.score_files(inp, tmp_path / "out.csv", jobs=2)
    counts = std.score_files(inp, tmp_path / "out.csv")  # one process: no need to
    assert counts.read == 6
