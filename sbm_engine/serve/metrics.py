"""Prometheus text-format metrics, kept by hand.

Why not `prometheus_client`: four metrics do not justify another dependency, and
its process-wide registry gets in the way of several apps in one test process.
"""

from __future__ import annotations

import threading
from collections import defaultdict

#: Latency buckets in seconds: from a one-visit request to a large batch.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Requests by route and status, a latency histogram by route, visits scored and
    rejected. Thread-safe: the counters are updated under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.scored = 0
        self.rejected = 0

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, status)] += 1
            counts = self.buckets.setdefault(route, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[route] += seconds
            self.counts[route] += 1

    def visits(self, scored: int, rejected: int) -> None:
        with self._lock:
            self.scored += scored
            self.rejected += rejected

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP sbm_http_requests_total HTTP requests by route and status.",
                "# TYPE sbm_http_requests_total counter",
            ]
            for (route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'sbm_http_requests_total{{route="{_label(route)}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP sbm_http_request_duration_seconds Time to answer a request.",
                "# TYPE sbm_http_request_duration_seconds histogram",
            ]
            for route, counts in sorted(self.buckets.items()):
                r = _label(route)
                for bound, n in zip(BUCKETS, counts, strict=True):
                    lines.append(
                        f'sbm_http_request_duration_seconds_bucket{{route="{r}",le="{bound}"}} {n}'
                    )
                total = self.counts[route]
                lines.append(
                    f'sbm_http_request_duration_seconds_bucket{{route="{r}",le="+Inf"}} {total}'
                )
                lines.append(
                    f'sbm_http_request_duration_seconds_sum{{route="{r}"}} {self.sums[route]:.6f}'
                )
                lines.append(f'sbm_http_request_duration_seconds_count{{route="{r}"}} {total}')
            lines += [
                "# HELP sbm_visits_scored_total Visits scored.",
                "# TYPE sbm_visits_scored_total counter",
                f"sbm_visits_scored_total {self.scored}",
                "# HELP sbm_visits_rejected_total Visits rejected (with their errors).",
                "# TYPE sbm_visits_rejected_total counter",
                f"sbm_visits_rejected_total {self.rejected}",
            ]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    """A label value as the text format escapes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
