"""The checker's diagnostics as the protocol's, and their quick fixes.

A diagnostic keeps its code, its exact range and its severity; its label, notes and
help follow the message on lines of their own (`help: did you mean `greeted`?`), as
`sbm check` prints them under the caret. A note that names a place (`first declared
at branch.sbm:12:14`) also becomes related information, which editors show as a link.

A diagnostic located in another file (an imported file or the base standard) is shown
on the line of the document that brings that file in (its `import` or `extends`),
with the real place as related information: each document shows what is wrong with
the standard it is, without the documents of a workspace overwriting each other's
lists.

"did you mean `X`?" becomes a quick fix replacing the name under the diagnostic with
`X`; the suggestion travels in the diagnostic's `data`, with the range it replaces and
the text that range held when the document was checked. The editor may send the
diagnostic back after the text has changed (an edit above it): the fix is offered only
while the range still holds that text, so it never overwrites other characters.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from ..diagnostics import Diagnostic
from ..messages import message
from .analysis import Analysis, path_of, path_uri
from .positions import LineIndex

_PLACE = re.compile(r"((?:[A-Za-z]:)?[^\s:`«»\"']+\.sbm):(\d+):(\d+)")
_NAME_UNDER = re.compile(r"^\w+$")
_TRAILING_NAME = re.compile(r"(\w+)$")


def suggestion(help_text: str | None) -> str | None:
    """The name a `did you mean` hint proposes, in the catalogue's current language."""
    if not help_text:
        return None
    prefix, _, suffix = message("hint.did_you_mean", name="\x00").partition("\x00")
    m = re.search(re.escape(prefix) + r"(\w+)" + re.escape(suffix), help_text)
    return m.group(1) if m else None


def _range(lines: LineIndex, start: int, end: int) -> types.Range:
    (l1, c1), (l2, c2) = lines.position(start), lines.position(end)
    return types.Range(types.Position(l1, c1), types.Position(l2, c2))


def span_range(lines: LineIndex, span: object) -> types.Range:
    start, end = lines.span_offsets(span)  # type: ignore[arg-type]
    return _range(lines, start, end)


def _text(d: Diagnostic) -> str:
    parts = [d.message]
    if d.label:
        parts[0] += f" ({d.label})"
    parts += [f"{message('diag.note')}: {note}" for note in d.notes]
    if d.help:
        parts.append(f"{message('diag.help')}: {d.help}")
    return "\n".join(parts)


def _related(
    d: Diagnostic, analysis: Analysis, encoding: str
) -> list[types.DiagnosticRelatedInformation]:
    out = []
    for note in d.notes:
        for m in _PLACE.finditer(note):
            file, line, column = m.group(1), int(m.group(2)), int(m.group(3))
            text = analysis.sources.get(file)
            if text is None:
                continue
            lines = LineIndex(text, encoding)
            start = lines.compiler_offset(line, column)
            end = start
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            out.append(
                types.DiagnosticRelatedInformation(
                    types.Location(path_uri(path_of(file)), _range(lines, start, end)), note
                )
            )
    return out


def _entry_site(analysis: Analysis, other: str, lines: LineIndex) -> types.Range:
    """Where this document brings in the file `other`: its `import` of it, else its
    `extends`, else its `standard` line."""
    index = analysis.indexes.get(analysis.display)
    if index is None:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    target = path_of(other)
    fallback = None
    for occ in index.occurrences:
        if occ.kind == "import":
            beside = (analysis.path.parent / occ.name).resolve()
            if beside == target or Path(occ.name).name == target.name:
                return _range(lines, occ.start, occ.end)
        elif occ.kind == "standard" and (fallback is None or occ.role == "reference"):
            fallback = occ
    if fallback is not None:
        return _range(lines, fallback.start, fallback.end)
    return types.Range(types.Position(0, 0), types.Position(0, 0))


def to_protocol(
    analysis: Analysis, extra: tuple[Diagnostic, ...] = (), encoding: str = "utf-16"
) -> list[types.Diagnostic]:
    """The document's diagnostics for `textDocument/publishDiagnostics`."""
    here = LineIndex(analysis.text, encoding)
    others: dict[str, LineIndex] = {}
    out: list[types.Diagnostic] = []
    for d in (*analysis.diagnostics, *extra):
        related = _related(d, analysis, encoding)
        file = d.span.file
        data = None
        if file == analysis.display or d.span.line < 1 or file not in analysis.sources:
            rng = span_range(here, d.span) if d.span.line >= 1 else _start_range()
            fix = suggestion(d.help)
            if fix is not None and d.span.line >= 1:
                data = _fix_data(here, d, fix)
            text = _text(d)
        else:
            lines = others.setdefault(file, LineIndex(analysis.sources[file], encoding))
            rng = _entry_site(analysis, file, here)
            related.insert(
                0,
                types.DiagnosticRelatedInformation(
                    types.Location(path_uri(path_of(file)), span_range(lines, d.span)),
                    d.message,
                ),
            )
            text = f"{d.span}: {_text(d)}"
        out.append(
            types.Diagnostic(
                range=rng,
                message=text,
                severity=types.DiagnosticSeverity.Error
                if d.severity == "error"
                else types.DiagnosticSeverity.Warning,
                code=d.code,
                source="sbm",
                related_information=related or None,
                data=data,
            )
        )
    return out


def _start_range() -> types.Range:
    return types.Range(types.Position(0, 0), types.Position(0, 0))


def _fix_data(lines: LineIndex, d: Diagnostic, fix: str) -> dict[str, object] | None:
    """Where the quick fix puts `fix`: the name under the diagnostic (or the last word
    of its text, `drop NAME`)."""
    start, end = lines.span_offsets(d.span)
    under = lines.text[start:end]
    if not _NAME_UNDER.match(under):
        m = _TRAILING_NAME.search(under)
        if m is None:
            return None
        start += m.start()
    if lines.text[start:end] == fix:
        return None
    (l1, c1), (l2, c2) = lines.position(start), lines.position(end)
    return {"replace": fix, "range": [l1, c1, l2, c2], "old": lines.text[start:end]}


def quick_fixes(
    uri: str, diagnostics: list[types.Diagnostic], text: str, encoding: str = "utf-16"
) -> list[types.CodeAction]:
    """A quick fix for each diagnostic that carries a suggestion, when the range it
    replaces still holds, in the document's current `text`, what it held at the check."""
    lines: LineIndex | None = None
    actions = []
    for d in diagnostics:
        data = d.data
        if not isinstance(data, dict) or not {"replace", "range", "old"} <= data.keys():
            continue
        try:
            l1, c1, l2, c2 = (int(x) for x in data["range"])
            new = str(data["replace"])
            old = str(data["old"])
        except (TypeError, ValueError):
            continue
        if lines is None:
            lines = LineIndex(text, encoding)
        start, end = lines.offset(l1, c1), lines.offset(l2, c2)
        # the same characters at the same place: a position past its line's end is
        # clamped by `offset`, so the round trip checks it is really there
        if (
            text[start:end] != old
            or lines.position(start) != (l1, c1)
            or lines.position(end) != (l2, c2)
        ):
            continue  # the text moved on since the check: the next check offers it again
        edit = types.TextEdit(types.Range(types.Position(l1, c1), types.Position(l2, c2)), new)
        actions.append(
            types.CodeAction(
                title=message("lsp.fix.replace", name=new),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return actions
