"""`sbm_engine.timestamps`: parsing, N/A, offsets, scalar/batch agreement, the validator."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine import VisitError
from sbm_engine.timestamps import (
    TimestampError,
    TimestampPair,
    field_calls,
    minutes_between,
    minutes_between_batch,
    parse_timestamp,
    timestamp_validator,
)

np = pytest.importorskip("numpy")

MSK = dt.timezone(dt.timedelta(hours=3))


# -- parse_timestamp ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-14T10:05:00", dt.datetime(2026, 3, 14, 10, 5)),
        ("2026-03-14 10:05", dt.datetime(2026, 3, 14, 10, 5)),
        (" 2026-03-14T10:05 ", dt.datetime(2026, 3, 14, 10, 5)),
        ("2026-03-14T10:05:00.250", dt.datetime(2026, 3, 14, 10, 5, 0, 250_000)),
        ("2026-03-14T10:05:00+03:00", dt.datetime(2026, 3, 14, 7, 5)),  # to naive UTC
        ("2026-03-14T01:00-02:00", dt.datetime(2026, 3, 14, 3, 0)),
        ("2026-03-14T10:05Z", dt.datetime(2026, 3, 14, 10, 5)),
        (dt.datetime(2026, 3, 14, 10, 5, tzinfo=MSK), dt.datetime(2026, 3, 14, 7, 5)),
        (dt.datetime(2026, 3, 14, 10, 5), dt.datetime(2026, 3, 14, 10, 5)),
        (np.datetime64("2026-03-14T10:05:00.5"), dt.datetime(2026, 3, 14, 10, 5, 0, 500_000)),
    ],
)
def test_parse_timestamp(value, expected):
    got = parse_timestamp(value)
    assert got == expected and got.tzinfo is None


NA = [None, "", "   ", "na", "N/A", " н/п ", float("nan"), np.float64("nan"), np.datetime64("NaT")]


@pytest.mark.parametrize("value", NA, ids=repr)
def test_na_values_parse_to_none(value):
    assert parse_timestamp(value) is None


def test_pandas_nat_is_na():
    pd = pytest.importorskip("pandas")
    assert parse_timestamp(pd.NaT) is None
    assert parse_timestamp(pd.Timestamp("2026-03-14 10:05")) == dt.datetime(2026, 3, 14, 10, 5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-03-14", "'2026-03-14' is a date without a time of day; expected an ISO 8601"),
        (dt.date(2026, 3, 14), "'2026-03-14' is a date without a time of day"),
        ("10:05", "'10:05' is not an ISO 8601 date and time"),
        ("14.03.2026 10:05", "'14.03.2026 10:05' is not an ISO 8601 date and time"),
        ("вчера", "is not an ISO 8601"),
        (1710424800, "1710424800 is not an ISO 8601"),
        (True, "True is not an ISO 8601"),
    ],
)
def test_values_that_are_not_date_times_raise(value, message):
    with pytest.raises(TimestampError, match=message):
        parse_timestamp(value)
    assert issubclass(TimestampError, ValueError)


# -- minutes_between ---------------------------------------------------------------------------

CASES = [
    ("2026-03-14T10:00:00", "2026-03-14T10:06:00", 6.0),
    ("2026-03-14T10:00:00", "2026-03-14T10:01:30", 1.5),
    ("2026-03-14T10:06", "2026-03-14T10:00", -6.0),  # negative: the order is the pack's rule
    ("2026-03-14T23:55", "2026-03-15T00:10", 15.0),
    ("2026-03-14T10:00:00.250", "2026-03-14T10:00:01", 0.75 / 60),
    ("2026-03-14T10:00+03:00", "2026-03-14T07:20Z", 20.0),
    ("2026-03-14T10:00+05:00", "2026-03-14T10:00+03:00", 120.0),
    (np.datetime64("2026-03-14T10:00"), "2026-03-14T12:00", 120.0),
    (dt.datetime(2026, 3, 14, 10, tzinfo=MSK), "2026-03-14T10:10+03:00", 10.0),
    # N/A: missing, unreadable, an offset on one side only
    (None, "2026-03-14T10:00", None),
    ("2026-03-14T10:00", "n/a", None),
    (float("nan"), "2026-03-14T10:00", None),
    (np.datetime64("NaT"), "2026-03-14T10:00", None),
    ("2026-03-14", "2026-03-14T10:00", None),
    ("2026-03-14T10:00", "14.03.2026 10:05", None),
    ("2026-03-14T10:00+03:00", "2026-03-14T10:05", None),
    (np.datetime64("2026-03-14T10:00"), "2026-03-14T10:05Z", None),
    (42, "2026-03-14T10:00", None),
]


@pytest.mark.parametrize(("start", "end", "expected"), CASES)
def test_minutes_between(start, end, expected):
    got = minutes_between(start, end)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def _agree(batch, scalar):
    assert batch.dtype == np.float64
    for got, want in zip(batch.tolist(), scalar, strict=True):
        if want is None:
            assert math.isnan(got)
        else:
            assert got == want  # exactly: the same integer microseconds, one division


def test_batch_agrees_with_scalar_on_object_arrays():
    starts = np.array([c[0] for c in CASES], dtype=object)
    ends = np.array([c[1] for c in CASES], dtype=object)
    _agree(minutes_between_batch(starts, ends), [minutes_between(a, b) for a, b, _ in CASES])


def test_batch_takes_datetime64_string_and_float_arrays():
    starts = np.array(["2026-03-14T10:00:00", "NaT", "2026-03-14T10:00"], dtype="datetime64[s]")
    ends = np.array(["2026-03-14T10:07:30", "2026-03-14T10:00", "NaT"], dtype="datetime64[ms]")
    out = minutes_between_batch(starts, ends)
    assert out[0] == 7.5 and np.isnan(out[1:]).all()
    texts = np.array(["2026-03-14T10:00", "2026-03-14T10:00+03:00"])  # a "U" array
    out = minutes_between_batch(texts, np.array(["2026-03-14T10:03", "2026-03-14T07:03Z"]))
    assert out.tolist() == [3.0, 3.0]
    assert np.isnan(minutes_between_batch(np.full(2, np.nan), texts)).all()


def test_batch_keeps_the_shape():
    starts = np.array([["2026-03-14T10:00", None], ["2026-03-14T10:00", "x"]], dtype=object)
    ends = np.full((2, 2), "2026-03-14T10:30", dtype=object)
    out = minutes_between_batch(starts, ends)
    assert out.shape == (2, 2) and out[0, 0] == out[1, 0] == 30
    assert np.isnan(out[0, 1]) and np.isnan(out[1, 1])


moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))
offsets = st.none() | st.integers(-14 * 60, 14 * 60).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
na_values = st.sampled_from([None, "", "na", "н/п", float("nan"), "2026-03-14", "вчера"])


@st.composite
def timestamps(draw):
    moment = draw(moments).replace(tzinfo=draw(offsets))
    form = draw(st.sampled_from(["iso", "space", "datetime", "datetime64", "na"]))
    if form == "na":
        return draw(na_values)
    if form == "datetime":
        return moment
    if form == "datetime64":
        return np.datetime64(moment.replace(tzinfo=None), "us")
    return moment.isoformat(sep="T" if form == "iso" else " ")


@given(st.lists(st.tuples(timestamps(), timestamps()), min_size=1, max_size=20))
def test_batch_equals_scalar_for_any_values(pairs):
    starts = np.empty(len(pairs), dtype=object)
    ends = np.empty(len(pairs), dtype=object)
    starts[:] = [p[0] for p in pairs]
    ends[:] = [p[1] for p in pairs]
    _agree(minutes_between_batch(starts, ends), [minutes_between(a, b) for a, b in pairs])


@given(moments, moments)
def test_datetime64_batch_equals_text_scalar(a, b):
    out = minutes_between_batch(np.array([a], dtype="datetime64[us]"), np.array([b], "M8[us]"))
    want = minutes_between(a.isoformat(), b.isoformat())
    assert out.tolist() == [want]
    assert want == (b - a) / dt.timedelta(minutes=1)


# -- timestamp_validator -----------------------------------------------------------------------


def test_validator_names_the_unreadable_field():
    validate = timestamp_validator(["start", "end"])
    (err,) = validate({"start": "14.03.2026 10:05", "end": "2026-03-14T10:15"})
    assert isinstance(err, VisitError)
    assert (err.item, err.code) == ("start", "bad_timestamp")
    assert err.message.startswith("visit field `start`: '14.03.2026 10:05' is not an ISO 8601")
    (err,) = validate({"start": "2026-03-14T10:05", "end": "2026-03-14"})
    assert (err.item, err.code) == ("end", "bad_timestamp")
    assert "without a time of day" in err.message


def test_validator_accepts_na_and_missing_fields():
    validate = timestamp_validator(["start", "end"], pairs=[("start", "end")])
    assert validate({}) == []
    assert validate({"start": "н/п", "end": ""}) == []
    assert validate({"start": "2026-03-14T10:05+03:00", "end": None}) == []
    assert validate({"start": "2026-03-14T10:05", "end": "2026-03-14T10:00"}) == []


def test_validator_rejects_an_offset_on_one_side_of_a_pair():
    validate = timestamp_validator(["start", "end"], pairs=[("start", "end")])
    (err,) = validate({"start": "2026-03-14T10:05+03:00", "end": "2026-03-14T10:15"})
    assert (err.item, err.code) == ("end", "bad_timestamp")
    assert "`start` has a UTC offset and `end` has none" in err.message
    (err,) = validate({"start": "2026-03-14T10:05", "end": "2026-03-14T10:15Z"})
    assert "`end` has a UTC offset and `start` has none" in err.message
    assert validate({"start": "2026-03-14T10:05+03:00", "end": "2026-03-14T07:15Z"}) == []
    # two fields not paired may differ
    assert (
        timestamp_validator(["start", "end"])(
            {"start": "2026-03-14T10:05+03:00", "end": "2026-03-14T10:15"}
        )
        == []
    )


def test_check_runs_on_comparable_pairs_only():
    seen: list[TimestampPair] = []

    def check(pair, record):
        seen.append(pair)
        if pair.minutes < 0:
            yield VisitError(pair.second, "timestamp_order", f"{record[pair.second]} is early")

    validate = timestamp_validator(
        ["a", "b", "c"], pairs=[("a", "b"), ("a", "b"), ("b", "c"), ("a", "x")], check=check
    )
    errors = validate({"a": "2026-03-14T10:05", "b": "2026-03-14T10:00", "c": "bad"})
    assert [(e.item, e.code) for e in errors] == [
        ("c", "bad_timestamp"),
        ("b", "timestamp_order"),
    ]
    assert seen == [
        TimestampPair("a", "b", dt.datetime(2026, 3, 14, 10, 5), dt.datetime(2026, 3, 14, 10))
    ]
    assert seen[0].minutes == -5


def test_field_calls_finds_visit_field_arguments(sbm_plugin_manager, sbm_standard):
    from sbm_engine.functions import FunctionSpec
    from sbm_engine.hookspecs import hookimpl

    class Pack:
        @hookimpl
        def sbm_functions(self):
            return [FunctionSpec("waited", ("str", "str"), "num", minutes_between)]

    sbm_plugin_manager(pack=Pack())
    std = sbm_standard(
        text="""
    standard t.wait "Ожидание" {
        field a "A"
        field b "B"
        item ok "Да?" answer { yes = 1, no = 0 } when waited(visit.a, visit.b) < 10
        coefficient w = waited(visit.a, visit.b)
        coefficient v = waited("2026-03-14T10:00", visit.b)
        example "x" {
            visit { a = "2026-03-14T10:00", b = "2026-03-14T10:05" }
            answers { ok = yes }
            expect w == 5
        }
    }
    """
    )
    assert field_calls(std.model, ["waited"]) == (("waited", ("a", "b")), ("waited", ("", "b")))
    assert field_calls(std.model, ["other"]) == ()
