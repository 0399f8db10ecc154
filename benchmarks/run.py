"""Time the engine against hand-written baselines on the reference workload.

    python benchmarks/run.py            # 10,000 and 1,000,000 visits
    python benchmarks/run.py --quick    # 10,000 visits only

Methods (see workload.py and baselines.py):

* engine per-visit: `CompiledStandard.score(record)` for each JSON-shaped record;
* hand Python: the hand-written per-visit scorer on the same records;
* engine batch: `evaluate_table(BatchEvaluator(standard), table)`: Arrow table in, whole-column
  numpy results out (what hand numpy produces);
* engine score_table: Arrow table in, flattened Arrow results + rejects out;
* engine score_records: records in, `ScoredVisit` objects out (10,000 only);
* hand numpy: the hand-written numpy scorer on the same Arrow table.

Per-visit methods run over the wave in chunks of 10,000 records (a million
records would not fit in memory as dicts); the engine and the hand scorer time
the same chunk one after the other, so machine load hits both alike. Times are
CPU seconds of this process (`time.process_time`, robust to other processes on a
shared machine; BLAS is pinned to one thread so CPU time is the work done) and
wall seconds; each is the median of the repetitions. Memory is the peak
allocation during one call, inputs excluded: the larger of the tracemalloc
peak and the resident-set growth (see `peak_memory`); per-visit methods are
measured on one chunk of 10,000 records, which is their peak at any wave size
since they stream. Results go to `benchmarks/results.json`.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
import numpy as np  # noqa: E402
import workload as wl  # noqa: E402
from machine import cpu_model  # noqa: E402

import sbm_engine  # noqa: E402
from sbm_engine.batch import BatchEvaluator, evaluate_table, score_table  # noqa: E402


def _status() -> dict[str, int]:
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def peak_memory(fn: Callable[[], Any]) -> int | None:
    """Peak bytes allocated by `fn`: the larger of the traced Python/numpy peak
    (`tracemalloc`, blind to Arrow's allocator) and the growth of the resident set
    (Linux `/proc/self/clear_refs`, blind to memory the process already holds)."""
    gc.collect()
    rss = None
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        rss = _status().get("VmRSS")
    except OSError:
        pass
    tracemalloc.start()
    result = fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    peak = _status().get("VmHWM")
    grown = 0 if rss is None or peak is None else max(0, peak - rss)
    return max(traced, grown)


class Timer:
    """CPU and wall seconds of one call."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def run(self, fn: Callable[[], Any]) -> Any:
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        self.cpu.append(time.process_time() - c0)
        self.wall.append(time.perf_counter() - w0)
        return out

    def add(self, other: Timer) -> None:
        """Accumulate chunk timings into one total (per-visit methods)."""
        self.cpu.append(sum(other.cpu))
        self.wall.append(sum(other.wall))


def load_standard() -> Any:
    path = HERE / "bench_branch.sbm"
    wl.write_standard(path)
    return sbm_engine.load(path)


def per_visit(std: Any, n: int, reps: int) -> dict[str, Timer]:
    """Engine `score` and hand Python over the wave, chunk by chunk, interleaved."""
    hand = baselines.python_scorer()
    totals = {"engine per-visit": Timer(), "hand Python": Timer()}
    for _ in range(reps):
        rep = {k: Timer() for k in totals}
        for records in wl.record_chunks(n):
            rep["engine per-visit"].run(lambda r=records: [std.score(x) for x in r])
            rep["hand Python"].run(lambda r=records: [hand(x) for x in r])
        for k, t in rep.items():
            totals[k].add(t)
    return totals


def batch(std: Any, n: int, reps: int, with_records: bool) -> tuple[dict[str, Timer], Any]:
    table = wl.wave_table(n)
    ev = BatchEvaluator(std)
    evaluate_table(ev, table.slice(0, 1000))  # warm the per-item caches, as a long run would
    coded = wl.dictionary_table(table)
    timers = {
        "engine batch": Timer(),
        "engine score_table": Timer(),
        "hand numpy": Timer(),
        "engine batch (dict)": Timer(),
        "hand numpy (dict)": Timer(),
    }
    records = next(wl.record_chunks(n)) if with_records else None
    if with_records:
        timers["engine score_records"] = Timer()
    for _ in range(reps):
        timers["engine batch"].run(lambda: evaluate_table(ev, table))
        timers["hand numpy"].run(lambda: baselines.score_numpy(table))
        timers["engine score_table"].run(lambda: score_table(ev, table))
        timers["engine batch (dict)"].run(lambda: evaluate_table(ev, coded))
        timers["hand numpy (dict)"].run(lambda: baselines.score_numpy(coded))
        if records is not None:
            timers["engine score_records"].run(lambda: ev.score_records(records))
    return timers, (ev, table, records)


def memory(std: Any, ev: Any, table: Any, n: int) -> dict[str, int | None]:
    records = next(wl.record_chunks(min(n, wl.CHUNK)))
    hand = baselines.python_scorer()
    out = {
        "engine batch": peak_memory(lambda: evaluate_table(ev, table)),
        "engine score_table": peak_memory(lambda: score_table(ev, table)),
        "hand numpy": peak_memory(lambda: baselines.score_numpy(table)),
        "engine per-visit": peak_memory(lambda: [std.score(x) for x in records]),
        "hand Python": peak_memory(lambda: [hand(x) for x in records]),
    }
    if n <= wl.CHUNK:
        out["engine score_records"] = peak_memory(lambda: ev.score_records(records))
    return out


def machine() -> dict[str, Any]:
    cpu = cpu_model()
    import pyarrow

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


TARGETS = {
    "engine batch / hand numpy": 1.5,
    "engine batch / hand numpy (dictionary input)": 1.5,
    "engine per-visit / hand Python": 1.3,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10,000 visits only")
    p.add_argument("--sizes", type=int, nargs="*", help="wave sizes (default 10000 1000000)")
    p.add_argument("--reps", type=int, default=5, help="repetitions at 10,000 visits")
    p.add_argument("--big-reps", type=int, default=3, help="repetitions of the batch methods at 1M")
    p.add_argument(
        "--big-visit-reps", type=int, default=1, help="repetitions of the per-visit methods at 1M"
    )
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--out", type=Path, default=HERE / "results.json")
    args = p.parse_args(argv)
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 1_000_000])
    std = load_standard()
    baselines.verify(std, 2_000)
    results: dict[str, Any] = {"machine": machine(), "sizes": {}}
    rows = []
    for n in sizes:
        big = n > 100_000
        reps = args.big_reps if big else args.reps
        visit_reps = args.big_visit_reps if big else args.reps
        print(f"\n== {n:,} visits (batch x{reps}, per-visit x{visit_reps}) ==", flush=True)
        timers, (ev, table, _records) = batch(std, n, reps, with_records=not big)
        timers.update(per_visit(std, n, visit_reps))
        mem = {} if args.no_memory else memory(std, ev, table, n)
        entry: dict[str, Any] = {"methods": {}, "ratios": {}}
        for name, t in timers.items():
            entry["methods"][name] = {
                "cpu_s": median(t.cpu),
                "wall_s": median(t.wall),
                "cpu_runs": t.cpu,
                "wall_runs": t.wall,
                "us_per_visit": median(t.cpu) / n * 1e6,
                "peak_rss_bytes": mem.get(name),
            }
        m = entry["methods"]
        entry["ratios"] = {
            "engine batch / hand numpy": m["engine batch"]["cpu_s"] / m["hand numpy"]["cpu_s"],
            "engine batch / hand numpy (dictionary input)": m["engine batch (dict)"]["cpu_s"]
            / m["hand numpy (dict)"]["cpu_s"],
            "engine score_table / hand numpy": m["engine score_table"]["cpu_s"]
            / m["hand numpy"]["cpu_s"],
            "engine per-visit / hand Python": m["engine per-visit"]["cpu_s"]
            / m["hand Python"]["cpu_s"],
            "engine per-visit / engine batch": m["engine per-visit"]["cpu_s"]
            / m["engine batch"]["cpu_s"],
        }
        entry["loadavg_end"] = os.getloadavg()
        results["sizes"][str(n)] = entry
        for name, v in m.items():
            rows.append((n, name, v))
        print(format_table([(n, k, v) for k, v in m.items()]))
        for k, r in entry["ratios"].items():
            target = TARGETS.get(k)
            verdict = ""
            if target is not None:
                verdict = f" (target <= {target}: {'met' if r <= target else 'NOT met'})"
            print(f"  {k}: {r:.2f}{verdict}")
        del ev, table
        gc.collect()
    results["targets"] = TARGETS
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


def format_table(rows: list[tuple[int, str, dict[str, Any]]]) -> str:
    head = (
        f"{'visits':>10}  {'method':<22} {'CPU s':>9} {'wall s':>9} {'us/visit':>9} {'peak MB':>8}"
    )
    lines = [head, "-" * len(head)]
    for n, name, v in rows:
        mem = v["peak_rss_bytes"]
        mem_s = "-" if mem is None else f"{mem / 2**20:.0f}"
        lines.append(
            f"{n:>10,}  {name:<22} {v['cpu_s']:>9.3f} {v['wall_s']:>9.3f} "
            f"{v['us_per_visit']:>9.2f} {mem_s:>8}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
