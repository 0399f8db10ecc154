"""The words the language reserves, read from the grammar's text without building the
parser: what a pack's function may not be called is checked when packs load, where a
standard read from the compile cache needs no parser (and no lark)."""

from __future__ import annotations

import re

from .resources import grammar_text


def grammar_keywords(grammar: str) -> frozenset[str]:
    """The words the grammar writes as literals (`"item"`, `"when"`): its keywords.

    Read from the grammar's text, comments left out, so a keyword added to the
    grammar is reserved without a second list to keep in step (a test holds this
    to the keywords of the parser lark builds)."""
    code = re.sub(r"//[^\n]*", "", grammar)
    return frozenset(re.findall(r'"([^\W\d]\w*)"', code))


#: Keywords that stand only where no name can (after `scale NAME`, at the start of a
#: declaration), so they stay free as names: files written before them keep their meaning.
SOFT_KEYWORDS = frozenset(
    {
        "points",
        "penalty",
        "const",
        "date",
        "datetime",
        "duration",
        "any",
        "repeat",
        "after",
        "before",
        "unscored",
    }
)

#: Words the language reserves: they cannot name a declaration.
KEYWORDS = grammar_keywords(grammar_text()) - SOFT_KEYWORDS

#: Names with a meaning of their own in formulas, which no declaration may take.
RESERVED = frozenset({"value", "critical_failed", "visits", "na"})

__all__ = ["KEYWORDS", "RESERVED", "SOFT_KEYWORDS", "grammar_keywords"]
