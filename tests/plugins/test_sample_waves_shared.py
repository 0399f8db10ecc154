"""`sbm_engine.sample_waves`, what the packs' sample generators share: the waves and their
draws, the second wave, field control, the calibration set and the command (the packs'
committed data: tests/plugins/test_sample_waves.py)."""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from sbm_engine import sample_waves as sw


def _records(n: int, submitted: str = "") -> list[dict[str, Any]]:
    day = dt.date(2026, 4, 1)
    return [
        {
            "visit_id": f"V-{i:03d}",
            "date": (day + dt.timedelta(days=i % 20)).isoformat(),
            "shopper": "SH-100",
            "submitted": (day + dt.timedelta(days=i % 20)).isoformat() + submitted,
            "answers": {"a": "yes", "b": "no", "g": 3, "p": "partly", "r": 7, "c": "yes"},
        }
        for i in range(n)
    ]


def test_the_window_is_the_monday_to_sunday_week_moved_by_weeks() -> None:
    thursday = dt.date(2026, 4, 2)
    assert sw.window(thursday) == {"scheduled_from": "2026-03-30", "scheduled_to": "2026-04-05"}
    assert sw.window(thursday, -1)["scheduled_from"] == "2026-03-23"
    assert sw.window(thursday, 1)["scheduled_to"] == "2026-04-12"


def test_working_days_skip_weekends_and_the_2026_holidays() -> None:
    assert sw.add_working_days(dt.date(2026, 4, 2), 2) == dt.date(2026, 4, 6)  # Thu -> Mon
    assert sw.add_working_days(dt.date(2026, 4, 30), 1) == dt.date(2026, 5, 4)  # past 1 May
    assert sw.add_working_days(dt.date(2026, 5, 8), 1) == dt.date(2026, 5, 12)  # past 11 May


def test_field_failures_are_planted_where_counted_past_the_bad_records() -> None:
    records = _records(300, submitted="T12:00:00+03:00")
    planted = sw.plant_field_failures(records, {11, 12}, "SH-999")
    late = [v for v, k in planted.items() if k == "late_submission"]
    outside = [v for v, k in planted.items() if k == "outside_window"]
    assert (len(late), len(outside)) == (sw.late_count(300), sw.outside_count(300)) == (10, 5)
    assert late[0] == "V-013"  # 11 and 12 are bad: the next one
    by_id = {r["visit_id"]: r for r in records}
    first = by_id["V-013"]
    assert first["shopper"] == "SH-999" and first["submitted"].endswith("T12:00:00+03:00")
    day = dt.date.fromisoformat(first["date"])
    assert dt.date.fromisoformat(first["submitted"][:10]) == sw.add_working_days(day, 3)
    assert by_id["V-037"]["scheduled_to"] < by_id["V-037"]["date"]  # a week earlier
    assert by_id["V-097"]["scheduled_from"] > by_id["V-097"]["date"]  # a week later


def test_the_training_draws_the_same_with_it_on_or_off() -> None:
    items = ("a", "b", "g", "n", "missing")
    on = {"a": "yes", "b": "no", "g": 3, "n": "н/п"}
    off = dict(on)
    r_on, r_off = random.Random(1), random.Random(1)
    sw.train(r_on, on, items, 1.0, True)
    sw.train(r_off, off, items, 1.0, False)
    assert on == {"a": "yes", "b": "yes", "g": 5, "n": "н/п"}
    assert off == {"a": "yes", "b": "no", "g": 3, "n": "н/п"}
    assert r_on.random() == r_off.random()  # three draws each: a, b, g


def test_answer_kinds_by_value_or_by_item() -> None:
    kind = sw.answer_kinds(kept={"c"}, ratings={"r"}, partial={"p"})
    got = {k: kind(k, v) for k, v in _records(1)[0]["answers"].items()}
    assert got == {"a": "yes_no", "b": "yes_no", "g": "grade", "p": "partial", "r": "rating"} | {
        "c": None
    }
    assert kind("a", "н/п") is None
    listed = sw.answer_kinds(kept=(), ratings=(), na="na", by_item={"a": "yes_no"})
    assert (listed("a", "no"), listed("comment", "text"), listed("a", "na")) == (
        "yes_no",
        None,
        None,
    )


def test_rate_keeps_what_it_does_not_rate_and_stays_in_range() -> None:
    kind = sw.answer_kinds(kept={"c"}, ratings={"r"}, partial={"p"})
    answers = {"c": "no", "g": 5, "r": 10, "p": "yes", "a": "yes"}
    for seed in range(50):
        out = sw.rate(answers, random.Random(seed), 1.0, kind, noise=1.0)
        assert out["c"] == "no" and 1 <= out["g"] <= 5 and 0 <= out["r"] <= 10
    honest = sw.rate(answers, random.Random(0), 0.0, kind, noise=0.0)
    assert {k: v for k, v in honest.items() if k != "r"} == {
        k: v for k, v in answers.items() if k != "r"
    }


def test_calibration_sets_score_the_same_cases_for_every_evaluator() -> None:
    kind = sw.answer_kinds(kept={"c"}, ratings={"r"}, partial={"p"})
    base = _records(12)

    def case(rng: random.Random, i: int) -> dict[str, Any]:
        return dict(base[i], answers=dict(base[i]["answers"], g=rng.randint(1, 5)))

    sets = sw.calibration_sets(12, 7, case, kind, submitted_within=1)
    assert list(sets) == list(sw.CALIBRATION_SHOPPERS)
    ids = [[r["visit_id"] for r in rows] for rows in sets.values()]
    assert all(x == ids[0] for x in ids) and ids[0] == [r["visit_id"] for r in base]
    for shopper, rows in sets.items():
        for row, orig in zip(rows, base, strict=True):
            assert row["shopper"] == shopper
            lag = dt.date.fromisoformat(row["submitted"]) - dt.date.fromisoformat(orig["date"])
            assert lag.days in (0, 1)
    assert sets == sw.calibration_sets(12, 7, case, kind, submitted_within=1)
    with pytest.raises(ValueError):
        sw.calibration_sets(-1, 7, case, kind)


def test_plant_in_turn_and_the_wave_summaries() -> None:
    records = _records(120)
    seen: list[tuple[str, str]] = []
    bad, indices = sw.plant_in_turn(
        records, 50, ("x", "y"), lambda r, k: seen.append((r["visit_id"], k))
    )
    assert indices == [25, 75] and bad == {"V-025": "x", "V-075": "y"} and seen == list(bad.items())
    assert sw.SampleWave(records, bad).summary() == "120 visits, 2 bad on purpose (x, y)"
    assert (
        sw.Wave(records, {"V-001": "x"}).summary()
        == "120 visits, 1 deliberately invalid: V-001 (x)"
    )


def test_the_command_writes_wave_2_treated_points_and_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def wave(n: int, seed: int) -> sw.SampleWave:
        return sw.SampleWave(_records(n), {}, {"V-000": "late_submission"})

    def calibration(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
        return {"SH-201": _records(n)}

    kwargs: dict[str, Any] = dict(
        prog="x-sample", what="of tests", points="points", seed=1, wave1=wave, wave2=wave
    )
    out, treated = tmp_path / "w.jsonl", tmp_path / "t.txt"
    argv = ["-n", "3", "--wave", "2", "-o", str(out), "--treated", str(treated)]
    assert sw.main(argv, calibration=calibration, treated=("P1", "P2"), **kwargs) == 0
    assert out.read_text(encoding="utf-8") == sw.jsonl(_records(3))
    assert treated.read_text(encoding="utf-8") == "P1\nP2\n"
    err = capsys.readouterr().err
    assert "3 visits, 0 bad on purpose" in err and "1 submitted late, 0 outside" in err
    assert sw.main(["-n", "2"], calibration=calibration, treated=(), **kwargs) == 0
    assert capsys.readouterr().out == sw.jsonl(_records(2))  # no -o: stdout
    folder = tmp_path / "cal"
    assert (
        sw.main(["--calibration", str(folder)], calibration=calibration, treated=(), **kwargs) == 0
    )
    assert (folder / "SH-201.jsonl").read_text(encoding="utf-8") == sw.jsonl(_records(40))


def test_the_two_wave_shapes_read_alike() -> None:
    records = _records(3)
    wave = sw.SampleWave(records, {"V-001": "x"})
    assert wave.records == records and type(wave.records) is list
    assert wave.bad == wave.defects == {"V-001": "x"}
    assert sw.Wave(records, {"V-001": "x"}).bad == wave.bad


def test_plant_at_random_plants_one_of_each_kind_in_order() -> None:
    records = _records(30)

    def plant(rows: list[dict[str, Any]], index: int, kind: str) -> None:
        rows[index]["visit_id"] += f"-{kind}"

    bad, chosen = sw.plant_at_random(records, random.Random(4), ("a", "b", "c"), plant, start=1)
    assert chosen == sorted(chosen) and len(set(chosen)) == 3 and min(chosen) >= 1
    assert chosen == sorted(random.Random(4).sample(range(1, 30), 3))  # one draw
    assert list(bad.values()) == ["a", "b", "c"]
    assert list(bad) == [records[i]["visit_id"] for i in chosen]  # the id after planting
    with pytest.raises(ValueError):
        sw.plant_at_random(_records(2), random.Random(4), ("a", "b", "c"), plant)


def test_unique_names_are_drawn_again_until_new() -> None:
    def surnames(first: str) -> tuple[str, ...]:
        return ("Ильина",) if first == "Анна" else ("Ильин",)

    used: set[str] = set()
    rng = random.Random(1)
    names = [sw.unique_name(rng, used, ("Анна", "Иван"), surnames) for _ in range(2)]
    assert sorted(names) == ["Ильин Иван", "Ильина Анна"] and used == set(names)


def test_the_draws_take_one_number_each() -> None:
    draws = {
        "weighted": lambda r: sw.weighted(r, (("a", 0.5), ("b", 0.5))),
        "yes_no": lambda r: sw.yes_no(r, 0.5),
        "yes_partly_no": lambda r: sw.yes_partly_no(r, 0.5, 0.5),
    }
    for name, draw in draws.items():
        rng, ref = random.Random(3), random.Random(3)
        draw(rng)
        ref.random()
        assert rng.random() == ref.random(), name


def test_the_draws_give_their_values() -> None:
    assert sw.weighted(random.Random(0), (("only", 1.0),)) == "only"
    assert sw.weighted(random.Random(0), (("short", 0.0),)) == "short"  # past the sum: the last
    assert {sw.yes_no(random.Random(s), 1.0) for s in range(20)} == {"yes"}
    assert {sw.yes_no(random.Random(s), 0.0) for s in range(20)} == {"no"}
    assert {sw.yes_partly_no(random.Random(s), 0.0, 1.0) for s in range(20)} == {"partly"}
    assert {sw.yes_partly_no(random.Random(s), 0.0, 0.0) for s in range(20)} == {"no"}
    grades = {sw.grade(random.Random(s), 3.0, 5.0) for s in range(200)}
    assert grades == {1, 2, 3, 4, 5}
    assert {sw.top_grade(random.Random(s), 1.0) for s in range(20)} == {5}
    assert {sw.top_grade(random.Random(s), 0.0) for s in range(200)} == {1, 2, 3, 4}
    assert sw.shifted(0.5, 0.0) == 0.5
    assert sw.shifted(0.9, 1.0) > 0.9 > sw.shifted(0.9, -1.0)


def test_command_reads_the_pack_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    calls: list[tuple[str, int, int]] = []

    def wave(what: str) -> Any:
        def make(n: int, seed: int) -> sw.SampleWave:
            calls.append((what, n, seed))
            return sw.SampleWave(_records(n), {})

        return make

    pack = types.ModuleType("_x_sample")
    pack.__dict__.update(
        DEFAULT_SEED=11,
        TREATED_POINTS=("P1",),
        LENIENT_SHOPPER="SH-203",
        generate=wave("generate"),
        generate_wave2=wave("wave2"),
        generate_calibration=lambda n, seed: {"SH-201": _records(n)},
    )
    monkeypatch.setitem(sys.modules, "_x_sample", pack)
    main = sw.command("_x_sample", prog="x-sample", what="of tests", points="points")
    assert main(["-n", "2", "-o", str(tmp_path / "w.jsonl")]) == 0
    assert main(["-n", "3", "--wave", "2", "-o", str(tmp_path / "w2.jsonl")]) == 0
    pack.generate_wave = wave("generate_wave")  # where there is one, wave 1 comes from it
    assert main(["-n", "4", "--seed", "5", "-o", str(tmp_path / "w.jsonl")]) == 0
    assert calls == [("generate", 2, 11), ("wave2", 3, 11), ("generate_wave", 4, 5)]
    assert main(["--calibration", str(tmp_path / "cal"), "--cases", "2"]) == 0
    assert "SH-203 lenient" in capsys.readouterr().err
    assert "x-sample" in (main.__doc__ or "")
