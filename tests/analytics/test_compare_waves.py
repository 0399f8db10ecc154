"""`sbm compare` and `sbm_engine.analytics.compare`: waves by group.

The waves are scored visits of the conformance standard, generated with a seed, so
each test can say exactly what should come out: a wave against itself changes
nothing, equal changes give no effect, the order of rows changes no figure, and
what cannot be compared is refused with a message naming the file and line.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demo import DEMO, GOOD
from hypothesis import given
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.analytics.moments import Moments
from sbm_engine.cli import cli
from sbm_engine.result_files import ResultsError

pytest.importorskip("scipy")
from sbm_engine.analytics import compare as analytics_compare

STD = sbm_engine.load(DEMO)


def compare(waves: Any, **kwargs: Any) -> dict[str, Any]:
    return analytics_compare(waves, standard=STD, **kwargs)


POINTS = ["P1", "P2", "P3", "P4", "P5", "P6"]


def visits(n: int, seed: int, lift: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """`n` visits over six points; `lift` raises the chance of a "yes" at some points."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        point = POINTS[i % len(POINTS)]
        p = 0.6 + (lift or {}).get(point, 0.0)
        answers = dict(GOOD)
        answers.update(
            greeted="yes" if rng.random() < p else "no",
            smile="yes" if rng.random() < p else "no",
            card="yes" if rng.random() < p else "no",
            questions=rng.choice([2, 3, 4, 5]),
            clean=rng.choice([3, 4, 5]),
            wait=rng.choice([2, 7, 12]),
        )
        out.append(
            {
                "visit_id": f"v{seed}-{i}",
                "point": point,
                "specialist": f"{point}-S{i % 2}",
                "region": "R1" if point in POINTS[:3] else "R2",
                "date": f"2026-0{3 + seed % 3}-1{i % 9}",
                "scenario": "deposit",
                "answers": answers,
            }
        )
    return out


def scored(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = [r.to_dict() for r in STD.score_many(records)]
    assert all("coefficients" in r for r in results)
    return results


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("waves")
    a = write(d / "march.jsonl", scored(visits(240, 1)))
    b = write(d / "april.jsonl", scored(visits(240, 2, lift={"P1": 0.35, "P2": 0.35})))
    return a, b


# -- exact moments -------------------------------------------------------------------------------

floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | st.sampled_from(
    [0.0, 0.25, 1.0]
)


@given(st.lists(floats, min_size=2, max_size=60), st.randoms())
def test_moments_are_exact_and_independent_of_order(xs: list[float], rnd: random.Random) -> None:
    m = Moments()
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    m2 = Moments()
    for x in xs:
        m.add(x)
    for x in shuffled:
        m2.add(x)
    exact = [Fraction(x) for x in xs]
    n = len(xs)
    mean = sum(exact) / n
    var = sum((x - mean) ** 2 for x in exact) / (n - 1)
    assert m.mean() == float(mean) == m2.mean()
    assert m.variance() == float(var) == m2.variance()


# -- the comparison --------------------------------------------------------------------------------


def test_a_wave_against_itself_changes_nothing(two_waves: tuple[Path, Path]) -> None:
    a, _ = two_waves
    report = compare([a, a], by="point", labels=["one", "two"])
    assert report["rows"]
    for row in report["rows"]:
        assert row["change"] == 0
        assert row["significant"] is False
        if row["p"] is not None:
            assert row["p"] == pytest.approx(1.0)


def test_means_and_welch_agree_with_scipy(two_waves: tuple[Path, Path]) -> None:
    from scipy import stats

    a, b = two_waves
    report = compare([a, b], by="point")
    values: dict[str, dict[str, list[float]]] = {"march": {}, "april": {}}
    for wave, path in (("march", a), ("april", b)):
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line)
            if r["coefficients"]["visit"] is not None:
                values[wave].setdefault(r["point"], []).append(r["coefficients"]["visit"])
    rows = [r for r in report["rows"] if r["measure"] == "visit"]
    assert {r["key"] for r in rows} == set(POINTS)
    for row in rows:
        xa, xb = values["march"][row["key"]], values["april"][row["key"]]
        t = stats.ttest_ind(xb, xa, equal_var=False)
        assert row["mean_a"] == pytest.approx(sum(xa) / len(xa), abs=1e-12)
        assert row["p"] == pytest.approx(t.pvalue, rel=1e-9)
        ci = t.confidence_interval(0.95)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
        assert row["n_a"] == len(xa) and row["n_b"] == len(xb)
        assert row["mde"] > 0


def test_the_lifted_points_change_significantly(two_waves: tuple[Path, Path]) -> None:
    report = compare(list(two_waves), by="point")
    rows = {r["key"]: r for r in report["rows"] if r["measure"] == "compliance"}
    assert rows["P1"]["change"] > 0.1 and rows["P1"]["significant"]
    p_adjusted = [r["p_adjusted"] for r in report["rows"] if r["p"] is not None]
    raw = [r["p"] for r in report["rows"] if r["p"] is not None]
    assert all(adj >= p - 1e-15 for adj, p in zip(p_adjusted, raw, strict=True))


def test_item_rows_are_pass_rates_with_newcombe_intervals(two_waves: tuple[Path, Path]) -> None:
    report = compare(list(two_waves), by="network")
    row = next(r for r in report["rows"] if r["measure"] == "greeted")
    assert row["kind"] == "item"
    assert 0 <= row["mean_a"] <= 1 and row["ci_low"] <= row["change"] <= row["ci_high"]


def test_figures_do_not_depend_on_the_order_of_rows(
    two_waves: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_waves
    rows_a = [json.loads(x) for x in a.read_text("utf-8").splitlines()]
    rows_b = [json.loads(x) for x in b.read_text("utf-8").splitlines()]
    random.Random(7).shuffle(rows_a)
    random.Random(8).shuffle(rows_b)
    half = len(rows_b) // 2
    shuffled = [
        write(tmp_path / "march.jsonl", rows_a),
        [write(tmp_path / "b1.jsonl", rows_b[:half]), write(tmp_path / "b2.jsonl", rows_b[half:])],
    ]
    treated = ["P1", "P2"]
    first = compare([a, b], by="point", labels=["A", "B"], treated=treated)
    second = compare(shuffled, by="point", labels=["A", "B"], treated=treated)
    assert first == second


def test_equal_changes_give_no_effect(tmp_path: Path) -> None:
    base = scored(visits(120, 3))
    later = [dict(r) for r in base]  # the same visits: every group changes by 0
    a = write(tmp_path / "a.jsonl", base)
    b = write(tmp_path / "b.jsonl", later)
    effect = compare([a, b], by="point", treated=["P1", "P3"])["effect"]
    for row in effect["coefficients"]:
        assert row["effect"] == pytest.approx(0, abs=1e-12)
        assert row["significant"] is False


def test_the_effect_of_a_lift_is_found(two_waves: tuple[Path, Path]) -> None:
    effect = compare(list(two_waves), by="point", treated=["P1", "P2", "P9"])["effect"]
    row = next(r for r in effect["coefficients"] if r["measure"] == "compliance")
    assert row["effect"] > 0.1 and row["ci_low"] > 0
    assert effect["missing"] == ["P9"] and effect["treated"] == ["P1", "P2"]


def test_a_group_in_one_wave_only_is_listed(two_waves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_waves
    rows = [json.loads(x) for x in b.read_text("utf-8").splitlines()]
    rows = [r for r in rows if r["point"] != "P6"]
    b2 = write(tmp_path / "april.jsonl", rows)
    report = compare([a, b2], by="point")
    assert report["unmatched"] == [{"key": "P6", "waves": ["march"]}]
    assert "P6" not in {r["key"] for r in report["rows"]}


def test_three_waves_give_trends_and_a_control_chart(tmp_path: Path) -> None:
    paths = [
        write(tmp_path / f"w{i}.jsonl", scored(visits(180, 10 + i, lift={"P1": 0.12 * i})))
        for i in range(3)
    ]
    report = compare(paths, by="point")
    trend = {(t["key"], t["measure"]): t for t in report["trend"]}
    assert trend[("P1", "compliance")]["slope"] > 0
    assert len(trend[("P1", "compliance")]["means"]) == 3
    assert report["control_chart"]["checked"] > 0


def test_one_input_is_split_by_month(two_waves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_waves
    both = write(
        tmp_path / "year.jsonl",
        [json.loads(x) for p in (a, b) for x in p.read_text("utf-8").splitlines()],
    )
    report = compare([both], by="network")
    assert len(report["waves"]) == 2 and report["waves"] == sorted(report["waves"])


# -- what is refused ----------------------------------------------------------------------------


def test_waves_of_two_versions_are_refused(two_waves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_waves
    rows = [json.loads(x) for x in b.read_text("utf-8").splitlines()]
    for r in rows:
        r["version"] = "2099.1"
    b2 = write(tmp_path / "april.jsonl", rows)
    with pytest.raises(ResultsError, match=r"two versions .*april\.jsonl:1"):
        compare([a, b2], by="point")


def test_a_rejects_file_is_refused(two_waves: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = two_waves
    rejects = write(
        tmp_path / "r.jsonl", [{"visit_id": "x", "source": "f:1", "errors": [], "record": {}}]
    )
    with pytest.raises(ResultsError, match="rejects file"):
        compare([a, rejects], by="point")


# -- the command ----------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_table_json_and_files(two_waves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_waves
    table = run("compare", a, b, "--by", "point", "--standard", DEMO)
    assert table.exit_code == 0, table.output
    assert "Соблюдение стандартов" in table.output and "march → april" in table.output
    as_json = run("compare", a, b, "--standard", DEMO, "--format", "json")
    assert as_json.exit_code == 0
    doc = json.loads(as_json.stdout)
    assert doc["waves"] == ["march", "april"] and doc["rows"]
    for ext in ("json", "csv", "xlsx"):
        out = tmp_path / f"cmp.{ext}"
        res = run("compare", a, b, "--standard", DEMO, "-o", out)
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "cmp.json").read_text("utf-8")) == doc


def test_cli_refuses_with_exit_2_and_writes_nothing(
    two_waves: tuple[Path, Path], tmp_path: Path
) -> None:
    a, _ = two_waves
    raw = write(tmp_path / "raw.jsonl", visits(3, 1))
    out = tmp_path / "out.json"
    res = run("compare", a, raw, "--standard", DEMO, "-o", out)
    assert res.exit_code == 2
    assert "unscored visit" in res.output and "raw.jsonl:1" in res.output
    assert not out.exists()


# -- every format gives the same figures -----------------------------------------------------------


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    d = tmp_path_factory.mktemp("formats")
    out: dict[str, list[Path]] = {}
    for wave, seed in (("march", 1), ("april", 2)):
        visits_file = write(d / f"{wave}-visits.jsonl", visits(150, seed, lift={"P2": 0.3}))
        for ext in ("jsonl", "csv", "parquet", "xlsx"):
            target = d / ext / f"{wave}.{ext}"
            target.parent.mkdir(exist_ok=True)
            res = run("score", DEMO, visits_file, "-o", target)
            assert res.exit_code == 0, res.output
            out.setdefault(ext, []).append(target)
    return out


def test_every_format_gives_the_same_figures(formats: dict[str, list[Path]]) -> None:
    pytest.importorskip("pyarrow")
    reports = {ext: compare(paths, by="point", treated=["P2"]) for ext, paths in formats.items()}
    assert reports["csv"] == reports["jsonl"]
    assert reports["parquet"] == reports["jsonl"]
    assert reports["xlsx"] == reports["jsonl"]


def test_parquet_and_csv_are_read_a_column_at_a_time(
    formats: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    from sbm_engine.analytics import waves

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read record by record")

    monkeypatch.setattr(waves, "CheckedResults", refuse)
    assert compare(formats["parquet"], by="region")["rows"]
    assert compare(formats["csv"], by="region")["rows"]


def test_a_bad_parquet_value_is_named_by_the_record_path(
    formats: dict[str, list[Path]], tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pq.read_table(formats["parquet"][1])
    values = table.column("items.greeted").to_pylist()
    values[4] = 1.5
    index = table.schema.get_field_index("items.greeted")
    table = table.set_column(index, "items.greeted", pa.array(values, pa.float64()))
    broken = tmp_path / "april.parquet"
    pq.write_table(table, broken)
    with pytest.raises(ResultsError, match=r"april\.parquet:5.*greeted"):
        compare([formats["parquet"][0], broken], by="point")


any_float = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.sampled_from(
    [0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 0.1, 1 / 3]
)


@given(st.lists(st.tuples(st.sampled_from(["P1", "P2"]), any_float), min_size=2, max_size=40))
def test_the_column_sums_equal_the_value_by_value_sums(rows: list[tuple[str, float]]) -> None:
    """Any finite floats, huge, tiny or negative: the columnar path's exact integer
    sums give the same means and variances as `Moments.add`, bit for bit."""
    pa = pytest.importorskip("pyarrow")
    from sbm_engine.analytics import columnar, waves

    table = pa.table(
        {
            "standard": [STD.id] * len(rows),
            "version": [STD.version] * len(rows),
            "point": [p for p, _ in rows],
            "coefficients.visit": [x for _, x in rows],
        }
    )
    tally = waves.WaveTally(STD.model, "point")
    sums = columnar.WaveSums(tally)
    for batch in table.to_batches(max_chunksize=7):
        codes, keys = columnar._group_codes(batch, tally, (STD.id, STD.version))
        sums.add(sums.global_codes(codes, keys), columnar._measures(batch, tally))
    sums.fold_into(tally, "w")
    expected: dict[str, Moments] = {}
    for p, x in rows:
        expected.setdefault(p, Moments()).add(x)
    for p, m in expected.items():
        got = tally.cells[("w", p)].coefs["visit"]
        assert (got.count, got.mean(), got.variance()) == (m.count, m.mean(), m.variance())
