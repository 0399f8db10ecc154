"""`sbm diff`: what changed between two versions of a standard, in the methodologist's terms."""

from __future__ import annotations

from typing import Any

from .export import _item
from .model import StandardModel


def diff(old: StandardModel, new: StandardModel) -> dict[str, Any]:
    """Added, removed and changed items, sections, coefficients, targets and bands."""

    def table(m: StandardModel) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            "items": {i.name: {**_item(i), "section": i.section} for i in m.items},
            "sections": {
                s.name: {"title": s.title, "weight": s.weight, "when": s.when_text}
                for s in m.sections
            },
            "coefficients": {c.name: {"title": c.title, "formula": c.text} for c in m.coefficients},
            "rollups": {r.name: {"title": r.title, "formula": r.text} for r in m.rollups},
            "targets": {c: {"target": t} for c, t in m.targets.items()},
            "bands": {c: {"bands": [list(x) for x in b.bands]} for c, b in m.bands.items()},
        }

    a, b = table(old), table(new)
    out: dict[str, Any] = {
        "old": f"{old.name} {old.version or ''}".strip(),
        "new": f"{new.name} {new.version or ''}".strip(),
    }
    for kind in a:
        added = [k for k in b[kind] if k not in a[kind]]
        removed = [k for k in a[kind] if k not in b[kind]]
        changed = []
        for k in a[kind]:
            if k in b[kind] and a[kind][k] != b[kind][k]:
                fields = {
                    f: {"old": a[kind][k].get(f), "new": b[kind][k].get(f)}
                    for f in {*a[kind][k], *b[kind][k]}
                    if a[kind][k].get(f) != b[kind][k].get(f)
                }
                changed.append({"name": k, "changes": dict(sorted(fields.items()))})
        out[kind] = {"added": added, "removed": removed, "changed": changed}
    return out


def render(d: dict[str, Any]) -> str:
    lines = [f"{d['old']} -> {d['new']}"]
    empty = True
    for kind in ("items", "sections", "coefficients", "rollups", "targets", "bands"):
        part = d[kind]
        for name in part["added"]:
            lines.append(f"+ {kind[:-1]} {name}")
            empty = False
        for name in part["removed"]:
            lines.append(f"- {kind[:-1]} {name}")
            empty = False
        for ch in part["changed"]:
            empty = False
            lines.append(f"~ {kind[:-1]} {ch['name']}")
            for field, v in ch["changes"].items():
                lines.append(f"    {field}: {v['old']!r} -> {v['new']!r}")
    if empty:
        lines.append("no changes")
    return "\n".join(lines)


def has_changes(d: dict[str, Any]) -> bool:
    return any(
        d[k][x]
        for k in ("items", "sections", "coefficients", "rollups", "targets", "bands")
        for x in ("added", "removed", "changed")
    )
