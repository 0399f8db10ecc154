"""`sbm explain` shows which branch of each `if` a visit went through."""

from __future__ import annotations

import sbm_engine
from sbm_engine.explain import explain, render

STANDARD = """standard t.ex {
    item wait "W" answer number 0..60
        score = if value <= 5 then 1 else if value <= 10 then 0.5 else 0
    item a "A" answer { yes = 1, no = 0 } critical
    coefficient visit = if critical_failed then 0 else weighted_mean(items)
}
"""


def test_the_steps_of_an_else_if_ladder_are_shown_as_taken() -> None:
    std = sbm_engine.loads(STANDARD)
    exp = explain(std, {"visit_id": "1", "answers": {"wait": 7, "a": "yes"}})
    wait = exp["items"][0]
    assert [(b["condition"], b["value"], b["branch"]) for b in wait["branches"]] == [
        ("value <= 5", False, "else"),
        ("value <= 10", True, "then"),
    ]
    assert wait["branches"][-1]["gives"] == "0.5"
    (visit,) = exp["coefficients"]
    assert visit["branches"] == [
        {
            "condition": "critical_failed",
            "value": False,
            "branch": "else",
            "gives": "weighted_mean(items)",
        }
    ]
    text = render(exp)
    assert "if value <= 10: true → then 0.5" in text
    assert "if critical_failed: false → else weighted_mean(items)" in text


def test_an_na_condition_is_shown_taking_else() -> None:
    std = sbm_engine.loads(
        'standard t.na {\n    item q "Q" answer number 0..10 optional\n'
        "    coefficient c = if answer(q) > 5 then 1 else 0\n}\n"
    )
    exp = explain(std, {"visit_id": "1", "answers": {"q": "na"}})
    assert exp["coefficients"][0]["branches"][0]["value"] is None
    assert "if answer(q) > 5: N/A → else 0" in render(exp)
