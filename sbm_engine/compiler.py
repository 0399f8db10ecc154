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

import linecache
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .functions import FunctionRegistry, default_registry
from .model import Bound, ItemModel, SelectedItem, StandardModel
from .nodes import NOWHERE, Span
from .runtime import EXPORTED, NA_FAST, ItemInfo, fast_table, label_key, number_of

APPROX = 1e-9


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
    return ItemInfo(
        item.name,
        item.presence,
        item.low,
        item.high,
        tuple(str(x) if not isinstance(x, float) else _label_text(x) for x in labels),
        scores,
        lookup,
        numeric,
    )


def _label_text(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line_spans: list[tuple[Span, str]] = []
        self.level = 1
        self.span: tuple[Span, str] = (NOWHERE, "")

    def line(self, text: str) -> None:
        self.lines.append("    " * self.level + text)
        self.line_spans.append(self.span)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1


class PythonCompiler:
    """Compiles one `StandardModel` into a module with `evaluate(answers, visit, errs, warns)`."""

    def __init__(
        self, model: StandardModel, functions: FunctionRegistry | None = None, approx: bool = False
    ) -> None:
        self.m = model
        self.functions = functions or default_registry()
        self.approx = approx
        self.e = _Emitter()
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[tuple[str, Any], str] = {}
        self.tmp = 0
        self.item_idx = {it.name: i for i, it in enumerate(model.items)}
        self.sec_idx = {s.name: i for i, s in enumerate(model.sections)}
        self.coef_idx = {c.name: i for i, c in enumerate(model.coefficients)}
        self.items = {it.name: it for it in model.items}
        self.sections = {s.name: s for s in model.sections}
        self.needs_label = self._items_read_by_answer()
        self.section_when_done: set[str] = set()
        self.current_item: ItemModel | None = None
        self.fields_used: dict[str, str] = {}

    # -- helpers -----------------------------------------------------------------------------

    def const(self, kind: str, value: Any) -> str:
        """A module-level constant holding a value (user text never enters the source)."""
        key = (kind, value if _hashable(value) else id(value))
        if key not in self._const_ids:
            name = f"{kind}{len(self._const_ids)}"
            self._const_ids[key] = name
            self.consts[name] = value
        return self._const_ids[key]

    def fresh(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    def where(self, span: Span) -> str:
        return f"{span.file}:{span.line}" if span.line else span.file

    def _items_read_by_answer(self) -> set[str]:
        names: set[str] = set()
        exprs: list[Bound] = []
        for it in self.m.items:
            exprs += [b for b in (it.when, it.section_when, it.score) if b is not None]
        exprs += [c.expr for c in self.m.coefficients]
        exprs += [t.expr for r in self.m.rollups for t in r.terms]
        for ex in self.m.examples:
            exprs += [b for b, _ in ex.expects]
        for b in exprs:
            for node in b.walk():
                if node.op in ("answer", "value"):
                    names.add(node.data)
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
        items = ", ".join(self.item_var(it.name) for it in m.items)
        secs = ", ".join(f"q{i}" for i in range(len(m.sections)))
        coefs = ", ".join(f"c{i}" for i in range(len(m.coefficients)))
        terms = ", ".join(f"r{i}" for i in range(self.n_terms))
        bands = ", ".join(f"b{i}" for i in range(len(m.bands)))
        gaps = ", ".join(f"g{i}" for i in range(len(m.targets)))
        e.span = (NOWHERE, "")
        e.line(
            "return "
            + ", ".join(f"({x}{',' if x else ''})" for x in (items, secs, coefs, bands, gaps))
            + f", critical, ({terms}{',' if terms else ''})"
        )
        body = e.lines[body_start:]
        spans = e.line_spans[body_start:]
        header = [
            f"# Standard {m.name} {m.version or ''}, compiled from {m.file}.",
            "# Generated by sbm_engine; names are positions, not user text:",
            "#   s<i> item score, v<i> item answer, q<i> section score,",
            "#   c<i> coefficient, r<i> rollup term, t<i> temporary.",
            "def evaluate(answers, visit, errs, warns):",
            "    get = answers.get",
        ]
        prelude = []
        for field, var in self.fields_used.items():
            prelude.append(f"    {var} = visit.get({self.const('K', field)})")
        self.line_map = [(NOWHERE, "")] * (len(header) + len(prelude)) + spans
        return "\n".join([*header, *prelude, *body]) + "\n"

    def item_var(self, name: str) -> str:
        return f"s{self.item_idx[name]}"

    # -- items -------------------------------------------------------------------------------

    def emit_item(self, it: ItemModel) -> None:
        e = self.e
        i = self.item_idx[it.name]
        e.span = (it.span, f"item `{it.name}`")
        e.line(f"# item {it.name} ({self.where(it.span)})")
        conds: list[str] = []
        if it.section_when is not None:
            sec = it.section
            assert sec is not None
            var = f"w{self.sec_idx[sec]}"
            if sec not in self.section_when_done:
                e.span = (self.sections[sec].span, f"the condition of section `{sec}`")
                atom = self.ex(it.section_when)
                e.line(f"{var} = {atom}")
                self.section_when_done.add(sec)
                e.span = (it.span, f"item `{it.name}`")
            conds.append(var)
        if it.when is not None:
            e.span = (it.span, f"the condition of item `{it.name}`")
            if conds:  # the item's own condition is read only where its section applies
                applies = self.fresh()
                e.line(f"{applies} = {conds[0]}")
                with e.block(f"if {applies}:"):
                    e.line(f"{applies} = {self.ex(it.when)}")
                conds = [applies]
            else:
                conds.append(self.ex(it.when))
            e.span = (it.span, f"item `{it.name}`")
        key = self.const("K", it.name)
        if conds:
            with e.block(f"if {conds[0]}:"):
                self.emit_answer(it, i, key)
            with e.block("else:"):
                e.line(f"s{i} = v{i} = None")
                msg = self.const(
                    "M",
                    f"`{it.name}` was answered but does not apply to this visit"
                    + (f" (condition: {it.when_text})" if it.when_text else "")
                    + "; the answer is ignored",
                )
                with e.block(f"if answered(get({key}, MISSING)):"):
                    e.line(f"warns.append(VisitWarning({key}, {msg}))")
        else:
            self.emit_answer(it, i, key)

    def emit_answer(self, it: ItemModel, i: int, key: str) -> None:
        e = self.e
        info = self.const("I", item_info(it))
        info_obj = self.consts[info]
        e.line(f"a = get({key}, MISSING)")
        if it.kind == "scale":
            if it.name in self.needs_label:
                pairs = [
                    (info_obj.scores[k], _label_value(it, k)) for k in range(len(info_obj.scores))
                ]
                table_obj = fast_table(info_obj, lambda k: pairs[k], na=(None, None))
                table = self.const("P", table_obj)
                with e.block("try:"):
                    if _bool_collides(table_obj):
                        e.line("if type(a) is bool: raise KeyError")
                    e.line(f"s{i}, v{i} = {table}[a]")
                with e.block("except (KeyError, TypeError):"):
                    e.line(f"s{i} = scale_score({info}, a, errs)")
                    e.line(f"v{i} = None if s{i} is None else scale_label({info}, a, errs)")
                    if it.scale is not None and it.scale.numeric:
                        e.line(f"v{i} = None if v{i} is None else float(v{i})")
            else:
                table_obj = fast_table(info_obj, lambda k: info_obj.scores[k])
                table = self.const("T", table_obj)
                with e.block("try:"):
                    if _bool_collides(table_obj):
                        e.line("if type(a) is bool: raise KeyError")
                    e.line(f"s{i} = {table}[a]")
                with e.block("except (KeyError, TypeError):"):
                    e.line(f"s{i} = scale_score({info}, a, errs)")
                e.line(f"v{i} = None")
            if it.score is not None:
                self.emit_formula(it, i)
        elif it.kind == "number":
            if it.low is not None and it.high is not None:
                fast = f"(type(a) is int or type(a) is float) and {it.low!r} <= a <= {it.high!r}"
            else:
                fast = "(type(a) is int or type(a) is float) and a - a == 0"
            with e.block(f"if {fast}:"):
                e.line(f"v{i} = a + 0.0")  # a float, as on every other path
            if it.presence != "required":
                with e.block(
                    f"elif a is None or (type(a) is str and a in {self.const('N', NA_FAST)}):"
                ):
                    e.line(f"v{i} = None")
            with e.block("else:"):
                e.line(f"v{i} = number_answer({info}, a, errs)")
            if it.score is not None:
                self.emit_formula(it, i)
            elif it.low is not None and it.high is not None:
                e.line(
                    f"s{i} = None if v{i} is None else (v{i} - {it.low!r}) / {(it.high - it.low)!r}"
                )
            else:
                e.line(f"s{i} = None")
        else:
            e.line(f"v{i} = text_answer({info}, a, errs)")
            e.line(f"s{i} = None")

    def emit_formula(self, it: ItemModel, i: int) -> None:
        """`score = EXPR`: computed when the answer is not N/A, then checked to lie in [0, 1]."""
        e = self.e
        assert it.score is not None
        if it.kind == "number":
            e.line(f"s{i} = None")
        # A scale item's formula runs when its answer was a valid label, a number's when given.
        ready = f"s{i} is not None" if it.kind == "scale" else f"v{i} is not None"
        with e.block(f"if {ready}:"):
            self.current_item = it
            e.span = (it.score.span, f"the score formula of `{it.name}`")
            atom = self.ex(it.score)
            self.current_item = None
            e.line(f"s{i} = {atom}")
            where = self.const("M", self.where(it.score.span))
            key = self.const("K", it.name)
            with e.block(f"if s{i} is not None and not 0.0 <= s{i} <= 1.0:"):
                e.line(f"score_out_of_range({key}, s{i}, {where}, errs)")
                e.line(f"s{i} = None")
        e.span = (it.span, f"item `{it.name}`")

    # -- sections and coefficients ------------------------------------------------------------

    def emit_section(self, name: str) -> None:
        e = self.e
        sec = self.sections[name]
        e.span = (sec.span, f"section `{name}`")
        e.line(f"# section {name} ({self.where(sec.span)})")
        selected = tuple(
            SelectedItem(i, self.items[i].weight, self.items[i].bonus)
            for i in sec.items
            if self.items[i].scored
        )
        atom = self.weighted_items(selected)
        e.line(f"q{self.sec_idx[name]} = {atom}")

    def emit_coefficient(self, name: str) -> None:
        e = self.e
        c = self.m.coefficients[self.coef_idx[name]]
        e.span = (c.span, f"coefficient `{name}`")
        e.line(f"# coefficient {name} ({self.where(c.span)})")
        atom = self.ex(c.expr)
        e.line(f"c{self.coef_idx[name]} = {atom}")

    def emit_critical(self) -> None:
        e = self.e
        e.span = (NOWHERE, "critical items")
        e.line("critical = []")
        for it in self.m.items:
            if it.critical:
                with e.block(f"if {self.item_var(it.name)} == 0:"):
                    e.line(f"critical.append({self.const('K', it.name)})")

    def band_expr(self, atom: str, coefficient: str) -> str:
        """`label if x >= t1 else label2 if x >= t2 else … rest`, for a non-N/A `atom`."""
        expr = "None"
        for label, threshold in reversed(self.m.bands[coefficient].bands):
            k = self.const("K", label)
            expr = k if threshold is None else f"{k} if {atom} >= {threshold!r} else {expr}"
        return expr

    def emit_outcomes(self) -> None:
        """Bands and gaps of coefficients, in the order of `model.bands` and `model.targets`."""
        e = self.e
        e.span = (NOWHERE, "bands and gaps")
        for i, coef in enumerate(self.m.bands):
            c = f"c{self.coef_idx[coef]}"
            e.line(f"b{i} = None if {c} is None else ({self.band_expr(c, coef)})")
        for i, (coef, target) in enumerate(self.m.targets.items()):
            c = f"c{self.coef_idx[coef]}"
            e.line(f"g{i} = None if {c} is None else {c} - {float(target)!r}")

    def emit_rollup_terms(self) -> None:
        self.n_terms = 0
        for r in self.m.rollups:
            for term in r.terms:
                self.e.span = (r.span, f"rollup `{r.name}`")
                atom = self.ex(term.expr)
                self.e.line(f"r{self.n_terms} = {atom}")
                self.n_terms += 1

    # -- expressions ---------------------------------------------------------------------------

    def ex(self, b: Bound) -> str:
        e = self.e
        op = b.op
        if op == "const":
            v = b.data
            if v is None or isinstance(v, bool):
                # a name, not a literal: `x is None` on a literal is a SyntaxWarning
                t = self.fresh()
                e.line(f"{t} = {v!r}")
                return t
            if isinstance(v, int | float):
                return repr(float(v))
            return self.const("K", v)
        if op == "item":
            return self.item_var(b.data)
        if op == "answer":
            return f"v{self.item_idx[b.data]}"
        if op == "value":
            return f"v{self.item_idx[b.data]}"
        if op == "section":
            return f"q{self.sec_idx[b.data]}"
        if op == "coef":
            return f"c{self.coef_idx[b.data]}"
        if op == "field":
            if b.data not in self.fields_used:
                self.fields_used[b.data] = f"f{len(self.fields_used)}"
            return self.fields_used[b.data]
        t = self.fresh()
        if op == "neg":
            x = self.ex(b.args[0])
            e.line(f"{t} = None if {x} is None else -{x}")
            return t
        if op == "arith":
            x = self.ex(b.args[0])
            y = self.ex(b.args[1])
            e.line(f"{t} = {self._na_guard(x, y)}{x} {b.data} {y}")
            return t
        if op == "cmp":
            x = self.ex(b.args[0])
            y = self.ex(b.args[1])
            if self.approx and b.data in ("==", "!=") and b.args[0].type == "num":
                expr = f"abs({x} - {y}) <= {APPROX!r}"
                if b.data == "!=":
                    expr = f"not {expr}"
            else:
                expr = f"{x} {b.data} {y}"
            e.line(f"{t} = {self._na_guard(x, y)}{expr}")
            return t
        if op == "not":
            x = self.ex(b.args[0])
            e.line(f"{t} = None if {x} is None else not {x}")
            return t
        if op in ("and", "or"):
            stop = "False" if op == "and" else "True"
            x = self.ex(b.args[0])
            with e.block(f"if {x} is {stop}:"):
                e.line(f"{t} = {stop}")
            with e.block("else:"):
                y = self.ex(b.args[1])
                e.line(
                    f"{t} = {stop} if {y} is {stop} else (None if {x} is None or {y} is None "
                    f"else {'True' if op == 'and' else 'False'})"
                )
            return t
        if op == "if":
            c = self.ex(b.args[0])
            with e.block(f"if {c}:"):
                x = self.ex(b.args[1])
                e.line(f"{t} = {x}")
            with e.block("else:"):
                y = self.ex(b.args[2])
                e.line(f"{t} = {y}")
            return t
        if op == "call":
            return self.call(b, t)
        raise AssertionError(f"cannot compile {op} here")

    def _na_guard(self, *atoms: str) -> str:
        checks = [f"{a} is None" for a in atoms if _may_be_none(a)]
        return f"None if {' or '.join(checks)} else " if checks else ""

    def weighted_items(self, selected: tuple[SelectedItem, ...], kind: str = "mean") -> str:
        """Inline Σwᵢsᵢ / Σwᵢ over the items that are not N/A (bonus: numerator only)."""
        e = self.e
        num, den, t = self.fresh(), self.fresh(), self.fresh()
        e.line(f"{num} = {den} = 0.0")
        for sel in selected:
            s = self.item_var(sel.name)
            w = repr(float(sel.weight))
            with e.block(f"if {s} is not None:"):
                e.line(f"{num} += {w} * {s}" if sel.weight != 1 else f"{num} += {s}")
                if not sel.bonus:
                    e.line(f"{den} += {w}")
        if kind == "mean":
            e.line(f"{t} = {num} / {den} if {den} else None")
        elif kind == "earned":
            return num
        elif kind == "possible":
            return den
        elif kind == "lost":
            e.line(f"{t} = {den} - {num}")
        return t

    def call(self, b: Bound, t: str) -> str:
        e = self.e
        fn, payload = b.data
        if fn == "weighted_mean":
            kind, sel = payload
            if kind == "items":
                return self.weighted_items(sel)
            num, den = self.fresh(), self.fresh()
            e.line(f"{num} = {den} = 0.0")
            for name, w in sel:
                q = f"q{self.sec_idx[name]}"
                with e.block(f"if {q} is not None:"):
                    e.line(f"{num} += {float(w)!r} * {q}")
                    e.line(f"{den} += {float(w)!r}")
            e.line(f"{t} = {num} / {den} if {den} else None")
            return t
        if fn == "weighted_terms":
            num, den = self.fresh(), self.fresh()
            e.line(f"{num} = {den} = 0.0")
            for arg, w in zip(b.args, payload, strict=True):
                x = self.ex(arg)
                if not _may_be_none(x):
                    e.line(f"{num} += {float(w)!r} * {x}")
                    e.line(f"{den} += {float(w)!r}")
                    continue
                with e.block(f"if {x} is not None:"):
                    e.line(f"{num} += {float(w)!r} * {x}")
                    e.line(f"{den} += {float(w)!r}")
            e.line(f"{t} = {num} / {den} if {den} else None")
            return t
        if fn in ("earned", "possible", "lost"):
            kind, sel = payload
            return self.weighted_items(sel, fn)
        if fn == "count":
            kind, sel = payload
            e.line(f"{t} = 0.0")
            for x in sel:
                var = self.item_var(x.name) if kind == "items" else f"q{self.sec_idx[x[0]]}"
                with e.block(f"if {var} is not None:"):
                    e.line(f"{t} += 1.0")
            return t
        if fn in ("mean_sel", "min_sel", "max_sel", "sum_sel"):
            kind, sel = payload
            vals = [
                self.item_var(x.name) if kind == "items" else f"q{self.sec_idx[x[0]]}" for x in sel
            ]
            lst = self.fresh()
            values = ", ".join(vals) + ("," if len(vals) == 1 else "")
            e.line(f"{lst} = [x for x in ({values}) if x is not None]")
            agg = fn[:-4]
            if agg == "sum":
                e.line(f"{t} = float(sum({lst}))")
            elif agg == "mean":
                e.line(f"{t} = sum({lst}) / len({lst}) if {lst} else None")
            else:
                e.line(f"{t} = {agg}({lst}) if {lst} else None")
            return t
        if fn in ("mean", "min", "max", "sum"):
            atoms = [self.ex(a) for a in b.args]
            joined = ", ".join(atoms)
            body = {
                "mean": f"({' + '.join(atoms)}) / {float(len(atoms))!r}",
                "min": f"min({joined})" if len(atoms) > 1 else atoms[0],
                "max": f"max({joined})" if len(atoms) > 1 else atoms[0],
                "sum": f"{' + '.join(atoms)}",
            }[fn]
            e.line(f"{t} = {self._na_guard(*atoms)}{body}")
            return t
        if fn == "clamp":
            x, lo, hi = (self.ex(a) for a in b.args)
            e.line(f"{t} = {self._na_guard(x, lo, hi)}min(max({x}, {lo}), {hi})")
            return t
        if fn == "coalesce":
            atoms = [self.ex(a) for a in b.args]
            e.line(f"{t} = next((x for x in ({', '.join(atoms)}) if x is not None), None)")
            return t
        if fn == "is_na":
            x = self.ex(b.args[0])
            e.line(f"{t} = {x} is None" if _may_be_none(x) else f"{t} = False")
            return t
        if fn == "failed":
            e.line(f"{t} = {self.item_var(payload)} == 0" if payload else f"{t} = False")
            return t
        if fn == "critical_failed":
            checks = [f"{self.item_var(x)} == 0" for x in payload]
            e.line(f"{t} = {' or '.join(checks) if checks else 'False'}")
            return t
        if fn == "band":
            c = self.ex(b.args[0])
            e.line(f"{t} = None if {c} is None else ({self.band_expr(c, payload)})")
            return t
        if fn == "plugin":
            spec = self.functions.get(payload)
            assert spec is not None
            f = self.const("F", spec.scalar)
            atoms = [self.ex(a) for a in b.args]
            call = f"{f}({', '.join(atoms)})"
            e.line(f"{t} = {call}" if spec.na_aware else f"{t} = {self._na_guard(*atoms)}{call}")
            return t
        raise AssertionError(f"unknown function {fn}")

    # -- building ------------------------------------------------------------------------------

    def build(self, filename: str) -> tuple[Any, str, list[tuple[Span, str]]]:
        """Compile to a Python function; returns it, its source and the line map."""
        source = self.compile()
        code = compile(source, filename, "exec")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {"__builtins__": _SAFE_BUILTINS, **EXPORTED, **self.consts}
        exec(code, namespace)
        return namespace["evaluate"], source, self.line_map


def _bool_collides(table: dict[Any, Any]) -> bool:
    """True when JSON `true`/`false` would hit a numeric label (True == 1 as a dict key)."""
    return any(type(k) in (int, float) and k in (0, 1) for k in table)


def _label_value(it: ItemModel, k: int) -> Any:
    assert it.scale is not None
    entry = it.scale.entries[k]
    return entry.numeric if it.scale.numeric else entry.label


def _may_be_none(atom: str) -> bool:
    """False for numeric literals and string constants (`K…`); True for every variable."""
    try:
        float(atom)
        return False
    except ValueError:
        pass
    return not atom.startswith("K")


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
