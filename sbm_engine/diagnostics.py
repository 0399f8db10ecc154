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

from .nodes import NOWHERE, Span

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
    # examples
    "E0801": "example expectation failed",
    "E0802": "example answers rejected",
    "E0803": "unknown example block",
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
        summary = f"{first.span}: error[{first.code}]: {first.message}" if first else "error"
        more = len(errors) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))

    def render(self, color: bool = False) -> str:
        return render_all(self.diagnostics, self.sources, color=color)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest declared name, for a "did you mean" hint; None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    folded = {c.casefold(): c for c in candidates}
    return folded.get(name.casefold())


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
    script = scripts[odd[0]]
    other = "Latin" if script == "Cyrillic" else "Cyrillic"
    where = ", ".join(f"`{name[i]}` ({i + 1}{_ordinal(i + 1)} letter)" for i in odd[:3])
    return f"the {script} {where}{' …' if len(odd) > 3 else ''} among {other} letters"


def lookalike_help(written: str, meant: str) -> str:
    """`did you mean X?`, saying which letters differ when X only looks like what was
    written (a Cyrillic `е` typed for a Latin `e`)."""
    text = f"did you mean `{meant}`?"
    if len(written) != len(meant):
        return text
    differ = [i for i, (a, b) in enumerate(zip(written, meant, strict=True)) if a != b]
    if differ and all(_LOOKALIKES.get(written[i]) == meant[i] for i in differ):
        script = _script(written[differ[0]])
        letters = ", ".join(f"`{written[i]}` ({i + 1}{_ordinal(i + 1)} letter)" for i in differ)
        text += (
            f" They look alike, but here {letters} {'is' if len(differ) == 1 else 'are'} {script}"
        )
    return text


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# ---- rendering ------------------------------------------------------------------

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "blue": "\x1b[1;34m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


def render(d: Diagnostic, sources: dict[str, str], color: bool = False) -> str:
    """Render one diagnostic like rustc: header, arrow, source line, caret, help."""

    def paint(text: str, what: str) -> str:
        return f"{_COLORS[what]}{text}{_RESET}" if color else text

    header = paint(f"{d.severity}[{d.code}]", d.severity) + paint(f": {d.message}", "bold")
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
        lines.append(f"{gutter} = note: {note}")
    if d.help:
        lines.append(f"{gutter} = help: {d.help}")
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
        shown.append(f"... and {len(items) - limit} more diagnostics not shown")
    n_err = sum(d.severity == "error" for d in items)
    n_warn = len(items) - n_err
    if items:
        shown.append(f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}")
    return "\n\n".join(shown)


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    items = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
    return json.dumps([d.to_json() for d in items], ensure_ascii=False, indent=2)
