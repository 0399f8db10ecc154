"""Words that are keywords in one place only stay names everywhere else: a file that
used `const`, `value`, `points`, `penalty`, `date`, `datetime`, `duration` or `any` as a
label, a tag, a band or a declared name keeps its meaning (the lexer's correction in
`parser._SoftKeywordLexer`)."""

from __future__ import annotations

import pytest

import sbm_engine

V1_FILES = {
    "a scale label const, no comma": (
        "standard t.t {\n    scale s {\n        a = 1\n        const = 0\n    }\n"
        '    item q "Q" answer s\n'
        '    example "e" { answers { q = const } expect q == 0 }\n}\n'
    ),
    "a scale label value, no comma": (
        "standard t.t {\n    scale s {\n        a = 1\n        value = 0\n    }\n"
        '    item q "Q" answer s\n'
        '    example "e" { answers { q = value } expect q == 0 }\n}\n'
    ),
    "inline scales": (
        'standard t.t {\n    item q "Q" answer { a = 1 const = 0 }\n'
        '    item r "R" answer { a = 1 value = 0 }\n'
        '    example "e" { answers { q = const, r = value } expect q == 0 and r == 0 }\n}\n'
    ),
    "band labels": (
        'standard t.t {\n    item q "Q" answer { a = 1, b = 0 }\n    coefficient c = q\n'
        "    coefficient d = q\n    bands c { a >= 1\n        const }\n"
        "    bands d { a >= 1\n        value }\n"
        '    example "e" { answers { q = b } expect band(c) == const and band(d) == "value" }\n}\n'
    ),
    "tags": (
        'standard t.t {\n    section s "S" {\n'
        '        item q "Q" answer { a = 1, b = 0 } tags a const\n'
        '        item r "R" answer { a = 1, b = 0 } tags a value required\n    }\n'
        "    coefficient c = weighted_mean(tagged const) + weighted_mean(tagged value)\n"
        '    example "e" { answers { q = a, r = a } expect c == 2 }\n}\n'
    ),
    "field types as names": (
        "standard t.t {\n    scale date { date = 1, datetime = 0, duration = 0.5 }\n"
        "    field duration\n"
        '    section datetime "S" {\n'
        '        item time "Q" answer date tags date datetime duration\n    }\n'
        "    coefficient c = weighted_mean(tagged duration) + time\n"
        "    bands c { date >= 2, datetime }\n"
        '    example "e" { visit { duration = date } answers { time = duration }\n'
        '        expect c == 1 and band(c) == "datetime" and visit.duration == "date" }\n}\n'
    ),
    "a scale called any": (
        "standard t.t {\n    scale any { yes = 1, no = 0 }\n"
        '    item q "Q" answer any weight 2 tags any\n'
        '    item r "R" answer any\n'
        '    item s "S" answer { any = 1, of = 0 }\n'
        "    coefficient c = weighted_mean(tagged any)\n"
        '    example "e" { answers { q = yes, r = no, s = any } expect c == 1 and r == 0 }\n}\n'
    ),
}


@pytest.mark.parametrize("name", sorted(V1_FILES))
def test_files_that_used_the_words_as_names_keep_their_meaning(name: str) -> None:
    std = sbm_engine.loads(V1_FILES[name])
    assert all(o.passed for o in std.run_examples())


def test_the_keywords_still_work_where_a_name_could_also_stand() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    item q "Q" answer number 0..10 tags a\n'
        "    const K = 2\n"
        '    item r "R" answer number 0..20 tags t value = answer(q) * K\n'
        '    example "e" { answers { q = 3 } expect answer(r) == 6 }\n}\n'
    )
    assert [(i.name, i.tags) for i in std.model.items] == [("q", ("a",)), ("r", ("t",))]
    assert std.model.constants == {"K": (2.0, "2")}
    assert all(o.passed for o in std.run_examples())


def test_a_field_type_after_a_field_with_and_without_a_title() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n"
        '    field date "Day" date\n'
        "    field at datetime required\n"
        "    field wait duration\n"
        "    field note\n"
        "    const datetime = 3\n"
        '    item q "Q" answer number 0..10\n}\n'
    )
    fields = std.model.fields
    assert [(f.name, f.type, f.required) for f in fields.values()] == [
        ("date", "date", False),
        ("at", "datetime", True),
        ("wait", "duration", False),
        ("note", "text", False),
    ]
    assert std.model.constants == {"datetime": (3.0, "3")}


def test_any_of_is_a_multi_select_even_on_a_scale_called_any() -> None:
    std = sbm_engine.loads(
        "standard t.t {\n    scale any { yes = 1, no = 0 }\n"
        '    item q "Q" answer any\n'
        '    item m "M" answer any of any\n'
        '    item n "N" answer any\n        of { a = 2, b = 1 } tags any\n'
        '    example "e" { answers { q = yes, m = "yes; no", n = "b" } expect n == 1 / 3 }\n}\n'
    )
    assert [(i.name, i.kind, i.tags) for i in std.model.items] == [
        ("q", "scale", ()),
        ("m", "multi", ()),
        ("n", "multi", ("any",)),
    ]
    assert all(o.passed for o in std.run_examples())
