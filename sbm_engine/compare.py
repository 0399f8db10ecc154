"""`sbm diff`: what changed between two versions of a standard, in the methodologist's terms."""

from __future__ import annotations

from typing import Any

import attrs

from .export import _item
from .messages import message
from .model import BandsModel, ItemModel, ScaleModel, StandardModel

#: The kinds of declaration compared, in the order they are shown.
KINDS = (
    "constants",
    "scales",
    "fields",
    "items",
    "sections",
    "coefficients",
    "rollups",
    "targets",
    "bands",
)
#: Fields that change what people read but not a single score.
_WORDING = frozenset({"title", "question"})


def diff(old: StandardModel, new: StandardModel) -> dict[str, Any]:
    """Added, removed and changed constants, scales, visit fields, items, sections,
    coefficients, targets and bands, each change once: a named scale's change is listed
    under the scale, not under every item that uses it. `warnings` says when scoring
    changed but the version did not."""

    def table(m: StandardModel) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            "constants": {name: {"value": text} for name, (_v, text) in m.constants.items()},
            "scales": {name: {"entries": _entries(sc)} for name, sc in m.scales.items()},
            "fields": {
                f.name: {
                    "title": f.title,
                    "type": f.type,
                    "required": f.required,
                    "values": list(f.values) if f.values is not None else None,
                }
                for f in m.fields.values()
            },
            "items": {
                i.name: {**_item(i), "answer": _answer_text(i), "section": i.section}
                for i in m.items
            },
            "sections": {
                s.name: {"title": s.title, "weight": s.weight, "when": s.when_text}
                for s in m.sections
            },
            "coefficients": {
                c.name: {"title": c.title, "formula": c.text} for c in (*m.coefficients, *m.labels)
            },
            "rollups": {r.name: {"title": r.title, "formula": r.text} for r in m.rollups},
            "targets": {c: {"target": t} for c, t in m.targets.items()},
            "bands": {c: {"bands": _bands_text(b)} for c, b in m.bands.items()},
        }

    a, b = table(old), table(new)
    out: dict[str, Any] = {
        "old": f"{old.name} {old.version or ''}".strip(),
        "new": f"{new.name} {new.version or ''}".strip(),
    }
    scoring = False
    for kind in KINDS:
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
                scoring = scoring or not set(fields) <= _WORDING
        scoring = scoring or bool(added or removed)
        out[kind] = {"added": added, "removed": removed, "changed": changed}
    out["warnings"] = (
        [
            message("diff.same_version", version=new.version)
            if new.version
            else message("diff.no_version")
        ]
        if scoring and old.version == new.version
        else []
    )
    return out


def _entries(scale: ScaleModel) -> str:
    """`yes = 1 alias "да", no = 0`: a scale as the language writes it (a points or
    penalty scale with its kind and points)."""
    parts = []
    for e in scale.entries:
        text = f"{e.label} = {_num(e.points if e.points is not None else e.score)}"
        if e.aliases:
            text += " alias " + " ".join(f'"{x}"' for x in e.aliases)
        parts.append(text)
    entries = ", ".join(parts)
    return entries if scale.kind == "score" else f"{scale.kind} {{ {entries} }}"


def _answer_text(it: ItemModel) -> str:
    if it.kind == "multi" and it.scale is not None:  # `any of SCALE`, `any of { a = 2, … }`
        if ":" not in it.scale.name:
            return f"any of scale {it.scale.name}"
        entries = _entries(attrs.evolve(it.scale, kind="score"))
        return "any of { " + entries + " }"
    if it.kind == "scale" and it.scale is not None:
        if ":" not in it.scale.name:  # a named scale: its entries are compared under `scales`
            return f"scale {it.scale.name}"
        return "{ " + _entries(it.scale) + " }"
    if it.kind == "number":
        if it.low is None or it.high is None:
            return "number"
        return f"number {_num(it.low)}..{_num(it.high)}"
    return "text"


def _bands_text(bands: BandsModel) -> str:
    """`good >= 0.75, fair <= …, poor`: bands as the language writes them, conditions too."""
    texts = bands.condition_texts or (None,) * len(bands.bands)
    parts = []
    for (label, t), when in zip(bands.bands, texts, strict=True):
        text = label if t is None else f"{label} {bands.op} {_num(t)}"
        parts.append(text if when is None else f"{text} when {when}")
    return ", ".join(parts)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def render(d: dict[str, Any]) -> str:
    lines = [f"{d['old']} -> {d['new']}"]
    empty = True
    for kind in KINDS:
        part = d[kind]
        word = _kind_word(kind)
        for name in part["added"]:
            lines.append(f"+ {word} {name}")
            empty = False
        for name in part["removed"]:
            lines.append(f"- {word} {name}")
            empty = False
        for ch in part["changed"]:
            empty = False
            lines.append(f"~ {word} {ch['name']}")
            for field, v in ch["changes"].items():
                lines.append(f"    {field}: {_shown(v['old'])} -> {_shown(v['new'])}")
    if empty:
        lines.append(message("diff.no_changes"))
    lines += [f"{message('diag.warning')}: {w}" for w in d.get("warnings", ())]
    return "\n".join(lines)


def _kind_word(kind: str) -> str:
    """The word before a name in `sbm diff`'s lines: `+ item greeted`."""
    return {
        "constants": lambda: message("diff.kind.constant"),
        "scales": lambda: message("diff.kind.scale"),
        "fields": lambda: message("diff.field_kind.field"),
        "items": lambda: message("diff.kind.item"),
        "sections": lambda: message("diff.kind.section"),
        "coefficients": lambda: message("diff.kind.coefficient"),
        "rollups": lambda: message("diff.kind.rollup"),
        "targets": lambda: message("diff.kind.target"),
        "bands": lambda: message("diff.kind.bands"),
    }[kind]()


def _shown(value: Any) -> str:
    if value is None:
        return message("diff.none")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or message("diff.none")
    if isinstance(value, float):
        return _num(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def has_changes(d: dict[str, Any]) -> bool:
    return any(d[k][x] for k in KINDS for x in ("added", "removed", "changed"))
