"""From scores to decisions: waves, calibration of evaluators, and the statistics behind them.

`sbm_engine.analytics.stats` holds the statistics as plain functions over numbers;
the other modules apply them to scored visits and return the documented JSON
(`analytics.md`) as Python objects:

    from sbm_engine import analytics
    analytics.compare(["march.jsonl", "april.jsonl"], by="point")
    analytics.calibrate(["SH-1.jsonl", "SH-2.jsonl", "SH-3.jsonl"])
    analytics.drivers(["april.jsonl"], outcome="subjective")
    analytics.diagnose(["april.jsonl"], by="point")
    analytics.plan(["april.jsonl"], levers="levers.toml", target="visit=0.85", by="point")
    analytics.report(["april.jsonl"], "april.html", previous=["march.jsonl"])

Each is a thin door to its module (`waves`, `calibration`, `key_drivers`,
`diagnosis`, `planning`, `reporting`), imported when called: `import sbm_engine.analytics` stays
light. The modules are not named after the functions, so importing one never hides
the function of the same name.

numpy and scipy come with the `analytics` extra (`pip install 'sbm-engine[analytics]'`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["calibrate", "compare", "diagnose", "drivers", "plan", "report"]


def compare(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Waves by group; see `sbm_engine.analytics.waves.compare`."""
    from .waves import compare as run

    return run(*args, **kwargs)


def calibrate(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Agreement between evaluators; see `sbm_engine.analytics.calibration.calibrate_files`."""
    from .calibration import calibrate_files

    return calibrate_files(*args, **kwargs)  # type: ignore[no-any-return]


def drivers(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """What moves an outcome; see `sbm_engine.analytics.key_drivers.drivers`."""
    from .key_drivers import drivers as run

    return run(*args, **kwargs)


def diagnose(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Where losses come from; see `sbm_engine.analytics.diagnosis.diagnose`."""
    from .diagnosis import diagnose as run

    return run(*args, **kwargs)


def plan(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The cheapest investments that reach a target; see `sbm_engine.analytics.planning.plan`."""
    from .planning import plan as run

    return run(*args, **kwargs)


def report(*args: Any, **kwargs: Any) -> Any:
    """A report for managers, written to .html, .xlsx or .json when an output is given;
    returns its content (`reporting.model.Report`). See `sbm_engine.analytics.reporting`."""
    from .reporting import report as run

    return run(*args, **kwargs)
