"""Exact decimals where people count points: sums and products without binary drift.

Numbers are binary floats, so 0.1 + 0.2 is 0.30000000000000004 and a total of
penalty points can land a hair under a grade's threshold. Where a value is built
only from decimals as written (number literals, constants, scale scores, points,
weights) by `+`, `-`, `*` and sums, it has a known number of decimal places: a
sum has at most as many as its most precise term, a product the sum of its
factors'. This module finds those places and wraps each such operation in an
`ir.Exact` node, which every backend evaluates the same way: the value rounded to
its places, `rint(x · 10ᵖ) / 10ᵖ`, which is the float nearest the decimal
result. Comparisons of such values are then exact, on both backends alike.

What has no known places is left as it is: a division or a mean, a `number`
answer (its decimals are the visit's, not the standard's), a visit field, a pack's
function, and anything computed from one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .ir import (
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Const,
    Exact,
    If,
    ItemRef,
    Neg,
    ValueRef,
)
from .model import BandsModel, ItemModel, StandardModel

#: Beyond this many places a value is treated as inexact: 10ᵖ times a value must stay
#: well inside the integers a float holds exactly.
MAX_PLACES = 9

#: Sums over a selection or of their arguments: their places are their terms'.
_SUMS = frozenset({"sum", "sum_sel", "earned", "possible", "lost", "points", "max_points"})
#: Calls whose value is one of their arguments, or a sum of them.
_OF_ARGUMENTS = frozenset({"min", "max", "clamp", "coalesce", "sum"})
#: The same over the scores of a selection.
_OF_SCORES = frozenset({"min_sel", "max_sel", "sum_sel"})


def places_of(x: float) -> int | None:
    """The decimal places of a float as Python writes it back (`0.25` → 2, `3.0` → 0)."""
    if x != x or x in (float("inf"), float("-inf")):
        return None
    text = repr(abs(x))
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0"))
    places = max(decimals - int(exponent or 0), 0)
    return places if places <= MAX_PLACES else None


def _max(values: list[int | None]) -> int | None:
    if any(v is None for v in values):
        return None
    return max((v for v in values if v is not None), default=0)


class Exactness:
    """The decimal places of the expressions of one standard."""

    def __init__(self, model: StandardModel) -> None:
        self.model = model
        self.items = {i.name: i for i in model.items}
        self.coefficients = {c.name: c for c in (*model.coefficients, *model.labels)}
        self._coef_places: dict[str, int | None] = {}
        self._busy: set[str] = set()

    def item_places(self, item: ItemModel) -> int | None:
        """Places of an item's score: its scale's scores, or its formula's."""
        if item.score is not None:
            return self.places(item.score)
        if item.scale is not None and item.scale.kind == "score" and item.kind != "multi":
            return _max([places_of(e.score) for e in item.scale.entries])
        return None  # a points share, a number's linear score: divisions

    def points_places(self, item: ItemModel) -> int | None:
        if item.scale is None:
            return None
        if item.kind == "multi":  # P: the options' points (a plain scale's scores)
            return _max([places_of(p) for p in item.scale.option_points])
        return _max([places_of(e.points or 0.0) for e in item.scale.entries])

    def coefficient_places(self, name: str) -> int | None:
        if name not in self._coef_places:
            if name in self._busy:  # a cycle, already reported by the checker
                return None
            self._busy.add(name)
            self._coef_places[name] = self.places(self.coefficients[name].expr)
            self._busy.discard(name)
        return self._coef_places[name]

    def places(self, b: Bound) -> int | None:
        """The decimal places of a numeric expression; None when it has no fixed number."""
        match b:
            case Const(value=v):
                if v is None or isinstance(v, bool):
                    return 0
                return places_of(float(v)) if isinstance(v, int | float) else None
            case Exact(places=p):
                return p
            case ItemRef(name=name):
                return self.item_places(self.items[name])
            case AnswerRef(name=name) | ValueRef(name=name):
                item = self.items[name]
                if item.kind == "multi":
                    return self.points_places(item)
                if item.scale is not None and item.scale.numeric:
                    return _max([places_of(e.numeric or 0.0) for e in item.scale.entries])
                return None
            case CoefRef(name=name):
                return self.coefficient_places(name)
            case Neg(operand=operand):
                return self.places(operand)
            case Arith(operator=op, left=left, right=right):
                if op == "/":
                    return None
                lp, rp = self.places(left), self.places(right)
                if lp is None or rp is None:
                    return None
                total = lp + rp if op == "*" else max(lp, rp)
                return total if total <= MAX_PLACES else None
            case If(then=then, otherwise=otherwise):
                return _max([self.places(then), self.places(otherwise)])
            case Call(fn=fn, payload=payload, operands=operands):
                return self._call_places(fn, payload, operands)
        return None

    def _call_places(self, fn: str, payload: Any, operands: tuple[Bound, ...]) -> int | None:
        if fn in ("count", "selected_count"):
            return 0
        if fn in _OF_ARGUMENTS:
            return _max([self.places(a) for a in operands])
        if fn not in _SUMS and fn not in _OF_SCORES and fn != "points_of":
            return None
        kind, selected = payload
        if kind != "items":  # section scores are means
            return None
        items = [self.items[x.name] for x in selected]
        if fn in ("points", "points_of", "max_points"):
            return _max([self.points_places(i) for i in items])
        if fn in _OF_SCORES:
            return _max([self.item_places(i) for i in items])
        weights = _max([places_of(i.weight) for i in items])
        if fn == "possible":
            return weights
        scores = _max([self.item_places(i) for i in items])
        if weights is None or scores is None or weights + scores > MAX_PLACES:
            return None
        return weights + scores  # earned; lost is possible − earned, no finer

    def wrap(self, b: Bound) -> Bound:
        """`b` with every sum, difference and product of known places made exact."""
        b = _map_children(b, self.wrap)
        exact = isinstance(b, Arith) and b.operator != "/"
        exact = exact or (isinstance(b, Call) and b.fn in _SUMS)
        if not exact:
            return b
        p = self.places(b)
        if p is None or p == 0:  # whole numbers add up exactly as they are
            return b
        return Exact(b, p, type="num", span=b.span)


def _map_children(b: Bound, f: Callable[[Bound], Bound]) -> Bound:
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(b)):
        value = getattr(b, field.name)
        if isinstance(value, Bound):
            new = f(value)
            if new is not value:
                changes[field.name] = new
        elif field.name == "operands" and value:
            new_ops = tuple(f(x) for x in value)
            if any(x is not y for x, y in zip(new_ops, value, strict=True)):
                changes[field.name] = new_ops
    return attrs.evolve(b, **changes) if changes else b


def make_exact(model: StandardModel) -> StandardModel:
    """The model with its per-visit formulas made exact where they count decimals."""
    ex = Exactness(model)

    def opt(b: Bound | None) -> Bound | None:
        return None if b is None else ex.wrap(b)

    items = tuple(
        attrs.evolve(
            i,
            when=opt(i.when),
            section_when=opt(i.section_when),
            score=opt(i.score),
            computed=opt(i.computed),
        )
        for i in model.items
    )
    sections = tuple(attrs.evolve(s, when=opt(s.when)) for s in model.sections)
    coefficients = tuple(attrs.evolve(c, expr=ex.wrap(c.expr)) for c in model.coefficients)
    labels = tuple(attrs.evolve(c, expr=ex.wrap(c.expr)) for c in model.labels)
    rollups = tuple(
        attrs.evolve(r, terms=tuple(attrs.evolve(t, expr=ex.wrap(t.expr)) for t in r.terms))
        for r in model.rollups
    )
    bands = {name: _exact_bands(b, ex) for name, b in model.bands.items()}
    examples = tuple(
        attrs.evolve(e, expects=tuple((ex.wrap(x), text) for x, text in e.expects))
        for e in model.examples
    )
    return attrs.evolve(
        model,
        items=items,
        sections=sections,
        coefficients=coefficients,
        labels=labels,
        rollups=rollups,
        bands=bands,
        examples=examples,
    )


def _exact_bands(b: BandsModel, ex: Exactness) -> BandsModel:
    if not b.conditions:
        return b
    return attrs.evolve(
        b, conditions=tuple(None if c is None else ex.wrap(c) for c in b.conditions)
    )


__all__ = ["MAX_PLACES", "Exactness", "make_exact", "places_of"]
