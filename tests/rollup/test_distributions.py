"""Rollup distributions (language 1.1): `median(X)` and `percentile(X, P)` over a
group's visits, and how many of a group's visits fell in each band.

A percentile is not a sum, so the roll-up keeps each group's values of the term: the
record path, the columnar path (Parquet, CSV) and the roll-up of a folder of parts
must still agree exactly, whatever the order of the visits and however the input is
split into files, and regrouping pairs must give each level's figures."""

from __future__ import annotations

import contextlib
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.cli import cli
from sbm_engine.rollup import Rollup, percentile

STANDARD = """\
standard dist "Distributions" {
    version "1"
    item wait "Wait, minutes" answer number 0..10 optional
    item greeted "Greeted" answer { yes = 1, no = 0 } optional
    coefficient visit = wait
    coefficient hello = greeted
    bands visit { excellent >= 0.9, good >= 0.5, poor }
    rollup med = median(visit)
    rollup p90 = percentile(answer(wait), 90)
    rollup least = percentile(visit, 0)
    rollup most = percentile(visit, 100)
    rollup spread = percentile(visit, 75) - percentile(visit, 25)
    rollup mean = avg(visit)
}
"""

WAITS = [None, 0, 1, 2, 2.5, 3, 5, 7, 9, 9.5, 10]


def sbm(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), prog_name="sbm")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def std_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dist") / "dist.sbm"
    path.write_text(STANDARD, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def std(std_file: Path) -> Any:
    return sbm_engine.load(std_file)


def visits(waits: list[Any], points: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "visit_id": f"v{i}",
            "point": point,
            "specialist": f"S{i % 3}",
            "answers": {"wait": wait, "greeted": "yes" if i % 2 else None},
        }
        for i, (wait, point) in enumerate(zip(waits, points, strict=True))
    ]


def scored(std: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for record in records:
        outcome = std.score(record)
        assert outcome.ok, outcome
        out.append(outcome.to_dict())
    return out


def report_of(std: Any, results: list[dict[str, Any]], by: str) -> dict[str, Any]:
    return Rollup(std.model, by).add_many(results).report()


# ---- the definition ---------------------------------------------------------------------------


def test_percentile_exact_values() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 0) == percentile([3.0], 100) == percentile([3.0], 37) == 3.0
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0  # odd count: the middle value
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # even: the mean of the middle two
    assert percentile([4.0, 1.0, 3.0, 2.0], 0) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 100) == 4.0
    assert percentile([2.0, 5.0, 10.0], 90) == 9.0  # h = 1.8: 5 + 0.8 * (10 - 5)
    assert percentile([0.0, 10.0], 25) == 2.5
    assert percentile([-1e308, 1e308], 50) == 0.0  # exact: no overflow in between
    assert percentile([1e308, 1e308], 50) == 1e308


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
    st.floats(0, 100),
)
def test_percentile_is_numpys_linear_method(values: list[float], p: float) -> None:
    np = pytest.importorskip("numpy")
    mine = percentile(values, p)
    assert mine is not None
    theirs = float(np.percentile(np.array(values), p))  # method="linear", the default
    assert math.isclose(mine, theirs, rel_tol=1e-12, abs_tol=1e-9)
    assert min(values) <= mine <= max(values)
    assert percentile(list(reversed(values)), p) == mine  # order does not matter


# ---- the checker ------------------------------------------------------------------------------

HEAD = """\
standard t {
    item wait "Wait" answer number 0..10
    coefficient visit = wait
"""


def checked(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "t.sbm"
    path.write_text(HEAD + body + "\n}\n", encoding="utf-8")
    return check(path)


@pytest.mark.parametrize(
    "body",
    [
        "rollup r = median(visit)",
        "rollup r = percentile(visit, 0) + percentile(visit, 100) + percentile(answer(wait), 12.5)",
        "rollup r = percentile(visit, 90) - median(visit) + avg(visit)",
    ],
)
def test_median_and_percentile_check(tmp_path: Path, body: str) -> None:
    assert codes(checked(tmp_path, body)) == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("rollup r = percentile(visit, 150)", "outside [0, 100]"),
        ("rollup r = percentile(visit, -5)", "-5, outside [0, 100]"),
        ("rollup r = percentile(visit, visits)", "written out"),
        ("rollup r = percentile(visit, 10 * 5)", "written out"),
    ],
)
def test_p_is_a_number_written_out_in_0_100(tmp_path: Path, body: str, words: str) -> None:
    report = checked(tmp_path, body)
    assert codes(report) == ["E0301"]
    assert words in one(report, "E0301").message


def test_median_outside_a_rollup_and_wrong_arity(tmp_path: Path) -> None:
    assert codes(checked(tmp_path, "coefficient c = median(wait)")) == ["E0306"]
    assert codes(checked(tmp_path, "rollup r = percentile(visit)")) == ["E0302"]
    assert codes(checked(tmp_path, "rollup r = median(visit, 50)")) == ["E0302"]
    assert codes(checked(tmp_path, "rollup r = median(wait > 5)")) == ["E0301"]


def test_terms_are_rollup_inputs_like_avg(std: Any) -> None:
    terms = {t.key: (t.kind, t.param) for r in std.model.rollups for t in r.terms}
    assert terms["med.1"] == ("median", 50.0)
    assert terms["p90.1"] == ("percentile", 90.0)
    (result,) = scored(std, visits([5], ["P1"]))
    assert result["rollup_inputs"]["med.1"] == 0.5
    assert result["rollup_inputs"]["p90.1"] == 5


# ---- exact figures on a small group -----------------------------------------------------------


def test_small_groups(std: Any) -> None:
    results = scored(std, visits([10, 5, 2, None, 9, 3], ["A", "A", "A", "A", "B", "B"]))
    a, b = report_of(std, results, "point")["groups"]
    assert a["rollups"] == {
        "med": 0.5,  # of 1.0, 0.5, 0.2: the visit with no answer is N/A, left out
        "p90": 9.0,
        "least": 0.2,
        "most": 1.0,
        "spread": pytest.approx(0.75 - 0.35),
        "mean": pytest.approx(1.7 / 3),
    }
    assert b["rollups"]["med"] == pytest.approx(0.6)  # even count: (0.9 + 0.3) / 2
    assert a["coefficients"]["visit"]["bands"] == {"excellent": 1, "good": 1, "poor": 1}
    assert b["coefficients"]["visit"]["bands"] == {"excellent": 1, "good": 0, "poor": 1}
    assert list(b["coefficients"]["visit"]["bands"]) == ["excellent", "good", "poor"]
    assert a["coefficients"]["hello"]["bands"] is None  # no bands declared


def test_a_group_with_no_values_is_na(std: Any) -> None:
    results = scored(std, visits([None, None], ["A", "A"]))
    (group,) = report_of(std, results, "network")["groups"]
    assert group["rollups"]["med"] is None and group["rollups"]["p90"] is None
    assert group["coefficients"]["visit"]["bands"] == {"excellent": 0, "good": 0, "poor": 0}


def test_a_band_the_standard_does_not_have_is_refused(std: Any, tmp_path: Path) -> None:
    (result,) = scored(std, visits([5], ["A"]))
    result["bands"]["visit"] = "superb"
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(result) + "\n", encoding="utf-8")
    done = sbm("rollup", str(path), "--by", "point", "--standard", str(tmp_path / "x.sbm"))
    assert done.exit_code == 2
    (tmp_path / "x.sbm").write_text(STANDARD, encoding="utf-8")
    done = sbm("rollup", str(path), "--by", "point", "--standard", str(tmp_path / "x.sbm"))
    assert done.exit_code == 2
    assert '`bands.visit` is "superb", not one of the bands excellent, good, poor' in done.output


def test_flat_output_has_a_column_per_band(std: Any, std_file: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", scored(std, visits([10, 5], ["A", "B"])))
    out = tmp_path / "r.csv"
    assert sbm("rollup", str(path), "--by", "point", "--standard", str(std_file), "-o", str(out))
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[9:12] == ["visit.bands.excellent", "visit.bands.good", "visit.bands.poor"]
    assert "hello.bands" not in ",".join(header)


# ---- every path agrees, whatever the order and the split -------------------------------------


def write(path: Path, results: list[dict[str, Any]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
        return path
    from sbm_engine.pipeline.outputs import record_writer

    with record_writer(sbm_engine.load(path.parent / "dist.sbm"), path) as w:
        for r in results:
            w.write(r)
    return path


def rolled(paths: list[Path], by: str, std_file: Path, columnar: bool) -> dict[str, Any]:
    from sbm_engine.cli.common import load_standard
    from sbm_engine.cli.rollup import accumulate

    std = load_standard(str(std_file))
    acc = accumulate(tuple(map(str, paths)), by, std, str(std_file), columnar=columnar)
    return acc.report()  # type: ignore[no-any-return]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.lists(
        st.tuples(st.sampled_from(WAITS), st.sampled_from(["A", "B", "C", None])),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from([".parquet", ".csv", ".jsonl"]),
)
def test_paths_orders_and_splits_agree(
    std: Any,
    std_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
    data: Any,
    seed: int,
    fmt: str,
) -> None:
    pytest.importorskip("pyarrow")
    from sbm_engine.analytics.columnar import Fallback
    from sbm_engine.rollup_columns import rollup_columnar

    folder = tmp_path_factory.mktemp("agree")
    (folder / "dist.sbm").write_text(STANDARD, encoding="utf-8")
    rng = random.Random(seed)
    results = scored(std, visits([w for w, _ in data], [p for _, p in data]))
    whole = write(folder / f"whole{fmt}", results)
    shuffled = results[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(len(shuffled) + 1), min(2, len(shuffled) + 1)))
    chunks = [shuffled[: cuts[0]], shuffled[cuts[0] : cuts[-1]], shuffled[cuts[-1] :]]
    parts = [write(folder / f"part{i}{fmt}", c) for i, c in enumerate(chunks) if c]
    for by in ("network", "point", "specialist"):
        expected = report_of(std, results, by)  # in memory, the original order
        assert rolled([whole], by, std_file, columnar=False) == expected
        assert rolled(parts, by, std_file, columnar=False) == expected
        assert rolled(parts, by, std_file, columnar=True) == expected
        if fmt == ".parquet":  # the columnar path takes these whole: no fallback
            assert rollup_columnar(parts, by, std, str(std_file))[1].report() == expected
        elif fmt == ".csv":  # numbers among CSV rollup inputs go the record way
            with contextlib.suppress(Fallback):
                assert rollup_columnar(parts, by, std, str(std_file))[1].report() == expected
    # one pass by (point, specialist), regrouped: the same as each level
    pairs = Rollup(std.model, "specialist", key=lambda r: (r.get("point"), r.get("specialist")))
    pairs.add_many(shuffled)
    for by, key_of in (("network", lambda k: "network"), ("point", lambda k: k[0])):
        assert pairs.regroup(by, key_of).report() == report_of(std, results, by)


def test_columnar_bands_without_rollups(tmp_path: Path) -> None:
    """CSV goes column by column when the rollup inputs allow: band counts agree."""
    pytest.importorskip("pyarrow")
    from sbm_engine.rollup_columns import rollup_columnar

    text = STANDARD.split("    rollup")[0] + "}\n"
    (tmp_path / "dist.sbm").write_text(text, encoding="utf-8")
    std = sbm_engine.load(tmp_path / "dist.sbm")
    results = scored(std, visits([10, 5, 2, None, 9, 3], ["A", "A", "A", "A", "B", None]))
    for fmt in (".csv", ".parquet"):
        path = write(tmp_path / f"r{fmt}", results)
        for by in ("network", "point"):
            got = rollup_columnar([path], by, std, str(tmp_path / "dist.sbm"))[1].report()
            assert got == report_of(std, results, by)


# ---- mode(band(C)) ----------------------------------------------------------------------------

BANDED = HEAD + "    bands visit { high >= 0.5, low }\n"


def checked_banded(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "t.sbm"
    path.write_text(BANDED + body + "\n}\n", encoding="utf-8")
    return check(path)


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("rollup t = mode(band(visit))", []),
        ("rollup t = mode(band(visit))\n rollup u = if t == high then 1 else 0", []),
        ("rollup u = if mode(band(visit)) == low then 1 else 0", []),
        ("rollup t = mode(visit)", ["E0301"]),
        ("rollup t = mode(answer(wait))", ["E0301"]),
        ("rollup t = mode(band(wait))", ["E0208"]),
        ("coefficient c = mode(band(visit))", ["E0306"]),
        ("rollup t = mode(band(visit)) + 1", ["E0301"]),
        ("rollup t = mode(band(visit))\n rollup u = t * 2", ["E0301"]),
        ("rollup t = mode(band(visit))\n rollup u = if t == superb then 1 else 0", ["E0207"]),
    ],
)
def test_mode_checks(tmp_path: Path, body: str, found: list[str]) -> None:
    assert codes(checked_banded(tmp_path, body)) == found


MODE = STANDARD.replace(
    "    rollup mean = avg(visit)\n",
    "    rollup mean = avg(visit)\n"
    "    rollup typical = mode(band(visit))\n"
    "    rollup mostly_poor = if typical == poor then 1 else 0\n",
)


@pytest.mark.parametrize("fmt", [".jsonl", ".parquet", ".csv"])
def test_mode_of_bands(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "dist.sbm").write_text(MODE, encoding="utf-8")
    std = sbm_engine.load(tmp_path / "dist.sbm")
    waits = [10, 5, 2, None, 9, 2, 1, None, None]
    points = ["A", "A", "A", "A", "B", "B", "B", "C", "C"]
    results = scored(std, visits(waits, points))
    assert "typical.1" not in results[0].get("rollup_inputs", {})  # read from band counts
    a, b, c = report_of(std, results, "point")["groups"]
    assert a["rollups"]["typical"] == "excellent"  # 1, 1, 1: ties go to the first band
    assert b["rollups"]["typical"] == "poor"  # 1 excellent, 2 poor
    assert b["rollups"]["mostly_poor"] == 1.0 and a["rollups"]["mostly_poor"] == 0.0
    assert c["rollups"]["typical"] is None and c["rollups"]["mostly_poor"] == 0.0
    path = write(tmp_path / f"r{fmt}", results)
    for by in ("network", "point"):
        assert rolled([path], by, tmp_path / "dist.sbm", columnar=True) == report_of(
            std, results, by
        )
    table = sbm("rollup", str(path), "--by", "point", "--standard", str(tmp_path / "dist.sbm"))
    assert table.exit_code == 0 and "excellent" in table.output
