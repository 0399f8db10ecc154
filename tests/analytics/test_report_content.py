"""`sbm report`'s content: every number equals the one the analytics commands give.

The bank pack's two sample waves, its calibration cases and a plan are run through
`sbm rollup`, `sbm compare`, `sbm drivers`, `sbm plan` and `sbm calibrate` as a user
would; the report of the same inputs (`-o report.json`, the content the HTML page and
the workbook draw) must show the same figures. JSON of the commands is rounded to 12
significant digits, so the report's full figures are compared at that precision.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_inputs import bank_inputs, run

from sbm_engine.analytics.reporting import report, to_json
from sbm_engine.analytics.reporting.content import ReportError, build
from sbm_engine.analytics.reporting.model import anchor_for
from sbm_engine.analytics.reporting.wave_figures import pick_headline
from sbm_engine.cli import cli

pytest.importorskip("sbm_bank")
pytest.importorskip("scipy")


def run_json(*args: Any) -> Any:
    return json.loads(run(*args, "--format", "json"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bank_inputs(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def content(inputs: dict[str, Path]) -> dict[str, Any]:
    path = inputs["april"].with_name("report.json")
    run(
        "report",
        inputs["april"],
        "--previous",
        inputs["march"],
        "--plan",
        inputs["plan"],
        "--calibration",
        inputs["calibration"],
        "--lang",
        "en",
        "-o",
        path,
    )
    return json.loads(path.read_text(encoding="utf-8"))


def topic(content: dict[str, Any], topic_id: str) -> dict[str, Any]:
    found = [t for t in content["topics"] if t["id"] == topic_id]
    assert len(found) == 1, [t["id"] for t in content["topics"]]
    return found[0]


def same(a: Any, b: Any) -> bool:
    """Equal, floats at the 12 significant digits of the commands' JSON."""
    if isinstance(a, float) and isinstance(b, float | int):
        return float(f"{a:.12g}") == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def test_every_topic_is_there(content: dict[str, Any]) -> None:
    ids = [t["id"] for t in content["topics"]]
    assert ids == [
        "coefficients",
        "figures",
        "trend",
        "changes",
        "sections",
        "bands",
        "funnel",
        "heatmap",
        "growth",
        "drivers",
        "calibration",
        "agreement",
        "plan",
        "plan_groups",
    ]
    for t in content["topics"]:
        assert t["title"] and t["table"]["rows"], t["id"]
        keys = {c["key"] for c in t["table"]["columns"]}
        chart = t["chart"]
        if chart is not None:
            roles = [
                chart[r]
                for r in ("x", "y", "color", "target", "value", "n", "label", "low", "high")
            ]
            assert {r for r in roles if r} <= keys, t["id"]


def test_the_network_equals_sbm_rollup(inputs: dict[str, Path], content: dict[str, Any]) -> None:
    network = run_json("rollup", inputs["april"], "--by", "network")["groups"][0]
    rows = topic(content, "coefficients")["table"]["rows"] + []
    assert rows
    for row in rows:
        stat = network["coefficients"][row["coefficient"]]
        for key in ("mean", "target", "gap", "meets_share", "band", "n"):
            assert same(row[key], stat[key]), (row["coefficient"], key)
    figures = {r["title"]: r for r in topic(content, "figures")["table"]["rows"]}
    assert figures  # queue time (minutes) and the roll-up formulas
    shown = {r["coefficient"] for r in rows}
    assert "queue_time" not in shown  # minutes are not drawn on the axis of scores
    growth = topic(content, "growth")["table"]["rows"]
    zones = network["growth_zones"][: len(growth)]
    assert [r["item"] for r in growth] == [z["item"] for z in zones]
    for r, z in zip(growth, zones, strict=True):
        assert same(r["lost_share"], z["lost_share"])


def test_points_and_cards_equal_sbm_rollup(
    inputs: dict[str, Path], content: dict[str, Any]
) -> None:
    points = {g["key"]: g for g in run_json("rollup", inputs["april"], "--by", "point")["groups"]}
    funnel = topic(content, "funnel")["table"]["rows"]
    assert {r["point"] for r in funnel} == set(points)
    for r in funnel:
        stat = points[r["point"]]["coefficients"]["visit"]
        assert same(r["mean"], stat["mean"]) and r["n"] == stat["n"]
        assert r["low998"] <= r["low95"] <= r["high95"] <= r["high998"]
    assert [r["rank"] for r in funnel] == list(range(1, len(funnel) + 1))
    assert [r["mean"] for r in funnel] == sorted((r["mean"] for r in funnel), reverse=True)
    specialists = run_json("rollup", inputs["april"], "--by", "specialist")["groups"]
    cards = {(c["level"], c["key"]): c for c in content["cards"]}
    assert len(cards) == len(points) + len(specialists)
    for level, groups in (("point", list(points.values())), ("specialist", specialists)):
        for g in groups:
            card = cards[(level, g["key"])]
            facts = {label: value for label, value, _ in card["facts"]}
            assert facts["Visits"] == g["visits"]
            coefs = {r["title"]: r for r in card["topics"][0]["table"]["rows"]}
            assert same(coefs["Посещение в целом"]["mean"], g["coefficients"]["visit"]["mean"])
            weakest = card["topics"][2]["table"]["rows"]
            for r, z in zip(weakest, g["growth_zones"], strict=False):
                assert same(r["lost_share"], z["lost_share"])


def test_the_heat_map_equals_the_pass_rates_of_sbm_compare(
    inputs: dict[str, Path], content: dict[str, Any]
) -> None:
    """A pass is a full score, as `sbm compare` counts item pass rates."""
    rows = run_json("compare", inputs["march"], inputs["april"], "--by", "point")["rows"]
    rates = {(r["key"], r["measure"]): r["mean_b"] for r in rows if r["kind"] != "coefficient"}
    heat = topic(content, "heatmap")
    titles = {}
    for r in heat["table"]["rows"]:
        titles[r["title"]] = r["item"]
        if (r["point"], r["item"]) in rates:
            assert same(r["rate"], rates[(r["point"], r["item"])]), r
    assert heat["pivot"] == ["title", "point", "rate"]
    assert heat["chart"]["min_n"] == 5


def test_trend_and_changes_equal_sbm_compare(
    inputs: dict[str, Path], content: dict[str, Any]
) -> None:
    cmp = run_json("compare", inputs["march"], inputs["april"], "--by", "network")
    by_measure = {r["measure"]: r for r in cmp["rows"]}
    for r in topic(content, "changes")["table"]["rows"]:
        c = by_measure[r["measure"]]
        for key in ("mean_a", "mean_b", "change", "ci_low", "ci_high", "p", "p_adjusted"):
            assert same(r[key], c[key]), (r["measure"], key)
        assert r["significant"] is c["significant"]
    trend = topic(content, "trend")["table"]["rows"]
    visit = {r["wave"]: r["mean"] for r in trend if r["coefficient"] == "visit"}
    assert same(visit["march"], by_measure["visit"]["mean_a"])
    assert same(visit["april"], by_measure["visit"]["mean_b"])


def test_drivers_equal_sbm_drivers(inputs: dict[str, Path], content: dict[str, Any]) -> None:
    found = run_json("drivers", inputs["april"], "--outcome", "subjective")["drivers"]
    rows = topic(content, "drivers")["table"]["rows"]
    assert [r["predictor"] for r in rows] == [d["predictor"] for d in found]
    for r, d in zip(rows, found, strict=True):
        for key in ("importance", "share", "ci_low", "ci_high", "performance"):
            assert same(r[key], d[key]), (r["predictor"], key)


def test_the_plan_equals_sbm_plan(inputs: dict[str, Path], content: dict[str, Any]) -> None:
    plan = json.loads(inputs["plan"].read_text(encoding="utf-8"))
    rows = topic(content, "plan_groups")["table"]["rows"]
    assert [r["key"] for r in rows] == [g["key"] for g in plan["groups"]]
    for r, g in zip(rows, plan["groups"], strict=True):
        for key in ("current", "expected", "simulated", "cost", "reaches_target"):
            assert same(r[key], g[key]), (r["key"], key)
    levers = topic(content, "plan")["table"]["rows"]
    assert math.isclose(sum(r["cost"] for r in levers), plan["total_cost"], rel_tol=1e-12)
    assert content["currency"] == plan["currency"]


def test_calibration_equals_sbm_calibrate(inputs: dict[str, Path], content: dict[str, Any]) -> None:
    cal = json.loads(inputs["calibration"].read_text(encoding="utf-8"))
    rows = topic(content, "calibration")["table"]["rows"]
    mine = [e for e in cal["evaluators"] if e["coefficient"] == "visit"]
    assert [r["shopper"] for r in rows] == [e["shopper"] for e in mine]
    for r, e in zip(rows, mine, strict=True):
        assert same(r["mean_deviation"], e["mean_deviation"])
    assert {r["verdict"] for r in rows} <= {"lenient", "severe", "consistent"}
    lenient = [r for r in rows if r["verdict"] == "lenient"]
    assert lenient  # the sample's planted lenient evaluator


def test_titles_not_names(content: dict[str, Any]) -> None:
    """People read the standard's titles wherever a row names an item or coefficient."""
    names = {"greet_first", "visit", "compliance", "next_step"}
    for t in content["topics"]:
        for row in t["table"]["rows"]:
            if "title" in row:
                assert row["title"] not in names, (t["id"], row["title"])


def test_russian(inputs: dict[str, Path]) -> None:
    made = build([inputs["april"]], lang="ru")
    assert made.lang == "ru"
    assert made.topics[0].title == "Сеть и её цели"
    assert made.ui["yes"] == "да"
    assert made.cards[0].title.startswith("Точка ")


def test_the_heat_map_keeps_the_weakest_and_strongest(inputs: dict[str, Path]) -> None:
    made = build([inputs["april"]], top=2, lang="en")
    heat = next(t for t in made.topics if t.id == "heatmap")
    funnel = next(t for t in made.topics if t.id == "funnel")
    ranked = [r["point"] for r in funnel.table.rows]
    shown = list(dict.fromkeys(r["point"] for r in heat.table.rows))
    assert shown == ranked[:2] + ranked[-2:]
    assert "2 weakest and 2 strongest of 9 points" in heat.note


def test_headline_choice(inputs: dict[str, Path]) -> None:
    made = build([inputs["april"]], coefficient="specialist", lang="en")
    assert made.meta["headline"] == "specialist"
    with pytest.raises(ReportError, match="no coefficient `nope`"):
        build([inputs["april"]], coefficient="nope", lang="en")
    std = __import__("sbm_engine").load("bank.branch")
    assert pick_headline(std.model, None) == "visit"


def test_the_api_writes_and_returns(inputs: dict[str, Path], tmp_path: Path) -> None:
    from sbm_engine import analytics

    made = analytics.report([inputs["april"]], tmp_path / "r.json", lang="en")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == json.loads(
        to_json(made)
    )
    assert report([inputs["april"]], lang="en").topics[0].id == "coefficients"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-o", "r.pdf"], "give -o a .html, .xlsx or .json file"),
        (["--plan", "missing.json", "-o", "r.json"], "no such file: missing.json"),
        (["--plan", "{bad", "-o", "r.json"], "is not JSON"),
        (["--plan", "[1]", "-o", "r.json"], "is not a JSON object"),
        (["--coefficient", "nope", "-o", "r.json"], "no coefficient `nope`"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(
    inputs: dict[str, Path],
    tmp_path: Path,
    args: list[str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    if "--plan" in args:
        i = args.index("--plan") + 1
        if args[i] != "missing.json":
            Path("plan.json").write_text(args[i], encoding="utf-8")
            args = [*args[:i], "plan.json", *args[i + 1 :]]
    done = CliRunner().invoke(cli, ["report", str(inputs["april"]), *args])
    assert done.exit_code == 2
    assert says in done.output
    assert "Traceback" not in done.output
    assert not Path("r.json").exists()


@pytest.mark.parametrize("suffix", [".html", ".xlsx", ".json"])
def test_a_missing_folder_is_refused_before_the_work(
    inputs: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / "no-such-folder" / f"r{suffix}"
    done = CliRunner().invoke(cli, ["report", str(inputs["april"]), "-o", str(out)])
    assert done.exit_code == 2, done.output
    assert "no folder" in done.output and "Traceback" not in done.output


@pytest.mark.parametrize("suffix", [".html", ".xlsx", ".json"])
def test_an_unwritable_file_is_an_output_error(
    inputs: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    from sbm_engine.analytics.reporting import write
    from sbm_engine.io import OutputError

    made = build([inputs["april"]], lang="en")
    with pytest.raises(OutputError, match="cannot write"):
        write(made, tmp_path / "missing" / f"r{suffix}")
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / f"r{suffix}").mkdir()  # a folder where the file should go
    with pytest.raises(OutputError, match="cannot write"):
        write(made, folder / f"r{suffix}")
    assert sorted(p.name for p in folder.iterdir()) == [f"r{suffix}"]  # no temporary left


def test_rejects_are_refused_with_the_file_and_line(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    rejects = inputs["april"].with_name("april.rejects.jsonl")
    done = CliRunner().invoke(cli, ["report", str(rejects), "-o", str(tmp_path / "r.json")])
    assert done.exit_code == 2
    assert "april.rejects.jsonl:1" in done.output


def test_anchors_are_unique_and_safe() -> None:
    keys = ["MSK 01", "MSK~002001", "A/B", "Ё", "<x>"]
    anchors = [anchor_for("point", k) for k in keys]
    assert len(set(anchors)) == len(anchors)
    for a in anchors:
        assert all(ch.isalnum() or ch in "-_.~" for ch in a)


def test_the_order_of_visits_changes_nothing(inputs: dict[str, Path], tmp_path: Path) -> None:
    """Exact sums: the same figures, bit for bit, whatever the order of the visits or how
    they are split between files. The drivers' regression centres its sums on the first
    batch's means, so its figures agree to 12 digits, not to the last bit."""
    import random

    lines = inputs["april"].read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    half = len(lines) // 2
    (tmp_path / "a.jsonl").write_text("".join(lines[:half]), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("".join(lines[half:]), encoding="utf-8")
    options: dict[str, Any] = {"previous": [inputs["march"]], "lang": "en"}
    one = json.loads(to_json(build([inputs["april"]], **options)))
    split = json.loads(
        to_json(build([tmp_path / "b.jsonl", tmp_path / "a.jsonl"], **options)).replace(
            "b+a",
            "april",  # the wave is named after its files
        )
    )
    drivers = [topic(r, "drivers") for r in (one, split)]
    for a, b in zip(drivers[0]["table"]["rows"], drivers[1]["table"]["rows"], strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == b[key] or math.isclose(a[key], b[key], rel_tol=1e-12), key
    for r in (one, split):
        r["topics"] = [t for t in r["topics"] if t["id"] != "drivers"]
    assert one == split
