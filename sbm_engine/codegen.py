"""The only way text becomes generated Python, and the check that runs before it is compiled.

A standard's strings (its version, titles, labels, names, file names) must never
reach the source of the function it compiles to, not even a comment: a newline in
a version once ended a comment and ran what followed. Two mechanisms keep it out:

- Construction. Generated code is built from `Py` fragments only. A fragment is
  made by `py(TEMPLATE, *fragments)` with a template written in the compiler (a
  test checks that every template is a literal), by `ident(prefix, index)` for the
  positional names the compiler invents (`s3`, `c0`), or by `number(x)` for a
  finite number. `Emitter.line` refuses anything else, so a plain `str`, whatever
  it holds, cannot be written into the source. User values travel as constants in
  the module's namespace, named by `ident` too.
- Verification. `compile_checked` parses the finished source and walks its syntax
  tree against an allow-list of the node types, names and attributes the compiler
  emits; no string literal, import, lambda, attribute other than `.append` and
  `.get` on the function's own arguments, or name outside the namespace passes. It
  runs before `compile`, so a bug in the compiler fails loudly instead of running.

Python cannot hide a function's `__globals__` from code that can read attributes;
the generated code cannot read any attribute but those two, which is what keeps
the runtime's real builtins out of reach.
"""

from __future__ import annotations

import ast
import gc
import math
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any, NamedTuple

from .spans import NOWHERE, Span


class Py(str):
    """A fragment of generated Python that holds no user text (see the module docstring)."""

    __slots__ = ()


#: Prefixes of the positional names the compiler invents: locals, then namespace constants.
LOCAL_PREFIXES = frozenset("svoqcrbgwft")
CONSTANT_PREFIXES = frozenset("KTPIMNFL")
_PREFIXES = LOCAL_PREFIXES | CONSTANT_PREFIXES
_INVENTED = re.compile(r"(?:[svoqcrbgwftKTPIMNFL])(?:0|[1-9][0-9]*)")

#: Fixed names of the generated function: its parameters and a few locals.
PARAMETERS = ("answers", "visit", "errs", "warns")
FIXED_LOCALS = frozenset({"get", "a", "critical", "x"})

#: The only attribute reads allowed: (object, attribute).
ATTRIBUTES = frozenset(
    {
        ("errs", "append"),
        ("warns", "append"),
        ("critical", "append"),
        ("answers", "get"),
        ("visit", "get"),
    }
)


def py(template: str, *parts: Py) -> Py:
    """Fill each `{}` of a template written in the compiler with a fragment."""
    for part in parts:
        if type(part) is not Py:
            raise TypeError(f"generated code takes only Py fragments, not {type(part).__name__}")
    return Py(template.format(*parts))


def ident(prefix: str, index: int) -> Py:
    """A name the compiler invented: a one-letter kind and a position."""
    if prefix not in _PREFIXES or type(index) is not int or index < 0:
        raise ValueError(f"not an invented name: {prefix!r}, {index!r}")
    return Py(f"{prefix}{index}")


def number(value: float) -> Py | None:
    """A finite number as a float literal; None for inf and NaN (they need a constant)."""
    x = float(value)
    return Py(repr(x)) if math.isfinite(x) else None


def integer(value: int) -> Py:
    """A non-negative int literal (a position in a tuple)."""
    if type(value) is not int or value < 0:
        raise ValueError(f"not a position: {value!r}")
    return Py(str(value))


def join(parts: Collection[Py], sep: str = ", ") -> Py:
    """Fragments joined by a separator made of operators and spaces only."""
    if sep not in (", ", " + ", " or ", " and "):
        raise ValueError(f"not a separator of generated code: {sep!r}")
    return py(sep.join("{}" for _ in parts), *parts)


def tuple_display(atoms: Collection[Py]) -> Py:
    """A tuple display of fragments: `()`, `(x,)`, `(x, y)`."""
    if len(atoms) == 1:
        return py("({},)", *atoms)
    return py("({})", join(atoms))


class Place(NamedTuple):
    """The `.sbm` construct a line of generated code belongs to: `kind` (item,
    item_condition, section_condition, score_formula, item_value, critical_condition, section,
    coefficient, rollup,
    critical, bands; "" for none) and the `name` it concerns. Kept as data, so a
    formula error is worded in the reader's language and names its item without
    parsing text back."""

    kind: str = ""
    name: str = ""


NO_PLACE = Place()


class Emitter:
    """Indented lines of `Py`, each remembering the `.sbm` span it came from."""

    def __init__(self) -> None:
        self.lines: list[Py] = []
        self.line_spans: list[tuple[Span, Place]] = []
        self.level = 1
        self.span: tuple[Span, Place] = (NOWHERE, NO_PLACE)

    def line(self, code: Py) -> None:
        if type(code) is not Py:
            raise TypeError(f"generated code takes only Py fragments, not {type(code).__name__}")
        self.lines.append(Py("    " * self.level + code))
        self.line_spans.append(self.span)

    @contextmanager
    def block(self, header: Py) -> Iterator[None]:
        self.line(header)
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1


class UnsafeSource(AssertionError):
    """Generated source holds something the compiler never emits: a compiler bug."""


_OPERATORS = (
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
)  # fmt: skip
_NODES = frozenset(
    {
        ast.Assign, ast.AugAssign,
        ast.If, ast.Try, ast.ExceptHandler, ast.Raise, ast.Return, ast.Expr, ast.Call,
        ast.Name, ast.Load, ast.Store, ast.Constant, ast.Compare, ast.BinOp, ast.UnaryOp,
        ast.BoolOp, ast.IfExp, ast.Subscript, ast.Attribute, ast.Tuple, ast.List,
        ast.ListComp, ast.GeneratorExp, ast.comprehension, *_OPERATORS,
    }
)  # fmt: skip
#: Allowed node types with a rule on their form (`_check_special`).
_SPECIAL = frozenset(
    {
        ast.Constant, ast.Attribute, ast.Subscript, ast.List, ast.AugAssign, ast.Raise,
        ast.ExceptHandler, ast.comprehension,
    }
)  # fmt: skip


def compile_checked(source: str, namespace: Collection[str], filename: str) -> CodeType:
    """Compile generated source after verifying it against the allow-list.

    `namespace` holds the names the module will be executed with (runtime
    functions, builtins, constants). Raises `UnsafeSource` naming the first
    offending node. The checked tree itself is compiled, so what runs is what was
    checked. The cyclic collector is paused meanwhile: a 1,000-item standard
    parses to some 100,000 nodes, which it would otherwise traverse several times
    for nothing (a syntax tree has no cycles).
    """
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        tree = ast.parse(source, filename, mode="exec")
        _check_module(tree, frozenset(namespace) | FIXED_LOCALS | frozenset(PARAMETERS))
        return compile(tree, filename, "exec")
    finally:
        if gc_was_on:
            gc.enable()


def _check_module(tree: ast.Module, readable: frozenset[str]) -> None:
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef):
        raise UnsafeSource("generated module must define exactly one function")
    fn = body[0]
    args = fn.args
    if (
        fn.name != "evaluate"
        or fn.decorator_list
        or fn.returns is not None
        or [a.arg for a in args.args] != list(PARAMETERS)
        or args.posonlyargs
        or args.kwonlyargs
        or args.vararg
        or args.kwarg
        or args.defaults
        or args.kw_defaults
        or any(a.annotation is not None for a in args.args)
    ):
        raise UnsafeSource("generated function has an unexpected signature")
    invented = _INVENTED.fullmatch
    stack: list[Any] = list(fn.body)
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is ast.Name:  # most nodes are names: checked inline
            name = node.id
            if type(node.ctx) is ast.Load:
                if name not in readable and not invented(name):
                    _refuse(node, f"unknown name {name!r}")
            elif not (name in FIXED_LOCALS or (invented(name) and name[0] in LOCAL_PREFIXES)):
                _refuse(node, f"assignment to {name!r}")
            continue
        if kind not in _NODES:
            _refuse(node, f"{kind.__name__} is never generated")
        if kind in _SPECIAL:
            _check_special(node)
        for field in node._fields:
            value = getattr(node, field)
            if type(value) is list:
                extend(value)
            elif isinstance(value, ast.AST):
                push(value)


def _check_special(node: Any) -> None:
    """The node types allowed only in some forms."""
    if isinstance(node, ast.Constant):
        if node.value is not None and type(node.value) not in (bool, int, float):
            _refuse(node, f"a {type(node.value).__name__} literal")
    elif isinstance(node, ast.Attribute):
        base = node.value.id if isinstance(node.value, ast.Name) else None
        if (base, node.attr) not in ATTRIBUTES or not isinstance(node.ctx, ast.Load):
            _refuse(node, f"attribute {node.attr!r}")
    elif isinstance(node, ast.Subscript | ast.List):
        if not isinstance(node.ctx, ast.Load):
            _refuse(node, "assignment into a container")
    elif isinstance(node, ast.AugAssign):
        if not isinstance(node.target, ast.Name):
            _refuse(node, "augmented assignment to something other than a name")
    elif isinstance(node, ast.Raise):
        if node.cause is not None or not (
            isinstance(node.exc, ast.Name) and node.exc.id == "KeyError"
        ):
            _refuse(node, "raise of something other than KeyError")
    elif isinstance(node, ast.ExceptHandler):
        if node.name is not None:
            _refuse(node, "named exception handler")
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            _refuse(node, "async comprehension")
    else:
        _refuse(node, f"{type(node).__name__} in the function body")


def _refuse(node: ast.AST, why: str) -> None:
    line = getattr(node, "lineno", "?")
    raise UnsafeSource(f"generated code line {line}: {why}")


def printable(text: Any) -> str:
    """Text shown next to generated code (never compiled): control characters escaped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in str(text)
    )
