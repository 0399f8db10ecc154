"""A document's last check seen from its current text: what is under the cursor, where a
name is declared and used, what a rename would change.

The last `Analysis` may be older than the text (a check runs after the typing pauses),
and the text may not parse at all while it is being typed. So the current text is
indexed on its own when it parses, and when it does not, the cursor's word is looked
up by name, and this file's declarations are found by a lexical scan: navigation keeps
working in a broken file. Other files come from the analysis, which read them as the
editor had them.

A View never parses: parsing a large standard takes a good part of a second, and the
server's loop must answer the next keystroke. The index of the current text comes from
the last check when it saw this text, else from the parse cache, else from whoever
made the View (`index`, parsed on another thread: `parse_index`); without one, the
View answers lexically, as in a broken file, until the check lands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import nodes as n
from ..diagnostics import CompileError
from ..parser import KEYWORDS, SOFT_KEYWORDS
from .analysis import Analysis, ParseCache, path_of, path_uri
from .index import DECLARED, FileIndex, Kind, Occurrence, resolve
from .language import FUNCTIONS, function_names, valid_name
from .positions import LineIndex

_LEXICAL_DECL = re.compile(
    r"\b(item|section|coefficient|rollup|scale|field)\s+((?!\d)\w+)"
    r"|\b(const)\s+((?!\d)\w+)(?=\s*=(?!=))"
)
_WORD = re.compile(r"\w+")


def lexical_index(display: str, text: str) -> FileIndex:
    """Declarations found by their keyword alone, for a file that does not parse."""
    found = []
    for m in _LEXICAL_DECL.finditer(_without_comments_and_strings(text)):
        kind: Kind = m.group(1) or "constant"  # type: ignore[assignment]
        group = 2 if m.group(1) else 4
        found.append(
            Occurrence(m.group(group), kind, "declaration", display, m.start(group), m.end(group))
        )
    return FileIndex(display, text, n.Module(display, (), ()), found)


def parse_index(cache: ParseCache, display: str, text: str) -> FileIndex | None:
    """The index of `text` (parsed, or from the cache), None when it does not parse. Slow
    on a large standard: for a thread other than the server's loop."""
    try:
        return cache.get(display, text)[1]
    except CompileError:
        return None
    except Exception:  # the parser's own failure must not stop the editor
        return None


def _without_comments_and_strings(text: str) -> str:
    """The text with comments and string contents blanked, offsets kept."""

    def blank(m: re.Match[str]) -> str:
        return " " * len(m.group())  # neither a string nor a comment holds a line break

    return re.sub(r'"(?:\\.|[^"\\\n])*"?|#[^\n]*', blank, text)


class View:
    """One document's current text with the last check of its standard."""

    def __init__(
        self,
        analysis: Analysis | None,
        display: str,
        text: str,
        cache: ParseCache,
        encoding: str = "utf-16",
        last_good: FileIndex | None = None,
        index: FileIndex | None = None,
    ) -> None:
        self.analysis = analysis
        self.display = display
        self.text = text
        self.encoding = encoding
        self.lines = LineIndex(text, encoding)
        #: The current text has an index from its syntax tree (else: lexical, because
        #: it does not parse or has not been parsed yet).
        self.parsed = True
        current: FileIndex | None = None
        if analysis is not None and analysis.text == text:
            current = analysis.indexes.get(display)
        if current is None and index is not None and index.text == text:
            current = index
        if current is None:
            hit = cache.peek(display, text)
            current = hit[1] if hit is not None else None
        if current is None:
            current = lexical_index(display, text)
            self.parsed = False
        self.current = current
        #: The last index of this file that parsed, while the text does not: its names
        #: help hover and completion, its offsets are not trusted.
        self.stale = last_good if not self.parsed else None
        self.indexes: dict[str, FileIndex] = dict(analysis.indexes) if analysis else {}
        self.indexes[display] = current
        self._lines: dict[str, LineIndex] = {display: self.lines}

    # -- the names of the standard ----------------------------------------------------------

    def all_occurrences(self, stale: bool = False) -> Iterator[Occurrence]:
        """Every occurrence in the standard's files; with `stale`, also those of this
        file's last text that parsed (for their names, not their places)."""
        for index in self.indexes.values():
            yield from index.occurrences
        if stale and self.stale is not None:
            yield from self.stale.occurrences

    def declared(self) -> set[str]:
        names = {
            o.name
            for o in self.all_occurrences(stale=True)
            if o.role == "declaration" and o.kind in DECLARED
        }
        if self.analysis is not None and self.analysis.flat is not None:
            names |= set(self.analysis.flat.decls)
        return names

    def declarations(self, name: str, stale: bool = False) -> list[Occurrence]:
        return [
            o
            for o in self.all_occurrences(stale)
            if o.name == name and o.role == "declaration" and o.kind in DECLARED
        ]

    def effective(self, name: str, stale: bool = False) -> Occurrence | None:
        """The declaration of `name` the standard uses (a later layer replaces an earlier
        one), or the last found when the files could not be assembled."""
        flat = self.analysis.flat if self.analysis is not None else None
        decl = flat.decls.get(name) if flat is not None else None
        # A declaration read from a syntax tree says more than one found lexically.
        found = sorted(self.declarations(name, stale), key=lambda o: o.node is None)
        if decl is not None:
            span = decl.node.name_span
            for o in found:
                if o.file == span.file and o.start == span.start:
                    return o
            # This document's declaration moved since the check: match it by name here.
            if span.file == self.display:
                here = [o for o in found if o.file == self.display]
                if here:
                    return here[0]
        if not found:
            return None
        here = [o for o in found if o.file == self.display]
        return here[0] if here else found[-1]

    def effective_any(self, name: str) -> Occurrence | None:
        """`effective`, falling back on this file's last text that parsed (for what a
        declaration says, not where it is)."""
        return self.effective(name, stale=True)

    # -- the cursor -------------------------------------------------------------------------

    def offset(self, line: int, character: int) -> int:
        return self.lines.offset(line, character)

    def at(self, offset: int) -> Occurrence | None:
        """The name under `offset`: from the index, or, in a file that does not parse,
        the word there, taken for what its neighbours say it is."""
        if self.parsed:
            return self.current.at(offset)
        for m in _WORD.finditer(self.text, max(0, offset - 200), offset + 200):
            if m.start() <= offset <= m.end() and not m.group()[0].isdigit():
                return self._guess(m.group(), m.start(), m.end())
        return None

    def _guess(self, word: str, start: int, end: int) -> Occurrence | None:
        before = self.text[max(0, start - 40) : start]
        after = self.text[end : end + 1]
        kind: Kind
        if word in KEYWORDS and word not in self.declared():
            return None  # a keyword names nothing
        if word in SOFT_KEYWORDS and _soft_keyword_here(word, before, self.text[end : end + 80]):
            return None  # `scale NAME points`, `const NAME =`: a keyword here, whatever else
        if before.endswith("visit."):
            kind = "field"
        elif after == "(" or (word in FUNCTIONS and word not in self.declared()):
            kind = "function"
        elif re.search(r"\b(tags|tagged)\s+(\w+\s+)*$", before):
            kind = "tag"
        else:
            decl = next((o for o in self.current.occurrences if o.start == start), None)
            if decl is not None:
                return decl
            kind = "name"
        return Occurrence(word, kind, "reference", self.display, start, end)

    def kind_of(self, occ: Occurrence) -> Kind:
        """What the name is, a bare formula name resolved against the standard."""
        if occ.kind == "name":
            return resolve(occ, self.declared())
        return occ.kind

    # -- navigation --------------------------------------------------------------------------

    def definition(self, occ: Occurrence) -> list[Occurrence]:
        kind = self.kind_of(occ)
        if kind in DECLARED or kind == "name":
            target = self.effective(occ.name)
            return [target] if target is not None else []
        if kind == "label":
            return [
                o
                for o in self.all_occurrences()
                if o.kind == "label" and o.role == "declaration" and o.name == occ.name
            ]
        if kind == "tag":
            return [
                o
                for o in self.all_occurrences()
                if o.kind == "tag" and o.name == occ.name and isinstance(o.node, n.Item)
            ]
        if kind == "standard":
            return [
                o
                for o in self.all_occurrences()
                if o.kind == "standard" and o.role == "declaration" and o.name == occ.name
            ]
        return []

    def import_target(self, occ: Occurrence) -> str | None:
        """The file an `import` names, as a URI, when the check read it."""
        if occ.kind != "import" or self.analysis is None:
            return None
        for display in self.analysis.sources:
            path = path_of(display)
            if path == (self.analysis.path.parent / occ.name).resolve() or str(path).endswith(
                "/" + occ.name.lstrip("./")
            ):
                return path_uri(path)
        return None

    def references(self, occ: Occurrence, include_declaration: bool = True) -> list[Occurrence]:
        kind = self.kind_of(occ)
        if kind in ("function", "import", "builtin_field"):
            return [o for o in self.all_occurrences() if o.kind == kind and o.name == occ.name]
        declared = self.declared()
        namespace = _namespace(kind)
        out = []
        for o in self.all_occurrences():
            if o.name != occ.name or _namespace(resolve(o, declared)) != namespace:
                continue
            if o.role == "declaration" and not include_declaration:
                continue
            out.append(o)
        return sorted(out, key=lambda o: (o.file != self.display, o.file, o.start))

    def rename(self, occ: Occurrence, new: str) -> tuple[dict[str, list[Occurrence]], str | None]:
        """The occurrences to rewrite, by file, or the reason a rename is refused."""
        from ..messages import message

        if not self.parsed:  # its references cannot all be found: a rename would miss some
            return {}, message("lsp.rename.does_not_parse")
        kind = self.kind_of(occ)
        if not (kind in DECLARED or kind == "name") or occ.name in function_names():
            return {}, message("lsp.rename.not_renamable", name=occ.name)
        if not valid_name(new):
            return {}, message("lsp.rename.invalid", name=new)
        if new != occ.name and new in self.declared():
            return {}, message("lsp.rename.taken", name=new)
        found = self.references(occ, include_declaration=True)
        if not any(o.role == "declaration" for o in found):
            return {}, message("lsp.rename.not_renamable", name=occ.name)
        root = (
            self.analysis.path.parent if self.analysis is not None else path_of(self.display).parent
        )
        by_file: dict[str, list[Occurrence]] = {}
        for o in found:
            path = path_of(o.file)
            if o.file != self.display and root not in path.parents:
                return {}, message("lsp.rename.outside", name=occ.name, file=o.file)
            by_file.setdefault(o.file, []).append(o)
        return by_file, None

    # -- positions ---------------------------------------------------------------------------

    def lines_of(self, file: str) -> LineIndex | None:
        if file not in self._lines:
            index = self.indexes.get(file)
            text = index.text if index is not None else None
            if text is None and self.analysis is not None:
                text = self.analysis.sources.get(file)
            if text is None:
                return None
            self._lines[file] = LineIndex(text, self.encoding)
        return self._lines[file]

    def range_of(self, occ: Occurrence) -> tuple[tuple[int, int], tuple[int, int]] | None:
        lines = self.lines_of(occ.file)
        if lines is None:
            return None
        return lines.position(occ.start), lines.position(occ.end)


def _soft_keyword_here(word: str, before: str, after: str) -> bool:
    """A soft keyword (`parser.SOFT_KEYWORDS`) stands where it is one, not a name: a
    scale's kind after `scale NAME`, `const` before `NAME =`."""
    if word == "const":
        return re.match(r"\s+(?!\d)\w+\s*=(?!=)", after) is not None
    return re.search(r"\bscale\s+(?!\d)\w+\s+$", before) is not None


def _namespace(kind: Kind) -> str:
    return "decl" if kind in DECLARED or kind == "name" else kind
