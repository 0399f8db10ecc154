"""A Pygments lexer for `.sbm` standards: `pygmentize -l sbm`, and ```` ```sbm ```` blocks in
documentation built with Pygments (Sphinx, MkDocs).

Pygments finds the lexer through the `pygments.lexers` entry point `sbm`. Pygments is
not a dependency of the engine: nothing in `sbm_engine` imports this module, so it is
loaded only by Pygments itself.

The reserved words are the parser's own (`parser.KEYWORDS`,
`parser.DECLARATION_KEYWORDS`), grouped here only by how they are shown. The soft
keywords (`parser.SOFT_KEYWORDS`) are names everywhere but where the parser reads them
as keywords, and only there are they keywords here: `const` opening `const NAME =
NUMBER`, `points` and `penalty` after `scale NAME`, `date`, `datetime` and `duration`
as a field's type after `field NAME ["title"]`, `any` before `of` (a multi-select
answer), `after NAME` and `before NAME` inside a declaration, `unscored` before another
option or at the end of its line; `points(…)` is a call like any other. Names, numbers
and strings follow the terminals of `grammar/sbm.lark`; a character no rule of the
language accepts (a typographic quote, a single quote, a stray `;`) is an `Error` token,
as it is a syntax error for `sbm check`. The names a declaration introduces get their
own token types, as in the VS Code grammar (`editors/vscode/syntaxes/sbm.tmLanguage.json`):
a standard's name and the one it extends are namespaces, scales classes, sections
labels, items and visit fields variables, coefficients and rollups functions, constants
constants; a called function is a builtin (the engine and its packs provide them);
`visit` in `visit.FIELD` and `visit { … }` is a pseudo-builtin and the field an
attribute.
"""

from __future__ import annotations

from typing import ClassVar

# Pygments ships no type information, and is optional: to mypy its names are Any.
from pygments.lexer import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    RegexLexer,
    bygroups,
    words,
)
from pygments.token import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
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

from .parser import DECLARATION_KEYWORDS, KEYWORDS

__all__ = ["SbmLexer"]

#: `NAME` in the grammar: a Unicode word not starting with a digit (Python's `\w`, as lark's).
_NAME = r"(?!\d)\w+"
_DOTTED = rf"{_NAME}(?:\.{_NAME})*"
_START = r"(?<!\w)"  # a word starts here
_END = r"(?!\w)"  # and ends here

#: Keywords that read as operators, conditionals, answer types and argument selectors;
#: each must be one of the parser's keywords (checked by the tests).
_WORD_OPERATORS = ("and", "or", "not")
_CONDITIONALS = ("if", "then", "else")
_TYPES = ("number", "text")
_SELECTORS = ("items", "sections", "tagged", "in")
#: The soft keywords (`parser.SOFT_KEYWORDS`, checked by the tests), keywords only in
#: their place: a scale's kind after `scale NAME`, and `const` opening a declaration.
_SCALE_KINDS = ("points", "penalty")
_SOFT_DECLARATIONS = ("const", "repeat")
#: A field's type after `field NAME ["title"]` (`text` and `number` are keywords anywhere).
_FIELD_TYPES = ("date", "datetime", "duration")
#: `any` of `answer any of SCALE`: a keyword only where `of` follows.
_MULTI_SELECT = ("any",)
#: ... and the options of an item or a section: `after NAME`, `before NAME`, and
#: `unscored` where an option or the end of the line follows it.
_SOFT_OPTIONS = ("after", "before", "unscored")
_ITEM_OPTION_WORDS = (
    "in|after|before|weight|required|optional|critical|bonus|unscored|tags|value|when|score"
)
#: Keywords that may stand before `(` without it being a call: `not (a or b)`.
_BEFORE_EXPRESSION = (*_WORD_OPERATORS, *_CONDITIONALS, "when", "expect")

_DECLARATIONS = tuple(sorted(DECLARATION_KEYWORDS - {"import"}))
_OTHER_KEYWORDS = tuple(
    sorted(
        KEYWORDS
        - DECLARATION_KEYWORDS
        - {*_WORD_OPERATORS, *_CONDITIONALS, *_TYPES, *_SELECTORS, "import"}
    )
)


def _declares(keyword: str, token: object) -> tuple[str, object]:
    """`KEYWORD NAME`: the keyword and the name it declares."""
    return rf"{_START}({keyword})(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, token)


def _scale() -> tuple[str, object]:
    """`scale NAME` and, on a points or penalty scale, its kind."""
    kinds = "|".join(_SCALE_KINDS)
    return rf"{_START}(scale)(\s+)({_NAME})(?:(\s+)({kinds}){_END})?", bygroups(
        Keyword.Declaration, Whitespace, Name.Class, Whitespace, Keyword
    )


def _field() -> tuple[str, object]:
    """`field NAME`, its title if written, and its type when it is a soft keyword."""
    kinds = "|".join(_FIELD_TYPES)
    return (
        rf'{_START}(field)(\s+)({_NAME})(?:(\s+)("(?:\\.|[^"\\\n])*"))?(?:(\s+)({kinds}){_END})?',
        bygroups(
            Keyword.Declaration,
            Whitespace,
            Name.Variable,
            Whitespace,
            String.Double,
            Whitespace,
            Keyword.Type,
        ),
    )


def _constant() -> tuple[str, object]:
    """`const NAME =`: not a label right after an example's `=` (`answers { a = const }`)."""
    return rf"(?<![\w=])(?<!=\s)(const)(\s+)({_NAME})(?=\s*=(?!=))", bygroups(
        Keyword.Declaration, Whitespace, Name.Constant
    )


def _repeat() -> tuple[str, object]:
    """`repeat NAME in`: a block repeated per key, `NAME` its placeholder."""
    return rf"{_START}(repeat)(\s+)({_NAME})(?=\s+in{_END})", bygroups(
        Keyword.Declaration, Whitespace, Name.Variable
    )


def _placement() -> tuple[str, object]:
    """`after NAME` / `before NAME` after another word of a declaration's head."""
    return rf"(?<=\s)(after|before)(\s+)({_NAME})", bygroups(Keyword, Whitespace, Name)


def _unscored() -> tuple[str, object]:
    """`unscored` between an item's options, or ending its line."""
    return rf"(?<=\s)unscored(?=[ \t]*(?:$|#|\{{|(?:{_ITEM_OPTION_WORDS}){_END}))", Keyword


def _dotted(keyword: str, keyword_token: object) -> tuple[str, object]:
    """`KEYWORD a.b.c`: a standard's name after `standard` or `extends`."""
    return rf"{_START}({keyword})(\s+)({_DOTTED})", bygroups(
        keyword_token, Whitespace, Name.Namespace
    )


class SbmLexer(RegexLexer):  # type: ignore[misc,unused-ignore]  # Any: untyped Pygments
    """Lexer for SBM service standards (`.sbm`)."""

    name = "SBM"
    aliases: ClassVar[list[str]] = ["sbm"]
    filenames: ClassVar[list[str]] = ["*.sbm"]
    mimetypes: ClassVar[list[str]] = ["text/x-sbm"]

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"', String.Double, "string"),
            _dotted("standard", Keyword.Declaration),
            _dotted("extends", Keyword),
            _scale(),
            _declares("section", Name.Label),
            _declares("item", Name.Variable),
            _field(),
            _declares("coefficient", Name.Function),
            _declares("rollup", Name.Function),
            _declares("bands", Name),
            _constant(),
            (rf"{_START}(?:{'|'.join(_MULTI_SELECT)})(?=\s+of{_END})", Keyword),
            _repeat(),
            _placement(),
            _unscored(),
            (
                rf"{_START}(?!{words(_BEFORE_EXPRESSION, suffix=_END).get()}){_NAME}(?=\s*\()",
                Name.Builtin,
            ),
            (
                rf"{_START}(visit)(\s*)(\.)(\s*)({_NAME})",
                bygroups(Name.Builtin.Pseudo, Whitespace, Punctuation, Whitespace, Name.Attribute),
            ),
            (rf"{_START}visit(?=\s*\{{)", Name.Builtin.Pseudo),
            (
                rf"({_NAME})(\s*)(\.)(\s*)({_NAME})",
                bygroups(Name, Whitespace, Punctuation, Whitespace, Name.Attribute),
            ),
            (words(("import",), prefix=_START, suffix=_END), Keyword.Namespace),
            (words(_CONDITIONALS, prefix=_START, suffix=_END), Keyword),
            (words(_WORD_OPERATORS, prefix=_START, suffix=_END), Operator.Word),
            (words(_DECLARATIONS, prefix=_START, suffix=_END), Keyword.Declaration),
            (words(_TYPES, prefix=_START, suffix=_END), Keyword.Type),
            (words(_SELECTORS, prefix=_START, suffix=_END), Keyword.Pseudo),
            (words(_OTHER_KEYWORDS, prefix=_START, suffix=_END), Keyword),
            (r"\d+\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"==|!=|<=|>=|<|>|\.\.|=|[-+*/]", Operator),
            (r"[,:.{}()]", Punctuation),
            (_NAME, Name),
        ],
        "string": [
            (r'[^"\\\n]+', String.Double),
            (r"\\.", String.Escape),
            (r'"', String.Double, "#pop"),
            # A string ends on its line: an unclosed one is an error, and the next
            # line is read as code again.
            (r"\n", Error, "#pop"),
        ],
    }
