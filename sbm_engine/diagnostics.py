"""Diagnostics as data, rendered for people (rustc/Cedar style) or for machines (JSON).

A check never stops at the first problem: every stage appends to a `Diagnostics`
collection, which sorts by position and caps the count when it is shown. The codes
are stable and documented in `docs/language.md`; `CODES` is their single list, so
tests can make sure every code is triggered and documented.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs

from .messages import message, ordinal
from .spans import NOWHERE, Span

Severity = Literal["error", "warning"]

#: Every diagnostic code and a one-line summary (the docs explain each at length).
CODES: dict[str, str] = {
    # syntax
    "E0001": "unexpected token",
    "E0002": "unexpected character",
    "E0003": "unexpected end of file",
    "E0004": "declaration or statement in the wrong place",
    "E0005": "expression nested too deeply",
    # declarations
    "E0101": "duplicate declaration",
    "E0102": "option given twice",
    "E0103": "reserved word used as a name",
    "E0104": "conflicting or meaningless options",
    "E0105": "a file must declare exactly one standard",
    # names
    "E0201": "unknown name",
    "E0202": "unknown scale",
    "E0203": "unknown tag",
    "E0204": "unknown section",
    "E0205": "unknown visit field",
    "E0206": "unknown function",
    "E0207": "unknown label",
    "E0208": "unknown coefficient",
    "E0209": "unknown item",
    # types
    "E0301": "type mismatch",
    "E0302": "wrong number of arguments",
    "E0303": "selection where a value is needed",
    "E0304": "unscored item used as a score",
    "E0305": "`value` outside an item's score formula",
    "E0306": "construct not allowed here",
    "E0307": "`previous` of something other than an item, a section or a coefficient",
    "E0308": "`repeated` of something other than items",
    # dependencies
    "E0401": "cycle between formulas",
    # values
    "E0501": "weight must be greater than 0",
    "E0502": "scale score outside [0, 1]",
    "E0503": "band thresholds not strictly decreasing",
    "E0504": "empty scale or field values, or empty or reversed number range",
    "E0505": "label declared twice in a scale, or value twice in a field",
    "E0506": "bands need a final catch-all label",
    "E0507": "target or bands given twice for a coefficient",
    "E0508": "number too large to hold",
    "E0509": "text that is no date or date and time where one is compared or given",
    "E0510": "built-in visit field declared with a type it cannot take",
    "E0511": "a multi-select whose options give nothing",
    # reuse
    "E0601": "imported file not found",
    "E0602": "import leaves the standard's root folder",
    "E0603": "import cycle, or a standard that extends itself",
    "E0604": "unknown base standard",
    "E0605": "drop of an unknown name",
    "E0606": "file cannot be read: not a regular file, or too large",
    "E0607": "file is not UTF-8 text",
    "E0608": "base standard declared in more than one file of a folder",
    "E0609": "no base standard of the pinned version",
    "E0610": "sections or items placed relative to each other in a circle",
    "E0611": "imported file of another version than the one pinned",
    "E0612": "a name a `repeat` block makes is declared already, or a key is listed twice",
    "E0613": "unknown placeholder in a `repeat` block",
    # examples
    "E0801": "example expectation failed",
    "E0802": "example answers rejected",
    "E0803": "unknown example block",
    "E0804": "example blocks in an order that cannot be read",
    # warnings
    "W0701": "formula can leave [0, 1]",
    "W0702": "scale declared but never used",
    "W0703": "tag used by no selection, spelt like one that is",
    "W0704": "target or band threshold above every value of its coefficient",
    "W0705": "two numbers with a comma between that read like a decimal comma",
    "W0706": "a name mixing Latin and Cyrillic letters",
}


@attrs.frozen
class Diagnostic:
    """One finding: what, where, and how to fix it."""

    code: str
    message: str
    span: Span = NOWHERE
    label: str | None = None  # text under the caret
    help: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return "warning" if self.code.startswith("W") else "error"

    @property
    def position(self) -> tuple[str, int, int]:
        """Where it is, as diagnostics are sorted: file, line, column."""
        return (self.span.file, self.span.line, self.span.column)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "label": self.label,
            "help": self.help,
            "notes": list(self.notes),
        }


class Diagnostics:
    """An ordered, de-duplicated collection of diagnostics."""

    def __init__(self, items: Iterable[Diagnostic] = ()) -> None:
        self._items: list[Diagnostic] = []
        self._seen: set[Diagnostic] = set()
        self.extend(items)

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self._seen:
            self._seen.add(diagnostic)
            self._items.append(diagnostic)

    def error(self, code: str, message: str, span: Span = NOWHERE, **kw: Any) -> None:
        self.add(Diagnostic(code, message, span, **kw))

    warn = error  # the code's letter decides the severity

    def extend(self, items: Iterable[Diagnostic]) -> None:
        for d in items:
            self.add(d)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self._items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self._items, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.sorted() if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.sorted() if d.severity == "warning"]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self._items)


class CompileError(Exception):
    """Raised when a standard cannot be compiled; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = sources or {}
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        error = message("diag.error")
        summary = f"{first.span}: {error}[{first.code}]: {first.message}" if first else error
        more = len(errors) - 1
        super().__init__(summary + (message("diag.and_more", count=more) if more > 0 else ""))

    def render(self, color: bool = False) -> str:
        return render_all(self.diagnostics, self.sources, color=color)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest declared name, for a "did you mean" hint; None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    folded = {c.casefold(): c for c in candidates}
    return folded.get(name.casefold())


def declaration_kind(kind: str) -> str:
    """A kind of declaration (`item`, `scale`, …) as the object of a verb: "an item" in
    English, «пункт» (the accusative) in Russian."""
    return {
        "item": lambda: message("kind.object.item"),
        "section": lambda: message("kind.object.section"),
        "scale": lambda: message("kind.object.scale"),
        "coefficient": lambda: message("kind.object.coefficient"),
        "rollup": lambda: message("kind.object.rollup"),
        "field": lambda: message("kind.object.field"),
        "constant": lambda: message("kind.object.constant"),
    }[kind]()


#: Cyrillic letters that look like Latin ones (and the other way round).
_LOOKALIKES = dict(zip("аеорсухіјѕАВЕКМНОРСТХІЈЅ", "aeopcyxijsABEKMHOPCTXIJS", strict=True))
_LOOKALIKES.update({latin: cyrillic for cyrillic, latin in list(_LOOKALIKES.items())})


def _script(ch: str) -> str | None:
    if "a" <= ch.lower() <= "z":
        return "Latin"
    if "\u0400" <= ch <= "\u04ff":
        return "Cyrillic"
    return None


def mixed_scripts(name: str) -> str | None:
    """The letters of a name that look like another alphabet's, set among letters of
    that alphabet (`greеted` with a Cyrillic `е`): "the Cyrillic `е` (4th letter) among
    Latin letters"; None otherwise. Names joining words of two alphabets, such as
    `nps_оценка`, are left alone."""
    scripts = [_script(c) for c in name]
    odd = []
    for i, ch in enumerate(name):
        neighbours = [scripts[j] for j in (i - 1, i + 1) if 0 <= j < len(name) and scripts[j]]
        if ch in _LOOKALIKES and neighbours and all(s != scripts[i] for s in neighbours):
            odd.append(i)
    if not odd:
        return None
    letters = _letters(name, odd[:3]) + (" …" if len(odd) > 3 else "")
    # `count` says one letter or several (min 2: "21" would read as one in Russian)
    if scripts[odd[0]] == "Cyrillic":
        return message("diag.mixed.cyrillic_among_latin", letters=letters, count=min(len(odd), 2))
    return message("diag.mixed.latin_among_cyrillic", letters=letters, count=min(len(odd), 2))


def lookalike_help(written: str, meant: str) -> str:
    """`did you mean X?`, saying which letters differ when X only looks like what was
    written (a Cyrillic `е` typed for a Latin `e`)."""
    text = message("hint.did_you_mean", name=meant)
    if len(written) != len(meant):
        return text
    differ = [i for i, (a, b) in enumerate(zip(written, meant, strict=True)) if a != b]
    if differ and all(_LOOKALIKES.get(written[i]) == meant[i] for i in differ):
        letters = _letters(written, differ)
        if _script(written[differ[0]]) == "Cyrillic":
            text += message("hint.lookalike_cyrillic", letters=letters, count=min(len(differ), 2))
        else:
            text += message("hint.lookalike_latin", letters=letters, count=min(len(differ), 2))
    return text


def _letters(name: str, places: list[int]) -> str:
    """ "`е` (4th letter), `о` (6th letter)": letters of `name` and where they stand."""
    return ", ".join(
        message("diag.mixed.letter", letter=name[i], nth=ordinal(i + 1)) for i in places
    )


# ---- rendering ------------------------------------------------------------------

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "blue": "\x1b[1;34m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


def render(d: Diagnostic, sources: dict[str, str], color: bool = False) -> str:
    """Render one diagnostic like rustc: header, arrow, source line, caret, help."""

    def paint(text: str, what: str) -> str:
        return f"{_COLORS[what]}{text}{_RESET}" if color else text

    severity = message("diag.error") if d.severity == "error" else message("diag.warning")
    header = paint(f"{severity}[{d.code}]", d.severity) + paint(f": {d.message}", "bold")
    lines = [header]
    span = d.span
    text = sources.get(span.file)
    # The gutter is as wide as the line number, and the arrow lines up with it.
    gutter = " " * len(str(max(span.line, 1)))
    where = f"{span.file}:{span.line}:{span.column}" if span.line > 0 else span.file
    lines.append(paint(f"{gutter}-->", "blue") + f" {where}")
    if text is not None and span.line > 0:
        source_lines = text.splitlines()
        if span.line <= len(source_lines):
            src = source_lines[span.line - 1].replace("\t", " ")
            start = span.column - 1
            end = span.end_column - 1 if span.end_line == span.line else len(src)
            width = max(1, end - start)
            caret = " " * start + paint("^" * width, d.severity)
            if d.label:
                caret += " " + paint(d.label, d.severity)
            lines.append(paint(f"{gutter} |", "blue"))
            lines.append(paint(f"{span.line} |", "blue") + f" {src}")
            lines.append(paint(f"{gutter} |", "blue") + f" {caret}")
    for note in d.notes:
        lines.append(f"{gutter} = {message('diag.note')}: {note}")
    if d.help:
        lines.append(f"{gutter} = {message('diag.help')}: {d.help}")
    return "\n".join(lines)


def render_all(
    diagnostics: Iterable[Diagnostic],
    sources: dict[str, str],
    color: bool = False,
    limit: int = 50,
) -> str:
    """Render sorted diagnostics, capped at `limit`, with a closing count."""
    items = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
    shown = [render(d, sources, color) for d in items[:limit]]
    if len(items) > limit:
        shown.append(message("diag.not_shown", count=len(items) - limit))
    n_err = sum(d.severity == "error" for d in items)
    n_warn = len(items) - n_err
    if items:
        shown.append(message("diag.count", errors=n_err, warnings=n_warn))
    return "\n\n".join(shown)


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    items = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
    return json.dumps([d.to_json() for d in items], ensure_ascii=False, indent=2)
