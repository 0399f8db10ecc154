"""Every name of a parsed file, where it is declared and where it is used.

The editor asks "what is under the cursor" and "where else is this name": both are
answered from one list of `Occurrence`s per file, made by walking the syntax tree
the parser built. Nothing here knows the protocol: positions are character offsets
into the file's text (`positions.LineIndex` turns them into the protocol's).

Kinds of names, and which of them share a namespace:

- `decl` namespace (items, sections, scales, coefficients, rollups, fields,
  constants: one namespace per standard, as the language reference says); an
  occurrence of one of these is `declaration` or `reference`;
- `tag` (`tags a b`, `tagged a`): tags are not declared, every use is a reference;
- `label`: scale labels and band labels, as written in formulas and examples;
- `function`, `standard` (`standard ID`, `extends ID`), `import` (the file named)
  and `builtin_field` (`visit.date`, the fields every standard has).

A name in a formula is a reference to a declaration when some file of the standard
declares it, else a label or a built-in value (`value`, `critical_failed`): which it
is can only be known with every file of the standard, so `resolve` takes the set of
declared names.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs

from .. import nodes as n

Role = Literal["declaration", "reference"]
Kind = Literal[
    "item",
    "section",
    "scale",
    "coefficient",
    "rollup",
    "field",
    "constant",
    "name",  # a bare name in a formula: a declared name, a label or a built-in value
    "tag",
    "label",
    "function",
    "standard",
    "import",
    "builtin_field",
]

#: Kinds that live in the standard's one namespace of declarations.
DECLARED = frozenset({"item", "section", "scale", "coefficient", "rollup", "field", "constant"})

_WORD = re.compile(r"\w+")


@attrs.frozen
class Occurrence:
    """One name in one file: `name` at offsets [start, end)."""

    name: str
    kind: Kind
    role: Role
    file: str
    start: int
    end: int
    #: The declaration's node (an `n.Item`, `n.Coefficient`, …) or the referring one.
    node: Any = attrs.field(default=None, eq=False, repr=False)
    #: For an item: the section that holds it in this file.
    section: str | None = None

    def contains(self, offset: int) -> bool:
        # The end counts too: the cursor right after a name is still on it.
        return self.start <= offset <= self.end


@attrs.define
class FileIndex:
    """The occurrences of one file, in the order of the text."""

    file: str
    text: str
    module: n.Module
    occurrences: list[Occurrence]
    _starts: list[int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.occurrences.sort(key=lambda o: (o.start, o.end))
        self._starts = [o.start for o in self.occurrences]

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under `offset` (the innermost, the last to start)."""
        i = bisect.bisect_right(self._starts, offset)
        while i > 0:
            i -= 1
            occ = self.occurrences[i]
            if occ.contains(offset):
                return occ
            if offset - occ.start > 200:  # names are short: nothing further back can hold it
                return None
        return None


def resolve(occ: Occurrence, declared: Iterable[str] | set[str]) -> Kind:
    """What a bare formula name is: `name` (a declared name) or `label`."""
    if occ.kind != "name":
        return occ.kind
    return "name" if occ.name in declared else "label"


def index_module(module: n.Module, text: str) -> FileIndex:
    """The occurrences of every name in a parsed file (`text` is what was parsed)."""
    walker = _Walker(module.path, text)
    for imp in module.imports:
        walker.import_(imp)
    for std in module.standards:
        walker.standard(std)
    return FileIndex(module.path, text, module, walker.found)


class _Walker:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.found: list[Occurrence] = []

    # -- placing names -------------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: Kind,
        role: Role,
        start: int,
        node: Any = None,
        section: str | None = None,
    ) -> None:
        if not name or start < 0 or self.text[start : start + len(name)] != name:
            return  # a span that does not hold the name (a tree not read from this text)
        self.found.append(
            Occurrence(name, kind, role, self.file, start, start + len(name), node, section)
        )

    def at_start(self, name: str, kind: Kind, role: Role, span: n.Span, node: Any = None) -> None:
        self.add(name, kind, role, span.start, node)

    def at_end(self, name: str, kind: Kind, role: Role, span: n.Span, node: Any = None) -> None:
        self.add(name, kind, role, span.end - len(name), node)

    def words_in(self, span: n.Span) -> Iterator[tuple[str, int]]:
        """The words of the text under `span`, comments skipped."""
        chunk = self.text[span.start : span.end]
        for line_start, line in _lines(chunk):
            code = line.split("#", 1)[0]
            for m in _WORD.finditer(code):
                yield m.group(), span.start + line_start + m.start()

    # -- declarations ----------------------------------------------------------------------

    def import_(self, imp: n.Import) -> None:
        # The path inside the quotes: the string ends the statement.
        raw = self.text[imp.span.start : imp.span.end]
        q = raw.find('"')
        if q >= 0:
            self.found.append(
                Occurrence(
                    imp.path,
                    "import",
                    "reference",
                    self.file,
                    imp.span.start + q,
                    imp.span.end,
                    imp,
                )
            )

    def standard(self, std: n.Standard) -> None:
        self.at_start(std.name, "standard", "declaration", std.name_span, std)
        if std.extends:
            self.at_start(std.extends, "standard", "reference", std.extends_span, std)
        for member in std.members:
            self.member(member)

    def member(self, member: n.Member, section: str | None = None) -> None:
        match member:
            case n.Import():
                self.import_(member)
            case n.Scale():
                self.at_start(member.name, "scale", "declaration", member.name_span, member)
                self.labels(member.entries, member)
            case n.Field():
                self.at_start(member.name, "field", "declaration", member.name_span, member)
                for label in member.values or ():
                    if label.kind == "name":
                        self.at_start(label.value, "label", "declaration", label.span, member)
            case n.Section():
                self.at_start(member.name, "section", "declaration", member.name_span, member)
                for anchor in (member.after, member.before):
                    if anchor is not None:
                        self.at_start(anchor.name, "section", "reference", anchor.span, member)
                if member.when is not None:
                    self.expr(member.when)
                for item in member.items:
                    self.item(item, member.name)
            case n.Item():
                self.item(member, None)
            case n.Coefficient() | n.Rollup():
                kind: Kind = "coefficient" if isinstance(member, n.Coefficient) else "rollup"
                self.at_start(member.name, kind, "declaration", member.name_span, member)
                self.expr(member.expr)
            case n.Constant():
                self.at_start(member.name, "constant", "declaration", member.name_span, member)
            case n.Target():
                self.at_start(member.coefficient, "name", "reference", member.name_span, member)
                if isinstance(member.value, n.Name):  # a constant
                    self.at_start(member.value.name, "name", "reference", member.value.span, member)
            case n.Bands():
                self.at_start(member.coefficient, "name", "reference", member.name_span, member)
                for band in member.bands:
                    self.at_start(band.label, "label", "declaration", band.span, member)
                    if isinstance(band.threshold, n.Name):  # a constant
                        limit = band.threshold
                        self.at_start(limit.name, "name", "reference", limit.span, member)
                    if band.when is not None:
                        self.expr(band.when)
            case n.Drop():
                self.at_end(member.name, "name", "reference", member.span, member)
            case n.Repeat():  # the block's declarations as written (names before expansion)
                for inner in member.members:
                    self.member(inner)
            case n.Example():
                visits = [*((v.visit, v.answers) for v in member.earlier)]
                for visit, answers in [*visits, (member.visit, member.answers)]:
                    for a in visit:
                        self.at_start(a.name, "field", "reference", a.span, a)
                    for a in answers:
                        self.at_start(a.name, "item", "reference", a.span, a)
                        if a.value.kind == "name":
                            self.at_start(a.value.value, "label", "reference", a.value.span, a)
                for expr in member.expects:
                    self.expr(expr)

    def item(self, item: n.Item, section: str | None) -> None:
        self.add(item.name, "item", "declaration", item.name_span.start, item, section)
        answer = item.answer.options if isinstance(item.answer, n.MultiAnswer) else item.answer
        if isinstance(answer, n.ScaleAnswer):
            self.at_start(answer.scale, "scale", "reference", answer.span, item)
        elif isinstance(answer, n.InlineScaleAnswer):
            self.labels(answer.entries, item)
        # `tags a b c`: the words after the keyword, up to the next option.
        for word, start in self._tags(item):
            self.add(word, "tag", "reference", start, item)
        if item.section_in is not None:
            place = item.section_in
            self.at_start(place.name, "section", "reference", place.span, item)
        for anchor in (item.after, item.before):
            if anchor is not None:
                self.at_start(anchor.name, "item", "reference", anchor.span, item)
        if item.value is not None:
            self.expr(item.value)
        if item.critical_if is not None:
            self.expr(item.critical_if)
        if item.when is not None:
            self.expr(item.when)
        if item.score is not None:
            self.expr(item.score)

    def labels(self, entries: tuple[n.ScaleEntry, ...], owner: Any) -> None:
        for entry in entries:
            for label in (entry.label, *entry.aliases):
                if label.kind == "name":
                    self.at_start(label.value, "label", "declaration", label.span, owner)

    def _tags(self, item: n.Item) -> Iterator[tuple[str, int]]:
        if not item.tags:
            return
        words = list(self.words_in(item.span))
        wanted = list(item.tags)
        for i, (word, _) in enumerate(words):
            if word == "tags" and [w for w, _ in words[i + 1 : i + 1 + len(wanted)]] == wanted:
                yield from words[i + 1 : i + 1 + len(wanted)]
                return

    # -- expressions -----------------------------------------------------------------------

    def expr(self, expr: n.Argument) -> None:
        match expr:
            case n.Name():
                self.at_start(expr.name, "name", "reference", expr.span, expr)
            case n.Attribute():
                if expr.owner == "visit":
                    self.at_end(expr.name, "field", "reference", expr.span, expr)
            case n.Call():
                self.add(expr.function, "function", "reference", expr.name_span.start, expr)
                for arg in expr.args:
                    self.expr(arg)
            case n.Selection():
                if expr.name is not None:
                    kind: Kind = "tag" if expr.kind == "tagged" else "section"
                    self.at_end(expr.name, kind, "reference", expr.span, expr)
            case n.Weighted():
                self.expr(expr.expr)
                self.expr(expr.weight)
            case n.Negate() | n.Not():
                self.expr(expr.operand)
            case n.Binary() | n.Compare() | n.BoolOp():
                self.expr(expr.left)
                self.expr(expr.right)
            case n.If():
                self.expr(expr.condition)
                self.expr(expr.then)
                self.expr(expr.otherwise)


def _lines(chunk: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in chunk.split("\n"):
        yield pos, line
        pos += len(line) + 1
