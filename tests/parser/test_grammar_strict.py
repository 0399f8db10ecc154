"""The grammar without conflicts, and the keywords the parser reserves taken from it.

lark's strict mode refuses a grammar with a shift/reduce conflict (which LALR
would otherwise settle silently by shifting) or two terminals whose patterns
collide; the scale entries with `alias` are written so that there is none.
"""

from __future__ import annotations

import pytest
from lark import Lark

from sbm_engine.diagnostics import CompileError
from sbm_engine.keywords import grammar_keywords
from sbm_engine.parser import (
    DECLARATION_KEYWORDS,
    KEYWORDS,
    SOFT_KEYWORDS,
    _parser,
    parse,
)
from sbm_engine.resources import grammar_text


def test_the_grammar_passes_lark_strict_mode() -> None:
    pytest.importorskip("interegular")  # strict mode checks terminal collisions with it
    Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        strict=True,
    )


def test_a_conflict_fails_strict_mode() -> None:
    """The check above can fail: a label list that may run into the next entry."""
    pytest.importorskip("interegular")
    from lark.exceptions import GrammarError

    loose = """
        start: (entry [","])*
        entry: NAME "=" NUMBER ["alias" NAME+]
        NAME: /[a-z]+/
        NUMBER: /[0-9]+/
        %ignore " "
    """
    with pytest.raises(GrammarError, match="Shift/Reduce"):
        Lark(loose, parser="lalr", strict=True)


def test_the_keywords_are_the_keyword_terminals_of_the_parser() -> None:
    words = {
        t.pattern.value
        for t in _parser().terminals
        if t.pattern.type == "str" and t.pattern.value.isidentifier()
    }
    assert words == KEYWORDS | SOFT_KEYWORDS
    assert not KEYWORDS & SOFT_KEYWORDS
    assert {"item", "alias", "when", "tagged", "in"} <= KEYWORDS
    assert "visit" not in KEYWORDS  # a soft keyword (see the grammar's opening comment)


@pytest.mark.parametrize("word", sorted(SOFT_KEYWORDS))
def test_soft_keywords_still_name_every_kind_of_declaration(word: str) -> None:
    """They stand only where no name can: a file that uses them as names keeps its meaning."""
    source = (
        f"standard t.t {{\n    scale {word} {{ yes = 1, no = 0 }}\n"
        f'    section {word}_s "S" {{ item {word}_i "I" answer {word} }}\n'
        f'    item {word}_n "N" answer number 0..1\n'
        f"    coefficient {word}_c = {word}_i + {word}_s\n}}\n"
    )
    (std,) = parse(source, "t.sbm").standards
    assert getattr(std.members[0], "name", None) == word


def test_keywords_leave_comments_and_patterns_out() -> None:
    grammar = '// "commented" out\nstart: "kept" NAME\nNAME: /"(\\\\.|[^"])*"/\n'
    assert grammar_keywords(grammar) == {"kept"}


def test_declaration_keywords_are_keywords() -> None:
    assert DECLARATION_KEYWORDS <= KEYWORDS


def _entries(scale: str) -> list[tuple[str, tuple[str, ...]]]:
    module = parse("standard t.t {\n    scale s " + scale + "\n}\n", "t.sbm")
    (member,) = module.standards[0].members
    return [(e.label.value, tuple(a.value for a in e.aliases)) for e in member.entries]


@pytest.mark.parametrize(
    ("scale", "entries"),
    [
        ('{ yes = 1 alias "да", no = 0 }', [("yes", ("да",)), ("no", ())]),
        ('{ yes = 1 alias "да" "ага", no = 0 alias н }', [("yes", ("да", "ага")), ("no", ("н",))]),
        ('{ yes = 1 alias "да" }', [("yes", ("да",))]),
        ('{ yes = 1 alias "да", }', [("yes", ("да",))]),
        ("{ yes = 1 no = 0 }", [("yes", ()), ("no", ())]),
        ("{ yes = 1 alias 1 2 3, no = 0 alias x, }", [("yes", ("1", "2", "3")), ("no", ("x",))]),
        ("{ alias = 1 }", [("alias", ())]),
    ],
)
def test_aliases_run_to_a_comma_or_the_closing_brace(
    scale: str, entries: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert _entries(scale) == entries


@pytest.mark.parametrize(
    ("scale", "where"),
    [
        ('{ yes = 1 alias "да" no = 0 }', "`=`"),  # `no` is one more alias: `=` is out of place
        ("{ yes = 1 alias }", "`}`"),
        ('{ yes = 1 alias "да",, no = 0 }', "`,`"),
    ],
)
def test_an_entry_after_aliases_needs_a_comma(scale: str, where: str) -> None:
    with pytest.raises(CompileError) as err:
        _entries(scale)
    (d,) = err.value.diagnostics
    assert d.code == "E0001"
    assert where in d.message
