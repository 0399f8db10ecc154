"""Declarations: scales, fields, items, sections and bands, each valid on its own.

The first analysis of the checker: what every declaration says, before any formula
is bound (an item's shape, its weight, its scale; a band scheme's order; names
that may not be declared), and the warnings about declarations nothing uses.
It also holds the state the later analyses share (`Declarations.__init__`).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import attrs

from .. import nodes as n
from ..builtins import BUILTINS, BuiltinTable
from ..diagnostics import Diagnostics, declaration_kind, did_you_mean, mixed_scripts
from ..functions import FunctionRegistry, default_registry
from ..ir import Bound, Const
from ..keywords import RESERVED
from ..loader import Decl, Flat
from ..messages import message
from ..model import (
    BUILTIN_FIELD_TYPES,
    BUILTIN_FIELDS,
    BandsModel,
    FieldModel,
    ItemModel,
    RollupTerm,
    ScaleEntryModel,
    ScaleModel,
    SectionModel,
)
from ..runtime import label_key, number_of


class Declarations:
    """The checker's state, and the rules of declarations."""

    def __init__(
        self,
        flat: Flat,
        functions: FunctionRegistry | None = None,
        builtins: BuiltinTable | None = None,
    ) -> None:
        self.flat = flat
        self.functions = functions or default_registry()
        self.builtins = builtins or BUILTINS
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
        #: the per-visit terms of the rollup being bound (`avg(…)` and the like)
        self._terms: list[RollupTerm] = []
        #: the bound `when` conditions of each coefficient's bands (`Binding._band_conditions`)
        self._band_whens: dict[str, tuple[Bound | None, ...]] = {}
        self._band_whens_busy: set[str] = set()
        #: each coefficient's formula, bound on first need (`Binding._coefficient`)
        self._bound_coefs: dict[str, Bound] = {}
        self._coefs_busy: set[str] = set()

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

    def _scale(
        self,
        name: str,
        entries: tuple[n.ScaleEntry, ...],
        span: n.Span,
        kind: Literal["score", "points", "penalty"] = "score",
    ) -> ScaleModel:
        seen: dict[str, n.Span] = {}
        out = []
        most = max((e.score.value for e in entries), default=0.0)
        for entry in entries:
            value = entry.score.value
            points = None
            if kind == "score":
                score = value
                if not 0.0 <= score <= 1.0:
                    self.d.error(
                        "E0502",
                        message(
                            "E0502.score.message", score=entry.score.text, label=entry.label.value
                        ),
                        entry.score.span,
                        label=message("E0502.score.label"),
                        help=message("E0502.score.help"),
                    )
            else:
                points = value
                if value < 0:
                    self.d.error(
                        "E0502",
                        message(
                            "E0502.points.message", points=entry.score.text, label=entry.label.value
                        ),
                        entry.score.span,
                        label=message("E0502.points.label"),
                        help=message("E0502.points.help"),
                    )
                share = value / most if most > 0 else 0.0
                score = (most - value) / most if kind == "penalty" and most > 0 else share
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
                    entry.label.value, score, tuple(a.value for a in entry.aliases), numeric, points
                )
            )
        if not entries:
            self.d.error(
                "E0504",
                message("E0504.empty_scale.message"),
                span,
                label=message("E0504.empty_scale.label"),
            )
        elif kind != "score" and not most > 0:
            item, inline, _ = name.partition(":")  # `answer any of { … }` of an item
            self.d.error(
                "E0504",
                message("E0504.no_points_inline.message", item=item)
                if inline
                else message("E0504.no_points.message", scale=name),
                span,
                label=message("E0504.no_points.label"),
                help=message("E0504.no_points.help"),
            )
        return ScaleModel(name, tuple(out), span=span, kind=kind)

    def _field(self, node: n.Field) -> FieldModel:
        values = tuple(v.value for v in node.values) if node.values is not None else None
        kind = node.type or "text"
        if node.name == "id":  # the visit's identifier: `visit_id` in every record
            self.d.error(
                "E0101",
                message("E0101.builtin_field.message", name=node.name),
                node.name_span,
                label=message("E0101.builtin_field.label"),
                help=message("E0101.builtin_field.help", names=", ".join(BUILTIN_FIELDS)),
            )
        elif node.name in BUILTIN_FIELDS and kind not in BUILTIN_FIELD_TYPES.get(
            node.name, frozenset({"text"})
        ):
            allowed = sorted(BUILTIN_FIELD_TYPES.get(node.name, frozenset({"text"})))
            self.d.error(
                "E0510",
                message("E0510.field.type_message", name=node.name, type=kind),
                node.type_span,
                label=message("E0510.field.type_label"),
                help=message("E0510.field.type_help", name=node.name, types=", ".join(allowed)),
            )
        if node.values is not None and kind != "text":
            self.d.error(
                "E0104",
                message("E0104.field_values.message", field=node.name, type=kind),
                node.type_span,
                label=message("E0104.field_values.label"),
                help=message("E0104.field_values.help"),
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
        return FieldModel(
            node.name,
            node.title,
            values if kind == "text" else None,
            span=node.name_span,
            type=kind,  # type: ignore[arg-type]
            required=node.required,
        )

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
        multi = isinstance(answer, n.MultiAnswer)
        if isinstance(answer, n.MultiAnswer):
            answer = answer.options
        if isinstance(answer, n.ScaleAnswer):
            kind = "scale"
            scale = self.scales.get(answer.scale)
            if scale is None:
                scale_names = [k for k, d in self.decls.items() if d.kind == "scale"]
                if answer.scale in scale_names:
                    node_scale: n.Scale = self.decls[answer.scale].node
                    scale = self._scale(
                        answer.scale, node_scale.entries, node_scale.span, node_scale.kind
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
            # the options of `answer any of {…}` are points, a plain inline scale's scores
            scale = self._scale(
                f"{node.name}:scale", answer.entries, answer.span, "points" if multi else "score"
            )
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
        if multi:
            kind = "multi"
            # (a points or penalty scale with no points is E0504 already)
            if scale is not None and scale.kind == "score" and not scale.options_max > 0:
                self.d.error(
                    "E0511",
                    message("E0511.no_points.message", item=node.name),
                    node.answer.span,
                    label=message("E0511.no_points.label"),
                    help=message("E0511.no_points.help"),
                )
        self._unscored_options(node, kind, low is not None)
        if node.unscored:
            for option, present, span in (
                ("critical", node.critical, node.name_span),
                ("bonus", node.bonus, node.name_span),
                ("weight", node.weight is not None, _span(node.weight, node.name_span)),
                ("score =", node.score is not None, _span(node.score, node.name_span)),
            ):
                if present:
                    self.d.error(
                        "E0104",
                        message("E0104.unscored_option.message", item=node.name, option=option),
                        span,
                        label=message("E0104.unscored_option.label"),
                        help=message("E0104.unscored_option.help", option=option),
                    )
        if node.value is not None and node.presence is not None:
            self.d.error(
                "E0104",
                message("E0104.computed_presence.message", item=node.name, option=node.presence),
                node.value.span,
                label=message("E0104.computed_presence.label"),
                help=message("E0104.computed_presence.help", option=node.presence),
            )
        if node.value is not None and kind != "number":
            self.d.error(
                "E0104",
                message("E0104.computed_number.message", item=node.name),
                node.value.span,
                label=message("E0104.computed_number.label"),
                help=message("E0104.computed_number.help"),
            )
        # (a multi-select's formula may replace its score: `value` is the points P)
        if scale is not None and scale.kind != "score" and node.score is not None and not multi:
            self.d.error(
                "E0104",
                message("E0104.points_score.message", item=node.name),
                node.score.span,
                label=message("E0104.points_score.label"),
                help=message("E0104.points_score.help"),
            )
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
            unscored=node.unscored,
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
        if (
            node.unscored
            or kind in ("scale", "multi")
            or (kind == "number" and (ranged or node.score is not None))
        ):
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
        if name in self._bound_coefs:  # a coefficient, but a label: no thresholds for it
            self.d.error(
                "E0208",
                message("E0208.label_coefficient.message", name=name),
                span,
                label=message("E0208.label_coefficient.label"),
                help=message("E0208.label_coefficient.help", name=name),
            )
            return False
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

    def _number(self, value: n.Number | n.Name, report: bool = True) -> n.Number:
        """A target or threshold as a number: as written, or a constant's (written as
        the constant's name). An unknown name is E0201 (when `report`) and reads as NaN,
        which no threshold check fails on."""
        if isinstance(value, n.Number):
            return value
        decl = self.decls.get(value.name)
        if decl is not None and decl.kind == "constant":
            return n.Number(decl.node.value.value, value.name, span=value.span)
        if report:
            constants = [k for k, d in self.decls.items() if d.kind == "constant"]
            hint = did_you_mean(value.name, constants)
            self.d.error(
                "E0201",
                message("E0201.unknown_constant.message", name=value.name),
                value.span,
                label=message("E0201.unknown_constant.label"),
                help=message("hint.did_you_mean", name=hint)
                if hint
                else message("E0201.unknown_constant.help"),
            )
        return n.Number(math.nan, value.name, span=value.span)

    def _bands(self, node: n.Bands) -> BandsModel:
        """The thresholds of a `bands` block, checked (conditions are bound by `Binding`)."""
        bands: list[tuple[str, float | None]] = []
        previous: n.Band | None = None
        seen: set[str] = set()
        ops = [b.op for b in node.bands if b.threshold is not None]
        op = ops[0] if ops else ">="
        resolved = [
            b if b.threshold is None else attrs.evolve(b, threshold=self._number(b.threshold))
            for b in node.bands
        ]
        for i, band in enumerate(resolved):
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
            if band.threshold is None and band.when is None and not last:
                self.d.error(
                    "E0506",
                    message("E0506.no_threshold.message", band=band.label),
                    band.span,
                    label=message("E0506.no_threshold.label"),
                    help=message("E0506.no_threshold.help", band=band.label),
                )
            if band.threshold is not None and band.op != op:
                self.d.error(
                    "E0503",
                    message("E0503.mixed.message", coefficient=node.coefficient),
                    band.span,
                    label=message("E0503.mixed.label"),
                    help=message("E0503.mixed.help"),
                )
            elif band.threshold is not None and band.when is None:
                # Thresholds without conditions must each leave room for the next; one
                # with a condition may repeat a threshold (another condition, same level).
                assert isinstance(band.threshold, n.Number)
                if isinstance(previous, n.Band) and isinstance(previous.threshold, n.Number):
                    ordered = math.isnan(band.threshold.value) or (
                        band.threshold.value < previous.threshold.value
                        if op == ">="
                        else band.threshold.value > previous.threshold.value
                    )
                    if not ordered:
                        band_text = f"{band.label} {op} {band.threshold.text}"
                        previous_text = f"{previous.label} {op} {previous.threshold.text}"
                        if op == ">=":
                            text = message(
                                "E0503.order.message", band=band_text, previous=previous_text
                            )
                            label = message("E0503.order.label")
                            hint = message("E0503.order.help")
                        else:
                            text = message(
                                "E0503.order_at_most.message",
                                band=band_text,
                                previous=previous_text,
                            )
                            label = message("E0503.order_at_most.label")
                            hint = message("E0503.order_at_most.help")
                        self.d.error("E0503", text, band.span, label=label, help=hint)
                previous = band
            limit = band.threshold
            bands.append((band.label, limit.value if isinstance(limit, n.Number) else None))
        rest = node.bands[-1] if node.bands else None
        if rest is None or rest.threshold is not None or rest.when is not None:
            span = rest.span if rest is not None else node.span
            self.d.error(
                "E0506",
                message("E0506.no_catch_all.message", coefficient=node.coefficient),
                span,
                label=message("E0506.no_catch_all.label"),
                help=message("E0506.no_catch_all.help"),
            )
        return BandsModel(node.coefficient, tuple(bands), span=node.span, op=op)

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


def _span(node: n.Number | n.Expr | None, default: n.Span) -> n.Span:
    return node.span if node is not None else default


#: Stands for an item's score formula until formulas are bound (`_item_shape`).
_PENDING = Const(None)


def _weight_owner(kind: str, name: str) -> str:
    """Whose weight: "item `x`", "section `x`", "a weighted term"."""
    if kind == "item":
        return message("E0501.weight.of_item", name=name)
    if kind == "section":
        return message("E0501.weight.of_section", name=name)
    return message("E0501.weight.of_term")
