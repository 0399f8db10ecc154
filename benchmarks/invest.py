"""`sbm drivers`, `sbm diagnose` and `sbm plan` end to end, each beside `sbm rollup`.

    python benchmarks/invest.py                          # 250k and 1M visits, 3 runs
    python benchmarks/invest.py --big-runs 1             # 1 run at 1M
    python benchmarks/invest.py --sizes 100000 --runs 1  # a quick look

The wave is the reference workload (workload.py: 100 criteria) spread over 1,000
points of 5 specialists each (a specialist works at one point, a point lies in one of
10 regions), scored once by `sbm score` into Parquet results (kept in --cache). What is
timed is the command a user runs, as a subprocess (`/usr/bin/time -v` gives the
child's peak RSS), in turn, so that a busy moment of a shared machine hits every
command alike:

* `sbm rollup R --by point -o x.json`: the yardstick, one pass over the results;
* `sbm drivers R --outcome subjective --predictors sections`: the client's rating
  explained by the eight sections, 200 bootstrap replicates;
* `sbm diagnose R`: variance of every item split between regions, points,
  specialists and visits;
* `sbm plan R --levers L --target visit=0.85 --by point`: the cheapest levers
  (`LEVERS` below: training, motivation and process levers on the workload's
  sections and tags) for each of the 1,000 points, each plan checked by simulation.

Each row gives the median wall seconds, the median peak RSS and the ratio to rollup
on the same wave. Memory flat in the number of visits shows as the same peak RSS at
each size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import analytics  # noqa: E402
import cli_score  # noqa: E402
import workload  # noqa: E402

SBM = analytics.SBM
POINTS = 1000
#: Specialists of each point: a specialist works at one point, a point lies in one
#: region (`diagnose` splits variance between them; drawn independently, nearly every
#: visit would be a (region, point, specialist) cell of its own).
PER_POINT = 5
SEED = 11

#: Levers for the workload's standard: one per kind of investment, on its sections
#: (greeting, needs, presentation, objections, closing, documents, farewell,
#: premises) and tags (compliance, professionalism, client_orientation).
LEVERS = """\
currency = "RUB"

[[lever]]
id = "sales_training"
title = "Sales training (2 days)"
kind = "training"
sections = ["needs", "presentation", "objections"]
closes = 0.3
cost = 20000
cost_per_specialist = 1500

[[lever]]
id = "closing_coaching"
title = "Coaching on closing and documents"
kind = "training"
sections = ["closing", "documents"]
adds = 0.05
cost = 8000
cost_per_specialist = 800
divisible = true

[[lever]]
id = "service_bonus"
title = "Bonus for client orientation"
kind = "motivation"
tags = ["client_orientation"]
closes = 0.25
cost = 15000
cost_per_specialist = 1000

[[lever]]
id = "compliance_checklist"
title = "Compliance checklist at the desk"
kind = "process"
tags = ["compliance"]
closes = 0.4
cost = 5000

[[lever]]
id = "welcome_script"
title = "Greeting and farewell script"
kind = "process"
sections = ["greeting", "farewell"]
adds = 0.08
cost = 3000

[[lever]]
id = "office_refit"
title = "Office refit"
kind = "other"
sections = ["premises"]
closes = 0.6
cost = 60000
cost_per_point = 10000
"""


def wave(cache: Path, n: int) -> Path:
    """n visits over POINTS points scored into Parquet results, made once."""
    import pyarrow.parquet as pq

    standard = workload.write_standard(cache / "bench_branch.sbm")
    results = cache / f"invest_{n}_{POINTS}x{PER_POINT}.parquet"
    if not results.exists():
        visits = cache / f"invest_visits_{n}.parquet"
        crit = workload.criteria()
        writer = None
        for cols in workload.column_chunks(
            n, seed=SEED, chunk=50_000, points=POINTS, per_point=PER_POINT
        ):
            table = workload.table(cols, crit)
            if writer is None:
                writer = pq.ParquetWriter(visits, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
        analytics._score(standard, visits, results)
    return results


def commands(results: Path, standard: Path, levers: Path, out: Path) -> dict[str, list[str]]:
    r = str(results)
    cmds = {
        "sbm rollup": [SBM, "rollup", r, "--by", "point", "-o", str(out / "rollup.json")],
        "sbm drivers": [
            SBM,
            "drivers",
            r,
            "--outcome",
            "subjective",
            "--predictors",
            "sections",
            "-o",
            str(out / "drivers.json"),
        ],
        "sbm diagnose": [SBM, "diagnose", r, "-o", str(out / "diagnose.json")],
        "sbm plan": [
            SBM,
            "plan",
            r,
            "--levers",
            str(levers),
            "--target",
            "visit=0.85",
            "--by",
            "point",
            "-o",
            str(out / "plan.json"),
        ],
    }
    # the results name their standard by id; the workload's is a file, not installed
    return {name: [*cmd, "--standard", str(standard)] for name, cmd in cmds.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-runs", type=int, help="runs at the largest size (default: --runs)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sbm-bench")
    ap.add_argument("--only", help="comma-separated commands to time besides rollup")
    ap.add_argument("--out", type=Path, default=HERE / "invest_results.json")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    levers = args.cache / "invest_levers.toml"
    levers.write_text(LEVERS, encoding="utf-8")
    rows: list[dict[str, Any]] = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        runs_here = args.big_runs if args.big_runs and n == max(sizes) else args.runs
        results = wave(args.cache, n)
        standard = args.cache / "bench_branch.sbm"
        cmds = commands(results, standard, levers, args.cache)
        if args.only:
            keep = {"sbm rollup", *(f"sbm {c.strip()}" for c in args.only.split(","))}
            cmds = {k: v for k, v in cmds.items() if k in keep}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(runs_here):  # in turn, so a busy moment hits every command alike
            for name, cmd in cmds.items():
                runs[name].append(analytics.timed(cmd))
        base = statistics.median(w for w, _ in runs["sbm rollup"])
        for name, values in runs.items():
            wall = statistics.median(w for w, _ in values)
            rss = statistics.median(r for _, r in values)
            rows.append(
                {
                    "visits": n,
                    "points": POINTS,
                    "command": name,
                    "seconds": round(wall, 2),
                    "peak_rss_mib": round(rss),
                    "ratio_to_rollup": round(wall / base, 2),
                    "runs": [round(w, 2) for w, _ in values],
                }
            )
            print(f"{n:>9,} {name:<14} {wall:8.2f} s {rss:8.0f} MiB  x{wall / base:.2f}")
    doc = {"machine": cli_score.machine(), "rows": rows}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
