"""`/v1/score` with a standard that reads previous visits: the visits of one request
are scored together, each point's in order, as `sbm score` scores one input."""

from __future__ import annotations

import json

from tests.inspections import snhd_inspection
from tests.serve.conftest import Service


def test_the_visits_of_a_request_are_scored_together(service: Service) -> None:
    body = "\n".join(
        json.dumps(v)
        for v in (
            snhd_inspection("second", "2026-07-20", ["major_18"]),
            snhd_inspection("first", "2026-01-12", ["major_18"]),
        )
    )
    r = service.post("/v1/score/inspections.snhd", body, "application/x-ndjson")
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["visit_id"] for x in results] == ["second", "first"]
    assert [x["labels"]["grade"] for x in results] == ["B", "A"]
    assert [x["coefficients"]["repeats"] for x in results] == [1, 0]


def _values(exp: dict) -> dict:
    return {c["coefficient"]: c["value"] for c in exp["coefficients"]}


def test_score_explain_and_sbm_explain_read_the_same_previous_visit(
    service: Service, tmp_path
) -> None:
    from click.testing import CliRunner

    from sbm_engine.cli import cli

    visits = (
        snhd_inspection("second", "2026-07-20", ["major_18"]),
        snhd_inspection("first", "2026-01-12", ["major_18"]),
    )
    body = "\n".join(json.dumps(v) for v in visits)
    scored = service.post("/v1/score/inspections.snhd", body, "application/x-ndjson")
    (second, _first) = scored.json()["results"]
    r = service.post("/v1/explain/inspections.snhd?visit=second", body, "application/x-ndjson")
    assert r.status_code == 200, r.text
    served = _values(r.json())
    wave = tmp_path / "wave.jsonl"
    wave.write_text(body + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["explain", "inspections.snhd", str(wave), "--visit", "second", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    local = _values(json.loads(result.output))
    assert second["labels"]["grade"] == served["grade"] == local["grade"] == "B"
    assert second["coefficients"]["repeats"] == served["repeats"] == local["repeats"] == 1
    # the first visit has no previous one, wherever it is explained
    r = service.post("/v1/explain/inspections.snhd?visit=first", body, "application/x-ndjson")
    assert _values(r.json())["repeats"] == 0 and _values(r.json())["grade"] == "A"
