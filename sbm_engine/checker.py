"""The checker: every rule of the language that can be decided before any visit.

It turns a `Flat` namespace into a `StandardModel`: names resolved (with "did you
mean" for near misses), types checked (a label where a number is needed, a
selection where a value is), weights, scale scores and bands validated, formula
cycles found, and every finding reported as a `Diagnostic` — all of them, not
just the first.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

import attrs

from . import nodes as n
from .diagnostics import (
    CompileError,
    Diagnostics,
    declaration_kind,
    did_you_mean,
    lookalike_help,
    mixed_scripts,
)
from .functions import FunctionRegistry, default_registry
from .loader import Decl, Flat
from .messages import message
from .model import (
    BUILTIN_FIELDS,
    BandsModel,
    Bound,
    CoefficientModel,
    ExampleModel,
    FieldModel,
    ItemModel,
    RollupModel,
    RollupTerm,
    ScaleEntryModel,
    ScaleModel,
    SectionModel,
    SelectedItem,
    StandardModel,
)
from .runtime import label_key, number_of

if TYPE_CHECKING:
    pass

#: Names with a meaning of their own in formulas; they cannot be declared.
RESERVED = frozenset({"value", "critical_failed", "visits", "na"})

NUM_ONLY_FUNCS = {"clamp"}
SELECTION_FUNCS = {"count", "earned", "possible", "lost", "critical_failed"}
AGGREGATE_FUNCS = {"mean", "min", "max", "sum"}
ROLLUP_FUNCS = {"avg": "num", "share": "bool", "total": "num"}


class _Context:
    """Where an expression stands: what it may refer to."""

    def __init__(self, kind: str, item: ItemModel | None = None, owner: str | None = None):
        self.kind = kind  # score, when, coefficient, rollup, term, expect
        self.item = item
        self.owner = owner


class Checker:
    def __init__(self, flat: Flat, functions: FunctionRegistry | None = None) -> None:
        self.flat = flat
        self.functions = functions or default_registry()
        self.d = Diagnostics(flat.diagnostics)
        self.decls = flat.decls
        self.scales: dict[str, ScaleModel] = {}
        self.fields: dict[str, FieldModel] = {}
        self.items: dict[str, ItemModel] = {}
        self.sections: dict[str, SectionModel] = {}
        self.tags: set[str] = set()
        self.used_scales: set[str] = set()
        self.used_tags: set[str] = set()
        self.rollup_names = {k for k, d in self.decls.items() if d.kind == "rollup"}

    # -- entry point -----------------------------------------------------------------------

    def check(self) -> StandardModel:
        flat = self.flat
        for name, decl in self.decls.items():
            self._check_name(name, decl)
        for name, decl in self.decls.items():
            if decl.kind == "scale":
                self.scales[name] = self._scale(name, decl.node.entries, decl.node.span)
            elif decl.kind == "field":
                self.fields[name] = self._field(decl.node)
        for decl in self.decls.values():
            if decl.kind == "item":
                self.tags.update(decl.node.tags)
        # Items first without formulas (their shape), then with formulas bound.
        shapes = {
            name: self._item_shape(decl) for name, decl in self.decls.items() if decl.kind == "item"
        }
        self.items = {k: v for k, v in shapes.items() if v is not None}
        section_when: dict[str, Bound | None] = {}
        for name, decl in self.decls.items():
            if decl.kind == "section":
                sec = decl.node
                weight = self._weight(sec.weight, "section", name, allow_zero=True)
                when = self._bind_condition(sec.when, _Context("when", owner=name))
                section_when[name] = when
                members = tuple(
                    k for k, d in self.decls.items() if d.kind == "item" and d.section == name
                )
                self.sections[name] = SectionModel(
                    name,
                    sec.title,
                    weight,
                    when,
                    members,
                    span=sec.name_span,
                    when_text=self._text(sec.when),
                )
        for name, item in list(self.items.items()):
            decl = self.decls[name]
            node: n.Item = decl.node
            ctx_when = _Context("when", item=item, owner=name)
            when = self._bind_condition(node.when, ctx_when)
            score = None
            if node.score is not None and item.kind != "text":  # text: E0104 already
                score = self._bind_num(node.score, _Context("score", item=item, owner=name))
                self._range_warning(node.score, score, item)
            self.items[name] = attrs.evolve(
                item,
                when=when,
                section_when=section_when.get(decl.section) if decl.section else None,
                score=score,
                when_text=self._text(node.when),
                score_text=self._text(node.score),
            )
        coefficients = []
        for name, decl in self.decls.items():
            if decl.kind == "coefficient":
                expr = self._bind_num(decl.node.expr, _Context("coefficient", owner=name))
                coefficients.append(
                    CoefficientModel(
                        name,
                        decl.node.title,
                        expr,
                        self._text(decl.node.expr) or "",
                        span=decl.node.name_span,
                    )
                )
        coef_names = {c.name for c in coefficients}
        rollups = [self._rollup(d.node) for d in self.decls.values() if d.kind == "rollup"]
        self._rollup_cycles([r for r in rollups if r is not None])
        targets = {}
        for coef, t in flat.targets.items():
            if self._known_coefficient(coef, t.name_span, coef_names):
                targets[coef] = t.value.value
        bands = {}
        for coef, b in flat.bands.items():
            if self._known_coefficient(coef, b.name_span, coef_names):
                bands[coef] = self._bands(b)
        self.band_labels = {c: frozenset(lbl for lbl, _ in b.bands) for c, b in bands.items()}
        self._targets_in_range(flat, coefficients, targets, bands)
        examples = [self._example(e) for e in flat.examples]
        order = self._order(coefficients)
        self._unused_scales()
        self._unused_tags()
        items = tuple(self.items[k] for k in self.decls if k in self.items)
        model = StandardModel(
            name=flat.standard.name,
            title=flat.title,
            version=flat.version,
            industry=flat.industry,
            file=flat.file,
            scales=self.scales,
            fields=self.fields,
            items=items,
            sections=tuple(self.sections.values()),
            coefficients=tuple(coefficients),
            order=order,
            rollups=tuple(r for r in rollups if r is not None),
            targets=targets,
            bands=bands,
            examples=tuple(e for e in examples if e is not None),
            sources=flat.sources,
        )
        return model

    # -- declarations ----------------------------------------------------------------------

    def _check_name(self, name: str, decl: Decl) -> None:
        odd = mixed_scripts(name)
        if odd and decl.node.name_span.file == self.flat.file:
            self.d.warn(
                "W0706",
                message("W0706.mixed.message", name=name, letters=odd),
                decl.node.name_span,
                label=message("W0706.mixed.label"),
                help=message("W0706.mixed.help"),
            )
        if name in RESERVED:
            self.d.error(
                "E0103",
                message("E0103.reserved_name.message", name=name, kind=declaration_kind(decl.kind)),
                decl.node.name_span,
                label=message("E0103.reserved_name.label"),
                help=message("E0103.reserved.help", name=name),
            )

    def _scale(self, name: str, entries: tuple[n.ScaleEntry, ...], span: n.Span) -> ScaleModel:
        seen: dict[str, n.Span] = {}
        out = []
        for entry in entries:
            score = entry.score.value
            if not 0.0 <= score <= 1.0:
                self.d.error(
                    "E0502",
                    message("E0502.score.message", score=entry.score.text, label=entry.label.value),
                    entry.score.span,
                    label=message("E0502.score.label"),
                    help=message("E0502.score.help"),
                )
            for label in (entry.label, *entry.aliases):
                key = label_key(label.value)
                if key in seen:
                    self.d.error(
                        "E0505",
                        message("E0505.scale_label.message", label=label.value),
                        label.span,
                        label=message("E0505.scale_label.label"),
                        notes=(message("E0505.scale_label.note", where=seen[key]),),
                        help=message("E0505.scale_label.help"),
                    )
                seen.setdefault(key, label.span)
            numeric = number_of(entry.label.value) if entry.label.kind == "number" else None
            out.append(
                ScaleEntryModel(
                    entry.label.value, score, tuple(a.value for a in entry.aliases), numeric
                )
            )
        if not entries:
            self.d.error(
                "E0504",
                message("E0504.empty_scale.message"),
                span,
                label=message("E0504.empty_scale.label"),
            )
        return ScaleModel(name, tuple(out), span=span)

    def _field(self, node: n.Field) -> FieldModel:
        values = tuple(v.value for v in node.values) if node.values is not None else None
        if node.name in BUILTIN_FIELDS:
            self.d.error(
                "E0101",
                message("E0101.builtin_field.message", name=node.name),
                node.name_span,
                label=message("E0101.builtin_field.label"),
                help=message("E0101.builtin_field.help", names=", ".join(BUILTIN_FIELDS)),
            )
        seen: dict[str, n.Span] = {}
        for label in node.values or ():
            key = label_key(label.value)
            if key in seen:
                self.d.error(
                    "E0505",
                    message("E0505.field_value.message", value=label.value, field=node.name),
                    label.span,
                    label=message("E0505.field_value.label"),
                    notes=(message("E0505.field_value.note", where=seen[key]),),
                    help=message("E0505.field_value.help"),
                )
            seen.setdefault(key, label.span)
        if node.values is not None and not node.values:
            self.d.error(
                "E0504",
                message("E0504.empty_field.message", field=node.name),
                node.name_span,
                label=message("E0504.empty_field.label"),
                help=message("E0504.empty_field.help"),
            )
        return FieldModel(node.name, node.title, values, span=node.name_span)

    def _weight(
        self, number: n.Number | None, kind: str, name: str = "", allow_zero: bool = False
    ) -> float:
        """The weight written, 1 if none; E0501 unless it is positive. `kind` is whose
        weight it is: an `item` or a `section` called `name`, or a `term` of a mean."""
        if number is None:
            return 1.0
        w = number.value
        if w < 0 or (w == 0 and not allow_zero) or not math.isfinite(w):
            self.d.error(
                "E0501",
                message("E0501.weight.message", weight=number.text, owner=_weight_owner(kind, name))
                + (message("E0501.weight.zero_for_sections") if allow_zero else ""),
                number.span,
                label=message("E0501.weight.label"),
                help=message("E0501.weight.help"),
            )
        return w

    def _item_shape(self, decl: Decl) -> ItemModel | None:
        node: n.Item = decl.node
        scale = None
        low = high = None
        kind: Any
        answer = node.answer
        weight = self._weight(node.weight, "item", node.name)
        if isinstance(answer, n.ScaleAnswer):
            kind = "scale"
            scale = self.scales.get(answer.scale)
            if scale is None:
                scale_names = [k for k, d in self.decls.items() if d.kind == "scale"]
                if answer.scale in scale_names:
                    scale = self._scale(
                        answer.scale,
                        self.decls[answer.scale].node.entries,
                        self.decls[answer.scale].node.span,
                    )
                else:
                    hint = did_you_mean(answer.scale, scale_names)
                    self.d.error(
                        "E0202",
                        message("E0202.unknown_scale.message", scale=answer.scale),
                        answer.span,
                        label=message("E0202.unknown_scale.label"),
                        help=message("hint.did_you_mean", name=hint)
                        if hint
                        else message("E0202.unknown_scale.help"),
                    )
                    return None
            self.used_scales.add(answer.scale)
        elif isinstance(answer, n.InlineScaleAnswer):
            kind = "scale"
            scale = self._scale(f"{node.name}:scale", answer.entries, answer.span)
        elif isinstance(answer, n.NumberAnswer):
            kind = "number"
            if answer.low is not None and answer.high is not None:
                low, high = answer.low.value, answer.high.value
                if not low < high:
                    self.d.error(
                        "E0504",
                        message("E0504.range.message", low=answer.low.text, high=answer.high.text),
                        answer.span,
                        label=message("E0504.range.label"),
                        help=message("E0504.range.swap", low=answer.low.text, high=answer.high.text)
                        if low > high
                        else message("E0504.range.widen"),
                    )
                    high = low + 1
        else:
            kind = "text"
        self._unscored_options(node, kind, low is not None)
        return ItemModel(
            name=node.name,
            question=node.question,
            kind=kind,
            scale=scale,
            low=low,
            high=high,
            weight=weight,
            tags=node.tags,
            presence=node.presence,
            critical=node.critical,
            bonus=node.bonus,
            section=decl.section,
            when=None,
            section_when=None,
            # A placeholder until formulas are bound: whether the item is scored must be
            # known before any formula that reads it is bound, wherever it is declared.
            score=_PENDING if node.score is not None else None,
            span=node.name_span,
        )

    def _unscored_options(self, node: n.Item, kind: str, ranged: bool) -> None:
        """Options that only mean something for a scored item, given to one never scored."""
        if kind == "text" and node.score is not None:
            self.d.error(
                "E0104",
                message("E0104.text_score.message", item=node.name),
                node.score.span,
                label=message("E0104.text_score.label"),
                help=message("E0104.text_score.help"),
            )
        if kind == "scale" or (kind == "number" and (ranged or node.score is not None)):
            return
        for option, present, span in (
            ("critical", node.critical, node.name_span),
            ("bonus", node.bonus, node.name_span),
            (
                "weight",
                node.weight is not None,
                node.weight.span if node.weight else node.name_span,
            ),
        ):
            if present and kind == "text":
                self.d.error(
                    "E0104",
                    message("E0104.unscored_text.message", item=node.name, option=option),
                    span,
                    label=message("E0104.unscored.label"),
                    help=message("E0104.unscored_text.help", option=option),
                )
            elif present:
                self.d.error(
                    "E0104",
                    message("E0104.unscored_number.message", item=node.name, option=option),
                    span,
                    label=message("E0104.unscored.label"),
                    help=message("E0104.unscored_number.help", option=option),
                )

    def _known_coefficient(self, name: str, span: n.Span, coefs: set[str]) -> bool:
        if name in coefs:
            return True
        hint = did_you_mean(name, coefs)
        self.d.error(
            "E0208",
            message("E0208.unknown_coefficient.message", name=name),
            span,
            label=message("E0208.unknown_coefficient.label"),
            help=message("hint.did_you_mean", name=hint)
            if hint
            else message("E0208.unknown_coefficient.help"),
        )
        return False

    def _bands(self, node: n.Bands) -> BandsModel:
        bands: list[tuple[str, float | None]] = []
        previous: n.Band | None = None
        seen: set[str] = set()
        for i, band in enumerate(node.bands):
            last = i == len(node.bands) - 1
            if band.label in seen:
                self.d.error(
                    "E0101",
                    message("E0101.band.message", band=band.label),
                    band.span,
                    label=message("E0101.declared_twice.label"),
                    help=message("E0101.band.help"),
                )
            seen.add(band.label)
            if band.threshold is None and not last:
                self.d.error(
                    "E0506",
                    message("E0506.no_threshold.message", band=band.label),
                    band.span,
                    label=message("E0506.no_threshold.label"),
                    help=message("E0506.no_threshold.help", band=band.label),
                )
            if (
                band.threshold is not None
                and previous is not None
                and previous.threshold is not None
                and not band.threshold.value < previous.threshold.value
            ):
                self.d.error(
                    "E0503",
                    message(
                        "E0503.order.message",
                        band=f"{band.label} >= {band.threshold.text}",
                        previous=f"{previous.label} >= {previous.threshold.text}",
                    ),
                    band.span,
                    label=message("E0503.order.label"),
                    help=message("E0503.order.help"),
                )
            bands.append((band.label, band.threshold.value if band.threshold else None))
            previous = band
        if not node.bands or node.bands[-1].threshold is not None:
            span = node.bands[-1].span if node.bands else node.span
            self.d.error(
                "E0506",
                message("E0506.no_catch_all.message", coefficient=node.coefficient),
                span,
                label=message("E0506.no_catch_all.label"),
                help=message("E0506.no_catch_all.help"),
            )
        return BandsModel(node.coefficient, tuple(bands), span=node.span)

    def _unused_scales(self) -> None:
        if not any(d.kind == "item" for d in self.decls.values()):
            return  # a file of shared scales, made to be imported
        for name in self.scales:
            if name not in self.used_scales and self.decls[name].node.span.file == self.flat.file:
                self.d.warn(
                    "W0702",
                    message("W0702.unused_scale.message", scale=name),
                    self.decls[name].node.name_span,
                    label=message("W0702.unused_scale.label"),
                    help=message("W0702.unused_scale.help"),
                )

    def _unused_tags(self) -> None:
        """A tag no selection uses, spelt like one that is used: most likely a typo."""
        reported: set[str] = set()
        for decl in self.decls.values():
            if decl.kind != "item" or decl.node.span.file != self.flat.file:
                continue
            for tag in decl.node.tags:
                if tag in self.used_tags or tag in reported:
                    continue
                hint = did_you_mean(tag, self.used_tags & self.tags)
                if hint is None:
                    continue  # a tag for reports and exports only
                reported.add(tag)
                self.d.warn(
                    "W0703",
                    message("W0703.unused_tag.message", tag=tag, used=hint),
                    self._tag_span(decl.node, tag),
                    label=message("W0703.unused_tag.label"),
                    help=message("W0703.unused_tag.help", used=hint, item=decl.node.name),
                )

    def _tag_span(self, item: n.Item, tag: str) -> n.Span:
        """Where `tag` is written among an item's `tags` (the item's name if not found)."""
        span = item.span
        src = self.flat.sources.get(span.file)
        if src is None or span.end <= span.start:
            return item.name_span
        text = src[span.start : span.end]
        opt = re.search(r"\btags\b", text)
        found = (
            re.compile(rf"(?<!\w){re.escape(tag)}(?!\w)").search(text, opt.end()) if opt else None
        )
        if found is None:
            return item.name_span
        start = span.start + found.start()
        line = src.count("\n", 0, start) + 1
        column = start - (src.rfind("\n", 0, start) + 1) + 1
        return n.Span(span.file, line, column, line, column + len(tag), start, start + len(tag))

    # -- expressions -----------------------------------------------------------------------

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
            return Bound("const", data=None, type=want, span=expr.span)  # type: ignore[arg-type]
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
        return Bound("const", data=None, type=want, span=expr.span)  # type: ignore[arg-type]

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
                return Bound("const", data=v, type="num", span=sp)
            case n.String(value=v):
                return Bound("const", data=v, type="str", span=sp)
            case n.Name(name=name):
                return self._bind_name(name, expr, ctx)
            case n.Attribute(owner=owner, name=name):
                return self._bind_attribute(owner, name, expr, ctx)
            case n.Negate(operand=operand):
                inner = self._bind_num(operand, ctx)
                return Bound("neg", (inner,), type="num", span=sp)
            case n.Binary(op=op, left=left, right=right):
                lhs = self._bind_num(left, ctx)
                rhs = self._bind_num(right, ctx)
                return Bound("arith", (lhs, rhs), data=op, type="num", span=sp)
            case n.Compare():
                return self._bind_compare(expr, ctx)
            case n.BoolOp(op=op, left=left, right=right):
                lhs = self._bind_condition(left, ctx)
                rhs = self._bind_condition(right, ctx)
                return Bound(op, (lhs, rhs), type="bool", span=sp)
            case n.Not(operand=operand):
                inner = self._bind_condition(operand, ctx)
                return Bound("not", (inner,), type="bool", span=sp)
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
                return Bound("if", (cond, then, other), type=typ, labels=labels, span=sp)
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
                return Bound("const", data=None, type="num", span=sp)
            case n.Weighted():
                self.d.error(
                    "E0306",
                    message("E0306.weighted_term.message"),
                    sp,
                    label=message("E0306.weighted_term.label"),
                    help=message("E0306.weighted_term.help"),
                )
                return Bound("const", data=None, type="num", span=sp)
        raise AssertionError(f"unexpected node {expr!r}")

    def _bind_name(self, name: str, expr: n.Name, ctx: _Context) -> Bound:
        sp = expr.span
        if name == "value":
            if ctx.kind == "score" and ctx.item is not None:
                item = ctx.item
                typ = (
                    "num"
                    if item.kind == "number" or (item.scale and item.scale.numeric)
                    else ("label" if item.kind == "scale" else "str")
                )
                labels = item.scale.labels() if item.scale else None
                return Bound("value", data=item.name, type=typ, labels=labels, span=sp)  # type: ignore[arg-type]
            self.d.error(
                "E0305",
                message("E0305.value.message"),
                sp,
                label=message("E0305.value.label"),
                help=message("E0305.value.help"),
            )
            return Bound("const", data=None, type="any", span=sp)
        if name == "na":  # the N/A literal: `if value > 60 then na else …`
            return Bound("const", data=None, type="any", span=sp)
        if name == "critical_failed":
            self._not_in_rollup(expr, ctx)
            crit = tuple(i for i in self.items if self.items[i].critical)
            return Bound("call", data=("critical_failed", crit), type="bool", span=sp)
        if ctx.kind == "rollup":
            if name == "visits":
                return Bound("visits", type="num", span=sp)
            if name in self.rollup_names:
                return Bound("rollup_ref", data=name, type="num", span=sp)
        decl = self.decls.get(name)
        if decl is None:
            return Bound("const", data=name, type="labellit", span=sp)
        if ctx.kind == "rollup" and decl.kind in ("item", "section", "coefficient"):
            self.d.error(
                "E0306",
                message("E0306.per_visit_name.message", name=name),
                sp,
                label=message("E0306.per_visit.label"),
                help=message("E0306.per_visit_name.help", name=name),
            )
            return Bound("const", data=None, type="num", span=sp)
        if decl.kind == "item":
            declared = self.items.get(name)
            if declared is None:
                return Bound("const", data=None, type="num", span=sp)
            if not declared.scored:
                self.d.error(
                    "E0304",
                    message("E0304.unscored.message", item=name),
                    sp,
                    label=message("E0304.unscored.label"),
                    help=message("E0304.unscored.help", item=name),
                )
                return Bound("const", data=None, type="num", span=sp)
            return Bound("item", data=name, type="num", span=sp)
        if decl.kind == "section":
            return Bound("section", data=name, type="num", span=sp)
        if decl.kind == "coefficient":
            return Bound("coef", data=name, type="num", span=sp)
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
        return Bound("const", data=None, type="any", span=sp)

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
            return Bound("const", data=None, type="any", span=sp)
        self._not_in_rollup(expr, ctx)
        if name in BUILTIN_FIELDS:
            return Bound("field", data=BUILTIN_FIELDS[name], type="str", span=sp)
        field = self.fields.get(name)
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
            return Bound("const", data=None, type="any", span=sp)
        labels = frozenset(field.values) if field.values else None
        return Bound("field", data=name, type="str", labels=labels, span=sp)

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
                return Bound("const", data=None, type="bool", span=sp)
        lhs = self.bind(expr.left, ctx)
        rhs = self.bind(expr.right, ctx)
        lhs, rhs = (
            self._resolve_literal(lhs, rhs, expr.right),
            self._resolve_literal(rhs, lhs, expr.left),
        )
        # _resolve_literal(a, other): turns `a` into a literal of `other`'s type when it can.
        lt, rt = lhs.type, rhs.type
        if lt == "any" or rt == "any":
            return Bound("cmp", (lhs, rhs), data=expr.op, type="bool", span=sp)
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
            return Bound("cmp", (lhs, rhs), data=expr.op, type="bool", span=sp)
        self.d.error(
            "E0301",
            message("E0301.compare.message", left=_type_words(lt), right=_type_words(rt)),
            sp,
            label=message("E0301.compare.label"),
            help=_compare_help(lhs, rhs),
        )
        return Bound("cmp", (lhs, rhs), data=expr.op, type="bool", span=sp)

    def _resolve_literal(self, side: Bound, other: Bound, other_expr: Any) -> Bound:
        """A bare name or a literal on one side of a comparison, read in the other's terms."""
        if (
            other.type in ("label", "str")
            and side.type in ("labellit", "str", "num")
            and (side.op == "const")
        ):
            value = side.data
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
                    return Bound("const", data=str(value), type=other.type, span=side.span)
                return Bound(
                    "const", data=match, type=other.type, labels=other.labels, span=side.span
                )
            if side.type == "labellit" or other.type == "str":
                return Bound("const", data=_plain(value), type=other.type, span=side.span)
        if side.type == "labellit":
            if other.type != "any":  # `any` comes from an error already reported
                self._unknown_name(n.Name(str(side.data), span=side.span))
            return Bound("const", data=None, type="any", span=side.span)
        return side

    def _match_alias(self, value: Any, other: Bound) -> str | None:
        """The canonical label an alias stands for, when `other` reads an item's answer."""
        item = self.items.get(other.data) if other.op in ("answer", "value") else None
        if item is None or item.scale is None:
            return None
        key = label_key(_plain(value))
        for entry in item.scale.entries:
            if any(label_key(a) == key for a in entry.aliases):
                return entry.label
        return None

    def _bind_call(self, expr: n.Call, ctx: _Context) -> Bound:
        sp = expr.span
        fn = expr.function
        args = expr.args
        self._decimal_commas(expr)

        def arity(lo: int, hi: int | None = None) -> bool:
            hi = lo if hi is None else hi
            if not lo <= len(args) <= hi:
                if lo == hi:
                    text = message("E0302.arity.exactly", fn=fn, n=lo, got=len(args))
                elif hi == _MANY:
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

        bad = Bound("const", data=None, type="num", span=sp)
        if fn in ROLLUP_FUNCS:
            if ctx.kind != "rollup":
                self.d.error(
                    "E0306",
                    message("E0306.group_function.message", fn=fn),
                    sp,
                    label=message("E0306.group_function.label"),
                    help=message("E0306.group_function.help"),
                )
                return bad
            if not arity(1):
                return bad
            term_ctx = _Context("term", owner=ctx.owner)
            want = ROLLUP_FUNCS[fn]
            inner = self.bind(args[0], term_ctx)
            inner = self._expect_type(inner, want, args[0])
            key = f"{ctx.owner}.{len(self._terms) + 1}"
            self._terms.append(RollupTerm(key, fn, inner))  # type: ignore[arg-type]
            return Bound("agg", data=(fn, key), type="num", span=sp)
        if fn == "answer":
            self._not_in_rollup(expr, ctx)
            if not arity(1):
                return bad
            item = self._item_arg(args[0], fn)
            if item is None:
                return bad
            typ = (
                "num"
                if item.kind == "number" or (item.scale and item.scale.numeric)
                else ("label" if item.kind == "scale" else "str")
            )
            labels = item.scale.labels() if item.scale and typ == "label" else None
            return Bound("answer", data=item.name, type=typ, labels=labels, span=sp)  # type: ignore[arg-type]
        if fn == "failed":
            self._not_in_rollup(expr, ctx)
            if not arity(1):
                return bad
            item = self._item_arg(args[0], fn, scored=True)
            return Bound("call", data=("failed", item.name if item else None), type="bool", span=sp)
        if fn == "band":
            if not arity(1):
                return bad
            coef = self._name_arg(args[0], "coefficient")
            if coef is None:
                return Bound("const", data=None, type="any", span=sp)
            bands = self.flat.bands.get(coef)
            if bands is None:
                self.d.error(
                    "E0208",
                    message("E0208.no_bands.message", coefficient=coef),
                    args[0].span,
                    label=message("E0208.no_bands.label"),
                    help=message("E0208.no_bands.help", coefficient=coef),
                )
                return Bound("const", data=None, type="any", span=sp)
            labels = frozenset(b.label for b in bands.bands)
            return Bound(
                "call",
                (Bound("coef", data=coef, span=args[0].span),),
                data=("band", coef),
                type="label",
                labels=labels,
                span=sp,
            )
        if fn == "weighted_mean":
            self._not_in_rollup(expr, ctx)
            if not arity(1, _MANY):
                return bad
            selections = [a for a in args if isinstance(a, n.Selection)]
            if len(selections) == len(args):
                sel = self._selection(selections, fn)
                return Bound("call", data=("weighted_mean", sel), type="num", span=sp)
            terms = []
            for a in args:
                if isinstance(a, n.Selection):
                    self.d.error(
                        "E0301",
                        message("E0301.selection_and_terms.message"),
                        a.span,
                        label=message("E0301.selection_and_terms.label"),
                        help=message("E0301.selection_and_terms.help"),
                    )
                    continue
                expr_, weight = (a.expr, a.weight) if isinstance(a, n.Weighted) else (a, None)
                w = 1.0
                if weight is not None:
                    if isinstance(weight, n.Number):
                        w = self._weight(weight, "term")
                    else:
                        self.d.error(
                            "E0301",
                            message("E0301.term_weight.message"),
                            weight.span,
                            label=message("E0301.term_weight.label"),
                            help=message("E0301.term_weight.help"),
                        )
                terms.append((self._bind_num(expr_, ctx), w))
            return Bound(
                "call",
                tuple(t for t, _ in terms),
                data=("weighted_terms", tuple(w for _, w in terms)),
                type="num",
                span=sp,
            )
        if fn in AGGREGATE_FUNCS:
            if not arity(1, _MANY):
                return bad
            selections = [a for a in args if isinstance(a, n.Selection)]
            if len(selections) == len(args):
                self._not_in_rollup(expr, ctx)
                sel = self._selection(selections, fn)
                return Bound("call", data=(fn + "_sel", sel), type="num", span=sp)
            bound = tuple(self._bind_num(a, ctx) for a in args if not isinstance(a, n.Selection))
            if len(bound) != len(args):
                self.d.error(
                    "E0301",
                    message("E0301.mixed_arguments.message", fn=fn),
                    sp,
                    label=message("E0301.mixed_arguments.label"),
                    help=message("E0301.mixed_arguments.help"),
                )
            return Bound("call", bound, data=(fn, None), type="num", span=sp)
        if fn in SELECTION_FUNCS:
            self._not_in_rollup(expr, ctx)
            fail = Bound(
                "const", data=None, type="bool" if fn == "critical_failed" else "num", span=sp
            )
            if not arity(1, _MANY):
                return fail
            selections = []
            for a in args:
                if not isinstance(a, n.Selection):
                    self.d.error(
                        "E0301",
                        message("E0301.needs_selection.message", fn=fn),
                        a.span,
                        label=message("E0301.needs_selection.label"),
                        help=message("E0301.needs_selection.help", fn=fn),
                    )
                    return fail
                selections.append(a)
            sel = self._selection(selections, fn)
            if sel[0] == "sections" and fn != "count":
                self.d.error(
                    "E0301",
                    message("E0301.items_not_sections.message", fn=fn),
                    sp,
                    label=message("E0301.items_not_sections.label"),
                    help=message("E0301.items_not_sections.help", fn=fn),
                )
                return fail
            if fn == "critical_failed":
                crit = tuple(i.name for i in sel[1] if self.items[i.name].critical)
                return Bound("call", data=("critical_failed", crit), type="bool", span=sp)
            return Bound("call", data=(fn, sel), type="num", span=sp)
        if fn == "clamp":
            if not arity(3):
                return bad
            bound = tuple(self._bind_num(a, ctx) for a in args)
            return Bound("call", bound, data=("clamp", None), type="num", span=sp)
        if fn == "coalesce":
            if not arity(2, _MANY):
                return bad
            bound_list = [self.bind(a, ctx) for a in args]
            typ = next((b.type for b in bound_list if b.type not in ("labellit", "any")), "num")
            bound = tuple(
                self._expect_type(b, typ, a) for b, a in zip(bound_list, args, strict=True)
            )
            return Bound("call", bound, data=("coalesce", None), type=typ, span=sp)  # type: ignore[arg-type]
        if fn == "is_na":
            if not arity(1):
                return bad
            inner = self.bind(args[0], ctx)
            if inner.type == "labellit":
                self._unknown_name(args[0])
            return Bound("call", (inner,), data=("is_na", None), type="bool", span=sp)
        spec = self.functions.get(fn)
        if spec is not None:
            if not arity(len(spec.params)):
                return bad
            bound = tuple(
                self._expect_type(self.bind(a, ctx), t, a)
                for a, t in zip(args, spec.params, strict=True)
            )
            return Bound("call", bound, data=("plugin", fn), type=spec.returns, span=sp)
        known = [
            "weighted_mean",
            "mean",
            "min",
            "max",
            "sum",
            "count",
            "earned",
            "possible",
            "lost",
            "failed",
            "clamp",
            "coalesce",
            "is_na",
            "band",
            "critical_failed",
            "answer",
            *ROLLUP_FUNCS,
            *self.functions.names(),
        ]
        hint = did_you_mean(fn, known)
        self.d.error(
            "E0206",
            message("E0206.unknown_function.message", fn=fn),
            expr.name_span,
            label=message("E0206.unknown_function.label"),
            help=message("hint.did_you_mean", name=hint)
            if hint
            else message("E0206.unknown_function.help"),
        )
        return bad

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
        self._terms: list[RollupTerm] = []
        expr = self._bind_num(node.expr, _Context("rollup", owner=node.name))
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
        visit = {}
        for a in node.visit:
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
        answers = {}
        item_names = [k for k, d in self.decls.items() if d.kind == "item"]
        for a in node.answers:
            if a.name not in item_names:
                hint = did_you_mean(a.name, item_names)
                self.d.error(
                    "E0209",
                    message("E0209.example_answer.message", item=a.name, example=node.name),
                    a.span,
                    label=message("E0209.name_arg.not_item"),
                    help=message("hint.did_you_mean", name=hint)
                    if hint
                    else message("E0209.example_answer.help"),
                )
            elif a.name in answers:
                self.d.error(
                    "E0101",
                    message("E0101.answered_twice.message", item=a.name, example=node.name),
                    a.span,
                    label=message("E0101.answered_twice.label"),
                    help=message("hint.remove_one"),
                )
            answers[a.name] = _label_value(a.value)
        return ExampleModel(node.name, visit, answers, tuple(expects), span=node.span)

    # -- dependencies ------------------------------------------------------------------------

    def _order(self, coefficients: list[CoefficientModel]) -> tuple[tuple[str, str], ...]:
        deps: dict[tuple[str, str], list[tuple[str, str]]] = {}
        spans: dict[tuple[str, str], n.Span] = {}
        for item in self.items.values():
            key = ("item", item.name)
            exprs = [e for e in (item.when, item.section_when, item.score) if e is not None]
            deps[key] = [d for e in exprs for d in _deps(e) if d != key or e is not item.score]
            spans[key] = item.span
            if item.score is not None and key in _deps(item.score):
                deps[key].append(key)
        for sec in self.sections.values():
            deps[("section", sec.name)] = [("item", i) for i in sec.items if i in self.items]
            spans[("section", sec.name)] = sec.span
        for c in coefficients:
            deps[("coef", c.name)] = _deps(c.expr)
            spans[("coef", c.name)] = c.span
        order: list[tuple[str, str]] = []
        state: dict[tuple[str, str], int] = {}
        reported = False

        def visit(node: tuple[str, str], path: list[tuple[str, str]]) -> None:
            nonlocal reported
            st = state.get(node, 0)
            if st == 2:
                return
            if st == 1:
                if not reported:
                    cycle = [*path[path.index(node) :], node]
                    chain = " -> ".join(name for _, name in cycle)
                    self.d.error(
                        "E0401",
                        message("E0401.cycle.formulas", chain=chain),
                        spans[node],
                        label=message("E0401.cycle.label"),
                        help=message("E0401.cycle.help"),
                    )
                    reported = True
                return
            state[node] = 1
            for dep in deps.get(node, []):
                if dep in deps:
                    visit(dep, [*path, node])
            state[node] = 2
            order.append(node)

        for node in deps:
            visit(node, [])
        return tuple(order)

    def _rollup_cycles(self, rollups: list[RollupModel]) -> None:
        """E0401 for rollups that refer to each other in a circle (one report per cycle)."""
        deps = {r.name: [b.data for b in r.expr.walk() if b.op == "rollup_ref"] for r in rollups}
        spans = {r.name: r.span for r in rollups}
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                chain = " -> ".join([*path[path.index(name) :], name])
                self.d.error(
                    "E0401",
                    message("E0401.cycle.rollups", chain=chain),
                    spans[name],
                    label=message("E0401.cycle.label"),
                    help=message("E0401.cycle.help"),
                )
                return
            state[name] = 1
            for dep in deps.get(name, []):
                if dep in deps:
                    visit(dep, [*path, name])
            state[name] = 2

        for name in deps:
            visit(name, [])

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

    # -- targets and bands against what a coefficient can be ----------------------------

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
            self._in_range(coef, ranges.get(coef), t.value)
        for coef in bands:
            for band in flat.bands[coef].bands:
                if band.threshold is not None:
                    text = f"{band.label} >= {band.threshold.text}"
                    self._in_range(coef, ranges.get(coef), band.threshold, text)

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
                    None if expr is None else _interval(expr, None, self.items, None, scope)
                )
            return known[name]

        sections: dict[str, Interval | None] = {
            name: None
            if any(self.items[i].bonus for i in sec.items if i in self.items)
            else (0.0, 1.0)
            for name, sec in self.sections.items()
        }
        scope = _Scope(sections, coefficient)
        return {name: coefficient(name) for name in exprs}

    def _in_range(
        self, coef: str, rng: Interval | None, value: n.Number, band: str | None = None
    ) -> None:
        """W0704 for `value`, the target of `coef` or the threshold of its `band`."""
        if rng is None or rng is _EMPTY or math.isinf(rng[1]):
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
        interval = _interval(bound, item, self.items)
        if interval is None or interval is _EMPTY:
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


# ---- helpers -------------------------------------------------------------------------------

#: No upper bound on a function's arguments (`mean`, `min`, `max`, `sum`, `coalesce`).
_MANY = sys.maxsize


def _last_number(arg: n.Argument) -> n.Number | None:
    """The number literal an argument ends with (`0`, `-0`, `x: 0`), if any."""
    expr = arg.weight if isinstance(arg, n.Weighted) else arg
    if isinstance(expr, n.Negate):
        expr = expr.operand
    return expr if isinstance(expr, n.Number) else None


_PENDING = Bound("const", data=None)


def _deps(expr: Bound) -> list[tuple[str, str]]:
    """What an expression reads, each once, in the order it reads them: the evaluation
    order is built from these, so it must not follow a set's hash order (which formula
    fails first in a visit would then change from run to run)."""
    out: dict[tuple[str, str], None] = {}
    for node in expr.walk():
        if node.op in ("item", "answer"):
            out[("item", node.data)] = None
        elif node.op == "section":
            out[("section", node.data)] = None
        elif node.op == "coef":
            out[("coef", node.data)] = None
        elif node.op == "call":
            fn, payload = node.data
            if fn == "critical_failed":
                out.update(dict.fromkeys(("item", i) for i in payload))
            elif fn == "failed" and payload:
                out[("item", payload)] = None
            elif (
                isinstance(payload, tuple)
                and len(payload) == 2
                and payload[0] in ("items", "sections")
            ):
                kind = "item" if payload[0] == "items" else "section"
                out.update(
                    dict.fromkeys((kind, x.name if kind == "item" else x[0]) for x in payload[1])
                )
    return list(out)


Interval = tuple[float, float]
#: The "interval" of an expression that is always N/A (it never leaves [0, 1]).
_EMPTY: Interval = (math.inf, -math.inf)
_UNSET: Interval = (math.nan, math.nan)  # "not given": the item's own answer range


def _answer_range(item: ItemModel | None) -> Interval | None:
    """The numbers an item's answer can be, or None when it is not a number."""
    if item is None:
        return None
    if item.kind == "number":
        if item.low is not None and item.high is not None:
            return (item.low, item.high)
        return (-math.inf, math.inf)
    if item.scale is not None and item.scale.numeric:
        nums = [e.numeric for e in item.scale.entries if e.numeric is not None]
        return (min(nums), max(nums))
    return None


def _hull(intervals: list[Interval | None]) -> Interval | None:
    """The smallest interval holding all of them (N/A ones ignored); None if one is unknown."""
    if any(i is None for i in intervals):
        return None
    known = [i for i in intervals if i is not _EMPTY]
    if not known:
        return _EMPTY
    return (min(i[0] for i in known), max(i[1] for i in known))  # type: ignore[index]


@attrs.frozen
class _Scope:
    """What an expression outside an item's formula can read: section and coefficient
    ranges (None: unknown)."""

    sections: Mapping[str, Interval | None]
    coefficient: Callable[[str], Interval | None]


def _interval(
    b: Bound,
    item: ItemModel | None,
    items: dict[str, ItemModel],
    own: Interval | None = _UNSET,
    scope: _Scope | None = None,
) -> Interval | None:
    """The range of a numeric expression inside `item`'s score formula (W0701), or of
    a coefficient's formula when `item` is None and `scope` says what sections and
    other coefficients range over (W0704).

    Sound where it answers: the expression never leaves the interval. None means
    unknown (a plugin, a division by something that may be 0), so nothing is
    reported; `_EMPTY` means the expression is always N/A. `own` is the range of
    the item's own answer, narrowed inside `if` branches by conditions such as
    `value <= 10`.
    """
    op = b.op
    if own is _UNSET:
        own = _answer_range(item)

    def sub(x: Bound, narrowed: Interval | None = own) -> Interval | None:
        return _interval(x, item, items, narrowed, scope)

    def is_own(x: Bound) -> bool:
        return x.op == "value" or (item is not None and x.op == "answer" and x.data == item.name)

    if op == "const":
        v = b.data
        if isinstance(v, int | float) and not isinstance(v, bool):
            return (float(v), float(v))
        return _EMPTY if v is None else None
    if is_own(b):
        return own
    if op == "answer":
        return _answer_range(items.get(b.data))
    if op == "item":
        return (0.0, 1.0)
    if op == "section" and scope is not None:
        return scope.sections.get(b.data)
    if op == "coef" and scope is not None:
        return scope.coefficient(b.data)
    if op in ("neg", "arith") or (
        op == "call" and b.data[0] in ("min", "max", "mean", "sum", "clamp")
    ):
        args = [sub(a) for a in b.args]
        if any(a is None for a in args):
            return None
        if any(a is _EMPTY for a in args):
            return _EMPTY  # N/A propagates
        return _combine(b, args)  # type: ignore[arg-type]
    if op == "if":
        then_range, else_range = _narrow(b.args[0], own, is_own)
        branches = [
            _EMPTY if r is not None and r[0] > r[1] else sub(x, r)
            for x, r in ((b.args[1], then_range), (b.args[2], else_range))
        ]
        return _hull(branches)
    if op == "call":
        fn, payload = b.data
        if fn == "coalesce":
            return _hull([sub(a) for a in b.args])
        if fn == "weighted_terms":
            return _hull([sub(a) for a in b.args])
        if (
            fn
            in (
                "weighted_mean",
                "mean_sel",
                "min_sel",
                "max_sel",
                "earned",
                "possible",
                "lost",
                "count",
                "sum_sel",
            )
            and payload[0] == "items"
        ):
            sel: tuple[SelectedItem, ...] = payload[1]
            if fn == "count" or fn == "sum_sel":
                return (0.0, float(len(sel)))
            full = sum(x.weight for x in sel if not x.bonus)
            extra = sum(x.weight for x in sel if x.bonus)
            return {
                "earned": (0.0, full + extra),
                "possible": (0.0, full),
                "lost": (-extra, full),
            }.get(fn, (0.0, 1.0) if not extra or fn in ("min_sel", "max_sel") else (0.0, math.inf))
        if fn == "count":
            return (0.0, float(len(payload[1])))
        if fn == "weighted_mean" and payload[0] == "sections" and scope is not None:
            return _hull([scope.sections.get(name) for name, _ in payload[1]])
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
    if cond.op == "not":
        then_range, else_range = _narrow(cond.args[0], own, is_own)
        return else_range, then_range
    if cond.op in ("and", "or"):
        if cond.op == "and":
            first, _ = _narrow(cond.args[0], own, is_own)
            both, _ = _narrow(cond.args[1], first, is_own)
            return both, own
        _, first = _narrow(cond.args[0], own, is_own)
        _, neither = _narrow(cond.args[1], first, is_own)
        return own, neither
    if cond.op != "cmp":
        return own, own
    left, right = cond.args
    op = cond.data
    if is_own(right) and left.op == "const":
        left, right = right, left
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    if not (is_own(left) and right.op == "const" and isinstance(right.data, int | float)):
        return own, own
    k = float(right.data)
    below, above = (lo, min(hi, k)), (max(lo, k), hi)
    if op in ("<", "<="):
        return below, above
    if op in (">", ">="):
        return above, below
    if op == "==":
        return ((k, k) if lo <= k <= hi else _EMPTY), own
    return own, ((k, k) if lo <= k <= hi else _EMPTY)


def _combine(b: Bound, args: list[Interval]) -> Interval | None:
    """Interval arithmetic for one operation on known, non-N/A operands."""
    fn = b.data[0] if b.op == "call" else b.data
    if b.op == "neg":
        lo, hi = args[0]
        return (-hi, -lo)
    if fn == "clamp":
        (xl, xh), (ll, lh), (hl, hh) = args
        return (min(max(xl, ll), hl), min(max(xh, lh), hh))
    if fn in ("min", "max", "mean", "sum"):
        if fn == "min":
            return (min(a[0] for a in args), min(a[1] for a in args))
        if fn == "max":
            return (max(a[0] for a in args), max(a[1] for a in args))
        if fn == "sum":
            return (sum(a[0] for a in args), sum(a[1] for a in args))
        return (min(a[0] for a in args), max(a[1] for a in args))
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


def _weight_owner(kind: str, name: str) -> str:
    """Whose weight: "item `x`", "section `x`", "a weighted term"."""
    if kind == "item":
        return message("E0501.weight.of_item", name=name)
    if kind == "section":
        return message("E0501.weight.of_section", name=name)
    return message("E0501.weight.of_term")


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
    }[t]()


def _compare_help(lhs: Bound, rhs: Bound) -> str:
    """What to change in a comparison of mismatched sides, pointing at the side to fix."""
    a, b = lhs.type, rhs.type
    if {a, b} == {"num", "label"}:
        return message("E0301.compare.num_label")
    if {a, b} == {"num", "str"}:
        text = lhs if a == "str" else rhs
        if text.op == "const" and number_of(text.data) is not None:
            return message("E0301.compare.quoted_number", text=text.data)
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


def check(
    flat: Flat, functions: FunctionRegistry | None = None
) -> tuple[StandardModel, Diagnostics]:
    """Check a flat standard; raise `CompileError` if any error was found."""
    checker = Checker(flat, functions)
    model = checker.check()
    if checker.d.has_errors:
        raise CompileError(checker.d, flat.sources)
    return model, checker.d
