"""The vectorized batch backend: a whole wave of visits scored with numpy.

Why a second backend: the per-visit Python evaluator (`compiler.py`) pays the
interpreter's price for every item of every visit; a wave of a million visits is
better served by one numpy operation per item over the whole column. Both
backends compile from the same checked `StandardModel`, and everything unusual
(an invalid answer, a division by zero, an unexpected type) is handed back to the
per-visit path row by row, so the two agree on every visit, rejections included.

    from sbm_engine.batch import BatchEvaluator
    batch = BatchEvaluator(standard)            # a CompiledStandard
    outcomes = batch.score_records(records)     # == list(standard.score_many(records))
    scored, rejects = score_table(batch, table)  # pyarrow in, pyarrow out
    # or, with a cached evaluator per standard: score_table(standard, table)

numpy is an optional dependency (`pip install 'sbm-engine[fast]'`); pyarrow is
needed only for `score_table` and Arrow columns (`sbm-engine[arrow]`).
"""

from __future__ import annotations

try:
    import numpy  # noqa: F401  (imported here so a missing numpy fails with a clear message)
except ImportError as exc:  # pragma: no cover - exercised only without numpy
    raise ImportError(
        "the batch evaluator (sbm_engine.batch) needs numpy, which is not installed; "
        "install it with: pip install 'sbm-engine[fast]'"
    ) from exc

from .evaluator import BatchEvaluator, BatchResult, evaluator_for
from .table import ScoredTable, evaluate_table, score_table

__all__ = [
    "BatchEvaluator",
    "BatchResult",
    "ScoredTable",
    "evaluate_table",
    "evaluator_for",
    "score_table",
]
