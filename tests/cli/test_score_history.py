"""`sbm score` with a standard that uses history: every visit read before any is
written, each point's visits scored in order, `--history` results read as earlier
visits (any results format, the same standard and version only), and no Dask run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli
from tests.inspections import snhd_inspection

STANDARD = """
standard demo.inspections {
    version "1"
    scale yn { yes = 1, no = 0 }
    item hands "Hands washed" answer yn tags violation
    item fridge "Fridge at 5 °C" answer yn tags violation
    coefficient again = repeated(tagged violation)
    coefficient visits_before = if has_previous() then previous(visits_before) + 1 else 0
}
"""


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _visit(vid: str, date: str, hands: str, fridge: str, point: str = "P1") -> dict:
    return {
        "visit_id": vid,
        "point": point,
        "date": date,
        "answers": {"hands": hands, "fridge": fridge},
    }


def _score(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["score", *args])
    return result.exit_code, result.output


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def std(tmp_path: Path) -> Path:
    path = tmp_path / "inspections.sbm"
    path.write_text(STANDARD, encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["auto", "python", "batch"])
def test_visits_are_scored_in_order_and_written_in_input_order(tmp_path, std, engine):
    wave = _write(
        tmp_path / "wave.jsonl",
        [
            _visit("v2", "2026-02-01", "no", "yes"),
            _visit("v1", "2026-01-01", "no", "no"),
            _visit("w1", "2026-01-01", "no", "no", point="P2"),
        ],
    )
    out = tmp_path / "out.jsonl"
    code, _ = _score(str(std), str(wave), "-o", str(out), "--engine", engine)
    assert code == 0
    rows = _lines(out)
    assert [r["visit_id"] for r in rows] == ["v2", "v1", "w1"]
    assert [r["coefficients"]["visits_before"] for r in rows] == [1, 0, 0]
    assert [r["coefficients"]["again"] for r in rows] == [1, 0, 0]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_earlier_results_are_read_with_history(tmp_path, std, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    first = _write(tmp_path / "first.jsonl", [_visit("v1", "2026-01-01", "no", "no")])
    earlier = tmp_path / f"earlier{suffix}"
    assert _score(str(std), str(first), "-o", str(earlier))[0] == 0
    wave = _write(tmp_path / "wave.jsonl", [_visit("v2", "2026-02-01", "no", "yes")])
    out = tmp_path / "out.jsonl"
    code, _ = _score(str(std), str(wave), "--history", str(earlier), "-o", str(out))
    assert code == 0
    (row,) = _lines(out)
    assert row["coefficients"] == {"again": 1.0, "visits_before": 1.0}
    # without the earlier results, the visit has no previous one
    code, _ = _score(str(std), str(wave), "-o", str(out))
    assert _lines(out)[0]["coefficients"] == {"again": 0.0, "visits_before": 0.0}


def test_history_of_another_standard_or_version_is_refused(tmp_path, std):
    other = tmp_path / "other.sbm"
    other.write_text(STANDARD.replace('version "1"', 'version "2"'), encoding="utf-8")
    first = _write(tmp_path / "first.jsonl", [_visit("v1", "2026-01-01", "no", "no")])
    earlier = tmp_path / "earlier.jsonl"
    assert _score(str(other), str(first), "-o", str(earlier))[0] == 0
    wave = _write(tmp_path / "wave.jsonl", [_visit("v2", "2026-02-01", "no", "yes")])
    out = tmp_path / "out.jsonl"
    code, output = _score(str(std), str(wave), "--history", str(earlier), "-o", str(out))
    assert code == 2
    assert "version" in output and not out.exists()


def test_a_dask_run_of_a_standard_with_history_stops(tmp_path, std):
    pytest.importorskip("dask")
    wave = _write(tmp_path / "wave.jsonl", [_visit("v1", "2026-01-01", "no", "no")])
    code, output = _score(str(std), str(wave), "--dask", "local", "-o", str(tmp_path / "out"))
    assert code == 2
    assert "history" in output


def test_explain_reads_the_visit_s_previous_one_in_the_file(tmp_path, std):
    wave = _write(
        tmp_path / "wave.jsonl",
        [_visit("v2", "2026-02-01", "no", "yes"), _visit("v1", "2026-01-01", "no", "no")],
    )
    result = CliRunner().invoke(
        cli, ["explain", str(std), str(wave), "--visit", "v2", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    exp = json.loads(result.output)
    values = {c["coefficient"]: c["value"] for c in exp["coefficients"]}
    assert values == {"again": 1.0, "visits_before": 1.0}


@pytest.mark.parametrize("kind", ["directory", "txt", "parquet"])
def test_an_unreadable_history_file_is_a_clean_error(tmp_path, std, kind):
    first = _write(tmp_path / "first.jsonl", [_visit("v1", "2026-01-01", "no", "no")])
    earlier = tmp_path / "earlier.jsonl"
    assert _score(str(std), str(first), "-o", str(earlier))[0] == 0
    if kind == "directory":
        given = tmp_path / "folder"
        given.mkdir()
    elif kind == "txt":
        given = tmp_path / "earlier.txt"
        given.write_bytes(earlier.read_bytes())
    else:
        given = tmp_path / "broken.parquet"
        given.write_bytes(b"not a parquet file at all")
    wave = _write(tmp_path / "wave.jsonl", [_visit("v2", "2026-02-01", "no", "yes")])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli, ["score", str(std), str(wave), "--history", str(given), "-o", str(out)]
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith("error: ") and str(given) in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_a_history_with_unusable_records_says_how_many_of_how_many(tmp_path, std):
    first = _write(
        tmp_path / "first.jsonl",
        [_visit(f"v{i}", f"2026-01-0{i}", "no", "no") for i in range(1, 4)],
    )
    earlier = tmp_path / "earlier.jsonl"
    assert _score(str(std), str(first), "-o", str(earlier))[0] == 0
    with earlier.open("a", encoding="utf-8") as f:
        f.write("{not json\n")
        f.write(json.dumps(_visit("u1", "2026-01-05", "no", "no")) + "\n")
    wave = _write(tmp_path / "wave.jsonl", [_visit("v9", "2026-02-01", "no", "yes")])
    out = tmp_path / "out.jsonl"
    code, output = _score(str(std), str(wave), "--history", str(earlier), "-o", str(out))
    assert code == 2 and not out.exists()
    head = output.splitlines()[0]
    assert "2 of 5 records are not scored visits" in head, head
    assert "earlier.jsonl:4" in output and "earlier.jsonl:5" in output
    # the hint for an unscored visit speaks of history, not of a roll-up
    assert "roll up" not in output and "as history" in output


def test_an_empty_history_file_means_no_previous_visits(tmp_path, std):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    wave = _write(tmp_path / "wave.jsonl", [_visit("v2", "2026-02-01", "no", "yes")])
    out = tmp_path / "out.jsonl"
    code, output = _score(str(std), str(wave), "--history", str(empty), "-o", str(out))
    assert code == 0, output
    assert _lines(out)[0]["coefficients"] == {"again": 0.0, "visits_before": 0.0}


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_a_visit_scored_again_is_not_its_own_previous_visit(tmp_path, engine):
    first = _write(
        tmp_path / "first.jsonl",
        [
            snhd_inspection("a1", "2026-01-12", ["major_18"]),
            snhd_inspection("a2", "2026-07-20", []),
        ],
    )
    earlier = tmp_path / "earlier.jsonl"
    assert _score("inspections.snhd", str(first), "-o", str(earlier))[0] == 0
    # a2 submitted again, corrected: another date, major_18 cited
    wave = _write(tmp_path / "wave.jsonl", [snhd_inspection("a2", "2026-08-03", ["major_18"])])
    out = tmp_path / "out.jsonl"
    code, output = _score(
        "inspections.snhd",
        str(wave),
        "--history",
        str(earlier),
        "-o",
        str(out),
        "--engine",
        engine,
    )
    assert code == 0, output
    (row,) = _lines(out)
    # its previous visit is a1 (major_18 cited again), not its own old result
    assert row["coefficients"]["repeats"] == 1
    assert row["labels"]["grade"] == "B" and row["labels"]["previous_grade"] == "A"


LABELS = """
standard demo.labels {
    version "1"
    scale yn { yes = 1, no = 0 }
    item hands "Hands" answer yn
    coefficient code = if hands == 1 then "007" else "1.50"
    coefficient code_was = previous(code)
    coefficient same = if previous(code) == "007" then 1 else 0
}
"""


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx", ".parquet"])
def test_a_label_s_previous_value_reads_as_text_from_any_results_format(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    std = tmp_path / "labels.sbm"
    std.write_text(LABELS, encoding="utf-8")
    first = _write(
        tmp_path / "first.jsonl",
        [
            {"visit_id": "1", "point": "P", "date": "2026-01-01", "answers": {"hands": "yes"}},
            {"visit_id": "3", "point": "Q", "date": "2026-01-01", "answers": {"hands": "no"}},
        ],
    )
    earlier = tmp_path / f"earlier{suffix}"
    assert _score(str(std), str(first), "-o", str(earlier))[0] == 0
    wave = _write(
        tmp_path / "wave.jsonl",
        [
            {"visit_id": "2", "point": "P", "date": "2026-02-01", "answers": {"hands": "no"}},
            {"visit_id": "4", "point": "Q", "date": "2026-02-01", "answers": {"hands": "no"}},
        ],
    )
    out = tmp_path / "out.jsonl"
    code, output = _score(str(std), str(wave), "--history", str(earlier), "-o", str(out))
    assert code == 0, output
    p, q = _lines(out)
    assert p["labels"]["code_was"] == "007" and p["coefficients"]["same"] == 1
    assert q["labels"]["code_was"] == "1.50" and q["coefficients"]["same"] == 0
