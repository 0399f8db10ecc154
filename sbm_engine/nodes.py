"""The syntax tree of a `.sbm` file.

Nodes are frozen attrs classes with tuples for children, so a tree is a value: two
parses of the same text compare equal, and `sbm fmt` can assert that formatting
did not change the tree. Every node carries the `Span` it was read from, excluded
from equality (`eq=False`) so that layout never changes what a tree *is*.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

# Re-exported: the tree's users name spans through it (`n.Span`).
from .spans import NOWHERE as NOWHERE
from .spans import Span as Span


def _span() -> Span:
    # Typed as the value, as `attrs.field` itself is. mypy's attrs plugin sees a default
    # here, not a field, so to mypy `span` may also be given by position.
    return attrs.field(default=NOWHERE, eq=False, repr=False, kw_only=True)


# ---- expressions --------------------------------------------------------------


@attrs.frozen
class Number:
    value: float
    text: str
    span: Span = _span()


@attrs.frozen
class String:
    value: str
    span: Span = _span()


@attrs.frozen
class Name:
    """A bare identifier: an item, section, coefficient, rollup or a label literal."""

    name: str
    span: Span = _span()


@attrs.frozen
class Attribute:
    """`visit.FIELD`: the only dotted access the language has."""

    owner: str
    name: str
    span: Span = _span()


@attrs.frozen
class Negate:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Binary:
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Compare:
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class BoolOp:
    op: Literal["and", "or"]
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class If:
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@attrs.frozen
class Selection:
    """`items`, `sections`, `tagged T` or `in SECTION` as a function argument."""

    kind: Literal["items", "sections", "tagged", "in"]
    name: str | None = None
    span: Span = _span()


@attrs.frozen
class Weighted:
    """`EXPR: WEIGHT` inside `weighted_mean(...)`."""

    expr: Expr
    weight: Expr
    span: Span = _span()


@attrs.frozen
class Call:
    function: str
    args: tuple[Argument, ...]
    span: Span = _span()
    name_span: Span = _span()


Expr: TypeAlias = (
    Number | String | Name | Attribute | Negate | Binary | Compare | BoolOp | Not | If | Call
)
Argument: TypeAlias = Expr | Selection | Weighted


# ---- declarations -------------------------------------------------------------


@attrs.frozen
class Label:
    """A scale label, an alias, a field value or an example answer."""

    value: str
    kind: Literal["name", "number", "string"]
    span: Span = _span()


@attrs.frozen
class ScaleEntry:
    label: Label
    score: Number
    aliases: tuple[Label, ...] = ()
    span: Span = _span()


@attrs.frozen
class Scale:
    name: str
    entries: tuple[ScaleEntry, ...]
    span: Span = _span()
    name_span: Span = _span()
    #: `scale NAME points {…}` / `penalty`: the entries are points, not scores.
    kind: Literal["score", "points", "penalty"] = "score"


@attrs.frozen
class ScaleAnswer:
    scale: str
    span: Span = _span()


@attrs.frozen
class InlineScaleAnswer:
    entries: tuple[ScaleEntry, ...]
    span: Span = _span()


@attrs.frozen
class NumberAnswer:
    low: Number | None = None
    high: Number | None = None
    span: Span = _span()


@attrs.frozen
class TextAnswer:
    span: Span = _span()


@attrs.frozen
class MultiAnswer:
    """`answer any of SCALE` / `answer any of {…}`: a set of the scale's labels."""

    options: ScaleAnswer | InlineScaleAnswer
    span: Span = _span()


AnswerType: TypeAlias = ScaleAnswer | InlineScaleAnswer | NumberAnswer | TextAnswer | MultiAnswer


@attrs.frozen
class Item:
    name: str
    question: str
    answer: AnswerType
    weight: Number | None = None
    tags: tuple[str, ...] = ()
    presence: Literal["required", "optional"] | None = None
    critical: bool = False
    bonus: bool = False
    when: Expr | None = None
    score: Expr | None = None
    span: Span = _span()
    name_span: Span = _span()
    #: `value = EXPR`: a computed item, whose answer the standard works out per visit
    value: Expr | None = None
    #: `in SECTION`: an item declared outside any section block, added to that section
    section_in: Name | None = None
    #: `after ITEM` / `before ITEM` (with `in`): where in that section it goes
    after: Name | None = None
    before: Name | None = None
    #: `unscored`: the answer is read and checked, but the item has no score
    unscored: bool = False
    #: `critical if CONDITION`: the item is critical on the visits the condition holds
    critical_if: Expr | None = None


@attrs.frozen
class Section:
    name: str
    title: str | None
    items: tuple[Item, ...]
    weight: Number | None = None
    when: Expr | None = None
    span: Span = _span()
    name_span: Span = _span()
    #: `after SECTION` / `before SECTION`: where the section goes among the inherited ones
    after: Name | None = None
    before: Name | None = None


@attrs.frozen
class Coefficient:
    name: str
    title: str | None
    expr: Expr
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Rollup:
    name: str
    title: str | None
    expr: Expr
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Field:
    name: str
    title: str | None
    values: tuple[Label, ...] | None = None
    span: Span = _span()
    name_span: Span = _span()
    #: `text`, `number`, `date`, `datetime` or `duration` as written; None: not written (text)
    type: str | None = None
    required: bool = False
    type_span: Span = _span()


def threshold_text(value: Number | Name) -> str:
    """A target or a band's threshold as written: the number, or the constant's name."""
    return value.text if isinstance(value, Number) else value.name


@attrs.frozen
class Target:
    coefficient: str
    value: Number | Name  # a number, or a constant's name
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Band:
    label: str
    threshold: Number | Name | None  # a number, or a constant's name
    span: Span = _span()
    #: `>=` (the value reaches the threshold) or `<=` (it stays at or under it)
    op: Literal[">=", "<="] = ">="
    #: `LABEL … when CONDITION`: the band holds only where the condition does too
    when: Expr | None = None


@attrs.frozen
class Bands:
    coefficient: str
    bands: tuple[Band, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Assignment:
    name: str
    value: Label
    span: Span = _span()


@attrs.frozen
class ExampleVisit:
    """One of the earlier visits of an example of several: its `visit { }` block (if
    any) and its `answers { }` block."""

    visit: tuple[Assignment, ...] = ()
    answers: tuple[Assignment, ...] = ()
    span: Span = _span()


@attrs.frozen
class Example:
    """An example: its (last) visit, `visit` and `answers`, and its expectations. An
    example of several visits holds the ones before the last in `earlier`, in the
    order written: one point's visits, each the next one's previous visit."""

    name: str
    visit: tuple[Assignment, ...] = ()
    answers: tuple[Assignment, ...] = ()
    expects: tuple[Expr, ...] = ()
    span: Span = _span()
    earlier: tuple[ExampleVisit, ...] = ()


@attrs.frozen
class Constant:
    """`const NAME = NUMBER`: a named number, read in formulas as the number itself."""

    name: str
    value: Number
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class RepeatKey:
    """`key "Title"` of a `repeat` block: the suffix of the copy and its title."""

    key: str
    title: str
    span: Span = _span()


@attrs.frozen
class Repeat:
    """`repeat NAME in { key "Title", … } { … }`: items and sections declared once per
    key (the loader expands the copies; the tree keeps the block as written)."""

    name: str
    keys: tuple[RepeatKey, ...]
    members: tuple[Item | Section, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Drop:
    name: str
    span: Span = _span()


@attrs.frozen
class Import:
    path: str
    span: Span = _span()
    #: `import "p.sbm" version "V"`: the version the imported file must declare
    version: str | None = None


@attrs.frozen
class Version:
    value: str
    span: Span = _span()


@attrs.frozen
class Industry:
    value: str
    span: Span = _span()


Member: TypeAlias = (
    Import
    | Version
    | Industry
    | Scale
    | Section
    | Item
    | Coefficient
    | Field
    | Rollup
    | Target
    | Bands
    | Example
    | Drop
    | Constant
    | Repeat
)


@attrs.frozen
class Standard:
    name: str
    title: str | None
    extends: str | None
    members: tuple[Member, ...]
    span: Span = _span()
    name_span: Span = _span()
    extends_span: Span = _span()
    #: `extends BASE version "V"`: the base's version the standard was written for.
    extends_version: str | None = None


@attrs.frozen
class Comment:
    """A `#` comment; kept apart from the tree so it never changes equality."""

    text: str
    span: Span


@attrs.frozen
class Module:
    """One parsed file: its imports and standards, plus its comments for `fmt`."""

    path: str
    imports: tuple[Import, ...]
    standards: tuple[Standard, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False)
    source: str = attrs.field(default="", eq=False, repr=False)
