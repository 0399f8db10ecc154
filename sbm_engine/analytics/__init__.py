"""From scores to decisions: waves, calibration of evaluators, and the statistics behind them.

`sbm_engine.analytics.stats` holds the statistics as plain functions over numbers;
the other modules apply them to scored visits and return the documented JSON
(`analytics.md`) as Python objects:

    from sbm_engine import analytics
    analytics.compare(["march.jsonl", "april.jsonl"], by="point")
    analytics.calibrate(["SH-1.jsonl", "SH-2.jsonl", "SH-3.jsonl"])

numpy and scipy come with the `analytics` extra (`pip install 'sbm-engine[analytics]'`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["calibrate", "compare"]


def compare(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Waves by group; see `sbm_engine.analytics.waves.compare`."""
    from .waves import compare as run

    return run(*args, **kwargs)


def calibrate(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Agreement between evaluators; see `sbm_engine.analytics.calibrate.calibrate_files`."""
    from .calibrate import calibrate_files

    return calibrate_files(*args, **kwargs)  # type: ignore[no-any-return]

