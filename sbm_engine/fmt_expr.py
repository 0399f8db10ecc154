"""Expressions for `sbm fmt`: their canonical text, and their lines when they are
broken, by their author or because they run past the line limit.

An expression is broken only at these points, which are also the only line
breaks of its author that `fmt` keeps (gofmt-style: where a break goes is a
choice, how the broken text is laid out is not):

- between the operands of a binary operator (`+ - * /`, comparisons, `and`,
  `or`): the operator starts the continuation line, whichever side of it the
  author broke (most multi-line formulas in the repository were written that way,
  and a leading operator says at a glance that the line continues a formula);
- on either side of `then` or `else` of an `if`: the keyword starts the line;
- between the arguments of a call, including before the first one (after `(`):
  the comma ends the line, `)` closes the last argument's line.

Breaks anywhere else (after `not`, after a unary minus, around `:` of a weighted
argument, before `)`) are dropped.

Breaks are added, as black and ruff format add them, only to a line that would
run past the limit (`width`; the formatter's `WIDTH`): `fmt` breaks the loosest
construct on that line at all of its points, lays the lines out again, and
repeats while a line is too long and still holds a point. "Loosest" is the
outermost: an operand is broken only after the operators around it, so
`or` goes before `and`, before comparisons, before `+ -`, before `* /`; an `if`
breaks before every `else` of its `else if` chain first (one branch a line, the
chain flat), then before `then`, then inside its parts; a call breaks between
its arguments, one argument a line, before anything inside them. A break after
`(` is never added (it stays the author's choice): the first argument stays
next to the function's name. What holds no point (a long string, a long name,
`weighted_mean(tagged x)`) stays as long as it is. Adding only breaks an author
could have written makes wrapping a fixed point: formatted again, the added
breaks are kept as the author's and nothing is left to add.

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


# ---- line breaks -----------------------------------------------------------------------


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


# A group of break points `fmt` adds together, named by its kind and the node that
# owns it: "run" (the operators of a run, owned by its top node), "else" (every
# `else` of an `else if` chain, owned by the chain's first `if`), "then" (one
# `if`'s `then`) and "args" (the commas of a call).
_Group = tuple[str, int]
# The first `if` of an `else if` chain and the column its `then`s and `else`s align with.
_Chain = tuple[n.If, int]


@attrs.frozen(eq=False)
class _Candidate:
    """A group that could break a line: its `rank` (lower is looser: twice the
    nesting depth, plus one for a `then`), its kind and owner, and the nodes it
    breaks (an `else if` chain: every `if` of it; otherwise the owner)."""

    rank: int
    kind: str
    owner: n.Expr
    members: tuple[n.Expr, ...]

    @property
    def group(self) -> _Group:
        return (self.kind, id(self.owner))


def _chain(head: n.If) -> tuple[n.If, ...]:
    """An `if` and the `if`s of its `else if` chain, which break as one."""
    out = [head]
    while isinstance(out[-1].otherwise, n.If):
        out.append(out[-1].otherwise)
    return tuple(out)


def _loosest(expr: n.Expr, depth: int, head: n.If | None = None) -> _Candidate | None:
    """The loosest group of break points inside `expr`, printed on one line at
    nesting `depth` (`head`: the first `if` of the chain `expr` continues), or
    None when `expr` holds no point at all. The node's own points are looser than
    any inside its parts, so only nodes without points of their own are searched."""
    match expr:
        case n.Binary() | n.Compare() | n.BoolOp():
            return _Candidate(2 * depth, "run", expr, (expr,))
        case n.If():
            owner = head or expr
            return _Candidate(2 * depth, "else", owner, _chain(owner))
        case n.Call() if len(expr.args) > 1:
            return _Candidate(2 * depth, "args", expr, (expr,))
    found = [c for part in _parts(expr) if (c := _loosest(part, depth + 1)) is not None]
    return min(found, key=lambda c: c.rank, default=None)


def can_break(expr: n.Expr) -> bool:
    """Whether `fmt` could break `expr` over lines: it holds an operator, an `if` or a
    call of several arguments."""
    return _loosest(expr, 0) is not None


class _Breaks:
    """Where an expression is broken: its author's breaks and the groups added to
    fit the line limit, with what is broken inside each node cached (the layout
    asks it of every node, on every pass of the wrapping)."""

    def __init__(self, expr: n.Expr) -> None:
        self.added: set[_Group] = set()
        self._author: dict[int, bool] = {}
        self._inside_added: dict[int, bool] = {}
        self._owners: set[int] = set()  # nodes with an added break of their own
        self._note_author(expr)

    def _note_author(self, expr: n.Expr) -> bool:
        inside = [self._note_author(part) for part in _parts(expr)]
        broken = _breaks_here(expr) or any(inside)
        self._author[id(expr)] = broken
        return broken

    def add(self, candidate: _Candidate) -> None:
        self.added.add(candidate.group)
        self._owners |= {id(m) for m in candidate.members}
        self._inside_added = {}

    def any_inside(self, expr: n.Expr) -> bool:
        """Whether `expr` is broken anywhere, by its author or by an added group."""
        return self._author.get(id(expr), False) or self._has_added(expr)

    def _has_added(self, expr: n.Expr) -> bool:
        key = id(expr)
        if key not in self._inside_added:
            self._inside_added[key] = key in self._owners or any(
                self._has_added(part) for part in _parts(expr)
            )
        return self._inside_added[key]

    def at(self, group: _Group, before: n.Span, after: n.Span) -> bool:
        """Whether the point between `before` and `after` in `group` is broken."""
        return group in self.added or _apart(before, after)


def expr_lines(
    expr: n.Expr, column: int, indent: int, width: int | None = None, tail: int = 0
) -> list[TextLine]:
    """`expr` laid out from `column` on a line indented by `indent` (both absolute):
    one line, or more where its author broke it at a point `fmt` keeps and, given a
    `width`, where a line would otherwise pass it (`tail`: the width of what will
    follow the last line, such as ` {`). Without a `width`, the first line's text
    does not depend on `column` or `indent`."""
    if not _broken(expr):
        line = TextLine(column, expr_text(expr), anchors_at(expr.span))
        if width is None or column + len(line.text) + tail <= width:
            return [line]
    breaks = _Breaks(expr)
    while True:
        layout = _Layout(column, indent, breaks)
        layout.expr(expr, _IF, 0)
        lines = layout.lines()
        if width is None:
            return lines
        candidate = layout.loosest_too_long(width, tail)
        if candidate is None:
            return lines
        breaks.add(candidate)


class _Layout:
    """Builds the lines of a broken expression left to right, knowing at each step
    the column it has reached, which is what continuation lines align with. It
    notes, line by line, the groups of break points left unbroken there, from
    which the wrapping picks the loosest of a line that is too long."""

    def __init__(self, column: int, indent: int, breaks: _Breaks) -> None:
        self._breaks = breaks
        self._starts = [column]
        self._indents = [indent]
        self._texts: list[list[str]] = [[]]
        self._anchors: list[list[int]] = [[]]
        self._column = column
        # per line: unbroken points (as candidates) and parts printed on one line
        self._open: list[list[_Candidate]] = [[]]
        self._whole: list[list[tuple[n.Expr, int, n.If | None]]] = [[]]

    def lines(self) -> list[TextLine]:
        return [
            TextLine(start, "".join(texts), tuple(anchors))
            for start, texts, anchors in zip(self._starts, self._texts, self._anchors, strict=True)
        ]

    def loosest_too_long(self, width: int, tail: int) -> _Candidate | None:
        """The loosest group with a point on the first line that passes `width`
        and has one; None when no such line is left."""
        last = len(self._texts) - 1
        for i, (start, texts) in enumerate(zip(self._starts, self._texts, strict=True)):
            if start + sum(map(len, texts)) + (tail if i == last else 0) <= width:
                continue
            found = list(self._open[i])
            found += [c for e, d, h in self._whole[i] if (c := _loosest(e, d, h)) is not None]
            if found:
                return min(found, key=lambda c: c.rank)  # the first of equals: stable
        return None

    def put(self, text: str, anchors: tuple[int, ...] = ()) -> None:
        self._texts[-1].append(text)
        self._anchors[-1] += anchors
        self._column += len(text)

    def newline(self, column: int) -> None:
        self._starts.append(column)
        self._indents.append(column)
        self._texts.append([])
        self._anchors.append([])
        self._open.append([])
        self._whole.append([])
        self._column = column

    def joint(self, word: str, column: int, broken: bool, unbroken: _Candidate) -> None:
        """An operator or `then`/`else`: starting a line at `column` if broken,
        between spaces otherwise (then `unbroken` could break it later)."""
        if broken:
            self.newline(column)
            self.put(word + " ")
        else:
            self._open[-1].append(unbroken)
            self.put(f" {word} ")

    def expr(self, expr: n.Expr, need: int, depth: int, chain: _Chain | None = None) -> None:
        """`expr` where an operand of level `need` is expected, at nesting `depth`;
        `chain` when `expr` is the `else` branch of an `else if` chain: the chain's
        first `if` and its column."""
        if not self._breaks.any_inside(expr):
            self._whole[-1].append((expr, depth, chain[0] if chain else None))
            self.put(expr_text(expr, need), anchors_at(expr.span))
        elif _level(expr) < need:
            self.put("(")
            self.bare(expr, depth, None)
            self.put(")")
        else:
            self.bare(expr, depth, chain)

    def bare(self, expr: n.Expr, depth: int, chain: _Chain | None) -> None:
        match expr:
            case n.Binary() | n.Compare() | n.BoolOp():
                self.operators(expr, depth)
            case n.If():
                self.choice(expr, depth, chain)
            case n.Call():
                self.call(expr, depth)
            case n.Negate():
                self.put("-")
                self.expr(expr.operand, _ATOM, depth + 1)
            case n.Not():
                self.put("not ")
                self.expr(expr.operand, _NOT, depth + 1)
            case _:  # atoms hold no line break
                self.put(expr_text(expr), anchors_at(expr.span))

    def operators(self, expr: _Operators, depth: int) -> None:
        (first, first_need), links = _run(expr)
        align = self._column
        group = ("run", id(expr))
        unbroken = _Candidate(2 * depth, "run", expr, (expr,))
        self.expr(first, first_need, depth + 1)
        for op, before, operand, need in links:
            self.joint(op, align, self._breaks.at(group, before, operand.span), unbroken)
            self.expr(operand, need, depth + 1)

    def choice(self, expr: n.If, depth: int, chain: _Chain | None) -> None:
        """An `if`; in an `else if` chain every `then` and `else` aligns with the
        chain's first `if`, and the chain's `else`s break together."""
        first, align = chain or (expr, self._column)
        at = self._breaks.at
        self.put("if ")
        self.expr(expr.condition, _OR, depth + 1)
        then = _Candidate(2 * depth + 1, "then", expr, (expr,))
        self.joint("then", align, at(("then", id(expr)), expr.condition.span, expr.then.span), then)
        self.expr(expr.then, _OR, depth + 1)
        otherwise = _Candidate(2 * depth, "else", first, _chain(first))
        broken = at(("else", id(first)), expr.then.span, expr.otherwise.span)
        self.joint("else", align, broken, otherwise)
        if isinstance(expr.otherwise, n.If):
            self.expr(expr.otherwise, _IF, depth, (first, align))
        else:
            self.expr(expr.otherwise, _IF, depth + 1)

    def call(self, expr: n.Call, depth: int) -> None:
        """`f(a, b)`: broken before an argument where its author broke, and before
        every argument but the first when the call's group was added (one argument
        a line, under the first); after `(` only where its author broke, since
        moving the first argument away from the name is an author's choice."""
        self.put(expr.function + "(", anchors_at(expr.name_span))
        column = self._column
        if expr.args and _apart(expr.name_span, expr.args[0].span):
            column = self._indents[-1] + _INDENT
        group = ("args", id(expr))
        unbroken = _Candidate(2 * depth, "args", expr, (expr,))
        before = expr.name_span
        for i, arg in enumerate(expr.args):
            if _apart(before, arg.span) or (i and group in self._breaks.added):
                if i:
                    self.put(",")
                self.newline(column)
            elif i:
                self._open[-1].append(unbroken)
                self.put(", ")
            self.argument(arg, depth + 1)
            before = arg.span
        self.put(")", (expr.span.end - 1,) if expr.span.end > 0 else ())

    def argument(self, arg: n.Argument, depth: int) -> None:
        match arg:
            case n.Selection():
                self.put(_argument_text(arg), anchors_at(arg.span))
            case n.Weighted():
                self.guarded(arg.expr, depth)
                self.put(": ")
                self.expr(arg.weight, _IF, depth)
            case _:
                self.guarded(arg, depth)

    def guarded(self, expr: n.Expr, depth: int) -> None:
        """An argument, parenthesised when it starts with a selection keyword."""
        if _needs_guard(expr_text(expr)):
            self.put("(")
            self.expr(expr, _IF, depth)
            self.put(")")
        else:
            self.expr(expr, _IF, depth)
