"""Examples of several visits: one point's visits in the order written, each the next
one's previous; `expect` reads the last visit, a rollup's name the rollup over all
of them; blocks out of order, or visits that scoring would not chain in the order
written (dates out of order, another or an empty point), are E0804; an example of
one visit has no such rule."""

from __future__ import annotations

import pytest

import sbm_engine
from sbm_engine.api import check
from sbm_engine.parser import parse

HEAD = """
standard demo.visits {
    version "1"
    scale yn { yes = 1, no = 0 }
    item hands "Руки" answer yn tags violation
    item fridge "Холодильник" answer yn tags violation
    coefficient again = repeated(tagged violation)
    coefficient seq = if has_previous() then previous(seq) + 1 else 0
    rollup clean = 100 * share(again == 0)
    rollup visits_seen = total(1)
"""


ANSWERS = "answers { hands = no, fridge = no }"


def _run(body: str) -> list:
    std = sbm_engine.loads(HEAD + body + "\n}\n", "visits.sbm")
    return std.run_examples()


def test_visits_are_scored_in_order_and_expect_reads_the_last():
    (outcome,) = _run(
        """
    example "three" {
        visit { date = "2026-01-05" }
        answers { hands = no, fridge = yes }
        visit { date = "2026-03-01" }
        answers { hands = no, fridge = no }
        visit { date = "2026-03-01" }
        answers { hands = yes, fridge = no }
        expect seq == 2 and again == 1
        expect answer(hands) == yes
        expect previous(seq) == 1
        expect clean == 100 / 3 and visits_seen == 3
    }"""
    )
    assert outcome.passed, outcome.messages
    assert outcome.visits == 3 and len(outcome.results) == 3
    ids = [r.visit_id for r in outcome.results]
    assert ids == ["example: three #1", "example: three #2", "example: three #3"]
    assert {r.point for r in outcome.results} == {"example: three"}
    assert [r.coefficients["seq"] for r in outcome.results] == [0, 1, 2]


def test_a_failing_expectation_reads_the_last_visit():
    (outcome,) = _run(
        """
    example "two" {
        answers { hands = no, fridge = no }
        answers { hands = yes, fridge = yes }
        expect again == 2
    }"""
    )
    assert not outcome.passed
    assert [d.code for d in outcome.failures] == ["E0801"]
    assert "again = 0" in outcome.failures[0].notes[0]


def test_a_rejected_visit_names_its_place():
    (outcome,) = _run(
        """
    example "typo" {
        answers { hands = no, fridge = no }
        answers { hands = maybe, fridge = yes }
        expect again == 0
    }"""
    )
    assert [d.code for d in outcome.failures] == ["E0802"]
    assert "visit 2" in outcome.failures[0].message


def test_rollups_in_an_example_of_one_visit():
    (outcome,) = _run(
        """
    example "alone" {
        answers { hands = yes, fridge = no }
        expect clean == 100 and visits_seen == 1 and seq == 0
    }"""
    )
    assert outcome.passed, outcome.messages
    assert outcome.visits == 1


@pytest.mark.parametrize(
    "blocks",
    [
        f'{ANSWERS}\n {ANSWERS}\n visit {{ scenario = "a" }}',
        f'visit {{ scenario = "a" }}\n visit {{ scenario = "b" }}\n {ANSWERS}\n {ANSWERS}',
        f"{ANSWERS}\n expect again == 0\n {ANSWERS}",
    ],
)
def test_blocks_out_of_order_are_e0804(tmp_path, blocks):
    path = tmp_path / "bad.sbm"
    path.write_text(HEAD + f'    example "bad" {{\n {blocks}\n }}\n}}\n', encoding="utf-8")
    report = check(path)
    assert [d.code for d in report.diagnostics if d.severity == "error"] == ["E0804"]


def test_an_example_of_one_visit_keeps_its_meaning():
    """One `answers { }` block: `visit { }` blocks may come anywhere and merge, as ever."""
    module = parse(
        HEAD
        + """
    example "one" {
        answers { hands = yes, fridge = yes }
        visit { scenario = "a" }
        visit { region = "north" }
        expect seq == 0
    }
}
""",
        "one.sbm",
    )
    ex = module.standards[0].members[-1]
    assert ex.earlier == ()
    assert [a.name for a in ex.visit] == ["scenario", "region"]
    assert [a.name for a in ex.answers] == ["hands", "fridge"]


@pytest.mark.parametrize(
    ("blocks", "where", "says"),
    [
        # a July visit, then a January one: scoring would read July after January
        (
            f'visit {{ date = "2026-07-01" }}\n {ANSWERS}\n'
            f' visit {{ date = "2026-01-01" }}\n {ANSWERS}',
            'date = "2026-01-01"',
            "dated before",
        ),
        # a dated visit, then an undated one (scoring puts it first)
        (
            f'visit {{ date = "2026-07-01" }}\n {ANSWERS}\n {ANSWERS}',
            "hands = no",
            "dated before",
        ),
        # points A then B: two points, neither visit the other's previous
        (
            f'visit {{ point = "A" }}\n {ANSWERS}\n visit {{ point = "B" }}\n {ANSWERS}',
            'point = "B"',
            "another point",
        ),
        # a point given to the second visit only
        (f'{ANSWERS}\n visit {{ point = "A" }}\n {ANSWERS}', 'point = "A"', "another point"),
        # an empty point: no previous visit at all
        (f'visit {{ point = "" }}\n {ANSWERS}\n {ANSWERS}', 'point = ""', "empty `point`"),
    ],
)
def test_visits_scoring_would_not_chain_as_written_are_e0804(tmp_path, blocks, where, says):
    path = tmp_path / "bad.sbm"
    text = HEAD + f'    example "bad" {{\n {blocks}\n expect seq == 1\n }}\n}}\n'
    path.write_text(text, encoding="utf-8")
    report = check(path)
    (d,) = [d for d in report.diagnostics if d.severity == "error"]
    assert d.code == "E0804" and says in d.message
    assert d.help and "same `point`" in d.help
    line = text.splitlines()[d.span.line - 1]
    assert line[d.span.column - 1 :].startswith(where), (line, d.span)


def test_one_point_and_dates_in_order_chain_as_written():
    (outcome,) = _run(
        """
    example "same point, same date" {
        visit { point = "P1", date = "2026-02-01" }
        answers { hands = no, fridge = no }
        visit { point = "P1", date = "2026-02-01" }
        answers { hands = no, fridge = no }
        expect seq == 1 and again == 2
    }"""
    )
    assert outcome.passed, outcome.messages
    assert {r.point for r in outcome.results} == {"P1"}
