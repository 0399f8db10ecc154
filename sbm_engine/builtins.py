"""The language's built-in functions: one entry each, read by every stage.

An entry (`Builtin`) holds everything the engine knows of a function: its name,
how many arguments it takes and where it may be called (the checker's arity and
context rules), its type rule (`bind`: syntax to a typed `Bound`, with the
diagnostics a wrong call deserves), its range rule (what the interval analysis
of the checker concludes from its arguments' ranges), and its three
implementations: the Python emitter of the per-visit compiler, the numpy kernel
of the batch compiler and the scalar form of the reference interpreter (which
`sbm explain` and the examples use too). The plugin layer reads the table's names
to refuse a pack function that would shadow one.

A bound call is an `ir.Call(key, payload, operands)`. `key` is the entry's
name, or one of the other `forms` the entry binds to (a `mean` over selections
binds to `mean_sel`): the key is what every consumer dispatches on, so the shape
of a call other readers of the model rely on is the same whatever entry produced
it. A pack's function (`functions.FunctionSpec`) binds to key `plugin` and runs
through the same generic hooks as a built-in made with `value_function`: N/A in
any argument gives N/A unless the function is N/A-aware.

Adding a built-in function is adding one entry: `value_function` for a function
of plain values, a `Builtin` with hand-written hooks for one with a shape of its
own (selections, item names). `BuiltinTable.with_` makes a table with more
entries; the checker records the table it bound with on the model
(`StandardModel.builtins`) and the backends read it from there.

The table belongs to the language core, which imports nothing of the batch
layer: a numpy kernel computes with the operations the batch compiler hands it
(`BatchCompiler.ops`), and imports numpy itself only when it runs, so that the
checker and the per-visit compiler load without numpy.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .codegen import Py, ident, integer, join, py, tuple_display
from .diagnostics import did_you_mean
from .exact import places_of
from .functions import FunctionSpec, ValueType
from .ir import (
    HAS_PREVIOUS,
    Agg,
    AnswerRef,
    Bound,
    Call,
    CoefRef,
    Const,
    ModeOf,
    PreviousOf,
    Type,
    previous_key,
)
from .messages import message
from .model import RollupTerm, ScaleModel, SelectedItem
from .runtime import label_key, number_of

if TYPE_CHECKING:
    from . import nodes as n
    from .batch.compiler import BatchCompiler
    from .batch.env import Active, Expr
    from .batch.env import Env as BatchEnv
    from .checking.binding import Binding, _Context
    from .compiler import PythonCompiler
    from .interpret import Env, Interpreter
    from .model import StandardModel
else:

    class _Tree:
        """The syntax tree's module, imported when a binding rule first looks at a
        node: only checking a standard binds, and scoring with a cached standard
        loads this table without the tree's classes."""

        def __getattr__(self, name: str) -> Any:
            from . import nodes

            return getattr(nodes, name)

    n = _Tree()

#: No upper bound on a function's arguments (`mean`, `min`, `max`, `sum`, `coalesce`).
MANY = sys.maxsize

Interval = tuple[float, float]
#: The "interval" of an expression that is always N/A (it never leaves [0, 1]).
EMPTY: Interval = (math.inf, -math.inf)

#: Where a function may be called: in per-visit formulas only (`visit`: E0306 in a
#: rollup, reported before the arity), in rollup formulas only (`rollup`: E0306
#: elsewhere, and nothing more is checked), or anywhere (`any`: the type rule decides).
Context = Literal["visit", "rollup", "any"]

BindRule = Callable[["Binding", "n.Call", "_Context"], Bound]
RangeRule = Callable[[Call, Callable[[Bound], "Interval | None"], "RangeScope | None"], Any]
Emit = Callable[["PythonCompiler", Call, Py], Py]
Kernel = Callable[["BatchCompiler", Call, "list[Expr]"], "Expr"]
Scalar = Callable[["Interpreter", Call, "Env"], Any]


@attrs.frozen
class RangeScope:
    """What an expression outside an item's formula can read: section and coefficient
    ranges (None: unknown)."""

    sections: Mapping[str, Interval | None]
    coefficient: Callable[[str], Interval | None]


@attrs.frozen
class Builtin:
    """One built-in function (see the module docstring).

    `range` returns the interval of a call from the ranges of its arguments (`sub`
    computes one; `scope` is None inside an item's formula), `EMPTY` when it is
    always N/A, None when nothing can be said. `emit`, `kernel` and `scalar` are
    None for a function that binds to something other than a call (`answer` binds
    to a reference, `avg` to a rollup term the rollup evaluator computes).
    """

    name: str
    min_args: int
    max_args: int
    bind: BindRule
    context: Context = "any"
    #: the type of the constant that stands in when the arity is wrong
    fails_as: Type = "num"
    range: RangeRule | None = None
    emit: Emit | None = None
    kernel: Kernel | None = None
    scalar: Scalar | None = None
    #: call keys other than `name` that `bind` produces
    forms: tuple[str, ...] = ()
    #: how the language reference writes a call (`clamp(X, LO, HI)`)
    signature: str = ""
    doc: str = ""


class BuiltinTable:
    """Built-in functions by name, and by every call key they bind to."""

    def __init__(self, entries: Iterable[Builtin] = ()) -> None:
        self._by_name: dict[str, Builtin] = {}
        self._by_key: dict[str, Builtin] = {}
        for entry in entries:
            self._add(entry)

    def _add(self, entry: Builtin) -> None:
        for key in (entry.name, *entry.forms):
            if key in self._by_key or key == "plugin":
                raise ValueError(f"built-in function key `{key}` is taken")
        self._by_name[entry.name] = entry
        for key in (entry.name, *entry.forms):
            self._by_key[key] = entry

    def with_(self, *entries: Builtin) -> BuiltinTable:
        """A new table: these entries and this table's."""
        return BuiltinTable([*self._by_name.values(), *entries])

    def get(self, name: str) -> Builtin | None:
        """The function called `name` in a formula."""
        return self._by_name.get(name)

    def implementation(self, key: str) -> Builtin:
        """The entry a bound call's key belongs to."""
        return self._by_key[key]

    def names(self) -> list[str]:
        """The names of the functions, in the table's order."""
        return list(self._by_name)

    def __iter__(self) -> Iterator[Builtin]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def table_of(model: StandardModel) -> BuiltinTable:
    """The table a model was bound with (the default one for a model made by hand)."""
    return model.builtins if model.builtins is not None else BUILTINS


# ---- the generic hooks: functions of plain values ---------------------------------------------


def value_function(
    name: str,
    params: tuple[ValueType, ...],
    returns: ValueType,
    scalar: Callable[..., Any],
    batch: Callable[..., Any] | None = None,
    *,
    na_aware: bool = False,
    range: RangeRule | None = None,
    signature: str = "",
    doc: str = "",
) -> Builtin:
    """A built-in function of plain values, called the way a pack's function is: the
    per-visit code calls `scalar` (N/A as None), the batch code `batch` on arrays
    (NaN for N/A), or `scalar` row by row when there is none. `range` is its range
    rule (`strict_range` makes one from interval arithmetic); without one the
    checker proves nothing about a formula that calls it."""
    spec = FunctionSpec(name, params, returns, scalar, batch, na_aware, doc, "builtin")

    def bind(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
        return bind_value_call(ck, call, ctx, spec, name, None)

    def emit(pc: PythonCompiler, b: Call, t: Py) -> Py:
        return emit_value_call(pc, spec, b, t)

    def kernel(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
        return bc.value_call(spec, b, args)

    def evaluate(ip: Interpreter, b: Call, env: Env) -> Any:
        return scalar_value_call(ip, spec, b, env)

    return Builtin(
        name,
        len(params),
        len(params),
        bind,
        range=range,
        emit=emit,
        kernel=kernel,
        scalar=evaluate,
        signature=signature or f"{name}({', '.join(_PARAMETER_WORDS[p] for p in params)})",
        doc=doc,
    )


#: How a signature names a parameter of each type.
_PARAMETER_WORDS: dict[str, str] = {"num": "NUMBER", "bool": "CONDITION", "str": "TEXT"}


def bind_value_call(
    ck: Binding, call: n.Call, ctx: _Context, spec: FunctionSpec, fn: str, payload: Any
) -> Bound:
    """A `Call(fn, payload, …)` of each argument bound and checked against its
    parameter's type."""
    bound = tuple(
        ck._expect_type(ck.bind(a, ctx), t, a) for a, t in zip(call.args, spec.params, strict=True)
    )
    return Call(fn, payload, bound, type=spec.returns, span=call.span)


def emit_value_call(pc: PythonCompiler, spec: FunctionSpec, b: Call, t: Py) -> Py:
    f = pc.const("F", spec.scalar)
    atoms = [pc.ex(a) for a in b.args]
    guard = py("") if spec.na_aware else pc._na_guard(*atoms)
    pc.e.line(py("{} = {}{}({})", t, guard, f, join(atoms)))
    return t


def scalar_value_call(ip: Interpreter, spec: FunctionSpec, b: Call, env: Env) -> Any:
    args = [ip.eval(a, env) for a in b.args]
    if not spec.na_aware and any(a is None for a in args):
        return None
    return spec.scalar(*args)


# ---- shared pieces ------------------------------------------------------------------------------


def _bad(call: n.Call, typ: Type = "num") -> Bound:
    return Const(None, type=typ, span=call.span)


def wmean(pairs: Iterable[tuple[float | None, float, bool]]) -> float | None:
    """Σwᵢsᵢ / Σwᵢ over the scores that are not N/A (a bonus adds to the numerator only)."""
    num = den = 0.0
    for s, w, bonus in pairs:
        if s is not None:
            num += w * s
            if not bonus:
                den += w
    return num / den if den else None


def _mean(values: list[Any]) -> Any:
    return sum(values) / len(values)


#: The aggregate functions by name, over a list of values none of which is N/A.
AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "mean": _mean,
    "min": min,
    "max": max,
    "sum": sum,
}


def hull(intervals: list[Interval | None]) -> Interval | None:
    """The smallest interval holding all of them (N/A ones ignored); None if one is unknown."""
    if any(i is None for i in intervals):
        return None
    known = [i for i in intervals if i is not EMPTY]
    if not known:
        return EMPTY
    return (min(i[0] for i in known), max(i[1] for i in known))  # type: ignore[index]


def strict_range(combine: Callable[[list[Interval]], Interval | None]) -> RangeRule:
    """The range rule of a function that is N/A when any argument is: `combine` of the
    arguments' ranges when all are known and none is always N/A."""

    def rule(
        b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
    ) -> Interval | None:
        args = [sub(a) for a in b.args]
        if any(a is None for a in args):
            return None
        if any(a is EMPTY for a in args):
            return EMPTY  # N/A propagates
        return combine(args)  # type: ignore[arg-type]

    return rule


def _hull_of_args(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    return hull([sub(a) for a in b.args])


def _selection_range(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    """weighted_mean, mean, min, max, sum over selections; earned, possible, lost, count."""
    fn, (kind, sel) = b.fn, b.payload
    if kind == "items":
        if fn in ("count", "sum_sel"):
            return (0.0, float(len(sel)))
        full = sum(x.weight for x in sel if not x.bonus)
        extra = sum(x.weight for x in sel if x.bonus)
        if fn == "earned":
            return (0.0, full + extra)
        if fn == "possible":
            return (0.0, full)
        if fn == "lost":
            return (-extra, full)
        return (0.0, 1.0) if not extra or fn in ("min_sel", "max_sel") else (0.0, math.inf)
    if fn == "count":
        return (0.0, float(len(sel)))
    if fn == "weighted_mean" and scope is not None:
        return hull([scope.sections.get(name) for name, _ in sel])
    return None


# ---- weighted_mean ------------------------------------------------------------------------------


def _bind_weighted_mean(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    args = call.args
    selections = [a for a in args if isinstance(a, n.Selection)]
    if len(selections) == len(args):
        sel = ck._selection(selections, call.function)
        return Call("weighted_mean", sel, type="num", span=call.span)
    terms = []
    for a in args:
        if isinstance(a, n.Selection):
            ck.d.error(
                "E0301",
                message("E0301.selection_and_terms.message"),
                a.span,
                label=message("E0301.selection_and_terms.label"),
                help=message("E0301.selection_and_terms.help"),
            )
            continue
        expr, weight = (a.expr, a.weight) if isinstance(a, n.Weighted) else (a, None)
        w = 1.0
        if weight is not None:
            if isinstance(weight, n.Number):
                w = ck._weight(weight, "term")
            else:
                ck.d.error(
                    "E0301",
                    message("E0301.term_weight.message"),
                    weight.span,
                    label=message("E0301.term_weight.label"),
                    help=message("E0301.term_weight.help"),
                )
        terms.append((ck._bind_num(expr, ctx), w))
    return Call(
        "weighted_terms",
        tuple(w for _, w in terms),
        tuple(t for t, _ in terms),
        type="num",
        span=call.span,
    )


def _range_weighted_mean(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    if b.fn == "weighted_terms":
        return _hull_of_args(b, sub, scope)
    return _selection_range(b, sub, scope)


def _emit_weighted_mean(pc: PythonCompiler, b: Call, t: Py) -> Py:
    fn, payload = b.fn, b.payload
    if fn == "weighted_terms":
        atoms = [pc.ex(arg) for arg in b.args]
        return pc._weighted_mean(t, list(zip(atoms, payload, strict=True)))
    kind, sel = payload
    if kind == "items":
        return pc.weighted_items(sel)
    return pc._weighted_mean(t, [(ident("q", pc.sec_idx[name]), w) for name, w in sel])


def _kernel_weighted(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    """weighted_mean (of selections or of terms), earned, possible, lost."""
    ops = bc.ops
    fn, payload = b.fn, b.payload
    if fn == "weighted_terms":
        weights = [float(w) for w in payload]

        def terms(env: BatchEnv, act: Active) -> Any:
            parts = []
            for f, w in zip(args, weights, strict=True):
                z, valid = ops.zero_and_valid(ops.full(bc._num(f(env, act), env), env.m))
                parts.append((z * w, valid * w, False) if w != 1.0 else (z, valid, False))
            num, den = bc._accumulate(env, parts, act)
            return ops.mean_of(num, den)

        return terms
    kind, sel = payload

    def weighted(env: BatchEnv, act: Active) -> Any:
        if kind == "sections":
            num, den = bc._weighted_sections(env, sel, act)
        else:
            num, den = bc._weighted_items(env, sel, act)
        if fn == "weighted_mean":
            return ops.mean_of(num, den)
        return num if fn == "earned" else den if fn == "possible" else den - num

    return weighted


def _scalar_weighted_mean(ip: Interpreter, b: Call, env: Env) -> Any:
    fn, payload = b.fn, b.payload
    if fn == "weighted_terms":
        return wmean((ip.eval(a, env), w, False) for a, w in zip(b.args, payload, strict=True))
    kind, sel = payload
    if kind == "sections":
        return wmean((env.sections.get(name), w, False) for name, w in sel)
    return wmean((env.items.get(x.name), x.weight, x.bonus) for x in sel)


# ---- mean, min, max, sum: of values or over selections ------------------------------------


def _bind_aggregate(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    fn, args = call.function, call.args
    selections = [a for a in args if isinstance(a, n.Selection)]
    if len(selections) == len(args):
        ck._not_in_rollup(call, ctx)
        sel = ck._selection(selections, fn)
        return Call(fn + "_sel", sel, type="num", span=call.span)
    bound = tuple(ck._bind_num(a, ctx) for a in args if not isinstance(a, n.Selection))
    if len(bound) != len(args):
        ck.d.error(
            "E0301",
            message("E0301.mixed_arguments.message", fn=fn),
            call.span,
            label=message("E0301.mixed_arguments.label"),
            help=message("E0301.mixed_arguments.help"),
        )
    return Call(fn, None, bound, type="num", span=call.span)


def _combine_aggregate(fn: str) -> Callable[[list[Interval]], Interval]:
    def combine(args: list[Interval]) -> Interval:
        if fn == "min":
            return (min(a[0] for a in args), min(a[1] for a in args))
        if fn == "max":
            return (max(a[0] for a in args), max(a[1] for a in args))
        if fn == "sum":
            return (sum(a[0] for a in args), sum(a[1] for a in args))
        return (min(a[0] for a in args), max(a[1] for a in args))

    return combine


def _range_aggregate(fn: str) -> RangeRule:
    of_values = strict_range(_combine_aggregate(fn))

    def rule(
        b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
    ) -> Interval | None:
        if b.fn == fn:
            return of_values(b, sub, scope)  # type: ignore[no-any-return]
        return _selection_range(b, sub, scope)

    return rule


def _emit_aggregate(pc: PythonCompiler, b: Call, t: Py) -> Py:
    e = pc.e
    fn, payload = b.fn, b.payload
    if fn.endswith("_sel"):
        kind, sel = payload
        vals = [
            pc.item_var(x.name) if kind == "items" else ident("q", pc.sec_idx[x[0]]) for x in sel
        ]
        lst = pc.fresh()
        e.line(py("{} = [x for x in {} if x is not None]", lst, tuple_display(vals)))
        agg = fn[:-4]
        if agg == "sum":
            e.line(py("{} = float(sum({}))", t, lst))
        elif agg == "mean":
            e.line(py("{} = sum({}) / len({}) if {} else None", t, lst, lst, lst))
        elif agg == "min":
            e.line(py("{} = min({}) if {} else None", t, lst, lst))
        else:
            e.line(py("{} = max({}) if {} else None", t, lst, lst))
        return t
    atoms = [pc.ex(a) for a in b.args]
    if fn == "mean":
        body = py("({}) / {}", join(atoms, " + "), pc.num(len(atoms)))
    elif fn == "sum":
        body = join(atoms, " + ")
    elif len(atoms) == 1:
        body = atoms[0]
    elif fn == "min":
        body = py("min({})", join(atoms))
    else:
        body = py("max({})", join(atoms))
    e.line(py("{} = {}{}", t, pc._na_guard(*atoms), body))
    return t


def _kernel_aggregate(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    from functools import reduce

    import numpy as np

    ops = bc.ops

    fn, payload = b.fn, b.payload
    if fn.endswith("_sel"):
        kind, sel = payload
        agg = fn[:-4]

        def over(env: BatchEnv, act: Active) -> Any:
            cols = [env.items[x.name] if kind == "items" else env.sections[x[0]] for x in sel]
            return ops.aggregate(agg, cols, env.m)

        return over

    def explicit(env: BatchEnv, act: Active) -> Any:
        vals = [bc._num(f(env, act), env) for f in args]
        if fn == "min":
            return reduce(ops.py_min, vals)
        if fn == "max":
            return reduce(ops.py_max, vals)
        total = vals[0]
        for v in vals[1:]:
            total = np.add(total, v)
        ops.mark_not_finite(env, total, vals, act)
        return total / float(len(vals)) if fn == "mean" else total

    return explicit


def _scalar_aggregate(ip: Interpreter, b: Call, env: Env) -> Any:
    fn, payload = b.fn, b.payload
    if fn.endswith("_sel"):
        kind, sel = payload
        found = [env.items.get(x.name) if kind == "items" else env.sections.get(x[0]) for x in sel]
        values = [v for v in found if v is not None]
        agg = fn[:-4]
        if agg == "sum":
            return float(sum(values))
        if not values:
            return None
        return AGGREGATES[agg](values)
    values = [ip.eval(a, env) for a in b.args]
    if any(v is None for v in values):
        return None
    return AGGREGATES[fn](values)


def _aggregate_entry(fn: str, signature: str, doc: str) -> Builtin:
    return Builtin(
        fn,
        1,
        MANY,
        _bind_aggregate,
        range=_range_aggregate(fn),
        emit=_emit_aggregate,
        kernel=_kernel_aggregate,
        scalar=_scalar_aggregate,
        forms=(fn + "_sel",),
        signature=signature,
        doc=doc,
    )


# ---- count, earned, possible, lost, critical_failed: over selections ---------------------


def _selected(ck: Binding, call: n.Call, sections: bool) -> tuple[str, tuple[Any, ...]] | None:
    """What the selections of a call stand for (`Binding._selection`); None, with E0301,
    when an argument is no selection, or names `sections` where only items may be."""
    fn = call.function
    selections = []
    for a in call.args:
        if not isinstance(a, n.Selection):
            ck.d.error(
                "E0301",
                message("E0301.needs_selection.message", fn=fn),
                a.span,
                label=message("E0301.needs_selection.label"),
                help=message("E0301.needs_selection.help", fn=fn),
            )
            return None
        selections.append(a)
    sel = ck._selection(selections, fn)
    if sel[0] == "sections" and not sections:
        ck.d.error(
            "E0301",
            message("E0301.items_not_sections.message", fn=fn),
            call.span,
            label=message("E0301.items_not_sections.label"),
            help=message("E0301.items_not_sections.help", fn=fn),
        )
        return None
    return sel


def _bind_selection(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    fn = call.function
    sel = _selected(ck, call, sections=fn == "count")
    if sel is None:
        return _bad(call, "bool" if fn == "critical_failed" else "num")
    if fn == "critical_failed":
        return critical_failed(ck, tuple(i.name for i in sel[1]), call.span)
    return Call(fn, sel, type="num", span=call.span)


def critical_failed(ck: Binding, names: Iterable[str], span: n.Span) -> Bound:
    """`critical_failed`: whether a critical item among `names` failed."""
    crit = tuple(name for name in names if ck.items[name].critical)
    return Call("critical_failed", crit, type="bool", span=span)


def _emit_earned(pc: PythonCompiler, b: Call, t: Py) -> Py:
    fn, (_kind, sel) = b.fn, b.payload
    return pc.weighted_items(sel, fn)


def _scalar_sums(ip: Interpreter, b: Call, env: Env) -> Any:
    """earned, possible, lost, count."""
    fn, (kind, sel) = b.fn, b.payload
    if kind == "sections":
        return float(sum(env.sections.get(name) is not None for name, _ in sel))
    present = [(env.items[x.name], x) for x in sel if env.items.get(x.name) is not None]
    earned = sum(x.weight * s for s, x in present)
    possible = sum(x.weight for _, x in present if not x.bonus)
    return {
        "earned": earned,
        "possible": possible,
        "lost": possible - earned,
        "count": float(len(present)),
    }[fn] + 0.0


def _sum_entry(fn: str, doc: str) -> Builtin:
    return Builtin(
        fn,
        1,
        MANY,
        _bind_selection,
        context="visit",
        range=_selection_range,
        emit=_emit_earned,
        kernel=_kernel_weighted,
        scalar=_scalar_sums,
        signature=f"{fn}(SELECTION)",
        doc=doc,
    )


def _emit_count(pc: PythonCompiler, b: Call, t: Py) -> Py:
    e = pc.e
    _fn, (kind, sel) = b.fn, b.payload
    e.line(py("{} = 0.0", t))
    for x in sel:
        var = pc.item_var(x.name) if kind == "items" else ident("q", pc.sec_idx[x[0]])
        with e.block(py("if {} is not None:", var)):
            e.line(py("{} += 1.0", t))
    return t


def _kernel_count(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    _fn, (kind, sel) = b.fn, b.payload

    def count(env: BatchEnv, act: Active) -> Any:
        total = np.zeros(env.m)
        for x in sel:
            _, valid = (
                env.zero_filled("item", x.name)
                if kind == "items"
                else env.zero_filled("section", x[0])
            )
            total += valid
        return total

    return count


def _emit_critical_failed(pc: PythonCompiler, b: Call, t: Py) -> Py:
    checks = [pc.critical_check(x) for x in b.payload]
    pc.e.line(py("{} = {}", t, join(checks, " or ") if checks else py("False")))
    return t


def _kernel_critical_failed(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:

    names = tuple(b.payload)
    if not names:
        return lambda env, act: 0.0

    def critical(env: BatchEnv, act: Active) -> Any:
        out = env.critical_failed(names[0])
        for nm in names[1:]:
            out = out | env.critical_failed(nm)
        return out.astype(float)

    return critical


def _scalar_critical_failed(ip: Interpreter, b: Call, env: Env) -> Any:
    return any(env.critical.get(x, env.items.get(x) == 0) for x in b.payload)


# ---- failed, answer, band: of a name ------------------------------------------------------


def _bind_failed(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    item = ck._item_arg(call.args[0], call.function, scored=True)
    return Call("failed", item.name if item else None, type="bool", span=call.span)


def _emit_failed(pc: PythonCompiler, b: Call, t: Py) -> Py:
    name = b.payload
    if name:
        pc.e.line(py("{} = {} == 0", t, pc.item_var(name)))
    else:
        pc.e.line(py("{} = False", t))
    return t


def _kernel_failed(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    name = b.payload
    if not name:
        return lambda env, act: 0.0
    return lambda env, act: (env.items[name] == 0.0).astype(float)


def _scalar_failed(ip: Interpreter, b: Call, env: Env) -> Any:
    name = b.payload
    return env.items.get(name) == 0 if name else False


def _bind_answer(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    item = ck._item_arg(call.args[0], call.function)
    if item is None:
        return _bad(call)
    if item.kind == "multi":
        ck.d.error(
            "E0301",
            message("E0301.multi_answer.message", item=item.name),
            call.span,
            label=message("E0301.multi_answer.label"),
            help=message("E0301.multi_answer.help", item=item.name),
        )
        return _bad(call, "any")
    typ: Type = (
        "num"
        if item.kind == "number" or (item.scale and item.scale.numeric)
        else ("label" if item.kind == "scale" else "str")
    )
    labels = item.scale.labels() if item.scale and typ == "label" else None
    return AnswerRef(item.name, type=typ, labels=labels, span=call.span)


def _bind_band(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    arg = call.args[0]
    coef = ck._name_arg(arg, "coefficient")
    if coef is None:
        return Const(None, type="any", span=call.span)
    bands = ck.flat.bands.get(coef)
    if bands is None:
        ck.d.error(
            "E0208",
            message("E0208.no_bands.message", coefficient=coef),
            arg.span,
            label=message("E0208.no_bands.label"),
            help=message("E0208.no_bands.help", coefficient=coef),
        )
        return Const(None, type="any", span=call.span)
    labels = frozenset(b.label for b in bands.bands)
    # The bands' conditions are operands: what they read is read before the band is.
    conditions = tuple(c for c in ck._band_conditions(coef) if c is not None)
    return Call(
        "band",
        coef,
        (CoefRef(coef, span=arg.span), *conditions),
        type="label",
        labels=labels,
        span=call.span,
    )


def _emit_band(pc: PythonCompiler, b: Call, t: Py) -> Py:
    c = pc.ex(b.args[0])
    holds = [pc.condition_var(a) for a in b.args[1:]]
    pc.e.line(py("{} = None if {} is None else ({})", t, c, pc.band_expr(c, b.payload, holds)))
    return t


def _kernel_band(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    ops = bc.ops
    model = bc.m.bands[b.payload]
    labels = [label for label, _ in model.bands]
    fx, conditions = args[0], args[1:]

    def band(env: BatchEnv, act: Active) -> Any:
        c = ops.full(bc._num(fx(env, act), env), env.m)
        holds = [ops.truthy(f(env, act)) for f in conditions]
        return ops.Cat(ops.band_codes(c, model, holds), labels)

    return band


def _scalar_band(ip: Interpreter, b: Call, env: Env) -> Any:
    holds = tuple(ip.eval(a, env) for a in b.args[1:])
    return ip.bands[b.payload].band_of(ip.eval(b.args[0], env), holds)


# ---- points, max_points: what answers on points and penalty scales are worth ---------------


def _bind_points(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    """`points(ITEM)`, `points(SELECTION)`, `max_points(SELECTION)`."""
    fn, args = call.function, call.args
    if fn == "points" and len(args) == 1 and isinstance(args[0], n.Name):
        item = ck._item_arg(args[0], fn)
        if item is None or not _has_points(ck, item.name, fn, args[0].span):
            return _bad(call)
        chosen = (SelectedItem(item.name, item.weight, item.bonus),)
        return Call("points_of", ("items", chosen), type="num", span=call.span)
    sel = _selected(ck, call, sections=False)
    if sel is None:
        return _bad(call)
    kind, selected = sel
    if not all(_has_points(ck, x.name, fn, call.span) for x in selected):
        return _bad(call)
    return Call(fn, (kind, selected), type="num", span=call.span)


def _has_points(ck: Binding, name: str, fn: str, span: n.Span) -> bool:
    if ck.items[name].has_points:
        return True
    ck.d.error(
        "E0301",
        message("E0301.no_points.message", item=name, fn=fn),
        span,
        label=message("E0301.no_points.label"),
        help=message("E0301.no_points.help"),
    )
    return False


def _points_shape(model: StandardModel, name: str) -> tuple[float, bool, float | None]:
    """An item's greatest points, whether they are a penalty, and 10ᵖ for the places
    of its points (None: too many to round to): points = score × greatest (or
    (1 − score) × greatest), rounded back to the points as written."""
    item = model.item(name)
    assert item.scale is not None
    places = _max_places([places_of(e.points or 0.0) for e in item.scale.entries])
    return (
        item.scale.max_points,
        item.scale.kind == "penalty",
        (None if places is None else 10.0**places),
    )


def _max_places(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else max((v or 0 for v in values), default=0)


def _emit_points(pc: PythonCompiler, b: Call, t: Py) -> Py:
    e = pc.e
    _kind, selected = b.payload
    single = b.fn == "points_of"
    e.line(py("{} = None", t) if single else py("{} = 0.0", t))
    for x in selected:
        s = pc.item_var(x.name)
        if pc.m.item(x.name).kind == "multi":  # P, worked out when the answer was read
            v = ident("v", pc.item_idx[x.name])
            term = pc.num(pc.m.item(x.name).most_points) if b.fn == "max_points" else v
            with e.block(py("if {} is not None:", v)):
                e.line(py("{} = {}", t, term) if single else py("{} += {}", t, term))
            continue
        most, penalty, scale = _points_shape(pc.m, x.name)
        if b.fn == "max_points":
            term = pc.num(most)
        else:
            share = py("(1.0 - {})", s) if penalty else s
            term = py("{} * {}", share, pc.num(most))
            if scale is not None:
                term = py("exact({}, {})", term, pc.num(scale))
        with e.block(py("if {} is not None:", s)):
            e.line(py("{} = {}", t, term) if single else py("{} += {}", t, term))
    return t


def _kernel_points(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    exact_array = bc.ops.exact_array
    _kind, selected = b.payload
    multi = {
        x.name: bc.m.item(x.name).most_points for x in selected if bc.m.item(x.name).kind == "multi"
    }
    shapes = [
        (
            x.name,
            *((multi[x.name], False, None) if x.name in multi else _points_shape(bc.m, x.name)),
        )
        for x in selected
    ]
    fn = b.fn

    def points(env: BatchEnv, act: Active) -> Any:
        total = np.zeros(env.m)
        valid: Any = None
        for name, most, penalty, scale in shapes:
            if name in multi:  # P, worked out when the answer was read (NaN: N/A)
                z, valid = bc.ops.zero_and_valid(env.values[name])
                total = total + (valid * most if fn == "max_points" else z)
                continue
            z, valid = env.zero_filled("item", name)
            if fn == "max_points":
                term = valid * most
            else:
                term = ((1.0 - z) * most) * valid if penalty else z * most
                if scale is not None:
                    term = exact_array(term, scale)
            total = total + term
        if fn == "points_of":
            return np.where(valid > 0, total, np.nan)
        return total

    return points


def _scalar_points(ip: Interpreter, b: Call, env: Env) -> Any:
    from .runtime import exact

    _kind, selected = b.payload
    total = 0.0
    for x in selected:
        item = ip.m.item(x.name)
        # a multi-select's points P, worked out when the answer was read (its score may
        # be a formula's); another item's points, from its score
        s = env.answers.get(x.name) if item.kind == "multi" else env.items.get(x.name)
        if s is None:
            if b.fn == "points_of":
                return None
            continue
        if item.kind == "multi":
            total += item.most_points if b.fn == "max_points" else s
            continue
        most, penalty, scale = _points_shape(ip.m, x.name)
        if b.fn == "max_points":
            total += most
            continue
        term = ((1.0 - s) if penalty else s) * most
        rounded = term if scale is None else exact(term, scale)
        total += term if rounded is None else rounded
    return total


# ---- selected, selected_count: the options of a multi-select ---------------------------------


def _bind_selected(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    """`selected(ITEM, LABEL)`: whether the option was chosen; `selected_count(ITEM)`:
    how many were. The item is a multi-select (E0301 otherwise); the label one of its
    scale's labels or aliases (E0207 otherwise), bound to the option's canonical label."""
    fn = call.function
    item = ck._item_arg(call.args[0], fn)
    if item is None:
        return _bad(call, "bool" if fn == "selected" else "num")
    if item.kind != "multi":
        ck.d.error(
            "E0301",
            message("E0301.not_multi.message", fn=fn, item=item.name),
            call.args[0].span,
            label=message("E0301.not_multi.label"),
            help=message("E0301.not_multi.help", fn=fn),
        )
        return _bad(call, "bool" if fn == "selected" else "num")
    chosen = ("items", (SelectedItem(item.name, item.weight, item.bonus),))
    if fn == "selected_count":  # the operand: how many options there are (its range)
        options = Const(float(len(item.scale.entries)) if item.scale else 0.0, type="num")
        return Call(fn, chosen, (options,), type="num", span=call.span)
    arg = call.args[1]
    assert item.scale is not None
    labels = [e.label for e in item.scale.entries]
    written: Any = None
    if isinstance(arg, n.Name):
        written = arg.name
    elif isinstance(arg, n.String | n.Number):
        written = arg.text if isinstance(arg, n.Number) else arg.value
    index = None if written is None else option_index(item.scale, written)
    if index is None:
        hint = did_you_mean(str(written), labels) if written is not None else None
        ck.d.error(
            "E0207",
            message("E0207.unknown_label.message", label=written if written is not None else "?"),
            arg.span,
            label=message("E0207.unknown_label.label"),
            help=message("hint.did_you_mean", name=hint)
            if hint
            else message("E0207.unknown_label.help", labels="`" + "`, `".join(labels) + "`"),
        )
        return _bad(call, "bool")
    label = Const(labels[index], type="label", span=arg.span)
    return Call(fn, chosen, (label,), type="bool", span=call.span)


def option_index(scale: ScaleModel, written: Any) -> int | None:
    """The entry of a scale a label (or alias) names, matched as answers are."""
    key = label_key(written)
    for i, e in enumerate(scale.entries):
        if label_key(e.label) == key or any(label_key(a) == key for a in e.aliases):
            return i
    num = number_of(written)
    if num is not None:
        for i, e in enumerate(scale.entries):
            if e.numeric is not None and e.numeric == num:
                return i
    return None


def _option_of(model: StandardModel, b: Call) -> tuple[str, int]:
    """The item and the option index `selected(ITEM, LABEL)` reads."""
    _kind, (x,) = b.payload
    if b.fn == "selected_count":
        return x.name, -1
    scale = model.item(x.name).scale
    assert scale is not None
    index = option_index(scale, b.args[0].data)
    assert index is not None
    return x.name, index


def _emit_selected(pc: PythonCompiler, b: Call, t: Py) -> Py:
    name, k = _option_of(pc.m, b)
    o = ident("o", pc.item_idx[name])
    if b.fn == "selected_count":
        pc.e.line(py("{} = None if {} is None else float(sum({}))", t, o, o))
    else:
        pc.e.line(py("{} = None if {} is None else {}[{}]", t, o, o, integer(k)))
    return t


def _kernel_selected(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    name, k = _option_of(bc.m, b)
    if b.fn == "selected_count":
        return lambda env, act: np.sum(env.options[name], axis=1)
    return lambda env, act: np.ascontiguousarray(env.options[name][:, k])


def _scalar_selected(ip: Interpreter, b: Call, env: Env) -> Any:
    name, k = _option_of(ip.m, b)
    flags = env.options.get(name)
    if flags is None:
        return None
    return float(sum(flags)) if b.fn == "selected_count" else flags[k]


def _range_selected(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    if b.fn == "selected":
        return None
    return (0.0, float(b.args[0].data))


# ---- clamp, coalesce, is_na: of values ------------------------------------------------------


def _bind_clamp(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    bound = tuple(ck._bind_num(a, ctx) for a in call.args)
    return Call("clamp", None, bound, type="num", span=call.span)


def _combine_clamp(args: list[Interval]) -> Interval:
    (xl, xh), (ll, lh), (hl, hh) = args
    return (min(max(xl, ll), hl), min(max(xh, lh), hh))


def _emit_clamp(pc: PythonCompiler, b: Call, t: Py) -> Py:
    x, lo, hi = (pc.ex(a) for a in b.args)
    pc.e.line(py("{} = {}min(max({}, {}), {})", t, pc._na_guard(x, lo, hi), x, lo, hi))
    return t


def _kernel_clamp(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    ops = bc.ops
    fx, flo, fhi = args

    def clamp(env: BatchEnv, act: Active) -> Any:
        x, lo, hi = (bc._num(f(env, act), env) for f in (fx, flo, fhi))
        return ops.py_min(ops.py_max(x, lo), hi)

    return clamp


def _scalar_clamp(ip: Interpreter, b: Call, env: Env) -> Any:
    x, lo, hi = (ip.eval(a, env) for a in b.args)
    return None if x is None or lo is None or hi is None else min(max(x, lo), hi)


def _bind_coalesce(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    args = call.args
    bound_list = [ck.bind(a, ctx) for a in args]
    typ: Type = next((b.type for b in bound_list if b.type not in ("labellit", "any")), "num")
    bound = tuple(ck._expect_type(b, typ, a) for b, a in zip(bound_list, args, strict=True))
    return Call("coalesce", None, bound, type=typ, span=call.span)


def _emit_coalesce(pc: PythonCompiler, b: Call, t: Py) -> Py:
    atoms = [pc.ex(a) for a in b.args]
    pc.e.line(py("{} = next((x for x in ({}) if x is not None), None)", t, join(atoms)))
    return t


def _kernel_coalesce(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    ops = bc.ops
    text = b.type in ("str", "label")

    def coalesce(env: BatchEnv, act: Active) -> Any:
        vals = [f(env, act) for f in args]
        if text or any(isinstance(v, ops.Cat) for v in vals):
            out = ops.as_cat(vals[0], env.m)
            for v in vals[1:]:
                out = ops.cat_coalesce(out, ops.as_cat(v, env.m))
            return out
        out = vals[0]
        for v in vals[1:]:
            out = np.where(np.isnan(out), v, out)
        return out

    return coalesce


def _scalar_coalesce(ip: Interpreter, b: Call, env: Env) -> Any:
    return next((v for v in (ip.eval(a, env) for a in b.args) if v is not None), None)


def _bind_is_na(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    inner = ck.bind(call.args[0], ctx)
    if inner.type == "labellit":
        ck._unknown_name(call.args[0])
    return Call("is_na", None, (inner,), type="bool", span=call.span)


def _emit_is_na(pc: PythonCompiler, b: Call, t: Py) -> Py:
    x = pc.ex(b.args[0])
    pc.e.line(py("{} = {} is None", t, x) if pc._may_be_none(x) else py("{} = False", t))
    return t


def _kernel_is_na(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    ops = bc.ops
    fx = args[0]

    def is_na(env: BatchEnv, act: Active) -> Any:
        x = fx(env, act)
        if isinstance(x, ops.Cat):
            return x.is_na().astype(float)
        return np.isnan(x).astype(float) if np.ndim(x) else float(np.isnan(x))

    return is_na


def _scalar_is_na(ip: Interpreter, b: Call, env: Env) -> Any:
    return ip.eval(b.args[0], env) is None


# ---- avg, share, total: rollup terms --------------------------------------------------------

#: What the expression of each rollup aggregate must be.
_ROLLUP_TERM_TYPES: dict[str, Type] = {"avg": "num", "share": "bool", "total": "num"}
_ROLLUP_TERM_TYPES.update(median="num", percentile="num")  # not sums: `rollup.percentile`


def _bind_rollup_term(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    fn, arg = call.function, call.args[0]
    inner = ck.bind(arg, ctx.term())
    inner = ck._expect_type(inner, _ROLLUP_TERM_TYPES[fn], arg)
    param = _percentile_param(ck, call.args[1]) if fn == "percentile" else None
    if fn == "median":
        param = 50.0
    key = f"{ctx.owner}.{len(ck._terms) + 1}"
    ck._terms.append(RollupTerm(key, fn, inner, param))  # type: ignore[arg-type]
    return Agg(fn, key, type="num", span=call.span)  # type: ignore[arg-type]


def _percentile_param(ck: Binding, arg: n.Argument) -> float | None:
    """P of `percentile(X, P)`: a number written out in [0, 100], else E0301."""
    number, sign = arg, 1.0
    if isinstance(number, n.Negate):
        number, sign = number.operand, -1.0
    if not isinstance(number, n.Number):
        ck.d.error(
            "E0301",
            message("E0301.percentile_constant.message"),
            arg.span,
            label=message("E0301.percentile_constant.label"),
            help=message("E0301.percentile_constant.help"),
        )
        return None
    p = sign * number.value
    if not 0 <= p <= 100:  # NaN fails too
        ck.d.error(
            "E0301",
            message(
                "E0301.percentile_range.message", p=number.text if sign > 0 else f"-{number.text}"
            ),
            arg.span,
            label=message("E0301.percentile_range.label"),
            help=message("E0301.percentile_range.help"),
        )
        return None
    return p


def _bind_mode(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    """`mode(band(C))`: the band most of the group's visits fell in, read from the band
    counts of the roll-up (no per-visit input); `mode(X, "L1", …)`: the label among
    those most visits gave X, read from one `share(X == L)` term per label. E0301 for
    any other argument."""
    arg = call.args[0]
    if len(call.args) > 1:
        return _bind_mode_of(ck, call, ctx)
    if not (isinstance(arg, n.Call) and arg.function == "band"):
        ck.d.error(
            "E0301",
            message("E0301.mode_of_band.message"),
            arg.span,
            label=message("E0301.mode_of_band.label"),
            help=message("E0301.mode_of_band.help"),
        )
        return Const(None, type="label", span=call.span)
    inner = ck.bind(arg, ctx.term())
    if not isinstance(inner, Call):  # E0208 or E0302 reported by `band`
        return Const(None, type="label", span=call.span)
    return Agg("mode", inner.payload, type="label", labels=inner.labels, span=call.span)


def _bind_mode_of(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    arg, *listed = call.args
    candidates: list[str] = []
    for c in listed:
        if not isinstance(c, n.String | n.Name) or (isinstance(c, n.Name) and c.name in ck.decls):
            ck.d.error(
                "E0301",
                message("E0301.mode_candidates.message"),
                c.span,
                label=message("E0301.mode_candidates.label"),
                help=message("E0301.mode_candidates.help"),
            )
            return Const(None, type="label", span=call.span)
        candidates.append(c.value if isinstance(c, n.String) else c.name)
    if isinstance(arg, n.Selection | n.Weighted):
        return _bad(call, "label")
    keys = []
    for c in listed:
        assert isinstance(c, n.String | n.Name)
        # one `share(X == label)` per candidate: the checker judges the label against X
        inner = ck.bind(n.Compare("==", arg, c, span=c.span), ctx.term())
        key = f"{ctx.owner}.{len(ck._terms) + 1}"
        ck._terms.append(RollupTerm(key, "share", inner))
        keys.append(key)
    labels = frozenset(candidates)
    return ModeOf(tuple(candidates), tuple(keys), type="label", labels=labels, span=call.span)


def _rollup_entry(fn: str, argument: str, doc: str) -> Builtin:
    signature = f"{fn}({argument})"
    return Builtin(fn, 1, 1, _bind_rollup_term, context="rollup", signature=signature, doc=doc)


# ---- dates and datetimes (typed visit fields, `field_types`) ---------------------------------


def _moment_entry(
    name: str,
    kinds: tuple[Type, ...],
    arity: int,
    forms: dict[str, tuple[Callable[..., Any], Callable[..., Any]]],
    signature: str,
    doc: str,
    bounds: Interval | None = None,
) -> Builtin:
    """A function of dates or datetimes (each argument of one of `kinds`; two
    arguments of one type): `forms` gives, per argument type, the scalar function
    (floats, N/A as None) and its batch form (float arrays, NaN for N/A)."""
    number: ValueType = "num"
    params = (number,) * arity
    specs = {
        kind: FunctionSpec(name, params, "num", scalar, batch, False, doc, "builtin")
        for kind, (scalar, batch) in forms.items()
    }

    def bind(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
        bound = [ck.bind(a, ctx) for a in call.args]
        known = [b.type for b in bound if b.type in kinds]
        want: Type = known[0] if known else kinds[0]
        # a text written out (`days_between("2026-01-01", visit.date)`) is a date (E0509)
        typed = Const(None, type=want, span=call.span)
        bound = [ck._moment_literal(b, typed) for b in bound]
        args = tuple(ck._expect_type(b, want, a) for b, a in zip(bound, call.args, strict=True))
        return Call(name, None, args, type="num", span=call.span)

    def spec_of(b: Call) -> FunctionSpec:
        kind = next((a.type for a in b.args if a.type in specs), kinds[0])
        return specs[kind]

    def emit(pc: PythonCompiler, b: Call, t: Py) -> Py:
        return emit_value_call(pc, spec_of(b), b, t)

    def kernel(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
        return bc.value_call(spec_of(b), b, args)

    def evaluate(ip: Interpreter, b: Call, env: Env) -> Any:
        return scalar_value_call(ip, spec_of(b), b, env)

    return Builtin(
        name,
        arity,
        arity,
        bind,
        range=None if bounds is None else strict_range(lambda _: bounds),
        emit=emit,
        kernel=kernel,
        scalar=evaluate,
        signature=signature,
        doc=doc,
    )


def _date_entries() -> list[Builtin]:
    from . import field_types as ft

    def on_datetimes(f: Callable[..., Any]) -> Callable[..., Any]:
        def g(value: Any) -> Any:
            return f(value, True)

        return g

    def part(
        fn: str,
        scalar: Callable[..., Any],
        batch: Callable[..., Any],
        bounds: Interval | None,
        doc: str,
    ) -> Builtin:
        return _moment_entry(
            fn,
            ("date", "datetime"),
            1,
            {"date": (scalar, batch), "datetime": (on_datetimes(scalar), on_datetimes(batch))},
            f"{fn}(DATE)",
            doc,
            bounds,
        )

    return [
        part(
            "weekday",
            ft.weekday,
            ft.weekday_batch,
            (1.0, 7.0),
            "the day of the week of a date or datetime: 1 Monday … 7 Sunday"
            " (in UTC for a value with an offset)",
        ),
        part(
            "month",
            ft.month,
            ft.month_batch,
            (1.0, 12.0),
            "the month of a date or datetime, 1 … 12 (in UTC for a value with an offset)",
        ),
        part(
            "year",
            ft.year,
            ft.year_batch,
            None,
            "the year of a date or datetime (in UTC for a value with an offset)",
        ),
        _moment_entry(
            "hour",
            ("datetime",),
            1,
            {"datetime": (ft.hour, ft.hour_batch)},
            "hour(DATETIME)",
            "the hour of a datetime, 0 … 23 (in UTC for a value with an offset)",
            (0.0, 23.0),
        ),
        _moment_entry(
            "days_between",
            ("date",),
            2,
            {"date": (ft.days_between, ft.days_between_batch)},
            "days_between(A, B)",
            "the days from date A to date B (B − A)",
        ),
        _moment_entry(
            "minutes_between",
            ("datetime",),
            2,
            {"datetime": (ft.minutes_between, ft.minutes_between_batch)},
            "minutes_between(A, B)",
            "the minutes from datetime A to datetime B (B − A); N/A if one has a UTC offset "
            "and the other none",
        ),
    ]


# ---- history: previous, has_previous, repeated -------------------------------------------


def _bind_previous(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    """`previous(NAME)`: an item's score, a section's score or a coefficient's value (a
    number or a label) at the point's previous visit; E0307 for anything else."""
    arg = call.args[0]
    if isinstance(arg, n.Name):
        name = arg.name
        decl = ck.decls.get(name)
        if decl is None:
            ck._unknown_name(arg)
            return _bad(call, "any")
        if decl.kind == "item":
            item = ck.items.get(name)
            if item is None:
                return _bad(call)
            if not item.scored:
                ck.d.error(
                    "E0304",
                    message("E0304.needs_scored.message", fn="previous", item=name),
                    arg.span,
                    label=message("E0304.unscored.label"),
                    help=message("E0304.needs_scored.help"),
                )
                return _bad(call)
            return Call("previous", PreviousOf("item", name), type="num", span=call.span)
        if decl.kind == "section":
            return Call("previous", PreviousOf("section", name), type="num", span=call.span)
        if decl.kind == "coefficient":
            labels: frozenset[str] | None = None
            typ: Type
            if name in ck._coefs_busy:  # read by its own formula: the type its syntax gives
                typ = _written_type(ck, decl.node.expr)
            else:
                formula = ck._coefficient(name)
                typ = formula.type if formula.type in ("str", "label") else "num"
                labels = formula.labels
            return Call(
                "previous", PreviousOf("coef", name), type=typ, labels=labels, span=call.span
            )
    ck.d.error(
        "E0307",
        message("E0307.previous.message"),
        arg.span,
        label=message("E0307.previous.label"),
        help=message("E0307.previous.help"),
    )
    return _bad(call, "any")


def _written_type(ck: Binding, expr: n.Expr) -> Type:
    """The type of a formula as its results are written (a text, a bare word that names
    nothing: a label; else a number), for `previous(C)` inside C's own formula."""
    match expr:
        case n.If(then=a, otherwise=b):
            for branch in (a, b):
                t = _written_type(ck, branch)
                if t != "num":
                    return t
            return "num"
        case n.String():
            return "str"
        case n.Name(name=name) if name not in ck.decls and name != "na":
            return "label"
    return "num"


def _range_previous(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    return (0.0, 1.0) if b.payload.kind in ("item", "section") else None


def _emit_previous(pc: PythonCompiler, b: Call, t: Py) -> Py:
    k = pc.const("K", previous_key(b.payload.kind, b.payload.name))
    pc.e.line(py("{} = visit.get({})", t, k))
    return t


def _kernel_previous(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    k = previous_key(b.payload.kind, b.payload.name)
    text = b.type in ("str", "label") or (
        b.payload.kind == "coef" and b.payload.name in bc.label_names
    )

    def previous(env: BatchEnv, act: Active) -> Any:
        col = env.previous.get(k)
        if col is None:
            return bc.ops.Cat.constant(None, env.m) if text else np.full(env.m, np.nan)
        return col

    return previous


def _scalar_previous(ip: Interpreter, b: Call, env: Env) -> Any:
    return env.previous.get(previous_key(b.payload.kind, b.payload.name))


def _bind_has_previous(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    return Call("has_previous", None, type="bool", span=call.span)


def _emit_has_previous(pc: PythonCompiler, b: Call, t: Py) -> Py:
    pc.e.line(py("{} = visit.get({}) is True", t, pc.const("K", HAS_PREVIOUS)))
    return t


def _kernel_has_previous(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    def has(env: BatchEnv, act: Active) -> Any:
        col = env.previous.get(HAS_PREVIOUS)
        return np.zeros(env.m) if col is None else col

    return has


def _scalar_has_previous(ip: Interpreter, b: Call, env: Env) -> Any:
    return env.previous.get(HAS_PREVIOUS) is True


def _bind_repeated(ck: Binding, call: n.Call, ctx: _Context) -> Bound:
    """`repeated(SELECTION)`: items, `tagged T`, `in S` or item names (E0308 for
    anything else), expanded to the scored items they stand for."""
    chosen: dict[str, SelectedItem] = {}
    for a in call.args:
        if isinstance(a, n.Selection) and a.kind != "sections":
            _kind, sel = ck._selection([a], call.function)
            chosen.update((x.name, x) for x in sel)
            continue
        item = None
        if isinstance(a, n.Name) and a.name in ck.decls and ck.decls[a.name].kind == "item":
            item = ck._item_arg(a, call.function, scored=True)
            if item is not None:
                chosen.setdefault(item.name, SelectedItem(item.name, item.weight, item.bonus))
            continue
        ck.d.error(
            "E0308",
            message("E0308.repeated.message"),
            a.span,
            label=message("E0308.repeated.label"),
            help=message("E0308.repeated.help"),
        )
    return Call("repeated", ("items", tuple(chosen.values())), type="num", span=call.span)


def _range_repeated(
    b: Call, sub: Callable[[Bound], Interval | None], scope: RangeScope | None
) -> Interval | None:
    return (0.0, float(len(b.payload[1])))


def _emit_repeated(pc: PythonCompiler, b: Call, t: Py) -> Py:
    e = pc.e
    e.line(py("{} = 0.0", t))
    for x in b.payload[1]:
        s = pc.item_var(x.name)
        p = pc.fresh()
        e.line(py("{} = visit.get({})", p, pc.const("K", previous_key("item", x.name))))
        with e.block(
            py("if {} is not None and {} is not None and {} < 1.0 and {} < 1.0:", s, p, s, p)
        ):
            e.line(py("{} += 1.0", t))
    return t


def _kernel_repeated(bc: BatchCompiler, b: Call, args: list[Expr]) -> Expr:
    import numpy as np

    names = [x.name for x in b.payload[1]]

    def repeated(env: BatchEnv, act: Active) -> Any:
        total = np.zeros(env.m)
        for name in names:
            prev = env.previous.get(previous_key("item", name))
            if prev is None:
                continue
            with np.errstate(invalid="ignore"):
                total += (env.items[name] < 1.0) & (prev < 1.0)
        return total

    return repeated


def _scalar_repeated(ip: Interpreter, b: Call, env: Env) -> Any:
    count = 0.0
    for x in b.payload[1]:
        s = env.items.get(x.name)
        p = env.previous.get(previous_key("item", x.name))
        if s is not None and p is not None and s < 1.0 and p < 1.0:
            count += 1.0
    return count


# ---- the table ------------------------------------------------------------------------------

BUILTINS = BuiltinTable(
    [
        Builtin(
            "weighted_mean",
            1,
            MANY,
            _bind_weighted_mean,
            context="visit",
            range=_range_weighted_mean,
            emit=_emit_weighted_mean,
            kernel=_kernel_weighted,
            scalar=_scalar_weighted_mean,
            forms=("weighted_terms",),
            signature="weighted_mean(SELECTION) | weighted_mean(EXPR: WEIGHT, …)",
            doc="the weighted mean of selections or of `expr: weight` terms",
        ),
        _aggregate_entry(
            "mean",
            "mean(EXPR, …) | mean(SELECTION)",
            "the mean of values, or of the scores selected",
        ),
        _aggregate_entry("min", "min(EXPR, …)", "the least of values, or of the scores selected"),
        _aggregate_entry(
            "max", "max(EXPR, …)", "the greatest of values, or of the scores selected"
        ),
        _aggregate_entry("sum", "sum(EXPR, …)", "the sum of values, or of the scores selected"),
        Builtin(
            "count",
            1,
            MANY,
            _bind_selection,
            context="visit",
            range=_selection_range,
            emit=_emit_count,
            kernel=_kernel_count,
            scalar=_scalar_sums,
            signature="count(SELECTION)",
            doc="how many of the items or sections selected are not N/A",
        ),
        _sum_entry("earned", "Σ weight × score of the items selected"),
        _sum_entry("possible", "Σ weight of the items selected that are not N/A (bonus aside)"),
        _sum_entry("lost", "possible − earned"),
        Builtin(
            "failed",
            1,
            1,
            _bind_failed,
            context="visit",
            fails_as="num",
            emit=_emit_failed,
            kernel=_kernel_failed,
            scalar=_scalar_failed,
            signature="failed(ITEM)",
            doc="whether an item scored 0",
        ),
        Builtin(
            "clamp",
            3,
            3,
            _bind_clamp,
            range=strict_range(_combine_clamp),
            emit=_emit_clamp,
            kernel=_kernel_clamp,
            scalar=_scalar_clamp,
            signature="clamp(X, LO, HI)",
            doc="a value held between a low and a high bound",
        ),
        Builtin(
            "coalesce",
            2,
            MANY,
            _bind_coalesce,
            range=_hull_of_args,
            emit=_emit_coalesce,
            kernel=_kernel_coalesce,
            scalar=_scalar_coalesce,
            signature="coalesce(X, Y, …)",
            doc="the first argument that is not N/A",
        ),
        Builtin(
            "is_na",
            1,
            1,
            _bind_is_na,
            emit=_emit_is_na,
            kernel=_kernel_is_na,
            scalar=_scalar_is_na,
            signature="is_na(X)",
            doc="whether a value is N/A",
        ),
        Builtin(
            "band",
            1,
            1,
            _bind_band,
            emit=_emit_band,
            kernel=_kernel_band,
            scalar=_scalar_band,
            signature="band(COEFFICIENT)",
            doc="the band a coefficient falls in",
        ),
        Builtin(
            "critical_failed",
            1,
            MANY,
            _bind_selection,
            context="visit",
            fails_as="bool",
            emit=_emit_critical_failed,
            kernel=_kernel_critical_failed,
            scalar=_scalar_critical_failed,
            signature="critical_failed | critical_failed(SELECTION)",
            doc="whether a critical item among those selected failed",
        ),
        Builtin(
            "answer",
            1,
            1,
            _bind_answer,
            context="visit",
            signature="answer(ITEM)",
            doc="an item's answer: its label, number or text",
        ),
        Builtin(
            "points",
            1,
            MANY,
            _bind_points,
            context="visit",
            emit=_emit_points,
            kernel=_kernel_points,
            scalar=_scalar_points,
            forms=("points_of",),
            signature="points(ITEM) | points(SELECTION)",
            doc="the points an answer on a points or penalty scale is worth, or their sum",
        ),
        Builtin(
            "max_points",
            1,
            MANY,
            _bind_points,
            context="visit",
            emit=_emit_points,
            kernel=_kernel_points,
            scalar=_scalar_points,
            signature="max_points(SELECTION)",
            doc="the most points the items selected could be worth (N/A items left out)",
        ),
        Builtin(
            "selected",
            2,
            2,
            _bind_selected,
            context="visit",
            fails_as="bool",
            emit=_emit_selected,
            kernel=_kernel_selected,
            scalar=_scalar_selected,
            signature="selected(ITEM, LABEL)",
            doc="whether a multi-select's answer chose the option",
        ),
        Builtin(
            "selected_count",
            1,
            1,
            _bind_selected,
            context="visit",
            range=_range_selected,
            emit=_emit_selected,
            kernel=_kernel_selected,
            scalar=_scalar_selected,
            signature="selected_count(ITEM)",
            doc="how many options a multi-select's answer chose",
        ),
        Builtin(
            "previous",
            1,
            1,
            _bind_previous,
            context="visit",
            fails_as="any",
            range=_range_previous,
            emit=_emit_previous,
            kernel=_kernel_previous,
            scalar=_scalar_previous,
            signature="previous(NAME)",
            doc="an item's or section's score, or a coefficient's value, at the point's "
            "previous visit",
        ),
        Builtin(
            "has_previous",
            0,
            0,
            _bind_has_previous,
            context="visit",
            fails_as="bool",
            emit=_emit_has_previous,
            kernel=_kernel_has_previous,
            scalar=_scalar_has_previous,
            signature="has_previous()",
            doc="whether the point had a previous visit",
        ),
        Builtin(
            "repeated",
            1,
            MANY,
            _bind_repeated,
            context="visit",
            range=_range_repeated,
            emit=_emit_repeated,
            kernel=_kernel_repeated,
            scalar=_scalar_repeated,
            signature="repeated(SELECTION)",
            doc="how many of the items selected lost points at this visit and at the previous one",
        ),
        _rollup_entry("avg", "EXPR", "the mean over the visits of a group"),
        _rollup_entry(
            "share", "CONDITION", "the share of a group's visits where a condition holds"
        ),
        _rollup_entry("total", "EXPR", "the sum over the visits of a group"),
        _rollup_entry("median", "EXPR", "the median over the visits of a group"),
        Builtin(
            "percentile",
            2,
            2,
            _bind_rollup_term,
            context="rollup",
            signature="percentile(EXPR, P)",
            doc="the P-th percentile (P in [0, 100]) over the visits of a group",
        ),
        Builtin(
            "mode",
            1,
            MANY,
            _bind_mode,
            context="rollup",
            fails_as="label",
            signature='mode(band(COEFFICIENT)) | mode(LABEL, "L1", "L2", …)',
            doc="the band, or the label among those listed, most of a group's visits gave",
        ),
        *_date_entries(),
    ]
)

__all__ = [
    "BUILTINS",
    "EMPTY",
    "MANY",
    "Builtin",
    "BuiltinTable",
    "Interval",
    "RangeScope",
    "hull",
    "strict_range",
    "table_of",
    "value_function",
    "wmean",
]
