"""`restaurant.service`, the penalty functions of `penalty.py` and the pack's hooks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sbm_restaurant import penalty, plugin

from sbm_engine.testing import (
    assert_forms_agree,
    assert_spec_coefficients,
    check_pack_metadata,
    rejected,
)

PACK = Path(__file__).resolve().parents[1]
STANDARD = "restaurant.service"

PERFECT = {
    "g_greet": "yes",
    "g_booking": "yes",
    "g_escort": "yes",
    "g_coat": "yes",
    "g_menu": "yes",
    "m_intro": "yes",
    "m_specials": "yes",
    "m_knowledge": 5,
    "m_recommend": 5,
    "m_menu_state": "yes",
    "o_repeat": "yes",
    "o_upsell": "yes",
    "o_warn": "yes",
    "o_accuracy": "yes",
    "s_drinks_time": 4,
    "s_starter_time": 10,
    "s_main_time": 22,
    "s_sequence": "yes",
    "s_presentation": 5,
    "s_check_back": "yes",
    "s_clearing": "yes",
    "s_attention": 5,
    "s_dessert": "yes",
    "k_appearance": 5,
    "k_taste": 5,
    "k_doneness": "yes",
    "k_portion": "yes",
    "k_drinks": 5,
    "p_bill_time": "yes",
    "p_bill_correct": "yes",
    "p_payment": "yes",
    "p_receipt": "yes",
    "p_tips": "yes",
    "p_farewell": "yes",
    "h_table": 5,
    "h_hall": 5,
    "h_comfort": 5,
    "h_restroom": 5,
    "y_bare_hands": "yes",
    "y_spoiled": "yes",
    "y_temperature": "yes",
    "y_handwash": "yes",
    "y_pests": "yes",
    "y_staff": "yes",
    "y_tableware": "yes",
    "y_display": "yes",
    "y_cleaning_log": "yes",
    "guest_rating": 10,
    "recommend": 10,
}
RED = {"y_bare_hands": 25, "y_spoiled": 25, "y_temperature": 10, "y_handwash": 10, "y_pests": 15}
BLUE = {"y_staff": 5, "y_tableware": 5, "y_display": 5, "y_cleaning_log": 3}


def visit(answers=None, **fields):
    record = {"visit_id": "r1", "scenario": "dinner", "allergen_test": "no", **fields}
    record["answers"] = dict(PERFECT if answers is None else answers)
    return record


# -- the standard ----------------------------------------------------------------------------


def test_structure(service):
    m = service.model
    assert service.id == STANDARD and service.version == "2026.1" and m.industry == "restaurant"
    assert len([i for i in m.items if i.scored]) >= 30
    assert [s.name for s in m.sections] == [
        "greeting",
        "menu",
        "order",
        "serving",
        "food",
        "bill",
        "hall",
        "hygiene",
    ]
    critical = {i.name for i in m.items if i.critical}
    assert critical == {"m_allergens", "p_receipt", *RED}
    assert {i.name for i in m.items if "red" in i.tags} == set(RED)
    assert_spec_coefficients(service, "hygiene_status")
    assert set(m.bands) == {"visit", "specialist", "point", "hygiene_status"}


def test_examples_pass(sbm_examples):
    assert len(sbm_examples(STANDARD)) == 6


def test_a_perfect_dinner(service):
    r = service.score(visit())
    assert r.ok, r
    assert r.coefficients["visit"] == pytest.approx(1)
    assert r.coefficients["hygiene_points"] == 0
    assert r.bands["hygiene_status"] == "satisfactory"
    assert r.warnings == ()


def test_hygiene_answers_are_penalty_scales_that_accept_what_yes_no_accepts(service):
    m = service.model
    yes_no = m.scales["yes_no"]
    for item in (i for i in m.items if i.section == "hygiene"):
        scale = item.scale
        assert scale.kind == "penalty", item.name
        assert [(e.label, e.score, e.aliases) for e in scale.entries] == [
            (e.label, e.score, e.aliases) for e in yes_no.entries
        ], item.name
        points = {e.label: e.points for e in scale.entries}
        assert points == {"yes": 0, "no": {**RED, **BLUE}[item.name]}, item.name
        # the weight is set apart from the points: one per 5 points (see the header)
        assert item.weight == points["no"] / 5, item.name


@pytest.mark.parametrize("answer", ["no", "нет", "н", "n", "0", "false", "не выполнено", "НЕТ"])
def test_every_no_answer_costs_the_points(service, answer):
    r = service.score(visit({**PERFECT, "y_pests": answer, "y_cleaning_log": answer}))
    assert r.ok and r.warnings == ()
    assert r.coefficients["hygiene_points"] == 18
    assert r.coefficients["hygiene_red_points"] == 15
    assert r.items["y_pests"] == 0 and r.items["y_cleaning_log"] == 0


@pytest.mark.parametrize("item", sorted(RED))
def test_each_red_finding_is_unsatisfactory_and_costs_its_points(service, item):
    r = service.score(visit({**PERFECT, item: "no"}))
    assert r.ok
    assert r.critical == (item,)
    assert r.coefficients["hygiene_points"] == RED[item]  # points add up exactly
    assert r.coefficients["hygiene_red_points"] == RED[item]
    assert r.coefficients["hygiene_status"] == penalty.UNSATISFACTORY
    assert r.coefficients["point"] == 0 and r.coefficients["visit"] == 0


@pytest.mark.parametrize("item", sorted(BLUE))
def test_each_blue_finding_costs_its_points_only(service, item):
    r = service.score(visit({**PERFECT, item: "no"}))
    assert r.ok and r.critical == ()
    assert r.coefficients["hygiene_points"] == BLUE[item]
    assert r.coefficients["hygiene_red_points"] == 0
    assert r.coefficients["hygiene_status"] == penalty.SATISFACTORY
    assert r.coefficients["hygiene_score"] == pytest.approx(1 - BLUE[item] / 35)


def test_all_red_findings_reach_reinspection_but_not_closure(service):
    r = service.score(visit({**PERFECT, **dict.fromkeys(RED, "no"), **dict.fromkeys(BLUE, "no")}))
    assert r.coefficients["hygiene_red_points"] == 85
    assert r.coefficients["hygiene_points"] == 103
    assert r.bands["hygiene_status"] == "reinspection"  # closure is out of this checklist's reach


def test_the_receipt_and_the_allergen_answer_are_critical(service):
    r = service.score(visit({**PERFECT, "p_receipt": "no"}))
    assert r.critical == ("p_receipt",) and r.coefficients["visit"] == 0
    assert r.coefficients["point"] == 1  # the kitchen and the hall are not to blame
    r = service.score(visit({**PERFECT, "m_allergens": "no"}, allergen_test="yes"))
    assert r.critical == ("m_allergens",) and r.coefficients["visit"] == 0
    missing = service.score(visit(allergen_test="yes"))
    assert not missing.ok and missing.errors[0].item == "m_allergens"


def test_lunch_has_a_stricter_serving_norm(service):
    lunch = {k: v for k, v in PERFECT.items() if k != "s_dessert"}
    for minutes, at_lunch, at_dinner in [(15, 1, 1), (20, 0.5, 1), (30, 0, 0.5), (40, 0, 0)]:
        r = service.score(visit({**lunch, "s_main_time": minutes}, scenario="lunch"))
        assert r.items["s_main_time"] == at_lunch
        r = service.score(visit({**PERFECT, "s_main_time": minutes}))
        assert r.items["s_main_time"] == at_dinner
    r = service.score(visit(lunch, scenario="lunch"))
    assert r.ok and r.items["s_dessert"] is None


def test_no_starter_is_na_not_zero(service):
    answers = {k: v for k, v in PERFECT.items() if k != "s_starter_time"}
    for starter in ({}, {"s_starter_time": "н/п"}):
        r = service.score(visit({**answers, **starter}))
        assert r.ok and r.items["s_starter_time"] is None
        assert r.coefficients["compliance"] == 1


def test_bad_answers_are_rejected(service):
    assert rejected(service, visit({**PERFECT, "s_main_time": 240}))[0].code == "out_of_range"
    # required: N/A is no answer here
    assert rejected(service, visit({**PERFECT, "y_spoiled": "н/п"}))[0].item == "y_spoiled"
    assert rejected(service, visit(allergen_test="maybe"))[0].item == "allergen_test"


def test_the_king_county_standard_is_served_by_the_pack_too(sbm_standard):
    std = sbm_standard("restaurant.king_county")
    assert std.model.industry == "restaurant"


# -- the penalty functions ---------------------------------------------------------------------

# (points, red points, King County level) on both sides of every threshold.
CASES = [
    (0, 0, 0),
    (7, 0, 0),
    (119, 0, 0),
    (5, 5, 1),
    (34, 34, 1),
    (40, 34, 1),
    (35, 35, 2),
    (83, 75, 2),
    (89, 89, 2),
    (119, 89, 2),
    (120, 80, 3),
    (90, 90, 3),
    (100, 100, 3),
    (120, 0, 3),
    (0.5, 0.5, 1),
]


@pytest.mark.parametrize(("points", "red", "level"), CASES)
def test_inspection_result_follows_king_county(points, red, level):
    assert penalty.inspection_result(points, red) == level
    assert penalty.requires_reinspection(points, red) is (level >= 2)
    assert penalty.requires_closure(points, red) is (level == 3)


def test_inspection_level_with_other_thresholds():
    # an internal audit: reinspect from 20 red points, close from 50 red or 80 total
    assert penalty.inspection_level(19, 19, 20, 50, 80) == 1
    assert penalty.inspection_level(20, 20, 20, 50, 80) == 2
    assert penalty.inspection_level(80, 10, 20, 50, 80) == 3
    assert penalty.inspection_level(50, 50, 20, 50, 80) == 3


@pytest.mark.parametrize(
    "args",
    [
        (-1, 0),
        (5, 6),
        (5, -1),  # negative points, red above total
    ],
)
def test_inconsistent_points_give_na(args):
    assert penalty.inspection_result(*args) is None
    assert penalty.requires_reinspection(*args) is None
    assert penalty.requires_closure(*args) is None


@pytest.mark.parametrize("thresholds", [(0, 90, 120), (90, 35, 120), (35, 90, 0), (-5, 90, 120)])
def test_bad_thresholds_give_na(thresholds):
    assert penalty.inspection_level(10, 5, *thresholds) is None


def test_penalty_score():
    assert penalty.penalty_score(0, 35) == 1
    assert penalty.penalty_score(7, 35) == pytest.approx(0.8)
    assert penalty.penalty_score(35, 35) == 0
    assert penalty.penalty_score(70, 35) == 0
    assert penalty.penalty_score(-1, 35) is None
    assert penalty.penalty_score(5, 0) is None


def test_batch_forms_agree_with_scalar_forms_and_keep_na():
    np = pytest.importorskip("numpy")
    nan = math.nan
    rows = [*CASES, (-1, 0, None), (5, 6, None), (nan, 0, None), (10, nan, None), (nan, nan, None)]
    points = np.array([r[0] for r in rows], dtype=float)
    red = np.array([r[1] for r in rows], dtype=float)

    # the engine never calls the scalar form with N/A (it gives N/A itself): neither does
    # assert_forms_agree
    for name in ("inspection_result", "requires_reinspection", "requires_closure"):
        fn, fn_batch = getattr(penalty, name), getattr(penalty, f"{name}_batch")
        out = assert_forms_agree(fn, fn_batch, points, red)
        assert out.dtype == (np.float64 if name == "inspection_result" else object)
    limits = np.array([35.0] * (len(rows) - 2) + [0.0, nan])
    assert_forms_agree(penalty.penalty_score, penalty.penalty_score_batch, points, limits)
    thresholds = [np.full(points.shape, t) for t in (20.0, 50.0, 80.0)]
    thresholds[0][3] = nan
    assert_forms_agree(
        penalty.inspection_level, penalty.inspection_level_batch, points, red, *thresholds
    )
    # scalars broadcast against arrays, as the engine passes constants; with the county's
    # own thresholds the level is the inspection result
    assert_forms_agree(
        lambda p, r, *_: penalty.inspection_result(p, r),
        penalty.inspection_level_batch,
        points,
        red,
        35,
        90,
        120,
    )


# -- the pack --------------------------------------------------------------------------------


def test_hooks():
    assert plugin.sbm_standards() == [plugin.STANDARDS]
    assert {p.name for p in plugin.STANDARDS.glob("*.sbm")} >= {"service.sbm"}
    specs = {s.name: s for s in plugin.sbm_functions()}
    assert set(specs) == {
        "inspection_result",
        "inspection_level",
        "requires_reinspection",
        "requires_closure",
        "penalty_score",
    }
    assert all(s.batch is not None and s.doc and not s.plugin for s in specs.values())
    assert specs["inspection_level"].params == ("num",) * 5
    assert specs["requires_closure"].returns == "bool"
    assert set(plugin.sbm_readers()) == {".kc"}  # read in test_king_county


def test_the_readers_hook_leaves_the_reader_unimported():
    """The engine asks for every pack's readers when it starts to score: the King
    County module is imported only when a manifest is read."""
    import subprocess
    import sys

    probe = (
        "import sys; from sbm_restaurant import plugin; plugin.sbm_readers(); "
        "print('sbm_restaurant.king_county' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_pyproject_declares_the_entry_point():
    meta = check_pack_metadata(PACK, "restaurant", "sbm_restaurant.plugin")
    assert meta["project"]["name"] == "sbm-restaurant"
    assert "sbm-engine>=0.1" in meta["project"]["dependencies"]
