"""Scores over HTTP equal `sbm score`'s, for every input and output format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
import pyarrow.ipc  # noqa: E402

from tests.serve.conftest import CONFORMANCE, Service, jsonl  # noqa: E402

VISITS = CONFORMANCE / "demo_visits.jsonl"
STANDARD = str(CONFORMANCE / "demo_branch.sbm")
SCORE = "/v1/score/demo.branch"


def _flat_rows() -> list[dict[str, Any]]:
    """The conformance visits as table rows: visit fields and one column per answer."""
    rows = []
    for visit in jsonl(VISITS):
        answers = visit.pop("answers")
        rows.append({**visit, **{k: str(v) for k, v in answers.items()}})
    return rows


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same visits as CSV, Parquet and an Arrow IPC stream."""
    folder = tmp_path_factory.mktemp("inputs")
    rows = _flat_rows()
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(folder / "visits.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
    pq.write_table(table, folder / "visits.parquet")
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    (folder / "visits.arrows").write_bytes(sink.getvalue())
    return {"csv": folder / "visits.csv", "parquet": folder / "visits.parquet", "arrow": folder}


def test_conformance_cases_score_as_the_cli_does(
    service: Service, cli_score: Callable[..., dict[str, Any]]
) -> None:
    r = service.post(SCORE, VISITS.read_bytes(), "application/x-ndjson")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    got = r.json()
    assert set(got) == {"results", "rejects"}
    want = cli_score(STANDARD, VISITS)
    assert got["results"] == want["results"]
    assert got["rejects"] == want["rejects"]
    # and the conformance cases' verdicts, in input order
    expected = jsonl(CONFORMANCE / "demo_expected.jsonl")
    scored = [e["visit_id"] for e in expected if e["status"] == "scored"]
    assert [v["visit_id"] for v in got["results"]] == scored
    assert len(got["rejects"]) == len(expected) - len(scored)
    assert r.headers["SBM-Scored"] == str(len(scored))


def test_json_list_and_single_object(
    service: Service, cli_score: Callable[..., dict[str, Any]]
) -> None:
    visits = jsonl(VISITS)
    want = cli_score(STANDARD, VISITS)
    r = service.post(SCORE, json.dumps(visits), "application/json")
    assert r.status_code == 200, r.text
    assert r.json() == {"results": want["results"], "rejects": want["rejects"]}
    one = service.post(SCORE, json.dumps(visits[0]), "application/json")
    assert one.json() == {"results": want["results"][:1], "rejects": []}


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv"),
        ("parquet", "application/vnd.apache.parquet"),
        ("arrow", "application/vnd.apache.arrow.stream"),
    ],
)
def test_tabular_bodies_score_as_the_cli_does(
    service: Service,
    cli_score: Callable[..., dict[str, Any]],
    tables: dict[str, Path],
    fmt: str,
    content_type: str,
) -> None:
    # an Arrow stream is compared with the same table as a Parquet file
    source = tables["parquet"] if fmt == "arrow" else tables[fmt]
    body = (
        (tables["arrow"] / "visits.arrows").read_bytes() if fmt == "arrow" else source.read_bytes()
    )
    r = service.post(SCORE, body, content_type)
    assert r.status_code == 200, r.text
    want = cli_score(STANDARD, source)
    assert r.json() == {"results": want["results"], "rejects": want["rejects"]}
    assert want["results"], "the table should score some visits"


def test_jsonl_answer_is_the_results_then_the_rejects(
    service: Service, cli_score: Callable[..., dict[str, Any]]
) -> None:
    r = service.post(
        SCORE,
        VISITS.read_bytes(),
        "application/x-ndjson",
        headers={"Accept": "application/x-ndjson"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    want = cli_score(STANDARD, VISITS)
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines == want["results"] + want["rejects"]


def test_parquet_answer_is_the_cli_parquet_file(
    service: Service, cli_score: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    r = service.post(
        SCORE,
        VISITS.read_bytes(),
        "application/x-ndjson",
        headers={"Accept": "application/vnd.apache.parquet"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    want = cli_score(STANDARD, VISITS, ".parquet")
    assert r.headers["SBM-Rejected"] == str(len(want["rejects"]))
    (tmp_path / "got.parquet").write_bytes(r.content)
    got_table = pq.read_table(tmp_path / "got.parquet")
    want_table = pq.read_table(want["path"])
    assert got_table.schema == want_table.schema
    assert got_table.to_pylist() == want_table.to_pylist()


def test_unreadable_records_can_go_to_the_rejects_as_in_the_cli(
    service: Service, cli_score: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    text = VISITS.read_text(encoding="utf-8").splitlines()
    body = "\n".join([text[0], "{not json", text[1], "[1, 2]"]) + "\n"
    path = tmp_path / "broken.jsonl"
    path.write_text(body, encoding="utf-8")
    r = service.post(SCORE + "?unreadable=reject", body.encode(), "application/x-ndjson")
    assert r.status_code == 200, r.text
    want = cli_score(STANDARD, path)
    assert r.json() == {"results": want["results"], "rejects": want["rejects"]}
    assert [x["source"] for x in r.json()["rejects"]] == ["request:2", "request:4"]


def test_unknown_accept_is_406(service: Service) -> None:
    r = service.post(
        SCORE, VISITS.read_bytes(), "application/x-ndjson", headers={"Accept": "text/html"}
    )
    assert r.status_code == 406
    assert r.json()["error"]["code"] == "not_acceptable"


def test_unknown_content_type_is_415(service: Service) -> None:
    r = service.post(SCORE, b"<visits/>", "application/xml")
    assert r.status_code == 415
    assert "application/x-ndjson" in r.json()["error"]["message"]
