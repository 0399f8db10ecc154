"""A standard's questionnaire for other systems: JSON, TOML, and a JSON Schema of a visit.

Field apps need the questions, the answer options and when each question is asked;
conditions are exported as their source text (they are formulas of the language,
which a field app shows or evaluates with this engine). The JSON Schema validates
one visit record in the JSONL input shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .model import (
    BUILTIN_FIELDS,
    BandsModel,
    FieldModel,
    ItemModel,
    ScaleEntryModel,
    StandardModel,
)
from .runtime import NA_TOKENS


def _answer(it: ItemModel) -> dict[str, Any]:
    if it.kind == "multi" and it.scale is not None:
        # a set of labels: each option adds its points to P (a plain scale's: its
        # score), the score being P / max_points (or what P leaves of it, `penalty`)
        return {
            "type": "multi",
            "scale": None if ":" in it.scale.name else it.scale.name,
            "options": [
                {"label": e.label, "points": p, "aliases": list(e.aliases)}
                for e, p in zip(it.scale.entries, it.scale.option_points, strict=True)
            ],
            "points": "penalty" if it.scale.kind == "penalty" else "points",
            "max_points": it.scale.options_max,
        }
    if it.kind == "scale" and it.scale is not None:
        points = it.scale.kind != "score"
        out: dict[str, Any] = {
            "type": "scale",
            "scale": None if ":" in it.scale.name else it.scale.name,
            "options": [
                {
                    "label": e.label,
                    "score": e.score,
                    **({"points": e.points} if points else {}),
                    "aliases": list(e.aliases),
                }
                for e in it.scale.entries
            ],
        }
        if points:  # `points` (higher is better) or `penalty` (lower is)
            out["points"] = it.scale.kind
        return out
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
        **({"value": it.computed_text} if it.computed is not None else {}),
        **({"critical_if": it.critical_when_text} if it.critical_when is not None else {}),
        **({"unscored": True} if it.unscored else {}),
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
            {
                "name": f.name,
                "title": f.title,
                "values": list(f.values) if f.values else None,
                "type": f.type,
                "required": f.required,
            }
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
        **(
            {"labels": [{"name": c.name, "title": c.title, "formula": c.text} for c in m.labels]}
            if m.labels
            else {}
        ),
        "rollups": [{"name": r.name, "title": r.title, "formula": r.text} for r in m.rollups],
        "targets": dict(m.targets),
        "bands": {c: _bands(b) for c, b in m.bands.items()},
        **({"constants": {k: v for k, (v, _text) in m.constants.items()}} if m.constants else {}),
    }


def _bands(b: BandsModel) -> list[dict[str, Any]]:
    """Each band's label and threshold (`min` for `>=`, `max` for `<=`) and, for a band
    with one, its condition as written."""
    bound = "max" if b.op == "<=" else "min"
    texts = b.condition_texts or (None,) * len(b.bands)
    return [
        {"label": label, bound: threshold, **({"when": text} if text else {})}
        for (label, threshold), text in zip(b.bands, texts, strict=True)
    ]


def drop_nulls(value: Any) -> Any:
    """TOML has no null: leave absent what is not set."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def json_schema(m: StandardModel) -> dict[str, Any]:
    """JSON Schema (2020-12) of one visit record for this standard.

    It accepts what the engine accepts, as the engine reads it: labels and aliases
    in any case with spaces around them, numbers also as text with a decimal point
    or comma, the N/A tokens and null where N/A is allowed, nothing blank (or N/A)
    where a value is needed, typed fields by the shape of their text. What a schema
    cannot say is left to the engine, which rejects what the schema lets through:
    the range of a number given as text, the calendar of a date (`2026-02-30`) and
    the time of a datetime (a date's shape is checked, a year first), a label chosen
    twice in different cases (`uniqueItems` compares exactly), a whole number
    written with a fraction (`1.0`) for a quoted label `"1"`, whether a conditional
    item applies (its answer is then not checked here), formulas that fail, and a
    pack's own checks.
    """
    props: dict[str, Any] = {}
    required: list[str] = []
    for it in m.items:
        if it.computed is not None:  # worked out by the standard: not in the answers
            continue
        conditional = it.when is not None or it.section_when is not None
        schema = {} if conditional else _answer_schema(it)
        props[it.name] = {"description": it.question, **schema}
        if it.presence != "optional" and not conditional:
            required.append(it.name)
    visit_props: dict[str, Any] = {
        k: {"type": ["string", "number", "null"]} for k in BUILTIN_FIELDS.values()
    }
    visit_props["visit_id"] = {
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"\S"}],
        "description": "the visit's identifier, unique in a wave",
    }
    visit_required = ["visit_id"]
    for f in m.fields.values():
        visit_props[f.key] = _field_schema(f)
        if f.required:
            visit_required.append(f.key)
    visit_props["answers"] = {
        "type": ["object", "null"],
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{m.name} {m.version or ''} visit".replace("  ", " "),
        "description": (m.title or m.name) + ": one visit record (JSONL input), as the engine "
        "reads it. The engine checks more than a schema can (numbers given as text "
        "against their range, conditional items, formulas); its validation is the "
        "reference.",
        "type": "object",
        "properties": visit_props,
        "required": [*visit_required, "answers"] if required else visit_required,
    }


#: A number as text, as the engine reads one: a point or a single comma for decimals.
NUMBER_TEXT = r"^\s*[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?\s*$"

#: A duration as text: minutes, ISO 8601 (at least one part; a T before the time
#: parts) or H:MM[:SS], each with a leading minus for a negative one.
_DURATION_TEXT = (
    r"^\s*(?:[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|-?[Pp](?!\s*$)(?:[0-9]+(?:\.[0-9]+)?[Dd])?"
    r"(?:[Tt](?=[0-9])(?:[0-9]+(?:\.[0-9]+)?[Hh])?(?:[0-9]+(?:\.[0-9]+)?[Mm])?"
    r"(?:[0-9]+(?:\.[0-9]+)?[Ss])?)?"
    r"|-?[0-9]+:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?)\s*$"
)

#: A date or a date and time as text, by its shape only: a year of four digits first,
#: then the month (or an ISO week). The calendar (2026-02-30) and the time are left
#: to the engine.
_DATE_TEXT = r"^\s*[0-9]{4}-?[0-9W]"

#: What a typed field holds, as its schema describes it: the JSON types, the pattern
#: of a text (beside the N/A tokens and blanks), a description.
_FIELD_TYPES: dict[str, tuple[list[str], str, str]] = {
    "number": (["string", "number"], NUMBER_TEXT, "a number"),
    "duration": (
        ["string", "number"],
        _DURATION_TEXT,
        "a duration: minutes, ISO 8601 (PT1H30M) or H:MM[:SS]",
    ),
    "date": (["string"], _DATE_TEXT, "an ISO 8601 date (2026-03-14)"),
    "datetime": (
        ["string"],
        _DATE_TEXT,
        "an ISO 8601 date and time, with or without a UTC offset",
    ),
}


def _field_schema(f: FieldModel) -> dict[str, Any]:
    """A declared field's value: one of its values, or of its type (a text by the
    type's pattern), or anything one value can be. A required field may not be null,
    blank or an N/A token; an optional one may."""
    na = {"type": "string", "pattern": text_pattern(sorted(NA_TOKENS))}
    empty = {"type": "string", "pattern": r"^\s*$"}
    blank = [] if f.required else [{"type": "null"}, na, empty]
    if f.values:
        return {"anyOf": [*blank, {"type": "string", "pattern": text_pattern(f.values)}]}
    if f.type in _FIELD_TYPES:
        types, pattern, description = _FIELD_TYPES[f.type]
        forms: list[dict[str, Any]] = [{"type": "string", "pattern": pattern}]
        if "number" in types:
            forms.append({"type": "number"})
        return {"anyOf": [*forms, *blank], "description": description}
    schema: dict[str, Any] = {
        "type": ["string", "number"] if f.required else ["string", "number", "null"]
    }
    if f.required:
        schema["not"] = {"anyOf": [empty, na]}
    return schema


def _answer_schema(it: ItemModel) -> dict[str, Any]:
    """An answer of an item that applies, with N/A and blanks as its presence allows."""
    forms: list[dict[str, Any]] = []
    if it.kind == "multi" and it.scale is not None:
        forms += _multi_schema(it)
    elif it.kind == "scale" and it.scale is not None:
        labels = [x for e in it.scale.entries for x in (e.label, *e.aliases)]
        forms.append({"type": "string", "pattern": text_pattern(labels)})
        numeric = sorted({e.numeric for e in it.scale.entries if e.numeric is not None})
        numbers = _label_numbers(it.scale.entries)
        if numbers:
            forms.append({"enum": numbers})
        if numeric:
            forms.append({"type": "string", "pattern": _numbers_pattern(numeric)})
    elif it.kind == "number":
        number: dict[str, Any] = {"type": "number"}
        if it.low is not None and it.high is not None:
            number.update(minimum=it.low, maximum=it.high)
        forms += [number, {"type": "string", "pattern": NUMBER_TEXT}]
    else:
        forms.append({"not": {"type": "string", "pattern": r"^\s*$"}})  # anything said
    if it.presence != "required":
        forms += [{"type": "null"}, {"type": "string", "pattern": text_pattern(sorted(NA_TOKENS))}]
    if it.presence == "optional":
        forms.append({"type": "string", "pattern": r"^\s*$"})  # blank: not answered
    return {"anyOf": forms}


def _label_numbers(entries: Iterable[ScaleEntryModel]) -> list[float | int]:
    """The JSON numbers an answer may give for a label: a number label's value, and
    the whole number a quoted label or an alias spells (`"1"` is answered by 1)."""
    found: set[float] = set()
    for e in entries:
        if e.numeric is not None:
            found.add(e.numeric)
        for text in (e.label, *e.aliases):
            spelt = text.strip()
            if re.fullmatch(r"-?[0-9]+", spelt) and str(int(spelt)) == spelt:
                found.add(float(spelt))
    return [int(x) if x.is_integer() else x for x in sorted(found)]


def _multi_schema(it: ItemModel) -> list[dict[str, Any]]:
    """A multi-select's answer: an array of distinct labels (the options listed in
    `enum`, any case and the aliases by pattern, numeric labels as numbers too), or a
    text of labels separated by `;`, `[]` for none, as tables give it."""
    assert it.scale is not None
    labels = [x for e in it.scale.entries for x in (e.label, *e.aliases)]
    one = text_pattern(labels)[len(r"^\s*") : -len(r"\s*$")]
    label_forms: list[dict[str, Any]] = [
        {"enum": [e.label for e in it.scale.entries]},
        {"type": "string", "pattern": text_pattern(labels)},
    ]
    numbers = _label_numbers(it.scale.entries)
    if numbers:
        label_forms.append({"enum": numbers})
    text = rf"^\s*(?:\[\s*\]|{one}(?:\s*;\s*{one})*)\s*$"
    return [
        {"type": "array", "items": {"anyOf": label_forms}, "uniqueItems": True},
        {"type": "string", "pattern": text},
    ]


def text_pattern(values: Iterable[str]) -> str:
    """A regular expression (ECMA-262, which has no flag for case) matching any of
    `values` as labels match: in any case, with spaces around."""
    return r"^\s*(?:" + "|".join(_any_case(v.strip()) for v in values) + r")\s*$"


def _any_case(text: str) -> str:
    out = []
    for ch in text:
        low, up = ch.lower(), ch.upper()
        if low != up and len(low) == len(up) == 1:
            out.append(f"[{low}{up}]")
        else:
            out.append("\\" + ch if ch in _SYNTAX else ch)
    return "".join(out)


#: Characters with a meaning in a regular expression (escaped; nothing else is, since
#: ECMA-262 with the `u` flag refuses needless escapes).
_SYNTAX = frozenset("^$\\.*+?()[]{}|/")


def _numbers_pattern(numbers: list[float]) -> str:
    """The numeric labels written as text: `5`, `5.0`, `5,00`, ` 4.5 `."""
    forms = []
    for x in numbers:
        whole, _, frac = (str(int(x)) if x.is_integer() else repr(x)).partition(".")
        sign = "-" if whole.startswith("-") else r"\+?"
        whole = whole.lstrip("-")
        tail = f"[.,]{frac}0*" if frac else r"(?:[.,]0*)?"
        forms.append(f"{sign}0*{whole}{tail}")
    return r"^\s*(?:" + "|".join(forms) + r")\s*$"
