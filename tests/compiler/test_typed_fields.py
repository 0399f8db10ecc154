"""Typed visit fields (`field NAME TYPE [required]`) and date arithmetic: read alike by
both backends, from every input, and checked where the standard is compiled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine import timestamps
from sbm_engine.api import check
from sbm_engine.field_types import DATETIME_YEARS, FieldValueError, read_value
from sbm_engine.formatter import format_source
from sbm_engine.model import FieldModel
from sbm_engine.testing import assert_batch_agrees

SOURCE = """standard t.typed {
    field date date required
    field submitted "Sent" datetime
    field started datetime
    field wait "Queue" duration
    field guests number
    field scenario one of { call, visit }
    field note text

    item queue "Queue, minutes" answer number 0..60 value = visit.wait
    coefficient delay = minutes_between(visit.started, visit.submitted)
    coefficient gap = visit.submitted - visit.started
    coefficient late = if visit.submitted > visit.started then 1 else 0
    coefficient weekday = weekday(visit.date)
    coefficient weekday_sent = weekday(visit.submitted)
    coefficient spring = if visit.date >= "2026-03-01" and visit.date < "2026-06-01" then 1 else 0
    coefficient after_ten = if visit.started >= "2026-03-02T10:00:00Z" then 1 else 0
    coefficient hour = hour(visit.started)
    coefficient month = month(visit.date)
    coefficient year = year(visit.submitted)
    coefficient days = days_between("2026-01-01", visit.date)
    coefficient days_sub = visit.date - visit.date
    coefficient twice = visit.guests * 2
}
"""


@pytest.fixture(scope="module")
def std() -> sbm_engine.CompiledStandard:
    return sbm_engine.loads(SOURCE)


def _visit(vid: str = "1", **fields: Any) -> dict[str, Any]:
    return {"visit_id": vid, "answers": {}, **fields}


def _scored(std: sbm_engine.CompiledStandard, **fields: Any) -> Any:
    (out,) = assert_batch_agrees(std, [_visit(date="2026-03-02", **fields)])
    assert out.ok, out.errors
    return out


def test_date_arithmetic_and_functions(std: sbm_engine.CompiledStandard) -> None:
    out = _scored(
        std,
        submitted="2026-03-02T12:00:00+03:00",
        started="2026-03-02T08:30:00Z",
        wait="PT7M30S",
        guests="3",
    )
    c = out.coefficients
    assert c["delay"] == 30.0 and c["gap"] == 30.0  # 09:00 UTC − 08:30 UTC
    assert c["late"] == 1.0
    assert c["weekday"] == 1.0  # 2026-03-02 is a Monday
    assert c["weekday_sent"] == 1.0
    assert c["spring"] == 1.0
    assert c["after_ten"] == 0.0
    assert c["hour"] == 8.0
    assert c["month"] == 3.0 and c["year"] == 2026.0
    assert c["days"] == 60.0 and c["days_sub"] == 0.0
    assert c["twice"] == 6.0
    assert out.items["queue"] == 7.5 / 60


def test_minutes_are_exact_as_the_timestamps_module_computes_them(
    std: sbm_engine.CompiledStandard,
) -> None:
    a, b = "2026-03-02T08:30:00.000001", "2026-03-02T09:47:13.123457"
    out = _scored(std, started=a, submitted=b)
    assert out.coefficients["delay"] == timestamps.minutes_between(a, b)
    assert out.coefficients["gap"] == timestamps.minutes_between(a, b)


def test_an_offset_and_a_naive_value_give_na(std: sbm_engine.CompiledStandard) -> None:
    out = _scored(std, started="2026-03-02T08:30:00Z", submitted="2026-03-02T12:00:00")
    assert out.coefficients["delay"] is None
    assert out.coefficients["gap"] is None
    assert out.coefficients["late"] == 0.0  # an N/A comparison does not hold


def test_na_in_na_out(std: sbm_engine.CompiledStandard) -> None:
    out = _scored(std, submitted="n/a", started="", wait="na")
    for name in ("delay", "gap", "weekday_sent", "hour", "year", "twice"):
        assert out.coefficients[name] is None, name
    assert out.items["queue"] is None


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("2026-03-02", 0),
        (" 2026-03-03 ", 1),
        ("2026-03-04T00:00:00", 2),
        (dt.date(2026, 3, 5), 3),
        (dt.datetime(2026, 3, 6), 4),
    ],
)
def test_a_date_is_iso_text_a_date_or_a_datetime_at_midnight(value: Any, days: int) -> None:
    field = FieldModel("d", None, None, type="date")
    assert read_value(field, value) - read_value(field, "2026-03-02") == days


@pytest.mark.parametrize(
    "value", ["2026-13-01", "02.03.2026", "2026-03-02T10:00:00", "2026-03-02T00:00:00+03:00", 5]
)
def test_a_date_with_a_time_or_not_iso_is_malformed(value: Any) -> None:
    with pytest.raises(FieldValueError):
        read_value(FieldModel("d", None, None, type="date"), value)


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (90, 90.0),
        ("12,5", 12.5),
        ("PT1H30M", 90.0),
        ("pt45s", 0.75),
        ("P1DT1H", 1500.0),
        ("1:30", 90.0),
        ("0:01:30", 1.5),
        (dt.timedelta(minutes=2, seconds=6), 2.1),
        (dt.timedelta(days=1, hours=6), 1800.0),
        (-dt.timedelta(minutes=10), -10.0),
        (-10, -10.0),
        ("-0:10", -10.0),
        ("-0:00:30", -0.5),
        ("-PT10M", -10.0),
        ("-P1DT1H", -1500.0),
    ],
)
def test_a_duration_is_minutes(value: Any, minutes: float) -> None:
    assert read_value(FieldModel("w", None, None, type="duration"), value) == minutes


@pytest.mark.parametrize(
    "value", ["PT", "P", "-P", "1:75", "90 min", "T1H", "PT-10M", "--0:10", "- 0:10"]
)
def test_a_malformed_duration(value: str) -> None:
    with pytest.raises(FieldValueError):
        read_value(FieldModel("w", None, None, type="duration"), value)


def test_the_calendar_of_a_datetime_with_an_offset_is_utc(std: sbm_engine.CompiledStandard) -> None:
    """As documented: the value is kept in UTC, so its year, weekday and hour are UTC's."""
    out = _scored(std, submitted="2027-01-01T01:00:00+03:00", started="2027-01-01T01:00:00+03:00")
    assert out.coefficients["year"] == 2026  # 2026-12-31T22:00Z
    assert out.coefficients["weekday_sent"] == 4  # a Thursday
    assert out.coefficients["hour"] == 22


def test_a_timedelta_as_the_readers_write_it_reads_back_exactly() -> None:
    from sbm_engine.io.records import iso_duration, jsonable

    field = FieldModel("w", None, None, type="duration")
    for delta in (
        dt.timedelta(days=1, hours=6),
        -dt.timedelta(minutes=10),
        dt.timedelta(minutes=1, seconds=30, microseconds=500_000),
        dt.timedelta(0),
        dt.timedelta(hours=-30, microseconds=3),
    ):
        assert jsonable(delta) == iso_duration(delta)
        assert read_value(field, jsonable(delta)) == read_value(field, delta)
    assert iso_duration(dt.timedelta(days=1, hours=6)) == "P1DT6H"
    assert iso_duration(-dt.timedelta(minutes=10)) == "-PT10M"


@pytest.mark.parametrize("value", ["2026-03-14", " 2026-03-14 ", dt.date(2026, 3, 14)])
def test_a_date_alone_in_a_datetime_field_is_its_midnight(value: Any) -> None:
    field = FieldModel("s", None, None, type="datetime")
    assert read_value(field, value) == read_value(field, "2026-03-14T00:00:00")


def test_a_date_alone_that_is_no_date_is_malformed_in_a_datetime_field() -> None:
    with pytest.raises(FieldValueError):
        read_value(FieldModel("s", None, None, type="datetime"), "2026-02-30")


def test_datetimes_outside_the_years_are_malformed() -> None:
    field = FieldModel("s", None, None, type="datetime")
    low, high = DATETIME_YEARS
    assert read_value(field, f"{low}-01-01T00:00:00") is not None
    assert read_value(field, f"{high}-12-31T23:59:59.999999+00:00") is not None
    for year in (low - 1, high + 1):
        with pytest.raises(FieldValueError):
            read_value(field, f"{year}-06-01T00:00:00")


def test_weekday_over_a_week_and_before_1970() -> None:
    std = sbm_engine.loads(
        "standard t.w {\n    field date date\n    field at datetime\n"
        "    coefficient d = weekday(visit.date)\n    coefficient t = weekday(visit.at)\n"
        "    coefficient h = hour(visit.at)\n    coefficient y = year(visit.at)\n}\n"
    )
    days = [dt.date(1969, 12, 25) + dt.timedelta(days=k) for k in range(10)]
    records = [
        _visit(str(k), date=d.isoformat(), at=f"{d.isoformat()}T23:59:59.5")
        for k, d in enumerate(days)
    ]
    outs = assert_batch_agrees(std, records)
    for d, out in zip(days, outs, strict=True):
        assert out.coefficients["d"] == d.isoweekday() == out.coefficients["t"]
        assert out.coefficients["h"] == 23 and out.coefficients["y"] == d.year


def test_malformed_values_reject_the_visit_naming_field_value_and_type(
    std: sbm_engine.CompiledStandard,
) -> None:
    (out,) = assert_batch_agrees(
        std,
        [_visit(date="2026-13-02", submitted="14.03.2026 10:00", wait="soon", guests="many")],
    )
    assert [(e.item, e.code) for e in out.errors] == [
        ("date", "bad_field"),
        ("submitted", "bad_field"),
        ("wait", "bad_field"),
        ("guests", "bad_field"),
    ]
    date = out.errors[0].message
    assert "`date`" in date and "'2026-13-02'" in date and "ISO 8601 date" in date
    assert "a number" in out.errors[3].message


def test_a_required_field_without_a_value_rejects_the_visit(
    std: sbm_engine.CompiledStandard,
) -> None:
    outs = assert_batch_agrees(
        std, [{"visit_id": "1", "answers": {}}, _visit("2", date="na"), _visit("3", date="")]
    )
    for out in outs:
        assert [(e.item, e.code) for e in out.errors] == [("date", "missing_field")]
        assert "required" in out.errors[0].message


def test_parquet_dates_and_timestamps(std: sbm_engine.CompiledStandard) -> None:
    pa = pytest.importorskip("pyarrow")
    from sbm_engine.batch.table import score_table_visits

    table = pa.table(
        {
            "visit_id": ["1", "2"],
            "date": pa.array([dt.date(2026, 3, 2), dt.date(2026, 3, 8)], pa.date32()),
            "started": pa.array(
                [dt.datetime(2026, 3, 2, 8, 30), dt.datetime(2026, 3, 8, 23, 0)], pa.timestamp("us")
            ),
            "submitted": pa.array(
                [dt.datetime(2026, 3, 2, 9, 0), dt.datetime(2026, 3, 9, 1, 0)],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    scored, rejected = score_table_visits(std, table)
    assert not rejected
    rows = scored.to_pylist()
    assert [r["coefficients.weekday"] for r in rows] == [1.0, 7.0]
    assert [r["coefficients.hour"] for r in rows] == [8.0, 23.0]
    # one with an offset (tz=UTC), one without: N/A
    assert [r["coefficients.delay"] for r in rows] == [None, None]


def test_built_in_fields_take_a_title_required_one_of_and_date_a_type() -> None:
    std = sbm_engine.loads(
        "standard t.b {\n"
        '    field scenario "Scenario" required one of { call, visit }\n'
        "    field date date\n    field submitted datetime\n"
        "    coefficient phone = if visit.scenario == call then 1 else 0\n"
        "    coefficient due = days_between(visit.date, visit.date)\n}\n"
    )
    outs = assert_batch_agrees(
        std,
        [
            _visit("1", scenario="CALL", date="2026-03-02"),
            _visit("2", scenario="mail"),
            _visit("3"),
        ],
    )
    assert outs[0].ok and outs[0].coefficients["phone"] == 1.0
    assert outs[0].scenario == "CALL"  # results carry the field as the visit gave it
    assert [(e.item, e.code) for e in outs[1].errors] == [("scenario", "bad_field")]
    assert [(e.item, e.code) for e in outs[2].errors] == [("scenario", "missing_field")]


def _report(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "t.sbm"
    path.write_text("standard t.t {\n" + body + "}\n", encoding="utf-8")
    return check(path)


def test_a_literal_that_is_no_date_is_reported_with_its_place(tmp_path: Path) -> None:
    report = _report(
        tmp_path, '    field date date\n    coefficient c = visit.date >= "2026-13-01"\n'
    )
    d = one(report, "E0509")
    assert '"2026-13-01" is not a date' in d.message
    assert (d.span.line, d.span.column) == (3, 35)
    assert d.help is not None and "YYYY-MM-DD" in d.help
    report = _report(
        tmp_path, '    field at datetime\n    coefficient c = visit.at < "2026-03-01"\n'
    )
    assert "E0509" in codes(report)


def test_an_example_value_that_is_no_date_is_reported(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        "    field date date\n    coefficient c = weekday(visit.date)\n"
        '    example "e" {\n        visit { date = "14.03.2026" }\n        expect c == 1\n    }\n',
    )
    assert "E0509" in codes(report)


@pytest.mark.parametrize(
    "formula",
    [
        "visit.date + 1",
        "if visit.date > 3 then 1 else 0",
        "visit.date - visit.at",
        "if visit.at == visit.date then 1 else 0",
        "if visit.date == visit.note then 1 else 0",
        "hour(visit.date)",
        "weekday(1)",
        "days_between(visit.at, visit.at)",
        "visit.date",
        "max(visit.date, 1)",
    ],
)
def test_type_errors_of_dates_are_e0301(tmp_path: Path, formula: str) -> None:
    report = _report(
        tmp_path,
        "    field date date\n    field at datetime\n    field note\n"
        f"    coefficient c = {formula}\n",
    )
    assert set(codes(report)) == {"E0301"}


def test_one_of_needs_a_text_field(tmp_path: Path) -> None:
    report = _report(tmp_path, "    field n number one of { a, b }\n")
    assert "one of" in one(report, "E0104").message


@pytest.mark.parametrize(
    "declaration", ["field scenario number", "field submitted date", "field date datetime"]
)
def test_built_in_fields_that_cannot_take_a_type(tmp_path: Path, declaration: str) -> None:
    report = _report(tmp_path, f"    {declaration}\n")
    assert codes(report) == ["E0510"]


def test_id_cannot_be_declared(tmp_path: Path) -> None:
    assert codes(_report(tmp_path, '    field id "Visit"\n')) == ["E0101"]


def test_the_type_words_stay_names(tmp_path: Path) -> None:
    source = (
        "standard t.names {\n"
        "    scale date { date = 1, datetime = 0 }\n"
        '    item duration "Q" answer date tags date datetime\n'
        "    coefficient datetime = duration\n"
        "    field day date\n"
        "}\n"
    )
    std = sbm_engine.loads(source)
    (out,) = assert_batch_agrees(std, [{"visit_id": "1", "answers": {"duration": "date"}}])
    assert out.coefficients["datetime"] == 1.0
    formatted = format_source(source, "t.sbm")
    assert "    field day date\n" in formatted
    assert format_source(formatted, "t.sbm") == formatted


def test_fmt_writes_type_and_required_in_order() -> None:
    source = 'standard t.f {\n    field   kind  "K"   text required  one of {a,b}\n}\n'
    assert format_source(source, "t.sbm") == (
        'standard t.f {\n    field kind "K" text required one of { a, b }\n}\n'
    )


def test_a_date_minus_a_date_written_out() -> None:
    std = sbm_engine.loads(
        "standard t.m {\n    field day date\n    field at datetime\n"
        '    coefficient d = visit.day - "2026-03-01"\n'
        '    coefficient m = visit.at - "2026-03-01T10:00:00"\n}\n'
    )
    (out,) = assert_batch_agrees(std, [_visit(day="2026-03-11", at="2026-03-01T12:30:00")])
    assert out.coefficients == {"d": 10.0, "m": 150.0}


def test_the_schema_and_the_questionnaire_give_the_types() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from sbm_engine.export import json_schema, questionnaire

    std = sbm_engine.loads(
        "standard t.s {\n    field date date required\n    field at datetime\n"
        "    field n number\n    field scenario one of { a, b }\n}\n"
    )
    schema = json_schema(std.model)
    valid = jsonschema.Draft202012Validator(schema).is_valid
    assert valid({"visit_id": "1", "date": "2026-03-01", "at": None, "n": 4, "scenario": " A"})
    assert not valid({"visit_id": "1"})  # `date` is required
    assert not valid({"visit_id": "1", "date": " "})
    assert not valid({"visit_id": "1", "date": "2026-03-01", "n": [1]})
    assert "date and time" in schema["properties"]["at"]["description"]
    fields = {f["name"]: f for f in questionnaire(std.model)["fields"]}
    assert (fields["date"]["type"], fields["date"]["required"]) == ("date", True)
    assert (fields["n"]["type"], fields["scenario"]["values"]) == ("number", ["a", "b"])


def test_sbm_diff_shows_a_field_whose_type_or_presence_changed() -> None:
    from sbm_engine.compare import diff, render

    old = sbm_engine.loads('standard t.d {\n    version "1"\n    field day\n    field gone\n}\n')
    new = sbm_engine.loads(
        'standard t.d {\n    version "1"\n    field day date required\n    field wait duration\n}\n'
    )
    d = diff(old.model, new.model)
    assert d["fields"]["added"] == ["wait"] and d["fields"]["removed"] == ["gone"]
    (changed,) = d["fields"]["changed"]
    assert changed["changes"] == {
        "required": {"old": False, "new": True},
        "type": {"old": "text", "new": "date"},
    }
    text = render(d)
    assert "~ field day" in text and "    type: text -> date" in text
    assert d["warnings"]  # what visits are rejected changed, the version did not


def test_if_coalesce_and_is_na_take_dates_as_any_value() -> None:
    std = sbm_engine.loads(
        "standard t.any {\n    field a datetime\n    field b datetime\n    field d date\n"
        "    coefficient c = coalesce(visit.a, visit.b) - visit.b\n"
        "    coefficient n = if is_na(visit.d) then 1 else 0\n"
        '    coefficient i = (if visit.d > "2026-01-01" then visit.a else visit.b) - visit.b\n}\n'
    )
    times = {"b": "2026-03-01T10:00:00", "a": "2026-03-01T10:30:00"}
    outs = assert_batch_agrees(std, [_visit("1", **times), _visit("2", d="2026-02-01", **times)])
    assert [o.coefficients for o in outs] == [
        {"c": 30.0, "n": 1.0, "i": 0.0},
        {"c": 30.0, "n": 0.0, "i": 30.0},
    ]


SCHEMA_SOURCE = """standard t.s {
    field n number
    field d date
    field t datetime
    field w duration
    field r required
    field rn number required
    item soap "Soap" answer any of { no_soap = 1, no_towel = 1, "1" = 2 }
    item single "One" answer { "1" = 1, "2" = 0 }
}
"""


def _schema_record(visit: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A visit of `SCHEMA_SOURCE`, valid but for `visit` and `answers`."""
    return {
        "visit_id": "1",
        "r": "x",
        "rn": 1,
        "answers": {"soap": "[]", "single": "1", **answers},
        **visit,
    }


@pytest.mark.parametrize(
    ("visit", "answers", "accepted"),
    [
        ({}, {"soap": "[ ]"}, True),
        ({}, {"soap": ";"}, False),
        ({}, {"soap": "no_soap;"}, False),
        ({}, {"soap": [1]}, True),  # a whole number for the quoted label "1"
        ({}, {"single": 1}, True),
        ({"r": "n/a"}, {}, False),  # N/A in a required field
        ({"rn": " NA "}, {}, False),
        ({"n": "n/a"}, {}, True),
        ({"n": "abc"}, {}, False),
        ({"n": "4,5"}, {}, True),
        ({"d": "14.03.2026"}, {}, False),
        ({"d": ""}, {}, True),
        ({"t": "2026-03-14"}, {}, True),
        ({"t": "10:05"}, {}, False),
        ({"w": "-0:10"}, {}, True),
        ({"w": "-PT10M"}, {}, True),
        ({"w": "PT-10M"}, {}, False),
        ({"w": "P1DT"}, {}, False),
        ({"w": "abc"}, {}, False),
    ],
)
def test_the_schema_accepts_what_the_engine_accepts(
    visit: dict[str, Any], answers: dict[str, Any], accepted: bool
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from sbm_engine.export import json_schema

    std = sbm_engine.loads(SCHEMA_SOURCE)
    record = _schema_record(visit, answers)
    (out,) = assert_batch_agrees(std, [record])
    assert out.ok is accepted, out.errors
    assert jsonschema.Draft202012Validator(json_schema(std.model)).is_valid(record) is accepted


@pytest.mark.parametrize(
    ("visit", "answers"),
    [({"d": "2026-02-30"}, {}), ({}, {"soap": ["no_soap", "NO_SOAP"]})],
)
def test_what_the_schema_cannot_say_is_left_to_the_engine(
    visit: dict[str, Any], answers: dict[str, Any]
) -> None:
    """The documented exceptions (`export.json_schema`, README): the schema passes them."""
    jsonschema = pytest.importorskip("jsonschema")
    from sbm_engine.export import json_schema

    std = sbm_engine.loads(SCHEMA_SOURCE)
    record = _schema_record(visit, answers)
    (out,) = assert_batch_agrees(std, [record])
    assert not out.ok
    assert jsonschema.Draft202012Validator(json_schema(std.model)).is_valid(record)


@pytest.mark.parametrize(
    ("declaration", "token"),
    [
        ('field f date "title"', '"title"'),
        ("field f required date", "date"),
        ("field f one of { a } required", "required"),
    ],
)
def test_field_options_out_of_order_get_the_order_as_a_hint(
    tmp_path: Path, declaration: str, token: str
) -> None:
    report = _report(tmp_path, f"    {declaration}\n")
    d = one(report, "E0001")
    assert f"unexpected `{token}`" in d.message
    assert d.help is not None and "[TYPE] [required] [one of" in d.help
