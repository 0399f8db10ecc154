"""A standard's questionnaire for other systems: JSON, TOML, and a JSON Schema of a visit.

Field apps need the questions, the answer options and when each question is asked;
conditions are exported as their source text (they are formulas of the language,
which a field app shows or evaluates with this engine). The JSON Schema validates
one visit record in the JSONL input shape.
"""

from __future__ import annotations

from typing import Any

from .model import BUILTIN_FIELDS, ItemModel, StandardModel
from .runtime import NA_TOKENS


def _answer(it: ItemModel) -> dict[str, Any]:
    if it.kind == "scale" and it.scale is not None:
        return {
            "type": "scale",
            "scale": None if ":" in it.scale.name else it.scale.name,
            "options": [
                {"label": e.label, "score": e.score, "aliases": list(e.aliases)}
                for e in it.scale.entries
            ],
        }
    if it.kind == "number":
        return {"type": "number", "min": it.low, "max": it.high}
    return {"type": "text"}


def _item(it: ItemModel) -> dict[str, Any]:
    return {
        "name": it.name,
        "question": it.question,
        "answer": _answer(it),
        "weight": it.weight,
        "tags": list(it.tags),
        "presence": it.presence or "default",
        "critical": it.critical,
        "bonus": it.bonus,
        "when": it.when_text,
        "score": it.score_text,
    }


def questionnaire(m: StandardModel) -> dict[str, Any]:
    in_section = {i for s in m.sections for i in s.items}
    items = {i.name: i for i in m.items}
    return {
        "standard": m.name,
        "title": m.title,
        "version": m.version,
        "industry": m.industry,
        "fields": [
            {"name": f.name, "title": f.title, "values": list(f.values) if f.values else None}
            for f in m.fields.values()
        ],
        "sections": [
            {
                "name": s.name,
                "title": s.title,
                "weight": s.weight,
                "when": s.when_text,
                "items": [_item(items[i]) for i in s.items],
            }
            for s in m.sections
        ],
        "items": [_item(i) for i in m.items if i.name not in in_section],
        "coefficients": [
            {"name": c.name, "title": c.title, "formula": c.text} for c in m.coefficients
        ],
        "rollups": [{"name": r.name, "title": r.title, "formula": r.text} for r in m.rollups],
        "targets": dict(m.targets),
        "bands": {c: [{"label": lbl, "min": t} for lbl, t in b.bands] for c, b in m.bands.items()},
    }


def drop_nulls(value: Any) -> Any:
    """TOML has no null: leave absent what is not set."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def json_schema(m: StandardModel) -> dict[str, Any]:
    """JSON Schema (2020-12) of one visit record for this standard."""
    na = sorted(NA_TOKENS)
    props: dict[str, Any] = {}
    required: list[str] = []
    for it in m.items:
        if it.kind == "scale" and it.scale is not None:
            labels: list[Any] = []
            for e in it.scale.entries:
                labels += [e.label, *e.aliases]
                if e.numeric is not None:
                    labels.append(int(e.numeric) if e.numeric.is_integer() else e.numeric)
            schema: dict[str, Any] = {"enum": labels}
        elif it.kind == "number":
            schema = {"type": "number"}
            if it.low is not None:
                schema.update(minimum=it.low, maximum=it.high)
        else:
            schema = {"type": "string"}
        if it.presence != "required":
            schema = {"anyOf": [schema, {"type": "null"}, {"enum": na}]}
        props[it.name] = {"description": it.question, **schema}
        if it.presence != "optional" and it.when is None and it.section_when is None:
            required.append(it.name)
    visit_props: dict[str, Any] = {
        k: {"type": ["string", "number", "null"]} for k in BUILTIN_FIELDS.values()
    }
    for f in m.fields.values():
        visit_props[f.name] = {"enum": list(f.values)} if f.values else {"type": ["string", "null"]}
    visit_props["answers"] = {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{m.name} {m.version or ''} visit".replace("  ", " "),
        "description": (m.title or m.name) + ": one visit record (JSONL input). Labels match "
        "ignoring case and surrounding spaces, which a schema cannot say; the engine's own "
        "validation is the reference.",
        "type": "object",
        "properties": visit_props,
        "required": ["visit_id", "answers"],
    }
