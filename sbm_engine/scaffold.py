"""The text `sbm new` writes: a standard extending a base, that passes its own check.

The example it carries is a flawless visit of the base: every item that applies
answered with its best answer (a computed item is the standard's to work out), each
`required` visit field given a value of its kind, and `expect` lines holding what
the engine computes for it, so `sbm check` passes before the first edit and fails,
with a clear message, once an edit changes the result.
"""

from __future__ import annotations

from typing import Any

from .fmt_expr import quote
from .messages import message
from .model import ItemModel, StandardModel
from .standard import CompiledStandard

#: Numbers tried for a number item without a range (its best one is kept).
_OPEN_CANDIDATES = (0.0, 1.0, 5.0, 10.0, 100.0)


def new_standard_text(
    standard_id: str, base: CompiledStandard, title: str | None, file: str
) -> str:
    """A standard `standard_id` extending `base`, ready to edit."""
    m = base.model
    lines = [
        "# " + message("new.file.based_on", standard=standard_id, base=m.name),
        "# " + message("new.file.redeclare"),
        "# " + message("new.file.check", file=file),
        f"standard {standard_id} {quote(title or m.title or standard_id)} extends {m.name} {{",
        '    version "0.1"',
        "",
        *_hints(m),
    ]
    visit = flawless_visit(base)
    if visit is not None:
        answers, expects = visit
        fields = [f"            {k} = {quote(v)}" for k, v in required_fields(m).items()]
        lines += [
            "",
            f"    example {quote(message('new.file.example'))} {{",
            *(["        visit {", *fields, "        }"] if fields else []),
            "        answers {",
            *(f"            {name} = {value}" for name, value in answers.items()),
            "        }",
            *(f"        expect {expect}" for expect in expects),
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _hints(m: StandardModel) -> list[str]:
    """Commented lines naming the base's own items: how to change one, drop another."""
    scored = [it.name for it in m.items if it.scored]
    if not scored:
        return []
    out = ["    # " + message("new.file.replace_hint", item=scored[0])]
    if len(scored) > 1:
        out.append(f"    # drop {scored[-1]}")
    return out


#: A value of each type for a `required` field of the example (`required_fields`).
_FIELD_VALUES = {
    "text": "x",
    "number": "0",
    "duration": "0",
    "date": "2026-01-01",
    "datetime": "2026-01-01T12:00:00",
}


def required_fields(m: StandardModel) -> dict[str, str]:
    """A value for each `required` visit field, by the name `visit { … }` gives it:
    the first of its `one of` values, else one of its type."""
    return {
        f.name: f.values[0] if f.values else _FIELD_VALUES[f.type]
        for f in m.fields.values()
        if f.required
    }


def flawless_visit(std: CompiledStandard) -> tuple[dict[str, str], list[str]] | None:
    """The best answer of every item that applies (as `.sbm` text) and the `expect`
    conditions the engine computes for that visit; None if no such visit is accepted."""
    answers: dict[str, Any] = {
        it.name: _best_guess(it) for it in std.model.items if it.computed is None
    }
    result = _score(std, answers)
    if result is None:
        return None
    for name in {w.item for w in result.warnings}:  # answered but not applying
        answers.pop(name, None)
    for it in std.model.items:
        if it.kind == "number" and it.name in answers:
            answers[it.name] = _best_number(std, answers, it)
    result = _score(std, answers)
    if result is None:
        return None
    expects = [_expect(name, result.coefficients.get(name)) for name in _checked(std.model)]
    return {name: _text(value) for name, value in answers.items()}, expects


def _score(std: CompiledStandard, answers: dict[str, Any]) -> Any:
    fields = {std.model.fields[name].key: v for name, v in required_fields(std.model).items()}
    result = std.score({"visit_id": "example", **fields, "answers": answers})
    return result if result.ok else None


def _best_guess(it: ItemModel) -> Any:
    if it.kind == "multi" and it.scale is not None:  # every option worth something, or none
        if it.scale.kind == "penalty":
            return "[]"
        points = zip(it.scale.entries, it.scale.option_points, strict=True)
        return "; ".join(e.label for e, p in points if p > 0)
    if it.kind == "scale" and it.scale is not None:
        best = max(it.scale.entries, key=lambda e: e.score)
        return best.numeric if best.numeric is not None else best.label
    if it.kind == "number":
        return it.high if it.high is not None else 0.0
    return "ok"


def _best_number(std: CompiledStandard, answers: dict[str, Any], it: ItemModel) -> float:
    """The candidate answer with the highest score for the item (the first of equals)."""
    if it.low is not None and it.high is not None:
        candidates: tuple[float, ...] = (it.low, it.high, (it.low + it.high) / 2)
    else:
        candidates = _OPEN_CANDIDATES
    best, best_score = answers[it.name], -1.0
    for value in candidates:
        result = _score(std, {**answers, it.name: value})
        score = None if result is None else result.items.get(it.name)
        if score is not None and score > best_score:
            best, best_score = value, score
    return float(best)


def _checked(m: StandardModel) -> list[str]:
    """The coefficients the example pins: those with a target, else the last one."""
    names = [c.name for c in m.coefficients if c.name in m.targets]
    return names or [c.name for c in m.coefficients][-1:]


def _expect(name: str, value: float | None) -> str:
    return f"is_na({name})" if value is None else f"{name} == {_number(value)}"


def _text(value: Any) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _number(float(value))
    return quote(str(value))


def _number(x: float) -> str:
    """A number as the language writes it (no exponent), to 10 decimals."""
    text = f"{round(x, 10):.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
