"""`queue_minutes`: scalar and batch forms agree, N/A stays N/A, bad values never raise."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sbm_bank import plugin, queueing
from sbm_bank.queueing import (
    MAX_MINUTES,
    parse_timestamp,
    queue_minutes,
    queue_minutes_batch,
    timestamp_pairs,
    validators_for,
)

from sbm_engine.testing import assert_batch_agrees, assert_forms_agree

np = pytest.importorskip("numpy")

# (issued, called, expected minutes or None for N/A)
CASES = [
    ("2026-03-14T10:00:00", "2026-03-14T10:06:00", 6.0),
    ("2026-03-14T10:00:00", "2026-03-14T10:01:30", 1.5),
    ("2026-03-14 10:00", "2026-03-14 10:00", 0.0),
    ("2026-03-14T10:00:00.250000", "2026-03-14T10:00:01", 0.75 / 60),
    ("2026-03-14T10:00:00+03:00", "2026-03-14T07:20:00+00:00", 20.0),
    ("2026-03-14T23:55:00", "2026-03-15T00:10:00", 15.0),
    (" 2026-03-14T10:00:00 ", "2026-03-14T10:12:00", 12.0),
    ("2026-03-14T08:00:00", "2026-03-14T20:00:00", float(MAX_MINUTES)),
    # N/A: missing, blank, N/A tokens
    (None, "2026-03-14T10:06:00", None),
    ("2026-03-14T10:00:00", None, None),
    ("", "2026-03-14T10:06:00", None),
    ("н/п", "2026-03-14T10:06:00", None),
    ("2026-03-14T10:00:00", "N/A", None),
    # values the validator rejects: N/A here, never an exception
    ("14.03.2026 10:00", "2026-03-14T10:06:00", None),
    ("2026-03-14", "2026-03-14T10:06:00", None),
    ("2026-03-14T10:06:00", "2026-03-14T10:00:00", None),
    ("2026-03-14T10:00:00+03:00", "2026-03-14T10:06:00", None),
    ("2026-03-14T08:00:00", "2026-03-14T20:00:01", None),
    ("вчера", "сегодня", None),
]


@pytest.mark.parametrize(("issued", "called", "expected"), CASES)
def test_scalar(issued, called, expected):
    got = queue_minutes(issued, called)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_batch_agrees_with_scalar_on_object_arrays():
    # exactly: both divide integer microseconds once
    issued, called, _ = zip(*CASES, strict=True)
    out = assert_forms_agree(queue_minutes, queue_minutes_batch, issued, called, call_with_na=True)
    assert out.dtype == np.float64


def test_batch_takes_datetime64_with_nat():
    issued = np.array(["2026-03-14T10:00:00", "NaT", "2026-03-14T10:00:00"], dtype="datetime64[s]")
    called = np.array(["2026-03-14T10:07:30", "2026-03-14T10:00:00", "NaT"], dtype="datetime64[ms]")
    out = queue_minutes_batch(issued, called)
    assert out[0] == 7.5
    assert math.isnan(out[1]) and math.isnan(out[2])
    # the scalar form takes numpy scalars as well
    assert queue_minutes(issued[0], called[0]) == 7.5
    assert queue_minutes(issued[1], called[0]) is None


def test_batch_of_nan_floats_is_all_na():
    out = queue_minutes_batch(np.array([np.nan, np.nan]), np.array([np.nan, np.nan]))
    assert np.isnan(out).all()


def test_batch_mixes_texts_and_nan():
    issued = np.array(["2026-03-14T10:00:00", np.nan], dtype=object)
    called = np.array(["2026-03-14T10:03:00", "2026-03-14T10:03:00"], dtype=object)
    out = queue_minutes_batch(issued, called)
    assert out[0] == 3 and math.isnan(out[1])


def test_scalar_takes_datetime_objects():
    a = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    b = dt.datetime(2026, 3, 14, 7, 5, tzinfo=dt.UTC)
    assert queue_minutes(a, b) == 5
    assert queue_minutes(dt.datetime(2026, 3, 14, 10), dt.datetime(2026, 3, 14, 10, 2)) == 2


def test_parse_timestamp():
    assert parse_timestamp("2026-03-14T10:00:00+03:00") == dt.datetime(2026, 3, 14, 7, 0)
    assert parse_timestamp("n/a") is None
    with pytest.raises(queueing.TimestampError, match="without a time of day"):
        parse_timestamp("2026-03-14")
    with pytest.raises(queueing.TimestampError, match="not an ISO 8601"):
        parse_timestamp("10:00")
    with pytest.raises(queueing.TimestampError):
        parse_timestamp(dt.date(2026, 3, 14))
    with pytest.raises(queueing.TimestampError):
        parse_timestamp(42)


def test_the_spec(only_this_pack):
    from sbm_engine.plugins import function_registry

    spec = function_registry().get("queue_minutes")
    assert spec is not None
    assert spec.params == ("str", "str") and spec.returns == "num"
    assert spec.batch is queue_minutes_batch and spec.scalar is queue_minutes
    assert spec.plugin == "bank"
    assert not spec.na_aware


#: `bank.branch` as it was when it kept the queue timestamps as text: `queue_minutes`.
TEXT_FIELDS = """
standard t.queue "Очередь" {
    industry "bank"
    field ticket_issued
    field called
    item wait "Ожидание, мин" answer number 0..240 optional
    coefficient queue_time = coalesce(queue_minutes(visit.ticket_issued, visit.called), 4)
}
"""


def test_the_batch_evaluator_uses_the_batch_form(sbm_batch_spy, sbm_standard):
    from .test_bank_branch import flawless

    calls = sbm_batch_spy(bank=plugin)
    records = []
    for k, (issued, called) in enumerate(
        [
            ("2026-03-14T10:00:00", "2026-03-14T10:12:00"),
            (None, None),
            ("2026-03-14T10:00:00+05:00", "2026-03-14 05:03:00Z"),
        ]
    ):
        r = flawless()
        r["visit_id"] = f"b{k}"
        r["ticket_issued"], r["called"] = issued, called
        if k == 0:
            r["answers"]["wait_apology"] = "yes"
        records.append(r)
    for r in records:
        r["answers"] = {}
    outcomes = assert_batch_agrees(sbm_standard(text=TEXT_FIELDS), records)
    assert calls["queue_minutes"] and set(calls["queue_minutes"]) == {len(records)}
    assert [o.coefficients["queue_time"] for o in outcomes] == [12, 4, 3]


# -- validators ------------------------------------------------------------------------------


def test_validators_follow_the_standard(branch, sbm_standard):
    from sbm_engine.timestamps import datetime_pairs

    # `bank.branch` subtracts two datetime fields; its scenario is a `one of` field
    assert timestamp_pairs(branch.model) == ()
    assert datetime_pairs(branch.model)[1] == {("ticket_issued", "called")}
    assert len(validators_for(branch.model)) == 1
    assert timestamp_pairs(sbm_standard(text=TEXT_FIELDS).model) == (("ticket_issued", "called"),)
    plain = sbm_standard(
        text="""
    standard t.plain "Без очереди" {
        industry "bank"
        item ok "Да?" answer { yes = 1, no = 0 }
        coefficient c = ok
        example "x" { answers { ok = yes } expect c == 1 }
    }
    """
    )
    assert validators_for(plain.model) == []
    # a bank standard of another author: its scenarios are its own business
    other = sbm_standard(
        text="""
    standard acme.branch "Другой банк" {
        industry "bank"
        item card "Предложил карту" answer { yes = 1, no = 0 } when visit.scenario == "deposit"
        coefficient c = card
        example "x" { visit { scenario = "deposit" } answers { card = yes } expect c == 1 }
    }
    """
    )
    assert validators_for(other.model) == []


def test_validator_messages_name_the_field_and_the_format(branch, sbm_standard):
    (text_fields,) = validators_for(sbm_standard(text=TEXT_FIELDS).model)
    record = {"ticket_issued": "14.03.2026 10:05", "called": "2026-03-14T10:15:00"}
    errors = text_fields(record)
    assert [(e.item, e.code) for e in errors] == [("ticket_issued", "bad_timestamp")]
    assert "14.03.2026 10:05" in errors[0].message and "ISO 8601" in errors[0].message
    (validate,) = validators_for(branch.model)
    assert validate(record) == []  # a datetime field: the engine rejects it (`bad_field`)
    errors = validate(
        {"ticket_issued": "2026-03-14T10:05:00+03:00", "called": "2026-03-14T10:15:00"}
    )
    assert [(e.item, e.code) for e in errors] == [("called", "bad_timestamp")]
    assert "UTC offset" in errors[0].message
    errors = validate({"ticket_issued": "2026-03-14T10:05:00", "called": "2026-03-14T10:00:00"})
    assert [(e.item, e.code) for e in errors] == [("called", "timestamp_order")]
    errors = validate({"ticket_issued": "2026-03-13T10:05:00", "called": "2026-03-14T10:00:00"})
    assert [(e.item, e.code) for e in errors] == [("called", "implausible_wait")]
    assert validate({"ticket_issued": "2026-03-14T10:05:00"}) == []
    assert validate({}) == []


def test_the_scenario_is_one_of_the_standards(branch):
    from sbm_engine.testing import rejected

    from .test_bank_branch import flawless

    record = flawless()
    record["scenario"] = "кредиты"
    (err,) = rejected(branch, record)
    assert (err.item, err.code) == ("scenario", "bad_field")
    assert "did you mean `кредит`" in err.message
    record["scenario"] = "  "
    (err,) = rejected(branch, record)
    assert (err.item, err.code) == ("scenario", "missing_field")


THRESHOLD = """
standard acme.queue "Очередь" {
    industry "bank"
    field ticket_issued datetime
    field called datetime
    field left datetime
    item ok "Да?" answer { yes = 1, no = 0 }
    coefficient fast = if visit.called - visit.ticket_issued <= 5 then 1 else 0
    coefficient stayed = if visit.left > visit.called then 1 else 0
}
"""


def test_minutes_compared_with_a_threshold_are_a_duration_with_its_order(sbm_standard):
    from sbm_engine.testing import assert_batch_agrees
    from sbm_engine.timestamps import datetime_pairs

    std = sbm_standard(text=THRESHOLD)
    pairs, durations = datetime_pairs(std.model)
    assert set(pairs) == {("ticket_issued", "called"), ("called", "left")}
    assert durations == {("ticket_issued", "called")}  # `left > called` only says which came first

    def visit(vid, **times):
        return {"visit_id": vid, "answers": {"ok": "yes"}, **times}

    out = assert_batch_agrees(
        std,
        [
            visit("before", ticket_issued="2026-03-14T10:05:00", called="2026-03-14T10:00:00"),
            visit("ok", ticket_issued="2026-03-14T10:00:00", called="2026-03-14T10:03:00"),
            # only compared: an order either way is no error, mixed offsets are
            visit(
                "left early",
                ticket_issued="2026-03-14T10:00:00",
                called="2026-03-14T10:03:00",
                left="2026-03-14T10:01:00",
            ),
            visit(
                "mixed",
                ticket_issued="2026-03-14T10:00:00",
                called="2026-03-14T10:03:00",
                left="2026-03-14T10:30:00+03:00",
            ),
        ],
    )
    assert [(e.item, e.code) for e in out[0].errors] == [("called", "timestamp_order")]
    assert out[1].ok and out[1].coefficients["fast"] == 1
    assert out[2].ok and out[2].coefficients["stayed"] == 0
    assert [(e.item, e.code) for e in out[3].errors] == [("left", "bad_timestamp")]
