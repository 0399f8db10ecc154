"""Evaluation order: what each formula reads, in an order that reads nothing late.

Items, sections and coefficients are ordered so that each comes after everything
it reads; a formula that reads itself, directly or through others, is a cycle
(E0401), and so are rollups that refer to each other in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nodes as n
from ..ir import AnswerRef, Bound, Call, CoefRef, ItemRef, RollupRef, SectionRef
from ..messages import message
from ..model import CoefficientModel, RollupModel
from .declarations import Declarations


class Order(Declarations):
    """The evaluation order of per-visit formulas; cycles among rollups."""

    def _order(
        self, coefficients: list[CoefficientModel], labels: Sequence[CoefficientModel] = ()
    ) -> tuple[tuple[str, str], ...]:
        deps: dict[tuple[str, str], list[tuple[str, str]]] = {}
        spans: dict[tuple[str, str], n.Span] = {}
        for item in self.items.values():
            key = ("item", item.name)
            exprs = [
                e
                for e in (
                    item.computed,
                    item.when,
                    item.section_when,
                    item.score,
                    item.critical_when,
                )
                if e is not None
            ]
            # a score formula and a critical condition are read after the item's answer:
            # they may read the item itself (a score formula only by `value`)
            after = (item.score, item.critical_when)
            deps[key] = [
                d for e in exprs for d in _deps(e) if d != key or not any(e is a for a in after)
            ]
            spans[key] = item.span
            # its own answer (`selected(x, L)` in x's formula) is no cycle; its score is
            if item.score is not None and key in _deps(item.score, answer_of=item.name):
                deps[key].append(key)
        for sec in self.sections.values():
            deps[("section", sec.name)] = [("item", i) for i in sec.items if i in self.items]
            spans[("section", sec.name)] = sec.span
        for c in (*coefficients, *labels):
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
        label_names = {c.name for c in labels}
        return tuple(
            ("label", name) if kind == "coef" and name in label_names else (kind, name)
            for kind, name in order
        )

    def _rollup_cycles(self, rollups: list[RollupModel]) -> None:
        """E0401 for rollups that refer to each other in a circle (one report per cycle)."""
        deps = {
            r.name: [b.name for b in r.expr.walk() if isinstance(b, RollupRef)] for r in rollups
        }
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


def _deps(expr: Bound, answer_of: str | None = None) -> list[tuple[str, str]]:
    """What an expression reads, each once, in the order it reads them: the evaluation
    order is built from these, so it must not follow a set's hash order (which formula
    fails first in a visit would then change from run to run). The options chosen of
    item `answer_of` (its own formula's `selected`) are left out: they are read before
    its score is."""
    out: dict[tuple[str, str], None] = {}
    for node in expr.walk():
        match node:
            case Call(fn="selected" | "selected_count", payload=(_, (chosen,))) if (
                chosen.name == answer_of
            ):
                pass
            case ItemRef(name=name) | AnswerRef(name=name):
                out[("item", name)] = None
            case SectionRef(name=name):
                out[("section", name)] = None
            case CoefRef(name=name):
                out[("coef", name)] = None
            case Call(fn=fn, payload=payload):
                if fn == "critical_failed":
                    out.update(dict.fromkeys(("item", i) for i in payload))
                elif fn == "failed":
                    if payload:
                        out[("item", payload)] = None
                elif isinstance(payload, tuple) and len(payload) == 2:
                    kind, selected = payload
                    if kind == "items":
                        out.update(dict.fromkeys(("item", x.name) for x in selected))
                    elif kind == "sections":
                        out.update(dict.fromkeys(("section", x[0]) for x in selected))
    return list(out)
