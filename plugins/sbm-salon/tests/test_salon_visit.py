"""`salon.visit`: compiles by id, its examples pass, it has what the product asks of a pack."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sbm_salon import STANDARDS

from sbm_engine.testing import (
    assert_spec_coefficients,
    check_pack_metadata,
    plugin_row,
    rejected,
)

PACK = Path(__file__).resolve().parents[1]


def flawless(scenario: str = "стрижка", channel: str = "телефон") -> dict:
    answers = {
        "slot_offered": "да",
        "booking_details": "yes",
        "price_told": "yes",
        "reminder": "yes",
        "greeted": "yes",
        "coat": "yes",
        "drink": "yes",
        "start_delay": 2,
        "master_introduced": "yes",
        "master_look": "yes",
        "wishes": 5,
        "diagnostics": 5,
        "contraindications": "yes",
        "options": "yes",
        "price_agreed": "yes",
        "comfort_check": "yes",
        "explained": "yes",
        "focused": "yes",
        "result_quality": 5,
        "neatness": 5,
        "on_schedule": "yes",
        "hands": "yes",
        "disposables": "yes",
        "workplace_clean": "yes",
        "result_shown": "yes",
        "care_advice": "yes",
        "retail": "yes",
        "bill_matches": "yes",
        "rebooking": "yes",
        "feedback": "yes",
        "farewell": "yes",
        "entrance": "yes",
        "interior": 5,
        "restroom": "yes",
        "ambience": 5,
        "price_list": "yes",
        "overall": 10,
        "recommend": 10,
    }
    if channel == "телефон":
        answers.update(call_answered="yes", booking_greeting="yes")
    else:
        answers.update(online_confirmed="yes")
    if scenario == "маникюр":
        answers.update(sterile_tools="yes", gloves="yes")
    else:
        answers.update(clean_tools="yes")
    if scenario == "окрашивание":
        answers.update(allergy_test="yes", gloves="yes")
    return {
        "visit_id": "s1",
        "point": "MSK-01",
        "specialist": "MSK-01-M1",
        "scenario": scenario,
        "channel": channel,
        "appointment_at": "2026-04-10T12:00:00",
        "started_at": "2026-04-10T12:01:30",
        "answers": answers,
    }


def test_loads_by_id(salon):
    assert salon.id == "salon.visit"
    assert salon.version == "2026.1"
    assert salon.model.industry == "beauty"
    assert salon.model.title == "Визит в салон красоты"


def test_examples_pass(sbm_examples):
    assert len(sbm_examples("salon.visit", min_examples=4)) == 4


def test_loads_by_path_too(sbm_standard):
    assert sbm_standard(STANDARDS / "visit.sbm").id == "salon.visit"


def test_shape(salon):
    m = salon.model
    assert len([i for i in m.items if i.scored]) >= 30
    assert_spec_coefficients(salon, "delay_minutes")
    assert [s.name for s in m.sections] == [
        "booking",
        "welcome",
        "consultation",
        "procedure",
        "hygiene",
        "closing",
        "atmosphere",
    ]
    tags = Counter(t for i in m.items for t in i.tags)
    assert {"compliance", "professionalism", "client_orientation", "premises"} == set(tags)
    critical = {i.name for i in m.items if i.critical}
    assert critical == {"allergy_test", "hands", "sterile_tools", "clean_tools", "disposables"}
    assert {i.section for i in m.items if i.critical} <= {"hygiene", "consultation"}
    # built on the library's stages: its closing keeps its place, the salon's stages
    # come before it and the salon's atmosphere after it
    assert m.item("farewell").section == "closing"
    assert next(s for s in m.sections if s.name == "closing").items[-1] == "farewell"
    assert m.fields["channel"].values == ("телефон", "онлайн")
    assert m.targets["hygiene_score"] == 1


def test_every_question_is_russian(salon):
    for item in salon.model.items:
        assert any("а" <= ch <= "я" for ch in item.question.lower()), item.name


@pytest.mark.parametrize("scenario", ["стрижка", "окрашивание", "маникюр"])
@pytest.mark.parametrize("channel", ["телефон", "онлайн"])
def test_a_flawless_visit_scores_one(salon, scenario, channel):
    result = salon.score(flawless(scenario, channel))
    assert result.ok, result
    assert result.coefficients["visit"] == pytest.approx(1.0)
    assert result.coefficients["delay_minutes"] == pytest.approx(1.5)
    assert not result.warnings


def test_the_channel_is_case_insensitive_as_a_declared_choice(salon):
    record = flawless(channel="онлайн")
    record["channel"] = "Онлайн"
    result = salon.score(record)
    assert result.ok
    assert result.items["online_confirmed"] == 1


@pytest.mark.parametrize("item", ["hands", "disposables", "clean_tools"])
def test_a_hygiene_breach_zeroes_visit_and_master(salon, item):
    record = flawless()
    record["answers"][item] = "нет"
    result = salon.score(record)
    assert result.ok
    assert result.critical == (item,)
    assert result.coefficients["visit"] == 0
    assert result.coefficients["specialist"] == 0
    assert result.coefficients["hygiene_score"] == 0
    assert result.coefficients["point"] == pytest.approx(1.0)


def test_the_allergy_test_is_critical_only_for_colouring(salon):
    record = flawless("окрашивание")
    record["answers"]["allergy_test"] = "no"
    assert salon.score(record).critical == ("allergy_test",)
    record = flawless("стрижка")
    record["answers"]["allergy_test"] = "no"  # does not apply: ignored with a warning
    result = salon.score(record)
    assert result.ok and not result.critical
    assert [w.item for w in result.warnings] == ["allergy_test"]


def test_hands_cannot_be_na(salon):
    record = flawless()
    record["answers"]["hands"] = "н/п"
    assert [(e.item, e.code) for e in rejected(salon, record)] == [("hands", "na_not_allowed")]


def test_the_crm_times_win_over_the_stopwatch(salon):
    record = flawless()
    record["started_at"] = "2026-04-10T12:20:00"
    record["answers"]["start_delay"] = 5
    assert [(e.item, e.code) for e in rejected(salon, record)] == [("delay_warned", "missing")]
    record["answers"]["delay_warned"] = "yes"
    result = salon.score(record)
    assert result.ok
    assert result.coefficients["delay_minutes"] == 20
    assert result.items["start_delay"] == 0
    assert result.items["delay_warned"] == 1


def test_an_early_start_is_not_late(salon):
    record = flawless()
    record["started_at"] = "2026-04-10T11:55:00"
    result = salon.score(record)
    assert result.ok
    assert result.coefficients["delay_minutes"] == 0
    assert result.items["start_delay"] == 1


def test_without_crm_times_the_stopwatch_counts(salon):
    record = flawless()
    del record["appointment_at"], record["started_at"]
    record["answers"]["start_delay"] = 12
    record["answers"]["delay_warned"] = "no"
    result = salon.score(record)
    assert result.ok
    assert result.coefficients["delay_minutes"] == 12
    assert result.items["start_delay"] == 0.5
    assert result.items["delay_warned"] == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("appointment_at", "10.04.2026 12:00", "bad_timestamp"),
        ("appointment_at", "2026-04-10", "bad_timestamp"),
        ("started_at", "12:05", "bad_timestamp"),
        ("started_at", "2026-04-11T12:05:00", "implausible_delay"),
        ("started_at", "2026-04-09T12:05:00", "implausible_delay"),
        ("started_at", "2026-04-10T12:05:00+03:00", "bad_timestamp"),
    ],
)
def test_bad_times_reject_the_visit(salon, field, value, code):
    record = flawless()
    record[field] = value
    errors = rejected(salon, record)
    assert [e.code for e in errors] == [code]
    assert errors[0].item in {"appointment_at", "started_at"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"scenario": "педикюр"}, "bad_field"),  # declared `required one of`
        ({"scenario": None}, "missing_field"),
        ({"channel": None}, "missing_field"),
        ({"channel": "мессенджер"}, "bad_field"),
    ],
)
def test_scenario_and_channel_are_checked(salon, changes, code):
    record = flawless()
    record.update(changes)
    assert code in [e.code for e in rejected(salon, record)]


def test_a_derived_standard_inherits_everything(sbm_standard, tmp_path):
    (tmp_path / "mine.sbm").write_text(
        """
    standard mysalon.visit "Визит в салон «Моя студия»" extends salon.visit {
        version "2026.2"
        drop drink
        item rebooking "Записал на следующий визит прямо у стойки"
            answer yes_no weight 3 tags compliance
    }
    """,
        encoding="utf-8",
    )
    std = sbm_standard(tmp_path / "mine.sbm")
    assert std.model.item("rebooking").section == "closing"
    record = flawless()
    del record["answers"]["drink"]
    result = std.score(record)
    assert result.ok
    assert result.coefficients["visit"] == pytest.approx(1.0)
    record["started_at"] = "12:05"  # the time check follows `appointment_delay` ...
    assert [e.code for e in rejected(std, record)] == ["bad_timestamp"]
    record = flawless()
    del record["answers"]["drink"]
    record["scenario"] = "педикюр"  # ... and so do the declared scenarios
    record["answers"]["gloves"] = "yes"  # `gloves` applies to all but a haircut
    assert [e.code for e in rejected(std, record)] == ["bad_field"]
    # a derived standard may declare the field anew, to score other scenarios
    source = (tmp_path / "mine.sbm").read_text(encoding="utf-8")
    (tmp_path / "mine.sbm").write_text(
        source.replace("drop drink", 'drop drink\n        field scenario "Сценарий"'),
        encoding="utf-8",
    )
    assert sbm_standard(tmp_path / "mine.sbm").score(record).ok


def test_the_entry_point_and_the_wheel():
    meta = check_pack_metadata(PACK, "salon", "sbm_salon.plugin")
    assert meta["project"]["name"] == "sbm-salon"
    assert "sbm-engine>=0.1" in meta["project"]["dependencies"]
    assert (PACK / "src" / "sbm_salon" / "standards" / "visit.sbm").is_file()


def test_the_pack_is_listed():
    row = plugin_row("salon")
    assert row["standards"] == ["salon.visit"]
    assert row["functions"] == ["appointment_delay"]
