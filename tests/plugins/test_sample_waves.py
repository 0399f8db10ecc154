"""The sample data bundled with the packs (`plugins/*/sample/`) is exactly what each
pack's seeded generator produces, and scores with the rejects the generator planted:

* `wave.jsonl`, the first wave (the README's first command);
* `wave2.jsonl`, the same network a month later, with a training at the points listed
  in `treated.txt` (what `sbm compare --treated` measures), a mild drift everywhere, and
  planted field-control failures (what `sbm control` finds);
* `calibration/<SHOPPER>.jsonl`, 40 cases scored by four evaluators, one of them
  lenient (what `sbm calibrate` measures).

The generators are loaded from the repository's sources (`plugins/*/src/*/sample.py`),
not from the installed packs: a committed file is compared with the generator beside it
even when the installed copy of a pack is older. Scoring uses the installed packs.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import sbm_engine
from sbm_engine.field_control import FieldControl
from sbm_engine.sample_waves import Wave, jsonl
from sbm_engine.testing import score_sample_wave

ROOT = Path(__file__).parents[2]
PACKS = {
    "bank": "bank.branch",
    "salon": "salon.visit",
    "restaurant": "restaurant.service",
    "hotel": "hotel.stay",
}
ALL = sorted(PACKS)


def sample_dir(pack: str) -> Path:
    return ROOT / "plugins" / f"sbm-{pack}" / "sample"


def generator(pack: str) -> ModuleType:
    """The pack's `sample` module, from the repository's source file."""
    name = f"_sbm_{pack}_sample_source"
    if name not in sys.modules:
        path = ROOT / "plugins" / f"sbm-{pack}" / "src" / f"sbm_{pack}" / "sample.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it is built
        spec.loader.exec_module(module)
    return sys.modules[name]


def standard(pack: str) -> Any:
    importlib.import_module(f"sbm_{pack}")  # skip cleanly if the pack is not installed
    return sbm_engine.load(PACKS[pack])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def wave1(pack: str) -> Any:
    sample = generator(pack)
    return sample.generate_wave() if hasattr(sample, "generate_wave") else sample.generate()


def regenerate(pack: str, what: str) -> str:
    return f"regenerate it: sbm-{pack}-sample {what} (or python -m sbm_{pack}.sample)"


# -- the committed files are the generators' output ---------------------------------------------


@pytest.mark.parametrize("pack", ALL)
def test_the_bundled_wave_is_the_generators_output(pack: str) -> None:
    path = sample_dir(pack) / "wave.jsonl"
    committed = path.read_text(encoding="utf-8")
    assert committed == jsonl(generator(pack).generate()), regenerate(pack, f"-o {path}")


@pytest.mark.parametrize("pack", ALL)
def test_the_second_wave_and_its_treated_points_are_the_generators_output(pack: str) -> None:
    sample = generator(pack)
    folder = sample_dir(pack)
    how = f"--wave 2 -o {folder}/wave2.jsonl --treated {folder}/treated.txt"
    wave2 = (folder / "wave2.jsonl").read_text(encoding="utf-8")
    assert wave2 == jsonl(sample.generate_wave2().records), regenerate(pack, how)
    treated = (folder / "treated.txt").read_text(encoding="utf-8")
    assert treated == "".join(f"{p}\n" for p in sample.TREATED_POINTS), regenerate(pack, how)


@pytest.mark.parametrize("pack", ALL)
def test_the_calibration_files_are_the_generators_output(pack: str) -> None:
    sample = generator(pack)
    folder = sample_dir(pack) / "calibration"
    how = f"--calibration {folder}"
    expected = sample.generate_calibration()
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.jsonl" for s in expected)
    for shopper, rows in expected.items():
        text = (folder / f"{shopper}.jsonl").read_text(encoding="utf-8")
        assert text == jsonl(rows), regenerate(pack, how)


def test_the_packs_ship_the_same_holiday_calendar() -> None:
    texts = {(sample_dir(p) / "holidays-ru-2026.toml").read_bytes() for p in ALL}
    assert len(texts) == 1


# -- they score with exactly the planted rejects ----------------------------------------------


@pytest.mark.parametrize("pack", ALL)
def test_the_bundled_wave_scores_with_the_planted_rejects(pack: str) -> None:
    """Each planted defect rejected with its error code, nothing else rejected, no warnings."""
    rows = read_jsonl(sample_dir(pack) / "wave.jsonl")
    planted = wave1(pack).bad
    codes = dict(generator(pack).DEFECTS)
    assert len(score_sample_wave(standard(pack), Wave(rows, planted), codes)) == 300
    assert 1 <= len(planted) <= 10  # the generators plant 4 to 6 bad records


@pytest.mark.parametrize("pack", ALL)
def test_the_second_wave_scores_with_the_planted_rejects(pack: str) -> None:
    """As wave 1; the window fields are visit fields the standards do not declare, accepted
    without a warning."""
    planted = generator(pack).generate_wave2().bad
    rows = read_jsonl(sample_dir(pack) / "wave2.jsonl")
    codes = dict(generator(pack).DEFECTS)
    assert len(score_sample_wave(standard(pack), Wave(rows, planted), codes)) == 300
    assert len(planted) == len(wave1(pack).bad)  # the same share as wave 1


@pytest.mark.parametrize("pack", ALL)
def test_the_calibration_files_score_without_rejects_or_warnings(pack: str) -> None:
    sample = generator(pack)
    std = standard(pack)
    ids = None
    for shopper in sample.CALIBRATION_SHOPPERS:
        rows = read_jsonl(sample_dir(pack) / "calibration" / f"{shopper}.jsonl")
        assert len(rows) == sample.CALIBRATION_CASES == 40
        assert {r["shopper"] for r in rows} == {shopper}
        case_ids = [r["visit_id"] for r in rows]
        assert len(set(case_ids)) == len(case_ids)
        assert ids is None or case_ids == ids  # the same case, the same id, in every file
        ids = case_ids
        outcomes = list(std.score_many(rows))
        assert all(o.ok for o in outcomes), [o.errors for o in outcomes if not o.ok][:2]
        assert all(not o.warnings for o in outcomes)


# -- what the second wave changes ---------------------------------------------------------------


@pytest.mark.parametrize("pack", ALL)
def test_the_second_wave_is_the_same_network_a_month_later(pack: str) -> None:
    first = read_jsonl(sample_dir(pack) / "wave.jsonl")
    second = read_jsonl(sample_dir(pack) / "wave2.jsonl")
    where = {(r["point"], r["region"]) for r in first}
    assert {(r["point"], r["region"]) for r in second} == where
    staff = {(r["point"], r["specialist"]) for r in first}
    assert {(r["point"], r["specialist"]) for r in second} <= staff
    assert not {r["visit_id"] for r in first} & {r["visit_id"] for r in second}
    month1 = {r["date"][:7] for r in first}
    month2 = {r["date"][:7] for r in second}
    assert len(month1) == len(month2) == 1
    (y1, m1), (y2, m2) = (map(int, m.split("-")) for m in (*month1, *month2))
    assert (y2 * 12 + m2) - (y1 * 12 + m1) == 1
    assert set(generator(pack).TREATED_POINTS) < {p for p, _ in where}


def _visit_means(outcomes: Iterable[Any], treated: set[str]) -> tuple[list[float], list[float]]:
    inside, outside = [], []
    for o in outcomes:
        if o.ok and o.coefficients["visit"] is not None:
            (inside if o.point in treated else outside).append(o.coefficients["visit"])
    return inside, outside


def _welch_t(a: list[float], b: list[float]) -> float:
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    return (statistics.mean(b) - statistics.mean(a)) / se


@pytest.mark.parametrize("pack", ALL)
def test_the_training_raises_the_treated_points_by_about_the_injected_amount(pack: str) -> None:
    """The difference in differences of the committed waves lies near the documented
    effect, the treated points' rise is significant and the others' drift small."""
    sample = generator(pack)
    std = standard(pack)
    treated = set(sample.TREATED_POINTS)
    t1, o1 = _visit_means(std.score_many(read_jsonl(sample_dir(pack) / "wave.jsonl")), treated)
    t2, o2 = _visit_means(std.score_many(read_jsonl(sample_dir(pack) / "wave2.jsonl")), treated)
    rise = statistics.mean(t2) - statistics.mean(t1)
    drift = statistics.mean(o2) - statistics.mean(o1)
    effect = sample.EXPECTED_VISIT_EFFECT
    assert 0.09 <= effect <= 0.14
    assert abs((rise - drift) - effect) < 0.04, (rise, drift, effect)
    assert abs(drift) < 0.04
    assert _welch_t(t1, t2) > 2.5
    assert abs(_welch_t(o1, o2)) < 2


@pytest.mark.parametrize("pack", ALL)
def test_without_the_training_the_second_wave_is_the_same_visits(pack: str) -> None:
    """`generate_wave2(trained=False)` differs only in the treated points' answers, and by
    about the documented effect there."""
    sample = generator(pack)
    std = standard(pack)
    treated = set(sample.TREATED_POINTS)
    with_ = sample.generate_wave2().records
    without = sample.generate_wave2(trained=False).records
    assert [r["visit_id"] for r in with_] == [r["visit_id"] for r in without]
    for a, b in zip(with_, without, strict=True):
        assert {k: v for k, v in a.items() if k != "answers"} == {
            k: v for k, v in b.items() if k != "answers"
        }
        if a["point"] not in treated:
            assert a == b
    scored = {o.visit_id: o for o in std.score_many(with_) if o.ok}
    gains = [
        scored[o.visit_id].coefficients["visit"] - o.coefficients["visit"]
        for o in std.score_many(without)
        if o.ok and o.point in treated and o.visit_id in scored
    ]
    assert min(gains) >= 0  # the training only turns failures into passes
    assert abs(statistics.mean(gains) - sample.EXPECTED_VISIT_EFFECT) < 0.04


@pytest.mark.parametrize("pack", ALL)
def test_field_control_finds_exactly_the_planted_failures(pack: str) -> None:
    sample = generator(pack)
    wave = sample.generate_wave2()
    assert sample.late_count(300) == 10 and sample.outside_count(300) == 5
    planted = wave.field_failures
    assert sorted(planted.values()).count("late_submission") == 10
    assert sorted(planted.values()).count("outside_window") == 5
    calendar = sample_dir(pack) / "holidays-ru-2026.toml"
    rows = read_jsonl(sample_dir(pack) / "wave2.jsonl")
    for control in (FieldControl(sample.SUBMIT_DAYS), FieldControl(2, holidays=calendar)):
        found = {r["visit_id"]: control.check(r) for r in rows}
        found = {vid: errors for vid, errors in found.items() if errors}
        assert set(found) == set(planted), control
        for vid, errors in found.items():
            assert [e.code for e in errors] == [planted[vid]]
    late = {r["shopper"] for r in rows if planted.get(r["visit_id"]) == "late_submission"}
    assert late == {sample.LATE_SHOPPER}
    # nothing fails in the first wave nor in the calibration set
    quiet = FieldControl(sample.SUBMIT_DAYS, holidays=calendar)
    assert not [e for r in read_jsonl(sample_dir(pack) / "wave.jsonl") for e in quiet.check(r)]
    for path in (sample_dir(pack) / "calibration").iterdir():
        assert not [e for r in read_jsonl(path) for e in quiet.check(r)]


@pytest.mark.parametrize("pack", ALL)
def test_the_lenient_evaluator_stands_out(pack: str) -> None:
    """Per case, the lenient evaluator's `visit` is above the honest evaluators' mean (a
    95 % interval clear of zero); an honest evaluator against the reference is much
    closer."""
    sample = generator(pack)
    std = standard(pack)
    scores = {}
    for shopper in sample.CALIBRATION_SHOPPERS:
        rows = read_jsonl(sample_dir(pack) / "calibration" / f"{shopper}.jsonl")
        scores[shopper] = {o.visit_id: o.coefficients["visit"] for o in std.score_many(rows)}
    honest = [s for s in scores if s != sample.LENIENT_SHOPPER]
    assert sample.REFERENCE_SHOPPER in honest and len(honest) == 3

    def deviation(who: str, against: list[str]) -> tuple[float, float]:
        d = [scores[who][c] - statistics.mean(scores[a][c] for a in against) for c in scores[who]]
        return statistics.mean(d), 1.96 * statistics.stdev(d) / math.sqrt(len(d))

    lenient, margin = deviation(sample.LENIENT_SHOPPER, honest)
    assert lenient - margin > 0.02
    for shopper in honest:
        if shopper != sample.REFERENCE_SHOPPER:
            mean, _ = deviation(shopper, [sample.REFERENCE_SHOPPER])
            assert abs(mean) < lenient / 3


# -- the generators' command lines --------------------------------------------------------------


@pytest.mark.parametrize("pack", ALL)
def test_the_command_line_writes_wave_2_treated_points_and_calibration(
    pack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = generator(pack)
    out, treated = tmp_path / "wave2.jsonl", tmp_path / "treated.txt"
    args = ["-n", "40", "--seed", "3", "--wave", "2", "-o", str(out), "--treated", str(treated)]
    assert sample.main(args) == 0
    assert out.read_text(encoding="utf-8") == jsonl(sample.generate_wave2(40, 3).records)
    assert treated.read_text(encoding="utf-8").split() == list(sample.TREATED_POINTS)
    assert "outside their window" in capsys.readouterr().err
    folder = tmp_path / "calibration"
    assert sample.main(["--calibration", str(folder), "--cases", "5", "--seed", "3"]) == 0
    expected = sample.generate_calibration(5, 3)
    for shopper, rows in expected.items():
        assert (folder / f"{shopper}.jsonl").read_text(encoding="utf-8") == jsonl(rows)
    assert f"{sample.LENIENT_SHOPPER} lenient" in capsys.readouterr().err


@pytest.mark.parametrize("pack", ALL)
def test_the_generators_stay_deterministic(pack: str) -> None:
    sample = generator(pack)
    assert jsonl(sample.generate_wave2(60, 9).records) == jsonl(
        sample.generate_wave2(60, 9).records
    )
    assert sample.generate_calibration(6, 9) == sample.generate_calibration(6, 9)
    assert sample.generate_calibration(6, 9) != sample.generate_calibration(6, 10)
