"""What the editor may offer beyond a standard's own names: keywords, the built-in
functions with their signatures, the built-in values and visit fields.

The signatures are the language reference's (`docs/language.md`); what each function
does is one line of the message catalogue (`lsp.function.NAME`), in the reader's
language. A pack's functions come from the plugin registry with the documentation
their pack gave.
"""

from __future__ import annotations

import re

from ..builtins import BUILTINS
from ..model import BUILTIN_FIELDS
from ..parser import DECLARATION_KEYWORDS, KEYWORDS, SOFT_KEYWORDS
from .analysis import functions

#: Built-in functions and their signatures, from the one table of built-ins.
FUNCTIONS: dict[str, str] = {entry.name: entry.signature for entry in BUILTINS}

#: Names with a meaning of their own in formulas.
VALUES = ("value", "critical_failed", "visits", "visit")

#: Words that select items inside a function's parentheses.
SELECTIONS = ("items", "sections", "tagged", "in")

#: What may follow `scale NAME`: the soft keywords that make it a points or penalty scale.
SCALE_KINDS = ("points", "penalty")

#: The soft keywords that give a field's type (after `field NAME ["title"]`).
FIELD_TYPES = ("date", "datetime", "duration")
#: The soft keyword of a multi-select answer (`answer any of SCALE`).
MULTI_SELECT = "any"

#: Keywords that start a declaration inside a standard (the parser's, but `standard`
#: itself and `expect`, which only an example holds; and the soft keyword `const`).
#: Soft keywords that are options of an item or a section, not declarations.
PLACEMENT_WORDS = ("after", "before")
DECLARATION_WORDS = tuple(
    sorted(
        (DECLARATION_KEYWORDS - {"standard", "expect"})
        | (SOFT_KEYWORDS - {*SCALE_KINDS, *FIELD_TYPES, MULTI_SELECT, *PLACEMENT_WORDS, "unscored"})
    )
)
#: What may follow `field NAME ["title"]`: its type, `required` and `one of`.
FIELD_WORDS = ("text", "number", *FIELD_TYPES, "required", "one")
ITEM_OPTIONS = (
    "in",
    "after",
    "before",
    "weight",
    "tags",
    "required",
    "optional",
    "critical",
    "bonus",
    "unscored",
    "when",
    "score",
)
EXPRESSION_WORDS = ("if", "then", "else", "and", "or", "not")

_NAME = re.compile(r"^(?!\d)\w+$")


def valid_name(name: str) -> bool:
    """A word the language accepts as a declared name (not a keyword or a built-in)."""
    return (
        bool(_NAME.match(name))
        and name not in KEYWORDS
        and name not in VALUES[:-1]  # `visit` is a soft keyword: a name is allowed
        and name != "na"
        and name not in FUNCTIONS
    )


def signature(name: str) -> tuple[str, str] | None:
    """(signature, what it does) of a built-in or pack function; None if unknown."""
    from ..messages import message

    if name in FUNCTIONS:
        return FUNCTIONS[name], function_doc(name)
    registry = functions()
    spec = registry.get(name) if registry is not None else None
    if spec is None:
        return None
    params = ", ".join(spec.params)
    doc = spec.doc or message("lsp.function.from_pack", plugin=spec.plugin or "?")
    return f"{name}({params}) -> {spec.returns}", doc


def function_names() -> list[str]:
    registry = functions()
    return sorted({*FUNCTIONS, *(registry.names() if registry is not None else ())})


def builtin_fields() -> list[str]:
    return list(BUILTIN_FIELDS)


# ---- words shown to people: each a literal id, so the catalogue's tests see them ------------


def kind_word(kind: str) -> str:
    """What a kind of name is called in the reader's language."""
    from ..messages import message

    words = {
        "item": lambda: message("lsp.kind.item"),
        "section": lambda: message("lsp.kind.section"),
        "scale": lambda: message("lsp.kind.scale"),
        "coefficient": lambda: message("lsp.kind.coefficient"),
        "rollup": lambda: message("lsp.kind.rollup"),
        "field": lambda: message("lsp.kind.field"),
        "constant": lambda: message("lsp.kind.constant"),
        "standard": lambda: message("lsp.kind.standard"),
        "tag": lambda: message("lsp.kind.tag"),
        "label": lambda: message("lsp.kind.label"),
        "function": lambda: message("lsp.kind.function"),
        "value": lambda: message("lsp.kind.value"),
        "keyword": lambda: message("lsp.kind.keyword"),
    }
    return words[kind]() if kind in words else kind


def hover_label(key: str) -> str:
    """The label of a line of a hover (`weight`, `section`, …)."""
    from ..messages import message

    labels = {
        "answer": lambda: message("lsp.hover.answer"),
        "weight": lambda: message("lsp.hover.weight"),
        "tags": lambda: message("lsp.hover.tags"),
        "section": lambda: message("lsp.hover.section"),
        "options": lambda: message("lsp.hover.options"),
        "when": lambda: message("lsp.hover.when"),
        "critical_if": lambda: message("lsp.hover_critical.critical_if"),
        "formula": lambda: message("lsp.hover.formula"),
        "items": lambda: message("lsp.hover.items"),
        "target": lambda: message("lsp.hover.target"),
        "bands": lambda: message("lsp.hover.bands"),
        "values": lambda: message("lsp.hover.values"),
        "version": lambda: message("lsp.hover.version"),
        "alias": lambda: message("lsp.hover.alias"),
        "of": lambda: message("lsp.hover.of"),
        "type": lambda: message("lsp.field_hover.type"),
    }
    return labels[key]()


def value_doc(name: str) -> str | None:
    """What a built-in value means (`value`, `critical_failed`, `visits`, `visit`)."""
    from ..messages import message

    docs = {
        "value": lambda: message("lsp.value.value"),
        "critical_failed": lambda: message("lsp.value.critical_failed"),
        "visits": lambda: message("lsp.value.visits"),
        "visit": lambda: message("lsp.value.visit"),
    }
    return docs[name]() if name in docs else None


def function_doc(name: str) -> str:
    """What a built-in function does, in one line: the catalogue's, else (a function
    the catalogue does not describe yet) the one-line `doc` of the built-ins' table."""
    from ..messages import message

    docs = {
        "weighted_mean": lambda: message("lsp.function.weighted_mean"),
        "mean": lambda: message("lsp.function.mean"),
        "min": lambda: message("lsp.function.min"),
        "max": lambda: message("lsp.function.max"),
        "sum": lambda: message("lsp.function.sum"),
        "count": lambda: message("lsp.function.count"),
        "earned": lambda: message("lsp.function.earned"),
        "possible": lambda: message("lsp.function.possible"),
        "lost": lambda: message("lsp.function.lost"),
        "failed": lambda: message("lsp.function.failed"),
        "clamp": lambda: message("lsp.function.clamp"),
        "coalesce": lambda: message("lsp.function.coalesce"),
        "is_na": lambda: message("lsp.function.is_na"),
        "band": lambda: message("lsp.function.band"),
        "critical_failed": lambda: message("lsp.function.critical_failed"),
        "answer": lambda: message("lsp.function.answer"),
        "avg": lambda: message("lsp.function.avg"),
        "share": lambda: message("lsp.function.share"),
        "total": lambda: message("lsp.function.total"),
        "points": lambda: message("lsp.function.points"),
        "max_points": lambda: message("lsp.function.max_points"),
        "median": lambda: message("lsp.rollup_function.median"),
        "percentile": lambda: message("lsp.rollup_function.percentile"),
        "mode": lambda: message("lsp.rollup_function.mode"),
        "weekday": lambda: message("lsp.date_function.weekday"),
        "month": lambda: message("lsp.date_function.month"),
        "year": lambda: message("lsp.date_function.year"),
        "hour": lambda: message("lsp.date_function.hour"),
        "days_between": lambda: message("lsp.date_function.days_between"),
        "minutes_between": lambda: message("lsp.date_function.minutes_between"),
        "selected": lambda: message("lsp.multi_function.selected"),
        "selected_count": lambda: message("lsp.multi_function.selected_count"),
        "previous": lambda: message("lsp.history_function.previous"),
        "has_previous": lambda: message("lsp.history_function.has_previous"),
        "repeated": lambda: message("lsp.history_function.repeated"),
    }
    if name in docs:
        return docs[name]()
    entry = next((e for e in BUILTINS if e.name == name), None)
    doc = entry.doc if entry is not None else ""
    return doc[:1].upper() + doc[1:] + ("." if doc and not doc.endswith(".") else "")
