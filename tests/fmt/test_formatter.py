"""`sbm fmt`: one canonical layout, comments kept, the tree never changed.

The hypothesis tests build random syntax trees, print them, sprinkle comments and
blank lines over the text and format it: the tree must survive, the comments must
keep their order, and a second pass must change nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_strategies import (
    broken_up,
    comment_texts,
    digits,
    expressions,
    gaps,
    items,
    literal,
    signed,
    tuples,
)

from sbm_engine import formatter
from sbm_engine import nodes as n
from sbm_engine.diagnostics import CompileError
from sbm_engine.formatter import (
    FormatError,
    expr_text,
    format_file,
    format_source,
    print_module,
    unified_diff,
)
from sbm_engine.parser import KEYWORDS, parse

DEMO = Path(__file__).parents[1] / "conformance" / "demo_branch.sbm"


def _comment_texts(text: str) -> list[str]:
    return [c.text for c in parse(text).comments]


def _coefficient(expr: str) -> str:
    """The formatted expression of `coefficient k = EXPR`."""
    out = format_source(f"standard s {{ coefficient k = {expr} }}")
    line = out.splitlines()[1]
    prefix = "    coefficient k = "
    assert line.startswith(prefix), out
    return line.removeprefix(prefix)


def _formatted(source: str) -> str:
    """`format_source`, asserting the promises every layout must keep."""
    out = format_source(source)
    assert format_source(out) == out
    assert parse(out) == parse(source)
    assert _comment_texts(out) == _comment_texts(source)
    return out


# ---- the conformance file ------------------------------------------------------------


def test_demo_is_a_fixed_point_with_the_same_tree_and_comments() -> None:
    source = DEMO.read_text(encoding="utf-8")
    once = format_source(source, str(DEMO))
    assert format_source(once, str(DEMO)) == once
    assert parse(once, str(DEMO)) == parse(source, str(DEMO))
    assert _comment_texts(once) == _comment_texts(source)
    assert len(_comment_texts(once)) == 3
    assert once == source  # the spec's own layout is the canonical one


def test_demo_keeps_the_spec_layout_where_it_is_already_canonical() -> None:
    once = format_source(DEMO.read_text(encoding="utf-8"))
    assert (
        '        item wait "Время ожидания в очереди, минут" answer number 0..240 tags compliance\n'
        "            score = if value <= 5 then 1 else if value <= 10 then 0.5 else 0\n"
    ) in once
    assert "    bands visit { excellent >= 0.9, good >= 0.75, fair >= 0.6, poor }\n" in once
    assert '    version "2026.1"\n    industry "bank"\n\n    scale yes_no' in once


# ---- golden ---------------------------------------------------------------------------

MESSY = """\
# a messy standard
standard   shop.demo "Магазин"{
  version "1"   industry "retail"
scale yn{yes=1 alias "да" "д",no=0 alias "нет"}
    section hall "Зал" when visit.scenario=="walk-in"   weight 2 {
  item greet "Поздоровался?" answer yn tags polite required   weight 2   # the first thing
      item queue "Очередь, минут" answer number 0..30 score = if value<=5 then 1 else ((0))
  item note "Комментарий" answer text optional
  }
coefficient polite "Вежливость"=weighted_mean(tagged polite)
  coefficient overall = ( polite*0.5 ) + (hall*(1-0.5))
target overall 0.8
bands overall {good>=0.8 bad}
example "ok" { answers { greet = yes queue = 3 note = "ok" } expect overall == 1 }
}
"""

GOLDEN = """\
# a messy standard
standard shop.demo "Магазин" {
    version "1"
    industry "retail"

    scale yn { yes = 1 alias "да" "д", no = 0 alias "нет" }

    section hall "Зал" weight 2 when visit.scenario == "walk-in" {
        item greet "Поздоровался?" answer yn weight 2 required tags polite  # the first thing
        item queue "Очередь, минут" answer number 0..30 score = if value <= 5 then 1 else 0
        item note "Комментарий" answer text optional
    }

    coefficient polite "Вежливость" = weighted_mean(tagged polite)
    coefficient overall = polite * 0.5 + hall * (1 - 0.5)

    target overall 0.8
    bands overall { good >= 0.8, bad }

    example "ok" {
        answers { greet = yes, queue = 3, note = "ok" }
        expect overall == 1
    }
}
"""


def test_golden_messy_input() -> None:
    assert format_source(MESSY) == GOLDEN
    assert format_source(GOLDEN) == GOLDEN


# ---- comments ---------------------------------------------------------------------------

COMMENTED = """\
# file top
standard s {  # after the brace
    version "1"

    # before a section
    section a {
        # before the first item
        item x "q" answer number  # after an item
        item y "q" answer number
        # before the section's closing brace
    }

    example "e" {
        # inside an example
        answers {
            x = 1,  # after an answer
            y = 2
        }
        expect x == 1  # after an expectation
        # before the example's closing brace
    }
    # before the standard's closing brace
}
# end of file
"""


def test_comments_in_every_position_stay_in_place() -> None:
    assert format_source(COMMENTED) == COMMENTED


def test_comments_move_with_their_code_when_the_layout_changes() -> None:
    source = """\
standard s {
scale yn { yes = 1,   # good
           no = 0 }  # bad
coefficient k =   # why
    # how
    a +
    b
}
"""
    assert format_source(source) == (
        "standard s {\n"
        "    scale yn {\n"
        "        yes = 1,  # good\n"
        "        no = 0\n"
        "    }  # bad\n"
        "\n"
        "    coefficient k =  # why\n"
        "        # how\n"
        "        a\n"
        "        + b\n"
        "}\n"
    )


def test_a_comment_after_an_items_name_stays_on_the_question_line() -> None:
    """Found by the property tests: with `answer` on a line of its own, the comment
    went to that line, and the next pass moved it back."""
    source = 'standard s { section a { item #\nx\n"q" answer number } }'
    out = _formatted(source)
    assert out.splitlines()[2:4] == ['        item x "q"  #', "            answer number"]


def test_a_comment_inside_an_assignment_block_puts_one_assignment_per_line() -> None:
    source = 'standard s { example "e" { answers { a = 1, b = 2 # two\n } } }'
    assert format_source(source) == (
        "standard s {\n"
        '    example "e" {\n'
        "        answers {\n"
        "            a = 1,\n"
        "            b = 2  # two\n"
        "        }\n"
        "    }\n"
        "}\n"
    )


@pytest.mark.parametrize("between", [" # c\n", "\n# c\n"])
def test_a_comment_between_a_block_word_and_its_brace_is_stable(between: str) -> None:
    answers = ", ".join(f"item_{i} = yes" for i in range(12))
    out = format_source(f'standard s {{ example "e" {{ answers{between}{{ {answers} }} }} }}')
    assert format_source(out) == out
    assert _comment_texts(out) == ["# c"]


def test_two_blocks_of_a_kind_stay_apart_with_their_comments() -> None:
    source = """\
standard s {
    example "e" {
        visit { a = 1 }  # first
        expect a == 1
        visit {
            # second
            b = 2
        }
    }
}
"""
    assert format_source(source) == source


def test_comments_keep_their_order_when_item_options_are_reordered() -> None:
    source = """\
standard s {
    item x "a long question that needs a continuation line for its formula" answer number
        score = value / 10  # about the score
        when y == 1  # about the condition
        tags t
}
"""
    out = format_source(source)
    assert _comment_texts(out) == ["# about the score", "# about the condition"]


def test_a_file_of_comments_only() -> None:
    assert format_source("# one\n\n\n# two\n") == "# one\n\n# two\n"
    assert format_source("") == ""


# ---- blank lines ---------------------------------------------------------------------


def test_blank_lines_between_groups_around_sections_and_kept_at_most_one() -> None:
    source = """\
standard s {



    version "1"
    scale a { x = 1 }



    scale b { x = 1 }
    coefficient c = 1
    coefficient d = 2
    section q {

        item i "q" answer text


        item j "q" answer text

    }
    target c 1


}
"""
    assert format_source(source) == (
        "standard s {\n"
        '    version "1"\n'
        "\n"
        "    scale a { x = 1 }\n"
        "\n"
        "    scale b { x = 1 }\n"
        "\n"
        "    coefficient c = 1\n"
        "    coefficient d = 2\n"
        "\n"
        "    section q {\n"
        '        item i "q" answer text\n'
        "\n"
        '        item j "q" answer text\n'
        "    }\n"
        "\n"
        "    target c 1\n"
        "}\n"
    )


def test_imports_and_standards_at_file_level() -> None:
    source = 'import "a.sbm"\nimport "b.sbm"\nstandard s {}\nstandard t extends s {drop x}'
    assert format_source(source) == (
        'import "a.sbm"\n'
        'import "b.sbm"\n'
        "\n"
        "standard s {\n"
        "}\n"
        "\n"
        "standard t extends s {\n"
        "    drop x\n"
        "}\n"
    )


# ---- long lines ------------------------------------------------------------------------


def test_long_scale_goes_one_entry_per_line_with_commas() -> None:
    entries = ", ".join(f'label{i} = 0.{i} alias "alias number {i}"' for i in range(1, 5))
    out = format_source(f"standard s {{ scale long {{ {entries} }} }}")
    assert out == (
        "standard s {\n"
        "    scale long {\n"
        '        label1 = 0.1 alias "alias number 1",\n'
        '        label2 = 0.2 alias "alias number 2",\n'
        '        label3 = 0.3 alias "alias number 3",\n'
        '        label4 = 0.4 alias "alias number 4"\n'
        "    }\n"
        "}\n"
    )


def test_long_item_moves_when_and_score_to_continuation_lines() -> None:
    question = "q" * 60
    source = (
        f'standard s {{ item x "{question}" answer number 0..10 '
        "score = value / 10 when visit.scenario == 1 }"
    )
    assert format_source(source) == (
        "standard s {\n"
        f'    item x "{question}" answer number 0..10\n'
        "        when visit.scenario == 1\n"
        "        score = value / 10\n"
        "}\n"
    )


def test_short_item_stays_on_one_line_with_canonical_option_order() -> None:
    source = 'standard s { item x "q" answer yn bonus critical optional tags b a weight 0.5 }'
    assert format_source(source).splitlines()[1] == (
        '    item x "q" answer yn weight 0.5 optional critical bonus tags b a'
    )


def test_a_coefficient_keeps_the_line_its_author_gave_its_expression() -> None:
    args = ", ".join(f"coefficient_{i}: 0.{i}" for i in range(1, 3))  # fits either way
    one_line = f'standard s {{ coefficient total "Итог" = weighted_mean({args}) }}'
    assert format_source(one_line).splitlines()[1] == (
        f'    coefficient total "Итог" = weighted_mean({args})'
    )
    next_line = f'standard s {{ coefficient total "Итог" =\n weighted_mean({args}) }}'
    assert format_source(next_line).splitlines()[1:3] == [
        '    coefficient total "Итог" =',
        f"        weighted_mean({args})",
    ]


def test_long_answers_keep_their_rows_aligned_under_the_first_answer() -> None:
    first = ", ".join(f"item_{i} = yes" for i in range(5))
    second = ", ".join(f"item_{i} = no" for i in range(5, 10))
    out = format_source(f'standard s {{ example "e" {{ answers {{ {first},\n{second} }} }} }}')
    lines = out.splitlines()
    assert lines[2] == f"        answers {{ {first},"
    assert lines[3] == " " * 18 + f"{second} }}"
    assert format_source(out) == out


def test_short_answers_written_over_lines_join_on_one_line() -> None:
    out = format_source('standard s { example "e" { answers { a = 1,\n b = 2 } } }')
    assert out.splitlines()[2] == "        answers { a = 1, b = 2 }"


# ---- expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("(a + b) * c", "(a + b) * c"),
        ("a * (b / c)", "a * (b / c)"),
        ("(a * b) / c", "a * b / c"),
        ("a + (b * c)", "a + b * c"),
        ("-(-x)", "-(-x)"),
        ("- - x", "-(-x)"),
        ("-(-1)", "-(-1)"),
        ("-(a + b)", "-(a + b)"),
        ("-f(x)", "-f(x)"),
        ("a - -1", "a - -1"),
        ("not (a and b)", "not (a and b)"),
        ("(not a) and b", "not a and b"),
        ("not not a", "not not a"),
        ("not (a == b)", "not a == b"),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or (b and c)"),
        ("a and b or c", "(a and b) or c"),
        ("a or b and c or d", "a or (b and c) or d"),
        ("(a or b) and c or d", "((a or b) and c) or d"),
        ("(a or b) or c", "a or b or c"),
        ("a or (b or c)", "a or (b or c)"),
        ("(a == b) == c", "(a == b) == c"),
        ("(a < b) + 1", "(a < b) + 1"),
        ("1 + (if c then a else b)", "1 + (if c then a else b)"),
        ("(if c then a else b) * 2", "(if c then a else b) * 2"),
        ("if a then b else if c then d else e", "if a then b else if c then d else e"),
        ("if (if a then b else c) then d else e", "if (if a then b else c) then d else e"),
        ("f(if c then a else b, (x))", "f(if c then a else b, x)"),
        ("weighted_mean(a: 0.4, b :(0.6))", "weighted_mean(a: 0.4, b: 0.6)"),
        (
            "weighted_mean(tagged t, in s, items, sections)",
            "weighted_mean(tagged t, in s, items, sections)",
        ),
        ("f((items), (in) + 1, (tagged): 2)", "f((items), (in + 1), (tagged): 2)"),
        ("0.50 + 007", "0.50 + 007"),
        ('"a\\"b\\\\c\\nd"', '"a\\"b\\\\c\\nd"'),
        ("visit.scenario", "visit.scenario"),
    ],
)
def test_expressions_print_with_minimal_parentheses(written: str, printed: str) -> None:
    assert _coefficient(written) == printed


# ---- line breaks inside expressions ----------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "alpha + beta\n + gamma",  # before the operator, as the repository writes it
        "alpha + beta +\n gamma",  # after it: moved to the canonical side
        "alpha + beta\n+\ngamma",
    ],
)
def test_a_break_at_an_operator_is_kept_with_the_operator_leading(written: str) -> None:
    out = _formatted(f"standard s {{ coefficient k = {written} }}")
    assert out.splitlines()[1:3] == [
        "    coefficient k = alpha + beta",
        "                    + gamma",  # aligned with the run's first operand
    ]


# (what the author wrote inside `standard s { … }`, what `fmt` prints there)
_KEPT_BREAKS = {
    "an operator run inside parentheses aligns one column right of the `(`": (
        "coefficient k =\n(a * x + b * y\n+ c * z)\n/ total",
        "    coefficient k =\n        (a * x + b * y\n         + c * z)\n        / total\n",
    ),
    "`then` and `else` start their lines under the `if`": (
        "coefficient k = if a > 1 then\n 2 else\n 3",
        "    coefficient k = if a > 1\n                    then 2\n                    else 3\n",
    ),
    "every `else` of an `else if` chain goes under the first `if`": (
        'item wait "Ожидание" answer number\n score = if value <= 5 then 1\n'
        "else if value <= 10 then 0.5 else if value <= 20 then 0.25\n      else 0",
        '    item wait "Ожидание" answer number\n'
        "        score = if value <= 5 then 1\n"
        "                else if value <= 10 then 0.5 else if value <= 20 then 0.25\n"
        "                else 0\n",
    ),
    "a `then` branch broken inside aligns with its own start": (
        'coefficient k =\nif visit.date < "2013-05-01"\nthen (if failed(a) then 5 else 0)\n'
        "- (if failed(b) then 10 else 0) else 0",
        "    coefficient k =\n"
        '        if visit.date < "2013-05-01"\n'
        "        then (if failed(a) then 5 else 0)\n"
        "             - (if failed(b) then 10 else 0) else 0\n",
    ),
    "arguments after a comma align under the first argument": (
        "coefficient k = weighted_mean(speed: 0.4,\n   politeness: 0.6)",
        "    coefficient k = weighted_mean(speed: 0.4,\n"
        "                                  politeness: 0.6)\n",
    ),
    "arguments after a break right after `(` hang one level deeper": (
        "coefficient k = weighted_mean(\n answer(a1) - answer(e1), answer(a2) - answer(e2),\n"
        "        answer(a3) - answer(e3)\n)",
        "    coefficient k = weighted_mean(\n"
        "        answer(a1) - answer(e1), answer(a2) - answer(e2),\n"
        "        answer(a3) - answer(e3))\n",
    ),
    "an `and` under an `or` is parenthesised, broken or not": (
        "coefficient k =\n if a == 1 and b == 2\n or c == 3 and d == 4 then 1 else 0",
        "    coefficient k =\n"
        "        if (a == 1 and b == 2)\n"
        "           or (c == 3 and d == 4) then 1 else 0\n",
    ),
}


@pytest.mark.parametrize(("written", "printed"), _KEPT_BREAKS.values(), ids=_KEPT_BREAKS)
def test_line_breaks_inside_expressions_are_kept_and_aligned(written: str, printed: str) -> None:
    assert _formatted(f"standard s {{\n{written}\n}}\n") == f"standard s {{\n{printed}}}\n"


def test_breaks_elsewhere_in_an_expression_are_dropped() -> None:
    source = "standard s { coefficient k = not\n a or -\n b == weighted_mean(x:\n 1) }"
    assert _formatted(source).splitlines()[1] == (
        "    coefficient k = not a or -b == weighted_mean(x: 1)"
    )


def test_an_expression_written_on_one_line_stays_on_one_line_when_it_fits() -> None:
    long = " + ".join(f"coefficient_number_{i}" for i in range(3))
    for written in ("a + b * c", "if a then b else c", "f(a, b, c)", long):
        out = _formatted(f"standard s {{ coefficient k = {written} }}")
        assert out.splitlines()[1] == f"    coefficient k = {written}"


def test_comments_stay_next_to_the_lines_of_a_broken_expression() -> None:
    source = """\
standard s {
    coefficient k =
        alpha  # the first
        # the rest
        + beta  # the second
        + gamma
}
"""
    assert _formatted(source) == source


def test_item_score_section_when_and_expect_keep_their_breaks() -> None:
    source = """\
standard s {
    section hall when visit.scenario == "a"
                      or visit.scenario == "b" {
        item wait "Ожидание" answer number
            score = if value <= 5 then 1
                    else 0
    }

    example "e" {
        answers { wait = 3 }
        expect hall == 1
               and wait == 1
    }
}
"""
    assert _formatted(source) == source


def test_strings_are_re_escaped() -> None:
    source = 'standard s "say \\"hi\\"\\\\\\n" { version "a\\tb" }'
    out = format_source(source)
    assert out.splitlines()[0] == 'standard s "say \\"hi\\"\\\\\\n" {'
    assert parse(out) == parse(source)
    assert formatter.quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


# ---- safety net ------------------------------------------------------------------------


def test_a_printer_that_changes_the_tree_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.print_module
    monkeypatch.setattr(formatter, "print_module", lambda m: real(m).replace("0.4", "0.5"))
    with pytest.raises(FormatError, match="change the meaning"):
        format_source("standard s { coefficient k = a * 0.4 }")


def test_a_printer_that_drops_a_comment_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.print_module
    monkeypatch.setattr(formatter, "print_module", lambda m: real(m).replace("# c\n", "\n"))
    with pytest.raises(FormatError, match="comments"):
        format_source("# c\nstandard s {}")


def test_a_printer_that_breaks_the_syntax_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.print_module
    monkeypatch.setattr(formatter, "print_module", lambda m: real(m).replace("{", "(", 1))
    with pytest.raises(FormatError, match="no longer parses"):
        format_source("standard s {}")


def test_an_unstable_printer_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.print_module
    calls = iter(range(100))
    monkeypatch.setattr(formatter, "print_module", lambda m: real(m) + "\n" * next(calls))
    with pytest.raises(FormatError, match="not stable"):
        format_source("standard s {}")


def test_the_difference_is_named_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.print_module
    monkeypatch.setattr(formatter, "print_module", lambda m: real(m).replace("b", "c"))
    with pytest.raises(FormatError, match=r"members\[0\]\.expr\.right\.name: 'b' became 'c'"):
        format_source("standard s { coefficient k = a + b }")


def test_a_syntax_error_is_a_compile_error_not_a_format_error() -> None:
    with pytest.raises(CompileError):
        format_source("standard s { item }")


# ---- files and diffs -------------------------------------------------------------------


def test_format_file_and_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "s.sbm"
    path.write_bytes(b'standard s {\r\n  version "1"}')
    old, new = format_file(path)
    assert old == 'standard s {\r\n  version "1"}'
    assert new == 'standard s {\n    version "1"\n}\n'
    diff = unified_diff(old, new, str(path))
    assert diff.startswith(f"--- {path}\t(original)\n+++ {path}\t(formatted)\n")
    assert '+    version "1"\n' in diff
    assert "\\ No newline at end of file" in diff
    assert unified_diff(new, new, str(path)) == ""


# ---- generated standards ---------------------------------------------------------------

_RESERVED = KEYWORDS | {"value", "critical_failed", "visits", "na", "visit", "answers"}

_names = st.from_regex(r"[a-zя_][a-z0-9я_]{0,5}", fullmatch=True).filter(
    lambda s: s not in _RESERVED
)
_texts = st.text(st.sampled_from(list('aZя #"\\\n\t{},=.-')), max_size=8)
_digits = digits
_signed = signed
_literal = literal


def _labels(negative: bool = False) -> st.SearchStrategy[n.Label]:
    numbers = st.builds(
        lambda s, d: s + d, st.sampled_from(["", "-"] if negative else [""]), _digits
    )
    return st.one_of(
        st.builds(n.Label, _names, st.just("name")),
        st.builds(n.Label, numbers, st.just("number")),
        st.builds(n.Label, _texts, st.just("string")),
    )


_exprs: st.SearchStrategy[n.Expr] = expressions(_names, _texts, max_leaves=6, max_args=3)
_tuples = tuples


_entries = _tuples(st.builds(n.ScaleEntry, _labels(), _signed(), _tuples(_labels(), 2)), 4)
_titles = st.none() | _texts

_items = items(_names, _texts, _exprs, _entries, scale_names=_names, tags=_tuples(_names))

_assignments = _tuples(st.builds(n.Assignment, _names, _labels(negative=True)), 12)

_members = st.one_of(
    st.builds(n.Import, _texts),
    st.builds(n.Version, _texts),
    st.builds(n.Industry, _texts),
    st.builds(n.Drop, _names),
    st.builds(n.Scale, _names, _entries),
    st.builds(
        n.Section, _names, _titles, _tuples(_items), st.none() | _signed(), st.none() | _exprs
    ),
    _items,
    st.builds(n.Coefficient, _names, _titles, _exprs),
    st.builds(n.Rollup, _names, _titles, _exprs),
    st.builds(n.Field, _names, _titles, st.none() | _tuples(_labels())),
    st.builds(n.Target, _names, _signed()),
    st.builds(n.Bands, _names, _tuples(st.builds(n.Band, _names, st.none() | _signed()), 4)),
    st.builds(n.Example, _texts, _assignments, _assignments, _tuples(_exprs)),
)

_dotted = st.lists(_names, min_size=1, max_size=2).map(".".join)

_modules = st.builds(
    n.Module,
    st.just("<string>"),
    _tuples(st.builds(n.Import, _texts), 2),
    _tuples(st.builds(n.Standard, _dotted, _titles, st.none() | _dotted, _tuples(_members, 6)), 2),
)


@st.composite
def _sprinkled(draw: st.DrawFn, text: str) -> tuple[str, list[str]]:
    """`text` with comments and blank lines added between and after its lines."""
    out: list[str] = []
    comments: list[str] = []
    for line in text.split("\n")[:-1]:
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                out.append("")
            comment = draw(comment_texts)
            out.append(" " * draw(st.integers(0, 9)) + comment)
            comments.append(comment)
        if draw(st.integers(0, 3)) == 0:
            comment = draw(comment_texts)
            line += " " * draw(st.integers(0, 3)) + comment
            comments.append(comment)
        out.append(line)
    if draw(st.booleans()):
        comment = draw(comment_texts)
        out.append(comment)
        comments.append(comment)
    return "\n".join(out) + "\n", comments


_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(_exprs)
def test_generated_expressions_round_trip(expr: n.Expr) -> None:
    module = parse(f"standard s {{ coefficient k = {expr_text(expr)} }}")
    assert module.standards[0].members[0].expr == expr  # type: ignore[union-attr]


_JOINTS = frozenset(
    {"and", "or", "then", "else", "+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">="}
)
_ALWAYS_KEPT = frozenset({"and", "or", "then", "else"})


@st.composite
def _broken_at_joints(draw: st.DrawFn, text: str) -> tuple[str, bool]:
    """`text` (one printed expression) with line breaks, indented at random, at some
    of the points `fmt` keeps: before an operator or `then`/`else`, after an
    argument comma or an opening parenthesis. Also says whether one of the breaks
    is at a point that is always kept (`and`, `or`, `then`, `else`, a comma)."""
    points: list[tuple[int, bool]] = []  # (offset, replaces a space)
    kept = set()
    for gap in gaps(text):
        word = text[gap + 1 :].split(" ", 1)[0]
        if word in _JOINTS or text[gap - 1] == ",":
            points.append((gap, True))
            if word in _ALWAYS_KEPT or text[gap - 1] == ",":
                kept.add(gap)
    in_string = False
    for i, ch in enumerate(text):
        if ch == '"' and text[i - 1 : i] != "\\":
            in_string = not in_string
        elif ch == "(" and not in_string and i and (text[i - 1].isalnum() or text[i - 1] == "_"):
            points.append((i + 1, False))
    if not points:
        return text, False
    chosen = sorted(set(draw(st.lists(st.sampled_from(points), max_size=6))))
    pieces: list[str] = []
    last = 0
    for offset, replaces in chosen:
        pieces += [text[last:offset], "\n" + " " * draw(st.integers(0, 12))]
        last = offset + replaces
    pieces.append(text[last:])
    return "".join(pieces), any(offset in kept for offset, _ in chosen)


@_SETTINGS
@given(_exprs, st.data())
def test_generated_expressions_keep_their_line_breaks(expr: n.Expr, data: st.DataObject) -> None:
    """Breaks at kept points survive as continuation lines; in a formula, a `score =`
    and an `expect` the tree never changes and a second pass changes nothing."""
    written, broken = data.draw(_broken_at_joints(expr_text(expr)))
    for place in (
        "standard s {{\n    coefficient k =\n        {}\n}}\n",
        'standard s {{ item i "q" answer number score = {} }}',
        'standard s {{ example "e" {{ expect {} }} }}',
    ):
        source = place.format(written)
        formatted = format_source(source)
        assert parse(formatted) == parse(source)
        assert format_source(formatted) == formatted
        if broken and place.startswith("standard s {{\n"):  # a formula on lines of its own
            assert formatted.count("\n") > 4  # standard, coefficient, formula, }


@_SETTINGS
@given(_modules, st.data())
def test_generated_standards_format_safely(module: n.Module, data: st.DataObject) -> None:
    printed = print_module(module)
    assert parse(printed) == module
    assert format_source(printed) == printed  # the printer's own layout is canonical

    text, comments = data.draw(_sprinkled(printed))
    assert _comment_texts(text) == comments
    formatted = format_source(text)  # raises FormatError on any broken promise
    assert parse(formatted) == module
    assert _comment_texts(formatted) == comments
    assert format_source(formatted) == formatted


@_SETTINGS
@given(_modules, st.data())
def test_generated_standards_with_comments_inside_declarations(
    module: n.Module, data: st.DataObject
) -> None:
    text, comments = data.draw(broken_up(print_module(module)))
    assert parse(text) == module
    formatted = format_source(text)
    assert parse(formatted) == module
    assert _comment_texts(formatted) == comments
    assert format_source(formatted) == formatted
