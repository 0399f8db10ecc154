"""`repeat NAME in { key "Title", … } { … }`: a block of items and sections, once per key.

Each copy declares every name of the block with the suffix `_key` (`rate_told` becomes
`rate_told_deposit`); a reference inside the block to a name the block declares reads
the same copy's name, anything else is left as written; `{NAME}` inside any string of
the block becomes the key's title. Copies keep the positions of what they were copied
from, so a diagnostic about a copy points into the block. The loader expands a block
where it stands, before this layer's declarations are taken in; the tree (and `sbm fmt`)
keeps the block as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs

from . import nodes as n
from .diagnostics import Diagnostics, did_you_mean
from .messages import message

#: `{word}` inside a string of a block: a placeholder.
_PLACEHOLDER = re.compile(r"\{((?!\d)\w+)\}")

_N = TypeVar("_N")


def declared(rep: n.Repeat) -> list[tuple[str, n.Span]]:
    """The names the block declares (sections and items), with where each is written."""
    out: list[tuple[str, n.Span]] = []
    for member in rep.members:
        out.append((member.name, member.name_span))
        if isinstance(member, n.Section):
            out += [(item.name, item.name_span) for item in member.items]
    return out


def expand(rep: n.Repeat, diagnostics: Diagnostics) -> list[n.Item | n.Section]:
    """The block's copies, key by key; unknown placeholders are E0613 (once each)."""
    names = {name for name, _ in declared(rep)}
    _check_placeholders(rep, diagnostics)
    out: list[n.Item | n.Section] = []
    for key in rep.keys:
        renamed = {name: f"{name}_{key.key}" for name in names}
        copy = _Copy(renamed, rep.name, key.title)
        out += [copy.member(m) for m in rep.members]
    return out


def _check_placeholders(rep: n.Repeat, diagnostics: Diagnostics) -> None:
    for text, span in _strings(rep):
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) == rep.name:
                continue
            hint = did_you_mean(m.group(1), [rep.name])
            diagnostics.error(
                "E0613",
                message("E0613.placeholder.message", placeholder=m.group(0), name=rep.name),
                span,
                label=message("E0613.placeholder.label"),
                help=message("hint.did_you_mean", name=hint)
                if hint
                else message("E0613.placeholder.help", name=rep.name),
            )


def _strings(rep: n.Repeat) -> Iterator[tuple[str, n.Span]]:
    """Every string of the block, with where it is written (a question or a title
    at its declaration's name)."""

    def in_expr(node: Any) -> Iterator[tuple[str, n.Span]]:
        if isinstance(node, n.String):
            yield node.value, node.span
        elif attrs.has(type(node)):
            for field in attrs.fields(type(node)):
                value = getattr(node, field.name)
                for child in value if isinstance(value, tuple) else (value,):
                    if attrs.has(type(child)) and not isinstance(child, n.Span):
                        yield from in_expr(child)

    for member in rep.members:
        items = member.items if isinstance(member, n.Section) else (member,)
        if isinstance(member, n.Section):
            if member.title is not None:
                yield member.title, member.name_span
            yield from in_expr(member.when)
        for item in items:
            yield item.question, item.name_span
            for expr in (item.when, item.score, item.value, item.critical_if):
                yield from in_expr(expr)


@attrs.frozen
class _Copy:
    """One key's copy of a block's declarations."""

    renamed: dict[str, str]
    placeholder: str
    title: str

    def text(self, value: str) -> str:
        return value.replace("{" + self.placeholder + "}", self.title)

    def name(self, node: n.Name | None) -> n.Name | None:
        if node is None or node.name not in self.renamed:
            return node
        return attrs.evolve(node, name=self.renamed[node.name])

    def member(self, member: n.Item | n.Section) -> n.Item | n.Section:
        if isinstance(member, n.Section):
            return attrs.evolve(
                member,
                name=self.renamed[member.name],
                title=None if member.title is None else self.text(member.title),
                items=tuple(self.item(i) for i in member.items),
                when=self.expr(member.when),
                after=self.name(member.after),
                before=self.name(member.before),
            )
        return self.item(member)

    def item(self, item: n.Item) -> n.Item:
        return attrs.evolve(
            item,
            name=self.renamed[item.name],
            question=self.text(item.question),
            when=self.expr(item.when),
            score=self.expr(item.score),
            value=self.expr(item.value),
            critical_if=self.expr(item.critical_if),
            section_in=self.name(item.section_in),
            after=self.name(item.after),
            before=self.name(item.before),
        )

    def expr(self, node: _N) -> _N:
        """An expression with the block's names renamed and its strings filled in."""
        return _map(node, self._leaf)

    def _leaf(self, node: Any) -> Any:
        if isinstance(node, n.Name):
            return self.name(node)
        if isinstance(node, n.String):
            return attrs.evolve(node, value=self.text(node.value))
        if isinstance(node, n.Selection) and node.kind == "in" and node.name in self.renamed:
            return attrs.evolve(node, name=self.renamed[node.name])
        return None


def _map(node: _N, leaf: Callable[[Any], Any]) -> _N:
    """`node` rebuilt bottom-up, each node `leaf` answers for replaced by its answer."""
    out: Any = _map_any(node, leaf)
    return out  # type: ignore[no-any-return]


def _map_any(node: Any, leaf: Callable[[Any], Any]) -> Any:
    if node is None or not attrs.has(type(node)) or isinstance(node, n.Span):
        return node
    replaced = leaf(node)
    if replaced is not None:
        return replaced
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(node)):
        if not field.eq:
            continue  # spans
        value = getattr(node, field.name)
        new = (
            tuple(_map_any(v, leaf) for v in value)
            if isinstance(value, tuple)
            else _map_any(value, leaf)
        )
        if new != value:
            changes[field.name] = new
    return attrs.evolve(node, **changes) if changes else node
