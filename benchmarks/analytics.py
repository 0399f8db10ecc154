"""`sbm compare` (and `sbm calibrate`) end to end, against what an analyst would write instead.

    python benchmarks/analytics.py                          # 2 waves of 1M visits, 3 runs
    python benchmarks/analytics.py --sizes 100000 --runs 1  # a quick look

The waves are the reference workload (workload.py: 100 criteria, 200 points)
scored by `sbm score` into Parquet results, once per size (kept in --cache). What is
timed is the command a user runs, as a subprocess (`/usr/bin/time -v` gives the
child's peak RSS), beside, in the same session and in turn:

* polars: a lazy scan of both Parquet files, grouped by wave and point: count,
  mean and variance of every coefficient, applications and passes of every item.
  These are the sums `compare` starts from; the tests, intervals and the
  Benjamini–Hochberg step on top of them take milliseconds.
* DuckDB: the same query in SQL.

Memory flat in the number of visits is shown by the peak RSS at each size. JSONL
results are read a record at a time; `--jsonl` adds that path at the smallest size.

`--calibrate N` times `sbm calibrate` on N ratings: N/4 visits of the workload, each
scored by four evaluators who disagree on 5 % of the answers (each such answer taken
from another visit), one results file per evaluator; beside it, what an analyst
would write with statsmodels: Fleiss' kappa of every item from a polars pivot.
"""

from __future__ import annotations

import argparse
import json
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

import cli_score  # noqa: E402
import workload  # noqa: E402

SBM = str(Path(sys.executable).with_name("sbm"))

BASELINE = r"""
import sys, time
import {lib}
a, b, kind = sys.argv[1], sys.argv[2], "{lib}"
import pyarrow.parquet as pq
names = pq.ParquetFile(a).schema_arrow.names
coefs = [c for c in names if c.startswith("coefficients.")]
items = [c for c in names if c.startswith("items.")]
if kind == "polars":
    import polars as pl
    frames = [pl.scan_parquet(p).with_columns(pl.lit(i).alias("wave"))
              for i, p in enumerate((a, b))]
    aggs = [pl.len().alias("visits")]
    for c in coefs:
        aggs += [pl.col(c).count().alias(c + ".n"), pl.col(c).mean().alias(c + ".mean"),
                 pl.col(c).var().alias(c + ".var")]
    for c in items:
        aggs += [pl.col(c).count().alias(c + ".applied"),
                 (pl.col(c) >= 1).sum().alias(c + ".passed")]
    out = pl.concat(frames).group_by("wave", "point").agg(aggs).collect()
    rows = out.height
else:
    import duckdb
    sel = ["count(*) AS visits"]
    for c in coefs:
        sel += [f'count("{{c}}")', f'avg("{{c}}")', f'var_samp("{{c}}")']
    for c in items:
        sel += [f'count("{{c}}")', f'sum(CASE WHEN "{{c}}" >= 1 THEN 1 ELSE 0 END)']
    q = (f"SELECT wave, point, {{', '.join(sel)}} FROM ("
         f"SELECT 0 AS wave, * FROM read_parquet('{{a}}') UNION ALL "
         f"SELECT 1 AS wave, * FROM read_parquet('{{b}}')) GROUP BY wave, point")
    rows = len(duckdb.sql(q).fetchall())
print(rows)
"""


def waves(cache: Path, n: int) -> list[Path]:
    """Two scored waves of n visits (seeds 7 and 8) as Parquet results, made once."""
    out = []
    standard = workload.write_standard(cache / "bench_branch.sbm")
    for seed in (7, 8):
        results = cache / f"results_{n}_{seed}.parquet"
        if not results.exists():
            visits = cache / f"visits_{n}_{seed}.parquet"
            _write_visits(visits, n, seed)
            _score(standard, visits, results)
        out.append(results)
    return out


def _write_visits(path: Path, n: int, seed: int) -> None:
    import pyarrow.parquet as pq

    crit = workload.criteria()
    writer = None
    for cols in workload.column_chunks(n, seed=seed, chunk=50_000):
        table = workload.table(cols, crit)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


CALIBRATE_BASELINE = r"""
import sys
import numpy as np
import polars as pl
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
frames = [pl.read_parquet(p) for p in sys.argv[1:]]
items = [c for c in frames[0].columns if c.startswith("items.")]
data = pl.concat(frames, how="diagonal_relaxed")
kappas = {}
for item in items:
    wide = data.pivot(on="shopper", index="visit_id", values=item).drop("visit_id").drop_nulls()
    if wide.height:
        table, _ = aggregate_raters(np.round(wide.to_numpy() * 4).astype(int))
        kappas[item] = fleiss_kappa(table)
print(len(kappas))
"""


def calibration_set(cache: Path, ratings: int) -> list[Path]:
    """Results of four evaluators scoring the same ratings/4 visits, made once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cases = ratings // 4
    standard = workload.write_standard(cache / "bench_branch.sbm")
    crit = workload.criteria()
    base = workload.table(workload.columns(cases, seed=7, crit=crit), crit)
    out = []
    for e in range(4):
        results = cache / f"calibration_{ratings}_SH{e}.parquet"
        if not results.exists():
            other = workload.table(workload.columns(cases, seed=100 + e, crit=crit), crit)
            rng = np.random.default_rng(e)
            table = base
            for name in [c.name for c in crit]:
                if name in table.column_names:
                    mask = pa.array(rng.random(cases) < 0.05)
                    merged = pc.if_else(mask, other.column(name), table.column(name))
                    table = table.set_column(table.schema.get_field_index(name), name, merged)
            table = table.append_column("shopper", pa.array([f"SH{e}"] * cases))
            visits = cache / f"calibration_visits_SH{e}.parquet"
            pq.write_table(table, visits)
            _score(standard, visits, results)
        out.append(results)
    return out


def _score(standard: Path, visits: Path, results: Path) -> None:
    """Score visits into results; a visit mixed from two may be rejected (exit 1)."""
    proc = subprocess.run(
        [SBM, "score", str(standard), str(visits), "-o", str(results), "--no-progress"],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    visits.unlink()


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command run as a child."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return wall, int(m.group(1)) / 1024 if m else float("nan")


def compare_cmd(standard: Path, paths: list[Path], out: Path) -> list[str]:
    return [
        SBM,
        "compare",
        *map(str, paths),
        "--by",
        "point",
        "--standard",
        str(standard),
        "-o",
        str(out),
    ]


def baseline_cmd(lib: str, paths: list[Path]) -> list[str]:
    return [sys.executable, "-c", BASELINE.format(lib=lib), *map(str, paths)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sbm-bench")
    ap.add_argument("--jsonl", action="store_true", help="also time JSONL results")
    ap.add_argument("--calibrate", type=int, default=100_000, help="ratings (0: skip)")
    ap.add_argument("--out", type=Path, default=HERE / "analytics_results.json")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    standard = workload.write_standard(args.cache / "bench_branch.sbm")
    libs = [lib for lib in ("polars", "duckdb") if _available(lib)]
    rows: list[dict[str, Any]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        paths = waves(args.cache, n)
        runs: dict[str, list[tuple[float, float]]] = {"sbm compare": []}
        runs.update({lib: [] for lib in libs})
        for _ in range(args.runs):  # in turn, so a busy moment hits every method alike
            runs["sbm compare"].append(timed(compare_cmd(standard, paths, args.cache / "c.json")))
            for lib in libs:
                runs[lib].append(timed(baseline_cmd(lib, paths)))
        if args.jsonl and n == min(int(s) for s in args.sizes.split(",")):
            jsonl = [_to_jsonl(p) for p in paths]
            runs["sbm compare (JSONL)"] = [
                timed(compare_cmd(standard, jsonl, args.cache / "c.json")) for _ in range(args.runs)
            ]
        base = statistics.median(w for w, _ in runs["sbm compare"])
        for name, values in runs.items():
            wall = statistics.median(w for w, _ in values)
            rss = statistics.median(r for _, r in values)
            rows.append(
                {
                    "visits_per_wave": n,
                    "method": name,
                    "seconds": round(wall, 2),
                    "peak_rss_mib": round(rss),
                    "ratio_to_sbm": round(wall / base, 2),
                }
            )
            print(f"{n:>9,} {name:<22} {wall:8.2f} s {rss:8.0f} MiB  x{wall / base:.2f}")
    if args.calibrate:
        paths = calibration_set(args.cache, args.calibrate)
        runs = {"sbm calibrate": [], "statsmodels + polars": []}
        for _ in range(args.runs):
            runs["sbm calibrate"].append(
                timed(
                    [
                        SBM,
                        "calibrate",
                        *map(str, paths),
                        "--standard",
                        str(standard),
                        "-o",
                        str(args.cache / "cal.json"),
                    ]
                )
            )
            if "polars" in libs and _available("statsmodels"):
                runs["statsmodels + polars"].append(
                    timed([sys.executable, "-c", CALIBRATE_BASELINE, *map(str, paths)])
                )
        base = statistics.median(w for w, _ in runs["sbm calibrate"])
        for name, values in runs.items():
            if not values:
                continue
            wall = statistics.median(w for w, _ in values)
            rss = statistics.median(r for _, r in values)
            rows.append(
                {
                    "ratings": args.calibrate,
                    "method": name,
                    "seconds": round(wall, 2),
                    "peak_rss_mib": round(rss),
                    "ratio_to_sbm": round(wall / base, 2),
                }
            )
            print(
                f"{args.calibrate:>9,} {name:<22} {wall:8.2f} s {rss:8.0f} MiB  x{wall / base:.2f}"
            )
    args.out.write_text(json.dumps({"machine": cli_score.machine(), "rows": rows}, indent=2) + "\n")
    return 0


def _available(lib: str) -> bool:
    try:
        __import__(lib)
    except ImportError:
        print(f"({lib} not installed: pip install {lib})")
        return False
    return True


def _to_jsonl(path: Path) -> Path:
    target = path.with_suffix(".jsonl")
    if not target.exists():
        import pyarrow.parquet as pq

        from sbm_engine.result_files import unflatten

        with target.open("w", encoding="utf-8") as f:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=50_000):
                for row in batch.to_pylist():
                    clean = {k: v for k, v in row.items() if v is not None or "." in k}
                    f.write(json.dumps(unflatten(clean), ensure_ascii=False) + "\n")
    return target


if __name__ == "__main__":
    sys.exit(main())
