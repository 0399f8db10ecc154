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
from typing import TYPE_CHECKING, Any

import attrs

from . import nodes as n
from .diagnostics import CompileError, Diagnostics, did_you_mean, lookalike_help, mixed_scripts
from .functions import FunctionRegistry, default_registry
from .loader import Decl, Flat
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
                weight = self._weight(sec.weight, f"section `{name}`", allow_zero=True)
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
                f"`{name}` mixes alphabets: {odd}",
                decl.node.name_span,
                label="looks like one alphabet, is two",
                help="retype the name in one alphabet: a name that looks the same but is "
                "spelt with other letters is another name",
            )
        if name in RESERVED:
            self.d.error(
                "E0103",
                f"`{name}` is reserved and cannot name {_a(decl.kind)}",
                decl.node.name_span,
                label="reserved",
                help=f"choose another name, for example `{name}_1`",
            )

    def _scale(self, name: str, entries: tuple[n.ScaleEntry, ...], span: n.Span) -> ScaleModel:
        seen: dict[str, n.Span] = {}
        out = []
        for entry in entries:
            score = entry.score.value
            if not 0.0 <= score <= 1.0:
                self.d.error(
                    "E0502",
                    f"score {entry.score.text} of label `{entry.label.value}` is outside [0, 1]",
                    entry.score.span,
                    label="must lie between 0 and 1",
                    help="a scale maps answers to shares of the ideal: 1 is the standard met, "
                    "0 not met",
                )
            for label in (entry.label, *entry.aliases):
                key = label_key(label.value)
                if key in seen:
                    self.d.error(
                        "E0505",
                        f"label `{label.value}` appears twice in the scale",
                        label.span,
                        label="already used",
                        notes=(f"first used at {seen[key]}",),
                        help="labels and aliases are matched ignoring case and spaces; "
                        "each must be unique in its scale",
                    )
                seen.setdefault(key, label.span)
            numeric = number_of(entry.label.value) if entry.label.kind == "number" else None
            out.append(
                ScaleEntryModel(
                    entry.label.value, score, tuple(a.value for a in entry.aliases), numeric
                )
            )
        if not entries:
            self.d.error("E0504", "a scale needs at least one label", span, label="empty scale")
        return ScaleModel(name, tuple(out), span=span)

    def _field(self, node: n.Field) -> FieldModel:
        values = tuple(v.value for v in node.values) if node.values is not None else None
        if node.name in BUILTIN_FIELDS:
            self.d.error(
                "E0101",
                f"`{node.name}` is a built-in visit attribute and cannot be redeclared",
                node.name_span,
                label="built in",
                help="built-in attributes: " + ", ".join(BUILTIN_FIELDS),
            )
        seen: dict[str, n.Span] = {}
        for label in node.values or ():
            key = label_key(label.value)
            if key in seen:
                self.d.error(
                    "E0505",
                    f"value `{label.value}` appears twice in field `{node.name}`",
                    label.span,
                    label="already listed",
                    notes=(f"first listed at {seen[key]}",),
                    help="values are matched ignoring case and spaces; list each once",
                )
            seen.setdefault(key, label.span)
        if node.values is not None and not node.values:
            self.d.error(
                "E0504",
                f"field `{node.name}` allows no value",
                node.name_span,
                label="empty `one of { }`",
                help="list the values it may take, or drop `one of` to allow any",
            )
        return FieldModel(node.name, node.title, values, span=node.name_span)

    def _weight(self, number: n.Number | None, owner: str, allow_zero: bool = False) -> float:
        if number is None:
            return 1.0
        w = number.value
        if w < 0 or (w == 0 and not allow_zero) or not math.isfinite(w):
            self.d.error(
                "E0501",
                f"weight {number.text} of {owner} must be greater than 0"
                + (" (0 keeps a section out of `weighted_mean(sections)`)" if allow_zero else ""),
                number.span,
                label="not a positive weight",
                help="to leave an item out of a mean, give it no tag or drop it; "
                "weights only say how much it counts",
            )
        return w

    def _item_shape(self, decl: Decl) -> ItemModel | None:
        node: n.Item = decl.node
        scale = None
        low = high = None
        kind: Any
        answer = node.answer
        weight = self._weight(node.weight, f"item `{node.name}`")
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
                        f"unknown scale `{answer.scale}`",
                        answer.span,
                        label="no scale of this name",
                        help=f"did you mean `{hint}`?"
                        if hint
                        else "declare it with `scale NAME { label = score, … }` "
                        "or use `number`/`text`",
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
                        f"range {answer.low.text}..{answer.high.text} is empty or reversed",
                        answer.span,
                        label="low must be below high",
                        help=f"write `number {answer.high.text}..{answer.low.text}`"
                        if low > high
                        else "widen the range",
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
                f"text item `{node.name}` has a `score =` formula",
                node.score.span,
                label="a text answer is never scored",
                help="give the item a scale or `number LO..HI` to score it, or remove the formula",
            )
        if kind == "scale" or (kind == "number" and (ranged or node.score is not None)):
            return
        what = "a text item" if kind == "text" else "a number item without a range or a formula"
        fix = (
            "a text answer is never scored"
            if kind == "text"
            else "give it a range (`number 0..10`) or a `score =` formula"
        )
        for option, present, span in (
            ("critical", node.critical, node.name_span),
            ("bonus", node.bonus, node.name_span),
            (
                "weight",
                node.weight is not None,
                node.weight.span if node.weight else node.name_span,
            ),
        ):
            if present:
                self.d.error(
                    "E0104",
                    f"`{node.name}` is {what}, never scored: it cannot be `{option}`",
                    span,
                    label="never scored",
                    help=f"`{option}` only means something for a scored item; {fix}, "
                    f"or remove `{option}`",
                )

    def _known_coefficient(self, name: str, span: n.Span, coefs: set[str]) -> bool:
        if name in coefs:
            return True
        hint = did_you_mean(name, coefs)
        self.d.error(
            "E0208",
            f"unknown coefficient `{name}`",
            span,
            label="no coefficient of this name",
            help=f"did you mean `{hint}`?" if hint else "targets and bands apply to coefficients",
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
                    f"band `{band.label}` is declared twice",
                    band.span,
                    label="second declaration",
                    help="each band label must be unique",
                )
            seen.add(band.label)
            if band.threshold is None and not last:
                self.d.error(
                    "E0506",
                    f"band `{band.label}` has no threshold but is not the last",
                    band.span,
                    label="only the last band takes the rest",
                    help=f"give it a threshold: `{band.label} >= X`",
                )
            if (
                band.threshold is not None
                and previous is not None
                and previous.threshold is not None
                and not band.threshold.value < previous.threshold.value
            ):
                self.d.error(
                    "E0503",
                    f"band `{band.label} >= {band.threshold.text}` is not below "
                    f"`{previous.label} >= {previous.threshold.text}`",
                    band.span,
                    label="thresholds must strictly decrease",
                    help="list bands from the highest threshold to the lowest",
                )
            bands.append((band.label, band.threshold.value if band.threshold else None))
            previous = band
        if not node.bands or node.bands[-1].threshold is not None:
            span = node.bands[-1].span if node.bands else node.span
            self.d.error(
                "E0506",
                f"bands of `{node.coefficient}` end without a catch-all label",
                span,
                label="values below the last threshold would have no band",
                help="end the list with a label alone, e.g. `poor`",
            )
        return BandsModel(node.coefficient, tuple(bands), span=node.span)

    def _unused_scales(self) -> None:
        if not any(d.kind == "item" for d in self.decls.values()):
            return  # a file of shared scales, made to be imported
        for name in self.scales:
            if name not in self.used_scales and self.decls[name].node.span.file == self.flat.file:
                self.d.warn(
                    "W0702",
                    f"scale `{name}` is declared but no item uses it",
                    self.decls[name].node.name_span,
                    label="unused",
                    help="remove it or use it in `answer`",
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
                    f"no selection uses tag `{tag}`, but `tagged {hint}` is used",
                    self._tag_span(decl.node, tag),
                    label="used by no selection",
                    help=f"did you mean `{hint}`? As written, `{decl.node.name}` counts in no "
                    f"`tagged {hint}` selection",
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

    def _bind_condition(self, expr: n.Expr | None, ctx: _Context) -> Bound | None:
        if expr is None:
            return None
        bound = self.bind(expr, ctx)
        return self._expect_type(bound, "bool", expr, "a condition (true or false)")

    def _bind_num(self, expr: n.Expr, ctx: _Context) -> Bound:
        bound = self.bind(expr, ctx)
        return self._expect_type(bound, "num", expr, "a number")

    def _expect_type(self, bound: Bound, want: str, expr: Any, what: str) -> Bound:
        got = bound.type
        if got == want or got == "any":
            return bound
        if got == "labellit":
            self._unknown_name(expr)
            return Bound("const", data=None, type=want, span=expr.span)  # type: ignore[arg-type]
        desc = {
            "num": "a number",
            "bool": "a condition",
            "str": "a text",
            "label": "an answer label",
            "sel": "a selection",
        }[got]
        help_text = {  # (wanted, found)
            ("bool", "num"): "compare it to make a condition, e.g. `x >= 0.5`",
            ("num", "bool"): "turn a condition into a number with `if … then 1 else 0`",
            ("num", "label"): "`answer(x)` gives the answer's label; the item's name alone "
            "gives its score, a number",
            ("label", "num"): "an item's name gives its score; `answer(x)` gives its label",
            ("num", "str"): "a visit attribute is text; compare it with a string, "
            'e.g. `if visit.scenario == "deposit" then 1 else 0`',
        }.get((want, got), f"this needs {what}")
        self.d.error(
            "E0301",
            f"expected {what}, found {desc}",
            expr.span,
            label=f"this is {desc}",
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
            help_text = (
                "`visit` alone is an ordinary name, and nothing is called so here; "
                "write `visit.FIELD` for a visit attribute, e.g. `visit.scenario`"
            )
        else:
            help_text = "declare it as an item, a section or a coefficient"
        self.d.error(
            "E0201",
            f"unknown name `{name}`",
            expr.span,
            label=f"not declared in `{self.flat.standard.name}`",
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
                return Bound(op, (lhs, rhs), type="bool", span=sp)  # type: ignore[arg-type]
            case n.Not(operand=operand):
                inner = self._bind_condition(operand, ctx)
                return Bound("not", (inner,), type="bool", span=sp)  # type: ignore[arg-type]
            case n.If(condition=c, then=a, otherwise=b):
                cond = self._bind_condition(c, ctx)
                then = self.bind(a, ctx)
                other = self.bind(b, ctx)
                known = [t.type for t in (then, other) if t.type not in ("any", "labellit")]
                typ = known[0] if known else "any"
                if typ == "any" and "labellit" in (then.type, other.type):
                    typ = "num"  # a bare unknown name on both sides (or beside `na`)
                then = self._expect_type(then, typ, a, _type_words(typ))
                other = self._expect_type(other, typ, b, _type_words(typ))
                labels = then.labels or other.labels
                return Bound("if", (cond, then, other), type=typ, labels=labels, span=sp)  # type: ignore[arg-type]
            case n.Call():
                return self._bind_call(expr, ctx)
            case n.Selection():
                self.d.error(
                    "E0303",
                    "a selection where a value is needed",
                    sp,
                    label="a selection, not a value",
                    help="a selection needs a function around it, e.g. "
                    "`weighted_mean(tagged x)`, `count(in SECTION)`",
                )
                return Bound("const", data=None, type="num", span=sp)
            case n.Weighted():
                self.d.error(
                    "E0306",
                    "a weighted term `EXPR: WEIGHT` outside `weighted_mean(…)`",
                    sp,
                    label="not allowed here",
                    help="only `weighted_mean(x: 0.4, y: 0.6)` takes weights; "
                    "other functions take plain values",
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
                "`value` is only defined inside an item's `score =` formula",
                sp,
                label="no answer here",
                help="use `answer(ITEM)` to read an item's answer",
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
                f"`{name}` is a per-visit value; a rollup needs it aggregated",
                sp,
                label="per visit",
                help=f"write `avg({name})`",
            )
            return Bound("const", data=None, type="num", span=sp)
        if decl.kind == "item":
            item = self.items.get(name)
            if item is None:
                return Bound("const", data=None, type="num", span=sp)
            if not item.scored:
                self.d.error(
                    "E0304",
                    f"item `{name}` has no score",
                    sp,
                    label="unscored item",
                    help=f"use `answer({name})` for its answer, or give it a range "
                    "or a `score =` formula",
                )
                return Bound("const", data=None, type="num", span=sp)
            return Bound("item", data=name, type="num", span=sp)
        if decl.kind == "section":
            return Bound("section", data=name, type="num", span=sp)
        if decl.kind == "coefficient":
            return Bound("coef", data=name, type="num", span=sp)
        self.d.error(
            "E0301",
            f"`{name}` is a {decl.kind}, not a value",
            sp,
            label=f"a {decl.kind}",
            help="formulas use items, sections and coefficients"
            + (", and rollups inside rollups" if decl.kind == "rollup" else ""),
        )
        return Bound("const", data=None, type="any", span=sp)

    def _not_in_rollup(self, expr: Any, ctx: _Context) -> None:
        if ctx.kind == "rollup":
            self.d.error(
                "E0306",
                "a per-visit value in a rollup formula needs aggregating",
                expr.span,
                label="per visit",
                help="wrap it in `avg(…)`, `share(…)` or `total(…)`",
            )

    def _bind_attribute(self, owner: str, name: str, expr: n.Attribute, ctx: _Context) -> Bound:
        sp = expr.span
        if owner != "visit":
            self.d.error(
                "E0201",
                f"unknown name `{owner}.{name}`",
                sp,
                label="only `visit.FIELD` has a dot",
                help="write `visit.FIELD` for a visit attribute",
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
                f"unknown visit field `{name}`",
                sp,
                label="not a visit attribute",
                help=f"did you mean `visit.{hint}`?" if hint else f'declare it: `field {name} "…"`',
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
                    "a comparison with `na` is always N/A",
                    sp,
                    label="never true",
                    help="to ask whether a value is N/A, write "
                    f"`is_na({self._text(other) or 'x'})`",
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
                    f"conditions cannot be ordered with `{expr.op}`",
                    sp,
                    label="needs numbers",
                    help="use `==` or `!=` between conditions",
                )
            if "label" in kinds and expr.op not in ("==", "!="):
                self.d.error(
                    "E0301",
                    f"answer labels cannot be ordered with `{expr.op}`",
                    sp,
                    label="labels have no order",
                    help="compare the item's score instead, e.g. `item >= 0.5`",
                )
            return Bound("cmp", (lhs, rhs), data=expr.op, type="bool", span=sp)
        self.d.error(
            "E0301",
            f"cannot compare {_type_words(lt)} with {_type_words(rt)}",
            sp,
            label="mismatched sides",
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
                        f"`{value}` is not one of the labels here",
                        side.span,
                        label="unknown label",
                        help=f"did you mean `{hint}`?" if hint else f"the labels are {shown}",
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
                want = f"{lo}" if lo == hi else f"at least {lo}" if hi == _MANY else f"{lo} to {hi}"
                plural = "s" * ((lo if hi == _MANY else hi) != 1)
                self.d.error(
                    "E0302",
                    f"`{fn}` takes {want} argument{plural}, got {len(args)}",
                    sp,
                    label="wrong number of arguments",
                    help=f"see `{fn}` in the language reference",
                )
                return False
            return True

        bad = Bound("const", data=None, type="num", span=sp)
        if fn in ROLLUP_FUNCS:
            if ctx.kind != "rollup":
                self.d.error(
                    "E0306",
                    f"`{fn}(…)` exists only in `rollup` formulas",
                    sp,
                    label="group function",
                    help="per visit, use the value itself",
                )
                return bad
            if not arity(1):
                return bad
            term_ctx = _Context("term", owner=ctx.owner)
            want = ROLLUP_FUNCS[fn]
            inner = self.bind(args[0], term_ctx)
            inner = self._expect_type(inner, want, args[0], _type_words(want))
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
                    f"coefficient `{coef}` has no bands",
                    args[0].span,
                    label="no `bands` for it",
                    help=f"declare `bands {coef} {{ … }}`",
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
            if all(isinstance(a, n.Selection) for a in args):
                sel = self._selection(args, fn)
                return Bound("call", data=("weighted_mean", sel), type="num", span=sp)
            terms = []
            for a in args:
                if isinstance(a, n.Selection):
                    self.d.error(
                        "E0301",
                        "a selection cannot be mixed with weighted terms",
                        a.span,
                        label="selection",
                        help="use one form or the other",
                    )
                    continue
                expr_, weight = (a.expr, a.weight) if isinstance(a, n.Weighted) else (a, None)
                w = 1.0
                if weight is not None:
                    if isinstance(weight, n.Number):
                        w = self._weight(weight, "a weighted term")
                    else:
                        self.d.error(
                            "E0301",
                            "a term's weight must be a number written out",
                            weight.span,
                            label="not a constant",
                            help="weights are fixed by the standard, e.g. `x: 0.4`",
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
            if all(isinstance(a, n.Selection) for a in args):
                self._not_in_rollup(expr, ctx)
                sel = self._selection(args, fn)
                return Bound("call", data=(fn + "_sel", sel), type="num", span=sp)
            bound = tuple(self._bind_num(a, ctx) for a in args if not isinstance(a, n.Selection))
            if len(bound) != len(args):
                self.d.error(
                    "E0301",
                    f"`{fn}` takes either selections or values, not both",
                    sp,
                    label="mixed arguments",
                    help="split it in two calls",
                )
            return Bound("call", bound, data=(fn, None), type="num", span=sp)
        if fn in SELECTION_FUNCS:
            self._not_in_rollup(expr, ctx)
            fail = Bound(
                "const", data=None, type="bool" if fn == "critical_failed" else "num", span=sp
            )
            if not arity(1, _MANY):
                return fail
            for a in args:
                if not isinstance(a, n.Selection):
                    self.d.error(
                        "E0301",
                        f"`{fn}` takes selections (`items`, `tagged T`, `in SECTION`)",
                        a.span,
                        label="not a selection",
                        help=f"e.g. `{fn}(tagged compliance)`",
                    )
                    return fail
            sel = self._selection(args, fn)
            if sel[0] == "sections" and fn != "count":
                self.d.error(
                    "E0301",
                    f"`{fn}` works on items, not sections",
                    sp,
                    label="sections",
                    help=f"use `{fn}(items)` or `{fn}(in SECTION)`",
                )
                return fail
            if fn == "critical_failed":
                crit = tuple(i.name for i in sel[1] if self.items[i.name].critical)
                return Bound("call", data=("critical_failed", crit), type="bool", span=sp)
            return Bound("call", data=(fn, sel), type="num", span=sp)
        if fn == "clamp":
            if not arity(3):
                return bad
            bound = tuple(self._bind_num(a, ctx) for a in args)  # type: ignore[arg-type]
            return Bound("call", bound, data=("clamp", None), type="num", span=sp)
        if fn == "coalesce":
            if not arity(2, _MANY):
                return bad
            bound_list = [self.bind(a, ctx) for a in args]
            typ = next((b.type for b in bound_list if b.type not in ("labellit", "any")), "num")
            bound = tuple(
                self._expect_type(b, typ, a, _type_words(typ))
                for b, a in zip(bound_list, args, strict=True)
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
                self._expect_type(self.bind(a, ctx), t, a, _type_words(t))
                for a, t in zip(args, spec.params, strict=True)
            )
            return Bound("call", bound, data=("plugin", fn), type=spec.returns, span=sp)  # type: ignore[arg-type]
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
            f"unknown function `{fn}`",
            expr.name_span,
            label="no such function",
            help=f"did you mean `{hint}`?"
            if hint
            else "the built-in functions are listed in the language reference",
        )
        return bad

    def _name_arg(self, arg: Any, kind: str) -> str | None:
        if isinstance(arg, n.Name) and arg.name in self.decls and self.decls[arg.name].kind == kind:
            return arg.name
        if isinstance(arg, n.Name):
            candidates = [k for k, d in self.decls.items() if d.kind == kind]
            hint = did_you_mean(arg.name, candidates)
            code = {"item": "E0209", "coefficient": "E0208"}.get(kind, "E0201")
            self.d.error(
                code,
                f"unknown {kind} `{arg.name}`",
                arg.span,
                label=f"not {_a(kind)}",
                help=lookalike_help(arg.name, hint)
                if hint
                else f"this needs the name of {_a(kind)}",
            )
            return None
        self.d.error(
            "E0301",
            f"expected the name of {_a(kind)}",
            arg.span,
            label=f"not {_a(kind)} name",
            help=f"write the {kind}'s name alone",
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
                f"`{fn}({name})` needs a scored item",
                arg.span,
                label="unscored item",
                help="give the item a scale, a range or a formula",
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
                    "`sections` cannot be combined with other selections",
                    args[1].span,
                    label="extra selection",
                    help="use `sections` alone",
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
                        f"no item is tagged `{a.name}`",
                        a.span,
                        label="unknown tag",
                        help=f"did you mean `{hint}`?" if hint else "tag items with `tags NAME`",
                    )
            else:
                if a.name not in self.sections:
                    hint = did_you_mean(a.name or "", self.sections)
                    self.d.error(
                        "E0204",
                        f"unknown section `{a.name}`",
                        a.span,
                        label="no section of this name",
                        help=f"did you mean `{hint}`?" if hint else "declare the section",
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
            bound = self._expect_type(bound, "bool", e, "a condition (an expectation)")
            expects.append((bound, self._text(e) or ""))
        visit = {}
        for a in node.visit:
            key = BUILTIN_FIELDS.get(a.name, a.name)
            if a.name not in BUILTIN_FIELDS and a.name not in self.fields:
                hint = did_you_mean(a.name, [*BUILTIN_FIELDS, *self.fields])
                self.d.error(
                    "E0205",
                    f"unknown visit field `{a.name}`",
                    a.span,
                    label="not a visit attribute",
                    help=f"did you mean `{hint}`?" if hint else "declare it with `field`",
                )
            visit[key] = _label_value(a.value)
        answers = {}
        item_names = [k for k, d in self.decls.items() if d.kind == "item"]
        for a in node.answers:
            if a.name not in item_names:
                hint = did_you_mean(a.name, item_names)
                self.d.error(
                    "E0209",
                    f'unknown item `{a.name}` in the answers of example "{node.name}"',
                    a.span,
                    label="not an item",
                    help=f"did you mean `{hint}`?"
                    if hint
                    else "answers are given to items by name",
                )
            elif a.name in answers:
                self.d.error(
                    "E0101",
                    f'`{a.name}` is answered twice in example "{node.name}"',
                    a.span,
                    label="second answer",
                    help="remove one of them",
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
                        f"cycle between formulas: {chain}",
                        spans[node],
                        label="depends on itself",
                        help="break the cycle: one of these must not use the others",
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
                    f"cycle between rollups: {chain}",
                    spans[name],
                    label="depends on itself",
                    help="break the cycle: one of these must not use the others",
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
                    f"`{last.text},{after.text}` is two arguments, {last.text} and {after.text}",
                    both,
                    label="a decimal comma?",
                    help=f"write `{last.text}.{after.text}` for a decimal; put a space "
                    f"after the comma if two numbers are meant",
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
            self._in_range(coef, ranges.get(coef), t.value, f"target {coef} {t.value.text}")
        for coef in bands:
            for band in flat.bands[coef].bands:
                if band.threshold is not None:
                    what = f"band `{band.label} >= {band.threshold.text}`"
                    self._in_range(coef, ranges.get(coef), band.threshold, what)

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

    def _in_range(self, coef: str, rng: Interval | None, value: n.Number, what: str) -> None:
        if rng is None or rng is _EMPTY or math.isinf(rng[1]):
            return
        lo, hi = rng
        if value.value <= hi + 1e-12:
            return
        percent = hi <= 1 and 1 < value.value <= 100
        self.d.warn(
            "W0704",
            f"{what} is never reached: `{coef}` is at most {_fmt(hi)}",
            value.span,
            label=f"`{coef}` ranges over [{_fmt(lo)}, {_fmt(hi)}]",
            help=f"did you mean {_fmt(value.value / 100)}? Coefficients here run from 0 "
            "to 1, not in percent"
            if percent
            else f"give a value the coefficient can reach, at most {_fmt(hi)}",
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
            reach = "is unbounded" if math.isinf(worst) else f"can give {_fmt(worst)}"
            self.d.warn(
                "W0701",
                f"the score formula of `{item.name}` {reach}, outside [0, 1]",
                expr.span,
                label=f"ranges over [{_fmt(lo)}, {_fmt(hi)}]",
                help="a visit whose score leaves [0, 1] is rejected; wrap it in "
                "`clamp(…, 0, 1)` or fix the formula",
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


def _a(noun: str) -> str:
    """`an item`, `a section`: the noun with its article."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _type_words(t: str) -> str:
    return {
        "num": "a number",
        "bool": "a condition",
        "str": "a text",
        "label": "an answer label",
        "sel": "a selection",
        "labellit": "a name",
        "any": "a value",
    }[t]


def _compare_help(lhs: Bound, rhs: Bound) -> str:
    """What to change in a comparison of mismatched sides, pointing at the side to fix."""
    a, b = lhs.type, rhs.type
    if {a, b} == {"num", "label"}:
        return "an item's name gives its score (a number); compare `answer(x)` with a label"
    if {a, b} == {"num", "str"}:
        text = lhs if a == "str" else rhs
        if text.op == "const" and number_of(text.data) is not None:
            return f'"{text.data}" in quotes is text; write the number without quotes'
        return "a visit attribute is text; compare it with a string in quotes"
    return "both sides of a comparison must be of one kind"


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
