"""The checked standard: every name resolved, every type known, in evaluation order.

The checker turns syntax (`nodes`) into this model and the backends (the per-visit
Python compiler and the vectorized batch compiler) compile from it, so the two
can never disagree about what a name means. Expressions here are trees of the
typed intermediate form (`ir`: `Bound` and its subclasses), with selections
already expanded to the items (and weights) they stand for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .ir import Bound
from .ir import Type as Type  # the type of a value, where readers of the model look for it
from .runtime import label_key
from .spans import NOWHERE, Span

if TYPE_CHECKING:
    from .builtins import BuiltinTable

#: Visit attributes every record may carry (`visit.id` reads `visit_id`).
BUILTIN_FIELDS: dict[str, str] = {
    "id": "visit_id",
    "point": "point",
    "specialist": "specialist",
    "region": "region",
    "date": "date",
    "scenario": "scenario",
    "shopper": "shopper",
    "submitted": "submitted",
}


@attrs.frozen
class SelectedItem:
    """One item inside a selection, with what a weighted mean needs to know of it."""

    name: str
    weight: float
    bonus: bool


@attrs.frozen
class ScaleEntryModel:
    label: str  # canonical label as written
    score: float
    aliases: tuple[str, ...]
    numeric: float | None  # the label's number for numeric labels
    #: the points written for the answer on a points or penalty scale (its score then
    #: is points / the scale's greatest, or 1 − that for a penalty)
    points: float | None = None


@attrs.frozen
class ScaleModel:
    name: str
    entries: tuple[ScaleEntryModel, ...]
    span: Span = attrs.field(default=NOWHERE, eq=False)
    kind: Literal["score", "points", "penalty"] = "score"

    @property
    def max_points(self) -> float:
        """The greatest points an answer gives (0 on a scale of scores)."""
        return max((e.points or 0.0 for e in self.entries), default=0.0)

    @property
    def option_points(self) -> tuple[float, ...]:
        """What each answer adds to a multi-select's points P: its points on a points or
        penalty scale, its score on a plain one."""
        return tuple(e.score if e.points is None else e.points for e in self.entries)

    @property
    def options_max(self) -> float:
        """MAX of a multi-select on this scale: the sum of the positive `option_points`,
        exact (the float nearest the decimal sum, as `exact` makes P)."""
        from decimal import Decimal

        return float(sum((Decimal(repr(p)) for p in self.option_points if p > 0), Decimal(0)))

    @property
    def numeric(self) -> bool:
        """All labels are numbers: `answer(x)` then gives a number."""
        return bool(self.entries) and all(e.numeric is not None for e in self.entries)

    def labels(self) -> frozenset[str]:
        return frozenset(e.label for e in self.entries)


@attrs.frozen
class ItemModel:
    name: str
    question: str
    #: `multi`: `answer any of SCALE`, a set of the scale's labels
    kind: Literal["scale", "number", "text", "multi"]
    scale: ScaleModel | None
    low: float | None
    high: float | None
    weight: float
    tags: tuple[str, ...]
    presence: Literal["required", "optional"] | None
    critical: bool
    bonus: bool
    section: str | None
    when: Bound | None  # own condition
    section_when: Bound | None  # the section's condition
    score: Bound | None
    span: Span = attrs.field(default=NOWHERE, eq=False)
    when_text: str | None = None
    score_text: str | None = None
    #: `value = EXPR`: the answer the standard computes for each visit (a computed item)
    computed: Bound | None = None
    computed_text: str | None = None
    #: `unscored`: the answer is read and checked, but the item has no score
    unscored: bool = False
    #: `critical if CONDITION`: a critical item's 0 fails the visit only where this holds
    critical_when: Bound | None = None
    critical_when_text: str | None = None

    @property
    def has_points(self) -> bool:
        """Answered on a points or penalty scale, or a multi-select: `points(x)` reads it."""
        return self.kind == "multi" or (self.scale is not None and self.scale.kind != "score")

    @property
    def most_points(self) -> float:
        """The most points the answer can be worth: the scale's greatest, or for a
        multi-select MAX, the sum of its positive options."""
        assert self.scale is not None
        return self.scale.options_max if self.kind == "multi" else self.scale.max_points

    @property
    def scored(self) -> bool:
        if self.kind == "text" or self.unscored:
            return False
        if self.kind == "number":
            return self.score is not None or (self.low is not None and self.high is not None)
        return True


@attrs.frozen
class SectionModel:
    name: str
    title: str | None
    weight: float
    when: Bound | None
    items: tuple[str, ...]
    span: Span = attrs.field(default=NOWHERE, eq=False)
    when_text: str | None = None


@attrs.frozen
class CoefficientModel:
    name: str
    title: str | None
    expr: Bound
    text: str  # the formula as written, for explain and export
    span: Span = attrs.field(default=NOWHERE, eq=False)

    @property
    def is_label(self) -> bool:
        """A coefficient whose formula gives a label or a text (`StandardModel.labels`)."""
        return self.expr.type in ("str", "label")


@attrs.frozen
class RollupTerm:
    """One `avg(X)`, `share(C)`, `total(X)`, `median(X)` or `percentile(X, P)` inside a
    rollup formula: a per-visit value."""

    key: str  # e.g. "nps.1": the rollup's name and the term's position
    kind: Literal["avg", "share", "total", "median", "percentile"]
    expr: Bound
    param: float | None = None  # P of `percentile(X, P)`, in [0, 100]; 50 for `median`


@attrs.frozen
class RollupModel:
    name: str
    title: str | None
    expr: Bound  # over `agg` nodes whose data is the term key
    terms: tuple[RollupTerm, ...]
    text: str
    span: Span = attrs.field(default=NOWHERE, eq=False)


#: The types a visit field may be declared with (`field NAME TYPE`); text unless written.
FieldType = Literal["text", "number", "date", "datetime", "duration"]

#: Built-in visit fields that may be declared with a type other than text, and those types.
BUILTIN_FIELD_TYPES: dict[str, frozenset[str]] = {
    "date": frozenset({"text", "date"}),
    "submitted": frozenset({"text", "datetime"}),
}


@attrs.frozen
class FieldModel:
    """A declared visit field (or a built-in one declared to add a title, a type,
    `required` or `one of`)."""

    name: str
    title: str | None
    values: tuple[str, ...] | None
    span: Span = attrs.field(default=NOWHERE, eq=False)
    type: FieldType = "text"
    required: bool = False

    @property
    def key(self) -> str:
        """The record key the field is read from (`visit_id` for `id`)."""
        return BUILTIN_FIELDS.get(self.name, self.name)

    @property
    def value_type(self) -> Type:
        """The type of `visit.NAME` in formulas."""
        if self.type in ("number", "duration"):
            return "num"
        if self.type in ("date", "datetime"):
            return self.type
        return "str"

    @property
    def read(self) -> bool:
        """Whether a visit's value is checked or converted before scoring (not plain text)."""
        return self.type != "text" or self.required or self.values is not None

    def canonical(self, value: Any) -> str | None:
        """The declared value `value` names (matched like labels: case and spaces
        ignored), or None when it names none. Every backend reads fields through this."""
        if self.values is None:
            return None
        key = label_key(value)
        return next((v for v in self.values if label_key(v) == key), None)


@attrs.frozen
class BandsModel:
    coefficient: str
    bands: tuple[tuple[str, float | None], ...]
    span: Span = attrs.field(default=NOWHERE, eq=False)
    #: `>=`: a band holds from its threshold up; `<=`: up to its threshold (lower is better)
    op: Literal[">=", "<="] = ">="
    #: each band's `when` condition (None: none), beside `bands`; empty when no band has one
    conditions: tuple[Bound | None, ...] = ()
    #: the conditions as written, beside `conditions`
    condition_texts: tuple[str | None, ...] = ()

    @property
    def conditional(self) -> bool:
        return any(c is not None for c in self.conditions)

    def band_of(
        self, value: float | None, holds: tuple[bool | None, ...] | None = None
    ) -> str | None:
        """The band of a value: the first whose threshold it reaches (`>=`) or stays
        within (`<=`) and whose condition holds. `holds` gives the conditions' values
        in the order of the bands that have one; without it, a standard with
        conditions gives no band (the mean of a group meets no condition)."""
        if value is None:
            return None
        if self.conditional and holds is None:
            return None
        at_most = self.op == "<="
        given = iter(holds or ())
        for (label, threshold), condition in zip(
            self.bands, self.conditions or (None,) * len(self.bands), strict=True
        ):
            reached = threshold is None or (value <= threshold if at_most else value >= threshold)
            if condition is not None and next(given) is not True:
                reached = False
            if reached:
                return label
        return None


@attrs.frozen
class ExampleModel:
    name: str
    visit: dict[str, Any]
    answers: dict[str, Any]
    expects: tuple[tuple[Bound, str], ...]  # expression and its source text
    span: Span = attrs.field(default=NOWHERE, eq=False)
    #: the visits before the last of an example of several (visit fields, answers),
    #: in order: one point's visits, each the next one's previous visit
    earlier: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = ()


@attrs.frozen
class StandardModel:
    """A standard ready to compile: flat, resolved, ordered."""

    name: str
    title: str | None
    version: str | None
    industry: str | None
    file: str
    scales: dict[str, ScaleModel]
    fields: dict[str, FieldModel]
    items: tuple[ItemModel, ...]  # declaration order
    sections: tuple[SectionModel, ...]
    coefficients: tuple[CoefficientModel, ...]  # declaration order; the numbers
    #: ("item"|"section"|"coef"|"label", name) in evaluation order
    order: tuple[tuple[str, str], ...]
    rollups: tuple[RollupModel, ...]
    targets: dict[str, float]
    bands: dict[str, BandsModel]
    examples: tuple[ExampleModel, ...]
    #: `const NAME = NUMBER`: each constant's value and its text as written
    constants: dict[str, tuple[float, str]] = attrs.field(factory=dict)
    #: coefficients whose formula gives a label or a text (declaration order): the
    #: `labels` of a scored visit, apart from the numbers every roll-up averages
    labels: tuple[CoefficientModel, ...] = ()
    sources: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)
    #: the built-in functions its calls were bound with (None: `builtins.BUILTINS`)
    builtins: BuiltinTable | None = attrs.field(default=None, eq=False, repr=False)

    def item(self, name: str) -> ItemModel:
        return self._items_by_name[name]

    @property
    def _items_by_name(self) -> dict[str, ItemModel]:
        return {i.name: i for i in self.items}

    @property
    def visit_fields(self) -> tuple[str, ...]:
        """Top-level keys of a record: built-in visit attributes and declared fields."""
        builtin = tuple(BUILTIN_FIELDS.values())
        return (*builtin, *(f for f in self.fields if f not in BUILTIN_FIELDS))


def expressions(model: StandardModel) -> Iterator[Bound]:
    """Every expression of a standard: conditions, scores, coefficients and rollup terms.

    For packs that look for what a standard uses (`Bound.walk()` visits each node).
    """
    for item in model.items:
        for b in (item.computed, item.when, item.section_when, item.score, item.critical_when):
            if b is not None:
                yield b
    for section in model.sections:
        if section.when is not None:
            yield section.when
    for bands in model.bands.values():
        yield from (c for c in bands.conditions if c is not None)
    for coef in (*model.coefficients, *model.labels):
        yield coef.expr
    for rollup in model.rollups:
        for term in rollup.terms:
            yield term.expr
