"""Plugin functions in the batch backend: the batch form, or the scalar form row by row.

Why apart: the calling convention is a contract with pack authors
(docs/plugins.md): numbers as float64 arrays with NaN for N/A, texts and
conditions as object arrays with None for N/A; results the same way. A batch
form that raises, or a missing one, falls back to calling the scalar form for
exactly the rows where the per-visit code would call it; a scalar call that
raises makes its row suspect, so the per-visit path reports (or raises) the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..functions import FunctionSpec
from ..ir import Bound
from .env import Active, Env, Expr
from .values import NAN, Cat, to_float


def plugin_call(spec: FunctionSpec, args: list[Expr], b: Bound) -> Expr:
    """A call of a pack's function, compiled."""
    param_types = [a.type for a in b.args]

    def run(env: Env, act: Active) -> Any:
        vals = [f(env, act) for f in args]
        na = np.zeros(env.m, dtype=bool)
        for v in vals:
            na |= v.is_na() if isinstance(v, Cat) else np.broadcast_to(np.isnan(v), (env.m,))
        result = None
        if spec.batch is not None:
            arrays = [_plugin_arg(v, t, env.m) for v, t in zip(vals, param_types, strict=True)]
            try:
                result = _plugin_result(spec.batch(*arrays), spec.returns, env.m)
            except Exception:  # fall back to the scalar form, row by row
                result = None
        if result is None:
            result = _scalar_rows(spec, vals, param_types, na, env, act)
        if not spec.na_aware:
            if isinstance(result, Cat):
                result = Cat(np.where(na, -1, result.codes), result.values)
            else:
                result = np.where(na, NAN, result)
        if not isinstance(result, Cat):
            env.mark(np.isinf(result), act)
        return result

    return run


def _scalar_rows(
    spec: FunctionSpec, vals: list[Any], types: Sequence[str], na: np.ndarray, env: Env, act: Active
) -> Any:
    """The scalar form, called for each row the per-visit code would call it for."""
    rows = np.ones(env.m, dtype=bool) if act is None else act.copy()
    if not spec.na_aware:
        rows &= ~na
    columns = [_python_values(v, t, env.m) for v, t in zip(vals, types, strict=True)]
    out: list[Any] = [None] * env.m
    failed = np.zeros(env.m, dtype=bool)
    for i in np.flatnonzero(rows).tolist():
        try:
            out[i] = spec.scalar(*(col[i] for col in columns))
        except Exception:  # the per-visit path will meet (and report) the same failure
            failed[i] = True
    env.mark(failed)
    if spec.returns == "str":
        return Cat.from_objects(out)
    result = np.array([to_float(v) if not isinstance(v, float) or v == v else NAN for v in out])
    odd = np.array([isinstance(v, float) and v != v for v in out], dtype=bool)
    env.mark(odd)
    return result


def _plugin_arg(v: Any, typ: str, m: int) -> np.ndarray:
    """An argument as docs/plugins.md promises: float64 with NaN for numbers, object
    arrays with None for texts and conditions (True/False)."""
    if isinstance(v, Cat):
        return v.objects()
    arr = np.array(np.broadcast_to(np.asarray(v, dtype=float), (m,)))
    if typ == "bool":
        out = np.empty(m, dtype=object)
        out[:] = [None if x != x else x == 1.0 for x in arr.tolist()]
        return out
    return arr


def _plugin_result(r: Any, returns: str, m: int) -> Any:
    if returns == "str":
        return Cat.from_objects(np.broadcast_to(np.asarray(r, dtype=object), (m,)).tolist())
    arr = np.asarray(r)
    if arr.dtype == object:
        arr = np.array([to_float(x) for x in np.broadcast_to(arr, (m,)).tolist()])
    return np.array(np.broadcast_to(arr.astype(float), (m,)))


def _python_values(v: Any, typ: str, m: int) -> list[Any]:
    """A column as the per-visit code would pass it: None for N/A, bools for conditions."""
    if isinstance(v, Cat):
        return v.objects().tolist()
    arr = np.broadcast_to(np.asarray(v, dtype=float), (m,)).tolist()
    if typ == "bool":
        return [None if x != x else x == 1.0 for x in arr]
    return [None if x != x else x for x in arr]
