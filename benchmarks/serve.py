"""`sbm serve` under a bounded load: requests per second and latency percentiles.

    python benchmarks/serve.py                       # the default run (about a minute)
    python benchmarks/serve.py --requests 200 --clients 2

The service runs in a subprocess (as in production: its own interpreter, so the
client's threads do not share its GIL) on a free local port, with the bank pack's
standard. A fixed number of requests is sent by a few concurrent clients (threads,
one httpx connection each), first with one visit per request, then with 1,000 (the
pack's sample wave repeated with distinct visit ids), each body JSON Lines and
each answer the default JSON. Every answer must be 200 with every visit accounted
for. Reported per case: requests per second over the whole run, visits per second,
and the median, p95 and p99 latency of single requests, written to
`benchmarks/serve_results.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
WAVE = ROOT / "plugins" / "sbm-bank" / "sample" / "wave.jsonl"
STANDARD = "bank.branch"
KEY = "benchmark-key"


def _serve(port: int) -> None:
    """The service process: `sbm serve` as the command builds it, without click."""
    import uvicorn

    from sbm_engine.serve import Settings
    from sbm_engine.serve.app import create_app
    from sbm_engine.serve.auth import digest

    settings = Settings(key_hashes=(digest(KEY),), max_visits=10_000, timeout=60)
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, access_log=False, log_level="warning"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(visits: list[dict[str, Any]], n: int) -> bytes:
    lines = []
    for i in range(n):
        visit = dict(visits[i % len(visits)])
        visit["visit_id"] = f"b{i}"
        lines.append(json.dumps(visit, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _load(url: str, body: bytes, visits: int, requests: int, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-ndjson"}

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                r = http.post(f"/v1/score/{STANDARD}", content=body)
                elapsed = time.perf_counter() - started
                ok = r.status_code == 200
                if ok:
                    answer = r.json()
                    ok = len(answer["results"]) + len(answer["rejects"]) == visits
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        failures.append(f"{r.status_code}: {r.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return {
        "visits_per_request": visits,
        "requests": requests,
        "clients": clients,
        "seconds": round(wall, 3),
        "requests_per_second": round(requests / wall, 1),
        "visits_per_second": round(requests * visits / wall, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p95": round(_percentile(latencies, 95) * 1000, 2),
            "p99": round(_percentile(latencies, 99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2),
        },
    }


def _machine() -> str:
    cpu = cpu_model()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="one-visit requests")
    parser.add_argument("--batch-requests", type=int, default=40, help="1,000-visit requests")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "serve_results.json")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the service process
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return

    visits = [json.loads(line) for line in WAVE.read_text(encoding="utf-8").splitlines() if line]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    service = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or service.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.1)
        # compile the standard and warm both paths before timing
        _load(url, _body(visits, 1000), 1000, 2, 1)
        rows = [
            _load(url, _body(visits, 1), 1, args.requests, args.clients),
            _load(url, _body(visits, 1000), 1000, args.batch_requests, args.clients),
        ]
    finally:
        service.terminate()
        service.wait(timeout=30)
    result = {
        "machine": _machine(),
        "standard": STANDARD,
        "body": "JSON Lines in, JSON out",
        "server": "uvicorn, one process, 4 scoring threads",
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
