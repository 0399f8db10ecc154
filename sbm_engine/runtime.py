"""What compiled standards call at run time: answer parsing and the slow paths.

Generated code handles the common case inline (a label found in a dict, a number
in range); everything unusual — N/A tokens, missing answers, aliases written in
another case, numbers given as text, out-of-range values — comes here, where the
rules of the language are written once. `EXPORTED` is the whole interface the
generated module sees, like Jinja2's `runtime.exported`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import attrs

from .diagnostics import did_you_mean
from .messages import deferred, message


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

#: Answers meaning "not applicable", matched ignoring case and surrounding spaces.
NA_TOKENS = frozenset({"na", "n/a", "н/п"})


def label_key(value: Any) -> str:
    """How labels are matched: case-insensitive, surrounding spaces ignored."""
    return str(value).strip().casefold()


def number_of(value: Any) -> float | None:
    """A finite number from an int, float or numeric text ("5", " 4.5 ", "4,5"); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            f = float(value)
        except OverflowError:  # an int with more than ~308 digits
            return None
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        text = _numeric_text(value)
        try:
            f = float(text)
        except ValueError:
            return None
        if text.lower() in ("nan", "inf", "-inf", "infinity", "+inf", "-infinity", "+infinity"):
            return None
        return f if math.isfinite(f) else None
    return None


def _numeric_text(value: str) -> str:
    """Text as `float` reads it: spaces stripped, one decimal comma made a point."""
    if value.count(",") == 1 and "." not in value:
        return value.strip().replace(",", ".", 1)
    return value.strip()


def not_finite(value: Any) -> bool:
    """A number, or numeric text, beyond the range of a float (or NaN).

    Why it matters: JSONL `1e400` reads as inf, which no output format can carry as
    a number (JSON has no spelling for it); such an answer rejects its visit with
    `not_a_number` and a message that says why, rather than aborting the run when
    the result or the reject is written.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return True
        return False
    if isinstance(value, str):
        try:
            return not math.isfinite(float(_numeric_text(value)))
        except ValueError:
            return False
    return False


def is_na(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().casefold() in NA_TOKENS)


@attrs.frozen
class VisitError:
    """Why a visit was rejected, for one item (or `visit_id`, or a field)."""

    item: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "code": self.code, "message": self.message}


@attrs.frozen
class VisitWarning:
    item: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "message": self.message}


@attrs.frozen
class ItemInfo:
    """What the slow paths need to know of an item."""

    name: str
    presence: str | None  # "required", "optional" or None
    low: float | None = None
    high: float | None = None
    labels: tuple[str, ...] = ()  # canonical labels in order
    scores: tuple[float, ...] = ()
    lookup: dict[str, int] = attrs.field(factory=dict)  # label_key(label or alias) -> index
    numeric: dict[float, int] = attrs.field(factory=dict)  # numeric label -> index
    #: a multi-select's options: what each adds to the points P, and 10ᵖ for the places
    #: P is rounded to (None: not rounded)
    points: tuple[float, ...] = ()
    exact_scale: float | None = None


#: The N/A spellings common enough to be worth a dict entry (the slow path knows them all).
NA_FAST = frozenset({"na", "NA", "Na", "n/a", "N/A", "н/п", "Н/П"})


def fast_table(info: ItemInfo, value: Callable[[int], Any], na: Any = None) -> dict[Any, Any]:
    """Raw answers that can be looked up directly, mapped to `value(index)`.

    Holds the labels and aliases as written, their lower and upper case, and for
    numeric labels the int and float numbers, so that most answers never reach
    the slow path; and, unless the item is required (where N/A is an error the slow
    path reports), JSON null and the common N/A spellings, mapped to `na`.
    """
    table: dict[Any, Any] = {}
    for key, index in info.lookup.items():
        table.setdefault(key, value(index))
    for i, label in enumerate(info.labels):
        for variant in (label, label.lower(), label.upper(), label.capitalize()):
            table.setdefault(variant, value(i))
    for num, index in info.numeric.items():
        table.setdefault(num, value(index))  # 5 and 5.0 hash alike
        if num.is_integer():
            table.setdefault(str(int(num)), value(index))
    if info.presence != "required":
        for token in (None, *NA_FAST):  # an N/A token wins over a label spelt alike
            table[token] = na
    return table


def _missing_or_na(info: ItemInfo, answer: Any, errs: list[VisitError]) -> bool:
    """Handle a missing or N/A answer; True when the answer was one of them."""
    if answer is MISSING or (isinstance(answer, str) and answer.strip() == ""):
        if info.presence != "optional":
            errs.append(VisitError(info.name, "missing", message("visit.missing", item=info.name)))
        return True
    if is_na(answer):
        if info.presence == "required":
            errs.append(
                VisitError(
                    info.name, "na_not_allowed", message("visit.na_not_allowed", item=info.name)
                )
            )
        return True
    return False


def scale_index(info: ItemInfo, answer: Any, errs: list[VisitError]) -> int | None:
    """The scale entry an answer names, or None for N/A; records an error when invalid."""
    if _missing_or_na(info, answer, errs):
        return None
    if isinstance(answer, str | int | float) and not isinstance(answer, bool):
        index = info.lookup.get(label_key(answer))
        if index is not None:
            return index
        num = number_of(answer)
        if num is not None and num in info.numeric:
            return info.numeric[num]
    if isinstance(answer, float) and not math.isfinite(answer):
        errs.append(_not_finite_error(info, answer))
        return None
    shown = ", ".join(info.labels)
    hint = did_you_mean(str(answer), info.labels) if isinstance(answer, str) else None
    errs.append(
        VisitError(
            info.name,
            "not_in_scale",
            message("visit.not_in_scale", answer=_show(answer), item=info.name, labels=shown)
            + (message("visit.did_you_mean", name=hint) if hint else ""),
        )
    )
    return None


#: The text of a multi-select answered with nothing chosen: ``[]``, spaces inside allowed.
_EMPTY_LIST = re.compile(r"\[\s*\]")


def multi_answer(
    info: ItemInfo, answer: Any, errs: list[VisitError]
) -> tuple[tuple[bool, ...], float] | None:
    """A multi-select's answer: which options were chosen (a flag per option, in the
    scale's order) and the points P they add up to; None for N/A or an invalid answer
    (recorded in `errs`).

    The answer is a list of labels (JSON, a Parquet list column; a set or a tuple from
    the API) or a text of labels separated by `;` (a table's cell); `[]` (or the text
    "[]", "[ ]") is answered with nothing chosen. A text with an empty label (";",
    "no_soap;", "a;;b") is garbled: `not_in_scale`, naming the item. Labels match as
    a single answer's do (aliases, any case, numbers as text). P is summed in the
    options' order and rounded to their places, so every backend (and `sbm explain`)
    gets the same float."""
    if _missing_or_na(info, answer, errs):
        return None
    parts: list[Any]
    if isinstance(answer, str):
        text = answer.strip()
        parts = [] if _EMPTY_LIST.fullmatch(text) else [p.strip() for p in text.split(";")]
        if "" in parts:  # a separator with no label on one side: the cell is garbled
            errs.append(_not_in_scale(info, answer))
            return None
    elif isinstance(answer, list | tuple):
        parts = list(answer)
    elif isinstance(answer, set | frozenset):  # from the API: a set of labels
        parts = sorted(answer, key=lambda part: (type(part).__name__, str(part)))
    else:  # one label (a number, say), or what is no label
        parts = [answer]
    flags = [False] * len(info.labels)
    for part in parts:
        index = _option_index(info, part)
        if index is None:
            if isinstance(part, float) and not math.isfinite(part):
                errs.append(_not_finite_error(info, part))
                return None
            hint = did_you_mean(part, info.labels) if isinstance(part, str) else None
            errs.append(_not_in_scale(info, part, hint))
            return None
        if flags[index]:
            errs.append(
                VisitError(
                    info.name,
                    "not_in_scale",
                    message("visit.multi.twice", label=info.labels[index], item=info.name),
                )
            )
            return None
        flags[index] = True
    total = 0.0
    for chosen, points in zip(flags, info.points, strict=True):
        if chosen:
            total += points
    rounded = None if info.exact_scale is None else exact(total, info.exact_scale)
    return tuple(flags), total if rounded is None else rounded


def _not_in_scale(info: ItemInfo, part: Any, hint: str | None = None) -> VisitError:
    return VisitError(
        info.name,
        "not_in_scale",
        message(
            "visit.not_in_scale",
            answer=_show(part),
            item=info.name,
            labels=", ".join(info.labels),
        )
        + (message("visit.did_you_mean", name=hint) if hint else ""),
    )


def _option_index(info: ItemInfo, part: Any) -> int | None:
    """The option one label of a multi-select answer names, or None."""
    if isinstance(part, str | int | float) and not isinstance(part, bool):
        index = info.lookup.get(label_key(part))
        if index is not None:
            return index
        num = number_of(part)
        if num is not None and num in info.numeric:
            return info.numeric[num]
    return None


def scale_score(info: ItemInfo, answer: Any, errs: list[VisitError]) -> float | None:
    index = scale_index(info, answer, errs)
    return None if index is None else info.scores[index]


def scale_label(info: ItemInfo, answer: Any, errs: list[VisitError]) -> Any:
    """The canonical label (its number, for numeric scales) without recording errors twice."""
    index = scale_index(info, answer, [])
    return None if index is None else info.labels[index]


def number_answer(info: ItemInfo, answer: Any, errs: list[VisitError]) -> float | None:
    """A number item's answer as a number, checked against its range; None for N/A."""
    if _missing_or_na(info, answer, errs):
        return None
    num = number_of(answer)
    if num is None:
        if not_finite(answer):
            errs.append(_not_finite_error(info, answer))
            return None
        errs.append(
            VisitError(
                info.name,
                "not_a_number",
                message("visit.not_a_number", answer=_show(answer), item=info.name),
            )
        )
        return None
    return check_range(info, num, errs)


def _not_finite_error(info: ItemInfo, answer: Any) -> VisitError:
    if isinstance(answer, int) and not isinstance(answer, bool):
        shown = message("visit.digits", count=int(answer.bit_length() * math.log10(2)) + 1)
    else:
        shown = _show(answer)
    return VisitError(
        info.name,
        "not_a_number",
        message("visit.not_finite", answer=shown, item=info.name),
    )


def check_range(info: ItemInfo, num: float, errs: list[VisitError]) -> float | None:
    if info.low is not None and info.high is not None and not info.low <= num <= info.high:
        errs.append(
            VisitError(
                info.name,
                "out_of_range",
                message(
                    "visit.out_of_range",
                    answer=_num(num),
                    item=info.name,
                    low=_num(info.low),
                    high=_num(info.high),
                ),
            )
        )
        return None
    return num


def text_answer(info: ItemInfo, answer: Any, errs: list[VisitError]) -> Any:
    """A text item's answer as given; but a float that is not finite (JSONL `1e400`)
    is an error, as it is for every item: no output could carry it as a number."""
    if _missing_or_na(info, answer, errs):
        return None
    if isinstance(answer, float) and not math.isfinite(answer):
        errs.append(_not_finite_error(info, answer))
        return None
    return answer


def score_out_of_range(name: str, score: Any, where: str, errs: list[VisitError]) -> None:
    errs.append(
        VisitError(
            name,
            "score_out_of_range",
            message("visit.score_out_of_range", item=name, where=where, score=_show(score)),
        )
    )


def answered(answer: Any) -> bool:
    """An answer that says something (not missing, blank or N/A): worth a warning if ignored."""
    return (
        answer is not MISSING
        and not is_na(answer)
        and not (isinstance(answer, str) and answer.strip() == "")
    )


def _show(value: Any) -> str:
    """A value as a user writes it in JSON: texts quoted, null, true and false, lists
    and objects as JSON (a set as a list)."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, set | frozenset):
        value = sorted(value, key=lambda part: (type(part).__name__, str(part)))
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def not_applicable(name: str, condition: str | None) -> Callable[[], str]:
    """The warning for an item answered where it does not apply, made when first
    needed (in the language chosen when the standard was compiled): the same text on
    the record path (`compiler`) and the batch path (`batch.evaluator`)."""
    if condition:
        return deferred("visit.not_applicable_when", item=name, condition=condition)
    return deferred("visit.not_applicable", item=name)


#: |x · 10ᵖ| below this is a whole number a float holds exactly, so rounding it is exact.
EXACT_LIMIT = 2.0**52


def exact(x: float | None, scale: float) -> float | None:
    """`x` rounded to the decimal places `scale` = 10ᵖ stands for: `rint(x·scale) / scale`,
    the float nearest the decimal value (`exact`). The batch kernel computes the very
    same operations with numpy, so both backends give the same bits."""
    if x is None:
        return None
    r = x * scale
    if -EXACT_LIMIT < r < EXACT_LIMIT:
        return round(r, 0) / scale  # a float, half to even and the sign of zero kept, as rint
    return x


def label_text(value: Any) -> str | None:
    """The value of a coefficient that gives a label, as the text a scored visit holds:
    a label or text as it is, a number as the language writes it (`7`, `0.5`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _num(float(value))
    return str(value)


EXPORTED = {
    "MISSING": MISSING,
    "label_text": label_text,
    "exact": exact,
    "scale_score": scale_score,
    "scale_label": scale_label,
    "multi_answer": multi_answer,
    "number_answer": number_answer,
    "check_range": check_range,
    "text_answer": text_answer,
    "score_out_of_range": score_out_of_range,
    "answered": answered,
    "VisitWarning": VisitWarning,
}
