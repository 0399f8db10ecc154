"""The Pygments lexer (`sbm_engine.pygments_lexer`): no `Error` token on any shipped
standard nor on any ```` ```sbm ```` block of the documentation that is valid SBM; an
`Error` token exactly where the parser reports an unexpected character (E0002); the
token types of a sample pinned; and Pygments finds the lexer by name, file name and on
the `pygmentize` command line once the package registers its entry point.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygments")

from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from sbm_engine.diagnostics import CompileError
from sbm_engine.parser import KEYWORDS, SOFT_KEYWORDS, parse
from sbm_engine.pygments_lexer import SbmLexer

ROOT = Path(__file__).resolve().parents[2]


def _tokens(text: str) -> list[tuple[Any, str]]:
    return list(SbmLexer().get_tokens(text))


def _errors(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every Error token."""
    found = []
    for offset, kind, value in SbmLexer().get_tokens_unprocessed(text):
        if kind in Error:
            found.append((offset, value))
    return found


def test_no_error_token_in_any_shipped_standard(standards: list[Path]) -> None:
    for path in standards:
        text = path.read_text(encoding="utf-8-sig")
        assert _errors(text) == [], path
        # every character is in some token: the tokens give the text back
        assert "".join(value for _, value in _tokens(text)) == text


def _doc_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for doc in sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]):
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```sbm\n(.*?)^```", text, re.S | re.M):
            blocks.append((doc.name, text[: match.start()].count("\n") + 2, match.group(1)))
    return blocks


def test_the_documentations_examples_lex_as_the_parser_reads_them() -> None:
    """A block that parses has no Error token; a block rejected for an unexpected
    character (E0002) has an Error token where the parser points."""
    blocks = _doc_blocks()
    assert len(blocks) >= 50
    checked_e0002 = 0
    for doc, line, text in blocks:
        errors = _errors(text)
        try:
            parse(text, doc)
        except CompileError as error:
            codes = [d for d in error.diagnostics if d.code == "E0002"]
            if codes:
                span = codes[0].span
                lines = text.split("\n")
                offset = sum(len(x) + 1 for x in lines[: span.line - 1]) + span.column - 1
                if text.startswith('"', offset):
                    # an unclosed string: the line break that ends it is the error
                    offset = text.index("\n", offset)
                assert offset in [at for at, _ in errors], (doc, line, span, errors)
                checked_e0002 += 1
            continue
        assert errors == [], (doc, line, errors)
    assert checked_e0002 >= 1


STRING = String.Double

SAMPLE_EXPECTED: list[tuple[int, str, int, Any]] = [
    (1, "import", 0, Keyword.Namespace),
    (1, '"', 0, STRING),
    (1, "common/scales.sbm", 0, STRING),
    (2, "# Комментарий: a note", 0, Comment.Single),
    (3, "standard", 0, Keyword.Declaration),
    (3, "demo.sample", 0, Name.Namespace),
    (3, "Проба ", 0, STRING),
    (3, '\\"', 0, String.Escape),
    (3, "кавычки", 0, STRING),
    (3, "\\\\", 0, String.Escape),
    (3, "extends", 0, Keyword),
    (3, "library.base", 0, Name.Namespace),
    (3, "version", 0, Keyword.Declaration),
    (3, "{", 0, Punctuation),
    (4, "industry", 0, Keyword.Declaration),
    (5, "scale", 0, Keyword.Declaration),
    (5, "да_нет", 0, Name.Class),
    (5, "да", 0, Name),
    (5, "=", 0, Operator),
    (5, "1", 0, Number.Integer),
    (5, "alias", 0, Keyword),
    (5, ",", 0, Punctuation),
    (6, "section", 0, Keyword.Declaration),
    (6, "приветствие", 0, Name.Label),
    (6, "weight", 0, Keyword),
    (6, "when", 0, Keyword),
    (6, "visit", 0, Name.Builtin.Pseudo),
    (6, ".", 0, Punctuation),
    (6, "scenario", 0, Name.Attribute),
    (6, "==", 0, Operator),
    (7, "item", 0, Keyword.Declaration),
    (7, "улыбка", 0, Name.Variable),
    (7, "answer", 0, Keyword),
    (7, "да_нет", 0, Name),
    (7, "tags", 0, Keyword),
    (7, "critical", 0, Keyword),
    (8, "number", 0, Keyword.Type),
    (8, "0", 0, Number.Integer),
    (8, "..", 0, Operator),
    (8, "240", 0, Number.Integer),
    (8, "optional", 0, Keyword),
    (8, "score", 0, Keyword),
    (8, "if", 0, Keyword),
    (8, "value", 0, Keyword),
    (8, "<=", 0, Operator),
    (8, "then", 0, Keyword),
    (8, "else", 0, Keyword),
    (10, "text", 0, Keyword.Type),
    (11, "field", 0, Keyword.Declaration),
    (11, "scenario", 0, Name.Variable),
    (11, "one", 0, Keyword),
    (11, "of", 0, Keyword),
    (12, "coefficient", 0, Keyword.Declaration),
    (12, "c1", 0, Name.Function),
    (12, "weighted_mean", 0, Name.Builtin),
    (12, "(", 0, Punctuation),
    (12, ":", 0, Punctuation),
    (12, "0.5", 0, Number.Float),
    (12, "*", 0, Operator),
    (12, "-", 0, Operator),
    (12, "/", 0, Operator),
    (12, "+", 0, Operator),
    (13, "not", 0, Operator.Word),
    (13, "answer", 0, Name.Builtin),
    (13, "!=", 0, Operator),
    (13, "and", 0, Operator.Word),
    (13, "or", 0, Operator.Word),
    (14, "tagged", 0, Keyword.Pseudo),
    (14, "items", 0, Keyword.Pseudo),
    (14, "sections", 0, Keyword.Pseudo),
    (15, "rollup", 0, Keyword.Declaration),
    (15, "share_ok", 0, Name.Function),
    (15, "share", 0, Name.Builtin),
    (15, ">=", 0, Operator),
    (16, "target", 0, Keyword.Declaration),
    (16, "c1", 0, Name),
    (17, "bands", 0, Keyword.Declaration),
    (17, "c1", 0, Name),
    (17, "good", 0, Name),
    (18, "example", 0, Keyword.Declaration),
    (19, "visit", 0, Name.Builtin.Pseudo),
    (20, "answers", 0, Name),
    (21, "expect", 0, Keyword.Declaration),
    # the soft keywords: keywords in their place, names elsewhere
    (23, "const", 0, Keyword.Declaration),
    (23, "limit", 0, Name.Constant),
    (23, "=", 0, Operator),
    (24, "scale", 0, Keyword.Declaration),
    (24, "points", 0, Name.Class),
    (24, "points", 1, Keyword),
    (25, "demerits", 0, Name.Class),
    (25, "penalty", 0, Keyword),
    (26, "demerits", 0, Name),
    (26, "penalty", 0, Name),
    (27, "penalty", 0, Name.Function),
    (27, "points", 0, Name.Builtin),
    (27, "max_points", 0, Name.Builtin),
    (27, "limit", 0, Name),
    (27, "points", 1, Name),
    (28, "bands", 0, Keyword.Declaration),
    (28, "penalty", 0, Name),
    (28, "A", 0, Name),
    (28, "<=", 0, Operator),
    (28, "13", 0, Number.Integer),
    (28, "when", 0, Keyword),
    (28, "points", 0, Name.Builtin),
    (28, "<=", 1, Operator),
    (28, "limit", 0, Name),
    (28, "when", 1, Keyword),
    (28, "D", 0, Name),
]


def _by_line(text: str) -> dict[int, list[tuple[Any, str]]]:
    lines: dict[int, list[tuple[Any, str]]] = {}
    line = 1
    for kind, value in _tokens(text):
        lines.setdefault(line, []).append((kind, value))
        line += value.count("\n")
    return lines


@pytest.mark.parametrize(("line", "text", "nth", "kind"), SAMPLE_EXPECTED)
def test_sample_token_types(sample: str, line: int, text: str, nth: int, kind: Any) -> None:
    found = [k for k, value in _by_line(sample).get(line, []) if value == text]
    assert len(found) > nth, (line, text, _by_line(sample).get(line))
    assert found[nth] is kind


def test_the_sample_has_no_error_and_no_bare_text(sample: str) -> None:
    kinds = {kind for kind, value in _tokens(sample) if value.strip()}
    assert not [k for k in kinds if k in Error]
    # every non-blank piece is classified: nothing falls back to plain Text
    assert all(k is not Whitespace and str(k) != "Token.Text" for k in kinds)


def test_characters_outside_the_language_are_errors(invalid_sample: str) -> None:
    assert [value for _, value in _errors(invalid_sample)] == ["«", "»", "'", "'", ";"]


def test_an_unclosed_string_ends_with_its_line() -> None:
    text = 'item a "Улыбка answer yes_no\nitem b "Б" answer yes_no\n'
    lines = _by_line(text)
    assert (Error, "\n") in lines[1]
    assert lines[2][0] == (Keyword.Declaration, "item")
    assert (Name.Variable, "b") in lines[2]


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_every_keyword_is_a_keyword(word: str) -> None:
    [(kind, value), _newline] = _tokens(word)
    assert value == word
    assert kind in Keyword or kind in Operator.Word


@pytest.mark.parametrize("word", sorted(SOFT_KEYWORDS))
def test_a_soft_keyword_alone_is_a_name(word: str) -> None:
    assert _tokens(word)[0] == (Name, word)


def test_the_soft_keywords_are_the_parsers() -> None:
    from sbm_engine import pygments_lexer as lexer

    assert {
        *lexer._SCALE_KINDS,
        *lexer._SOFT_DECLARATIONS,
        *lexer._FIELD_TYPES,
        *lexer._MULTI_SELECT,
        *lexer._SOFT_OPTIONS,
    } == SOFT_KEYWORDS
    assert not SOFT_KEYWORDS & KEYWORDS


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


@pytest.mark.parametrize(
    ("line", "text", "nth", "kind"),
    [
        (2, "const", 0, Keyword.Declaration),
        (2, "k", 0, Name.Constant),
        (3, "const", 0, Keyword.Declaration),
        (3, "spaced", 0, Name.Constant),
        (4, "points", 0, Name.Class),
        (5, "penalty", 0, Keyword),
        (6, "const", 0, Name.Variable),
        (6, "points", 0, Name),
        (6, "points", 1, Name),
        (6, "penalty", 0, Name),
        (7, "points", 0, Name),
        (7, "const", 0, Name),
        (7, "penalty", 0, Name),
        (7, "points", 1, Name.Builtin),
        (8, "const", 0, Name),
        (8, "const", 1, Name),  # a label after `=`, not a declaration
        (8, "r", 0, Name),
        (9, "const", 0, Name),
        (10, "date", 0, Name.Variable),
        (10, "date", 1, Keyword.Type),
        (11, "duration", 0, Name.Variable),
        (11, "datetime", 0, Keyword.Type),
        (12, "datetime", 0, Name.Variable),
        (12, "date", 0, Name),
        (12, "duration", 0, Name),
        (13, "any", 0, Name.Class),
        (14, "any", 0, Keyword),  # `any of`: a multi-select
        (14, "any", 1, Name),  # the scale called `any`
        (14, "any", 2, Name),  # a tag
        (15, "any", 0, Name),  # `answer any`: the scale
        (16, "after", 0, Name.Label),
        (16, "before", 0, Keyword),
        (16, "unscored", 0, Name.Variable),
        (16, "after", 1, Keyword),
        (16, "y", 0, Name),
        (16, "unscored", 1, Keyword),
        (16, "after", 2, Name),  # a tag
        (17, "repeat", 0, Keyword.Declaration),
        (17, "p", 0, Name.Variable),
        (17, "repeat", 1, Name),  # a tag
    ],
)
def test_soft_keywords_by_context(line: int, text: str, nth: int, kind: Any) -> None:
    found = [k for k, value in _by_line(SOFT).get(line, []) if value == text]
    assert len(found) > nth, (line, text, _by_line(SOFT).get(line))
    assert found[nth] is kind


def test_the_soft_sample_parses_and_has_no_error() -> None:
    assert parse(SOFT, "soft.sbm").standards
    assert _errors(SOFT) == []


def test_the_lexer_groups_keywords_as_the_vscode_grammar_does() -> None:
    """Both highlighters show the same word the same way: the lexer's groups of the
    parser's keywords are the grammar's keyword rules, and both read the same words
    before `(` as keywords rather than calls."""
    from sbm_engine import pygments_lexer as lexer

    grammar = json.loads(
        (ROOT / "editors/vscode/syntaxes/sbm.tmLanguage.json").read_text(encoding="utf-8")
    )
    groups = {}
    for rule in grammar["repository"]["keyword"]["patterns"]:
        alternation = rule["match"].split("(?:", 1)[1].split(")", 1)[0]
        groups[rule["name"]] = set(alternation.split("|"))
    assert groups == {
        "keyword.control.import.sbm": {"import"},
        "keyword.control.conditional.sbm": set(lexer._CONDITIONALS),
        "keyword.operator.logical.sbm": set(lexer._WORD_OPERATORS),
        "storage.type.sbm": set(lexer._DECLARATIONS),
        "support.type.sbm": set(lexer._TYPES),
        "keyword.other.selector.sbm": set(lexer._SELECTORS),
        "keyword.other.sbm": set(lexer._OTHER_KEYWORDS),
    }
    call = grammar["repository"]["call"]["match"]
    not_calls = call.split("(?!(?:", 1)[1].split(")", 1)[0]
    assert set(not_calls.split("|")) == set(lexer._BEFORE_EXPRESSION)
    assert set(lexer._BEFORE_EXPRESSION) <= KEYWORDS


def test_a_word_that_starts_with_a_keyword_is_a_name() -> None:
    assert _tokens("itemsы")[0] == (Name, "itemsы")
    assert _tokens("scale2")[0] == (Name, "scale2")


# ---- the entry point -------------------------------------------------------------------------

_ENTRY_POINT = "sbm_engine.pygments_lexer:SbmLexer"


def _declared() -> bool:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return bool(project.get("entry-points", {}).get("pygments.lexers", {}).get("sbm"))


needs_entry_point = pytest.mark.skipif(
    not _declared(),
    reason="pyproject.toml does not register the `pygments.lexers` entry point `sbm` yet",
)


@needs_entry_point
def test_the_entry_point_is_installed() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pygments.lexers")}
    assert found.get("sbm") == _ENTRY_POINT, (
        "pyproject.toml registers the lexer but the installed package does not: "
        "reinstall it (pip install -e .)"
    )


@needs_entry_point
def test_pygments_finds_the_lexer() -> None:
    from pygments.lexers import (
        find_lexer_class_for_filename,
        get_lexer_by_name,
    )

    assert isinstance(get_lexer_by_name("sbm"), SbmLexer)
    assert find_lexer_class_for_filename("branch.sbm") is SbmLexer


@needs_entry_point
def test_pygmentize_highlights_a_standard(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pygments",
            "-l",
            "sbm",
            "-f",
            "html",
            str(ROOT / "tests" / "conformance" / "demo_branch.sbm"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert '<span class="kd">standard</span>' in out
    assert '<span class="nn">demo.branch</span>' in out
    assert '<span class="err">' not in out
