"""`sbm fmt` wraps lines that run past `WIDTH`, as black and ruff format do.

What is promised (`sbm_engine.fmt_expr` and `sbm_engine.formatter` say why):
breaks are added only where an author could have written one (before an operator,
at `then`/`else`, between arguments, before `answer`/`when`/`score =`, after the `=`
of a formula, between the entries of a block), the loosest construct of a line
first; the author's own breaks are kept; what holds no break point stays as long as
it is. The property tests check the invariants on generated standards: the same
tree, the same comments, a fixed point, and no line past `WIDTH` that still holds a
point where `fmt` could have broken it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_strategies import broken_up, digits, expressions, items, signed, tuples
from strategies import standards

from sbm_engine import nodes as n
from sbm_engine.formatter import WIDTH, format_source, print_module
from sbm_engine.parser import KEYWORDS, parse

ROOT = Path(__file__).parents[2]
BENCHMARK = ROOT / "benchmarks" / "compile_1000.py"  # its `standard_text()`: 1,000 items


def _formatted(source: str) -> str:
    """`format_source`, asserting the promises every layout must keep."""
    out = format_source(source)
    assert format_source(out) == out
    assert parse(out) == parse(source)
    assert [c.text for c in parse(out).comments] == [c.text for c in parse(source).comments]
    return out


def _body(source: str) -> str:
    """The formatted lines between `standard s {` and `}`, as one string."""
    lines = _formatted(source).splitlines()
    assert lines[0] == "standard s {" and lines[-1] == "}"
    return "\n".join(lines[1:-1]) + "\n"


# ---- where lines break ---------------------------------------------------------------


def test_a_long_formula_moves_below_its_equals_sign_first() -> None:
    args = "compliance: 0.4, professionalism: 0.3, client_orientation: 0.3, point: 0.2"
    source = f'standard s {{ coefficient total "Итоговый балл визита" = weighted_mean({args}) }}'
    assert _body(source) == (
        f'    coefficient total "Итоговый балл визита" =\n        weighted_mean({args})\n'
    )


def test_operators_break_loosest_first_one_operand_a_line() -> None:
    terms = " + ".join(f"speed_of_service_{i} * 0.25" for i in range(4))
    source = f"standard s {{ coefficient k = {terms} }}"
    assert _body(source) == (
        "    coefficient k =\n"
        "        speed_of_service_0 * 0.25\n"  # `+` breaks, `*` (tighter) does not need to
        "        + speed_of_service_1 * 0.25\n"
        "        + speed_of_service_2 * 0.25\n"
        "        + speed_of_service_3 * 0.25\n"
    )


def test_or_breaks_before_and_and_and_before_comparisons() -> None:
    conditions = [
        'visit.scenario == "deposit" and answer(greeted_at_the_door) == yes',
        'visit.scenario == "credit" and answer(offered_the_credit_card) == yes',
    ]
    source = f"standard s {{ coefficient k = if {' or '.join(conditions)} then 1 else 0 }}"
    assert _body(source) == (
        "    coefficient k =\n"
        '        if (visit.scenario == "deposit" and answer(greeted_at_the_door) == yes)\n'
        '           or (visit.scenario == "credit" and answer(offered_the_credit_card) == yes)\n'
        "        then 1\n"
        "        else 0\n"
    )


def test_an_else_if_chain_breaks_before_every_else_and_stays_flat() -> None:
    chain = (
        "if value <= 5 then 1 else if value <= 10 then 0.75 else if value <= 15 then 0.5 "
        "else if value <= 20 then 0.25 else 0"
    )
    source = (
        f'standard s {{ item wait "Время ожидания, минут" answer number 0..60 score = {chain} }}'
    )
    assert _body(source) == (
        '    item wait "Время ожидания, минут" answer number 0..60\n'
        "        score = if value <= 5 then 1\n"
        "                else if value <= 10 then 0.75\n"
        "                else if value <= 15 then 0.5\n"
        "                else if value <= 20 then 0.25\n"
        "                else 0\n"
    )


def test_then_breaks_after_else_when_the_line_is_still_too_long() -> None:
    condition = " and ".join(f"answer(question_{i}) == yes" for i in range(3))
    source = f"standard s {{\ncoefficient k =\n if {condition} then 1 else 0 }}"
    assert (
        _body(source)
        == f"    coefficient k =\n        if {condition}\n        then 1\n        else 0\n"
    )


def test_arguments_break_one_a_line_under_the_first() -> None:
    args = ", ".join(f"coefficient_number_{i}: 0.{i}" for i in range(1, 6))
    source = f'standard s {{ example "e" {{ expect weighted_mean({args}) == 1 }} }}'
    assert _body(source) == (
        '    example "e" {\n'
        "        expect weighted_mean(coefficient_number_1: 0.1,\n"
        "                             coefficient_number_2: 0.2,\n"
        "                             coefficient_number_3: 0.3,\n"
        "                             coefficient_number_4: 0.4,\n"
        "                             coefficient_number_5: 0.5)\n"
        "               == 1\n"
        "    }\n"
    )


def test_the_authors_breaks_are_kept_and_breaks_added_only_where_needed() -> None:
    call = "weighted_mean(first_question_of_this_visit: 0.5, second_question_of_this_visit: 0.5)"
    source = f'standard s {{ example "e" {{\nexpect alpha + beta\n  + {call} }} }}'
    assert _body(source) == (
        '    example "e" {\n'
        "        expect alpha + beta\n"  # the point left unbroken on a line that fits stays so
        "               + weighted_mean(first_question_of_this_visit: 0.5,\n"
        "                               second_question_of_this_visit: 0.5)\n"
        "    }\n"
    )


def test_a_break_after_the_opening_parenthesis_stays_the_authors() -> None:
    args = ", ".join(f"(answer(question_{i}) - 1) / 6" for i in range(6))
    source = f"standard s {{ coefficient perception = weighted_mean(\n{args}) }}"
    assert _body(source) == (
        "    coefficient perception = weighted_mean(\n"
        "        (answer(question_0) - 1) / 6,\n"
        "        (answer(question_1) - 1) / 6,\n"
        "        (answer(question_2) - 1) / 6,\n"
        "        (answer(question_3) - 1) / 6,\n"
        "        (answer(question_4) - 1) / 6,\n"
        "        (answer(question_5) - 1) / 6)\n"
    )


def test_what_holds_no_break_point_stays_as_long_as_it_is() -> None:
    long = "x" * 120
    for written in (f'"{long}"', long, f"weighted_mean(tagged {long})", f"-{long}"):
        line = f"    coefficient k = {written}"
        assert _body(f"standard s {{ coefficient k = {written} }}") == line + "\n"
    # the spec's conformance file: a call of one argument has no point of its own
    title = '"Клиентоориентированность"'
    line = f"    coefficient client_orientation {title} = weighted_mean(tagged client_orientation)"
    assert len(line) > WIDTH
    assert _body(f"standard s {{\n{line}\n}}") == line + "\n"


def test_a_section_condition_wraps_with_room_for_its_brace() -> None:
    cond = 'visit.scenario == "walk-in" or visit.scenario == "phone"'
    source = f'standard s {{ section hall "Зал обслуживания клиентов" weight 2 when {cond} {{ }} }}'
    head = '    section hall "Зал обслуживания клиентов" weight 2 when '
    assert _body(source) == (
        f'{head}visit.scenario == "walk-in"\n'
        f'{" " * len(head)}or visit.scenario == "phone" {{\n'
        "    }\n"
    )


# ---- declarations --------------------------------------------------------------------


def test_a_long_item_breaks_before_answer_then_before_when_and_score() -> None:
    question = "Сотрудник первым поприветствовал клиента в течение 30 секунд"
    source = (
        f'standard s {{ item greet "{question}" answer number 0..60 weight 2 optional '
        "tags compliance when visit.scenario == 1 score = if value <= 5 then 1 else 0 }"
    )
    assert _body(source) == (
        f'    item greet "{question}"\n'
        "        answer number 0..60 weight 2 optional tags compliance when visit.scenario == 1\n"
        "        score = if value <= 5 then 1 else 0\n"
    )


def test_an_item_that_fits_stays_on_one_line() -> None:
    source = 'standard s { item greet "Поприветствовал" answer yes_no weight 2 tags compliance }'
    assert _body(source) == (
        '    item greet "Поприветствовал" answer yes_no weight 2 tags compliance\n'
    )


def test_long_scales_bands_and_field_values_go_one_entry_a_line() -> None:
    entries = ", ".join(f'grade_{i} = 0.{i} alias "оценка {i}"' for i in range(1, 5))
    bands = ", ".join(f"band_number_{i} >= 0.{9 - i}" for i in range(6))
    values = ", ".join(f"channel_number_{i}" for i in range(6))
    source = (
        f"standard s {{ scale grades {{ {entries} }}\n"
        f'field channel "Канал обращения" one of {{ {values} }}\n'
        f"bands total {{ {bands} }} }}"
    )
    body = _body(source)
    assert (
        "    scale grades {\n"
        + "".join(
            f'        grade_{i} = 0.{i} alias "оценка {i}"{"," if i < 4 else ""}\n'
            for i in range(1, 5)
        )
        + "    }\n"
        in body
    )
    assert '    field channel "Канал обращения" one of {\n        channel_number_0,\n' in body
    assert "    bands total {\n        band_number_0 >= 0.9,\n" in body


def test_a_row_of_answers_too_long_is_split_and_the_others_keep_their_rows() -> None:
    first = [f"question_{i} = yes" for i in range(6)]
    second = ", ".join(f"q{i} = no" for i in range(3))
    source = f'standard s {{ example "e" {{ answers {{ {", ".join(first)},\n{second} }} }} }}'
    assert _body(source) == (
        '    example "e" {\n'
        f"        answers {{ {', '.join(first[:4])},\n"
        f"                  {', '.join(first[4:])},\n"
        f"                  {second} }}\n"
        "    }\n"
    )


def test_comments_stay_next_to_their_code_when_a_line_is_wrapped() -> None:
    title = '"Итоговый балл визита"'
    call = "weighted_mean(compliance: 0.4, professionalism: 0.3, client_orientation: 0.3)"
    question = '"Сотрудник первым поприветствовал клиента в течение 30 секунд"'
    source = (
        "standard s {\n"
        "    # the weights\n"
        f"    coefficient total {title} = {call}  # why\n"
        f"    item greet {question} answer yes_no tags compliance  # greet\n"
        "}\n"
    )
    assert _formatted(source) == (
        "standard s {\n"
        "    # the weights\n"
        f"    coefficient total {title} =\n"
        f"        {call}  # why\n"
        "\n"
        f"    item greet {question}\n"
        "        answer yes_no tags compliance  # greet\n"
        "}\n"
    )


# ---- the line limit, checked -----------------------------------------------------------

_JOINT_WORDS = frozenset(
    {"+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or", "then", "else"}
)
# A point `fmt` breaks at: a binary operator or `then`/`else` between spaces, a comma
# between arguments or entries.
_POINT = re.compile(r" (?:[-+*/<>]|[=!<>]=|and|or|then|else) |, ")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _code(line: str) -> str:
    """A line without its indentation, its trailing comment (comments are woven in
    after the layout, so they do not count) and the text of its strings."""
    code = _STRING.sub('""', line.strip())
    return code.split("#", 1)[0].rstrip()


def _width(line: str) -> int:
    """The line's width without a trailing comment."""
    code = line.rstrip()
    hashes = [m.start() for m in re.finditer("#", code)]
    for at in hashes:  # the first `#` outside a string starts the comment
        if _STRING.sub(lambda m: "_" * len(m.group()), code)[at] == "#":
            return len(code[:at].rstrip())
    return len(code)


def unused_break_points(text: str) -> list[str]:
    """The lines of formatted `text` past `WIDTH` that still hold a point where
    `fmt` could have broken them: none is the promise. A line past `WIDTH` may hold
    only what cannot be broken: a long string or name, a call of one argument, the
    words of a declaration's head, the options of an item after `answer`, an inline
    scale (`answer { … }`, `answer any of { … }`, which `fmt` does not break)."""
    bad = []
    for line in text.splitlines():
        if _width(line) <= WIDTH or line.lstrip().startswith("#"):
            continue
        code = _code(line)
        word, _, rest = code.partition(" ")
        if word in _JOINT_WORDS:  # the line starts at a point already broken
            code = rest
        points = _POINT.findall(code)
        if code.startswith(("answer {", "answer any of {")):
            points = []  # an inline scale (a multi-select's too): not broken
        if code.startswith("item ") and " answer " in code:
            points.append("answer")
        if not code.startswith(("section ", "when ")) and " when " in code:
            points.append("when")
        if not code.startswith("score = ") and " score = " in code:
            points.append("score")
        if points:
            bad.append(line)
    return bad


def test_the_line_check_finds_points_left_unbroken() -> None:
    long = "x" * WIDTH
    assert unused_break_points(f"    coefficient k = {long}\n") == []
    assert unused_break_points(f'    coefficient k = "{long} + y"  # a, b\n') == []
    assert unused_break_points(f"    coefficient k = {long} + y\n") != []
    assert unused_break_points(f'    item x "q" answer yn when {long}\n') != []
    assert unused_break_points(f"               + f({long}, y)\n") != []


def _repository_standards() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.sbm"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.split() or [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.sbm") if ".venv" not in p.parts
    ]


@pytest.mark.parametrize("path", _repository_standards())
def test_the_repositorys_standards_hold_no_breakable_line_past_the_limit(path: str) -> None:
    formatted = format_source((ROOT / path).read_text(encoding="utf-8"), path)
    assert unused_break_points(formatted) == []


# ---- generated standards ---------------------------------------------------------------

_RESERVED = KEYWORDS | {"value", "critical_failed", "visits", "na", "visit", "answers"}

_short_names = st.from_regex(r"[a-zя_][a-z0-9я_]{0,13}", fullmatch=True).filter(
    lambda s: s not in _RESERVED
)
# A name no line can hold: what `fmt` must leave long, and not break around wrongly.
_long_names = st.integers(WIDTH - 30, WIDTH + 10).map(lambda k: "n" * k)
_names = st.one_of(_short_names, _short_names, _short_names, _long_names)
_texts = st.one_of(
    st.text(st.sampled_from(list('aZя #"\\\n\t{},=.-+')), max_size=24),
    st.integers(WIDTH - 20, WIDTH + 10).map(lambda k: "t" * k),
)
_signed = signed


# Expressions large enough to pass the limit, with long names now and then.
_exprs: st.SearchStrategy[n.Expr] = expressions(
    _names,
    _texts,
    call_names=_short_names,
    attribute_owners=_short_names,
    max_leaves=24,
    max_args=4,
)
_tuples = tuples
_labels = st.one_of(
    st.builds(n.Label, _short_names, st.just("name")),
    st.builds(n.Label, digits, st.just("number")),
    st.builds(n.Label, _texts, st.just("string")),
)
_entries = _tuples(st.builds(n.ScaleEntry, _labels, _signed(), _tuples(_labels, 2)), 6)
_titles = st.none() | _texts

_items = items(
    _names, _texts, _exprs, _entries, scale_names=_short_names, tags=_tuples(_short_names, 6)
)

_assignments = _tuples(st.builds(n.Assignment, _short_names, _labels), 16)

_members = st.one_of(
    st.builds(n.Scale, _short_names, _entries),
    st.builds(
        n.Section,
        _short_names,
        _titles,
        _tuples(_items, 2),
        st.none() | _signed(),
        st.none() | _exprs,
    ),
    _items,
    st.builds(n.Coefficient, _short_names, _titles, _exprs),
    st.builds(n.Rollup, _short_names, _titles, _exprs),
    st.builds(n.Field, _short_names, _titles, st.none() | _tuples(_labels, 8)),
    st.builds(
        n.Bands, _short_names, _tuples(st.builds(n.Band, _short_names, st.none() | _signed()), 8)
    ),
    st.builds(n.Example, _texts, _assignments, _assignments, _tuples(_exprs, 2)),
)

_modules = st.builds(
    n.Module,
    st.just("<string>"),
    st.just(()),
    _tuples(st.builds(n.Standard, _short_names, _titles, st.none(), _tuples(_members, 4)), 1),
)


@st.composite
def _rewritten(draw: st.DrawFn, text: str) -> tuple[str, list[str]]:
    """`text` as an author might have written it: some lines joined back into one
    (undoing breaks `fmt` added), some spaces between tokens turned into line
    breaks, trailing comments or own-line comments, line breaks after some `(`."""
    lines = text.split("\n")
    joined = [lines[0]]
    for line in lines[1:]:
        if joined[-1] and line.strip() and draw(st.integers(0, 2)) == 0:
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    text = "\n".join(joined)
    return draw(broken_up(text, max_breaks=6, after_parens=True))


_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(_modules, st.data())
def test_property_wrapping_keeps_the_tree_the_comments_and_the_limit(
    module: n.Module, data: st.DataObject
) -> None:
    """On generated standards with long formulas, names and strings: the printed
    tree and an author's rewriting of it (lines joined and broken, comments added)
    format to the same tree and comments, a fixed point, with no line past `WIDTH`
    that holds a point where `fmt` could break it."""
    printed = print_module(module)
    assert parse(printed) == module
    assert format_source(printed) == printed  # the printer's own layout is canonical
    assert unused_break_points(printed) == []

    text, comments = data.draw(_rewritten(printed))
    assert parse(text) == module
    formatted = format_source(text)  # raises FormatError on any broken promise
    assert parse(formatted) == module
    assert [c.text for c in parse(formatted).comments] == comments
    assert format_source(formatted) == formatted
    assert unused_break_points(formatted) == []


@_SETTINGS
@given(standards())
def test_property_generated_checked_standards_format_within_the_limit(spec: object) -> None:
    """The standards `strategies.py` draws (valid, checked ones, written on one
    line each): formatting keeps them, is a fixed point and wraps them."""
    text: str = spec.text  # type: ignore[attr-defined]
    formatted = format_source(text)
    assert parse(formatted) == parse(text)
    assert format_source(formatted) == formatted
    assert unused_break_points(formatted) == []


# ---- a large file --------------------------------------------------------------------


def test_a_thousand_items_format_to_a_fixed_point() -> None:
    """The benchmark's 1,000-item standard (its formatting time is measured there,
    `benchmarks/compile_1000.py`, not asserted here)."""
    spec = importlib.util.spec_from_file_location("compile_1000", BENCHMARK)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    formatted = format_source(benchmark.standard_text())
    assert format_source(formatted) == formatted
    assert unused_break_points(formatted) == []
