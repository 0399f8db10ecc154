"""The rules the standards library ships reproduce the published figures.

Each standard's own examples (run by `sbm test`) hold the published boundary
cases; here every input a rule admits is scored on both backends and compared with
the rule as published, and the roll-ups that examples of one visit cannot test
are checked over groups of visits.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import sbm_engine
from sbm_engine.testing import assert_batch_agrees

COMPLIANCE = (0, 5, 10, 15, 20, 25)
CONFIDENCE = (0, 5, 10, 20, 30)
NAMES = {
    5: "very_good",
    4: "good",
    3: "generally_satisfactory",
    2: "improvement_necessary",
    1: "major_improvement_necessary",
    0: "urgent_improvement_necessary",
}


def _fhrs_rating(hygiene: int, structural: int, management: int) -> int:
    """The FSA's table: the best rating whose total band and individual cap both hold."""
    total, worst = hygiene + structural + management, max(hygiene, structural, management)
    for rating, most, cap in ((5, 15, 5), (4, 20, 10), (3, 30, 10), (2, 40, 15), (1, 50, 20)):
        if total <= most and worst <= cap:
            return rating
    return 0


def test_fhrs_every_triple_of_scores_gets_the_published_rating() -> None:
    std = sbm_engine.load("inspections.fhrs")
    triples = list(itertools.product(COMPLIANCE, COMPLIANCE, CONFIDENCE))
    records = [
        {"visit_id": f"{h}-{s}-{m}", "answers": {"hygiene": h, "structural": s, "management": m}}
        for h, s, m in triples
    ]
    outcomes = assert_batch_agrees(std, records)
    counts = dict.fromkeys(range(6), 0)
    for (h, s, m), out in zip(triples, outcomes, strict=True):
        expected = _fhrs_rating(h, s, m)
        counts[expected] += 1
        assert out.ok, out
        assert out.coefficients["total"] == h + s + m
        assert out.coefficients["rating"] == expected, (h, s, m)
        assert out.bands["total"] == NAMES[expected], (h, s, m)
    # the distribution of the 180 legal triples over the ratings
    assert counts == {0: 83, 1: 49, 2: 21, 3: 4, 4: 15, 5: 8}


def test_fhrs_rejects_a_score_the_scheme_does_not_have() -> None:
    std = sbm_engine.load("inspections.fhrs")
    out = std.score({"visit_id": "x", "answers": {"hygiene": 0, "structural": 0, "management": 15}})
    assert not out.ok
    assert [e.item for e in out.errors] == ["management"]


NYC_POINTS = {
    "public_health_hazard": (7, 8, 9, 10),
    "critical_violation": (5, 6, 7, 8),
    "general": (2, 3, 4, 5),
}
NYC_ITEMS = {
    "hot_holding": "public_health_hazard",
    "cold_holding": "public_health_hazard",
    "contaminated": "public_health_hazard",
    "unwashed_raw": "critical_violation",
    "bare_hands": "critical_violation",
    "utensils": "general",
    "surfaces": "general",
}
LEVELS = ("not_cited", "I", "II", "III", "IV")


def _nyc_grade(score: int, inspection: str) -> str:
    if score <= 13:
        return "A"
    if inspection == "initial":
        return "not_graded"
    return "B" if score <= 27 else "C"


def test_nyc_grades_follow_the_score_and_the_inspection() -> None:
    std = sbm_engine.load("inspections.nyc")
    records: list[dict[str, Any]] = []
    expected = []
    for k, levels in enumerate(itertools.product(range(5), repeat=len(NYC_ITEMS))):
        if k % 7:  # every seventh of the 5⁷ combinations, both inspections
            continue
        score = sum(
            NYC_POINTS[cat][lv - 1]
            for cat, lv in zip(NYC_ITEMS.values(), levels, strict=True)
            if lv
        )
        answers = {name: LEVELS[lv] for name, lv in zip(NYC_ITEMS, levels, strict=True)}
        for inspection in ("initial", "reinspection"):
            records.append(
                {"visit_id": f"{k}-{inspection}", "inspection": inspection, "answers": answers}
            )
            expected.append((score, _nyc_grade(score, inspection)))
    outcomes = assert_batch_agrees(std, records)
    for out, (score, grade) in zip(outcomes, expected, strict=True):
        assert out.coefficients["inspection_score"] == score
        assert out.bands["inspection_score"] == grade


def _nps_visits(ratings: list[int]) -> list[dict[str, Any]]:
    return [
        {"visit_id": str(k), "point": "P1", "answers": {"recommend": r}}
        for k, r in enumerate(ratings)
    ]


@pytest.mark.parametrize(
    ("ratings", "nps"),
    [
        ([10] * 100 + [7] * 30 + [0] * 80, 100 * 20 / 210),  # Sauro, MeasuringU: 9.5
        (list(range(11)), 100 * -5 / 11),  # one of each rating: −45.45
        ([9, 8, 7, 6], 0.0),
        ([10, 9, 6], 100 / 3),
    ],
)
def test_nps_of_a_group(ratings: list[int], nps: float) -> None:
    std = sbm_engine.load("survey.nps")
    results = list(std.score_many(_nps_visits(ratings)))
    network = std.rollup([r.to_dict() for r in results], "network")["groups"][0]
    assert network["rollups"]["nps"] == pytest.approx(nps, abs=1e-9)
    bands = [r.bands["likelihood_to_recommend"] for r in results]
    assert bands.count("promoter") == sum(r >= 9 for r in ratings)
    assert bands.count("detractor") == sum(r <= 6 for r in ratings)


def test_nps_group_examples_hold_the_published_figures() -> None:
    """The standard's own examples of several visits: the published proportions and
    each answer once, rolled up over the example's visits."""
    std = sbm_engine.load("survey.nps")
    groups = {o.name: o for o in std.run_examples() if o.visits > 1}
    assert {o.visits for o in groups.values()} == {21, 11}
    assert all(o.passed for o in groups.values()), [o.messages for o in groups.values()]


def test_nps_is_exact_where_the_percentages_are_whole() -> None:
    """57 promoters and 42 detractors of 100 give 15, not 14.999999999999993: a rollup
    formula computes with the exact shares and is rounded once."""
    std = sbm_engine.load("survey.nps")
    results = list(std.score_many(_nps_visits([10] * 57 + [7] + [3] * 42)))
    rollups = std.rollup(results, "network")["groups"][0]["rollups"]
    assert rollups == {"promoters": 57.0, "detractors": 42.0, "nps": 15.0}


#: The worked example of the R package stp25kano (Berger et al.'s method, 296
#: respondents): counts of A, O, M, I, R, Q per attribute and the printed Better and
#: Worse, to three decimals.
KANO = {
    "app": ((45, 123, 95, 33, 0, 0), 0.568, -0.736),
    "service": ((54, 54, 101, 81, 3, 3), 0.372, -0.534),
    "hotline": ((121, 24, 15, 124, 6, 6), 0.511, -0.137),
    "loan": ((93, 87, 65, 51, 0, 0), 0.608, -0.514),
    "ready": ((83, 18, 9, 177, 6, 3), 0.352, -0.094),
}
#: The example's printed "max category" of each attribute (the most frequent one).
KANO_CATEGORY = {"app": "O", "service": "M", "hotline": "I", "loan": "A", "ready": "I"}
#: Its printed category strength, in whole points of percent.
KANO_STRENGTH = {"app": 9, "service": 7, "hotline": 1, "loan": 2, "ready": 32}
#: One pair of answers per category (the evaluation table's cells).
PAIRS = {
    "A": ("like", "neutral"),
    "O": ("like", "dislike"),
    "M": ("neutral", "dislike"),
    "I": ("neutral", "neutral"),
    "R": ("neutral", "like"),
    "Q": ("like", "like"),
}


def test_kano_reproduces_the_published_better_and_worse() -> None:
    std = sbm_engine.load("survey.kano")
    answers: list[dict[str, str]] = [{} for _ in range(296)]
    for key, (counts, _better, _worse) in KANO.items():
        assert sum(counts) == 296
        cells = [c for c, n in zip("AOMIRQ", counts, strict=True) for _ in range(n)]
        for respondent, category in zip(answers, cells, strict=True):
            respondent[f"{key}_f"], respondent[f"{key}_d"] = PAIRS[category]
    records = [{"visit_id": str(k), "answers": a} for k, a in enumerate(answers)]
    outcomes = assert_batch_agrees(std, records)
    for key, (counts, _better, _worse) in KANO.items():
        got = [o.labels[f"{key}_category"] for o in outcomes]
        assert [got.count(c) for c in "AOMIRQ"] == list(counts)
    rolled = std.rollup([o.to_dict() for o in outcomes], "network")["groups"][0]["rollups"]
    for key, (counts, better, worse) in KANO.items():
        assert round(rolled[f"{key}_better"], 3) == better, key
        assert round(rolled[f"{key}_worse"], 3) == worse, key
        assert rolled[f"{key}_a"] == pytest.approx(100 * counts[0] / 296)
        assert rolled[f"{key}_kano"] == KANO_CATEGORY[key]
        assert round(rolled[f"{key}_strength"]) == KANO_STRENGTH[key]


@pytest.mark.parametrize(
    ("counts", "category"),
    [
        ((10, 10, 10, 10, 0, 0), "M"),  # a four-way tie goes to M
        ((5, 8, 8, 3, 0, 0), "M"),  # O and M tie: M
        ((9, 9, 2, 5, 0, 0), "O"),  # A and O tie: O
        ((7, 2, 1, 7, 3, 0), "A"),  # A and I tie: A
        ((0, 0, 0, 0, 0, 5), "Q"),
    ],
)
def test_kano_category_ties_go_m_o_a_i(counts: tuple[int, ...], category: str) -> None:
    std = sbm_engine.load("survey.kano")
    cells = [c for c, n in zip("AOMIRQ", counts, strict=True) for _ in range(n)]
    others = {f"{k}_{side}": "neutral" for k in KANO for side in "fd" if k != "app"}
    records = [
        {"visit_id": str(i), "answers": {**others, "app_f": PAIRS[c][0], "app_d": PAIRS[c][1]}}
        for i, c in enumerate(cells)
    ]
    outcomes = assert_batch_agrees(std, records)
    rolled = std.rollup([o.to_dict() for o in outcomes], "network")["groups"][0]["rollups"]
    assert rolled["app_kano"] == category


SNHD_CRITICAL = [f"critical_{k}" for k in range(1, 10)]
SNHD_MAJOR = [f"major_{k}" for k in range(10, 24)]


def _snhd_grade(demerits: int, inspection: str, repeat: bool, hazard: bool) -> str:
    """The District's grade card as published: closure at 41 demerits or an imminent
    health hazard; a failed C re-inspection closes, a failed B re-inspection gives a
    C (failing: more than 10 demerits or an identical consecutive violation); a
    routine inspection's demerit grade goes down one step with a repeat (C stays C)."""
    if hazard or demerits >= 41:
        return "closed"
    failed = demerits > 10 or repeat
    if inspection == "c_reinspection":
        return "closed" if failed else "A"
    if inspection == "b_reinspection":
        return "C" if failed else "A"
    if demerits > 20:
        return "C"
    if demerits > 10:
        return "C" if repeat else "B"
    return "B" if repeat else "A"


def _snhd_visit(vid: str, point: str, date: str, inspection: str, cited: list[str]) -> dict:
    answers: dict[str, Any] = {"imminent_hazard": "none"}
    answers.update(dict.fromkeys(cited, "out"))
    return {
        "visit_id": vid,
        "point": point,
        "date": date,
        "inspection": inspection,
        "answers": answers,
    }


def _snhd_both_backends(std: Any, records: list[dict[str, Any]]) -> list[Any]:
    """The per-visit outcomes, checked equal to the batch evaluator's, every generation
    of visits scored as a batch (`BatchEvaluator.history_rows`)."""
    pytest.importorskip("numpy")
    from sbm_engine.batch import BatchEvaluator

    ev = BatchEvaluator(std)
    ev.history_rows = 0
    outcomes = list(std.score_many(records))
    assert [o.to_dict() for o in ev.score_records(records)] == [o.to_dict() for o in outcomes]
    return outcomes


def test_snhd_grades_follow_the_demerits_the_inspection_and_the_repeats() -> None:
    """Pairs of inspections of one establishment, on both backends: the first a
    routine one citing some items, the second of each kind citing others or some of
    the same; the second's grade is the published one."""
    std = sbm_engine.load("inspections.snhd")
    records: list[dict[str, Any]] = []
    expected: list[tuple[int, int, str]] = []  # (record index, demerits, grade)
    k = 0
    for critical, major in itertools.product(range(0, 10, 2), range(0, 15, 3)):
        for inspection in ("routine", "b_reinspection", "c_reinspection"):
            for overlap in (0, 1):
                now = SNHD_CRITICAL[:critical] + SNHD_MAJOR[:major]
                before = now[:overlap] + SNHD_MAJOR[-1:] if now else SNHD_MAJOR[-1:]
                if not now:
                    overlap = 0
                point = f"P{k}"
                records.append(_snhd_visit(f"{k}a", point, "2026-01-10", "routine", before))
                records.append(_snhd_visit(f"{k}b", point, "2026-02-10", inspection, now))
                demerits = 5 * critical + 3 * major
                repeat = overlap > 0 or (SNHD_MAJOR[-1] in now)
                grade = _snhd_grade(demerits, inspection, repeat, False)
                expected.append((len(records) - 1, demerits, grade))
                k += 1
    outcomes = _snhd_both_backends(std, records)
    for index, demerits, grade in expected:
        out = outcomes[index]
        assert out.coefficients["demerits"] == demerits, out.visit_id
        assert out.labels["grade"] == grade, (out.visit_id, demerits, out.coefficients)


def test_snhd_an_imminent_health_hazard_closes_whatever_the_demerits() -> None:
    std = sbm_engine.load("inspections.snhd")
    visit = _snhd_visit("h", "P", "2026-01-01", "routine", [])
    visit["answers"]["imminent_hazard"] = "closure"
    (out,) = _snhd_both_backends(std, [visit])
    assert out.coefficients["demerits"] == 0 and out.labels["grade"] == "closed"


def test_snhd_the_worked_cases_are_the_standard_s_examples() -> None:
    std = sbm_engine.load("inspections.snhd")
    outcomes = std.run_examples()
    assert all(o.passed for o in outcomes), [o.messages for o in outcomes if not o.passed]
    numbered = [o for o in outcomes if o.name.split(".")[0].isdigit()]
    assert [int(o.name.split(".")[0]) for o in numbered] == list(range(1, 20))
    assert {o.name.split(".")[0] for o in numbered if o.visits > 1} == {"12", "13", "14", "17"}
