"""The reference evaluator: the language's semantics as a plain tree walk.

Like pandas' Python engine beside numexpr, this is kept simple and obviously right,
not fast. It evaluates example expectations and rollup formulas, and it is the
oracle the compiled backends are tested against on generated standards and visits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .builtins import scalar_value_call, table_of, wmean
from .compiler import APPROX, item_info
from .field_types import FieldValueError, read_value
from .functions import FunctionRegistry
from .ir import (
    And,
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Compare,
    Const,
    Exact,
    FieldRef,
    If,
    ItemRef,
    Neg,
    Not,
    Or,
    RollupRef,
    SectionRef,
    ValueRef,
)
from .model import ItemModel, StandardModel
from .runtime import (
    MISSING,
    VisitError,
    VisitWarning,
    answered,
    exact,
    label_text,
    multi_answer,
    number_answer,
    scale_index,
    score_out_of_range,
    text_answer,
)


@attrs.define
class Env:
    """Values known while evaluating one visit."""

    visit: Mapping[str, Any]
    items: dict[str, float | None] = attrs.Factory(dict)
    answers: dict[str, Any] = attrs.Factory(dict)
    sections: dict[str, float | None] = attrs.Factory(dict)
    coefs: dict[str, float | str | None] = attrs.Factory(dict)  # str: a label coefficient
    #: a multi-select's options chosen, a flag each (its answer is the points P)
    options: dict[str, tuple[bool, ...] | None] = attrs.Factory(dict)
    value: Any = None
    #: the point's previous visit, as `history.Previous` holds it (empty: none)
    previous: Mapping[Any, Any] = attrs.Factory(dict)
    #: rollup values over a group of visits (an example's expectations read them)
    rollups: Mapping[str, Any] = attrs.Factory(dict)
    #: whether each critical item failed the visit (its 0, where its `critical if` holds);
    #: an item not here failed where its score is 0
    critical: dict[str, bool] = attrs.Factory(dict)


class Interpreter:
    def __init__(
        self, model: StandardModel, functions: FunctionRegistry | None = None, approx: bool = False
    ) -> None:
        self.m = model
        self.functions = functions
        self.builtins = table_of(model)
        self.approx = approx
        self.bands = {c: b for c, b in model.bands.items()}

    # -- expressions ----------------------------------------------------------------------------

    def eval(self, b: Bound, env: Env) -> Any:
        match b:
            case Const(value=v):
                return float(v) if isinstance(v, int) and not isinstance(v, bool) else v
            case ItemRef(name=name):
                return env.items.get(name)
            case AnswerRef(name=name):
                return env.answers.get(name)
            case ValueRef():
                return env.value
            case SectionRef(name=name):
                return env.sections.get(name)
            case CoefRef(name=name):
                return env.coefs.get(name)
            case FieldRef(name=key):
                return env.visit.get(key)
            case RollupRef(name=name):
                return env.rollups.get(name)
            case Neg(operand=operand):
                x = self.eval(operand, env)
                return None if x is None else -x
            case Exact(operand=operand, places=places):
                return exact(self.eval(operand, env), 10.0**places)
            case Arith(operator=op, left=left, right=right):
                x, y = self.eval(left, env), self.eval(right, env)
                if x is None or y is None:
                    return None
                return {"+": x + y, "-": x - y, "*": x * y}[op] if op != "/" else x / y
            case Compare(operator=op, left=left, right=right):
                x, y = self.eval(left, env), self.eval(right, env)
                if x is None or y is None:
                    return None
                if self.approx and op in ("==", "!=") and left.type == "num":
                    eq = abs(x - y) <= APPROX
                    return eq if op == "==" else not eq
                return _COMPARE[op](x, y)
            case Not(operand=operand):
                x = self.eval(operand, env)
                return None if x is None else not x
            case And(left=left, right=right):
                x = self.eval(left, env)
                if x is False:
                    return False
                y = self.eval(right, env)
                return False if y is False else (None if x is None or y is None else True)
            case Or(left=left, right=right):
                x = self.eval(left, env)
                if x is True:
                    return True
                y = self.eval(right, env)
                return True if y is True else (None if x is None or y is None else False)
            case If(condition=cond, then=then, otherwise=otherwise):
                return self.eval(then if self.eval(cond, env) else otherwise, env)
            case Call():
                return self.call(b, env)
        raise AssertionError(f"cannot evaluate {b.op} per visit")

    def call(self, b: Call, env: Env) -> Any:
        """A call: its built-in function's scalar form, or a pack function's."""
        fn = b.fn
        if fn == "plugin":
            assert self.functions is not None
            spec = self.functions.get(b.payload)
            assert spec is not None
            return scalar_value_call(self, spec, b, env)
        scalar = self.builtins.implementation(fn).scalar
        assert scalar is not None, f"`{fn}` has no scalar form"
        return scalar(self, b, env)

    # -- a whole visit ---------------------------------------------------------------------------

    def visit(
        self, record: Mapping[str, Any], previous: Mapping[Any, Any] | None = None
    ) -> tuple[Env, list[VisitError], list[VisitWarning], list[str]]:
        """Score one record the slow, obvious way (answer keys and fields are not checked);
        `previous`: the point's previous visit (`history.Previous`), if it had one."""
        visit = dict(record)
        for f in self.m.fields.values():
            if f.read:
                try:
                    visit[f.key] = read_value(f, record.get(f.key))
                except FieldValueError:  # the visit is rejected; a text stays as written
                    if f.type != "text":
                        visit[f.key] = None
        env = Env(visit, previous=previous or {})
        answers = record.get("answers") or {}
        errs: list[VisitError] = []
        warns: list[VisitWarning] = []
        items = {i.name: i for i in self.m.items}
        for kind, name in self.m.order:
            if kind == "item":
                it = items[name]
                self._item(it, answers, env, errs, warns)
                if it.critical:
                    failed = env.items[name] == 0
                    if failed and it.critical_when is not None:
                        failed = bool(self.eval(it.critical_when, env))
                    env.critical[name] = failed
            elif kind == "section":
                sec = next(s for s in self.m.sections if s.name == name)
                env.sections[name] = wmean(
                    [
                        (env.items[i], items[i].weight, items[i].bonus)
                        for i in sec.items
                        if items[i].scored
                    ]
                )
            else:  # a coefficient, or one that gives a label
                coef = next(c for c in (*self.m.coefficients, *self.m.labels) if c.name == name)
                value: Any = self.eval(coef.expr, env)
                env.coefs[name] = label_text(value) if coef.is_label else value
        critical = [i.name for i in self.m.items if env.critical.get(i.name)]
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
        if it.computed is not None and applies:  # `value = EXPR`: worked out, not answered
            raw = self.eval(it.computed, env)
        env.items[it.name] = env.answers[it.name] = None
        env.options.pop(it.name, None)
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
            score = entry.score if it.scored else None  # `unscored`: the answer only
            env.answers[it.name] = entry.numeric if it.scale.numeric else entry.label  # type: ignore[union-attr]
        elif it.kind == "multi":
            read = multi_answer(info, raw, errs)
            env.options[it.name] = None if read is None else read[0]
            if read is None:
                return
            points = env.answers[it.name] = read[1]
            assert it.scale is not None
            most = it.scale.options_max
            score = (most - points) / most if it.scale.kind == "penalty" else points / most
        elif it.kind == "number":
            value = number_answer(info, raw, errs)
            env.answers[it.name] = value
            if value is None:
                return
            if it.score is None and it.low is not None and it.high is not None and it.scored:
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
        env.items[it.name] = score if it.scored else None  # `unscored`: the answer only


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}

__all__ = ["Env", "Interpreter"]
