"""`sbm score` end to end on the reference workload: Parquet and CSV, 1M and 4M visits.

Why end to end: the issue's promise (1M visits under 5 s from Parquet, under 8 s
from CSV, memory flat in the number of visits) is about the command a user runs,
so the timing is of `sbm score` as a subprocess (`/usr/bin/time -v` gives the
child's peak RSS), and a separate in-process pass splits one run into its stages
(read, score, write) to say where the time goes.

    python benchmarks/cli_score.py                 # 1M (3 runs) and 4M (1 run)
    python benchmarks/cli_score.py --sizes 100000 --runs 1 --no-readme
    python benchmarks/cli_score.py --answers codes # answers as numbers only

Answers come as `labels` (yes/no as text, N/A as `na`) or `codes` (numbers, N/A an
empty cell; see workload.py); both encodings of the first size must give the same
results, which is checked after their runs.

The machine may be shared: the load average is printed beside every row.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workload  # noqa: E402
from machine import cpu_model  # noqa: E402

SBM = str(Path(sys.executable).with_name("sbm"))


def write_inputs(folder: Path, n: int, answers: str = "labels") -> dict[str, Path]:
    """The seeded wave of n visits as Parquet and CSV, written chunk by chunk.

    The CSV quotes nothing (no value needs it), as spreadsheets export such data;
    pyarrow's default quotes every text, which makes the file 2.4 times larger."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    stem = f"wave_{n}" if answers == "labels" else f"wave_{n}_{answers}"
    paths = {"parquet": folder / f"{stem}.parquet", "csv": folder / f"{stem}.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    crit = workload.criteria()
    pw = cw = None
    for cols in workload.column_chunks(n, chunk=50_000):
        t = workload.table(cols, crit, answers)
        if pw is None:
            pw = pq.ParquetWriter(paths["parquet"], t.schema)
            cw = pcsv.CSVWriter(
                paths["csv"], t.schema, write_options=pcsv.WriteOptions(quoting_style="none")
            )
        pw.write_table(t)
        cw.write_table(t)
    pw.close()
    cw.close()
    return paths


def run_once(standard: Path, inp: Path, out: Path, jobs: int) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the child, exit status."""
    cmd = [
        "/usr/bin/time",
        "-v",
        SBM,
        "score",
        str(standard),
        str(inp),
        "-o",
        str(out),
        "--jobs",
        str(jobs),
        "--no-progress",
        "--format",
        "json",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    return wall, rss, proc.returncode


def stages(standard: Path, inp: Path, out: Path) -> dict[str, float]:
    """One in-process run split into its stages, each run alone (no overlap): read the
    chunks, score them (with the duplicate check), write the results. Their sum set
    against the command's wall time shows what running them in threads gains; read +
    write alone is the floor any tool producing this output from this input pays."""
    from sbm_engine import load
    from sbm_engine.pipeline import duplicates, inputs, outputs, scoring

    std = load(str(standard))
    f = inputs.open_input(0, inp, std, {})
    t0 = time.perf_counter()
    chunks = list(inputs.iter_chunks(f, inputs.CHUNK_ROWS))
    t_read = time.perf_counter() - t0
    seen = duplicates.SeenIds()
    scored = []
    t0 = time.perf_counter()
    for chunk in chunks:

        def earlier(candidates: set[str], chunk: Any = chunk) -> set[str]:
            return duplicates.earlier_ids([f], chunk, candidates)

        table, rej = scoring.score_chunk(std, chunk.table, f.cell_decimal)
        table, _, _ = duplicates.move_duplicates(std, f, chunk, table, rej, seen, earlier)
        scored.append(table.drop_columns(["__row"]))
    t_score = time.perf_counter() - t0
    del chunks
    t0 = time.perf_counter()
    columns = outputs.result_columns(std)
    with outputs.TableOutput(out, columns, std.result_template()) as w:
        for table in scored:
            w.write(table)
    t_write = time.perf_counter() - t0
    return {"read": t_read, "score": t_score, "write": t_write}


def machine() -> str:
    cpu = cpu_model()
    import pyarrow

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python "
        f"{platform.python_version()}, pyarrow {pyarrow.__version__}, {platform.system()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,4000000")
    ap.add_argument("--runs", type=int, default=3, help="runs per cell for the first size")
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--answers", default="labels,codes", help="labels, codes or both")
    ap.add_argument("--dir", help="where to keep the generated inputs (default: a temp dir)")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="sbm_cli_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    encodings = args.answers.split(",")
    standards = {
        a: workload.write_standard(
            folder / ("bench_branch.sbm" if a == "labels" else f"bench_branch_{a}.sbm"),
            answers=a,
        )
        for a in encodings
    }
    sizes = [int(s) for s in args.sizes.split(",")]
    jobs = [int(j) for j in args.jobs.split(",")]
    rows: list[dict[str, Any]] = []
    split: dict[str, dict[str, float]] = {}
    for k, n in enumerate(sizes):
        runs = args.runs if k == 0 else 1
        for answers, standard in standards.items():
            t0 = time.perf_counter()
            paths = write_inputs(folder, n, answers)
            took = time.perf_counter() - t0
            print(f"{answers} inputs for {n:,} visits in {took:.0f} s", file=sys.stderr)
            out = folder / f"scored_{answers}.parquet"
            for fmt, inp in paths.items():
                rows += [time_cell(standard, inp, out, j, runs, n, fmt, answers) for j in jobs]
                if k == 0:
                    split[f"{fmt}, {answers}"] = stages(standard, inp, folder / "stages.parquet")
                    print(fmt, answers, split[f"{fmt}, {answers}"], file=sys.stderr)
        if k == 0 and len(encodings) > 1:
            same_results([folder / f"scored_{a}.parquet" for a in encodings])
    text = report(rows, split)
    print(text)
    if not args.no_readme:
        readme = HERE / "README.md"
        target = readme if readme.exists() else HERE / "CLI.md"
        old = target.read_text(encoding="utf-8") if target.exists() else ""
        marker = "\n## `sbm score` end to end (benchmarks/cli_score.py)\n"
        old = old.split(marker)[0].rstrip() + "\n" if marker in old else old
        target.write_text((old + marker if old else marker.lstrip()) + text, encoding="utf-8")


def time_cell(
    standard: Path, inp: Path, out: Path, jobs: int, runs: int, n: int, fmt: str, answers: str
) -> dict[str, Any]:
    """`runs` runs of one command: the median and best wall time, the worst peak RSS."""
    walls, rsss = [], []
    for _ in range(runs):
        load = os.getloadavg()[0]
        wall, rss, code = run_once(standard, inp, out, jobs)
        walls.append(wall)
        rsss.append(rss)
    row = {
        "visits": n,
        "input": fmt,
        "answers": answers,
        "jobs": jobs,
        "runs": runs,
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "peak_rss_mib": max(rsss),
        "load": load,
        "exit": code,
        "size_mib": inp.stat().st_size / 2**20,
    }
    print(row, file=sys.stderr)
    return row


def same_results(outputs: list[Path]) -> None:
    """The encodings of one wave scored alike: every output column equal."""
    import pyarrow.parquet as pq

    first = pq.read_table(outputs[0])
    for other in outputs[1:]:
        table = pq.read_table(other)
        if table.column_names != first.column_names:
            raise SystemExit(f"{other} has other columns than {outputs[0]}")
        for name in first.column_names:
            if not table.column(name).equals(first.column(name)):
                raise SystemExit(f"{other} differs from {outputs[0]} in {name}")
    print(f"same results from {len(outputs)} encodings", file=sys.stderr)


def report(rows: list[dict[str, Any]], split: dict[str, dict[str, float]]) -> str:
    lines = [
        "",
        f"Machine: {machine()}.",
        "Output: Parquet; wall time of the `sbm score` subprocess (median of the runs),",
        "peak RSS of the main process from `/usr/bin/time -v` (with --jobs 2 each",
        "worker holds about one chunk more); load = 1-minute load average at the start.",
        "",
        "| visits | input | answers | MiB | jobs | runs | median s | min s | peak RSS MiB | load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['visits']:,} | {r['input']} | {r['answers']} | {r['size_mib']:.0f} "
            f"| {r['jobs']} "
            f"| {r['runs']} "
            f"| {r['median_s']:.2f} | {r['min_s']:.2f} | {r['peak_rss_mib']:.0f} "
            f"| {r['load']:.1f} |"
        )
    if split:
        lines += [
            "",
            "Where the time goes (first size, one in-process run, each stage alone;",
            "`sbm score` runs them at once in three threads):",
            "",
            "| input | read s | score s | write s | sum s | read + write s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for fmt, s in split.items():
            total = s["read"] + s["score"] + s["write"]
            lines.append(
                f"| {fmt} | {s['read']:.2f} | {s['score']:.2f} | {s['write']:.2f} "
                f"| {total:.2f} | {s['read'] + s['write']:.2f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
