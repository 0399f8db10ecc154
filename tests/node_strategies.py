"""Hypothesis strategies for syntax trees (`sbm_engine.nodes`), for the formatter's tests:
the formatter must print any tree so that it parses back to the same tree."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sbm_engine import nodes as n

digits = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True)


@st.composite
def signed(draw: st.DrawFn) -> n.Number:
    """A number as `signed_number` reads it: an optional minus, then digits."""
    text = draw(st.sampled_from(["", "-"])) + draw(digits)
    return n.Number(float(text), text)


@st.composite
def literal(draw: st.DrawFn) -> n.Number:
    """A number in an expression: the parser folds leading minus signs into it."""
    text = draw(digits)
    minus = draw(st.integers(0, 2))
    return n.Number((-1) ** minus * float(text), "-" * minus + text)


def tuples(strategy: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[tuple]:
    return st.lists(strategy, max_size=max_size).map(tuple)


def expressions(
    names: st.SearchStrategy[str],
    texts: st.SearchStrategy[str],
    *,
    call_names: st.SearchStrategy[str] | None = None,
    attribute_owners: st.SearchStrategy[str] | None = None,
    max_leaves: int = 6,
    max_args: int = 3,
) -> st.SearchStrategy[n.Expr]:
    """Every kind of expression, nested, with the names and texts given."""

    def extend(children: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
        arguments = st.one_of(
            children,
            st.builds(n.Selection, st.sampled_from(["items", "sections"])),
            st.builds(n.Selection, st.sampled_from(["tagged", "in"]), names),
            st.builds(n.Weighted, children, children),
        )
        return st.one_of(
            st.builds(n.Negate, children.filter(lambda e: not isinstance(e, n.Number))),
            st.builds(n.Binary, st.sampled_from(["+", "-", "*", "/"]), children, children),
            st.builds(
                n.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children
            ),
            st.builds(n.BoolOp, st.sampled_from(["and", "or"]), children, children),
            st.builds(n.Not, children),
            st.builds(n.If, children, children, children),
            st.builds(
                n.Call, names if call_names is None else call_names, tuples(arguments, max_args)
            ),
        )

    return st.recursive(
        st.one_of(
            literal(),
            st.builds(n.String, texts),
            st.builds(n.Name, names),
            st.builds(n.Attribute, names if attribute_owners is None else attribute_owners, names),
        ),
        extend,
        max_leaves=max_leaves,
    )


def items(
    names: st.SearchStrategy[str],
    texts: st.SearchStrategy[str],
    exprs: st.SearchStrategy[n.Expr],
    entries: st.SearchStrategy[tuple],
    *,
    scale_names: st.SearchStrategy[str],
    tags: st.SearchStrategy[tuple],
) -> st.SearchStrategy[n.Item]:
    """Items with every kind of answer and every option."""
    return st.builds(
        n.Item,
        names,
        texts,
        st.one_of(
            st.builds(n.ScaleAnswer, scale_names),
            st.builds(n.InlineScaleAnswer, entries),
            st.just(n.NumberAnswer()),
            st.builds(n.NumberAnswer, signed(), signed()),
            st.just(n.TextAnswer()),
        ),
        weight=st.none() | signed(),
        tags=tags,
        presence=st.sampled_from([None, "required", "optional"]),
        critical=st.booleans(),
        bonus=st.booleans(),
        when=st.none() | exprs,
        score=st.none() | exprs,
    )


#: The text of a comment, with the characters that trip a printer.
comment_texts = st.text(st.sampled_from(list('bя "#\\{}')), max_size=10).map(
    lambda s: ("#" + s).rstrip()
)


def gaps(text: str, after_parens: bool = False) -> list[int]:
    """Offsets of the spaces between tokens (outside strings) of printed text; with
    `after_parens`, also the places right after the `(` of a call, negated (nothing
    is replaced there, a break is inserted)."""
    out: list[int] = []
    in_string, i = False, 0
    while i < len(text):
        ch = text[i]
        if in_string and ch == "\\":
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        elif ch == " " and not in_string:
            out.append(i)
        elif (
            after_parens
            and ch == "("
            and not in_string
            and i
            and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            out.append(-(i + 1))
        i += 1
    return out


@st.composite
def broken_up(
    draw: st.DrawFn, text: str, max_breaks: int = 8, after_parens: bool = False
) -> tuple[str, list[str]]:
    """`text` with some spaces between tokens replaced by line breaks, trailing
    comments or own-line comments (and, with `after_parens`, line breaks after some
    `(`); returns the text and the comments added, in order."""
    points = gaps(text, after_parens)
    chosen = (
        sorted(set(draw(st.lists(st.sampled_from(points), max_size=max_breaks))), key=abs)
        if points
        else []
    )
    pieces: list[str] = []
    comments: list[str] = []
    last = 0
    for offset in chosen:
        if offset < 0:  # right after `(`: a line break, kept as the author's
            pieces += [text[last:-offset], "\n" + " " * draw(st.integers(0, 6))]
            last = -offset
            continue
        pieces.append(text[last:offset])
        kind = draw(st.sampled_from(["newline", "trailing", "own line"]))
        indent = " " * draw(st.integers(0, 6))
        if kind == "newline":
            pieces.append("\n" + indent)
        else:
            comment = draw(comment_texts)
            comments.append(comment)
            pieces.append((" " if kind == "trailing" else "\n  ") + comment + "\n" + indent)
        last = offset + 1
    pieces.append(text[last:])
    return "".join(pieces), comments
