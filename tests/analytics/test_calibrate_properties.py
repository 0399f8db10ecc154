"""Properties of `calibrate` for any visits (hypothesis, profiles of tests/conftest.py):
evaluators who give identical answers agree perfectly (alpha, kappa and ICC are 1
wherever they are defined) and none is lenient or severe; the report does not
depend on the order of the results."""

from __future__ import annotations

import random
from typing import Any

import pytest
from demo import DEMO
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("scipy")
import sbm_engine
from sbm_engine.analytics.calibration import calibrate

STD = sbm_engine.load(DEMO)

answers = st.fixed_dictionaries(
    {
        "greeted": st.sampled_from(["yes", "no"]),
        "smile": st.sampled_from(["yes", "no"]),
        "wait": st.integers(0, 30),
        "questions": st.integers(1, 5),
        "card": st.sampled_from(["yes", "no"]),
        "secrecy": st.sampled_from(["yes", "yes", "no"]),
        "clean": st.integers(1, 5),
        "overall": st.integers(0, 10),
    }
)


def scored(case: int, shopper: str, given_answers: dict[str, Any], scenario: str) -> dict[str, Any]:
    visit = {"visit_id": f"v{case}", "scenario": scenario, "answers": given_answers}
    record: dict[str, Any] = STD.score(visit).to_dict()
    record["shopper"] = shopper  # who scored it (the scorer copies it too, where it does)
    return record


visits = st.lists(st.tuples(answers, st.sampled_from(["deposit", "loan"])), min_size=2, max_size=8)


@given(visits, st.integers(2, 4))
def test_identical_evaluators_agree_perfectly(cases: list[Any], evaluators: int) -> None:
    shoppers = [f"E{k}" for k in range(evaluators)]
    records = [scored(n, s, a, scenario) for n, (a, scenario) in enumerate(cases) for s in shoppers]
    report = calibrate(records, STD.model)
    for item in report["items"]:
        for field in ("alpha", "kappa", "p_o", "ac1", "pabak"):
            assert item[field] is None or item[field] == pytest.approx(1.0), (item, field)
        assert item["verdict"] in (None, "reliable")
    for coef in report["coefficients"]:
        for field in ("alpha", "icc"):
            assert coef[field] is None or coef[field] == pytest.approx(1.0), (coef, field)
    for row in report["evaluators"]:
        assert row["verdict"] in (None, "consistent"), row
        assert row["mean_deviation"] in (None, 0.0)
    with_reference = calibrate(records, STD.model, reference=shoppers[-1])
    assert all(r["verdict"] in (None, "consistent") for r in with_reference["evaluators"])


@given(
    visits,
    st.lists(st.integers(0, 3), min_size=2, max_size=4),
    st.integers(0, 2**16),
)
def test_report_does_not_depend_on_the_order_of_results(
    cases: list[Any], bias: list[int], seed: int
) -> None:
    """Evaluators who differ (each moves some answers by its own `bias`; some skip a
    case, but E0 scores them all), results shuffled: the same report, to the last bit."""
    records = []
    for n, (a, scenario) in enumerate(cases):
        for k, b in enumerate(bias):
            mine = dict(a)
            if (n + k) % 3 == 0:
                mine["questions"] = min(5, mine["questions"] + b)
                mine["smile"] = "yes" if b % 2 else mine["smile"]
            if (n + k) % 4 == 1 and k:
                continue  # not every evaluator scores every case
            records.append(scored(n, f"E{k}", mine, scenario))
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    assert calibrate(shuffled, STD.model) == calibrate(records, STD.model)
