"""The yardsticks of the format matrix do the work `sbm score` does, in every format.

`benchmarks/score_matrix.py` times `sbm score` against a DuckDB statement and a
polars query (benchmarks/score_baselines.py); its ratios mean something only if
those compute exactly what the command computes and write the same columns. Here
a few hundred workload visits, with some the standard must reject, go in every
input format the yardsticks read, and every output they write is checked equal to
`sbm score`'s output in the same format: the same columns in the same order, the
same visits, floats within 1e-12, texts and booleans equal. `sbm score` writes each
format from another input, and its four outputs are checked to hold the same."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")
pytest.importorskip("polars")
pytest.importorskip("fastexcel")  # polars' Excel reader
pytest.importorskip("xlsxwriter")  # polars' Excel writer
pytest.importorskip("python_calamine")  # reads XLSX outputs back

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import score_baselines as sb  # noqa: E402
import score_matrix as sm  # noqa: E402
import workload as wl  # noqa: E402

FORMATS = sb.FORMATS
N = 300
SBM = str(Path(sys.executable).with_name("sbm"))


def _with_invalid(table: Any) -> tuple[Any, int]:
    """The visits with five the standard rejects (an unknown label, N/A to a critical
    item, a waiting time out of range, a missing answer, a missing answer to a
    deposit-only item on a deposit visit) and some it scores (an alias, a deposit-only
    answer on a loan visit, which does not apply, visit fields that start like a
    formula). Returns the table and the count of rejects."""
    crit = wl.criteria()
    scenario = table.column("scenario").to_pylist()
    deposit = [i for i, s in enumerate(scenario) if s == "deposit"]
    loan = [i for i, s in enumerate(scenario) if s != "deposit"]
    yes_no = next(c for c in crit if c.kind == "yes_no" and not (c.critical or c.deposit_only))
    critical = next(c for c in crit if c.critical)
    number = next(c for c in crit if c.kind == "number")
    deposit_item = next(c for c in crit if c.deposit_only)
    edits = [
        (yes_no.name, 3, "maybe"),
        (critical.name, 10, "na"),
        (number.name, 20, float(number.limits[0] + 1)),  # type: ignore[index]
        (yes_no.name, 30, None),
        (deposit_item.name, deposit[5], None),
        (yes_no.name, 60, "да"),
        (deposit_item.name, loan[7], "yes" if deposit_item.kind == "yes_no" else "4"),
        ("point", 70, "=1+1"),  # CSV outputs write it as '=1+1
        ("specialist", 71, "-S7"),
    ]
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    for name, row, value in edits:
        columns[name][row] = value
    fixed = pa.table(
        [pa.array(columns[n], type=table.schema.field(n).type) for n in table.column_names],
        names=table.column_names,
    )
    return fixed, 5


class SbmRuns:
    """`sbm score`'s output in every format, each from another input (so each format is
    read once and written once): four runs started at once, in the background while
    the yardsticks run; `output(fmt)` waits for the one writing `fmt` and checks it
    rejected exactly the invalid visits."""

    def __init__(self, standard: Path, inputs: dict[str, Path], rejected: int) -> None:
        self.rejected = rejected
        self.procs: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
        for fin, fout in zip(FORMATS, FORMATS[1:] + FORMATS[:1], strict=True):
            out = inputs[fin].with_name(f"sbm_{fin}.{fout}")
            cmd = [SBM, "score", str(standard), str(inputs[fin]), "-o", str(out), "--no-progress"]
            self.procs[fout] = (out, subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))

    def output(self, fmt: str) -> Path:
        out, proc = self.procs[fmt]
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err  # 1: some visits were rejected
        rejects = out.with_suffix(".rejects.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(rejects) == self.rejected, rejects
        return out


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Inputs in every format and the `SbmRuns` on them."""
    folder = tmp_path_factory.mktemp("matrix")
    standard = wl.write_standard(folder / "bench_branch.sbm")
    table, rejected = _with_invalid(wl.table(wl.columns(N)))
    inputs = {f: sm.write_tables(folder / f"in.{f}", [table]) for f in FORMATS}
    sbm = SbmRuns(standard, inputs, rejected)
    yield {"folder": folder, "inputs": inputs, "sbm": sbm, "spec": sb.spec(), "n": N - rejected}
    for _, proc in sbm.procs.values():
        proc.kill()
        proc.communicate()


CELLS = [
    (tool, fin, fout)
    for tool in ("duckdb", "polars")
    for fin in FORMATS
    for fout in FORMATS
    if not (tool == "duckdb" and "xlsx" in (fin, fout))
]


@pytest.mark.parametrize(("tool", "fin", "fout"), CELLS)
def test_yardstick_output_equals_sbm_score(
    matrix: dict[str, Any], tool: str, fin: str, fout: str
) -> None:
    spec = matrix["spec"]
    out = matrix["folder"] / f"{tool}_{fin}.{fout}"
    run = sb.run_duckdb if tool == "duckdb" else sb.run_polars
    run(spec, str(matrix["inputs"][fin]), str(out))
    want = sb.read_output(matrix["sbm"].output(fout), spec)
    got = sb.read_output(out, spec)
    assert want.num_rows == matrix["n"]
    assert sb.compare(got, want, f"{tool} {fin} -> {fout}") == []


def test_sbm_scores_alike_whatever_the_formats(matrix: dict[str, Any]) -> None:
    """What the yardsticks are held to: the same results, read back, in every format."""
    spec = matrix["spec"]
    want = sb.read_output(matrix["sbm"].output("parquet"), spec)
    assert want.num_rows == matrix["n"]
    assert want.column_names == spec.columns()
    for fout in FORMATS:
        got = sb.read_output(matrix["sbm"].output(fout), spec)
        if fout == "csv":  # text that starts like a formula has a leading '
            row = got.column("visit_id").to_pylist().index("v0000070")
            assert got.column("point")[row].as_py() == "'=1+1"
            got = _unquote(got)
        assert sb.compare(got, want, f"sbm -> {fout}") == []


def _unquote(table: Any) -> Any:
    import pyarrow.compute as pc

    for name in ("point", "specialist"):
        col = table.column(name)
        quoted = pc.match_substring_regex(col, r"^'[=+\-@]")
        fixed = pc.if_else(quoted, pc.utf8_slice_codeunits(col, 1), col)
        table = table.set_column(table.column_names.index(name), name, fixed)
    return table


def test_the_check_sees_a_wrong_scoring(matrix: dict[str, Any]) -> None:
    """A yardstick scoring one item otherwise (another weight, a label misread) fails."""
    spec = matrix["spec"]
    first = spec.items[0]
    changed = (
        replace(first, weight=first.weight + 1),
        replace(first, labels={**first.labels, "no": 0.5}),
    )
    want = sb.read_output(matrix["sbm"].output("csv"), spec)
    for k, item in enumerate(changed):
        wrong = replace(spec, items=(item, *spec.items[1:]))
        out = matrix["folder"] / f"wrong_{k}.csv"
        sb.run_polars(wrong, str(matrix["inputs"]["parquet"]), str(out))
        problems = sb.compare(sb.read_output(out, spec), want, "wrong")
        assert any(f"sections.{first.section}" in p for p in problems), problems


def test_spec_survives_its_json() -> None:
    spec = sb.spec()
    assert sb.Spec.from_json(spec.to_json()) == spec


def test_ratios_pair_the_runs_of_one_repetition() -> None:
    runs = {
        "sbm": [{"wall_s": 2.0}, {"wall_s": 9.0}, {"wall_s": 3.0}],
        "duckdb": [{"wall_s": 4.0}, {"wall_s": 3.0}, {"wall_s": 1.0, "error": "x"}],
        "polars": [{"wall_s": 1.0}, {"wall_s": 9.0}, {"wall_s": 3.0}],
    }
    r = sm.ratios(runs)
    assert r["sbm/duckdb"] == pytest.approx((0.5 + 3.0) / 2)
    assert r["sbm/polars"] == pytest.approx(1.0)
    assert r["sbm/faster"] == pytest.approx(2.0)  # 2/1, 9/3, 3/3
