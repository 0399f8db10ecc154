"""The Russian language reference (docs/language.ru.md) keeps in step with the English one.

docs/language.md is normative; docs/language.ru.md is its translation for
methodologists. Prose cannot be compared mechanically, but everything that is not
prose can, and an edit that adds a section, a diagnostic code, an example or a
function to one file only breaks one of these tests:

- the same headings, level by level and in the same order, with the same codes and
  backquoted words in each (`### E0201`, `### `target` и `bands``);
- the same diagnostic codes (E0xxx, W0xxx) mentioned;
- the same fenced blocks, byte for byte, in the same order and under the same
  heading;
- the same backquoted words of the language (keywords, functions, reserved names)
  and the same backquoted single names (items, outcome codes, JSON keys);
- the same tables, row by row, with the same backquoted first cells.

Both files are compared from their first `# ` heading on, so a line above it (a
link to the other language, say) is free to differ.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EN = DOCS / "language.md"
RU = DOCS / "language.ru.md"

OPEN_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t\r]*$")
CODE = re.compile(r"(?<![A-Za-z0-9_])[EW]\d{4}(?![0-9])")
# A code span: a run of backquotes, then anything up to a run of the same length.
SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
NAME = re.compile(r"[^\W\d][\w.]*")  # `greeted`, `visit.scenario`, `na_not_allowed`
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(")


@dataclass
class Block:
    heading: int  # index of the heading the block stands under
    text: str  # the fences and everything between, exactly as in the file


@dataclass
class Doc:
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, text)
    blocks: list[Block] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # lines outside fenced blocks


def parse(path: Path) -> Doc:
    """Split a page into headings, fenced blocks and prose, from its first `# ` heading."""
    # Bytes decoded without newline translation, so blocks compare byte for byte.
    lines = path.read_bytes().decode("utf-8").split("\n")
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^# \S", line)),
        None,
    )
    assert start is not None, f"{path.name} has no `# ` heading"
    doc = Doc()
    fence: tuple[str, int] | None = None  # (fence character, length) while in a block
    body: list[str] = []
    for line in lines[start:]:
        if fence is not None:
            body.append(line)
            char, length = fence
            close = re.match(r"^ {0,3}(`{3,}|~{3,})[ \t\r]*$", line)
            if close and close.group(1)[0] == char and len(close.group(1)) >= length:
                doc.blocks.append(Block(len(doc.headings) - 1, "\n".join(body)))
                fence = None
            continue
        opening = OPEN_FENCE.match(line)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence, body = (opening.group(1)[0], len(opening.group(1))), [line]
            continue
        doc.prose.append(line)
        heading = HEADING.match(line)
        if heading:
            doc.headings.append((len(heading.group(1)), heading.group(2) or ""))
    assert fence is None, f"{path.name}: a fenced block is never closed"
    return doc


def spans(text: str) -> list[str]:
    """The contents of the code spans of some Markdown text, line breaks read as spaces."""
    found = []
    for m in SPAN.finditer(text):
        content = re.sub(r"[ \t]*\n[ \t]*", " ", m.group(2))
        if len(content) > 2 and content.startswith(" ") and content.endswith(" "):
            content = content[1:-1]  # `` `card` … `` : one space inside each end is padding
        found.append(content)
    return found


def paragraphs(doc: Doc) -> list[str]:
    """Prose split at blank lines, so that a stray backquote cannot pair across them."""
    return [p for p in re.split(r"\n[ \t]*\n", "\n".join(doc.prose)) if p.strip()]


def prose_spans(doc: Doc) -> list[str]:
    return [s for p in paragraphs(doc) for s in spans(p)]


def tables(doc: Doc) -> list[list[list[str]]]:
    """Every table: its rows, each a list of cells."""
    found: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in doc.prose:
        if line.lstrip().startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
            row = [c.strip() for c in cells]
            if current is None:
                current = []
                found.append(current)
            current.append(row)
        else:
            current = None
    return found


def vocabulary(*docs: Doc) -> set[str]:
    """The words of the language: the keywords the pages list (their ```text block of
    lowercase words), the names with a meaning of their own, `visit`, and every name
    called as a function in a code span of either page (`weighted_mean(…)`, `avg(X)`)."""
    words = {"value", "critical_failed", "visits", "na", "visit"}
    for doc in docs:
        for block in doc.blocks:
            lines = block.text.split("\n")
            body = " ".join(lines[1:-1]).split()
            if lines[0].strip() == "```text" and body and all(WORD.fullmatch(w) for w in body):
                words |= set(body)
        for span in prose_spans(doc):
            words |= set(CALL.findall(span))
    return words


def language_words(doc: Doc, words: set[str]) -> set[str]:
    return {w for span in prose_spans(doc) for w in WORD.findall(span) if w in words}


def differ(english: set[str], russian: set[str]) -> str:
    only_en, only_ru = sorted(english - russian), sorted(russian - english)
    return f"only in English: {only_en}; only in Russian: {only_ru}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@pytest.fixture(scope="module")
def en() -> Doc:
    return parse(EN)


@pytest.fixture(scope="module")
def ru() -> Doc:
    return parse(RU)


def test_the_translation_links_back_to_the_normative_english() -> None:
    top = RU.read_text(encoding="utf-8").split("\n# ", 1)[0]
    assert "](language.md)" in top, "the first line should link to the English language.md"


def test_same_number_of_headings_at_each_level(en: Doc, ru: Doc) -> None:
    assert Counter(level for level, _ in ru.headings) == Counter(level for level, _ in en.headings)


def test_same_headings_in_the_same_order(en: Doc, ru: Doc) -> None:
    """Level by level, and a heading's codes and backquoted words are the English ones."""

    def outline(doc: Doc) -> list[tuple[int, list[str], list[str]]]:
        return [(level, CODE.findall(text), spans(text)) for level, text in doc.headings]

    for number, (e, r) in enumerate(zip(outline(en), outline(ru), strict=False)):
        assert r == e, (
            f"heading {number + 1}: English {en.headings[number]}, Russian {ru.headings[number]}"
        )
    assert len(ru.headings) == len(en.headings)


def test_same_diagnostic_codes(en: Doc, ru: Doc) -> None:
    def codes(doc: Doc) -> set[str]:
        text = "\n".join(doc.prose) + "\n".join(b.text for b in doc.blocks)
        return set(CODE.findall(text))

    english, russian = codes(en), codes(ru)
    assert russian == english, differ(english, russian)
    assert english, "no diagnostic codes found: is the parser still reading the page?"


def test_every_diagnostic_has_its_own_heading(en: Doc, ru: Doc) -> None:
    def documented(doc: Doc) -> list[str]:
        return [text for level, text in doc.headings if level == 3 and CODE.fullmatch(text)]

    assert documented(ru) == documented(en)


def test_same_fenced_blocks_byte_for_byte(en: Doc, ru: Doc) -> None:
    assert len(ru.blocks) == len(en.blocks), "a fenced block was added to or removed from one page"
    for number, (e, r) in enumerate(zip(en.blocks, ru.blocks, strict=True)):
        assert r.text == e.text, (
            f"fenced block {number + 1} differs (English heading {en.headings[e.heading]})"
        )
        assert r.heading == e.heading, f"fenced block {number + 1} stands under another heading"


def test_same_words_of_the_language(en: Doc, ru: Doc) -> None:
    words = vocabulary(en, ru)
    english, russian = language_words(en, words), language_words(ru, words)
    assert russian == english, differ(english, russian)
    # The check reads what it should: keywords and functions of the language.
    assert {"weighted_mean", "when", "bands", "critical_failed", "share", "tagged"} <= english


def test_same_backquoted_names(en: Doc, ru: Doc) -> None:
    """Single names in backquotes: items, outcome codes, JSON keys, options."""

    def names(doc: Doc) -> set[str]:
        return {s for s in prose_spans(doc) if NAME.fullmatch(s)}

    english, russian = names(en), names(ru)
    assert russian == english, differ(english, russian)


def test_same_tables(en: Doc, ru: Doc) -> None:
    english, russian = tables(en), tables(ru)
    assert len(russian) == len(english), "a table was added to or removed from one page"
    for number, (e, r) in enumerate(zip(english, russian, strict=True)):
        assert len(r) == len(e), (
            f"table {number + 1}: {len(e)} rows in English, {len(r)} in Russian"
        )
        for row, (e_row, r_row) in enumerate(zip(e, r, strict=True)):
            assert len(r_row) == len(e_row), f"table {number + 1}, row {row + 1}: columns differ"
            assert spans(r_row[0]) == spans(e_row[0]), (
                f"table {number + 1}, row {row + 1}: first cell {r_row[0]!r} for {e_row[0]!r}"
            )


def test_links_inside_the_translation_reach_its_headings(ru: Doc) -> None:
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    for _, text in ru.headings:
        base = slug(text)
        anchors.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    targets = set(re.findall(r"\]\(#([^)]+)\)", "\n".join(ru.prose)))
    assert targets, "no links inside the page were found"
    assert not targets - anchors, f"links to no heading: {sorted(targets - anchors)}"
