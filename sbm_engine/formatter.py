"""`sbm fmt`: print a `.sbm` file back in one canonical layout, comments kept.

Why one layout: reviews of a standard should show what changed in the rules, not
who prefers which spacing. Why the checks: a formatter that silently changes the
meaning of a standard is worse than none, so, like black, `format_source` parses
its own output and refuses (`FormatError`) unless the syntax tree is unchanged,
every comment survived in order, and formatting the output again changes nothing.

The canonical layout (what users see)
-------------------------------------
- 4 spaces per level; a line limit of 100 columns (`WIDTH`, the project's own, as
  in black and ruff format). A line that would pass it is broken, wherever
  the layout below has a break point for it, the loosest point of the line first
  (a declaration's own breaks before its expression's, an expression's outer
  operators before its operands'); the author's line breaks at those points are
  kept as well. What has no break point stays as long as it is: a long string or
  name, a declaration's head (`item NAME "question"`, `section … when`), an item's
  options after `answer` (an inline scale included), a comment. Comments do not
  count: they are put back after the layout, at the end of the line holding their
  code. So no line passes 100 columns but for one of those.
- File level, in the order written: `import "path"` lines and
  `standard NAME ["title"] [extends BASE [version "V"]] {` … `}`
  (`import "path" [version "V"]`). A blank line separates a
  standard from whatever comes before or after it.
- Inside a standard the declarations keep the order written (it is the order of
  output columns): one declaration per line, blocks opened on the declaration's
  line and closed by `}` alone on its line.
- Blank lines: one blank line between two neighbouring declarations of different
  groups — {version, industry, import}, {scale}, {field}, {item}, {coefficient,
  rollup}, {target, bands}, {drop} — and always around a `section` and an
  `example`; it goes above the comments that lead the second declaration. A
  blank line the author left (any number counts as one) is kept before a
  declaration, an item, a line of an example, and an own-line comment that is not
  inside a continued statement; never right after a line ending in `{`, never
  right before `}`, never at the top or bottom of the file.
- `scale NAME { a = 1 alias "да", b = 0 }` on one line when it fits; otherwise (or
  when a comment sits inside it) `scale NAME {`, one entry per line each ending
  with a comma except the last, `}`. The same rule lays out `bands NAME { … }` and
  `field NAME "title" TYPE required one of { … }`.
- `section NAME ["title"] [after S|before S] [weight W] [when COND] {`, its items one
  level deeper.
- `item NAME "question" answer TYPE [in S] [after I|before I] [weight W]
  [required|optional] [critical] [bonus] [unscored] [tags …] [value = EXPR]
  [critical if COND] [when COND] [score = EXPR]`: options always in this order (the
  order of the language reference's examples: tags close the head, the options
  holding an expression follow).
  Line breaks the author put before `answer`, `when` or `score =` are kept, the
  continuation one level deeper, and added at the limit: `answer …` moves to its
  own line when `item … answer …` would pass 100 columns; `when COND` and
  `score = EXPR` each move to a line of their own when they do not fit at the end
  of the line before (after one moves, each part after it takes a line too); an
  expression still too long there is broken inside.
  `answer number LO..HI`, `answer text`, inline scales `answer { yes = 1, no = 0 }`.
- `coefficient NAME ["title"] = EXPR` (and `rollup`): the expression stays where its
  author put it, after `=` or on the next line one level deeper (like gofmt, `fmt`
  keeps that line break and normalises the rest), but moves to the next line when
  the line holding `=` would pass 100 columns and the expression has a break point
  (then it is broken there if it still does not fit); one with none
  (`weighted_mean(tagged x)`, a name) stays after `=` however long the line, as
  in the spec's own conformance standard. For a tree built in memory, on the
  next line when the whole does not fit.
- `repeat NAME in { key "Title", … } {` on one line, the block's items and sections
  one level deeper, laid out as in a standard, `}` alone on its line.
- `example "name" {` then `visit { … }`, `answers { … }` (each omitted when empty;
  an example of several visits, each visit's in turn) and one `expect EXPR` per
  line, in the order written (comments move with them; two `visit` blocks of one
  visit stay two blocks). An assignment block goes on one line when it
  fits; otherwise it keeps its author's line breaks: `answers { a = 1, b = 2,` with
  the next lines aligned under `a` and ` }` ending the last, a line that would pass
  100 columns split into as many as it needs, filled; with a comment inside, one
  assignment per line. (A tree built in memory gets its rows filled to 100
  columns.)
- Expressions: single spaces around binary operators, `f(a, b)`, `x: 0.4` for
  weighted arguments, selections `items`, `sections`, `tagged T`, `in S`.
  Parentheses only where precedence needs them (`if` < `or` < `and` < `not` <
  comparison < `+ -` < `* /` < unary minus), plus three for readability: a nested
  `if` used as the condition or `then` branch of an `if` is parenthesised, an
  `and` directly under an `or` is too (`(a and b) or c`), and a double negation is
  written `-(-x)`. Numbers are printed exactly as written; strings are re-escaped
  (`\\\\`, `\\"`, `\\n`).
- Line breaks inside an expression (`sbm_engine.fmt_expr` has the details): kept
  where the author put one on either side of a binary operator (the operator
  then starts the continuation line), of `then` or of `else` (the keyword starts
  the line), between two arguments (the comma ends the line) or right after the
  `(` of a call; dropped anywhere else. Added, at the same points but for the one
  after `(`, to a line that would pass 100 columns: at every point of the loosest
  construct on the line (`or` before `and` before comparisons before `+ -` before
  `* /`; before every `else` of an `if` and its `else if` chain, then before its
  `then`; between all the arguments of a call, one a line), again while a line is
  too long and still holds a point. A continuation line is
  aligned with what it continues: an operator with the first operand of its run
  of same-precedence operators, `then`/`else` with their `if` (every `else` of an
  `else if` chain with the first `if`), an argument with the first argument, or,
  after a break right after `(`, one level deeper than the line holding the `(`.
  This holds wherever expressions go: formulas, `score =`, `when`, `expect`.
- Defaults that were not written stay unwritten (`weight 1` is not added).
- Comments: an own-line comment stays above the line that follows it, indented
  like that line (inside a block when it preceded the `}`); a comment that ended a
  line of code stays at the end of the line now holding that code, two spaces
  after it. A comment inside a one-line construct moves above it (own-line) or to
  the end of its line (trailing); a comment inside a scale, bands, field values or
  an assignment block makes that block one entry per line, so the comment stays
  next to its entry. Order is always preserved.
- Line endings are `\\n`; a non-empty file ends with exactly one newline.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from . import nodes as n
from .diagnostics import CompileError
from .fmt_expr import TextLine, can_break, expr_lines, expr_text, quote
from .fmt_expr import anchors_at as _at
from .messages import message
from .parser import parse
from .sources import read_source

__all__ = [
    "WIDTH",
    "FormatError",
    "expr_text",
    "format_file",
    "format_source",
    "print_module",
    "quote",
    "unified_diff",
]

#: The column budget of the layout.
WIDTH = 100
INDENT = "    "

LineKind = Literal["stmt", "cont", "close"]


class FormatError(Exception):
    """The formatter would have changed the meaning or the comments of a file.

    Raised instead of returning text, so that `sbm fmt` never writes such a file;
    it is always a formatter bug, worth a report with the offending input.
    """


# ---- public entry points ---------------------------------------------------------


def format_source(text: str, file: str = "<string>") -> str:
    """Format `.sbm` text; raise `CompileError` if it does not parse, `FormatError`
    if the result would not be the same standard (tree, comments, stability)."""
    module = parse(text, file)
    formatted = print_module(module)
    _verify(module, formatted, file)
    return formatted


def format_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Read and format a file without writing it: `(old, new)`, for `--check`/`--diff`.

    The file is read with its line endings untouched, so a CRLF file counts as
    changed (the canonical layout uses `\\n`). Raises `SourceError` for a file that
    is not a regular UTF-8 file within the size limit.
    """
    old = read_source(Path(path), keep_newlines=True)
    return old, format_source(old, os.fspath(path))


def unified_diff(old: str, new: str, path: str) -> str:
    """A unified diff from `old` to `new`, labelled with `path`, for `sbm fmt --diff`.

    Lines are split on `\\n` only: strings may hold characters that
    `str.splitlines` would treat as line breaks.
    """
    return "".join(
        difflib.unified_diff(
            _split_keep_ends(old),
            _split_keep_ends(new),
            fromfile=f"{path}\t(original)",
            tofile=f"{path}\t(formatted)",
        )
    )


def print_module(module: n.Module) -> str:
    """The canonical text of a parsed module, with its comments woven back in.

    No safety checks here: `format_source` is the entry point that verifies them.
    """
    printer = _Printer(module.source, module.comments)
    printer.module(module)
    return _Weaver(printer.lines, module.comments, module.source).text()


def _split_keep_ends(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1] + "\n\\ No newline at end of file\n")
    return lines


# ---- verification ------------------------------------------------------------------


def _verify(module: n.Module, formatted: str, file: str) -> None:
    """The black-style safety net: same tree, same comments, and a fixed point."""
    try:
        again = parse(formatted, file)
    except CompileError as err:
        raise FormatError(message("fmt.refused.no_longer_parses", file=file, error=err)) from err
    if again != module:
        where = _difference(module, again, "module") or message("fmt.refused.somewhere")
        raise FormatError(message("fmt.refused.meaning", file=file, where=where))
    before = [c.text for c in module.comments]
    after = [c.text for c in again.comments]
    if before != after:
        raise FormatError(
            message("fmt.refused.comments", file=file, before=len(before), after=len(after))
        )
    if print_module(again) != formatted:
        raise FormatError(message("fmt.refused.unstable", file=file))


def _difference(a: Any, b: Any, path: str) -> str | None:
    """The first place where two trees differ, as a dotted path, for error messages."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} became {type(b).__name__}"
    if attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            if field.eq:
                found = _difference(
                    getattr(a, field.name), getattr(b, field.name), path + "." + field.name
                )
                if found:
                    return found
        return None
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries became {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} became {b!r}"


def _label_text(label: n.Label) -> str:
    return quote(label.value) if label.kind == "string" else label.value


def _entry_text(entry: n.ScaleEntry) -> str:
    text = f"{_label_text(entry.label)} = {entry.score.text}"
    if entry.aliases:
        text += " alias " + " ".join(_label_text(a) for a in entry.aliases)
    return text


def _band_text(band: n.Band) -> str:
    text = (
        band.label
        if band.threshold is None
        else f"{band.label} {band.op} {n.threshold_text(band.threshold)}"
    )
    return text if band.when is None else f"{text} when {expr_text(band.when)}"


def _inline_list(texts: Sequence[str]) -> str:
    return "{ " + ", ".join(texts) + " }" if texts else "{}"


# ---- lines -------------------------------------------------------------------------


@attrs.frozen
class _Line:
    """One output line of code, before comments are woven in.

    `anchors` are source offsets of tokens printed on this very line; they are how
    a comment finds its place. `kind` says where blank lines and comments may go:
    `stmt` starts a statement, `cont` continues one, `close` is a lone `}`.
    """

    depth: int
    text: str
    anchors: tuple[int, ...]
    kind: LineKind = "stmt"
    blank: bool = False  # the layout asks for a blank line before this statement
    opens: bool = False  # ends with `{`: no blank line may follow

    @property
    def first(self) -> int:
        return min(self.anchors, default=-1)

    @property
    def last(self) -> int:
        return max(self.anchors, default=-1)


def _fits(depth: int, text: str) -> bool:
    return len(INDENT) * depth + len(text) <= WIDTH


def _all_fit(lines: Iterable[TextLine]) -> bool:
    return all(line.column + len(line.text) <= WIDTH for line in lines)


_GROUPS: dict[type, str] = {
    n.Version: "meta",
    n.Industry: "meta",
    n.Import: "meta",
    n.Scale: "scale",
    n.Field: "field",
    n.Item: "item",
    n.Coefficient: "formula",
    n.Rollup: "formula",
    n.Target: "outcome",
    n.Bands: "outcome",
    n.Drop: "drop",
    n.Constant: "constant",
    n.Section: "section",
    n.Example: "example",
    n.Repeat: "repeat",
}
_ALWAYS_APART = frozenset({"section", "example", "repeat"})


def _blank_between(a: n.Member, b: n.Member) -> bool:
    """The layout's blank line between two neighbouring declarations of a standard."""
    ga, gb = _GROUPS[type(a)], _GROUPS[type(b)]
    return ga != gb or ga in _ALWAYS_APART


class _Printer:
    """Turns a module into `_Line`s; knows the source only to place comments and
    to find the braces of `visit`/`answers` blocks, which the tree does not keep."""

    def __init__(self, source: str, comments: Sequence[n.Comment]) -> None:
        self.source = source
        self.lines: list[_Line] = []
        self._comment_starts = sorted(c.span.start for c in comments)
        self._comment_end_to_start = {c.span.end: c.span.start for c in comments}
        self._comment_start_to_end = {c.span.start: c.span.end for c in comments}

    def emit(self, depth: int, text: str, anchors: Iterable[int], **kw: Any) -> None:
        self.lines.append(_Line(depth, text, tuple(anchors), **kw))

    def close(self, depth: int, brace: int | None) -> None:
        self.emit(depth, "}", () if brace is None else (brace,), kind="close")

    def emit_at(self, line: TextLine, **kw: Any) -> None:
        """A line that starts at an absolute column (an aligned continuation): as
        many levels as fit in it, then spaces."""
        depth, pad = divmod(line.column, len(INDENT))
        self.emit(depth, " " * pad + line.text, line.anchors, **kw)

    def expression(
        self,
        depth: int,
        prefix: str,
        expr: n.Expr,
        anchors: tuple[int, ...],
        *,
        suffix: str = "",
        blank: bool = False,
        opens: bool = False,
        kind: LineKind = "stmt",
    ) -> None:
        """`prefix EXPR suffix` on a line at `depth` (`anchors`: those of the prefix),
        the expression continued on further lines where its author broke it or
        where a line would pass `WIDTH`."""
        column = len(INDENT) * depth
        first, *rest = expr_lines(expr, column + len(prefix), column, WIDTH, len(suffix))
        anchors = (*anchors, *first.anchors)
        if not rest:
            self.emit(
                depth, prefix + first.text + suffix, anchors, blank=blank, opens=opens, kind=kind
            )
            return
        self.emit(depth, prefix + first.text, anchors, blank=blank, kind=kind)
        *middle, last = rest
        for line in middle:
            self.emit_at(line, kind="cont")
        self.emit_at(attrs.evolve(last, text=last.text + suffix), kind="cont", opens=opens)

    def comment_inside(self, head_at: tuple[int, ...], closing: int | None) -> bool:
        """Whether a comment will be woven in among a block's entries, which is what
        makes the block one entry per line.

        That is a comment after the words before `{` (anchored by `head_at`) and
        before the `}`, or one ending a line in the middle of those words (it will
        end the `… {` line). An own-line comment among those words goes above the
        block instead, so it does not count: the next pass must decide the same.
        """
        if not head_at or closing is None:
            return False
        first, last = min(head_at), max(head_at)
        i = bisect.bisect_right(self._comment_starts, first)
        for start in itertools.islice(self._comment_starts, i, None):
            if start >= closing:
                return False
            if start > last or _code_before(self.source, start):
                return True
        return False

    # -- file and standard ------------------------------------------------------------

    def module(self, module: n.Module) -> None:
        entries: list[n.Import | n.Standard] = [*module.imports, *module.standards]
        entries.sort(key=lambda e: e.span.start)
        previous: n.Import | n.Standard | None = None
        for entry in entries:
            blank = previous is not None and (
                isinstance(entry, n.Standard) or isinstance(previous, n.Standard)
            )
            if isinstance(entry, n.Standard):
                self.standard(entry, blank)
            else:
                self.member(entry, 0, blank)
            previous = entry

    def standard(self, std: n.Standard, blank: bool) -> None:
        head = f"standard {std.name}"
        if std.title is not None:
            head += " " + quote(std.title)
        if std.extends is not None:
            head += f" extends {std.extends}"
            if std.extends_version is not None:
                head += f" version {quote(std.extends_version)}"
        anchors = _at(std.name_span) + (_at(std.extends_span) if std.extends else ())
        self.emit(0, head + " {", (*_start(std.span), *anchors), blank=blank, opens=True)
        previous: n.Member | None = None
        for member in std.members:
            self.member(member, 1, previous is not None and _blank_between(previous, member))
            previous = member
        self.close(0, _end(std.span))

    def member(self, m: n.Member, depth: int, blank: bool) -> None:
        match m:
            case n.Import():
                text = f"import {quote(m.path)}"
                if m.version is not None:
                    text += f" version {quote(m.version)}"
                self.emit(depth, text, _at(m.span), blank=blank)
            case n.Version():
                self.emit(depth, f"version {quote(m.value)}", _at(m.span), blank=blank)
            case n.Industry():
                self.emit(depth, f"industry {quote(m.value)}", _at(m.span), blank=blank)
            case n.Drop():
                self.emit(depth, f"drop {m.name}", _at(m.span), blank=blank)
            case n.Target():
                text = f"target {m.coefficient} {n.threshold_text(m.value)}"
                self.emit(depth, text, _at(m.span), blank=blank)
            case n.Constant():
                self.emit(depth, f"const {m.name} = {m.value.text}", _at(m.span), blank=blank)
            case n.Scale():
                texts = [(_entry_text(e), e.span) for e in m.entries]
                head = f"scale {m.name}" if m.kind == "score" else f"scale {m.name} {m.kind}"
                self.braced(depth, head, texts, blank, **_braces_of(m.span))
            case n.Bands():
                texts = [(_band_text(b), b.span) for b in m.bands]
                self.braced(depth, f"bands {m.coefficient}", texts, blank, **_braces_of(m.span))
            case n.Field():
                self.field(m, depth, blank)
            case n.Item():
                self.item(m, depth, blank)
            case n.Section():
                self.section(m, depth, blank)
            case n.Coefficient():
                self.formula("coefficient", m, depth, blank)
            case n.Rollup():
                self.formula("rollup", m, depth, blank)
            case n.Example():
                self.example(m, depth, blank)
            case n.Repeat():
                self.repeat(m, depth, blank)
            case _:
                raise TypeError(f"not a declaration: {m!r}")

    # -- lists in braces ----------------------------------------------------------------

    def braced(
        self,
        depth: int,
        head: str,
        entries: Sequence[tuple[str, n.Span]],
        blank: bool,
        *,
        head_at: tuple[int, ...],
        closing: int | None,
        fill: bool = False,
    ) -> None:
        """`head { a, b }` on one line when it fits and holds no comment; otherwise
        a block: filled lines (`fill`) or one entry per line.

        Filled lines keep the rows their author wrote, but a row of several entries
        that passes `WIDTH` is split, as many entries a row as fit.

        `head_at` are the anchors of the words before `{`, `closing` the offset of
        `}` (both empty for trees built in memory)."""
        texts = [t for t, _ in entries]
        inside = self.comment_inside(head_at, closing)
        one_line = f"{head} {_inline_list(texts)}"
        if not inside and _fits(depth, one_line):
            tail = () if closing is None else (closing,)
            anchors = (*head_at, *_at(*(s for _, s in entries)), *tail)
            self.emit(depth, one_line, anchors, blank=blank)
            return
        if fill and not inside:
            if entries[0][1].line > 0:
                rows = _rows_split_to_fit(depth, head, _rows_as_written(entries))
            else:
                rows = _rows_by_width(depth, head, entries)
            self._hanging(depth, head, rows, blank, head_at=head_at, closing=closing)
            return
        self.emit(depth, head + " {", head_at, blank=blank, opens=True)
        for i, (text, entry_span) in enumerate(entries):
            comma = "," if i < len(entries) - 1 else ""
            self.emit(depth + 1, text + comma, _at(entry_span), kind="cont")
        self.close(depth, closing)

    def _hanging(
        self,
        depth: int,
        head: str,
        rows: Sequence[Sequence[tuple[str, n.Span]]],
        blank: bool,
        *,
        head_at: tuple[int, ...],
        closing: int | None,
    ) -> None:
        """`head { a, b,` then `c }` aligned under `a`, one output line per row."""
        pad = " " * (len(head) + 3)
        for r, row in enumerate(rows):
            last_row = r == len(rows) - 1
            text = ", ".join(t for t, _ in row) + ("" if last_row else ",")
            anchors = _at(*(sp for _, sp in row))
            if r == 0:
                anchors = (*head_at, *anchors)
                text = f"{head} {{ {text}"
            else:
                text = pad + text
            if last_row:
                text += " }"
                anchors = (*anchors, *(() if closing is None else (closing,)))
            self.emit(
                depth, text, anchors, blank=blank and r == 0, kind="stmt" if r == 0 else "cont"
            )

    # -- declarations -----------------------------------------------------------------

    def field(self, m: n.Field, depth: int, blank: bool) -> None:
        head = f"field {m.name}" + ("" if m.title is None else " " + quote(m.title))
        head += ("" if m.type is None else " " + m.type) + (" required" if m.required else "")
        if m.values is None:
            self.emit(depth, head, _at(m.span), blank=blank)
            return
        texts = [(_label_text(v), v.span) for v in m.values]
        self.braced(depth, head + " one of", texts, blank, **_braces_of(m.span))

    def formula(self, keyword: str, m: n.Coefficient | n.Rollup, depth: int, blank: bool) -> None:
        """`coefficient NAME ["title"] = EXPR` with the expression after `=` or, one
        level deeper, on the next line: where its author put it, unless the line
        holding `=` would pass `WIDTH` and the formula can be broken; then it goes
        to the next line (the loosest break of that line) and is broken there if it
        still does not fit. A formula with no break point (`weighted_mean(tagged x)`)
        stays after `=`: `fmt` moves a formula only to wrap it. A tree built in
        memory puts its expression on the next line when the whole does not fit."""
        head = f"{keyword} {m.name}" + ("" if m.title is None else " " + quote(m.title)) + " ="
        head_at = (*_start(m.span), *_at(m.name_span))
        written = m.name_span.line > 0 and m.expr.span.line > 0
        if written:
            same_line = m.expr.span.line == m.name_span.line
            if same_line and can_break(m.expr):
                column = len(INDENT) * depth
                first = expr_lines(m.expr, column + len(head) + 1, column)[0]
                same_line = _all_fit([first])
        else:
            same_line = _fits(depth, f"{head} {expr_text(m.expr)}")
        if same_line:
            self.expression(depth, head + " ", m.expr, head_at, blank=blank)
            return
        self.emit(depth, head, head_at, blank=blank)
        self.expression(depth + 1, "", m.expr, (), kind="cont")

    def item(self, item: n.Item, depth: int, blank: bool) -> None:
        """An item on one line, or continued: before `answer`, before `when`, before
        `score =` (continuations one level deeper), and inside a `when`/`score`
        expression where `fmt_expr` breaks it. Each of those breaks is kept where
        the author made it and added where the line would pass `WIDTH`, the looser
        first: `answer` moves down when the item's head is too long; a `when` or
        `score` starts a line of its own when it does not fit at the end of the line
        before (all its lines as written), and so does each part after it; an
        expression still too long on a line of its own is broken inside."""
        head = _item_head(item)
        question = f"item {item.name} {quote(item.question)}"
        tails: list[tuple[str, n.Expr]] = []
        if item.value is not None:
            tails.append(("value = ", item.value))
        if item.critical_if is not None:
            tails.append(("critical if ", item.critical_if))
        if item.when is not None:
            tails.append(("when ", item.when))
        if item.score is not None:
            tails.append(("score = ", item.score))
        column = len(INDENT) * depth
        below = column + len(INDENT)  # where a part that starts a line starts
        lines: list[TextLine] = []
        answer_at = item.answer.span.line
        if answer_at > item.name_span.line or column + len(head) > WIDTH:
            lines.append(TextLine(column, question, (*_start(item.span), *_at(item.name_span))))
            options = _item_head_anchors(item, with_name=False)
            lines.append(TextLine(below, head[len(question) + 1 :], options))
        else:
            lines.append(TextLine(column, head, _item_head_anchors(item)))
        # each part joins the line before unless it started a new one (a tree built
        # in memory has no lines: line 0 everywhere) or does not fit there
        previous_line = max(answer_at, item.name_span.line)
        width_broken = False
        for prefix, expr in tails:
            last = lines[-1]
            start = last.column + len(last.text) + 1 + len(prefix)
            joined = expr_lines(expr, start, last.column)
            joins = expr.span.line <= previous_line and not width_broken
            if joins and _all_fit(joined):
                first, *rest = joined
                text = f"{last.text} {prefix}{first.text}"
                lines[-1] = TextLine(last.column, text, (*last.anchors, *first.anchors))
            else:
                width_broken = width_broken or joins  # then one tail a line
                first, *rest = expr_lines(expr, below + len(prefix), below, WIDTH)
                lines.append(TextLine(below, prefix + first.text, first.anchors))
            lines += rest
            previous_line = expr.span.end_line
        if len(lines) == 1:
            self.emit(depth, lines[0].text, _at(item.span), blank=blank)
            return
        self.emit(depth, lines[0].text, lines[0].anchors, blank=blank)
        for line in lines[1:]:
            self.emit_at(line, kind="cont")

    def section(self, sec: n.Section, depth: int, blank: bool) -> None:
        head = f"section {sec.name}"
        if sec.title is not None:
            head += " " + quote(sec.title)
        if sec.after is not None:
            head += f" after {sec.after.name}"
        if sec.before is not None:
            head += f" before {sec.before.name}"
        if sec.weight is not None:
            head += f" weight {sec.weight.text}"
        anchors = (
            *_start(sec.span),
            *_at(sec.name_span, _span_of(sec.after), _span_of(sec.before), _span_of(sec.weight)),
        )
        if sec.when is None:
            self.emit(depth, head + " {", anchors, blank=blank, opens=True)
        else:
            self.expression(
                depth, head + " when ", sec.when, anchors, suffix=" {", blank=blank, opens=True
            )
        for item in sec.items:
            self.item(item, depth + 1, False)
        self.close(depth, _end(sec.span))

    def repeat(self, rep: n.Repeat, depth: int, blank: bool) -> None:
        """`repeat NAME in { key "Title", … } {` on one line, the block's members one
        level deeper as in a standard, `}`."""
        keys = ", ".join(f"{k.key} {quote(k.title)}" for k in rep.keys)
        head = f"repeat {rep.name} in {{ {keys} }} {{" if keys else f"repeat {rep.name} in {{}} {{"
        anchors = (*_start(rep.span), *_at(rep.name_span, *(k.span for k in rep.keys)))
        self.emit(depth, head, anchors, blank=blank, opens=True)
        previous: n.Member | None = None
        for member in rep.members:
            self.member(
                member, depth + 1, previous is not None and _blank_between(previous, member)
            )
            previous = member
        self.close(depth, _end(rep.span))

    def example(self, ex: n.Example, depth: int, blank: bool) -> None:
        """An example's parts in the order written (`visit`, `answers`, then the
        expectations for a tree built in memory; an example of several visits, each
        visit's in turn): reordering them would carry their comments away, since
        comments keep their order. For the same reason two `visit` blocks of one visit
        stay two blocks, though the tree merges them."""
        self.emit(depth, f"example {quote(ex.name)} {{", _start(ex.span), blank=blank, opens=True)
        visits = [*((v.visit, v.answers) for v in ex.earlier), (ex.visit, ex.answers)]
        parts: list[tuple[int, str, tuple[n.Assignment, ...] | n.Expr]] = [
            (block[0].span.start, word, block)
            for visit, answers in visits
            for word, assignments in (("visit", visit), ("answers", answers))
            for block in self._blocks(assignments)
        ]
        parts += [(expect.span.start, "expect", expect) for expect in ex.expects]
        for _, word, part in sorted(parts, key=lambda p: p[0]):
            if isinstance(part, tuple):
                self.assignments(word, part, depth + 1)
            else:
                keyword = self._word_before(part.span.start, "expect")
                self.expression(depth + 1, "expect ", part, keyword)
        self.close(depth, _end(ex.span))

    def _blocks(self, assignments: tuple[n.Assignment, ...]) -> list[tuple[n.Assignment, ...]]:
        """The assignments split into the blocks they were written in: a new block
        starts where something other than blanks, commas and comments separates
        two assignments."""
        if not assignments:
            return []
        if not self.source:
            return [assignments]
        blocks = [[assignments[0]]]
        for previous, current in itertools.pairwise(assignments):
            if self._forward(previous.span.end) == current.span.start:
                blocks[-1].append(current)
            else:
                blocks.append([current])
        return [tuple(block) for block in blocks]

    def assignments(self, word: str, assignments: Sequence[n.Assignment], depth: int) -> None:
        entries = [(f"{a.name} = {_label_text(a.value)}", a.span) for a in assignments]
        braces = self._block_braces(assignments[0].span, assignments[-1].span)
        if braces is None:
            self.braced(depth, word, entries, False, head_at=(), closing=None, fill=True)
            return
        opening, closing = braces
        head_at = (*self._word_before(opening, word), opening)
        self.braced(depth, word, entries, False, head_at=head_at, closing=closing, fill=True)

    def _block_braces(self, first: n.Span, last: n.Span) -> tuple[int, int] | None:
        """Offsets of the `{` before the first assignment and the `}` after the last;
        None for trees built in memory."""
        if not self.source or first.end == 0:
            return None
        opening = self._back(first.start) - 1
        closing = self._forward(last.end)
        if self.source[opening : opening + 1] != "{" or self.source[closing : closing + 1] != "}":
            return None
        return opening, closing

    def _word_before(self, pos: int, word: str) -> tuple[int, ...]:
        """The offset of the keyword written just before `pos` (`expect`, `answers`),
        if it is there: the tree keeps no position for keywords."""
        if not self.source:
            return ()
        end = self._back(pos)
        start = end - len(word)
        return (start,) if start >= 0 and self.source[start:end] == word else ()

    def _back(self, pos: int) -> int:
        """Where the token before `pos` ends, stepping back over blanks and comments."""
        while pos > 0:
            if self.source[pos - 1] in " \t\r\n":
                pos -= 1
            elif pos in self._comment_end_to_start:
                pos = self._comment_end_to_start[pos]
            else:
                break
        return pos

    def _forward(self, pos: int) -> int:
        """Where the next token starts, stepping over blanks, commas and comments."""
        while pos < len(self.source):
            if self.source[pos] in " \t\r\n,":
                pos += 1
            elif pos in self._comment_start_to_end:
                pos = self._comment_start_to_end[pos]
            else:
                break
        return pos


_Row = list[tuple[str, n.Span]]


def _rows_as_written(entries: Sequence[tuple[str, n.Span]]) -> list[_Row]:
    """Entries grouped by the source line they were written on (as gofmt keeps the
    line breaks of a list)."""
    rows: list[_Row] = []
    for entry in entries:
        if rows and rows[-1][-1][1].line == entry[1].line:
            rows[-1].append(entry)
        else:
            rows.append([entry])
    return rows


def _rows_split_to_fit(depth: int, head: str, rows: Sequence[_Row]) -> list[_Row]:
    """The author's rows, each row of several entries that passes `WIDTH` packed
    again into as many rows as it needs (an entry too long for any row stays alone
    on its row): the rows that fit keep their author's grouping, and the next pass
    keeps the new rows as written."""
    out: list[_Row] = []
    pad = len(INDENT) * depth + len(head) + 3  # where `_hanging` starts each row
    for r, row in enumerate(rows):
        closes = r == len(rows) - 1
        end = 2 if closes else 1  # " }" or ","
        if len(row) > 1 and pad + sum(len(t) + 2 for t, _ in row) - 2 + end > WIDTH:
            out += _rows_by_width(depth, head, row, closes=closes)
        else:
            out.append(list(row))
    return out


def _rows_by_width(
    depth: int, head: str, entries: Sequence[tuple[str, n.Span]], *, closes: bool = True
) -> list[_Row]:
    """Entries packed greedily under `head { ` within `WIDTH` columns, each row
    ending with `,` and the last with ` }` (`closes`) or `,`: the layout of a tree
    built in memory, which re-formatting its text then keeps as written."""
    pad = len(INDENT) * depth + len(head) + 3
    rows: list[_Row] = [[]]
    used = pad
    for i, (text, span) in enumerate(entries):
        end = 2 if closes and i == len(entries) - 1 else 1
        if rows[-1] and used + 2 + len(text) + end > WIDTH:
            rows.append([])
            used = pad
        used += len(text) + (2 if len(rows[-1]) else 0)
        rows[-1].append((text, span))
    return rows


def _item_head(item: n.Item) -> str:
    """Everything of an item but `value`, `when` and `score`, options in canonical order."""
    parts = ["item", item.name, quote(item.question), "answer", _answer_text(item.answer)]
    if item.section_in is not None:
        parts += ["in", item.section_in.name]
    if item.after is not None:
        parts += ["after", item.after.name]
    if item.before is not None:
        parts += ["before", item.before.name]
    if item.weight is not None:
        parts += ["weight", item.weight.text]
    if item.presence is not None:
        parts.append(item.presence)
    if item.critical and item.critical_if is None:
        parts.append("critical")
    if item.bonus:
        parts.append("bonus")
    if item.unscored:
        parts.append("unscored")
    if item.tags:
        parts += ["tags", *item.tags]
    return " ".join(parts)


def _item_head_anchors(item: n.Item, *, with_name: bool = True) -> tuple[int, ...]:
    """Anchors of an item's first line when `when`/`score` moved below it, or, without
    its name (`with_name=False`), of the `answer …` line when `answer` started a line:
    the item's first offset there would pull a comment written after the name down
    to that line, and the next pass would move it again. The item's last character
    belongs here when tags or a flag ended the item in the source."""
    anchors = _at(
        item.answer.span,
        _span_of(item.section_in),
        _span_of(item.after),
        _span_of(item.before),
        _span_of(item.weight),
    )
    if with_name:
        anchors = (*_start(item.span), *_at(item.name_span), *anchors)
    spanned = (
        _span_of(item.value),
        _span_of(item.critical_if),
        _span_of(item.when),
        _span_of(item.score),
    )
    spanned_ends = [s.end for s in spanned if s is not None]
    if item.span.end > 0 and item.span.end > max(spanned_ends, default=0):
        anchors += (item.span.end - 1,)
    return anchors


def _answer_text(answer: n.AnswerType) -> str:
    match answer:
        case n.ScaleAnswer():
            return answer.scale
        case n.InlineScaleAnswer():
            return _inline_list([_entry_text(e) for e in answer.entries])
        case n.NumberAnswer(low=None):
            return "number"
        case n.NumberAnswer(low=low, high=high) if low is not None and high is not None:
            return f"number {low.text}..{high.text}"
        case n.TextAnswer():
            return "text"
        case n.MultiAnswer(options=options):
            return "any of " + _answer_text(options)
    raise TypeError(f"not an answer type: {answer!r}")


def _braces_of(span: n.Span) -> dict[str, Any]:
    """`braced` arguments for a declaration whose span runs from its keyword to `}`."""
    return {"head_at": _start(span), "closing": _end(span)}


def _span_of(node: Any) -> n.Span | None:
    return None if node is None else node.span


def _start(span: n.Span) -> tuple[int, ...]:
    return (span.start,) if span.end > 0 else ()


def _end(span: n.Span) -> int | None:
    return span.end - 1 if span.end > 0 else None


# ---- comments --------------------------------------------------------------------


@attrs.frozen
class _Own:
    """An own-line comment and whether the author left a blank line above it."""

    comment: n.Comment
    blank_above: bool


class _Weaver:
    """Puts comments back between and after the printed lines.

    Each comment gets a slot: `2*i` is "on its own line before line i", `2*i + 1`
    "at the end of line i", `2*len(lines)` is the end of the file. An own-line
    comment goes before the first line holding code written after it; a trailing
    comment goes to the end of the line holding the code it followed. Slots are
    forced to never decrease, which keeps the comments in their written order
    even where the layout reorders options.
    """

    def __init__(self, lines: Sequence[_Line], comments: Sequence[n.Comment], source: str) -> None:
        self.lines = lines
        self.source = source
        reach = -1
        self._reach: list[int] = []  # running maximum of `last`: bisectable
        for line in lines:
            reach = max(reach, line.last)
            self._reach.append(reach)
        self.before: dict[int, list[_Own]] = {}
        self.trailing: dict[int, n.Comment] = {}
        self._place(comments)

    def _place(self, comments: Sequence[n.Comment]) -> None:
        floor = 0
        for comment in sorted(comments, key=lambda c: c.span.start):
            slot = max(self._slot(comment), floor)
            floor = slot
            line, at_end = divmod(slot, 2)
            if at_end and line not in self.trailing:
                self.trailing[line] = comment
            else:  # own line, or a second comment for the same line end: below it
                target = line + at_end
                blank = not at_end and _blank_line_before(self.source, comment.span.start)
                self.before.setdefault(target, []).append(_Own(comment, blank))

    def _slot(self, comment: n.Comment) -> int:
        offset = comment.span.start
        i = bisect.bisect_right(self._reach, offset)  # first line with code after it
        if not _code_before(self.source, offset):
            return 2 * i
        if i < len(self.lines) and self.lines[i].first != -1 and self.lines[i].first < offset:
            return 2 * i + 1
        return 2 * i - 1 if i > 0 else 0

    def text(self) -> str:
        out = _Output()
        for i, line in enumerate(self.lines):
            self._put_comments(out, i, line)
            blank = (line.blank and not self.before.get(i)) or (
                line.kind == "stmt" and _blank_line_before(self.source, line.first)
            )
            text = INDENT * line.depth + line.text
            if i in self.trailing:
                text += "  " + self.trailing[i].text
            out.put(text, blank, line.opens)
        self._put_comments(out, len(self.lines), None)
        return out.text()

    def _put_comments(self, out: _Output, i: int, line: _Line | None) -> None:
        """The own-line comments placed before line `i` (`None`: the end of file),
        indented like that line, or one level deeper when it closes a block."""
        depth = 0 if line is None else line.depth + (line.kind == "close")
        keeps_blanks = line is None or line.kind != "cont"
        rule = line is not None and line.blank
        for j, own in enumerate(self.before.get(i, [])):
            blank = (j == 0 and rule) or (keeps_blanks and own.blank_above)
            out.put(INDENT * depth + own.comment.text, blank)


class _Output:
    """Lines of text with the blank-line policy: at most one in a row, none at
    the top of the file and none right after a line that opens a block."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._after_open = True  # the top of the file counts as just opened

    def put(self, text: str, blank: bool, opens: bool = False) -> None:
        if blank and not self._after_open and self.lines and self.lines[-1]:
            self.lines.append("")
        self.lines.append(text)
        self._after_open = opens

    def text(self) -> str:
        return "\n".join(self.lines) + "\n" if self.lines else ""


def _code_before(source: str, offset: int) -> bool:
    """Whether something other than blanks precedes `offset` on its source line."""
    start = source.rfind("\n", 0, offset) + 1
    return bool(source[start:offset].strip(" \t\r"))


def _blank_line_before(source: str, offset: int) -> bool:
    """Whether `offset` starts its source line (after blanks) and the line above is
    empty: the author separated this from what came before."""
    if offset < 0 or not source or _code_before(source, offset):
        return False
    end = source.rfind("\n", 0, offset)
    if end <= 0:
        return False
    start = source.rfind("\n", 0, end) + 1
    return not source[start:end].strip(" \t\r")
