"""`/v1/score` with a standard that reads previous visits: the visits of one request
are scored together, each point's in order, as `sbm score` scores one input."""

from __future__ import annotations

import json

from tests.serve.conftest import Service


def _visit(vid: str, date: str, cited: list[str]) -> dict:
    answers = {"imminent_hazard": "none", **dict.fromkeys(cited, "out")}
    return {
        "visit_id": vid,
        "point": "P1",
        "date": date,
        "inspection": "routine",
        "answers": answers,
    }


def test_the_visits_of_a_request_are_scored_together(service: Service) -> None:
    body = "\n".join(
        json.dumps(v)
        for v in (
            _visit("second", "2026-07-20", ["major_18"]),
            _visit("first", "2026-01-12", ["major_18"]),
        )
    )
    r = service.post("/v1/score/inspections.snhd", body, "application/x-ndjson")
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["visit_id"] for x in results] == ["second", "first"]
    assert [x["labels"]["grade"] for x in results] == ["B", "A"]
    assert [x["coefficients"]["repeats"] for x in results] == [1, 0]
