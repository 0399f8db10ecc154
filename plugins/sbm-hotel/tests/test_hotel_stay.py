"""The `hotel.stay` standard: structure, examples, scoring rules and the timestamp validator."""

from __future__ import annotations

from pathlib import Path

import pytest
import sbm_hotel

from sbm_engine.testing import assert_spec_coefficients, check_pack_metadata, rejected

PACK = Path(__file__).resolve().parents[1]

# A complete business stay that meets the standard everywhere (the first example's answers).
PERFECT = {
    "b_call_speed": "yes",
    "b_phone_greeting": "yes",
    "b_needs": 5,
    "b_offer": 5,
    "b_conditions": "yes",
    "b_confirmation": "yes",
    "b_precontact": "yes",
    "c_greeting": "yes",
    "c_name": "yes",
    "c_id_check": "yes",
    "c_price": "yes",
    "c_receipt": "yes",
    "c_info": 5,
    "c_upsell": "yes",
    "c_escort": "yes",
    "r_linen": "yes",
    "r_bathroom": 5,
    "r_surfaces": 5,
    "r_smell": "yes",
    "r_glassware": "yes",
    "r_lock": "yes",
    "r_fire": "yes",
    "r_climate": "yes",
    "r_plumbing": "yes",
    "r_electric": "yes",
    "r_wifi": "yes",
    "r_toiletries": "yes",
    "r_towels": "yes",
    "r_water": "yes",
    "r_tea": "yes",
    "f_greeting": "yes",
    "f_assortment": 5,
    "f_replenish": "yes",
    "f_food_safety": "yes",
    "f_tables": "yes",
    "f_drinks": "yes",
    "s_appearance": "yes",
    "s_courtesy": 5,
    "s_request": "yes",
    "s_complaint": 5,
    "s_knowledge": 5,
    "o_bill": "yes",
    "o_minibar": "yes",
    "o_documents": "yes",
    "o_feedback": "yes",
    "o_farewell": "yes",
    "guest_rating": 10,
    "recommend": 10,
}

TIMES = {
    "arrived_at": "2026-03-14T14:00",
    "checked_in_at": "2026-03-14T14:06",
    "checkin_time": "2026-03-14T14:00",
    "room_ready_at": "2026-03-14T13:30",
    "checkout_started_at": "2026-03-15T11:00",
    "checked_out_at": "2026-03-15T11:03",
}


def visit(answers=None, **fields):
    record = {
        "visit_id": "t1",
        "scenario": "business",
        "booking_channel": "phone",
        "room_category": "standard",
        "room_service": "no",
        **TIMES,
    }
    record.update(fields)
    record["answers"] = dict(PERFECT if answers is None else answers)
    return {k: v for k, v in record.items() if v is not None}


def test_structure(stay):
    m = stay.model
    assert stay.id == "hotel.stay" and stay.version == "2026.1" and m.industry == "hotel"
    scored = [i for i in m.items if i.scored]
    assert len(scored) >= 30
    assert [s.name for s in m.sections] == [
        "booking",
        "checkin",
        "room_cleanliness",
        "room_condition",
        "room_amenities",
        "in_room_dining",
        "breakfast",
        "staff",
        "checkout",
    ]
    tags = {t for i in m.items for t in i.tags}
    assert tags == {"compliance", "professionalism", "client_orientation", "premises"}
    critical = {i.name for i in m.items if i.critical}
    assert critical == {"c_id_check", "r_linen", "r_lock", "r_fire", "f_food_safety"}
    assert all(m.items[[i.name for i in m.items].index(c)].presence == "required" for c in critical)
    assert_spec_coefficients(stay)
    assert set(m.targets) >= {"visit", "specialist", "point", "compliance"}
    assert set(m.bands) == {"visit", "specialist", "point"}


def test_examples_pass(sbm_examples):
    assert len(sbm_examples("hotel.stay")) == 4


def test_the_pack_ships_its_standards_and_declares_its_entry_point():
    assert (sbm_hotel.STANDARDS / "stay.sbm").is_file()
    meta = check_pack_metadata(PACK, "hotel", "sbm_hotel.plugin")
    assert meta["project"]["name"] == "sbm-hotel"


def test_a_perfect_stay(stay):
    r = stay.score(visit())
    assert r.ok, r
    assert r.coefficients["visit"] == pytest.approx(1)
    assert r.coefficients["checkin_minutes"] == 6
    assert r.coefficients["room_delay_minutes"] == 0
    assert r.coefficients["room_service_minutes"] is None  # no room service in this stay
    assert r.sections["in_room_dining"] is None
    assert r.bands["visit"] == "excellent"
    assert r.warnings == ()


@pytest.mark.parametrize("item", ["r_linen", "r_lock", "r_fire", "c_id_check", "f_food_safety"])
def test_each_critical_item_zeroes_the_visit(stay, item):
    r = stay.score(visit({**PERFECT, item: "no"}))
    assert r.ok
    assert r.critical == (item,)
    assert r.coefficients["visit"] == 0
    in_room = item in ("r_linen", "r_lock", "r_fire")
    assert (r.coefficients["point"] == 0) is in_room


def test_a_room_that_is_late_brings_in_the_waiting_care_item(stay):
    late = {"room_ready_at": "2026-03-14T14:45"}
    missing = stay.score(visit(**late))
    assert not missing.ok
    assert [e.item for e in missing.errors] == ["c_wait_care"]
    r = stay.score(visit({**PERFECT, "c_wait_care": "no"}, **late))
    assert r.ok and r.items["c_wait_care"] == 0
    assert r.coefficients["room_delay_minutes"] == 45
    assert r.coefficients["room_readiness"] == pytest.approx(0.25)
    # On time, the item does not apply: an answer there is a warning, not a score.
    on_time = stay.score(visit({**PERFECT, "c_wait_care": "yes"}))
    assert on_time.ok and on_time.items["c_wait_care"] is None
    assert [w.item for w in on_time.warnings] == ["c_wait_care"]


def test_missing_timestamps_leave_timing_out_not_at_zero(stay):
    r = stay.score(
        visit(
            arrived_at=None,
            checked_in_at=None,
            checkout_started_at="na",
            checked_out_at="",
            room_ready_at=None,
        )
    )
    assert r.ok, r
    for c in ("checkin_minutes", "checkout_minutes", "timing", "room_readiness"):
        assert r.coefficients[c] is None
    assert r.items["c_wait_care"] is None  # room readiness unknown: the item does not apply
    assert r.coefficients["compliance"] == r.coefficients["compliance_checklist"] == 1


def test_a_slow_checkin_costs_compliance(stay):
    r = stay.score(visit(checked_in_at="2026-03-14T14:15"))
    assert r.coefficients["checkin_speed"] == pytest.approx(0.5)
    # timing = (2·0.5 + 1·1) / 3; compliance = 0.8·1 + 0.2·timing
    assert r.coefficients["timing"] == pytest.approx(2 / 3)
    assert r.coefficients["compliance"] == pytest.approx(0.8 + 0.2 * 2 / 3)


def test_scenarios_switch_items_on(stay):
    family_items = {"c_family": "no", "r_safety_child": "yes"}
    # A family stay must answer the family items ...
    assert sorted(e.item for e in rejected(stay, visit(scenario="family"))) == [
        "c_family",
        "r_safety_child",
    ]
    # ... and the business-only item does not apply: answered anyway, it is only a warning.
    r = stay.score(visit({**PERFECT, **family_items}, scenario="family"))
    assert r.ok, r
    assert r.items["c_family"] == 0 and r.items["o_documents"] is None
    assert [w.item for w in r.warnings] == ["o_documents"]


def test_phone_items_only_for_phone_bookings(stay):
    answers = {
        k: v
        for k, v in PERFECT.items()
        if k not in ("b_call_speed", "b_phone_greeting", "b_needs", "b_offer")
    }
    r = stay.score(visit({**answers, "b_site": "no"}, booking_channel="website"))
    assert r.ok, r
    assert r.items["b_needs"] is None and r.items["b_site"] == 0


def test_suite_bonus_cannot_lift_point_above_one(stay):
    r = stay.score(visit({**PERFECT, "r_welcome": "yes"}, room_category="suite"))
    assert r.ok and r.coefficients["premises_checklist"] == 1 and r.coefficients["point"] == 1


def test_the_time_norms_are_computed_items(stay):
    r = stay.score(visit(arrived_at="2026-03-14T14:00", checked_in_at="2026-03-14T14:15"))
    assert r.ok, r
    assert r.items["checkin_norm"] == r.coefficients["checkin_speed"] == 0.5
    assert r.coefficients["checkin_minutes"] == 15
    assert r.items["room_service_norm"] is None  # no room service in this stay
    computed = [i.name for i in stay.model.items if i.computed is not None]
    assert computed == ["checkin_norm", "checkout_norm", "room_service_norm", "room_ready_norm"]
    assert all(stay.model.item(name).section is None for name in computed)


def test_unknown_choice_field_is_rejected(stay):
    assert rejected(stay, visit(booking_channel="telegram"))[0].item == "booking_channel"


# -- timestamps: `datetime` fields, and the pack's validator ----------------------------------


def test_unreadable_timestamp_rejects_the_visit(stay):
    (err,) = rejected(stay, visit(checked_in_at="14.03.2026 14:06"))
    assert (err.item, err.code) == ("checked_in_at", "bad_field")
    assert "'14.03.2026 14:06'" in err.message and "ISO 8601 date and time" in err.message


def test_a_date_without_time_is_its_midnight(stay):
    """As a spreadsheet gives a date and time at 0:00: the room was ready before check-in."""
    r = stay.score(visit(room_ready_at="2026-03-14"))
    assert r.ok, r
    assert r.coefficients["room_delay_minutes"] == 0
    (err,) = rejected(stay, visit(room_ready_at="2026-02-30"))
    assert (err.item, err.code) == ("room_ready_at", "bad_field")


def test_a_room_ready_early_is_no_error(stay):
    r = stay.score(visit(checkin_time="2026-03-14T14:00", room_ready_at="2026-03-14T12:00"))
    assert r.ok, r
    assert r.coefficients["room_delay_minutes"] == 0


def test_a_negative_duration_is_rejected(stay):
    (err,) = rejected(stay, visit(checked_in_at="2026-03-14T13:50"))
    assert (err.item, err.code) == ("checked_in_at", "timestamp_order")
    assert "earlier than `arrived_at`" in err.message


def test_mixing_offsets_is_rejected(stay):
    (err,) = rejected(stay, visit(checked_in_at="2026-03-14T14:06+03:00"))
    assert err.code == "bad_timestamp" and "UTC offset" in err.message


def test_offsets_are_honoured(stay):
    r = stay.score(visit(arrived_at="2026-03-14T14:00+03:00", checked_in_at="2026-03-14T11:06Z"))
    assert r.ok, r
    assert r.coefficients["checkin_minutes"] == 6


def test_the_validator_follows_derived_standards(sbm_standard, tmp_path):
    derived = tmp_path / "resort.sbm"
    derived.write_text(
        'standard resort.stay "Курорт" extends hotel.stay {\n    drop o_documents\n}\n',
        encoding="utf-8",
    )
    std = sbm_standard(derived)
    answers = {k: v for k, v in PERFECT.items() if k != "o_documents"}
    assert std.score(visit(answers)).ok
    assert rejected(std, visit(answers, checkout_started_at="завтра"))


def test_no_validator_for_standards_without_timestamps(sbm_standard):
    from sbm_hotel.timing import validators_for

    assert validators_for(sbm_standard("library.stages").model) == []
    keys_calls = validators_for(sbm_standard("hotel.stay").model)
    assert len(keys_calls) == 1


def test_the_durations_are_the_differences_used_as_they_are(sbm_standard):
    from sbm_engine.timestamps import datetime_pairs

    pairs, durations = datetime_pairs(sbm_standard("hotel.stay").model)
    assert ("checkin_time", "room_ready_at") in pairs  # compared, and a delay: `max(…, 0)`
    assert durations == {
        ("arrived_at", "checked_in_at"),
        ("room_service_ordered_at", "room_service_delivered_at"),
        ("checkout_started_at", "checked_out_at"),
    }
