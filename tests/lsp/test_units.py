"""The protocol-free parts of the server, without a server: positions in UTF-16, the
index of names, the view of a broken file, completion contexts, outline and formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.formatter import format_source
from sbm_engine.lsp.analysis import ParseCache, analyse
from sbm_engine.lsp.completion import complete
from sbm_engine.lsp.diagnostics import suggestion
from sbm_engine.lsp.positions import LineIndex
from sbm_engine.lsp.symbols import apply_edits, format_edits, outline
from sbm_engine.lsp.view import View
from sbm_engine.messages import set_language
from sbm_engine.nodes import Span
from tests.lsp.conftest import CONFORMANCE

TEXT = CONFORMANCE.read_text(encoding="utf-8")


# ---- positions -------------------------------------------------------------------------------


def test_utf16_columns_of_cyrillic_and_astral_characters() -> None:
    text = "ab\nя😀x\r\nz\rw"
    lines = LineIndex(text)
    assert lines.position(text.index("x")) == (1, 3)  # я: 1 unit, 😀: 2 units
    assert lines.offset(1, 3) == text.index("x")
    assert lines.position(text.index("z")) == (2, 0)  # `\r\n` ends one line
    assert lines.position(text.index("w")) == (3, 0)  # and `\r` alone ends one too
    assert lines.offset(1, 2) == text.index("😀") + 1 - 1  # inside the pair: before it
    assert lines.offset(1, 99) == text.index("\r")  # past the end: the end of the line
    assert lines.offset(99, 0) == len(text)
    assert LineIndex(text, "utf-8").position(text.index("x")) == (1, 6)
    assert LineIndex(text, "utf-32").position(text.index("x")) == (1, 2)


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80))
def test_every_offset_survives_a_round_trip(text: str) -> None:
    lines = LineIndex(text)
    for offset in range(len(text) + 1):
        if offset and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n":
            continue  # between `\r` and `\n`: no position names it
        assert lines.offset(*lines.position(offset)) == offset


def test_a_span_without_offsets_is_placed_by_its_line_and_column() -> None:
    lines = LineIndex("one\ntwo😀three\n")
    assert lines.span_offsets(Span("f", 2, 5, 2, 10)) == (8, 13)
    assert lines.span_range(Span("f", 2, 5, 2, 10)) == ((1, 5), (1, 10))


# ---- the index and the view ----------------------------------------------------------------


@pytest.fixture(scope="module")
def view() -> View:
    cache = ParseCache()
    analysis = analyse(CONFORMANCE, TEXT, 1, {}, cache)
    return View(analysis, analysis.display, TEXT, cache)


def test_names_under_the_cursor_and_what_they_are(view: View) -> None:
    def at(needle: str, nth: int = 0) -> tuple[str, str, str]:
        offset = -1
        for _ in range(nth + 1):
            offset = TEXT.index(needle, offset + 1)
        occ = view.at(offset + 1)
        assert occ is not None, needle
        return occ.name, view.kind_of(occ), occ.role

    assert at('greeted "') == ("greeted", "item", "declaration")
    assert at("yes_no weight") == ("yes_no", "scale", "reference")
    assert at("compliance\n") == ("compliance", "tag", "reference")
    assert at("compliance)") == ("compliance", "tag", "reference")  # `tagged compliance`
    assert at("compliance: 0.4") == ("compliance", "name", "reference")
    assert at("scenario ==") == ("scenario", "field", "reference")
    assert at("excellent\n") == ("excellent", "label", "reference")
    assert at("weighted_mean(sections)") == ("weighted_mean", "function", "reference")
    assert at("visit 0.85") == ("visit", "name", "reference")  # `target visit`
    assert at("secrecy = no") == ("secrecy", "item", "reference")  # an example's answer


def test_a_broken_text_still_finds_declarations_and_words(view: View) -> None:
    broken = TEXT.replace("weight 3 {", "weight 3 {{")
    cache = ParseCache()
    v = View(view.analysis, view.display, broken, cache, last_good=view.current)
    assert not v.parsed
    occ = v.at(broken.index("greeted = yes") + 2)
    assert occ is not None and occ.name == "greeted"
    [target] = v.definition(occ)
    assert (target.start, target.end) == (broken.index("greeted"), broken.index("greeted") + 7)


def test_completion_offers_labels_by_the_left_side(view: View) -> None:
    probe = TEXT.replace("expect visit == 1", "expect answer(questions) == ")
    v = View(view.analysis, view.display, probe, ParseCache(), last_good=view.current)
    offset = probe.index("answer(questions) == ") + len("answer(questions) == ")
    candidates, word = complete(v, offset)
    assert [c[0] for c in candidates] == ["1", "2", "3", "4", "5"] and word == ""


def test_did_you_mean_is_read_in_either_language() -> None:
    try:
        set_language("ru")
        assert suggestion("возможно, вы имели в виду `greeted`?") == "greeted"
        set_language("en")
        assert suggestion("did you mean `greeted`? They look alike") == "greeted"
        assert suggestion("declare it as an item") is None
    finally:
        set_language(None)


# ---- outline and formatting ------------------------------------------------------------------


def test_outline_nests_and_formatting_edits_reproduce_sbm_fmt(view: View) -> None:
    [std] = outline(view.current.module)
    assert [s.name for s in std.children if s.kind == "section"] == [
        "greeting",
        "needs",
        "premises",
    ]
    messy = TEXT.replace("    coefficient point", "coefficient   point")
    edits, refused = format_edits(messy, "x.sbm")
    assert refused is None and len(edits) == 1
    assert apply_edits(messy, edits) == format_source(messy)
    assert format_edits(format_source(messy), "x.sbm") == ([], None)
    assert format_edits("standard {", "x.sbm")[0] == []


def test_the_parse_of_an_unchanged_file_is_reused(tmp_path: Path) -> None:
    cache = ParseCache()
    path = tmp_path / "a.sbm"
    first = analyse(path, TEXT, 1, {}, cache)
    second = analyse(path, TEXT, 2, {}, cache)
    assert first.indexes[first.display] is second.indexes[second.display]


def test_the_parse_cache_keeps_one_text_per_file_however_long_the_typing() -> None:
    cache = ParseCache()
    other = "standard acme.other {\n    scale yes_no { yes = 1, no = 0 }\n}\n"
    cache.get("other.sbm", other)
    # a keystroke each: a new text of the same file every time
    for i in range(100):
        cache.get("a.sbm", TEXT.replace("# Retail", f"# {i} Retail", 1))
    assert len(cache) == 2
    assert cache.characters() == len(other) + len(TEXT.replace("# Retail", "# 99 Retail", 1))
    assert cache.peek("a.sbm", TEXT.replace("# Retail", "# 98 Retail", 1)) is None
    assert cache.peek("a.sbm", TEXT.replace("# Retail", "# 99 Retail", 1)) is not None
    assert cache.peek("other.sbm", other) is not None


SHIPPED = sorted(
    [
        *(CONFORMANCE.parent.parent.parent / "standards_library").rglob("*.sbm"),
        *(CONFORMANCE.parent.parent.parent / "plugins").glob("*/src/*/standards/*.sbm"),
    ]
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_name_of_a_shipped_standard_is_indexed_and_answered(path: Path) -> None:
    """Each occurrence sits on its name; each reference to a declared name leads to a
    declaration of that name; hover answers on every one of them."""
    from sbm_engine.lsp.hover import hover_text

    text = path.read_text(encoding="utf-8")
    cache = ParseCache()
    analysis = analyse(path, text, 1, {}, cache)
    assert analysis.flat is not None, path  # (the template's pack function may be unknown)
    v = View(analysis, analysis.display, text, cache)
    assert v.current.occurrences
    declared = v.declared()
    for occ in v.current.occurrences:
        if occ.kind != "import":
            assert text[occ.start : occ.end] == occ.name
        assert v.at(occ.start) is not None
        hover_text(v, occ)
        if occ.role == "reference" and occ.kind != "import" and occ.name in declared:
            targets = v.definition(occ)
            assert targets and all(t.name == occ.name for t in targets), occ


def test_a_keyword_in_a_broken_text_names_nothing(view: View) -> None:
    broken = TEXT + "\n}\n"
    v = View(view.analysis, view.display, broken, ParseCache(), last_good=view.current)
    assert not v.parsed
    assert v.at(broken.index("section greeting") + 2) is None
    occ = v.at(broken.index("section greeting") + len("section g"))
    assert occ is not None and occ.name == "greeting" and v.kind_of(occ) == "section"


@pytest.mark.parametrize(
    "typed",
    ['    item q "Вопрос, answer ', "    coefficient c = 1  # a note on ", '    item q "a \\" b '],
)
def test_nothing_is_offered_inside_a_string_or_a_comment(view: View, typed: str) -> None:
    text = TEXT.replace("    target visit 0.85\n", typed + "\n    target visit 0.85\n")
    v = View(view.analysis, view.display, text, ParseCache(), last_good=view.current)
    assert complete(v, text.index(typed) + len(typed)) == ([], "")


SOFT = """\
standard demo.soft {
    const LIMIT = 13
    scale level penalty { none = 0, I = 7 }
    item fire "Пожар" answer level
    coefficient total = points(fire) + LIMIT
"""


def test_a_broken_text_finds_constants_and_reads_soft_keywords_in_their_place() -> None:
    """The text does not parse (no closing brace): `const NAME =` still declares a
    constant, and `penalty` after `scale NAME` is a keyword, which names nothing."""
    from sbm_engine.lsp.hover import hover_text

    cache = ParseCache()
    v = View(None, "soft.sbm", SOFT, cache)
    assert not v.parsed
    decl = v.at(SOFT.index("LIMIT") + 1)
    assert decl is not None and (decl.kind, decl.role) == ("constant", "declaration")
    use = v.at(SOFT.rindex("LIMIT") + 1)
    assert use is not None and v.kind_of(use) == "name"
    [target] = v.definition(use)
    assert target.start == SOFT.index("LIMIT")
    assert v.at(SOFT.index("penalty") + 1) is None
    call = v.at(SOFT.index("points") + 1)
    assert call is not None and call.kind == "function"
    assert hover_text(v, call) is not None  # `points` has its signature and a line on it


def test_outline_and_index_of_constants_and_conditional_bands() -> None:
    text = SOFT + "    bands total { A <= 13 when points(fire) <= LIMIT, B }\n}\n"
    cache = ParseCache()
    index = cache.get("soft.sbm", text)[1]
    constants = [o for o in index.occurrences if o.name == "LIMIT"]
    assert [(o.kind, o.role) for o in constants] == [
        ("constant", "declaration"),
        ("name", "reference"),
        ("name", "reference"),  # in the band's condition
    ]
    [std] = outline(index.module)
    assert [(s.name, s.kind, s.detail) for s in std.children][:2] == [
        ("LIMIT", "constant", "13"),
        ("level", "scale", None),
    ]


def test_a_computed_items_value_is_indexed() -> None:
    """Rename and references reach the names a computed item's `value =` reads."""
    text = (
        "standard t.t {\n"
        '    item arrived "A" answer number\n'
        '    item queue "Q" answer number 0..60 value = answer(arrived) * 2\n'
        "}\n"
    )
    index = ParseCache().get("c.sbm", text)[1]
    found = [(o.role, text[o.start : o.end]) for o in index.occurrences if o.name == "arrived"]
    assert found == [("declaration", "arrived"), ("reference", "arrived")]


def test_constants_in_targets_and_thresholds_are_references() -> None:
    text = (
        "standard t.t {\n    const K = 1\n"
        '    item a "A" answer number 0..1\n    coefficient c = a\n'
        "    target c K\n    bands c { top >= K, rest }\n}\n"
    )
    index = ParseCache().get("k.sbm", text)[1]
    assert [o.role for o in index.occurrences if o.name == "K"] == [
        "declaration",
        "reference",
        "reference",
    ]
