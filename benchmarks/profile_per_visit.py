"""Where the per-visit backend spends its time on the reference workload.

    python benchmarks/profile_per_visit.py

Why a script: the findings in README.md ("what change to compiler.py would fix
it") must be reproducible. It times `CompiledStandard.score` on 10,000 workload
visits and splits it, by executing truncated copies of the generated evaluator
(the source up to the first section, up to the first coefficient, up to the
critical list), into: reading and scoring answers, section means, coefficients,
the tail (critical list, bands, gaps, rollup terms, the result tuple) and the
`score` wrapper (record checks, unknown-answer check, validators, building the
`ScoredVisit`). Two experiments measure candidate changes without touching
compiler.py: N/A tokens added to the items' fast lookup tables (today an N/A
answer raises KeyError and takes the slow path), and the unknown-answer check.
All times are median CPU microseconds per visit.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
import workload as wl  # noqa: E402

import sbm_engine  # noqa: E402
from sbm_engine.runtime import ItemInfo  # noqa: E402

NA_SPELLINGS = ("na", "NA", "Na", "n/a", "N/A", "н/п", "Н/П", None)


def interleaved(variants: dict[str, Callable[[], Any]], n: int, reps: int = 15) -> dict[str, float]:
    """Median CPU microseconds per visit of each variant, run round-robin so that
    changing load on a shared machine hits all of them alike."""
    runs: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            t0 = time.process_time()
            fn()
            runs[name].append(time.process_time() - t0)
    return {k: statistics.median(v) / n * 1e6 for k, v in runs.items()}


def _discard(fn: Callable[..., Any], pairs: list[tuple[Any, Any]]) -> Callable[[], None]:
    def run() -> None:
        for a, r in pairs:
            fn(a, r, [], [])

    return run


def truncated(std: Any, marker: str) -> Callable[..., Any]:
    """The generated evaluator cut before the first line starting with `marker`."""
    lines = std.python_source.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.strip().startswith(marker))
    body = "\n".join(lines[:cut]) + "\n    return None\n"
    namespace = dict(std._evaluate.__globals__)
    exec(compile(body, "<truncated>", "exec"), namespace)
    return namespace["evaluate"]


def main() -> int:
    std = sbm_engine.load(wl.write_standard(HERE / "bench_branch.sbm"))
    records = next(wl.record_chunks(wl.CHUNK))
    n = len(records)
    pairs = [(r["answers"], r) for r in records]
    full = std._evaluate
    parts = {
        "items": truncated(std, "# section"),
        "items+sections": truncated(std, "# coefficient"),
        "items+sections+coefficients": truncated(std, "critical = []"),
    }
    hand = baselines.python_scorer()
    known = std._known_answers
    na_share = sum(1 for a, _ in pairs for v in a.values() if isinstance(v, str) and v == "na") / n
    # The same evaluator with N/A spellings in the fast tables of items accepting N/A.
    g = dict(full.__globals__)
    info = None
    patched = 0
    consts = sorted((k for k in g if k[:1] in "IT" and k[1:].isdigit()), key=lambda k: int(k[1:]))
    for key in consts:  # each item's table T<k+1> follows its info I<k>
        if key[0] == "I":
            info = g[key]
        elif isinstance(info, ItemInfo) and info.presence != "required":
            g[key] = {**g[key], **dict.fromkeys(NA_SPELLINGS)}
            patched += 1
    ns = dict(g)
    exec(compile(std.python_source, "<na-fast>", "exec"), ns)
    fast_na = ns["evaluate"]
    t = interleaved(
        {
            "score": lambda: [std.score(r) for r in records],
            "hand": lambda: [hand(r) for r in records],
            "evaluate": _discard(full, pairs),
            "evaluate kept": lambda: [full(a, r, [], []) for a, r in pairs],
            "items": _discard(parts["items"], pairs),
            "items+sections": _discard(parts["items+sections"], pairs),
            "items+sections+coefficients": _discard(parts["items+sections+coefficients"], pairs),
            "unknown": lambda: [known.issuperset(a) for a, _ in pairs],
            "evaluate na-fast": _discard(fast_na, pairs),
        },
        n,
    )
    t_score, t_hand, t_eval, t_unknown = t["score"], t["hand"], t["evaluate"], t["unknown"]
    t_parts = {k: t[k] for k in parts}
    t_eval_na = t["evaluate na-fast"]
    t_score_na = t_score - (t_eval - t_eval_na)
    items = t_parts["items"]
    sections = t_parts["items+sections"] - items
    coefs = t_parts["items+sections+coefficients"] - t_parts["items+sections"]
    tail = t_eval - t_parts["items+sections+coefficients"]
    kept = t["evaluate kept"] - t_eval
    wrapper = t_score - t["evaluate kept"]
    rows = [
        ("score (total)", t_score),
        ("  evaluate (generated code)", t_eval),
        ("    answers: lookup and score of 101 items", items),
        ("    section means (8 sections, 100 items)", sections),
        ("    coefficients (3 tag means over 100 items, 5 more)", coefs),
        ("    tail: critical, band, gap, rollup terms, result tuple", tail),
        ("  keeping the result tuples alive (allocation pressure)", kept),
        ("  wrapper: checks, unknown answers, validators, ScoredVisit", wrapper),
        ("    of which the unknown-answer check (issuperset)", t_unknown),
        ("hand-written Python (baselines.python_scorer)", t_hand),
        (f"experiment: N/A in fast tables ({patched} items) - evaluate", t_eval_na),
        ("experiment: N/A in fast tables - score (estimated)", t_score_na),
    ]
    print(f"{n} visits, {na_share:.1f} N/A answers per visit; CPU microseconds per visit:")
    for label, value in rows:
        print(f"  {label:<62} {value:7.1f}")
    print(
        f"  engine / hand: {t_score / t_hand:.2f}; with N/A in fast tables: "
        f"{t_score_na / t_hand:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
