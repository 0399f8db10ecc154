"""Checked standard to numpy: each `Bound` tree becomes a closure over whole columns.

Why closures and not generated source: a batch operation costs microseconds of
Python and milliseconds of numpy, so the dispatch overhead does not matter and a
closure tree is the simplest faithful transcription of `compiler.py`'s cases (the
built-in functions' own kernels live in their entries of `builtins.py`).

The one subtlety is *where* the per-visit code would have run an expression.
It evaluates an item's `score =` only for visits where the item applies and was
answered, one branch of an `if`, the right side of `and`/`or` only when the left
does not decide. Here every expression runs on every row of the chunk, with an
`active` mask saying which rows the per-visit code would really have run it for;
a failure (division by zero, a score outside [0, 1], a NaN that is not N/A, an
invalid answer to an item that applies) marks only those rows as *suspect*. A
suspect row is never trusted: the evaluator re-scores it with the per-visit code,
which produces the same rejection (or, if nothing was wrong after all, the same
result). Sums are accumulated in the same order as the per-visit code, so the
two backends agree to the last bit, bands included.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..builtins import table_of
from ..functions import FunctionRegistry, FunctionSpec, default_registry
from ..ir import (
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
from ..model import BandsModel, ItemModel, SelectedItem, StandardModel, expressions
from ..runtime import EXACT_LIMIT, label_text
from .columns import FieldDecoder, ItemDecoder, Source
from .env import Active, ChunkResult, Env, Expr, both, zero_and_valid
from .plugins import plugin_call
from .sums import SumPlan, item_selections, section_selection, weighted_rows, weighted_table
from .values import (
    COMPARE,
    NAN,
    Cat,
    as_cat,
    cat_binary,
    cat_coalesce,
    cat_where,
    full,
    k_and,
    k_not,
    k_or,
    to_float,
    truthy,
)

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
}
_NP_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
_TEXT_TYPES = ("str", "label")


class BatchCompiler:
    """Compiles a `StandardModel` into a plan that evaluates chunks of rows."""

    #: what the numpy kernels of the built-in functions compute with (`KernelOps`)
    ops: ClassVar[type[KernelOps]]

    def __init__(self, model: StandardModel, functions: FunctionRegistry | None = None) -> None:
        self.m = model
        self.functions = functions or default_registry()
        self.builtins = table_of(model)
        self.items: dict[str, ItemModel] = {it.name: it for it in model.items}
        self.sections = {s.name: s for s in model.sections}
        self.coefs = {c.name: c for c in (*model.coefficients, *model.labels)}
        self.label_names = tuple(c.name for c in model.labels)
        self.fields_used: set[str] = set()
        self.fallbacks: set[str] = set()
        read = self._read_by_answer()
        self.decoders = {
            it.name: ItemDecoder(it, it.name in read, conditional(it)) for it in model.items
        }
        self.sums = SumPlan(model, item_selections(model))
        #: items whose scores `run` gathers straight into its `out` arrays
        self.in_place = frozenset(it.name for it in model.items if _lookup_only(it))
        self.steps: list[Callable[[Env], None]] = []
        for kind, name in model.order:
            if kind == "item":
                self.steps.append(self._item_step(self.items[name]))
            elif kind == "section":
                self.steps.append(self._section_step(name))
            else:
                self.steps.append(self._coef_step(name))
        self.critical = tuple(it.name for it in model.items if it.critical)
        self.term_exprs = [
            (t.key, t.expr.type == "bool", self.expr(t.expr))
            for r in model.rollups
            for t in r.terms
        ]
        #: each coefficient's bands and the compiled conditions of those that have one
        self.band_exprs = [
            (coef, bands, [self.expr(c) for c in bands.conditions if c is not None])
            for coef, bands in model.bands.items()
        ]
        checked = {f.key: f for f in model.fields.values() if f.read}
        self.field_decoders = {
            key: FieldDecoder(checked.get(key)) for key in sorted(self.fields_used | set(checked))
        }
        for name in sorted(self.fallbacks):
            warnings.warn(
                f"function `{name}` has no batch form; the batch evaluator calls its scalar "
                "form once per visit, which is slow",
                RuntimeWarning,
                stacklevel=3,
            )

    def _read_by_answer(self) -> set[str]:
        return {
            n.name
            for b in expressions(self.m)
            for n in b.walk()
            if isinstance(n, AnswerRef | ValueRef)
        }

    # -- running --------------------------------------------------------------------------------

    def run(
        self,
        sources: Mapping[str, Source],
        fields: Mapping[str, Source],
        start: int,
        stop: int,
        out: Mapping[str, np.ndarray] | None = None,
        previous: Mapping[Any, Any] | None = None,
    ) -> ChunkResult:
        """Evaluate rows [start, stop) of the given columns. `out` (whole-column item
        score arrays, optional) receives, at rows [start, stop), the scores of the
        items in `in_place`, which are a plain table lookup. `previous`: the previous
        visits' values of rows [start, stop) (`Env.previous`), for a standard that
        uses history."""
        env = Env(stop - start, sources, fields, start, stop)
        env.out = out
        if previous:
            env.previous = previous
        env.sums = self.sums.accumulators(env.m)
        with np.errstate(all="ignore"):
            for name, decoder in self.field_decoders.items():
                src = fields.get(name)
                if src is None:
                    env.fields[name], bad = decoder.absent(env.m)
                else:
                    env.fields[name], bad = decoder.decode(src, start, stop)
                env.mark(bad)
            for step in self.steps:
                step(env)
            critical = {name: env.critical_failed(name) for name in self.critical}
            terms = {}
            for key, _is_bool, f in self.term_exprs:
                terms[key] = full(self._num(f(env, None), env), env.m)
            for arr in (*env.coefs.values(), *terms.values()):
                env.mark(np.isinf(arr))
            for name, target in self.m.targets.items():
                env.mark(np.isinf(env.coefs[name] - target))  # an overflowing gap
            bands = {
                coef: band_codes(
                    full(env.coefs[coef], env.m), model, [truthy(f(env, None)) for f in conds]
                )
                for coef, model, conds in self.band_exprs
            }
        labels = {name: label_texts(env.labels[name]) for name in self.label_names}
        return ChunkResult(env, critical, terms, bands, labels)

    # -- items, sections, coefficients ----------------------------------------------------------

    def _item_step(self, it: ItemModel) -> Callable[[Env], None]:
        name = it.name
        decoder = self.decoders[name]
        sec = it.section
        sec_when = self.expr(it.section_when) if it.section_when is not None else None
        own_when = self.expr(it.when) if it.when is not None else None
        formula = self.expr(it.score) if it.score is not None else None
        critical_when = self.expr(it.critical_when) if it.critical_when is not None else None
        unscored = it.unscored
        computed = self.expr(it.computed) if it.computed is not None else None
        linear = (
            it.kind == "number" and it.score is None and it.low is not None and it.high is not None
        )
        in_place = name in self.in_place
        low = it.low or 0.0
        span = (it.high - it.low) if linear else 1.0  # type: ignore[operator]
        adds = self.sums.adds.get(name, ())

        def step(env: Env) -> None:
            m = env.m
            app: Any = None
            if sec_when is not None:
                assert sec is not None
                w = env.section_when.get(sec)
                if w is None:
                    w = env.section_when[sec] = truthy(sec_when(env, None))
                app = w if np.ndim(w) else (None if w else np.zeros(m, dtype=bool))
            # The item's own condition is read only where its section applies.
            if own_when is not None and (app is None or app.any()):
                t = truthy(own_when(env, app))
                if np.ndim(t) == 0:
                    t = np.full(m, bool(t))
                app = t if app is None else (app & t)

            dec: Any
            if computed is not None:  # `value = EXPR`: worked out, checked against the range
                dec = _computed(full(self._num(computed(env, app), env), env.m), it)
            else:
                source = env.sources.get(name)
                if source is None:
                    raise KeyError(name)
                target = None
                if in_place and env.out is not None:
                    target = env.out[name][env.start : env.stop]
                dec = decoder.decode(source, env.start, env.stop, target)
            env.mark(dec.error, app)
            env.mark(dec.odd)
            value = dec.value
            env.values[name] = value
            if it.kind == "multi":
                s = dec.score
                options = dec.options
                if app is not None:
                    options = np.where(app[:, None], options, NAN)
                env.options[name] = options
                if formula is not None:
                    s = self._formula(env, formula, both(app, ~np.isnan(s)))
                if unscored:
                    s = np.full(m, NAN)
            elif unscored:  # the answer is read and checked; the item has no score
                s = np.full(m, NAN)
            elif it.kind == "scale":
                s = dec.score
                if formula is not None:
                    s = self._formula(env, formula, both(app, ~np.isnan(s)))
                elif app is None and dec.coded is not None:
                    env.coded[name] = dec.coded
            elif it.kind == "number":
                if formula is not None:
                    s = self._formula(env, formula, both(app, ~np.isnan(value)))
                elif linear:
                    s = (value - low) / span
                    if span == 0:
                        env.mark(~np.isnan(value), app)
                    elif not np.isfinite(span):  # a range as wide as the floats: inf / inf
                        env.mark(~np.isfinite(s) & ~np.isnan(value), app)
                else:
                    s = np.full(m, NAN)
            else:
                s = np.full(m, NAN)
            if app is not None:
                s = np.where(app, s, NAN)
                if isinstance(value, Cat):
                    value = Cat(np.where(app, value.codes, -1), value.values)
                elif value is not None:
                    value = np.where(app, value, NAN)
                env.values[name] = value
                if dec.answered is not None:
                    env.warn[name] = dec.answered & ~app
            env.items[name] = s
            if critical_when is not None:  # read where the item scored 0 only
                zero = s == 0.0
                holds = truthy(critical_when(env, zero))
                env.critical[name] = zero & holds
            if adds:
                _add_weighted(env, name, s, adds)

        return step

    def _formula(self, env: Env, formula: Expr, active: Any) -> np.ndarray:
        """An item's `score =` where it runs, checked to lie in [0, 1]."""
        f = full(self._num(formula(env, active), env), env.m)
        outside = (f < 0.0) | (f > 1.0)
        env.mark(outside, active)
        return np.where(active, f, NAN)

    def _section_step(self, name: str) -> Callable[[Env], None]:
        selected = section_selection(self.items, self.sections[name])

        def step(env: Env) -> None:
            num, den = self._weighted_items(env, selected, None)
            env.sections[name] = mean_of(num, den)

        return step

    def _coef_step(self, name: str) -> Callable[[Env], None]:
        f = self.expr(self.coefs[name].expr)
        if name in self.label_names:

            def label_step(env: Env) -> None:
                env.labels[name] = label_cat(as_cat(f(env, None), env.m))

            return label_step

        def step(env: Env) -> None:
            env.coefs[name] = full(self._num(f(env, None), env), env.m)

        return step

    # -- weighted sums (same order of additions as the per-visit code) --------------------------

    def _accumulate(
        self, env: Env, terms: list[tuple[np.ndarray, np.ndarray, bool]], active: Active
    ) -> tuple[np.ndarray, np.ndarray]:
        """Σ weight × value and Σ weight over the non-N/A terms, added in the per-visit
        code's order; each term comes weighted already (`Env.weighted`)."""
        num = np.zeros(env.m)
        den = np.zeros(env.m)
        for wz, wvalid, bonus in terms:
            num += wz
            if not bonus:
                den += wvalid
        bad = ~np.isfinite(num)
        if bad.any():
            env.mark(bad, active)
        return num, den

    def _weighted_items(
        self, env: Env, sel: tuple[SelectedItem, ...], active: Active
    ) -> tuple[np.ndarray, np.ndarray]:
        g = self.sums.index.get(sel)
        if g is not None:  # summed while its items were scored
            assert env.sums is not None
            acc = env.sums[g]
            num, den = np.ascontiguousarray(acc.real), np.ascontiguousarray(acc.imag)
            bad = ~np.isfinite(num)
            if bad.any():
                env.mark(bad, active)
            return num, den
        terms = [(*env.weighted("item", x.name, float(x.weight)), x.bonus) for x in sel]
        return self._accumulate(env, terms, active)

    def _weighted_sections(
        self, env: Env, sel: tuple[tuple[str, float], ...], active: Active
    ) -> tuple[np.ndarray, np.ndarray]:
        terms = [(*env.weighted("section", name, float(w)), False) for name, w in sel]
        return self._accumulate(env, terms, active)

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, b: Bound) -> Expr:
        match b:
            case Const(value=v):
                if isinstance(v, str) or b.type in _TEXT_TYPES:
                    return lambda env, act: Cat.constant(v, env.m)
                c = to_float(v)
                return lambda env, act: c
            case ItemRef(name=name):
                return lambda env, act: env.items[name]
            case AnswerRef(name=name) | ValueRef(name=name):
                return lambda env, act: env.values[name]
            case SectionRef(name=name):
                return lambda env, act: env.sections[name]
            case CoefRef(name=name):
                if name in self.label_names:
                    return lambda env, act: env.labels[name]
                return lambda env, act: env.coefs[name]
            case FieldRef(name=key):
                self.fields_used.add(key)
                return lambda env, act: env.fields[key]
            case Neg(operand=operand):
                fx = self.expr(operand)
                return lambda env, act: np.negative(self._num(fx(env, act), env))
            case Exact(operand=operand, places=places):
                fx = self.expr(operand)
                scale = 10.0**places
                return lambda env, act: exact_array(self._num(fx(env, act), env), scale)
            case Arith():
                return self._arith(b)
            case Compare():
                return self._cmp(b)
            case Not(operand=operand):
                fx = self.expr(operand)
                return lambda env, act: k_not(self._num(fx(env, act), env))
            case And() | Or():
                return self._logic(b)
            case If():
                return self._if(b)
            case Call():
                return self._call(b)
        raise AssertionError(f"cannot compile {b.op} for the batch backend")

    def _num(self, x: Any, env: Env) -> Any:
        """A float array or scalar (a text where a number is wanted would be a checker bug)."""
        if isinstance(x, Cat):
            raise TypeError("a text value where a number was expected")
        return x

    def _arith(self, b: Arith) -> Expr:
        fx, fy = self.expr(b.left), self.expr(b.right)
        ufunc = _ARITH[b.operator]
        divide = b.operator == "/"

        def run(env: Env, act: Active) -> Any:
            x = self._num(fx(env, act), env)
            y = self._num(fy(env, act), env)
            r = ufunc(x, y)
            if divide:
                env.mark(np.equal(y, 0.0) & ~np.isnan(x), act)
            odd = ~np.isfinite(r)
            if np.any(odd):
                env.mark(odd & ~(np.isnan(x) | np.isnan(y)), act)
            return r

        return run

    def _cmp(self, b: Compare) -> Expr:
        fx, fy = self.expr(b.left), self.expr(b.right)
        npop = _NP_COMPARE[b.operator]
        pyop = COMPARE[b.operator]

        def run(env: Env, act: Active) -> Any:
            x, y = fx(env, act), fy(env, act)
            if isinstance(x, Cat) or isinstance(y, Cat):
                a, c = as_cat(x, env.m), as_cat(y, env.m)
                results, index, bad = cat_binary(pyop, a, c)
                env.mark(bad, act)
                lut = np.array([to_float(r) for r in results], dtype=float)
                return lut[index]
            if np.ndim(x) == 0 and np.ndim(y) == 0:
                return NAN if x != x or y != y else float(pyop(x, y))
            na = np.isnan(x) | np.isnan(y)
            return np.where(na, NAN, npop(x, y).astype(float))

        return run

    def _logic(self, b: And | Or) -> Expr:
        fx, fy = self.expr(b.left), self.expr(b.right)
        is_and = isinstance(b, And)
        stop = 0.0 if is_and else 1.0
        combine = k_and if is_and else k_or

        def run(env: Env, act: Active) -> Any:
            x = self._num(fx(env, act), env)
            go = np.not_equal(x, stop)  # the right side runs unless the left decides
            if np.ndim(go) == 0:
                if not go:
                    return stop
                return combine(x, self._num(fy(env, act), env))
            y = self._num(fy(env, both(act, go)), env)
            return combine(x, y)

        return run

    def _if(self, b: If) -> Expr:
        steps = _thresholds(b)
        if steps is not None:
            return self._piecewise(*steps)
        fc, fa, fb = self.expr(b.condition), self.expr(b.then), self.expr(b.otherwise)
        text = b.type in _TEXT_TYPES

        def skip(env: Env) -> Any:
            return Cat.constant(None, env.m) if text else NAN

        def run(env: Env, act: Active) -> Any:
            t = truthy(self._num(fc(env, act), env))
            if np.ndim(t) == 0:
                return fa(env, act) if t else fb(env, act)
            act_a = both(act, t)
            act_b = both(act, ~t)
            a = fa(env, act_a) if act_a.any() else skip(env)
            c = fb(env, act_b) if act_b.any() else skip(env)
            if isinstance(a, Cat) or isinstance(c, Cat):
                return cat_where(t, as_cat(a, env.m), as_cat(c, env.m))
            return np.where(t, a, c)

        return run

    def _piecewise(
        self, x: Bound, chain: list[tuple[Callable[[Any, Any], Any], float, float]], last: float
    ) -> Expr:
        """`if X op c₁ then r₁ else if X op c₂ then r₂ … else r` with constant bounds and
        results (the usual way to score a waiting time): one comparison and one `where`
        per branch, where the general `if` makes masks for both sides of every branch.
        Nothing in it can fail, and a comparison with N/A is false here as it is in the
        per-visit code, so every row gets the same value."""
        fx = self.expr(x)

        def run(env: Env, act: Active) -> Any:
            v = self._num(fx(env, act), env)
            out: Any = last
            for op, bound, result in reversed(chain):
                out = np.where(op(v, bound), result, out)
            return out if np.ndim(out) else float(out)

        return run

    # -- functions ---------------------------------------------------------------------------

    def value_call(self, spec: FunctionSpec, b: Call, args: list[Expr]) -> Expr:
        """A call of a function of plain values (a pack's, or a built-in made with
        `builtins.value_function`): its batch form, or its scalar form row by row."""
        if spec.batch is None:
            self.fallbacks.add(spec.name)
        return plugin_call(spec, args, b)

    def _call(self, b: Call) -> Expr:
        """A call: its built-in function's kernel, or a pack function's batch form."""
        fn = b.fn
        args = [self.expr(a) for a in b.args]
        if fn == "plugin":
            spec = self.functions.get(b.payload)
            assert spec is not None, f"unknown function {b.payload}"
            return self.value_call(spec, b, args)
        kernel = self.builtins.implementation(fn).kernel
        assert kernel is not None, f"`{fn}` has no numpy kernel"
        return kernel(self, b, args)


def mark_not_finite(env: Env, result: Any, args: list[Any], act: Active) -> None:
    """Rows where `result` overflowed (inf, or NaN from inf - inf) although no argument
    was N/A: here NaN would read as N/A, where the per-visit code rejects the visit
    (`standard.FiniteCheck`), so the rows go to it."""
    odd = ~np.isfinite(result)
    if not np.any(odd):
        return
    for v in args:
        odd = odd & ~np.isnan(v)
    env.mark(odd, act)


def _add_weighted(
    env: Env, name: str, s: np.ndarray, adds: tuple[tuple[float, bool, tuple[int, ...]], ...]
) -> None:
    """Add an item's w·score + i·w to the accumulators of the selections it is in
    (`sums.SumPlan`); a coded item's are gathered from its table of a few values."""
    acc = env.sums
    assert acc is not None
    coded = env.coded.get(name)
    for w, bonus, groups in adds:
        if coded is not None:
            codes, table, memo = coded
            key = ("weighted", w, bonus)
            wt = memo.get(key)
            if wt is None:
                wt = memo[key] = weighted_table(table, w, bonus)
            c = np.take(wt, codes, mode="clip")  # codes index the table: clip never clips
        else:
            c = weighted_rows(s, w, bonus)
        for g in groups:
            row = acc[g]
            np.add(row, c, out=row)


#: Plain references: reading one twice or once gives the same and marks nothing.
_REFERENCES = (ValueRef, AnswerRef, ItemRef, SectionRef, CoefRef)
#: Comparisons that are false when either side is N/A, in numpy as in the per-visit code.
_ORDERED = ("<", "<=", ">", ">=", "==")


def _number(b: Bound) -> float | None:
    """The value of a numeric constant, or None."""
    if not isinstance(b, Const) or b.type != "num" or type(b.value) not in (int, float):
        return None
    return float(b.value)


def _thresholds(
    b: Bound,
) -> tuple[Bound, list[tuple[Callable[[Any, Any], Any], float, float]], float] | None:
    """(X, [(comparison, bound, result)…], last result) when `b` is an if-chain that
    compares one numeric reference X with constants and yields constants; else None."""
    chain = []
    x: Bound | None = None
    node: Bound = b
    while isinstance(node, If):
        cond = node.condition
        result = _number(node.then)
        if not isinstance(cond, Compare) or cond.operator not in _ORDERED or result is None:
            return None
        left = cond.left
        bound = _number(cond.right)
        if not isinstance(left, _REFERENCES) or left.type != "num" or bound is None:
            return None
        if x is None:
            x = left
        elif left != x:
            return None
        chain.append((_NP_COMPARE[cond.operator], bound, result))
        node = node.otherwise
    last = _number(node)
    if x is None or last is None:
        return None
    return x, chain, last


def _lookup_only(it: ItemModel) -> bool:
    """A scale item without a formula or condition: its scores are the lookup itself."""
    return it.kind == "scale" and it.score is None and not conditional(it) and not it.unscored


def conditional(it: ItemModel) -> bool:
    """The item has a `when` (its own or its section's), so it may not apply."""
    return it.when is not None or it.section_when is not None


def mean_of(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, NAN)
    np.divide(num, den, out=out, where=den != 0.0)
    return out


def py_max(a: Any, b: Any) -> Any:
    """Python's `max(a, b)` on arrays (NaN for N/A in either): `a` unless `b` is greater,
    so of two equal zeros the first is kept with its sign, where `np.maximum` may
    return either (and `-0.0` then prints differently from the per-visit result)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(a) | np.isnan(b), NAN, np.where(b > a, b, a))[()]


def py_min(a: Any, b: Any) -> Any:
    """Python's `min(a, b)` on arrays (NaN for N/A in either); see `py_max`."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(a) | np.isnan(b), NAN, np.where(b < a, b, a))[()]


def aggregate(agg: str, cols: list[np.ndarray], m: int) -> np.ndarray:
    """mean/min/max/sum over a selection, skipping N/A (the per-visit list comprehension)."""
    if agg in ("min", "max"):
        out = np.full(m, NAN)
        better = np.less if agg == "min" else np.greater
        for c in cols:  # the first extreme value wins, as in Python's min/max of the list
            out = np.where(np.isnan(out) | better(c, out), c, out)
        return out
    total = np.zeros(m)
    count = np.zeros(m)
    for c in cols:
        na = np.isnan(c)
        total += np.where(na, 0.0, c)
        count += ~na
    if agg == "sum":
        return total
    return mean_of(total, count)


class _Computed(NamedTuple):
    """What `ItemDecoder.decode` gives, for a computed item's values."""

    value: np.ndarray
    error: np.ndarray
    odd: np.ndarray
    score: Any = None
    coded: Any = None
    answered: Any = None


def _computed(value: np.ndarray, it: ItemModel) -> _Computed:
    """A computed number: N/A where the formula is; an error (the row goes to the
    per-visit path, which says which) where it is not finite or outside the range."""
    value = value + 0.0  # -0.0 is 0.0, as the per-visit code reads an answer (`a + 0.0`)
    given = ~np.isnan(value)
    bad = given & ~np.isfinite(value)
    if it.low is not None and it.high is not None:
        bad |= given & ((value < it.low) | (value > it.high))
    return _Computed(value, bad, np.zeros(len(value), dtype=bool))


def label_cat(cat: Cat) -> Cat:
    """A label column with its values as the texts a scored visit holds (`label_text`):
    other formulas compare what the per-visit code compares (5 and "5" become one)."""
    texts = [label_text(v) for v in cat.values]
    if all(t is v for t, v in zip(texts, cat.values, strict=True)):
        return cat
    distinct: dict[Any, int] = {}
    lut = np.array([distinct.setdefault(t, len(distinct)) for t in texts] + [-1], dtype=np.intp)
    return Cat(lut[cat.codes], list(distinct), cat.const)


def label_texts(cat: Cat) -> np.ndarray:
    """A label column as the texts a scored visit holds (`runtime.label_text`), None for N/A."""
    table = np.array([*(label_text(v) for v in cat.values), None], dtype=object)
    return table[cat.codes]


def exact_array(x: Any, scale: float) -> Any:
    """`runtime.exact` over an array: the same operations, so the same bits."""
    r = np.multiply(x, scale)
    return np.where(np.abs(r) < EXACT_LIMIT, np.rint(r) / scale, x)


def band_codes(c: np.ndarray, model: BandsModel, holds: Sequence[Any] = ()) -> np.ndarray:
    """Index of the first band whose threshold `c` reaches (or, with `<=`, stays
    within) and whose condition holds (`holds`: the conditions' truth, in the order of
    the bands that have one); -1 for N/A, and where no band is left."""
    bands = model.bands
    conditions = model.conditions or (None,) * len(bands)
    given = list(holds)
    codes = np.full(c.shape, -1, dtype=np.intp)
    k = len(given)
    for i in range(len(bands) - 1, -1, -1):
        threshold = bands[i][1]
        if threshold is None:
            reached = np.ones(c.shape, dtype=bool)
        elif model.op == "<=":
            reached = c <= threshold
        else:
            reached = c >= threshold
        if conditions[i] is not None:
            k -= 1
            reached = reached & np.broadcast_to(np.asarray(given[k], dtype=bool), c.shape)
        codes = np.where(reached, i, codes)
    codes[np.isnan(c)] = -1
    return codes


class KernelOps:
    """What the numpy kernels of the built-in functions compute with, besides numpy.

    The kernels are entries of `builtins.BUILTINS`, which is part of the language
    core and imports nothing of the batch layer: the batch compiler hands them
    these (`BatchCompiler.ops`)."""

    Cat = Cat
    full = staticmethod(full)
    as_cat = staticmethod(as_cat)
    cat_coalesce = staticmethod(cat_coalesce)
    zero_and_valid = staticmethod(zero_and_valid)
    mean_of = staticmethod(mean_of)
    aggregate = staticmethod(aggregate)
    mark_not_finite = staticmethod(mark_not_finite)
    py_min = staticmethod(py_min)
    py_max = staticmethod(py_max)
    band_codes = staticmethod(band_codes)
    exact_array = staticmethod(exact_array)
    truthy = staticmethod(truthy)


BatchCompiler.ops = KernelOps
