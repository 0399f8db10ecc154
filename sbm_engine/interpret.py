"""The reference evaluator: the language's semantics as a plain tree walk.

Like pandas' Python engine beside numexpr, this is kept simple and obviously right,
not fast. It evaluates example expectations and rollup formulas, and it is the
oracle the compiled backends are tested against on generated standards and visits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .compiler import APPROX, item_info
from .functions import FunctionRegistry
from .model import Bound, ItemModel, StandardModel
from .runtime import (
    MISSING,
    VisitError,
    VisitWarning,
    answered,
    number_answer,
    scale_index,
    score_out_of_range,
    text_answer,
)


def _mean(values: list[Any]) -> Any:
    return sum(values) / len(values)


#: The aggregate functions by name, over a list of values none of which is N/A.
_AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "mean": _mean,
    "min": min,
    "max": max,
    "sum": sum,
}


@attrs.define
class Env:
    """Values known while evaluating one visit."""

    visit: Mapping[str, Any]
    items: dict[str, float | None] = attrs.Factory(dict)
    answers: dict[str, Any] = attrs.Factory(dict)
    sections: dict[str, float | None] = attrs.Factory(dict)
    coefs: dict[str, float | None] = attrs.Factory(dict)
    value: Any = None


class Interpreter:
    def __init__(
        self, model: StandardModel, functions: FunctionRegistry | None = None, approx: bool = False
    ) -> None:
        self.m = model
        self.functions = functions
        self.approx = approx
        self.bands = {c: b for c, b in model.bands.items()}

    # -- expressions ----------------------------------------------------------------------------

    def eval(self, b: Bound, env: Env) -> Any:
        op = b.op
        if op == "const":
            return (
                float(b.data)
                if isinstance(b.data, int) and not isinstance(b.data, bool)
                else b.data
            )
        if op == "item":
            return env.items.get(b.data)
        if op == "answer":
            return env.answers.get(b.data)
        if op == "value":
            return env.value
        if op == "section":
            return env.sections.get(b.data)
        if op == "coef":
            return env.coefs.get(b.data)
        if op == "field":
            return env.visit.get(b.data)
        if op == "neg":
            x = self.eval(b.args[0], env)
            return None if x is None else -x
        if op == "arith":
            x, y = self.eval(b.args[0], env), self.eval(b.args[1], env)
            if x is None or y is None:
                return None
            return {"+": x + y, "-": x - y, "*": x * y}[b.data] if b.data != "/" else x / y
        if op == "cmp":
            x, y = self.eval(b.args[0], env), self.eval(b.args[1], env)
            if x is None or y is None:
                return None
            if self.approx and b.data in ("==", "!=") and b.args[0].type == "num":
                eq = abs(x - y) <= APPROX
                return eq if b.data == "==" else not eq
            return _COMPARE[b.data](x, y)
        if op == "not":
            x = self.eval(b.args[0], env)
            return None if x is None else not x
        if op == "and":
            x = self.eval(b.args[0], env)
            if x is False:
                return False
            y = self.eval(b.args[1], env)
            return False if y is False else (None if x is None or y is None else True)
        if op == "or":
            x = self.eval(b.args[0], env)
            if x is True:
                return True
            y = self.eval(b.args[1], env)
            return True if y is True else (None if x is None or y is None else False)
        if op == "if":
            return self.eval(b.args[1] if self.eval(b.args[0], env) else b.args[2], env)
        if op == "call":
            return self.call(b, env)
        raise AssertionError(f"cannot evaluate {op} per visit")

    def call(self, b: Bound, env: Env) -> Any:
        fn, payload = b.data
        if fn == "weighted_mean":
            kind, sel = payload
            if kind == "sections":
                pairs = [(env.sections.get(name), w, False) for name, w in sel]
            else:
                pairs = [(env.items.get(x.name), x.weight, x.bonus) for x in sel]
            return _wmean(pairs)
        if fn == "weighted_terms":
            pairs = [(self.eval(a, env), w, False) for a, w in zip(b.args, payload, strict=True)]
            return _wmean(pairs)
        if fn in ("earned", "possible", "lost", "count"):
            kind, sel = payload
            if kind == "sections":
                return float(sum(env.sections.get(name) is not None for name, _ in sel))
            present = [(env.items[x.name], x) for x in sel if env.items.get(x.name) is not None]
            earned = sum(x.weight * s for s, x in present)
            possible = sum(x.weight for _, x in present if not x.bonus)
            return {
                "earned": earned,
                "possible": possible,
                "lost": possible - earned,
                "count": float(len(present)),
            }[fn] + 0.0
        if fn in ("mean_sel", "min_sel", "max_sel", "sum_sel"):
            kind, sel = payload
            found = [
                env.items.get(x.name) if kind == "items" else env.sections.get(x[0]) for x in sel
            ]
            values = [v for v in found if v is not None]
            agg = fn[:-4]
            if agg == "sum":
                return float(sum(values))
            if not values:
                return None
            return _AGGREGATES[agg](values)
        if fn in ("mean", "min", "max", "sum"):
            values = [self.eval(a, env) for a in b.args]
            if any(v is None for v in values):
                return None
            return _AGGREGATES[fn](values)
        if fn == "clamp":
            x, lo, hi = (self.eval(a, env) for a in b.args)
            return None if x is None or lo is None or hi is None else min(max(x, lo), hi)
        if fn == "coalesce":
            return next((v for v in (self.eval(a, env) for a in b.args) if v is not None), None)
        if fn == "is_na":
            return self.eval(b.args[0], env) is None
        if fn == "failed":
            return env.items.get(payload) == 0 if payload else False
        if fn == "critical_failed":
            return any(env.items.get(x) == 0 for x in payload)
        if fn == "band":
            return self.bands[payload].band_of(self.eval(b.args[0], env))
        if fn == "plugin":
            assert self.functions is not None
            spec = self.functions.get(payload)
            assert spec is not None
            args = [self.eval(a, env) for a in b.args]
            if not spec.na_aware and any(a is None for a in args):
                return None
            return spec.scalar(*args)
        raise AssertionError(f"unknown function {fn}")

    # -- a whole visit ---------------------------------------------------------------------------

    def visit(
        self, record: Mapping[str, Any]
    ) -> tuple[Env, list[VisitError], list[VisitWarning], list[str]]:
        """Score one record the slow, obvious way (answer keys and fields are not checked)."""
        visit = dict(record)
        for f in self.m.fields.values():
            if f.values is not None and record.get(f.name) is not None:
                visit[f.name] = f.canonical(record[f.name]) or record[f.name]
        env = Env(visit)
        answers = record.get("answers") or {}
        errs: list[VisitError] = []
        warns: list[VisitWarning] = []
        items = {i.name: i for i in self.m.items}
        for kind, name in self.m.order:
            if kind == "item":
                self._item(items[name], answers, env, errs, warns)
            elif kind == "section":
                sec = next(s for s in self.m.sections if s.name == name)
                env.sections[name] = _wmean(
                    [
                        (env.items[i], items[i].weight, items[i].bonus)
                        for i in sec.items
                        if items[i].scored
                    ]
                )
            else:
                coef = next(c for c in self.m.coefficients if c.name == name)
                env.coefs[name] = self.eval(coef.expr, env)
        critical = [i.name for i in self.m.items if i.critical and env.items.get(i.name) == 0]
        return env, errs, warns, critical

    def _item(
        self,
        it: ItemModel,
        answers: Mapping[str, Any],
        env: Env,
        errs: list[VisitError],
        warns: list[VisitWarning],
    ) -> None:
        applies = all(bool(self.eval(c, env)) for c in (it.section_when, it.when) if c is not None)
        raw = answers.get(it.name, MISSING)
        env.items[it.name] = env.answers[it.name] = None
        if not applies:
            if answered(raw):
                warns.append(VisitWarning(it.name, "answered but does not apply"))
            return
        info = item_info(it)
        score: float | None = None
        if it.kind == "scale":
            index = scale_index(info, raw, errs)
            if index is None:
                return
            entry = it.scale.entries[index]  # type: ignore[union-attr]
            score = entry.score
            env.answers[it.name] = entry.numeric if it.scale.numeric else entry.label  # type: ignore[union-attr]
        elif it.kind == "number":
            value = number_answer(info, raw, errs)
            env.answers[it.name] = value
            if value is None:
                return
            if it.score is None and it.low is not None and it.high is not None:
                score = (value - it.low) / (it.high - it.low)
        else:
            env.answers[it.name] = text_answer(info, raw, errs)
            return
        if it.score is not None:
            env.value = env.answers[it.name]
            score = self.eval(it.score, env)
            env.value = None
            if score is not None and not 0.0 <= score <= 1.0:
                score_out_of_range(it.name, score, "formula", errs)
                score = None
        env.items[it.name] = score


def _wmean(pairs: list[tuple[float | None, float, bool]]) -> float | None:
    num = den = 0.0
    for s, w, bonus in pairs:
        if s is not None:
            num += w * s
            if not bonus:
                den += w
    return num / den if den else None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}

__all__ = ["Env", "Interpreter"]
