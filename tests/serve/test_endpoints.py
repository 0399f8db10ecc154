"""Explain, roll up, check, list; the OpenAPI document, health, metrics and logs."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.serve.conftest import CONFORMANCE, KEY, Service, jsonl

VISITS = CONFORMANCE / "demo_visits.jsonl"
STANDARD = str(CONFORMANCE / "demo_branch.sbm")


def _cli(*args: str) -> Any:
    from sbm_engine.cli import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_explain_equals_the_cli(service: Service) -> None:
    visit = jsonl(VISITS)[1]
    r = service.post("/v1/explain/demo.branch", json.dumps(visit), "application/json")
    assert r.status_code == 200, r.text
    want = _cli("explain", STANDARD, str(VISITS), "--visit", visit["visit_id"], "--format", "json")
    assert want.pop("source") == f"{VISITS}:2"
    got = r.json()
    assert got.pop("source") == "request:1"  # the body's first (and only) visit
    assert got == want


def test_explain_picks_a_visit_of_a_batch(service: Service) -> None:
    r = service.post(
        "/v1/explain/demo.branch?visit=v03", VISITS.read_bytes(), "application/x-ndjson"
    )
    assert r.status_code == 200 and r.json()["visit_id"] == "v03"
    assert r.json()["source"] == "request:3"
    several = service.post("/v1/explain/demo.branch", VISITS.read_bytes(), "application/x-ndjson")
    assert several.status_code == 422 and several.json()["error"]["code"] == "many_visits"


def test_rollup_equals_the_cli(service: Service, cli_score: Callable[..., dict[str, Any]]) -> None:
    scored = cli_score(STANDARD, VISITS)["path"]
    r = service.post("/v1/rollup/demo.branch?by=point", scored.read_bytes(), "application/x-ndjson")
    assert r.status_code == 200, r.text
    assert r.json() == _cli(
        "rollup", str(scored), "--by", "point", "--standard", STANDARD, "--format", "json"
    )


def test_rollup_refuses_what_is_not_scored_visits(service: Service) -> None:
    r = service.post("/v1/rollup/demo.branch?by=point", VISITS.read_bytes(), "application/x-ndjson")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "not_scored_visits" and "request" in error["message"]
    assert "/tmp" not in error["message"]


def test_check_gives_the_cli_diagnostics(service: Service) -> None:
    text = (CONFORMANCE / "demo_branch.sbm").read_text(encoding="utf-8")
    broken = text.replace("weight 2", "weight two", 1)
    r = service.post("/v1/check", broken.encode(), "text/plain")
    assert r.status_code == 200, r.text
    [entry] = r.json()
    assert entry["target"] == "standard.sbm" and entry["ok"] is False
    assert entry["diagnostics"] and all(d["file"] == "standard.sbm" for d in entry["diagnostics"])
    good = service.post("/v1/check", text.encode(), "text/plain").json()
    assert good[0]["ok"] is True and good[0]["standard"] == "demo.branch"
    want = _cli("check", STANDARD, "--format", "json")
    assert good[0]["diagnostics"] == [{**d, "file": "standard.sbm"} for d in want[0]["diagnostics"]]


def test_an_uploaded_standard_imports_nothing_outside_its_folder(service: Service) -> None:
    secret = CONFORMANCE / "demo_branch.sbm"
    text = (
        f'import "{secret}"\nimport "../../etc/passwd.sbm"\n'
        + 'standard up.x "X" {\n  version "1"\n}\n'
    )
    r = service.post("/v1/check", text.encode(), "text/plain")
    assert r.status_code == 200
    [entry] = r.json()
    assert entry["ok"] is False
    codes = {d["code"] for d in entry["diagnostics"]}
    assert codes == {"E0602"}, entry
    # the service's temporary folder is named `.`, never by its path (the test's own
    # import path may lie under the temporary folder too: it is the one allowed)
    assert tempfile.gettempdir() not in r.text.replace(str(secret), "")
    assert "root folder (./)" in r.text or "root folder (.)" in r.text


def test_check_is_off_unless_uploads_are_allowed(start: Callable[..., Service]) -> None:
    closed = start()
    r = closed.post("/v1/check", b'standard a.b "X" {}', "text/plain")
    assert r.status_code == 403 and r.json()["error"]["code"] == "upload_disabled"


def test_standards_lists_packs_and_the_folder_with_versions(service: Service) -> None:
    r = service.client.get("/v1/standards")
    assert r.status_code == 200
    listing = {s["id"]: s for s in r.json()["standards"]}
    assert listing["demo.branch"] == {"id": "demo.branch", "version": "2026.1", "source": "folder"}
    for sid, entry in listing.items():
        assert entry["source"] in ("installed", "folder"), sid


def test_openapi_document(service: Service) -> None:
    r = service.bare.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    score = doc["paths"]["/v1/score/{standard}"]["post"]
    assert "application/x-ndjson" in score["requestBody"]["content"]
    assert any("HTTPBearer" in s for s in score["security"])
    for path in ("/v1/check", "/v1/explain/{standard}", "/v1/rollup/{standard}", "/v1/standards"):
        assert path in doc["paths"]


def test_healthz_needs_no_key(service: Service) -> None:
    r = service.bare.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def _counter(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or (
            line.startswith(name + "{") and line.split(" ")[0] == name
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_and_visits(service: Service) -> None:
    before = service.client.get("/metrics").text
    service.post("/v1/score/demo.branch", VISITS.read_bytes(), "application/x-ndjson")
    after = service.client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    series = 'sbm_http_requests_total{route="/v1/score/{standard}",status="200"}'
    assert _counter(after.text, series) == _counter(before, series) + 1
    assert _counter(after.text, "sbm_visits_scored_total") > _counter(
        before, "sbm_visits_scored_total"
    )
    assert _counter(after.text, "sbm_visits_rejected_total") > _counter(
        before, "sbm_visits_rejected_total"
    )
    assert (
        'sbm_http_request_duration_seconds_bucket{route="/v1/score/{standard}",le="+Inf"}'
        in after.text
    )


def test_one_json_log_line_per_request_with_the_key_id_not_the_key(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sbm.serve"):
        r = service.post("/v1/score/demo.branch", VISITS.read_bytes(), "application/x-ndjson")
    lines = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "sbm.serve"]
    [line] = [x for x in lines if x["request_id"] == r.headers["X-Request-Id"]]
    assert line["route"] == "/v1/score/{standard}" and line["status"] == 200
    assert line["visits"] == len(jsonl(VISITS))
    assert line["key_id"] == hashlib.sha256(KEY.encode()).hexdigest()[:8]
    assert isinstance(line["duration_ms"], float) and "time" in line
    assert KEY not in caplog.text


def test_serve_refuses_to_start_without_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sbm_engine.cli.serve import serve

    monkeypatch.delenv("SBM_API_KEYS", raising=False)
    result = CliRunner().invoke(serve, ["--port", "0"])
    assert result.exit_code == 2 and "SBM_API_KEYS" in result.output
    empty = tmp_path / "keys.txt"
    empty.write_text("# no keys yet\n\n", encoding="utf-8")
    result = CliRunner().invoke(serve, ["--keys", str(empty)])
    assert result.exit_code == 2


def test_keys_come_from_the_environment_and_a_file(tmp_path: Path) -> None:
    from sbm_engine.serve.auth import KeyRing, digest, read_keys

    keys_file = tmp_path / "keys"
    keys_file.write_text("# clients\nfile-key\n\n", encoding="utf-8")
    keys = read_keys(keys_file, {"SBM_API_KEYS": "a, b,,"})
    assert keys == ["a", "b", "file-key"]
    ring = KeyRing(digest(k) for k in keys)
    assert ring.check("Bearer file-key") == digest("file-key")[:8]
    assert ring.check("bearer a") is not None
    assert (
        ring.check("Bearer c") is None
        and ring.check(None) is None
        and ring.check("Bearer ") is None
    )
    assert "file-key" not in repr(vars(ring))
