"""What may be typed at the cursor, read from the text before it.

Completion runs while a line is half written, when the file rarely parses, so the
context is read lexically from the text before the cursor:

- after `answer`: the scales, `number`, `text`, `any`; after `answer any of`: the scales;
- after `selected(ITEM,`: the labels of that item;
- after `tags …` and `tagged`: the tags in use; after `in`: the sections;
- after `visit.`: the visit fields (built-in and declared);
- after `==` or `!=`: the labels the left side can take (an item's scale, a
  coefficient's bands with `band(c)`, a field's values), else every label;
- after `target`, `bands`: the coefficients; after `drop`: the declared names;
- after `scale NAME`: `points` and `penalty`;
- after `field NAME ["title"]`: the field types, `required` and `one` (of);
- inside `answers { … }`: the items, and after `item =` that item's labels;
- at the start of a line: the declaration keywords (and the item options after an
  item's head);
- after `const NAME =` and a band's `>=` or `<=`: nothing (a number goes there);
- anywhere else in a formula (a band's `when` too): the standard's names (constants
  among them), functions, built-in values and expression keywords;
- inside a string or a comment: nothing.

Names come from the last check and from this text's own declarations, so a name
declared a moment ago is offered before the next check.
"""

from __future__ import annotations

import re

from .. import nodes as n
from .index import DECLARED, Occurrence
from .language import (
    DECLARATION_WORDS,
    EXPRESSION_WORDS,
    FIELD_WORDS,
    ITEM_OPTIONS,
    SCALE_KINDS,
    SELECTIONS,
    VALUES,
    builtin_fields,
    function_names,
    kind_word,
)
from .view import View

#: (label, kind, detail): kind is one of the words below, mapped to the protocol's by the server.
Candidate = tuple[str, str, str]

_WORD_BEFORE = re.compile(r"(\w*)$")


def _decls(view: View) -> dict[str, Occurrence]:
    """Every declared name: the standard's, this file's last text that parsed, and this
    text's own (its index, or, while it does not parse, its lexical scan)."""
    out: dict[str, Occurrence] = {}
    for o in view.all_occurrences(stale=True):
        if o.role == "declaration" and o.kind in DECLARED:
            out.setdefault(o.name, o)
    return out


def _labels_of(view: View, left: str) -> list[str] | None:
    """The labels the left side of a comparison can take; None when it says nothing."""
    m = re.search(r"band\s*\(\s*(\w+)\s*\)\s*$", left)
    if m:
        found = [
            o.name
            for o in view.all_occurrences(stale=True)
            if o.kind == "label"
            and isinstance(o.node, n.Bands)
            and o.node.coefficient == m.group(1)
        ]
        return found
    m = re.search(r"visit\s*\.\s*(\w+)\s*$", left)
    if m:
        decl = view.effective(m.group(1), stale=True)
        if decl is not None and isinstance(decl.node, n.Field) and decl.node.values:
            return [v.value for v in decl.node.values]
        return None
    m = re.search(r"(?:answer\s*\(\s*)?(\w+)\s*\)?\s*$", left)
    if m:
        return _item_labels(view, m.group(1))
    return None


def _item_labels(view: View, name: str) -> list[str] | None:
    decl = view.effective(name, stale=True)
    if decl is None or not isinstance(decl.node, n.Item):
        return None
    answer = decl.node.answer
    if isinstance(answer, n.MultiAnswer):
        answer = answer.options
    if isinstance(answer, n.InlineScaleAnswer):
        return [e.label.value for e in answer.entries]
    if isinstance(answer, n.ScaleAnswer):
        scale = view.effective(answer.scale, stale=True)
        if scale is not None and isinstance(scale.node, n.Scale):
            return [e.label.value for e in scale.node.entries]
    return None


def _all_labels(view: View) -> list[str]:
    return sorted(
        {
            o.name
            for o in view.all_occurrences(stale=True)
            if o.kind == "label" and o.role == "declaration"
        }
    )


def _tags(view: View) -> list[str]:
    return sorted({o.name for o in view.all_occurrences(stale=True) if o.kind == "tag"})


def _inside_answers(before: str) -> bool:
    """The cursor is inside an `answers { … }` block."""
    start = before.rfind("answers")
    if start < 0:
        return False
    tail = before[start:]
    return "{" in tail and "}" not in tail


def _inside_bands(before: str) -> bool:
    """The cursor is inside a `bands NAME { … }` block."""
    opened = [m.end() for m in re.finditer(r"\bbands\s+\w+\s*\{", before)]
    return bool(opened) and "}" not in before[opened[-1] :]


def _in_string_or_comment(line: str) -> bool:
    """The end of `line` is inside a string or a comment (strings never span lines)."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return True
        i += 1
    return quoted


def complete(view: View, offset: int) -> tuple[list[Candidate], str]:
    """Candidates at `offset` and the partial word they replace."""
    before = view.text[max(0, offset - 2000) : offset]
    partial = _WORD_BEFORE.search(before)
    word = partial.group(1) if partial else ""
    head = before[: len(before) - len(word)]
    line = head.rsplit("\n", 1)[-1]
    decls = _decls(view)
    words_of: dict[str, str] = {}

    def word_of(kind: str) -> str:  # one catalogue lookup per kind, not per name
        if kind not in words_of:
            words_of[kind] = kind_word(kind)
        return words_of[kind]

    def names(*kinds: str) -> list[Candidate]:
        return [
            (name, o.kind, word_of(o.kind)) for name, o in sorted(decls.items()) if o.kind in kinds
        ]

    def words(items: list[str] | tuple[str, ...], kind: str) -> list[Candidate]:
        return [(w, kind, word_of(kind)) for w in items]

    if re.search(r"visit\s*\.\s*$", head):
        fields = [*builtin_fields(), *(x for x, o in decls.items() if o.kind == "field")]
        return words(sorted(set(fields)), "field"), word
    if _in_string_or_comment(line):
        return [], word
    if re.search(r"\banswer\s+$", head):
        return names("scale") + words(["number", "text", "any"], "keyword"), word
    if re.search(r"\banswer\s+any\s+$", head):
        return words(["of"], "keyword"), word
    if re.search(r"\banswer\s+any\s+of\s+$", head):
        return names("scale"), word
    selected = re.search(r"\bselected\s*\(\s*(\w+)\s*,\s*$", head)
    if selected:  # `selected(ITEM, ` : the item's labels
        return words(_item_labels(view, selected.group(1)) or [], "label"), word
    if re.search(r"\btagged\s+$", head) or re.search(r"\btags(\s+\w+)*\s+$", line):
        return words(_tags(view), "tag"), word
    if re.search(r"\bin\s+$", head) or re.search(r"^\s*section\b.*\b(after|before)\s+$", line):
        return names("section"), word
    if re.search(r"\b(after|before)\s+$", line):
        return names("item"), word
    if re.search(r"\b(target|bands)\s+$", line):
        return names("coefficient"), word
    if re.search(r"\bdrop\s+$", line):
        return names(*DECLARED), word
    m = re.search(r"([^\n]*?)(==|!=)\s*$", head)
    if m:
        left = m.group(1)
        labels = _labels_of(view, left)
        return words(labels if labels is not None else _all_labels(view), "label"), word
    if _inside_answers(head):
        am = re.search(r"(\w+)\s*=\s*$", head)
        if am:
            labels = _item_labels(view, am.group(1))
            return words(labels or [], "label"), word
        return names("item"), word
    if not line.strip():
        # The start of a line: a declaration, or, under an item's head, an item option.
        prev = [x for x in head.split("\n")[:-1] if x.strip()]
        after_item = bool(prev) and re.match(r"\s*item\b", prev[-1]) is not None
        out = words(DECLARATION_WORDS, "keyword") + words(["expect"], "keyword")
        if after_item:
            out = words(ITEM_OPTIONS, "keyword") + out
        return out, word
    if re.search(r"^\s*const\s+\w+\s*=\s*$", line) or (
        _inside_bands(head) and re.search(r"[{,]\s*\w+\s*(>=|<=)\s*$", head)
    ):
        return [], word  # a number
    if re.search(r"^\s*scale\s+(?!\d)\w+\s+$", line):
        return words(SCALE_KINDS, "keyword"), word
    if re.search(r'^\s*field\s+(?!\d)\w+(\s+"[^"]*")?(\s+\w+)*\s+$', line):
        return words(FIELD_WORDS, "keyword"), word
    if re.search(
        r"\b(item|section|coefficient|rollup|scale|field|standard|example|const)\s+$", line
    ):
        return [], word  # a new name is being written
    if re.search(r"(=|\bwhen|\bexpect|\bthen|\belse|\bif|\band|\bor|\bnot|[-+*/(,:<>])\s*$", head):
        out = names("item", "section", "coefficient", "rollup", "constant")
        out += words(function_names(), "function")
        out += words(VALUES, "value")
        out += words(EXPRESSION_WORDS, "keyword")
        if re.search(r"[(,]\s*$", head):
            out += words(SELECTIONS, "keyword")
        return out, word
    if re.search(r"\bitem\s+\w+\s+\"", line) or re.match(
        r"\s+(in|after|before|weight|tags|required|optional|critical|bonus|unscored)\b", line
    ):
        return words(ITEM_OPTIONS, "keyword"), word
    return [], word
