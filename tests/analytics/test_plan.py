"""`sbm plan` and `sbm_engine.analytics.planning.plan`: the cheapest levers that reach a target.

The optimisation core is checked on the `plan_lp` worked case (a fractional knapsack
whose greedy answer is optimal) and on random problems (a higher target never costs
less, a budget is never exceeded); the whole command on a small linear standard,
whose simulation must agree with the model, and on each pack's sample wave.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.analytics.levers import Lever, levers_from_text, read_levers
from sbm_engine.cli import cli

pytest.importorskip("scipy")
from sbm_engine.analytics.planning import PlanError, Problem, plan, score, solve

CASES = json.loads((Path(__file__).parent / "stats_cases.json").read_text("utf-8"))
ROOT = Path(__file__).parents[2]
_DIR = Path(tempfile.mkdtemp(prefix="sbm-plan-"))

# ---- the plan_lp worked case --------------------------------------------------------------------


def lp_problem() -> tuple[Problem, dict[str, Any]]:
    case = CASES["plan_lp"]
    levers, means, slopes = [], {}, {}
    for name, (weight, now, most, per_point) in case["items"].items():
        means[name] = now
        slopes[name] = weight / 100
        levers.append(
            Lever(
                id=name,
                title=name,
                kind="training",
                items=(name,),
                adds=most - now,
                closes=None,
                cost=per_point * 100 * (most - now),
                divisible=True,
            )
        )
    current = math.fsum(means[n] * slopes[n] for n in means)
    assert current == pytest.approx(case["current"])
    return Problem(current, means, slopes, levers, [lv.cost for lv in levers]), case


def test_plan_lp_case_the_optimisation_core() -> None:
    problem, case = lp_problem()
    choice, note = solve(problem, case["target"])
    assert note is None
    assert choice.cost == pytest.approx(case["expect"]["total_cost"], rel=1e-9)
    assert choice.expected == pytest.approx(case["target"], abs=1e-9)
    for item, points in case["expect"]["lift_percentage_points"].items():
        assert choice.gains.get(item, 0.0) * 100 == pytest.approx(points, abs=1e-7)


LP_STANDARD = """\
standard lp.case "Дробный рюкзак" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    item greeting "Приветствие" answer yes_no weight 10 tags t
    item needs "Потребности" answer yes_no weight 25 tags t
    item presentation "Презентация" answer yes_no weight 25 tags t
    item cross_sell "Допродажа" answer yes_no weight 20 tags t
    item closing "Завершение" answer yes_no weight 20 tags t
    coefficient visit "Визит" = weighted_mean(tagged t)
}
"""


def test_plan_lp_case_end_to_end(tmp_path: Path) -> None:
    """The same case through results and a levers file: 20 visits at the case's rates."""
    case = CASES["plan_lp"]
    std_path = tmp_path / "lp.sbm"
    std_path.write_text(LP_STANDARD, encoding="utf-8")
    std = sbm_engine.load(std_path)
    rows = []
    for k in range(20):
        answers = {
            name: "yes" if k < round(now * 20) else "no"
            for name, (_, now, _, _) in case["items"].items()
        }
        rows.append({"visit_id": f"v{k}", "point": "P1", "specialist": "S1", "answers": answers})
    results = write(tmp_path / "r.jsonl", [o.to_dict() for o in std.score_many(rows)])
    toml = ['currency = "RUB"']
    for name, (_, now, most, per_point) in case["items"].items():
        toml += [
            "[[lever]]",
            f'id = "{name}"',
            f'items = ["{name}"]',
            f"adds = {most - now!r}",
            f"cost = {per_point * 100 * (most - now)!r}",
            "divisible = true",
        ]
    levers = tmp_path / "levers.toml"
    levers.write_text("\n".join(toml) + "\n", encoding="utf-8")
    doc = plan(results, levers, "visit=0.8", by="network", standard=std)
    (group,) = doc["groups"]
    assert group["current"] == pytest.approx(case["current"], abs=1e-12)
    assert doc["total_cost"] == pytest.approx(case["expect"]["total_cost"], rel=1e-9)
    lifts = {x["item"]: x["gain"] * 100 for x in group["lifts"]}
    for item, points in case["expect"]["lift_percentage_points"].items():
        assert lifts.get(item, 0.0) == pytest.approx(points, abs=1e-7)
    assert group["reaches_target"]
    # linear standard: the simulation agrees with the model
    assert group["simulated_ci"][0] - 1e-9 <= group["expected"] <= group["simulated_ci"][1] + 1e-9


# ---- properties of the optimisation -----------------------------------------------------------

ITEMS = ["a", "b", "c", "d", "e"]


@st.composite
def problems(draw: Any) -> Problem:
    n_items = draw(st.integers(1, 5))
    names = ITEMS[:n_items]
    means = {n: draw(st.sampled_from([0.0, 0.2, 0.5, 0.75, 0.9, 1.0])) for n in names}
    slopes = {n: draw(st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.4])) for n in names}
    levers = []
    for k in range(draw(st.integers(1, 4))):
        items = tuple(draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)))
        effect = draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))
        adds = draw(st.booleans())
        levers.append(
            Lever(
                id=f"l{k}",
                title=f"l{k}",
                kind="other",
                items=items,
                adds=effect if adds else None,
                closes=None if adds else effect,
                cost=float(draw(st.integers(0, 5000))),
                divisible=draw(st.booleans()),
            )
        )
    current = draw(st.sampled_from([0.3, 0.5, 0.7]))
    return Problem(current, means, slopes, levers, [lv.cost for lv in levers])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.floats(0.3, 1.0), st.floats(0.0, 0.5))
def test_a_higher_target_never_costs_less(problem: Problem, target: float, more: float) -> None:
    low, _ = solve(problem, target)
    high, _ = solve(problem, target + more)
    assert high.cost >= low.cost - 1e-6 * max(1.0, low.cost)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.floats(0.3, 1.0), st.integers(0, 8000))
def test_a_budget_is_never_exceeded(problem: Problem, target: float, budget: int) -> None:
    choice, note = solve(problem, target, budget=float(budget))
    assert choice.cost <= budget + 1e-6 * max(1.0, budget)
    unlimited, _ = solve(problem, target)
    if choice.expected < target - 1e-9:
        assert note is not None and "budget" in note
    # what the plan is said to give is what its fractions give
    again = score(problem, choice.fractions)
    assert again.expected == pytest.approx(choice.expected, abs=1e-12)
    assert unlimited.expected >= min(choice.expected, target) - 1e-7


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.floats(0.3, 1.0))
def test_the_plan_reaches_the_target_or_says_so(problem: Problem, target: float) -> None:
    choice, note = solve(problem, target)
    everything = score(problem, [1.0] * len(problem.levers))
    if everything.expected >= target - 1e-9:
        assert choice.expected >= target - 1e-9 and note is None
        assert choice.cost <= everything.cost + 1e-6
    else:
        assert note is not None and "reachable" in note
        assert choice.expected == pytest.approx(everything.expected, abs=1e-7)


# ---- a linear standard, end to end -----------------------------------------------------------

LINEAR = """\
standard lin.plan "Линейный стандарт" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    scale grade3 { 1 = 0, 2 = 0.5, 3 = 1 }
    item a "Поприветствовал" answer yes_no weight 2 tags t
    item b "Выявил потребность" answer grade3 weight 1 tags t
    item c "Предложил продукт" answer yes_no weight 3 tags t
    item note "Комментарий" answer text optional
    coefficient visit "Визит" = weighted_mean(tagged t)
}
"""

LIN_LEVERS = """\
currency = "RUB"

[[lever]]
id = "train_a"
title = "Тренинг приветствия"
kind = "training"
items = ["a"]
closes = 0.5
cost_per_specialist = 100

[[lever]]
id = "bonus"
title = "Бонус за результат"
kind = "motivation"
tags = ["t"]
adds = 0.1
cost = 500
divisible = true

[[lever]]
id = "process_c"
title = "Процесс продаж"
kind = "process"
items = ["c"]
adds = 0.3
cost_per_point = 800
"""

LIN_PATH = _DIR / "linear.sbm"
LIN_PATH.write_text(LINEAR, encoding="utf-8")
LIN = sbm_engine.load(LIN_PATH)
LEVERS_PATH = _DIR / "levers.toml"
LEVERS_PATH.write_text(LIN_LEVERS, encoding="utf-8")


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def linear_results(n: int, seed: int, rates: tuple[float, float, float] = (0.7, 0.5, 0.4)) -> list:
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        point = f"P{k % 3 + 1}"
        rows.append(
            {
                "visit_id": f"v{seed}-{k}",
                "point": point,
                "specialist": f"{point}-S{k % 2}",
                "region": "R1" if point != "P3" else "R2",
                "answers": {
                    "a": "yes" if rng.random() < rates[0] else "no",
                    "b": rng.choice([1, 2, 3]) if rng.random() >= rates[1] else 3,
                    "c": "yes" if rng.random() < rates[2] else "no",
                },
            }
        )
    out = [o.to_dict() for o in LIN.score_many(rows)]
    assert all("coefficients" in r for r in out)
    return out


@pytest.fixture(scope="module")
def lin_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("plan") / "wave.jsonl", linear_results(90, 1))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10_000),
    st.tuples(*[st.sampled_from([0.2, 0.5, 0.8, 1.0])] * 3),
    st.floats(0.5, 0.95),
    st.sampled_from(["point", "region", "network"]),
)
def test_a_plan_for_a_linear_standard_is_confirmed_by_the_simulation(
    seed: int, rates: tuple[float, float, float], target: float, by: str
) -> None:
    path = write(_DIR / f"lin-{seed}.jsonl", linear_results(45, seed, rates))
    doc = plan(path, LEVERS_PATH, ("visit", target), by=by, standard=LIN, draws=200)
    for g in doc["groups"]:
        lo, hi = g["simulated_ci"]
        assert lo - 1e-9 <= g["expected"] <= hi + 1e-9, g
        if g["reaches_target"]:
            assert hi >= target - 1e-9
        assert g["note"] is None or "reachable" in g["note"] or "sample" in g["note"]
    path.unlink()


@settings(max_examples=5, deadline=None)
@given(st.randoms(use_true_random=False))
def test_outputs_do_not_depend_on_the_order_of_rows(lin_results: Path, rnd: random.Random) -> None:
    rows = lin_results.read_text("utf-8").splitlines(keepends=True)
    rnd.shuffle(rows)
    shuffled = _DIR / "shuffled.jsonl"
    shuffled.write_text("".join(rows), "utf-8")
    for by, budget in (("point", None), ("network", 900.0)):
        a = plan(lin_results, LEVERS_PATH, "visit=0.9", by=by, budget=budget, standard=LIN)
        b = plan(shuffled, LEVERS_PATH, "visit=0.9", by=by, budget=budget, standard=LIN)
        assert json.dumps(a) == json.dumps(b)


def test_the_output_shape_and_costs(lin_results: Path) -> None:
    doc = plan(lin_results, LEVERS_PATH, "visit=0.85", by="point", standard=LIN)
    assert {"target", "by", "currency", "groups", "total_cost"} <= set(doc)
    assert doc["target"] == {"coefficient": "visit", "value": 0.85}
    assert doc["currency"] == "RUB" and doc["by"] == "point"
    assert [g["key"] for g in doc["groups"]] == ["P1", "P2", "P3"]
    keys = {"key", "current", "levers", "cost", "expected", "simulated", "simulated_ci"}
    for g in doc["groups"]:
        assert keys | {"reaches_target", "note"} <= set(g)
        assert g["n"] == 30
        assert math.isclose(g["cost"], sum(lv["cost"] for lv in g["levers"]), rel_tol=1e-12)
        for lever in g["levers"]:
            assert set(lever) >= {"id", "fraction", "cost"}
            full = {"train_a": 100 * 2, "bonus": 500, "process_c": 800}[lever["id"]]
            assert lever["cost"] == pytest.approx(lever["fraction"] * full)
    assert doc["total_cost"] == pytest.approx(sum(g["cost"] for g in doc["groups"]))


def test_a_target_out_of_reach_keeps_the_group_and_says_so(lin_results: Path) -> None:
    doc = plan(lin_results, LEVERS_PATH, "visit=0.999", by="network", standard=LIN)
    (g,) = doc["groups"]
    assert not g["reaches_target"]
    assert "best reachable value" in g["note"]
    assert {lv["id"] for lv in g["levers"]} == {"train_a", "bonus", "process_c"}
    assert g["expected"] < 0.999


def test_a_reached_target_needs_nothing(lin_results: Path) -> None:
    doc = plan(lin_results, LEVERS_PATH, "visit=0.1", by="point", standard=LIN)
    for g in doc["groups"]:
        assert g["levers"] == [] and g["cost"] == 0 and g["reaches_target"]
        assert g["simulated"] == g["current"] == g["expected"]


def test_what_if_scores_the_plan_it_is_given(lin_results: Path, tmp_path: Path) -> None:
    chosen = plan(lin_results, LEVERS_PATH, "visit=0.85", by="point", standard=LIN)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(chosen), "utf-8")
    again = plan(
        lin_results, LEVERS_PATH, "visit=0.85", by="point", standard=LIN, what_if=plan_file
    )
    assert again["mode"] == "what-if"
    for a, b in zip(chosen["groups"], again["groups"], strict=True):
        assert b["cost"] == pytest.approx(a["cost"])
        assert b["expected"] == pytest.approx(a["expected"])
    every = plan(
        lin_results,
        LEVERS_PATH,
        "visit=0.85",
        by="point",
        standard=LIN,
        what_if={"levers": ["train_a", {"id": "bonus", "fraction": 0.5}], "groups": {"P9": []}},
    )
    assert every["unmatched"] == ["P9"]
    for g in every["groups"]:
        assert [lv["id"] for lv in g["levers"]] == ["train_a", "bonus"]
        assert g["cost"] == pytest.approx(200 + 250)
    for bad, words in (
        ({"levers": ["trian_a"]}, "did you mean `train_a`?"),
        ({"levers": [{"id": "train_a", "fraction": 0.5}]}, "not divisible"),
        ({"levers": [{"id": "bonus", "fraction": 2}]}, "between 0 and 1"),
        ({"nothing": 1}, "a plan is an object"),
    ):
        with pytest.raises(PlanError, match=words.replace("?", r"\?")):
            plan(lin_results, LEVERS_PATH, "visit=0.85", standard=LIN, what_if=bad)


def test_the_budget_mode(lin_results: Path) -> None:
    doc = plan(lin_results, LEVERS_PATH, "visit=0.99", by="network", budget=300, standard=LIN)
    (g,) = doc["groups"]
    assert doc["mode"] == "budget" and g["cost"] <= 300 + 1e-9
    assert "within the budget" in g["note"]


def test_the_simulation_keeps_a_bounded_sample(lin_results: Path) -> None:
    doc = plan(lin_results, LEVERS_PATH, "visit=0.9", by="network", standard=LIN, sample=20)
    (g,) = doc["groups"]
    assert g["n"] == 90 and g["n_simulated"] == 20
    assert "sample of 20 of 90 visits" in g["note"]
    full = plan(lin_results, LEVERS_PATH, "visit=0.9", by="network", standard=LIN)
    assert full["groups"][0]["n_simulated"] == 90
    assert full["groups"][0]["expected"] == g["expected"]  # the model uses every visit


def test_an_unknown_coefficient_or_bad_target(lin_results: Path) -> None:
    with pytest.raises(PlanError, match=r"did you mean `visit`\?"):
        plan(lin_results, LEVERS_PATH, "vist=0.8", standard=LIN)
    with pytest.raises(PlanError, match="sets no target for `visit`"):
        plan(lin_results, LEVERS_PATH, "visit", standard=LIN)
    with pytest.raises(PlanError, match="COEFFICIENT=VALUE"):
        plan(lin_results, LEVERS_PATH, "visit=high", standard=LIN)


# ---- the command line --------------------------------------------------------------------------


def run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_json_table_and_files(lin_results: Path, tmp_path: Path) -> None:
    base = (lin_results, "--levers", LEVERS_PATH, "--target", "visit=0.85", "--standard", LIN_PATH)
    as_json = run("plan", *base, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert {"target", "by", "currency", "groups", "total_cost"} <= set(doc)
    table = run("plan", *base)
    assert table.exit_code == 0, table.output
    assert "Тренинг приветствия" in table.stdout and "P1" in table.stdout
    assert "Total:" in table.stdout
    for suffix in ("json", "csv", "xlsx"):
        out = tmp_path / f"plan.{suffix}"
        written = run("plan", *base, "-o", out)
        assert written.exit_code == 0, written.output
        assert out.stat().st_size > 0
    what_if = run("plan", *base, "--what-if", tmp_path / "plan.json", "--format", "json")
    assert what_if.exit_code == 0, what_if.output
    assert json.loads(what_if.stdout)["total_cost"] == pytest.approx(doc["total_cost"])


def test_cli_refuses_with_exit_2(lin_results: Path, tmp_path: Path) -> None:
    bad = tmp_path / "levers.toml"
    bad.write_text(LIN_LEVERS.replace('items = ["a"]', 'items = ["aa"]'), "utf-8")
    base = (lin_results, "--target", "visit=0.85", "--standard", LIN_PATH)
    result = run("plan", *base, "--levers", bad)
    assert result.exit_code == 2
    assert f"{bad}:7:10" in result.stderr and '["aa"]' in result.stderr
    assert "^^^^" in result.stderr and "error[L0201]" in result.stderr
    for args, words in (
        (("--levers", LEVERS_PATH, "--target", "vist=1"), "did you mean `visit`?"),
        (("--levers", LEVERS_PATH, "--target", "visit=x"), "COEFFICIENT=VALUE"),
        (("--levers", LEVERS_PATH, "--target", "visit"), "sets no target"),
        (("--levers", tmp_path / "none.toml", "--target", "visit=1"), "none.toml"),
    ):
        result = run("plan", lin_results, "--standard", LIN_PATH, *args)
        assert result.exit_code == 2 and words in result.stderr, result.output
    result = run("plan", *base, "--levers", LEVERS_PATH, "--budget", "-5")
    assert result.exit_code == 2 and "budget" in result.stderr
    missing = run("plan", tmp_path / "x.jsonl", "--levers", LEVERS_PATH, "--target", "visit=1")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    bad_plan = tmp_path / "p.json"
    bad_plan.write_text('{"levers": ["nope"]}', "utf-8")
    result = run("plan", *base, "--levers", LEVERS_PATH, "--what-if", bad_plan)
    assert result.exit_code == 2 and "no lever `nope`" in result.stderr
    raw = tmp_path / "raw.jsonl"
    raw.write_text('{"visit_id": "v1", "answers": {"a": "yes"}}\n', "utf-8")
    result = run("plan", raw, "--levers", LEVERS_PATH, "--target", "visit=1")
    assert result.exit_code == 2


# ---- the packs' levers files --------------------------------------------------------------

PACKS = {
    "sbm-bank": "bank.branch",
    "sbm-salon": "salon.visit",
    "sbm-restaurant": "restaurant.service",
    "sbm-hotel": "hotel.stay",
}


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_each_pack_ships_levers_that_plan_its_sample_wave(pack: str, tmp_path: Path) -> None:
    sample = ROOT / "plugins" / pack / "sample"
    std = sbm_engine.load(PACKS[pack])
    levers = read_levers(sample / "levers.toml", std.model)  # no diagnostics
    assert levers.currency == "RUB" and len(levers.levers) >= 5
    assert {lv.kind for lv in levers.levers} >= {"training", "motivation", "process", "standard"}
    text = (sample / "levers.toml").read_text("utf-8")
    assert levers_from_text(text, "levers.toml", std.model).levers == levers.levers
    rows = [json.loads(line) for line in (sample / "wave.jsonl").read_text("utf-8").splitlines()]
    scored = [o.to_dict() for o in std.score_many(rows) if o.ok]
    results = write(tmp_path / "scored.jsonl", scored)
    doc = plan(results, levers, "visit", by="network", standard=std, draws=50)
    assert doc["target"] == {"coefficient": "visit", "value": 0.85}  # the standard's target
    (g,) = doc["groups"]
    assert g["n"] == len(scored)
    assert g["levers"] and g["cost"] > 0
    assert g["expected"] > g["current"]
    assert g["simulated"] > g["current"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["train_a", "bonus", "process_c"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["levers", "groups", "id", "fraction", "key", "P1"]), inner
        )
    ),
    max_leaves=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_what_if_plan_is_read_or_refused_with_a_message(doc: Any) -> None:
    from sbm_engine.analytics.planning import _what_if

    levers = read_levers(LEVERS_PATH, LIN.model)
    try:
        given_plan = _what_if(doc, levers)
    except PlanError as err:
        assert str(err)
    else:
        for fractions in [given_plan["all"], *given_plan["groups"].values()]:
            assert all(0.0 <= f <= 1.0 + 1e-9 for f in fractions.values())


# ---- the simulation in columns gives the reference interpreter's figures ---------------------


def _without_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from sbm_engine.analytics import planning

    monkeypatch.setattr(planning._Columns, "of", classmethod(lambda cls, evaluate: None))


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_the_simulation_in_columns_gives_the_reference_figures(
    pack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sbm_engine.analytics import planning

    sample = ROOT / "plugins" / pack / "sample"
    std = sbm_engine.load(PACKS[pack])
    rows = [json.loads(line) for line in (sample / "wave.jsonl").read_text("utf-8").splitlines()]
    results = write(tmp_path / "scored.jsonl", [o.to_dict() for o in std.score_many(rows) if o.ok])
    levers = sample / "levers.toml"
    fast = [plan(results, levers, "visit", by=by, standard=std) for by in ("point", "network")]
    used = planning._Columns.of(planning.Evaluator(std, "visit")) is not None
    _without_columns(monkeypatch)
    assert fast == [
        plan(results, levers, "visit", by=by, standard=std) for by in ("point", "network")
    ]
    assert used or pack != "sbm-bank"  # the bank's `visit`: weighted means and critical_failed


def test_the_benchmark_standard_is_simulated_in_columns_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`if critical_failed then 0 else weighted_mean(…)` over 100 items, N/A answers and
    items that apply at some visits only: the benchmark's `visit`, both ways."""
    import sys

    from sbm_engine.analytics import planning

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import workload

    std = sbm_engine.loads(workload.standard_text(), "bench.sbm")
    cols = workload.columns(1_500, seed=3, points=3)
    scored = [o.to_dict() for o in std.score_many(workload.records(cols)) if o.ok]
    results = write(tmp_path / "bench.jsonl", scored)
    levers = tmp_path / "levers.toml"
    import invest

    levers.write_text(invest.LEVERS, "utf-8")
    assert planning._Columns.of(planning.Evaluator(std, "visit")) is not None
    fast = plan(results, levers, "visit=0.85", by="point", standard=std, sample=300)
    assert any(g["levers"] for g in fast["groups"])
    _without_columns(monkeypatch)
    assert fast == plan(results, levers, "visit=0.85", by="point", standard=std, sample=300)


def test_the_groups_sums_are_those_of_adding_value_by_value(lin_results: Path) -> None:
    """`read_groups` sums scores a batch at a time in numpy: the same `Moments` as
    adding each value in turn, for the coefficient and every item of every group."""
    from sbm_engine.analytics import planning
    from sbm_engine.analytics.moments import Moments

    rows = [json.loads(line) for line in lin_results.read_text("utf-8").splitlines()]
    rows[3]["items"]["b"] = 1  # an int score counts as a number
    path = write(_DIR / "sums.jsonl", rows * 3)
    for by in ("point", "network"):
        _, groups = planning.read_groups([path], "visit", by, LIN, 2026)
        expected: dict[str, dict[str, Moments]] = {}
        for r in rows * 3:
            key = "network" if by == "network" else r["point"]
            sums = expected.setdefault(key, {})
            for name, value in [("(visit)", r["coefficients"].get("visit")), *r["items"].items()]:
                if isinstance(value, int | float):
                    sums.setdefault(name, Moments()).add(float(value))
        assert set(groups) == set(expected)
        for key, g in groups.items():
            got = {"(visit)": g.coef, **g.sums}
            assert {n: (m.n, m.sum_units, m.sq_units) for n, m in got.items()} == {
                n: (m.n, m.sum_units, m.sq_units) for n, m in expected[key].items()
            }
