"""What the editor shows over a name: Markdown built from the declaration itself.

An item shows its question, answer scale (with its labels, and `points` or `penalty`
when they are points per answer), weight, tags and section; a section its title, weight
and items; a coefficient its title, formula, target and bands; a constant its number; a
function its signature. The declaration is the one the standard uses (an extending
standard's replaces its base's), read from the syntax tree, so hover works on a
standard with errors as long as the file holding the declaration parses.
"""

from __future__ import annotations

from .. import nodes as n
from ..formatter import expr_text
from ..messages import message
from . import language
from .index import Occurrence
from .language import VALUES, builtin_fields, hover_label, signature, value_doc
from .view import View

_MOST_LISTED = 12


def _code(text: str) -> str:
    return f"`{text}`"


def _row(key: str, value: str) -> str:
    return f"- {hover_label(key)}: {value}"


def _source(view: View, node: object, expr: n.Expr) -> str:
    """An expression as its author wrote it (on one line), else in the canonical form."""
    file = getattr(getattr(node, "span", None), "file", None)
    index = view.indexes.get(file) if file else None
    if file == view.display and not view.parsed:
        index = None  # a declaration from the last text that parsed: its offsets are old
    span = expr.span
    if index is not None and span.end > span.start:
        return " ".join(index.text[span.start : span.end].split())
    return expr_text(expr)


def _scale_text(entries: tuple[n.ScaleEntry, ...]) -> str:
    return ", ".join(f"{e.label.value} = {e.score.text}" for e in entries)


def _scale_kind(scale: n.Scale) -> str:
    """The keyword (`points`, `penalty`) that makes each answer's number its points (or
    penalty points) rather than a score, after a space; nothing for a scale of scores."""
    return f" {_code(scale.kind)}" if scale.kind in ("points", "penalty") else ""


def _band_text(view: View, owner: n.Bands, band: n.Band) -> str:
    text = band.label
    if band.threshold is not None:
        text += f" {'≤' if band.op == '<=' else '≥'} {n.threshold_text(band.threshold)}"
    if band.when is not None:
        text += f" when {_source(view, owner, band.when)}"
    return text


def _answer(view: View, item: n.Item) -> str:
    answer = item.answer
    if isinstance(answer, n.MultiAnswer):  # a set of labels, each option worth its points
        options = answer.options
        if isinstance(options, n.InlineScaleAnswer):
            return f"any of {{ {_scale_text(options.entries)} }}"
        scale = view.effective_any(options.scale)
        if scale is not None and isinstance(scale.node, n.Scale):
            kind = _scale_kind(scale.node)
            return f"any of {_code(options.scale)}{kind} ({_scale_text(scale.node.entries)})"
        return f"any of {_code(options.scale)}"
    if isinstance(answer, n.ScaleAnswer):
        scale = view.effective_any(answer.scale)
        if scale is not None and isinstance(scale.node, n.Scale):
            kind = _scale_kind(scale.node)
            return f"{_code(answer.scale)}{kind} ({_scale_text(scale.node.entries)})"
        return _code(answer.scale)
    if isinstance(answer, n.InlineScaleAnswer):
        return "{ " + _scale_text(answer.entries) + " }"
    if isinstance(answer, n.NumberAnswer):
        if answer.low is not None and answer.high is not None:
            return f"number {answer.low.text}..{answer.high.text}"
        return "number"
    return "text"


def _section_of(view: View, decl: Occurrence) -> str | None:
    flat = view.analysis.flat if view.analysis is not None else None
    if flat is not None and decl.name in flat.decls and flat.decls[decl.name].kind == "item":
        return flat.decls[decl.name].section
    return decl.section


def _where(view: View, decl: Occurrence) -> str | None:
    if decl.file == view.display:
        return None
    rng = view.range_of(decl)
    line = rng[0][0] + 1 if rng else 0
    return message("lsp.hover.declared_in", file=f"{decl.file}:{line}")


def _declaration(view: View, decl: Occurrence) -> list[str]:
    node = decl.node
    kind_word = language.kind_word(decl.kind)
    lines: list[str] = []
    match node:
        case n.Item():
            lines.append(f"**{kind_word}** {_code(node.name)} — {node.question}")
            lines.append("")
            lines.append(_row("answer", _answer(view, node)))
            lines.append(_row("weight", node.weight.text if node.weight else "1"))
            if node.tags:
                lines.append(_row("tags", ", ".join(_code(t) for t in node.tags)))
            section = _section_of(view, decl)
            if section is not None:
                sec = view.effective_any(section)
                title = getattr(sec.node, "title", None) if sec is not None else None
                lines.append(_row("section", _code(section) + (f" — {title}" if title else "")))
            flags = [
                w
                for w, on in (
                    (node.presence, node.presence is not None),
                    ("critical", node.critical and node.critical_if is None),
                    ("bonus", node.bonus),
                    ("unscored", node.unscored),
                )
                if on and w
            ]
            if flags:
                lines.append(_row("options", ", ".join(flags)))
            if node.critical_if is not None:
                lines.append(_row("critical_if", _code(_source(view, node, node.critical_if))))
            if node.when is not None:
                lines.append(_row("when", _code(_source(view, node, node.when))))
            if node.score is not None:
                lines.append(_row("formula", _code(_source(view, node, node.score))))
        case n.Section():
            title = f" — {node.title}" if node.title else ""
            lines.append(f"**{kind_word}** {_code(node.name)}{title}")
            lines.append("")
            lines.append(_row("weight", node.weight.text if node.weight else "1"))
            names = [i.name for i in node.items]
            shown = ", ".join(_code(x) for x in names[:_MOST_LISTED])
            if len(names) > _MOST_LISTED:
                shown += " …"
            lines.append(_row("items", f"{len(names)}" + (f": {shown}" if names else "")))
            if node.when is not None:
                lines.append(_row("when", _code(_source(view, node, node.when))))
        case n.Coefficient() | n.Rollup():
            title = f" — {node.title}" if node.title else ""
            lines.append(f"**{kind_word}** {_code(node.name)}{title}")
            lines.append("")
            lines.append(_row("formula", _code(_source(view, node, node.expr))))
            flat = view.analysis.flat if view.analysis is not None else None
            if flat is not None:
                target = flat.targets.get(node.name)
                if target is not None:
                    lines.append(_row("target", n.threshold_text(target.value)))
                bands = flat.bands.get(node.name)
                if bands is not None:
                    text = ", ".join(_band_text(view, bands, b) for b in bands.bands)
                    lines.append(_row("bands", text))
        case n.Constant():
            lines.append(f"**{kind_word}** {_code(node.name)} = {node.value.text}")
        case n.Scale():
            lines.append(f"**{kind_word}** {_code(node.name)}{_scale_kind(node)}")
            lines.append("")
            for e in node.entries:
                aliases = " ".join(f'"{a.value}"' for a in e.aliases)
                alias = f" ({hover_label('alias')} {aliases})" if aliases else ""
                lines.append(f"- {_code(e.label.value)} = {e.score.text}{alias}")
        case n.Field():
            title = f" — {node.title}" if node.title else ""
            lines.append(f"**{kind_word}** `visit.{node.name}`{title}")
            lines.append("")
            kind = node.type or "text"
            lines.append(_row("type", _code(kind) + (", `required`" if node.required else "")))
            if node.values:
                lines.append(_row("values", ", ".join(_code(v.value) for v in node.values)))
        case n.Standard():
            title = f" — {node.title}" if node.title else ""
            lines.append(f"**{kind_word}** {_code(node.name)}{title}")
            for m in node.members:
                if isinstance(m, n.Version):
                    lines.append("")
                    lines.append(_row("version", m.value))
        case _:
            lines.append(f"**{kind_word}** {_code(decl.name)}")
    where = _where(view, decl)
    if where:
        lines += ["", where]
    return lines


def hover_text(view: View, occ: Occurrence) -> str | None:
    """Markdown for the name `occ`, or None when there is nothing to say."""
    kind = view.kind_of(occ)
    if kind == "function":
        sig = signature(occ.name)
        if sig is None:
            return None
        return f"```sbm\n{sig[0]}\n```\n{sig[1]}"
    if kind == "field":
        decl = view.effective_any(occ.name)
        if decl is not None and decl.kind == "field":
            return "\n".join(_declaration(view, decl))
        if occ.name in builtin_fields():
            return message("lsp.hover.builtin_field", name=f"visit.{occ.name}")
        return None
    if kind == "tag":
        items = [o for o in view.definition(occ)]
        names = sorted({o.node.name for o in items if isinstance(o.node, n.Item)})
        shown = ", ".join(_code(x) for x in names[:_MOST_LISTED]) + (
            " …" if len(names) > _MOST_LISTED else ""
        )
        head = f"**{language.kind_word('tag')}** {_code(occ.name)}"
        return head + "\n\n" + _row("items", f"{len(names)}" + (f": {shown}" if names else ""))
    if kind == "label":
        if occ.name in VALUES:
            return value_doc(occ.name)
        owners = sorted(
            {
                str(getattr(o.node, "name", None) or getattr(o.node, "coefficient", ""))
                for o in view.definition(occ)
            }
        )
        head = f"**{language.kind_word('label')}** {_code(occ.name)}"
        if owners:
            return head + "\n\n" + _row("of", ", ".join(_code(x) for x in owners if x))
        return head
    if kind == "standard":
        decls = view.definition(occ)
        return "\n".join(_declaration(view, decls[0])) if decls else None
    if kind == "import":
        return None
    decl = (
        occ
        if occ.role == "declaration"
        and occ.kind in ("item", "section", "scale", "coefficient", "rollup", "field", "constant")
        else view.effective_any(occ.name)
    )
    if decl is None:
        return None
    return "\n".join(_declaration(view, decl))
