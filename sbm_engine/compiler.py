"""Checked standard to Python source, Jinja2 style: readable code you can print.

`sbm explain --show-python` (and `CompiledStandard.python_source`) shows what a
standard became. The generated function handles one visit in straight-line code:
each item's answer looked up in a dict of its labels (with a slow path in
`runtime` for everything unusual), each mean accumulated inline, N/A carried as
`None`. Names in the generated code are never taken from user text: items are
`s0, s1…`, sections `q0…`, coefficients `c0…`, and user strings live in constants.
A line map records which `.sbm` span every generated line came from, so a failure
at run time (a division by zero, say) is reported against the standard's source.
"""

from __future__ import annotations

import hashlib
import linecache
import marshal
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import CodeType
from typing import Any

from .builtins import emit_value_call, table_of
from .codegen import (
    NO_PLACE,
    Emitter,
    Place,
    Py,
    compile_checked,
    ident,
    join,
    number,
    printable,
    py,
    tuple_display,
)
from .exact import places_of
from .functions import FunctionRegistry, default_registry
from .ir import (
    And,
    AnswerRef,
    Arith,
    Bound,
    Call,
    CoefRef,
    Compare,
    Const,
    Exact,
    FieldRef,
    If,
    ItemRef,
    Neg,
    Not,
    Or,
    SectionRef,
    ValueRef,
)
from .model import ItemModel, SelectedItem, StandardModel, expressions
from .runtime import (
    EXPORTED,
    NA_FAST,
    ItemInfo,
    fast_table,
    label_key,
    not_applicable,
    number_of,
)
from .spans import NOWHERE, Span

APPROX = 1e-9
#: Bands of a coefficient compiled to one inline expression; more call `band_of`.
INLINE_BANDS = 32


def item_info(item: ItemModel) -> ItemInfo:
    """The slow path's view of an item: labels, aliases and numbers to match answers."""
    labels: tuple[Any, ...] = ()
    scores: tuple[float, ...] = ()
    lookup: dict[str, int] = {}
    numeric: dict[float, int] = {}
    if item.scale is not None:
        numeric_scale = item.scale.numeric
        labels = tuple((e.numeric if numeric_scale else e.label) for e in item.scale.entries)
        scores = tuple(e.score for e in item.scale.entries)
        for i, e in enumerate(item.scale.entries):
            lookup.setdefault(label_key(e.label), i)
            for alias in e.aliases:
                lookup.setdefault(label_key(alias), i)
            num = number_of(e.label) if e.numeric is not None else None
            if num is not None:
                numeric.setdefault(num, i)
    points: tuple[float, ...] = ()
    exact_scale: float | None = None
    if item.kind == "multi" and item.scale is not None:
        points = item.scale.option_points
        places = [places_of(p) for p in points]
        if all(p is not None for p in places):
            exact_scale = 10.0 ** max((p or 0 for p in places), default=0)
    return ItemInfo(
        item.name,
        item.presence,
        item.low,
        item.high,
        tuple(str(x) if not isinstance(x, float) else _label_text(x) for x in labels),
        scores,
        lookup,
        numeric,
        points,
        exact_scale,
    )


def _label_text(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


class PythonCompiler:
    """Compiles one `StandardModel` into a module with `evaluate(answers, visit, errs, warns)`."""

    def __init__(
        self, model: StandardModel, functions: FunctionRegistry | None = None, approx: bool = False
    ) -> None:
        self.m = model
        self.functions = functions or default_registry()
        self.builtins = table_of(model)
        self.approx = approx
        self.e = Emitter()
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[tuple[str, Any], Py] = {}
        self.tmp = 0
        self.item_idx = {it.name: i for i, it in enumerate(model.items)}
        self.sec_idx = {s.name: i for i, s in enumerate(model.sections)}
        # labels (coefficients that give a label) are numbered after the numbers
        self.coef_models = [*model.coefficients, *model.labels]
        self.coef_idx = {c.name: i for i, c in enumerate(self.coef_models)}
        self.items = {it.name: it for it in model.items}
        self.sections = {s.name: s for s in model.sections}
        self.needs_label = self._items_read_by_answer()
        #: the local holding whether a critical item with `critical if` failed the visit
        self.critical_vars: dict[str, Py] = {}
        self.section_when_done: set[str] = set()
        self.current_item: ItemModel | None = None
        self.fields_used: dict[str, Py] = {}
        self.n_terms = 0

    # -- helpers -----------------------------------------------------------------------------

    def const(self, kind: str, value: Any) -> Py:
        """A module-level constant holding a value: how user text reaches the code."""
        key = (kind, value if _hashable(value) else id(value))
        if key not in self._const_ids:
            name = ident(kind, len(self._const_ids))
            self._const_ids[key] = name
            self.consts[name] = value
        return self._const_ids[key]

    def num(self, value: float) -> Py:
        """A number in the code: a literal when finite, else a constant (`inf` is no literal)."""
        literal = number(value)
        return literal if literal is not None else self.const("L", float(value))

    def fresh(self) -> Py:
        self.tmp += 1
        return ident("t", self.tmp)

    def where(self, span: Span) -> str:
        return f"{span.file}:{span.line}" if span.line else span.file

    def _items_read_by_answer(self) -> set[str]:
        names: set[str] = set()
        exprs: list[Bound] = list(expressions(self.m))
        for ex in self.m.examples:
            exprs += [b for b, _ in ex.expects]
        for b in exprs:
            for node in b.walk():
                if isinstance(node, AnswerRef | ValueRef):
                    names.add(node.name)
        return names

    # -- the module --------------------------------------------------------------------------

    def compile(self) -> str:
        m = self.m
        e = self.e
        body_start = len(e.lines)
        for kind, name in m.order:
            if kind == "item":
                self.emit_item(self.items[name])
            elif kind == "section":
                self.emit_section(name)
            else:
                self.emit_coefficient(name)
        self.emit_critical()
        self.emit_outcomes()
        self.emit_rollup_terms()
        groups = [
            [self.item_var(it.name) for it in m.items],
            [ident("q", i) for i in range(len(m.sections))],
            [ident("c", i) for i in range(len(m.coefficients))],
            [ident("b", i) for i in range(len(m.bands))],
            [ident("g", i) for i in range(len(m.targets))],
            [ident("c", len(m.coefficients) + j) for j in range(len(m.labels))],
        ]
        terms = [ident("r", i) for i in range(self.n_terms)]
        e.span = (NOWHERE, NO_PLACE)
        outputs = join([tuple_display(g) for g in groups])
        e.line(py("return {}, critical, {}", outputs, tuple_display(terms)))
        body = e.lines[body_start:]
        spans = e.line_spans[body_start:]
        prelude = [
            py("    {} = visit.get({})", var, self.const("K", field))
            for field, var in self.fields_used.items()
        ]
        self.line_map = [(NOWHERE, NO_PLACE)] * (len(HEADER) + len(prelude)) + spans
        return "\n".join([*HEADER, *prelude, *body]) + "\n"

    def item_var(self, name: str) -> Py:
        return ident("s", self.item_idx[name])

    # -- items -------------------------------------------------------------------------------

    def emit_item(self, it: ItemModel) -> None:
        e = self.e
        i = self.item_idx[it.name]
        e.span = (it.span, Place("item", it.name))
        e.line(py("# item {}", ident("s", i)))
        conds: list[Py] = []
        if it.section_when is not None:
            sec = it.section
            assert sec is not None
            var = ident("w", self.sec_idx[sec])
            if sec not in self.section_when_done:
                e.span = (self.sections[sec].span, Place("section_condition", sec))
                atom = self.ex(it.section_when)
                e.line(py("{} = {}", var, atom))
                self.section_when_done.add(sec)
                e.span = (it.span, Place("item", it.name))
            conds.append(var)
        if it.when is not None:
            e.span = (it.span, Place("item_condition", it.name))
            if conds:  # the item's own condition is read only where its section applies
                applies = self.fresh()
                e.line(py("{} = {}", applies, conds[0]))
                with e.block(py("if {}:", applies)):
                    e.line(py("{} = {}", applies, self.ex(it.when)))
                conds = [applies]
            else:
                conds.append(self.ex(it.when))
            e.span = (it.span, Place("item", it.name))
        key = self.const("K", it.name)
        if conds:
            with e.block(py("if {}:", conds[0])):
                self.emit_answer(it, i, key)
            with e.block(py("else:")):
                if it.kind == "multi":
                    e.line(py("{} = {} = {} = None", ident("s", i), ident("v", i), ident("o", i)))
                else:
                    e.line(py("{} = {} = None", ident("s", i), ident("v", i)))
                if it.computed is None:  # a computed item is never answered
                    # The warning's text is made on the first visit it concerns.
                    msg = self.const("M", not_applicable(it.name, it.when_text))
                    with e.block(py("if answered(get({}, MISSING)):", key)):
                        e.line(py("warns.append(VisitWarning({}, {}()))", key, msg))
        else:
            self.emit_answer(it, i, key)
        if it.unscored:  # the answer is read and checked; the item has no score
            e.line(py("{} = None", ident("s", i)))
        if it.critical_when is not None:
            # read where the item scored 0 only: whether that 0 fails the visit
            k = self.critical_vars[it.name] = self.fresh()
            e.line(py("{} = False", k))
            with e.block(py("if {} == 0:", ident("s", i))):
                e.span = (it.critical_when.span, Place("critical_condition", it.name))
                atom = self.ex(it.critical_when)
                with e.block(py("if {}:", atom)):
                    e.line(py("{} = True", k))
            e.span = (it.span, Place("item", it.name))

    def critical_check(self, name: str) -> Py:
        """Whether critical item `name` failed the visit: it scored 0 (and its
        `critical if` condition held)."""
        k = self.critical_vars.get(name)
        return k if k is not None else py("{} == 0", self.item_var(name))

    def emit_answer(self, it: ItemModel, i: int, key: Py) -> None:
        e = self.e
        s, v = ident("s", i), ident("v", i)
        info = self.const("I", item_info(it))
        info_obj = self.consts[info]
        if it.computed is not None:  # `value = EXPR`: the answer is worked out, not read
            e.span = (it.computed.span, Place("item_value", it.name))
            e.line(py("a = {}", self.ex(it.computed)))
            e.span = (it.span, Place("item", it.name))
        else:
            e.line(py("a = get({}, MISSING)", key))
        if it.kind == "scale":
            if it.name in self.needs_label:
                pairs = [
                    (info_obj.scores[k], _label_value(it, k)) for k in range(len(info_obj.scores))
                ]
                table_obj = fast_table(info_obj, lambda k: pairs[k], na=(None, None))
                table = self.const("P", table_obj)
                with e.block(py("try:")):
                    if _bool_collides(table_obj):
                        e.line(py("if type(a) is bool: raise KeyError"))
                    e.line(py("{}, {} = {}[a]", s, v, table))
                with e.block(py("except (KeyError, TypeError):")):
                    e.line(py("{} = scale_score({}, a, errs)", s, info))
                    e.line(py("{} = None if {} is None else scale_label({}, a, errs)", v, s, info))
                    if it.scale is not None and it.scale.numeric:
                        e.line(py("{} = None if {} is None else float({})", v, v, v))
            else:
                table_obj = fast_table(info_obj, lambda k: info_obj.scores[k])
                table = self.const("T", table_obj)
                with e.block(py("try:")):
                    if _bool_collides(table_obj):
                        e.line(py("if type(a) is bool: raise KeyError"))
                    e.line(py("{} = {}[a]", s, table))
                with e.block(py("except (KeyError, TypeError):")):
                    e.line(py("{} = scale_score({}, a, errs)", s, info))
                e.line(py("{} = None", v))
            if it.score is not None:
                self.emit_formula(it, i)
        elif it.kind == "multi":
            self.emit_multi(it, i, info)
        elif it.kind == "number":
            if it.low is not None and it.high is not None:
                fast = py(
                    "(type(a) is int or type(a) is float) and {} <= a <= {}",
                    self.num(it.low),
                    self.num(it.high),
                )
            else:  # finite, and an int a float can hold (`a + 0.0` of a larger one overflows)
                fast = py(
                    "(type(a) is int or type(a) is float) and {} <= a <= {}",
                    self.num(-sys.float_info.max),
                    self.num(sys.float_info.max),
                )
            with e.block(py("if {}:", fast)):
                e.line(py("{} = a + 0.0", v))  # a float, as on every other path
            if it.presence != "required":
                na = self.const("N", NA_FAST)
                with e.block(py("elif a is None or (type(a) is str and a in {}):", na)):
                    e.line(py("{} = None", v))
            with e.block(py("else:")):
                e.line(py("{} = number_answer({}, a, errs)", v, info))
            if it.score is not None:
                self.emit_formula(it, i)
            elif it.low is not None and it.high is not None:
                low, span = self.num(it.low), self.num(it.high - it.low)
                e.line(py("{} = None if {} is None else ({} - {}) / {}", s, v, v, low, span))
            else:
                e.line(py("{} = None", s))
        else:
            e.line(py("{} = text_answer({}, a, errs)", v, info))
            e.line(py("{} = None", s))

    def emit_multi(self, it: ItemModel, i: int, info: Py) -> None:
        """A multi-select: `o` the options chosen (a flag each), `v` their points P, the
        score P / MAX (or (MAX − P) / MAX on a penalty scale) or its formula's."""
        e = self.e
        s, v, o = ident("s", i), ident("v", i), ident("o", i)
        assert it.scale is not None
        most = self.num(it.scale.options_max)
        e.line(py("x = multi_answer({}, a, errs)", info))
        with e.block(py("if x is None:")):
            e.line(py("{} = {} = {} = None", s, v, o))
        with e.block(py("else:")):
            e.line(py("{}, {} = x", o, v))
            if it.scale.kind == "penalty":
                e.line(py("{} = ({} - {}) / {}", s, most, v, most))
            else:
                e.line(py("{} = {} / {}", s, v, most))
        if it.score is not None:
            self.emit_formula(it, i)

    def emit_formula(self, it: ItemModel, i: int) -> None:
        """`score = EXPR`: computed when the answer is not N/A, then checked to lie in [0, 1]."""
        e = self.e
        s, v = ident("s", i), ident("v", i)
        assert it.score is not None
        if it.kind == "number":
            e.line(py("{} = None", s))
        # A scale item's formula runs when its answer was a valid label, a number's when given.
        ready = s if it.kind in ("scale", "multi") else v
        with e.block(py("if {} is not None:", ready)):
            self.current_item = it
            e.span = (it.score.span, Place("score_formula", it.name))
            atom = self.ex(it.score)
            self.current_item = None
            e.line(py("{} = {}", s, atom))
            where = self.const("M", self.where(it.score.span))
            key = self.const("K", it.name)
            with e.block(py("if {} is not None and not 0.0 <= {} <= 1.0:", s, s)):
                e.line(py("score_out_of_range({}, {}, {}, errs)", key, s, where))
                e.line(py("{} = None", s))
        e.span = (it.span, Place("item", it.name))

    # -- sections and coefficients ------------------------------------------------------------

    def emit_section(self, name: str) -> None:
        e = self.e
        sec = self.sections[name]
        q = ident("q", self.sec_idx[name])
        e.span = (sec.span, Place("section", name))
        e.line(py("# section {}", q))
        selected = tuple(
            SelectedItem(i, self.items[i].weight, self.items[i].bonus)
            for i in sec.items
            if self.items[i].scored
        )
        atom = self.weighted_items(selected)
        e.line(py("{} = {}", q, atom))

    def emit_coefficient(self, name: str) -> None:
        e = self.e
        index = self.coef_idx[name]
        c = ident("c", index)
        coef = self.coef_models[index]
        e.span = (coef.span, Place("coefficient", name))
        e.line(py("# coefficient {}", c))
        atom = self.ex(coef.expr)
        if coef.is_label:  # a label or a text, written as text
            e.line(py("{} = label_text({})", c, atom))
        else:
            e.line(py("{} = {}", c, atom))

    def emit_critical(self) -> None:
        e = self.e
        e.span = (NOWHERE, Place("critical"))
        e.line(py("critical = []"))
        for it in self.m.items:
            if it.critical:
                with e.block(py("if {}:", self.critical_check(it.name))):
                    e.line(py("critical.append({})", self.const("K", it.name)))

    def band_expr(self, atom: Py, coefficient: str, holds: list[Py]) -> Py:
        """`label if x >= t1 else label2 if x >= t2 else … rest`, for a non-N/A `atom`
        (`<=` for bands where lower is better; `and c is True` for a band's condition,
        `holds` the atoms of the conditions in order); beyond `INLINE_BANDS` bands, a
        call of the model's own `band_of` (one such expression nests once per band,
        and Python's parser nests only so deep)."""
        model = self.m.bands[coefficient]
        if len(model.bands) > INLINE_BANDS:
            return py("{}({}, {})", self.const("F", model.band_of), atom, tuple_display(holds))
        conditions = model.conditions or (None,) * len(model.bands)
        given = iter(holds)
        tests: list[Py | None] = []
        for (_label, threshold), condition in zip(model.bands, conditions, strict=True):
            parts = []
            if threshold is not None:
                op = py("<=") if model.op == "<=" else py(">=")
                parts.append(py("{} {} {}", atom, op, self.num(threshold)))
            if condition is not None:
                parts.append(py("{} is True", next(given)))
            tests.append(join(parts, " and ") if parts else None)
        expr = py("None")
        for (label, _), test in reversed(list(zip(model.bands, tests, strict=True))):
            k = self.const("K", label)
            expr = k if test is None else py("{} if {} else {}", k, test, expr)
        return expr

    def condition_var(self, cond: Bound) -> Py:
        """A variable holding a band's condition, which `band_expr` tests with `is True`
        (on a literal, `is` is a SyntaxWarning)."""
        t = self.fresh()
        self.e.line(py("{} = {}", t, self.ex(cond)))
        return t

    def emit_outcomes(self) -> None:
        """Bands and gaps of coefficients, in the order of `model.bands` and `model.targets`."""
        e = self.e
        e.span = (NOWHERE, Place("bands"))
        for i, (coef, bands) in enumerate(self.m.bands.items()):
            c = ident("c", self.coef_idx[coef])
            holds = [self.condition_var(cond) for cond in bands.conditions if cond is not None]
            e.line(
                py(
                    "{} = None if {} is None else ({})",
                    ident("b", i),
                    c,
                    self.band_expr(c, coef, holds),
                )
            )
        for i, (coef, target) in enumerate(self.m.targets.items()):
            c = ident("c", self.coef_idx[coef])
            e.line(
                py("{} = None if {} is None else {} - {}", ident("g", i), c, c, self.num(target))
            )

    def emit_rollup_terms(self) -> None:
        self.n_terms = 0
        for r in self.m.rollups:
            for term in r.terms:
                self.e.span = (r.span, Place("rollup", r.name))
                atom = self.ex(term.expr)
                self.e.line(py("{} = {}", ident("r", self.n_terms), atom))
                self.n_terms += 1

    # -- expressions ---------------------------------------------------------------------------

    def ex(self, b: Bound) -> Py:
        """Lines computing `b`, emitted before the current one; the atom holding its value."""
        e = self.e
        match b:
            case Const(value=v):
                if v is None or isinstance(v, bool):
                    # a name, not a literal: `x is None` on a literal is a SyntaxWarning
                    t = self.fresh()
                    if v is None:
                        e.line(py("{} = None", t))
                    else:
                        e.line(py("{} = True", t) if v else py("{} = False", t))
                    return t
                if isinstance(v, int | float):
                    return self.num(v)
                return self.const("K", v)
            case ItemRef(name=name):
                return self.item_var(name)
            case AnswerRef(name=name) | ValueRef(name=name):
                return ident("v", self.item_idx[name])
            case SectionRef(name=name):
                return ident("q", self.sec_idx[name])
            case CoefRef(name=name):
                return ident("c", self.coef_idx[name])
            case FieldRef(name=key):
                if key not in self.fields_used:
                    self.fields_used[key] = ident("f", len(self.fields_used))
                return self.fields_used[key]
        t = self.fresh()
        match b:
            case Neg(operand=operand):
                x = self.ex(operand)
                e.line(py("{} = {}-{}", t, self._na_guard(x), x))
            case Exact(operand=operand, places=places):
                x = self.ex(operand)
                scale = self.num(10.0**places)
                e.line(py("{} = {}exact({}, {})", t, self._na_guard(x), x, scale))
            case Arith(operator=op, left=left, right=right):
                x = self.ex(left)
                y = self.ex(right)
                e.line(py("{} = {}{} {} {}", t, self._na_guard(x, y), x, _OPERATOR[op], y))
            case Compare(operator=op, left=left, right=right):
                x = self.ex(left)
                y = self.ex(right)
                if self.approx and op in ("==", "!=") and left.type == "num":
                    expr = py("abs({} - {}) <= {}", x, y, self.num(APPROX))
                    if op == "!=":
                        expr = py("not {}", expr)
                else:
                    expr = py("{} {} {}", x, _OPERATOR[op], y)
                e.line(py("{} = {}{}", t, self._na_guard(x, y), expr))
            case Not(operand=operand):
                x = self.ex(operand)
                e.line(py("{} = None if {} is None else not {}", t, x, x))
            case And(left=left, right=right) | Or(left=left, right=right):
                is_and = isinstance(b, And)
                stop = py("False") if is_and else py("True")
                go = py("True") if is_and else py("False")
                x = self.ex(left)
                with e.block(py("if {} is {}:", x, stop)):
                    e.line(py("{} = {}", t, stop))
                with e.block(py("else:")):
                    y = self.ex(right)
                    e.line(
                        py(
                            "{} = {} if {} is {} else (None if {} is None or {} is None else {})",
                            *(t, stop, y, stop, x, y, go),
                        )
                    )
            case If(condition=cond, then=then, otherwise=otherwise):
                if isinstance(otherwise, If):
                    return self.ladder(b, t)
                c = self.ex(cond)
                with e.block(py("if {}:", c)):
                    e.line(py("{} = {}", t, self.ex(then)))
                with e.block(py("else:")):
                    e.line(py("{} = {}", t, self.ex(otherwise)))
            case Call():
                return self.call(b, t)
            case _:
                raise AssertionError(f"cannot compile {b.op} here")
        return t

    def ladder(self, b: If, t: Py) -> Py:
        """`if C1 then A1 else if C2 then A2 … else Z` without nesting a block per step.

        Each step is one `if not done:` deep, whatever the length of the ladder, so a
        lookup table of a hundred steps does not reach Python's indentation limit; a
        condition is still evaluated only when the ones before it did not hold.
        """
        e = self.e
        done = self.fresh()
        e.line(py("{} = False", done))
        node: Bound = b
        first = True
        while isinstance(node, If):
            with _maybe_block(e, None if first else py("if not {}:", done)):
                c = self.ex(node.condition)
                with e.block(py("if {}:", c)):
                    e.line(py("{} = {}", t, self.ex(node.then)))
                    e.line(py("{} = True", done))
            node, first = node.otherwise, False
        with e.block(py("if not {}:", done)):
            e.line(py("{} = {}", t, self.ex(node)))
        return t

    def _na_guard(self, *atoms: Py) -> Py:
        checks = [py("{} is None", a) for a in atoms if self._may_be_none(a)]
        return py("None if {} else ", join(checks, " or ")) if checks else py("")

    def _may_be_none(self, atom: Py) -> bool:
        """False for number literals and constants (`K…`, `L…`); True for every variable."""
        try:
            float(atom)
            return False
        except ValueError:
            return not atom.startswith(("K", "L"))

    def _accumulate(self, num: Py, den: Py | None, atom: Py, weight: float, guard: bool) -> None:
        """`num += w * x` (and `den += w`), inside `if x is not None:` when `guard`."""
        e = self.e
        w = self.num(weight)
        lines = [py("{} += {}", num, atom) if weight == 1 else py("{} += {} * {}", num, w, atom)]
        if den is not None:
            lines.append(py("{} += {}", den, w))
        if not guard:
            for line in lines:
                e.line(line)
            return
        with e.block(py("if {} is not None:", atom)):
            for line in lines:
                e.line(line)

    def weighted_items(self, selected: tuple[SelectedItem, ...], kind: str = "mean") -> Py:
        """Inline Σwᵢsᵢ / Σwᵢ over the items that are not N/A (bonus: numerator only)."""
        e = self.e
        num, den, t = self.fresh(), self.fresh(), self.fresh()
        e.line(py("{} = {} = 0.0", num, den))
        for sel in selected:
            self._accumulate(
                num, None if sel.bonus else den, self.item_var(sel.name), sel.weight, True
            )
        if kind == "mean":
            e.line(py("{} = {} / {} if {} else None", t, num, den, den))
        elif kind == "earned":
            return num
        elif kind == "possible":
            return den
        elif kind == "lost":
            e.line(py("{} = {} - {}", t, den, num))
        return t

    def _weighted_mean(self, t: Py, pairs: list[tuple[Py, float]]) -> Py:
        e = self.e
        num, den = self.fresh(), self.fresh()
        e.line(py("{} = {} = 0.0", num, den))
        for atom, w in pairs:
            self._accumulate(num, den, atom, float(w), self._may_be_none(atom))
        e.line(py("{} = {} / {} if {} else None", t, num, den, den))
        return t

    def call(self, b: Call, t: Py) -> Py:
        """A call: its built-in function's emitter, or a pack function's scalar form."""
        fn = b.fn
        if fn == "plugin":
            spec = self.functions.get(b.payload)
            assert spec is not None
            return emit_value_call(self, spec, b, t)
        emit = self.builtins.implementation(fn).emit
        assert emit is not None, f"`{fn}` has no Python emitter"
        return emit(self, b, t)

    # -- building ------------------------------------------------------------------------------

    def build(self, filename: str) -> tuple[Any, str, list[tuple[Span, Place]]]:
        """Compile to a Python function; returns it, its source and the line map.

        The source is checked against the allow-list before it is compiled
        (`codegen.compile_checked`).
        """
        source = self.compile()
        # Names as plain `str`: a global namespace with keys of a str subclass (`Py`)
        # defeats CPython's specialised global lookups, a third slower per visit.
        consts = {str(name): value for name, value in self.consts.items()}
        namespace: dict[str, Any] = {"__builtins__": _SAFE_BUILTINS, **EXPORTED, **consts}
        code = _checked_code(source, [*_SAFE_BUILTINS, *EXPORTED, *consts], filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(code, namespace)
        return namespace["evaluate"], source, self.line_map


#: Code already compiled, marshalled, by `code_key`: set by `api.load` around compiling a
#: standard (filled from, and kept in, its disk cache entry); None: compile every time.
known_code: ContextVar[dict[str, bytes] | None] = ContextVar("known_code", default=None)


def code_key(source: str, namespace: Collection[str], filename: str) -> str:
    """What a compiled module depends on: its source, the names it may read, its file name."""
    text = "\0".join([filename, *sorted(namespace), source])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _checked_code(source: str, namespace: Collection[str], filename: str) -> CodeType:
    """`compile_checked`, or the code it made before for the same source, names and file
    name when `known_code` has it (from a cache folder only the user may write in)."""
    known = known_code.get()
    if known is None:
        return compile_checked(source, namespace, filename)
    key = code_key(source, namespace, filename)
    data = known.get(key)
    if data is not None:
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, CodeType) and code.co_filename == filename:
            return code
    code = compile_checked(source, namespace, filename)
    known[key] = marshal.dumps(code)
    return code


#: How the listing names each kind of `Place` (for developers reading generated code).
_LISTED = {
    "item": "item `{}`",
    "item_condition": "the condition of item `{}`",
    "section_condition": "the condition of section `{}`",
    "score_formula": "the score formula of `{}`",
    "item_value": "the computed value of `{}`",
    "critical_condition": "the critical condition of `{}`",
    "section": "section `{}`",
    "coefficient": "coefficient `{}`",
    "rollup": "rollup `{}`",
    "critical": "critical items",
    "bands": "bands and gaps",
}


def listing(source: str, line_map: list[tuple[Span, Place]]) -> str:
    """The generated source annotated for people: where each construct starts, named as in
    the `.sbm` file. For display only; what runs is `source`, which holds no such text."""
    out: list[str] = []
    shown: tuple[Span, Place] = (NOWHERE, NO_PLACE)
    for line, where in zip(source.splitlines(), line_map, strict=False):
        span, place = where
        if place.kind and where != shown and line.lstrip().startswith("#"):
            what = _LISTED[place.kind].format(place.name)
            where_in_file = f" ({span.file}:{span.line})" if span.line else ""
            line = f"{line}: {printable(what)}{printable(where_in_file)}"
        shown = where
        out.append(line)
    return "\n".join(out) + "\n"


#: The opening of every generated module; the same whatever the standard.
HEADER = (
    py("# Generated by sbm_engine. No text of the standard appears in this code: names"),
    py("# are positions (s<i> item score, v<i> item answer, o<i> options chosen, q<i>"),
    py("# section score, c<i> coefficient, r<i> rollup term, b<i> band, g<i> gap, t<i> temporary)"),
    py("# and the standard's strings are the constants K<i>, M<i>, I<i> beside it."),
    py("def evaluate(answers, visit, errs, warns):"),
    py("    get = answers.get"),
)

#: The language's operators as they are written in Python.
_OPERATOR = {
    "+": py("+"), "-": py("-"), "*": py("*"), "/": py("/"),
    "==": py("=="), "!=": py("!="), "<": py("<"), "<=": py("<="), ">": py(">"), ">=": py(">="),
}  # fmt: skip


@contextmanager
def _maybe_block(e: Emitter, header: Py | None) -> Iterator[None]:
    """`e.block(header)`, or the current level when there is no header."""
    if header is None:
        yield
    else:
        with e.block(header):
            yield


def _bool_collides(table: dict[Any, Any]) -> bool:
    """True when JSON `true`/`false` would hit a numeric label (True == 1 as a dict key)."""
    return any(type(k) in (int, float) and k in (0, 1) for k in table)


def _label_value(it: ItemModel, k: int) -> Any:
    assert it.scale is not None
    entry = it.scale.entries[k]
    return entry.numeric if it.scale.numeric else entry.label


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


_SAFE_BUILTINS = {
    "abs": abs,
    "min": min,
    "max": max,
    "sum": sum,
    "len": len,
    "next": next,
    "float": float,
    "type": type,
    "int": int,
    "bool": bool,
    "str": str,
    "KeyError": KeyError,
    "TypeError": TypeError,
}
