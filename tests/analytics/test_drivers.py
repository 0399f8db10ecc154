"""`sbm drivers` and `sbm_engine.analytics.key_drivers`: what moves an outcome.

The importances come from streamed sums (n, Σz, Σzzᵀ), so the first tests check
they equal `stats.relative_weights` / `stats.shapley_r2` on the same rows; then the
properties the spec asks for (they sum to R², equal r² for uncorrelated
predictors, do not depend on the order of predictors or rows), and the command:
refusals, JSON shape, files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from demo import DEMO, GOOD
from hypothesis import given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.analytics import stats
from sbm_engine.analytics.key_drivers import (
    CrossSums,
    DriversError,
    drivers,
    importances_from_cov,
    items_behind,
    poisson_weights,
    visit_hash,
)
from sbm_engine.cli import cli

STD = sbm_engine.load(DEMO)
BANK_SAMPLE = Path(__file__).parents[2] / "plugins" / "sbm-bank" / "sample" / "wave.jsonl"
POINTS = ["P1", "P2", "P3", "P4"]


def from_rows(x: np.ndarray, y: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    sums = CrossSums(x.shape[1] + 1, 0, 1)
    z = np.column_stack([x, y])
    half = len(z) // 2  # two batches: the centre of the first is kept
    sums.add(z[:half], np.zeros(half, dtype=np.uint64))
    sums.add(z[half:], np.zeros(len(z) - half, dtype=np.uint64))
    _, cov, raw = sums.moments(sums.n, sums.s1, sums.s2)
    imp, r2, _ = importances_from_cov(cov, raw, method)
    return imp, r2


matrices = st.integers(min_value=0, max_value=10_000).flatmap(
    lambda seed: st.tuples(st.just(seed), st.integers(min_value=8, max_value=60), st.integers(1, 6))
)


def data(seed: int, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, p)).astype(float)  # yes/no items, sometimes constant
    mix = rng.normal(size=(p, p))
    x = np.column_stack([x, x @ mix[:, :1]]) if p > 1 else x  # a collinear column too
    y = x @ rng.normal(size=x.shape[1]) + rng.normal(size=n)
    return x, y


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_importances_from_sums_equal_stats(case: tuple[int, int, int]) -> None:
    x, y = data(*case)
    rw, r2 = from_rows(x, y, "relative_weights")
    np.testing.assert_allclose(rw, stats.relative_weights(x, y), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(r2, stats.r_squared(x, y), rtol=1e-7, atol=1e-9)
    sh, _ = from_rows(x, y, "shapley")
    np.testing.assert_allclose(sh, stats.shapley_r2(x, y), rtol=1e-7, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_importances_sum_to_r2(case: tuple[int, int, int]) -> None:
    x, y = data(*case)
    for method in ("relative_weights", "shapley"):
        imp, r2 = from_rows(x, y, method)
        assert imp.sum() == pytest.approx(r2, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_uncorrelated_predictors_get_their_r2(seed: int, p: int) -> None:
    """Columns of a ±1 factorial design are exactly uncorrelated: each importance is r²."""
    rng = np.random.default_rng(seed)
    levels = np.array(np.meshgrid(*[[-1.0, 1.0]] * p)).reshape(p, -1).T
    x = np.repeat(levels, 3, axis=0)
    y = x @ rng.normal(size=p) + rng.normal(size=len(x))
    r = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(p)])
    for method in ("relative_weights", "shapley", "correlation"):
        imp, r2 = from_rows(x, y, method)
        np.testing.assert_allclose(imp, r**2, atol=1e-9)
        assert r2 == pytest.approx(float((r**2).sum()), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(matrices, st.randoms(use_true_random=False))
def test_independent_of_predictor_and_row_order(
    case: tuple[int, int, int], rnd: random.Random
) -> None:
    x, y = data(*case)
    cols = list(range(x.shape[1]))
    rnd.shuffle(cols)
    rows = list(range(len(y)))
    rnd.shuffle(rows)
    for method in ("relative_weights", "shapley"):
        base, r2 = from_rows(x, y, method)
        moved, r2_moved = from_rows(x[rows][:, cols], y[rows], method)
        np.testing.assert_allclose(moved, base[cols], atol=1e-9)
        assert r2_moved == pytest.approx(r2, abs=1e-9)


def test_constant_outcome_is_nan() -> None:
    x = np.array([[0.0], [1.0], [0.0], [1.0]])
    imp, r2 = from_rows(x, np.ones(4), "relative_weights")
    assert np.isnan(r2) and np.isnan(imp).all()


def test_poisson_weights_are_poisson_and_fixed() -> None:
    hashes = np.array([visit_hash(f"v{i}") for i in range(4000)], dtype=np.uint64)
    w = poisson_weights(hashes, 50, 7)
    assert w.mean() == pytest.approx(1.0, abs=0.02)
    assert w.var() == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(w, poisson_weights(hashes, 50, 7))
    np.testing.assert_array_equal(w[:, ::-1], poisson_weights(hashes[::-1], 50, 7))
    assert not np.array_equal(w, poisson_weights(hashes, 50, 8))


# -- on scored visits ------------------------------------------------------------------------------


def visits(n: int, seed: int) -> list[dict[str, Any]]:
    """Visits whose client score (`overall`) follows `greeted` and `questions`."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        point = POINTS[i % len(POINTS)]
        greeted = rng.random() < 0.7
        questions = rng.choice([2, 3, 4, 5])
        overall = min(10, max(0, round(2 + 4 * greeted + questions + rng.gauss(0, 1))))
        answers = dict(GOOD)
        answers.update(
            greeted="yes" if greeted else "no",
            smile=rng.choice(["yes", "no"]),
            questions=questions,
            clean=rng.choice([3, 4, 5]),
            wait=rng.choice([2, 7, 12]),
            card=rng.choice(["yes", "no"]),
            overall=overall,
        )
        out.append(
            {
                "visit_id": f"v{seed}-{i}",
                "point": point,
                "specialist": f"{point}-S{i % 3}",
                "region": "R1" if point in POINTS[:2] else "R2",
                "date": "2026-03-10",
                "scenario": "deposit",
                "answers": answers,
            }
        )
    return out


def scored(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in STD.score_many(records)]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture(scope="module")
def wave(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("drivers") / "wave.jsonl", scored(visits(240, 1)))


@pytest.fixture(scope="module")
def bank_wave(tmp_path_factory: pytest.TempPathFactory) -> Path:
    std = sbm_engine.load("bank.branch")
    rows = [json.loads(line) for line in BANK_SAMPLE.read_text("utf-8").splitlines()]
    results = [r.to_dict() for r in std.score_many(rows)]
    results = [r for r in results if "coefficients" in r]
    return write(tmp_path_factory.mktemp("bank") / "wave.jsonl", results)


def test_items_behind_walks_coefficients_and_sections() -> None:
    m = STD.model
    assert items_behind(m, "subjective") == {"overall"}
    assert items_behind(m, "professionalism") == {"questions"}
    assert items_behind(m, "stages") >= {"greeted", "questions", "clean", "card", "secrecy"}
    assert items_behind(m, "visit") == {i.name for i in m.items}


def test_drivers_finds_what_moves_the_client(wave: Path) -> None:
    out = drivers([wave], "subjective", standard=STD, replicates=50)
    assert {"outcome", "method", "r2", "n", "drivers"} <= set(out)
    assert out["outcome"] == "subjective" and out["method"] == "relative_weights"
    assert out["n"] == 240
    names = [d["predictor"] for d in out["drivers"]]
    assert "overall" not in names  # the outcome is computed from it
    assert names[:2] == ["greeted", "questions"] or names[:2] == ["questions", "greeted"]
    assert sum(d["importance"] for d in out["drivers"]) == pytest.approx(out["r2"])
    for d in out["drivers"]:
        assert d["share"] == pytest.approx(d["importance"] / out["r2"])
        assert d["ci_low"] <= d["ci_high"]
        assert d["quadrant"] in {
            "concentrate here",
            "keep up the good work",
            "low priority",
            "possible overkill",
        }
        assert d["gap"] == pytest.approx(1 - d["performance"])
    greeted = next(d for d in out["drivers"] if d["predictor"] == "greeted")
    assert greeted["sign"] == 1
    # impact: mean outcome when passed − when failed, straight from the records
    rows = [json.loads(line) for line in wave.read_text("utf-8").splitlines()]
    yes = [r["coefficients"]["subjective"] for r in rows if r["items"]["greeted"] == 1]
    no = [r["coefficients"]["subjective"] for r in rows if r["items"]["greeted"] == 0]
    assert greeted["impact"] == pytest.approx(sum(yes) / len(yes) - sum(no) / len(no))
    assert greeted["n_passed"] == len(yes) and greeted["n_failed"] == len(no)
    assert "impact" not in next(d for d in out["drivers"] if d["predictor"] == "questions")


def test_drivers_do_not_depend_on_row_order(wave: Path, tmp_path: Path) -> None:
    rows = wave.read_text("utf-8").splitlines()
    random.Random(3).shuffle(rows)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(rows) + "\n", "utf-8")
    a = drivers([wave], "subjective", standard=STD, replicates=30)
    b = drivers([shuffled], "subjective", standard=STD, replicates=30)
    da = {d["predictor"]: d for d in a["drivers"]}
    for d in b["drivers"]:
        for key in ("importance", "performance", "ci_low", "ci_high"):
            assert d[key] == pytest.approx(da[d["predictor"]][key], abs=1e-9)


def test_drivers_sections_shapley_and_tags(wave: Path) -> None:
    out = drivers([wave], "subjective", predictors="sections", method="shapley", standard=STD)
    assert {d["predictor"] for d in out["drivers"]} == {"greeting", "needs", "premises"}
    assert sum(d["importance"] for d in out["drivers"]) == pytest.approx(out["r2"])
    tags = drivers([wave], "subjective", predictors="tags", standard=STD, replicates=0)
    assert all(d["ci_low"] is None for d in tags["drivers"])


def test_refuses_an_outcome_computed_from_the_predictors(wave: Path) -> None:
    with pytest.raises(DriversError, match="only returns the weights"):
        drivers([wave], "visit", standard=STD)
    with pytest.raises(DriversError, match="did you mean 'subjective'"):
        drivers([wave], "subjectve", standard=STD)


def test_shapley_refuses_more_than_15_predictors(bank_wave: Path) -> None:
    with pytest.raises(DriversError, match="at most 15"):
        drivers([bank_wave], "subjective", method="shapley")
    out = drivers([bank_wave], "subjective", predictors="sections", method="shapley")
    assert out["r2"] is not None and out["n"] > 200


def test_outcome_table_joined_on_point(wave: Path, tmp_path: Path) -> None:
    table = tmp_path / "nps.csv"
    table.write_text("point,nps\nP1,10\nP2,30\nP3,\nP9,5\n", "utf-8")
    out = drivers([wave], "nps", outcomes=table, on="point", predictors="sections", standard=STD)
    assert out["n"] == 120  # P1 and P2; P3 has no figure, P4 is not in the table
    assert out["dropped"]["no_outcome"] == 120
    assert out["groups"] == 2
    assert any("not in the outcomes table" in n for n in out["notes"])
    assert any("2 point values" in n for n in out["notes"])
    dup = tmp_path / "dup.csv"
    dup.write_text("point,nps\nP1,10\nP1,11\n", "utf-8")
    with pytest.raises(DriversError, match="one row per point"):
        drivers([wave], "nps", outcomes=dup, on="point", standard=STD)
    with pytest.raises(DriversError, match="did you mean 'nps'"):
        drivers([wave], "np", outcomes=table, on="point", standard=STD)


# -- the command -----------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["drivers", *args])


def test_cli_table_json_and_files(wave: Path, tmp_path: Path) -> None:
    std = str(DEMO)
    r = run(str(wave), "--outcome", "subjective", "--standard", std, "--replicates", "20")
    assert r.exit_code == 0, r.output
    assert "concentrate here" in r.output or "keep up the good work" in r.output
    r = run(str(wave), "--outcome", "subjective", "--standard", std, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {"outcome", "method", "r2", "n", "drivers"} <= set(doc)
    for suffix in ("json", "csv", "xlsx"):
        out = tmp_path / f"d.{suffix}"
        r = run(str(wave), "--outcome", "subjective", "--standard", std, "-o", str(out))
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "d.json").read_text("utf-8"))["n"] == 240
    assert (tmp_path / "d.csv").read_text("utf-8").startswith("table,")


def test_cli_refusals_exit_2(wave: Path, tmp_path: Path) -> None:
    std = str(DEMO)
    r = run(str(wave), "--outcome", "visit", "--standard", std)
    assert r.exit_code == 2 and "only returns the weights" in r.output
    r = run(str(wave), "--outcome", "subjectiv", "--standard", std)
    assert r.exit_code == 2 and "did you mean 'subjective'" in r.output
    r = run(str(wave), "--outcome", "nps", "--outcomes", str(wave))
    assert r.exit_code == 2 and "go together" in r.output
    r = run(str(tmp_path / "missing.jsonl"), "--outcome", "subjective")
    assert r.exit_code == 2 and "no such file" in r.output
    r = run(str(wave), "--outcome", "subjective", "--standard", std, "-o", str(tmp_path / "x.txt"))
    assert r.exit_code == 2
