"""The outline of a file (`textDocument/documentSymbol`) and its formatting.

The outline nests as the file does: the standard, then its declarations, a section's
items inside the section, a scale's labels inside the scale. Formatting is `sbm fmt`:
the edits that turn the text into the canonical layout, none when it already is, and
a reason instead of edits when the text cannot be formatted (it does not parse).
"""

from __future__ import annotations

import difflib

import attrs

from .. import nodes as n
from ..diagnostics import CompileError
from ..formatter import FormatError, format_source
from ..messages import message


@attrs.frozen
class Symbol:
    """One entry of the outline: offsets of the whole declaration and of its name."""

    name: str
    #: standard, scale, field, section, item, coefficient, rollup, constant, target, bands,
    #: example
    kind: str
    detail: str | None
    start: int
    end: int
    name_start: int
    name_end: int
    children: tuple[Symbol, ...] = ()


def _named(
    kind: str,
    name: str,
    detail: str | None,
    span: n.Span,
    name_span: n.Span,
    children: tuple[Symbol, ...] = (),
) -> Symbol:
    start, end = span.start, max(span.end, span.start)
    ns = name_span.start if name_span.end > name_span.start else start
    ne = name_span.end if name_span.end > name_span.start else start
    return Symbol(name, kind, detail, start, end, ns, ne, children)


def outline(module: n.Module) -> list[Symbol]:
    out = []
    for std in module.standards:
        members = []
        for m in std.members:
            # a `repeat` block's items and sections are shown as written, in its place
            for inner in m.members if isinstance(m, n.Repeat) else (m,):
                sym = _member(inner)
                if sym is not None:
                    members.append(sym)
        out.append(_named("standard", std.name, std.title, std.span, std.name_span, tuple(members)))
    return out


def _member(m: n.Member) -> Symbol | None:
    match m:
        case n.Scale():
            labels = tuple(
                Symbol(
                    e.label.value,
                    "label",
                    e.score.text,
                    e.span.start,
                    e.span.end,
                    e.label.span.start,
                    e.label.span.end,
                )
                for e in m.entries
            )
            return _named("scale", m.name, None, m.span, m.name_span, labels)
        case n.Field():
            return _named("field", m.name, m.title, m.span, m.name_span)
        case n.Section():
            items = tuple(_named("item", i.name, i.question, i.span, i.name_span) for i in m.items)
            return _named("section", m.name, m.title, m.span, m.name_span, items)
        case n.Item():
            return _named("item", m.name, m.question, m.span, m.name_span)
        case n.Coefficient():
            return _named("coefficient", m.name, m.title, m.span, m.name_span)
        case n.Rollup():
            return _named("rollup", m.name, m.title, m.span, m.name_span)
        case n.Constant():
            return _named("constant", m.name, m.value.text, m.span, m.name_span)
        case n.Target():
            return _named("target", m.coefficient, n.threshold_text(m.value), m.span, m.name_span)
        case n.Bands():
            return _named("bands", m.coefficient, None, m.span, m.name_span)
        case n.Example():
            # The example's name is its string: the name range is the string's quotes.
            return Symbol(
                m.name,
                "example",
                None,
                m.span.start,
                m.span.end,
                m.span.start,
                m.span.start + len("example"),
            )
    return None


@attrs.frozen
class Edit:
    """Replace offsets [start, end) of the text with `new`."""

    start: int
    end: int
    new: str


def format_edits(text: str, file: str) -> tuple[list[Edit], str | None]:
    """The edits `sbm fmt` makes, or no edits and why not."""
    try:
        formatted = format_source(text, file)
    except CompileError as err:
        first = err.diagnostics[0] if err.diagnostics else None
        where = f" ({first.span.line}:{first.span.column}: {first.message})" if first else ""
        return [], message("lsp.format.does_not_parse") + where
    except FormatError as err:
        return [], str(err)
    if formatted == text:
        return [], None
    return _line_edits(text, formatted), None


def _line_edits(old: str, new: str) -> list[Edit]:
    """The smallest set of whole-line replacements from `old` to `new`."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(Edit(starts[i1], starts[i2], "".join(b[j1:j2])))
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """`text` with non-overlapping `edits` made (for tests and the benchmark)."""
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: e.start] + e.new + text[e.end :]
    return text
