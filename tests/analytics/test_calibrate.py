"""`sbm calibrate` and `sbm_engine.analytics.calibration`: do the evaluators agree?

Results are built by hand in the result contract (the conformance standard's items
and coefficients), so every figure can be checked: against a count done by hand
(a 2 × 2 table of two evaluators), against the functions of `stats` applied to the
same ratings, and against what the spec promises (notes instead of figures where
cases are too few; clear errors, exit 2 and nothing written where nothing can be
calibrated).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demo import DEMO

pytest.importorskip("scipy")
import sbm_engine
from sbm_engine.analytics import stats
from sbm_engine.analytics.calibration import (
    MIN_UNITS_FOR_VERDICT,
    CalibrationError,
    Ratings,
    calibrate,
    calibrate_files,
    verdict,
)
from sbm_engine.cli import cli
from sbm_engine.result_files import ResultsError

STD = sbm_engine.load(DEMO)
ITEMS = [i.name for i in STD.model.items]
COEFS = [c.name for c in STD.model.coefficients]


def result(
    case: Any,
    shopper: Any,
    items: Mapping[str, float | None] | None = None,
    coefficients: Mapping[str, float | None] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A scored visit of the conformance standard in the result contract."""
    record: dict[str, Any] = {
        "visit_id": case,
        "standard": "demo.branch",
        "version": "2026.1",
        "point": "P1",
        "specialist": "S1",
        "region": "R1",
        "date": "2026-03-02",
        "scenario": "deposit",
        "shopper": shopper,
        "coefficients": dict.fromkeys(COEFS) | dict(coefficients or {}),
        "sections": {},
        "items": dict.fromkeys(ITEMS) | dict(items or {}),
        "bands": {},
        "gaps": {},
        "critical": [],
        "warnings": [],
    }
    record.update(fields)
    return record


def by_name(rows: list[dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    return next(r for r in rows if r[key] == name)


def evaluator(report: dict[str, Any], shopper: str, coef: str) -> dict[str, Any]:
    return next(
        r for r in report["evaluators"] if r["shopper"] == shopper and r["coefficient"] == coef
    )


#: Two evaluators on 12 cases, item `greeted` (A's score, B's score): agree on 9.
TWO_BY_TWO = [(1.0, 1.0)] * 6 + [(1.0, 0.0)] * 2 + [(0.0, 1.0)] * 1 + [(0.0, 0.0)] * 3


def two_evaluators() -> list[dict[str, Any]]:
    out = []
    for case, (a, b) in enumerate(TWO_BY_TWO):
        out.append(result(f"v{case}", "A", {"greeted": a}))
        out.append(result(f"v{case}", "B", {"greeted": b}))
    return out


# -- figures --------------------------------------------------------------------------------------


def test_two_evaluators_by_hand() -> None:
    """Table (rows A, columns B; no, yes): [[3, 1], [2, 6]]. p_o = 9/12; p_e = (4·5 +
    8·7)/144, kappa = 32/68 = 8/17; AC1: π = (9/24, 15/24), p_e = 2·(9/24)(15/24),
    AC1 = 9/17; PABAK = 2·0.75 − 1; nominal alpha = 1 − 23·6/(2·9·15) = 22/45."""
    report = calibrate(two_evaluators(), STD.model)
    greeted = by_name(report["items"], "item", "greeted")
    assert greeted["units"] == 12 and greeted["ratings"] == 24 and greeted["categories"] == 2
    assert greeted["level"] == "nominal" and greeted["kappa_method"] == "cohen"
    assert greeted["p_o"] == pytest.approx(0.75)
    assert greeted["kappa"] == pytest.approx(8 / 17)
    assert greeted["ac1"] == pytest.approx(9 / 17)
    assert greeted["pabak"] == pytest.approx(0.5)
    assert greeted["alpha"] == pytest.approx(22 / 45)
    assert greeted["verdict"] == "unreliable" and greeted["note"] is None
    assert report["shoppers"] == ["A", "B"] and report["cases"] == 12 and report["visits"] == 24
    assert report["standard"] == "demo.branch" and report["version"] == "2026.1"


def test_items_not_rated_say_so() -> None:
    report = calibrate(two_evaluators(), STD.model)
    smile = by_name(report["items"], "item", "smile")  # N/A everywhere
    assert smile["units"] == 0 and smile["alpha"] is None and smile["note"].startswith("n < 2")


def test_three_evaluators_use_fleiss_on_the_modal_cases() -> None:
    rng = random.Random(4)
    records = []
    for case in range(12):
        truth = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        for shopper in ("A", "B", "C"):
            if case == 0 and shopper == "C":
                continue  # case 0 is rated by two evaluators only
            score = truth if rng.random() < 0.8 else max(0.0, truth - 0.25)
            records.append(result(f"v{case}", shopper, {"questions": score}))
    report = calibrate(records, STD.model)
    questions = by_name(report["items"], "item", "questions")
    assert questions["level"] == "ordinal" and questions["categories"] == 5
    assert questions["kappa_method"] == "fleiss" and questions["kappa_units"] == 11
    assert "Fleiss' kappa over the 11 cases rated by 3 evaluators" in questions["note"]
    # the same figures from the functions of `stats`, on the same ratings
    grid: dict[str, dict[str, float]] = {}
    for r in records:
        grid.setdefault(r["visit_id"], {})[r["shopper"]] = r["items"]["questions"]
    cases = sorted(grid)
    data = [[grid[c].get(s) for c in cases] for s in ("A", "B", "C")]
    assert questions["alpha"] == pytest.approx(stats.krippendorff_alpha(data, "ordinal"))
    scores = [0.0, 0.25, 0.5, 0.75, 1.0]
    counts = [[list(grid[c].values()).count(v) for v in scores] for c in cases]
    assert questions["p_o"] == pytest.approx(stats.observed_agreement(counts))
    assert questions["ac1"] == pytest.approx(stats.gwet_ac1_counts(counts))
    assert questions["pabak"] == pytest.approx(stats.pabak_counts(counts))
    full = [row for row in counts if sum(row) == 3]
    assert questions["kappa"] == pytest.approx(stats.fleiss_kappa(full))


def test_skewed_item_kappa_collapses_ac1_and_pabak_do_not() -> None:
    records = []
    for case in range(40):
        a, b = (1.0, 0.0) if case == 0 else (0.0, 1.0) if case == 1 else (1.0, 1.0)
        records += [result(case, "A", {"secrecy": a}), result(case, "B", {"secrecy": b})]
    secrecy = by_name(calibrate(records, STD.model)["items"], "item", "secrecy")
    assert secrecy["p_o"] == pytest.approx(0.95)
    assert secrecy["kappa"] < 0.0 and secrecy["alpha"] < 0.0
    assert secrecy["ac1"] == pytest.approx((0.95 - 0.04875) / 0.95125)
    assert secrecy["pabak"] == pytest.approx(0.9)


def test_unanimous_item_has_agreement_but_no_alpha() -> None:
    records = [result(c, s, {"secrecy": 1.0}) for c in range(12) for s in "AB"]
    secrecy = by_name(calibrate(records, STD.model)["items"], "item", "secrecy")
    assert (secrecy["p_o"], secrecy["ac1"], secrecy["pabak"]) == (1.0, 1.0, 1.0)
    assert secrecy["kappa"] is None and secrecy["alpha"] is None and secrecy["verdict"] is None
    assert "kappa undefined" in secrecy["note"] and "alpha undefined" in secrecy["note"]


def test_levels_follow_the_answer_types() -> None:
    records = [
        result(c, s, {"greeted": 1.0, "questions": 0.5, "wait": 1.0, "overall": 0.7})
        for c in range(3)
        for s in "AB"
    ]
    levels = {i["item"]: i["level"] for i in calibrate(records, STD.model)["items"]}
    assert levels == {
        "greeted": "nominal",  # yes/no
        "smile": "nominal",
        "wait": "interval",  # a number
        "questions": "ordinal",  # grade5
        "card": "nominal",
        "secrecy": "nominal",
        "clean": "ordinal",
        "overall": "interval",
    }


def test_too_few_cases_for_a_verdict() -> None:
    records = []
    for case, (a, b) in enumerate(TWO_BY_TWO[: MIN_UNITS_FOR_VERDICT - 1]):
        records += [result(case, "A", {"greeted": a}), result(case, "B", {"greeted": b})]
    greeted = by_name(calibrate(records, STD.model)["items"], "item", "greeted")
    assert greeted["alpha"] is not None and greeted["verdict"] is None
    assert f"{MIN_UNITS_FOR_VERDICT - 1} cases: too few for a verdict" in greeted["note"]


def test_verdict_thresholds() -> None:
    assert [verdict(a) for a in (0.9, 0.8, 0.7, 0.667, 0.5, None, float("nan"))] == [
        "reliable",
        "reliable",
        "tentative",
        "tentative",
        "unreliable",
        None,
        None,
    ]


def visit_scores(reference_noise: bool = False) -> list[dict[str, Any]]:
    """A scores x; B scores x + 0.1 (lenient); C scores x ± 0.01 (no bias)."""
    records = []
    for case in range(20):
        x = 0.5 + 0.03 * (case % 5)
        c = x + (0.01 if case % 2 else -0.01)
        records += [
            result(case, "A", coefficients={"visit": x}),
            result(case, "B", coefficients={"visit": x + 0.1}),
            result(case, "C", coefficients={"visit": c}),
        ]
    return records


def test_evaluators_against_a_reference() -> None:
    report = calibrate(visit_scores(), STD.model, reference="A")
    assert report["reference"] == "A"
    assert {r["shopper"] for r in report["evaluators"]} == {"B", "C"}  # not A itself
    b, c = evaluator(report, "B", "visit"), evaluator(report, "C", "visit")
    assert b["n"] == 20 and b["against"] == "reference"
    assert b["mean_deviation"] == pytest.approx(0.1) and b["verdict"] == "lenient"
    assert c["mean_deviation"] == pytest.approx(0.0, abs=1e-12) and c["verdict"] == "consistent"
    assert c["ci_low"] < 0 < c["ci_high"]
    none = evaluator(report, "B", "point")  # N/A for everyone
    assert none["n"] == 0 and none["verdict"] is None and none["note"].startswith("n < 2")


def test_evaluators_against_the_consensus() -> None:
    report = calibrate(visit_scores(), STD.model)
    a, b = evaluator(report, "A", "visit"), evaluator(report, "B", "visit")
    assert b["against"] == "consensus"
    assert b["mean_deviation"] == pytest.approx(0.1, abs=1e-12) and b["verdict"] == "lenient"
    assert a["mean_deviation"] == pytest.approx(-0.05, abs=1e-12) and a["verdict"] == "severe"
    visit = by_name(report["coefficients"], "coefficient", "visit")
    assert visit["icc_units"] == 20 and visit["units"] == 20
    grid = [
        [r["coefficients"]["visit"] for r in visit_scores()[i : i + 3]] for i in range(0, 60, 3)
    ]
    assert visit["icc"] == pytest.approx(stats.icc(grid, "2,1"))
    assert visit["alpha"] == pytest.approx(
        stats.krippendorff_alpha(list(zip(*grid, strict=True)), "interval")
    )


def test_icc_needs_cases_scored_by_everyone() -> None:
    records = [r for r in visit_scores() if not (r["shopper"] == "C" and r["visit_id"] != 0)]
    visit = by_name(calibrate(records, STD.model)["coefficients"], "coefficient", "visit")
    assert visit["icc"] is None and visit["icc_units"] == 1 and visit["alpha"] is not None
    assert "ICC(2,1) needs cases scored by all 3 evaluators" in visit["note"]


def test_every_statistic_states_its_n() -> None:
    report = calibrate(visit_scores(), STD.model)
    assert all("units" in i and "kappa_units" in i for i in report["items"])
    assert all("units" in c and "icc_units" in c for c in report["coefficients"])
    assert all("n" in e for e in report["evaluators"])
    assert all(
        "note" in row for kind in ("items", "coefficients", "evaluators") for row in report[kind]
    )


def test_cases_match_across_number_and_text_ids_and_other_fields() -> None:
    records = [result(1, "A", {"greeted": 1.0}), result("1", "B", {"greeted": 1.0})]
    records += [result(2.0, "A", {"greeted": 0.0}), result("2", "B", {"greeted": 0.0})]
    assert calibrate(records, STD.model)["cases"] == 2
    routes = [result(f"{s}{n}", s, {"greeted": 1.0}, route=n) for n in range(3) for s in "AB"]
    report = calibrate(routes, STD.model, case_field="route")
    assert report["cases"] == 3 and report["case_field"] == "route"


def test_numbers_of_evaluators_are_text() -> None:
    records = [result(c, s, {"greeted": 1.0}) for c in range(3) for s in (7, 8)]
    report = calibrate(records, STD.model, reference="7")
    assert report["shoppers"] == ["7", "8"] and report["evaluators"][0]["shopper"] == "8"


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "kwargs", "message"),
    [
        ([result(c, "A") for c in range(3)], {}, "only one evaluator in the results (`A`"),
        (visit_scores(), {"reference": "Z"}, "--reference `Z` is not among the evaluators"),
        (
            [result(c, s) for s, c in zip("ABC", range(3), strict=True)],
            {},
            "no case was scored by two",
        ),
        ([result(1, "A"), result(1, None)], {}, "no `shopper`"),
        ([result(1, "A"), result(1, "B"), result(1, "A")], {}, "scored case `1` twice"),
        ([result(1, "A"), result(None, "B")], {}, "no `visit_id`"),
        ([result(1, "A"), result(1, "B", version="2025.1")], {}, "not `demo.branch` 2026.1"),
        ([result(1, "A"), {"errors": [], "record": {}}], {}, "rejects file"),
        ([], {}, "no scored visits"),
    ],
)
def test_refusals(records: list[dict[str, Any]], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(CalibrationError) as err:
        calibrate(records, STD.model, **kwargs)
    assert message in str(err.value)
    assert isinstance(err.value, ResultsError)


# -- performance ----------------------------------------------------------------------------------


def test_many_ratings_take_seconds() -> None:
    """5,000 cases × 4 evaluators × 8 items and 8 coefficients: the statistics run over
    columns, so this is well under a second on a laptop (the bound is generous)."""
    rng = random.Random(1)
    ratings = Ratings(STD.model, check=False)
    for case in range(5000):
        truth = {name: rng.choice([0.0, 1.0]) for name in ITEMS}
        coefs = {name: rng.random() for name in COEFS}
        for shopper in "ABCD":
            ratings.add(result(case, shopper, truth, coefs), f"r{case}{shopper}")
    start = time.perf_counter()
    report = ratings.report()
    assert time.perf_counter() - start < 20
    assert report["cases"] == 5000 and all(i["p_o"] == 1.0 for i in report["items"])


# -- the command ----------------------------------------------------------------------------------


def write_files(
    folder: Path, records: list[dict[str, Any]], shuffle: int | None = None
) -> list[str]:
    """One JSONL file per evaluator (rows shuffled with the seed `shuffle`)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        files.setdefault(str(r["shopper"]), []).append(r)
    paths = []
    for shopper, rows in files.items():
        if shuffle is not None:
            random.Random(shuffle).shuffle(rows)
        path = folder / f"{shopper}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        paths.append(str(path))
    return paths


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["calibrate", *args, "--standard", str(DEMO)])


def test_cli_json_is_the_report(tmp_path: Path) -> None:
    paths = write_files(tmp_path, visit_scores())
    out = run(*paths, "--format", "json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report == json.loads(json.dumps(calibrate_files(paths, STD)))
    assert list(report)[:3] == ["standard", "version", "case_field"]
    assert {"items", "coefficients", "evaluators"} <= report.keys()


def test_cli_does_not_depend_on_the_order_of_files_or_rows(tmp_path: Path) -> None:
    records = visit_scores() + two_evaluators()
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first = run(*write_files(one, records), "--format", "json")
    second = run(*reversed(write_files(two, records, shuffle=3)), "--format", "json")
    assert first.exit_code == 0 and first.output == second.output


def test_cli_table_for_people(tmp_path: Path) -> None:
    paths = write_files(tmp_path, visit_scores() + two_evaluators())
    out = run(*paths, "--width", "100")
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Поприветствовал в течение 30 секунд" in text  # item titles from the standard
    assert "Посещение в целом" in text and "lenient" in text and "Fleiss κ" in text
    assert "Notes:" in text and "3 evaluators (A, B, C)" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    named = run(*paths, "--names")
    assert "greeted" in named.output and "Поприветствовал" not in named.output
    with_ref = run(*paths, "--reference", "A")
    assert "deviation from `A`" in with_ref.output


@pytest.mark.parametrize("suffix", [".json", ".csv", ".xlsx"])
def test_cli_writes_files(tmp_path: Path, suffix: str) -> None:
    paths = write_files(tmp_path, visit_scores())
    target = tmp_path / f"calibration{suffix}"
    out = run(*paths, "-o", str(target))
    assert out.exit_code == 0, out.output
    assert "3 evaluators, 20 shared cases" in out.output  # the summary, on stderr
    report = calibrate_files(paths, STD)
    sizes = {k: len(report[k]) for k in ("items", "coefficients", "evaluators")}
    if suffix == ".json":
        assert json.loads(target.read_text(encoding="utf-8")) == json.loads(json.dumps(report))
    elif suffix == ".csv":
        import csv

        with target.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert "kind" in rows[0]
        kinds = [r["kind"] for r in rows]
        assert kinds.count("item") == sizes["items"]
        assert kinds.count("coefficient") == sizes["coefficients"]
        assert kinds.count("evaluator") == sizes["evaluators"]
    else:
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.load_workbook(target)
        assert book.sheetnames == ["items", "coefficients", "evaluators"]
        assert [book[name].max_row - 1 for name in book.sheetnames] == list(sizes.values())


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda: [result(c, "A") for c in range(3)], [], "only one evaluator"),
        (visit_scores, ["--reference", "nobody"], "not among the evaluators"),
        (lambda: [result(c, s) for s, c in zip("AB", range(2), strict=True)], [], "no case was"),
        (lambda: [result(1, "A"), result(1, None)], [], "no `shopper`"),
    ],
)
def test_cli_refusals_exit_2_and_write_nothing(
    tmp_path: Path, make: Any, extra: list[str], message: str
) -> None:
    records = make()
    path = tmp_path / "all.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    target = tmp_path / "out.json"
    out = run(str(path), *extra, "-o", str(target))
    assert out.exit_code == 2 and "error:" in out.output and message in out.output
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["all.jsonl"]  # no temporary left either


def test_cli_refuses_a_file_given_twice(tmp_path: Path) -> None:
    paths = write_files(tmp_path, visit_scores())
    out = run(paths[0], *paths)
    assert out.exit_code == 2 and "given twice" in out.output


def test_cli_reads_tabular_results(tmp_path: Path) -> None:
    from sbm_engine.formats import open_writer

    records = visit_scores()
    target = tmp_path / "all.csv"
    with open_writer(target) as w:
        for r in records:
            w.write(r)
    jsonl = write_files(tmp_path, records)
    from_csv = run(str(target), "--format", "json")
    assert from_csv.exit_code == 0, from_csv.output
    assert json.loads(from_csv.output) == json.loads(run(*jsonl, "--format", "json").output)


def test_cli_help_has_examples() -> None:
    out = CliRunner().invoke(cli, ["calibrate", "--help"])
    assert out.exit_code == 0 and "Examples:" in out.output and "--reference" in out.output
    assert "calibrate" in CliRunner().invoke(cli, ["--help"]).output
