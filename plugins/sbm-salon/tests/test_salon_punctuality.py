"""`appointment_delay`: scalar and batch forms agree, N/A stays N/A, bad values never raise."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sbm_salon import plugin, punctuality
from sbm_salon.punctuality import (
    MAX_HOURS,
    appointment_delay,
    appointment_delay_batch,
    parse_timestamp,
    timestamp_pairs,
    validators_for,
)

from sbm_engine.testing import assert_batch_agrees, assert_forms_agree

np = pytest.importorskip("numpy")

# (appointment, started, expected minutes late or None for N/A)
CASES = [
    ("2026-04-10T12:00:00", "2026-04-10T12:06:00", 6.0),
    ("2026-04-10T12:00:00", "2026-04-10T12:01:30", 1.5),
    ("2026-04-10T12:00:00", "2026-04-10T11:50:00", 0.0),  # early: not late
    ("2026-04-10 12:00", "2026-04-10 12:00", 0.0),
    ("2026-04-10T12:00:00+03:00", "2026-04-10T09:25:00+00:00", 25.0),
    ("2026-04-10T23:50:00", "2026-04-11T00:05:00", 15.0),
    ("2026-04-10T08:00:00", "2026-04-10T20:00:00", float(MAX_HOURS * 60)),
    ("2026-04-10T20:00:00", "2026-04-10T08:00:00", 0.0),
    (None, "2026-04-10T12:06:00", None),
    ("2026-04-10T12:00:00", None, None),
    ("", "2026-04-10T12:06:00", None),
    ("н/п", "2026-04-10T12:06:00", None),
    ("2026-04-10T12:00:00", "NA", None),
    # values the validator rejects: N/A here, never an exception
    ("10.04.2026 12:00", "2026-04-10T12:06:00", None),
    ("2026-04-10", "2026-04-10T12:06:00", None),
    ("2026-04-10T12:00:00+03:00", "2026-04-10T12:06:00", None),
    ("2026-04-10T08:00:00", "2026-04-10T20:00:01", None),
    ("2026-04-11T08:00:00", "2026-04-10T19:59:59", None),
    ("в полдень", "в час", None),
]


@pytest.mark.parametrize(("appointment", "started", "expected"), CASES)
def test_scalar(appointment, started, expected):
    got = appointment_delay(appointment, started)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_batch_agrees_with_scalar_on_object_arrays():
    appointments, starts, _ = zip(*CASES, strict=True)
    out = assert_forms_agree(
        appointment_delay, appointment_delay_batch, appointments, starts, call_with_na=True
    )
    assert out.dtype == np.float64


def test_batch_takes_datetime64_with_nat():
    a = np.array(["2026-04-10T12:00", "NaT", "2026-04-10T12:00"], dtype="datetime64[m]")
    s = np.array(
        ["2026-04-10T12:07:30", "2026-04-10T12:00:00", "2026-04-10T11:00"], dtype="datetime64[s]"
    )
    out = appointment_delay_batch(a, s)
    assert out[0] == 7.5 and math.isnan(out[1]) and out[2] == 0
    assert appointment_delay(a[0], s[0]) == 7.5
    assert appointment_delay(a[1], s[0]) is None


def test_batch_of_nan_floats_is_all_na():
    assert np.isnan(appointment_delay_batch(np.full(3, np.nan), np.full(3, np.nan))).all()


def test_scalar_takes_datetime_objects():
    msk = dt.timezone(dt.timedelta(hours=3))
    assert (
        appointment_delay(
            dt.datetime(2026, 4, 10, 12, tzinfo=msk), dt.datetime(2026, 4, 10, 9, 10, tzinfo=dt.UTC)
        )
        == 10
    )


def test_parse_timestamp():
    assert parse_timestamp("2026-04-10T12:00:00+03:00") == dt.datetime(2026, 4, 10, 9, 0)
    assert parse_timestamp(" n/a ") is None
    with pytest.raises(punctuality.TimestampError, match="without a time of day"):
        parse_timestamp("2026-04-10")
    with pytest.raises(punctuality.TimestampError, match="not an ISO 8601"):
        parse_timestamp("12:00")


def test_the_spec(only_this_pack):
    from sbm_engine.plugins import function_registry

    spec = function_registry().get("appointment_delay")
    assert spec.params == ("str", "str") and spec.returns == "num"
    assert spec.scalar is appointment_delay and spec.batch is appointment_delay_batch
    assert spec.plugin == "salon" and not spec.na_aware


def test_the_batch_evaluator_uses_the_batch_form(sbm_batch_spy, sbm_standard):
    from .test_salon_visit import flawless

    calls = sbm_batch_spy(salon=plugin)
    records = []
    for k, (a, s) in enumerate(
        [
            ("2026-04-10T12:00:00", "2026-04-10T12:18:00"),
            (None, None),
            ("2026-04-10T12:00:00+04:00", "2026-04-10 08:03:00Z"),
        ]
    ):
        r = flawless()
        r["visit_id"] = f"b{k}"
        r["appointment_at"], r["started_at"] = a, s
        if k == 0:
            r["answers"]["delay_warned"] = "yes"
        records.append(r)
    outcomes = assert_batch_agrees(sbm_standard("salon.visit"), records)
    assert calls["appointment_delay"] and set(calls["appointment_delay"]) == {len(records)}
    assert [o.coefficients["delay_minutes"] for o in outcomes] == [18, 2, 3]


def test_validators_follow_the_standard(salon, sbm_standard):
    assert timestamp_pairs(salon.model) == (("appointment_at", "started_at"),)
    # the scenario and the channel are declared `required one of`: the engine checks them
    assert len(validators_for(salon.model)) == 1
    fields = salon.model.fields
    assert set(fields["scenario"].values or ()) == {"окрашивание", "маникюр", "стрижка"}
    assert fields["scenario"].required and fields["channel"].required
    plain = sbm_standard(
        text="""
    standard t.plain "Без записи" {
        industry "beauty"
        item ok "Да?" answer { yes = 1, no = 0 }
        coefficient c = ok
        example "x" { answers { ok = yes } expect c == 1 }
    }
    """
    )
    assert validators_for(plain.model) == []
    other = sbm_standard(
        text="""
    standard acme.salon "Другой салон" {
        industry "beauty"
        item gloves "Перчатки" answer { yes = 1, no = 0 } when visit.scenario == "маникюр"
        coefficient c = gloves
        example "x" { visit { scenario = "маникюр" } answers { gloves = yes } expect c == 1 }
    }
    """
    )
    assert validators_for(other.model) == []


def test_validator_messages(salon):
    (times,) = validators_for(salon.model)
    (err,) = times({"appointment_at": "10.04.2026 12:00", "started_at": "2026-04-10T12:00:00"})
    assert (err.item, err.code) == ("appointment_at", "bad_timestamp")
    assert "10.04.2026 12:00" in err.message and "ISO 8601" in err.message
    (err,) = times({"appointment_at": "2026-04-10T12:00:00Z", "started_at": "2026-04-10T12:00"})
    assert (err.item, err.code) == ("started_at", "bad_timestamp") and "UTC offset" in err.message
    (err,) = times({"appointment_at": "2026-04-10T12:00", "started_at": "2026-04-12T12:00"})
    assert (err.item, err.code) == ("started_at", "implausible_delay")
    assert times({"appointment_at": "2026-04-10T12:00"}) == []


def test_the_scenario_suggests_the_closest(salon):
    from sbm_engine.testing import rejected

    from .test_salon_visit import flawless

    record = flawless()
    record["scenario"] = "маникюры"
    (err,) = [e for e in rejected(salon, record) if e.item == "scenario"]
    assert err.code == "bad_field"
    assert "did you mean `маникюр`" in err.message
