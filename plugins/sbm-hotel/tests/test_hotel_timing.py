"""The timing functions: values, N/A, and agreement of the scalar and batch forms."""

from __future__ import annotations

import datetime as dt

import pytest
from sbm_hotel import plugin
from sbm_hotel.timing import (
    minutes_between,
    minutes_between_batch,
    minutes_late,
    minutes_late_batch,
    parse_timestamp,
    room_ready,
    room_ready_batch,
)

from sbm_engine.testing import assert_forms_agree

np = pytest.importorskip("numpy")

MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("2026-03-14T14:00", "2026-03-14T14:07", 7),
        ("2026-03-14T14:00:00", "2026-03-14T14:01:30", 1.5),
        ("2026-03-14 14:00", "2026-03-14 14:00:00.500", 0.5 / 60),
        ("2026-03-14T23:50", "2026-03-15T00:20", 30),  # over midnight
        ("2026-03-14T14:00+03:00", "2026-03-14T11:05Z", 5),  # offsets converted to UTC
        ("2026-03-14T14:00+05:00", "2026-03-14T14:00+03:00", 120),
        (dt.datetime(2026, 3, 14, 14, 0), "2026-03-14T14:10", 10),
        (dt.datetime(2026, 3, 14, 14, 0, tzinfo=MSK), "2026-03-14T14:10+03:00", 10),
        (np.datetime64("2026-03-14T14:00"), np.datetime64("2026-03-14T16:00"), 120),
        ("2026-03-14T14:10", "2026-03-14T14:00", -10),  # the validator rejects these
    ],
)
def test_minutes_between(start, end, minutes):
    assert minutes_between(start, end) == pytest.approx(minutes, abs=1e-12)


NA_INPUTS = [
    None,
    "",
    "  ",
    "na",
    "N/A",
    "н/п",
    float("nan"),
    np.datetime64("NaT"),
    "14.03.2026 14:00",
    "вчера",
    "2026-03-14",
    dt.date(2026, 3, 14),
    1710424800,
]


@pytest.mark.parametrize("bad", NA_INPUTS)
def test_na_or_unreadable_gives_na_never_raises(bad):
    ok = "2026-03-14T14:00"
    for fn in (minutes_between, minutes_late, room_ready):
        assert fn(bad, ok) is None
        assert fn(ok, bad) is None


def test_minutes_late_and_room_ready():
    due = "2026-03-14T14:00"
    assert minutes_late(due, "2026-03-14T14:25") == 25
    assert minutes_late(due, "2026-03-14T13:10") == 0
    assert minutes_late(due, due) == 0
    assert room_ready(due, due) is True  # ready exactly on time counts as ready
    assert room_ready(due, "2026-03-14T14:00:01") is False
    assert room_ready(due, "2026-03-14T12:00") is True


def test_parse_timestamp():
    assert parse_timestamp("2026-03-14T14:00+03:00") == dt.datetime(2026, 3, 14, 11, 0)
    assert parse_timestamp(" 2026-03-14T14:00 ") == dt.datetime(2026, 3, 14, 14, 0)
    assert parse_timestamp("н/п") is None


# -- batch forms ---------------------------------------------------------------------------

VALUES = [
    "2026-03-14T14:00",
    "2026-03-14T14:07:30",
    "2026-03-14T13:59:59.250",
    "2026-03-15T02:00",
    "2026-03-14T14:00+03:00",
    None,
    "",
    "na",
    "14.03.2026 14:00",
    "2026-03-14",
]
PAIRS = [(a, b) for a in VALUES for b in VALUES]


@pytest.mark.parametrize(
    ("scalar", "batch"),
    [
        (minutes_between, minutes_between_batch),
        (minutes_late, minutes_late_batch),
        (room_ready, room_ready_batch),
    ],
)
def test_batch_agrees_with_scalar_on_object_arrays(scalar, batch):
    # bit for bit (the same integer arithmetic); conditions: True/False/None in an object array
    a, b = zip(*PAIRS, strict=True)
    out = assert_forms_agree(scalar, batch, a, b, call_with_na=True)
    assert out.dtype == (object if scalar is room_ready else np.float64)


@pytest.mark.parametrize(
    ("scalar", "batch"),
    [
        (minutes_between, minutes_between_batch),
        (minutes_late, minutes_late_batch),
        (room_ready, room_ready_batch),
    ],
)
def test_batch_agrees_with_scalar_on_datetime64_arrays(scalar, batch):
    rng = np.random.default_rng(7)
    base = np.datetime64("2026-03-14T14:00:00", "us")
    a = base + rng.integers(-(10**10), 10**10, 200).astype("timedelta64[us]")
    b = base + rng.integers(-(10**10), 10**10, 200).astype("timedelta64[us]")
    a[::17] = np.datetime64("NaT")
    b[::13] = np.datetime64("NaT")
    out = assert_forms_agree(scalar, batch, a, b, call_with_na=True)
    # the same moments as ISO text give the same numbers
    text_a = np.array([None if np.isnat(x) else str(x) for x in a], dtype=object)
    text_b = np.array([None if np.isnat(x) else str(x) for x in b], dtype=object)
    np.testing.assert_array_equal(batch(text_a, text_b), out)


def test_batch_of_an_all_missing_column():
    nan = np.full(3, np.nan)
    assert np.isnan(
        minutes_between_batch(nan, np.array(["2026-03-14T14:00"] * 3, dtype=object))
    ).all()
    assert room_ready_batch(nan, nan).tolist() == [None, None, None]


def test_function_specs_declare_both_forms():
    specs = {s.name: s for s in plugin.sbm_functions()}
    # `minutes_between` is the language's own function (over `datetime` fields)
    assert set(specs) == {"minutes_late", "room_ready"}
    for spec in specs.values():
        assert spec.params == ("str", "str")
        assert spec.batch is not None and spec.doc
        assert not spec.na_aware
    assert specs["room_ready"].returns == "bool"
    assert specs["minutes_late"].returns == "num"


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))


@hypothesis.given(a=moments, b=moments)
def test_batch_equals_scalar_for_any_moments(a, b):
    for scalar, batch in (
        (minutes_between, minutes_between_batch),
        (minutes_late, minutes_late_batch),
        (room_ready, room_ready_batch),
    ):

        def on_texts(x, y, scalar=scalar):
            return scalar(x, y.isoformat())

        # the scalar form on ISO texts, the batch form on a text and a datetime
        assert_forms_agree(on_texts, batch, [a.isoformat()], [b])
