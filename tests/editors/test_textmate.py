"""The VS Code grammar (`editors/vscode/syntaxes/sbm.tmLanguage.json`) tokenized by
vscode-textmate with vscode-oniguruma, the engine VS Code runs it with.

On every shipped `.sbm`, every character outside whitespace gets a token class of the
grammar (none is left with the bare `source.sbm`, none is marked invalid), and every
token class the grammar defines is used somewhere, except the two no shipped file has a
reason to contain: escapes in strings and invalid characters, both pinned on samples
(and a constant's name, until a shipped standard declares one). The soft keywords are
keywords only where the parser reads them so, and names everywhere else.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sbm_engine.diagnostics import CompileError
from sbm_engine.parser import DECLARATION_KEYWORDS, KEYWORDS, SOFT_KEYWORDS, parse

pytestmark = pytest.mark.editors

GRAMMAR = (
    Path(__file__).resolve().parents[2] / "editors" / "vscode" / "syntaxes" / "sbm.tmLanguage.json"
)
#: (line, start, end, text, scopes) with 0-based lines and UTF-16 columns (conftest.tokenize)
Token = tuple[int, int, int, str, tuple[str, ...]]
Tokenize = Callable[..., dict[Path, list[Token]]]

BASE = "source.sbm"
ESCAPE = "constant.character.escape.sbm"
INVALID_SCOPE = "invalid.illegal.character.sbm"
CONSTANT = "entity.name.constant.sbm"
#: Token classes no shipped standard shows yet, though one may: the sample pins them.
NOT_SHIPPED_YET = {CONSTANT}


def _defined_scopes(rule: Any) -> set[str]:
    """Every scope name a grammar rule (and the rules inside it) can give."""
    found: set[str] = set()
    if isinstance(rule, dict):
        for key, value in rule.items():
            if key in ("name", "contentName") and isinstance(value, str):
                found.add(value)
            else:
                found |= _defined_scopes(value)
    elif isinstance(rule, list):
        for value in rule:
            found |= _defined_scopes(value)
    return found


def _grammar() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    return loaded


def _grammar_scopes() -> set[str]:
    """The token classes of the grammar (its top-level `name` is the language's title)."""
    grammar = _grammar()
    return _defined_scopes([grammar["patterns"], grammar["repository"]])


@pytest.fixture(scope="session")
def shipped_tokens(tokenize: Tokenize, standards: list[Path]) -> dict[Path, list[Token]]:
    return tokenize(*standards)


@pytest.fixture(scope="module")
def sample_tokens(
    tokenize: Tokenize, sample: str, tmp_path_factory: pytest.TempPathFactory
) -> list[Token]:
    path = tmp_path_factory.mktemp("textmate") / "sample.sbm"
    path.write_text(sample, encoding="utf-8")
    return tokenize(path)[path]


def test_every_shipped_character_has_a_token_class(
    shipped_tokens: dict[Path, list[Token]],
) -> None:
    unmatched: list[str] = []
    for file, tokens in shipped_tokens.items():
        assert tokens, f"{file}: no tokens"
        for line, start, _end, text, scopes in tokens:
            assert scopes[0] == BASE
            if text.strip() and (len(scopes) == 1 or INVALID_SCOPE in scopes):
                unmatched.append(f"{file}:{line + 1}:{start + 1}: {text!r} {scopes}")
    assert not unmatched, "\n".join(unmatched[:20])


def test_every_token_class_appears_in_the_shipped_files(
    shipped_tokens: dict[Path, list[Token]],
) -> None:
    defined = _grammar_scopes()
    used = Counter(scope for tokens in shipped_tokens.values() for t in tokens for scope in t[4])
    missing = defined - set(used) - {ESCAPE, INVALID_SCOPE} - NOT_SHIPPED_YET
    assert not missing, f"scopes the grammar defines but no shipped file shows: {sorted(missing)}"
    # the exemptions name real scopes of the grammar
    assert {ESCAPE, INVALID_SCOPE} | NOT_SHIPPED_YET <= defined
    assert len(defined) >= 30


def _doc_blocks() -> list[tuple[str, int, str]]:
    """Every ```` ```sbm ```` block of the documentation: (file, line, text)."""
    root = GRAMMAR.parents[3]
    blocks = []
    for doc in sorted([root / "README.md", *(root / "docs").rglob("*.md")]):
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```sbm\n(.*?)^```", text, re.S | re.M):
            blocks.append((doc.name, text[: match.start()].count("\n") + 2, match.group(1)))
    return blocks


def test_the_documentations_examples(tokenize: Tokenize, tmp_path: Path) -> None:
    """A block that parses is all token classes, none invalid; where the parser reports
    an unexpected character (E0002, other than an unclosed string), the grammar marks
    that character invalid."""
    blocks = _doc_blocks()
    assert len(blocks) >= 50
    files: dict[Path, tuple[str, int, tuple[int, int] | None]] = {}
    for number, (doc, line, text) in enumerate(blocks):
        unexpected = None
        try:
            parse(text, doc)
        except CompileError as error:
            found = [d.span for d in error.diagnostics if d.code == "E0002"]
            if not found:
                continue  # another mistake, shown on purpose: nothing to compare
            at = text.split("\n")[found[0].line - 1][found[0].column - 1 :]
            if at.startswith('"'):
                continue  # an unclosed string: the grammar ends it with its line
            unexpected = (found[0].line - 1, found[0].column - 1)
        path = tmp_path / f"block{number}.sbm"
        path.write_text(text, encoding="utf-8")
        files[path] = (doc, line, unexpected)
    tokenized = tokenize(*files)
    invalid_checked = 0
    for path, tokens in tokenized.items():
        doc, line, unexpected = files[path]
        invalid = [(t[0], t[1]) for t in tokens if INVALID_SCOPE in t[4]]
        bare = [t for t in tokens if t[3].strip() and len(t[4]) == 1]
        assert not bare, (doc, line, bare)
        if unexpected is None:
            assert not invalid, (doc, line, invalid)
        else:
            assert unexpected in invalid, (doc, line, unexpected, invalid)
            invalid_checked += 1
    assert invalid_checked >= 1


def test_the_sample_is_valid_sbm(sample: str) -> None:
    module = parse(sample, "sample.sbm")
    assert module.standards


def _find(tokens: list[Token], line: int, text: str, nth: int = 0) -> tuple[str, ...]:
    """The scopes (without the base one) of the `nth` token `text` on 1-based `line`."""
    matches = [t for t in tokens if t[0] == line - 1 and t[3] == text]
    assert len(matches) > nth, f"no token {text!r} (#{nth}) on line {line}: " + repr(
        [t[3] for t in tokens if t[0] == line - 1]
    )
    return matches[nth][4][1:]


STRING = "string.quoted.double.sbm"

#: (line, token text, occurrence on the line, scopes below `source.sbm`)
EXPECTED: list[tuple[int, str, int, tuple[str, ...]]] = [
    (1, "import", 0, ("keyword.control.import.sbm",)),
    (1, '"', 0, (STRING, "punctuation.definition.string.begin.sbm")),
    (1, "common/scales.sbm", 0, (STRING,)),
    (1, '"', 1, (STRING, "punctuation.definition.string.end.sbm")),
    (2, "#", 0, ("comment.line.number-sign.sbm", "punctuation.definition.comment.sbm")),
    (2, " Комментарий: a note", 0, ("comment.line.number-sign.sbm",)),
    (3, "standard", 0, ("storage.type.sbm",)),
    (3, "demo", 0, ("entity.name.namespace.sbm",)),
    (3, ".", 0, ("punctuation.accessor.dot.sbm",)),
    (3, "sample", 0, ("entity.name.namespace.sbm",)),
    (3, "Проба ", 0, (STRING,)),
    (3, '\\"', 0, (STRING, "constant.character.escape.sbm")),
    (3, "кавычки", 0, (STRING,)),
    (3, '\\"', 1, (STRING, "constant.character.escape.sbm")),
    (3, "\\\\", 0, (STRING, "constant.character.escape.sbm")),
    (3, "extends", 0, ("keyword.other.sbm",)),
    (3, "library", 0, ("entity.other.inherited-class.sbm",)),
    (3, "base", 0, ("entity.other.inherited-class.sbm",)),
    (3, "version", 0, ("storage.type.sbm",)),
    (3, "{", 0, ("punctuation.section.braces.begin.sbm",)),
    (4, "industry", 0, ("storage.type.sbm",)),
    (5, "scale", 0, ("storage.type.sbm",)),
    (5, "да_нет", 0, ("entity.name.type.scale.sbm",)),
    (5, "да", 0, ("variable.other.sbm",)),
    (5, "=", 0, ("keyword.operator.assignment.sbm",)),
    (5, "1", 0, ("constant.numeric.decimal.sbm",)),
    (5, "alias", 0, ("keyword.other.sbm",)),
    (5, ",", 0, ("punctuation.separator.comma.sbm",)),
    (5, "}", 0, ("punctuation.section.braces.end.sbm",)),
    (6, "section", 0, ("storage.type.sbm",)),
    (6, "приветствие", 0, ("entity.name.section.sbm",)),
    (6, "weight", 0, ("keyword.other.sbm",)),
    (6, "when", 0, ("keyword.other.sbm",)),
    (6, "visit", 0, ("variable.language.visit.sbm",)),
    (6, ".", 0, ("punctuation.accessor.dot.sbm",)),
    (6, "scenario", 0, ("variable.other.property.sbm",)),
    (6, "==", 0, ("keyword.operator.comparison.sbm",)),
    (7, "item", 0, ("storage.type.sbm",)),
    (7, "улыбка", 0, ("entity.name.variable.item.sbm",)),
    (7, "answer", 0, ("keyword.other.sbm",)),
    (7, "да_нет", 0, ("variable.other.sbm",)),
    (7, "tags", 0, ("keyword.other.sbm",)),
    (7, "вежливость", 0, ("variable.other.sbm",)),
    (7, "critical", 0, ("keyword.other.sbm",)),
    (8, "number", 0, ("support.type.sbm",)),
    (8, "0", 0, ("constant.numeric.decimal.sbm",)),
    (8, "..", 0, ("keyword.operator.range.sbm",)),
    (8, "240", 0, ("constant.numeric.decimal.sbm",)),
    (8, "optional", 0, ("keyword.other.sbm",)),
    (8, "score", 0, ("keyword.other.sbm",)),
    (8, "if", 0, ("keyword.control.conditional.sbm",)),
    (8, "value", 0, ("keyword.other.sbm",)),
    (8, "<=", 0, ("keyword.operator.comparison.sbm",)),
    (8, "then", 0, ("keyword.control.conditional.sbm",)),
    (8, "else", 0, ("keyword.control.conditional.sbm",)),
    (10, "text", 0, ("support.type.sbm",)),
    (11, "field", 0, ("storage.type.sbm",)),
    (11, "scenario", 0, ("entity.name.variable.field.sbm",)),
    (11, "one", 0, ("keyword.other.sbm",)),
    (11, "of", 0, ("keyword.other.sbm",)),
    (12, "coefficient", 0, ("storage.type.sbm",)),
    (12, "c1", 0, ("entity.name.function.coefficient.sbm",)),
    (12, "weighted_mean", 0, ("support.function.sbm",)),
    (12, "(", 0, ("punctuation.section.parens.begin.sbm",)),
    (12, ":", 0, ("punctuation.separator.colon.sbm",)),
    (12, "0.5", 0, ("constant.numeric.decimal.sbm",)),
    (12, ")", 0, ("punctuation.section.parens.end.sbm",)),
    (12, "*", 0, ("keyword.operator.arithmetic.sbm",)),
    (12, "-", 0, ("keyword.operator.arithmetic.sbm",)),
    (12, "/", 0, ("keyword.operator.arithmetic.sbm",)),
    (12, "+", 0, ("keyword.operator.arithmetic.sbm",)),
    (13, "not", 0, ("keyword.operator.logical.sbm",)),
    (13, "answer", 0, ("support.function.sbm",)),
    (13, "!=", 0, ("keyword.operator.comparison.sbm",)),
    (13, "and", 0, ("keyword.operator.logical.sbm",)),
    (13, ">", 0, ("keyword.operator.comparison.sbm",)),
    (13, "or", 0, ("keyword.operator.logical.sbm",)),
    (13, "<", 0, ("keyword.operator.comparison.sbm",)),
    (14, "tagged", 0, ("keyword.other.selector.sbm",)),
    (14, "items", 0, ("keyword.other.selector.sbm",)),
    (14, "sections", 0, ("keyword.other.selector.sbm",)),
    (15, "rollup", 0, ("storage.type.sbm",)),
    (15, "share_ok", 0, ("entity.name.function.rollup.sbm",)),
    (15, "share", 0, ("support.function.sbm",)),
    (15, ">=", 0, ("keyword.operator.comparison.sbm",)),
    (16, "target", 0, ("storage.type.sbm",)),
    (16, "c1", 0, ("variable.other.sbm",)),
    (17, "bands", 0, ("storage.type.sbm",)),
    (17, "c1", 0, ("variable.other.sbm",)),
    (17, "good", 0, ("variable.other.sbm",)),
    (18, "example", 0, ("storage.type.sbm",)),
    (19, "visit", 0, ("variable.language.visit.sbm",)),
    (20, "answers", 0, ("variable.other.sbm",)),
    (20, "-", 0, ("keyword.operator.arithmetic.sbm",)),
    (21, "expect", 0, ("storage.type.sbm",)),
    # the soft keywords: keywords in their place, names elsewhere
    (23, "const", 0, ("storage.type.sbm",)),
    (23, "limit", 0, (CONSTANT,)),
    (23, "=", 0, ("keyword.operator.assignment.sbm",)),
    (23, "13", 0, ("constant.numeric.decimal.sbm",)),
    (24, "scale", 0, ("storage.type.sbm",)),
    (24, "points", 0, ("entity.name.type.scale.sbm",)),
    (24, "points", 1, ("keyword.other.sbm",)),
    (25, "demerits", 0, ("entity.name.type.scale.sbm",)),
    (25, "penalty", 0, ("keyword.other.sbm",)),
    (26, "demerits", 0, ("variable.other.sbm",)),
    (26, "penalty", 0, ("variable.other.sbm",)),
    (27, "penalty", 0, ("entity.name.function.coefficient.sbm",)),
    (27, "points", 0, ("support.function.sbm",)),
    (27, "max_points", 0, ("support.function.sbm",)),
    (27, "limit", 0, ("variable.other.sbm",)),
    (27, "points", 1, ("variable.other.sbm",)),
    (28, "bands", 0, ("storage.type.sbm",)),
    (28, "penalty", 0, ("variable.other.sbm",)),
    (28, "A", 0, ("variable.other.sbm",)),
    (28, "<=", 0, ("keyword.operator.comparison.sbm",)),
    (28, "13", 0, ("constant.numeric.decimal.sbm",)),
    (28, "when", 0, ("keyword.other.sbm",)),
    (28, "points", 0, ("support.function.sbm",)),
    (28, "<=", 1, ("keyword.operator.comparison.sbm",)),
    (28, "limit", 0, ("variable.other.sbm",)),
    (28, "when", 1, ("keyword.other.sbm",)),
    (28, ">=", 0, ("keyword.operator.comparison.sbm",)),
    (28, "D", 0, ("variable.other.sbm",)),
]


@pytest.mark.parametrize(("line", "text", "nth", "scopes"), EXPECTED)
def test_sample_scopes(
    sample_tokens: list[Token], line: int, text: str, nth: int, scopes: tuple[str, ...]
) -> None:
    assert _find(sample_tokens, line, text, nth) == scopes


def test_the_sample_leaves_nothing_unmatched(sample_tokens: list[Token]) -> None:
    bare = [t for t in sample_tokens if t[3].strip() and len(t[4]) == 1]
    assert not bare
    # and every token class of the grammar but the invalid one shows in it
    used = {scope for t in sample_tokens for scope in t[4]}
    assert _grammar_scopes() - used == {INVALID_SCOPE}


def test_a_character_outside_the_language_is_invalid(
    tokenize: Tokenize, invalid_sample: str, tmp_path: Path
) -> None:
    path = tmp_path / "invalid.sbm"
    path.write_text(invalid_sample, encoding="utf-8")
    tokens = tokenize(path)[path]
    invalid = [t[3] for t in tokens if INVALID_SCOPE in t[4]]
    assert invalid == ["«", "»", "'", "'", ";"]
    # the word between typographic quotes is still a name, not a string
    assert _find(tokens, 1, "Улыбка") == ("variable.other.sbm",)


def test_an_unclosed_string_ends_with_its_line(tokenize: Tokenize, tmp_path: Path) -> None:
    path = tmp_path / "unclosed.sbm"
    path.write_text('item a "Улыбка answer yes_no\nitem b "Б" answer yes_no\n', encoding="utf-8")
    tokens = tokenize(path)[path]
    assert _find(tokens, 1, "Улыбка answer yes_no") == (STRING,)
    assert _find(tokens, 2, "item") == ("storage.type.sbm",)
    assert _find(tokens, 2, "b") == ("entity.name.variable.item.sbm",)


def _keyword_groups() -> dict[str, set[str]]:
    """The words of each keyword rule of the grammar, by scope."""
    groups: dict[str, set[str]] = {}
    for rule in _grammar()["repository"]["keyword"]["patterns"]:
        alternation = rule["match"].split("(?:", 1)[1].split(")", 1)[0]
        groups[rule["name"]] = set(alternation.split("|"))
    return groups


def test_the_grammar_reserves_the_parsers_keywords() -> None:
    groups = _keyword_groups()
    everything = [word for words in groups.values() for word in words]
    assert sorted(everything) == sorted(KEYWORDS), "a keyword is missing or in two groups"
    # declarations are the parser's declaration keywords (import has its own scope)
    assert groups["storage.type.sbm"] == DECLARATION_KEYWORDS - {"import"}
    assert groups["keyword.control.import.sbm"] == {"import"}


def _soft_keyword_rules() -> dict[str, set[str]]:
    """The soft keywords the declaration rules highlight, by the scope they give them:
    the words of a capture group that is a literal word or an alternation of words."""
    found: dict[str, set[str]] = {}
    for rule in _grammar()["repository"]["declaration"]["patterns"]:
        pattern, number = rule["match"], 0
        for at, char in enumerate(pattern):
            escaped = (len(pattern[:at]) - len(pattern[:at].rstrip("\\"))) % 2 == 1
            if char != "(" or escaped or pattern.startswith("(?", at):
                continue
            number += 1  # a capturing group: is it a word, or a choice of words?
            literal = re.match(r"\(([a-z]+(?:\|[a-z]+)*)\)", pattern[at:])
            if literal:
                scope = rule["captures"][str(number)]["name"]
                for word in literal.group(1).split("|"):
                    found.setdefault(word, set()).add(scope)
    return found


def test_the_soft_keywords_are_keywords_only_in_their_place() -> None:
    """`points`, `penalty`, `const`, `any` stay free as names: no context-free keyword rule has
    them; one declaration rule each highlights them where the parser reads a keyword."""
    groups = _keyword_groups()
    assert not SOFT_KEYWORDS & {word for words in groups.values() for word in words}
    soft = {
        word: scopes
        for word, scopes in _soft_keyword_rules().items()
        if word not in DECLARATION_KEYWORDS | {"extends"}
    }
    assert soft == {
        "const": {"storage.type.sbm"},
        "repeat": {"storage.type.sbm"},
        "points": {"keyword.other.sbm"},
        "penalty": {"keyword.other.sbm"},
        "date": {"support.type.sbm"},
        "datetime": {"support.type.sbm"},
        "duration": {"support.type.sbm"},
        "any": {"keyword.other.sbm"},
        "after": {"keyword.other.sbm"},
        "before": {"keyword.other.sbm"},
        "unscored": {"keyword.other.sbm"},
    }
    assert set(soft) == SOFT_KEYWORDS


SOFT = """\
standard s {
    const k = 1
    const  spaced  =  -2.5
    scale points { a = 1 }
    scale x penalty{ a = 1 }
    item const "Q" answer points tags points penalty
    coefficient c = points + const * penalty - points (items)
    example "e" { answers { const = a, q = const r = 1 } }
    bands c { a >= 1 when const == 1, b }
    field date "Дата" date
    field duration datetime required
    item datetime "Q" answer points tags date duration
    scale any { a = 1 }
    item m "M" answer any of any tags any
    item n "N" answer any weight 2
    section after "S" before x { item unscored "Q" answer points in s after y unscored tags after }
    repeat p in { a "A" } { item r "Q {p}" answer points tags repeat }
}
"""


def test_soft_keywords_by_context(tokenize: Tokenize, tmp_path: Path) -> None:
    assert parse(SOFT, "soft.sbm").standards  # as the parser reads it
    path = tmp_path / "soft.sbm"
    path.write_text(SOFT, encoding="utf-8")
    tokens = tokenize(path)[path]
    name = ("variable.other.sbm",)
    assert _find(tokens, 2, "const") == ("storage.type.sbm",)
    assert _find(tokens, 2, "k") == (CONSTANT,)
    assert _find(tokens, 3, "const") == ("storage.type.sbm",)
    assert _find(tokens, 3, "spaced") == (CONSTANT,)
    assert _find(tokens, 4, "points") == ("entity.name.type.scale.sbm",)
    assert _find(tokens, 5, "penalty") == ("keyword.other.sbm",)
    assert _find(tokens, 6, "const") == ("entity.name.variable.item.sbm",)
    assert _find(tokens, 6, "points") == name  # the scale named `points`
    assert _find(tokens, 6, "points", 1) == name  # tags
    assert _find(tokens, 6, "penalty") == name
    assert _find(tokens, 7, "points") == name
    assert _find(tokens, 7, "const") == name
    assert _find(tokens, 7, "penalty") == name
    assert _find(tokens, 7, "points", 1) == ("support.function.sbm",)
    assert _find(tokens, 8, "const") == name  # an item's name in `answers`
    assert _find(tokens, 8, "const", 1) == name  # a label after `=`, not a declaration
    assert _find(tokens, 8, "r") == name
    assert _find(tokens, 9, "const") == name
    assert _find(tokens, 10, "date") == ("entity.name.variable.field.sbm",)
    assert _find(tokens, 10, "date", 1) == ("support.type.sbm",)
    assert _find(tokens, 11, "datetime") == ("support.type.sbm",)
    assert _find(tokens, 12, "datetime") == ("entity.name.variable.item.sbm",)
    assert _find(tokens, 12, "date") == name
    assert _find(tokens, 12, "duration") == name
    assert _find(tokens, 14, "any") == ("keyword.other.sbm",)  # `any of`: a multi-select
    assert _find(tokens, 14, "any", 1) == name  # the scale called `any`
    assert _find(tokens, 14, "any", 2) == name  # a tag
    assert _find(tokens, 15, "any") == name  # `answer any`: the scale
    assert _find(tokens, 16, "before") == ("keyword.other.sbm",)
    assert _find(tokens, 16, "after", 1) == ("keyword.other.sbm",)
    assert _find(tokens, 16, "y") == name
    assert _find(tokens, 16, "unscored", 1) == ("keyword.other.sbm",)
    assert _find(tokens, 16, "after", 2) == name  # a tag
    assert _find(tokens, 17, "repeat") == ("storage.type.sbm",)
    assert _find(tokens, 17, "repeat", 1) == name  # a tag
