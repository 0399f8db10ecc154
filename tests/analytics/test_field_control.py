"""Field control: working days counted exactly (weekends, holidays, transferred working
days), the window and the submission deadline of each visit, and `sbm control`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from sbm_engine.cli import cli
from sbm_engine.field_control import FieldControl, read_day
from sbm_engine.hookspecs import hookimpl
from sbm_engine.runtime import VisitError
from sbm_engine.working_days import CalendarError, WorkingCalendar, load_calendar

ROOT = Path(__file__).parents[2]
RU_2026 = ROOT / "plugins" / "sbm-bank" / "sample" / "holidays-ru-2026.toml"
BANK_WAVE2 = ROOT / "plugins" / "sbm-bank" / "sample" / "wave2.jsonl"
D = dt.date


# -- working days ----------------------------------------------------------------------------------


def brute_count(cal: WorkingCalendar, a: dt.date, b: dt.date) -> int:
    """Day by day: working days after `a` up to and including `b` (negated when b < a)."""
    lo, hi, sign = (a, b, 1) if a <= b else (b, a, -1)
    n, day = 0, lo
    while day < hi:
        day += dt.timedelta(days=1)
        n += cal.is_working(day)
    return sign * n


def test_working_days_across_a_weekend() -> None:
    cal = WorkingCalendar()
    fri, sat, sun, mon = D(2026, 3, 13), D(2026, 3, 14), D(2026, 3, 15), D(2026, 3, 16)
    assert cal.count(fri, fri) == 0
    assert cal.count(fri, sat) == cal.count(fri, sun) == 0
    assert cal.count(fri, mon) == 1
    assert cal.count(mon, D(2026, 3, 23)) == 5
    assert cal.count(mon, fri) == -1  # the other way round: negative
    assert cal.count(D(2026, 3, 9), fri) == 4
    assert cal.add(fri, 1) == mon and cal.add(fri, 0) == fri


def test_holidays_and_a_transferred_working_saturday() -> None:
    # Russia, 2025: Saturday 1 November worked, Monday 3 and Tuesday 4 November off
    cal = WorkingCalendar(holidays=["2025-11-03", D(2025, 11, 4)], workdays=["2025-11-01"])
    fri, wed = D(2025, 10, 31), D(2025, 11, 5)
    assert cal.is_working(D(2025, 11, 1)) and not cal.is_working(D(2025, 11, 3))
    assert cal.count(fri, wed) == 2  # Saturday 1 and Wednesday 5
    assert WorkingCalendar().count(fri, wed) == 3  # Monday 3, Tuesday 4, Wednesday 5


def test_a_holiday_on_a_weekend_changes_nothing() -> None:
    assert WorkingCalendar(["2026-05-09"]).count(D(2026, 5, 8), D(2026, 5, 12)) == 2


def test_the_russian_production_calendar_2026() -> None:
    cal = load_calendar(RU_2026)
    assert cal.count(D(2025, 12, 31), D(2026, 12, 31)) == 247  # the official count
    assert cal.count(D(2026, 4, 30), D(2026, 5, 4)) == 1  # 1 May off, 2-3 May a weekend
    assert cal.count(D(2026, 5, 8), D(2026, 5, 12)) == 1  # 9 May moved to Monday 11
    assert cal.years == {2026}
    assert "14 holidays" in cal.describe()


def test_another_weekend() -> None:
    cal = WorkingCalendar(weekend=["fri", "sat"])
    assert cal.count(D(2026, 3, 12), D(2026, 3, 15)) == 1  # Thursday to Sunday
    assert WorkingCalendar(weekend=[6]).count(D(2026, 3, 13), D(2026, 3, 16)) == 2


def test_calendar_files(tmp_path: Path) -> None:
    text = tmp_path / "holidays.txt"
    text.write_text("# public holidays\n2026-03-09  # 8 March on a Sunday\n\n2026-05-01\n")
    assert load_calendar(text).holidays == {D(2026, 3, 9), D(2026, 5, 1)}
    toml = tmp_path / "cal.toml"
    toml.write_text(
        'holidays = [2025-11-03, "2025-11-04"]\nworkdays = [2025-11-01]\nweekend = ["sat", "sun"]\n'
    )
    cal = load_calendar(toml)
    assert cal.count(D(2025, 10, 31), D(2025, 11, 5)) == 2
    assert WorkingCalendar.from_file(toml).to_dict() == cal.to_dict()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.txt", "2026-01-01\n01.05.2026\n", "bad.txt:2"),
        ("bad.toml", "holidays = [2026-01-01]\nholiday = []\n", "unknown key 'holiday'"),
        ("bad.toml", "holidays = 2026-01-01\n", "must be a list"),
        ("bad.toml", "holidays = [2026-01-01\n", "bad.toml"),
        ("bad.toml", "holidays = [2025-11-01]\nworkdays = [2025-11-01]\n", "both"),
        ("bad.toml", 'weekend = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n', "whole"),
        ("bad.toml", 'weekend = ["someday"]\n', "not a weekday"),
    ],
)
def test_bad_calendars(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CalendarError, match=message):
        load_calendar(path)


def test_a_missing_calendar_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar(tmp_path / "nowhere.toml")


days = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))


@st.composite
def calendars(draw: Any) -> WorkingCalendar:
    holidays = draw(st.sets(days, max_size=30))
    workdays = draw(st.sets(days, max_size=10)) - holidays
    weekend = draw(st.sets(st.integers(0, 6), max_size=3))
    return WorkingCalendar(holidays, workdays, weekend)


@settings(max_examples=300, deadline=None)
@given(calendars(), days, days, days)
def test_counts_add_up_and_match_a_day_by_day_count(
    cal: WorkingCalendar, a: dt.date, b: dt.date, c: dt.date
) -> None:
    assert cal.count(a, c) == cal.count(a, b) + cal.count(b, c)
    assert cal.count(a, b) == brute_count(cal, a, b) == -cal.count(b, a)


@settings(max_examples=300, deadline=None)
@given(calendars(), days, days, days)
def test_a_holiday_never_adds_a_working_day(
    cal: WorkingCalendar, holiday: dt.date, a: dt.date, b: dt.date
) -> None:
    a, b = min(a, b), max(a, b)
    more = WorkingCalendar(cal.holidays | {holiday}, cal.workdays - {holiday}, cal.weekend)
    assert 0 <= more.count(a, b) <= cal.count(a, b)
    assert cal.count(a, b) - more.count(a, b) <= 1


# -- the checks ------------------------------------------------------------------------------------


def visit(**fields: Any) -> dict[str, Any]:
    return {"visit_id": "v1", "shopper": "SH-1", **fields, "answers": {}}


def codes(errors: list[VisitError]) -> list[tuple[str, str]]:
    return [(e.item, e.code) for e in errors]


WINDOW = {"scheduled_from": "2026-03-09", "scheduled_to": "2026-03-15"}


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2026-03-09", []),  # the first day of the window
        ("2026-03-15", []),  # the last day
        ("2026-03-12T18:30:00", []),
        ("2026-03-08", [("date", "outside_window")]),
        ("2026-03-16", [("date", "outside_window")]),
        ("2026-03-16T00:30:00+03:00", [("date", "outside_window")]),
    ],
)
def test_the_window_includes_both_ends(date: str, expected: list[tuple[str, str]]) -> None:
    assert codes(FieldControl().check(visit(date=date, **WINDOW))) == expected


def test_the_window_messages_say_which_end() -> None:
    control = FieldControl()
    early = control.check(visit(date="2026-03-08", **WINDOW))[0]
    late = control.check(visit(date="2026-03-16", **WINDOW))[0]
    assert isinstance(early, VisitError)
    assert "before its window opened on 2026-03-09" in early.message
    assert "after its window closed on 2026-03-15" in late.message


def test_a_window_with_times_compares_times_only_when_both_have_one() -> None:
    control = FieldControl()
    window = {"scheduled_from": "2026-03-10T12:00:00", "scheduled_to": "2026-03-10T15:00:00"}
    assert control.check(visit(date="2026-03-10T14:59:00", **window)) == []
    assert codes(control.check(visit(date="2026-03-10T15:01:00", **window))) == [
        ("date", "outside_window")
    ]
    assert control.check(visit(date="2026-03-10", **window)) == []  # a day: that day
    # a spreadsheet's date is midnight: read as the whole day
    sheet = {"scheduled_from": "2026-03-09T00:00:00", "scheduled_to": "2026-03-10T00:00:00"}
    assert control.check(visit(date="2026-03-10T17:00:00", **sheet)) == []


def test_missing_window_fields_mean_no_window_check() -> None:
    control = FieldControl()
    assert control.check(visit(date="2026-01-01")) == []
    assert control.check(visit(date="2026-01-01", scheduled_from="н/п", scheduled_to="")) == []
    assert control.check(visit(date="2026-03-20", scheduled_from="2026-03-09")) == []
    assert codes(control.check(visit(date="2026-03-20", scheduled_to="2026-03-15"))) == [
        ("date", "outside_window")
    ]
    assert FieldControl(window=False).check(visit(date="2026-03-20", **WINDOW)) == []


def test_late_submission_counts_working_days() -> None:
    # visit on Friday 6 March 2026; Monday 9 March is a holiday in Russia
    control = FieldControl(max_submit_days=2)
    holidays = FieldControl(max_submit_days=2, holidays=["2026-03-09"])
    on_tuesday = visit(date="2026-03-06", submitted="2026-03-10")
    on_wednesday = visit(date="2026-03-06", submitted="2026-03-11T09:00:00")
    assert control.check(on_tuesday) == [] == holidays.check(on_tuesday)
    late = control.check(on_wednesday)
    assert codes(late) == [("submitted", "late_submission")]
    assert "3 working days after the visit on 2026-03-06 (due within 2)" in late[0].message
    assert holidays.check(on_wednesday) == []
    assert (
        FieldControl(max_submit_days=0).check(visit(date="2026-03-06", submitted="2026-03-08"))
        == []
    )
    assert FieldControl().check(on_wednesday) == []  # no deadline: not checked
    assert control.check(visit(date="2026-03-06")) == []  # not submitted: not checked


def test_a_calendar_file_and_transferred_working_days() -> None:
    ru = FieldControl(max_submit_days=1, holidays=RU_2026)
    assert ru.check(visit(date="2026-04-30", submitted="2026-05-04")) == []
    moved = FieldControl(max_submit_days=1, holidays=RU_2026, workdays=["2026-05-02"])
    assert codes(moved.check(visit(date="2026-04-30", submitted="2026-05-04"))) == [
        ("submitted", "late_submission")
    ]
    assert "14 holidays" in ru.describe()


def test_a_submission_with_an_offset_counts_on_its_own_day() -> None:
    """Working days are counted between the days as written, not in UTC."""
    same_day = FieldControl(max_submit_days=0)
    # 23:30 in New York on Thursday is Friday in UTC: still Thursday's questionnaire
    assert same_day.check(visit(date="2026-03-12", submitted="2026-03-12T23:30:00-05:00")) == []
    # 01:00 in Moscow on Friday is Thursday in UTC: a day late all the same
    late = same_day.check(visit(date="2026-03-12", submitted="2026-03-13T01:00:00+03:00"))
    assert codes(late) == [("submitted", "late_submission")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"date": "14.03.2026"}, [("date", "bad_timestamp")]),
        ({"date": 20260314}, [("date", "bad_timestamp")]),
        ({"date": "2026-02-30"}, [("date", "bad_timestamp")]),
        ({"date": "2026-03-14", "scheduled_to": "next week"}, [("scheduled_to", "bad_timestamp")]),
        ({"date": "2026-03-14", "submitted": "вчера"}, [("submitted", "bad_timestamp")]),
        ({"date": "2026-03-14", "submitted": "2026-03-13"}, [("submitted", "bad_timestamp")]),
        (
            {"date": "2026-03-14", "scheduled_from": "2026-03-20", "scheduled_to": "2026-03-10"},
            [("scheduled_to", "bad_timestamp")],
        ),
        ({"scheduled_from": "2026-03-20"}, [("date", "bad_timestamp")]),
        ({"submitted": "2026-03-20"}, [("date", "bad_timestamp")]),
        ({"date": "", "submitted": "н/п"}, []),
    ],
)
def test_bad_dates_name_the_field(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert codes(FieldControl(max_submit_days=2).check(visit(**fields))) == expected


def test_dates_as_python_values() -> None:
    assert read_day(dt.date(2026, 3, 14)).day == D(2026, 3, 14)
    assert read_day(dt.datetime(2026, 3, 14, 10, 5)).at == dt.datetime(2026, 3, 14, 10, 5)
    assert read_day(dt.datetime(2026, 3, 14)).at is None  # midnight: a date
    assert read_day(None) is None and read_day(float("nan")) is None
    control = FieldControl(max_submit_days=2)
    record = visit(date=dt.date(2026, 3, 6), submitted=dt.datetime(2026, 3, 11, 9, 0))
    assert codes(control.check(record)) == [("submitted", "late_submission")]


def test_repeated_checks_give_the_same_errors() -> None:
    control = FieldControl(max_submit_days=2)
    record = visit(date="2026-03-16", submitted="2026-03-25", **WINDOW)
    first = control.check(record)
    assert codes(first) == [("date", "outside_window"), ("submitted", "late_submission")]
    again = control.check(dict(record))
    assert again == first and again is not first
    again.clear()
    assert control.check(record) == first  # the cache hands out copies


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        FieldControl(max_submit_days=-1)
    with pytest.raises(ValueError):
        FieldControl(max_submit_days=True)  # type: ignore[arg-type]
    with pytest.raises(CalendarError):
        FieldControl(2, holidays=["2026-13-01"])


class _FieldControlPack:
    """A pack that makes field control reject visits of every standard."""

    @hookimpl
    def sbm_visit_validators(self, standard: Any) -> list[Any]:
        return [FieldControl(max_submit_days=2).validator()]


SMALL = """\
standard fc.test "Field control" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    item greeted "Greeted" answer yes_no
    coefficient visit = greeted
}
"""


def test_the_validator_rejects_visits_through_the_plugin_hook(
    sbm_plugin_manager: Any, sbm_standard: Any, sbm_score: Any
) -> None:
    sbm_plugin_manager(_FieldControlPack())
    std = sbm_standard(text=SMALL)
    on_time, late = (
        {"visit_id": v, "date": "2026-03-06", "submitted": s, "answers": {"greeted": "yes"}}
        for v, s in (("v1", "2026-03-10"), ("v2", "2026-03-11"))
    )
    ok, rejected = sbm_score(std, [on_time, late])
    assert ok.ok and not rejected.ok
    assert [(e.item, e.code) for e in rejected.errors] == [("submitted", "late_submission")]
    validate = FieldControl(max_submit_days=2).validator()
    assert list(validate(late)) == list(rejected.errors)


# -- sbm control -----------------------------------------------------------------------------------


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["control", *args], prog_name="sbm")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


ROWS = [
    {
        "visit_id": "a1",
        "shopper": "SH-1",
        "date": "2026-03-10",
        "submitted": "2026-03-10",
        **WINDOW,
    },
    {"visit_id": "a2", "shopper": "SH-1", "date": "2026-03-06", "submitted": "2026-03-11"},
    {
        "visit_id": "a3",
        "shopper": "SH-1",
        "date": "2026-03-16",
        "submitted": "2026-03-16",
        **WINDOW,
    },
    {"visit_id": "b1", "shopper": "SH-2", "date": "2026-03-11", "submitted": "2026-03-12"},
    {"visit_id": "b2", "shopper": "SH-2", "date": "11.03.2026", "submitted": "2026-03-12"},
    {"visit_id": "c1", "shopper": "SH-3", "date": "2026-03-11", "submitted": "2026-03-11"},
]


def test_no_failure_exits_0(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ok.jsonl", [ROWS[0], ROWS[3], ROWS[5]])
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().splitlines()[-1].startswith("3 visits checked, 0 failed")


def test_failures_per_evaluator_and_exit_1(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "wave.jsonl", ROWS)
    result = run(str(path), "--format", "json")
    assert result.exit_code == 1
    rep = json.loads(result.output)
    assert set(rep) >= {"inputs", "rules", "visits", "failed", "totals", "evaluators", "failures"}
    assert rep["rules"]["submit_days"] == 2 and rep["rules"]["window"] is True
    assert (rep["visits"], rep["failed"]) == (6, 3)
    by = {e["shopper"]: e for e in rep["evaluators"]}
    assert [e["shopper"] for e in rep["evaluators"]] == ["SH-1", "SH-2", "SH-3"]  # worst first
    assert {k: by["SH-1"][k] for k in ("visits", "outside_window", "late", "unreadable")} == {
        "visits": 3,
        "outside_window": 1,
        "late": 1,
        "unreadable": 0,
    }
    assert by["SH-1"]["failed"] == 2 and by["SH-1"]["failed_share"] == pytest.approx(2 / 3)
    assert (by["SH-2"]["unreadable"], by["SH-2"]["failed"], by["SH-3"]["failed"]) == (1, 1, 0)
    assert rep["totals"]["late_share"] == pytest.approx(1 / 6)
    failures = {f["visit_id"]: f for f in rep["failures"]}
    assert set(failures) == {"a2", "a3", "b2"}
    assert failures["a2"]["source"] == f"{path}:2"
    assert failures["a2"]["errors"][0]["code"] == "late_submission"
    assert failures["b2"]["errors"][0] == {
        "item": "date",
        "code": "bad_timestamp",
        "message": failures["b2"]["errors"][0]["message"],
    }


def test_the_table_for_people(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "wave.jsonl", ROWS)
    result = run(str(path))
    assert result.exit_code == 1
    out = result.output
    assert "evaluator" in out and "outside window" in out and "Failing visits:" in out
    assert f"{path}:3" in out and "after its window closed on 2026-03-15" in out
    (sh1,) = [line for line in out.splitlines() if line.startswith("SH-1 ")]
    assert sh1.split()[1] == "3" and "2 (66.7%)" in sh1
    assert out.rstrip().splitlines()[-1] == (
        "6 visits checked, 3 failed (50.0%): 1 outside their window, 1 submitted late, "
        "1 with unreadable dates; 3 evaluators, 2 with failures."
    )
    limited = run(str(path), "--limit", "1").output
    assert "… and 2 more" in limited


def test_submit_days_and_holidays_change_the_verdict(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "wave.jsonl", [ROWS[1]])  # Friday 6 to Wednesday 11 March
    assert run(str(path)).exit_code == 1
    assert run(str(path), "--submit-days", "3").exit_code == 0
    calendar = tmp_path / "holidays.txt"
    calendar.write_text("2026-03-09\n")
    assert run(str(path), "--holidays", str(calendar)).exit_code == 0
    assert run(str(path), "--no-window", "--submit-days", "3").exit_code == 0


def test_csv_input_reads_the_window_as_visit_fields(tmp_path: Path) -> None:
    path = tmp_path / "wave.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["visit_id", "shopper", "date", "submitted", "scheduled_from", "scheduled_to"])
        w.writerow(["c1", "SH-7", "2026-03-17", "2026-03-17", "2026-03-09", "2026-03-15"])
        w.writerow(["c2", "SH-7", "2026-03-12", "2026-03-12", "2026-03-09", "2026-03-15"])
    result = run(str(path), "--format", "json")
    assert result.exit_code == 1
    rep = json.loads(result.output)
    assert [f["visit_id"] for f in rep["failures"]] == ["c1"]
    assert rep["failures"][0]["source"] == f"{path}:2"


def test_unreadable_records_count_as_failures(tmp_path: Path) -> None:
    path = tmp_path / "wave.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    rep = json.loads(run(str(path), "--format", "json").output)
    assert rep["failed"] == 1
    (unknown,) = [e for e in rep["evaluators"] if e["shopper"] is None]
    assert unknown["unreadable"] == 1
    assert rep["failures"][0]["errors"][0]["code"] == "unreadable"


def test_output_files(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "wave.jsonl", ROWS)
    report = tmp_path / "report.json"
    result = run(str(path), "-o", str(report))
    assert result.exit_code == 1
    assert json.loads(report.read_text())["failed"] == 3
    assert "6 visits checked, 3 failed" in result.stderr and "report.json" in result.stderr
    worklist = tmp_path / "late.csv"
    assert run(str(path), "-o", str(worklist)).exit_code == 1
    rows = list(csv.DictReader(worklist.open(encoding="utf-8")))
    assert list(rows[0]) == ["visit_id", "source", "shopper", "date", "code", "item", "message"]
    assert sorted(r["code"] for r in rows) == ["bad_timestamp", "late_submission", "outside_window"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "does not exist"),
        (["{wave}", "--holidays", "{bad}"], "not an ISO date"),
        (["{wave}", "--submit-days", "-1"], "-1"),
        (["{empty}"], "no visits in the input"),
        (["{odd}"], "unknown input format"),
        (["{wave}", "-o", "{out}"], "unknown output format"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    files = {
        "wave": write_jsonl(tmp_path / "wave.jsonl", ROWS[:1]),
        "bad": tmp_path / "bad.txt",
        "empty": tmp_path / "empty.jsonl",
        "odd": tmp_path / "wave.visits",
        "out": tmp_path / "report.docx",
    }
    files["bad"].write_text("tomorrow\n")
    files["empty"].write_text("")
    files["odd"].write_text("x")
    result = run(*(a.format(**{k: str(v) for k, v in files.items()}) for a in args))
    assert result.exit_code == 2
    assert message in result.output + result.stderr


def test_the_bank_sample_wave_2(tmp_path: Path) -> None:
    result = run(str(BANK_WAVE2), "--format", "json", "--holidays", str(RU_2026))
    assert result.exit_code == 1
    rep = json.loads(result.output)
    assert (rep["visits"], rep["failed"]) == (300, 15)
    assert (rep["totals"]["late"], rep["totals"]["outside_window"]) == (10, 5)
    worst = rep["evaluators"][0]
    assert worst["shopper"] == "SH-117" and worst["late"] == 10
