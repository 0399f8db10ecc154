"""Every step of one visit's scoring, for disputes: what a supervisor shows a specialist.

The explanation is built from the compiled result (the figures that count) and
the reference interpreter (which items applied, what each answer was read as), and
it names, for every section and coefficient, the formula and each value that went
in, with N/A exclusions and critical failures spelled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .interpret import Interpreter
from .ir import AnswerRef, Bound, Call, CoefRef, FieldRef, If, ItemRef, SectionRef
from .messages import message
from .model import ItemModel
from .results import json_safe
from .runtime import MISSING, is_na

if TYPE_CHECKING:
    from .standard import CompiledStandard


def explain(
    std: CompiledStandard, record: Mapping[str, Any], previous: Any = None
) -> dict[str, Any]:
    """A JSON-ready account of how `record` was scored (or why it was rejected);
    `previous`: the point's previous visit, for a standard that uses history (as
    `CompiledStandard.score` takes it; `history.previous_visits` finds it in a wave).

    JSON-ready includes numbers: a value that is not finite (a JSONL `1e400` given to
    an item that does not apply, which the visit ignores; a `visit_id` of 1e400) is
    shown as its text, as the rejects file shows it (`results.json_safe`)."""
    result: dict[str, Any] = json_safe(_explain(std, record, previous))
    return result


def _explain(std: CompiledStandard, record: Mapping[str, Any], previous: Any) -> dict[str, Any]:
    model = std.model
    outcome = std.score(record, previous=previous)
    interp = Interpreter(model, std.functions)
    reader = std.history_reader
    env, _, _, _ = interp.visit(record, reader.of(previous) if reader is not None else None)
    answers = record.get("answers") or {}
    out: dict[str, Any] = {
        "visit_id": record.get("visit_id"),
        "standard": model.name,
        "version": model.version,
        "status": "scored" if outcome.ok else "rejected",
    }
    if not outcome.ok:
        out["errors"] = [e.to_dict() for e in outcome.errors]  # type: ignore[union-attr]
        return out
    scores = dict(outcome.items)  # type: ignore[union-attr]
    items: list[dict[str, Any]] = []
    for it in model.items:
        raw = answers.get(it.name, MISSING)
        conds = [c for c in (it.section_when, it.when) if c is not None]
        applies = all(interp.eval(c, env) for c in conds)
        if it.computed is not None and applies:  # worked out by the standard, as it scores it
            raw = env.answers.get(it.name)
        if not applies:
            conditions = [t for t in (_section_when(model, it.section), it.when_text) if t]
            note = message(
                "explain.note.does_not_apply",
                conditions=" and ".join(conditions),  # as the standard would write it
            )
        elif raw is MISSING:
            note = message("explain.note.no_answer")
        elif is_na(raw):
            note = message("explain.note.answered_na")
        elif not it.scored:
            note = message("explain.note.not_scored")
        else:
            note = ""
        items.append(
            {
                "item": it.name,
                "question": it.question,
                "section": it.section,
                "answer": None if raw is MISSING else raw,
                "read_as": env.answers.get(it.name),
                "applies": applies,
                "score": scores.get(it.name),
                "weight": it.weight,
                "tags": list(it.tags),
                "critical": it.critical,
                "bonus": it.bonus,
                "note": note,
                "formula": it.score_text,
                **({"value": it.computed_text} if it.computed is not None else {}),
                **({"critical_if": it.critical_when_text} if it.critical_when is not None else {}),
                "points": _points_of(it, env.answers.get(it.name)),
                **_chosen(it, env),
            }
        )
    by_item = {i["item"]: i for i in items}
    sections = []
    for sec in model.sections:
        terms = [
            _term(by_item[name])
            for name in sec.items
            if by_item[name]["score"] is not None or model.item(name).scored
        ]
        sections.append(
            {
                "section": sec.name,
                "title": sec.title,
                "weight": sec.weight,
                "score": outcome.sections[sec.name],  # type: ignore[union-attr]
                "terms": terms,
            }
        )
    for it, entry in zip(model.items, items, strict=True):
        if it.score is not None and entry["applies"] and entry["read_as"] is not None:
            env.value = entry["read_as"]  # `value` in the item's own formula
            entry["branches"] = _branches(it.score, interp, env, model.sources)
            env.value = None
    coefficients = []
    for c in (*model.coefficients, *model.labels):  # the numbers, then the labels
        values = outcome.labels if c.is_label else outcome.coefficients  # type: ignore[union-attr]
        coefficients.append(
            {
                "coefficient": c.name,
                "title": c.title,
                "formula": c.text,
                "value": values[c.name],
                "branches": _branches(c.expr, interp, env, model.sources),
                "inputs": _inputs(c.expr, outcome, by_item),
                "band": outcome.bands.get(c.name),  # type: ignore[union-attr]
                "target": model.targets.get(c.name),
                "gap": outcome.gaps.get(c.name),  # type: ignore[union-attr]
            }
        )
    out.update(
        {
            "items": items,
            "sections": sections,
            "coefficients": coefficients,
            "critical": list(outcome.critical),  # type: ignore[union-attr]
            "warnings": [w.to_dict() for w in outcome.warnings],  # type: ignore[union-attr]
        }
    )
    return out


def _branches(
    expr: Bound, interp: Interpreter, env: Any, sources: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The `if`s a formula went through for this visit, in order: each condition, its
    value (true, false, or N/A, which takes `else`), and the branch it took; only
    the branches taken are followed, so an `else if` ladder reads as the steps tried."""
    out: list[dict[str, Any]] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, If):
            cond, then, otherwise = node.condition, node.then, node.otherwise
            value = interp.eval(cond, env)
            taken = then if value else otherwise
            out.append(
                {
                    "condition": _source(cond, sources),
                    "value": value,
                    "branch": "then" if value else "else",
                    "gives": _source(taken, sources),
                }
            )
            stack.append(taken)
        else:
            stack.extend(reversed(node.args))
    return out


def _source(b: Bound, sources: Mapping[str, str]) -> str:
    """The `.sbm` text of an expression, as its author wrote it (one line)."""
    text = sources.get(b.span.file, "")[b.span.start : b.span.end]
    return " ".join(text.split()) or "…"


def _section_when(model: Any, section: str | None) -> str | None:
    if section is None:
        return None
    return next((s.when_text for s in model.sections if s.name == section), None)


def _chosen(item: ItemModel, env: Any) -> dict[str, Any]:
    """A multi-select's options chosen, each with its points, and the most there are."""
    if item.kind != "multi" or item.scale is None:
        return {}
    flags = env.options.get(item.name)
    chosen = (
        None
        if flags is None
        else [
            {"label": e.label, "points": p}
            for e, p, f in zip(item.scale.entries, item.scale.option_points, flags, strict=True)
            if f
        ]
    )
    return {"chosen": chosen, "max_points": item.scale.options_max}


def _points_of(item: ItemModel, label: Any) -> float | None:
    """The points the answer read (`label`) is worth on an item's points or penalty scale
    (a multi-select's answer is read as its points P)."""
    if item.kind == "multi":
        return label if isinstance(label, float) else None
    if not item.has_points or label is None:
        return None
    assert item.scale is not None
    numeric = item.scale.numeric
    for entry in item.scale.entries:
        if (entry.numeric if numeric else entry.label) == label:
            return entry.points
    return None


def _term(item: dict[str, Any]) -> dict[str, Any]:
    excluded = item["score"] is None
    return {
        "item": item["item"],
        "score": item["score"],
        "weight": item["weight"],
        "bonus": item["bonus"],
        "excluded": excluded,
        "why": item["note"] if excluded else None,
    }


def _inputs(expr: Bound, outcome: Any, by_item: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The values a formula read: selected items with weights, or the names it uses."""
    seen: dict[str, dict[str, Any]] = {}
    for node in expr.walk():
        match node:
            case Call(fn="weighted_mean", payload=("sections", selected)):
                for name, _ in selected:
                    seen.setdefault(
                        f"section:{name}", {"section": name, "score": outcome.sections[name]}
                    )
            case Call(fn="points" | "points_of" | "max_points", payload=("items", selected)):
                for sel in selected:  # what a points function reads: the points
                    term = {**_term(by_item[sel.name]), "points": by_item[sel.name]["points"]}
                    seen.setdefault(sel.name, term)
            case Call(payload=("items", selected)):
                for sel in selected:
                    seen.setdefault(sel.name, _term(by_item[sel.name]))
            case Call(fn="critical_failed", payload=names):
                for name in names:
                    seen.setdefault(
                        name,
                        {
                            "item": name,
                            "score": by_item[name]["score"],
                            "critical": True,
                            "failed": by_item[name]["score"] == 0,
                        },
                    )
            case ItemRef(name=name):
                seen.setdefault(name, _term(by_item[name]))
            case SectionRef(name=name):
                seen.setdefault(
                    f"section:{name}", {"section": name, "score": outcome.sections[name]}
                )
            case CoefRef(name=name):
                value = (
                    outcome.labels[name] if name in outcome.labels else outcome.coefficients[name]
                )
                seen.setdefault(f"coef:{name}", {"coefficient": name, "value": value})
            case AnswerRef(name=name):
                seen.setdefault(
                    f"answer:{name}", {"answer_of": name, "value": by_item[name]["read_as"]}
                )
            case FieldRef(name=key):
                seen.setdefault(f"field:{key}", {"field": key})
    return list(seen.values())


def render(exp: dict[str, Any]) -> str:
    """The terminal view of `explain`."""

    def num(x: Any) -> str:
        if x is None:
            return "N/A"
        return f"{x:.4g}" if isinstance(x, float) else str(x)

    title = message("explain.visit", visit=exp["visit_id"], standard=exp["standard"])
    lines = [f"{title} {exp.get('version') or ''}".rstrip()]
    if exp["status"] == "rejected":
        lines.append(message("explain.rejected"))
        lines += [f"  {e['item']}: {e['code']}: {e['message']}" for e in exp["errors"]]
        return "\n".join(lines)
    lines.append("\n" + message("explain.items"))
    critical, bonus = message("explain.flag.critical"), message("explain.flag.bonus")
    for it in exp["items"]:
        flags = "".join(
            [
                " " + critical if it["critical"] and not it.get("critical_if") else "",
                " " + bonus if it["bonus"] else "",
            ]
        )
        ans = "—" if it["answer"] is None else repr(it["answer"])
        line = message(
            "explain.item",
            item=f"{it['item']:<20}",
            answer=f"{ans:<10}",
            score=f"{num(it['score']):<6}",
            weight=num(it["weight"]),
        )
        if it.get("critical_if"):
            flags += " " + message("explain.critical_if.note", condition=it["critical_if"])
        lines.append(f"  {line}{flags}" + (f"  [{it['note']}]" if it["note"] else ""))
        if it.get("chosen") is not None:  # a multi-select: the options and their points
            options = " + ".join(f"{c['label']} ({num(c['points'])})" for c in it["chosen"])
            lines.append(
                f"  {'':<20} "
                + message(
                    "explain.multi.chosen",
                    options=options or "—",
                    points=num(it["points"]),
                    most=num(it["max_points"]),
                )
            )
        if it["formula"] and it["score"] is not None:
            lines.append(f"  {'':<20} score = {it['formula']}")
            lines += [f"  {'':<20}   {b}" for b in _branch_lines(it.get("branches", ()))]
    lines.append("\n" + message("explain.sections"))
    for sec in exp["sections"]:
        used = [t for t in sec["terms"] if not t["excluded"]]
        num_s = " + ".join(f"{num(t['weight'])}×{num(t['score'])}" for t in used)
        den_s = " + ".join(num(t["weight"]) for t in used if not t["bonus"])
        lines.append(
            f"  {sec['section']} = ({num_s or '0'}) / ({den_s or '0'}) = {num(sec['score'])}"
            "   " + message("explain.section_weight", weight=num(sec["weight"]))
        )
        for t in sec["terms"]:
            if t["excluded"]:
                why = t["why"] or "N/A"
                lines.append("      " + message("explain.excluded", item=t["item"], why=why))
    lines.append("\n" + message("explain.coefficients"))
    for c in exp["coefficients"]:
        extra = []
        if c["band"] is not None:
            extra.append(message("explain.band", band=c["band"]))
        if c["target"] is not None:
            extra.append(message("explain.target", target=num(c["target"]), gap=num(c["gap"])))
        lines.append(f"  {c['coefficient']} = {c['formula']}")
        lines += [f"      {b}" for b in _branch_lines(c.get("branches", ()))]
        lines.append(f"      = {num(c['value'])}" + (f"   ({'; '.join(extra)})" if extra else ""))
        parts = []
        for i in c["inputs"]:
            if "item" in i:
                tag = " " + message("explain.input.excluded") if i.get("excluded") else ""
                if i.get("critical"):
                    tag = " " + (
                        message("explain.input.failed")
                        if i.get("failed")
                        else message("explain.input.ok")
                    )
                if i.get("points") is not None:
                    tag = " " + message("explain.input.points", points=num(i["points"])) + tag
                parts.append(f"{i['item']}={num(i['score'])}{tag}")
            elif "section" in i:
                parts.append(f"{i['section']}={num(i['score'])}")
            elif "coefficient" in i:
                parts.append(f"{i['coefficient']}={num(i['value'])}")
            elif "answer_of" in i:
                parts.append(f"answer({i['answer_of']})={i['value']!r}")
        if parts:
            lines.append("      " + message("explain.from", inputs=", ".join(parts)))
    if exp["critical"]:
        lines.append("\n" + message("explain.critical", items=", ".join(exp["critical"])))
    for w in exp["warnings"]:
        lines.append(f"\n{message('diag.warning')}: {w['item']}: {w['message']}")
    return "\n".join(lines)


def _branch_lines(branches: Any) -> list[str]:
    """`if greeted >= 0.5: true → then 1`: one line per condition the formula met."""
    shown = {True: message("explain.true"), False: message("explain.false"), None: "N/A"}
    return [
        f"if {b['condition']}: {shown.get(b['value'], b['value'])} → {b['branch']} {b['gives']}"
        for b in branches
    ]
