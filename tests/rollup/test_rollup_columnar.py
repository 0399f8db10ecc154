"""`sbm rollup` on Parquet and CSV reads a column at a time (`rollup_columns`) and
must give the record path's report exactly, or fall back to it, whose messages name
each problem with file and line. The record path is the reference throughout."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from sbm_engine.analytics.columnar import Fallback
from sbm_engine.cli import cli
from sbm_engine.cli.common import load_standard
from sbm_engine.cli.rollup import accumulate
from sbm_engine.cli.score import result_columns, text_columns
from sbm_engine.formats import open_writer
from sbm_engine.rollup import Rollup
from sbm_engine.rollup_columns import rollup_columnar

ROOT = Path(__file__).parents[2]
BANK = ROOT / "plugins" / "sbm-bank"
STANDARD = BANK / "src" / "sbm_bank" / "standards" / "branch.sbm"
SAMPLE = BANK / "sample" / "wave.jsonl"
LEVELS = ("network", "point", "specialist", "region")

#: Coefficients may be any finite number; scores lie in [0, 1].
COEFFICIENT_VALUES = [None, 1e308, -1e308, 5e-324, -5e-324, -0.0, 0.0, 2.5, 1.0, 0.1, 1e-300]
SCORE_VALUES = [None, 0.0, -0.0, 5e-324, 1.0, 1 - 2**-53, 0.1, 0.3333333333333333]
KEYS = [None, "", "P1", "P2", "Точка 3", "12", "p,4"]


def sbm(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="sbm")


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The bank sample, scored once."""
    out = tmp_path_factory.mktemp("scored") / "wave.jsonl"
    result = sbm("score", str(STANDARD), str(SAMPLE), "-o", str(out))
    assert result.exit_code in (0, 1), result.output  # 1: a few rejected visits
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def std() -> Any:
    return load_standard(str(STANDARD))


def write(path: Path, records: list[dict[str, Any]], std: Any) -> Path:
    """Results as `sbm score` writes them: its columns, its writers."""
    columns = result_columns(std)
    with open_writer(
        path, columns=columns, spreadsheet_safe=True, text_columns=text_columns(columns)
    ) as w:
        for record in records:
            w.write(record)
    return path


def mutate(records: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    out = copy.deepcopy(records)
    rng.shuffle(out)
    out = out[: rng.randint(1, len(out))]
    for record in out:
        if rng.random() < 0.5:
            record["point"] = rng.choice(KEYS)
        if rng.random() < 0.5:
            record["specialist"] = rng.choice(KEYS)
        if rng.random() < 0.2:
            record["region"] = rng.choice(KEYS)
        for name in record["coefficients"]:
            if rng.random() < 0.15:
                record["coefficients"][name] = rng.choice(COEFFICIENT_VALUES)
        for name in record.get("items") or {}:
            if rng.random() < 0.1:
                record["items"][name] = rng.choice(SCORE_VALUES)
        for name in record.get("rollup_inputs") or {}:
            if rng.random() < 0.2:
                record["rollup_inputs"][name] = rng.choice([None, True, False])
    return out


def record_path(paths: list[Path], level: str, std: Any) -> dict[str, Any]:
    acc = accumulate(tuple(map(str, paths)), level, std, str(STANDARD), columnar=False)
    return acc.report()  # type: ignore[no-any-return]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), fmt=st.sampled_from([".parquet", ".csv"]))
def test_columns_give_the_record_paths_report(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path, seed: int, fmt: str
) -> None:
    records = mutate(scored, random.Random(seed))
    path = write(tmp_path / f"r{seed}{fmt}", records, std)
    for level in LEVELS:
        _, acc = rollup_columnar([path], level, std, str(STANDARD))  # no Fallback
        assert acc.report() == record_path([path], level, std)


def test_several_files_and_formats_and_the_pair_key(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path
) -> None:
    rng = random.Random(7)
    a = write(tmp_path / "a.parquet", mutate(scored, rng), std)
    b = write(tmp_path / "b.csv", mutate(scored, rng), std)
    for level in LEVELS:
        _, acc = rollup_columnar([a, b], level, std, str(STANDARD))
        assert acc.report() == record_path([a, b], level, std)
    # keyed by (point, specialist), as the report sums a wave, then regrouped
    _, pairs = rollup_columnar([a, b], "specialist", std, None, key_fields=("point", "specialist"))
    by_pair = Rollup(std.model, "specialist", key=lambda r: (r.get("point"), r.get("specialist")))
    for path in (a, b):
        for record in accumulate_records(path, std):
            by_pair.add_checked(record)
    assert set(pairs.groups) == set(by_pair.groups)
    for level, key_of in (("point", lambda k: k[0]), ("network", lambda k: "network")):
        assert pairs.regroup(level, key_of).report() == by_pair.regroup(level, key_of).report()


def accumulate_records(path: Path, std: Any) -> list[dict[str, Any]]:
    from sbm_engine.result_files import CheckedResults

    return [record for _, record in CheckedResults([path], std)]


def test_other_formats_and_unknown_columns_are_not_for_this_path(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path
) -> None:
    with pytest.raises(Fallback):
        rollup_columnar([SAMPLE], "point", std, str(STANDARD))  # JSONL: record by record
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write(tmp_path / "x.parquet", scored[:20], std)
    table = pq.read_table(path)
    extra = tmp_path / "extra.parquet"
    pq.write_table(
        table.append_column("items.no_such_item", pa.array([None] * 20, pa.float64())), extra
    )
    with pytest.raises(Fallback):
        rollup_columnar([extra], "point", std, str(STANDARD))
    # a NaN is an empty cell to the Parquet reader: N/A, as on the record path
    nan = tmp_path / "nan.parquet"
    column = table.schema.get_field_index("coefficients.visit")
    values = table.column(column).to_pylist()
    values[3] = float("nan")
    pq.write_table(table.set_column(column, "coefficients.visit", pa.array(values)), nan)
    _, acc = rollup_columnar([nan], "point", std, str(STANDARD))
    assert acc.report() == record_path([nan], "point", std)


def cli_both(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Result, Result, int]:
    """The CLI on the column path, then forced onto the record path; and how many
    times the column path gave the report."""
    import sbm_engine.rollup_columns as rc

    taken = []
    real = rollup_columnar  # as imported: the module's may be a stand-in by now

    def spy(*a: Any, **k: Any) -> Any:
        out = real(*a, **k)
        taken.append(1)
        return out

    monkeypatch.setattr(rc, "rollup_columnar", spy)
    columns = sbm(*args)

    def never(*a: Any, **k: Any) -> Any:
        raise Fallback("forced")

    monkeypatch.setattr(rc, "rollup_columnar", never)
    records = sbm(*args)
    return columns, records, len(taken)


@pytest.mark.parametrize("fmt", [".parquet", ".csv"])
def test_cli_output_is_unchanged(
    scored: list[dict[str, Any]],
    std: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    path = write(tmp_path / f"x{fmt}", mutate(scored, random.Random(3)), std)
    for extra in (["--format", "json"], ["--standard", str(STANDARD), "--format", "json"], []):
        args = ["rollup", str(path), "--by", "point", *extra]
        if "--standard" not in extra:
            pytest.importorskip("sbm_bank")  # the results name the installed standard
        columns, records, taken = cli_both(args, monkeypatch)
        assert taken == 1, (columns.output, columns.exception, extra)
        assert columns.exit_code == records.exit_code == 0, columns.output
        assert columns.stdout == records.stdout


@pytest.mark.parametrize(
    ("fmt", "column", "value"),
    [
        (".parquet", "items", 1.5),
        (".parquet", "coefficients", float("inf")),
        (".csv", "items", 2.0),
        (".csv", "coefficients", "abc"),
        (".csv", "rollup_inputs", 7),
        (".parquet", "version", "1999"),
        (".csv", "standard", "other.standard"),
        (".parquet", "version", None),
    ],
)
def test_a_bad_record_falls_back_to_todays_message(
    scored: list[dict[str, Any]],
    std: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    column: str,
    value: Any,
) -> None:
    records = copy.deepcopy(scored[:40])
    bad = records[17]
    if column in ("standard", "version"):
        bad[column] = value
    else:
        name = next(iter(bad[column]))
        bad[column][name] = value
    path = write(tmp_path / f"bad{fmt}", records, std)
    with pytest.raises(Fallback):
        rollup_columnar([path], "point", std, str(STANDARD))
    args = ["rollup", str(path), "--by", "point", "--standard", str(STANDARD)]
    columns, records_run, taken = cli_both(args, monkeypatch)
    assert taken == 0
    assert columns.exit_code == records_run.exit_code == 2
    assert columns.stderr == records_run.stderr and columns.stdout == records_run.stdout


def test_a_standard_that_is_not_theirs_gives_todays_message(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.sbm"
    other.write_text(STANDARD.read_text(encoding="utf-8").replace('version "', 'version "9'))
    if other.read_text(encoding="utf-8") == STANDARD.read_text(encoding="utf-8"):
        pytest.skip("no version line to change")
    path = write(tmp_path / "x.parquet", scored[:30], std)
    args = ["rollup", str(path), "--by", "point", "--standard", str(other)]
    columns, records, taken = cli_both(args, monkeypatch)
    assert taken == 0
    assert columns.exit_code == records.exit_code
    assert columns.stderr == records.stderr


def test_mixed_formats_go_the_record_way(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write(tmp_path / "a.parquet", scored[:30], std)
    b = write(tmp_path / "b.jsonl", scored[30:60], std)
    args = ["rollup", str(a), str(b), "--by", "region", "--format", "json"]
    args += ["--standard", str(STANDARD)]
    columns, records, taken = cli_both(args, monkeypatch)
    assert taken == 0 and columns.exit_code == 0
    assert columns.stdout == records.stdout


def moments(m: Any) -> tuple[int, int, int]:
    return m.n, m.sum_units, m.sq_units


def figures(wave: Any) -> dict[str, Any]:
    """Everything a report reads from `WaveFigures`, exact sums as integers."""
    tallies = {
        level: {
            key: (
                cell.visits,
                {c: moments(m) for c, m in cell.coefs.items()},
                cell.hits,
                cell.applied,
                cell.passed,
            )
            for key, cell in tally.cells.items()
        }
        for level, tally in wave.tallies.items()
    }
    sections = {
        level: {key: {n: moments(m) for n, m in g.means.items()} for key, g in groups.items()}
        for level, groups in wave.sections.items()
    }
    return {
        "reports": wave.reports,
        "tallies": tallies,
        "sections": sections,
        "bands": (wave.band_counts, wave.no_band),
        "dates": wave.dates,
        "points_of": wave.points_of,
        "visits": wave.visits,
        "headline": wave.headline,
    }


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), fmt=st.sampled_from([".parquet", ".csv"]))
def test_the_reports_wave_figures_from_columns(
    scored: list[dict[str, Any]], std: Any, tmp_path: Path, seed: int, fmt: str
) -> None:
    from sbm_engine.analytics.reporting.wave_figures import WaveFigures

    rng = random.Random(seed)
    records = mutate(scored, rng)
    for record in records:
        if rng.random() < 0.2:
            record["date"] = rng.choice([None, "", "2026-01-01", "2027-12-31", "2026-03-15"])
        for name in record.get("sections") or {}:
            if rng.random() < 0.1:
                record["sections"][name] = rng.choice(COEFFICIENT_VALUES)
    path = write(tmp_path / f"w{seed}{fmt}", records, std)
    for headline in (None, "compliance"):
        columns = WaveFigures([path], std, headline)
        assert columns.results is None  # the column path was taken
        records_way = WaveFigures([path], std, headline, columnar=False)
        assert figures(columns) == figures(records_way)
