"""Where a layer's sections and items go among those it inherits.

A standard's own section goes, by default, where a declaration of its name already
was or else at the end; `section NAME after OTHER` / `before OTHER` puts it (with
its items) right after or before the section `OTHER`. An item declared outside any
section block with `in SECTION` goes at the end of that section, or right after or
before one of its items (`after ITEM`, `before ITEM`). Several placed next to the
same anchor keep the order they were declared in. The loader calls `place` on each
layer's namespace once that layer's own declarations are in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import nodes as n
from .diagnostics import Diagnostics, did_you_mean
from .messages import message

if TYPE_CHECKING:
    from .loader import Decl

Entry = tuple[str, "Decl"]


def place(ns: dict[str, Decl], own: Mapping[str, Decl], diagnostics: Diagnostics) -> None:
    """Move this layer's placed sections and `in` items to their places in `ns`
    (a namespace in declaration order, changed in place); report unknown anchors
    (E0204, E0201) and placements that go round in a circle (E0610)."""
    sections = {k for k, d in ns.items() if d.kind == "section"}
    placed_sections = {
        name: decl
        for name, decl in own.items()
        if decl.kind == "section" and (decl.node.after or decl.node.before)
    }
    items = {
        name: decl
        for name, decl in own.items()
        if decl.kind == "item" and decl.node.section_in is not None and decl.section is not None
    }
    if not placed_sections and not items:
        return
    entries = list(ns.items())
    if items:
        entries = _place_items(entries, items, diagnostics)
    if placed_sections:
        entries = _place_sections(entries, placed_sections, sections, diagnostics)
    ns.clear()
    ns.update(entries)


def _anchor(node: n.Section | n.Item) -> tuple[str, n.Name] | None:
    if node.after is not None:
        return "after", node.after
    if node.before is not None:
        return "before", node.before
    return None


def _unknown_section(name: n.Name, sections: set[str], diagnostics: Diagnostics) -> None:
    hint = did_you_mean(name.name, sections)
    diagnostics.error(
        "E0204",
        message("E0204.unknown_section.message", section=name.name),
        name.span,
        label=message("E0204.unknown_section.label"),
        help=message("hint.did_you_mean", name=hint) if hint else message("E0204.placed.help"),
    )


def _cycles(
    anchors: dict[str, tuple[str, n.Name]], spans: Callable[[str], n.Span], diagnostics: Diagnostics
) -> set[str]:
    """The names whose anchors lead round to themselves, each circle reported once (E0610)."""
    bad: set[str] = set()
    done: set[str] = set()
    for start in anchors:
        path: list[str] = []
        name = start
        while name in anchors and name not in done and name not in path:
            path.append(name)
            name = anchors[name][1].name
        if name in path:  # a circle: from `name` round to itself
            circle = path[path.index(name) :]
            chain = " -> ".join(f"{x} {anchors[x][0]} {anchors[x][1].name}" for x in circle)
            diagnostics.error(
                "E0610",
                message("E0610.circle.message", names=", ".join(f"`{x}`" for x in circle)),
                spans(circle[0]),
                label=message("E0610.circle.label"),
                notes=(chain,),
                help=message("E0610.circle.help"),
            )
            bad.update(circle)
        done.update(path)
    return bad


def _place_sections(
    entries: list[Entry],
    placed: dict[str, Decl],
    sections: set[str],
    diagnostics: Diagnostics,
) -> list[Entry]:
    anchors: dict[str, tuple[str, n.Name]] = {}
    for name, decl in placed.items():
        where = _anchor(decl.node)
        assert where is not None
        if where[1].name not in sections:
            _unknown_section(where[1], sections, diagnostics)
            continue
        anchors[name] = where
    for name in _cycles(anchors, lambda x: anchors[x][1].span, diagnostics):
        del anchors[name]
    if not anchors:
        return entries
    # Each placed section leaves with its items, as one block ...
    blocks: dict[str, list[Entry]] = {name: [] for name in anchors}
    rest: list[Entry] = []
    for name, decl in entries:
        owner = name if decl.kind == "section" else decl.section if decl.kind == "item" else None
        if owner in blocks:
            blocks[owner].append((name, decl))
        else:
            rest.append((name, decl))
    after: dict[str, list[str]] = {}
    before: dict[str, list[str]] = {}
    for name, (side, anchor) in anchors.items():
        (after if side == "after" else before).setdefault(anchor.name, []).append(name)

    def tree(name: str) -> list[Entry]:
        """A placed section's block, with the sections placed next to it around it."""
        out = [e for b in before.get(name, ()) for e in tree(b)]
        out += blocks[name]
        out += [e for a in after.get(name, ()) for e in tree(a)]
        return out

    # ... and comes back next to its anchor: before its declaration, or after it and
    # the items that follow it.
    result: list[Entry] = []
    for name, decl in rest:
        if decl.kind == "section":
            result += [e for b in before.get(name, ()) for e in tree(b)]
        result.append((name, decl))
    for target, names in after.items():
        if target in anchors:
            continue  # placed itself: its followers came with its tree
        at = 1 + next(i for i, (k, _) in enumerate(result) if k == target)
        while at < len(result) and result[at][1].kind == "item" and result[at][1].section == target:
            at += 1
        result[at:at] = [e for a in names for e in tree(a)]
    return result


def _place_items(
    entries: list[Entry], placed: dict[str, Decl], diagnostics: Diagnostics
) -> list[Entry]:
    anchors: dict[str, tuple[str, n.Name]] = {}
    for name, decl in placed.items():
        node: n.Item = decl.node
        where = _anchor(node)
        if where is None:
            continue
        members = [k for k, d in entries if d.kind == "item" and d.section == decl.section]
        if where[1].name not in members or where[1].name == name:
            hint = did_you_mean(where[1].name, [m for m in members if m != name])
            diagnostics.error(
                "E0201",
                message("E0201.not_in_section.message", item=where[1].name, section=decl.section),
                where[1].span,
                label=message("E0201.not_in_section.label"),
                help=message("hint.did_you_mean", name=hint)
                if hint
                else message("E0201.not_in_section.help", section=decl.section),
            )
            continue
        anchors[name] = where
    bad = _cycles(anchors, lambda x: anchors[x][1].span, diagnostics)
    for name in bad:
        del anchors[name]
    # In declaration order, an anchor placed before what is placed next to it.
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in anchors and anchors[name][1].name in placed:
            visit(anchors[name][1].name)
        order.append(name)

    for key in placed:
        visit(key)
    result = [e for e in entries if e[0] not in placed]
    last_after: dict[str, str] = {}  # anchor -> the item placed after it last
    for name in order:
        decl = placed[name]
        entry = (name, decl)
        where = anchors.get(name)
        if where is None:  # the end of the section: after its last item, or itself
            at = 1 + max(
                j
                for j, (k, d) in enumerate(result)
                if k == decl.section or (d.kind == "item" and d.section == decl.section)
            )
        elif where[0] == "before":
            at = next(j for j, (k, _) in enumerate(result) if k == where[1].name)
        else:
            behind = last_after.get(where[1].name, where[1].name)
            at = 1 + next(j for j, (k, _) in enumerate(result) if k == behind)
            last_after[where[1].name] = name
        result.insert(at, entry)
    return result
