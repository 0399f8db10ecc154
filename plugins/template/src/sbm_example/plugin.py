"""The pack's hook implementations, found through its entry point in the group `sbm`.

Only functions marked `@hookimpl` and named like a hook of `sbm_engine.hookspecs`
count; a misspelt hook name is an error when the engine starts, so typos show at
once. Implement only the hooks the pack needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sbm_engine.functions import FunctionSpec
from sbm_engine.hookspecs import hookimpl

from . import STANDARDS


def wait_score(minutes: float, limit: float) -> float:
    """Score a waiting time: 1 up to `limit` minutes, then down linearly to 0 at
    three times the limit.

    The scalar form: called once per visit with plain floats. It never sees N/A:
    the engine gives N/A without calling it when an argument is N/A (the spec does
    not set `na_aware`).
    """
    return max(0.0, min(1.0, (3 * limit - minutes) / (2 * limit)))


def wait_score_batch(minutes: Any, limit: Any) -> Any:
    """The batch form: the same formula on numpy arrays, NaN for N/A.

    It must give exactly what the scalar form gives, row by row; NaN in, NaN out
    (numpy arithmetic and `clip` propagate NaN, so N/A stays N/A).
    """
    import numpy as np  # only the vectorized path needs numpy

    minutes = np.asarray(minutes, dtype=float)
    limit = np.asarray(limit, dtype=float)
    return np.clip((3 * limit - minutes) / (2 * limit), 0.0, 1.0)


@hookimpl
def sbm_standards() -> Iterable[Path]:
    """Every `.sbm` file in the pack's `standards/` folder (searched recursively)."""
    return [STANDARDS]


@hookimpl
def sbm_functions() -> Iterable[FunctionSpec]:
    """`wait_score(minutes, limit)`: usable in any standard once the pack is installed."""
    return [
        FunctionSpec(
            name="wait_score",
            params=("num", "num"),
            returns="num",
            scalar=wait_score,
            batch=wait_score_batch,
            doc="wait_score(MINUTES, LIMIT): 1 up to LIMIT minutes, 0 from 3×LIMIT on",
        )
    ]
