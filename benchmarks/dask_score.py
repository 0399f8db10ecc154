"""`sbm_engine.dask.score` on a local Dask cluster of 1 and 2 workers: time and memory.

The wave is the reference workload (workload.py) split into Parquet files of equal
size (a file is a partition). Each run starts a `LocalCluster` (one process per
worker, one thread each), scores the folder into a fresh output folder and checks
that every visit is accounted for; the cluster's start is timed apart from the run.
Memory is the resident set of every process of the run (the client, which also
hosts the scheduler, and each worker), sampled every 50 ms: the peak of each worker
and the peak of their sum with the client. Single-process `sbm score` over the same
files is timed beside it as the baseline.

    python benchmarks/dask_score.py                       # 4M visits, 8 files
    python benchmarks/dask_score.py --visits 1000000 --files 4
    python benchmarks/dask_score.py --duplicates 100000   # + a file repeating 100k visits

With `--duplicates N` a last file (`wave-dups.parquet`) repeats the first N visits of
the wave, so the second pass (duplicates across partitions) is part of the timing:
those N visits are rejected as duplicates.

The machine may be shared: the load average is recorded with the results. Each
wave shape is an entry of `scenarios` in the results file; a rerun replaces its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workload  # noqa: E402

SBM = str(Path(sys.executable).with_name("sbm"))


def write_wave(folder: Path, n: int, files: int, duplicates: int = 0) -> list[Path]:
    """The seeded wave of n visits as `files` Parquet files of n/files visits each,
    then (`duplicates`) a file repeating the wave's first visits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-n // files)
    paths = [folder / f"wave-{i:03d}.parquet" for i in range(files)]
    crit = workload.criteria()
    if not all(p.exists() for p in paths):
        writer = None
        index = written = 0
        for cols in workload.column_chunks(n, chunk=50_000):
            table = workload.table(cols, crit)
            while table.num_rows:
                if writer is None:
                    writer = pq.ParquetWriter(paths[index], table.schema)
                room = per_file - written
                writer.write_table(table.slice(0, room))
                written += min(room, table.num_rows)
                table = table.slice(room)
                if written == per_file:
                    writer.close()
                    writer, index, written = None, index + 1, 0
        if writer is not None:
            writer.close()
    if not duplicates:
        return paths
    dups = folder / f"wave-dups-{duplicates}.parquet"  # sorts after the wave's files
    if not dups.exists():
        chunks = workload.column_chunks(duplicates, chunk=50_000)
        pq.write_table(pa.concat_tables(workload.table(c, crit) for c in chunks), dups)
    return [*paths, dups]


class Sampler:
    """Peak RSS (bytes) of a set of processes, each and summed, sampled in a thread."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak = dict.fromkeys(pids, 0)
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for name, proc in self.procs.items():
                try:
                    rss = proc.memory_info().rss
                except Exception:  # a worker gone (restarted): it no longer counts
                    continue
                self.peak[name] = max(self.peak[name], rss)
                total += rss
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.05)


def run_dask(standard: Path, data: Path, out: Path, workers: int) -> dict[str, Any]:
    import distributed

    from sbm_engine import dask as on_dask

    t0 = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        start = time.perf_counter() - t0
        pids = {f"worker {i}": pid for i, pid in enumerate(client.run(os.getpid).values())}
        pids["client+scheduler"] = os.getpid()
        with Sampler(pids) as mem:
            t1 = time.perf_counter()
            summary = on_dask.score(str(standard), str(data), out, client=client)
            wall = time.perf_counter() - t1
    assert summary.read == summary.scored + summary.rejected
    mib = 1 << 20
    return {
        "workers": workers,
        "wall_s": round(wall, 2),
        "cluster_start_s": round(start, 2),
        "visits_per_s": round(summary.read / wall),
        "peak_rss_mib": {k: round(v / mib) for k, v in mem.peak.items()},
        "peak_rss_total_mib": round(mem.peak_total / mib),
        "read": summary.read,
        "scored": summary.scored,
        "rejected": summary.rejected,
        "duplicates": summary.duplicates,
    }


def run_single(standard: Path, files: list[Path], out: Path) -> dict[str, Any]:
    """`sbm score` over the same files, one process (`/usr/bin/time -v` for its RSS)."""
    import re

    cmd = ["/usr/bin/time", "-v", SBM, "score", str(standard), *map(str, files)]
    cmd += ["-o", str(out), "--no-progress", "--format", "json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    summary = json.loads(proc.stdout)
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(int(m.group(1)) / 1024) if m else None,
        "read": summary["read"],
        "scored": summary["scored"],
        "rejected": summary["rejected"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=4_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--duplicates", type=int, default=0, help="visits repeated in a last file")
    ap.add_argument("--out", default=str(HERE / "dask_results.json"))
    ap.add_argument("--keep", help="a folder to keep the generated wave in (reused)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sbm-dask-bench-") as scratch:
        root = Path(args.keep) if args.keep else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        standard = workload.write_standard(root / "bench_branch.sbm")
        t0 = time.perf_counter()
        data = root / f"wave_{args.visits}"
        files = write_wave(data, args.visits, args.files, args.duplicates)
        for stale in set(data.iterdir()) - set(files):  # another --duplicates of a kept wave
            stale.unlink()
        generated = time.perf_counter() - t0
        print(f"wave: {args.visits:,} visits in {len(files)} files ({generated:.1f} s)")
        load_start = [round(x, 2) for x in os.getloadavg()]
        runs = []
        for w in (int(x) for x in args.workers.split(",")):
            row = run_dask(standard, data, Path(scratch) / f"out{w}", w)
            print(json.dumps(row))
            runs.append(row)
        single = run_single(standard, files, Path(scratch) / "single.parquet")
        print("sbm score, one process:", json.dumps(single))
    assert all(r["scored"] == single["scored"] for r in runs)
    assert all(r["rejected"] == single["rejected"] for r in runs)
    result = {
        "visits": args.visits,
        "duplicates": args.duplicates,
        "files": len(files),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # shared with other work: the load before and after the runs
            "loadavg_start": load_start,
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "dask": runs,
        "sbm_score_single_process": single,
    }
    # One entry per wave shape, so runs with and without --duplicates sit side by side.
    out = Path(args.out)
    kept = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    scenarios = kept.get("scenarios", {}) if isinstance(kept, dict) else {}
    scenarios[f"{args.visits} visits + {args.duplicates} repeated, {len(files)} files"] = result
    out.write_text(json.dumps({"scenarios": scenarios}, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
