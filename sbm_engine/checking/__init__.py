"""The checker: every rule of the language that can be decided before any visit.

It turns a `Flat` namespace into a `StandardModel`: names resolved (with "did you
mean" for near misses), types checked (a label where a number is needed, a
selection where a value is), weights, scale scores and bands validated, formula
cycles found, and every finding reported as a `Diagnostic` — all of them, not
just the first.

One module per analysis, each a class the `Checker` is made of: `declarations`
(what each declaration says, and the state every analysis shares), `binding`
(expressions to the typed intermediate form of `ir`), `order` (the evaluation
order and its cycles), `ranges` (the interval analysis behind W0701 and W0704).
"""

from __future__ import annotations

import attrs

from .. import nodes as n
from ..builtins import BUILTINS, BuiltinTable
from ..diagnostics import CompileError, Diagnostics
from ..exact import make_exact
from ..functions import FunctionRegistry
from ..ir import Bound
from ..keywords import RESERVED
from ..loader import Flat
from ..model import CoefficientModel, SectionModel, StandardModel
from .binding import Binding, _Context
from .order import Order
from .ranges import Ranges


class Checker(Binding, Order, Ranges):
    """All the analyses, run in order over one standard (`check`)."""

    def check(self) -> StandardModel:
        flat = self.flat
        for name, decl in self.decls.items():
            self._check_name(name, decl)
        for name, decl in self.decls.items():
            if decl.kind == "scale":
                scale: n.Scale = decl.node
                self.scales[name] = self._scale(name, scale.entries, scale.span, scale.kind)
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
            computed = None
            if node.value is not None and item.kind == "number":  # else E0104 already
                computed = self._bind_num(node.value, _Context("when", owner=name))
            score = None
            if node.score is not None and item.kind != "text":  # text: E0104 already
                score = self._bind_num(node.score, _Context("score", item=item, owner=name))
                self._range_warning(node.score, score, item)
            critical_when = None
            if node.critical_if is not None and item.scored:  # else E0104 already
                critical_when = self._bind_condition(node.critical_if, _Context("when", owner=name))
            self.items[name] = attrs.evolve(
                item,
                critical_when=critical_when,
                critical_when_text=self._text(node.critical_if),
                when=when,
                section_when=section_when.get(decl.section) if decl.section else None,
                score=score,
                when_text=self._text(node.when),
                score_text=self._text(node.score),
                computed=computed,
                computed_text=self._text(node.value),
            )
        coefficients: list[CoefficientModel] = []
        labels: list[CoefficientModel] = []
        for name, decl in self.decls.items():
            if decl.kind == "coefficient":
                formula = CoefficientModel(
                    name,
                    decl.node.title,
                    self._coefficient(name),
                    self._text(decl.node.expr) or "",
                    span=decl.node.name_span,
                )
                (labels if formula.is_label else coefficients).append(formula)
        coef_names = {c.name for c in coefficients}
        rollups = [self._rollup(d.node) for d in self.decls.values() if d.kind == "rollup"]
        self._rollup_cycles([r for r in rollups if r is not None])
        targets = {}
        for coef, t in flat.targets.items():
            if self._known_coefficient(coef, t.name_span, coef_names):
                targets[coef] = self._number(t.value).value
        bands = {}
        for coef, b in flat.bands.items():
            if self._known_coefficient(coef, b.name_span, coef_names):
                conditions = self._band_conditions(coef)
                bands[coef] = attrs.evolve(
                    self._bands(b),
                    conditions=conditions,
                    condition_texts=tuple(self._text(x.when) for x in b.bands)
                    if conditions
                    else (),
                )
        self.band_labels = {c: frozenset(lbl for lbl, _ in b.bands) for c, b in bands.items()}
        self._targets_in_range(flat, coefficients, targets, bands)
        examples = [self._example(e) for e in flat.examples]
        order = self._order(coefficients, labels)
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
            builtins=None if self.builtins is BUILTINS else self.builtins,
            labels=tuple(labels),
            constants={
                name: (d.node.value.value, d.node.value.text)
                for name, d in self.decls.items()
                if d.kind == "constant"
            },
        )
        return make_exact(model)


def check(
    flat: Flat, functions: FunctionRegistry | None = None, builtins: BuiltinTable | None = None
) -> tuple[StandardModel, Diagnostics]:
    """Check a flat standard; raise `CompileError` if any error was found. `builtins`:
    the built-in functions (`builtins.BUILTINS` unless given)."""
    checker = Checker(flat, functions, builtins)
    model = checker.check()
    if checker.d.has_errors:
        raise CompileError(checker.d, flat.sources)
    return model, checker.d


__all__ = ["RESERVED", "Checker", "check"]
