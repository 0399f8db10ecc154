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
