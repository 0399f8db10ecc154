"""Grammar-driven fuzzing: programs drawn from the grammar itself (`hypothesis.extra.lark`).

The hand-written strategies (`strategies.py`) draw standards that mean something;
these draw whatever the grammar derives, with every construct in any order and at
any depth, random comments and whitespace between tokens, and names in Latin and
Cyrillic. What must hold for all of them:

* the parser either returns a module or raises `CompileError` with diagnostics;
* checking and compiling (`loads`) likewise never raises anything else;
* `fmt` keeps the meaning (the re-parsed module is equal, spans aside) and is
  idempotent.
"""

from __future__ import annotations

import re

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from lark import Lark

from sbm_engine import loads
from sbm_engine.diagnostics import CompileError
from sbm_engine.formatter import format_source
from sbm_engine.parser import parse
from sbm_engine.resources import grammar_text

GRAMMAR = Lark(grammar_text(), parser="lalr")
KEYWORDS = frozenset(
    t.pattern.value
    for t in GRAMMAR.terminals
    if t.pattern.type == "str" and re.fullmatch(r"\w+", t.pattern.value)
)


def _spaced(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Tokens are drawn back to back; a space after each keeps `standard` and a name
    # from running together into one name. Whitespace and comments (the grammar's
    # ignored terminals) are still drawn between tokens.
    return strategy.map(lambda text: text + " ")


def _terminals() -> dict[str, st.SearchStrategy[str]]:
    drawn = {
        t.name: _spaced(st.from_regex(t.pattern.to_regexp(), fullmatch=True))
        for t in GRAMMAR.terminals
        if t.name not in {"WS", "COMMENT", "NAME"}
    }
    # A comment runs to the end of its line: without the line break it would swallow
    # the tokens after it.
    drawn["COMMENT"] = st.from_regex(r"#[^\n]*", fullmatch=True).map(lambda text: text + "\n")
    # A name the grammar allows that is not one of its keywords (those are reserved
    # where they may stand), in the alphabets standards are written in.
    drawn["NAME"] = _spaced(
        st.from_regex(r"[a-zA-Zа-яА-ЯёЁ_][a-zA-Z0-9_а-яА-ЯёЁ]{0,8}", fullmatch=True).filter(
            lambda name: name not in KEYWORDS
        )
    )
    return drawn


FILES = from_lark(GRAMMAR, explicit=_terminals())
STANDARDS = from_lark(GRAMMAR, explicit=_terminals(), start="standard")
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.one_of(FILES, STANDARDS))
def test_parsing_a_derivation_ends_in_a_module_or_diagnostics(text: str) -> None:
    try:
        parse(text, "fuzz.sbm")
    except CompileError as err:
        assert err.diagnostics, "a CompileError carries its diagnostics"


@FUZZ
@given(STANDARDS)
def test_checking_a_derivation_ends_in_a_standard_or_diagnostics(text: str) -> None:
    try:
        loads(text, "fuzz.sbm")
    except CompileError as err:
        assert err.diagnostics


@FUZZ
@given(STANDARDS)
def test_fmt_keeps_the_meaning_of_a_derivation_and_is_idempotent(text: str) -> None:
    try:
        module = parse(text, "fuzz.sbm")
    except CompileError:
        return
    formatted = format_source(text, "fuzz.sbm")
    assert parse(formatted, "fuzz.sbm").standards == module.standards
    assert format_source(formatted, "fuzz.sbm") == formatted


def test_most_derivations_parse() -> None:
    """The fuzz is only as good as its share of programs the parser accepts: if the
    grammar and the drawn terminals drift apart, this fails before the tests above
    quietly test nothing but syntax errors."""
    parsed = []

    @settings(
        max_examples=200, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(STANDARDS)
    def draw(text: str) -> None:
        try:
            parse(text, "fuzz.sbm")
            parsed.append(True)
        except CompileError:
            parsed.append(False)

    draw()
    assert sum(parsed) >= 0.8 * len(parsed)
