"""The Arrow compute functions the scoring path calls, without `pyarrow.compute`.

Why: importing `pyarrow.compute` builds a Python wrapper, with its signature and
docstring, for each of the ~300 functions Arrow has, which costs a small wave's
`sbm score` a good part of its run. The functions themselves are reached by name
through `call_function` of the compiled module `pyarrow._compute`, which loads in a
fraction of that; the few with logic in their wrapper (a cast's safety, a fill
value's type) do the same here. pyarrow's array methods that compute (`.cast()`,
`.filter()`, `.dictionary_encode()`, `.is_null()`, ...) import `pyarrow.compute`
themselves, so the scoring path calls these functions instead; a test checks that
scoring a wave does not import it.

Anything else (analytics, reports, roll-ups) uses `pyarrow.compute` as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from pyarrow._compute import (  # the compiled module behind pyarrow.compute
    CastOptions,
    CountOptions,
    IndexOptions,
    MatchSubstringOptions,
    PadOptions,
    ReplaceSubstringOptions,
    SetLookupOptions,
    StructFieldOptions,
    call_function,
)


def _plain(name: str) -> Callable[..., Any]:
    """A function of arrays with Arrow's default options, as `pyarrow.compute` names it."""

    def function(*args: Any) -> Any:
        return call_function(name, list(args))

    function.__name__ = function.__qualname__ = name
    return function


dictionary_encode = _plain("dictionary_encode")
unique = _plain("unique")
is_null = _plain("is_null")  # null, not NaN, as pyarrow.compute's default
is_valid = _plain("is_valid")
take = _plain("take")  # bounds checked
filter = _plain("filter")  # a null in the mask drops the row
if_else = _plain("if_else")
equal = _plain("equal")
invert = _plain("invert")
any = _plain("any")  # nulls skipped
all = _plain("all")  # nulls skipped
max = _plain("max")  # nulls skipped; null if there are no values
binary_length = _plain("binary_length")
utf8_length = _plain("utf8_length")
replace_with_mask = _plain("replace_with_mask")
binary_join_element_wise = _plain("binary_join_element_wise")  # the last is the separator


def cast(values: Any, target_type: Any) -> Any:
    """A safe cast (an overflow raises), as `pyarrow.compute.cast` by default."""
    return call_function("cast", [values], CastOptions.safe(pa.types.lib.ensure_type(target_type)))


def fill_null(values: Any, fill_value: Any) -> Any:
    """Nulls replaced by `fill_value`, taken in `values`' type."""
    if not isinstance(fill_value, pa.Array | pa.ChunkedArray | pa.Scalar):
        fill_value = pa.scalar(fill_value, type=values.type)
    elif values.type != fill_value.type:
        fill_value = pa.scalar(fill_value.as_py(), type=values.type)
    return call_function("coalesce", [values, fill_value])


def index(data: Any, value: Any) -> Any:
    """Where `value` first is in `data` (an Int64Scalar, -1 if nowhere)."""
    if not isinstance(value, pa.Scalar):
        value = pa.scalar(value, type=data.type)
    elif data.type != value.type:
        value = pa.scalar(value.as_py(), type=data.type)
    return call_function("index", [data], IndexOptions(value=value))


def struct_field(values: Any, name: str | list[int]) -> Any:
    """A struct's child by name (or by a path of indices), with the struct's nulls."""
    return call_function("struct_field", [values], StructFieldOptions(name))


def count_distinct(values: Any, mode: str = "only_valid") -> Any:
    return call_function("count_distinct", [values], CountOptions(mode))


def is_in(values: Any, value_set: Any) -> Any:
    return call_function("is_in", [values], SetLookupOptions(value_set))


def match_substring(values: Any, pattern: str) -> Any:
    return call_function("match_substring", [values], MatchSubstringOptions(pattern))


def starts_with(values: Any, pattern: str) -> Any:
    return call_function("starts_with", [values], MatchSubstringOptions(pattern))


def match_substring_regex(values: Any, pattern: str) -> Any:
    return call_function("match_substring_regex", [values], MatchSubstringOptions(pattern))


def utf8_rpad(values: Any, width: int, padding: str) -> Any:
    """Each text padded to `width` characters with `padding` (one character) after it."""
    return call_function("utf8_rpad", [values], PadOptions(width, padding))


def replace_substring(values: Any, pattern: str, replacement: str) -> Any:
    options = ReplaceSubstringOptions(pattern, replacement)
    return call_function("replace_substring", [values], options)


def replace_substring_regex(values: Any, pattern: str, replacement: str) -> Any:
    options = ReplaceSubstringOptions(pattern, replacement)
    return call_function("replace_substring_regex", [values], options)
