"""`sbm score` on the conformance visits in every input format gives the expected results,
rejects and roll-up; the project converts the JSONL cases to CSV, XLSX and Parquet here."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

CONFORMANCE = Path(__file__).parent.parent / "conformance"
VISIT_COLUMNS = ["visit_id", "point", "specialist", "region", "date", "scenario"]


def _visits() -> list[dict]:
    text = (CONFORMANCE / "demo_visits.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def _rows() -> tuple[list[str], list[list[object]]]:
    visits = _visits()
    items: list[str] = []
    for v in visits:
        items += [k for k in v["answers"] if k not in items]
    rows = [
        [v.get(c) for c in VISIT_COLUMNS] + [v["answers"].get(i) for i in items] for v in visits
    ]
    return VISIT_COLUMNS + items, rows


def write_csv(path: Path, encoding: str, delimiter: str) -> None:
    header, rows = _rows()
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if c is None else str(c).replace(".", ",") for c in row])


def write_xlsx(path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    header, rows = _rows()
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)


def write_parquet(path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    header, rows = _rows()
    columns = {h: [None if r[i] is None else str(r[i]) for r in rows] for i, h in enumerate(header)}
    pq.write_table(pa.table(columns), path)


WRITERS = {
    "input.jsonl": lambda p: shutil.copy(CONFORMANCE / "demo_visits.jsonl", p),
    "input.csv": lambda p: write_csv(p, "utf-8", ","),
    "excel_ru.csv": lambda p: write_csv(p, "cp1251", ";"),
    "bom.csv": lambda p: write_csv(p, "utf-8-sig", ";"),
    "input.xlsx": write_xlsx,
    "input.parquet": write_parquet,
}


def _expected() -> list[dict]:
    text = (CONFORMANCE / "demo_expected.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.parametrize("out_ext", [".jsonl", ".csv", ".parquet"])
def test_every_format_scores_like_the_conformance_case(tmp_path: Path, name: str, out_ext: str):
    src = tmp_path / name
    WRITERS[name](src)
    out, rejects = tmp_path / f"scored{out_ext}", tmp_path / "rejects.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "score",
            str(CONFORMANCE / "demo_branch.sbm"),
            str(src),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
        ],
    )
    assert result.exit_code == 1, result.output  # some visits are rejected by design
    expected = _expected()
    bad = _read_jsonl(rejects)
    want_rejected = [e for e in expected if e["status"] == "rejected"]
    assert [r["visit_id"] for r in bad] == [e["visit_id"] for e in want_rejected]
    for got, want in zip(bad, want_rejected, strict=True):
        assert {e["item"] for e in got["errors"]} == set(want["errors_on"])
        assert ":" in got["source"] and got["record"]
    # the roll-up of what was scored, read back from this output format
    report = tmp_path / "rollup.json"
    result = runner.invoke(
        cli,
        [
            "rollup",
            str(out),
            "--by",
            "point",
            "--standard",
            str(CONFORMANCE / "demo_branch.sbm"),
            "-o",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    groups = {g["key"]: g for g in json.loads(report.read_text(encoding="utf-8"))["groups"]}
    want = json.loads((CONFORMANCE / "demo_rollup.json").read_text(encoding="utf-8"))["point"]
    for key, exp in want.items():
        assert groups[key]["visits"] == exp["visits"]
        for coef, mean in exp["coefficients"].items():
            assert groups[key]["coefficients"][coef]["mean"] == pytest.approx(mean, abs=1e-9)
        assert groups[key]["rollups"]["nps"] == pytest.approx(exp["rollups"]["nps"], abs=1e-9)


def test_scored_values_match_in_jsonl_output(tmp_path: Path):
    src = tmp_path / "excel_ru.csv"
    write_csv(src, "cp1251", ";")
    out = tmp_path / "scored.jsonl"
    CliRunner().invoke(
        cli, ["score", str(CONFORMANCE / "demo_branch.sbm"), str(src), "-o", str(out)]
    )
    got = {r["visit_id"]: r for r in _read_jsonl(out)}
    for want in _expected():
        if want["status"] != "scored":
            continue
        row = got[want["visit_id"]]
        for kind, key in (
            ("coefficients", "coefficients"),
            ("sections", "sections"),
            ("items", "items"),
        ):
            for name, value in want[key].items():
                assert (
                    row[kind][name] == pytest.approx(value, abs=1e-9, nan_ok=False)
                    if value is not None
                    else row[kind][name] is None
                )
        assert row["bands"] == want["band"]
        assert sorted(w["item"] for w in row["warnings"]) == sorted(want["warnings_on"])
