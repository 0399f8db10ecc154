"""`bank.branch`: compiles by id, its examples pass, it has what the product asks of a pack."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sbm_bank import STANDARDS

from sbm_engine.testing import (
    assert_spec_coefficients,
    check_pack_metadata,
    plugin_row,
    rejected,
)

PACK = Path(__file__).resolve().parents[1]


def flawless(scenario: str = "вклад") -> dict:
    answers = {
        "greet_first": "да",
        "eye_contact": "yes",
        "introduced": "yes",
        "offered_help": "yes",
        "undistracted": "yes",
        "appearance": "yes",
        "open_questions": 5,
        "clarified": 5,
        "listened": "yes",
        "used_name": "yes",
        "summarized": "yes",
        "fit": 5,
        "knowledge": 5,
        "benefits": 5,
        "calculation": "yes",
        "plain_words": "yes",
        "cross_sell": "yes",
        "mobile_app": "yes",
        "heard_out": "yes",
        "probed": "yes",
        "argued": 5,
        "no_pressure": "yes",
        "next_step": "yes",
        "any_questions": "yes",
        "farewell": "yes",
        "clean": 5,
        "navigation": "yes",
        "comfort": 5,
        "info_stand": "yes",
        "self_service": "yes",
        "wait_time": 4,
        "hall_help": "yes",
        "call_visible": "yes",
        "secrecy": "yes",
        "documents_hidden": "yes",
        "pd_consent": "yes",
        "overall": 10,
        "recommend": 10,
    }
    answers.update(
        {
            "вклад": {
                "dep_rate": "yes",
                "dep_terms": "yes",
                "dep_insurance": "yes",
                "dep_no_misselling": "yes",
            },
            "кредит": {
                "loan_psk": "yes",
                "loan_payment": "yes",
                "loan_documents": "yes",
                "loan_insurance_voluntary": "yes",
            },
            "карта": {
                "card_fees": "yes",
                "card_grace": "yes",
                "card_cashback": "yes",
                "card_limits": "yes",
            },
        }[scenario]
    )
    return {
        "visit_id": "t1",
        "point": "MSK-01",
        "specialist": "MSK-01-S1",
        "scenario": scenario,
        "ticket_issued": "2026-03-14T10:00:00",
        "called": "2026-03-14T10:04:30",
        "answers": answers,
    }


def test_loads_by_id(branch):
    assert branch.id == "bank.branch"
    assert branch.version == "2026.1"
    assert branch.model.industry == "bank"
    assert branch.model.title == "Обслуживание в отделении банка"


def test_examples_pass(sbm_examples):
    assert len(sbm_examples("bank.branch", min_examples=4)) == 4


def test_loads_by_path_too(sbm_standard):
    std = sbm_standard(STANDARDS / "branch.sbm")
    assert std.id == "bank.branch"


def test_shape(branch):
    m = branch.model
    scored = [i for i in m.items if i.scored]
    assert len(scored) >= 30
    assert_spec_coefficients(branch, "queue_time")
    # the queue comes first (`before greeting`); the base's premises keep their place
    # and gain the bank's own item (`in premises`)
    assert [s.name for s in m.sections] == [
        "waiting",
        "greeting",
        "needs",
        "presentation",
        "objections",
        "closing",
        "premises",
        "security",
    ]
    premises = next(s for s in m.sections if s.name == "premises")
    assert premises.items == ("clean", "navigation", "comfort", "info_stand", "self_service")
    tags = Counter(t for i in m.items for t in i.tags)
    assert {"compliance", "professionalism", "client_orientation", "premises", "queue"} <= set(tags)
    critical = {i.name for i in m.items if i.critical}
    assert {
        "secrecy",
        "documents_hidden",
        "pd_consent",
        "loan_insurance_voluntary",
        "dep_no_misselling",
    } == critical
    assert m.targets["visit"] == 0.85
    assert "contacts" not in {i.name for i in m.items}  # dropped from the base


def test_every_question_is_russian(branch):
    for item in branch.model.items:
        assert any("а" <= ch <= "я" for ch in item.question.lower()), item.name


@pytest.mark.parametrize("scenario", ["вклад", "кредит", "карта"])
def test_a_flawless_visit_scores_one_in_each_scenario(branch, scenario):
    result = branch.score(flawless(scenario))
    assert result.ok, result
    assert result.coefficients["visit"] == pytest.approx(1.0)
    assert result.coefficients["queue_time"] == pytest.approx(4.5)
    assert not result.warnings
    product_items = {"вклад": "dep_rate", "кредит": "loan_psk", "карта": "card_fees"}
    for other, item in product_items.items():
        if other != scenario:
            assert result.items[item] is None


def test_answers_to_another_scenario_warn_not_reject(branch):
    record = flawless("карта")
    record["answers"]["dep_rate"] = "yes"
    result = branch.score(record)
    assert result.ok
    assert [w.item for w in result.warnings] == ["dep_rate"]
    assert result.items["dep_rate"] is None


def test_a_breach_of_secrecy_zeroes_visit_and_specialist(branch):
    record = flawless()
    record["answers"]["secrecy"] = "нет"
    result = branch.score(record)
    assert result.ok
    assert result.critical == ("secrecy",)
    assert result.coefficients["visit"] == 0
    assert result.coefficients["specialist"] == 0
    assert result.coefficients["security_score"] == 0
    assert result.coefficients["point"] == pytest.approx(1.0)  # the branch is not to blame


def test_secrecy_cannot_be_na(branch):
    record = flawless()
    record["answers"]["secrecy"] = "н/п"
    assert [(e.item, e.code) for e in rejected(branch, record)] == [("secrecy", "na_not_allowed")]


def test_queue_time_prefers_the_ticket_over_the_stopwatch(branch):
    record = flawless()
    record["ticket_issued"], record["called"] = "2026-03-14T10:00:00", "2026-03-14T10:16:00"
    record["answers"]["wait_time"] = 8  # the shopper's stopwatch says 8
    # 16 min by the ticket: the apology item applies and is missing
    assert [(e.item, e.code) for e in rejected(branch, record)] == [("wait_apology", "missing")]
    record["answers"]["wait_apology"] = "да"
    result = branch.score(record)
    assert result.ok
    assert result.coefficients["queue_time"] == 16
    assert result.items["wait_time"] == 0
    assert result.items["wait_apology"] == 1


def test_without_timestamps_the_stopwatch_counts(branch):
    record = flawless()
    del record["ticket_issued"], record["called"]
    record["answers"]["wait_time"] = 13
    record["answers"]["wait_apology"] = "нет"
    result = branch.score(record)
    assert result.ok
    assert result.coefficients["queue_time"] == 13
    assert result.items["wait_time"] == 0.5
    assert result.items["wait_apology"] == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("ticket_issued", "14.03.2026 10:00", "bad_field"),
        ("ticket_issued", "2026-03-14T25:00", "bad_field"),
        ("called", "2026-03-14", "timestamp_order"),  # a date alone is its midnight
        ("called", "2026-03-14T09:59:00", "timestamp_order"),
        ("called", "2026-03-15T10:04:00", "implausible_wait"),
        ("called", "2026-03-14T10:04:00+03:00", "bad_timestamp"),
    ],
)
def test_bad_timestamps_reject_the_visit(branch, field, value, code):
    record = flawless()
    record[field] = value
    errors = [e for e in rejected(branch, record) if e.item in {"ticket_issued", "called"}]
    assert [e.code for e in errors] == [code]


@pytest.mark.parametrize("missing", [None, "", "н/п"])
def test_a_missing_timestamp_is_na_not_an_error(branch, missing):
    record = flawless()
    record["called"] = missing
    result = branch.score(record)
    assert result.ok
    assert result.coefficients["queue_time"] == 4  # the stopwatch


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        ("депозит", "bad_field"),
        ("вклады", "bad_field"),
        (None, "missing_field"),
    ],
)
def test_an_unknown_scenario_rejects_the_visit(branch, scenario, code):
    record = flawless()
    record["scenario"] = scenario
    assert code in [e.code for e in rejected(branch, record)]


def test_a_misspelt_scenario_gets_a_did_you_mean(branch):
    record = flawless()
    record["scenario"] = "вклаd"
    (error,) = [e for e in rejected(branch, record) if e.item == "scenario"]
    assert error.code == "bad_field" and "did you mean `вклад`?" in error.message


def test_the_scenario_is_read_as_declared(branch):
    record = flawless()
    record["scenario"] = " Вклад "
    assert branch.score(record).ok


def test_a_derived_standard_inherits_everything(sbm_standard, tmp_path):
    text = """
    standard mybank.branch "Отделение «Мой банк»" extends bank.branch {
        version "2026.2"
        item greet_first "Поприветствовал клиента стоя, в течение 15 секунд"
            answer yes_no weight 3 tags compliance
        target visit 0.9
    }
    """
    (tmp_path / "mine.sbm").write_text(text, encoding="utf-8")
    std = sbm_standard(tmp_path / "mine.sbm")
    assert std.model.industry == "bank"
    assert std.model.item("greet_first").section == "greeting"
    assert std.model.item("greet_first").weight == 3
    result = std.score(flawless())
    assert result.ok
    assert result.coefficients["visit"] == pytest.approx(1.0)
    # the datetime fields and the queue check come with the base ...
    record = flawless()
    record["called"] = "14.03.2026 10:04"
    assert [e.code for e in rejected(std, record)] == ["bad_field"]
    record["called"] = "2026-03-14T09:00:00"
    assert [e.code for e in rejected(std, record)] == ["timestamp_order"]
    # ... and so do the scenarios; a derived standard may declare the field anew
    record = flawless()
    record["scenario"] = "ипотека"
    assert [e.code for e in rejected(std, record)] == ["bad_field"]
    (tmp_path / "mine.sbm").write_text(
        text.replace("target visit 0.9", "target visit 0.9\n        field scenario"),
        encoding="utf-8",
    )
    result = sbm_standard(tmp_path / "mine.sbm").score(record)
    assert result.ok
    assert result.items["dep_rate"] is None
    assert [w.item for w in result.warnings][:1] == ["dep_rate"]


def test_other_bank_standards_keep_their_scenarios(sbm_score):
    """The engine's conformance standard (industry "bank") names only "deposit"; its
    "loan" visits must still be scored with the bank pack installed."""
    conformance = Path(__file__).resolve().parents[3] / "tests" / "conformance"
    if not (conformance / "demo_branch.sbm").is_file():
        pytest.skip("not in the engine's source tree")
    result = sbm_score(
        conformance / "demo_branch.sbm",
        {
            "visit_id": "v02",
            "scenario": "loan",
            "answers": {
                "greeted": "yes",
                "smile": "no",
                "wait": 7,
                "questions": 3,
                "card": "yes",
                "secrecy": "yes",
                "clean": 4,
                "overall": 8,
            },
        },
    )
    assert result.ok, result


def test_the_entry_point_names_the_plugin_module():
    meta = check_pack_metadata(PACK, "bank", "sbm_bank.plugin")
    assert meta["project"]["name"] == "sbm-bank"
    assert "sbm-engine>=0.1" in meta["project"]["dependencies"]
    assert (PACK / "src" / "sbm_bank" / "standards" / "branch.sbm").is_file()


def test_the_pack_is_listed():
    row = plugin_row("bank")
    assert row["standards"] == ["bank.branch"]
    assert row["functions"] == ["queue_minutes"]
