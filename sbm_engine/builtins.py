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

from . import nodes as n
from .codegen import Py, ident, join, py, tuple_display
from .exact import places_of
from .functions import FunctionSpec, ValueType
from .ir import Agg, AnswerRef, Bound, Call, CoefRef, Const, ModeOf, Type
from .messages import message
from .model import RollupTerm, SelectedItem

if TYPE_CHECKING:
    from .batch.compiler import BatchCompiler
    from .batch.env import Active, Expr
    from .batch.env import Env as BatchEnv
    from .check.binding import Binding, _Context
    from .compiler import PythonCompiler
    from .interpret import Env, Interpreter
    from .model import StandardModel

#: No upper bound on a function's arguments (`mean`, `min`, `max`, `sum`, `coalesce`).
MANY = sys.maxsize

Interval = tuple[float, float]
#: The "interval" of an expression that is always N/A (it never leaves [0, 1]).
EMPTY: Interval = (math.inf, -math.inf)

#: Where a function may be called: in per-visit formulas only (`visit`: E0306 in a
#: rollup, reported before the arity), in rollup formulas only (`rollup`: E0306
#: elsewhere, and nothing more is checked), or anywhere (`any`: the type rule decides).
Context = Literal["visit", "rollup", "any"]

BindRule = Callable[["Binding", n.Call, "_Context"], Bound]
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
    shapes = [(x.name, *_points_shape(bc.m, x.name)) for x in selected]
    fn = b.fn

    def points(env: BatchEnv, act: Active) -> Any:
        total = np.zeros(env.m)
        valid: Any = None
        for name, most, penalty, scale in shapes:
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
        s = env.items.get(x.name)
        if s is None:
            if b.fn == "points_of":
                return None
            continue
        most, penalty, scale = _points_shape(ip.m, x.name)
        if b.fn == "max_points":
            total += most
            continue
        term = ((1.0 - s) if penalty else s) * most
        rounded = term if scale is None else exact(term, scale)
        total += term if rounded is None else rounded
    return total


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
