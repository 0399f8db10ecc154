"""The levers file of `sbm plan`: what each investment costs and which items it raises.

A levers file is TOML (analytics.md, `sbm plan`)::

    currency = "RUB"

    [[lever]]
    id = "sales_training"
    title = "Тренинг продаж (2 дня)"
    kind = "training"            # training | motivation | process | standard | other
    items = ["cross_sell"]       # names, or tags = [...], sections = [...]
    adds = 0.30                  # or closes = 0.5
    cost = 12000
    cost_per_specialist = 0
    cost_per_point = 0
    divisible = false

It is checked like a standard: every problem is a `Diagnostic` with the file, line
and column, a caret under the value and a hint (did you mean …?), and all of them
are found at once. `tomllib` does not say where a key was written, so positions are
found by scanning the text: the n-th `[[lever]]` header starts the n-th block, and
a key is the first line of its block that starts with `key =`. A lever written as an
inline table (`lever = [{…}]`) has its problems shown at that line.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..diagnostics import Diagnostic, render_all
from ..messages import message
from ..model import StandardModel
from ..spans import Span

#: The codes of a levers file's diagnostics (docs/plan.md explains each).
CODES: dict[str, str] = {
    "L0001": "TOML syntax error",
    "L0002": "file is not UTF-8 text, or cannot be read",
    "L0101": "unknown key",
    "L0102": "duplicate lever id",
    "L0103": "required key missing",
    "L0104": "both `adds` and `closes`, or neither",
    "L0105": "no levers in the file",
    "L0201": "unknown item",
    "L0202": "unknown tag",
    "L0203": "unknown section",
    "L0204": "lever raises no scored item",
    "L0301": "value of the wrong type",
    "L0501": "negative or non-finite cost",
    "L0502": "effect outside [0, 1]",
    "L0503": "unknown kind",
}

KINDS = ("training", "motivation", "process", "standard", "other")
TOP_KEYS = ("currency", "lever")
LEVER_KEYS = (
    "id",
    "title",
    "kind",
    "items",
    "tags",
    "sections",
    "adds",
    "closes",
    "cost",
    "cost_per_specialist",
    "cost_per_point",
    "divisible",
)
COSTS = ("cost", "cost_per_specialist", "cost_per_point")
#: The largest levers file read (a real one is a few kilobytes).
MAX_LEVERS_BYTES = 1 << 20


@attrs.frozen
class Lever:
    """One investment, its items resolved to the standard's scored items."""

    id: str
    title: str
    kind: str
    items: tuple[str, ...]  # in the standard's declaration order
    adds: float | None
    closes: float | None
    cost: float = 0.0
    cost_per_specialist: float = 0.0
    cost_per_point: float = 0.0
    divisible: bool = False

    def gain(self, mean: float) -> float:
        """Pass-rate points this lever adds to an item whose mean score is `mean`."""
        if self.adds is not None:
            return self.adds
        return (self.closes or 0.0) * max(0.0, 1.0 - mean)

    def cost_for(self, specialists: int, points: int) -> float:
        """The cost of buying the whole lever in a group of that many specialists and points."""
        return self.cost + self.cost_per_specialist * specialists + self.cost_per_point * points


@attrs.frozen
class Levers:
    currency: str
    levers: tuple[Lever, ...]
    file: str = "<levers>"

    def by_id(self) -> dict[str, Lever]:
        return {lever.id: lever for lever in self.levers}


class LeversError(ValueError):
    """A levers file that cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> None:
        self.diagnostics = list(diagnostics)
        self.sources = sources
        first = self.diagnostics[0]
        more = len(self.diagnostics) - 1
        super().__init__(
            f"{first.span}: {message('diag.error')}[{first.code}]: {first.message}"
            + (message("diag.and_more", count=more) if more else "")
        )

    def render(self, color: bool = False) -> str:
        return render_all(self.diagnostics, self.sources, color=color)


def read_levers(path: str | Path, model: StandardModel) -> Levers:
    """The checked levers of the file at `path`; `LeversError` with every problem."""
    from ..sources import SourceError, read_source_bytes

    file = str(path)
    try:
        data = read_source_bytes(Path(path), MAX_LEVERS_BYTES)
    except SourceError as err:
        d = Diagnostic("L0002", f"{err.reason}", Span(file, 0, 0, 0, 0))
        raise LeversError([d], {}) from None
    return levers_from_bytes(data, file, model)


def levers_from_bytes(data: bytes, file: str, model: StandardModel) -> Levers:
    """Check the bytes of a levers file: UTF-8 (a byte-order mark allowed), then TOML."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        shown = data.decode("utf-8-sig", errors="replace")
        before = data[: err.start].decode("utf-8-sig", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        from ..sources import guess_encoding

        guess = guess_encoding(data)
        d = Diagnostic(
            "L0002",
            message("levers.not_utf8", byte=f"0x{data[err.start]:02x}", line=line, column=column),
            Span(file, line, column, line, column + 1),
            label=message("levers.not_utf8_label"),
            help=message("levers.not_utf8_guess", encoding=guess)
            if guess
            else message("levers.not_utf8_help"),
        )
        raise LeversError([d], {file: shown}) from None
    return levers_from_text(text, file, model)


def levers_from_text(text: str, file: str, model: StandardModel) -> Levers:
    """Check the text of a levers file against `model`; `LeversError` with every problem."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    checker = _Checker(text, file, model)
    levers = checker.run()
    if checker.diagnostics or levers is None:
        raise LeversError(checker.diagnostics, {file: text})
    return levers


# ---- positions ------------------------------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*(?:lever|\"lever\"|'lever')[ \t]*\]\]")
_ANY_HEADER = re.compile(r"^[ \t]*\[")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class _Text:
    """Where keys and values were written: scanning lines, as tomllib does not say."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = text.split("\n")
        self.headers = [i for i, line in enumerate(self.lines) if _HEADER.match(line)]
        first_table = next((i for i, ln in enumerate(self.lines) if _ANY_HEADER.match(ln)), None)
        self.top_end = len(self.lines) if first_table is None else first_table

    def block(self, index: int | None) -> tuple[int, int]:
        """Lines [start, end) of the `index`-th lever block, or of the top level (None)."""
        if index is None:
            return 0, self.top_end
        if index >= len(self.headers):  # an inline table: its problems at `lever =`
            line = self.key_line("lever", None)
            return (line, line + 1) if line is not None else (0, len(self.lines))
        start = self.headers[index]
        end = next(
            (i for i in range(start + 1, len(self.lines)) if _ANY_HEADER.match(self.lines[i])),
            len(self.lines),
        )
        return start, end

    def key_line(self, key: str, index: int | None) -> int | None:
        start, end = self.block(index)
        k = re.escape(key)
        pattern = re.compile(rf"^[ \t]*(?:{k}|\"{k}\"|'{k}')[ \t]*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i
        return None

    def span(self, i: int, start: int, end: int) -> Span:
        return Span(self.file, i + 1, start + 1, i + 1, max(end, start + 1) + 1)

    def header(self, index: int | None) -> Span:
        """The `[[lever]]` line of a block (the first line of the file at the top level)."""
        start, _ = self.block(index)
        line = self.lines[start] if start < len(self.lines) else ""
        stripped = len(line) - len(line.lstrip())
        return self.span(start, stripped, len(line.rstrip()))

    def key(self, key: str, index: int | None) -> Span:
        i = self.key_line(key, index)
        if i is None:
            return self.header(index)
        line = self.lines[i]
        start = len(line) - len(line.lstrip())
        return self.span(i, start, len(line[: line.index("=", start)].rstrip()))

    def value(self, key: str, index: int | None) -> Span:
        i = self.key_line(key, index)
        if i is None:
            return self.header(index)
        line = self.lines[i]
        start = line.index("=") + 1
        while start < len(line) and line[start] in " \t":
            start += 1
        end = len(_strip_comment(line).rstrip())
        return self.span(i, start, max(end, start + 1))

    def element(self, key: str, index: int | None, element: str) -> Span:
        """A string inside an array value (which may run over several lines)."""
        i = self.key_line(key, index)
        start, end = self.block(index)
        first = start if i is None else i  # an inline table: anywhere on its line
        for j in range(first, min(end, len(self.lines))):
            line = self.lines[j]
            for quote in ('"', "'"):
                at = line.find(f"{quote}{element}{quote}", line.index("=") + 1 if j == i else 0)
                if at >= 0:
                    return self.span(j, at, at + len(element) + 2)
        return self.value(key, index)


def _strip_comment(line: str) -> str:
    """The line without a trailing `# comment` (a `#` inside a string is kept)."""
    quote: str | None = None
    for k, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:k]
    return line


# ---- checking -------------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _type_name(x: Any) -> str:
    """The kind of a TOML value, in the reader's language ("a string")."""
    kind = type(x)
    if kind is bool:
        return message("levers.type.boolean")
    if kind is int:
        return message("levers.type.integer")
    if kind is float:
        return message("levers.type.number")
    if kind is str:
        return message("levers.type.string")
    if kind is list:
        return message("levers.type.array")
    if kind is dict:
        return message("levers.type.table")
    return message("levers.type.other", name=kind.__name__)


class _Checker:
    def __init__(self, text: str, file: str, model: StandardModel) -> None:
        self.text = text
        self.where = _Text(text, file)
        self.file = file
        self.model = model
        self.diagnostics: list[Diagnostic] = []
        self.scored = [i.name for i in model.items if i.scored]
        self.tags = sorted({t for i in model.items for t in i.tags})
        self.sections = [s.name for s in model.sections]

    def add(self, code: str, text: str, span: Span, help: str | None = None, **kw: Any) -> None:
        self.diagnostics.append(Diagnostic(code, text, span, help=help, **kw))

    def run(self) -> Levers | None:
        try:
            doc = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as err:
            self._syntax(str(err))
            return None
        except (RecursionError, ValueError, MemoryError) as err:
            self._syntax(message("levers.unreadable_toml", error=type(err).__name__))
            return None
        for key in doc:
            if key not in TOP_KEYS:
                self._unknown_key(key, None, TOP_KEYS)
        currency = doc.get("currency", "RUB")
        if not isinstance(currency, str) or not currency.strip():
            self.add(
                "L0301",
                message("levers.currency", kind=_type_name(currency)),
                self.where.value("currency", None),
                help=message("levers.currency_help"),
            )
            currency = "RUB"
        raw = doc.get("lever")
        if raw is None:
            self.add(
                "L0105",
                message("levers.no_levers"),
                self.where.span(0, 0, max(1, len(self.where.lines[0]))),
                help=message("levers.no_levers_help"),
            )
            return None
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            self.add(
                "L0301",
                message("levers.not_array"),
                self.where.key("lever", None)
                if self.where.key_line("lever", None) is not None
                else self._first_header_or_top(),
                help=message("levers.not_array_help"),
            )
            return None
        if not raw:
            self.add("L0105", message("levers.no_levers"), self.where.key("lever", None))
            return None
        levers: list[Lever] = []
        seen: dict[str, int] = {}
        for index, table in enumerate(raw):
            lever = self._lever(table, index, seen)
            if lever is not None:
                levers.append(lever)
        return Levers(currency, tuple(levers), self.file)

    def _first_header_or_top(self) -> Span:
        for i, line in enumerate(self.where.lines):
            if _ANY_HEADER.match(line):
                return self.where.span(i, 0, len(line.rstrip()))
        return self.where.span(0, 0, 1)

    def _syntax(self, text: str) -> None:
        m = _TOML_POSITION.search(text)
        said = _TOML_POSITION.sub("", text).strip()
        if m:
            line, column = int(m.group(1)), int(m.group(2))
        else:  # "at end of document": after the last line that holds something
            lines = self.where.lines
            last = max((k for k, ln in enumerate(lines) if ln.strip()), default=0)
            line = last + 1
            column = len(lines[last]) + 1 if lines else 1
            said = message(
                "levers.at_end", message=said.replace("(at end of document)", "").strip()
            )
        help = message("levers.syntax_help")
        if "overwrite" in said:
            help = message("levers.syntax_twice_help")
        self.add(
            "L0001",
            message("levers.syntax", message=f"{said[:1].lower()}{said[1:]}"),
            Span(self.file, line, column, line, column + 1),
            help=help,
        )

    def _unknown_key(self, key: str, index: int | None, allowed: Iterable[str]) -> None:
        from ..diagnostics import did_you_mean

        near = did_you_mean(key, allowed)
        self.add(
            "L0101",
            message("levers.unknown_key_file", key=key)
            if index is None
            else message("levers.unknown_key_lever", key=key, number=index + 1),
            self.where.key(key, index),
            help=message("levers.did_you_mean", name=near)
            if near
            else message("levers.keys_are", keys=", ".join(allowed)),
        )

    def _lever(self, table: dict[str, Any], index: int, seen: dict[str, int]) -> Lever | None:
        ok = True
        w = self.where
        for key in table:
            if key not in LEVER_KEYS:
                self._unknown_key(key, index, LEVER_KEYS)
                ok = False
        ident = table.get("id")
        if ident is None:
            self.add(
                "L0103",
                message("levers.no_id", number=index + 1),
                w.header(index),
                help=message("levers.no_id_help"),
            )
            ok = False
        elif not isinstance(ident, str) or not ident.strip():
            self.add(
                "L0301",
                message("levers.bad_id", kind=_type_name(ident)),
                w.value("id", index),
                help=message("levers.bad_id_help"),
            )
            ok = False
        elif ident in seen:
            first = seen[ident]
            self.add(
                "L0102",
                message("levers.id_twice", id=ident),
                w.value("id", index),
                help=message("levers.id_twice_help"),
                notes=(
                    message(
                        "levers.id_twice_note", number=first + 1, line=w.value("id", first).line
                    ),
                ),
            )
            ok = False
        else:
            seen[ident] = index
        name = ident if isinstance(ident, str) else message("levers.lever_name", number=index + 1)
        title = table.get("title", name)
        if not isinstance(title, str):
            self._wrong_type("title", index, "a string", title)
            ok = False
        kind = table.get("kind", "other")
        if not isinstance(kind, str):
            self._wrong_type("kind", index, "a string", kind)
            ok = False
        elif kind not in KINDS:
            from ..diagnostics import did_you_mean

            near = did_you_mean(kind, KINDS)
            self.add(
                "L0503",
                message("levers.unknown_kind", kind=kind),
                w.value("kind", index),
                help=message("levers.kinds_near", name=near, kinds=", ".join(KINDS))
                if near
                else message("levers.kinds_are", kinds=", ".join(KINDS)),
            )
            ok = False
        items = self._selection(table, index)
        if items is None:
            ok = False
        effect = self._effect(table, index)
        if effect is None:
            ok = False
        costs: dict[str, float] = {}
        for key in COSTS:
            value = table.get(key, 0)
            if not _is_number(value):
                self._wrong_type(key, index, "a number", value)
                ok = False
            elif not math.isfinite(value) or value < 0:
                self.add(
                    "L0501",
                    message("levers.negative_cost", key=key, value=value),
                    w.value(key, index),
                    help=message("levers.negative_cost_help"),
                )
                ok = False
            else:
                costs[key] = float(value)
        divisible = table.get("divisible", False)
        if not isinstance(divisible, bool):
            self._wrong_type("divisible", index, "true or false", divisible)
            ok = False
        if not ok or items is None or effect is None:
            return None
        return Lever(
            id=str(ident),
            title=str(title),
            kind=str(kind),
            items=items,
            adds=effect[0],
            closes=effect[1],
            divisible=bool(divisible),
            **costs,
        )

    def _wrong_type(self, key: str, index: int, wanted: str, value: Any) -> None:
        if wanted == "a string":
            shown, help = message("levers.type.string"), message("levers.string_help", key=key)
        elif wanted == "a number":
            shown, help = message("levers.type.number"), message("levers.number_help", key=key)
        elif wanted == "true or false":
            shown, help = message("levers.type.true_false"), message("levers.bool_help", key=key)
        else:  # "an array of strings"
            shown, help = message("levers.type.strings"), None
        self.add(
            "L0301",
            message("levers.wrong_type", key=key, wanted=shown, kind=_type_name(value)),
            self.where.value(key, index),
            help=help,
        )

    def _effect(
        self, table: dict[str, Any], index: int
    ) -> tuple[float | None, float | None] | None:
        adds, closes = table.get("adds"), table.get("closes")
        w = self.where
        if adds is not None and closes is not None:
            self.add(
                "L0104",
                message("levers.both_effects"),
                w.key("closes", index),
                help=message("levers.both_effects_help"),
            )
            return None
        if adds is None and closes is None:
            self.add(
                "L0104",
                message("levers.no_effect", number=index + 1),
                w.header(index),
                help=message("levers.no_effect_help"),
            )
            return None
        key = "adds" if adds is not None else "closes"
        value: Any = adds if adds is not None else closes
        if not _is_number(value):
            self._wrong_type(key, index, "a number", value)
            return None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            self.add(
                "L0502",
                message("levers.not_a_share", key=key, value=value),
                w.value(key, index),
                help=message("levers.adds_help")
                if key == "adds"
                else message("levers.closes_help"),
            )
            return None
        return (float(value), None) if key == "adds" else (None, float(value))

    def _selection(self, table: dict[str, Any], index: int) -> tuple[str, ...] | None:
        w = self.where
        given = [k for k in ("items", "tags", "sections") if k in table]
        if not given:
            self.add(
                "L0103",
                message("levers.no_items", number=index + 1),
                w.header(index),
                help=message("levers.no_items_help"),
            )
            return None
        chosen: set[str] = set()
        ok = True
        for key in given:
            names = table[key]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                self._wrong_type(key, index, "an array of strings", names)
                ok = False
                continue
            for n in names:
                found = self._resolve(key, n, index)
                if found is None:
                    ok = False
                else:
                    chosen.update(found)
        if not ok:
            return None
        items = tuple(name for name in self.scored if name in chosen)
        if not items:
            self.add(
                "L0204",
                message("levers.no_scored", number=index + 1),
                w.key(given[0], index),
                help=message("levers.no_scored_help"),
            )
            return None
        return items

    def _resolve(self, key: str, name: str, index: int) -> list[str] | None:
        from ..diagnostics import did_you_mean

        m = self.model
        if key == "items":
            if name in self.scored:
                return [name]
            known = [i.name for i in m.items]
            if name in known:
                self.add(
                    "L0204",
                    message("levers.not_scored", name=name),
                    self.where.element(key, index, name),
                    help=message("levers.not_scored_help"),
                )
                return None
            code, what, candidates = "L0201", "item", known
        elif key == "tags":
            if name in self.tags:
                return [i.name for i in m.items if name in i.tags]
            code, what, candidates = "L0202", "tag", self.tags
        else:
            sec = next((s for s in m.sections if s.name == name), None)
            if sec is not None:
                return list(sec.items)
            code, what, candidates = "L0203", "section", self.sections
        near = did_you_mean(name, candidates)
        if what == "item":
            said = message("levers.unknown_item", name=name, standard=m.name)
            label = message("levers.unknown_item_label")
            see = message("levers.unknown_item_help", standard=m.name)
        elif what == "tag":
            said = message("levers.unknown_tag", name=name, standard=m.name)
            label = message("levers.unknown_tag_label")
            see = message("levers.unknown_tag_help", standard=m.name)
        else:
            said = message("levers.unknown_section", name=name, standard=m.name)
            label = message("levers.unknown_section_label")
            see = message("levers.unknown_section_help", standard=m.name)
        self.add(
            code,
            said,
            self.where.element(key, index, name),
            label=label,
            help=message("levers.did_you_mean", name=near) if near else see,
        )
        return None
