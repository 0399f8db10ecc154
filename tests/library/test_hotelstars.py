"""`inspections.hotelstars` classifies as the Hotelstars Union's rule says.

Every combination of establishment type, highest level whose minimum criteria are
met, and a total on each side of every threshold is scored on both backends and
compared with the rule written out here; the rule's invariants (a missing minimum
criterion caps the level whatever the points, and the points cap it whatever the
criteria) are checked on the same outcomes.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import sbm_engine
from sbm_engine.testing import assert_batch_agrees

HOTEL = {1: 90, 2: 170, 3: 260, 4: 400, 5: 600}
GARNI_ALLOWANCE = 20

# The criteria of the standard: the lowest level each is a minimum criterion of
# (None: points only) and the points it gives.
CRITERIA: dict[str, tuple[int | None, int]] = {
    "cleanliness": (1, 0),
    "condition": (1, 0),
    "staff": (1, 0),
    "en_suite": (1, 0),
    "daily_cleaning": (1, 0),
    "reception_area": (1, 1),
    "breakfast_buffet": (2, 0),
    "reading_lamp": (2, 0),
    "reception_14h": (3, 0),
    "hair_dryer": (3, 0),
    "elevator": (4, 15),
    "reception_16h": (4, 0),
    "hotel_bar": (4, 0),
    "reception_24h": (5, 0),
    "concierge": (5, 0),
    "parking": (None, 3),
    "bus_parking": (None, 1),
    "garage": (None, 5),
    "charging": (None, 3),
    "balconies": (None, 2),
    "wheelchair": (None, 5),
    "electric_wheelchair": (None, 8),
    "visually_impaired": (None, 5),
    "hearing_impaired": (None, 5),
    "barrier_free": (None, 5),
}
TOTALS = (0, 69, 70, 89, 90, 149, 150, 169, 170, 239, 240, 259, 260, 379, 380, 399, 400)
TOTALS += (579, 580, 599, 600, 900)


def _answers(met_up_to: int, extras: bool) -> tuple[dict[str, Any], int]:
    """Answers meeting every minimum criterion up to `met_up_to` and none above (the
    reception area, a minimum of one to three stars only, stays met above); point-only
    criteria all yes or all no. Returns the answers and their points."""
    answers: dict[str, Any] = {}
    points = 0
    for name, (level, value) in CRITERIA.items():
        met = extras if level is None else met_up_to >= level
        if name == "reception_area":
            met = met_up_to >= 1
        if value:
            answers[name] = "yes" if met else "no"
            points += value if met else 0
        else:
            answers[name] = "met" if met else "not_met"
    return answers, points


def _rule(kind: str, met_up_to: int, total: int) -> tuple[int, bool]:
    """Stars and Superior as the rule states them."""
    rated = total + (GARNI_ALLOWANCE if kind == "garni" else 0)
    stars = next(
        (
            k
            for k in (5, 4, 3, 2, 1)
            if met_up_to >= k and rated >= HOTEL[k] and not (k == 5 and kind == "garni")
        ),
        0,
    )
    superior = 1 <= stars <= 4 and rated >= HOTEL[stars + 1]
    return stars, superior


def _cases() -> list[tuple[str, int, bool, int]]:
    cases = []
    for kind, met_up_to, extras, total in itertools.product(
        ("hotel", "garni"), range(6), (False, True), TOTALS
    ):
        _, points = _answers(met_up_to, extras)
        if total >= points:
            cases.append((kind, met_up_to, extras, total))
    return cases


def test_every_case_follows_the_rule_on_both_backends() -> None:
    std = sbm_engine.load("inspections.hotelstars")
    cases = _cases()
    records = []
    for k, (kind, met_up_to, extras, total) in enumerate(cases):
        answers, points = _answers(met_up_to, extras)
        answers["other_points"] = total - points
        records.append({"visit_id": f"h{k}", "kind": kind, "answers": answers})
    outcomes = assert_batch_agrees(std, records)
    seen = set()
    for (kind, met_up_to, _, total), out in zip(cases, outcomes, strict=True):
        assert out.ok, out
        stars, superior = _rule(kind, met_up_to, total)
        assert out.coefficients["total"] == total
        assert out.coefficients["stars"] == stars, (kind, met_up_to, total)
        assert out.coefficients["superior"] == int(superior), (kind, met_up_to, total)
        label = "not classified" if stars == 0 else f"{stars} star{'s' if stars > 1 else ''}"
        assert out.labels["classification"] == label + (" Superior" if superior else "")
        # the minimum criteria cap the level, whatever the points, and the points
        # cap it, whatever the criteria
        assert stars <= met_up_to
        rated = total + (GARNI_ALLOWANCE if kind == "garni" else 0)
        assert stars == 0 or rated >= HOTEL[stars]
        seen.add((stars, superior))
    # every classification the rule gives occurs among the cases
    assert seen == {(0, False), (5, False)} | {(k, s) for k in range(1, 5) for s in (False, True)}


@pytest.mark.parametrize("kind", ["hotel", "garni"])
def test_a_minimum_criterion_missing_at_one_level_caps_the_classification(kind: str) -> None:
    std = sbm_engine.load("inspections.hotelstars")
    answers, points = _answers(5, True)
    answers["other_points"] = 1000 - points
    for name, (level, _) in CRITERIA.items():
        if level is None or name == "reception_area":
            continue
        missing = dict(answers, **{name: "not_met" if answers[name] == "met" else "no"})
        out = std.score({"visit_id": name, "kind": kind, "answers": missing})
        assert out.ok, out
        assert out.coefficients["stars"] == level - 1, name


def test_a_garni_is_never_classified_five_stars() -> None:
    std = sbm_engine.load("inspections.hotelstars")
    answers, points = _answers(5, True)
    answers["other_points"] = 2000 - points
    out = std.score({"visit_id": "g", "kind": "garni", "answers": answers})
    assert out.ok, out
    assert out.labels["classification"] == "4 stars Superior"
