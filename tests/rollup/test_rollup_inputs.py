"""`sbm rollup` refuses what it cannot roll up: never a traceback, never a silent mix.

Each case is a reproduction from a red-team review: results of two standards or two
versions summed together, a `--standard` of another version giving the targets, the
rejects file or raw visits taken for results, values of the wrong kind crashing
the roll-up, NaN in the JSON, an unhelpful message for an uninstalled standard, a
traceback for an unwritable output, and a table that shows `None` and rounds
rollup formulas to one decimal.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.cli import cli
from sbm_engine.rollup import ExactSum, ResultError

CONFORMANCE = Path(__file__).parents[1] / "conformance"
DEMO_TEXT = (CONFORMANCE / "demo_branch.sbm").read_text(encoding="utf-8")

TINY = """\
standard tiny "Tiny" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    item greeted "Greeted" answer yes_no
    item wait "Wait" answer number 0..10
    coefficient visit = wait
    rollup total_visit = total(visit)
    rollup mean_visit = avg(visit)
    rollup triple = 3 * avg(visit)
}
"""


def sbm(*args: str) -> Result:
    """Run the CLI in-process; a traceback (any exception but exit) fails the test."""
    result = CliRunner().invoke(cli, list(args), prog_name="sbm")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def strict_json(text: str) -> Any:
    """Parse JSON as other languages do: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo standard in three editions (2026.1, 2026.2, another id), its visits
    scored with each, and the rejects file of the first."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo.sbm").write_text(DEMO_TEXT, encoding="utf-8")
    v2 = DEMO_TEXT.replace('version "2026.1"', 'version "2026.2"')
    (tmp_path / "demo_v2.sbm").write_text(v2.replace("target visit 0.85", "target visit 0.9"))
    other = DEMO_TEXT.replace("standard demo.branch", "standard demo.other")
    (tmp_path / "other.sbm").write_text(other, encoding="utf-8")
    visits = str(CONFORMANCE / "demo_visits.jsonl")
    for std, out in [("demo.sbm", "scored"), ("demo_v2.sbm", "v2"), ("other.sbm", "other")]:
        sbm("score", std, visits, "-o", f"{out}.jsonl", "--rejects", f"{out}.rejects.jsonl")
    sbm("score", "demo.sbm", visits, "-o", "scored.csv", "--rejects", "csv.rejects.jsonl")
    return tmp_path


# -- 1, 2: one standard, one version ------------------------------------------------------------


def test_results_of_two_standards_are_refused_naming_both_and_where(work: Path) -> None:
    result = sbm("rollup", "scored.jsonl", "other.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "`demo.branch` 2026.1 (scored.jsonl:1)" in result.stderr
    assert "`demo.other` 2026.1 (other.jsonl:1)" in result.stderr
    assert "two standards" in result.stderr


def test_two_standards_in_one_file_are_refused_at_the_line(work: Path) -> None:
    records = read_jsonl(work / "scored.jsonl")[:2] + read_jsonl(work / "other.jsonl")[:1]
    write_jsonl(work / "mixed.jsonl", records)
    result = sbm("rollup", "mixed.jsonl", "--by", "network", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "(mixed.jsonl:1)" in result.stderr and "(mixed.jsonl:3)" in result.stderr


def test_two_versions_of_a_standard_are_refused(work: Path) -> None:
    result = sbm("rollup", "scored.jsonl", "v2.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "two versions of `demo.branch`" in result.stderr
    assert "2026.1 (scored.jsonl:1)" in result.stderr and "2026.2 (v2.jsonl:1)" in result.stderr


def test_a_standard_option_of_another_version_is_refused_with_a_hint(work: Path) -> None:
    result = sbm("rollup", "scored.jsonl", "--by", "point", "--standard", "demo_v2.sbm")
    assert result.exit_code == 2
    assert "scored with `demo.branch` 2026.1 (scored.jsonl:1)" in result.stderr
    assert "--standard demo_v2.sbm is `demo.branch` 2026.2" in result.stderr
    assert "pass the file of version 2026.1" in result.stderr


def test_a_standard_option_of_another_standard_is_refused(work: Path) -> None:
    result = sbm("rollup", "scored.jsonl", "--by", "point", "--standard", "other.sbm")
    assert result.exit_code == 2
    assert "is `demo.other` 2026.1" in result.stderr
    assert "pass the standard the results were scored with" in result.stderr


def test_tabular_results_whose_version_reads_as_a_number_still_match(work: Path) -> None:
    # a CSV reader reads the version "2026.1" as the number 2026.1: the same version
    result = sbm("rollup", "scored.csv", "scored.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 0, result.stderr
    result = sbm("rollup", "scored.csv", "--by", "point", "--standard", "demo_v2.sbm")
    assert result.exit_code == 2 and "2026.2" in result.stderr


# -- 3: not results at all ----------------------------------------------------------------------


def test_the_rejects_file_is_refused_as_a_rejects_file(work: Path) -> None:
    result = sbm("rollup", "scored.rejects.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "scored.rejects.jsonl:1" in result.stderr
    assert "looks like a line of a rejects file" in result.stderr
    assert "(and 5 more like it)" in result.stderr  # one line per kind of problem


def test_raw_visits_are_refused_with_a_hint_to_score_them(work: Path) -> None:
    raw = str(CONFORMANCE / "demo_visits.jsonl")
    result = sbm("rollup", raw, "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "demo_visits.jsonl:1" in result.stderr
    assert "looks like an unscored visit" in result.stderr and "sbm score" in result.stderr


def test_raw_visits_in_csv_are_refused_too(work: Path) -> None:
    (work / "raw.csv").write_text("visit_id,point,greeted\nv1,P1,yes\n", encoding="utf-8")
    result = sbm("rollup", "raw.csv", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "raw.csv:2" in result.stderr and "looks like an unscored visit" in result.stderr


def test_an_empty_object_is_refused_for_lacking_the_result_fields(work: Path) -> None:
    write_jsonl(work / "empty.jsonl", [*read_jsonl(work / "scored.jsonl")[:1], {}])
    result = sbm("rollup", "empty.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "empty.jsonl:2: not a scored visit: no `standard`, `version`, `coefficients`" in (
        result.stderr
    )


def test_a_line_that_is_not_json_is_refused_with_its_line(work: Path) -> None:
    good = (work / "scored.jsonl").read_text(encoding="utf-8")
    (work / "broken.jsonl").write_text(good + "{not json\n", encoding="utf-8")
    result = sbm("rollup", "broken.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "broken.jsonl:7: invalid JSON" in result.stderr


# -- 4: values of the wrong kind ----------------------------------------------------------------

BAD_VALUES = {
    "string coefficient": (("coefficients", "visit"), "0.5", '`coefficients.visit` is "0.5"'),
    "list coefficient": (("coefficients", "visit"), [1], "`coefficients.visit` is a list"),
    "boolean coefficient": (("coefficients", "visit"), True, "`coefficients.visit` is true"),
    "huge integer": (("coefficients", "visit"), 10**400, "`coefficients.visit` is 1000"),
    "list point": (("point",), ["P1"], "`point` is a list"),
    "object point": (("point",), {"a": 1}, "`point` is an object"),
    "string item score": (("items", "smile"), "1", '`items.smile` is "1"'),
    "item score above 1": (("items", "smile"), 2, "`items.smile` is 2, not a score in [0, 1]"),
    "coefficients null": (("coefficients",), None, "`coefficients` is null"),
    "items a list": (("items",), [1, 2], "`items` is a list"),
    "share input a string": (("rollup_inputs", "nps.1"), "yes", "`rollup_inputs.nps.1` is"),
    "unknown coefficient": (("coefficients", "vist"), 0.5, "`coefficients.vist` is not in"),
    "standard a number": (("standard",), 7, "`standard` is 7"),
    "version a list": (("version",), ["2026.1"], "`version` is a list"),
}


def _set(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_a_value_of_the_wrong_kind_is_refused_with_file_and_line(work: Path, case: str) -> None:
    path, value, expected = BAD_VALUES[case]
    records = read_jsonl(work / "scored.jsonl")
    _set(records[1], path, value)
    write_jsonl(work / "bad.jsonl", records)
    for level in ("point", "network"):
        result = sbm("rollup", "bad.jsonl", "--by", level, "--standard", "demo.sbm")
        assert result.exit_code == 2, (level, result.stdout)
        assert f"bad.jsonl:2: {expected}" in result.stderr
        assert "nothing rolled up: 1 record is not a scored visit" in result.stderr
        assert not result.stdout


def test_a_number_beyond_the_float_range_is_refused(work: Path) -> None:
    # valid JSON, read as inf: no mean, gap or band can be made of it
    text = (work / "scored.jsonl").read_text(encoding="utf-8")
    (work / "inf.jsonl").write_text(text.replace('"visit": 1.0', '"visit": 1e400', 1))
    result = sbm("rollup", "inf.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "inf.jsonl:1: `coefficients.visit` is Infinity, not a number" in result.stderr


def test_a_bad_cell_in_csv_results_is_refused_with_its_line(work: Path) -> None:
    lines = (work / "scored.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("coefficients.visit")] = "abc"
    lines[2] = ",".join(cells)
    (work / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = sbm("rollup", "bad.csv", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert 'bad.csv:3: `coefficients.visit` is "abc"' in result.stderr


def test_at_most_ten_problems_are_shown_with_a_count(work: Path) -> None:
    record = read_jsonl(work / "scored.jsonl")[0]
    records = []
    for i in range(25):
        bad = copy.deepcopy(record)
        bad["coefficients"]["visit"] = f"bad {i}"  # 25 different problems
        records.append(bad)
    write_jsonl(work / "bad.jsonl", records)
    result = sbm("rollup", "bad.jsonl", "--by", "point", "--standard", "demo.sbm")
    assert result.exit_code == 2
    assert "nothing rolled up: 25 records are not scored visits" in result.stderr
    assert result.stderr.count("`coefficients.visit` is") == 10
    assert "… and 15 more records" in result.stderr


def test_the_api_refuses_a_bad_result_and_adds_nothing() -> None:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    visits = [json.loads(x) for x in (CONFORMANCE / "demo_visits.jsonl").read_text().splitlines()]
    good = std.score(visits[0]).to_dict()
    bad = copy.deepcopy(good)
    bad["items"]["smile"] = "1"
    with pytest.raises(ResultError, match=r"items\.smile"):
        std.rollup([good, bad], by="point")
    other = copy.deepcopy(good)
    other["version"] = "2026.2"
    with pytest.raises(ResultError, match=r"scored with `demo\.branch` 2026\.2"):
        std.rollup([other], by="point")


# -- 5: figures JSON can carry ------------------------------------------------------------------


def _tiny_results(work: Path, values: list[float]) -> Path:
    """Results of the tiny standard whose coefficient (and rollup inputs) are `values`."""
    (work / "tiny.sbm").write_text(TINY, encoding="utf-8")
    visits = [
        {"visit_id": f"v{i}", "point": "P1", "answers": {"greeted": "yes", "wait": 1}}
        for i in range(len(values))
    ]
    write_jsonl(work / "tiny_visits.jsonl", visits)
    sbm("score", "tiny.sbm", "tiny_visits.jsonl", "-o", "tiny.jsonl")
    records = read_jsonl(work / "tiny.jsonl")
    for record, value in zip(records, values, strict=True):
        record["coefficients"]["visit"] = value
        record["rollup_inputs"] = dict.fromkeys(record["rollup_inputs"], value)
    return write_jsonl(work / "tiny.jsonl", records)


def test_huge_values_average_without_overflow_and_json_has_no_nan(work: Path) -> None:
    _tiny_results(work, [1e308, 1e308])
    for args in (["--format", "json"], ["-o", "out.json"]):
        result = sbm("rollup", "tiny.jsonl", "--by", "point", "--standard", "tiny.sbm", *args)
        assert result.exit_code == 0, result.stderr
        text = result.stdout if "--format" in args else (work / "out.json").read_text()
        group = strict_json(text)["groups"][0]
        assert group["coefficients"]["visit"]["mean"] == 1e308
        assert group["rollups"]["mean_visit"] == 1e308
        assert group["rollups"]["total_visit"] is None  # 2e308 is beyond the float range
        assert group["rollups"]["triple"] is None  # so is 3e308


def test_exact_sums_are_exact_and_order_free() -> None:
    values = [1e308, 1e308, -1e308, 0.1, 1e-320, -0.1]
    forward, backward = ExactSum(), ExactSum()
    for x in values:
        forward.add(x)
    for x in reversed(values):
        backward.add(x)
    assert forward.value() == backward.value() == 1e308 + 1e-320
    assert forward.mean(len(values)) == (1e308 + 1e-320) / 6
    over = ExactSum()
    over.add(1e308)
    over.add(1e308)
    assert over.value() == math.inf and over.mean(2) == 1e308


def test_json_figures_are_rounded_to_twelve_significant_digits(work: Path) -> None:
    _tiny_results(work, [0.1, 0.1])  # 3 * 0.1 is 0.30000000000000004 in floats
    result = sbm(
        "rollup", "tiny.jsonl", "--by", "point", "--standard", "tiny.sbm", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout)["groups"][0]["rollups"]["triple"] == 0.3
    assert "0.30000000000000004" not in result.stdout


# -- 6: where the standard comes from -----------------------------------------------------------


def test_an_uninstalled_standard_says_to_pass_the_standard_option(work: Path) -> None:
    records = read_jsonl(work / "scored.jsonl")
    for r in records:
        r["standard"] = "acme.nowhere"
    write_jsonl(work / "nowhere.jsonl", records)
    result = sbm("rollup", "nowhere.jsonl", "--by", "point")
    assert result.exit_code == 2
    assert "acme.nowhere" in result.stderr and "--standard FILE" in result.stderr


def test_a_standard_named_like_a_path_in_the_results_is_not_opened(work: Path) -> None:
    records = read_jsonl(work / "scored.jsonl")
    for r in records:
        r["standard"] = "demo.sbm"  # a file that exists: still not an installed id
    write_jsonl(work / "path.jsonl", records)
    result = sbm("rollup", "path.jsonl", "--by", "point")
    assert result.exit_code == 2 and "--standard FILE" in result.stderr


# -- 7: where the roll-up goes ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nowhere/out.json", "nowhere/out.csv"])
def test_an_output_in_a_missing_folder_is_a_clean_error(work: Path, name: str) -> None:
    result = sbm("rollup", "scored.jsonl", "--by", "point", "--standard", "demo.sbm", "-o", name)
    assert result.exit_code == 2
    assert f"cannot write {name}: no directory 'nowhere'" in result.stderr


@pytest.mark.parametrize("name", ["out.json", "out.csv"])
def test_an_unwritable_output_is_a_clean_error(
    work: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    # as a read-only folder would (the tests may run as root, who may write anywhere)
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", denied)
    result = sbm("rollup", "scored.jsonl", "--by", "point", "--standard", "demo.sbm", "-o", name)
    assert result.exit_code == 2
    assert f"cannot write {name}: Permission denied" in result.stderr
    assert not (work / name).exists()


# -- 8: the table -------------------------------------------------------------------------------


def test_the_table_names_visits_without_a_point_and_shows_rollups_to_three_decimals(
    work: Path,
) -> None:
    _tiny_results(work, [0.5, 0.75])
    records = read_jsonl(work / "tiny.jsonl")
    records[1]["point"] = None
    records.append({**copy.deepcopy(records[0]), "visit_id": "v9", "point": None})
    write_jsonl(work / "tiny.jsonl", records)
    result = sbm("rollup", "tiny.jsonl", "--by", "point", "--standard", "tiny.sbm")
    assert result.exit_code == 0, result.stderr
    assert "None" not in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("(no point)"))
    cells = row.split()
    assert "0.625" in cells and "1.875" in cells  # avg(visit) of 0.75 and 0.5, and 3 times it
    assert "0.6" not in cells and "1.9" not in cells
    assert "  (no point): " in result.stdout  # the growth zones too


# -- anything in any field ----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    ("standard",),
    ("version",),
    ("point",),
    ("specialist",),
    ("region",),
    ("date",),
    ("visit_id",),
    ("coefficients",),
    ("coefficients", "visit"),
    ("coefficients", "compliance"),
    ("items",),
    ("items", "greeted"),
    ("items", "overall"),
    ("rollup_inputs",),
    ("rollup_inputs", "nps.1"),
    ("critical",),
    ("warnings",),
    ("extra",),
]


@pytest.fixture(scope="module")
def scored_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    visits = [json.loads(x) for x in (CONFORMANCE / "demo_visits.jsonl").read_text().splitlines()]
    results = [o.to_dict() for o in std.score_many(visits) if o.ok]
    return tmp_path_factory.mktemp("prop"), results


@settings(settings.get_profile("ci"))
@given(
    field=st.sampled_from(FIELDS),
    value=JSON_VALUES,
    which=st.integers(0, 5),
    level=st.sampled_from(["point", "region", "network"]),
)
def test_any_json_value_in_any_field_rolls_up_or_is_refused_cleanly(
    scored_demo: tuple[Path, list[dict[str, Any]]],
    field: tuple[str, ...],
    value: Any,
    which: int,
    level: str,
) -> None:
    folder, results = scored_demo
    records = copy.deepcopy(results)
    _set(records[which], field, value)
    path = write_jsonl(folder / "any.jsonl", records)
    result = sbm(
        "rollup", str(path), "--by", level, "--standard", str(CONFORMANCE / "demo_branch.sbm"),
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert f"any.jsonl:{which + 1}" in result.stderr
        assert not result.stdout
    else:
        report = strict_json(result.stdout)
        assert sum(g["visits"] for g in report["groups"]) == len(records)
