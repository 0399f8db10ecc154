"""Keys, limits and errors: 401, 413, 4xx naming the problem, 404, 504, 500 without a trace."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.serve.conftest import CONFORMANCE, KEY, Service, jsonl

VISITS = CONFORMANCE / "demo_visits.jsonl"
SCORE = "/v1/score/demo.branch"
NDJSON = {"Content-Type": "application/x-ndjson"}


def _visits(n: int) -> bytes:
    """`n` distinct valid visits as JSON Lines."""
    first = jsonl(VISITS)[0]
    return b"".join(json.dumps({**first, "visit_id": f"x{i}"}).encode() + b"\n" for i in range(n))


def _is_error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in r.text
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": f"Basic {KEY}"}]
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", SCORE), ("GET", "/v1/standards"), ("GET", "/metrics"), ("POST", "/v1/check")],
)
def test_a_missing_or_wrong_key_gets_401(
    service: Service, headers: dict[str, str], method: str, path: str
) -> None:
    r = service.bare.request(
        method, path, content=VISITS.read_bytes(), headers={**NDJSON, **headers}
    )
    _is_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_every_configured_key_is_accepted(service: Service) -> None:
    r = service.bare.get("/v1/standards", headers={"Authorization": "Bearer another-key"})
    assert r.status_code == 200


def test_the_key_is_checked_before_the_body_is_read(service: Service) -> None:
    r = service.bare.post(SCORE, content=b"x" * (1024 * 1024), headers=NDJSON)
    assert r.status_code == 401


def test_an_oversized_body_gets_413(service: Service) -> None:
    body = _visits(2000)  # ~ 500 KB > the 256 KiB limit
    error = _is_error(service.post(SCORE, body, "application/x-ndjson"), 413, "body_too_large")
    assert "262144" in error["message"]


def test_an_oversized_chunked_body_gets_413(service: Service) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the service must count
        for _ in range(64):
            yield b" " * 8192

    r = service.client.post(SCORE, content=chunks(), headers=NDJSON)
    _is_error(r, 413, "body_too_large")


def test_too_many_visits_gets_413(service: Service) -> None:
    error = _is_error(
        service.post(SCORE, _visits(501), "application/x-ndjson"), 413, "too_many_visits"
    )
    assert "500" in error["message"]
    assert service.post(SCORE, _visits(500), "application/x-ndjson").status_code == 200


def test_malformed_jsonl_names_the_line(service: Service) -> None:
    lines = VISITS.read_text(encoding="utf-8").splitlines()
    body = "\n".join([lines[0], lines[1], '{"visit_id": "v99", "answers": ']) + "\n"
    error = _is_error(
        service.post(SCORE, body.encode(), "application/x-ndjson"), 400, "malformed_body"
    )
    assert error["message"].startswith("line 3:")
    assert error["position"] == 3


def test_a_line_that_is_not_utf8_is_named(service: Service) -> None:
    error = _is_error(
        service.post(SCORE, b'{"visit_id": "\xff"}\n', "application/x-ndjson"),
        400,
        "malformed_body",
    )
    assert error["message"].startswith("line 1:")


def test_malformed_csv_names_the_line(service: Service) -> None:
    body = "visit_id,point,greeted\nv1,P1,yes\nv2,P1,yes,extra,cells\n"
    error = _is_error(service.post(SCORE, body.encode(), "text/csv"), 400, "malformed_body")
    assert error["message"].startswith("line 3:")


def test_malformed_json_and_parquet_bodies(service: Service) -> None:
    error = _is_error(
        service.post(SCORE, b'{"visit_id": ', "application/json"), 400, "malformed_body"
    )
    assert "line 1 column" in error["message"]
    error = _is_error(
        service.post(SCORE, b"not parquet at all", "application/vnd.apache.parquet"),
        400,
        "malformed_body",
    )
    assert "/tmp" not in error["message"]  # the service's files are never named
    _is_error(
        service.post(SCORE, b"not arrow", "application/vnd.apache.arrow.stream"),
        400,
        "malformed_body",
    )


def test_an_unknown_standard_gets_404_with_a_suggestion(service: Service) -> None:
    error = _is_error(
        service.post("/v1/score/demo.brnch", VISITS.read_bytes(), "application/x-ndjson"),
        404,
        "unknown_standard",
    )
    assert error["did_you_mean"] == "demo.branch"
    assert "demo.branch" in error["message"]


def test_a_path_is_not_a_standard(service: Service) -> None:
    for name in ("..%2Fconformance%2Fdemo_branch.sbm", "%2Fetc%2Fpasswd", "demo_branch.sbm"):
        r = service.post(f"/v1/score/{name}", VISITS.read_bytes(), "application/x-ndjson")
        assert r.status_code == 404, name


def test_scoring_past_the_timeout_gets_504(start: Callable[..., Service]) -> None:
    slow = start(timeout=0.001)
    r = slow.post(SCORE, _visits(3000), "application/x-ndjson")
    _is_error(r, 504, "timeout")
    # the service is still there for the next request
    assert slow.client.get("/healthz").status_code == 200


def test_an_internal_error_is_500_with_a_request_id_only(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(standard: str) -> Any:
        raise RuntimeError("secret internals /srv/app.py line 42")

    monkeypatch.setattr(service.app.state.registry, "get", broken)
    r = service.post(SCORE, VISITS.read_bytes(), "application/x-ndjson")
    error = _is_error(r, 500, "internal_error")
    assert "secret" not in r.text and "app.py" not in r.text
    assert error["request_id"] == r.headers["X-Request-Id"]
    assert error["request_id"] in error["message"]


def test_unknown_routes_and_methods_answer_in_the_error_shape(service: Service) -> None:
    _is_error(service.client.get("/v1/nothing"), 404, "not_found")
    _is_error(service.client.get(SCORE), 405, "method_not_allowed")
    _is_error(
        service.post("/v1/rollup/demo.branch?by=planet", b"", "application/x-ndjson"),
        422,
        "invalid_request",
    )
