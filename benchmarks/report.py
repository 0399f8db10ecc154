"""`sbm report` end to end, HTML and workbook, beside `sbm rollup`, and the page in Chromium.

    python benchmarks/report.py                          # 100k and 1M visits, 3 runs (1 at 1M)
    python benchmarks/report.py --sizes 100000 --runs 1  # a quick look

Rows of sizes not measured in a run are kept from an existing --out, so sizes can be
run one at a time.

The wave is that of invest.py (`invest.wave`): the reference workload (workload.py: 100
criteria) over 1,000 points of 5 specialists each, scored once by `sbm score` into
Parquet results (kept in --cache). What is timed is the command a user runs, as a
subprocess (`/usr/bin/time -v` gives the child's peak RSS), in turn, so that a busy
moment of a shared machine hits every command alike:

* `sbm rollup R --by point -o x.json`: the yardstick, one pass over the results;
* `sbm report R -o r.html`: one self-contained page (Vega-Lite charts, 6,000 cards);
* `sbm report R -o r.xlsx`: the workbook with native charts.

Each row gives the median wall seconds, the median peak RSS, the ratio to rollup on the
same wave and, for a report, the size of the file written. Then the HTML page is opened
in headless Chromium (Playwright) three times, each in a fresh context: the time from
`page.goto` to `window.sbmReady === true` (every chart embedded), and the time to open
one card by its address (`location.hash = '#card-…'`) until that card is visible.

Each row also names the engine it timed (`code_state`: HEAD and a hash of the sources
under sbm_engine/, taken before every run), so that runs over a working tree that moved
meanwhile show as such.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
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

import analytics  # noqa: E402
import cli_score  # noqa: E402
import invest  # noqa: E402

SBM = analytics.SBM
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: The first card of the index, opened by its address as a link to it would.
OPEN_CARD = (
    "location.hash = '#' + document.querySelector('#cards a[href^=\"#card-\"]')"
    ".getAttribute('href').slice(1)"
)
OPENS = 3
TIMEOUT_MS = 600_000
#: Waves of this many visits and more get --big-runs runs.
BIG = 1_000_000


def commands(results: Path, standard: Path, out: Path) -> dict[str, list[str]]:
    r = str(results)
    cmds = {
        "sbm rollup": [SBM, "rollup", r, "--by", "point", "-o", str(out / "rollup.json")],
        "sbm report html": [SBM, "report", r, "-o", str(out / "report.html")],
        "sbm report xlsx": [SBM, "report", r, "-o", str(out / "report.xlsx")],
    }
    # the results name their standard by id; the workload's is a file, not installed
    return {name: [*cmd, "--standard", str(standard)] for name, cmd in cmds.items()}


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and what the command printed on stderr.

    `analytics.timed`, keeping the child's own stderr (warnings) apart from the report
    of `/usr/bin/time -v`.
    """
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    own = proc.stderr.split("\tCommand being timed:", 1)[0].strip()
    return wall, int(m.group(1)) / 1024 if m else float("nan"), own


def code_state() -> str:
    """The engine as it runs: HEAD and a hash of every source file under sbm_engine/.

    Shows whether the code changed between the runs of one size (the working tree of
    a shared checkout may move while a benchmark runs)."""
    root = HERE.parent
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    digest = hashlib.sha256()
    for path in sorted((root / "sbm_engine").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return f"{head or '?'}+{digest.hexdigest()[:12]}"


def open_in_chromium(page_file: Path, opens: int = OPENS) -> list[dict[str, Any]]:
    """Each open in a fresh context: seconds to `sbmReady`, then to one card visible."""
    from playwright.sync_api import sync_playwright

    url = page_file.resolve().as_uri()
    out: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(opens):
                context = browser.new_context()
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                t0 = time.perf_counter()
                page.goto(url, wait_until="commit")
                page.wait_for_function("window.sbmReady === true", polling=10)
                ready = time.perf_counter() - t0
                errors = page.evaluate("window.sbmErrors || []")
                t1 = time.perf_counter()
                page.evaluate(OPEN_CARD)
                anchor = page.evaluate("decodeURIComponent(location.hash.slice(1))")
                page.locator(f"id={anchor}").wait_for(state="visible")
                card = time.perf_counter() - t1
                out.append(
                    {
                        "ready_s": round(ready, 3),
                        "card_s": round(card, 3),
                        "card": anchor,
                        "chart_errors": errors,
                    }
                )
                context.close()
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-runs", type=int, default=1, help=f"runs at {BIG:,} visits and more")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sbm-bench")
    ap.add_argument("--out", type=Path, default=HERE / "report_results.json")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    today = datetime.date.today().isoformat()
    rows: list[dict[str, Any]] = []
    browser: list[dict[str, Any]] = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        runs_here = args.big_runs if n >= BIG else args.runs
        results = invest.wave(args.cache, n)
        standard = args.cache / "bench_branch.sbm"
        out = args.cache / f"report_{n}"
        out.mkdir(exist_ok=True)
        cmds = commands(results, standard, out)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        printed: dict[str, list[str]] = {name: [] for name in cmds}
        written: dict[str, list[int]] = {name: [] for name in cmds}
        code: dict[str, list[str]] = {name: [] for name in cmds}
        for _ in range(runs_here):  # in turn, so a busy moment hits every command alike
            for name, cmd in cmds.items():
                state = code_state()
                if state not in code[name]:
                    code[name].append(state)
                wall, rss, stderr = timed(cmd)
                runs[name].append((wall, rss))
                if name != "sbm rollup":
                    written[name].append(Path(cmd[cmd.index("-o") + 1]).stat().st_size)
                if stderr and stderr not in printed[name]:
                    printed[name].append(stderr)
                    print(f"{name} printed: {stderr[-2000:]}", file=sys.stderr)
        base = statistics.median(w for w, _ in runs["sbm rollup"])
        for name, values in runs.items():
            wall = statistics.median(w for w, _ in values)
            rss = statistics.median(r for _, r in values)
            row: dict[str, Any] = {
                "visits": n,
                "date": today,
                "points": invest.POINTS,
                "command": name,
                "seconds": round(wall, 2),
                "peak_rss_mib": round(rss),
                "ratio_to_rollup": round(wall / base, 2),
                "runs": [round(w, 2) for w, _ in values],
                "runs_peak_rss_mib": [round(r) for _, r in values],
                "code": code[name],
            }
            if written[name]:
                row["output_bytes"] = round(statistics.median(written[name]))
                row["runs_output_bytes"] = written[name]
            if printed[name]:
                row["stderr"] = printed[name]
            rows.append(row)
            size = f"{row['output_bytes']:>12,} B" if "output_bytes" in row else ""
            print(f"{n:>9,} {name:<16} {wall:8.2f} s {rss:8.0f} MiB  x{wall / base:.2f} {size}")
        states = {state for states in code.values() for state in states}
        if len(states) > 1:
            print(
                f"{n:,}: the engine's code changed between runs: {sorted(states)}", file=sys.stderr
            )
        opens = open_in_chromium(out / "report.html")
        ready = statistics.median(o["ready_s"] for o in opens)
        card = statistics.median(o["card_s"] for o in opens)
        browser.append(
            {
                "visits": n,
                "date": today,
                "page_bytes": (out / "report.html").stat().st_size,
                "ready_s": round(ready, 3),
                "card_s": round(card, 3),
                "opens": opens,
            }
        )
        print(f"{n:>9,} chromium: sbmReady {ready:.2f} s, one card {card:.3f} s")
    if args.out.exists():  # the sizes not measured this time are kept
        old = json.loads(args.out.read_text())
        rows = [r for r in old.get("rows", []) if r["visits"] not in sizes] + rows
        browser = [b for b in old.get("chromium_opens", []) if b["visits"] not in sizes] + browser
    rows.sort(key=lambda r: r["visits"])
    browser.sort(key=lambda b: b["visits"])
    doc = {
        "machine": cli_score.machine(),
        "chromium": CHROMIUM,
        "chromium_args": CHROMIUM_ARGS,
        "rows": rows,
        "chromium_opens": browser,
    }
    args.out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
