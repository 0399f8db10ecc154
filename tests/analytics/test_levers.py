"""The levers file of `sbm plan`: read and checked like a standard.

Every mistake is a diagnostic with its code, the file, line and column, a caret under
what is wrong and a hint; whatever the bytes, reading never raises anything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from demo import DEMO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.analytics.levers import (
    CODES,
    LeversError,
    levers_from_bytes,
    levers_from_text,
    read_levers,
)

MODEL = sbm_engine.load(DEMO).model

GOOD = """\
currency = "RUB"

[[lever]]
id = "training"
title = "Тренинг"
kind = "training"
items = ["greeted", "smile"]
adds = 0.3
cost = 12000
cost_per_specialist = 500
divisible = false

[[lever]]
id = "bonus"
kind = "motivation"
tags = ["compliance"]
sections = ["premises"]
closes = 0.5
cost_per_point = 1000
divisible = true
"""


def errors(text: str) -> LeversError:
    with pytest.raises(LeversError) as info:
        levers_from_text(text, "levers.toml", MODEL)
    return info.value


def test_a_good_file_resolves_items_tags_and_sections() -> None:
    levers = levers_from_text(GOOD, "levers.toml", MODEL)
    assert levers.currency == "RUB"
    training, bonus = levers.levers
    assert training.items == ("greeted", "smile")
    assert training.adds == 0.3 and training.closes is None
    assert training.cost_for(specialists=4, points=2) == 12000 + 4 * 500
    assert not training.divisible
    # tagged compliance: greeted, wait, card, secrecy; the premises section: clean
    assert set(bonus.items) == {"greeted", "wait", "card", "secrecy", "clean"}
    assert bonus.title == "bonus"  # the id when no title
    assert bonus.gain(0.6) == pytest.approx(0.2)
    assert bonus.cost_for(specialists=4, points=2) == 2000


def test_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "levers.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert len(read_levers(path, MODEL).levers) == 2
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())  # a byte-order mark is fine
    assert len(read_levers(path, MODEL).levers) == 2


def replace(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


#: (the file, code, line, column, caret text, words of the message or help)
MISTAKES = [
    (
        replace('items = ["greeted", "smile"]', 'items = ["greated", "smile"]'),
        "L0201",
        7,
        10,
        '"greated"',
        "did you mean `greeted`?",
    ),
    (
        replace('tags = ["compliance"]', 'tags = ["complience"]'),
        "L0202",
        16,
        9,
        '"complience"',
        "did you mean `compliance`?",
    ),
    (
        replace('sections = ["premises"]', 'sections = ["premisses"]'),
        "L0203",
        17,
        13,
        '"premisses"',
        "did you mean `premises`?",
    ),
    (replace('id = "bonus"', 'id = "training"'), "L0102", 14, 6, '"training"', "used twice"),
    (
        replace("divisible = false", "divisable = false"),
        "L0101",
        11,
        1,
        "divisable",
        "did you mean `divisible`?",
    ),
    (
        replace('currency = "RUB"', 'curency = "RUB"'),
        "L0101",
        1,
        1,
        "curency",
        "did you mean `currency`?",
    ),
    (replace("cost = 12000", 'cost = "12000"'), "L0301", 9, 8, '"12000"', "a plain number"),
    (replace("divisible = true", 'divisible = "yes"'), "L0301", 20, 13, '"yes"', "true or"),
    (replace("cost = 12000", "cost = -5"), "L0501", 9, 8, "-5", "0 or more"),
    (
        replace("cost_per_point = 1000", "cost_per_point = -1.5"),
        "L0501",
        19,
        18,
        "-1.5",
        "0 or more",
    ),
    (replace("adds = 0.3", "adds = 1.3"), "L0502", 8, 8, "1.3", "between 0 and 1"),
    (replace("closes = 0.5", "closes = -0.5"), "L0502", 18, 10, "-0.5", "between 0 and 1"),
    (replace("adds = 0.3", "adds = 0.3\ncloses = 0.2"), "L0104", 9, 1, "closes", "not both"),
    (replace("adds = 0.3\n", ""), "L0104", 3, 1, "[[lever]]", "adds"),
    (
        replace('kind = "training"', 'kind = "trainig"'),
        "L0503",
        6,
        8,
        '"trainig"',
        "did you mean `training`?",
    ),
    (replace('items = ["greeted", "smile"]\n', ""), "L0103", 3, 1, "[[lever]]", "names no items"),
    (replace('id = "bonus"\n', ""), "L0103", 13, 1, "[[lever]]", "has no `id`"),
    (replace("adds = 0.3", "adds = 0.3 +"), "L0001", 8, 12, None, "TOML syntax"),
    ('currency = "RUB"\n', "L0105", 1, 1, None, "no levers"),
    (
        'currency = "RUB"\n\n[lever]\nid = "a"\nitems = ["smile"]\nadds = 0.1\n',
        "L0301",
        3,
        1,
        "[lever]",
        "[[lever]]",
    ),
]


@pytest.mark.parametrize(("text", "code", "line", "column", "caret", "words"), MISTAKES)
def test_each_mistake_is_a_diagnostic_with_position_caret_and_help(
    text: str, code: str, line: int, column: int, caret: str | None, words: str
) -> None:
    err = errors(text)
    found = [d for d in err.diagnostics if d.code == code]
    assert found, [d.to_json() for d in err.diagnostics]
    d = found[0]
    assert (d.span.line, d.span.column) == (line, column), d.to_json()
    assert words in f"{d.message} {d.help} {' '.join(d.notes)}"
    rendered = err.render()
    assert f"levers.toml:{line}:{column}" in rendered
    source_line = text.splitlines()[line - 1]
    caret_line = next(
        ln for ln in rendered.splitlines() if ln.strip(" |").startswith("^") and "^" in ln
    )
    # the caret sits under the column, as wide as what is wrong
    offset = caret_line.index("|") + 2
    start = caret_line.index("^") - offset
    assert start == column - 1
    carets = caret_line[caret_line.index("^") :].split(" ")[0]
    if caret is not None:
        assert source_line[start : start + len(carets)] == caret
    assert code in CODES


def test_all_problems_are_found_at_once() -> None:
    text = replace("adds = 0.3", "adds = 1.3", replace("cost = 12000", "cost = -5"))
    text = replace('tags = ["compliance"]', 'tags = ["complience"]', text)
    codes = sorted(d.code for d in errors(text).diagnostics)
    assert codes == ["L0202", "L0501", "L0502"]


def test_an_item_that_is_not_scored_is_refused() -> None:
    err = errors(replace('items = ["greeted", "smile"]', 'items = ["greeted", "nothing"]'))
    assert err.diagnostics[0].code == "L0201"


def test_not_utf8_is_a_diagnostic_with_the_line_and_a_guess(tmp_path: Path) -> None:
    path = tmp_path / "levers.toml"
    path.write_bytes(GOOD.replace("Тренинг", "Тренинг продаж").encode("cp1251"))
    with pytest.raises(LeversError) as info:
        read_levers(path, MODEL)
    d = info.value.diagnostics[0]
    assert d.code == "L0002"
    assert (d.span.line, d.span.column) == (5, 10)
    assert "Windows-1251" in (d.help or "")
    assert f"{path}:5:10" in info.value.render()


def test_a_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    with pytest.raises(LeversError) as info:
        read_levers(tmp_path / "none.toml", MODEL)
    assert info.value.diagnostics[0].code == "L0002"
    assert "none.toml" in info.value.render()


def _never_raises_else(read: object) -> None:
    try:
        read()  # type: ignore[operator]
    except LeversError as err:
        assert err.diagnostics
        text = err.render()
        assert "error[L0" in text


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_levers_or_diagnostics(data: bytes) -> None:
    _never_raises_else(lambda: levers_from_bytes(data, "x.toml", MODEL))


TOMLISH = st.lists(
    st.sampled_from(
        [
            "[[lever]]\n",
            "[lever]\n",
            'id = "a"\n',
            "id = 1\n",
            'items = ["greeted"]\n',
            'items = ["gre"]\n',
            'tags = ["x"]\n',
            "sections = []\n",
            "adds = 0.2\n",
            "closes = 2\n",
            "cost = -1\n",
            "cost = nan\n",
            "divisible = 1\n",
            'kind = "k"\n',
            "lever = [{id = 'b', items = ['smile'], adds = 0.1}]\n",
            "x = \n",
            "\r\n",
            "# comment\n",
            "= 1\n",
            '"id" = "q"\n',
        ]
    )
    | st.text(max_size=20),
    max_size=30,
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(TOMLISH)
def test_any_text_gives_levers_or_diagnostics(text: str) -> None:
    _never_raises_else(lambda: levers_from_text(text, "x.toml", MODEL))


def test_syntax_errors_at_the_end_point_at_the_last_line() -> None:
    err = errors('[[lever]]\r\nid = "a"\r\nitems = ["smile"\r\n\n\n')
    d = err.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("L0001", 3, 17)
    assert 'items = ["smile"' in err.render()


def test_a_key_given_twice_hints_at_a_missing_header() -> None:
    err = errors('[[lever]]\nid = "a"\nitems = ["smile"]\nadds = 0.1\nid = "b"\n')
    d = err.diagnostics[0]
    assert (d.code, d.span.line) == ("L0001", 5)
    assert "[[lever]] line missing" in (d.help or "")


def test_inline_levers_point_at_the_name_on_their_line() -> None:
    err = errors('lever = [{id = "a", items = ["smiel"], adds = 0.1}]\n')
    d = err.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("L0201", 1, 30)
    inline = levers_from_text(
        'lever = [{id = "a", items = ["smile"], adds = 0.1}]\n', "x.toml", MODEL
    )
    assert inline.levers[0].items == ("smile",)
