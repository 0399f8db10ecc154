"""Expressions for `sbm fmt`: their canonical text, and their lines when the author
broke them.

An expression is printed on one line unless its author broke it at one of the
points `fmt` keeps (gofmt-style: where the break goes is the author's choice,
how the broken text is laid out is not):

- between the operands of a binary operator (`+ - * /`, comparisons, `and`,
  `or`): the operator starts the continuation line, whichever side of it the
  author broke (most multi-line formulas in the repository were written that way,
  and a leading operator says at a glance that the line continues a formula);
- on either side of `then` or `else` of an `if`: the keyword starts the line;
- between the arguments of a call, including before the first one (after `(`):
  the comma ends the line, `)` closes the last argument's line.

Breaks anywhere else (after `not`, after a unary minus, around `:` of a weighted
argument, before `)`) are dropped, and no break is ever added: an expression its
author wrote on one line stays on one line whatever its length.

Continuation lines are aligned with the construct they continue, as the shipped
standards were written by hand, so each line's place says what it belongs to:

- an operator continues a run of operators of one precedence (`a + b - c`,
  `x or y or z`) and is aligned with that run's first operand, so a line of
  `+ …` inside parentheses aligns one column right of the `(`;
- `then` and `else` are aligned with their `if`; in an `else if` chain every
  `else` is aligned with the first `if`, so the chain reads as a flat list;
- arguments continue aligned with the first argument (one column right of
  `(`) or, when the break came right after `(`, one level (4 spaces) deeper than
  the line holding `(`, which keeps a call with a long head readable.
"""

from __future__ import annotations

import itertools
import re

import attrs

from . import nodes as n

__all__ = ["TextLine", "anchors_at", "expr_lines", "expr_text", "quote"]

_INDENT = 4

# Binding strength, loosest first; an operand printed where a stronger level is
# required gets parentheses. Atoms (numbers, names, calls) are `_ATOM`.
_IF, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)

# Words the parser reads as a selection when they open a function argument, so an
# argument starting with one of them as a plain name must be parenthesised.
_ARGUMENT_KEYWORDS = frozenset({"items", "sections", "tagged", "in"})
_LEADING_WORD = re.compile(r"\w+")

_Operators = n.Binary | n.Compare | n.BoolOp


@attrs.frozen
class TextLine:
    """A line of output that starts at an absolute `column` (0-based), with the
    `anchors` (source offsets) of the tokens printed on it, by which the formatter
    puts comments back next to their code."""

    column: int
    text: str
    anchors: tuple[int, ...]


def anchors_at(*spans: n.Span | None) -> tuple[int, ...]:
    """Anchors for nodes printed wholly on one line: the first and last character.
    Spans of nodes built in memory (offset 0) carry no position and are skipped."""
    out: list[int] = []
    for span in spans:
        if span is not None and span.end > 0:
            out += [span.start, span.end - 1]
    return tuple(out)


# ---- one line -----------------------------------------------------------------------


def _level(expr: n.Expr) -> int:
    """How tightly `expr` binds, as the grammar's precedence ladder says."""
    match expr:
        case n.If():
            return _IF
        case n.BoolOp(op="or"):
            return _OR
        case n.BoolOp():
            return _AND
        case n.Not():
            return _NOT
        case n.Compare():
            return _CMP
        case n.Binary(op="+" | "-"):
            return _SUM
        case n.Binary():
            return _PRODUCT
        case n.Negate():
            return _UNARY
        case n.Number(text=text) if text.startswith("-"):
            return _UNARY
        case _:
            return _ATOM


def _operand_needs(expr: _Operators) -> tuple[int, int]:
    """The levels the left and right operands of `expr` must bind at to print
    without parentheses.

    Precedence alone decides, with one exception for readers: an `and` directly
    under an `or` is parenthesised (`(a and b) or c`), which the tree does not
    record (parentheses are no node), so the meaning is untouched."""
    match expr:
        case n.Compare():  # comparisons do not chain
            return _SUM, _SUM
        case n.BoolOp(op="or"):
            return (_NOT if _level(expr.left) == _AND else _OR), _NOT
        case _:
            level = _level(expr)
            return level, level + 1


def expr_text(expr: n.Expr, need: int = _IF) -> str:
    """`expr` as source text on one line, parenthesised when it binds looser than `need`."""
    text = _bare_expr(expr)
    return f"({text})" if _level(expr) < need else text


def _bare_expr(expr: n.Expr) -> str:
    match expr:
        case n.Number():
            return _number_text(expr.text)
        case n.String():
            return quote(expr.value)
        case n.Name():
            return expr.name
        case n.Attribute():
            return f"{expr.owner}.{expr.name}"
        case n.Call():
            return f"{expr.function}({', '.join(_argument_text(a) for a in expr.args)})"
        case n.Negate():
            return "-" + expr_text(expr.operand, _ATOM)
        case n.Binary() | n.Compare() | n.BoolOp():
            left, right = _operand_needs(expr)
            return f"{expr_text(expr.left, left)} {expr.op} {expr_text(expr.right, right)}"
        case n.Not():
            return "not " + expr_text(expr.operand, _NOT)
        case n.If():
            return (
                f"if {expr_text(expr.condition, _OR)} then {expr_text(expr.then, _OR)} "
                f"else {expr_text(expr.otherwise, _IF)}"
            )
    raise TypeError(f"not an expression: {expr!r}")


def _number_text(text: str) -> str:
    """A number as written; `--1` (the parser folds `-(-1)` into one literal) is
    written back as `-(-1)` so it never reads like a decrement."""
    if text.startswith("--"):
        return f"-({_number_text(text[1:])})"
    return text


def _argument_text(arg: n.Argument) -> str:
    match arg:
        case n.Selection(kind="items" | "sections"):
            return arg.kind
        case n.Selection():
            return f"{arg.kind} {arg.name}"
        case n.Weighted():
            return f"{_guard_argument(expr_text(arg.expr))}: {expr_text(arg.weight)}"
        case _:
            return _guard_argument(expr_text(arg))


def _guard_argument(text: str) -> str:
    """Parenthesise an argument whose first word would be read as a selection
    keyword (`f((items))` passes the item called `items`, `f(items)` selects)."""
    return f"({text})" if _needs_guard(text) else text


def _needs_guard(text: str) -> bool:
    word = _LEADING_WORD.match(text)
    return word is not None and word.group() in _ARGUMENT_KEYWORDS


def quote(value: str) -> str:
    """A string literal the parser reads back as `value`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# ---- the author's line breaks ---------------------------------------------------------


def _apart(before: n.Span, after: n.Span) -> bool:
    """Whether `after` starts on a later source line than `before` ends: the author
    broke the line between them. Nodes built in memory (line 0) never are."""
    return before.end_line > 0 and after.line > before.end_line


def _breaks_here(expr: n.Expr) -> bool:
    """Whether the author broke `expr` itself (not a part of it) at a kept point."""
    match expr:
        case n.Binary() | n.Compare() | n.BoolOp():
            return _apart(expr.left.span, expr.right.span)
        case n.If():
            return _apart(expr.condition.span, expr.then.span) or _apart(
                expr.then.span, expr.otherwise.span
            )
        case n.Call():
            spans = [expr.name_span, *(a.span for a in expr.args)]
            return any(_apart(a, b) for a, b in itertools.pairwise(spans))
    return False


def _parts(expr: n.Expr) -> tuple[n.Expr, ...]:
    match expr:
        case n.Negate() | n.Not():
            return (expr.operand,)
        case n.Binary() | n.Compare() | n.BoolOp():
            return expr.left, expr.right
        case n.If():
            return expr.condition, expr.then, expr.otherwise
        case n.Call():
            out: list[n.Expr] = []
            for arg in expr.args:
                if isinstance(arg, n.Weighted):
                    out += [arg.expr, arg.weight]
                elif not isinstance(arg, n.Selection):
                    out.append(arg)
            return tuple(out)
    return ()


def _broken(expr: n.Expr) -> bool:
    """Whether any kept line break lies inside `expr`."""
    return _breaks_here(expr) or any(_broken(part) for part in _parts(expr))


def _run(expr: _Operators) -> tuple[tuple[n.Expr, int], list[tuple[str, n.Span, n.Expr, int]]]:
    """A left-nested run of operators of one precedence, flattened (`a + b - c` is
    one run): the first operand with the level it needs, then for each operator
    the span of everything before it, the operand after it and that one's level."""
    left_need, right_need = _operand_needs(expr)
    link = (expr.op, expr.left.span, expr.right, right_need)
    left = expr.left
    if (
        isinstance(left, n.Binary | n.BoolOp)
        and _level(left) == _level(expr)
        and left_need <= _level(left)
    ):
        first, links = _run(left)
        return first, [*links, link]
    return (left, left_need), [link]


def expr_lines(expr: n.Expr, column: int, indent: int) -> list[TextLine]:
    """`expr` laid out from `column` on a line indented by `indent` (both absolute):
    one line, or more where its author broke it at a point `fmt` keeps. The first
    line's text does not depend on `column` or `indent`."""
    if not _broken(expr):
        return [TextLine(column, expr_text(expr), anchors_at(expr.span))]
    layout = _Layout(column, indent)
    layout.expr(expr, _IF)
    return layout.lines()


class _Layout:
    """Builds the lines of a broken expression left to right, knowing at each step
    the column it has reached, which is what continuation lines align with."""

    def __init__(self, column: int, indent: int) -> None:
        self._starts = [column]
        self._indents = [indent]
        self._texts: list[list[str]] = [[]]
        self._anchors: list[list[int]] = [[]]
        self._column = column

    def lines(self) -> list[TextLine]:
        return [
            TextLine(start, "".join(texts), tuple(anchors))
            for start, texts, anchors in zip(self._starts, self._texts, self._anchors, strict=True)
        ]

    def put(self, text: str, anchors: tuple[int, ...] = ()) -> None:
        self._texts[-1].append(text)
        self._anchors[-1] += anchors
        self._column += len(text)

    def newline(self, column: int) -> None:
        self._starts.append(column)
        self._indents.append(column)
        self._texts.append([])
        self._anchors.append([])
        self._column = column

    def joint(self, word: str, column: int, broken: bool) -> None:
        """An operator or `then`/`else`: starting a line at `column` if the author
        broke there, between spaces otherwise."""
        if broken:
            self.newline(column)
            self.put(word + " ")
        else:
            self.put(f" {word} ")

    def expr(self, expr: n.Expr, need: int, chain: int | None = None) -> None:
        """`expr` where an operand of level `need` is expected; `chain` is the column
        of the first `if` when `expr` is the `else` branch of an `else if` chain."""
        if not _broken(expr):
            self.put(expr_text(expr, need), anchors_at(expr.span))
        elif _level(expr) < need:
            self.put("(")
            self.bare(expr, None)
            self.put(")")
        else:
            self.bare(expr, chain)

    def bare(self, expr: n.Expr, chain: int | None) -> None:
        match expr:
            case n.Binary() | n.Compare() | n.BoolOp():
                self.operators(expr)
            case n.If():
                self.choice(expr, chain)
            case n.Call():
                self.call(expr)
            case n.Negate():
                self.put("-")
                self.expr(expr.operand, _ATOM)
            case n.Not():
                self.put("not ")
                self.expr(expr.operand, _NOT)
            case _:  # atoms hold no line break
                self.put(expr_text(expr), anchors_at(expr.span))

    def operators(self, expr: _Operators) -> None:
        (first, first_need), links = _run(expr)
        align = self._column
        self.expr(first, first_need)
        for op, before, operand, need in links:
            self.joint(op, align, _apart(before, operand.span))
            self.expr(operand, need)

    def choice(self, expr: n.If, chain: int | None) -> None:
        align = self._column if chain is None else chain
        self.put("if ")
        self.expr(expr.condition, _OR)
        self.joint("then", align, _apart(expr.condition.span, expr.then.span))
        self.expr(expr.then, _OR)
        self.joint("else", align, _apart(expr.then.span, expr.otherwise.span))
        self.expr(expr.otherwise, _IF, chain=align if isinstance(expr.otherwise, n.If) else None)

    def call(self, expr: n.Call) -> None:
        self.put(expr.function + "(", anchors_at(expr.name_span))
        column = self._column
        if expr.args and _apart(expr.name_span, expr.args[0].span):
            column = self._indents[-1] + _INDENT
        before = expr.name_span
        for i, arg in enumerate(expr.args):
            if _apart(before, arg.span):
                if i:
                    self.put(",")
                self.newline(column)
            elif i:
                self.put(", ")
            self.argument(arg)
            before = arg.span
        self.put(")", (expr.span.end - 1,) if expr.span.end > 0 else ())

    def argument(self, arg: n.Argument) -> None:
        match arg:
            case n.Selection():
                self.put(_argument_text(arg), anchors_at(arg.span))
            case n.Weighted():
                self.guarded(arg.expr)
                self.put(": ")
                self.expr(arg.weight, _IF)
            case _:
                self.guarded(arg)

    def guarded(self, expr: n.Expr) -> None:
        """An argument, parenthesised when it starts with a selection keyword."""
        if _needs_guard(expr_text(expr)):
            self.put("(")
            self.expr(expr, _IF)
            self.put(")")
        else:
            self.expr(expr, _IF)
