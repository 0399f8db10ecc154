"""Ranges: what interval analysis proves about the values formulas can take.

A score formula that can leave [0, 1] (W0701), a target or band threshold above
every value its coefficient can take (W0704). The analysis is sound: where it
answers, the expression never leaves the interval, so a value that can be reached
is never reported. A call's range is its built-in function's range rule.
"""

from __future__ import annotations

import math
from typing import Any

from .. import nodes as n
from ..builtins import BUILTINS, EMPTY, BuiltinTable, Interval, RangeScope, hull
from ..ir import (
    And,
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Compare,
    Const,
    If,
    ItemRef,
    Neg,
    Not,
    Or,
    SectionRef,
    ValueRef,
)
from ..loader import Flat
from ..messages import message
from ..model import BandsModel, CoefficientModel, ItemModel
from .declarations import Declarations


class Ranges(Declarations):
    """W0701 and W0704 from the ranges of formulas."""

    def _targets_in_range(
        self,
        flat: Flat,
        coefficients: list[CoefficientModel],
        targets: dict[str, float],
        bands: dict[str, BandsModel],
    ) -> None:
        """W0704 for a target or band threshold above every value its coefficient can
        take: `target visit 85` on a coefficient of 0..1 is never met, a band above the
        maximum is never given. The range analysis is sound, so a value the
        coefficient can reach is never reported. (A threshold below the minimum only
        leaves the bands after it unused, which a shared band scheme may well do.)"""
        ranges = self._coefficient_ranges(coefficients)
        for coef in targets:
            t = flat.targets[coef]
            self._in_range(coef, ranges.get(coef), self._number(t.value, report=False))
        for coef in bands:
            for band in flat.bands[coef].bands:
                # A `<=` band is reached from below: a high threshold is never unreachable.
                if band.threshold is not None and band.op == ">=":
                    limit = self._number(band.threshold, report=False)
                    text = f"{band.label} >= {limit.text}"
                    self._in_range(coef, ranges.get(coef), limit, text)

    def _coefficient_ranges(
        self, coefficients: list[CoefficientModel]
    ) -> dict[str, Interval | None]:
        exprs = {c.name: c.expr for c in coefficients}
        known: dict[str, Interval | None] = {}

        def coefficient(name: str) -> Interval | None:
            if name not in known:
                known[name] = None  # a cycle (E0401) reads as unknown
                expr = exprs.get(name)
                known[name] = (
                    None
                    if expr is None
                    else _interval(expr, None, self.items, None, scope, self.builtins)
                )
            return known[name]

        sections: dict[str, Interval | None] = {
            name: None
            if any(self.items[i].bonus for i in sec.items if i in self.items)
            else (0.0, 1.0)
            for name, sec in self.sections.items()
        }
        scope = RangeScope(sections, coefficient)
        return {name: coefficient(name) for name in exprs}

    def _in_range(
        self, coef: str, rng: Interval | None, value: n.Number, band: str | None = None
    ) -> None:
        """W0704 for `value`, the target of `coef` or the threshold of its `band`."""
        if rng is None or rng is EMPTY or math.isinf(rng[1]) or math.isnan(value.value):
            return
        lo, hi = rng
        if value.value <= hi + 1e-12:
            return
        percent = hi <= 1 and 1 < value.value <= 100
        self.d.warn(
            "W0704",
            message(
                "W0704.unreached.message",
                what=message("W0704.target", coefficient=coef, value=value.text)
                if band is None
                else message("W0704.band", band=band),
                coefficient=coef,
                most=_fmt(hi),
            ),
            value.span,
            label=message("W0704.unreached.label", coefficient=coef, low=_fmt(lo), high=_fmt(hi)),
            help=message("W0704.unreached.percent", value=_fmt(value.value / 100))
            if percent
            else message("W0704.unreached.help", most=_fmt(hi)),
        )

    # -- warnings --------------------------------------------------------------------------

    def _range_warning(self, expr: n.Expr, bound: Bound, item: ItemModel) -> None:
        """W0701 when interval arithmetic shows the formula reaches outside [0, 1]."""
        interval = _interval(bound, item, self.items, builtins=self.builtins)
        if interval is None or interval is EMPTY:
            return  # unknown (a plugin, a coefficient) or always N/A: nothing is proven
        lo, hi = interval
        if lo < -1e-12 or hi > 1 + 1e-12:
            worst = lo if lo < -1e-12 else hi
            self.d.warn(
                "W0701",
                message("W0701.range.unbounded", item=item.name)
                if math.isinf(worst)
                else message("W0701.range.reaches", item=item.name, value=_fmt(worst)),
                expr.span,
                label=message("W0701.range.label", low=_fmt(lo), high=_fmt(hi)),
                help=message("W0701.range.help"),
            )


_UNSET: Interval = (math.nan, math.nan)  # "not given": the item's own answer range


def _answer_range(item: ItemModel | None) -> Interval | None:
    """The numbers an item's answer can be, or None when it is not a number."""
    if item is None:
        return None
    if item.kind == "number":
        if item.low is not None and item.high is not None:
            return (item.low, item.high)
        return (-math.inf, math.inf)
    if item.kind == "multi" and item.scale is not None:  # the points P
        return (0.0, item.scale.options_max)
    if item.scale is not None and item.scale.numeric:
        nums = [e.numeric for e in item.scale.entries if e.numeric is not None]
        return (min(nums), max(nums))
    return None


def _interval(
    b: Bound,
    item: ItemModel | None,
    items: dict[str, ItemModel],
    own: Interval | None = _UNSET,
    scope: RangeScope | None = None,
    builtins: BuiltinTable = BUILTINS,
) -> Interval | None:
    """The range of a numeric expression inside `item`'s score formula (W0701), or of
    a coefficient's formula when `item` is None and `scope` says what sections and
    other coefficients range over (W0704).

    Sound where it answers: the expression never leaves the interval. None means
    unknown (a plugin, a division by something that may be 0), so nothing is
    reported; `EMPTY` means the expression is always N/A. `own` is the range of
    the item's own answer, narrowed inside `if` branches by conditions such as
    `value <= 10`. A call's range is its built-in function's range rule.
    """
    if own is _UNSET:
        own = _answer_range(item)

    def sub(x: Bound, narrowed: Interval | None = own) -> Interval | None:
        return _interval(x, item, items, narrowed, scope, builtins)

    def is_own(x: Bound) -> bool:
        return isinstance(x, ValueRef) or (
            item is not None and isinstance(x, AnswerRef) and x.name == item.name
        )

    if is_own(b):
        return own
    match b:
        case Const(value=v):
            if isinstance(v, int | float) and not isinstance(v, bool):
                return (float(v), float(v))
            return EMPTY if v is None else None
        case AnswerRef(name=name):
            return _answer_range(items.get(name))
        case ItemRef():
            return (0.0, 1.0)
        case SectionRef(name=name) if scope is not None:
            return scope.sections.get(name)
        case CoefRef(name=name) if scope is not None:
            return scope.coefficient(name)
        case Neg() | Arith():
            args = [sub(a) for a in b.args]
            if any(a is None for a in args):
                return None
            if any(a is EMPTY for a in args):
                return EMPTY  # N/A propagates
            return _combine(b, args)  # type: ignore[arg-type]
        case If(condition=cond, then=then, otherwise=otherwise):
            then_range, else_range = _narrow(cond, own, is_own)
            branches = [
                EMPTY if r is not None and r[0] > r[1] else sub(x, r)
                for x, r in ((then, then_range), (otherwise, else_range))
            ]
            return hull(branches)
        case Call(fn=fn) if fn != "plugin":
            rule = builtins.implementation(fn).range
            return None if rule is None else rule(b, sub, scope)
    return None


def _narrow(
    cond: Bound, own: Interval | None, is_own: Any
) -> tuple[Interval | None, Interval | None]:
    """The item's answer range where `cond` holds and where it does not.

    Understands comparisons of the answer with a number, `and`, `or` and `not`;
    anything else narrows nothing. Bounds are kept closed, which is sound.
    """
    if own is None:
        return None, None
    lo, hi = own
    match cond:
        case Not(operand=operand):
            then_range, else_range = _narrow(operand, own, is_own)
            return else_range, then_range
        case And(left=left, right=right):
            first, _ = _narrow(left, own, is_own)
            both, _ = _narrow(right, first, is_own)
            return both, own
        case Or(left=left, right=right):
            _, first = _narrow(left, own, is_own)
            _, neither = _narrow(right, first, is_own)
            return own, neither
        case Compare(operator=op, left=left, right=right):
            pass
        case _:
            return own, own
    if is_own(right) and isinstance(left, Const):
        left, right = right, left
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)  # type: ignore[assignment]
    if not (is_own(left) and isinstance(right, Const) and isinstance(right.value, int | float)):
        return own, own
    k = float(right.value)
    below, above = (lo, min(hi, k)), (max(lo, k), hi)
    if op in ("<", "<="):
        return below, above
    if op in (">", ">="):
        return above, below
    if op == "==":
        return ((k, k) if lo <= k <= hi else EMPTY), own
    return own, ((k, k) if lo <= k <= hi else EMPTY)


def _combine(b: Bound, args: list[Interval]) -> Interval | None:
    """Interval arithmetic for a negation or an arithmetic operation on known, non-N/A
    operands."""
    if isinstance(b, Neg):
        lo, hi = args[0]
        return (-hi, -lo)
    assert isinstance(b, Arith)
    fn = b.operator
    (a, b_), (c, d) = args
    if fn == "+":
        return (a + c, b_ + d)
    if fn == "-":
        return (a - d, b_ - c)
    if fn == "/":
        if c <= 0 <= d:
            return None  # may divide by zero: a formula error at run time, not a range
        args = [(a, b_), (1 / d, 1 / c)]
    (a, b_), (c, d) = args
    products = [x * y for x in (a, b_) for y in (c, d) if not (x == 0 or y == 0)] or [0.0]
    if any(x == 0 for x in (a, b_, c, d)):
        products.append(0.0)
    products = [0.0 if math.isnan(p) else p for p in products]
    return (min(products), max(products))


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:g}"
