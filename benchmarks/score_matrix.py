"""The format matrix: `sbm score` against DuckDB and polars doing the same scoring.

What it compares: for every input format {JSONL, CSV, XLSX, Parquet} and output
format {JSONL, CSV, XLSX, Parquet}, one wave of the reference workload (the
100-criterion bank standard of workload.py) scored three ways, each a child
process timed by wall clock with its peak RSS from `/usr/bin/time -v`:

* `sbm score STANDARD IN -o OUT --no-progress` (the command as a user runs it);
* DuckDB: one SQL statement, `COPY (SELECT …) TO OUT` (score_baselines.py);
* polars: one lazy query, `scan_*` … `sink_*`, or `read_excel` / `write_excel`.

The yardsticks are generated from `workload.criteria()`, check every answer and
write the columns `sbm score` writes, in its order and shape; tests/
test_score_matrix_baselines.py checks their outputs equal `sbm score`'s in every
format, and `--check` does it again on the first repetition of each cell. DuckDB
has no XLSX cell: it reads and writes XLSX only with its `excel` extension, which
is not in the Python wheel but downloaded from DuckDB's extension server (not
reachable where these figures were taken); XLSX cells compare sbm with polars and
its Excel reader and writer (`fastexcel`, `xlsxwriter`).

Waves: `--sizes` (default 20,000 visits, a typical wave, and 1,000,000); cells
with XLSX hold at most `--xlsx-max` visits (100,000) and cells reading JSONL at
most `--jsonl-max` (200,000), which keeps the default run near an hour on two
cores: a JSONL wave of a million visits is 2 GB of text, and the yardsticks' Excel
writer is slow.

Each cell's input is written once and kept under `--dir`; then, `--reps` times,
the three commands run one after the other, their order rotated every
repetition, so machine load hits all alike; a cell stops repeating once it has
run for `--cell-budget` seconds (the slow XLSX cells then run once). Reported per
cell: the median wall time of each, the medians of the paired ratios sbm/DuckDB,
sbm/polars and sbm/(faster of the two), each one's largest peak RSS, and whether
the cell meets the goal: sbm/faster <= 1 and sbm's peak RSS under 1 GiB.

    python benchmarks/score_matrix.py --quick              # 20k visits, 1 rep, every cell
    python benchmarks/score_matrix.py --check              # 20k and 1M, 3 reps (about an hour)
    python benchmarks/score_matrix.py --jsonl-max 0        # JSONL input at 1M too (longer)
    python benchmarks/score_matrix.py --sizes 1000000,4000000 --formats parquet,csv --reps 1
    python benchmarks/score_matrix.py --table benchmarks/score_matrix_results.json

Results go to `benchmarks/score_matrix_results.json` (`--out`), with the machine,
the versions and the commit; the markdown tables are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import score_baselines as sb  # noqa: E402
from machine import cpu_model  # noqa: E402

PYTHON = sys.executable
SBM = str(Path(sys.executable).with_name("sbm"))
TOOLS = ("sbm", "duckdb", "polars")
DEFAULT_DIR = Path("/tmp/sbm_score_matrix")
DUCKDB_XLSX = (
    "DuckDB reads and writes XLSX only with its `excel` extension, which is not in the "
    "Python wheel but downloaded from DuckDB's extension server"
)
#: The goal of each cell: sbm no slower than the faster yardstick, peak RSS under 1 GiB.
RSS_GOAL_MIB = 1024.0


# -- inputs -------------------------------------------------------------------------------------


def write_input(folder: Path, n: int, fmt: str) -> Path:
    """The seeded wave of n visits in `fmt` (`write_tables`), written once and reused."""
    path = folder / f"wave_{n}.{fmt}"
    if path.exists():
        return path
    import workload as wl

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    crit = wl.criteria()
    write_tables(path, (wl.table(cols, crit) for cols in wl.column_chunks(n, chunk=50_000)))
    took = time.perf_counter() - t0
    print(f"  input {path.name}: {path.stat().st_size / 2**20:.0f} MiB in {took:.0f} s", flush=True)
    return path


def write_tables(path: Path, tables: Iterable[Any]) -> Path:
    """Visits (pyarrow Tables shaped as `workload.table`) to a file of the format of
    `path`'s suffix, through a temporary name renamed at the end. Parquet as pyarrow
    writes it; CSV unquoted (no value needs quotes), as spreadsheets export such data;
    XLSX one sheet, a header row, texts as texts, numbers as numbers, nulls as empty
    cells; JSONL as `workload.records` (`records`)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    fmt = sb.fmt_of(path)
    tmp = path.with_name(f"{path.stem}.part.{fmt}")
    writer: Any = None
    for table in tables:
        if fmt == "jsonl":
            writer = writer or tmp.open("w", encoding="utf-8")
            writer.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records(table))
        elif fmt == "xlsx":
            writer = writer or _XlsxRows(tmp, table.column_names)
            writer.write(table)
        elif writer is None:
            if fmt == "parquet":
                writer = pq.ParquetWriter(tmp, table.schema)
            else:
                options = pcsv.WriteOptions(quoting_style="none")
                writer = pcsv.CSVWriter(tmp, table.schema, write_options=options)
        if fmt in ("parquet", "csv"):
            writer.write_table(table)
    writer.close()
    tmp.replace(path)
    return path


def records(table: Any) -> Iterator[dict[str, Any]]:
    """JSON-shaped visits of a workload table, as `workload.records` gives them: the
    visit fields, then `answers` without the null cells, grades and ratings as
    integers, N/A and yes/no as text, waiting times as floats."""
    fields = [f for f in sb.INPUT_FIELDS if f in table.column_names]
    names = [n for n in table.column_names if n not in fields]
    kinds = {n: str(table.schema.field(n).type) for n in names}
    cols = {n: table.column(n).to_pylist() for n in table.column_names}
    for i in range(table.num_rows):
        answers = {}
        for n in names:
            v = cols[n][i]
            if v is None:
                continue
            if kinds[n] == "string" and v.isdigit():
                v = int(v)
            answers[n] = v
        yield {**{f: cols[f][i] for f in fields}, "answers": answers}


class _XlsxRows:
    def __init__(self, path: Path, header: list[str]) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.book.add_worksheet("visits")
        self.sheet.write_row(0, 0, header)
        self.row = 1

    def write(self, table: Any) -> None:
        sheet = self.sheet
        for values in zip(*(c.to_pylist() for c in table.columns), strict=True):
            for j, v in enumerate(values):
                if v is None or v != v:  # null or NaN: an empty cell
                    continue
                if isinstance(v, str):
                    sheet.write_string(self.row, j, v)
                else:
                    sheet.write_number(self.row, j, v)
            self.row += 1

    def close(self) -> None:
        self.book.close()


# -- one run ------------------------------------------------------------------------------------


def prepare(standard: Path) -> None:
    """Put `sbm` where a user's installed copy is after its first run: the package's
    bytecode compiled (as `pip install` does; an editable checkout, or a run with
    PYTHONDONTWRITEBYTECODE, would otherwise compile every module at each start) and
    the standard in the compile cache (`sbm check` loads it)."""
    import sbm_engine

    package = Path(sbm_engine.__file__).resolve().parent
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(package)], check=True)
    subprocess.run([SBM, "check", str(standard)], check=True, capture_output=True)


def command(tool: str, standard: Path, spec_path: Path, inp: Path, out: Path) -> list[str]:
    if tool == "sbm":
        return [SBM, "score", str(standard), str(inp), "-o", str(out), "--no-progress"]
    return [PYTHON, str(HERE / "score_baselines.py"), tool, str(spec_path), str(inp), str(out)]


def run_once(cmd: list[str], out: Path) -> dict[str, Any]:
    """One child process: wall seconds, peak RSS (MiB) from `/usr/bin/time -v`, exit status."""
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    run = {"wall_s": wall, "peak_rss_mib": rss, "exit": proc.returncode}
    if proc.returncode != 0 or not out.exists():
        tail = proc.stderr.split("\tCommand being timed")[0].strip()[-2000:]
        run["error"] = tail or f"no output (exit {proc.returncode})"
    return run


def check_cell(spec: sb.Spec, outs: dict[str, Path]) -> list[str]:
    want = sb.read_output(outs["sbm"], spec)
    problems = []
    for tool, path in outs.items():
        if tool != "sbm":
            problems += sb.compare(sb.read_output(path, spec), want, tool)
    return problems


def run_cell(
    n: int,
    fin: str,
    fout: str,
    tools: tuple[str, ...],
    reps: int,
    folder: Path,
    standard: Path,
    spec_path: Path,
    spec: sb.Spec,
    check: bool,
    budget: float,
) -> dict[str, Any]:
    """`reps` repetitions of the tools' runs on one input (fewer once the cell has
    taken `budget` seconds, at least one)."""
    inp = write_input(folder / "inputs", n, fin)
    outs = {t: folder / "out" / f"{t}.{fout}" for t in tools}
    outs[tools[0]].parent.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    cell: dict[str, Any] = {
        "visits": n,
        "input": fin,
        "output": fout,
        "input_mib": inp.stat().st_size / 2**20,
        "load_start": os.getloadavg()[0],
    }
    t0 = time.perf_counter()
    for rep in range(reps):
        if rep and time.perf_counter() - t0 > budget:
            break
        order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
        for tool in order:
            run = run_once(command(tool, standard, spec_path, inp, outs[tool]), outs[tool])
            runs[tool].append(run)
            if "error" in run:
                print(f"    {tool} failed: {run['error']}", file=sys.stderr)
        if rep == 0 and check and all("error" not in runs[t][0] for t in tools):
            problems = check_cell(spec, outs)
            cell["check"] = problems or "equal"
            if problems:
                print("    outputs differ:\n      " + "\n      ".join(problems), file=sys.stderr)
    cell["load_end"] = os.getloadavg()[0]
    cell["reps"] = len(runs["sbm"])
    cell["tools"] = {}
    for tool, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        cell["tools"][tool] = {
            "runs": rs,
            "median_s": statistics.median(r["wall_s"] for r in ok) if ok else None,
            "peak_rss_mib": max(r["peak_rss_mib"] for r in ok) if ok else None,
        }
    cell["ratios"] = ratios(runs)
    for t in TOOLS:
        if t not in tools:
            cell["tools"][t] = None
    return cell


def ratios(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float | None]:
    """Medians of the per-repetition ratios of sbm's wall time to each yardstick's,
    and to the faster of them in that repetition."""
    out: dict[str, float | None] = {}
    sbm = runs["sbm"]
    others = [t for t in runs if t != "sbm"]
    for t in [*others, "faster"]:
        pairs = []
        for k, s in enumerate(sbm):
            if t == "faster":
                walls = [runs[o][k]["wall_s"] for o in others if "error" not in runs[o][k]]
                other = min(walls) if walls else None
            else:
                other = None if "error" in runs[t][k] else runs[t][k]["wall_s"]
            if other and "error" not in s:
                pairs.append(s["wall_s"] / other)
        out[f"sbm/{t}"] = statistics.median(pairs) if pairs else None
    return out


# -- report -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = cpu_model()
    versions = {"python": platform.python_version()}
    for mod in ("duckdb", "polars", "pyarrow", "numpy", "fastexcel", "xlsxwriter", "openpyxl"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    repo = HERE.parent
    git = subprocess.run(
        ["git", "-C", str(repo), "describe", "--always", "--dirty", "--abbrev=12"],
        capture_output=True,
        text=True,
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem, 1),
        "platform": platform.platform(),
        "versions": versions,
        "sbm_commit": git.stdout.strip() or None,
    }


def meets_goal(cell: dict[str, Any]) -> bool:
    faster = cell["ratios"].get("sbm/faster")
    rss = cell["tools"]["sbm"]["peak_rss_mib"]
    return faster is not None and faster <= 1.0 and rss is not None and rss < RSS_GOAL_MIB


def _f(x: float | None, fmt: str = ".2f") -> str:
    return "—" if x is None else format(x, fmt)


def report(results: dict[str, Any]) -> str:
    """Markdown: per size a matrix (input rows, output columns) of the ratios
    sbm/DuckDB / sbm/polars with sbm's peak memory, then every cell in detail."""
    m = results["machine"]
    v = m["versions"]
    lines = [
        f"Machine: {m['cpu']}, {m['nproc']} cores, {m['ram_gib']} GiB RAM; Python "
        f"{v['python']}, DuckDB {v['duckdb']}, polars {v['polars']}, pyarrow {v['pyarrow']}, "
        f"numpy {v['numpy']}; sbm {m['sbm_commit']}."
        + (" **Quick run** (one repetition, small waves)." if results.get("quick") else ""),
    ]
    cells = results["cells"]
    sizes = sorted({c["size"] for c in cells})
    ins = [f for f in sb.FORMATS if any(c["input"] == f for c in cells)]
    outs = [f for f in sb.FORMATS if any(c["output"] == f for c in cells)]
    for size in sizes:
        here = {(c["input"], c["output"]): c for c in cells if c["size"] == size}
        lines += [
            "",
            f"Wave of {size:,} visits (a cell of fewer says so): sbm/DuckDB / sbm/polars "
            "(wall-time ratios, medians of paired runs), sbm's peak RSS.",
            "",
            "| input ↓ output → | " + " | ".join(outs) + " |",
            "|---|" + "---:|" * len(outs),
        ]
        for fin in ins:
            row = []
            for fout in outs:
                c = here.get((fin, fout))
                if c is None:
                    row.append("")
                    continue
                r = c["ratios"]
                rss = c["tools"]["sbm"]["peak_rss_mib"]
                fewer = f" ({c['visits']:,} visits)" if c["visits"] != size else ""
                row.append(
                    f"{_f(r.get('sbm/duckdb'))} / {_f(r.get('sbm/polars'))}, "
                    f"{_f(rss, '.0f')} MiB{fewer}"
                )
            lines.append(f"| **{fin}** | " + " | ".join(row) + " |")
    met = sum(meets_goal(c) for c in cells)
    lines += [
        "",
        f"Every cell: wall seconds (medians), ratios (medians of paired runs), peak RSS; "
        f"sbm/faster in bold where the cell misses the goal (sbm no slower than the faster "
        f"yardstick, peak RSS under 1 GiB): {met} of {len(cells)} cells meet it. No DuckDB "
        f"in XLSX cells: {results.get('duckdb_xlsx', '')}. Outputs: the three checked "
        f"equal (--check); load: 1-minute load average at the start of the cell.",
        "",
        "| visits | input → output | runs | sbm s | DuckDB s | polars s | sbm/DuckDB "
        "| sbm/polars | sbm/faster | peak RSS MiB sbm / DuckDB / polars | outputs | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for c in cells:
        t, r = c["tools"], c["ratios"]

        def med(tool: str, t: dict[str, Any] = t) -> str:
            return _f(t[tool]["median_s"]) if t.get(tool) else "—"

        def rss(tool: str, t: dict[str, Any] = t) -> str:
            return _f(t[tool]["peak_rss_mib"], ".0f") if t.get(tool) else "—"

        check = c.get("check")
        checked = "—" if check is None else "equal" if check == "equal" else "**differ**"
        faster = r.get("sbm/faster")
        mark = _f(faster) if meets_goal(c) else f"**{_f(faster)}**"
        lines.append(
            f"| {c['visits']:,} | {c['input']} → {c['output']} | {c['reps']} "
            f"| {med('sbm')} | {med('duckdb')} "
            f"| {med('polars')} | {_f(r.get('sbm/duckdb'))} | {_f(r.get('sbm/polars'))} "
            f"| {mark} | {rss('sbm')} / {rss('duckdb')} / {rss('polars')} | {checked} "
            f"| {c['load_start']:.1f} |"
        )
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="20000,1000000", help="waves, comma separated")
    ap.add_argument("--xlsx-max", type=int, default=100_000, help="visits of cells with XLSX")
    ap.add_argument(
        "--jsonl-max",
        type=int,
        default=200_000,
        help="visits of cells with JSONL input (default 200000; 0: no cap)",
    )
    ap.add_argument("--formats", default=",".join(sb.FORMATS), help="input and output formats")
    ap.add_argument("--inputs", help="input formats (default: --formats)")
    ap.add_argument("--outputs", help="output formats (default: --formats)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each cell")
    ap.add_argument(
        "--cell-budget",
        type=float,
        default=90.0,
        help="seconds after which a cell stops repeating (default 90: slow cells run once)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="20k visits, 1 rep, every cell, checked (sets --sizes, --reps, --check)",
    )
    ap.add_argument("--check", action="store_true", help="check the outputs agree (first rep)")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="inputs and outputs")
    ap.add_argument("--out", type=Path, default=HERE / "score_matrix_results.json")
    ap.add_argument("--table", type=Path, help="print the tables of a results file and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(report(json.loads(args.table.read_text(encoding="utf-8"))))
        return 0
    if args.quick:
        args.sizes, args.reps, args.check = "20000", 1, True
    sizes = [int(s) for s in args.sizes.split(",")]
    inputs = (args.inputs or args.formats).split(",")
    outputs = (args.outputs or args.formats).split(",")
    for f in (*inputs, *outputs):
        if f not in sb.FORMATS:
            ap.error(f"unknown format {f!r}: one of {', '.join(sb.FORMATS)}")
    import workload as wl

    args.dir.mkdir(parents=True, exist_ok=True)
    standard = wl.write_standard(args.dir / "bench_branch.sbm")
    spec = sb.spec()
    spec_path = args.dir / "spec.json"
    spec_path.write_text(spec.to_json(), encoding="utf-8")
    results: dict[str, Any] = {
        "benchmark": "benchmarks/score_matrix.py",
        "command": " ".join(
            [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
        ),
        "quick": args.quick,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "reps": args.reps,
        "duckdb_xlsx": DUCKDB_XLSX,
        "commands": {
            t: " ".join(command(t, Path("STANDARD"), Path("SPEC.json"), Path("IN"), Path("OUT")))
            for t in TOOLS
        },
        "cells": [],
    }
    prepare(standard)
    t_start = time.perf_counter()
    for size in sizes:
        for fin in inputs:
            for fout in outputs:
                xlsx = "xlsx" in (fin, fout)
                n = min(size, args.xlsx_max) if xlsx else size
                if fin == "jsonl" and args.jsonl_max:
                    n = min(n, args.jsonl_max)
                tools = tuple(t for t in TOOLS if not (t == "duckdb" and xlsx))
                print(f"{n:,} visits, {fin} -> {fout} ({', '.join(tools)})", flush=True)
                cell = run_cell(
                    n,
                    fin,
                    fout,
                    tools,
                    args.reps,
                    args.dir,
                    standard,
                    spec_path,
                    spec,
                    args.check,
                    args.cell_budget,
                )
                cell["size"] = size
                results["cells"].append(cell)
                r, t = cell["ratios"], cell["tools"]
                print(
                    "  "
                    + ", ".join(f"{x} {_f(t[x]['median_s'])} s" for x in tools)
                    + f"; sbm/duckdb {_f(r.get('sbm/duckdb'))}, sbm/polars "
                    f"{_f(r.get('sbm/polars'))}; sbm {_f(t['sbm']['peak_rss_mib'], '.0f')} MiB",
                    flush=True,
                )
                results["seconds"] = time.perf_counter() - t_start
                args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    text = report(results)
    print("\n" + text)
    failed = [
        c
        for c in results["cells"]
        if c.get("check") not in (None, "equal")
        or any(r and any("error" in x for x in r["runs"]) for r in c["tools"].values())
    ]
    print(f"written {args.out} ({results['seconds']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
