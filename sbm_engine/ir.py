"""The typed intermediate form: checked expressions, one small class per construct.

The checker binds syntax (`nodes`) to these; the backends (the per-visit Python
compiler, the batch compiler, the reference interpreter) and the analyses of the
checker dispatch on the class with `match`. Every name is resolved (an item, a
section, a coefficient, a field's record key), every node carries its type
(`num`, `bool`, `str`, `label`, `date` and `datetime` — a typed visit field or a date
written out, computed with as the float `field_types` reads them — and during
checking `labellit` for a bare word and `any` for what an error already made
unknowable), and selections are expanded to the items or sections they stand for.

`Bound` is the base class. Its `op`, `args` and `data` give any node in one
generic shape (`op` a word naming the class, `args` the operand nodes, `data` the
rest), which readers that only walk a tree use (`walk()` yields every node):
`data` is the constant of a `Const`, the name of a reference, the operator of an
`Arith` or `Compare`, `(function, payload)` of a `Call`, `(aggregate, key)` of an
`Agg`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import attrs

from .spans import NOWHERE, Span

Type = Literal["num", "bool", "str", "label", "sel", "labellit", "any", "date", "datetime"]


@attrs.frozen
class Bound:
    """A resolved, typed expression (the base class of every node below)."""

    op: ClassVar[str] = ""
    type: Type = attrs.field(default="num", kw_only=True)
    #: the labels a `label` (or `str` field) value can take, when known
    labels: frozenset[str] | None = attrs.field(default=None, kw_only=True)
    span: Span = attrs.field(default=NOWHERE, eq=False, kw_only=True)

    @property
    def args(self) -> tuple[Bound, ...]:
        """The operand nodes, in evaluation order."""
        return ()

    @property
    def data(self) -> Any:
        """What the node holds besides its operands (see the module docstring)."""
        return None

    def walk(self) -> Iterator[Bound]:
        """This node and every node below it, depth first, operands in order."""
        stack: list[Bound] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.args))


# ---- leaves --------------------------------------------------------------------------------


@attrs.frozen
class Const(Bound):
    """A constant: a number, a text or label, True/False, or None for N/A."""

    op: ClassVar[str] = "const"
    value: Any

    @property
    def data(self) -> Any:
        return self.value


@attrs.frozen
class Ref(Bound):
    """A name resolved to what it reads (the base of the references below)."""

    name: str

    @property
    def data(self) -> Any:
        return self.name


@attrs.frozen
class ItemRef(Ref):
    """An item's score."""

    op: ClassVar[str] = "item"


@attrs.frozen
class AnswerRef(Ref):
    """`answer(item)`: the item's answer, as a label, a number or a text."""

    op: ClassVar[str] = "answer"


@attrs.frozen
class ValueRef(Ref):
    """`value` in a score formula: the answer of the item the formula scores."""

    op: ClassVar[str] = "value"


@attrs.frozen
class SectionRef(Ref):
    """A section's score."""

    op: ClassVar[str] = "section"


@attrs.frozen
class CoefRef(Ref):
    """A coefficient's value."""

    op: ClassVar[str] = "coef"


@attrs.frozen
class FieldRef(Ref):
    """`visit.x`: a field of the record; `name` is its key in the record."""

    op: ClassVar[str] = "field"


@attrs.frozen
class RollupRef(Ref):
    """Another rollup's value (in a rollup formula)."""

    op: ClassVar[str] = "rollup_ref"


@attrs.frozen
class Visits(Bound):
    """`visits` in a rollup formula: how many visits the group has."""

    op: ClassVar[str] = "visits"


@attrs.frozen
class Agg(Bound):
    """`avg(…)`, `share(…)`, `total(…)`, `median(…)`, `percentile(…)` in a rollup formula:
    the value over the group of the per-visit term `key` (`RollupTerm`); `mode(band(C))`,
    whose `key` is the coefficient C."""

    op: ClassVar[str] = "agg"
    kind: Literal["avg", "share", "total", "median", "percentile", "mode"]
    key: str

    @property
    def data(self) -> Any:
        return (self.kind, self.key)


@attrs.frozen
class ModeOf(Bound):
    """`mode(X, "L1", "L2", …)` in a rollup formula: the label among `candidates` that
    most of the group's visits gave X, ties going to the one listed first; `keys` are
    the per-visit terms `share(X == Lᵢ)` it is read from, one per candidate."""

    op: ClassVar[str] = "mode_of"
    candidates: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def data(self) -> Any:
        return (self.candidates, self.keys)


@attrs.frozen
class PreviousOf:
    """What `previous(NAME)` reads (the payload of `Call("previous", …)`): an item's
    score, a section's score or a coefficient's value (a number or a label), at the
    point's previous visit (`history`)."""

    kind: Literal["item", "section", "coef"]
    name: str


def previous_key(kind: str, name: str) -> tuple[str, str, str]:
    """Where a previous visit's value sits in the visit mapping the generated code reads
    (`history.Previous`): a tuple, which no record key (always a text) can equal."""
    return ("previous", kind, name)


#: `has_previous()`: True in the visit mapping when the visit has a previous one.
HAS_PREVIOUS = ("previous", "has", "")


# ---- operations ----------------------------------------------------------------------------


@attrs.frozen
class Neg(Bound):
    """`-x`."""

    op: ClassVar[str] = "neg"
    operand: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.operand,)


@attrs.frozen
class Arith(Bound):
    """`x + y`, `x - y`, `x * y`, `x / y`."""

    op: ClassVar[str] = "arith"
    operator: Literal["+", "-", "*", "/"]
    left: Bound
    right: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.left, self.right)

    @property
    def data(self) -> Any:
        return self.operator


@attrs.frozen
class Compare(Bound):
    """`x == y`, `!=`, `<`, `<=`, `>`, `>=`: a condition."""

    op: ClassVar[str] = "cmp"
    operator: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Bound
    right: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.left, self.right)

    @property
    def data(self) -> Any:
        return self.operator


@attrs.frozen
class And(Bound):
    """`x and y`: the right side is read only when the left does not decide."""

    op: ClassVar[str] = "and"
    left: Bound
    right: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.left, self.right)


@attrs.frozen
class Or(Bound):
    """`x or y`: the right side is read only when the left does not decide."""

    op: ClassVar[str] = "or"
    left: Bound
    right: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.left, self.right)


@attrs.frozen
class Not(Bound):
    """`not x`."""

    op: ClassVar[str] = "not"
    operand: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.operand,)


@attrs.frozen
class If(Bound):
    """`if c then a else b`: N/A as the condition takes `else`."""

    op: ClassVar[str] = "if"
    condition: Bound
    then: Bound
    otherwise: Bound

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.condition, self.then, self.otherwise)


@attrs.frozen
class Exact(Bound):
    """A sum, difference or product of decimals, rounded to the `places` its terms have
    (`exact`): the float nearest the decimal result, the same on every backend."""

    op: ClassVar[str] = "exact"
    operand: Bound
    places: int

    @property
    def args(self) -> tuple[Bound, ...]:
        return (self.operand,)

    @property
    def data(self) -> Any:
        return self.places


@attrs.frozen
class Call(Bound):
    """A call of a built-in function or a pack's.

    `fn` is the key of the built-in function's entry (`builtins.BuiltinTable`), or
    `plugin` for a pack's function, whose name is then the `payload`; a built-in's
    payload is what its entry binds beside the operands: a selection
    (`("items", SelectedItem…)` or `("sections", (name, weight)…)`), an item or
    coefficient name, the weights of `weighted_mean`'s terms, or None.
    """

    op: ClassVar[str] = "call"
    fn: str
    payload: Any = None
    operands: tuple[Bound, ...] = ()

    @property
    def args(self) -> tuple[Bound, ...]:
        return self.operands

    @property
    def data(self) -> Any:
        return (self.fn, self.payload)


__all__ = [
    "HAS_PREVIOUS",
    "Agg",
    "And",
    "AnswerRef",
    "Arith",
    "Bound",
    "Call",
    "CoefRef",
    "Compare",
    "Const",
    "Exact",
    "FieldRef",
    "If",
    "ItemRef",
    "ModeOf",
    "Neg",
    "Not",
    "Or",
    "PreviousOf",
    "Ref",
    "RollupRef",
    "SectionRef",
    "Type",
    "ValueRef",
    "Visits",
    "previous_key",
]
