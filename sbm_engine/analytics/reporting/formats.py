"""How a report's figure reads as text, by its column's kind and the report's language.

The HTML page (tables, tooltips, cards) formats every value here, so a number reads
the same wherever it is shown. Russian uses a decimal comma, a no-break space between
thousands and before the percent sign ("85,3 %"); English "85.3%". A missing value
(None, NaN, an infinity) reads as the report's `ui["na"]`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

from sbm_engine.analytics.reporting.model import KINDS, Report

#: no-break space: groups thousands in Russian and keeps "85,3 %" on one line; it is
#: also what the charts' d3 locale (`ru-RU`) uses, so axes and tables agree.
NBSP = "\u00a0"

_SEPARATORS: dict[str, tuple[str, str]] = {"ru": (",", NBSP), "en": (".", ",")}


def separators(lang: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) of a language; English for unknown ones."""
    return _SEPARATORS.get(lang, _SEPARATORS["en"])


def format_value(value: Any, kind: str, lang: str, ui: Mapping[str, str] | None = None) -> str:
    """`value` as text for a column of `kind` (one of `model.KINDS`) in `lang`.

    `ui` gives the words "na", "yes" and "no" (the report's `ui`); without it,
    "N/A", "yes", "no"."""
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r}; expected one of {KINDS}")
    words = ui or {}
    na = words.get("na", "N/A")
    if value is None:
        return na
    if kind == "text":
        return str(value)
    if kind == "flag":
        if isinstance(value, str):
            return value
        if isinstance(value, float) and not math.isfinite(value):
            return na
        return words.get("yes", "yes") if value else words.get("no", "no")
    if isinstance(value, str) or not isinstance(value, Real):
        # a figure the analytics could not compute is sometimes a word ("3 из 12")
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return na
    if kind == "score":
        return _fixed(x, 3, lang)
    if kind == "share":
        text = _fixed(x * 100, 1, lang)
        return f"{text}{NBSP}%" if lang == "ru" else f"{text}%"
    if kind == "change":
        text = _fixed(x, 3, lang)
        return text if text.startswith("-") or not _nonzero(text) else "+" + text
    if kind == "number":
        return _significant(x, 4, lang)
    if kind == "count" or kind == "money":
        if isinstance(value, int) and not isinstance(value, bool):
            return _group(str(abs(value)), lang, negative=value < 0)
        return _fixed(x, 0, lang)
    # kind == "p"
    if x < 0.0001:
        return "<" + _fixed(0.0001, 4, lang)
    return _fixed(x, 4, lang)


def formatter(report: Report) -> Callable[[Any, str], str]:
    """`format_value` bound to a report's language and words: `fmt(value, kind)`."""
    lang, ui = report.lang, dict(report.ui)

    def fmt(value: Any, kind: str) -> str:
        return format_value(value, kind, lang, ui)

    return fmt


def _nonzero(text: str) -> bool:
    return any(ch in "123456789" for ch in text)


def _fixed(x: float, decimals: int, lang: str) -> str:
    """Rounded to `decimals`, grouped; a value that rounds to zero loses its sign
    (no "-0.000")."""
    text = f"{abs(x):.{decimals}f}"
    negative = x < 0 and _nonzero(text)
    whole, _, frac = text.partition(".")
    grouped = _group(whole, lang, negative=negative)
    return f"{grouped}{separators(lang)[0]}{frac}" if frac else grouped


def _group(digits: str, lang: str, *, negative: bool) -> str:
    sep = separators(lang)[1]
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ("-" if negative else "") + sep.join(parts)


def _significant(x: float, digits: int, lang: str) -> str:
    """`digits` significant digits, trailing zeros of the fraction dropped; very small
    and very large magnitudes in exponent form (1.235e-7), where fixed notation would
    show only zeros or a run of invented digits."""
    if x == 0:
        return "0"
    a = abs(x)
    if a < 1e-4 or a >= 1e15:
        mantissa, _, exponent = f"{x:.{digits - 1}e}".partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa.replace('.', separators(lang)[0])}e{int(exponent)}"
    magnitude = math.floor(math.log10(a))
    rounded = round(x, digits - 1 - magnitude)
    decimals = max(0, digits - 1 - magnitude)
    text = _fixed(rounded, decimals, lang)
    dec = separators(lang)[0]
    if dec in text:
        text = text.rstrip("0").rstrip(dec)
    return "0" if text == "-0" else text
