"""Text to syntax tree: the lark grammar in `grammar/sbm.lark`, and a transformer to `nodes`.

The parser is built once per process (its LALR tables are also kept on disk between
runs, `_cache_file`) and is safe to share between threads because each `parse` call
gets its own state. A syntax error becomes a `Diagnostic` with the position, what was
found, what could come there, and a hint for the mistakes methodologists make most.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from . import nodes as n
from .diagnostics import CompileError, Diagnostic, Diagnostics, declaration_kind, did_you_mean
from .keywords import KEYWORDS, SOFT_KEYWORDS
from .messages import message
from .resources import grammar_text

#: Keywords that open a declaration or statement: out of place, they get E0004.
DECLARATION_KEYWORDS = frozenset(
    [
        "standard",
        "import",
        "version",
        "industry",
        "drop",
        "scale",
        "section",
        "item",
        "coefficient",
        "rollup",
        "field",
        "target",
        "bands",
        "example",
        "expect",
    ]
)

_lock = threading.Lock()


@cache
def _parser() -> Lark:
    with _lock:
        text = grammar_text()
        lark = Lark(
            text,
            parser="lalr",
            propagate_positions=True,
            maybe_placeholders=True,
            cache=_cache_file(text) or False,
        )
        frontend = lark.parser
        frontend.lexer = _SoftKeywordLexer(frontend.lexer)
        return lark


#: The token types of words that are keywords in some places only: the soft keywords,
#: and `value` (the option `value = …`, and a label, tag or band name in files that
#: used it as one).
_CONTEXT_WORDS = frozenset({*(w.upper() for w in SOFT_KEYWORDS), "VALUE"})

#: Soft keywords that are names wherever a name can stand: after `tags a`, `after`,
#: `before` and `unscored` are tags, as they were before they were keywords (write
#: those options before `tags`).
_NAME_FIRST = frozenset({"AFTER", "BEFORE", "UNSCORED"})


#: What follows each such word where it is a keyword: `const NAME =`, `value =`, a
#: scale's kind is followed by its `{`, and `any` of a multi-select by `of`. Where a
#: name can stand too, a word not followed so is the name (`tags a const required`: a
#: tag; `answer any weight 2`: the scale called `any`).
_FOLLOWS = {
    "CONST": re.compile(r"\s+(?!\d)\w+\s*=(?!=)"),
    "REPEAT": re.compile(r"\s+(?!\d)\w+\s+in(?!\w)"),
    "VALUE": re.compile(r"\s*=(?!=)"),
    "POINTS": re.compile(r"\s*\{"),
    "PENALTY": re.compile(r"\s*\{"),
    # a field's type: after `field NAME ["title"]`, where no name can stand
    "DATE": re.compile(r""),
    "DATETIME": re.compile(r""),
    "DURATION": re.compile(r""),
    "ANY": re.compile(r"\s+of(?!\w)"),
    "AFTER": re.compile(r"\s+(?!\d)\w"),
    "BEFORE": re.compile(r"\s+(?!\d)\w"),
    "UNSCORED": re.compile(r""),
}


class _SoftKeywordLexer:
    """The contextual lexer, with one correction: a word it read as a keyword that the
    parser cannot take there is the name it was before the keyword existed.

    The contextual lexer offers a keyword wherever the parser's state accepts one,
    and LALR merges the lookaheads of similar states: after `a = 1` in a scale, or a
    tag, the merged state also "accepts" `const` and `value`, so `const = 0` (a
    label) would lex as the keyword and fail. Where a name could stand as well, the
    word is the keyword only when the parser can really take it there — decided by
    running its tables on a copy of the state stack (no values are built), which is
    exact — and what follows it is what follows the keyword (`_FOLLOWS`: the one
    token more that LALR(1) cannot look at, as after a tag).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def lex(self, lexer_state: Any, parser_state: Any) -> Any:
        previous: list[Token] = []  # the last two tokens, for `import "p" version "V"`
        for token in self.inner.lex(lexer_state, parser_state):
            if token.type in _CONTEXT_WORDS and _viable(parser_state, "NAME"):
                text = getattr(lexer_state.text, "text", lexer_state.text)
                follows = _FOLLOWS[token.type].match(text, token.end_pos)
                if (
                    token.type in _NAME_FIRST
                    or follows is None
                    or not _viable(parser_state, token.type)
                ):
                    token = Token.new_borrow_pos("NAME", str(token), token)
            elif (
                token.type == "VERSION"
                and [t.type for t in previous] == ["IMPORT", "STRING"]
                and previous[1].end_line == token.line
                and _viable(parser_state, "PIN_VERSION")
            ):
                token = Token.new_borrow_pos("PIN_VERSION", str(token), token)
            elif token.type == "PIN_VERSION" and (
                [t.type for t in previous] != ["IMPORT", "STRING"]
                or previous[1].end_line != token.line
            ):
                token = Token.new_borrow_pos("VERSION", str(token), token)
            previous = [*previous[-1:], token]
            yield token


def _viable(parser_state: Any, token_type: str) -> bool:
    """Whether the LALR parser in `parser_state` can shift a token of this type, after
    the reductions it calls for (the parser's own loop, on a copy of its states)."""
    states = parser_state.parse_conf.states
    stack = list(parser_state.state_stack)
    while True:
        action = states[stack[-1]].get(token_type)
        if action is None:
            return False
        kind, arg = action
        if kind is Shift:
            return True
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][arg.origin.name][1])


def _cache_file(grammar: str) -> str | None:
    """Where lark keeps the parser's LALR tables between runs, or None (no caching).

    Why: building them is a tenth of a second or more, paid by every `sbm` command
    before it reads a byte. lark stores the tables with the hash of the grammar, its
    own version and the options, and rebuilds (and rewrites) them when any differs
    or the file cannot be read. The file is in the user's own cache folder
    (`$SBM_CACHE_DIR`, else `$XDG_CACHE_HOME/sbm-engine`, else `~/.cache/sbm-engine`),
    made private to the user, since lark reads it with pickle (a folder others may
    write in, or another user's, is not used); an empty `SBM_CACHE_DIR` turns the
    cache off."""
    import hashlib
    import os

    from .cache import folder

    where = folder()
    if where is None:
        return None
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return os.path.join(where, f"parser-{digest}.lark")


def _span(file: str, meta: Any) -> n.Span:
    if getattr(meta, "empty", False):
        return n.Span(file, 0, 0, 0, 0)
    return n.Span(
        file, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos
    )


def _unescape(token: str) -> str:
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


_F = TypeVar("_F", bound=Callable[..., Any])


def _with_meta(method: _F) -> _F:
    """Mark a rule method that takes the node's position (`meta`) before its children."""
    method._with_meta = True  # type: ignore[attr-defined]
    return method


class _Rewriter:
    """A bottom-up rewrite of a lark tree by the methods named after its rules.

    Why not lark's `Transformer`: it builds a new `v_args` wrapper (with
    `functools.update_wrapper`) on every method lookup, which was about a third of
    the time to turn the tree of a 1,000-item standard into nodes. Here the rule
    table is built once per class; a rule without a method stays a `Tree`.
    """

    _rules: dict[str, tuple[Callable[..., Any], bool]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._rules = {
            name: (f, getattr(f, "_with_meta", False))
            for klass in reversed(cls.__mro__)
            for name, f in vars(klass).items()
            if callable(f) and not name.startswith("_")
        }

    def transform(self, tree: Tree[Token]) -> Any:
        rules = self._rules

        def rewrite(node: Tree[Token]) -> Any:
            children = [rewrite(c) if isinstance(c, Tree) else c for c in node.children]
            rule = rules.get(node.data)
            if rule is None:
                return Tree(node.data, children, node.meta)
            method, with_meta = rule
            return method(self, node.meta, children) if with_meta else method(self, children)

        return rewrite(tree)


class _ToNodes(_Rewriter):
    """Builds `nodes` from the lark tree; collects misuse it can see locally."""

    def __init__(self, file: str, diagnostics: Diagnostics) -> None:
        self.file = file
        self.diagnostics = diagnostics

    def sp(self, meta: Any) -> n.Span:
        return _span(self.file, meta)

    def declared(self, token: Token, kind: str) -> str:
        """A declared name; keywords are reserved (the contextual lexer would let them by)."""
        name = str(token)
        if name in KEYWORDS:
            self.diagnostics.error(
                "E0103",
                message("E0103.reserved.message", name=name, kind=declaration_kind(kind)),
                self.tok(token),
                label=message("E0103.reserved.label"),
                help=message("E0103.reserved.help", name=name),
            )
        return name

    def tok(self, token: Token) -> n.Span:
        return _span(self.file, token)

    # -- file and standard ---------------------------------------------------------

    @_with_meta
    def start(self, meta: Any, children: list[Any]) -> n.Module:
        imports = tuple(c for c in children if isinstance(c, n.Import))
        standards = tuple(c for c in children if isinstance(c, n.Standard))
        return n.Module(self.file, imports, standards)

    @_with_meta
    def import_stmt(self, meta: Any, children: list[Token]) -> n.Import:
        path, _pin, version = children
        return n.Import(
            _unescape(path), span=self.sp(meta), version=_unescape(version) if version else None
        )

    @_with_meta
    def dotted_name(self, meta: Any, children: list[Token]) -> tuple[str, n.Span]:
        return ".".join(str(c) for c in children), self.sp(meta)

    @_with_meta
    def standard(self, meta: Any, children: list[Any]) -> n.Standard:
        (name, name_span), title, extends, pin, *members = children
        ext_name, ext_span = extends if extends else (None, n.NOWHERE)
        return n.Standard(
            name,
            _unescape(title) if title else None,
            ext_name,
            tuple(members),
            span=self.sp(meta),
            name_span=name_span,
            extends_span=ext_span,
            extends_version=_unescape(pin) if pin else None,
        )

    @_with_meta
    def version(self, meta: Any, children: list[Token]) -> n.Version:
        return n.Version(_unescape(children[0]), span=self.sp(meta))

    @_with_meta
    def industry(self, meta: Any, children: list[Token]) -> n.Industry:
        return n.Industry(_unescape(children[0]), span=self.sp(meta))

    @_with_meta
    def repeat_key(self, meta: Any, children: list[Token]) -> n.RepeatKey:
        key, title = children
        return n.RepeatKey(str(key), _unescape(title), span=self.sp(meta))

    @_with_meta
    def repeat(self, meta: Any, children: list[Any]) -> n.Repeat:
        name, *rest = children
        keys = tuple(c for c in rest if isinstance(c, n.RepeatKey))
        members = tuple(c for c in rest if isinstance(c, n.Item | n.Section))
        return n.Repeat(str(name), keys, members, span=self.sp(meta), name_span=self.tok(name))

    @_with_meta
    def drop(self, meta: Any, children: list[Token]) -> n.Drop:
        return n.Drop(str(children[0]), span=self.sp(meta))

    # -- scales --------------------------------------------------------------------

    @_with_meta
    def label_name(self, meta: Any, children: list[Token]) -> n.Label:
        return n.Label(str(children[0]), "name", span=self.tok(children[0]))

    @_with_meta
    def label_number(self, meta: Any, children: list[Token]) -> n.Label:
        return n.Label(str(children[0]), "number", span=self.tok(children[0]))

    @_with_meta
    def label_string(self, meta: Any, children: list[Token]) -> n.Label:
        return n.Label(_unescape(children[0]), "string", span=self.tok(children[0]))

    @_with_meta
    def negative_number(self, meta: Any, children: list[Token]) -> n.Label:
        return n.Label("-" + str(children[0]), "number", span=self.sp(meta))

    @_with_meta
    def signed_number(self, meta: Any, children: list[Any]) -> n.Number:
        sign, number = children
        text = ("-" if sign else "") + str(number)
        return n.Number(self.finite(text, meta), text, span=self.sp(meta))

    @_with_meta
    def alias(self, meta: Any, children: list[n.Label]) -> tuple[n.Label, ...]:
        return tuple(children)

    @_with_meta
    def scale_entry(self, meta: Any, children: list[Any]) -> n.ScaleEntry:
        label, score, *aliases = children  # the aliases, when the entry has them
        return n.ScaleEntry(label, score, aliases[0] if aliases else (), span=self.sp(meta))

    @_with_meta
    def scale_body(self, meta: Any, children: list[Any]) -> tuple[tuple[n.ScaleEntry, ...], n.Span]:
        return tuple(c for c in children if c is not None), self.sp(meta)

    def points_kind(self, children: list[Any]) -> str:
        return "points"

    def penalty_kind(self, children: list[Any]) -> str:
        return "penalty"

    @_with_meta
    def scale(self, meta: Any, children: list[Any]) -> n.Scale:
        name, kind, (entries, _) = children
        return n.Scale(
            self.declared(name, "scale"),
            entries,
            span=self.sp(meta),
            name_span=self.tok(name),
            kind=kind or "score",
        )

    @_with_meta
    def constant(self, meta: Any, children: list[Any]) -> n.Constant:
        name, value = children
        return n.Constant(
            self.declared(name, "constant"), value, span=self.sp(meta), name_span=self.tok(name)
        )

    # -- answers and options -----------------------------------------------------------

    @_with_meta
    def answer_scale(self, meta: Any, children: list[Token]) -> n.ScaleAnswer:
        return n.ScaleAnswer(str(children[0]), span=self.tok(children[0]))

    @_with_meta
    def answer_inline(self, meta: Any, children: list[Any]) -> n.InlineScaleAnswer:
        entries, span = children[0]
        return n.InlineScaleAnswer(entries, span=span)

    @_with_meta
    def answer_multi(self, meta: Any, children: list[Token]) -> n.MultiAnswer:
        options = n.ScaleAnswer(str(children[0]), span=self.tok(children[0]))
        return n.MultiAnswer(options, span=self.sp(meta))

    @_with_meta
    def answer_multi_inline(self, meta: Any, children: list[Any]) -> n.MultiAnswer:
        entries, span = children[0]
        return n.MultiAnswer(n.InlineScaleAnswer(entries, span=span), span=self.sp(meta))

    @_with_meta
    def answer_number(self, meta: Any, children: list[Any]) -> n.NumberAnswer:
        low, high = children
        return n.NumberAnswer(low, high, span=self.sp(meta))

    @_with_meta
    def answer_text(self, meta: Any, children: list[Any]) -> n.TextAnswer:
        return n.TextAnswer(span=self.sp(meta))

    @_with_meta
    def weight_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("weight", c[0], self.sp(meta))

    @_with_meta
    def when_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("when", c[0], self.sp(meta))

    @_with_meta
    def tags_opt(self, meta: Any, c: list[Token]) -> tuple[str, Any, n.Span]:
        return ("tags", tuple(str(t) for t in c), self.sp(meta))

    @_with_meta
    def required_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("presence", "required", self.sp(meta))

    @_with_meta
    def optional_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("presence", "optional", self.sp(meta))

    @_with_meta
    def critical_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("critical", True, self.sp(meta))

    @_with_meta
    def critical_if_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("critical", c[0], self.sp(meta))

    @_with_meta
    def bonus_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("bonus", True, self.sp(meta))

    @_with_meta
    def unscored_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("unscored", True, self.sp(meta))

    @_with_meta
    def in_opt(self, meta: Any, c: list[Token]) -> tuple[str, Any, n.Span]:
        return ("in", n.Name(str(c[0]), span=self.tok(c[0])), self.sp(meta))

    @_with_meta
    def after_opt(self, meta: Any, c: list[Token]) -> tuple[str, Any, n.Span]:
        return ("after", n.Name(str(c[0]), span=self.tok(c[0])), self.sp(meta))

    @_with_meta
    def before_opt(self, meta: Any, c: list[Token]) -> tuple[str, Any, n.Span]:
        return ("before", n.Name(str(c[0]), span=self.tok(c[0])), self.sp(meta))

    @_with_meta
    def score_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("score", c[0], self.sp(meta))

    @_with_meta
    def value_opt(self, meta: Any, c: list[Any]) -> tuple[str, Any, n.Span]:
        return ("value", c[0], self.sp(meta))

    def _options(self, options: list[tuple[str, Any, n.Span]], owner: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value, span in options:
            if key in found:
                if key == "presence" and found[key] != value:
                    self.diagnostics.error(
                        "E0104",
                        message("E0104.required_and_optional.message", item=owner),
                        span,
                        label=message("E0104.required_and_optional.label"),
                        help=message("E0104.required_and_optional.help"),
                    )
                else:
                    word = value if key == "presence" else key
                    self.diagnostics.error(
                        "E0102",
                        message("E0102.twice.message", option=word, owner=owner),
                        span,
                        label=message("E0102.twice.label"),
                        help=message("hint.remove_one"),
                    )
                continue
            found[key] = value
        return found

    @_with_meta
    def item(self, meta: Any, children: list[Any]) -> n.Item:
        name, question, answer, *options = children
        opts = self._options(options, str(name))
        return n.Item(
            self.declared(name, "item"),
            _unescape(question),
            answer,
            weight=opts.get("weight"),
            tags=opts.get("tags", ()),
            presence=opts.get("presence"),
            critical="critical" in opts,
            bonus=opts.get("bonus", False),
            when=opts.get("when"),
            score=opts.get("score"),
            span=self.sp(meta),
            name_span=self.tok(name),
            value=opts.get("value"),
            section_in=opts.get("in"),
            after=opts.get("after"),
            before=opts.get("before"),
            unscored=opts.get("unscored", False),
            critical_if=None if opts.get("critical", True) is True else opts["critical"],
        )

    @_with_meta
    def section(self, meta: Any, children: list[Any]) -> n.Section:
        name, title, *rest = children
        options = [c for c in rest if isinstance(c, tuple)]
        items = tuple(c for c in rest if isinstance(c, n.Item))
        opts = self._options(options, str(name))
        return n.Section(
            self.declared(name, "section"),
            _unescape(title) if title else None,
            items,
            weight=opts.get("weight"),
            when=opts.get("when"),
            span=self.sp(meta),
            name_span=self.tok(name),
            after=opts.get("after"),
            before=opts.get("before"),
        )

    # -- formulas and outcomes ------------------------------------------------------------

    @_with_meta
    def coefficient(self, meta: Any, children: list[Any]) -> n.Coefficient:
        name, title, expr = children
        return n.Coefficient(
            self.declared(name, "coefficient"),
            _unescape(title) if title else None,
            expr,
            span=self.sp(meta),
            name_span=self.tok(name),
        )

    @_with_meta
    def rollup(self, meta: Any, children: list[Any]) -> n.Rollup:
        name, title, expr = children
        return n.Rollup(
            self.declared(name, "rollup"),
            _unescape(title) if title else None,
            expr,
            span=self.sp(meta),
            name_span=self.tok(name),
        )

    def field_values(self, children: list[Any]) -> tuple[n.Label, ...]:
        return tuple(c for c in children if c is not None)

    @_with_meta
    def field(self, meta: Any, children: list[Any]) -> n.Field:
        name, title, typ, required, values = children
        return n.Field(
            self.declared(name, "field"),
            _unescape(title) if title else None,
            values,
            span=self.sp(meta),
            name_span=self.tok(name),
            type=None if typ is None else typ[0],
            required=required is not None,
            type_span=n.NOWHERE if typ is None else typ[1],
        )

    def _field_type(self, word: str, meta: Any) -> tuple[str, n.Span]:
        return (word, self.sp(meta))

    @_with_meta
    def field_text(self, meta: Any, children: list[Any]) -> tuple[str, n.Span]:
        return self._field_type("text", meta)

    @_with_meta
    def field_number(self, meta: Any, children: list[Any]) -> tuple[str, n.Span]:
        return self._field_type("number", meta)

    @_with_meta
    def field_date(self, meta: Any, children: list[Any]) -> tuple[str, n.Span]:
        return self._field_type("date", meta)

    @_with_meta
    def field_datetime(self, meta: Any, children: list[Any]) -> tuple[str, n.Span]:
        return self._field_type("datetime", meta)

    @_with_meta
    def field_duration(self, meta: Any, children: list[Any]) -> tuple[str, n.Span]:
        return self._field_type("duration", meta)

    def field_required(self, children: list[Any]) -> bool:
        return True

    @_with_meta
    def target(self, meta: Any, children: list[Any]) -> n.Target:
        name, value = children
        return n.Target(str(name), value, span=self.sp(meta), name_span=self.tok(name))

    @_with_meta
    def threshold_name(self, meta: Any, children: list[Token]) -> n.Name:
        return n.Name(str(children[0]), span=self.tok(children[0]))

    def band_when(self, children: list[Any]) -> n.Expr:
        condition: n.Expr = children[0]
        return condition

    @_with_meta
    def band_at_least(self, meta: Any, children: list[Any]) -> n.Band:
        label, threshold, when = children
        return n.Band(str(label), threshold, span=self.sp(meta), when=when)

    @_with_meta
    def band_at_most(self, meta: Any, children: list[Any]) -> n.Band:
        label, threshold, when = children
        return n.Band(str(label), threshold, span=self.sp(meta), op="<=", when=when)

    @_with_meta
    def band_when_only(self, meta: Any, children: list[Any]) -> n.Band:
        label, when = children
        return n.Band(str(label), None, span=self.sp(meta), when=when)

    @_with_meta
    def band_rest(self, meta: Any, children: list[Any]) -> n.Band:
        return n.Band(str(children[0]), None, span=self.sp(meta))

    @_with_meta
    def bands(self, meta: Any, children: list[Any]) -> n.Bands:
        name, *entries = children
        return n.Bands(
            str(name),
            tuple(e for e in entries if e is not None),
            span=self.sp(meta),
            name_span=self.tok(name),
        )

    # -- examples --------------------------------------------------------------------

    @_with_meta
    def assignment(self, meta: Any, children: list[Any]) -> n.Assignment:
        return n.Assignment(str(children[0]), children[1], span=self.sp(meta))

    @_with_meta
    def example_block(self, meta: Any, children: list[Any]) -> tuple[str, Any, n.Span]:
        name = children[0]
        assignments = tuple(c for c in children[1:] if c is not None)
        return (str(name), assignments, self.tok(name))

    @_with_meta
    def expect(self, meta: Any, children: list[Any]) -> tuple[str, Any, n.Span]:
        return ("expect", children[0], self.sp(meta))

    @_with_meta
    def example(self, meta: Any, children: list[Any]) -> n.Example:
        title, *parts = children
        visit: tuple[n.Assignment, ...] = ()
        answers: tuple[n.Assignment, ...] = ()
        expects: list[n.Expr] = []
        blocks: list[tuple[str, Any, n.Span]] = []
        for kind, value, span in parts:
            if kind == "expect":
                expects.append(value)
                blocks.append((kind, value, span))
            elif kind in ("visit", "answers"):
                blocks.append((kind, value, span))
            else:
                self.diagnostics.error(
                    "E0803",
                    message("E0803.unknown_block.message", block=kind),
                    span,
                    label=message("E0803.unknown_block.label"),
                    help=message("hint.did_you_mean", name=hint)
                    if (hint := did_you_mean(kind, ("visit", "answers")))
                    else message("E0803.unknown_block.help"),
                )
        if sum(kind == "answers" for kind, _, _ in blocks) > 1:
            return self._visits(_unescape(title), blocks, tuple(expects), self.sp(meta))
        for kind, value, _span in blocks:
            if kind == "visit":
                visit += value
            elif kind == "answers":
                answers += value
        return n.Example(_unescape(title), visit, answers, tuple(expects), span=self.sp(meta))

    def _visits(
        self,
        title: str,
        blocks: list[tuple[str, Any, n.Span]],
        expects: tuple[n.Expr, ...],
        span: n.Span,
    ) -> n.Example:
        """An example of several visits: each an `answers { }` block with an optional
        `visit { }` block before it, the expectations after the last (E0804 for any
        other order)."""
        visits: list[n.ExampleVisit] = []
        pending: tuple[Any, n.Span] | None = None  # a `visit { }` waiting for its answers
        last_answers = max(i for i, (kind, _, _) in enumerate(blocks) if kind == "answers")
        for i, (kind, value, at) in enumerate(blocks):
            if kind == "visit":
                if pending is not None:
                    self._order_error(pending[1], "visit_twice")
                pending = (value, at)
            elif kind == "answers":
                before, start = (pending[0], pending[1]) if pending is not None else ((), at)
                visits.append(n.ExampleVisit(before, value, span=start))
                pending = None
            elif i < last_answers:  # an expectation between visits
                self._order_error(at, "expect_between")
        if pending is not None:
            self._order_error(pending[1], "visit_last")
        *earlier, last = visits
        return n.Example(
            title, last.visit, last.answers, expects, span=span, earlier=tuple(earlier)
        )

    def _order_error(self, span: n.Span, why: str) -> None:
        if why == "visit_twice":
            text = message("E0804.order.visit_twice")
        elif why == "visit_last":
            text = message("E0804.order.visit_last")
        else:
            text = message("E0804.order.expect_between")
        self.diagnostics.error(
            "E0804",
            text,
            span,
            label=message("E0804.order.label"),
            help=message("E0804.order.help"),
        )

    # -- expressions -------------------------------------------------------------------

    @_with_meta
    def number(self, meta: Any, c: list[Token]) -> n.Number:
        return n.Number(self.finite(str(c[0]), meta), str(c[0]), span=self.sp(meta))

    def finite(self, text: str, meta: Any) -> float:
        """The value of a number literal; E0508 when no float holds it (it would be inf)."""
        value = float(text)
        if not math.isfinite(value):
            digits = len(text.lstrip("-").split(".")[0])
            self.diagnostics.error(
                "E0508",
                message("E0508.too_large.message", digits=digits),
                self.sp(meta),
                label=message("E0508.too_large.label"),
                help=message("E0508.too_large.help"),
            )
        return value

    @_with_meta
    def string(self, meta: Any, c: list[Token]) -> n.String:
        return n.String(_unescape(c[0]), span=self.sp(meta))

    @_with_meta
    def name(self, meta: Any, c: list[Token]) -> n.Name:
        return n.Name(str(c[0]), span=self.sp(meta))

    @_with_meta
    def attribute(self, meta: Any, c: list[Token]) -> n.Attribute:
        return n.Attribute(str(c[0]), str(c[1]), span=self.sp(meta))

    @_with_meta
    def call(self, meta: Any, c: list[Any]) -> n.Call:
        name, args = c
        return n.Call(str(name), tuple(args or ()), span=self.sp(meta), name_span=self.tok(name))

    def arguments(self, c: list[Any]) -> list[Any]:
        return [a for a in c if a is not None]

    @_with_meta
    def weighted_argument(self, meta: Any, c: list[Any]) -> n.Weighted:
        return n.Weighted(c[0], c[1], span=self.sp(meta))

    @_with_meta
    def select_items(self, meta: Any, c: list[Any]) -> n.Selection:
        return n.Selection("items", span=self.sp(meta))

    @_with_meta
    def select_sections(self, meta: Any, c: list[Any]) -> n.Selection:
        return n.Selection("sections", span=self.sp(meta))

    @_with_meta
    def select_tagged(self, meta: Any, c: list[Token]) -> n.Selection:
        return n.Selection("tagged", str(c[0]), span=self.sp(meta))

    @_with_meta
    def select_in(self, meta: Any, c: list[Token]) -> n.Selection:
        return n.Selection("in", str(c[0]), span=self.sp(meta))

    @_with_meta
    def negate(self, meta: Any, c: list[Any]) -> n.Expr:
        operand = c[0]
        if isinstance(operand, n.Number):  # fold literals so `-1` prints back as written
            return n.Number(-operand.value, "-" + operand.text, span=self.sp(meta))
        return n.Negate(operand, span=self.sp(meta))

    @_with_meta
    def binary(self, meta: Any, c: list[Any]) -> n.Binary:
        return n.Binary(str(c[1]), c[0], c[2], span=self.sp(meta))  # type: ignore[arg-type]

    @_with_meta
    def compare(self, meta: Any, c: list[Any]) -> n.Compare:
        return n.Compare(str(c[1]), c[0], c[2], span=self.sp(meta))  # type: ignore[arg-type]

    @_with_meta
    def or_expr(self, meta: Any, c: list[Any]) -> n.BoolOp:
        return n.BoolOp("or", c[0], c[1], span=self.sp(meta))

    @_with_meta
    def and_expr(self, meta: Any, c: list[Any]) -> n.BoolOp:
        return n.BoolOp("and", c[0], c[1], span=self.sp(meta))

    @_with_meta
    def not_expr(self, meta: Any, c: list[Any]) -> n.Not:
        return n.Not(c[0], span=self.sp(meta))

    @_with_meta
    def if_expr(self, meta: Any, c: list[Any]) -> n.If:
        return n.If(c[0], c[1], c[2], span=self.sp(meta))


# ---- syntax errors -------------------------------------------------------------------


def _terminal_words() -> dict[str, str]:
    return {
        "NAME": message("syntax.terminal.name"),
        "STRING": message("syntax.terminal.string"),
        "NUMBER": message("syntax.terminal.number"),
        "COMP_OP": message("syntax.terminal.comparison"),
        "ADD_OP": message("syntax.terminal.add_op"),
        "MUL_OP": message("syntax.terminal.mul_op"),
        "NEG": "`-`",
        "PIN_VERSION": "`version`",
        "$END": message("syntax.terminal.end"),
    }


def _describe_terminal(parser: Lark, name: str, words: dict[str, str]) -> str:
    if name in words:
        return words[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name
    return f"`{pattern.value}`" if pattern.type == "str" else name


def _expected_text(parser: Lark, expected: set[str]) -> str:
    terminal_words = _terminal_words()
    words = sorted({_describe_terminal(parser, e, terminal_words) for e in expected})
    if len(words) > 8:
        words = [*words[:8], "…"]
    return ", ".join(words)


def _character_hint(char: str) -> str:
    """Hints for characters methodologists type by habit (word processors, other languages)."""
    if char == "'":
        return message("E0002.character.single_quote")
    if char in "«»":
        return message("E0002.character.guillemets")
    if char in "“”":
        return message("E0002.character.curly_quotes")
    if char == "„":
        return message("E0002.character.low_quote")
    if char in "≥≤≠&|":
        written = {"≥": "`>=`", "≤": "`<=`", "≠": "`!=`", "&": "`and`", "|": "`or`"}[char]
        return message("E0002.character.write", text=written)
    if char == "!":
        return message("E0002.character.exclamation")
    if char == "%":
        return message("E0002.character.percent")
    if char == ";":
        return message("E0002.character.semicolon")
    if char in "[]":
        return message("E0002.character.brackets")
    return message("E0002.character.other")


def _misplaced(text: str, expected: set[str], span: n.Span) -> Diagnostic | None:
    """E0004 for a declaration keyword where declarations of its kind cannot stand."""
    if text not in DECLARATION_KEYWORDS:
        return None
    if expected <= {"IMPORT", "STANDARD", "$END"}:
        return Diagnostic(
            "E0004",
            message("E0004.outside_standard.message", keyword=text),
            span,
            label=message("E0004.outside_standard.label"),
            help=message("E0004.outside_standard.help"),
        )
    if "ITEM" in expected and "SECTION" not in expected:
        return Diagnostic(
            "E0004",
            message("E0004.nested_section.message")
            if text == "section"
            else message("E0004.in_section.message", keyword=text),
            span,
            label=message("E0004.in_section.label"),
            help=message("E0004.in_section.help"),
        )
    if text == "standard":
        return Diagnostic(
            "E0004",
            message("E0004.nested_standard.message"),
            span,
            label=message("E0004.nested_standard.label"),
            help=message("E0004.nested_standard.help"),
        )
    if text == "expect" and "SECTION" in expected:
        return Diagnostic(
            "E0004",
            message("E0004.expect_outside.message"),
            span,
            label=message("E0004.expect_outside.label"),
            help=message("E0004.expect_outside.help"),
        )
    return None


def _syntax_diagnostic(
    parser: Lark, file: str, err: UnexpectedInput, source: str = ""
) -> Diagnostic:
    line, column = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        return _end_of_file(parser, file, err, source)
    if isinstance(err, UnexpectedCharacters):
        span = n.Span(file, line, column, line, column + 1)
        char = err.char
        if char == '"':
            # lark declares `pos_in_stream` as None; its lexer always sets the offset
            pos = err.pos_in_stream or 0
            end = source.find("\n", pos) if source else -1
            end_col = column + ((end if end != -1 else len(source)) - pos)
            return Diagnostic(
                "E0002",
                message("E0002.unterminated.message"),
                n.Span(file, line, column, line, max(end_col, column + 1)),
                label=message("E0002.unterminated.label"),
                help=message("E0002.unterminated.help"),
            )
        return Diagnostic(
            "E0002",
            message("E0002.character.message", char=char),
            span,
            label=message("E0002.character.label"),
            help=_character_hint(char),
        )
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    text = str(tok)
    end_col = (tok.end_column or column + len(text)) if tok.end_line == tok.line else column + 1
    span = n.Span(file, line, column, line, end_col, tok.start_pos or 0, tok.end_pos or 0)
    expected = set(err.expected)
    misplaced = _misplaced(text, expected, span) if tok.type == text.upper() else None
    if misplaced is not None:
        return misplaced
    if text in KEYWORDS and "NAME" in expected:
        return Diagnostic(
            "E0103",
            message("E0103.reserved_here.message", name=text),
            span,
            label=message("E0103.reserved.label"),
            help=message("E0103.reserved.help", name=text),
        )
    if text == "." and tok.type != "NAME":
        help_text = message("E0001.hint.leading_point")
    elif text == "=" and "COMP_OP" in expected:
        help_text = message("E0001.hint.compare")
    elif text == "=" and expected <= {"NUMBER", "NEG"}:
        help_text = message("E0001.hint.no_equals")
    elif "STRING" in expected and tok.type == "NAME" and len(expected) <= 2:
        help_text = message("E0001.hint.title")
    elif _in_field_declaration(source, line, column) and (
        tok.type == "STRING" or text in _FIELD_OPTION_WORDS
    ):
        help_text = message("E0001.field_hint.field_order")
    else:
        help_text = message("syntax.expected", what=_expected_text(parser, expected))
    return Diagnostic(
        "E0001",
        message("E0001.unexpected.message", token=text),
        span,
        label=message("E0001.unexpected.label"),
        help=help_text,
    )


#: The words of a `field` declaration after its name (`field NAME ["title"] [TYPE]
#: [required] [one of { … }]`).
_FIELD_OPTION_WORDS = frozenset(
    {"text", "number", "date", "datetime", "duration", "required", "one"}
)


def _in_field_declaration(source: str, line: int, column: int) -> bool:
    """Whether the text before `column` of `line` is a `field` declaration's start."""
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return False
    words = lines[line - 1][: column - 1].split()
    return len(words) >= 2 and words[0] == "field"


def _end_of_file(parser: Lark, file: str, err: UnexpectedInput, source: str) -> Diagnostic:
    """E0003, pointing just after the last thing written, and at the `{` left open."""
    last = source.rstrip()
    line = last.count("\n") + 1
    column = len(last) - (last.rfind("\n") + 1) + 1
    expected = set(getattr(err, "expected", ()) or ())
    notes: tuple[str, ...] = ()
    opened = _unclosed_brace(source)
    if opened is not None:
        notes = (message("E0003.unclosed.note", where=f"{file}:{opened[0]}:{opened[1]}"),)
    hint = (
        message("syntax.expected", what=_expected_text(parser, expected))
        if expected
        else message("E0003.unclosed.cut_short")
    )
    if "RBRACE" in expected:
        hint += message("E0003.unclosed.brace_missing")
    return Diagnostic(
        "E0003",
        message("E0003.unclosed.message"),
        n.Span(file, line, column, line, column + 1),
        label=message("E0003.unclosed.label"),
        notes=notes,
        help=hint,
    )


def _unclosed_brace(source: str) -> tuple[int, int] | None:
    """Line and column of the innermost `{` never closed (strings and comments skipped)."""
    stack: list[tuple[int, int]] = []
    line, col, i = 1, 1, 0
    in_string = False
    while i < len(source):
        ch = source[i]
        if in_string:
            if ch == "\\":
                i += 2
                col += 2
                continue
            if ch in '"\n':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            j = source.find("\n", i)
            j = len(source) if j == -1 else j
            col += j - i
            i = j
            continue
        elif ch == "{":
            stack.append((line, col))
        elif ch == "}" and stack:
            stack.pop()
        if ch == "\n":
            line += 1
            col = 1
        else:
            col += 1
        i += 1
    return stack[-1] if stack else None


def parse(source: str, file: str = "<string>") -> n.Module:
    """Parse `.sbm` text into a `Module`; raise `CompileError` with diagnostics on failure."""
    parser = _parser()
    diagnostics = Diagnostics()
    try:
        tree = parser.parse(source)
    except UnexpectedInput as err:
        diagnostics.add(_syntax_diagnostic(parser, file, err, source))
        raise CompileError(diagnostics, {file: source}) from None
    if not _nesting_ok(tree, file, diagnostics):
        raise CompileError(diagnostics, {file: source})
    module = _ToNodes(file, diagnostics).transform(tree)
    if diagnostics.has_errors:
        raise CompileError(diagnostics, {file: source})
    return n.Module(
        file,
        module.imports,
        module.standards,
        comments=tuple(_comments(source, file)),
        source=source,
    )


#: How deep an expression may nest. Every later stage (the checker, both backends,
#: the formatter) walks expressions recursively, so depth is bounded here, where the
#: error can be shown at its place: a sum of some hundreds of terms passes, a
#: recursion bomb does not.
MAX_NESTING = 200
#: How deep conditions may nest, counted as the blocks the per-visit backend opens
#: for them (Python indents at most 100 levels): an `if`'s branches one or two levels
#: (an `else if` ladder is compiled flat and costs nothing per step), the right side
#: of `and`/`or` one.
MAX_BLOCKS = 90


def _block_cost(node: Tree[Token], index: int) -> int:
    """The blocks the per-visit backend opens around child `index` of `node`."""
    if node.data == "if_expr":
        child = node.children[index]
        if index == 2:  # else: a further step of a ladder, or the ladder's last value
            return 0 if isinstance(child, Tree) and child.data == "if_expr" else 1
        return 1 if index == 0 else 2
    if node.data in ("and_expr", "or_expr"):
        return index  # the left side is computed first, the right one inside a block
    return 0


def _nesting_ok(tree: Tree[Token], file: str, diagnostics: Diagnostics) -> bool:
    """E0005 at the first expression nested beyond the limits (walked without recursion)."""
    stack: list[tuple[Tree[Token], int, int]] = [(tree, 0, 0)]
    while stack:
        node, depth, blocks = stack.pop()
        if depth > MAX_NESTING or blocks > MAX_BLOCKS:
            diagnostics.error(
                "E0005",
                message("E0005.too_deep.conditions")
                if blocks > MAX_BLOCKS
                else message("E0005.too_deep.levels", levels=MAX_NESTING),
                _span(file, node.meta),
                label=message("E0005.too_deep.label"),
                help=message("E0005.too_deep.help"),
            )
            return False
        for index, child in enumerate(node.children):
            if isinstance(child, Tree):
                stack.append((child, depth + 1, blocks + _block_cost(node, index)))
    return True


#: A string literal (ending at its quote or at the end of the line, backslash escapes
#: skipped) or a comment; strings are matched only so a `#` inside one is passed over.
_STRING_OR_COMMENT = re.compile(r'"(?:\\[\s\S]|[^"\\\n])*"?|#[^\n]*')


def _comments(source: str, file: str) -> list[n.Comment]:
    """Every `#` comment outside strings, with its position (the grammar ignores them).

    One regular-expression scan (a character loop in Python took a tenth of the
    parse time of a 1,000-item standard); lines are counted between matches."""
    out: list[n.Comment] = []
    line, counted = 1, 0
    for m in _STRING_OR_COMMENT.finditer(source):
        text = m.group()
        if not text.startswith("#"):
            continue
        i = m.start()
        line += source.count("\n", counted, i)
        counted = i
        col = i - source.rfind("\n", 0, i)
        text = text.rstrip()
        span = n.Span(file, line, col, line, col + len(text), i, i + len(text))
        out.append(n.Comment(text, span))
    return out
