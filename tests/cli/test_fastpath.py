"""The chunked Arrow path of `sbm score` (`--engine batch`) against the record path
(`--engine python`, the reference): same scored visits, same rejects with the same
sources, output bytes independent of the chunk size and of `--jobs`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbm_engine.cli import cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("numpy")

from .test_formats import write_csv, write_parquet  # noqa: E402

CONFORMANCE = Path(__file__).parent.parent / "conformance"
STANDARD = str(CONFORMANCE / "demo_branch.sbm")
VISIT_COLUMNS = ["visit_id", "point", "specialist", "region", "date", "scenario"]
ITEMS = ["greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"]


def score(
    inp: Path, out: Path, engine: str, *extra: str, rejects: Path | None = None
) -> tuple[int, dict]:
    rejects = rejects or out.with_name(out.stem + ".rej.jsonl")
    args = ["score", STANDARD, str(inp), "-o", str(out), "--rejects", str(rejects)]
    result = CliRunner().invoke(cli, [*args, "--engine", engine, "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


def both(inp: Path, tmp: Path, suffix: str = ".jsonl", *extra: str) -> tuple[Path, Path]:
    """Score with both engines; assert identical bytes of results and rejects."""
    ref, fast = tmp / f"ref{suffix}", tmp / f"fast{suffix}"
    code_ref, sum_ref = score(inp, ref, "python")
    code_fast, sum_fast = score(inp, fast, "batch", *extra)
    assert code_ref == code_fast
    assert {k: sum_ref[k] for k in ("read", "scored", "rejected")} == {
        k: sum_fast[k] for k in ("read", "scored", "rejected")
    }
    assert fast.read_bytes() == ref.read_bytes()
    rej_ref, rej_fast = (p.with_name(p.stem + ".rej.jsonl") for p in (ref, fast))
    assert rej_fast.read_text(encoding="utf-8") == rej_ref.read_text(encoding="utf-8")
    return ref, fast


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
@pytest.mark.parametrize(
    "name, make",
    [
        ("demo.csv", lambda p: write_csv(p, "utf-8", ",")),
        ("demo_ru.csv", lambda p: write_csv(p, "cp1251", ";")),
        ("demo.parquet", write_parquet),
    ],
)
def test_conformance_visits_same_as_record_path(tmp_path, name, make, suffix):
    inp = tmp_path / name
    make(inp)
    ref, _ = both(inp, tmp_path, suffix)
    if suffix == ".jsonl":
        assert len(lines(ref)) == 6


def test_parquet_output_same_values(tmp_path):
    inp = tmp_path / "demo.parquet"
    write_parquet(inp)
    score(inp, tmp_path / "ref.parquet", "python")
    score(inp, tmp_path / "fast.parquet", "batch")
    ref, fast = pq.read_table(tmp_path / "ref.parquet"), pq.read_table(tmp_path / "fast.parquet")
    assert fast.column_names == ref.column_names
    assert fast.to_pylist() == ref.to_pylist()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("with_shopper", [True, False])
def test_shopper_follows_scenario_on_both_paths(tmp_path, suffix, with_shopper):
    """The evaluator of each visit is in the results, right after `scenario`; a wave
    without a `shopper` column gives an empty text column, the same bytes on both
    paths (Parquet types it as text even with no value)."""
    header = [*VISIT_COLUMNS, "shopper", *ITEMS] if with_shopper else VISIT_COLUMNS + ITEMS
    answers = ["yes", "yes", "2", "5", "yes", "yes", "5", "9"]
    shoppers = ["Петрова А.", ""]
    rows = []
    for k, shopper in enumerate(shoppers):
        fields = [f"v{k}", "P1", "S1", "R1", "2026-11-02", "deposit"]
        rows.append([*fields, *([shopper] if with_shopper else []), *answers])
    inp = tmp_path / "wave.csv"
    _write_rows(inp, header, rows)
    ref, _ = both(inp, tmp_path, suffix)
    if suffix == ".parquet":
        table = pq.read_table(ref)
        names = table.column_names
        assert names[names.index("scenario") + 1] == "shopper"
        assert table.schema.field("shopper").type == pa.string()
        got = table.column("shopper").to_pylist()
    elif suffix == ".csv":
        with ref.open(encoding="utf-8", newline="") as f:
            out = list(csv.DictReader(f))
        got = [r["shopper"] or None for r in out]
    else:
        out = lines(ref)
        assert list(out[0])[7:10] == ["scenario", "shopper", "coefficients"]
        got = [v["shopper"] for v in out]
    assert got == (["Петрова А.", None] if with_shopper else [None, None])


def test_jsonl_the_batch_path_cannot_read_exactly_goes_the_record_path(tmp_path):
    inp = tmp_path / "demo.jsonl"
    big = '{"visit_id": "v99", "answers": {"wait": 123456789012345678901234567890}}\n'
    inp.write_bytes((CONFORMANCE / "demo_visits.jsonl").read_bytes() + big.encode())
    _, summary = score(inp, tmp_path / "out.jsonl", "auto")
    assert summary["read"] == 13
    args = ["score", STANDARD, str(inp), "-o", str(tmp_path / "o2.jsonl"), "--engine", "batch"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "use --engine python" in result.output


def _write_rows(path: Path, header: list[str], rows: list[list[str]], **kw) -> None:
    with path.open("w", encoding=kw.pop("encoding", "utf-8"), newline="") as f:
        csv.writer(f, **kw).writerows([header, *rows])


def test_multiline_cells_blank_lines_and_misfit_rows_get_record_path_sources(tmp_path):
    header = VISIT_COLUMNS + ITEMS
    good = ["P1", "S1", "R1", "2026-11-02", "deposit", "yes", "yes", "2", "5", "yes", "yes", "5"]
    rows = [
        ["v1", *good, "10"],
        ["v2", "P1\nна двух\nстроках", *good[1:], "99"],  # multi-line cell, then out of range
        ["v3", *good, "11"],  # out of range
        ["v1", *good, "1"],  # duplicate
    ]
    inp = tmp_path / "wave.csv"
    _write_rows(inp, header, rows)
    with inp.open("a", encoding="utf-8", newline="") as f:
        f.write("\r\nv4,P1,too,few\r\n" + ",".join(["v5", *good, "x"]) + "\r\n")
    _, fast = both(inp, tmp_path)
    sources = [r["source"] for r in lines(fast.with_name("fast.rej.jsonl"))]
    assert sources == [f"{inp}:3", f"{inp}:6", f"{inp}:7", f"{inp}:9", f"{inp}:10"]


@pytest.mark.parametrize("chunk", ["1000", "65536"])
def test_a_cell_that_is_not_utf8_rejects_its_row_on_both_paths(tmp_path, chunk):
    """Answers are read as bytes and only their distinct values checked
    (`arrow_text.dictionary_encode`): a bad byte makes the batch path read the file
    as the record path does (`io.csv_rows`), from the start when chunks were already
    scored (chunk 1000), so that row alone is rejected, at its line, on both paths."""
    header = VISIT_COLUMNS + ITEMS
    good = ["P1", "S1", "R1", "2026-11-02", "deposit", "yes", "yes", "2", "5", "yes", "yes", "5"]
    inp = tmp_path / "wave.csv"
    rows = [[f"v{k}", *good, "9"] for k in range(10000)]
    rows[0][1] = "Точка 1"  # UTF-8 from the start: the file is detected as UTF-8
    _write_rows(inp, header, rows)
    data = inp.read_bytes()
    at = data.index(b"v9500,")
    end = data.index(b"\r\n", at)
    inp.write_bytes(data[:at] + data[at:end].rsplit(b",", 1)[0] + b",\xff" + data[end:])
    ref, _ = both(inp, tmp_path, ".jsonl", "--chunk-size", chunk)
    (reject,) = lines(ref.with_name("ref.rej.jsonl"))
    assert reject["source"] == f"{inp}:9502"
    assert reject["errors"][0]["message"].startswith("line 9502: not valid utf-8")
    assert len(lines(ref)) == 9999


def test_cp1251_semicolon_decimal_comma(tmp_path):
    header = VISIT_COLUMNS + ITEMS
    rows = [
        [
            "v1",
            "Точка 1",
            "Иванов",
            "Москва",
            "2026-11-02",
            "deposit",
            "да",
            "нет",
            "4,5",
            "3",
            "да",
            "да",
            "na",
            "9,5",
        ],
        [
            "v2",
            "Точка 2",
            "Петров",
            "Москва",
            "2026-11-02",
            "loan",
            "да",
            "N/A",
            "12,5",
            "н/п",
            "",
            "да",
            "5",
            "",
        ],
    ]
    inp = tmp_path / "ru.csv"
    _write_rows(inp, header, rows, encoding="cp1251", delimiter=";")
    ref, fast = both(inp, tmp_path)
    assert [v["visit_id"] for v in lines(fast)] == [r["visit_id"] for r in lines(ref)]


# -- property: random waves ------------------------------------------------------------------

ANSWERS = {
    "greeted": ["yes", "no", "na", "да", "maybe", ""],
    "smile": ["yes", "no", "N/A", "", "1"],
    "wait": ["2", "7", "12,5", "300", "", "na", "abc", "4.5"],
    "questions": ["1", "3", "5", "na", "6", "", "н/п"],
    "card": ["yes", "no", "", "na"],
    "secrecy": ["yes", "no", "", "нет"],
    "clean": ["4", "5", "", "0"],
    "overall": ["10", "0", "", "11", "9"],
}

row_strategy = st.fixed_dictionaries(
    {
        "visit_id": st.sampled_from(["v1", "v2", "v3", "v4", "v5", "v6", "", " "]),
        "scenario": st.sampled_from(["deposit", "loan", ""]),
        **{k: st.sampled_from(v) for k, v in ANSWERS.items()},
    }
)


def _wave_csv(path: Path, visits: list[dict]) -> None:
    header = VISIT_COLUMNS + ITEMS
    rows = []
    for v in visits:
        rows.append(
            [v["visit_id"], "P1", "S1", "R1", "2026-11-02", v["scenario"], *(v[i] for i in ITEMS)]
        )
    _write_rows(path, header, rows, delimiter=";")


def _wave_parquet(path: Path, visits: list[dict]) -> None:
    columns = {c: [] for c in VISIT_COLUMNS + ITEMS}
    for v in visits:
        for c in columns:
            value = v.get(c, {"point": "P1", "specialist": "S1", "region": "R1"}.get(c))
            if c == "date":
                value = "2026-11-02"
            columns[c].append(None if value in ("", None) else value.replace(",", "."))
    pq.write_table(pa.table(columns), path)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(visits=st.lists(row_strategy, min_size=1, max_size=14), parquet=st.booleans())
def test_random_waves_nothing_lost_and_chunking_invisible(tmp_path_factory, visits, parquet):
    tmp = tmp_path_factory.mktemp("wave")
    inp = tmp / ("wave.parquet" if parquet else "wave.csv")
    (_wave_parquet if parquet else _wave_csv)(inp, visits)
    outputs = {}
    for size in (1, 3, 1000):
        out = tmp / f"out{size}.jsonl"
        _, summary = score(inp, out, "batch", "--chunk-size", str(size))
        assert summary["read"] == summary["scored"] + summary["rejected"] == len(visits)
        outputs[size] = (out.read_bytes(), out.with_name(out.stem + ".rej.jsonl").read_bytes())
    assert outputs[1] == outputs[3] == outputs[1000]
    ref = tmp / "ref.jsonl"
    score(inp, ref, "python")
    assert outputs[3] == (ref.read_bytes(), ref.with_name("ref.rej.jsonl").read_bytes())
    ids = [v["visit_id"] for v in lines(ref)]
    assert len(ids) == len(set(ids))  # a visit_id is scored at most once


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(visits=st.lists(row_strategy, min_size=5, max_size=14))
def test_jobs_give_the_same_bytes(tmp_path_factory, visits):
    tmp = tmp_path_factory.mktemp("jobs")
    inp = tmp / "wave.csv"
    _wave_csv(inp, visits)
    got = []
    for jobs in ("1", "2"):
        for suffix in (".parquet", ".csv"):
            out = tmp / f"out{jobs}{suffix}"
            score(inp, out, "batch", "--jobs", jobs, "--chunk-size", "2")
            got.append(out.read_bytes())
            got.append(out.with_name(out.stem + ".rej.jsonl").read_bytes())
    assert got[:4] == got[4:]


def test_parquet_results_compress_text_and_keep_statistics(tmp_path):
    """Both paths write Parquet with `writers.parquet_options`: texts snappy, numbers
    uncompressed, statistics on every column (the per-item ones too); dictionaries
    only for columns that repeat (`test_parquet_dictionaries_for_columns_that_repeat`)."""
    inp = tmp_path / "demo.parquet"
    write_parquet(inp)
    for engine in ("python", "batch"):
        out = tmp_path / f"{engine}.parquet"
        score(inp, out, engine)
        meta = pq.ParquetFile(out).metadata
        names = [meta.schema.column(i).path for i in range(meta.num_columns)]
        group = meta.row_group(0)
        chunk = {name: group.column(i) for i, name in enumerate(names)}
        assert chunk["visit_id"].compression == "SNAPPY"
        assert chunk["coefficients.visit"].compression == "UNCOMPRESSED"
        assert chunk["coefficients.visit"].is_stats_set
        assert chunk["items.greeted"].is_stats_set
        assert chunk["items.greeted"].statistics.null_count >= 0
        assert chunk["items.greeted"].has_dictionary_page
        assert chunk["standard"].has_dictionary_page


def test_parquet_dictionaries_for_columns_that_repeat():
    from sbm_engine.io.writers import DICTIONARY_MAX, DICTIONARY_SAMPLE, parquet_options

    assert DICTIONARY_MAX < DICTIONARY_SAMPLE // 4 - 1

    n = 2 * DICTIONARY_SAMPLE
    first = pa.table(
        {
            "visit_id": [f"v{i}" for i in range(n)],
            "items.a": [float(i % 5) / 4 for i in range(n)],
            "coefficients.visit": [i / n for i in range(n)],
            # distinct only after the sample: the sample decides
            "late": [0.0] * DICTIONARY_SAMPLE + [float(i) for i in range(DICTIONARY_SAMPLE)],
            "quarter": [float(i % (DICTIONARY_SAMPLE // 4)) for i in range(n)],
            "more": [float(i % (DICTIONARY_SAMPLE // 4 + 1)) for i in range(n)],
        }
    )
    options = parquet_options(first.schema, first)
    assert options["use_dictionary"] == ["items.a", "late", "quarter"]
    tiny = first.slice(0, 60)  # all distinct, but few: a dictionary costs nothing
    assert parquet_options(tiny.schema, tiny)["use_dictionary"] == tiny.column_names
    assert "use_dictionary" not in parquet_options(first.schema)
