"""Binding: syntax to the typed intermediate form, names resolved and types checked.

Every expression of the standard is bound here (`ir`): a name to the item,
section, coefficient or field it reads, a bare word beside a label to that label,
a call to its built-in function's type rule (`builtins`), with every mistake
reported where it was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, overload

from .. import nodes as n
from ..builtins import MANY, bind_value_call, critical_failed
from ..diagnostics import did_you_mean, lookalike_help
from ..field_types import FieldValueError, date_literal, datetime_literal, read_value
from ..ir import (
    And,
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Compare,
    Const,
    FieldRef,
    If,
    ItemRef,
    Neg,
    Not,
    Or,
    RollupRef,
    SectionRef,
    Type,
    ValueRef,
    Visits,
)
from ..messages import message
from ..model import BUILTIN_FIELDS, ExampleModel, ItemModel, RollupModel, SelectedItem
from ..runtime import label_key, number_of
from .declarations import Declarations


class _Context:
    """Where an expression stands: what it may refer to."""

    def __init__(self, kind: str, item: ItemModel | None = None, owner: str | None = None):
        self.kind = kind  # score, when, coefficient, rollup, term, expect
        self.item = item
        self.owner = owner

    def term(self) -> _Context:
        """The context of a per-visit term (`avg(…)`) inside this rollup formula."""
        return _Context("term", owner=self.owner)


class Binding(Declarations):
    """Binds expressions (`bind`) in a context (`_Context`): what they may refer to."""

    def _text(self, expr: Any) -> str | None:
        if expr is None:
            return None
        span = expr.span
        src = self.flat.sources.get(span.file)
        if src is None or span.end <= span.start:
            return None
        return " ".join(src[span.start : span.end].split())

    @overload
    def _bind_condition(self, expr: n.Expr, ctx: _Context) -> Bound: ...
    @overload
    def _bind_condition(self, expr: n.Expr | None, ctx: _Context) -> Bound | None: ...
    def _bind_condition(self, expr: n.Expr | None, ctx: _Context) -> Bound | None:
        if expr is None:
            return None
        bound = self.bind(expr, ctx)
        return self._expect_type(bound, "bool", expr, "condition")

    def _bind_num(self, expr: n.Argument, ctx: _Context) -> Bound:
        bound = self.bind(expr, ctx)
        return self._expect_type(bound, "num", expr)

    def _expect_type(self, bound: Bound, want: str, expr: Any, what: str | None = None) -> Bound:
        """`bound`, if of type `want`; else E0301 saying what was expected: `what` (a key of
        `_type_words`), or `want` itself. A constant of the wanted type stands in."""
        got = bound.type
        if got == want or got == "any":
            return bound
        if got == "labellit":
            self._unknown_name(expr)
            return Const(None, type=want, span=expr.span)  # type: ignore[arg-type]
        desc = _type_words(got)
        wanted = _type_words(what or want)
        pair = (want, got)
        if pair == ("bool", "num"):
            help_text = message("E0301.expected.num_for_bool")
        elif pair == ("num", "bool"):
            help_text = message("E0301.expected.bool_for_num")
        elif pair == ("num", "label"):
            help_text = message("E0301.expected.label_for_num")
        elif pair == ("label", "num"):
            help_text = message("E0301.expected.num_for_label")
        elif pair == ("num", "str"):
            help_text = message("E0301.expected.str_for_num")
        else:
            help_text = message("E0301.expected.help", wanted=wanted)
        self.d.error(
            "E0301",
            message("E0301.expected.message", wanted=wanted, found=desc),
            expr.span,
            label=message("E0301.expected.label", found=desc),
            help=help_text,
        )
        return Const(None, type=want, span=expr.span)  # type: ignore[arg-type]

    def _unknown_name(self, expr: Any) -> None:
        name = expr.name if isinstance(expr, n.Name) else str(expr)
        candidates = [
            k for k, d in self.decls.items() if d.kind in ("item", "section", "coefficient")
        ]
        hint = did_you_mean(name, [*candidates, "critical_failed"])
        if hint:
            help_text = lookalike_help(name, hint)
        elif name == "visit":
            help_text = message("E0201.unknown_name.visit")
        else:
            help_text = message("E0201.unknown_name.help")
        self.d.error(
            "E0201",
            message("E0201.unknown_name.message", name=name),
            expr.span,
            label=message("E0201.unknown_name.label", standard=self.flat.standard.name),
            help=help_text,
        )

    def bind(self, expr: Any, ctx: _Context) -> Bound:
        sp = expr.span
        match expr:
            case n.Number(value=v):
                return Const(v, type="num", span=sp)
            case n.String(value=v):
                return Const(v, type="str", span=sp)
            case n.Name(name=name):
                return self._bind_name(name, expr, ctx)
            case n.Attribute(owner=owner, name=name):
                return self._bind_attribute(owner, name, expr, ctx)
            case n.Negate(operand=operand):
                inner = self._bind_num(operand, ctx)
                return Neg(inner, type="num", span=sp)
            case n.Binary(op=op, left=left, right=right):
                return self._bind_binary(expr, ctx)
            case n.Compare():
                return self._bind_compare(expr, ctx)
            case n.BoolOp(op=op, left=left, right=right):
                lhs = self._bind_condition(left, ctx)
                rhs = self._bind_condition(right, ctx)
                return (And if op == "and" else Or)(lhs, rhs, type="bool", span=sp)
            case n.Not(operand=operand):
                inner = self._bind_condition(operand, ctx)
                return Not(inner, type="bool", span=sp)
            case n.If(condition=c, then=a, otherwise=b):
                cond = self._bind_condition(c, ctx)
                then = self.bind(a, ctx)
                other = self.bind(b, ctx)
                known = [t.type for t in (then, other) if t.type not in ("any", "labellit")]
                typ = known[0] if known else "any"
                if typ == "any" and "labellit" in (then.type, other.type):
                    typ = "num"  # a bare unknown name on both sides (or beside `na`)
                then = self._expect_type(then, typ, a)
                other = self._expect_type(other, typ, b)
                labels = then.labels or other.labels
                return If(cond, then, other, type=typ, labels=labels, span=sp)
            case n.Call():
                return self._bind_call(expr, ctx)
            case n.Selection():
                self.d.error(
                    "E0303",
                    message("E0303.selection.message"),
                    sp,
                    label=message("E0303.selection.label"),
                    help=message("E0303.selection.help"),
                )
                return Const(None, type="num", span=sp)
            case n.Weighted():
                self.d.error(
                    "E0306",
                    message("E0306.weighted_term.message"),
                    sp,
                    label=message("E0306.weighted_term.label"),
                    help=message("E0306.weighted_term.help"),
                )
                return Const(None, type="num", span=sp)
        raise AssertionError(f"unexpected node {expr!r}")

    def _bind_name(self, name: str, expr: n.Name, ctx: _Context) -> Bound:
        sp = expr.span
        if name == "value":
            if ctx.kind == "score" and ctx.item is not None:
                item = ctx.item
                typ = (
                    "num"  # a multi-select's value is its points P
                    if item.kind in ("number", "multi") or (item.scale and item.scale.numeric)
                    else ("label" if item.kind == "scale" else "str")
                )
                labels = item.scale.labels() if item.scale and item.kind == "scale" else None
                return ValueRef(item.name, type=typ, labels=labels, span=sp)  # type: ignore[arg-type]
            self.d.error(
                "E0305",
                message("E0305.value.message"),
                sp,
                label=message("E0305.value.label"),
                help=message("E0305.value.help"),
            )
            return Const(None, type="any", span=sp)
        if name == "na":  # the N/A literal: `if value > 60 then na else …`
            return Const(None, type="any", span=sp)
        if name == "critical_failed":
            self._not_in_rollup(expr, ctx)
            return critical_failed(self, self.items, sp)
        if ctx.kind == "expect" and name in self.rollup_names:  # over the example's visits
            node = self.decls[name].node
            if _is_mode(node):
                return RollupRef(
                    name, type="label", labels=_mode_labels(node, self.flat.bands), span=sp
                )
            return RollupRef(name, type="num", span=sp)
        if ctx.kind == "rollup":
            if name == "visits":
                return Visits(type="num", span=sp)
            if name in self.rollup_names:
                node = self.decls[name].node
                if _is_mode(node):  # a band label: `mode(band(c))`
                    labels = _mode_labels(node, self.flat.bands)
                    return RollupRef(name, type="label", labels=labels, span=sp)
                return RollupRef(name, type="num", span=sp)
        decl = self.decls.get(name)
        if decl is None:
            return Const(name, type="labellit", span=sp)
        if decl.kind == "constant":
            return Const(decl.node.value.value, type="num", span=sp)
        if ctx.kind == "rollup" and decl.kind in ("item", "section", "coefficient"):
            self.d.error(
                "E0306",
                message("E0306.per_visit_name.message", name=name),
                sp,
                label=message("E0306.per_visit.label"),
                help=message("E0306.per_visit_name.help", name=name),
            )
            return Const(None, type="num", span=sp)
        if decl.kind == "item":
            declared = self.items.get(name)
            if declared is None:
                return Const(None, type="num", span=sp)
            if not declared.scored:
                self.d.error(
                    "E0304",
                    message("E0304.unscored.message", item=name),
                    sp,
                    label=message("E0304.unscored.label"),
                    help=message("E0304.unscored.help", item=name),
                )
                return Const(None, type="num", span=sp)
            return ItemRef(name, type="num", span=sp)
        if decl.kind == "section":
            return SectionRef(name, type="num", span=sp)
        if decl.kind == "coefficient":
            if name in self._coefs_busy:  # a cycle, reported with the evaluation order
                return CoefRef(name, type="num", span=sp)
            formula = self._coefficient(name)
            kind: Type = (
                "str" if formula.type == "str" else "label" if formula.type == "label" else "num"
            )
            return CoefRef(name, type=kind, labels=formula.labels, span=sp)
        if decl.kind == "scale":
            text, label = message("E0301.not_value.scale", name=name), message("kind.a.scale")
        elif decl.kind == "field":
            text, label = message("E0301.not_value.field", name=name), message("kind.a.field")
        else:
            text, label = message("E0301.not_value.rollup", name=name), message("kind.a.rollup")
        self.d.error(
            "E0301",
            text,
            sp,
            label=label,
            help=message("E0301.not_value.help")
            + (message("E0301.not_value.in_rollups") if decl.kind == "rollup" else ""),
        )
        return Const(None, type="any", span=sp)

    def _not_in_rollup(self, expr: Any, ctx: _Context) -> None:
        if ctx.kind == "rollup":
            self.d.error(
                "E0306",
                message("E0306.per_visit.message"),
                expr.span,
                label=message("E0306.per_visit.label"),
                help=message("E0306.per_visit.help"),
            )

    def _bind_attribute(self, owner: str, name: str, expr: n.Attribute, ctx: _Context) -> Bound:
        sp = expr.span
        if owner != "visit":
            self.d.error(
                "E0201",
                message("E0201.unknown_name.message", name=f"{owner}.{name}"),
                sp,
                label=message("E0201.dotted.label"),
                help=message("E0201.dotted.help"),
            )
            return Const(None, type="any", span=sp)
        self._not_in_rollup(expr, ctx)
        field = self.fields.get(name)
        if field is None and name in BUILTIN_FIELDS:
            return FieldRef(BUILTIN_FIELDS[name], type="str", span=sp)
        if field is None:
            hint = did_you_mean(name, [*BUILTIN_FIELDS, *self.fields])
            self.d.error(
                "E0205",
                message("E0205.unknown_field.message", name=name),
                sp,
                label=message("E0205.unknown_field.label"),
                help=message("hint.did_you_mean", name=f"visit.{hint}")
                if hint
                else message("E0205.unknown_field.declare", name=name),
            )
            return Const(None, type="any", span=sp)
        labels = frozenset(field.values) if field.values else None
        return FieldRef(field.key, type=field.value_type, labels=labels, span=sp)

    def _bind_binary(self, expr: n.Binary, ctx: _Context) -> Bound:
        """Arithmetic on numbers; `A - B` of two dates is days, of two datetimes minutes
        (`minutes_between(B, A)`: N/A for one with a UTC offset and one without)."""
        sp = expr.span
        lhs = self.bind(expr.left, ctx)
        rhs = self.bind(expr.right, ctx)
        if expr.op == "-":  # `visit.date - "2026-03-01"`: the text is a date (E0509)
            lhs, rhs = self._moment_literal(lhs, rhs), self._moment_literal(rhs, lhs)
        moments = {lhs.type, rhs.type} & {"date", "datetime"}
        if expr.op == "-" and moments and lhs.type == rhs.type:
            if lhs.type == "date":
                return Arith("-", lhs, rhs, type="num", span=sp)
            return Call("minutes_between", None, (rhs, lhs), type="num", span=sp)
        if moments and expr.op == "-" and {lhs.type, rhs.type} <= {"date", "datetime", "any"}:
            if "any" not in (lhs.type, rhs.type):
                self._dates_mismatch(expr, lhs, rhs)
            return Const(None, type="num", span=sp)
        lhs = self._expect_type(lhs, "num", expr.left)
        rhs = self._expect_type(rhs, "num", expr.right)
        return Arith(expr.op, lhs, rhs, type="num", span=sp)

    def _dates_mismatch(self, expr: Any, lhs: Bound, rhs: Bound) -> None:
        self.d.error(
            "E0301",
            message(
                "E0301.dates.mixed_message", left=_type_words(lhs.type), right=_type_words(rhs.type)
            ),
            expr.span,
            label=message("E0301.dates.mixed_label"),
            help=message("E0301.dates.mixed_help"),
        )

    def _moment_literal(self, side: Bound, other: Bound) -> Bound:
        """A text compared with a date or a datetime: the date it names, checked now (E0509)."""
        if (
            other.type not in ("date", "datetime")
            or side.type != "str"
            or not isinstance(side, Const)
        ):
            return side
        text = str(side.value)
        value = date_literal(text) if other.type == "date" else datetime_literal(text)
        if value is None:
            self.d.error(
                "E0509",
                message("E0509.literal.message", text=text, type=_type_words(other.type)),
                side.span,
                label=message("E0509.literal.label", type=_type_words(other.type)),
                help=message("E0509.literal.date_help")
                if other.type == "date"
                else message("E0509.literal.datetime_help"),
            )
            return Const(None, type="any", span=side.span)
        return Const(value, type=other.type, span=side.span)

    def _bind_compare(self, expr: n.Compare, ctx: _Context) -> Bound:
        sp = expr.span
        for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(side, n.Name) and side.name == "na":
                self.d.error(
                    "E0301",
                    message("E0301.compare_na.message"),
                    sp,
                    label=message("E0301.compare_na.label"),
                    help=message("E0301.compare_na.help", expr=self._text(other) or "x"),
                )
                return Const(None, type="bool", span=sp)
        lhs = self.bind(expr.left, ctx)
        rhs = self.bind(expr.right, ctx)
        lhs, rhs = self._moment_literal(lhs, rhs), self._moment_literal(rhs, lhs)
        lhs, rhs = (
            self._resolve_literal(lhs, rhs, expr.right),
            self._resolve_literal(rhs, lhs, expr.left),
        )
        # _resolve_literal(a, other): turns `a` into a literal of `other`'s type when it can.
        lt, rt = lhs.type, rhs.type
        if lt == "any" or rt == "any":
            return Compare(expr.op, lhs, rhs, type="bool", span=sp)
        if lt == rt == "datetime":  # A op B as (A - B) op 0: N/A when the offsets differ
            minutes = Call("minutes_between", None, (rhs, lhs), type="num", span=sp)
            return Compare(expr.op, minutes, Const(0.0, type="num", span=sp), type="bool", span=sp)
        if lt == rt == "date":
            return Compare(expr.op, lhs, rhs, type="bool", span=sp)
        kinds = {lt, rt}
        if kinds <= {"num"} or kinds <= {"bool"} or kinds <= {"str"} or kinds == {"label"}:
            if "bool" in kinds and expr.op not in ("==", "!="):
                self.d.error(
                    "E0301",
                    message("E0301.order_conditions.message", op=expr.op),
                    sp,
                    label=message("E0301.order_conditions.label"),
                    help=message("E0301.order_conditions.help"),
                )
            if "label" in kinds and expr.op not in ("==", "!="):
                self.d.error(
                    "E0301",
                    message("E0301.order_labels.message", op=expr.op),
                    sp,
                    label=message("E0301.order_labels.label"),
                    help=message("E0301.order_labels.help"),
                )
            return Compare(expr.op, lhs, rhs, type="bool", span=sp)
        self.d.error(
            "E0301",
            message("E0301.compare.message", left=_type_words(lt), right=_type_words(rt)),
            sp,
            label=message("E0301.compare.label"),
            help=_compare_help(lhs, rhs),
        )
        return Compare(expr.op, lhs, rhs, type="bool", span=sp)

    def _resolve_literal(self, side: Bound, other: Bound, other_expr: Any) -> Bound:
        """A bare name or a literal on one side of a comparison, read in the other's terms."""
        if (
            other.type in ("label", "str")
            and side.type in ("labellit", "str", "num")
            and isinstance(side, Const)
        ):
            value = side.value
            if other.labels is not None:
                match = _match_label(value, other.labels) or self._match_alias(value, other)
                if match is None:
                    shown = "`" + "`, `".join(sorted(other.labels)) + "`"
                    hint = did_you_mean(str(value), other.labels)
                    self.d.error(
                        "E0207",
                        message("E0207.unknown_label.message", label=value),
                        side.span,
                        label=message("E0207.unknown_label.label"),
                        help=message("hint.did_you_mean", name=hint)
                        if hint
                        else message("E0207.unknown_label.help", labels=shown),
                    )
                    return Const(str(value), type=other.type, span=side.span)
                return Const(match, type=other.type, labels=other.labels, span=side.span)
            if side.type == "labellit" or other.type == "str":
                return Const(_plain(value), type=other.type, span=side.span)
        if side.type == "labellit":
            if other.type != "any":  # `any` comes from an error already reported
                self._unknown_name(n.Name(str(side.data), span=side.span))
            return Const(None, type="any", span=side.span)
        return side

    def _match_alias(self, value: Any, other: Bound) -> str | None:
        """The canonical label an alias stands for, when `other` reads an item's answer."""
        item = self.items.get(other.name) if isinstance(other, AnswerRef | ValueRef) else None
        if item is None or item.scale is None:
            return None
        key = label_key(_plain(value))
        for entry in item.scale.entries:
            if any(label_key(a) == key for a in entry.aliases):
                return entry.label
        return None

    def _bind_call(self, expr: n.Call, ctx: _Context) -> Bound:
        """A call of a built-in function (the table's type rule) or of a pack's."""
        sp = expr.span
        fn = expr.function
        args = expr.args
        self._decimal_commas(expr)

        def arity(lo: int, hi: int) -> bool:
            if not lo <= len(args) <= hi:
                if lo == hi:
                    text = message("E0302.arity.exactly", fn=fn, n=lo, got=len(args))
                elif hi == MANY:
                    text = message("E0302.arity.at_least", fn=fn, n=lo, got=len(args))
                else:
                    text = message("E0302.arity.between", fn=fn, lo=lo, hi=hi, got=len(args))
                self.d.error(
                    "E0302",
                    text,
                    sp,
                    label=message("E0302.arity.label"),
                    help=message("E0302.arity.help", fn=fn),
                )
                return False
            return True

        entry = self.builtins.get(fn)
        if entry is not None:
            if entry.context == "rollup" and ctx.kind != "rollup":
                self.d.error(
                    "E0306",
                    message("E0306.group_function.message", fn=fn),
                    sp,
                    label=message("E0306.group_function.label"),
                    help=message("E0306.group_function.help"),
                )
                return Const(None, type="num", span=sp)
            if entry.context == "visit":
                self._not_in_rollup(expr, ctx)
            if not arity(entry.min_args, entry.max_args):
                return Const(None, type=entry.fails_as, span=sp)
            return entry.bind(self, expr, ctx)
        spec = self.functions.get(fn)
        if spec is not None:
            if not arity(len(spec.params), len(spec.params)):
                return Const(None, type="num", span=sp)
            return bind_value_call(self, expr, ctx, spec, "plugin", fn)
        hint = did_you_mean(fn, [*self.builtins.names(), *self.functions.names()])
        self.d.error(
            "E0206",
            message("E0206.unknown_function.message", fn=fn),
            expr.name_span,
            label=message("E0206.unknown_function.label"),
            help=message("hint.did_you_mean", name=hint)
            if hint
            else message("E0206.unknown_function.help"),
        )
        return Const(None, type="num", span=sp)

    def _coefficient(self, name: str) -> Bound:
        """A coefficient's formula, bound once, when first needed: a formula that reads
        it must know whether it is a number or a label (a text), wherever it is
        declared. A condition is neither (E0301)."""
        bound = self._bound_coefs.get(name)
        if bound is not None:
            return bound
        node: n.Coefficient = self.decls[name].node
        self._coefs_busy.add(name)
        bound = self.bind(node.expr, _Context("coefficient", owner=name))
        if bound.type not in ("str", "label"):
            bound = self._expect_type(bound, "num", node.expr)
        self._coefs_busy.discard(name)
        self._bound_coefs[name] = bound
        return bound

    def _band_conditions(self, coef: str) -> tuple[Bound | None, ...]:
        """The `when` conditions of a coefficient's bands, beside its bands (None where a
        band has none; empty when none has one), bound once: `band(c)` reads them."""
        if coef in self._band_whens:
            return self._band_whens[coef]
        node = self.flat.bands.get(coef)
        if node is None or all(b.when is None for b in node.bands):
            return ()
        if coef in self._band_whens_busy:
            self.d.error(
                "E0401",
                message("E0401.cycle.formulas", chain=f"band({coef}) -> band({coef})"),
                node.name_span,
                label=message("E0401.cycle.label"),
                help=message("E0401.cycle.help"),
            )
            return ()
        self._band_whens_busy.add(coef)
        conditions = tuple(
            None if b.when is None else self._bind_condition(b.when, _Context("when", owner=coef))
            for b in node.bands
        )
        self._band_whens_busy.discard(coef)
        self._band_whens[coef] = conditions
        return conditions

    def _name_arg(self, arg: Any, kind: str) -> str | None:
        if isinstance(arg, n.Name) and arg.name in self.decls and self.decls[arg.name].kind == kind:
            return arg.name
        item = kind == "item"  # or "coefficient"
        if isinstance(arg, n.Name):
            candidates = [k for k, d in self.decls.items() if d.kind == kind]
            hint = did_you_mean(arg.name, candidates)
            self.d.error(
                "E0209" if item else "E0208",
                message("E0209.unknown_item.message", name=arg.name)
                if item
                else message("E0208.unknown_coefficient.message", name=arg.name),
                arg.span,
                label=message("E0209.name_arg.not_item")
                if item
                else message("E0208.name_arg.not_coefficient"),
                help=lookalike_help(arg.name, hint)
                if hint
                else message("E0209.name_arg.needs_item")
                if item
                else message("E0208.name_arg.needs_coefficient"),
            )
            return None
        self.d.error(
            "E0301",
            message("E0301.name_arg.item") if item else message("E0301.name_arg.coefficient"),
            arg.span,
            label=message("E0301.name_arg.item_label")
            if item
            else message("E0301.name_arg.coefficient_label"),
            help=message("E0301.name_arg.item_help")
            if item
            else message("E0301.name_arg.coefficient_help"),
        )
        return None

    def _item_arg(self, arg: Any, fn: str, scored: bool = False) -> ItemModel | None:
        name = self._name_arg(arg, "item")
        if name is None:
            return None
        item = self.items.get(name)
        if item is not None and scored and not item.scored:
            self.d.error(
                "E0304",
                message("E0304.needs_scored.message", fn=fn, item=name),
                arg.span,
                label=message("E0304.unscored.label"),
                help=message("E0304.needs_scored.help"),
            )
            return None
        return item

    def _selection(self, args: Iterable[n.Selection], fn: str) -> tuple[str, tuple[Any, ...]]:
        """Expand selections to the scored items (or sections) they stand for, once, in order."""
        args = list(args)
        if any(a.kind == "sections" for a in args):
            if len(args) > 1:
                self.d.error(
                    "E0301",
                    message("E0301.sections_alone.message"),
                    args[1].span,
                    label=message("E0301.sections_alone.label"),
                    help=message("E0301.sections_alone.help"),
                )
            secs = tuple((s.name, s.weight) for s in self.sections.values() if s.weight > 0)
            return ("sections", secs)
        chosen: dict[str, SelectedItem] = {}
        for a in args:
            if a.kind == "items":
                names = list(self.items)
            elif a.kind == "tagged":
                names = [k for k, i in self.items.items() if a.name in i.tags]
                self.used_tags.add(a.name or "")
                if a.name not in self.tags:
                    hint = did_you_mean(a.name or "", self.tags)
                    self.d.error(
                        "E0203",
                        message("E0203.unknown_tag.message", tag=a.name),
                        a.span,
                        label=message("E0203.unknown_tag.label"),
                        help=message("hint.did_you_mean", name=hint)
                        if hint
                        else message("E0203.unknown_tag.help"),
                    )
            else:
                if a.name not in self.sections:
                    hint = did_you_mean(a.name or "", self.sections)
                    self.d.error(
                        "E0204",
                        message("E0204.unknown_section.message", section=a.name),
                        a.span,
                        label=message("E0204.unknown_section.label"),
                        help=message("hint.did_you_mean", name=hint)
                        if hint
                        else message("E0204.unknown_section.help"),
                    )
                names = [k for k, i in self.items.items() if i.section == a.name]
            for name in names:
                item = self.items[name]
                if item.scored:
                    chosen.setdefault(name, SelectedItem(name, item.weight, item.bonus))
        ordered = tuple(chosen[k] for k in self.items if k in chosen)
        return ("items", ordered)

    def _rollup(self, node: n.Rollup) -> RollupModel | None:
        self._terms = []
        ctx = _Context("rollup", owner=node.name)
        # a number, or a band label when the formula is `mode(band(c))`
        expr = self.bind(node.expr, ctx) if _is_mode(node) else self._bind_num(node.expr, ctx)
        return RollupModel(
            node.name,
            node.title,
            expr,
            tuple(self._terms),
            self._text(node.expr) or "",
            span=node.name_span,
        )

    def _example(self, node: n.Example) -> ExampleModel | None:
        expects = []
        for e in node.expects:
            bound = self.bind(e, _Context("expect"))
            bound = self._expect_type(bound, "bool", e, "expectation")
            expects.append((bound, self._text(e) or ""))
        visit, answers = self._example_visit(node.name, node.visit, node.answers)
        earlier = tuple(self._example_visit(node.name, v.visit, v.answers) for v in node.earlier)
        if node.earlier:
            self._example_chain(node)
        return ExampleModel(
            node.name, visit, answers, tuple(expects), span=node.span, earlier=earlier
        )

    def _example_chain(self, node: n.Example) -> None:
        """E0804 for an example of several visits that scoring would not chain in the
        order written: the visits must be of one point (not an empty one) and their
        dates, if given, in order (each visit's previous one is the one written
        before it, as `score_in_order` would find it)."""
        # the last visit's place: its first answer (the example's own span holds all)
        last = node.answers[0].span if node.answers else node.span
        blocks = [*((v.visit, v.span) for v in node.earlier), (node.visit, last)]
        first_point: Any = None
        last_date = ""
        for k, (assignments, span) in enumerate(blocks):
            given = {a.name: a for a in assignments}
            point, date = given.get("point"), given.get("date")
            if point is not None:
                text = point.value.value  # as written: the text scoring compares
                if not text.strip():
                    self._chain_error(point.span, message("E0804.visits.point_empty"))
                    return
            else:
                text = None  # the example's own point
            if k == 0:
                first_point = text
            elif text != first_point:
                where = point.span if point is not None else span
                self._chain_error(where, message("E0804.visits.point_differs", visit=k + 1))
                return
            when = "" if date is None else date.value.value
            if when < last_date:
                where = date.span if date is not None else span
                self._chain_error(
                    where, message("E0804.visits.date_before", visit=k + 1, date=last_date)
                )
                return
            last_date = when

    def _chain_error(self, span: n.Span, text: str) -> None:
        self.d.error(
            "E0804",
            text,
            span,
            label=message("E0804.visits.label"),
            help=message("E0804.visits.help"),
        )

    def _example_visit(
        self, example: str, assignments: tuple[n.Assignment, ...], given: tuple[n.Assignment, ...]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """One visit of an example: its visit fields and its answers, checked."""
        visit = {}
        for a in assignments:
            key = BUILTIN_FIELDS.get(a.name, a.name)
            if a.name not in BUILTIN_FIELDS and a.name not in self.fields:
                hint = did_you_mean(a.name, [*BUILTIN_FIELDS, *self.fields])
                self.d.error(
                    "E0205",
                    message("E0205.unknown_field.message", name=a.name),
                    a.span,
                    label=message("E0205.unknown_field.label"),
                    help=message("hint.did_you_mean", name=hint)
                    if hint
                    else message("E0205.unknown_field.help"),
                )
            visit[key] = _label_value(a.value)
            field = self.fields.get(a.name)
            if field is not None and field.type != "text":
                try:
                    read_value(field, visit[key])
                except FieldValueError as exc:
                    self.d.error(
                        "E0509",
                        message("E0509.example.message", field=a.name, value=a.value.value),
                        a.value.span,
                        label=message("E0509.example.label"),
                        help=str(exc),
                    )
        answers = {}
        item_names = [k for k, d in self.decls.items() if d.kind == "item"]
        for a in given:
            if a.name not in item_names:
                hint = did_you_mean(a.name, item_names)
                self.d.error(
                    "E0209",
                    message("E0209.example_answer.message", item=a.name, example=example),
                    a.span,
                    label=message("E0209.name_arg.not_item"),
                    help=message("hint.did_you_mean", name=hint)
                    if hint
                    else message("E0209.example_answer.help"),
                )
            elif a.name in answers:
                self.d.error(
                    "E0101",
                    message("E0101.answered_twice.message", item=a.name, example=example),
                    a.span,
                    label=message("E0101.answered_twice.label"),
                    help=message("hint.remove_one"),
                )
            answers[a.name] = _label_value(a.value)
        return visit, answers

    def _decimal_commas(self, call: n.Call) -> None:
        """W0705 for `0,9` among a call's arguments: two numbers with a comma and no
        space between read as two arguments, where a Russian writer meant 0.9."""
        for before, after in zip(call.args, call.args[1:], strict=False):
            last = _last_number(before)
            if (
                last is not None
                and isinstance(after, n.Number)
                and "." not in last.text
                and "." not in after.text
                and after.span.start == last.span.end + 1
                and last.span.end == before.span.end
            ):
                both = n.Span(
                    last.span.file,
                    last.span.line,
                    last.span.column,
                    after.span.end_line,
                    after.span.end_column,
                    last.span.start,
                    after.span.end,
                )
                self.d.warn(
                    "W0705",
                    message("W0705.decimal_comma.message", left=last.text, right=after.text),
                    both,
                    label=message("W0705.decimal_comma.label"),
                    help=message("W0705.decimal_comma.help", left=last.text, right=after.text),
                )


def _last_number(arg: n.Argument) -> n.Number | None:
    """The number literal an argument ends with (`0`, `-0`, `x: 0`), if any."""
    expr = arg.weight if isinstance(arg, n.Weighted) else arg
    if isinstance(expr, n.Negate):
        expr = expr.operand
    return expr if isinstance(expr, n.Number) else None


def _type_words(t: str) -> str:
    """A type of value as the language's reader names it: "a number", "an answer label"
    (`condition` and `expectation`: a condition, saying what it is for)."""
    return {
        "condition": lambda: message("E0301.type.condition_true_false"),
        "expectation": lambda: message("E0301.type.expectation"),
        "num": lambda: message("E0301.type.num"),
        "bool": lambda: message("E0301.type.bool"),
        "str": lambda: message("E0301.type.str"),
        "label": lambda: message("E0301.type.label"),
        "sel": lambda: message("E0301.type.sel"),
        "labellit": lambda: message("E0301.type.name"),
        "any": lambda: message("E0301.type.any"),
        "date": lambda: message("E0301.dates.type_date"),
        "datetime": lambda: message("E0301.dates.type_datetime"),
    }[t]()


def _compare_help(lhs: Bound, rhs: Bound) -> str:
    """What to change in a comparison of mismatched sides, pointing at the side to fix."""
    a, b = lhs.type, rhs.type
    if {a, b} == {"num", "label"}:
        return message("E0301.compare.num_label")
    if {a, b} == {"num", "str"}:
        text = lhs if a == "str" else rhs
        if isinstance(text, Const) and number_of(text.value) is not None:
            return message("E0301.compare.quoted_number", text=text.value)
        return message("E0301.compare.num_str")
    return message("E0301.compare.help")


def _match_label(value: Any, labels: frozenset[str]) -> str | None:
    key = label_key(str(value) if not isinstance(value, float) else _plain(value))
    for label in labels:
        if label_key(label) == key:
            return label
    num = number_of(value)
    if num is not None:
        for label in labels:
            if number_of(label) == num:
                return label
    return None


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _label_value(label: n.Label) -> Any:
    if label.kind == "number":
        f = float(label.value)
        return int(f) if f.is_integer() and "." not in label.value else f
    return label.value


def _is_mode(node: Any) -> bool:
    """Whether a rollup's formula is a `mode(…)`, whose value is a label, not a number."""
    expr = getattr(node, "expr", None)
    return isinstance(expr, n.Call) and expr.function == "mode"


def _mode_labels(node: Any, bands: Any) -> frozenset[str] | None:
    """The labels a `mode(band(c))` rollup may take: c's bands (None if unknown)."""
    args = node.expr.args
    if len(args) > 1:  # `mode(X, "L1", …)`: the labels listed
        listed = args[1:]
        return frozenset(
            a.value if isinstance(a, n.String) else getattr(a, "name", "") for a in listed
        )
    arg = args[0] if len(args) == 1 else None
    if not (isinstance(arg, n.Call) and len(arg.args) == 1 and isinstance(arg.args[0], n.Name)):
        return None
    found = bands.get(arg.args[0].name)
    return None if found is None else frozenset(b.label for b in found.bands)
